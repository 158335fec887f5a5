import assert from "node:assert/strict";
import type { Frame } from "../core/frame.ts";
import {
  colormomentDefaults,
  createColormoment,
  plugin,
} from "./fingerprint_colormoment.ts";
import {
  assertDistanceContract,
  assertFingerprinterPlugin,
  assertNoisyCloser,
  assertRejectsFormat,
  assertSlotLayout,
  flatFrame,
  noisy,
  rgbFrame,
  rng,
} from "./_fingerprint_testing.ts";

const INPUT = { width: 32, height: 32, channels: 3 } as const;

/**
 * A natural-looking colour frame: a gradient between two random colours,
 * 3–6 soft-edged coloured blobs and a faint texture. Richer than the shared
 * blob scene because Hu moments of the six channels need shape variety.
 */
function scene(seed: number, size = 32): Frame {
  const r = rng(seed);
  const c0 = [r() * 255, r() * 255, r() * 255];
  const c1 = [r() * 255, r() * 255, r() * 255];
  const angle = r() * 2 * Math.PI, ca = Math.cos(angle), sa = Math.sin(angle);
  const blobs = Array.from({ length: 3 + Math.floor(r() * 4) }, () => ({
    x: r(),
    y: r(),
    radius: 0.08 + r() * 0.25,
    colour: [r() * 255, r() * 255, r() * 255],
  }));
  const fx = 2 + r() * 6, fy = 2 + r() * 6, phase = r() * 6, amp = r() * 30;
  return rgbFrame(size, size, (x, y) => {
    const u = (x + 0.5) / size, v = (y + 0.5) / size;
    const t = Math.min(1, Math.max(0, 0.5 + (u - 0.5) * ca + (v - 0.5) * sa));
    const col = [0, 1, 2].map((k) => c0[k] * (1 - t) + c1[k] * t);
    for (const b of blobs) {
      const w = Math.max(
        0,
        Math.min(1, 1.5 - Math.hypot(u - b.x, v - b.y) / b.radius),
      );
      for (let k = 0; k < 3; k++) col[k] = col[k] * (1 - w) + b.colour[k] * w;
    }
    const tex = amp * Math.sin(2 * Math.PI * (fx * u + fy * v) + phase);
    return col.map((c) => c + tex);
  });
}

/** The frame turned by 90° (x' = size-1-y, y' = x) or mirrored left-right. */
function transformed(f: Frame, how: "rotate" | "mirror"): Frame {
  const s = f.width;
  return rgbFrame(s, s, (x, y) => {
    const [sx, sy] = how === "rotate" ? [y, s - 1 - x] : [s - 1 - x, y];
    const p = (sy * s + sx) * 3;
    return [f.data[p], f.data[p + 1], f.data[p + 2]];
  });
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[s.length >> 1];
}

Deno.test("colormoment gives 0 for identical frames and keeps distances in [0, 1)", () => {
  const n = 40;
  const fp = createColormoment();
  // Degenerate frames after the scenes: black (four empty channels), white,
  // pure red.
  const degenerate = [
    flatFrame(INPUT, 0),
    flatFrame(INPUT, 255),
    rgbFrame(32, 32, () => [255, 0, 0]),
  ];
  const t = assertDistanceContract(
    fp,
    (k) => (k < n ? scene(k + 1) : degenerate[k - n]),
    n + 3,
    (d, i, j, t) => {
      assert.ok(d < 1, `d(${i}, ${j}) = ${d}`);
      assert.equal(d, fp.distance(t, j, t, i));
    },
  );
  assert.ok(t.every(Number.isFinite));
});

