/**
 * The `--report` JSON and the one-paragraph summary printed after `comp`.
 *
 * @module
 */

import type { CompositeResult } from "./pipeline.ts";
import type { MediaInfo } from "./probe.ts";

function round(v: number, digits = 4): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

function media(m: MediaInfo) {
  return {
    path: m.path,
    width: m.width,
    height: m.height,
    fps: round(m.fps, 6),
    frames: m.frames,
    duration: round(m.duration),
    audio: m.audio ?? null,
  };
}

/** The machine-readable report of a run (snake_case keys, stable). */
export function reportObject(r: CompositeResult): Record<string, unknown> {
  return {
    output: r.output ?? null,
    fg: media(r.fg),
    bg: media(r.bg),
    placement: {
      x: r.placement.x,
      y: r.placement.y,
      scale: r.placement.scale,
      confidence: round(r.placement.confidence),
    },
    content: r.content ?? null,
    offset_seconds: round(r.offsetSeconds, 6),
    fps_ratio: round(r.fpsRatio, 6),
    speed: round(r.speed, 6),
    matched_frames: r.matchedFrames,
    mean_similarity: round(r.meanSimilarity),
    frame_map: Array.from(r.frameMap),
    similarity: Array.from(r.similarity, (v) => round(v)),
    validation: r.validation
      ? {
        mode: r.validation.mode,
        validator: r.validation.validator,
        validated: r.validation.validated,
        mean: round(r.validation.mean),
        worst: r.validation.worst
          ? {
            start: r.validation.worst.start,
            end: r.validation.worst.end,
            mean: round(r.validation.worst.mean),
          }
          : null,
        confidence: Array.from(
          r.validation.confidence,
          (v) => Number.isNaN(v) ? null : round(v),
        ),
      }
      : null,
    uncovered_seconds: r.uncovered.map((u) => [
      round(u.startSeconds, 3),
      round(u.endSeconds, 3),
    ]),
    plugins: r.plugins,
    guess: r.guess,
    timings: Object.fromEntries(
      Object.entries(r.timings).map(([k, v]) => [k, round(v, 3)]),
    ),
  };
}

/** A few lines for stderr: placement, offset, ratio, matches, timings. */
export function summaryText(r: CompositeResult): string {
  const p = r.placement;
  const n = r.frameMap.length;
  const lines = [
    `placement  x=${p.x} y=${p.y} scale=${round(p.scale * 100, 2)}% (ncc ${
      p.confidence.toFixed(3)
    })`,
    `offset     ${r.offsetSeconds >= 0 ? "+" : ""}${
      r.offsetSeconds.toFixed(3)
    } s (bg time − fg time), fps ratio ${r.fpsRatio.toFixed(4)}${
      r.speed === 1
        ? ""
        : `, same frames played at ${round(r.speed * 100, 2)}% speed`
    }`,
    `frames     ${r.matchedFrames}/${n} matched, mean similarity ${
      r.meanSimilarity.toFixed(3)
    }, bg frames ${r.frameMap[0]}–${r.frameMap[n - 1]}`,
    `timings    ${
      Object.entries(r.timings).map(([k, v]) => `${k} ${v.toFixed(2)}s`).join(
        ", ",
      )
    }`,
  ];
  if (r.validation?.validated) {
    const v = r.validation, w = v.worst;
    lines.push(
      `validated  ${v.validated}/${n} frames (${v.mode}, ${v.validator}), mean ${
        v.mean.toFixed(3)
      }${w ? `, worst fg ${w.start}–${w.end} at ${w.mean.toFixed(3)}` : ""}`,
    );
  }
  if (r.output) lines.push(`output     ${r.output}`);
  return lines.join("\n");
}

/**
 * This process's peak resident memory in MB (VmHWM: the main thread and its
 * workers, not ffmpeg children), or undefined where /proc is unavailable.
 */
export async function peakMemoryMb(): Promise<number | undefined> {
  try {
    // /proc files report size 0, so read them through a stream.
    const file = await Deno.open("/proc/self/status");
    const text = await new Response(file.readable).text();
    const m = text.match(/VmHWM:\s+(\d+) kB/);
    return m ? Math.round(Number(m[1]) / 102.4) / 10 : undefined;
  } catch {
    return undefined;
  }
}
