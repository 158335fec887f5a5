/**
 * `dhash`: the difference (gradient) hash. The frame is shrunk to 9×8 gray
 * and each of the 8 × 8 neighbour pairs becomes one bit, set when the left
 * pixel is brighter than its right neighbour.
 *
 * It encodes where brightness rises and falls rather than absolute levels,
 * so it is unaffected by brightness shifts and contrast changes, and it
 * discriminates better than `ahash` at the same cost.
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

/** Options of the `dhash` fingerprinter. */
export interface DhashOptions {
  /**
   * `horizontal` (9×8 input, pixel vs right neighbour) is the classic dhash;
   * `vertical` (8×9 input, pixel vs the one below) suits footage whose detail
   * runs mostly horizontally.
   */
  direction: "horizontal" | "vertical";
}

/** Default `dhash` options. */
export const dhashDefaults: Readonly<DhashOptions> = {
  direction: "horizontal",
};

/** Creates a `dhash` fingerprinter: 9×8 (or 8×9) gray in, 64-bit hash out. */
export function createDhash(
  options: Partial<DhashOptions> = {},
): Fingerprinter {
  const direction = options.direction ?? dhashDefaults.direction;
  if (direction !== "horizontal" && direction !== "vertical") {
    throw new RangeError(
      `dhash direction must be "horizontal" or "vertical": ${direction}`,
    );
  }
  const horizontal = direction === "horizontal";
  const input: FrameFormat = horizontal
    ? { width: 9, height: 8, channels: 1 }
    : { width: 8, height: 9, channels: 1 };
  // Offset of the pixel each one is compared with, and the row stride, so
  // both directions share one loop: bit r*8+c compares (r, c) with its
  // neighbour.
  const next = horizontal ? 1 : 8;
  const stride = horizontal ? 9 : 8;

  function compute(frame: Frame, table: FeatureArray, index: number): void {
    if (!sameFormat(frame, input)) {
      throw new RangeError(
        `dhash wants ${input.width}×${input.height} gray, got ${frame.width}×${frame.height}×${frame.channels}`,
      );
    }
    const px = frame.data;
    let low = 0, high = 0;
    for (let r = 0; r < 4; r++) {
      const a = r * stride, b = (r + 4) * stride;
      for (let c = 0; c < 8; c++) {
        const bit = 1 << (r * 8 + c);
        if (px[a + c] > px[a + c + next]) low |= bit;
        if (px[b + c] > px[b + c + next]) high |= bit;
      }
    }
    storeHash(table, index, low, high);
  }

  return hashFingerprinter("dhash", input, compute);
}

/** Registry entry of `dhash`. */
export const plugin: PluginDefinition<"fingerprinter"> = {
  kind: "fingerprinter",
  name: "dhash",
  description:
    "difference hash: 9×8 gray, bit = pixel > right neighbour (64 bits, coarse)",
  create: (o) => createDhash(o as Partial<DhashOptions>),
};
