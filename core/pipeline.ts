/**
 * The `comp` pipeline: probe → locate → fingerprint both videos → align →
 * map → pin the placement → compose, with per-stage timings.
 *
 * @module
 */

import {
  checkPlan,
  type ValidateMode,
  validateVideo,
  type ValidationResult,
} from "./validate_video.ts";
import { detectContent, scaleRect } from "./letterbox.ts";
import {
  describeStretches,
  outsideBg,
  type UncoveredStretch,
  uncoveredStretches,
} from "./coverage.ts";
import { compose } from "./compose.ts";
import { fgLargerThanBg, NoMatchError } from "./errors.ts";
import {
  coveringFormat,
  frameBytes,
  type FrameFormat,
  type GrayImage,
} from "./frame.ts";
import {
  analysisFilter,
  decodeFrames,
  type Rect,
  shrinksTwice,
} from "./frame_reader.ts";
import { mixCostModel, parseFingerprintSpec } from "./fingerprint_mix.ts";
import {
  fingerprintBatches,
  fingerprintSink,
  fingerprintVideo,
  type VideoFeatures,
} from "./fingerprint_video.ts";
import {
  type CoarseScanner,
  grayAt,
  scanCoarse,
  type ScanDecodeOptions,
} from "./coarse_scan.ts";
import { BgStream, type FrameWindow, probeInterval } from "./bg_stream.ts";
import { SIDE_OUTPUTS_AVAILABLE, SideOutput } from "./side_output.ts";
import { encoderCheck } from "./encoder_check.ts";
import {
  earlyPicks,
  type Guess,
  guessHeld,
  oneRunMap,
  oneRunStart,
  sameRate,
} from "./speculation.ts";
import {
  agreeingPairs,
  lockSampleIndices,
  PlacementLock,
} from "./stream_lock.ts";
import { nearestIndex } from "./timeline.ts";
import { sameFramesFactor, scaledTimeline } from "./playback_speed.ts";
import type {
  FingerprinterSpec,
  InitTask,
  LockTask,
  WindowTask,
} from "./fingerprint_worker.ts";
import { type Logger, silentLogger } from "./log.ts";
import {
  defaultOutputPath,
  prepareOutput,
  removeQuietly,
  temporaryPath,
} from "./output_path.ts";
import {
  analysisRegions,
  type CoarsePlacement,
  coarsePlacement,
  coarseSizes,
  exactCandidates,
  exactMemo,
  exactPlacement,
  refineFrames,
} from "./placement.ts";
import { type MediaInfo, probe } from "./probe.ts";
import { checkFfmpeg, stopAbortedChildren } from "./process.ts";
import { release } from "./release.ts";
import {
  foundOrThrow,
  type WindowReply,
  type WindowSearcher,
} from "./window_search.ts";
import { type Registry, registry as defaultRegistry } from "./registry.ts";
import type { Alignment, Placement, Timeline } from "./types.ts";
import { defaultPoolSize, WorkerPool } from "./worker_pool.ts";

/**
 * Most bytes of coarse bg frames kept in memory: before the placement is
 * known (see `BgStream`), and for the whole run when the whole bg fits (a
 * re-analysis under another placement then costs no decode). 8 s of
 * 1080p60 at 480×270 takes 66 MB and does not fit; 10 s of 384×216 at 30
 * fps takes 25 MB and does.
 */
export const KEEP_BYTES = 48 * 1024 * 1024;

/**
 * Longest bg (seconds) whose 40 spread samples lie close enough in time
 * (≤ 1 s apart) to give a placement worth weighing against the lock's.
 */
const DENSE_SPREAD_SECONDS = 40;

/** Most bytes of coarse fg frames kept as exact-search candidates. */
const KEEP_FG_BYTES = 16 * 1024 * 1024;

/**
 * Coarse NCC the locator must reach on the lock's pairs for the placement
 * to be taken from them (same-moment pairs of the same picture score 0.95
 * and more; below this the spread samples decide at the end).
 */
const LOCK_CONFIDENCE = 0.8;

/** Default fingerprint combination: see README "Temporal alignment". */
export const DEFAULT_FINGERPRINT = "thumb";

/** Options of {@link composite}. */
export interface CompositeOptions {
  /** Background video. */
  readonly bg: string;
  /** Foreground video (the master: every fg frame, its rate, its audio). */
  readonly fg: string;
  /** Output file; default `{bgstem}_overlay_{fgstem}.mp4` in the cwd. */
  readonly output?: string;
  /** Aligner name (default `dtw`). */
  readonly temporalAlign?: string;
  /** Fingerprint spec, e.g. `phash:0.5,thumb` (default {@link DEFAULT_FINGERPRINT}). */
  readonly fingerprint?: string;
  /** Mapper name (default `interp`). */
  readonly mapper?: string;
  /** Locator name (default `template`). */
  readonly locator?: string;
  /** DTW band half-width in bg frames; 0 = automatic. */
  readonly window?: number;
  /** Fixed x of the fg (skips the spatial search; missing y is 0). */
  readonly xShift?: number;
  /** Fixed y of the fg. */
  readonly yShift?: number;
  /** Place the fg at (0, 0), unscaled. */
  readonly zeroShift?: boolean;
  /** Only 100% scale (default true). */
  readonly unscaled?: boolean;
  /** Spatial precision 0..4 (default 2). */
  readonly alignPrecision?: number;
  /** x264 preset (default `veryfast`). */
  readonly preset?: string;
  /** x264 CRF (default 18). */
  readonly crf?: number;
  /** Align and report without writing video. */
  readonly dryRun?: boolean;
  /** Replace an existing output. */
  readonly overwrite?: boolean;
  /**
   * `full` (default) composes the whole fg; `mask` finds the fg's black bars
   * and compares and composes only the content inside them.
   */
  readonly engine?: "full" | "mask";
  /** Feather the fg's edges over visible bg. */
  readonly smooth?: boolean;
  /** Feather width in px with `smooth` (default 8). */
  readonly margin?: number;
  /** Which fg frames to check on real pixels (default `sample`). */
  readonly validate?: ValidateMode;
  /** Validator name (default `msssim`). */
  readonly validator?: string;
  /** Compose even when the fg does not seem to be in the bg. */
  readonly force?: boolean;
  /** Worker count (default: one per core). */
  readonly workers?: number;
  /**
   * Bytes of coarse bg frames kept in memory (default {@link KEEP_BYTES}).
   * A bg that fits is kept whole; a bigger one streams (frames are kept
   * only until the placement is known). Benches and tests lower it to make
   * small videos stream.
   */
  readonly keepBytes?: number;
  /**
   * Start composing on the lock's early guess and let the encoder's own
   * decode feed the rest of the analysis (default true; see
   * `speculation.ts`). The output is the same either way.
   */
  readonly speculate?: boolean;
  /** Reporting sink (default silent). */
  readonly logger?: Logger;
  /** Plugin registry (default: the built-in one). */
  readonly registry?: Registry;
  /** Abort the run; children are killed and temp files removed. */
  readonly signal?: AbortSignal;
}