Deno.test("colormoment puts different frames far apart and slightly noisy copies near", () => {
  // Unrelated = every pair of distinct scenes; bounds on medians and
  // extremes, since one odd scene should not hide behind a mean.
  const { near, far } = assertNoisyCloser(
    createColormoment(),
    (k) => scene(k + 1),
    (f, k) => noisy(f, 3, 1000 + k),
    { count: 60 },
  );
  const nearMax = Math.max(...near), farMin = Math.min(...far);
  assert.ok(median(near) < 0.03, `median noisy ${median(near)}`);
  assert.ok(nearMax < 0.2, `worst noisy ${nearMax}`);
  assert.ok(farMin > 0.2, `closest unrelated pair ${farMin}`);
  assert.ok(
    farMin > nearMax,
    `closest unrelated ${farMin} vs worst noisy ${nearMax}`,
  );
  // The scale constant puts typical unrelated frames mid-range.
  const mid = median(far);
  assert.ok(mid > 0.35 && mid < 0.65, `median unrelated ${mid}`);
});

Deno.test("colormoment is invariant to 90° rotation; mirroring only negates h7", () => {
  const fp = createColormoment();
  for (let k = 0; k < 5; k++) {
    const f = scene(k + 11);
    const t = fp.createTable(3);
    fp.compute(f, t, 0);
    fp.compute(transformed(f, "rotate"), t, 1);
    fp.compute(transformed(f, "mirror"), t, 2);
    for (let c = 0; c < 42; c++) {
      assert.ok(Math.abs(t[c] - t[42 + c]) < 1e-4, `rotate: moment ${c}`);
      const mirrored = c % 7 === 6 ? -t[84 + c] : t[84 + c];
      assert.ok(Math.abs(t[c] - mirrored) < 1e-4, `mirror: moment ${c}`);
    }
    assert.ok(fp.distance(t, 0, t, 1) < 1e-4);
  }
});

Deno.test("colormoment log-scales Hu moments of a known frame as derived by hand", () => {
  // A uniform frame at level v: every pixel-centre grid moment is that of a
  // uniform square, so h1 = (mu20 + mu02) / m00² = (2/12)(1 - 1/N²) / v in
  // unit-square units, and h2..h7 vanish by symmetry. White (v = 1): H and S
  // are empty (all 0); V and Y are 1; Cr and Cb are 0.5.
  const fp = createColormoment();
  const t = fp.createTable(1);
  fp.compute(flatFrame(INPUT, 255), t, 0);
  const grid = (2 / 12) * (1 - 1 / 1024);
  const scaled = (h: number) => Math.log10(1 + h / colormomentDefaults.epsilon);
  const expected = [
    0,
    0,
    scaled(grid),
    scaled(grid),
    scaled(grid / 0.5),
    scaled(grid / 0.5),
  ];
  for (let c = 0; c < 6; c++) {
    assert.ok(
      Math.abs(t[c * 7] - expected[c]) < 1e-5,
      `channel ${c}: ${t[c * 7]} vs ${expected[c]}`,
    );
    for (let k = 1; k < 7; k++) assert.ok(Math.abs(t[c * 7 + k]) < 1e-4);
  }
});

Deno.test("colormoment writes slot k only and distance reads slot k", () => {
  const fp = createColormoment();
  assert.equal(fp.featureLength, 42);
  assert.equal(fp.coarse, false);
  const t = assertSlotLayout(fp, scene(4));
  assert.ok(t instanceof Float32Array);
  assert.ok(fp.distance(t, 0, t, 1) > 0.5);
});

Deno.test("colormoment rejects other formats and bad options", () => {
  assertRejectsFormat(createColormoment(), {
    width: 32,
    height: 32,
    channels: 1,
  });
  assert.throws(() => createColormoment({ scale: 0 }), RangeError);
  assert.throws(() => createColormoment({ size: 3 }), RangeError);
  const small = createColormoment({ size: 16 });
  assert.deepEqual(small.input, { width: 16, height: 16, channels: 3 });
});

Deno.test("colormoment plugin definition creates a fine RGB fingerprinter", () => {
  assertFingerprinterPlugin(plugin, { scale: 2 }, {
    name: "colormoment",
    input: INPUT,
    coarse: false,
  });
});
