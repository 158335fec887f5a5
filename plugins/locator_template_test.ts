import assert from "node:assert/strict";
import type { GrayImage } from "../core/frame.ts";
import {
  downscale2,
  integralImages,
  nccAt,
  nccMap,
  prepareTemplate,
  pyramid,
} from "../core/ncc.ts";
import type { LocateRequest, RefinePair } from "../core/types.ts";
import {
  createTemplate,
  plugin,
  templateDefaults,
} from "./locator_template.ts";
import { rng } from "./_fingerprint_testing.ts";

// ---------------------------------------------------------------------------
// Synthetic scenes with known ground truth.

interface Canvas {
  width: number;
  height: number;
  data: Float32Array;
}

/**
 * A natural-ish texture: smooth Gaussian blobs and sinusoids (low
 * frequencies), rectangles (edges) and a little fine grain, so every scale of
 * the pyramid has structure.
 */
function texture(width: number, height: number, seed: number): Canvas {
  const r = rng(seed);
  const data = new Float32Array(width * height).fill(120);
  const area = width * height;
  const blobs = Math.max(12, Math.round(area / 12000));
  for (let b = 0; b < blobs; b++) {
    const cx = r() * width, cy = r() * height;
    const s = 4 + r() * Math.min(60, width / 8);
    const amp = (r() - 0.5) * 120;
    const x0 = Math.max(0, Math.floor(cx - 3 * s));
    const x1 = Math.min(width - 1, Math.ceil(cx + 3 * s));
    const y0 = Math.max(0, Math.floor(cy - 3 * s));
    const y1 = Math.min(height - 1, Math.ceil(cy + 3 * s));
    const k = -1 / (2 * s * s);
    for (let y = y0; y <= y1; y++) {
      const dy2 = (y - cy) * (y - cy);
      for (let x = x0; x <= x1; x++) {
        data[y * width + x] += amp * Math.exp(((x - cx) * (x - cx) + dy2) * k);
      }
    }
  }
  for (let w = 0; w < 3; w++) {
    const fx = (r() - 0.5) * 0.08, fy = (r() - 0.5) * 0.08;
    const ph = r() * 6.28, amp = 6 + r() * 8;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        data[y * width + x] += amp * Math.sin(fx * x + fy * y + ph);
      }
    }
  }
  const rects = Math.max(10, Math.round(area / 15000));
  for (let i = 0; i < rects; i++) rect(data, width, height, r, 40);
  for (let i = 0; i < area; i++) data[i] += (r() - 0.5) * 6;
  return { width, height, data };
}

/** Adds one random rectangle of a random gray offset. */
function rect(
  data: Float32Array,
  width: number,
  height: number,
  r: () => number,
  maxSide: number,
): void {
  const w = 3 + Math.floor(r() * maxSide), h = 3 + Math.floor(r() * maxSide);
  const x0 = Math.floor(r() * (width - 1)), y0 = Math.floor(r() * (height - 1));
  const v = (r() - 0.5) * 90;
  for (let y = y0; y < Math.min(height, y0 + h); y++) {
    for (let x = x0; x < Math.min(width, x0 + w); x++) data[y * width + x] += v;
  }
}

/** Quantises a window of a canvas to an 8-bit image. */
function crop(
  c: Canvas | GrayImage,
  x: number,
  y: number,
  w: number,
  h: number,
): GrayImage {
  const data = new Uint8Array(w * h);
  for (let j = 0; j < h; j++) {
    for (let i = 0; i < w; i++) {
      const v = c.data[(y + j) * c.width + x + i];
      data[j * w + i] = v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v);
    }
  }
  return { width: w, height: h, data };
}

/**
 * Moment `m` of a scene: the camera window at (margin + dx, margin + dy) of
 * the canvas, plus a few objects that moved since the other moments.
 */
