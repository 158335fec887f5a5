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

import { type Frame, resizeArea } from "../core/frame.ts";
import { rng } from "../plugins/_fingerprint_testing.ts";

/** Resizes per bench iteration. */
const BATCH = 100;

function randomFrame(width: number, height: number, channels: 1 | 3): Frame {
  const r = rng(width * 7919 + height * 31 + channels);
  const data = new Uint8Array(width * height * channels);
  for (let i = 0; i < data.length; i++) data[i] = Math.floor(r() * 256);
  return { width, height, channels, data };
}

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
  const frame = randomFrame(w, h, c);
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
