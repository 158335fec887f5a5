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
import {
  binary,
  drain,
  lastLines,
  mediaPath,
  spawnError,
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
  /** Only these frame indices (ascending, decode order of presentation) are emitted. */
  readonly select?: readonly number[];
  /** Seek here (seconds) before decoding; frames before it are not decoded. */
  readonly startSeconds?: number;
  /** Stop after this many emitted frames. */
  readonly maxFrames?: number;
  /**
   * `yuv420p`: full-size planar frames for composition, no filtering (then
   * `format` and `crop` are ignored).
   */
  readonly pixelFormat?: "yuv420p";
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

/** The ffmpeg filter chain that crops, scales (area) and converts. */
export function analysisFilter(options: DecodeOptions): string {
  const parts: string[] = [];
  if (options.select && options.select.length > 0) {
    // Selecting first avoids scaling frames that are thrown away.
    parts.push(
      `select='${options.select.map((n) => `eq(n\\,${n})`).join("+")}'`,
    );
  }
  const c = options.crop;
  if (c) parts.push(`crop=${c.width}:${c.height}:${c.x}:${c.y}:exact=1`);
  const f = options.format;
  const cw = c?.width, ch = c?.height;
  if (cw !== f.width || ch !== f.height) {
    parts.push(`scale=${f.width}:${f.height}:flags=area`);
  }
  parts.push(`format=${f.channels === 1 ? "gray" : "rgb24"}`);
  return parts.join(",");
}

/** The full ffmpeg argv of a decode. */
export function decodeArgs(options: DecodeOptions): string[] {
  const args = ["-hide_banner", "-nostdin", "-v", "error"];
  if (options.startSeconds && options.startSeconds > 0) {
    args.push("-ss", options.startSeconds.toFixed(6));
  }
  // -an -sn -dn: decoding an unused audio track costs ~20% here.
  args.push("-an", "-sn", "-dn", "-i", mediaPath(options.path));
  if (options.pixelFormat !== "yuv420p") {
    args.push("-vf", analysisFilter(options));
  }
  args.push("-fps_mode", "passthrough");
  if (options.maxFrames !== undefined) {
    args.push("-frames:v", String(options.maxFrames));
  }
  args.push(
    "-f",
    "rawvideo",
    "-pix_fmt",
    options.pixelFormat ??
      (options.format.channels === 1 ? "gray" : "rgb24"),
    "pipe:1",
  );
  return args;
}

/**
 * Decodes a video and yields batches of raw frames. Stopping the iteration
 * early kills ffmpeg; a failing ffmpeg raises FfmpegError with its last words.
 */
export async function* decodeFrames(
  options: DecodeOptions,
): AsyncGenerator<FrameBatch> {
  const size = frameBytes(options.format);
  const batch = Math.max(1, options.batch ?? 32);
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(binary("ffmpeg"), {
      args: decodeArgs(options),
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal: options.signal,
    }).spawn();
  } catch (err) {
    throw spawnError("ffmpeg", err);
  }
  const stderr = drain(child.stderr, new TailBuffer());
  const reader = child.stdout.getReader({ mode: "byob" });
  let emitted = 0;
  let finished = false;
  try {
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
      if (filled < buffer.length) break;
    }
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
    if (finished && !status.success && !options.signal?.aborted) {
      // deno-lint-ignore no-unsafe-finally
      throw new FfmpegError(
        `ffmpeg could not decode ${options.path}: ${lastLines(tail.text())}`,
      );
    }
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

/** Frames spread over a video, with the presentation time of each. */
export interface SpreadFrames {
  /** The frames, in order. */
  readonly frames: Uint8Array[];
  /** Presentation time of each (the file's own clock, seconds). */
  readonly times: number[];
}

/**
 * About `count` frames spread evenly over a video, cheaply: the decoder
 * skips non-reference frames (any moment will do for a spread, and skipping
 * them roughly halves the decode), ffmpeg keeps one frame per `duration /
 * count` seconds, and `showinfo` reports when each was shown.
 */
export async function decodeSpread(
  options: {
    readonly path: string;
    readonly format: FrameFormat;
    readonly count: number;
    readonly duration: number;
    readonly signal?: AbortSignal;
  },
): Promise<SpreadFrames> {
  const f = options.format;
  const gap = Math.max(1e-3, options.duration / Math.max(1, options.count));
  const args = [
    "-hide_banner",
    "-nostdin",
    "-nostats",
    "-v",
    "info",
    "-skip_frame",
    "noref",
    "-an",
    "-sn",
    "-dn",
    "-i",
    mediaPath(options.path),
    "-vf",
    `select='isnan(prev_selected_t)+gte(t-prev_selected_t\\,${gap.toFixed(6)})',` +
    `showinfo,scale=${f.width}:${f.height}:flags=area,` +
    `format=${f.channels === 1 ? "gray" : "rgb24"}`,
    "-fps_mode",
    "passthrough",
    "-f",
    "rawvideo",
    "-pix_fmt",
    f.channels === 1 ? "gray" : "rgb24",
    "pipe:1",
  ];
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(binary("ffmpeg"), {
      args,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal: options.signal,
    }).spawn();
  } catch (err) {
    throw spawnError("ffmpeg", err);
  }
  const times: number[] = [];
  const tail = new TailBuffer();
  const stderr = (async () => {
    let rest = "";
    const decoder = new TextDecoder();
    for await (const chunk of child.stderr) {
      tail.push(chunk);
      const text = rest + decoder.decode(chunk, { stream: true });
      const lines = text.split("\n");
      rest = lines.pop() ?? "";
      for (const line of lines) {
        const m = line.match(/showinfo.*pts_time:\s*(-?[0-9.]+)/);
        if (m) times.push(Number(m[1]));
      }
    }
  })();
  const size = frameBytes(f);
  const frames: Uint8Array[] = [];
  const data = new Uint8Array(await new Response(child.stdout).arrayBuffer());
  for (let o = 0; o + size <= data.length; o += size) {
    frames.push(data.slice(o, o + size));
  }
  const status = await child.status;
  await stderr;
  if (!status.success && !options.signal?.aborted) {
    throw new FfmpegError(
      `ffmpeg could not decode ${options.path}: ${lastLines(tail.text())}`,
    );
  }
  const n = Math.min(frames.length, times.length);
  return { frames: frames.slice(0, n), times: times.slice(0, n) };
}
