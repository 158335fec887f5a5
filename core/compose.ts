/**
 * Composition: one ffmpeg decodes the bg to raw frames, this module forwards
 * them in frame-map order (repeating or skipping, never going back) into a
 * second ffmpeg that overlays the fg and encodes H.264 + AAC. Full-resolution
 * pixels only move through pipes; writes are awaited so memory stays at a
 * frame or two.
 *
 * @module
 */

import { FfmpegError } from "./errors.ts";
import { decodeArgs, type Rect } from "./frame_reader.ts";
import { type MediaInfo, seekPlan } from "./probe.ts";
import {
  drain,
  failureReason,
  mediaPath,
  spawnFfmpeg,
  TailBuffer,
} from "./process.ts";
import { anyFeathered, featherFilter, featherSides } from "./feather.ts";
import { fgTimeExpression } from "./fg_timing.ts";
import type { Placement, ProgressCallback } from "./types.ts";

/** Ticks per second of a variable-frame-rate output's time base. */
const VFR_TIMEBASE = 90000;

/** Everything the composer needs. */
export interface ComposeOptions {
  /** Probed bg. */
  readonly bg: MediaInfo;
  /** Probed fg. */
  readonly fg: MediaInfo;
  /** Where the fg goes (integer x, y at scale 1; scaled fg is resized by ffmpeg). */
  readonly placement: Placement;
  /** bg index for every fg index (non-decreasing). */
  readonly frameMap: Int32Array;
  /** bg time minus fg time of the same moment (for bg audio when the fg has none). */
  readonly offsetSeconds: number;
  /** How fast the bg plays the fg's content (1: real time); its audio is slowed or sped to the fg's. */
  readonly speed?: number;
  /** File to write (a temporary name; the caller renames it). */
  readonly output: string;
  /** x264 preset. */
  readonly preset: string;
  /** x264 CRF. */
  readonly crf: number;
  /**
   * The part of the fg to compose, in fg pixels (even, inside any black
   * bars: `--engine mask`); default the whole fg.
   */
  readonly content?: Rect;
  /** Width in px of a feathered alpha edge on sides over visible bg (0 = hard edge). */
  readonly smoothMargin?: number;
  /**
   * Extra outputs of frames the encoder decodes anyway (only when the map
   * is one consecutive run: ffmpeg then reads both files): each bg and fg
   * frame, counted from the video's first, shaped by each spec's `filter`
   * (which may select some), to its `url`.
   */
  readonly sideOutputs?: {
    readonly bg?: readonly SideOutputSpec[];
    readonly fg?: readonly SideOutputSpec[];
  };
  /** Progress sink. */
  readonly progress?: ProgressCallback;
  /** Abort. */
  readonly signal?: AbortSignal;
}

/** Where and how one side output goes. */
export interface SideOutputSpec {
  /** ffmpeg output URL (e.g. `unix:/tmp/…sock`). */
  readonly url: string;
  /** Filter chain from the decoded frame to the analysis frame. */
  readonly filter: string;
  /** Raw pixel format of the analysis frame (`gray` or `rgb24`). */
  readonly pixFmt: string;
}

/** Bytes of one yuv420p frame (chroma planes round up for odd sizes). */
export function yuv420pBytes(width: number, height: number): number {
  return width * height + 2 * Math.ceil(width / 2) * Math.ceil(height / 2);
}

/** Seconds formatted for ffmpeg options. */
function sec(t: number): string {
  return Math.max(0, t).toFixed(6);
}

/**
 * The first bg frame when the map is one run of consecutive bg frames
 * (bg frame k + i under fg frame i, the usual case for equal frame rates),
 * else undefined. ffmpeg can then read the bg itself: no raw frames through
 * this process, and the compose costs what a plain overlay costs.
 */
export function contiguousStart(
  frameMap: Int32Array,
  bgFrames: number,
): number | undefined {
  const n = frameMap.length;
  const k = frameMap[0];
  if (n === 0 || k + n > bgFrames) return undefined;
  for (let i = 1; i < n; i++) if (frameMap[i] !== k + i) return undefined;
  return k;
}

/**
 * The encoder's argv: the bg (raw frames on stdin, or the file itself when
 * the map is one consecutive run), the fg file, maybe the bg for audio.
 */
