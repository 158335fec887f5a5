/**
 * `--engine mask` and `--smooth` end to end, on pixels: a letterboxed or
 * pillarboxed fg over a full-frame bg (the bars must not be painted over the
 * bg, the content must land exactly), and a feathered edge measured as a
 * ramp.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { composite } from "../mod.ts";
import { decodeAll } from "../core/frame_reader.ts";
import { runText } from "../core/process.ts";
import {
  exists,
  fixtureDir,
  makePair,
  scoreMap,
  standardPairs,
} from "./fixtures.ts";

const dir = await fixtureDir();
const BAR = 20;

const ffmpeg = (args: string[]) =>
  runText("ffmpeg", ["-v", "error", "-y", ...args]);

type Boxing = "letterbox" | "pillarbox";

/**
 * The standard offset-crop pair with BAR-px black bars above and below its
 * fg (letterbox) or left and right of it (pillarbox).
 */
async function boxedPair(boxing: Boxing) {
  const spec = standardPairs.find((s) => s.name === "offset_crop")!;
  const pair = await makePair(spec, dir);
  const fg = join(dir, `${boxing}_${BAR}_${spec.name}.mp4`);
  if (!(await exists(fg))) {
    const tmp = `${fg}.tmp.mp4`;
    await ffmpeg([
      "-i",
      pair.fg,
      "-vf",
      boxing === "letterbox"
        ? `pad=iw:ih+${2 * BAR}:0:${BAR}:black`
        : `pad=iw+${2 * BAR}:ih:${BAR}:0:black`,
      "-c:v",
      "libx264",
      "-preset",
      "veryfast",
      "-crf",
      "16",
      "-c:a",
      "copy",
      tmp,
    ]);
    await Deno.rename(tmp, fg);
  }
  return { ...pair, fg };
}

const gray = (path: string, width: number, height: number) =>
  decodeAll({ path, format: { width, height, channels: 1 } });

/** Mean |a − b| over rows y0..y1 of the columns x0..x1 (bg-frame coordinates). */
function mad(
  a: Uint8Array,
  b: Uint8Array,
  width: number,
  r: { x0: number; x1: number; y0: number; y1: number },
): number {
  let d = 0, n = 0;
  for (let y = r.y0; y < r.y1; y++) {
    for (let x = r.x0; x < r.x1; x++) {
      d += Math.abs(a[y * width + x] - b[y * width + x]);
      n++;
    }
  }
  return d / n;
}

for (const boxing of ["letterbox", "pillarbox"] as const) {
  Deno.test(`--engine mask compares and composes only the content inside the fg's bars: ${boxing}`, async () => {
    const pair = await boxedPair(boxing);
    const c = pair.spec.crop;
    const out = join(dir, `out_mask_${boxing}.mp4`);
    await Deno.remove(out).catch(() => {});
    const result = await composite({
      bg: pair.bg,
      fg: pair.fg,
      output: out,
      engine: "mask",
      preset: "ultrafast",
      crf: 12,
    });
    // The padded fg's top-left sits BAR px before its content.
    const dx = boxing === "pillarbox" ? BAR : 0;
    const dy = boxing === "letterbox" ? BAR : 0;
    assert.equal(result.placement.x, c.x - dx);
    assert.equal(result.placement.y, c.y - dy);
    // The content found inside the bars, in fg pixels: never a bar pixel,
    // at most 2 px of picture lost per side (edges are rounded inward and
    // a compressed bar edge is trimmed).
    const got = result.content!;
    assert.ok(got.x >= dx && got.x - dx <= 2, JSON.stringify(got));
    assert.ok(got.y >= dy && got.y - dy <= 2, JSON.stringify(got));
    assert.ok(got.x + got.width <= dx + c.width, JSON.stringify(got));
    assert.ok(got.y + got.height <= dy + c.height, JSON.stringify(got));
    assert.ok(got.width >= c.width - 4 && got.height >= c.height - 4);
    const score = scoreMap(result.frameMap, pair.truth);
    assert.ok(score.exactRatio >= 0.99, `${score.exact}/${score.total}`);
    const W = pair.spec.bgWidth, H = pair.spec.bgHeight;
    const [outFrames, bgFrames] = await Promise.all([
      gray(out, W, H),
      gray(pair.bg, W, H),
    ]);
    // One bar's area in the bg: above the content, or left of it.
    const bars = boxing === "letterbox"
      ? { x0: c.x, x1: c.x + c.width, y0: c.y - BAR, y1: c.y }
      : { x0: c.x - BAR, x1: c.x, y0: c.y, y1: c.y + c.height };
    for (let k = 3; k < outFrames.length; k += 11) {
      const under = bgFrames[result.frameMap[k]];
      // Where the bars would be, the bg shows through (testsrc2 is not black there).
      assert.ok(
        mad(outFrames[k], under, W, bars) < 4,
        `frame ${k}: bar area differs from the bg`,
      );
    }
  });
}

