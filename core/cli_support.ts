/**
 * What the CLI's commands share: flag parsers and the stderr logger (progress
 * bars on a terminal, plain lines with `--progress`, nothing with `--quiet`).
 *
 * @module
 */

import { InvalidArgumentError } from "../deps.ts";
import type { Logger } from "./log.ts";
import { ProgressRenderer } from "./progress.ts";

/** A commander parser for an integer flag within [min, max]. */
export function parseInteger(name: string, min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(
        `${name} must be an integer from ${min} to ${max}.`,
      );
    }
    return n;
  };
}

/** A commander parser for true/false flags (also 1/0, yes/no, on/off). */
export function parseBool(value: string): boolean {
  const v = value.toLowerCase();
  if (["true", "1", "yes", "on"].includes(v)) return true;
  if (["false", "0", "no", "off"].includes(v)) return false;
  throw new InvalidArgumentError("expected true or false.");
}

/** Colour on stderr: a terminal, and NO_COLOR unset or empty. */
function useColor(): boolean {
  try {
    return !Deno.env.get("NO_COLOR") && Deno.stderr.isTerminal();
  } catch {
    return false;
  }
}

/**
 * A stderr logger: redrawn progress bars on a TTY, plain periodic lines with
 * `--progress` otherwise, nothing with `--quiet` (see core/progress.ts).
 */
export function makeLogger(
  opts: { verbose?: boolean; quiet?: boolean; progress?: boolean },
): Logger {
  const encoder = new TextEncoder();
  const write = (s: string) => {
    if (s) Deno.stderr.writeSync(encoder.encode(s));
  };
  const tty = Deno.stderr.isTerminal();
  const color = useColor();
  let columns: number | undefined;
  try {
    if (tty) columns = Deno.consoleSize().columns;
  } catch { /* no size: the renderer's default */ }
  const renderer = new ProgressRenderer({
    mode: opts.quiet ? "off" : tty ? "bar" : opts.progress ? "lines" : "off",
    color,
    columns,
  });
  return {
    info(message) {
      if (!opts.quiet) write(renderer.message(message));
    },
    debug(message) {
      if (!opts.verbose) return;
      write(renderer.message(color ? `\x1b[2m${message}\x1b[0m` : message));
    },
    progress(stage, done, total) {
      write(renderer.update(stage, done, total));
    },
  };
}
