/**
 * The plugin interfaces of vidkompy's core: Fingerprinter, Aligner, Mapper,
 * Validator and Locator, and the data they exchange.
 *
 * Plugins implement these and depend only on `core/`; the pipeline wires
 * them together by name through the registry.
 *
 * @module
 */

import type { Frame, FrameFormat, GrayImage } from "./frame.ts";

/** Typed arrays a fingerprinter may store its features in. */
export type FeatureArray =
  | Uint8Array
  | Int8Array
  | Uint16Array
  | Int16Array
  | Uint32Array
  | Int32Array
  | Float32Array
  | Float64Array;

/**
 * Turns one small frame into a fixed-length feature, and measures the
 * distance between two features.
 *
 * Features of many frames live packed in one typed array (a "table"):
 * frame k occupies `[k * featureLength, (k + 1) * featureLength)`. Tables are
 * plain typed arrays so they can be transferred between workers.
 */
export interface Fingerprinter {
  /** Registry name, e.g. `phash`. */
  readonly name: string;
  /** The frame this fingerprinter wants; the pipeline adapts frames to it. */
  readonly input: FrameFormat;
  /** Elements of the table one frame's feature occupies. */
  readonly featureLength: number;
  /**
   * True for features that are very cheap to compare (64-bit hashes); the
   * aligner's coarse offset search prefers these when present.
   */
  readonly coarse: boolean;
  /** A zeroed table able to hold `count` features. */
  createTable(count: number): FeatureArray;
  /**
   * Computes the feature of `frame` (already in `input` format) into `table`
   * at slot `index`. The frame's memory is freed after the call: keep
   * nothing that views it.
   */
  compute(frame: Frame, table: FeatureArray, index: number): void;
  /** Distance in [0, 1] between feature `i` of `a` and feature `j` of `b` (0 = same). */
  distance(a: FeatureArray, i: number, b: FeatureArray, j: number): number;
  /**
   * Optional cheap approximation of `distance` (on a smaller part of the
   * feature), for the aligner's wide offset search when the mix has no
   * `coarse` member; only its best candidates are re-scored with `distance`.
   */
  coarseDistance?(
    a: FeatureArray,
    i: number,
    b: FeatureArray,
    j: number,
  ): number;
}

/** Frame timing of one video, as the aligner sees it. */
export interface Timeline {
  /** Number of frames. */
  readonly count: number;
  /** Nominal frame rate (frames per second). */
  readonly fps: number;
  /** Presentation time of each frame in seconds from the stream's first frame. */
  readonly times: Float64Array;
}

/** Frame-to-frame dissimilarity between the fg and the bg, in [0, 1]. */
export interface CostModel {
  /** Fine cost: the one the final path is judged by. */
  cost(fg: number, bg: number): number;
  /** Cheap cost for wide searches (hash based when available); may equal `cost`. */
  coarseCost(fg: number, bg: number): number;
  /**
   * Fine distance between two bg frames, when available (mappers use it to
   * recognise frozen bg frames).
   */
  bgCost?(a: number, b: number): number;
}

/** Progress report: `done` of `total` units of the named stage. */
export type ProgressCallback = (
  stage: string,
  done: number,
  total: number,
) => void;

/** What an aligner receives. */
export interface AlignInput {
  /** The fg timeline (the master: every fg frame needs a partner). */
  readonly fg: Timeline;
  /** The bg timeline. */
  readonly bg: Timeline;
  /** Costs between fg frame i and bg frame j. */
  readonly costs: CostModel;
  /**
   * Optional hint: bg time minus fg time of the same moment, in seconds
   * (e.g. from the locator's best frame pair). Aligners verify it.
   */
  readonly offsetHint?: number;
  /** Band half-width in bg frames; 0 or undefined = automatic. */
  readonly window?: number;
  /** Progress sink. */
  readonly progress?: ProgressCallback;
}

/** A monotonic alignment: exactly one bg frame for every fg frame. */
export interface Alignment {
  /** `bg[i]` is the bg index matched to fg frame i; non-decreasing. */
  readonly bg: Int32Array;
  /** Fine cost of each matched pair, in [0, 1]. */
  readonly cost: Float32Array;
  /**
   * How clearly pair i beats its neighbours (cost of the best other bg frame
   * nearby minus the chosen cost); near 0 means ambiguous (static scene,
   * freeze, blank frame).
   */
  readonly margin: Float32Array;
  /** Estimated bg time minus fg time of the same moment, in seconds. */
  readonly offsetSeconds: number;
}

/** Aligns two feature sequences into a monotonic path. */
export interface Aligner {
  /** Registry name, e.g. `dtw`. */
  readonly name: string;
  /**
   * The fingerprint spec this aligner is designed for (e.g. `ssim`), used
   * when the user names none; absent = the pipeline's default.
   */
  readonly preferredFingerprint?: string;
  /** Finds the alignment. */
  align(input: AlignInput): Alignment | Promise<Alignment>;
}