/** What {@link composite} found and did. */
export interface CompositeResult {
  /** Output path, absent on a dry run. */
  readonly output?: string;
  /** Probed fg. */
  readonly fg: MediaInfo;
  /** Probed bg. */
  readonly bg: MediaInfo;
  /** Where the fg sits in the bg. */
  readonly placement: Placement;
  /** The fg's content inside its bars, with `engine: "mask"` (fg pixels). */
  readonly content?: Rect;
  /** bg time minus fg time of the same moment, in seconds. */
  readonly offsetSeconds: number;
  /** bg fps / fg fps. */
  readonly fpsRatio: number;
  /**
   * How fast the bg plays the fg's content: 1 in real time; bg fps / fg fps
   * when it shows the same frames at its own rate (e.g. 25/24 for film
   * sped up to PAL). `offsetSeconds` is then measured at fg frame 0.
   */
  readonly speed: number;
  /** bg frame index under each fg frame. */
  readonly frameMap: Int32Array;
  /** Similarity of each matched pair, 0..1 (1 − fingerprint cost). */
  readonly similarity: Float32Array;
  /** fg frames whose similarity is at least {@link MATCH_THRESHOLD}. */
  readonly matchedFrames: number;
  /** Mean similarity. */
  readonly meanSimilarity: number;
  /** Pixel validation of the matched pairs (absent with validate `none`). */
  readonly validation?: ValidationResult;
  /** Runs of fg frames without a match in the bg (e.g. a fg longer than the bg). */
  readonly uncovered: readonly UncoveredStretch[];
  /** Seconds spent per stage. */
  readonly timings: Record<string, number>;
  /**
   * `held`: the encoder started on the lock's early guess and the analysis
   * confirmed it (one encode); `missed`: it did not, and the video was
   * composed again; `none`: no guess was composed on.
   */
  readonly guess: "held" | "missed" | "none";
  /** The plugins that did the work, by kind (fingerprint: the spec used). */
  readonly plugins: {
    readonly aligner: string;
    readonly fingerprint: string;
    readonly mapper: string;
    readonly locator: string;
    readonly validator: string;
  };
}

/** The ways out of a fg larger than the bg, in `comp`'s flags. */
export const COMP_LARGER_FG_HINT =
  "pass --unscaled false if the bg holds it smaller, give the placement with --x-shift/--y-shift, or swap --fg and --bg";

/** Similarity at or above which an fg frame counts as matched. */
export const MATCH_THRESHOLD = 0.5;

/** Below this mean similarity the fg is judged not to be in the bg. */
export const NO_MATCH_THRESHOLD = 0.35;

/**
 * How much better (mean similarity) the same-frames hypothesis must match
 * than real time to win: on the 24 ↔ 25 fps tests it leads by ~0.01 when
 * true and trails when not; near-static footage scores both alike.
 */
const SAME_FRAMES_MARGIN = 0.002;

/**
 * Confidence (NCC on the coarse samples) at which a no-match at 100% names
 * the scale where the fg was found instead: the true picture in picture of
 * the tests scores 0.99; the locator's notes say an absent fg can still
 * reach ~0.8 at a tiny scale against blurred fill.
 */
const SCALED_HINT_CONFIDENCE = 0.9;

/**
 * Mean validator confidence below which the fg is not in the bg: matched
 * pairs score 0.9–1, pairs a few pixels or frames off 0.75–0.98, unrelated
 * pictures 0.1–0.2 (measured on the test fixtures).
 */
export const NO_MATCH_VALIDATION = 0.5;

/**
 * Decoder threads of the two analysis decodes: two of similar weight run
 * side by side, one thread each, which keeps the cores busy without
 * frame-threading overhead (~5% faster here); a much lighter one would
 * leave a core idle, so then ffmpeg chooses (undefined).
 */
export function analysisThreads(
  fg: MediaInfo,
  bg: MediaInfo,
): number | undefined {
  const weight = (m: MediaInfo) => m.width * m.height * m.frames;
  return Math.max(weight(fg), weight(bg)) <=
      2 * Math.min(weight(fg), weight(bg))
    ? 1
    : undefined;
}

/** Overlays the fg onto the bg with automatic spatial and temporal alignment. */
export async function composite(
  options: CompositeOptions,
): Promise<CompositeResult> {
  // The temporary output (written early when composing on a guess) is
  // removed on any failure; on success it has been renamed into place.
  const files: Files = {};
  // The run's own signal: it also fires when the run fails, so no decode
  // still in flight on the other side of a Promise.all outlives the run.
  const run = new AbortController();
  const forward = () => run.abort(options.signal?.reason);
  if (options.signal?.aborted) forward();
  options.signal?.addEventListener("abort", forward);
  try {
    return await compositeInto({ ...options, signal: run.signal }, files);
  } catch (err) {
    run.abort(err);
    await files.stopEncoder?.();
    await stopAbortedChildren();
    if (files.temp) await removeQuietly(files.temp);
    throw err;
  } finally {
    options.signal?.removeEventListener("abort", forward);
    files.pool?.terminate();
  }
}

/** What a failing run must clean up. */
interface Files {
  /** The temporary output. */
  temp?: string;
  /** Stops an encoder still running (composing on a guess) and waits for it. */
  stopEncoder?: () => Promise<void>;
  /** The analysis workers. */
  pool?: WorkerPool;
}

