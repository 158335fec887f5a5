import assert from "node:assert/strict";
import { type GrayImage, resizeArea } from "../core/frame.ts";
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

Deno.test("locate: all-blank fg throws, scaled or not; a fg too big for any scale throws", async () => {
  const bg = [crop(texture(100, 60, 14), 0, 0, 100, 60)];
  const loc = createTemplate();
  for (const unscaled of [true, false]) {
    await assert.rejects(
      async () =>
        await loc.locate({
          fg: [flat(40, 30, 0), flat(40, 30, 128)],
          bg,
          unscaled,
          precision: 2,
        }),
      (e: unknown) => e instanceof Error && /blank/.test(e.message),
    );
  }
  // 1200 px wide at 10% is still wider than the 100 px bg.
  const huge = crop(texture(1200, 200, 15), 0, 0, 1200, 200);
  await assert.rejects(
    async () =>
      await loc.locate({ fg: [huge], bg, unscaled: false, precision: 2 }),
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

// ---------------------------------------------------------------------------
// Scaled search, precision levels: ground truth

function resized(g: GrayImage, w: number, h: number): GrayImage {
  return {
    width: w,
    height: h,
    data: resizeArea({ ...g, channels: 1 }, w, h).data,
  };
}

/** Three box-blur passes (close to a Gaussian of σ ≈ radius): a soft fill. */
function blur(g: GrayImage, radius: number): GrayImage {
  const { width: w, height: h } = g;
  let cur = Float32Array.from(g.data);
  for (let pass = 0; pass < 3; pass++) {
    for (const horizontal of [true, false]) {
      const next = new Float32Array(w * h);
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          let sum = 0, n = 0;
          for (let d = -radius; d <= radius; d++) {
            const xx = horizontal ? x + d : x, yy = horizontal ? y : y + d;
            if (xx < 0 || yy < 0 || xx >= w || yy >= h) continue;
            sum += cur[yy * w + xx];
            n++;
          }
          next[y * w + x] = sum / n;
        }
      }
      cur = next;
    }
  }
  return { width: w, height: h, data: Uint8Array.from(cur, Math.round) };
}

function paste(bg: GrayImage, fg: GrayImage, x: number, y: number): GrayImage {
  const data = bg.data.slice();
  for (let j = 0; j < fg.height; j++) {
    data.set(
      fg.data.subarray(j * fg.width, (j + 1) * fg.width),
      (y + j) * bg.width + x,
    );
  }
  return { width: bg.width, height: bg.height, data };
}

/** gain·255·(v/255)^gamma + offset ± uniform noise, clamped. */
function regradeGamma(
  g: GrayImage,
  gain: number,
  offset: number,
  gamma: number,
  noise: number,
  seed: number,
): GrayImage {
  const r = rng(seed);
  const data = g.data.map((v) => {
    const u = gain * 255 * (v / 255) ** gamma + offset +
      (r() * 2 - 1) * noise;
    return u < 0 ? 0 : u > 255 ? 255 : Math.round(u);
  });
  return { width: g.width, height: g.height, data };
}

/** A thumbnail of `fg` at `scale`, at (x, y), over a blurred fill of itself. */
interface Thumbnail {
  fg: GrayImage;
  bg: GrayImage;
  x: number;
  y: number;
  scale: number;
  width: number;
  height: number;
}

/**
 * The fg (a busy 320×180 texture) area-resampled to round(320·s) ×
 * round(180·s), pasted at an odd position of a 480×270 bg whose rest is the
 * fg stretched and blurred (the usual fill behind a picture-in-picture).
 */
function thumbnail(scale: number, seed: number, fg?: GrayImage): Thumbnail {
  const src = fg ?? crop(texture(320, 180, seed), 0, 0, 320, 180);
  const width = Math.round(src.width * scale);
  const height = Math.round(src.height * scale);
  const x = Math.floor((480 - width) * 0.37) | 1;
  const y = Math.floor((270 - height) * 0.61) | 1;
  const fill = blur(resized(src, 480, 270), 6);
  const bg = paste(fill, resized(src, width, height), x, y);
  return { fg: src, bg, x, y, scale, width, height };
}

const SCALES = [0.25, 0.37, 0.5, 0.613, 0.8, 0.95];

function scaledRequest(fg: GrayImage[], bg: GrayImage[], precision: number) {
  return { fg, bg, unscaled: false, precision };
}

Deno.test("locate scaled: thumbnails at six fractional scales, levels 2-4 within 1 px and 0.5%", async () => {
  const loc = createTemplate();
  for (const [i, s] of SCALES.entries()) {
    const t = thumbnail(s, 40 + i);
    for (const precision of [2, 3, 4]) {
      const p = (await loc.locate(scaledRequest([t.fg], [t.bg], precision)))
        .placement;
      const what = `s=${s} level ${precision}: ${
        JSON.stringify(p)
      } vs (${t.x}, ${t.y})`;
      assert.ok(Math.abs(p.x - t.x) <= 1 && Math.abs(p.y - t.y) <= 1, what);
      assert.ok(Math.abs(p.scale - s) <= 0.005, what);
      // The fg was pasted as the very size the scale gives: NCC 1.
      assert.ok(p.confidence > 0.99, what);
      assert.equal(
        Number.isInteger(p.x) && Number.isInteger(p.y),
        precision < 4,
        what,
      );
      // Sub-pixel answers stay near the whole-pixel truth.
      if (precision === 4) {
        assert.ok(Math.abs(p.x - t.x) < 0.3 && Math.abs(p.y - t.y) < 0.3, what);
      }
    }
  }
});

Deno.test("locate scaled: the sweep split over worker threads gives the same answer", async () => {
  // Several fg and bg samples, so the sweep has many slices.
  const ts = [0, 1, 2].map((k) => thumbnail(SCALES[2], 60 + k));
  const request = scaledRequest(ts.map((t) => t.fg), ts.map((t) => t.bg), 2);
  const here = await createTemplate({ workers: 1 }).locate(request);
  const threads = await createTemplate({ workers: 2, parallelSweep: 0 })
    .locate(request);
  assert.deepEqual(threads.placement, here.placement);
  assert.deepEqual(threads.matches, here.matches);
});

Deno.test("locate scaled: level 0 is a ballpark, level 1 close", async () => {
  // Level 0 answers from the coarsest level alone with a 10% scale grid: the
  // scale is within 10% and the fg's centre within a tenth of its width (its
  // top-left moves with any scale error). Level 1 stops at half resolution:
  // ±1 px there is ±2 px here, and one size step there is 2/320 of scale.
  const loc = createTemplate();
  for (const [i, s] of SCALES.entries()) {
    const t = thumbnail(s, 40 + i);
    const p0 = (await loc.locate(scaledRequest([t.fg], [t.bg], 0))).placement;
    const what0 = `s=${s} level 0: ${JSON.stringify(p0)} vs (${t.x}, ${t.y})`;
    assert.ok(Math.abs(p0.scale - s) <= 0.1 * s, what0);
    const cx = p0.x + 160 * p0.scale, cy = p0.y + 90 * p0.scale;
    const near = Math.max(8, 0.1 * t.width);
    assert.ok(Math.abs(cx - (t.x + 160 * s)) <= near, what0);
    assert.ok(Math.abs(cy - (t.y + 90 * s)) <= near, what0);
    const p1 = (await loc.locate(scaledRequest([t.fg], [t.bg], 1))).placement;
    const what1 = `s=${s} level 1: ${JSON.stringify(p1)} vs (${t.x}, ${t.y})`;
    assert.ok(Math.abs(p1.x - t.x) <= 2 && Math.abs(p1.y - t.y) <= 2, what1);
    assert.ok(Math.abs(p1.scale - s) <= 0.01, what1);
  }
});

Deno.test("locate scaled: one confidence measure at every level", async () => {
  const loc = createTemplate();
  const t = thumbnail(0.45, 50);
  const confidence: number[] = [];
  for (let precision = 0; precision <= 4; precision++) {
    const p = (await loc.locate(scaledRequest([t.fg], [t.bg], precision)))
      .placement;
    // Recomputed independently: the fg resized to the reported scale, NCC
    // against the bg under the reported (rounded) top-left.
    const w = Math.round(320 * p.scale), h = Math.round(180 * p.scale);
    const expected = nccAt(
      t.bg,
      resized(t.fg, w, h),
      Math.round(p.x),
      Math.round(p.y),
    );
    assert.ok(
      Math.abs(p.confidence - Math.max(0, expected)) < 1e-6,
      `level ${precision}`,
    );
    confidence.push(p.confidence);
  }
  // A rough answer is measured the same way, so it can only score lower.
  assert.ok(confidence[0] < confidence[2], confidence.join(", "));
  assert.ok(confidence[1] <= confidence[2], confidence.join(", "));
});

Deno.test("locate scaled: regraded (gain, offset, gamma) and noisy bg", async () => {
  const loc = createTemplate();
  const grades: [number, number, number, number][] = [
    [1.1, -10, 0.8, 6],
    [0.8, 30, 1.25, 4],
  ];
  for (const [i, s] of [0.37, 0.8].entries()) {
    const t = thumbnail(s, 60 + i);
    const bg = regradeGamma(t.bg, ...grades[i], 70 + i);
    for (const precision of [2, 3, 4]) {
      const p = (await loc.locate(scaledRequest([t.fg], [bg], precision)))
        .placement;
      const what = `s=${s} level ${precision}: ${
        JSON.stringify(p)
      } vs (${t.x}, ${t.y})`;
      assert.ok(Math.abs(p.x - t.x) <= 1 && Math.abs(p.y - t.y) <= 1, what);
      assert.ok(Math.abs(p.scale - s) <= 0.005, what);
      assert.ok(p.confidence > 0.9, what);
    }
  }
});

Deno.test("locate scaled: crops at odd offsets of a noisy bg are found at 100%", async () => {
  const loc = createTemplate();
  const frame = crop(texture(480, 270, 80), 0, 0, 480, 270);
  const bg = regrade(frame, 81);
  for (const [x, y, w, h] of [[101, 57, 313, 177], [37, 141, 201, 97]]) {
    for (const precision of [2, 3, 4]) {
      const p = (await loc.locate(
        scaledRequest([crop(frame, x, y, w, h)], [bg], precision),
      )).placement;
      const what = `${w}×${h} at (${x}, ${y}) level ${precision}: ${
        JSON.stringify(p)
      }`;
      assert.ok(Math.abs(p.x - x) <= 1 && Math.abs(p.y - y) <= 1, what);
      assert.ok(Math.abs(p.scale - 1) <= 0.005, what);
    }
  }
});

Deno.test("locate: fg identical to bg is (0, 0, 1), scaled or not, at every level", async () => {
  const loc = createTemplate();
  const g = crop(texture(480, 270, 90), 0, 0, 480, 270);
  for (const unscaled of [true, false]) {
    for (let precision = 0; precision <= 4; precision++) {
      const p = (await loc.locate({ fg: [g], bg: [g], unscaled, precision }))
        .placement;
      const what = `unscaled=${unscaled} level ${precision}: ${
        JSON.stringify(p)
      }`;
      if (!unscaled && precision === 0) {
        // The ballpark's scale grid steps 10% at a time.
        assert.ok(p.scale >= 0.9, what);
        continue;
      }
      assert.deepEqual([p.x, p.y, p.scale], [0, 0, 1], what);
      assert.ok(p.confidence > 0.999, what);
    }
  }
});

Deno.test("locate: a fg that is not in the bg gets a low confidence", async () => {
  // Measured here (three seeds): unscaled 0.00 / 0.40 / 0.12. The scaled
  // search tries tens of thousands of (scale, position) pairs down to 10%,
  // where this fg is a 32×18 template of smooth blobs, and finds chance
  // matches of 0.73 / 0.82 / 0.84 in the blurred fill (at ≈14% scale). So
  // the scaled confidence separates "not there" from a true match (> 0.99
  // here, > 0.9 regraded and noisy) but is not near 0: callers that must
  // reject should require ≳ 0.9.
  const loc = createTemplate();
  const seen: string[] = [];
  for (let k = 0; k < 3; k++) {
    const fg = crop(texture(320, 180, 100 + k), 0, 0, 320, 180);
    const bg = thumbnail(0.5, 110 + k).bg;
    const unscaled = (await loc.locate(request([fg], [bg]))).placement;
    const scaled = (await loc.locate(scaledRequest([fg], [bg], 2))).placement;
    seen.push(
      `${unscaled.confidence.toFixed(3)}/${scaled.confidence.toFixed(3)}`,
    );
    assert.ok(unscaled.confidence < 0.5, seen.join(" "));
    assert.ok(scaled.confidence < 0.85, seen.join(" "));
    // The same bg with this fg really in it scores far higher.
    const there = thumbnail(0.5, 0, fg);
    const real = (await loc.locate(scaledRequest([fg], [there.bg], 2)))
      .placement;
    assert.ok(real.confidence > 0.99, `${real.confidence}`);
  }
});

Deno.test("locate scaled: 4 fg moments × 6 bg moments, every sample finds its moment", async () => {
  const W = 320, H = 180, margin = 8;
  const canvas = texture(W + 2 * margin, H + 2 * margin, 120);
  const s = 0.45;
  const moments = Array.from(
    { length: 6 },
    (_, m) => moment(canvas, margin, W, H, 0, 0, 130 + m),
  );
  const scenes = moments.map((f) => thumbnail(s, 0, f));
  const bg = scenes.map((t, m) => regrade(t.bg, 140 + m));
  const src = [1, 3, 4, 5];
  const res = await createTemplate().locate(
    scaledRequest(src.map((m) => moments[m]), bg, 2),
  );
  const t = scenes[0];
  const p = res.placement;
  const what = JSON.stringify(p);
  assert.ok(Math.abs(p.x - t.x) <= 1 && Math.abs(p.y - t.y) <= 1, what);
  assert.ok(Math.abs(p.scale - s) <= 0.005, what);
  assert.deepEqual(res.matches.map((m) => m.bg), src);
});

Deno.test("locate scaled: a fg larger than the bg is found as a thumbnail", async () => {
  const big = crop(texture(640, 360, 150), 0, 0, 640, 360);
  const width = Math.round(640 * 0.3), height = Math.round(360 * 0.3);
  const bg = paste(
    blur(resized(big, 480, 270), 6),
    resized(big, width, height),
    203,
    99,
  );
  for (const precision of [2, 4]) {
    const p =
      (await createTemplate().locate(scaledRequest([big], [bg], precision)))
        .placement;
    const what = JSON.stringify(p);
    assert.ok(Math.abs(p.x - 203) <= 1 && Math.abs(p.y - 99) <= 1, what);
    assert.ok(Math.abs(p.scale - 0.3) <= 0.005, what);
  }
});

Deno.test("locate: level 4 finds a half-pixel position; level 2 a neighbouring pixel", async () => {
  // The bg is a 2× canvas area-halved; the fg is the canvas shifted by one
  // full-size pixel and halved: its truth is (x + 0.5, y + 0.5).
  const canvas = crop(texture(960, 540, 160), 0, 0, 960, 540);
  const bg = downscale2(canvas);
  const [x, y] = [100, 60];
  const fg = downscale2(crop(canvas, 2 * x + 1, 2 * y + 1, 400, 240));
  const loc = createTemplate();
  const p4 =
    (await loc.locate({ fg: [fg], bg: [bg], unscaled: true, precision: 4 }))
      .placement;
  assert.ok(Math.abs(p4.x - (x + 0.5)) < 0.2, `${p4.x}`);
  assert.ok(Math.abs(p4.y - (y + 0.5)) < 0.2, `${p4.y}`);
  const p2 =
    (await loc.locate({ fg: [fg], bg: [bg], unscaled: true, precision: 2 }))
      .placement;
  assert.ok(
    [x, x + 1].includes(p2.x) && [y, y + 1].includes(p2.y),
    JSON.stringify(p2),
  );
  // A scaled search may trade the half pixel for a template a pixel or two
  // smaller (nothing here is an exact resize): it must still meet the bar.
  const s4 = (await loc.locate(scaledRequest([fg], [bg], 4))).placement;
  assert.ok(
    Math.abs(s4.x - (x + 0.5)) <= 1 && Math.abs(s4.y - (y + 0.5)) <= 1,
    JSON.stringify(s4),
  );
  assert.ok(Math.abs(s4.scale - 1) <= 0.005, JSON.stringify(s4));
});

Deno.test("locate scaled: a thumbnail half a pixel off still meets the bar", async () => {
  // Built at twice the size with the thumbnail at odd coordinates, then
  // area-halved: a 320×180 fg at exactly 50% (160×90) at (x + ½, y + ½).
  // Whole-pixel NCC prefers a template one pixel smaller here (its
  // misalignment shrinks towards the centre), so the scale comes out ≈ 0.4%
  // low and the top-left ≈ ½ px right: inside the bar, not exact.
  const fg = crop(texture(320, 180, 165), 0, 0, 320, 180);
  const [x, y] = [141, 83];
  const big = paste(blur(resized(fg, 960, 540), 12), fg, 2 * x + 1, 2 * y + 1);
  const bg = downscale2(big);
  const loc = createTemplate();
  for (const precision of [2, 3, 4]) {
    const p = (await loc.locate(scaledRequest([fg], [bg], precision)))
      .placement;
    const what = `level ${precision}: ${JSON.stringify(p)}`;
    assert.ok(Math.abs(p.scale - 0.5) <= 0.005, what);
    assert.ok(Math.abs(p.x - (x + 0.5)) <= 1, what);
    assert.ok(Math.abs(p.y - (y + 0.5)) <= 1, what);
  }
});

Deno.test("refine scaled: exact position and scale from a guess 3 px and 0.4% off", async () => {
  // Full resolution: a 960×540 fg at 61.3% (588×331) in a 960×540 bg.
  const fgFrame = crop(texture(960, 540, 170), 0, 0, 960, 540);
  const s = 0.613, w = Math.round(960 * s), h = Math.round(540 * s);
  const [fx, fy] = [211, 97];
  const frame = paste(
    blur(resized(fgFrame, 960, 540), 8),
    resized(fgFrame, w, h),
    fx,
    fy,
  );
  const bgFrame = regradeGamma(frame, 1.05, 5, 0.9, 3, 171);
  const ox = fx - 13, oy = fy - 9;
  const pairs: RefinePair[] = [{
    fg: fgFrame,
    bg: crop(bgFrame, ox, oy, w + 26, h + 20),
    originX: ox,
    originY: oy,
  }];
  const guess = { x: fx + 3, y: fy - 3, scale: 0.609, confidence: 0.5 };
  const p = await createTemplate().refine(pairs, guess, 5);
  assert.deepEqual([p.x, p.y], [fx, fy], JSON.stringify(p));
  assert.ok(Math.abs(p.scale - s) <= 0.002, JSON.stringify(p));
  assert.ok(p.confidence > 0.9, JSON.stringify(p));
  // refinePrecision 4 (the pipeline's level 4): fractional, still at the truth.
  const q = await createTemplate({ refinePrecision: 4 }).refine(
    pairs,
    guess,
    5,
  );
  assert.ok(
    Math.abs(q.x - fx) < 0.3 && Math.abs(q.y - fy) < 0.3,
    JSON.stringify(q),
  );
  assert.equal(q.scale, p.scale);
});

Deno.test("refine: refinePrecision 4 resolves a half-pixel position at 100%", async () => {
  const canvas = crop(texture(1000, 600, 180), 0, 0, 1000, 600);
  const frame = downscale2(canvas);
  const [x, y] = [150, 70];
  const fg = downscale2(crop(canvas, 2 * x + 1, 2 * y, 360, 200));
  const pairs: RefinePair[] = [{
    fg,
    bg: crop(frame, x - 6, y - 6, 192, 112),
    originX: x - 6,
    originY: y - 6,
  }];
  const guess = { x: x + 2, y: y - 1, scale: 1, confidence: 0 };
  const whole = await createTemplate().refine(pairs, guess, 4);
  assert.ok(
    [x, x + 1].includes(whole.x) && whole.y === y,
    JSON.stringify(whole),
  );
  const fine = await createTemplate({ refinePrecision: 4 }).refine(
    pairs,
    guess,
    4,
  );
  assert.ok(Math.abs(fine.x - (x + 0.5)) < 0.2, JSON.stringify(fine));
  assert.ok(Math.abs(fine.y - y) < 0.2, JSON.stringify(fine));
  // Level 3 adds the phase correlation check, which agrees here.
  const checked = await createTemplate({ refinePrecision: 3 }).refine(
    pairs,
    guess,
    4,
  );
  assert.deepEqual([checked.x, checked.y], [whole.x, whole.y]);
});
