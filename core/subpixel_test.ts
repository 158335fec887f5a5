import assert from "node:assert/strict";
import {
  parabolicOffset,
  parabolicPeakValue,
  subpixelPeak,
} from "./subpixel.ts";

Deno.test("parabolicOffset: exact vertex of a sampled parabola", () => {
  for (const v of [-0.45, -0.3, 0, 0.1, 0.37]) {
    const f = (t: number) => 5 - 2 * (t - v) ** 2;
    assert.ok(Math.abs(parabolicOffset(f(-1), f(0), f(1)) - v) < 1e-12);
  }
});

Deno.test("parabolicOffset: no maximum at the centre gives 0; clamps to ±0.5", () => {
  assert.equal(parabolicOffset(1, 1, 1), 0); // flat
  assert.equal(parabolicOffset(1, 0, 1), 0); // a minimum
  assert.equal(parabolicOffset(NaN, 1, 0), 0);
  // Rising to the right: the vertex lies beyond the right neighbour.
  assert.equal(parabolicOffset(0, 0.9, 1), 0.5);
  assert.equal(parabolicOffset(1, 0.9, 0), -0.5);
});

Deno.test("subpixelPeak: separable fit; edges and wrap-around", () => {
  const w = 7, h = 5, cx = 3.25, cy = 1.8;
  const map = new Float64Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      map[y * w + x] = -((x - cx) ** 2) - (y - cy) ** 2;
    }
  }
  const p = subpixelPeak(map, w, h, 3, 2);
  assert.ok(Math.abs(p.x - cx) < 1e-12 && Math.abs(p.y - cy) < 1e-12);
  // On the left edge, x stays whole without wrap; with wrap the far column
  // is the left neighbour.
  const edge = new Float64Array(9).fill(0);
  edge[3] = 1; // (0, 1)
  edge[4] = 0.5; // (1, 1)
  edge[5] = 0.8; // (2, 1) is (-1, 1) when wrapping
  assert.equal(subpixelPeak(edge, 3, 3, 0, 1).x, 0);
  const wrapped = subpixelPeak(edge, 3, 3, 0, 1, true).x;
  assert.ok(wrapped < 0 && wrapped > -0.5, `${wrapped}`);
});

Deno.test("parabolicPeakValue: the vertex height between samples", () => {
  const f = (t: number) => 0.9 - 0.3 * (t - 0.4) ** 2;
  assert.ok(Math.abs(parabolicPeakValue(f(-1), f(0), f(1)) - 0.9) < 1e-12);
  // Not a maximum: the centre sample itself.
  assert.equal(parabolicPeakValue(0.5, 0.2, 0.5), 0.2);
  // A vertex beyond ±0.5 is read at the clamp: f(0.5) of that parabola.
  const g = (t: number) => 1 - (t - 0.8) ** 2;
  assert.ok(Math.abs(parabolicPeakValue(g(-1), g(0), g(1)) - g(0.5)) < 1e-12);
});
