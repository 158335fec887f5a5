/**
 * An example user plugin: the `profile` fingerprinter. Load it with
 *
 * ```sh
 * deno run -A cli.ts comp BG.mp4 FG.mp4 --plugin examples/fingerprint_profile.ts --fingerprint profile
 * ```
 *
 * The frame arrives as a small gray square; its feature is the mean luma of
 * every row and of every column (two "profiles" of the picture). Motion
 * shifts them, so neighbouring frames of moving footage differ; each profile
 * has its mean removed and is scaled to unit length, so a brightness or
 * contrast regrade of one video does not change the distance, which is one
 * minus the average correlation of the two profiles.
 *
 * It imports only types from vidkompy's public API, so it runs the same in
 * the main thread and in the fingerprinting workers (which import this
 * module by its URL).
 *
 * @module
 */

import type {
  FeatureArray,
  Fingerprinter,
  Frame,
  PluginDefinition,
} from "../mod.ts";

/** Options of the `profile` fingerprinter. */
export interface ProfileOptions {
  /** Side of the gray square the profiles are taken from, 8..256. */
  size: number;
}

/** Default `profile` options. */
export const profileDefaults: Readonly<ProfileOptions> = { size: 64 };

/** Below this profile standard deviation (gray levels) a frame counts as flat. */
const FLAT_STD = 0.5;

/**
 * Centres `values[from, from + n)` and scales it to unit length in place;
 * returns false (and leaves zeros) when it is flat.
 */
function normalise(values: Float32Array, from: number, n: number): boolean {
  let sum = 0;
  for (let k = from; k < from + n; k++) sum += values[k];
  const mean = sum / n;
  let ss = 0;
  for (let k = from; k < from + n; k++) {
    values[k] -= mean;
    ss += values[k] * values[k];
  }
  if (ss < FLAT_STD * FLAT_STD * n) {
    values.fill(0, from, from + n);
    return false;
  }
  const scale = 1 / Math.sqrt(ss);
  for (let k = from; k < from + n; k++) values[k] *= scale;
  return true;
}

/** Creates a `profile` fingerprinter. */
export function createProfile(
  options: Partial<ProfileOptions> = {},
): Fingerprinter {
  const size = options.size ?? profileDefaults.size;
  if (!Number.isInteger(size) || size < 8 || size > 256) {
    throw new RangeError(`profile size must be an integer in 8..256: ${size}`);
  }
  // Per frame: `size` row means, `size` column means, the frame mean, and
  // for each profile 1 when it has detail (0 when flat, e.g. a profile of
  // vertical stripes across rows).
  const length = 2 * size + 3;
  const mean = 2 * size, live = 2 * size + 1;

  function compute(frame: Frame, table: FeatureArray, index: number): void {
    if (frame.width !== size || frame.height !== size || frame.channels !== 1) {
      throw new RangeError(
        `profile wants ${size}×${size} gray, got ${frame.width}×${frame.height}×${frame.channels}`,
      );
    }
    const f = new Float32Array(length);
    let total = 0;
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const v = frame.data[y * size + x];
        f[y] += v;
        f[size + x] += v;
        total += v;
      }
    }
    for (let k = 0; k < 2 * size; k++) f[k] /= size;
    f[mean] = total / (size * size);
    f[live] = normalise(f, 0, size) ? 1 : 0;
    f[live + 1] = normalise(f, size, size) ? 1 : 0;
    table.set(f, index * length);
  }

  function distance(
    a: FeatureArray,
    i: number,
    b: FeatureArray,
    j: number,
  ): number {
    const pa = i * length, pb = j * length;
    // Average the correlation over the profiles either frame has detail in
    // (a profile flat in one frame only correlates 0). Dividing by the
    // norms as stored (not by 1) makes identical frames exactly 0 apart.
    let sum = 0, profiles = 0;
    for (let p = 0; p < 2; p++) {
      if (!a[pa + live + p] && !b[pb + live + p]) continue;
      profiles++;
      let ab = 0, aa = 0, bb = 0;
      for (let k = p * size; k < (p + 1) * size; k++) {
        ab += a[pa + k] * b[pb + k];
        aa += a[pa + k] * a[pa + k];
        bb += b[pb + k] * b[pb + k];
      }
      if (aa > 0 && bb > 0) sum += ab / Math.sqrt(aa * bb);
    }
    if (profiles === 0) {
      // Blank frames: alike when equally bright.
      return Math.min(1, Math.abs(a[pa + mean] - b[pb + mean]) / 64);
    }
    const d = 1 - sum / profiles;
    return d <= 0 ? 0 : d >= 1 ? 1 : d;
  }

  return {
    name: "profile",
    input: { width: size, height: size, channels: 1 },
    featureLength: length,
    coarse: false,
    createTable: (count: number) => new Float32Array(count * length),
    compute,
    distance,
  };
}

/** The definition vidkompy registers (a module may export `plugins` for several). */
export const plugin: PluginDefinition<"fingerprinter"> = {
  kind: "fingerprinter",
  name: "profile",
  description: "row and column luma profiles compared by correlation (example)",
  create: (o) => createProfile(o as Partial<ProfileOptions>),
};
