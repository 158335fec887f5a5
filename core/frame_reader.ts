/**
 * Streaming decode of one video into small raw frames. ffmpeg does the
 * decoding, cropping, scaling and colour conversion in C; this module only
 * reads exact-size frames from its stdout (BYOB reads, no re-chunking) while
 * draining stderr, and hands them out in batches.
 *
 * @module
 */

import { FfmpegError } from "./errors.ts";
import type { FrameFormat } from "./frame.ts";
import { frameBytes } from "./frame.ts";
import type { SeekPlan } from "./probe.ts";
import {
  drain,
  failureReason,
  mediaPath,
  spawnFfmpeg,
  TailBuffer,
} from "./process.ts";

/** A rectangle in source pixels. */
export interface Rect {
  /** Left edge. */
  readonly x: number;
  /** Top edge. */
  readonly y: number;
  /** Width. */
  readonly width: number;
  /** Height. */
  readonly height: number;
}

/** What to decode and how to shape the frames. */
export interface DecodeOptions {
  /** Input file. */
  readonly path: string;
  /** Output frame size and channels (1 = gray, 3 = rgb24). */
  readonly format: FrameFormat;
  /** Region of the (display-oriented) source to keep before scaling. */
  readonly crop?: Rect;
  /** Start at a frame (see `seekPlan`): seek near it, keep frames from it on. */
  readonly start?: SeekPlan;
  /** Stop after this many emitted frames. */
  readonly maxFrames?: number;
  /**
   * `yuv420p`: full-size planar frames for composition, no filtering (then
   * `format` and `crop` are ignored).
   */
  readonly pixelFormat?: "yuv420p";
  /** The source's pixel format (from the probe), to pick the cheapest gray. */
  readonly sourcePixFmt?: string;
  /** Decoder threads (default: ffmpeg's choice). */
  readonly threads?: number;
  /**
   * Skip the decoder's deblocking filter (~15% less decode work on H.264
   * here). Only for analysis decodes that shrink the picture at least 2×
   * (see {@link shrinksTwice}), never for pixels that are shown or validated.
   */
  readonly skipLoopFilter?: boolean;
  /** Frames per yielded batch (default 32). */
  readonly batch?: number;
  /** Aborts the decode (the child is killed). */
  readonly signal?: AbortSignal;
}

/** A batch of consecutive emitted frames, packed. */
export interface FrameBatch {
  /** Index (in emitted order) of the batch's first frame. */
  readonly start: number;
  /** Frames in the batch. */
  readonly count: number;
  /** `count * frameBytes(format)` bytes; owned by the receiver (may be transferred). */
  readonly data: Uint8Array;
}

/** 8-bit planar YUV formats whose Y plane is the gray picture. */
const LUMA_PLANAR = new Set([
  "yuv420p",
  "yuvj420p",
  "yuv422p",
  "yuvj422p",
  "yuv444p",
  "yuvj444p",
]);

/**
 * True when frames of `from` size become `to` at half size or less on both
 * axes. Area averaging then blends each 8×8 block edge into its
 * neighbours, so skipping deblocking changes nothing the analysis can see;
 * at smaller reductions it did (a 384×216 slow pan at 60→24 fps lost the
 * sub-frame phase of a fifth of its frames).
 */
export function shrinksTwice(
  from: { readonly width: number; readonly height: number },
  to: { readonly width: number; readonly height: number },
): boolean {
  return 2 * to.width <= from.width && 2 * to.height <= from.height;
}

/** The ffmpeg filter chain that crops, scales (area) and converts. */
export function analysisFilter(options: DecodeOptions): string {
  const parts: string[] = [];
  if (options.start) {
    parts.push(`select='gte(t\\,${options.start.frameTime.toFixed(6)})'`);
  }
  const c = options.crop;
  if (c) parts.push(`crop=${c.width}:${c.height}:${c.x}:${c.y}:exact=1`);
  const f = options.format;
  // Gray from planar YUV: take the luma plane as it is (no conversion of
  // three planes, ~10% of the decode); NCC-based analysis ignores its range.
  const luma = f.channels === 1 && LUMA_PLANAR.has(options.sourcePixFmt ?? "");
  if (luma) parts.push("extractplanes=y");
  const cw = c?.width, ch = c?.height;
  if (cw !== f.width || ch !== f.height) {
    parts.push(`scale=${f.width}:${f.height}:flags=area`);
  }
  if (!luma) parts.push(`format=${f.channels === 1 ? "gray" : "rgb24"}`);
  return parts.join(",");
}

