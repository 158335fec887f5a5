/**
 * Worker entry of the analysis: computes fingerprints for batches of small
 * frames. The first task names the fingerprinters (registry names,
 * options, and the module URL of user plugins) and the validator; each
 * later task is a packed batch of frames, a round of the placement lock's
 * search-level tests (they run here so the main thread keeps draining the
 * decoders), a window of the exact placement search (window_search.ts), or
 * a batch of pairs to validate (one pool for the whole run: each worker
 * costs ~20 MB and a few tenths of a second to start).
 *
 * @module
 */

import {
  adaptFrame,
  cropFrame,
  type Frame,
  frameBytes,
  type FrameFormat,
  type GrayImage,
} from "./frame.ts";
import type { Rect } from "./frame_reader.ts";
import { type PluginSpec, registry } from "./registry.ts";
import { lockTests } from "./stream_lock.ts";
import { release } from "./release.ts";
import {
  type ValidateBatchTask,
  validateTask,
  type ValidatorSpec,
} from "./validate_tasks.ts";
import type {
  FeatureArray,
  Fingerprinter,
  Locator,
  Validator,
} from "./types.ts";
import {
  type WindowReply,
  windowReply,
  type WindowSearch,
} from "./window_search.ts";
import { serveTasks } from "./worker_pool.ts";

/** One fingerprinter to load in the worker. */
export type FingerprinterSpec = PluginSpec;

/** First task: which fingerprinters to run. */
export interface InitTask {
  /** Discriminator. */
  readonly type: "init";
  /** The members, in table order. */
  readonly fingerprinters: readonly FingerprinterSpec[];
  /** The validator to serve `pairs` tasks with, if any. */
  readonly validator?: ValidatorSpec;
  /** The locator to serve `window` tasks with, if any. */
  readonly locator?: PluginSpec;
}

/** A batch of frames to fingerprint. */
export interface BatchTask {
  /** Discriminator. */
  readonly type: "batch";
  /** Layout of each frame in `data`. */
  readonly format: FrameFormat;
  /** Frames in the batch. */
  readonly count: number;
  /** Packed frames (transferred). */
  readonly data: Uint8Array;
  /** Region of each frame to fingerprint (whole frame when absent). */
  readonly crop?: Rect;
}

/** A round of {@link lockTests}: every sample against every probe. */
export interface LockTask {
  /** Discriminator. */
  readonly type: "lock";
  /** Samples at the lock's search level. */
  readonly samples: readonly GrayImage[];
  /** Probes at the lock's search level. */
  readonly probes: readonly GrayImage[];
}

/** A window of the exact placement search. */
export interface WindowTask extends WindowSearch {
  /** Discriminator. */
  readonly type: "window";
}

let members: Fingerprinter[] = [];
let ready: Promise<void> = Promise.resolve();
let validator: Promise<Validator> | undefined;
let locatorSpec: PluginSpec | undefined;
let locator: Promise<Locator> | undefined;

async function load(specs: readonly FingerprinterSpec[]): Promise<void> {
  // One after another: specs may share a user module.
  const built: Fingerprinter[] = [];
  for (const s of specs) {
    built.push(await registry.createFromSpec("fingerprinter", s));
  }
  members = built;
}

serveTasks<
  InitTask | BatchTask | LockTask | ValidateBatchTask | WindowTask,
  FeatureArray[] | Float32Array | WindowReply | null
>(async (task) => {
  if (task.type === "window") {
    if (!locatorSpec) throw new Error("analysis worker: no locator");
    // Built on first use: most runs need no window searched here.
    locator ??= registry.createFromSpec("locator", locatorSpec);
    const reply = await windowReply(await locator, task);
    // The frames are this worker's copies: freed now, not at the next GC
    // (three windows of 34 coarse frames each would linger otherwise).
    release(...[...task.fg, ...task.bg].map((f) => f.data.buffer));
    return { result: reply };
  }
  if (task.type === "pairs") {
    if (!validator) throw new Error("analysis worker: no validator");
    const done = await validateTask(await validator, task);
    release(task.fg.buffer, task.bg.buffer);
    return done;
  }
  if (task.type === "lock") {
    const result = lockTests(task.samples, task.probes);
    return Promise.resolve({
      result: result as Float32Array | FeatureArray[] | WindowReply | null,
      transfer: [result.buffer as ArrayBuffer],
    });
  }
  if (task.type === "init") {
    locatorSpec = task.locator;
    if (task.validator) {
      validator = registry.createFromSpec("validator", task.validator);
      validator.catch(() => {}); // raised by the first pairs task
    }
    ready = load(task.fingerprinters);
    return ready.then(() => ({ result: null as FeatureArray[] | null }));
  }
  return ready.then(() => {
    const size = frameBytes(task.format);
    const tables = members.map((m) => m.createTable(task.count));
    for (let k = 0; k < task.count; k++) {
      let frame: Frame = {
        ...task.format,
        data: task.data.subarray(k * size, (k + 1) * size),
      };
      if (task.crop) frame = cropFrame(frame, task.crop);
      for (let f = 0; f < members.length; f++) {
        members[f].compute(adaptFrame(frame, members[f].input), tables[f], k);
      }
      // The crop's copy (not the batch itself: an uncropped frame is a
      // view on it).
      if (frame.data.buffer !== task.data.buffer) release(frame.data.buffer);
    }
    // The batch is this worker's own (sent or copied to it), done with.
    release(task.data.buffer);
    return {
      result: tables,
      transfer: tables.map((t) => t.buffer as ArrayBuffer),
    };
  });
});
