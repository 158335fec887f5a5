/**
 * Probing inputs with ffprobe: size, frame rate, per-frame presentation
 * times (from packets, so no decode), duration, rotation and audio.
 *
 * @module
 */

import { FfmpegError, InputError } from "./errors.ts";
import { mediaPath, runLines } from "./process.ts";
import type { Timeline } from "./types.ts";

/** What vidkompy needs to know about one input. */
export interface MediaInfo {
  /** The path as given. */
  readonly path: string;
  /** Display width (after rotation metadata is applied, as ffmpeg decodes it). */
  readonly width: number;
  /** Display height. */
  readonly height: number;
  /** Nominal frame rate (avg_frame_rate, falling back to r_frame_rate). */
  readonly fps: number;
  /** The same rate as an exact ffmpeg rational string, e.g. `30000/1001`. */
  readonly fpsRational: string;
  /** Number of video frames (counted packets; duration × fps if unavailable). */
  readonly frames: number;
  /** Duration in seconds. */
  readonly duration: number;
  /** Frame times in seconds from the first frame (presentation order). */
  readonly times: Float64Array;
  /**
   * Where frame 0 sits for ffmpeg's input seeking: its presentation time
   * minus the container's start time, in seconds.
   */
  readonly seekBase: number;
  /** Presentation time of frame 0 in the file's own clock (seconds). */
  readonly startTime: number;
  /** Indices of keyframes (where a seek lands cheaply), ascending. */
  readonly keyframes: Int32Array;
  /** Rotation in degrees from the container's display matrix (0 when none). */
  readonly rotation: number;
  /** Decoded pixel format, e.g. `yuv420p`. */
  readonly pixFmt: string;
  /** Video codec name. */
  readonly videoCodec: string;
  /** Audio track, if any. */
  readonly audio?: {
    readonly codec: string;
    readonly sampleRate: number;
    readonly channels: number;
    /**
     * Its first sample's time in the file's own clock (seconds), beside the
     * video's `startTime`: cameras and muxers often start the two apart.
     */
    readonly startTime: number;
  };
}

/** How to start decoding at a frame cheaply and exactly. */
export interface SeekPlan {
  /** Input `-ss` position: just past the last keyframe at or before the frame. */
  readonly keyTime: number;
  /** The frame's presentation time in the file's clock, less half a frame. */
  readonly frameTime: number;
}

/**
 * Where to seek for frame `index`. ffmpeg's accurate seek to a time just
 * before a keyframe jumps back to the previous keyframe (a whole GOP of
 * extra decoding); seeking just past the keyframe before the frame and
 * selecting by timestamp lands on the right frame for the least work.
 */
export function seekPlan(info: MediaInfo, index: number): SeekPlan {
  const i = Math.max(0, Math.min(info.frames - 1, index));
  const key = keyframeBefore(info.keyframes, i);
  return {
    keyTime: key > 0 ? info.seekBase + info.times[key] + 0.0005 : 0,
    frameTime: info.startTime + info.times[i] - 0.5 / info.fps,
  };
}

/** Frames a seek to frame `index` decodes: from the keyframe before it up to it. */
export function seekCost(keyframes: Int32Array, index: number): number {
  return index - keyframeBefore(keyframes, index);
}

