/**
 * vidkompy: overlay a foreground video onto a background video with
 * automatic spatial and temporal alignment, composed by ffmpeg.
 *
 * @example
 * ```ts ignore
 * import { composite } from "./mod.ts";
 * const result = await composite({ bg: "bg.mp4", fg: "fg.mp4", output: "out.mp4" });
 * console.log(result.placement, result.offsetSeconds, result.matchedFrames);
 *
 * import { alignMedia } from "./mod.ts";
 * const found = await alignMedia({ fg: "thumb.png", bg: "frame.jpg", unscaled: false });
 * console.log(found.placement); // { x, y, scale, confidence }
 * ```
 *
 * @module
 */

export {
  composite,
  type CompositeOptions,
  type CompositeResult,
  DEFAULT_FINGERPRINT,
  MATCH_THRESHOLD,
  NO_MATCH_THRESHOLD,
  NO_MATCH_VALIDATION,
} from "./core/pipeline.ts";
export {
  type AlignAlternative,
  alignMedia,
  type AlignMediaOptions,
  type AlignMediaResult,
  FOUND_CONFIDENCE,
  type FramePair,
  type MediaSummary,
  PRECISION_NAMES,
} from "./core/align_media.ts";
export { describeStretches, type UncoveredStretch } from "./core/coverage.ts";
export {
  type PlotData,
  plotDataOf,
  type PlotThumb,
  renderPlot,
  writePlot,
} from "./core/plot.ts";
export type { Rect } from "./core/frame_reader.ts";
export type {
  ValidateMode,
  ValidationResult,
  WorstStretch,
} from "./core/validate_video.ts";
export { Registry, registry } from "./core/registry.ts";
export { builtinPlugins, type PluginLoader } from "./core/builtin_plugins.ts";
export {
  FfmpegError,
  InputError,
  NoMatchError,
  OutputError,
  PluginError,
  VidkompyError,
} from "./core/errors.ts";
export { type MediaInfo, probe } from "./core/probe.ts";
export { type Logger, silentLogger } from "./core/log.ts";
export { reportObject, summaryText } from "./core/report.ts";
export {
  type MixMember,
  parseFingerprintSpec,
} from "./core/fingerprint_mix.ts";
export type { Frame, FrameFormat, GrayImage } from "./core/frame.ts";
export type {
  Aligner,
  AlignInput,
  Alignment,
  CostModel,
  FeatureArray,
  Fingerprinter,
  LocateRequest,
  LocateResult,
  Locator,
  MapInput,
  Mapper,
  Placement,
  PluginDefinition,
  PluginKind,
  PluginKinds,
  ProgressCallback,
  RefinePair,
  SampleMatch,
  Timeline,
  ValidatePair,
  Validator,
} from "./core/types.ts";
