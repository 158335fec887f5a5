/**
 * The validation stage: once the frame map and the placement are known,
 * check matched pairs on real pixels. ffmpeg decodes the fg frames and the
 * bg region under the placement, both cropped to where they overlap and
 * scaled to one reduced analysis size (gray); a Validator (by default in a
 * pool of workers) gives every checked pair a confidence in [0, 1].
 *
 * Modes: `all` checks every fg frame in one sequential decode of each
 * video; `sample` checks short runs of consecutive frames spread over the
 * fg (seeking to each run when that decodes fewer frames than reading
 * straight through); `none` checks nothing.
 *
 * @module
 */

import type { FrameBatch, Rect } from "./frame_reader.ts";
import { analysisFilter, decodeRuns, runsPerDecode } from "./frame_reader.ts";
import { analysisRegions } from "./placement.ts";
import type { MediaInfo } from "./probe.ts";
import { seekCost, seekPlan } from "./probe.ts";
import { registry } from "./registry.ts";
import type { Placement, ProgressCallback, Validator } from "./types.ts";
import { unpackPairs, type ValidateBatchTask } from "./validate_tasks.ts";
import type { ValidateInitTask } from "./validate_worker.ts";
import { defaultPoolSize, WorkerPool } from "./worker_pool.ts";

/** Which fg frames to validate. */
export type ValidateMode = "all" | "sample" | "none";

/** The validation modes, for flag parsing. */
export const VALIDATE_MODES: readonly ValidateMode[] = Object.freeze([
  "all",
  "sample",
  "none",
]);

/** Options of {@link validateVideo}. */
export interface ValidateVideoOptions {
  /** The fg's content inside its bars (`--engine mask`): only it is checked. */
  readonly content?: Rect;
  /** Probed fg (its `path` is decoded). */
  readonly fg: MediaInfo;
  /** Probed bg. */
  readonly bg: MediaInfo;
  /** Where the fg sits in the bg. */
  readonly placement: Placement;
  /** bg frame index under each fg frame (non-decreasing). */
  readonly frameMap: Int32Array;
  /** Which frames to check. */
  readonly mode: ValidateMode;
  /** The validator; in workers it is rebuilt from the registry by its name. */
  readonly validator: Validator;
  /** Options the workers build the validator with (default none). */
  readonly validatorOptions?: Record<string, unknown>;
  /** Module URL of the validator when it is a user plugin. */
  readonly validatorModuleUrl?: string;
  /**
   * Worker threads (default: one per core). 0, or a validator the registry
   * cannot build by name, runs it in this thread.
   */
  readonly workers?: number;
  /**
   * Workers that already serve this validator's tasks (the pipeline's
   * analysis workers): used instead of starting a pool of their own.
   */
  readonly pool?: WorkerPool;
  /** Widest analysis frame (default 480; the fg region is scaled down to fit). */
  readonly maxWidth?: number;
  /** Tallest analysis frame (default 480). */
  readonly maxHeight?: number;
  /** `sample` mode: how many runs of frames (default 12). */
  readonly runs?: number;
  /** `sample` mode: frames per run (default 8). */
  readonly runLength?: number;
  /**
   * The check frames from a decode already under way (the encoder's, when
   * composing on a guess: see {@link checkFilters}) instead of seeks into
   * the files.
   */
  readonly frames?: CheckFrames;
  /** Progress sink (stage `validate`). */
  readonly progress?: ProgressCallback;
  /** Aborts the decodes and the workers. */
  readonly signal?: AbortSignal;
}

/**
 * Check frames a caller decodes: exactly the frames of a {@link CheckPlan}'s
 * `fgIndices` and `bgIndices`, in that order, shaped by
 * {@link checkFilters} (gray, the plan's size), packed in batches.
 */
export interface CheckFrames {
  /** The fg frames. */
  readonly fg: AsyncIterable<FrameBatch>;
  /** The bg frames. */
  readonly bg: AsyncIterable<FrameBatch>;
}

