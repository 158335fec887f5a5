/**
 * Benchmarks of the `template` locator and its NCC kernels.
 *
 * Run: `deno bench bench/ncc_bench.ts`. Inputs are synthetic textures (blobs,
 * edges, grain) with the fg cut out of the bg, so every run also checks the
 * answer is exact.
 *
 * @module
 */

import type { GrayImage } from "../core/frame.ts";
import { nccMap, prepareTemplate } from "../core/ncc.ts";
import type { LocateRequest, RefinePair } from "../core/types.ts";
import { createTemplate } from "../plugins/locator_template.ts";
import { rng } from "../plugins/_fingerprint_testing.ts";

/** Blobs, rectangles and grain, quantised; `salt` adds moving objects. */
function scene(
  width: number,
  height: number,
  seed: number,
  salt = 0,
): GrayImage {
  const r = rng(seed);
  const f = new Float32Array(width * height).fill(120);
  const blobs = Math.max(12, Math.round(width * height / 12000));
  for (let b = 0; b < blobs; b++) {
    const cx = r() * width, cy = r() * height;
    const s = 4 + r() * Math.min(60, width / 8), amp = (r() - 0.5) * 120;
    const k = -1 / (2 * s * s);
    for (
      let y = Math.max(0, Math.floor(cy - 3 * s));
      y < Math.min(height, cy + 3 * s);
      y++
    ) {
      for (
        let x = Math.max(0, Math.floor(cx - 3 * s));
        x < Math.min(width, cx + 3 * s);
        x++
      ) {
        f[y * width + x] += amp *
          Math.exp(((x - cx) ** 2 + (y - cy) ** 2) * k);
      }
    }
  }
  const rs = rng(salt * 7919 + 1);
  const rects = Math.max(10, Math.round(width * height / 15000));
  for (let i = 0; i < rects + (salt ? 8 : 0); i++) {
    const q = i < rects ? r : rs;
    const w = 3 + Math.floor(q() * 40), h = 3 + Math.floor(q() * 40);
    const x0 = Math.floor(q() * width), y0 = Math.floor(q() * height);
    const v = (q() - 0.5) * 90;
    for (let y = y0; y < Math.min(height, y0 + h); y++) {
      for (let x = x0; x < Math.min(width, x0 + w); x++) f[y * width + x] += v;
    }
  }
  const data = new Uint8Array(width * height);
  for (let i = 0; i < data.length; i++) {
    const v = Math.round(f[i] + (r() - 0.5) * 6);
    data[i] = v < 0 ? 0 : v > 255 ? 255 : v;
  }
  return { width, height, data };
}

function crop(g: GrayImage, x: number, y: number, w: number, h: number) {
  const data = new Uint8Array(w * h);
  for (let j = 0; j < h; j++) {
    const s = (y + j) * g.width + x;
    data.set(g.data.subarray(s, s + w), j * w);
  }
  return { width: w, height: h, data };
}

function req(fg: GrayImage[], bg: GrayImage[]): LocateRequest {
  return { fg, bg, unscaled: true, precision: 2 };
}

function expect(x: number, y: number, ex: number, ey: number): void {
  if (x !== ex || y !== ey) {
    throw new Error(`wrong answer (${x}, ${y}), expected (${ex}, ${ey})`);
  }
}

const locator = createTemplate();

// Full HD: a 1920×870 band and a 640×360 crop, one fg and one bg sample.
const hd = scene(1920, 1080, 1);
const band = crop(hd, 0, 137, 1920, 870);
const small = crop(hd, 901, 433, 640, 360);

Deno.bench("locate 1920×870 fg in 1920×1080 bg (1×1 samples)", {
  group: "locate-hd",
}, async () => {
  const r = await locator.locate(req([band], [hd]));
  expect(r.placement.x, r.placement.y, 0, 137);
});

Deno.bench("locate 640×360 fg in 1920×1080 bg (1×1 samples)", {
  group: "locate-hd",
}, async () => {
  const r = await locator.locate(req([small], [hd]));
  expect(r.placement.x, r.placement.y, 901, 433);
});

// Refinement at full resolution: ±4 px on 3 same-moment pairs whose bg
// windows are the fg's area plus a margin.
const refinePairs: RefinePair[] = [0, 1, 2].map((m) => {
  const frame = m === 0 ? hd : scene(1920, 1080, 1, m);
  return {
    fg: crop(frame, 0, 137, 1920, 870),
    bg: crop(frame, 0, 129, 1920, 886),
    originX: 0,
    originY: 129,
  };
});

Deno.bench("refine ±4 px, 1920×870 fg, 3 pairs", {
  group: "refine-hd",
}, async () => {
  const p = await locator.refine(
    refinePairs,
    { x: 0, y: 140, scale: 1, confidence: 0 },
    4,
  );
  expect(p.x, p.y, 0, 137);
});

const smallPairs: RefinePair[] = [0, 1, 2].map((m) => {
  const frame = m === 0 ? hd : scene(1920, 1080, 1, m);
  return {
    fg: crop(frame, 901, 433, 640, 360),
    bg: crop(frame, 893, 425, 656, 376),
    originX: 893,
    originY: 425,
  };
});

Deno.bench("refine ±4 px, 640×360 fg, 3 pairs", {
  group: "refine-hd",
}, async () => {
  const p = await locator.refine(
    smallPairs,
    { x: 898, y: 436, scale: 1, confidence: 0 },
    4,
  );
  expect(p.x, p.y, 901, 433);
});

// The analysis-scale case the pipeline targets: 7 fg samples, 40 bg samples
// of 480×270 (different moments with moving objects).
const moments = Array.from({ length: 40 }, (_, m) => scene(480, 270, 2, m + 1));
const fgIdx = [3, 9, 14, 20, 27, 33, 38];

Deno.bench("locate 480×218 fg, 7 fg × 40 bg samples of 480×270", {
  group: "locate-sd",
}, async () => {
  const fg = fgIdx.map((m) => crop(moments[m], 0, 29, 480, 218));
  const r = await locator.locate(req(fg, moments));
  expect(r.placement.x, r.placement.y, 0, 29);
});

Deno.bench("locate 160×90 fg, 7 fg × 40 bg samples of 480×270", {
  group: "locate-sd",
}, async () => {
  const fg = fgIdx.map((m) => crop(moments[m], 211, 97, 160, 90));
  const r = await locator.locate(req(fg, moments));
  expect(r.placement.x, r.placement.y, 211, 97);
});

// Raw kernel throughput: an exhaustive 120×54 search in 480×270.
const kernelImage = moments[0];
const kernelTemplate = prepareTemplate(crop(kernelImage, 100, 50, 120, 54));
Deno.bench("nccMap exhaustive 120×54 in 480×270 (78k positions)", {
  group: "kernel",
}, () => {
  const p = nccMap(kernelImage, kernelTemplate, 0, 0, 360, 216);
  expect(p.x, p.y, 100, 50);
});
