/**
 * The encodings real footage comes in, end to end: a 10-bit HEVC bg under a
 * VP9 WebM fg with Opus audio, a variable-frame-rate fg (frames dropped
 * here and there, as phones and screen recorders write them) over a
 * full-range (yuvj420p) bg. Both fgs are crops at an odd offset of the
 * same testsrc2 the bg shows, starting half a second later, so the truth
 * is known frame by frame: fg frame k shows source frame s(k), which is bg
 * frame s(k). The variable-rate fg's output keeps each frame at its own time,
 * and audio muxed apart from its video (as cameras do) stays in sync. Film
 * sped up to PAL (the same frames at 25 fps) is mapped frame for frame, and
 * a real-time 24/25 fps pair of one scene still by time.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { composite } from "../mod.ts";
import { decodeAll } from "../core/frame_reader.ts";
import { probe } from "../core/probe.ts";
import {
  assertAccurate,
  fixtureDir,
  makePair,
  type PairSpec,
  type Truth,
} from "./fixtures.ts";
import { cached, ffmpeg } from "./align_fixtures.ts";

const dir = join(await fixtureDir(), "encodings");
await Deno.mkdir(dir, { recursive: true });

const FPS = 30, SECONDS = 5, LEAD = 15; // bg frames before the fg's first
const CROP = { x: 101, y: 63, width: 240, height: 136 };
const SOURCE = `testsrc2=s=480x270:r=${FPS}`;
/** Source frames the VFR fg drops (a gap, then every seventh frame). */
const dropped = (n: number) => (n >= 40 && n <= 52) || n % 7 === 3;

/** `dir/file` made by ffmpeg from `args` once (cached across runs). */
function render(file: string, args: string[]): Promise<string> {
  return cached(dir, file, (tmp) => ffmpeg([...args, tmp]));
}

/** The bg: the whole source, encoded by `codec`. */
function bgArgs(codec: string[]): string[] {
  return ["-f", "lavfi", "-i", `${SOURCE}:d=${SECONDS}`, ...codec];
}

/** The fg: source frames from LEAD on, cropped, with `more` filters. */
function fgArgs(more: string, codec: string[], audio = true): string[] {
  const video = `[0:v]trim=start_frame=${LEAD},setpts=PTS-STARTPTS,` +
    `crop=${CROP.width}:${CROP.height}:${CROP.x}:${CROP.y}:exact=1${more}[v]`;
  const sine = `sine=frequency=330:sample_rate=48000:d=${SECONDS}`;
  return [
    "-f",
    "lavfi",
    "-i",
    `${SOURCE}:d=${SECONDS}`,
    ...(audio ? ["-f", "lavfi", "-i", sine] : []),
    "-filter_complex",
    audio
      ? `${video};[1:a]atrim=start=${LEAD / FPS},asetpts=PTS-STARTPTS[a]`
      : video,
    "-map",
    "[v]",
    ...(audio ? ["-map", "[a]"] : []),
    ...codec,
  ];
}

/** The bg as H.264 8-bit, no audio. */
function plainBg(): Promise<string> {
  return render("plain.bg.mp4", bgArgs(["-c:v", "libx264"]));
}

/** Truth for fg frames showing the given source (= bg) frames. */
function truthOf(sourceFrames: number[]): Truth {
  return {
    x: CROP.x,
    y: CROP.y,
    scale: 1,
    fgFrames: sourceFrames.length,
    bgFrames: FPS * SECONDS,
    fgFps: FPS,
    bgFps: FPS,
    expected: Int32Array.from(sourceFrames),
    accepted: sourceFrames.map((s) => [s]),
    offsetSeconds: LEAD / FPS,
  };
}