/** Which frames a pixel check compares, and how they are shaped. */
export interface CheckPlan {
  /** The runs of fg frames checked. */
  readonly runs: readonly Run[];
  /** fg frames checked, ascending. */
  readonly fgIndices: readonly number[];
  /** Their bg partners, ascending, each once. */
  readonly bgIndices: readonly number[];
  /** Check frame width. */
  readonly width: number;
  /** Check frame height. */
  readonly height: number;
  /** The fg region compared (undefined: the whole fg). */
  readonly fgRegion?: Rect;
  /** The bg region under it. */
  readonly bgRegion: Rect;
  /** Set when both share a pixel format: frames come from the luma plane. */
  readonly sourcePixFmt?: string;
}

/** The stretch of fg frames that validated worst. */
export interface WorstStretch {
  /** First fg index of the stretch. */
  readonly start: number;
  /** Last fg index of the stretch (inclusive). */
  readonly end: number;
  /** Mean confidence over the stretch's validated frames. */
  readonly mean: number;
}

/** What {@link validateVideo} found. */
export interface ValidationResult {
  /** The mode it ran in. */
  readonly mode: ValidateMode;
  /** The validator's name. */
  readonly validator: string;
  /** Confidence per fg frame in [0, 1]; NaN where the frame was not checked. */
  readonly confidence: Float32Array;
  /** fg frames checked. */
  readonly validated: number;
  /** Mean confidence of the checked frames (NaN when none). */
  readonly mean: number;
  /**
   * The worst window: one second of frames in `all` mode, one run in
   * `sample` mode (windows never span unchecked frames). Absent when
   * nothing was checked.
   */
  readonly worst?: WorstStretch;
  /** Analysis frame width. */
  readonly width: number;
  /** Analysis frame height. */
  readonly height: number;
}

/** Frames per `sample` run by default. */
const RUN_LENGTH = 8;

/** Pairs per validator call: ~3.7 MB per batch at 480×270, few messages. */
const PAIR_BATCH = 16;

/** Consecutive fg frames [start, end] checked together. */
interface Run {
  readonly start: number;
  readonly end: number;
}

/**
 * `sample` runs placed where they are cheap to decode: every start is
 * priced (frames decoded from the keyframes before the fg frame and its bg
 * partner, plus the run itself), then the cheapest starts at least
 * count/(2·runs) apart are taken, up to `runs`; beyond the first two, a
 * run is only taken while it costs at most four times its own length (a
 * far run in a 1080p long-GOP file costs over a second). In a
 * long-GOP file a run far from a keyframe costs a whole GOP of decoding, and
 * reading straight through costs both videos: keyframes are spread over the
 * video anyway, so runs next to them still sample all of it.
 */
export function cheapRuns(
  count: number,
  runs: number,
  runLength: number,
  cost: (start: number) => number,
): { start: number; end: number }[] {
  const len = Math.max(1, Math.floor(runLength));
  const k = Math.max(1, Math.floor(runs));
  if (count <= 0) return [];
  if (k * len >= count) return [{ start: 0, end: count - 1 }];
  const starts = Array.from({ length: count - len + 1 }, (_, s) => s);
  const price = starts.map(cost);
  starts.sort((a, b) => price[a] - price[b] || a - b);
  const gap = Math.max(len, Math.floor(count / (2 * k)));
  const picked: number[] = [];
  for (const s of starts) {
    if (picked.length >= k) break;
    if (picked.length >= Math.min(2, k) && price[s] > 4 * 2 * len) break;
    if (picked.every((p) => Math.abs(p - s) >= gap)) picked.push(s);
  }
  return picked.sort((a, b) => a - b).map((s) => ({
    start: s,
    end: s + len - 1,
  }));
}

/**
 * The decode plan: each run on its own (a seek per run), or one span from
 * the first run to the last read straight through, whichever decodes fewer
 * frames.
 */
function decodePlan(
  runs: readonly Run[],
  map: Int32Array,
  fg: MediaInfo,
  bg: MediaInfo,
): Run[] {
  if (runs.length <= 1) return [...runs];
  let seeking = 0;
  for (const r of runs) seeking += runCost(r, map, fg, bg);
  const span = { start: runs[0].start, end: runs[runs.length - 1].end };
  return runCost(span, map, fg, bg) <= seeking ? [span] : [...runs];
}

/** Frames decoded to check one run: both seeks, then both stretches. */
function runCost(r: Run, map: Int32Array, fg: MediaInfo, bg: MediaInfo) {
  return seekCost(fg.keyframes, r.start) + (r.end - r.start + 1) +
    seekCost(bg.keyframes, map[r.start]) + (map[r.end] - map[r.start] + 1);
}