async function compositeInto(
  options: CompositeOptions,
  files: Files,
): Promise<CompositeResult> {
  const log = options.logger ?? silentLogger;
  const reg = options.registry ?? defaultRegistry;
  const timings: Record<string, number> = {};
  const t0 = performance.now();
  let mark = t0;
  const lap = (stage: string) => {
    // Every stage boundary honours an interrupt: no work on half the frames.
    options.signal?.throwIfAborted();
    const now = performance.now();
    timings[stage] = (timings[stage] ?? 0) + (now - mark) / 1000;
    mark = now;
    log.debug(
      `${stage}: ${timings[stage].toFixed(2)} s, rss ${
        (Deno.memoryUsage().rss / 1048576).toFixed(0)
      } MB`,
    );
  };

  // Build every plugin first: a typo in a flag fails before any work.
  const aligner = await reg.create("aligner", options.temporalAlign ?? "dtw");
  const mapper = await reg.create("mapper", options.mapper ?? "interp");
  const precision = options.alignPrecision ?? 2;
  if (!Number.isInteger(precision) || precision < 0 || precision > 4) {
    throw new RangeError(`--align-precision must be 0..4, got ${precision}`);
  }
  // refine() takes no precision argument: the locator is made with it.
  const locatorName = options.locator ?? "template";
  const locatorOptions = { refinePrecision: precision };
  const locator = await reg.create("locator", locatorName, locatorOptions);
  // Undefined for a locator that no worker can build: its windows stay here.
  const workerLocator = reg.workerSpec("locator", locatorName, locatorOptions);
  const validatorName = options.validator ?? "msssim";
  const validator = await reg.create("validator", validatorName);
  const fingerprintSpec = options.fingerprint ??
    aligner.preferredFingerprint ?? DEFAULT_FINGERPRINT;
  const mix = parseFingerprintSpec(fingerprintSpec);
  const fingerprinters = await Promise.all(
    mix.map((m) => reg.create("fingerprinter", m.name)),
  );

  // The ffmpeg check runs alongside the probes; its clear message wins.
  const check = checkFfmpeg();
  const probes = Promise.all([
    probe(options.fg, "fg"),
    probe(options.bg, "bg"),
  ]);
  probes.catch(() => {});
  await check;
  const [fg, bg] = await probes;
  const output = options.dryRun
    ? undefined
    : options.output ?? defaultOutputPath(options.bg, options.fg);
  if (output) {
    await prepareOutput(output, [options.bg, options.fg], !!options.overwrite);
    files.temp = temporaryPath(output);
  }
  log.debug(describe("fg", fg));
  log.debug(describe("bg", bg));
  lap("probe");

  // One coarse decode of each video. fg fingerprints stream to the workers
  // while it decodes; bg frames are kept (within a budget) until the
  // placement is known, then fingerprinted where the fg sits as they arrive.
  // The placement comes from the lock's same-moment pairs once it is sure
  // and the kept frames fill their budget, else at the end of the decode.
  const unscaled = options.unscaled ?? true;
  const { bw, bh, fw, fh, s: coarseScale } = coarseSizes(fg, bg, unscaled);
  const channels = coveringFormat(fingerprinters.map((f) => f.input)).channels;
  const fgFormat = { width: fw, height: fh, channels };
  const bgFormat = { width: bw, height: bh, channels };
  const specs: FingerprinterSpec[] = mix.map((m) => ({
    name: m.name,
    moduleUrl: reg.moduleUrl("fingerprinter", m.name),
  }));
  // The validator is served by the same workers (no second pool).
  const validatorUrl = reg.moduleUrl("validator", validatorName);
  const init: InitTask = {
    type: "init",
    fingerprinters: specs,
    validator: { name: validatorName, moduleUrl: validatorUrl },
    // The exact placement's windows are searched there too, side by side.
    locator: workerLocator,
  };
  const pool = new WorkerPool(
    new URL("./fingerprint_worker.ts", import.meta.url),
    options.workers ?? defaultPoolSize(),
    init,
  );
  files.pool = pool;
  // The exact placement's windows are searched side by side in the workers
  // when nothing else runs; a comp searches them here, one after another:
  // its encoder holds both cores, and two windows' working sets at once
  // (~35 MB) would set the run's peak.
  const searchWindows: WindowSearcher | undefined = output || !workerLocator
    ? undefined
    : async (w) => {
      // Own copies, handed over: a kept frame is a view on its decode
      // batch, and sending the view would copy the whole batch with it.
      const own = (images: readonly GrayImage[]) =>
        images.map((g) => ({
          width: g.width,
          height: g.height,
          data: g.data.slice(),
        }));
      const task: WindowTask = {
        ...w,
        type: "window",
        fg: own(w.fg),
        bg: own(w.bg),
      };
      const buffers = [...task.fg, ...task.bg].map((g) =>
        g.data.buffer as ArrayBuffer
      );
      return foundOrThrow(
        await pool.run<WindowReply>(task, buffers),
        locator.name,
      );
    };
  const fixed = options.zeroShift ||
    options.xShift !== undefined || options.yShift !== undefined;
  if (!fixed && unscaled) {
    if (fg.width > bg.width || fg.height > bg.height) {
      pool.terminate();
      throw fgLargerThanBg(fg, bg, COMP_LARGER_FG_HINT);
    }
  }
  const fixedPlacement: Placement = {
    x: options.zeroShift ? 0 : options.xShift ?? 0,
    y: options.zeroShift ? 0 : options.yShift ?? 0,
    scale: 1,
    confidence: 1,
  };
  const mask = options.engine === "mask";
  // Composing on the lock's guess (see speculation.ts): same frame rates,
  // 100%, the whole fg, an output to write.
  const speculative = options.speculate !== false && output !== undefined &&
    !fixed && unscaled && !mask && SIDE_OUTPUTS_AVAILABLE && sameRate(fg, bg);

  const scanThreads = analysisThreads(fg, bg);
  // The lock searches at 100% only: a scale search per probe would cost
  // seconds. Scaled searches decide at the end of the decode.
  const lockTask = (
    samples: readonly GrayImage[],
    probes: readonly GrayImage[],
  ) => pool.run<Float32Array>({ type: "lock", samples, probes } as LockTask);
  const lock = !fixed && unscaled
    ? new PlacementLock({
      fg: { width: fw, height: fh },
      bg: { width: bw, height: bh },
    }, lockTask)
    : undefined;
  const bgStream = new BgStream({
    format: bgFormat,
    frames: bg.frames,
    budget: options.keepBytes ?? KEEP_BYTES,
    probeEvery: lock ? probeInterval(bg.fps) : 0,
    lock,
  });
  // The exact search looks this many bg frames around each match (the
  // coarse pair can be a few tenths of a second off along a pan).
  const span = Math.max(4, Math.min(16, Math.ceil(0.4 * bg.fps)));
  // Candidates of the exact search, kept at the coarse scale: every fg
  // frame when they are few, else short runs spread over the fg.
  const candidates = frameBytes(fgFormat) * fg.frames <= KEEP_FG_BYTES
    ? new Set(Array.from({ length: fg.frames }, (_, i) => i))
    : exactCandidates(fg);
  // Composing on a guess pins the pixel early, on the fg's first frames.
  if (speculative) {
    for (let i = 0; i < Math.min(6, fg.frames); i++) candidates.add(i);
  }
  let result;
  let scaledSearch: (() => Promise<CoarsePlacement>) | undefined;
  // fg times × fgClock = the bg clock of its frames (1: real time; see
  // playback_speed.ts for frames retimed to another rate).
  let fgClock = 1;
  let placement: Placement | undefined;
  let offsetHint: number | undefined;
  let content: Rect | undefined;

  /** The bg region under a placement, in coarse pixels. */
  const coarseRegion = (at: Placement): Rect => {
    const r = analysisRegions(fg, bg, at, content).bg;
    return {
      x: r.x * bw / bg.width,
      y: r.y * bh / bg.height,
      width: r.width * bw / bg.width,
      height: r.height * bh / bg.height,
    };
  };
  /**
   * bg frames to keep for the exact search: around each candidate's moment
   * (a hint from the lock's probes can be half a probe gap off; one pinned
   * on same-moment frames cannot).
   */
  const windowsAt = (
    hint: number | undefined,
    pinned: boolean,
  ): FrameWindow[] => {
    if (hint === undefined || bgStream.retained) return [];
    const slack = span + (pinned ? 0 : probeInterval(bg.fps)) + 2;
    return [...candidates].map((i) => {
      const t = fg.times[Math.min(i, fg.times.length - 1)] + hint;
      const j = nearestIndex(bg.times, bg.times.length, t);
      return { first: j - slack, last: j + slack };
    });
  };
  const startStreaming = async (
    at: Placement,
    hint?: number,
    pinned = false,
  ) => {
    placement = at;
    offsetHint = hint;
    await bgStream.setRegion({
      crop: coarseRegion(at),
      fingerprinters,
      pool,
      label: "fingerprint bg",
      progress: log.progress,
    }, windowsAt(hint, pinned));
    // Awaited after the scans (a failure surfaces there).
    decodeLost().catch(() => {});
  };
  let lostDecode: Promise<void> | undefined;
  /**
   * Decodes again the bg frames dropped before the placement was known
   * (once the bg streams to the fingerprints, none are dropped any more).
   * Started as soon as the placement is decided mid-decode, it runs beside
   * the rest of the bg decode, in CPU the scans leave idle, rather than
   * after it.
   */
  const decodeLost = () =>
    lostDecode ??= (async () => {
      const lost = bgStream.lostBefore;
      if (lost === 0) return;
      log.debug(`decoding bg frames 0–${lost - 1} again`);
      for await (
        const b of decodeFrames({
          path: bg.path,
          format: bgFormat,
          sourcePixFmt: bg.pixFmt,
          skipLoopFilter: shrinksTwice(bg, bgFormat),
          maxFrames: lost,
          batch: 16,
          signal: options.signal,
        })
      ) await bgStream.pushLost(b);
    })();
  /** The placement from the lock's pairs, when the locator confirms them. */
  const fromLock = async (
    minPairs: number,
  ): Promise<CoarsePlacement | undefined> => {
    const found = lock?.pairs((j) => bgStream.frame(j), {
      max: 6,
      reach: Math.ceil(bgStream.probeGap / 2),
    }) ?? [];
    // Same-moment pairs agree within a frame and a half.
    const pairs = agreeingPairs(found, fg.times, bg.times, 1.5 / bg.fps);
    // Two same-moment pairs matching near-perfectly (NCC ≥ 0.99 at coarse
    // scale; other moments of moving content score 0.97–0.99) outweigh
    // three that merely agree.
    const enough = pairs.length >= minPairs ||
      (pairs.length >= 2 && pairs[0].score >= 0.99);
    if (!enough) return undefined;
    const c = await coarsePlacement(
      fg,
      bg,
      locator,
      { images: pairs.map((p) => p.fgImage), indices: pairs.map((p) => p.fg) },
      { images: pairs.map((p) => p.bgImage), indices: pairs.map((p) => p.bg) },
      { unscaled, precision },
    );
    return c.placement.confidence >= LOCK_CONFIDENCE ? c : undefined;
  };
  const announce = (c: CoarsePlacement, how: string) =>
    log.debug(
      `coarse placement (${how}) x=${c.placement.x} y=${c.placement.y} (±${c.uncertainty} px) ncc=${
        c.placement.confidence.toFixed(3)
      } offset hint ${
        c.offsetHint?.toFixed(3)
      } s, at bg frame ${bgStream.count}`,
    );
  let early: CoarsePlacement | undefined; // the lock's decision mid-decode
  let guess: Guess | undefined;
  // The exact searches of the run share their work (see ExactMemo).
  const memo = exactMemo();
  let guessComposing: Promise<void> | undefined;
  let guessChecked: Promise<ValidationResult> | undefined;
  /**
   * Pins the placement on the first picks the kept frames allow, then
   * composes on the guess (one run from bg frame `start`) while the
   * encoder's side outputs carry both analysis decodes to their end, and
   * the pixel check of the guess runs beside it. Undefined when no pick is
   * available yet (nothing composed).
   */
  const composeOnGuess = async (
    start: number,
    at: Placement,
    fgScan: CoarseScanner,
    bgScan: CoarseScanner,
  ): Promise<Guess | undefined> => {
    const picks = earlyPicks(
      candidates,
      start,
      fgScan.count,
      bgStream.count,
      span,
    );
    if (picks.length === 0 || !files.temp) return undefined;
    const exact = await exactPlacement(fg, bg, locator, picks, span, {
      unscaled,
      precision,
      signal: options.signal,
      coarse: { fg: (i) => fgScan.frame(i), bg: (j) => bgStream.frame(j) },
      current: at,
      // The guess follows the moved moment; the final analysis weighs it.
      weighStay: false,
      memo,
      search: searchWindows,
    });
    const first = start + exact.shift;
    if (first < 0 || first + fg.frames > bg.frames) return undefined;
    const g: Guess = {
      placement: exact.placement,
      frameMap: oneRunMap(first, fg.frames),
    };
    lap("refine");
    // The bg region (and the lock's answer, for the second opinion) from
    // the pinned pixel and moment.
    const hint = bg.times[first] - fg.times[0];
    early = { ...early!, placement: exact.placement, offsetHint: hint };
    await startStreaming(exact.placement, hint, true);
    log.debug(
      `composing on a guess: (${g.placement.x}, ${g.placement.y}), bg frames from ${first}`,
    );
    const dir = await Deno.makeTempDir({ prefix: "vidkompy-" });
    const sides = await Promise.all([
      SideOutput.open(dir, frameBytes(bgFormat)),
      SideOutput.open(dir, frameBytes(fgFormat)),
    ]);
    const [bgSide, fgSide] = sides;
    // The pixel check of the guess takes its frames from the encoder's
    // decode (see encoder_check.ts) when sampled: those frames (a hundred
    // at most) wait in memory for the workers, while checking every frame
    // must not (a slow check of a long video would hold gigabytes), so
    // `all` still decodes beside.
    const checkMode = options.validate ?? "sample";
    const checking = {
      fg,
      bg,
      placement: g.placement,
      frameMap: g.frameMap,
      mode: checkMode,
      validator,
      validatorModuleUrl: validatorUrl,
      pool,
      signal: options.signal,
    };
    const check = checkMode === "sample"
      ? await encoderCheck(dir, checkPlan(checking))
      : undefined;
    if (check) {
      guessChecked = validateVideo({ ...checking, frames: check.frames });
      guessChecked.finally(check.close).catch(() => {});
    } else if (checkMode !== "none") {
      guessChecked = validateVideo(checking);
    }
    guessChecked?.catch(() => {});
    const stop = new AbortController();
    const abort = () => stop.abort(options.signal?.reason);
    options.signal?.addEventListener("abort", abort);
    const pixFmt = channels === 1 ? "gray" : "rgb24";
    const shape = (info: MediaInfo, format: FrameFormat) =>
      analysisFilter({ path: info.path, format, sourcePixFmt: info.pixFmt });
    const feed = async (side: SideOutput, scanner: CoarseScanner) => {
      for await (const b of side.frames()) await scanner.push(b);
    };
    const composing = compose({
      bg,
      fg,
      placement: g.placement,
      frameMap: g.frameMap,
      offsetSeconds: hint,
      output: files.temp,
      preset: options.preset ?? "veryfast",
      crf: options.crf ?? 18,
      smoothMargin: options.smooth ? options.margin ?? 8 : 0,
      sideOutputs: {
        bg: [
          { url: bgSide.url, filter: shape(bg, bgFormat), pixFmt },
          ...(check ? [check.specs.bg] : []),
        ],
        fg: [
          { url: fgSide.url, filter: shape(fg, fgFormat), pixFmt },
          ...(check ? [check.specs.fg] : []),
        ],
      },
      progress: log.progress,
      signal: stop.signal,
    }).catch(async (err) => {
      // The check may wait for an encoder that never wrote to it.
      await check?.close();
      throw err;
    }).finally(async () => {
      options.signal?.removeEventListener("abort", abort);
      await Promise.all(sides.map((s) => s.close()));
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    });
    let failed: unknown;
    composing.catch((err) => failed ??= err);
    try {
      await Promise.all([feed(bgSide, bgScan), feed(fgSide, fgScan)]);
    } catch (err) {
      // A failing feed stops the encoder.
      stop.abort(err);
      await composing.catch(() => {});
      throw err;
    }
    // The side outputs end with the decode; the encoder still flushes its
    // last frames while the analysis goes on. A decode cut short by a
    // failing encoder is its failure, not the analysis's.
    if (failed !== undefined) throw failed;
    guessComposing = composing;
    files.stopEncoder = async () => {
      stop.abort(new Error("stopped"));
      await composing.catch(() => {});
    };
    lap("compose");
    return g;
  };
  {
    if (fixed && !mask) await startStreaming(fixedPlacement);
    const fgSink = fingerprintSink({
      format: fgFormat,
      fingerprinters,
      pool,
      expectedFrames: fg.frames,
      label: "analyse fg",
      progress: log.progress,
      transfer: true,
    });
    const lockSamples = lock ? lockSampleIndices(fg.frames, fg.fps) : [];
    let nextSample = 0;
    let asked = -Infinity; // bg frame at the last mid-decode attempt
    // Composing on a guess needs the guess early: the lock is asked at
    // growing bg frames (16, 24, 36, …) from the start, and once it is
    // sure, both analysis decodes stop there and the encoder's side outputs
    // carry on (see speculation.ts).
    let nextEarly = speculative ? 16 : Infinity;
    const stopScans = new AbortController();
    let oneRun: number | undefined; // first bg frame of the guessed map
    const fgScanOptions: ScanDecodeOptions = {
      info: fg,
      format: fgFormat,
      samples: 9,
      threads: scanThreads,
      keepIndices: candidates,
      stop: stopScans.signal,
      onBatch: async (b) => {
        // Samples feed the lock until the placement is decided.
        for (let k = 0; lock && !bgStream.streaming && k < b.count; k++) {
          const i = b.start + k, want = lockSamples[nextSample];
          if (want === undefined || i < want) continue;
          // A blank sample slides to the next frame, for a quarter second.
          const taken = lock.addSample(i, grayAt(b, fgFormat, k));
          if (taken || i - want >= fg.fps / 4) nextSample++;
        }
        await fgSink.push(b);
      },
      label: "analyse fg",
      progress: log.progress,
      signal: options.signal,
    };
    const bgScanOptions: ScanDecodeOptions = {
      info: bg,
      format: bgFormat,
      samples: 40,
      threads: scanThreads,
      stop: stopScans.signal,
      onBatch: async (b) => {
        await bgStream.push(b);
        const count = b.start + b.count;
        if (
          lock && !bgStream.streaming && count >= nextEarly &&
          lock.confident()
        ) {
          nextEarly = Math.ceil(1.5 * count);
          const c = await fromLock(3);
          if (c) {
            const k = c.offsetHint === undefined
              ? undefined
              : oneRunStart(fg, bg, c.offsetHint);
            announce(c, k === undefined ? "lock" : "lock, to compose on");
            early = c;
            if (k !== undefined) {
              // The bg region waits for the pixel pinned on the kept
              // frames (composeOnGuess): along a pan the lock's pairs can
              // sit a few pixels over at another moment.
              oneRun = k;
              stopScans.abort();
              return;
            }
            await startStreaming(c.placement, c.offsetHint);
            return;
          }
        }
        if (bgStream.streaming || bgStream.retained || !bgStream.full) {
          return;
        }
        // The kept frames fill their budget: decide if the lock's pairs
        // agree (with --engine mask the fg's bars are not known yet);
        // else drop the oldest frames (decoded again later). Asked again
        // each time half the kept frames have been replaced.
        if (
          lock && !mask && lock.confident() &&
          b.start - asked >= bgStream.keptFrames / 2
        ) {
          asked = b.start;
          const c = await fromLock(3);
          if (c) {
            announce(c, "lock");
            early = c;
            await startStreaming(c.placement, c.offsetHint);
            return;
          }
        }
        if (bgStream.full) bgStream.trim();
      },
      label: "analyse bg",
      progress: log.progress,
      signal: options.signal,
    };
    const [fgScan, bgScan] = await Promise.all([
      scanCoarse(fgScanOptions),
      scanCoarse(bgScanOptions),
    ]);
    // Asked only on a no-match at 100%: is the fg there at another scale?
    if (unscaled && !fixed) {
      scaledSearch = () =>
        coarsePlacement(
          fg,
          bg,
          locator,
          { images: fgScan.samples, indices: fgScan.sampleIndices },
          { images: bgScan.samples, indices: bgScan.sampleIndices },
          { unscaled: false, precision },
        );
    }
    if (oneRun !== undefined && files.temp) {
      lap("decode");
      guess = await composeOnGuess(oneRun, early!.placement, fgScan, bgScan);
      if (!guess) {
        // No guess to compose on after all: decode the rest as usual (the
        // scanners skip the frames they have seen).
        if (!bgStream.streaming) {
          await startStreaming(early!.placement, early!.offsetHint);
        }
        await Promise.all([
          scanCoarse({ ...fgScanOptions, stop: undefined, scanner: fgScan }),
          scanCoarse({ ...bgScanOptions, stop: undefined, scanner: bgScan }),
        ]);
      }
    }
    const fgWhole = await fgSink.finish();
    lap("decode");
    if (mask) {
      content = scaleRect(detectContent(fgScan.samples), {
        width: fw,
        height: fh,
      }, fg);
      log.debug(
        `content inside the bars: ${content.width}×${content.height} at (${content.x}, ${content.y})`,
      );
    }
    await lock?.settled();
    // The lock's placement (decided mid-decode, or now on all its pairs)
    // and the spread samples' (the old way: 9 fg × 40 bg frames at spread
    // moments). When both exist and differ, the first analysis runs on the
    // lock's and the other is weighed against it over the whole video (a
    // slow pan: "a few pixels over at another moment" matches the pairs,
    // a subject crossing the crop tells). The spread samples are asked
    // when the bg frames are kept (weighing costs no decode) or the bg is
    // short enough for them to lie close in time (weighing costs a second
    // decode of the bg, on disagreement only).
    let alternative: CoarsePlacement | undefined;
    if (!fixed) {
      let byLock = early;
      if (!bgStream.streaming) {
        byLock = await fromLock(2);
        if (byLock) announce(byLock, "lock");
      }
      let bySpread: CoarsePlacement | undefined;
      if (
        !byLock || bgStream.retained || bg.duration <= DENSE_SPREAD_SECONDS
      ) {
        bySpread = await coarsePlacement(
          fg,
          bg,
          locator,
          { images: fgScan.samples, indices: fgScan.sampleIndices },
          { images: bgScan.samples, indices: bgScan.sampleIndices },
          { unscaled, precision },
        );
        announce(bySpread, "spread samples");
      }
      const c = (byLock ?? bySpread)!;
      if (!bgStream.streaming) await startStreaming(c.placement, c.offsetHint);
      if (
        byLock && bySpread && !sameHypothesis(byLock, bySpread, 1 / bg.fps)
      ) {
        alternative = bySpread;
      }
    } else if (!bgStream.streaming) await startStreaming(fixedPlacement);
    lap("locate");
    await decodeLost();
    if (!placement) throw new Error("no placement was decided");
    let bgCache = {
      rect: coarseRegion(placement),
      features: await bgStream.finish(),
    };
    lap("fingerprint");

    /** The fg's features: from the scan, unless the fg overhangs the bg. */
    const fgFeatures = (at: Placement): Promise<VideoFeatures> => {
      const region = analysisRegions(fg, bg, at, content).fg;
      if (!region) return Promise.resolve(fgWhole);
      return fingerprintVideo({
        path: fg.path,
        sourcePixFmt: fg.pixFmt,
        crop: region,
        format: coveringFormat(fingerprinters.map((f) => f.input)),
        fingerprinters,
        pool,
        expectedFrames: fg.frames,
        label: "analyse fg",
        progress: log.progress,
        signal: options.signal,
      });
    };
    /**
     * The bg's features under a placement: those already made when the
     * crop is the same in coarse pixels, else from the kept frames, else
     * decoded once more (the pinning loop below asks only when the moment
     * or the window moved).
     */
    const bgFeatures = async (at: Placement): Promise<VideoFeatures> => {
      const rect = coarseRegion(at);
      if (sameCoarseRect(rect, bgCache.rect)) {
        return bgCache.features;
      }
      const features = bgStream.batches
        ? await fingerprintBatches(bgStream.batches, {
          format: bgFormat,
          crop: rect,
          fingerprinters,
          pool,
          expectedFrames: bgStream.count,
          label: "fingerprint bg",
          progress: log.progress,
          transfer: false,
        })
        // Decoded again as the scan did (whole coarse frames, cropped in
        // the workers): features must not depend on the path that made
        // them, or a re-analysis compares unlike with unlike.
        : await fingerprintBatches(
          decodeFrames({
            path: bg.path,
            format: bgFormat,
            sourcePixFmt: bg.pixFmt,
            skipLoopFilter: shrinksTwice(bg, bgFormat),
            batch: 16,
            signal: options.signal,
          }),
          {
            format: bgFormat,
            crop: rect,
            fingerprinters,
            pool,
            expectedFrames: bg.frames,
            label: "fingerprint bg",
            progress: log.progress,
            transfer: true,
          },
        );
      bgCache = { rect, features };
      return features;
    };

    /**
     * A time-offset hint moved onto the bg frame grid (as seen from fg frame
     * 0): hints from pairs carry a sub-frame phase that depends on which
     * probes met which samples, and the aligner finds the phase from the
     * content anyway; a hint a third of a frame off once moved a fifth of
     * a 60→24 fps map by a frame.
     */
    const onBgGrid = (hint: number | undefined) => {
      if (hint === undefined || fg.times.length === 0) return hint;
      const t0 = fg.times[0];
      return bg.times[nearestIndex(bg.times, bg.times.length, t0 + hint)] - t0;
    };

    /** Fingerprints the bg under a placement, aligns, maps. */
    const analyse = async (
      at: Placement,
      hint: number | undefined,
      factor = fgClock,
    ) => {
      const [fgF, bgF] = await Promise.all([fgFeatures(at), bgFeatures(at)]);
      lap("fingerprint");
      const fgLine = scaledTimeline(fitTimeline(fg, fgF.count), factor);
      const bgLine = fitTimeline(bg, bgF.count);
      const costs = mixCostModel(fingerprinters.map((f, k) => ({
        fingerprinter: f,
        weight: mix[k].weight,
        fg: fgF.tables[k],
        bg: bgF.tables[k],
      })));
      const alignment: Alignment = await aligner.align({
        fg: fgLine,
        bg: bgLine,
        costs,
        offsetHint: onBgGrid(hint),
        window: options.window,
        progress: log.progress,
      });
      lap("align");
      const frameMap = mapper.map({
        alignment,
        fg: fgLine,
        bg: bgLine,
        costs,
      });
      lap("map");
      return { alignment, frameMap, costs, fgLine, bgLine, fgF, bgF };
    };

    /**
     * True when `other` matches the whole video better than the current
     * result by more than `margin` (mean similarity); it then replaces it.
     */
    const prefer = (
      other: Awaited<ReturnType<typeof analyse>>,
      names: [string, string],
      margin = 0,
    ): boolean => {
      const [a, b] = [
        meanOf(similarities(result!)),
        meanOf(similarities(other)),
      ];
      log.debug(
        `mean similarity ${a.toFixed(5)} (${names[0]}), ${b.toFixed(5)} (${
          names[1]
        })`,
      );
      if (!(b > a + margin)) return false;
      result = other;
      return true;
    };

    result = await analyse(placement, offsetHint);
    if (alternative) {
      const other = await analyse(
        alternative.placement,
        alternative.offsetHint,
      );
      if (prefer(other, ["lock", "spread samples"])) {
        placement = alternative.placement;
      }
    }
    // Rates a retiming apart (24 ↔ 25, 29.97 ↔ 30 fps): the same frames at
    // the bg's rate is weighed too, from a full offset search (the hint was
    // measured in real time). It must match clearly better to win.
    const retimed = sameFramesFactor(fg.fps, bg.fps);
    if (retimed !== undefined) {
      const other = await analyse(placement, undefined, retimed);
      const names: [string, string] = [
        "real time",
        `same frames at ${bg.fps.toFixed(3)} fps`,
      ];
      if (prefer(other, names, SAME_FRAMES_MARGIN)) fgClock = retimed;
    }
    // Pinning may move the moment; then the analysis is redone through the
    // new window and, if it moved again (a long pan: the coarse pair can be
    // far off along it), pinned once more: at most three rounds.
    for (
      let round = 0;
      round < 3 && !fixed &&
      meanOf(similarities(result)) >= NO_MATCH_THRESHOLD;
      round++
    ) {
      // Pin the placement on same-moment pairs; if that moves the moment (or
      // the window by more than the coarse scale can see), the first
      // analysis looked through a misplaced window: analyse once more.
      const { alignment, frameMap, fgLine, bgLine } = result;
      const misfit = new Float64Array(frameMap.length);
      for (let i = 0; i < frameMap.length; i++) {
        misfit[i] = Math.abs(
          bgLine.times[frameMap[i]] - fgLine.times[i] - alignment.offsetSeconds,
        );
      }
      const picks = refineFrames({
        margin: alignment.margin,
        misfit,
        frameMap,
        fgKeyframes: fg.keyframes,
        bgKeyframes: bg.keyframes,
        bgPeriod: 1 / bg.fps,
        span,
        allowed: (i) => candidates.has(i),
      }, 3);
      log.debug(
        `exact search on fg frames ${picks.join(", ")} (±${span} bg frames)`,
      );
      const exact = await exactPlacement(
        fg,
        bg,
        locator,
        picks.map((i) => ({ fg: i, bg: frameMap[i] })),
        span,
        {
          unscaled: options.unscaled ?? true,
          precision,
          signal: options.signal,
          coarse: { fg: (i) => fgScan.frame(i), bg: (j) => bgStream.frame(j) },
          current: placement,
          memo,
          search: searchWindows,
        },
      );
      lap("refine");
      log.debug(
        `exact placement x=${exact.placement.x} y=${exact.placement.y} ncc=${
          exact.placement.confidence.toFixed(4)
        }, moment shift ${exact.shift} bg frames`,
      );
      const moved = Math.max(
        Math.abs(exact.placement.x - placement.x),
        Math.abs(exact.placement.y - placement.y),
      );
      // With the bg frames kept, a re-analysis costs a fraction of a second,
      // and even a pixel or two of misplacement can tilt the sub-frame phase
      // on moving content; otherwise only a move the coarse scale can see
      // is worth another decode.
      const worth = bgStream.retained ? 0 : 2 / coarseScale;
      if (exact.shift !== 0 || moved > worth) {
        // Another moment or a clearly different window: analyse again
        // through it, and keep whichever analysis matches the whole video
        // better (a few frame pairs can be fooled by a pan; all frames,
        // with whatever else moves in them, are not).
        log.debug("re-analysing through the exact placement");
        const again = await analyse(
          exact.placement,
          alignment.offsetSeconds + exact.shift / bg.fps,
        );
        const before = meanOf(similarities(result));
        const after = meanOf(similarities(again));
        log.debug(
          `mean similarity ${before.toFixed(5)} before, ${
            after.toFixed(5)
          } after`,
        );
        if (after > before || !exact.stay) {
          // Same moments under every frame: pinning again would look at the
          // same pairs and find the same pixel.
          const previous: Int32Array = result.frameMap;
          const unchanged = exact.shift === 0 &&
            again.frameMap.every((j, i) => j === previous[i]);
          result = again;
          placement = exact.placement;
          if (unchanged) break;
          continue;
        }
        placement = exact.stay;
      } else {
        placement = exact.placement;
      }
      break;
    }
  }
  const { alignment, frameMap } = result;
  const similarity = similarities(result);
  // The features are done with (the verdict, the pixel check and the
  // report need none of them): freed now rather than at V8's next
  // collection, so the check's frames do not stack on them (74 MB on a
  // 20-minute pair).
  release(
    ...[result.fgF, result.bgF].flatMap((f) => f.tables.map((t) => t.buffer)),
  );
  const meanSimilarity = meanOf(similarity);
  let matched = 0;
  for (const v of similarity) if (v >= MATCH_THRESHOLD) matched++;

  // Fingerprints that do not match at all end it before any pixel check;
  // otherwise the pixels have the last word (thumbnails of unrelated
  // content can look alike, multi-scale SSIM of them does not).
  /** The run's answer (also what a no-match verdict carries). */
  const resultOf = (
    extra: Pick<
      CompositeResult,
      "output" | "validation" | "uncovered" | "guess"
    >,
  ): CompositeResult => ({
    ...extra,
    fg,
    bg,
    placement: placement!,
    content,
    offsetSeconds: alignment.offsetSeconds,
    fpsRatio: bg.fps / fg.fps,
    speed: 1 / fgClock,
    frameMap,
    similarity,
    matchedFrames: matched,
    meanSimilarity,
    timings,
    plugins: {
      aligner: aligner.name,
      fingerprint: fingerprintSpec,
      mapper: mapper.name,
      locator: locator.name,
      validator: validatorName,
    },
  });
  const noMatch = async (
    why: string,
    found: Pick<CompositeResult, "validation" | "uncovered">,
  ) => {
    const scaled = await scaledSearch?.().catch(() => undefined);
    const at = scaled?.placement;
    // A sure match at another size is the likeliest reason (a picture in
    // picture searched at 100%): say so, with the scale it found.
    const elsewhere = at && at.confidence >= SCALED_HINT_CONFIDENCE &&
      Math.abs(at.scale - 1) >= 0.03;
    const err = new NoMatchError(`the fg does not appear in the bg (${why})`, {
      hint: elsewhere
        ? `it seems to appear at about ${
          Math.round(at.scale * 100)
        }% of its size: pass --unscaled false`
        : "check the inputs, or pass --force to compose anyway",
    });
    timings.total = (performance.now() - t0) / 1000;
    // A guess composed on is never kept when the fg is not there.
    err.analysis = resultOf({
      output: undefined,
      guess: guess ? "missed" : "none",
      ...found,
    });
    return err;
  };
  if (meanSimilarity < NO_MATCH_THRESHOLD && !options.force) {
    throw await noMatch(
      `mean similarity ${
        meanSimilarity.toFixed(2)
      }, ${matched} of ${frameMap.length} frames matched`,
      { validation: undefined, uncovered: [] },
    );
  }
  // Stretches shorter than a quarter second are flashes or cuts, not
  // missing footage.
  const uncovered = uncoveredStretches(
    outsideBg(
      result.fgLine.times,
      alignment.offsetSeconds,
      result.bgLine.times,
      bg.fps,
    ),
    // Reported in the fg's own seconds, whatever clock the analysis used.
    fitTimeline(fg, result.fgLine.count).times,
    Math.max(3, Math.round(fg.fps / 4)),
  );
  if (uncovered.length > 0) {
    log.info(
      `note: fg ${describeStretches(uncovered)} ${
        uncovered.length === 1 ? "has" : "have"
      } no match in the bg; those frames show the nearest bg frame`,
    );
  }

  // The pixel check and the composition run side by side (the encoder
  // leaves a core idle now and then, and the check needs less than a
  // second): when the check says the fg is not in the bg, the encoder is
  // stopped and its temporary file removed, so nothing is published.
  const offsetSeconds = alignment.offsetSeconds;
  const validateMode = options.validate ?? "sample";
  const stop = new AbortController();
  const abortCompose = () => stop.abort(options.signal?.reason);
  options.signal?.addEventListener("abort", abortCompose);
  const timed = async <T>(stage: string, work: Promise<T>): Promise<T> => {
    const start = performance.now();
    try {
      return await work;
    } finally {
      timings[stage] = (performance.now() - start) / 1000;
    }
  };
  const temp = files.temp;
  // Composed already on a guess the analysis confirms, or composed now.
  // The guess was composed in real time (no retimed bg audio).
  const held = guess !== undefined && fgClock === 1 &&
    guessHeld(guess, placement, frameMap);
  if (guess && !held) {
    log.debug(
      "the analysis ended away from the guess composed on: composing again",
    );
    // The first encoder may still be flushing into the same file.
    await files.stopEncoder?.();
  }
  const composing = output && temp && !held
    ? timed(
      "compose",
      compose({
        bg,
        fg,
        placement,
        frameMap,
        offsetSeconds,
        speed: 1 / fgClock,
        output: temp,
        preset: options.preset ?? "veryfast",
        crf: options.crf ?? 18,
        content,
        smoothMargin: options.smooth ? options.margin ?? 8 : 0,
        progress: log.progress,
        signal: stop.signal,
      }),
    )
    : output && temp
    ? timed("flush", guessComposing ?? Promise.resolve())
    : undefined;
  composing?.catch(() => {}); // awaited below, after the check
  let validation: ValidationResult | undefined;
  try {
    if (held && guessChecked) {
      validation = await timed("validate", guessChecked);
    } else if (validateMode !== "none") {
      validation = await timed(
        "validate",
        validateVideo({
          fg,
          bg,
          placement,
          frameMap,
          content,
          mode: validateMode,
          validator,
          validatorModuleUrl: validatorUrl,
          pool,
          progress: log.progress,
          signal: options.signal,
        }),
      );
    }
    if (
      validation && validation.validated > 0 &&
      validation.mean < NO_MATCH_VALIDATION && !options.force
    ) {
      throw await noMatch(
        `pixel check: mean ${validation.validator} ${
          validation.mean.toFixed(2)
        } over ${validation.validated} frames`,
        { validation, uncovered },
      );
    }
    if (composing && output && temp) {
      await composing;
      // An interrupt that arrives as ffmpeg finishes must not publish.
      options.signal?.throwIfAborted();
      await Deno.rename(temp, output);
    }
  } catch (err) {
    stop.abort(err);
    await composing?.catch(() => {});
    throw err;
  } finally {
    options.signal?.removeEventListener("abort", abortCompose);
    if (temp) await removeQuietly(temp);
  }
  options.signal?.throwIfAborted();
  timings.total = (performance.now() - t0) / 1000;
  return resultOf({
    output,
    validation,
    uncovered,
    guess: guess ? (held ? "held" : "missed") : "none",
  });
}