Deno.test("comp aligns a VP9 WebM fg with Opus audio over a 10-bit HEVC bg, and composes it", async () => {
  const bg = await render(
    "hevc10.bg.mp4",
    bgArgs([
      "-c:v",
      "libx265",
      "-x265-params",
      "log-level=error",
      "-pix_fmt",
      "yuv420p10le",
    ]),
  );
  const fg = await render(
    "vp9.fg.webm",
    fgArgs("", [
      "-c:v",
      "libvpx-vp9",
      "-deadline",
      "realtime",
      "-cpu-used",
      "8",
      "-b:v",
      "1M",
      "-c:a",
      "libopus",
    ]),
  );
  const bgInfo = await probe(bg, "bg"), fgInfo = await probe(fg, "fg");
  assert.equal(bgInfo.pixFmt, "yuv420p10le");
  assert.equal(fgInfo.videoCodec, "vp9");
  const output = join(dir, "hevc10_vp9.out.mp4");
  const result = await composite({ bg, fg, output, overwrite: true });
  const frames = Array.from({ length: fgInfo.frames }, (_, k) => LEAD + k);
  assertAccurate(result, { truth: truthOf(frames) });
  const out = await probe(output, "output");
  assert.equal(out.videoCodec, "h264");
  assert.equal(out.width, 480);
  assert.equal(out.height, 270);
  assert.equal(out.frames, fgInfo.frames);
  assert.equal(out.audio?.codec, "aac");
});

Deno.test("comp maps a variable-frame-rate fg by its timestamps over a full-range bg and keeps its frame times", async () => {
  const bg = await render(
    "fullrange.bg.mp4",
    bgArgs(["-c:v", "libx264", "-pix_fmt", "yuvj420p"]),
  );
  const keep: number[] = [];
  for (let n = 0; n < FPS * SECONDS - LEAD; n++) if (!dropped(n)) keep.push(n);
  const fg = await render(
    "vfr.fg.mp4",
    fgArgs(
      `,select='not(between(n\\,40\\,52))*not(eq(mod(n\\,7)\\,3))'`,
      ["-fps_mode", "vfr", "-c:v", "libx264", "-c:a", "aac"],
    ),
  );
  const fgInfo = await probe(fg, "fg");
  assert.equal((await probe(bg, "bg")).pixFmt, "yuvj420p");
  assert.equal(fgInfo.frames, keep.length);
  const output = join(dir, "vfr.out.mp4");
  const result = await composite({ bg, fg, output, overwrite: true });
  assertAccurate(result, { truth: truthOf(keep.map((n) => LEAD + n)) });
  // Every fg frame once, each at its own time (not evenly spaced), so the
  // picture stays with the fg audio across the gaps.
  const out = await probe(output, "output");
  assert.equal(out.frames, keep.length);
  for (let k = 0; k < keep.length; k++) {
    assert.ok(
      Math.abs(out.times[k] - fgInfo.times[k]) < 0.001,
      `output frame ${k} at ${out.times[k]} s, fg frame at ${
        fgInfo.times[k]
      } s`,
    );
  }
  assert.equal(out.audio?.codec, "aac");
});

/**
 * `path`'s decoded audio: seconds to its first loud sample (-1: none), and
 * its length in seconds.
 */
async function audioOf(
  path: string,
): Promise<{ onset: number; seconds: number }> {
  const out = await new Deno.Command("ffmpeg", {
    args: ["-v", "error", "-i", path, "-map", "0:a", "-ac", "1", "-ar", "48000"]
      .concat(["-f", "f32le", "pipe:1"]),
    stdout: "piped",
    stderr: "null",
  }).output();
  assert.ok(out.success, `ffmpeg could not decode the audio of ${path}`);
  const samples = new Float32Array(
    out.stdout.buffer,
    0,
    out.stdout.byteLength >> 2,
  );
  const k = samples.findIndex((v) => Math.abs(v) > 0.3);
  return { onset: k < 0 ? -1 : k / 48000, seconds: samples.length / 48000 };
}

/**
 * Asserts that `path`'s audio (`seconds` long, from {@link audioOf}) lasts
 * as long as its video: none cut off.
 */
