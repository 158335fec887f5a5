/**
 * One analysis decode per video at the coarse scale (the bg at most
 * 480×270, the fg scaled alike). A single pass serves several purposes:
 * every batch goes to the caller (fingerprints, the placement lock, the bg
 * stream), a spread of gray samples is kept for the spatial search, and
 * named frames are kept as gray images (candidates of the exact search).
 *
 * @module
 */

import {
  frameBytes,
  type FrameFormat,
  type GrayImage,
  toGray,
} from "./frame.ts";
import {
  decodeFrames,
  type DecodeOptions,
  type FrameBatch,
  shrinksTwice,
} from "./frame_reader.ts";
import type { MediaInfo } from "./probe.ts";
import type { ProgressCallback } from "./types.ts";

/** What a scan kept. */
export interface CoarseScan {
  /** Frames seen. */
  readonly count: number;
  /** Spread samples as gray images. */
  readonly samples: readonly GrayImage[];
  /** Frame index of each sample. */
  readonly sampleIndices: readonly number[];
  /** Frame `index` as a gray image when it was one of `keepIndices`. */
  frame(index: number): GrayImage | undefined;
}

/** What to keep from the frames, and who else gets them. */
export interface ScanOptions {
  /** The probed video. */
  readonly info: MediaInfo;
  /** Coarse frame size and channels. */
  readonly format: FrameFormat;
  /** How many spread samples to keep for the spatial search. */
  readonly samples: number;
  /** Frames to keep as gray images. */
  readonly keepIndices?: ReadonlySet<number>;
  /** Receives every batch after samples were copied out (it may keep or transfer it). */
  readonly onBatch?: (batch: FrameBatch) => Promise<void>;
  /** Progress label. */
  readonly label: string;
  /** Progress sink. */
  readonly progress?: ProgressCallback;
}

/** How to decode for {@link scanCoarse}. */
export interface ScanDecodeOptions extends ScanOptions {
  /** Decoder threads (default: ffmpeg's choice). */
  readonly threads?: number;
  /**
   * Ends the decode where it is (frames in flight are dropped; the scanner
   * can go on with frames from elsewhere). Unlike `signal`, not an error.
   */
  readonly stop?: AbortSignal;
  /** Go on filling this scanner (frames it has seen are skipped) instead of a new one. */
  readonly scanner?: CoarseScanner;
  /** Abort. */
  readonly signal?: AbortSignal;
}

/** Indices spread evenly over `count` frames, `k` of them. */
export function spreadIndices(count: number, k: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < Math.min(k, count); i++) {
    const idx = Math.floor(((i + 0.5) / k) * count);
    if (out[out.length - 1] !== idx) out.push(idx);
  }
  return out;
}

/**
 * Takes coarse frames in order, from any source (a decode of the file, or
 * a side output of the encoder that continues it): keeps the spread samples
 * and the named frames, and hands every batch on.
 */
export class CoarseScanner implements CoarseScan {
  readonly #o: ScanOptions;
  readonly #wanted: Set<number>;
  readonly #kept = new Map<number, GrayImage>();
  readonly samples: GrayImage[] = [];
  readonly sampleIndices: number[] = [];
  #count = 0;

  constructor(options: ScanOptions) {
    this.#o = options;
    this.#wanted = new Set(spreadIndices(options.info.frames, options.samples));
  }

  get count(): number {
    return this.#count;
  }

  frame(index: number): GrayImage | undefined {
    return this.#kept.get(index);
  }

  /** Takes the next batch; frames before {@link count} (seen already) are skipped. */
  async push(batch: FrameBatch): Promise<void> {
    const skip = this.#count - batch.start;
    if (skip >= batch.count) return;
    if (skip > 0) batch = sliceBatch(batch, skip, frameBytes(this.#o.format));
    const keep = this.#o.keepIndices;
    for (let q = batch.start; q < batch.start + batch.count; q++) {
      const isSample = this.#wanted.has(q);
      if (!isSample && !keep?.has(q)) continue;
      const image = grayAt(batch, this.#o.format, q - batch.start);
      if (isSample) {
        this.samples.push(image);
        this.sampleIndices.push(q);
      }
      if (keep?.has(q)) this.#kept.set(q, image);
    }
    this.#count = batch.start + batch.count;
    this.#o.progress?.(this.#o.label, this.#count, this.#o.info.frames);
    await this.#o.onBatch?.(batch);
  }
}

/** The batch without its first `skip` frames. */
function sliceBatch(
  batch: FrameBatch,
  skip: number,
  size: number,
): FrameBatch {
  return {
    start: batch.start + skip,
    count: batch.count - skip,
    data: batch.data.slice(skip * size, batch.count * size),
  };
}

/**
 * How the analysis decodes a whole video at the coarse scale: the luma
 * plane or RGB, area-scaled to `format`, deblocking skipped where that
 * shrinks it 2× or more (see {@link shrinksTwice}).
 */
export function coarseDecode(
  info: MediaInfo,
  format: FrameFormat,
  threads?: number,
): DecodeOptions {
  return {
    path: info.path,
    format,
    sourcePixFmt: info.pixFmt,
    threads,
    skipLoopFilter: shrinksTwice(info, format),
  };
}

/**
 * Decodes a video at the coarse scale into a {@link CoarseScanner}; see the
 * module doc. `stop` ends the decode early (the scanner can go on with
 * frames from elsewhere).
 */
export async function scanCoarse(
  options: ScanDecodeOptions,
): Promise<CoarseScanner> {
  const scanner = options.scanner ?? new CoarseScanner(options);
  const { stop, signal } = options;
  if (stop?.aborted) return scanner;
  const signals = [signal, stop].filter((s) => s !== undefined);
  try {
    for await (
      const batch of decodeFrames({
        ...coarseDecode(options.info, options.format, options.threads),
        batch: 16,
        signal: signals.length > 0 ? AbortSignal.any(signals) : undefined,
      })
    ) {
      await scanner.push(batch);
      if (stop?.aborted) break;
    }
  } catch (err) {
    // A stop (not an interrupt) kills ffmpeg mid-batch: no need to wait
    // for the batch to fill.
    if (!stop?.aborted || signal?.aborted) throw err;
  }
  return scanner;
}

/** Frame `k` of a batch as a gray image (a copy: the batch may be transferred). */
export function grayAt(
  batch: FrameBatch,
  format: FrameFormat,
  k: number,
): GrayImage {
  const size = frameBytes(format);
  const g = toGray({
    ...format,
    data: batch.data.slice(k * size, (k + 1) * size),
  });
  return { width: g.width, height: g.height, data: g.data };
}
