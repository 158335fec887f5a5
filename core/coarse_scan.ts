/**
 * One analysis decode per video at the coarse scale (the bg at most
 * 480×270, the fg scaled alike). A single pass serves three purposes:
 * frames stream to the fingerprinters, a spread of gray samples is kept for
 * the spatial search, and (when they fit the memory budget) every bg frame
 * is kept so that fingerprinting the region under the placement, and doing
 * it again after the placement is pinned, costs no further decode.
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
  /** Every frame, in batches, when `keep` was set; else undefined. */
  readonly batches?: readonly FrameBatch[];
  /** Spread samples as gray images. */
  readonly samples: readonly GrayImage[];
  /** Frame index of each sample. */
  readonly sampleIndices: readonly number[];
  /** Gray frames kept every `keepEvery` frames, each with its successor (index → image). */
  readonly every: ReadonlyMap<number, GrayImage>;
  /** Frame `index` as a gray image when it was kept (all, or every k-th). */
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
  /** Keep every frame (the caller checked the memory budget). */
  readonly keep: boolean;
  /** Decoder threads (default: ffmpeg's choice). */
  readonly threads?: number;
  /** Also keep every k-th frame as gray (0 = none). */
  readonly keepEvery?: number;
  /** Receives every batch after samples were copied out (may transfer it when `keep` is false). */
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
  const size = frameBytes(format);
  const wanted = spreadIndices(options.info.frames, options.samples);
  const samples: GrayImage[] = [];
  const sampleIndices: number[] = [];
  const batches: FrameBatch[] = [];
  const every = new Map<number, GrayImage>();
  const k = options.keepEvery ?? 0;
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
    for (const idx of wanted) {
      if (idx < batch.start || idx >= batch.start + batch.count) continue;
      const k = idx - batch.start;
      const frame = toGray({
        ...format,
        data: batch.data.slice(k * size, (k + 1) * size),
      });
      samples.push({
        width: frame.width,
        height: frame.height,
        data: frame.data,
      });
      sampleIndices.push(idx);
    }
    if (k > 0) {
      // Every k-th frame and the one after it: frame rates that put every
      // other fg frame between two bg frames need both parities.
      for (let q = batch.start; q < batch.start + batch.count; q++) {
        if (q % k !== 0 && (q - 1) % k !== 0) continue;
        const o = (q - batch.start) * size;
        const g = toGray({ ...format, data: batch.data.slice(o, o + size) });
        every.set(q, { width: g.width, height: g.height, data: g.data });
      }
    }
    if (options.keep) batches.push(batch);
    count = batch.start + batch.count;
    options.progress?.(options.label, count, options.info.frames);
    await options.onBatch?.(batch);
  }
  const perBatch = batches[0]?.count ?? 1;
  return {
    count,
    batches: options.keep ? batches : undefined,
    samples,
    sampleIndices,
    every,
    frame(index) {
      const kept = every.get(index);
      if (kept || !options.keep) return kept;
      const b = batches[Math.floor(index / perBatch)];
      if (!b || index < b.start || index >= b.start + b.count) return undefined;
      const o = (index - b.start) * size;
      const g = toGray({ ...format, data: b.data.subarray(o, o + size) });
      return { width: g.width, height: g.height, data: g.data };
    },
  };
}