/** One check frame and its index in its video. */
interface IndexedFrame {
  readonly index: number;
  readonly data: Uint8Array;
}

/**
 * Single frames of a decode, in order, with their index in their video:
 * the p-th frame of the stream (from 0) is frame `indexOf(p)`; the stream
 * ends where `indexOf` has none.
 */
async function* indexedFrames(
  batches: AsyncIterable<FrameBatch>,
  size: number,
  indexOf: (position: number) => number | undefined,
): AsyncGenerator<IndexedFrame> {
  let p = 0;
  for await (const b of batches) {
    for (let q = 0; q < b.count; q++, p++) {
      const index = indexOf(p);
      if (index === undefined) return;
      yield { index, data: b.data.subarray(q * size, (q + 1) * size) };
    }
  }
}

/** The analysis size: the fg region scaled to fit the limits (never up). */
function analysisSize(
  region: { width: number; height: number },
  maxWidth: number,
  maxHeight: number,
): { width: number; height: number } {
  const s = Math.min(1, maxWidth / region.width, maxHeight / region.height);
  return {
    width: Math.max(1, Math.round(region.width * s)),
    height: Math.max(1, Math.round(region.height * s)),
  };
}

/**
 * The frames a pixel check compares (`sample` runs where they are cheap to
 * decode, every frame in `all` mode, none in `none`) and their shape.
 * Throws on a map that steps back or leaves the bg, or an unknown mode.
 */
export function checkPlan(
  options: Pick<
    ValidateVideoOptions,
    | "fg"
    | "bg"
    | "frameMap"
    | "mode"
    | "placement"
    | "content"
    | "maxWidth"
    | "maxHeight"
    | "runs"
    | "runLength"
  >,
): CheckPlan {
  const { fg, bg, frameMap: map, mode } = options;
  const n = map.length;
  for (let i = 0; i < n; i++) {
    if (
      !(map[i] >= 0 && map[i] < bg.frames) || (i > 0 && map[i] < map[i - 1])
    ) {
      throw new RangeError(
        `frame map must be non-decreasing within the bg: map[${i}] = ${map[i]}`,
      );
    }
  }
  if (!VALIDATE_MODES.includes(mode)) {
    throw new RangeError(`validate mode must be all, sample or none: ${mode}`);
  }
  const regions = analysisRegions(fg, bg, options.placement, options.content);
  const fgRect: Rect = regions.fg ??
    { x: 0, y: 0, width: fg.width, height: fg.height };
  const { width, height } = analysisSize(
    fgRect,
    options.maxWidth ?? 480,
    options.maxHeight ?? 480,
  );
  const runLength = options.runLength ?? RUN_LENGTH;
  const runs: Run[] = mode === "none" || n === 0
    ? []
    : mode === "all"
    ? [{ start: 0, end: n - 1 }]
    : cheapRuns(
      n,
      options.runs ?? 12,
      runLength,
      (s) =>
        runCost(
          { start: s, end: Math.min(n - 1, s + runLength - 1) },
          map,
          fg,
          bg,
        ),
    );
  const fgIndices: number[] = [], bgIndices: number[] = [];
  for (const r of runs) {
    for (let i = r.start; i <= r.end; i++) {
      fgIndices.push(i);
      if (bgIndices[bgIndices.length - 1] !== map[i]) bgIndices.push(map[i]);
    }
  }
  return {
    runs,
    fgIndices,
    bgIndices,
    width,
    height,
    fgRegion: regions.fg,
    bgRegion: regions.bg,
    // Frames on the luma plane when both share a pixel format (cheapest);
    // otherwise ffmpeg converts both to full-range gray so their levels
    // agree.
    sourcePixFmt: fg.pixFmt === bg.pixFmt ? fg.pixFmt : undefined,
  };
}

/**
 * ffmpeg filter chains that turn every decoded frame of a video (counted
 * from its first) into the plan's check frames: its frames selected, then
 * shaped as a seek to them would (so both paths check the same pixels).
 */
export function checkFilters(plan: CheckPlan): { fg: string; bg: string } {
  const format = {
    width: plan.width,
    height: plan.height,
    channels: 1 as const,
  };
  const shape = (indices: readonly number[], crop: Rect | undefined) =>
    `${selectFrames(indices)},${
      analysisFilter({
        path: "",
        format,
        crop,
        sourcePixFmt: plan.sourcePixFmt,
      })
    }`;
  return {
    fg: shape(plan.fgIndices, plan.fgRegion),
    bg: shape(plan.bgIndices, plan.bgRegion),
  };
}