/** The full ffmpeg argv of a decode. */
export function decodeArgs(options: DecodeOptions): string[] {
  const args = ["-hide_banner", "-nostdin", "-v", "error"];
  // Timestamps stay in the file's clock (-copyts) so the select finds the
  // frame wherever the keyframe seek landed.
  if (options.start) args.push("-copyts");
  args.push(...inputArgs(options, options.start));
  if (options.pixelFormat !== "yuv420p") {
    args.push("-vf", analysisFilter(options));
  } else if (options.start) {
    args.push("-vf", `select='gte(t\\,${options.start.frameTime.toFixed(6)})'`);
  }
  if (options.maxFrames !== undefined) {
    args.push("-frames:v", String(options.maxFrames));
  }
  args.push(
    ...rawOutputArgs(
      options.pixelFormat ??
        (options.format.channels === 1 ? "gray" : "rgb24"),
    ),
  );
  return args;
}

/** One input's options and the input: seeked near `start`, video only. */
function inputArgs(
  options: Pick<DecodeOptions, "path" | "threads" | "skipLoopFilter">,
  start: SeekPlan | undefined,
): string[] {
  const args: string[] = [];
  if (start && start.keyTime > 0) {
    args.push("-noaccurate_seek", "-ss", start.keyTime.toFixed(6));
  }
  if (options.threads) args.push("-threads", String(options.threads));
  if (options.skipLoopFilter) args.push("-skip_loop_filter", "all");
  // -an -sn -dn: decoding an unused audio track costs ~20% here.
  args.push("-an", "-sn", "-dn", "-i", mediaPath(options.path));
  return args;
}

/** The output: every frame as it comes, raw, to stdout. */
function rawOutputArgs(pixFmt: string): string[] {
  return [
    "-fps_mode",
    "passthrough",
    "-f",
    "rawvideo",
    "-pix_fmt",
    pixFmt,
    "pipe:1",
  ];
}

/** A stretch of a video to decode: `count` frames from the seek's frame on. */
export interface FrameRun {
  /** Where to seek (see `seekPlan`). */
  readonly start: SeekPlan;
  /** Frames to keep from there. */
  readonly count: number;
}

/**
 * The argv of one ffmpeg that decodes several runs of a video, in order:
 * one input per run, seeked to it, its frames selected and shaped as
 * {@link decodeArgs} would, cut to the run's length, and the runs
 * concatenated into one stream. One process instead of one per run: each
 * ffmpeg start costs about 66 ms here (the dynamic linker, across the 215
 * libraries Debian's ffmpeg loads), and an input whose run is cut is read
 * no further.
 *
 * A run the video ends inside would shift every later run's frames to the
 * wrong places in the stream, so every run but the last (unless
 * `padLast`) is padded to its length with copies of its last frame: a
 * reader then pairs those with the wrong picture and scores them low,
 * rather than all that follow. The last one just ends early, as a single
 * decode would.
 */
export function decodeRunsArgs(
  options: Omit<DecodeOptions, "start" | "maxFrames" | "pixelFormat">,
  runs: readonly FrameRun[],
  padLast = false,
): string[] {
  if (runs.length === 0) throw new RangeError("no runs to decode");
  const args = ["-hide_banner", "-nostdin", "-v", "error", "-copyts"];
  const chains: string[] = [];
  // One run needs no concat: its chain is the output.
  const label = (k: number) => runs.length === 1 ? "out" : `r${k}`;
  runs.forEach((run, k) => {
    args.push(...inputArgs(options, run.start));
    const cut = `trim=end_frame=${run.count}`;
    const pad = k < runs.length - 1 || padLast
      ? `,tpad=stop=${run.count}:stop_mode=clone,${cut}`
      : "";
    // Each run's timestamps start at 0, as concat wants.
    chains.push(
      `[${k}:v]${
        analysisFilter({ ...options, start: run.start })
      },${cut}${pad},setpts=PTS-STARTPTS[${label(k)}]`,
    );
  });
  if (runs.length > 1) {
    chains.push(
      `${
        runs.map((_, k) => `[${label(k)}]`).join("")
      }concat=n=${runs.length}:v=1:a=0[out]`,
    );
  }
  args.push(
    "-filter_complex",
    chains.join(";"),
    "-map",
    "[out]",
    ...rawOutputArgs(options.format.channels === 1 ? "gray" : "rgb24"),
  );
  return args;
}

/**
 * Decodes a video and yields batches of raw frames. Stopping the iteration
 * early kills ffmpeg; a failing ffmpeg raises FfmpegError with its last words.
 */
export function decodeFrames(
  options: DecodeOptions,
): AsyncGenerator<FrameBatch> {
  return readDecode(decodeArgs(options), options);
}

