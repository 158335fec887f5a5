/**
 * One window of the exact placement search (see `exactPlacement` in
 * placement.ts): a group of consecutive fg picks at the coarse scale and the
 * bg frames around their matches, searched by the locator for the best
 * position and moment, and scanned moment by moment along the current
 * position (moment_scan.ts).
 *
 * Windows are independent and each costs a few tenths of a second of
 * search, so the pipeline's workers search them side by side (the
 * `window` task of fingerprint_worker.ts) rather than the main thread one
 * after another; the answer is the same wherever it runs.
 *
 * @module
 */

import { PluginError, VidkompyError } from "./errors.ts";
import {
  type MomentScanInput,
  type MomentScanResult,
  scanMoments,
} from "./moment_scan.ts";
import type { LocateResult, Locator } from "./types.ts";

/** What one window search gets. */
export interface WindowSearch extends MomentScanInput {
  /** Ask the locator too (false when its answer for this window is known). */
  readonly locate: boolean;
  /** The locator's precision level. */
  readonly precision: number;
}

/** What one window search found. */
export interface WindowFound {
  /**
   * The locator's answer; absent when not asked, or when it found nothing
   * to match on (blank picks, which then do not vote).
   */
  readonly located?: LocateResult;
  /** The best moment along the current position, if any. */
  readonly scan?: MomentScanResult;
}

/** Runs window searches: here by default, or in a worker. */
export type WindowSearcher = (window: WindowSearch) => Promise<WindowFound>;

/** Searches one window with `locator`; see the module doc. */
export async function searchWindow(
  locator: Locator,
  window: WindowSearch,
): Promise<WindowFound> {
  let located: LocateResult | undefined;
  if (window.locate) {
    try {
      located = await locator.locate({
        fg: window.fg,
        bg: window.bg,
        unscaled: true,
        precision: window.precision,
      });
    } catch (err) {
      if (!(err instanceof Error) || err instanceof VidkompyError) throw err;
      // Blank picks: they simply do not vote.
    }
  }
  return { located, scan: scanMoments(window) };
}

/** A worker's reply to a `window` task: what was found, or the plugin's own error. */
export type WindowReply =
  | { readonly found: WindowFound }
  | { readonly failure: { readonly message: string; readonly hint?: string } };

/**
 * {@link searchWindow} as a worker answers it: a locator's own error
 * (a VidkompyError, which a worker's reply would reduce to a bare message)
 * comes back as a failure that {@link foundOrThrow} raises again.
 */
export async function windowReply(
  locator: Locator,
  window: WindowSearch,
): Promise<WindowReply> {
  try {
    return { found: await searchWindow(locator, window) };
  } catch (err) {
    if (!(err instanceof VidkompyError)) throw err;
    return { failure: { message: err.message, hint: err.hint } };
  }
}

/** The found part of a worker's reply, or its failure raised as a PluginError. */
export function foundOrThrow(
  reply: WindowReply,
  locatorName: string,
): WindowFound {
  if ("found" in reply) return reply.found;
  throw new PluginError(`locator ${locatorName}: ${reply.failure.message}`, {
    hint: reply.failure.hint,
  });
}