/** A `select` filter passing frames `indices` (ascending), as ranges. */
function selectFrames(indices: readonly number[]): string {
  const ranges: string[] = [];
  for (let k = 0; k < indices.length;) {
    let e = k;
    while (e + 1 < indices.length && indices[e + 1] === indices[e] + 1) e++;
    ranges.push(`between(n\\,${indices[k]}\\,${indices[e]})`);
    k = e + 1;
  }
  return `select='${ranges.length ? ranges.join("+") : "0"}'`;
}

/**
 * Validates matched pairs on real pixels; see the module doc. Resolves with
 * a confidence per fg frame and a summary.
 */
export async function validateVideo(
  options: ValidateVideoOptions,
): Promise<ValidationResult> {
  const { fg, bg, frameMap: map, mode, validator } = options;
  const n = map.length;
  const plan = checkPlan(options);
  const { width, height } = plan;
  const confidence = new Float32Array(n).fill(NaN);
  const empty: ValidationResult = {
    mode,
    validator: validator.name,
    confidence,
    validated: 0,
    mean: NaN,
    width,
    height,
  };
  const wanted = plan.runs;
  if (wanted.length === 0) return empty;
  const wantedSet = new Uint8Array(n);
  for (const i of plan.fgIndices) wantedSet[i] = 1;
  const total = plan.fgIndices.length;
  const size = width * height;
  const workers = options.workers ?? defaultPoolSize();
  const buildable = options.validatorModuleUrl !== undefined ||
    registry.workerSpec("validator", validator.name) !== undefined;
  const pool = options.pool ?? (workers > 0 && buildable
    ? new WorkerPool(
      new URL("./validate_worker.ts", import.meta.url),
      Math.min(workers, Math.max(1, Math.ceil(total / PAIR_BATCH))),
      {
        type: "init",
        name: validator.name,
        options: options.validatorOptions,
        moduleUrl: options.validatorModuleUrl,
      } satisfies ValidateInitTask,
    )
    : undefined);
  const sourcePixFmt = plan.sourcePixFmt;

  const inFlight = new Set<Promise<void>>();
  let failure: unknown;
  let done = 0;
  const dispatch = (
    indices: number[],
    fgData: Uint8Array,
    bgData: Uint8Array,
  ) => {
    const task: ValidateBatchTask = {
      type: "pairs",
      width,
      height,
      count: indices.length,
      fg: fgData,
      bg: bgData,
    };
    const run = pool
      ? pool.run<Float32Array>(task, [
        fgData.buffer as ArrayBuffer,
        bgData.buffer as ArrayBuffer,
      ])
      : Promise.resolve(validator.validate(unpackPairs(task)));
    const p: Promise<void> = run
      .then((values) => {
        indices.forEach((i, k) => {
          const v = values[k];
          confidence[i] = v >= 0 ? (v <= 1 ? v : 1) : 0;
        });
        done += indices.length;
        options.progress?.("validate", done, total);
      })
      .catch((err) => {
        failure ??= err;
      })
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
  };
  const maxInFlight = Math.max(1, (pool?.size ?? 1) * 2);

  /** Checks the wanted pairs of two frame streams. */
  const pairUp = async (
    fgFrames: AsyncGenerator<IndexedFrame>,
    bgFrames: AsyncGenerator<IndexedFrame>,
  ) => {
    let bgFrame: IndexedFrame | undefined;
    // Asked for now, so both decodes start together (a generator starts
    // its decode on the first request).
    let bgFirst: Promise<IteratorResult<IndexedFrame>> | undefined = bgFrames
      .next();
    bgFirst.catch(() => {});
    let indices: number[] = [];
    let fgData = new Uint8Array(PAIR_BATCH * size);
    let bgData = new Uint8Array(PAIR_BATCH * size);
    try {
      for await (const f of fgFrames) {
        const j = map[f.index];
        while (!bgFrame || bgFrame.index < j) {
          const next = await (bgFirst ?? bgFrames.next());
          bgFirst = undefined;
          if (next.done) break;
          bgFrame = next.value;
        }
        // A bg decode that ends early (a truncated file) leaves the last
        // frames unchecked rather than paired with the wrong picture.
        if (!bgFrame || bgFrame.index !== j) break;
        if (!wantedSet[f.index]) continue;
        const k = indices.length;
        fgData.set(f.data, k * size);
        bgData.set(bgFrame.data, k * size);
        indices.push(f.index);
        if (indices.length === PAIR_BATCH) {
          dispatch(indices, fgData, bgData);
          indices = [];
          fgData = new Uint8Array(PAIR_BATCH * size);
          bgData = new Uint8Array(PAIR_BATCH * size);
          if (inFlight.size >= maxInFlight) await Promise.race(inFlight);
          if (failure) throw failure;
        }
      }
      if (indices.length > 0) {
        dispatch(
          indices,
          fgData.slice(0, indices.length * size),
          bgData.slice(0, indices.length * size),
        );
      }
    } finally {
      await Promise.all([
        fgFrames.return(undefined),
        bgFrames.return(undefined),
      ]);
    }
  };

  options.progress?.("validate", 0, total);
  try {
    if (options.frames) {
      const { fgIndices, bgIndices } = plan;
      await pairUp(
        indexedFrames(options.frames.fg, size, (p) => fgIndices[p]),
        indexedFrames(options.frames.bg, size, (p) => bgIndices[p]),
      );
    } else {
      // One ffmpeg per video decodes the runs in turn (see decodeRuns), a
      // few at a time for big frames; the two videos decode side by side.
      // A run's frames come in order, and the runs' bg stretches never step
      // back (the map does not).
      const runs = decodePlan(wanted, map, fg, bg);
      const decode = (
        video: MediaInfo,
        crop: Rect | undefined,
        stretches: { first: number; last: number }[],
      ) => {
        const indices = stretches.flatMap(({ first, last }) =>
          Array.from({ length: last - first + 1 }, (_, k) => first + k)
        );
        const batches = decodeRuns(
          {
            path: video.path,
            format: { width, height, channels: 1 },
            crop,
            sourcePixFmt,
            batch: PAIR_BATCH,
            signal: options.signal,
          },
          stretches.map(({ first, last }) => ({
            start: seekPlan(video, first),
            count: last - first + 1,
          })),
          runsPerDecode(video),
        );
        return indexedFrames(batches, size, (p) => indices[p]);
      };
      await pairUp(
        decode(
          fg,
          plan.fgRegion,
          runs.map((r) => ({ first: r.start, last: r.end })),
        ),
        decode(
          bg,
          plan.bgRegion,
          runs.map((r) => ({ first: map[r.start], last: map[r.end] })),
        ),
      );
    }
    await Promise.all(inFlight);
    if (failure) throw failure;
  } finally {
    // A borrowed pool belongs to its owner.
    if (pool !== options.pool) pool?.terminate();
  }
  return summarise(
    { ...empty, confidence },
    wanted,
    mode === "all"
      ? Math.max(1, Math.round(fg.fps))
      : options.runLength ?? RUN_LENGTH,
  );
}

/**
 * Mean and worst stretch of the checked frames: windows of `window` frames
 * inside each run (a run shorter than that is one window).
 */
export function summarise(
  base: ValidationResult,
  runs: readonly Run[],
  window: number,
): ValidationResult {
  const c = base.confidence;
  let sum = 0, validated = 0;
  for (const v of c) {
    if (v === v) {
      sum += v;
      validated++;
    }
  }
  let worst: WorstStretch | undefined;
  for (const r of runs) {
    // Checked frames of the run, in order (a short decode may miss some).
    const idx: number[] = [];
    for (let i = r.start; i <= r.end; i++) if (c[i] === c[i]) idx.push(i);
    if (idx.length === 0) continue;
    const w = Math.min(Math.max(1, window), idx.length);
    let s = 0;
    for (let k = 0; k < w; k++) s += c[idx[k]];
    for (let k = w;; k++) {
      const mean = s / w;
      if (!worst || mean < worst.mean) {
        worst = { start: idx[k - w], end: idx[k - 1], mean };
      }
      if (k >= idx.length) break;
      s += c[idx[k]] - c[idx[k - w]];
    }
  }
  return {
    ...base,
    validated,
    mean: validated ? sum / validated : NaN,
    worst,
  };
}
