import assert from "node:assert/strict";
import {
  decodeAll,
  decodeRuns,
  decodeRunsArgs,
  runsPerDecode,
} from "./frame_reader.ts";
import { probe, seekPlan } from "./probe.ts";
import { runText } from "./process.ts";
import { exists, fixtureDir } from "../tests/fixtures.ts";
import { join } from "node:path";

const dir = await fixtureDir();

/** 6 s of testsrc2 at 30 fps with a keyframe every second (made once). */
async function keyframedClip(): Promise<string> {
  const path = join(dir, "keyframes_every_second.mp4");
  if (await exists(path)) return path;
  const tmp = `${path}.tmp.mp4`;
  await runText("ffmpeg", [
    "-v",
    "error",
    "-y",
    "-f",
    "lavfi",
    "-i",
    "testsrc2=s=320x180:r=30:d=6",
    "-c:v",
    "libx264",
    ...["-g", "30", "-keyint_min", "30", "-sc_threshold", "0"],
    "-pix_fmt",
    "yuv420p",
    tmp,
  ]);
  await Deno.rename(tmp, path);
  return path;
}

Deno.test("decodeRuns gives each run's frames, in order, exactly as a seek per run does", async () => {
  // Runs from frame 0, from past a keyframe (seeks), two that touch, and
  // the clip's last frames.
  const path = await keyframedClip();
  const info = await probe(path);
  assert.ok(info.keyframes.length >= 5, `keyframes ${info.keyframes}`);
  const format = { width: 96, height: 54, channels: 1 as const };
  const crop = { x: 13, y: 7, width: 201, height: 111 };
  const runs = [
    { first: 0, count: 5 },
    { first: 40, count: 8 },
    { first: 47, count: 3 },
    { first: info.frames - 6, count: 6 },
  ];
  const common = { path, format, crop, sourcePixFmt: info.pixFmt };
  const size = format.width * format.height;
  /** The frames of one decodeRuns, checking that batch starts run on. */
  const collect = async (perDecode?: number) => {
    const frames: Uint8Array[] = [];
    for await (
      const b of decodeRuns(
        { ...common, batch: 4 },
        runs.map((r) => ({ start: seekPlan(info, r.first), count: r.count })),
        perDecode,
      )
    ) {
      assert.equal(b.start, frames.length);
      for (let k = 0; k < b.count; k++) {
        frames.push(b.data.slice(k * size, (k + 1) * size));
      }
    }
    return frames;
  };
  const together = await collect();
  // Two runs per ffmpeg, and one: the same frames.
  for (const per of [2, 1]) assert.deepEqual(await collect(per), together);
  const apart: Uint8Array[] = [];
  for (const r of runs) {
    apart.push(
      ...await decodeAll({
        ...common,
        start: r.first > 0 ? seekPlan(info, r.first) : undefined,
        maxFrames: r.count,
      }),
    );
  }
  assert.equal(together.length, 5 + 8 + 3 + 6);
  assert.equal(apart.length, together.length);
  together.forEach((f, k) => assert.deepEqual(f, apart[k], `frame ${k}`));
  // Neighbouring frames differ (the check is not trivially met).
  assert.notDeepEqual(together[5], together[6]);
});

Deno.test("decodeRuns pads a run the video ends inside, so later runs keep their places", async () => {
  const path = await keyframedClip();
  const info = await probe(path);
  const format = { width: 32, height: 18, channels: 1 as const };
  const size = format.width * format.height;
  const common = { path, format, sourcePixFmt: info.pixFmt };
  const frames = async (runs: { first: number; count: number }[]) => {
    const out: Uint8Array[] = [];
    for await (
      const b of decodeRuns(
        common,
        runs.map((r) => ({ start: seekPlan(info, r.first), count: r.count })),
      )
    ) {
      for (let k = 0; k < b.count; k++) {
        out.push(b.data.slice(k * size, (k + 1) * size));
      }
    }
    return out;
  };
  // 4 of the 8 frames asked for exist; then the clip's first 3 frames.
  const end = info.frames;
  const got = await frames([{ first: end - 4, count: 8 }, {
    first: 0,
    count: 3,
  }]);
  const tail = await decodeAll({
    ...common,
    start: seekPlan(info, end - 4),
    maxFrames: 4,
  });
  const head = await decodeAll({ ...common, maxFrames: 3 });
  assert.equal(got.length, 8 + 3);
  for (let k = 0; k < 4; k++) assert.deepEqual(got[k], tail[k]);
  for (let k = 4; k < 8; k++) assert.deepEqual(got[k], tail[3], "padding");
  for (let k = 0; k < 3; k++) assert.deepEqual(got[8 + k], head[k]);
  // The last run is not padded: it ends with the video.
  assert.equal((await frames([{ first: end - 4, count: 8 }])).length, 4);
});

Deno.test("decodeRunsArgs: one input per run, seeked, cut and concatenated", () => {
  const at = (keyTime: number, frameTime: number) => ({ keyTime, frameTime });
  const format = { width: 8, height: 8, channels: 1 as const };
  const args = decodeRunsArgs({ path: "v.mp4", format }, [
    { start: at(0, 0), count: 2 },
    { start: at(4.0005, 4.5), count: 3 },
  ]);
  assert.equal(args.filter((a) => a === "-i").length, 2);
  assert.deepEqual(args.slice(args.indexOf("-ss"), args.indexOf("-ss") + 2), [
    "-ss",
    "4.000500",
  ]);
  const graph = args[args.indexOf("-filter_complex") + 1];
  assert.match(
    graph,
    /^\[0:v\]select='gte\(t\\,0\.000000\)'.*trim=end_frame=2/,
  );
  assert.match(graph, /\[1:v\]select='gte\(t\\,4\.500000\)'.*trim=end_frame=3/);
  assert.match(graph, /\[r0\]\[r1\]concat=n=2:v=1:a=0\[out\]$/);
  // A single run needs no concat.
  const one = decodeRunsArgs({ path: "v.mp4", format }, [
    { start: at(0, 0), count: 2 },
  ]);
  assert.doesNotMatch(one[one.indexOf("-filter_complex") + 1], /concat/);
  assert.throws(() => decodeRunsArgs({ path: "v.mp4", format }, []));
});

Deno.test("runsPerDecode keeps an ffmpeg's decoders within about 128 MB", () => {
  assert.equal(runsPerDecode({ width: 640, height: 360 }), 24);
  assert.equal(runsPerDecode({ width: 1920, height: 1080 }), 2);
  assert.equal(runsPerDecode({ width: 3840, height: 2160 }), 1);
  assert.equal(runsPerDecode({ width: 8192, height: 8192 }), 1);
});
