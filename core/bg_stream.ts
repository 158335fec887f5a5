/**
 * The bg side of the analysis scan. The bg can only be fingerprinted where
 * the fg sits, so its coarse frames are kept until the region is known;
 * meanwhile every few frames become probes for the {@link PlacementLock}.
 * Once the caller sets the region, the kept frames and every later one go
 * to the fingerprint workers, and only short windows of frames around
 * chosen moments are kept (for the exact placement search).
 *
 * Memory stays within a budget: when the kept frames outgrow it before the
 * region is known, the oldest are dropped, and the caller decodes that
 * range again later ({@link BgStream.lostBefore}). A bg that fits the
 * budget whole is kept whole ("retained"), so a re-analysis under another
 * placement costs no decode.
 *
 * @module
 */

import type { FingerprintOptions, VideoFeatures } from "./fingerprint_video.ts";
import { fingerprintSink } from "./fingerprint_video.ts";
import { grayAt } from "./coarse_scan.ts";
import { frameBytes, type FrameFormat, type GrayImage } from "./frame.ts";
import type { FrameBatch, Rect } from "./frame_reader.ts";
import type { PlacementLock } from "./stream_lock.ts";

/** Options of {@link BgStream}. */
export interface BgStreamOptions {
  /** Coarse bg frame format (gray or RGB, as the fingerprinters need). */
  readonly format: FrameFormat;
  /** bg frames the probe expects (for the retained decision). */
  readonly frames: number;
  /** Bytes of frames to keep before the region is known. */
  readonly budget: number;
  /**
   * A probe every this many frames (0: no probes). The gap doubles after
   * every {@link PROBES_PER_DOUBLING} probes, so a bg that never matches
   * (unrelated videos) costs the lock a bounded amount of work.
   */
  readonly probeEvery: number;
  /** Receives the probes. */
  readonly lock?: PlacementLock;
}

/** Probes between doublings of the probe gap. */
export const PROBES_PER_DOUBLING = 256;

/** One probe every tenth of a second of bg. */
export function probeInterval(fps: number): number {
  return Math.max(1, Math.round(fps / 10));
}

/** A range of bg frames to keep after the region is set, inclusive. */
export interface FrameWindow {
  /** First bg index. */
  readonly first: number;
  /** Last bg index. */
  readonly last: number;
}

/** See the module doc. */
export class BgStream {
  readonly #o: BgStreamOptions;
  readonly #size: number;
  /** Kept batches, in order (all of them when retained). */
  #kept: FrameBatch[] = [];
  #keptBytes = 0;
  #lostBefore = 0;
  #count = 0;
  #sink?: ReturnType<typeof fingerprintSink>;
  #windows: FrameWindow[] = [];
  #nextProbe = 0;
  #probes = 0;
  #lastProbe = -1;
  #gap = 1;
  readonly #windowFrames = new Map<number, GrayImage>();
  /** True when the whole bg fits the budget: every frame stays in memory. */
  readonly retained: boolean;

  constructor(options: BgStreamOptions) {
    this.#o = options;
    this.#size = frameBytes(options.format);
    this.retained = this.#size * options.frames <= options.budget;
  }

  /** Frames pushed so far. */
  get count(): number {
    return this.#count;
  }

  /** Frames [0, lostBefore) were dropped before the region was known. */
  get lostBefore(): number {
    return this.#lostBefore;
  }

  /** True once the region is set (frames now stream to the workers). */
  get streaming(): boolean {
    return this.#sink !== undefined;
  }

  /** Frames kept now. */
  get keptFrames(): number {
    return this.#keptBytes / this.#size;
  }