function moment(
  c: Canvas,
  margin: number,
  w: number,
  h: number,
  dx: number,
  dy: number,
  seed: number,
  objects = 6,
): GrayImage {
  const data = new Float32Array(w * h);
  for (let j = 0; j < h; j++) {
    const src = (margin + dy + j) * c.width + margin + dx;
    data.set(c.data.subarray(src, src + w), j * w);
  }
  const r = rng(seed);
  // Soft moving shapes change every part of the frame a little, so moments
  // differ wherever the fg is; rectangles are the sharper moving objects.
  for (let b = 0; b < 4; b++) {
    const cx = r() * w, cy = r() * h, s = (0.1 + 0.15 * r()) * Math.min(w, h);
    const amp = (r() - 0.5) * 60, k = -1 / (2 * s * s);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        data[y * w + x] += amp *
          Math.exp(((x - cx) * (x - cx) + (y - cy) * (y - cy)) * k);
      }
    }
  }
  for (let i = 0; i < objects; i++) rect(data, w, h, r, Math.min(w, h) / 6);
  return crop({ width: w, height: h, data }, 0, 0, w, h);
}

/** Gain 1.15, offset +12, ±4 uniform noise, clamped: a regraded, noisy bg. */
function regrade(g: GrayImage, seed: number): GrayImage {
  const r = rng(seed);
  const data = new Uint8Array(g.data.length);
  for (let i = 0; i < data.length; i++) {
    const v = Math.round(1.15 * g.data[i] + 12 + (r() * 8 - 4));
    data[i] = v < 0 ? 0 : v > 255 ? 255 : v;
  }
  return { width: g.width, height: g.height, data };
}

function flat(w: number, h: number, v: number): GrayImage {
  return { width: w, height: h, data: new Uint8Array(w * h).fill(v) };
}

function request(fg: GrayImage[], bg: GrayImage[]): LocateRequest {
  return { fg, bg, unscaled: true, precision: 2 };
}

// ---------------------------------------------------------------------------
// Kernels

Deno.test("nccMap: exact copy scores 1 at its position, matches nccAt", () => {
  const img = crop(texture(200, 120, 1), 0, 0, 200, 120);
  const tpl = crop(img, 57, 33, 40, 30);
  const out = new Float32Array(161 * 91);
  const p = nccMap(img, tpl, 0, 0, 160, 90, { out });
  assert.equal(p.x, 57);
  assert.equal(p.y, 33);
  assert.ok(Math.abs(p.score - 1) < 1e-6);
  for (const [x, y] of [[0, 0], [12, 80], [160, 90], [57, 33]]) {
    assert.ok(Math.abs(out[y * 161 + x] - nccAt(img, tpl, x, y)) < 1e-5);
  }
  // A precomputed whole-image integral gives the same answer.
  const q = nccMap(img, prepareTemplate(tpl), 40, 20, 70, 50, {
    integral: integralImages(img),
  });
  assert.deepEqual([q.x, q.y], [57, 33]);
});

Deno.test("nccMap: flat windows and flat templates score 0", () => {
  const img = flat(50, 40, 90);
  const tpl = crop(texture(60, 40, 2), 5, 5, 10, 10);
  assert.equal(nccAt(img, tpl, 3, 4), 0);
  const tex = crop(texture(60, 40, 3), 0, 0, 60, 40);
  assert.equal(nccAt(tex, flat(10, 10, 7), 3, 4), 0);
});

Deno.test("nccMap: out-of-image positions are skipped and marked NaN", () => {
  const img = crop(texture(40, 30, 4), 0, 0, 40, 30);
  const tpl = crop(img, 30, 20, 10, 10);
  const out = new Float32Array(9 * 9);
  const p = nccMap(img, tpl, 28, 18, 36, 26, { out });
  assert.deepEqual([p.x, p.y], [30, 20]);
  assert.ok(Number.isNaN(out[8 * 9 + 8])); // (36, 26) does not fit
  assert.ok(!Number.isNaN(out[2 * 9 + 2])); // (30, 20) fits
  assert.throws(() => nccAt(img, tpl, 31, 0), RangeError);
});

