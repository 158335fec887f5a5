/**
 * `ssim`: a small gray frame compared by structural similarity. The frame
 * is shrunk to a gray thumbnail (32×32 by default) and two frames are
 * compared by SSIM (Gaussian window, standard constants); the distance is
 * 1 − SSIM with negative SSIM (anti-correlated pictures) clamped, so it lies
 * in [0, 1] like every other fingerprint: 0 for identical frames, near 1 for
 * unrelated ones. (The original's classic matcher compared an unnormalised
 * score against 0.5 and kept no matches at all.)
 *
 * Unlike `thumb` (one global correlation), SSIM judges every local window
 * on its own, luminance included: it is the feature the `classic` aligner is
 * designed for, and it stays meaningful on flat frames (two black frames are
 * identical, black and white are not) without special cases.
 *
 * Storage (Float32Array, `size² + 2·valid` elements per frame, ≈ 8 KB at
 * 32×32): the pixels, then the frame's own local means and local means of
 * squares over the valid window positions (`valid = (size − 2r)²`). Those
 * depend only on the frame, so they are computed once, in the fingerprint
 * workers; a distance then filters only the cross product, about a third of
 * the work of a full SSIM.
 *
 * @module
 */

import type { Frame, FrameFormat } from "../core/frame.ts";
import { sameFormat } from "../core/frame.ts";
import { featureTable } from "../core/feature_table.ts";
import {
  compareSsim,
  packSsim,
  ssimDefaults,
  ssimLayout,
  type SsimWindow,
} from "../core/ssim.ts";
import type {
  FeatureArray,
  Fingerprinter,
  PluginDefinition,
} from "../core/types.ts";

/** Options of the `ssim` fingerprinter. */
export interface SsimFingerprintOptions {
  /** Width of the gray thumbnail, 8..128. */
  width: number;
  /** Height of the gray thumbnail, 8..128. */
  height: number;
  /** SSIM window shape. */
  window: SsimWindow;
  /** Window radius (the window is `2·radius + 1` pixels wide). */
  radius: number;
  /** Gaussian σ of the window in thumbnail pixels. */
  sigma: number;
}

/**
 * Default `ssim` options. 32×32 with the standard 11×11 window: measured on
 * the standard fixtures, a larger frame or a smaller window did not align
 * more frames exactly, and cost more per distance.
 */
export const ssimFingerprintDefaults: Readonly<SsimFingerprintOptions> = Object
  .freeze({
    width: 48,
    height: 27,
    window: ssimDefaults.window,
    radius: 3,
    sigma: 1,
  });

/** Creates an `ssim` fingerprinter; see {@link SsimFingerprintOptions}. */
export function createSsimFingerprint(
  options: Partial<SsimFingerprintOptions> = {},
): Fingerprinter {
  const o: SsimFingerprintOptions = { ...ssimFingerprintDefaults };
  for (const key of ["width", "height", "radius", "sigma"] as const) {
    const v = options[key];
    if (v !== undefined) o[key] = v;
  }
  if (options.window !== undefined) o.window = options.window;
  for (const side of [o.width, o.height]) {
    if (!Number.isInteger(side) || side < 8 || side > 128) {
      throw new RangeError(
        `ssim fingerprint sides must be integers in 8..128: ${o.width}×${o.height}`,
      );
    }
  }
  const layout = ssimLayout(o.width, o.height, {
    window: o.window,
    radius: o.radius,
    sigma: o.sigma,
  });
  const input: FrameFormat = {
    width: o.width,
    height: o.height,
    channels: 1,
  };
  const length = layout.length;

  function compute(frame: Frame, table: FeatureArray, index: number): void {
    if (!sameFormat(frame, input)) {
      throw new RangeError(
        `ssim wants ${o.width}×${o.height} gray, got ${frame.width}×${frame.height}×${frame.channels}`,
      );
    }
    packSsim(layout, frame, table as Float32Array, index * length);
  }

  function distance(
    a: FeatureArray,
    i: number,
    b: FeatureArray,
    j: number,
  ): number {
    const s = compareSsim(
      layout,
      a as Float32Array,
      i * length,
      b as Float32Array,
      j * length,
    ).ssim;
    const d = 1 - s;
    return d <= 0 ? 0 : d >= 1 ? 1 : d;
  }

  return {
    name: "ssim",
    input,
    featureLength: length,
    coarse: false,
    createTable: (count: number) => featureTable(Float32Array, count, length),
    compute,
    distance,
  };
}

/** Registry entry of `ssim`. */
export const plugin: PluginDefinition<"fingerprinter"> = {
  kind: "fingerprinter",
  name: "ssim",
  description:
    "gray thumbnail compared by SSIM, distance 1 − SSIM (the classic aligner's feature)",
  create: (o) => createSsimFingerprint(o as Partial<SsimFingerprintOptions>),
};