  /** Frames between the latest two probes. */
  get probeGap(): number {
    return Math.max(this.#o.probeEvery, this.#gap);
  }

  /** True when the kept frames exceed the budget (time to decide, or drop). */
  get full(): boolean {
    return !this.retained && !this.#sink && this.#keptBytes > this.#o.budget;
  }

  /** Takes the next batch from the decode. */
  async push(batch: FrameBatch): Promise<void> {
    const { probeEvery, lock } = this.#o;
    if (lock && probeEvery > 0 && !this.#sink) {
      const probes = [];
      for (let k = 0; k < batch.count; k++) {
        const index = batch.start + k;
        if (index < this.#nextProbe) continue;
        probes.push({ index, image: this.#gray(batch, k) });
        if (this.#lastProbe >= 0) this.#gap = index - this.#lastProbe;
        this.#lastProbe = index;
        this.#probes++;
        this.#nextProbe = index + probeEvery *
            2 ** Math.floor(this.#probes / PROBES_PER_DOUBLING);
      }
      lock.addProbes(probes);
    }
    this.#count = batch.start + batch.count;
    if (this.#sink) {
      this.#capture(batch);
      if (this.retained) this.#keep(batch);
      await this.#sink.push(batch);
      return;
    }
    this.#keep(batch);
  }

  #keep(batch: FrameBatch): void {
    this.#kept.push(batch);
    this.#keptBytes += batch.data.length;
  }

  /** Drops the oldest kept frames until the budget holds again. */
  trim(): void {
    while (this.full && this.#kept.length > 1) {
      const b = this.#kept.shift()!;
      this.#keptBytes -= b.data.length;
      this.#lostBefore = b.start + b.count;
    }
  }

  /**
   * Sets the region (in coarse pixels) and starts fingerprinting: the kept
   * frames first, then every later frame as it arrives. `windows` name the
   * frames to keep from now on for the exact search.
   */
  async setRegion(
    options:
      & Omit<FingerprintOptions, "format" | "transfer" | "expectedFrames">
      & {
        readonly crop: Rect;
      },
    windows: readonly FrameWindow[] = [],
  ): Promise<void> {
    if (this.#sink) throw new Error("bg region set twice");
    this.#windows = [...windows];
    this.#sink = fingerprintSink({
      ...options,
      format: this.#o.format,
      expectedFrames: this.#o.frames,
      // Kept batches (retained mode) are copied for the workers; others go.
      transfer: !this.retained,
    });
    const kept = this.#kept;
    if (!this.retained) {
      this.#kept = [];
      this.#keptBytes = 0;
    }
    for (const b of kept) {
      this.#capture(b);
      await this.#sink.push(b);
    }
  }

  /**
   * Feeds a batch decoded again for the lost range (same format) to the
   * fingerprints; frames at or past {@link lostBefore} are ignored.
   */
  async pushLost(batch: FrameBatch): Promise<void> {
    if (!this.#sink) throw new Error("bg region not set");
    const count = Math.min(batch.count, this.#lostBefore - batch.start);
    if (count <= 0) return;
    this.#capture({ ...batch, count });
    await this.#sink.push({
      start: batch.start,
      count,
      data: batch.data.subarray(0, count * this.#size),
    });
  }

  /** The region's fingerprints (after the decode and any lost range). */
  async finish(): Promise<VideoFeatures> {
    if (!this.#sink) throw new Error("bg region not set");
    return await this.#sink.finish();
  }

  /** Every kept batch (retained mode), for fingerprinting another region. */
  get batches(): readonly FrameBatch[] | undefined {
    return this.retained ? this.#kept : undefined;
  }

  /** Frame `index` as a coarse gray image, if it is still held. */
  frame(index: number): GrayImage | undefined {
    const w = this.#windowFrames.get(index);
    if (w) return w;
    for (const b of this.#kept) {
      if (index >= b.start && index < b.start + b.count) {
        return this.#gray(b, index - b.start);
      }
    }
    return undefined;
  }

  #capture(batch: FrameBatch): void {
    if (this.retained || this.#windows.length === 0) return;
    for (let k = 0; k < batch.count; k++) {
      const index = batch.start + k;
      if (this.#windows.some((w) => index >= w.first && index <= w.last)) {
        this.#windowFrames.set(index, this.#gray(batch, k));
      }
    }
  }

  #gray(batch: FrameBatch, k: number): GrayImage {
    return grayAt(batch, this.#o.format, k);
  }
}
