/**
 * Fingerprints every frame of one video in a single sequential decode:
 * ffmpeg crops and scales to the analysis format, batches of frames go to
 * the worker pool (transferred), and the feature tables fill in as results
 * come back. In-flight batches are bounded so memory stays flat.
 *
 * @module
 */

import type { FrameFormat } from "./frame.ts";
import {
  decodeFrames,
  type FrameBatch,
  type Rect,
  shrinksTwice,
} from "./frame_reader.ts";
import type { BatchTask } from "./fingerprint_worker.ts";
import type { FeatureArray, Fingerprinter, ProgressCallback } from "./types.ts";
import type { WorkerPool } from "./worker_pool.ts";

/** How to fingerprint a stream of frame batches. */
export interface FingerprintOptions {
  /** Layout of the frames in the batches. */
  readonly format: FrameFormat;
  /** Region of each frame to fingerprint (the whole frame when absent). */
  readonly crop?: Rect;
  /** The members (main-thread instances, for table allocation). */
  readonly fingerprinters: readonly Fingerprinter[];
  /** A pool whose workers were initialised with the same members, in order. */
  readonly pool: WorkerPool;
  /** Expected frame count (tables grow if the decode yields more). */
  readonly expectedFrames: number;
  /** Progress label, e.g. "fingerprint fg". */
  readonly label: string;
  /** Progress sink. */
  readonly progress?: ProgressCallback;
  /**
   * True when the batches' buffers may be handed to the workers (moved, not
   * copied); false when the caller keeps them.
   */
  readonly transfer: boolean;
}

/** What to decode and fingerprint. */
export interface FingerprintVideoOptions
  extends Omit<FingerprintOptions, "transfer" | "crop"> {
  /** Input file. */
  readonly path: string;
  /** Region to analyse, in source pixels (ffmpeg crops it). */
  readonly crop?: Rect;
  /** The source's pixel format (lets ffmpeg take gray from the luma plane). */
  readonly sourcePixFmt?: string;
  /** Abort. */
  readonly signal?: AbortSignal;
}

/** Feature tables (one per member) and the number of frames decoded. */
export interface VideoFeatures {
  /** One table per member, `count` features each. */
  readonly tables: FeatureArray[];
  /** Frames actually decoded. */
  readonly count: number;
}

/** Frames per worker message: posting costs more than hashing a 32×32 frame. */
export const FINGERPRINT_BATCH = 64;

/** Decodes (ffmpeg crops and scales) and fingerprints a whole video. */
export function fingerprintVideo(
  options: FingerprintVideoOptions,
): Promise<VideoFeatures> {
  return fingerprintBatches(
    decodeFrames({
      path: options.path,
      format: options.format,
      crop: options.crop,
      sourcePixFmt: options.sourcePixFmt,
      skipLoopFilter: options.crop !== undefined &&
        shrinksTwice(options.crop, options.format),
      batch: FINGERPRINT_BATCH,
      signal: options.signal,
    }),
    { ...options, crop: undefined, transfer: true },
  );
}

/**
 * A sink that fingerprints batches as they are pushed (while a decode runs)
 * and returns the tables when finished. At most two batches per worker are
 * in flight; `push` waits beyond that, which is the backpressure on the
 * decode.
 */
export function fingerprintSink(options: FingerprintOptions): {
  push(batch: FrameBatch): Promise<void>;
  finish(): Promise<VideoFeatures>;
} {
  const { fingerprinters: fps, pool } = options;
  let capacity = Math.max(1, options.expectedFrames);
  let tables = fps.map((f) => f.createTable(capacity));
  const inFlight = new Set<Promise<void>>();
  const maxInFlight = pool.size * 2;
  let count = 0;
  let failure: unknown;

  const store = (start: number, parts: FeatureArray[]) => {
    const end = start + parts[0].length / fps[0].featureLength;
    if (end > capacity) {
      capacity = Math.max(end, Math.ceil(capacity * 1.25));
      tables = tables.map((t, k) => {
        const grown = fps[k].createTable(capacity);
        grown.set(t as never);
        return grown;
      });
    }
    for (let k = 0; k < fps.length; k++) {
      tables[k].set(parts[k] as never, start * fps[k].featureLength);
    }
  };

  return {
    async push(batch) {
      const data = options.transfer ? batch.data : batch.data.slice();
      const task: BatchTask = {
        type: "batch",
        format: options.format,
        count: batch.count,
        data,
        crop: options.crop,
      };
      const start = batch.start;
      const p: Promise<void> = pool.run<FeatureArray[]>(task, [
        data.buffer as ArrayBuffer,
      ])
        .then((parts) => store(start, parts))
        .catch((err) => {
          failure ??= err;
        })
        .finally(() => inFlight.delete(p));
      inFlight.add(p);
      count = Math.max(count, batch.start + batch.count);
      options.progress?.(options.label, count, options.expectedFrames);
      if (inFlight.size >= maxInFlight) await Promise.race(inFlight);
      if (failure) throw failure;
    },
    async finish() {
      await Promise.all(inFlight);
      if (failure) throw failure;
      if (count < capacity) {
        tables = tables.map((t, k) => t.slice(0, count * fps[k].featureLength));
      }
      return { tables, count };
    },
  };
}

/** Fingerprints every batch of a source. */
export async function fingerprintBatches(
  source: AsyncIterable<FrameBatch> | Iterable<FrameBatch>,
  options: FingerprintOptions,
): Promise<VideoFeatures> {
  const sink = fingerprintSink(options);
  for await (const batch of source) await sink.push(batch);
  return await sink.finish();
}
