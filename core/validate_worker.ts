/**
 * Worker entry: validates batches of matched frame pairs. The first task
 * names the validator (registry name, options, and the module URL of a user
 * plugin); each later task is a packed batch of fg and bg frames.
 *
 * @module
 */

import type { GrayImage } from "./frame.ts";
import { registry } from "./registry.ts";
import type { ValidatePair, Validator } from "./types.ts";
import { serveTasks } from "./worker_pool.ts";

/** First task: which validator to build. */
export interface ValidateInitTask {
  /** Discriminator. */
  readonly type: "init";
  /** Registered validator name. */
  readonly name: string;
  /** Options for its factory. */
  readonly options?: Record<string, unknown>;
  /** Module URL when it is a user plugin. */
  readonly moduleUrl?: string;
}

/** A batch of pairs: `count` fg frames and as many bg frames, each `width × height` gray. */
export interface ValidateBatchTask {
  /** Discriminator. */
  readonly type: "batch";
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

// Only a worker serves tasks; importing this module elsewhere (for its
// types and unpackPairs) must not take over the importer's message handler.
const inWorker = typeof (globalThis as { WorkerGlobalScope?: unknown })
  .WorkerGlobalScope !== "undefined";

if (inWorker) {
  let validator: Promise<Validator> | undefined;
  serveTasks<ValidateInitTask | ValidateBatchTask, Float32Array | null>(
    async (task) => {
      if (task.type === "init") {
        validator = (async () => {
          if (task.moduleUrl) await registry.registerModule(task.moduleUrl);
          return await registry.create("validator", task.name, task.options);
        })();
        await validator;
        return { result: null };
      }
      if (!validator) throw new Error("validate worker: no init task");
      const result = await (await validator).validate(unpackPairs(task));
      return { result, transfer: [result.buffer as ArrayBuffer] };
    },
  );
}
