/**
 * A weighted combination of fingerprinters, chosen by a flag such as
 * `phash:0.5,ahash:0.2,dhash:0.2,histogram:0.1` or `phash+thumb`, and the
 * cost model built from both videos' feature tables.
 *
 * @module
 */

import type { CostModel, FeatureArray, Fingerprinter } from "./types.ts";

/** One member of a combination: a registered fingerprinter name and its weight. */
export interface MixMember {
  /** Registered fingerprinter name. */
  readonly name: string;
  /** Relative weight (> 0). */
  readonly weight: number;
}

/**
 * Parses a fingerprint spec: members separated by `,` or `+`, each `name` or
 * `name:weight` (weight defaults to 1). Weights are relative.
 *
 * @example
 * ```ts
 * import { parseFingerprintSpec } from "./fingerprint_mix.ts";
 * parseFingerprintSpec("phash:0.5,thumb");
 * // [{ name: "phash", weight: 0.5 }, { name: "thumb", weight: 1 }]
 * ```
 */
export function parseFingerprintSpec(spec: string): MixMember[] {
  const parts = spec.split(/[,+]/).map((s) => s.trim()).filter(Boolean);
  if (parts.length === 0) {
    throw new RangeError(`empty fingerprint spec "${spec}"`);
  }
  const seen = new Set<string>();
  return parts.map((part) => {
    const [name, weightText, extra] = part.split(":");
    if (extra !== undefined || !/^[a-z][a-z0-9_-]*$/i.test(name)) {
      throw new RangeError(
        `bad fingerprint member "${part}" (expected name or name:weight)`,
      );
    }
    const weight = weightText === undefined ? 1 : Number(weightText);
    if (!(weight > 0) || !Number.isFinite(weight)) {
      throw new RangeError(`fingerprint weight must be > 0 in "${part}"`);
    }
    if (seen.has(name)) {
      throw new RangeError(`fingerprint "${name}" is listed twice`);
    }
    seen.add(name);
    return { name, weight };
  });
}

/** A member with its instance and both videos' feature tables. */
export interface MixTables {
  /** The fingerprinter. */
  readonly fingerprinter: Fingerprinter;
  /** Its weight. */
  readonly weight: number;
  /** Features of every fg frame. */
  readonly fg: FeatureArray;
  /** Features of every bg frame. */
  readonly bg: FeatureArray;
}

/**
 * The cost model of a combination: the weighted mean of member distances
 * (so it stays in [0, 1]). The coarse cost uses only the members that
 * declare themselves cheap (hashes), falling back to the full cost.
 */
export function mixCostModel(members: readonly MixTables[]): CostModel {
  const cost = weightedDistance(members, "fg");
  const coarse = members.filter((m) => m.fingerprinter.coarse);
  return {
    cost,
    coarseCost: coarse.length > 0 && coarse.length < members.length
      ? weightedDistance(coarse, "fg")
      : coarse.length === 0 &&
          members.some((m) => m.fingerprinter.coarseDistance)
      ? weightedDistance(members, "fg", true)
      : cost,
    bgCost: weightedDistance(members, "bg"),
  };
}

/** Weighted distance between frame i of `left` (fg or bg) and bg frame j. */
function weightedDistance(
  members: readonly MixTables[],
  left: "fg" | "bg",
  coarse = false,
): (i: number, j: number) => number {
  const total = members.reduce((s, m) => s + m.weight, 0);
  // Bound methods: members without a coarse distance use their own.
  const distances = members.map((m) => {
    const fp = m.fingerprinter;
    return (coarse ? fp.coarseDistance : undefined)?.bind(fp) ??
      fp.distance.bind(fp);
  });
  if (members.length === 1) {
    const m = members[0], distance = distances[0];
    const a = m[left];
    return (i, j) => distance(a, i, m.bg, j);
  }
  const weights = members.map((m) => m.weight / total);
  return (i, j) => {
    let d = 0;
    for (let k = 0; k < distances.length; k++) {
      d += weights[k] * distances[k](members[k][left], i, members[k].bg, j);
    }
    return d;
  };
}