Deno.test("--engine full paints the fg's bars over the bg (the difference mask makes)", async () => {
  const pair = await boxedPair("letterbox");
  const c = pair.spec.crop;
  const out = join(dir, "out_full_bars.mp4");
  await Deno.remove(out).catch(() => {});
  await composite({
    bg: pair.bg,
    fg: pair.fg,
    output: out,
    preset: "ultrafast",
    crf: 12,
  });
  const W = pair.spec.bgWidth, H = pair.spec.bgHeight;
  const [first] = await gray(out, W, H);
  let sum = 0;
  for (let y = c.y - BAR + 2; y < c.y - 2; y++) {
    for (let x = c.x; x < c.x + c.width; x++) sum += first[y * W + x];
  }
  const mean = sum / ((BAR - 4) * c.width);
  assert.ok(mean < 24, `bar area mean luma ${mean} (black expected)`);
});

Deno.test("--smooth feathers the fg edges over visible bg as a linear ramp", async () => {
  // Solid white fg over solid black bg at a fixed place: the edge ramp is
  // then read off directly.
  const bg = join(dir, "solid_black_320x180.mp4");
  const fg = join(dir, "solid_white_160x90.mp4");
  for (
    const [path, color, size] of [[bg, "black", "320x180"], [
      fg,
      "white",
      "160x90",
    ]]
  ) {
    if (await exists(path)) continue;
    await ffmpeg([
      "-f",
      "lavfi",
      "-i",
      `color=c=${color}:s=${size}:r=25:d=1`,
      "-c:v",
      "libx264",
      "-crf",
      "0",
      "-pix_fmt",
      "yuv420p",
      `${path}.tmp.mp4`,
    ]);
    await Deno.rename(`${path}.tmp.mp4`, path);
  }
  const out = join(dir, "out_smooth.mp4");
  await Deno.remove(out).catch(() => {});
  const margin = 8, X = 100, Y = 40;
  await composite({
    bg,
    fg,
    output: out,
    xShift: X,
    yShift: Y,
    smooth: true,
    margin,
    force: true,
    preset: "ultrafast",
    crf: 0,
  });
  const [frame] = await gray(out, 320, 180);
  const row = Y + 45;
  const left: number[] = [];
  for (let k = 0; k < margin + 2; k++) left.push(frame[row * 320 + X + k]);
  // Rises monotonically from near black to white across the margin.
  for (let k = 1; k < left.length; k++) {
    assert.ok(left[k] >= left[k - 1] - 2, `ramp ${left.join(",")}`);
  }
  assert.ok(left[0] < 60, `edge ${left[0]}`);
  assert.ok(left[margin + 1] > 220, `inside ${left[margin + 1]}`);
  const mid = left[Math.floor(margin / 2)];
  assert.ok(mid > 70 && mid < 190, `half-way ${mid}`);
  // Without --smooth the edge is hard.
  const hard = join(dir, "out_hard.mp4");
  await Deno.remove(hard).catch(() => {});
  await composite({
    bg,
    fg,
    output: hard,
    xShift: X,
    yShift: Y,
    force: true,
    preset: "ultrafast",
    crf: 0,
  });
  const [h] = await gray(hard, 320, 180);
  assert.ok(h[row * 320 + X + 1] > 220, "hard edge is white from its first px");
});