/** The last keyframe at or before `index` (0 when none is). */
function keyframeBefore(keyframes: Int32Array, index: number): number {
  let lo = 0, hi = keyframes.length - 1, key = 0;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (keyframes[mid] <= index) {
      key = keyframes[mid];
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return key;
}

/** The timeline the aligner uses for a probed input. */
export function timelineOf(info: MediaInfo): Timeline {
  return { count: info.frames, fps: info.fps, times: info.times };
}

interface ProbeStream {
  codec_type?: string;
  codec_name?: string;
  pix_fmt?: string;
  width?: number;
  height?: number;
  r_frame_rate?: string;
  avg_frame_rate?: string;
  nb_frames?: string;
  duration?: string;
  time_base?: string;
  sample_rate?: string;
  channels?: number;
  start_time?: string;
  tags?: Record<string, string>;
  side_data_list?: { rotation?: number }[];
  disposition?: { attached_pic?: number };
}

function finiteOr(value: number, fallback: number): number {
  return Number.isFinite(value) ? value : fallback;
}

function rational(text: string | undefined): number {
  if (!text) return NaN;
  const [a, b] = text.split("/").map(Number);
  if (b === undefined) return a;
  return b === 0 ? NaN : a / b;
}

/** Refuses paths that are missing, folders, or unreadable, with a clear line. */
export async function assertReadableFile(
  path: string,
  role: string,
): Promise<void> {
  let stat: Deno.FileInfo;
  try {
    stat = await Deno.stat(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      throw new InputError(`${role} file not found: ${path}`, {
        cause: err,
        hint: "check the path",
      });
    }
    throw new InputError(`cannot read ${role} file ${path}: ${String(err)}`, {
      cause: err,
    });
  }
  if (stat.isDirectory) {
    throw new InputError(`${role} is a folder, not a video: ${path}`, {
      hint: "give a video file",
    });
  }
  if (stat.size === 0) {
    throw new InputError(`${role} file is empty: ${path}`);
  }
}

/**
 * Probes a video file. Throws InputError when the file is missing, not
 * media, or has no video stream.
 */
export async function probe(
  path: string,
  role = "input",
): Promise<MediaInfo> {
  await assertReadableFile(path, role);
  let json: {
    streams?: (ProbeStream & { index?: number })[];
    format?: { duration?: string; start_time?: string };
  };
  const packets = new PacketColumns();
  try {
    // One ffprobe for metadata and packet times: it only demuxes, and each
    // process start costs more than the listing itself. Compact JSON puts
    // each packet on a line of its own, read as it comes (see PacketColumns).
    const rest: string[] = [];
    await runLines("ffprobe", [
      "-v",
      "error",
      "-print_format",
      "json=compact=1",
      "-show_format",
      "-show_streams",
      "-show_entries",
      "packet=stream_index,pts_time,flags",
      "-i",
      mediaPath(path),
    ], (line) => {
      if (!packets.take(line)) rest.push(line);
    });
    json = JSON.parse(rest.join("\n"));
  } catch (err) {
    if (err instanceof FfmpegError && err.hint) throw err;
    if (await isUnfinishedMp4(path, String(err))) {
      throw new InputError(
        `${role} is truncated: the MP4 has no index (moov atom): ${path}`,
        { cause: err, hint: "copy or export the file again" },
      );
    }
    throw new InputError(`${role} is not a readable media file: ${path}`, {
      cause: err,
      hint: "check that it is a video ffmpeg can decode",
    });
  }
  const streams = json.streams ?? [];
  const video = streams.find((s) =>
    s.codec_type === "video" && !s.disposition?.attached_pic
  );
  if (!video || !video.width || !video.height) {
    throw new InputError(`${role} has no video stream: ${path}`, {
      hint: "give a file with a video track",
    });
  }
  const audioStream = streams.find((s) => s.codec_type === "audio");
  const rotation = normaliseRotation(
    video.side_data_list?.find((d) => d.rotation !== undefined)?.rotation ??
      Number(video.tags?.rotate ?? 0),
  );
  const swap = rotation === 90 || rotation === 270;
  if (Math.min(video.width, video.height) < MIN_SIDE) {
    throw new InputError(
      `${role} is too small to align: ${video.width}×${video.height} pixels: ${path}`,
      { hint: `vidkompy needs at least ${MIN_SIDE}×${MIN_SIDE}` },
    );
  }
  // avg_frame_rate is the true mean; some streams only have r_frame_rate.
  const avg = rational(video.avg_frame_rate);
  const fpsRational = avg > 0 && Number.isFinite(avg)
    ? video.avg_frame_rate!
    : video.r_frame_rate ?? "0/0";
  const fps = rational(fpsRational);
  if (!(fps >= MIN_FPS && fps <= MAX_FPS)) {
    throw new InputError(
      `${role} has an unusable frame rate (${
        Number.isFinite(fps) ? `${+fps.toPrecision(4)} fps` : "none"
      }): ${path}`,
      { hint: `vidkompy handles ${MIN_FPS} to ${MAX_FPS} fps` },
    );
  }
  const duration = Number(video.duration ?? json.format?.duration ?? NaN);
  const stream = packets.timesOf(video.index ?? 0);
  // A container's frame count (mp4, avi: from the index) beyond the packets
  // that can be read means the data was cut off; without this check a
  // half-copied file would compose half a video without a word.
  const declared = Number(video.nb_frames);
  const readable = stream?.listed ?? 0;
  if (declared > 0 && readable < declared) {
    throw new InputError(
      `${role} is truncated or damaged: ${readable} of ${declared} video frames can be read: ${path}`,
      { hint: "copy or export the file again" },
    );
  }
  let times = stream?.times ?? new Float64Array(0);
  const formatStart = Number(json.format?.start_time ?? 0);
  if (times.length === 0) {
    const n = Math.round((duration || 0) * fps);
    if (n <= 0) throw new InputError(`${role} has no video frames: ${path}`);
    times = Float64Array.from({ length: n }, (_, i) => i / fps);
  }
  return {
    path,
    width: swap ? video.height : video.width,
    height: swap ? video.width : video.height,
    fps,
    fpsRational,
    frames: times.length,
    duration: Number.isFinite(duration)
      ? duration
      : times[times.length - 1] + 1 / fps,
    times,
    seekBase: stream && Number.isFinite(formatStart)
      ? Math.max(0, stream.first - formatStart)
      : 0,
    startTime: stream?.first ?? 0,
    keyframes: stream?.keyframes.length ? stream.keyframes : Int32Array.of(0),
    rotation,
    videoCodec: video.codec_name ?? "unknown",
    pixFmt: video.pix_fmt ?? "unknown",
    audio: audioStream
      ? {
        codec: audioStream.codec_name ?? "unknown",
        sampleRate: Number(audioStream.sample_rate ?? 0),
        channels: audioStream.channels ?? 0,
        startTime: finiteOr(
          Number(audioStream.start_time),
          finiteOr(formatStart, 0),
        ),
      }
      : undefined,
  };
}

/**
 * True when the file starts like an MP4/MOV (an `ftyp` box) but ffprobe
 * found no `moov` index: the writer never finished (a cut copy, a crashed
 * recorder), which deserves a clearer word than "not a media file".
 */
async function isUnfinishedMp4(path: string, ffprobeText: string) {
  if (!/moov atom not found/.test(ffprobeText)) return false;
  try {
    using file = await Deno.open(path);
    const head = new Uint8Array(8);
    const n = await file.read(head);
    return n === 8 && new TextDecoder().decode(head.subarray(4)) === "ftyp";
  } catch {
    return false;
  }
}

/** Smallest width or height vidkompy aligns (the analysis needs some detail). */
export const MIN_SIDE = 16;
/** Lowest frame rate accepted (below it a "video" is a slide show of stills). */
export const MIN_FPS = 1;
/** Highest frame rate accepted. */
export const MAX_FPS = 1000;

function normaliseRotation(deg: number): number {
  if (!Number.isFinite(deg)) return 0;
  return ((Math.round(deg / 90) * 90) % 360 + 360) % 360;
}

/** A packet's flag bits in {@link PacketColumns}. */
const KEY = 1, DISCARD = 2;

/**
 * The packets of ffprobe's compact JSON listing, taken a line at a time
 * and kept as three number columns instead of a parsed object per packet
 * (a 20-minute video has 63,000 of them); every other line is left to the
 * caller. A packet is mostly one line, more when it carries side data.
 */
class PacketColumns {
  readonly #stream: number[] = [];
  readonly #time: number[] = [];
  readonly #flags: number[] = [];
  #inside = false;
  /** The lines of a packet not yet closed, and its open brackets. */
  #pending = "";
  #depth = 0;

  /** Takes `line` when it belongs to the packet list; false otherwise. */
  take(line: string): boolean {
    const t = line.trim();
    if (!this.#inside) {
      // The list's opening line stays with the caller, as does its end:
      // the rest of the document then reads as an empty list.
      if (t === '"packets": [') this.#inside = true;
      return false;
    }
    if (this.#depth === 0) {
      if (t.startsWith("]")) {
        this.#inside = false;
        return false;
      }
      if (t === "") return true;
    }
    this.#pending += t;
    this.#depth += bracketBalance(t);
    if (this.#depth > 0) return true;
    const text = this.#pending;
    this.#pending = "";
    this.#depth = 0;
    const p: { stream_index?: number; pts_time?: string; flags?: string } = JSON
      .parse(text.endsWith(",") ? text.slice(0, -1) : text);
    const flags = p.flags ?? "";
    this.#stream.push(p.stream_index ?? -1);
    this.#time.push(p.pts_time === undefined ? NaN : Number(p.pts_time));
    this.#flags.push(
      (flags.includes("K") ? KEY : 0) | (flags.includes("D") ? DISCARD : 0),
    );
    return true;
  }

  /**
   * Presentation times of one stream's packets, sorted, relative to the
   * first, and which of them are keyframes; packets flagged for discard
   * (edit lists) are left out so the count matches the frames ffmpeg
   * decodes; `listed` counts every packet of the stream, discarded or not.
   */
  timesOf(stream: number):
    | {
      times: Float64Array;
      first: number;
      keyframes: Int32Array;
      listed: number;
    }
    | undefined {
    const kept: number[] = [];
    let listed = 0;
    for (let k = 0; k < this.#stream.length; k++) {
      if (this.#stream[k] !== stream) continue;
      listed++;
      if (this.#flags[k] & DISCARD || !Number.isFinite(this.#time[k])) continue;
      kept.push(k);
    }
    if (kept.length === 0) return undefined;
    const time = this.#time;
    kept.sort((a, b) => time[a] - time[b]);
    const first = time[kept[0]];
    const times = new Float64Array(kept.length);
    const keys: number[] = [];
    for (let i = 0; i < kept.length; i++) {
      times[i] = time[kept[i]] - first;
      if (this.#flags[kept[i]] & KEY) keys.push(i);
    }
    return { times, first, keyframes: Int32Array.from(keys), listed };
  }
}

/** Opening minus closing brackets of a JSON fragment, outside its strings. */
function bracketBalance(text: string): number {
  let depth = 0, quoted = false;
  for (let k = 0; k < text.length; k++) {
    const c = text[k];
    if (quoted) {
      if (c === "\\") k++;
      else if (c === '"') quoted = false;
    } else if (c === '"') quoted = true;
    else if (c === "{" || c === "[") depth++;
    else if (c === "}" || c === "]") depth--;
  }
  return depth;
}
