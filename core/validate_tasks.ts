/**
 * The validation task protocol shared by the workers that run a Validator
 * (the analysis worker, and the validation worker used on its own): the
 * spec to build the validator from, and packed batches of frame pairs.
 * No side effects, so any worker module may import it.
 *
 * @module
 */

import type { GrayImage } from "./frame.ts";
import type { PluginSpec } from "./registry.ts";
import type { ValidatePair, Validator } from "./types.ts";

/** Which validator a worker builds. */
export type ValidatorSpec = PluginSpec;

/** A batch of pairs: `count` fg frames and as many bg frames, each `width × height` gray. */
export interface ValidateBatchTask {
  /** Discriminator. */
  readonly type: "pairs";
  /** Frame width. */
  readonly width: number;
  /** Frame height. */
  readonly height: number;
  /** Pairs in the batch. */
  readonly count: number;
  /** Packed fg frames (transferred). */
  readonly fg: Uint8Array;
  /** Packed bg frames, pair k's at the same slot as its fg frame (transferred). */
  readonly bg: Uint8Array;
}

/** Splits a packed batch into the validator's pairs (views, no copies). */
export function unpackPairs(task: ValidateBatchTask): ValidatePair[] {
  const size = task.width * task.height;
  const image = (data: Uint8Array, k: number): GrayImage => ({
    width: task.width,
    height: task.height,
    data: data.subarray(k * size, (k + 1) * size),
  });
  const pairs: ValidatePair[] = [];
  for (let k = 0; k < task.count; k++) {
    pairs.push({ fg: image(task.fg, k), bg: image(task.bg, k) });
  }
  return pairs;
}

/** Runs one batch: the confidence of each pair (transferable). */
export async function validateTask(
  validator: Validator,
  task: ValidateBatchTask,
): Promise<{ result: Float32Array; transfer: ArrayBuffer[] }> {
  const result = await validator.validate(unpackPairs(task));
  return { result, transfer: [result.buffer as ArrayBuffer] };
}
