/**
 * Time per frame pair of the `template` locator at each precision level.
 *
 * Run: `deno bench --allow-all bench/locate_bench.ts`. The images are made
 * here (a busy procedural texture; the fg is a band of it, or the whole of
 * another texture pasted as a scaled thumbnail over a blurred fill), and
 * every iteration checks the answer against the truth, so a fast wrong
 * answer fails the bench instead of looking good.
 *
 * Bars (issue #3): level 2 ≤ 100 ms for a 1920×870 fg in a 1920×1080 bg
 * (unscaled), and a scaled search in a 1280×720 bg ≤ 500 ms.
 *
 * @module
 */

import { crop, texture } from "./_texture.ts";
import { type GrayImage, resizeArea } from "../core/frame.ts";
import type { LocateRequest, Placement } from "../core/types.ts";
import { createTemplate } from "../plugins/locator_template.ts";

/** A soft fill: the image area-shrunk 16× and stretched back. */
function blurredFill(g: GrayImage, width: number, height: number): GrayImage {
  const small = resizeArea(
    { ...g, channels: 1 },
    Math.max(1, width >> 4),
    Math.max(1, height >> 4),
  );
  const out = new Uint8Array(width * height);
  const sw = small.width, sh = small.height;
  for (let y = 0; y < height; y++) {
    const fy = Math.min(sh - 1.001, Math.max(0, (y + 0.5) * sh / height - 0.5));
    const y0 = Math.floor(fy), ty = fy - y0;
    for (let x = 0; x < width; x++) {
      const fx = Math.min(
        sw - 1.001,
        Math.max(0, (x + 0.5) * sw / width - 0.5),
      );
      const x0 = Math.floor(fx), tx = fx - x0;
      const p = y0 * sw + x0;
      const top = small.data[p] * (1 - tx) + small.data[p + 1] * tx;
      const bottom = small.data[p + sw] * (1 - tx) +
        small.data[p + sw + 1] * tx;
      out[y * width + x] = Math.round(top * (1 - ty) + bottom * ty);
    }
  }
  return { width, height, data: out };
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

function check(p: Placement, x: number, y: number, scale: number): void {
  if (
    Math.abs(p.x - x) > 1 || Math.abs(p.y - y) > 1 ||
    Math.abs(p.scale - scale) > 0.005
  ) {
    throw new Error(
      `wrong answer (${p.x}, ${p.y}) × ${p.scale}, expected (${x}, ${y}) × ${scale}`,
    );
  }
}

const locator = createTemplate();

// Unscaled, 1080p: a 1920×870 band at an odd row, one fg and one bg sample.
const hd = texture(1920, 1080, 1);
const band = crop(hd, 0, 137, 1920, 870);
// Level 0 and 1 stop at a coarser level: their answer is checked loosely.
const slack = [16, 4, 1, 1, 1];
for (let level = 0; level <= 4; level++) {
  const request: LocateRequest = {
    fg: [band],
    bg: [hd],
    unscaled: true,
    precision: level,
  };
  Deno.bench(`level ${level}: 1920×870 fg in 1920×1080 bg, unscaled`, {
    group: "unscaled-1080p",
    baseline: level === 2,
    n: 12,
    warmup: 3,
  }, async () => {
    const p = (await locator.locate(request)).placement;
    if (Math.abs(p.x) > slack[level] || Math.abs(p.y - 137) > slack[level]) {
      throw new Error(`level ${level}: (${p.x}, ${p.y}), expected (0, 137)`);
    }
  });
}

// Scaled, 720p: a 1280×720 frame as a 61.3% thumbnail (785×441) at an odd
// position over a blurred fill of the bg.
const source = texture(1280, 720, 2);
const scale = 0.613;
const thumb = resizeArea(
  { ...source, channels: 1 },
  Math.round(1280 * scale),
  Math.round(720 * scale),
);
const pip = paste(
  blurredFill(texture(1280, 720, 3), 1280, 720),
  thumb,
  311,
  157,
);
for (let level = 0; level <= 4; level++) {
  const request: LocateRequest = {
    fg: [source],
    bg: [pip],
    unscaled: false,
    precision: level,
  };
  Deno.bench(
    `level ${level}: 1280×720 fg at 61.3% in 1280×720 bg, scaled search`,
    {
      group: "scaled-720p",
      baseline: level === 2,
      n: 6,
      warmup: 2,
    },
    async () => {
      const p = (await locator.locate(request)).placement;
      if (level >= 2) check(p, 311, 157, scale);
      else if (Math.abs(p.scale - scale) > 0.08 * scale) {
        throw new Error(`level ${level}: scale ${p.scale}, expected ${scale}`);
      }
    },
  );
}

// Scaled refinement at full resolution: ±4 px and ±1% of scale around a
// guess, one same-moment pair (a 1920×1080 fg at 50% in a 1920×1080 bg).
const bigSource = texture(1920, 1080, 4);
const half = resizeArea({ ...bigSource, channels: 1 }, 960, 540);
const bigPip = paste(
  blurredFill(texture(1920, 1080, 5), 1920, 1080),
  half,
  481,
  263,
);
Deno.bench("refine 1920×1080 fg at 50% (guess 50.4%, 3 px off), 1 pair", {
  group: "refine-scaled",
  n: 6,
  warmup: 2,
}, async () => {
  const p = await locator.refine(
    [{
      fg: bigSource,
      bg: crop(bigPip, 461, 243, 1000, 580),
      originX: 461,
      originY: 243,
    }],
    { x: 484, y: 260, scale: 0.504, confidence: 0 },
    4,
  );
  check(p, 481, 263, 0.5);
});
