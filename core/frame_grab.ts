/**
 * A few gray frames from a known frame index: a seek to the keyframe before
 * it, then a short decode (see `seekPlan`). The exact-placement stages use
 * it for same-moment pairs at full resolution.
 *
 * @module
 */

import { InputError } from "./errors.ts";
import type { GrayImage } from "./frame.ts";
import { decodeAll, type Rect } from "./frame_reader.ts";
import { type MediaInfo, seekPlan } from "./probe.ts";

/** Decodes `count` frames from `index` on, cropped to `crop`, scaled to `size`. */
export async function grabGray(
  info: MediaInfo,
  index: number,
  count: number,
  size: { width: number; height: number },
  crop?: Rect,
  signal?: AbortSignal,
): Promise<GrayImage[]> {
  const frames = await decodeAll({
    path: info.path,
    format: { ...size, channels: 1 },
    sourcePixFmt: info.pixFmt,
    crop,
    start: seekPlan(info, index),
    maxFrames: count,
    signal,
  });
  if (frames.length === 0) {
    throw new InputError(`cannot decode frame ${index} of ${info.path}`);
  }
  return frames.map((data) => ({
    width: size.width,
    height: size.height,
    data,
  }));
}