/** Similarity (1 − cost) of each mapped pair. */
function similarities(
  r: { frameMap: Int32Array; costs: { cost(i: number, j: number): number } },
): Float32Array {
  const out = new Float32Array(r.frameMap.length);
  for (let i = 0; i < out.length; i++) {
    out[i] = 1 - r.costs.cost(i, r.frameMap[i]);
  }
  return out;
}

function meanOf(values: Float32Array): number {
  let sum = 0;
  for (const v of values) sum += v;
  return values.length ? sum / values.length : 0;
}

/**
 * True when two coarse placements say the same: positions within their
 * uncertainty and offset hints within a frame and a half.
 */
function sameHypothesis(
  a: CoarsePlacement,
  b: CoarsePlacement,
  frame: number,
): boolean {
  const near = Math.max(a.uncertainty, b.uncertainty);
  const ha = a.offsetHint ?? NaN, hb = b.offsetHint ?? NaN;
  return Math.abs(a.placement.x - b.placement.x) <= near &&
    Math.abs(a.placement.y - b.placement.y) <= near &&
    Math.abs(a.placement.scale - b.placement.scale) < 0.01 &&
    (Number.isNaN(ha) || Number.isNaN(hb) || Math.abs(ha - hb) <= 1.5 * frame);
}

/**
 * True when two coarse crops cover the same whole coarse pixels (the
 * fingerprint worker rounds crops).
 */
function sameCoarseRect(a: Rect, b: Rect): boolean {
  const r = Math.round;
  return r(a.x) === r(b.x) && r(a.y) === r(b.y) &&
    r(a.width) === r(b.width) && r(a.height) === r(b.height);
}

/** The probed timeline trimmed or extended to the frames actually decoded. */
function fitTimeline(info: MediaInfo, count: number): Timeline {
  if (count === info.times.length) {
    return { count, fps: info.fps, times: info.times };
  }
  const times = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    times[i] = i < info.times.length
      ? info.times[i]
      : (info.times[info.times.length - 1] ?? 0) +
        (i - info.times.length + 1) / info.fps;
  }
  return { count, fps: info.fps, times };
}

function describe(role: string, m: MediaInfo): string {
  return `${role}: ${m.width}×${m.height} ${
    m.fps.toFixed(3)
  } fps, ${m.frames} frames, ${m.duration.toFixed(2)} s, ${m.videoCodec}${
    m.audio ? `, audio ${m.audio.codec} ${m.audio.sampleRate} Hz` : ", no audio"
  }`;
}
