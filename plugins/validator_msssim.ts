/**
 * `msssim`: checks matched frame pairs on real pixels with multi-scale SSIM
 * (SPEC4 §3.3), coarse to fine with early rejection.
 *
 * Each pair (the fg frame and the bg region under the placement, resized to
 * the fg's size, gray) is compared at the coarsest pyramid level first; a
 * pair whose SSIM there is below that level's threshold is rejected at once
 * and its finer levels are never computed (wrong pairs are cheap); a pair
 * that passes goes on to the next finer level with a stricter threshold.
 * The confidence is the weighted geometric mean of the levels computed (the
 * full SSIM at the coarsest, contrast-structure at the finer ones), in
 * [0, 1]; a rejected pair's confidence never exceeds the SSIM that
 * rejected it.
 *
 * Unlike the original's "confidence" (agreement of two matching passes),
 * this is the visual similarity of the matched pixels.
 *
 * @module
 */

import { msSsim, ssimDefaults } from "../core/ssim.ts";
import type {
  PluginDefinition,
  ValidatePair,
  Validator,
} from "../core/types.ts";

/** Options of the `msssim` validator. */
export interface MsssimOptions {
  /**
   * Exponent of each scale, finest first (its length is the number of
   * scales; fewer are used when frames are too small to halve). Equal
   * weights rather than Wang's (which give the finest scale 4.5%): a match
   * a frame or a few pixels off shows mostly at the finest scales, and that
   * is what a validator must see.
   */
  weights: number[];
  /**
   * Early-rejection SSIM thresholds, coarsest scale first, increasing
   * strictness (the seed's). Measured on the standard fixtures (re-encoded,
   * one regraded and noised): right pairs score ≥ 0.9 at every scale,
   * unrelated pictures ≤ 0.2 at the coarsest and ≤ 0.5 at the finest.
   */
  thresholds: number[];
  /** SSIM window radius at every scale. */
  radius: number;
  /** Gaussian σ of the window. */
  sigma: number;
}

/** Defaults of {@link MsssimOptions}. */
export const msssimDefaults: Readonly<MsssimOptions> = Object.freeze({
  weights: [0.25, 0.25, 0.25, 0.25],
  thresholds: [0.5, 0.6, 0.7, 0.8],
  radius: ssimDefaults.radius,
  sigma: ssimDefaults.sigma,
});

/** What the validator found for one pair (for tests and diagnostics). */
export interface PairVerdict {
  /** Confidence in [0, 1]. */
  readonly confidence: number;
  /** SSIM per scale computed, coarsest first. */
  readonly scales: readonly number[];
  /** Index (coarsest first) of the rejecting scale, or −1. */
  readonly rejectedAt: number;
}

/** An `msssim` validator with a per-pair diagnostic. */
export interface MsssimValidator extends Validator {
  /** Validates one pair and says how far it got. */
  judge(pair: ValidatePair): PairVerdict;
}

/** Creates an `msssim` validator; see {@link MsssimOptions}. */
export function createMsssim(
  options: Partial<MsssimOptions> = {},
): MsssimValidator {
  const o: MsssimOptions = {
    ...msssimDefaults,
    weights: [...msssimDefaults.weights],
    thresholds: [...msssimDefaults.thresholds],
  };
  if (Array.isArray(options.weights)) o.weights = [...options.weights];
  if (Array.isArray(options.thresholds)) o.thresholds = [...options.thresholds];
  for (const key of ["radius", "sigma"] as const) {
    const v = options[key];
    if (typeof v === "number" && Number.isFinite(v)) o[key] = v;
  }
  if (o.weights.length === 0 || o.weights.some((w) => !(w >= 0))) {
    throw new RangeError(`msssim weights must be ≥ 0: ${o.weights}`);
  }
  if (o.thresholds.some((t) => !Number.isFinite(t))) {
    throw new RangeError(`msssim thresholds must be numbers: ${o.thresholds}`);
  }
  const judge = (pair: ValidatePair): PairVerdict => {
    const r = msSsim(pair.fg, pair.bg, {
      weights: o.weights,
      thresholds: o.thresholds,
      radius: o.radius,
      sigma: o.sigma,
    });
    return {
      confidence: r.value,
      scales: r.scales,
      rejectedAt: r.rejectedAt,
    };
  };
  return {
    name: "msssim",
    judge,
    validate(pairs) {
      const out = new Float32Array(pairs.length);
      for (let k = 0; k < pairs.length; k++) {
        out[k] = judge(pairs[k]).confidence;
      }
      return out;
    },
  };
}

/** Registry entry of `msssim`. */
export const plugin: PluginDefinition<"validator"> = {
  kind: "validator",
  name: "msssim",
  description:
    "multi-scale SSIM of matched pairs on real pixels, coarse to fine with early rejection",
  create: (o) => createMsssim(o as Partial<MsssimOptions>),
};