/**
 * Several runs of a video, in order: one ffmpeg (see
 * {@link decodeRunsArgs}) for every `perDecode` of them, one after another.
 */
export async function* decodeRuns(
  options: Omit<DecodeOptions, "start" | "maxFrames" | "pixelFormat">,
  runs: readonly FrameRun[],
  perDecode = runs.length,
): AsyncGenerator<FrameBatch> {
  const per = Math.max(1, perDecode);
  let emitted = 0;
  for (let k = 0; k < runs.length; k += per) {
    const last = k + per >= runs.length;
    const args = decodeRunsArgs(options, runs.slice(k, k + per), !last);
    let count = 0;
    for await (const b of readDecode(args, options)) {
      // Batch starts count over the whole sequence.
      yield { ...b, start: emitted + b.start };
      count = b.start + b.count;
    }
    emitted += count;
  }
}

/** Bytes of decoded frames one ffmpeg's inputs may hold (see runsPerDecode). */
const DECODER_BUDGET = 128 * 1024 * 1024;

/**
 * Runs one ffmpeg should decode together (see {@link decodeRuns}). Each
 * input keeps its decoder's frames until the process ends, about sixteen
 * frames' worth with frame threads: one run of a 1080p video held 98 MB
 * here, two 140 MB, five 271 MB, twelve 375–580 MB. So big frames go a few
 * at a time: 24 runs of a 640×360 video, 2 of a 1080p one, 1 of a 4K one.
 */
export function runsPerDecode(
  video: { readonly width: number; readonly height: number },
): number {
  const frame = 1.5 * video.width * video.height; // yuv420p
  return Math.max(1, Math.floor(DECODER_BUDGET / (16 * frame)));
}

/** Runs an ffmpeg decode to raw frames of `options.format` and yields them in batches. */
async function* readDecode(
  args: string[],
  options: Pick<DecodeOptions, "path" | "format" | "batch" | "signal">,
): AsyncGenerator<FrameBatch> {
  const size = frameBytes(options.format);
  const batch = Math.max(1, options.batch ?? 32);
  const child = spawnFfmpeg(
    args,
    { stdin: "null", stdout: "piped" },
    options.signal,
  );
  const stderr = drain(child.stderr, new TailBuffer());
  const reader = child.stdout.getReader({ mode: "byob" });
  let finished = false;
  try {
    yield* readBatches(reader, size, batch);
    finished = true;
  } finally {
    if (!finished) {
      try {
        child.kill("SIGKILL");
      } catch { /* already gone */ }
      await reader.cancel().catch(() => {});
    }
    reader.releaseLock();
    const status = await child.status;
    const tail = await stderr;
    // An abort ends the stream like a short video would: say so, or the
    // caller goes on with the frames read so far.
    // deno-lint-ignore no-unsafe-finally
    if (options.signal?.aborted) throw options.signal.reason;
    if (finished && !status.success) {
      // deno-lint-ignore no-unsafe-finally
      throw new FfmpegError(
        `ffmpeg could not decode ${options.path}: ${
          failureReason(status, tail.text())
        }`,
      );
    }
  }
}

/**
 * Reads packed frames of `size` bytes from a byte stream in batches of up
 * to `batch` (BYOB reads straight into each batch's buffer, no
 * re-chunking); a last partial frame is dropped. Ends with the stream.
 */
export async function* readBatches(
  reader: ReadableStreamBYOBReader,
  size: number,
  batch: number,
): AsyncGenerator<FrameBatch> {
  let emitted = 0;
  while (true) {
    let buffer = new Uint8Array(size * batch);
    let filled = 0;
    while (filled < buffer.length) {
      const { value, done } = await reader.read(
        buffer.subarray(filled),
        { min: buffer.length - filled },
      );
      if (value) {
        buffer = new Uint8Array(value.buffer);
        filled += value.length;
      }
      if (done) break;
    }
    const count = Math.floor(filled / size);
    if (count > 0) {
      yield {
        start: emitted,
        count,
        data: count === batch ? buffer : buffer.slice(0, count * size),
      };
      emitted += count;
    }
    if (filled < buffer.length) return;
  }
}

/** Decodes and collects every emitted frame (for small sample sets). */
export async function decodeAll(options: DecodeOptions): Promise<Uint8Array[]> {
  const size = frameBytes(options.format);
  const frames: Uint8Array[] = [];
  for await (const b of decodeFrames({ ...options, batch: 1 })) {
    for (let k = 0; k < b.count; k++) {
      frames.push(b.data.subarray(k * size, (k + 1) * size));
    }
  }
  return frames;
}
