import assert from "node:assert/strict";
import type { Frame } from "../core/frame.ts";
import { createDhash, dhashDefaults, plugin } from "./fingerprint_dhash.ts";
import {
  assertDistanceContract,
  assertFingerprinterPlugin,
  assertNoisyCloser,
  assertRejectsFormat,
  assertSlotLayout,
  grayFrame,
  hash64,
  mapFrame,
  noisy,
  randomFrame,
  scene,
} from "./_fingerprint_testing.ts";

const INPUT = { width: 9, height: 8, channels: 1 } as const;

/** A gray frame (9×8 unless said): pixel (x, y) is `f(x, y)`. */
const frame = (f: (x: number, y: number) => number, width = 9, height = 8) =>
  grayFrame(width, height, f);
const hashOf = (f: Frame, fp = createDhash()) => hash64(fp, f);

Deno.test("dhash of a rising horizontal gradient is all zeros", () => {
  assert.equal(hashOf(frame((x) => 20 * x)), 0n);
});

Deno.test("dhash of a falling horizontal gradient is all ones", () => {
  assert.equal(hashOf(frame((x) => 250 - 20 * x)), 0xffffffffffffffffn);
});

Deno.test("dhash of rows alternating rising and falling sets every odd byte", () => {
  // Row y is bits 8y..8y+7; odd rows fall → bytes 0xFF at odd positions.
  const f = frame((x, y) => (y % 2 === 0 ? 20 * x : 250 - 20 * x));
  assert.equal(hashOf(f), 0xff00ff00ff00ff00n);
});

Deno.test("dhash of a single bright column sets the bit left of its right edge", () => {
  // Column 5 bright: only the pair (5, 6) has left > right, in every row.
  const f = frame((x) => (x === 5 ? 200 : 50));
  assert.equal(hashOf(f), 0x2020202020202020n);
});

Deno.test("dhash vertical compares each pixel with the one below", () => {
  const fp = createDhash({ direction: "vertical" });
  assert.deepEqual(fp.input, { width: 8, height: 9, channels: 1 });
  assert.equal(
    hashOf(frame((_, y) => 250 - 20 * y, 8, 9), fp),
    0xffffffffffffffffn,
  );
  // Only row 2 is brighter than row 3 below it.
  assert.equal(
    hashOf(frame((_, y) => (y === 2 ? 200 : 50), 8, 9), fp),
    0xff0000n,
  );
});

Deno.test("dhash is unchanged by brightness offsets and contrast gains ≥ 1", () => {
  // Squeeze the scene into 10..190 so neither regrade clips. Adding a
  // constant keeps every comparison; so does a gain ≥ 1 with rounding,
  // because distinct integers stay at least one level apart.
  const base = mapFrame(scene(INPUT, 3), (v) => Math.round(v * 0.7 + 10));
  const brighter = mapFrame(base, (v) => v + 40);
  const punchier = mapFrame(base, (v) => Math.round(v * 1.2 + 5));
  const h = hashOf(base);
  assert.notEqual(h, 0n);
  assert.equal(hashOf(brighter), h);
  assert.equal(hashOf(punchier), h);
});

Deno.test("dhash gives 0 for identical frames and keeps distances in [0, 1]", () => {
  assertDistanceContract(createDhash(), (k) => randomFrame(INPUT, k + 1), 80);
});

Deno.test("dhash puts a mildly noised copy much closer than an unrelated frame", () => {
  assertNoisyCloser(
    createDhash(),
    (k) => scene(INPUT, k + 1),
    (f, k) => noisy(f, 2, 500 + k),
    {
      count: 40,
      unrelated: (k) => scene(INPUT, k + 1000),
      nearBelow: 0.1,
      farAbove: 0.3,
      farOverNear: 3,
    },
  );
});

Deno.test("dhash writes slot k only and distance reads slot k", () => {
  const fp = createDhash();
  assert.equal(fp.featureLength, 2);
  assert.equal(fp.coarse, true);
  const t = assertSlotLayout(fp, frame((x) => 250 - 20 * x), { slot: 2 });
  assert.deepEqual(Array.from(t), [0, 0, 0, 0, 0xffffffff, 0xffffffff]);
  assert.equal(fp.distance(t, 0, t, 2), 1);
});

Deno.test("dhash rejects other formats and bad options", () => {
  assertRejectsFormat(createDhash(), { width: 8, height: 9, channels: 1 });
  assert.throws(
    () => createDhash({ direction: "diagonal" as unknown as "vertical" }),
    RangeError,
  );
  assert.equal(dhashDefaults.direction, "horizontal");
});

Deno.test("dhash plugin definition creates a coarse 9×8 gray fingerprinter", () => {
  assertFingerprinterPlugin(plugin, {}, {
    name: "dhash",
    input: INPUT,
    coarse: true,
  });
});
