import assert from "node:assert/strict";
import type { GrayImage } from "../core/frame.ts";
import { createMsssim, msssimDefaults, plugin } from "./validator_msssim.ts";
import { rng } from "./_fingerprint_testing.ts";

/** A textured picture (blobs and grain) of w × h, cut at (x, y) from a larger canvas. */
function canvas(seed: number, w: number, h: number): GrayImage {
  const r = rng(seed);
  const blobs = Array.from({ length: 40 }, () => ({
    x: r() * w,
    y: r() * h,
    s: 3 + r() * 20,
    a: r() * 160 - 80,
  }));
  const data = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let v = 128 + (r() - 0.5) * 10;
      for (const b of blobs) {
        v += b.a * Math.exp(-((x - b.x) ** 2 + (y - b.y) ** 2) / (b.s * b.s));
      }
      data[y * w + x] = Math.max(0, Math.min(255, Math.round(v)));
    }
  }
  return { width: w, height: h, data };
}

function cut(img: GrayImage, x: number, y: number, w: number, h: number) {
  const data = new Uint8Array(w * h);
  for (let row = 0; row < h; row++) {
    data.set(
      img.data.subarray(
        (y + row) * img.width + x,
        (y + row) * img.width + x + w,
      ),
      row * w,
    );
  }
  return { width: w, height: h, data };
}

function noisy(img: GrayImage, amp: number, seed: number): GrayImage {
  const r = rng(seed);
  return {
    ...img,
    data: img.data.map((v) =>
      Math.max(0, Math.min(255, Math.round(v + (r() * 2 - 1) * amp)))
    ),
  };
}

const W = 240, H = 136;
const big = canvas(1, W + 20, H + 20);
const fg = cut(big, 10, 10, W, H);

Deno.test("msssim gives 1 to an identical pair and a high confidence to a re-encoded one", async () => {
  const v = createMsssim();
  const out = await v.validate([
    { fg, bg: fg },
    { fg, bg: noisy(fg, 4, 2) },
  ]);
  assert.ok(out instanceof Float32Array);
  assert.equal(out.length, 2);
  assert.equal(out[0], 1);
  assert.ok(out[1] > 0.9, `noisy copy: ${out[1]}`);
});

Deno.test("msssim scores a placement a few pixels off below the right one", () => {
  const v = createMsssim();
  const right = v.judge({ fg, bg: noisy(cut(big, 10, 10, W, H), 4, 3) });
  for (const [dx, dy] of [[2, 0], [0, 3], [4, 4]]) {
    const off = v.judge({
      fg,
      bg: noisy(cut(big, 10 + dx, 10 + dy, W, H), 4, 3),
    });
    assert.ok(
      off.confidence < right.confidence - 0.1,
      `(${dx}, ${dy}): ${off.confidence} vs ${right.confidence}`,
    );
  }
});

Deno.test("msssim rejects an unrelated pair at the coarsest scale without computing finer ones", () => {
  const v = createMsssim();
  const other = canvas(2, W, H);
  const verdict = v.judge({ fg, bg: other });
  assert.equal(verdict.rejectedAt, 0);
  assert.equal(verdict.scales.length, 1);
  assert.ok(verdict.scales[0] < msssimDefaults.thresholds[0]);
  assert.ok(verdict.confidence <= Math.max(0, verdict.scales[0]));
  // The right pair goes through every scale, coarsest first.
  const right = v.judge({ fg, bg: noisy(fg, 4, 5) });
  assert.equal(right.rejectedAt, -1);
  assert.equal(right.scales.length, msssimDefaults.weights.length);
});

Deno.test("msssim without thresholds computes every scale, and its confidences stay in [0, 1]", async () => {
  const v = createMsssim({ thresholds: [] });
  const inverted = { ...fg, data: fg.data.map((x) => 255 - x) };
  const verdict = v.judge({ fg, bg: canvas(3, W, H) });
  assert.equal(verdict.rejectedAt, -1);
  assert.equal(verdict.scales.length, 4);
  const out = await v.validate([{ fg, bg: inverted }, {
    fg,
    bg: canvas(4, W, H),
  }]);
  for (const c of out) assert.ok(c >= 0 && c <= 1, `${c}`);
  assert.equal(out[0], 0);
});

Deno.test("msssim uses fewer scales on small frames and refuses bad options", () => {
  const small = cut(big, 0, 0, 30, 24);
  const v = createMsssim();
  // 30×24 → 15×12: both fit an 11-pixel window, 7×6 does not.
  assert.equal(v.judge({ fg: small, bg: small }).scales.length, 2);
  assert.throws(() => createMsssim({ weights: [] }), RangeError);
  assert.throws(() => createMsssim({ weights: [1, -1] }), RangeError);
  assert.throws(
    () => createMsssim({ thresholds: [Number.NaN] }),
    RangeError,
  );
});

Deno.test("msssim plugin definition builds the validator", async () => {
  assert.equal(plugin.kind, "validator");
  assert.equal(plugin.name, "msssim");
  assert.ok(plugin.description.length > 0);
  const v = plugin.create({ thresholds: [0.9, 0.9], unknown: 1 });
  assert.equal(v.name, "msssim");
  const [c] = await v.validate([{ fg, bg: noisy(fg, 30, 6) }]);
  assert.ok(c < 0.9, `strict thresholds reject heavy noise: ${c}`);
});
