/**
 * Worker entry: validates batches of matched frame pairs, for
 * `validateVideo` run on its own (the pipeline's analysis workers serve the
 * same tasks). The first task names the validator; each later task is a
 * packed batch of fg and bg frames (see `validate_tasks.ts`).
 *
 * @module
 */

import {
  type ValidateBatchTask,
  validateTask,
  type ValidatorSpec,
} from "./validate_tasks.ts";
import { registry } from "./registry.ts";
import type { Validator } from "./types.ts";
import { serveTasks } from "./worker_pool.ts";

/** First task: which validator to build. */
export interface ValidateInitTask extends ValidatorSpec {
  /** Discriminator. */
  readonly type: "init";
}

let validator: Promise<Validator> | undefined;
serveTasks<ValidateInitTask | ValidateBatchTask, Float32Array | null>(
  async (task) => {
    if (task.type === "init") {
      validator = registry.createFromSpec("validator", task);
      await validator;
      return { result: null };
    }
    if (!validator) throw new Error("validate worker: no init task");
    return await validateTask(await validator, task);
  },
);
