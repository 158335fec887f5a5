/**
 * Allocation of fingerprint feature tables (one typed array holding `count`
 * features of `length` elements each), shared by every fingerprinter.
 *
 * @module
 */

import type { FeatureArray } from "./types.ts";

/** A zeroed table for `count` features of `length` elements. */
export function featureTable<T extends FeatureArray>(
  Table: new (size: number) => T,
  count: number,
  length: number,
): T {
  if (!Number.isInteger(count) || count < 0) {
    throw new RangeError(`table size must be a non-negative integer: ${count}`);
  }
  return new Table(count * length);
}
