/**
 * SSIM throughput at the two sizes vidkompy uses it:
 *
 * - the validator's: a 480×270 gray pair (the largest analysis frame), one
 *   single-scale SSIM and one `msssim` verdict (four scales, coarse to
 *   fine), for a right pair (every scale computed) and an unrelated one
 *   (rejected at the coarsest scale);
 * - the fingerprint's: `ssim` compute (a 48×27 frame packed with its local
 *   moments) and distance (the cross term only).
 *
 * Frames/s = iter/s × the batch size in the bench name. Frames are seeded
 * smooth random pictures, so every run measures the same work.
 *
 * Run: `deno bench bench/ssim_bench.ts`
 *
 * @module
 */

import type { GrayImage } from "../core/frame.ts";
import { ssim } from "../core/ssim.ts";
import { createSsimFingerprint } from "../plugins/fingerprint_ssim.ts";
import { createMsssim } from "../plugins/validator_msssim.ts";
import { noisy, rng, scene } from "../plugins/_fingerprint_testing.ts";

/** A smooth random gray picture with grain, like a decoded frame. */
function picture(width: number, height: number, seed: number): GrayImage {
  const r = rng(seed);
  const base = scene(
    { width: width >> 3, height: height >> 3, channels: 1 },
    seed,
  );
  const data = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const v = base.data[(y >> 3) * base.width + (x >> 3)] + (r() - 0.5) * 12;
      data[y * width + x] = v < 0 ? 0 : v > 255 ? 255 : v;
    }
  }
  return { width, height, data };
}

// Keeps results observable so the JIT cannot drop the work.
let sink = 0;

const fg = picture(480, 270, 1);
const same = noisy({ ...fg, channels: 1 }, 3, 2);
const other = picture(480, 270, 3);
const validator = createMsssim();

Deno.bench({
  name: "ssim 480×270 ×1",
  group: "validator size",
  baseline: true,
  fn() {
    sink += ssim(fg, same);
  },
});

Deno.bench({
  name: "msssim verdict, right pair (4 scales) 480×270 ×1",
  group: "validator size",
  fn() {
    sink += validator.judge({ fg, bg: same }).confidence;
  },
});

Deno.bench({
  name: "msssim verdict, unrelated pair (rejected at 60×33) 480×270 ×1",
  group: "validator size",
  fn() {
    sink += validator.judge({ fg, bg: other }).confidence;
  },
});

const fp = createSsimFingerprint();
const BATCH = 100;
const frames = Array.from(
  { length: BATCH },
  (_, k) => ({
    ...picture(fp.input.width, fp.input.height, 10 + k),
    channels: 1 as const,
  }),
);
const table = fp.createTable(BATCH);
frames.forEach((f, k) => fp.compute(f, table, k));
const query = fp.createTable(1);
fp.compute(frames[0], query, 0);

Deno.bench({
  name: `ssim fingerprint compute 48×27 ×${BATCH}`,
  group: "fingerprint size",
  fn() {
    for (let k = 0; k < BATCH; k++) fp.compute(frames[k], table, k);
  },
});

Deno.bench({
  name: `ssim fingerprint distance 48×27 ×${BATCH}`,
  group: "fingerprint size",
  fn() {
    for (let k = 0; k < BATCH; k++) sink += fp.distance(query, 0, table, k);
  },
});

addEventListener("unload", () => {
  if (sink === 42) console.log("");
});