Deno.test("downscale2 / pyramid: 2×2 area averages, odd edges dropped", () => {
  const g: GrayImage = {
    width: 5,
    height: 3,
    data: Uint8Array.from([
      0,
      2,
      10,
      20,
      99,
      4,
      6,
      30,
      40,
      99,
      99,
      99,
      99,
      99,
      99,
    ]),
  };
  const h = downscale2(g);
  assert.equal(h.width, 2);
  assert.equal(h.height, 1);
  assert.deepEqual([...h.data], [3, 25]);
  const p = pyramid(crop(texture(64, 40, 5), 0, 0, 64, 40), 10);
  assert.deepEqual(p.map((i) => [i.width, i.height]), [
    [64, 40],
    [32, 20],
    [16, 10],
    [8, 5],
    [4, 2],
    [2, 1],
  ]);
});

// ---------------------------------------------------------------------------
// locate

Deno.test("plugin definition", () => {
  assert.equal(plugin.kind, "locator");
  assert.equal(plugin.name, "template");
  assert.equal(plugin.create({}).name, "template");
  assert.ok(templateDefaults.minStd > 0);
});

Deno.test("locate: 1920×870 band of a 1920×1080 frame at y=105 and y=137", async () => {
  const scene = texture(1920 + 16, 1080 + 16, 10);
  const m0 = moment(scene, 8, 1920, 1080, 0, 0, 100);
  const m1 = moment(scene, 8, 1920, 1080, 3, -2, 101);
  const bg = [regrade(m1, 1), regrade(m0, 2)];
  const loc = createTemplate();
  for (const y of [105, 137]) {
    const res = await loc.locate(request([crop(m0, 0, y, 1920, 870)], bg));
    assert.equal(res.placement.x, 0);
    assert.equal(res.placement.y, y);
    assert.equal(res.placement.scale, 1);
    assert.ok(res.placement.confidence > 0.9, `${res.placement.confidence}`);
    assert.equal(res.matches.length, 1);
    assert.equal(res.matches[0].bg, 1);
  }
});

Deno.test("locate: 313×177 crop at (701, 389) of a regraded, noisy 1280×720 bg", async () => {
  const scene = texture(1280 + 20, 720 + 20, 11);
  const moments = [0, 1, 2].map((m) =>
    moment(scene, 10, 1280, 720, 3 * m - 3, 2 - 2 * m, 200 + m)
  );
  const bg = moments.map((m, i) => regrade(m, 10 + i));
  const fg = [
    crop(moments[2], 701, 389, 313, 177),
    crop(moments[0], 701, 389, 313, 177),
  ];
  const res = await createTemplate().locate(request(fg, bg));
  assert.deepEqual([res.placement.x, res.placement.y], [701, 389]);
  assert.deepEqual(res.matches.map((m) => [m.fg, m.bg]), [[0, 2], [1, 0]]);
  for (const m of res.matches) {
    assert.deepEqual([m.placement.x, m.placement.y], [701, 389]);
  }
});

Deno.test("locate: picks the right moment among shifted ones; blanks skipped; outlier kept", async () => {
  const W = 640, H = 360, margin = 12;
  const scene = texture(W + 2 * margin, H + 2 * margin, 12);
  const r = rng(99);
  const shifts: [number, number][] = [];
  for (let m = 0; m < 10; m++) {
    // Distinct camera positions, a few px apart.
    let s: [number, number];
    do {
      s = [Math.round(r() * 10 - 5), Math.round(r() * 10 - 5)];
    } while (shifts.some((t) => t[0] === s[0] && t[1] === s[1]));
    shifts.push(s);
  }
  const moments = shifts.map(([dx, dy], m) =>
    moment(scene, margin, W, H, dx, dy, 300 + m)
  );
  const bg = moments.slice(0, 8).map((m, i) => regrade(m, 20 + i));
  const [fx, fy, fw, fh] = [123, 77, 300, 170];
  const fg = [
    flat(fw, fh, 16), // black frame
    crop(moments[2], fx, fy, fw, fh),
    crop(moments[9], fx, fy, fw, fh), // a moment no bg sample shows
    flat(fw, fh, 235),
    crop(moments[5], fx, fy, fw, fh),
  ];
  const res = await createTemplate().locate(request(fg, bg));
  assert.deepEqual([res.placement.x, res.placement.y], [fx, fy]);
  assert.deepEqual(res.matches.map((m) => m.fg), [1, 2, 4]);
  const byFg = new Map(res.matches.map((m) => [m.fg, m]));
  assert.equal(byFg.get(1)!.bg, 2);
  assert.equal(byFg.get(4)!.bg, 5);
  assert.deepEqual([byFg.get(1)!.placement.x, byFg.get(1)!.placement.y], [
    fx,
    fy,
  ]);
  assert.deepEqual([byFg.get(4)!.placement.x, byFg.get(4)!.placement.y], [
    fx,
    fy,
  ]);
  // Moment 9's content sits elsewhere in every bg sample: it disagrees.
  const out = byFg.get(2)!.placement;
  assert.notDeepEqual([out.x, out.y], [fx, fy]);
});