/** What a mapper receives. */
export interface MapInput {
  /** The aligner's result. */
  readonly alignment: Alignment;
  /** The fg timeline. */
  readonly fg: Timeline;
  /** The bg timeline. */
  readonly bg: Timeline;
  /** The costs the alignment was made from, when available. */
  readonly costs?: CostModel;
}

/** Turns an alignment into the final frame map. */
export interface Mapper {
  /** Registry name, e.g. `interp`. */
  readonly name: string;
  /** One bg index per fg index, non-decreasing, within [0, bg.count - 1]. */
  map(input: MapInput): Int32Array;
}

/** Where the fg sits in the bg: top-left corner and scale, in bg pixels. */
export interface Placement {
  /** Left edge of the (scaled) fg in bg pixels; may be fractional at precision 4. */
  readonly x: number;
  /** Top edge of the (scaled) fg in bg pixels. */
  readonly y: number;
  /** Factor mapping fg pixels to bg pixels (1 = 100%). */
  readonly scale: number;
  /** Normalised cross-correlation of the match, clamped to [0, 1]. */
  readonly confidence: number;
}

/** Sampled frames for a spatial search. Both lists hold gray images at the same scale. */
export interface LocateRequest {
  /** Sampled fg frames. */
  readonly fg: readonly GrayImage[];
  /** Sampled bg frames (not necessarily the same moments as the fg samples). */
  readonly bg: readonly GrayImage[];
  /** True: only scale 1 is searched. */
  readonly unscaled: boolean;
  /** Precision level 0..4. */
  readonly precision: number;
}

/** The best bg sample found for one fg sample. */
export interface SampleMatch {
  /** Index into `LocateRequest.fg`. */
  readonly fg: number;
  /** Index into `LocateRequest.bg`. */
  readonly bg: number;
  /** Placement of that pair, in the request's pixel scale. */
  readonly placement: Placement;
}

/** Result of a spatial search. */
export interface LocateResult {
  /** The voted placement, in the request's pixel scale. */
  readonly placement: Placement;
  /** Per informative fg sample, its best bg sample (blank samples omitted). */
  readonly matches: readonly SampleMatch[];
}

/** A same-moment pair for exact refinement: the bg image is a window of the bg frame. */
export interface RefinePair {
  /** Full-resolution fg frame. */
  readonly fg: GrayImage;
  /** Full-resolution bg window. */
  readonly bg: GrayImage;
  /** Bg-frame coordinates of the window's top-left pixel. */
  readonly originX: number;
  /** Bg-frame coordinates of the window's top-left pixel. */
  readonly originY: number;
}

/** Finds the fg inside the bg. */
export interface Locator {
  /** Registry name, e.g. `template`. */
  readonly name: string;
  /** Searches every fg sample against every bg sample and votes. */
  locate(request: LocateRequest): LocateResult | Promise<LocateResult>;
  /**
   * Searches within `radius` px (bg coordinates) of `guess` on same-moment
   * full-resolution pairs, at the guess's scale; returns the best placement.
   * The pairs' memory is freed once it resolves: keep nothing that views it.
   */
  refine(
    pairs: readonly RefinePair[],
    guess: Placement,
    radius: number,
  ): Placement | Promise<Placement>;
}

/** A matched pair of frames to validate on real pixels. */
export interface ValidatePair {
  /** The fg frame (gray). */
  readonly fg: GrayImage;
  /** The bg region under the placement, resized to the fg's size (gray). */
  readonly bg: GrayImage;
}

/** Checks matched pairs on pixels and returns a confidence in [0, 1] each. */
export interface Validator {
  /** Registry name, e.g. `msssim`. */
  readonly name: string;
  /**
   * Confidence per pair. The pairs' memory is freed once it resolves: keep
   * nothing that views it.
   */
  validate(
    pairs: readonly ValidatePair[],
  ): Float32Array | Promise<Float32Array>;
}

/** The kinds of plugin the registry knows. */
export interface PluginKinds {
  /** Frame → feature. */
  fingerprinter: Fingerprinter;
  /** Feature sequences → monotonic path. */
  aligner: Aligner;
  /** Path → frame map. */
  mapper: Mapper;
  /** Matched pairs → confidence. */
  validator: Validator;
  /** Sampled frames → placement. */
  locator: Locator;
}

/** A plugin kind name. */
export type PluginKind = keyof PluginKinds;

/**
 * What a plugin module exports as `plugin`: its kind, name, a one-line
 * description for `--help`, and a factory taking partial options.
 */
export interface PluginDefinition<K extends PluginKind = PluginKind> {
  /** Which interface `create` returns. */
  readonly kind: K;
  /** The name users pick it by. */
  readonly name: string;
  /** One line for `--help`. */
  readonly description: string;
  /** Makes an instance; unknown option keys are ignored. */
  create(options?: Record<string, unknown>): PluginKinds[K];
}