export function encoderArgs(options: ComposeOptions): string[] {
  const { bg, fg, placement } = options;
  const rate = fg.fpsRational;
  const direct = contiguousStart(options.frameMap, bg.frames);
  const args = ["-hide_banner", "-nostdin", "-v", "error"];
  if (direct === undefined) {
    args.push(
      "-f",
      "rawvideo",
      "-pix_fmt",
      "yuv420p",
      "-s",
      `${bg.width}x${bg.height}`,
      "-framerate",
      rate,
      "-i",
      "pipe:0",
    );
  } else {
    args.push("-an", "-sn", "-dn", "-i", mediaPath(bg.path));
  }
  args.push("-i", mediaPath(fg.path));
  const useBgAudio = !fg.audio && bg.audio;
  if (useBgAudio) {
    // The bg audio from the moment under fg frame 0 (input seeks count from
    // the container's start, the offset from the bg's first video frame);
    // when the bg starts after the fg, delay it instead.
    const at = options.offsetSeconds + bg.seekBase;
    if (at >= 0) args.push("-ss", sec(at));
    else args.push("-itsoffset", sec(-at));
    args.push("-vn", "-i", mediaPath(bg.path));
  }
  // Side outputs branch off the decoded frames before anything else.
  // Their reader would wait forever for frames the raw path never sends.
  if (options.sideOutputs && direct === undefined) {
    throw new RangeError(
      "side outputs need a map that is one run of bg frames",
    );
  }
  const side = options.sideOutputs;
  const branches: string[] = [];
  const sideLabels: [string, SideOutputSpec][] = [];
  /** Splits `input` into the overlay's branch and one per side output. */
  const branch = (
    input: string,
    name: string,
    specs: readonly SideOutputSpec[] = [],
  ): string => {
    if (specs.length === 0) return input;
    const outs = specs.map((_, k) => `[${name}side${k}]`).join("");
    branches.push(`${input}split=${specs.length + 1}[${name}in]${outs}`);
    specs.forEach((spec, k) => {
      branches.push(`[${name}side${k}]${spec.filter}[${name}o${k}]`);
      sideLabels.push([`${name}o${k}`, spec]);
    });
    return `[${name}in]`;
  };
  const bgIn = branch("[0:v]", "b", side?.bg);
  const fgIn = branch("[1:v]", "f", side?.fg);
  // Both video inputs are put on the fg frame index timeline so they advance
  // in lockstep: raw bg frame k belongs under fg frame k.
  let fgChain = `${fgIn}setpts=N/(${rate})/TB`;
  const c = options.content ??
    { x: 0, y: 0, width: fg.width, height: fg.height };
  if (
    c.x !== 0 || c.y !== 0 || c.width !== fg.width || c.height !== fg.height
  ) {
    // Black bars are cut before the overlay, so they never cover the bg.
    fgChain += `,crop=${c.width}:${c.height}:${c.x}:${c.y}:exact=1`;
  }
  let w = c.width, h = c.height;
  if (placement.scale !== 1) {
    w = Math.round(c.width * placement.scale);
    h = Math.round(c.height * placement.scale);
    fgChain += `,scale=${w}:${h}:flags=lanczos`;
  }
  const x = Math.round(placement.x + c.x * placement.scale);
  const y = Math.round(placement.y + c.y * placement.scale);
  const sides = featherSides({ x, y, width: w, height: h }, bg);
  const fgPart = options.smoothMargin && anyFeathered(sides)
    ? `${fgChain}[f0];` +
      featherFilter(w, h, sides, options.smoothMargin, {
        input: "f0",
        output: "f",
      })
    : `${fgChain}[f]`;
  // The direct path trims the bg to its run (counted in decoded frames,
  // the same indices the map uses); the raw path gets exactly its frames.
  // Either way the video ends by itself after the last fg frame: -frames:v
  // would end the file there and cut off re-encoded audio still in the
  // encoder (0.2-0.6 s of it, measured).
  const n = options.frameMap.length;
  const bgChain = direct === undefined
    ? `[0:v]setpts=N/(${rate})/TB[b]`
    : `${bgIn}trim=start_frame=${direct}:end_frame=${
      direct + n
    },setpts=N/(${rate})/TB[b]`;
  // A variable-frame-rate fg gets its own frame times back after the
  // index-paired overlay (see fg_timing.ts), on a fine time base.
  const vfr = fgTimeExpression(fg.times, Math.min(n, fg.times.length), fg.fps);
  const retime = vfr === undefined
    ? ""
    : `,settb=1/${VFR_TIMEBASE},setpts='round((${vfr})/TB)'`;
  // fg audio that starts apart from its video (cameras, some muxers) is
  // moved so the sample under the first video frame plays at 0, padded with
  // silence or trimmed; the filter graph counts from the container's start.
  const audioLead = fg.audio ? fg.startTime - fg.audio.startTime : 0;
  const shiftAudio = Math.abs(audioLead) >= 0.001;
  const audioChain = shiftAudio
    ? `;[1:a:0]asetpts=PTS-${fg.seekBase.toFixed(6)}/TB,` +
      `aresample=async=1:first_pts=0[a]`
    : "";
  const filter = [...branches, fgPart, bgChain].join(";") +
    `;[b][f]overlay=x=${x}:y=${y}:eof_action=pass${retime}[v]` + audioChain;
  args.push("-filter_complex", filter, "-map", "[v]");
  if (fg.audio) {
    args.push("-map", shiftAudio ? "[a]" : "1:a:0");
    args.push(
      ...(fg.audio.codec === "aac" && !shiftAudio
        ? ["-c:a", "copy"]
        : ["-c:a", "aac", "-b:a", "192k"]),
    );
  } else if (useBgAudio) {
    args.push("-map", "2:a:0", "-c:a", "aac", "-b:a", "192k");
    // Same frames at another rate: the bg's sound runs at the bg's speed.
    const speed = options.speed ?? 1;
    if (Math.abs(speed - 1) > 1e-6) {
      args.push("-filter:a", `atempo=${(1 / speed).toFixed(6)}`);
    }
  }
  // The last frame lasts one average frame either way.
  const duration = vfr === undefined
    ? n / fg.fps
    : fg.times[Math.min(n, fg.times.length) - 1] - fg.times[0] + 1 / fg.fps;
  // Times the encoder must keep as they are: a VFR fg's own, or fg-rate
  // times over a bg read directly at another rate (its rate would set the
  // encoder's clock). It would otherwise round them to 1/rate, and a
  // constant-rate output mode would duplicate frames to fill gaps.
  const keepTimes = vfr !== undefined ||
    (direct !== undefined && Math.abs(bg.fps - fg.fps) > 1e-6);
  if (keepTimes) {
    args.push(
      "-fps_mode",
      "passthrough",
      "-enc_time_base:v",
      `1:${VFR_TIMEBASE}`,
    );
  }
  args.push(
    "-c:v",
    "libx264",
    "-preset",
    options.preset,
    "-crf",
    String(options.crf),
    "-pix_fmt",
    "yuv420p",
    // No -r: the setpts above already gives exact fg-rate timestamps, and
    // -r would add a rate-conversion stage that cost ~10% here.
    "-t",
    sec(duration),
    "-movflags",
    "+faststart",
    "-f",
    "mp4",
    "-y",
    mediaPath(options.output),
  );
  for (const [label, spec] of sideLabels) {
    args.push(
      "-map",
      `[${label}]`,
      "-fps_mode",
      "passthrough",
      "-f",
      "rawvideo",
      "-pix_fmt",
      spec.pixFmt,
      spec.url,
    );
  }
  return args;
}

