/**
 * The `align` subcommand: flags, and the result as a table or as JSON.
 *
 * ```
 * vidkompy align FG BG [-p 0..4] [-n 7] [-u true|false] [--json]
 * ```
 *
 * The original's snake_case spellings (`--num_frames`) reach this command
 * already rewritten by the CLI's `normaliseArgs`.
 *
 * @module
 */

import type { Command } from "../deps.ts";
import {
  alignMedia,
  type AlignMediaResult,
  FOUND_CONFIDENCE,
  PRECISION_NAMES,
} from "./align_media.ts";
import { makeLogger, parseBool, parseInteger } from "./cli_support.ts";
import { registry } from "./registry.ts";
import type { Placement } from "./types.ts";

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

function placementJson(p: Placement) {
  return {
    x: round(p.x, 3),
    y: round(p.y, 3),
    scale: round(p.scale, 5),
    confidence: round(p.confidence, 4),
  };
}

/** The `--json` object (snake_case keys, stable). */
export function alignReport(r: AlignMediaResult): Record<string, unknown> {
  return {
    ...placementJson(r.placement),
    found: r.found,
    fg: r.fg.path,
    bg: r.bg.path,
    fg_kind: r.fg.kind,
    bg_kind: r.bg.kind,
    fg_size: { width: r.fg.width, height: r.fg.height },
    bg_size: { width: r.bg.width, height: r.bg.height },
    precision: r.precision,
    unscaled: r.unscaled,
    frames_used: r.framesUsed,
    pairs: r.pairs.map((p) => ({ fg_frame: p.fg, bg_frame: p.bg })),
    offset_seconds: r.offsetSeconds === undefined
      ? null
      : round(r.offsetSeconds, 6),
    alternatives: r.alternatives.map((a) => ({
      ...placementJson(a.placement),
      unscaled: a.unscaled,
      precision: a.precision,
    })),
    alternatives_note: r.alternativeNote ?? null,
    timings: Object.fromEntries(
      Object.entries(r.timings).map(([k, v]) => [k, round(v, 3)]),
    ),
  };
}

function coordinate(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(2);
}

function describePlacement(p: Placement): string {
  return `x=${coordinate(p.x)} y=${coordinate(p.y)} scale=${
    (p.scale * 100).toFixed(2)
  }% confidence ${p.confidence.toFixed(4)}`;
}

function describeMedia(m: AlignMediaResult["fg"]): string {
  const what = m.kind === "image"
    ? "image"
    : `video, ${m.frames} frames at ${m.fps?.toFixed(3)} fps`;
  return `${m.width}×${m.height} ${what}  ${m.path}`;
}

/** The readable result: one labelled row per fact. */
export function alignTable(r: AlignMediaResult): string {
  const p = r.placement;
  const rows: [string, string][] = [];
  rows.push([
    "result",
    r.found
      ? `found (confidence ${p.confidence.toFixed(4)} ≥ ${FOUND_CONFIDENCE})`
      : `NOT FOUND: the fg does not seem to be in the bg (best confidence ${
        p.confidence.toFixed(4)
      } < ${FOUND_CONFIDENCE})`,
  ]);
  rows.push([
    "position",
    `x=${coordinate(p.x)} y=${coordinate(p.y)} (fg top-left in bg pixels)`,
  ]);
  rows.push([
    "scale",
    `${(p.scale * 100).toFixed(2)}% (${
      r.unscaled ? "unscaled search" : "scaled search"
    })`,
  ]);
  rows.push(["confidence", p.confidence.toFixed(4)]);
  rows.push(["fg", describeMedia(r.fg)]);
  rows.push(["bg", describeMedia(r.bg)]);
  rows.push([
    "precision",
    `${r.precision} (${PRECISION_NAMES[r.precision] ?? "?"})`,
  ]);
  rows.push(["frames used", String(r.framesUsed)]);
  if (r.fg.kind === "video" || r.bg.kind === "video") {
    rows.push([
      "frame pairs",
      r.pairs.map((q) => `fg ${q.fg} ↔ bg ${q.bg}`).join(", "),
    ]);
  }
  if (r.offsetSeconds !== undefined) {
    rows.push([
      "offset",
      `${r.offsetSeconds >= 0 ? "+" : ""}${
        r.offsetSeconds.toFixed(3)
      } s (bg time − fg time)`,
    ]);
  }
  for (const a of r.alternatives) {
    rows.push([
      "alternative",
      `${a.unscaled ? "unscaled" : "scaled"}: ${
        describePlacement(a.placement)
      } (precision ${a.precision})`,
    ]);
  }
  if (r.alternatives.length === 0 && r.alternativeNote) {
    rows.push(["alternative", `none: ${r.alternativeNote}`]);
  }
  const t = r.timings;
  rows.push([
    "time",
    `${(t.total ?? 0).toFixed(3)} s (${
      Object.entries(t).filter(([k]) => k !== "total")
        .map(([k, v]) => `${k} ${v.toFixed(3)}`).join(", ")
    })`,
  ]);
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join("\n");
}

/**
 * Adds the `align` subcommand to the program (through `program.command`, so
 * it inherits the program's exit override and output settings).
 */
export function addAlignCommand(program: Command): void {
  program.command("align")
    .description(
      "Find where FG (an image or a video) sits inside BG (an image or a video): x, y of its top-left corner in BG pixels, its scale and a confidence.",
    )
    .argument(
      "<fg>",
      "the image or video to find (the original's order: fg first)",
    )
    .argument("<bg>", "the image or video to find it in")
    .option(
      "-p, --precision <level>",
      `0 ballpark, 1 coarse, 2 balanced (coarse search + full-resolution refinement), 3 fine, 4 precise (sub-pixel)`,
      parseInteger("--precision", 0, 4),
      2,
    )
    .option(
      "-n, --num-frames <n>",
      "video fg frames to match, spread over it (blank ones are passed over)",
      parseInteger("--num-frames", 1, 1000),
      7,
    )
    .option(
      "-u, --unscaled [bool]",
      "true: the fg is at exactly 100%; false: also smaller scales (10–100%)",
      parseBool,
      true,
    )
    .option(
      "--locator <name>",
      `spatial search plugin: ${registry.names("locator").join(", ")}`,
      "template",
    )
    .option(
      "--no-alternative",
      "skip the search at the other scale mode (shown as the alternative)",
    )
    .option("--json", "print one JSON object on stdout instead of the table")
    .option("-v, --verbose", "debug detail and stack traces")
    .option("-q, --quiet", "no notes on stderr")
    .action(async (fg, bg, opts) => {
      const result = await alignMedia({
        fg,
        bg,
        precision: opts.precision,
        numFrames: opts.numFrames,
        unscaled: opts.unscaled,
        alternative: opts.alternative,
        locator: opts.locator,
        logger: makeLogger(opts),
      });
      console.log(
        opts.json ? JSON.stringify(alignReport(result)) : alignTable(result),
      );
    });
}