async function assertWholeAudio(path: string, seconds: number): Promise<void> {
  const info = await probe(path, "output");
  const video = info.times[info.times.length - 1] + 1 / info.fps;
  assert.ok(
    Math.abs(seconds - video) < 0.05,
    `audio ${seconds.toFixed(3)} s, video ${video.toFixed(3)} s`,
  );
}

/** Muxes `video` starting `seconds` after `audio` (both copied). */
function videoLate(seconds: number, video: string, audio: string): string[] {
  return ["-itsoffset", String(seconds), "-i", video, "-i", audio]
    .concat(["-map", "0:v", "-map", "1:a", "-c", "copy"]);
}

/** AAC silence with a 1 kHz burst from `at` seconds on. */
function burst(at: number, seconds: number): string[] {
  return [
    "-f",
    "lavfi",
    "-i",
    `aevalsrc='if(gte(t\\,${at})\\,sin(2*PI*1000*t)\\,0)':s=48000:d=${seconds}`,
    "-c:a",
    "aac",
  ];
}

Deno.test("audio that starts apart from its video stays in sync: fg audio 0.3 s early, bg audio 0.25 s early", async () => {
  // The fg: video-only crop, audio muxed in 0.3 s before its first frame,
  // a burst 1.0 s after that frame. The bg: its video muxed 0.25 s after
  // its audio, a burst at bg video time 2.0 s = fg time 1.5 s.
  const fgVideo = await render(
    "crop.fg.mp4",
    fgArgs("", ["-c:v", "libx264"], false),
  );
  const fgAudio = await render("burst13_long.fg.m4a", burst(1.3, 5.5));
  const fg = await render(
    "early_audio_long.fg.mp4",
    videoLate(0.3, fgVideo, fgAudio),
  );
  const fgInfo = await probe(fg, "fg");
  assert.ok(Math.abs(fgInfo.startTime - fgInfo.audio!.startTime - 0.3) < 0.01);
  const output = join(dir, "early_audio.out.mp4");
  await composite({
    bg: await plainBg(),
    fg,
    output,
    overwrite: true,
  });
  const sound = await audioOf(output);
  assert.ok(Math.abs(sound.onset - 1.0) < 0.005);
  await assertWholeAudio(output, sound.seconds);

  const bgAudio = await render("burst25.bg.m4a", burst(2.25, 6));
  const bg = await render(
    "early_audio.bg.mp4",
    videoLate(0.25, await plainBg(), bgAudio),
  );
  const silentOut = join(dir, "bg_audio.out.mp4");
  const result = await composite({
    bg,
    fg: fgVideo,
    output: silentOut,
    overwrite: true,
  });
  assert.ok(Math.abs(result.offsetSeconds - LEAD / FPS) < 0.01);
  const bgSound = await audioOf(silentOut);
  assert.ok(Math.abs(bgSound.onset - 1.5) < 0.005);
  await assertWholeAudio(silentOut, bgSound.seconds);
});

