/**
 * Benchmarks of the `template` locator and its NCC kernels.
 *
 * Run: `deno bench bench/ncc_bench.ts`. Inputs are synthetic textures (blobs,
 * edges, grain) with the fg cut out of the bg, so every run also checks the
 * answer is exact.
 *
 * @module
 */

import { crop, texture } from "./_texture.ts";
import type { GrayImage } from "../core/frame.ts";
import { nccMap, prepareTemplate } from "../core/ncc.ts";
import type { LocateRequest, RefinePair } from "../core/types.ts";
import { createTemplate } from "../plugins/locator_template.ts";

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
const hd = texture(1920, 1080, 1);
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
  const frame = m === 0 ? hd : texture(1920, 1080, 1, m);
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
  const frame = m === 0 ? hd : texture(1920, 1080, 1, m);
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
const moments = Array.from(
  { length: 40 },
  (_, m) => texture(480, 270, 2, m + 1),
);
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
