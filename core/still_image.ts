/**
 * Inputs of `align` that may be a still picture or a video: probing tells
 * them apart (a still has one frame), and a still is loaded whole into
 * memory: PNG in process (imagescript's plain-JS codec, see `png.ts`: no
 * process start, ~10× faster than ffmpeg on small files), anything else
 * through ffmpeg (JPEG, WebP, BMP, TIFF, ...). imagescript's JPEG decoder
 * reads a wasm file from disk and its main entry loads a native addon, which
 * would cost the CLI `--allow-ffi` and break the bundle.
 *
 * @module
 */

import { decodePng, type RgbaImage } from "./png.ts";
import { InputError } from "./errors.ts";
import { type Frame, toGray } from "./frame.ts";
import { decodeAll } from "./frame_reader.ts";
import { assertReadableFile, type MediaInfo, probe } from "./probe.ts";

/** An input: a still picture or a video. */
export interface Media {
  /** `image` for a single-frame input, else `video`. */
  readonly kind: "image" | "video";
  /**
   * What ffprobe said about it; for a PNG or JPEG decoded in process, the
   * same facts taken from the picture (one frame, no timing).
   */
  readonly info: MediaInfo;
  /** The picture, when it was already decoded while opening. */
  readonly still?: Frame;
}

/** True for a probed input that holds a single picture. */
export function isStill(info: MediaInfo): boolean {
  return info.frames <= 1;
}

/**
 * Opens an input and says whether it is a still picture or a video. A PNG
 * is decoded right away (starting ffprobe costs more than the decode);
 * anything else is probed, and a single frame is a still. InputError naming `role` when it is missing or not media.
 */
export async function openMedia(path: string, role: string): Promise<Media> {
  await assertReadableFile(path, role);
  const head = new Uint8Array(8);
  {
    using file = await Deno.open(path);
    await file.read(head);
  }
  if (isPng(head)) {
    try {
      const still = rgbOf(await decodePng(await Deno.readFile(path)));
      return { kind: "image", info: stillInfo(path, still, "png"), still };
    } catch {
      // Not decodable here (CMYK, 12-bit, damaged): ffprobe decides.
    }
  }
  const info = await probe(path, role);
  return { kind: isStill(info) ? "image" : "video", info };
}

/** The MediaInfo of a still decoded in process: one frame at time 0. */
function stillInfo(path: string, frame: Frame, codec: string): MediaInfo {
  return {
    path,
    width: frame.width,
    height: frame.height,
    fps: 1,
    fpsRational: "1/1",
    frames: 1,
    duration: 0,
    times: Float64Array.of(0),
    seekBase: 0,
    startTime: 0,
    keyframes: Int32Array.of(0),
    rotation: 0,
    pixFmt: "rgb24",
    videoCodec: codec,
  };
}

/** PNG's signature. */
function isPng(head: Uint8Array): boolean {
  return head.length >= 8 && head[0] === 0x89 && head[1] === 0x50 &&
    head[2] === 0x4e && head[3] === 0x47;
}

/** Packs an RGBA bitmap into RGB (alpha dropped, as ffmpeg's rgb24 does). */
function rgbOf(image: RgbaImage): Frame {
  const n = image.width * image.height;
  const src = image.rgba;
  const out = new Uint8Array(n * 3);
  for (let p = 0, q = 0, r = 0; p < n; p++, q += 4, r += 3) {
    out[r] = src[q];
    out[r + 1] = src[q + 1];
    out[r + 2] = src[q + 2];
  }
  return { width: image.width, height: image.height, channels: 3, data: out };
}

/**
 * Loads a still picture as an RGB frame at its own size. `source` is a path
 * (probed only when ffmpeg must decode it) or an already probed input.
 */
export async function loadStill(
  source: string | MediaInfo,
  signal?: AbortSignal,
): Promise<Frame> {
  const path = typeof source === "string" ? source : source.path;
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (err) {
    // The probe's wording for missing files, folders and the like.
    await probe(path, "image");
    throw new InputError(`cannot read image ${path}: ${String(err)}`, {
      cause: err,
    });
  }
  if (isPng(bytes.subarray(0, 8))) {
    try {
      return rgbOf(await decodePng(bytes));
    } catch {
      // Variants imagescript does not handle (CMYK, 12-bit, ...) go to ffmpeg.
    }
  }
  const info = typeof source === "string" ? await probe(path, "image") : source;
  const format = {
    width: info.width,
    height: info.height,
    channels: 3 as const,
  };
  const [data] = await decodeAll({
    path,
    format,
    sourcePixFmt: info.pixFmt,
    maxFrames: 1,
    signal,
  });
  if (!data) throw new InputError(`ffmpeg decoded no picture from ${path}`);
  return { ...format, data };
}

/** Loads a still picture as an 8-bit gray frame (BT.601 luma). */
export async function loadStillGray(
  source: string | MediaInfo,
  signal?: AbortSignal,
): Promise<Frame> {
  return toGray(await loadStill(source, signal));
}