Deno.test("an fg stored rotated (a display matrix, as phones write) is placed and composed upright", async () => {
  // The crop's pixels turned a quarter, and the matrix that turns them back.
  const turned = await render(
    "turned.fg.mp4",
    fgArgs(",transpose=2", ["-c:v", "libx264"], false),
  );
  const fg = await render("rotated.fg.mp4", [
    "-i",
    turned,
    "-c",
    "copy",
    "-metadata:s:v:0",
    "rotate=270",
  ]);
  const fgInfo = await probe(fg, "fg");
  assert.notEqual(fgInfo.rotation, 0);
  assert.equal(fgInfo.width, CROP.width);
  assert.equal(fgInfo.height, CROP.height);
  const output = join(dir, "rotated.out.mp4");
  const result = await composite({
    bg: await plainBg(),
    fg,
    output,
    overwrite: true,
  });
  const frames = Array.from({ length: fgInfo.frames }, (_, k) => LEAD + k);
  assertAccurate(result, { truth: truthOf(frames) });
  // Upright in the output: where the fg sits, the output shows what the bg
  // shows there at the mapped moment (the fg is a crop of it): a few levels
  // of coding loss, where a turned picture differs by ~80.
  const gray = (path: string) =>
    decodeAll({ path, format: { width: 480, height: 270, channels: 1 } });
  const [out, bgFrames] = await Promise.all([
    gray(output),
    gray(await plainBg()),
  ]);
  for (const k of [0, 40, frames.length - 1]) {
    let d = 0;
    for (let y = CROP.y; y < CROP.y + CROP.height; y++) {
      for (let x = CROP.x; x < CROP.x + CROP.width; x++) {
        d += Math.abs(out[k][y * 480 + x] - bgFrames[LEAD + k][y * 480 + x]);
      }
    }
    const mean = d / (CROP.width * CROP.height);
    assert.ok(mean < 8, `output frame ${k}: ${mean.toFixed(2)} from the bg`);
  }
});

Deno.test("film sped up to PAL: a bg showing the fg's 24 fps frames at 25 fps is mapped frame for frame, its audio slowed back", async () => {
  // The bg: 24 fps source frames played at 25 fps, with a 1 kHz tone; the
  // fg: the same frames from source frame LEAD on, at 24 fps, no audio.
  const film = `testsrc2=s=480x270:r=24:d=${SECONDS}`;
  const bg = await render("pal_long_audio.bg.mp4", [
    "-f",
    "lavfi",
    "-i",
    film,
    "-f",
    "lavfi",
    "-i",
    `sine=frequency=1000:sample_rate=48000:d=${SECONDS + 1}`,
    "-vf",
    "setpts=N/25/TB",
    "-r",
    "25",
    "-c:v",
    "libx264",
    "-c:a",
    "aac",
  ]);
  const fg = await render("film.fg.mp4", [
    "-f",
    "lavfi",
    "-i",
    film,
    "-vf",
    `trim=start_frame=${LEAD},setpts=PTS-STARTPTS,` +
    `crop=${CROP.width}:${CROP.height}:${CROP.x}:${CROP.y}:exact=1`,
    "-c:v",
    "libx264",
  ]);
  const fgInfo = await probe(fg, "fg");
  const output = join(dir, "pal.out.mp4");
  const result = await composite({ bg, fg, output, overwrite: true });
  const frames = Array.from({ length: fgInfo.frames }, (_, k) => LEAD + k);
  assertAccurate(result, {
    truth: { ...truthOf(frames), fgFps: 24, bgFps: 25 },
  });
  assert.ok(Math.abs(result.speed - 25 / 24) < 1e-9);
  // At the fg's rate, with the bg's sound slowed to the fg's speed, all of
  // it (a bg at 25 fps read directly once set the output to 25 fps).
  const out = await probe(output, "output");
  assert.equal(out.frames, fgInfo.frames);
  assert.ok(Math.abs(out.fps - 24) < 0.01, `output at ${out.fps} fps`);
  assert.equal(out.audio?.codec, "aac");
  await assertWholeAudio(output, (await audioOf(output)).seconds);
});

Deno.test("rates a retiming apart but filmed in real time (24 and 25 fps of one scene) stay mapped by time", async () => {
  const spec: PairSpec = {
    name: "realtime_24_25",
    content: "testsrc2",
    bgWidth: 480,
    bgHeight: 270,
    crop: { x: 101, y: 63, width: 240, height: 136 },
    bgFps: 25,
    fgFps: 24,
    masterFps: 600,
    bgStart: 0,
    bgDuration: 4,
    fgStart: 0.5,
    fgDuration: 3,
  };
  const pair = await makePair(spec, await fixtureDir());
  const result = await composite({ bg: pair.bg, fg: pair.fg, dryRun: true });
  assertAccurate(result, pair);
  assert.equal(result.speed, 1);
});
