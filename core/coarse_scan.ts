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
import { decodeFrames, type FrameBatch, shrinksTwice } from "./frame_reader.ts";
import type { MediaInfo } from "./probe.ts";
import type { ProgressCallback } from "./types.ts";

/** What a scan kept. */
export interface CoarseScan {
  /** Frames decoded. */
  readonly count: number;
  /** Spread samples as gray images. */
  readonly samples: readonly GrayImage[];
  /** Frame index of each sample. */
  readonly sampleIndices: readonly number[];
  /** Frame `index` as a gray image when it was one of `keepIndices`. */
  frame(index: number): GrayImage | undefined;
}

/** Options of {@link scanCoarse}. */
export interface ScanOptions {
  /** The probed video. */
  readonly info: MediaInfo;
  /** Coarse frame size and channels. */
  readonly format: FrameFormat;
  /** How many spread samples to keep for the spatial search. */
  readonly samples: number;
  /** Decoder threads (default: ffmpeg's choice). */
  readonly threads?: number;
  /** Frames to keep as gray images. */
  readonly keepIndices?: ReadonlySet<number>;
  /** Receives every batch after samples were copied out (it may keep or transfer it). */
  readonly onBatch?: (batch: FrameBatch) => Promise<void>;
  /** Progress label. */
  readonly label: string;
  /** Progress sink. */
  readonly progress?: ProgressCallback;
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

/** Decodes a video once at the coarse scale; see the module doc. */
export async function scanCoarse(options: ScanOptions): Promise<CoarseScan> {
  const { format } = options;
  const wanted = new Set(spreadIndices(options.info.frames, options.samples));
  const samples: GrayImage[] = [];
  const sampleIndices: number[] = [];
  const kept = new Map<number, GrayImage>();
  const keepIndices = options.keepIndices ?? new Set<number>();
  let count = 0;
  for await (
    const batch of decodeFrames({
      path: options.info.path,
      format,
      sourcePixFmt: options.info.pixFmt,
      threads: options.threads,
      skipLoopFilter: shrinksTwice(options.info, format),
      batch: 16,
      signal: options.signal,
    })
  ) {
    for (let q = batch.start; q < batch.start + batch.count; q++) {
      const isSample = wanted.has(q);
      if (!isSample && !keepIndices.has(q)) continue;
      const image = grayAt(batch, format, q - batch.start);
      if (isSample) {
        samples.push(image);
        sampleIndices.push(q);
      }
      if (keepIndices.has(q)) kept.set(q, image);
    }
    count = batch.start + batch.count;
    options.progress?.(options.label, count, options.info.frames);
    await options.onBatch?.(batch);
  }
  return {
    count,
    samples,
    sampleIndices,
    frame: (index) => kept.get(index),
  };
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
