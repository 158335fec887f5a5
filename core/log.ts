/**
 * Where the pipeline reports: informational lines, debug detail, and
 * progress. The CLI decides how (TTY bar, plain lines, nothing); the library
 * default is silent.
 *
 * @module
 */

import type { ProgressCallback } from "./types.ts";

/** The pipeline's reporting sink. */
export interface Logger {
  /** A line the user should see (summary, warnings). */
  info(message: string): void;
  /** Detail for `--verbose`. */
  debug(message: string): void;
  /** Progress of a stage. */
  progress: ProgressCallback;
}

/** A logger that says nothing. */
export const silentLogger: Logger = {
  info() {},
  debug() {},
  progress() {},
};
