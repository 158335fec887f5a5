/**
 * Shared storage and comparison for the 64-bit perceptual hashes (`ahash`,
 * `dhash`, `phash`).
 *
 * A hash table is a `Uint32Array` holding two words per frame: bit `k` of the
 * hash (k = 0..63) is bit `k & 31` of word `k >> 5`. Two 32-bit words rather
 * than a `BigUint64Array` because bigint arithmetic allocates, and the coarse
 * search compares millions of pairs; 32-bit bit tricks stay in V8's integer
 * fast path.
 *
 * @module
 */

import type { FrameFormat } from "./frame.ts";
import type { FeatureArray, Fingerprinter } from "./types.ts";
import { featureTable } from "./feature_table.ts";

/** Table elements (uint32 words) one 64-bit hash occupies. */
export const HASH_WORDS = 2;

/** Number of bits in a hash; distances are Hamming counts divided by this. */
export const HASH_BITS = 64;

const INV_BITS = 1 / HASH_BITS;

/** A zeroed hash table able to hold `count` 64-bit hashes. */
export function createHashTable(count: number): Uint32Array {
  return featureTable(Uint32Array, count, HASH_WORDS);
}

/**
 * Number of set bits in the low 32 bits of `x` (SWAR: no table lookup, so no
 * cache misses and no bounds checks in the hot loop).
 */
export function popcount32(x: number): number {
  x = x - ((x >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}

/** Hamming distance (0..64) between hash slot `i` of `a` and slot `j` of `b`. */
export function hamming64(
  a: FeatureArray,
  i: number,
  b: FeatureArray,
  j: number,
): number {
  const p = i * HASH_WORDS, q = j * HASH_WORDS;
  return popcount32(a[p] ^ b[q]) + popcount32(a[p + 1] ^ b[q + 1]);
}

/**
 * Hamming distance divided by 64: the `distance` of every hash
 * fingerprinter, in [0, 1].
 */
export function hashDistance(
  a: FeatureArray,
  i: number,
  b: FeatureArray,
  j: number,
): number {
  return hamming64(a, i, b, j) * INV_BITS;
}

/** Writes a hash given as two 32-bit words (bits 0..31, bits 32..63) into slot `index`. */
export function storeHash(
  table: FeatureArray,
  index: number,
  low: number,
  high: number,
): void {
  const p = index * HASH_WORDS;
  table[p] = low >>> 0;
  table[p + 1] = high >>> 0;
}

/** The 64 bits of hash slot `index` as a bigint (tests and debugging; allocates). */
export function hashToBigInt(table: FeatureArray, index: number): bigint {
  const p = index * HASH_WORDS;
  return (BigInt(table[p + 1] >>> 0) << 32n) | BigInt(table[p] >>> 0);
}

/**
 * A 64-bit hash fingerprinter: `compute` stores a hash with
 * {@link storeHash}; tables, distance and the coarse flag are shared by every
 * hash.
 */
export function hashFingerprinter(
  name: string,
  input: FrameFormat,
  compute: Fingerprinter["compute"],
): Fingerprinter {
  return {
    name,
    input,
    featureLength: HASH_WORDS,
    coarse: true,
    createTable: createHashTable,
    compute,
    distance: hashDistance,
  };
}