Deno.test("locate: 160×90 fg among 40 bg samples of 480×270 (7 fg samples)", async () => {
  const W = 480, H = 270, margin = 10;
  const scene = texture(W + 2 * margin, H + 2 * margin, 13);
  const r = rng(7);
  const moments: GrayImage[] = [];
  let dx = 0, dy = 0;
  for (let m = 0; m < 40; m++) {
    // A slow pan: consecutive moments a pixel or two apart.
    dx = Math.max(-margin, Math.min(margin, dx + Math.round(r() * 4 - 2)));
    dy = Math.max(-margin, Math.min(margin, dy + Math.round(r() * 4 - 2)));
    moments.push(moment(scene, margin, W, H, dx, dy, 400 + m, 4));
  }
  const bg = moments.map((m, i) => regrade(m, 500 + i));
  const src = [3, 9, 14, 20, 27, 33, 38];
  const [fx, fy] = [211, 97];
  const fg = src.map((m) => crop(moments[m], fx, fy, 160, 90));
  const res = await createTemplate().locate(request(fg, bg));
  assert.deepEqual([res.placement.x, res.placement.y], [fx, fy]);
  assert.deepEqual(res.matches.map((m) => m.bg), src);
  for (const m of res.matches) {
    assert.deepEqual([m.placement.x, m.placement.y], [fx, fy]);
  }
});

Deno.test("locate: all-blank fg throws; scaled search is not there yet", () => {
  const bg = [crop(texture(100, 60, 14), 0, 0, 100, 60)];
  const loc = createTemplate();
  assert.throws(
    () => loc.locate(request([flat(40, 30, 0), flat(40, 30, 128)], bg)),
    (e: unknown) => e instanceof Error && /blank/.test(e.message),
  );
  assert.throws(
    () =>
      loc.locate({
        fg: [crop(bg[0], 10, 10, 40, 30)],
        bg,
        unscaled: false,
        precision: 2,
      }),
    RangeError,
  );
});

// ---------------------------------------------------------------------------
// refine

Deno.test("refine: exact position from a guess 3 px off, on bg windows", async () => {
  const scene = texture(900 + 20, 500 + 20, 15);
  const [fx, fy, fw, fh] = [311, 143, 257, 181];
  const pairs: RefinePair[] = [];
  for (let m = 0; m < 3; m++) {
    const frame = moment(scene, 10, 900, 500, 2 * m - 2, m - 1, 600 + m);
    const bgFrame = regrade(frame, 30 + m);
    // Window: the guessed area plus a margin, as the pipeline would crop it.
    const ox = fx - 9 + m, oy = fy - 7;
    pairs.push({
      fg: crop(frame, fx, fy, fw, fh),
      bg: crop(bgFrame, ox, oy, fw + 16, fh + 14),
      originX: ox,
      originY: oy,
    });
  }
  const loc = createTemplate();
  const p = await loc.refine(pairs, {
    x: fx + 3,
    y: fy - 3,
    scale: 1,
    confidence: 0.5,
  }, 4);
  assert.deepEqual([p.x, p.y, p.scale], [fx, fy, 1]);
  assert.ok(p.confidence > 0.9 && p.confidence <= 1, `${p.confidence}`);
  // Also with a fractional guess and positions near the window edge skipped.
  const q = await loc.refine(pairs, {
    x: fx - 2.6,
    y: fy + 2.2,
    scale: 1,
    confidence: 0,
  }, 6);
  assert.deepEqual([q.x, q.y], [fx, fy]);
});
