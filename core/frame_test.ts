import assert from "node:assert/strict";
import {
  adaptFrame,
  cropFrame,
  type Frame,
  grayStdDev,
  resizeArea,
  toGray,
} from "./frame.ts";

function gray(
  width: number,
  height: number,
  f: (x: number, y: number) => number,
): Frame {
  const data = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) data[y * width + x] = f(x, y);
  }
  return { width, height, channels: 1, data };
}

Deno.test("resizeArea halves by averaging 2×2 blocks", () => {
  const f = gray(4, 2, (x, y) => x * 10 + y * 100);
  const r = resizeArea(f, 2, 1);
  // Blocks: (0,10,100,110) → 55, (20,30,120,130) → 75.
  assert.deepEqual([...r.data], [55, 75]);
});

Deno.test("resizeArea keeps a flat image flat and the mean at odd ratios", () => {
  const flat = resizeArea(gray(37, 23, () => 77), 5, 3);
  assert.ok(flat.data.every((v) => v === 77));
  const ramp = gray(480, 218, (x) => Math.floor(x / 2));
  const small = resizeArea(ramp, 32, 32);
  const mean = (d: Uint8Array) => d.reduce((a, v) => a + v, 0) / d.length;
  assert.ok(Math.abs(mean(small.data) - mean(ramp.data)) < 0.6);
  // Horizontal ramp stays a ramp: each column brighter than the last.
  for (let x = 1; x < 32; x++) assert.ok(small.data[x] > small.data[x - 1]);
});

Deno.test("resizeArea handles RGB channels independently", () => {
  const data = new Uint8Array(4 * 1 * 3);
  for (let p = 0; p < 4; p++) data.set([10 * p, 100, 200 - 10 * p], p * 3);
  const r = resizeArea({ width: 4, height: 1, channels: 3, data }, 1, 1);
  assert.deepEqual([...r.data], [15, 100, 185]);
});

Deno.test("cropFrame copies the region and clamps it to the frame", () => {
  const f = gray(5, 4, (x, y) => y * 5 + x);
  const c = cropFrame(f, { x: 1, y: 2, width: 3, height: 9 });
  assert.equal(c.width, 3);
  assert.equal(c.height, 2);
  assert.deepEqual([...c.data], [11, 12, 13, 16, 17, 18]);
});

Deno.test("toGray uses BT.601 weights and adaptFrame refuses gray → RGB", () => {
  const rgb: Frame = {
    width: 1,
    height: 1,
    channels: 3,
    data: Uint8Array.of(255, 0, 0),
  };
  assert.equal(toGray(rgb).data[0], 77);
  assert.throws(
    () => adaptFrame(gray(2, 2, () => 0), { width: 2, height: 2, channels: 3 }),
    RangeError,
  );
});

Deno.test("grayStdDev: 0 for a flat image, half the swing for two levels", () => {
  assert.equal(
    grayStdDev({ width: 4, height: 2, data: new Uint8Array(8).fill(90) }),
    0,
  );
  const halves = Uint8Array.from([0, 255, 0, 255, 255, 0, 255, 0]);
  assert.equal(grayStdDev({ width: 4, height: 2, data: halves }), 127.5);
  assert.equal(grayStdDev({ width: 0, height: 0, data: new Uint8Array(0) }), 0);
});
