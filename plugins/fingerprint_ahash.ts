/**
 * `ahash`: the average hash. The frame is shrunk to 8×8 gray and each pixel
 * becomes one bit, set when it is brighter than the frame's mean (or median).
 *
 * The crudest of the three 64-bit hashes and the cheapest to compute; it is
 * blind to fine detail but survives re-encoding, scaling and mild colour
 * changes, which is what the coarse offset search needs.
 *
 * @module
 */

import { sameFormat } from "../core/frame.ts";
import type { Frame, FrameFormat } from "../core/frame.ts";
import { hashFingerprinter, storeHash } from "../core/hamming.ts";
import type {
  FeatureArray,
  Fingerprinter,
  PluginDefinition,
} from "../core/types.ts";

/** Options of the `ahash` fingerprinter. */
export interface AhashOptions {
  /**
   * What a pixel is compared with: `mean` (the classic average hash) or
   * `median` (always sets about half the bits, so very dark or bright frames
   * with a few outliers still get an informative hash).
   */
  threshold: "mean" | "median";
}

/** Default `ahash` options. */
export const ahashDefaults: Readonly<AhashOptions> = { threshold: "mean" };

const SIDE = 8;
const PIXELS = SIDE * SIDE;

/** Creates an `ahash` fingerprinter: 8×8 gray in, 64-bit hash out. */
export function createAhash(
  options: Partial<AhashOptions> = {},
): Fingerprinter {
  const threshold = options.threshold ?? ahashDefaults.threshold;
  if (threshold !== "mean" && threshold !== "median") {
    throw new RangeError(
      `ahash threshold must be "mean" or "median": ${threshold}`,
    );
  }
  const input: FrameFormat = { width: SIDE, height: SIDE, channels: 1 };
  // Counting sort scratch for the median: 256 bins beat sorting 64 values.
  const counts = new Int32Array(256);

  function compute(frame: Frame, table: FeatureArray, index: number): void {
    if (!sameFormat(frame, input)) {
      throw new RangeError(
        `ahash wants ${SIDE}×${SIDE} gray, got ${frame.width}×${frame.height}×${frame.channels}`,
      );
    }
    const px = frame.data;
    // Compare p * 64 with the sum so the test stays exact integer arithmetic.
    let limit: number;
    if (threshold === "mean") {
      let sum = 0;
      for (let k = 0; k < PIXELS; k++) sum += px[k];
      limit = sum;
    } else {
      counts.fill(0);
      for (let k = 0; k < PIXELS; k++) counts[px[k]]++;
      // Lower median (32nd smallest): at most 32 pixels lie strictly above it.
      let seen = 0, v = 0;
      for (; v < 256; v++) {
        seen += counts[v];
        if (seen >= PIXELS / 2) break;
      }
      limit = v * PIXELS;
    }
    let low = 0, high = 0;
    for (let k = 0; k < 32; k++) {
      if (px[k] * PIXELS > limit) low |= 1 << k;
      if (px[k + 32] * PIXELS > limit) high |= 1 << k;
    }
    storeHash(table, index, low, high);
  }

  return hashFingerprinter("ahash", input, compute);
}

/** Registry entry of `ahash`. */
export const plugin: PluginDefinition<"fingerprinter"> = {
  kind: "fingerprinter",
  name: "ahash",
  description: "average hash: 8×8 gray, bit = pixel > mean (64 bits, coarse)",
  create: (o) => createAhash(o as Partial<AhashOptions>),
};
