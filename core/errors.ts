/**
 * Domain errors. Callers catch `VidkompyError` (or one subclass); the CLI maps
 * each to one line and an exit code. Bad arguments use the built-in
 * `TypeError` / `RangeError`.
 *
 * @module
 */

import type { CompositeResult } from "./pipeline.ts";

/** Base class of every error vidkompy raises on purpose. */
export class VidkompyError extends Error {
  /** Process exit code the CLI uses for this error. */
  readonly exitCode: number = 1;
  /** A short hint telling the user how to fix it, if there is one. */
  readonly hint?: string;

  /** A one-line message, the underlying cause, and a hint for the fix. */
  constructor(message: string, options?: { cause?: unknown; hint?: string }) {
    super(message, { cause: options?.cause });
    this.name = new.target.name;
    this.hint = options?.hint;
  }
}

/** An input file is missing, unreadable, or not a usable video. */
export class InputError extends VidkompyError {}

/** ffmpeg or ffprobe is missing or failed. */
export class FfmpegError extends VidkompyError {}

/** A plugin is unknown, failed to load, or misbehaved. */
export class PluginError extends VidkompyError {}

/** The fg content could not be found in the bg. */
export class NoMatchError extends VidkompyError {
  /** Exit code 3: the inputs are valid but do not belong together. */
  override readonly exitCode: number = 3;
  /**
   * What the analysis found before the verdict (a `CompositeResult` without
   * an output), so a report or plot can show why; absent when the run
   * stopped earlier.
   */
  analysis?: CompositeResult;
}

/**
 * A fg larger than the bg searched at 100%: it cannot sit inside it.
 * `hint` names the ways out the caller offers.
 */
export function fgLargerThanBg(
  fg: { readonly width: number; readonly height: number },
  bg: { readonly width: number; readonly height: number },
  hint: string,
): InputError {
  return new InputError(
    `the fg (${fg.width}×${fg.height}) is larger than the bg (${bg.width}×${bg.height}), so it cannot sit inside it at 100%`,
    { hint },
  );
}

/** The output cannot be written as asked (exists, is an input, ...). */
export class OutputError extends VidkompyError {}