/** Writes the composed video to `options.output`. */
export async function compose(options: ComposeOptions): Promise<void> {
  const { bg, frameMap } = options;
  const n = frameMap.length;
  if (n === 0) throw new RangeError("empty frame map");
  if (contiguousStart(frameMap, bg.frames) !== undefined) {
    return await composeDirect(options);
  }
  const first = frameMap[0];
  const last = frameMap[n - 1];
  // Start the bg decode near the first needed frame (an accurate seek lands
  // on it) and stop after the last, instead of decoding the whole bg.
  const startIndex = first > 0 && bg.times[first] > 1 ? first : 0;
  const frameSize = yuv420pBytes(bg.width, bg.height);
  const decoderArgs = decodeArgs({
    path: bg.path,
    format: { width: bg.width, height: bg.height, channels: 1 },
    pixelFormat: "yuv420p",
    start: startIndex > 0 ? seekPlan(bg, startIndex) : undefined,
    maxFrames: last - startIndex + 1,
  });

  const decoder = spawnFfmpeg(
    decoderArgs,
    { stdin: "null", stdout: "piped" },
    options.signal,
  );
  let encoder: Deno.ChildProcess;
  try {
    encoder = spawnFfmpeg(
      encoderArgs(options),
      { stdin: "piped", stdout: "null" },
      options.signal,
    );
  } catch (err) {
    decoder.kill("SIGKILL");
    throw err;
  }
  const decoderErr = drain(decoder.stderr);
  const encoderErr = drain(encoder.stderr, new TailBuffer());
  const reader = decoder.stdout.getReader({ mode: "byob" });
  const writer = encoder.stdin.getWriter();
  let frame = new Uint8Array(frameSize);
  let have = startIndex - 1; // bg index held in `frame`
  let bgEnded = false;

  const readNext = async (): Promise<boolean> => {
    let filled = 0;
    while (filled < frameSize) {
      const { value, done } = await reader.read(frame.subarray(filled), {
        min: frameSize - filled,
      });
      if (value) {
        frame = new Uint8Array(value.buffer);
        filled += value.length;
      }
      if (done) break;
    }
    return filled === frameSize;
  };

  let failure: unknown;
  try {
    for (let k = 0; k < n; k++) {
      const want = frameMap[k];
      while (have < want && !bgEnded) {
        if (await readNext()) have++;
        else bgEnded = true; // shorter than probed: hold the last frame
      }
      if (have < startIndex) {
        throw new FfmpegError(`no bg frames could be decoded from ${bg.path}`);
      }
      await writer.write(frame);
      if ((k & 15) === 0 || k === n - 1) {
        options.progress?.("compose", k + 1, n);
      }
    }
    await writer.close();
  } catch (err) {
    failure = err;
    try {
      encoder.kill("SIGKILL");
    } catch { /* gone */ }
  }
  // The decoder may still hold unread frames beyond the last needed one.
  await reader.cancel().catch(() => {});
  try {
    decoder.kill("SIGKILL");
  } catch { /* gone */ }
  const [encStatus] = await Promise.all([encoder.status, decoder.status]);
  await decoderErr;
  const encText = (await encoderErr).text();
  if (options.signal?.aborted) throw options.signal.reason;
  // A failed encoder explains itself (a write into its closed stdin is only
  // the symptom); otherwise our own failure is the news.
  if (!encStatus.success) {
    throw new FfmpegError(
      `ffmpeg failed while encoding: ${failureReason(encStatus, encText)}`,
    );
  }
  if (failure) throw failure;
}

/** Compose when ffmpeg can read the bg itself (see {@link contiguousStart}). */
async function composeDirect(options: ComposeOptions): Promise<void> {
  const encoder = spawnFfmpeg(
    ["-progress", "pipe:1", "-nostats", ...encoderArgs(options)],
    { stdin: "null", stdout: "piped" },
    options.signal,
  );
  const errors = drain(encoder.stderr, new TailBuffer());
  // ffmpeg's -progress lines give frame counts for the progress bar.
  const n = options.frameMap.length;
  let rest = "";
  const decoder = new TextDecoder();
  for await (const chunk of encoder.stdout) {
    const lines = (rest + decoder.decode(chunk, { stream: true })).split("\n");
    rest = lines.pop() ?? "";
    for (const line of lines) {
      const m = line.match(/^frame=(\d+)/);
      if (m) options.progress?.("compose", Math.min(n, Number(m[1])), n);
    }
  }
  const status = await encoder.status;
  const text = (await errors).text();
  if (!status.success) {
    if (options.signal?.aborted) throw options.signal.reason;
    throw new FfmpegError(
      `ffmpeg failed while encoding: ${failureReason(status, text)}`,
    );
  }
  options.progress?.("compose", n, n);
}
