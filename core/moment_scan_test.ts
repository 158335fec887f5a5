import assert from "node:assert/strict";
import { crop, texture } from "../bench/_texture.ts";
import type { GrayImage } from "./frame.ts";
import { scanMoments } from "./moment_scan.ts";

const BW = 200, BH = 120, FW = 120, FH = 70;
const wide = texture(BW + 200, BH + 100, 31);

/**
 * bg frame t: a slow diagonal pan (1 px per frame right, 1 px per two
 * frames down) over a still texture, and a small subject drifting on its own.
 */
function bgFrame(t: number): GrayImage {
  const g = crop(wide, t, t >> 1, BW, BH);
  const x0 = Math.round(90 + 40 * Math.sin(t / 9));
  const y0 = Math.round(50 + 20 * Math.cos(t / 7));
  for (let y = y0; y < y0 + 14; y++) {
    for (let x = x0; x < x0 + 14; x++) g.data[y * BW + x] = 240;
  }
  return g;
}

Deno.test("moment scan follows a pan to the moment that matches, 8 frames and 8 px from the guess", () => {
  // fg frames 20, 21 are crops at (41, 25) of bg frames 20, 21; the guess
  // says bg frames 12, 13 at (49, 29): along the pan almost as good.
  const bg = Array.from({ length: 40 }, (_, j) => bgFrame(j));
  const fg = [20, 21].map((i) => crop(bgFrame(i), 41, 25, FW, FH));
  const r = scanMoments({ fg, bg, at: [12, 13], x: 49, y: 29 });
  assert.ok(r);
  assert.deepEqual([r.delta, r.x, r.y], [8, 41, 25]);
  assert.ok(r.score > 0.999, `${r.score}`);
});

Deno.test("moment scan stays put when the guess is the truth, and refuses empty input", () => {
  const bg = Array.from({ length: 20 }, (_, j) => bgFrame(j));
  const fg = [crop(bgFrame(10), 30, 20, FW, FH)];
  const r = scanMoments({ fg, bg, at: [10], x: 30, y: 20 });
  assert.deepEqual([r?.delta, r?.x, r?.y], [0, 30, 20]);
  assert.equal(scanMoments({ fg: [], bg, at: [], x: 0, y: 0 }), undefined);
});
