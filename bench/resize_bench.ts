/**
 * `resizeArea` throughput on the sizes the pipeline resizes: a crop of a few
 * hundred pixels down to a fingerprint thumbnail (gray, the hot case), a full
 * HD frame, and RGB.
 *
 * Each iteration does `BATCH` resizes of one seeded random frame (10 for full
 * HD), so time per call = iteration time / batch.
 *
 * Run: `deno bench bench/resize_bench.ts`
 *
 * @module
 */

import { resizeArea } from "../core/frame.ts";
import { randomFrame } from "../plugins/_fingerprint_testing.ts";

/** Resizes per bench iteration. */
const BATCH = 100;

const cases: [number, number, 1 | 3, number, number][] = [
  [360, 203, 1, 32, 32],
  [360, 203, 1, 16, 16],
  [360, 203, 1, 64, 64],
  [101, 77, 1, 8, 8],
  [1920, 1080, 1, 32, 32],
  [640, 360, 1, 160, 90],
  [360, 203, 3, 32, 32],
];

// Keeps results observable so the JIT cannot drop the work.
let sink = 0;

for (const [w, h, c, ow, oh] of cases) {
  const frame = randomFrame({ width: w, height: h, channels: c }, w * 7919 + h);
  const batch = w * h >= 1e6 ? 10 : BATCH;
  Deno.bench({
    name: `${w}×${h}×${c} → ${ow}×${oh} ×${batch}`,
    fn() {
      for (let k = 0; k < batch; k++) {
        sink += resizeArea(frame, ow, oh).data[k & 7];
      }
    },
  });
}

globalThis.addEventListener("unload", () => {
  if (Number.isNaN(sink)) console.log(sink);
});
