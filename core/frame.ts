/**
 * Small in-memory frames and the cheap conversions analysis needs.
 *
 * Full-resolution pixels never pass through here: ffmpeg crops and scales
 * before JavaScript sees a frame. These helpers only adapt one small frame
 * (typically 64×64 or less) to the format a fingerprinter declares.
 *
 * @module
 */

/** Pixel layout of a frame: width × height, 1 (gray) or 3 (RGB) channels. */
export interface FrameFormat {
  /** Width in pixels. */
  readonly width: number;
  /** Height in pixels. */
  readonly height: number;
  /** 1 for 8-bit gray, 3 for packed 8-bit RGB (rgb24). */
  readonly channels: 1 | 3;
}

/** One frame: tightly packed rows, `width * height * channels` bytes. */
export interface Frame extends FrameFormat {
  /** Packed pixels, row-major, no padding. */
  readonly data: Uint8Array;
}

/** A single-channel 8-bit image. */
export interface GrayImage {
  /** Width in pixels. */
  readonly width: number;
  /** Height in pixels. */
  readonly height: number;
  /** `width * height` luma bytes, row-major. */
  readonly data: Uint8Array;
}

/** Bytes one frame of this format occupies. */
export function frameBytes(format: FrameFormat): number {
  return format.width * format.height * format.channels;
}

/**
 * Standard deviation of a gray image's levels: how much texture it has
 * (blank or flat frames have next to none, and match anything).
 */
export function grayStdDev(g: GrayImage): number {
  const n = g.data.length;
  let s = 0, q = 0;
  for (let i = 0; i < n; i++) {
    const v = g.data[i];
    s += v;
    q += v * v;
  }
  const mean = s / Math.max(1, n);
  return Math.sqrt(Math.max(0, q / Math.max(1, n) - mean * mean));
}

/** True when two formats describe the same layout. */
export function sameFormat(a: FrameFormat, b: FrameFormat): boolean {
  return a.width === b.width && a.height === b.height &&
    a.channels === b.channels;
}

/**
 * The smallest format that can feed every given format by downscaling:
 * the largest width and height, RGB if any wants RGB.
 */
export function coveringFormat(formats: readonly FrameFormat[]): FrameFormat {
  let width = 1, height = 1;
  let channels: 1 | 3 = 1;
  for (const f of formats) {
    width = Math.max(width, f.width);
    height = Math.max(height, f.height);
    if (f.channels === 3) channels = 3;
  }
  return { width, height, channels };
}

/** BT.601 luma of packed RGB, integer weights summing to 256. */
export function toGray(frame: Frame): Frame {
  if (frame.channels === 1) return frame;
  const n = frame.width * frame.height;
  const out = new Uint8Array(n);
  const src = frame.data;
  for (let p = 0, q = 0; p < n; p++, q += 3) {
    out[p] = (77 * src[q] + 150 * src[q + 1] + 29 * src[q + 2] + 128) >> 8;
  }
  return { width: frame.width, height: frame.height, channels: 1, data: out };
}

/**
 * Area-average resampling (each output pixel is the mean of the input area it
 * covers, with fractional edge weights), like ffmpeg's `flags=area`. Works for
 * any ratio, but is meant for downscaling small frames. Separable: each input
 * row is reduced horizontally once, then rows are blended vertically, so the
 * cost is about two operations per input pixel.
 */
export function resizeArea(frame: Frame, width: number, height: number): Frame {
  if (frame.width === width && frame.height === height) return frame;
  const c = frame.channels;
  const xs = cachedSpans(frame.width, width);
  const ys = cachedSpans(frame.height, height);
  const src = frame.data;
  const inRow = frame.width * c;
  const outRow = width * c;
  const rowSum = new Float64Array(outRow);
  const acc = new Float64Array(outRow);
  const out = new Uint8Array(outRow * height);
  const norm = (width / frame.width) * (height / frame.height);
  for (let oy = 0; oy < height; oy++) {
    acc.fill(0);
    for (let k = ys.start[oy]; k < ys.start[oy + 1]; k++) {
      const row = ys.index[k] * inRow;
      const wy = ys.weight[k];
      // Horizontal reduction of one input row.
      for (let ox = 0; ox < width; ox++) {
        for (let ch = 0; ch < c; ch++) {
          let sum = 0;
          for (let q = xs.start[ox]; q < xs.start[ox + 1]; q++) {
            sum += xs.weight[q] * src[row + xs.index[q] * c + ch];
          }
          rowSum[ox * c + ch] = sum;
        }
      }
      for (let q = 0; q < outRow; q++) acc[q] += wy * rowSum[q];
    }
    const base = oy * outRow;
    for (let q = 0; q < outRow; q++) {
      const v = acc[q] * norm;
      out[base + q] = v >= 255 ? 255 : v <= 0 ? 0 : Math.round(v);
    }
  }
  return { width, height, channels: c, data: out };
}

/**
 * Spans per (input size, output size): a video's frames all resize alike,
 * and building spans allocated more than the resize itself (growing JS
 * arrays per frame).
 */
const spanCache = new Map<number, Spans>();

function cachedSpans(inSize: number, outSize: number): Spans {
  const key = inSize * 65536 + outSize;
  let s = spanCache.get(key);
  if (!s) {
    if (spanCache.size > 64) spanCache.clear();
    spanCache.set(key, s = spans(inSize, outSize));
  }
  return s;
}

/** Flat spans: output o covers input index[start[o]..start[o+1]) with weights. */
interface Spans {
  start: Int32Array;
  index: Int32Array;
  weight: Float64Array;
}

function spans(inSize: number, outSize: number): Spans {
  const step = inSize / outSize;
  const start = new Int32Array(outSize + 1);
  const index: number[] = [];
  const weight: number[] = [];
  for (let o = 0; o < outSize; o++) {
    start[o] = index.length;
    const a = o * step;
    const b = Math.min(inSize, a + step);
    for (let i = Math.floor(a); i < Math.min(inSize, Math.ceil(b)); i++) {
      const w = Math.min(b, i + 1) - Math.max(a, i);
      if (w > 1e-9) {
        index.push(i);
        weight.push(w);
      }
    }
  }
  start[outSize] = index.length;
  return {
    start,
    index: Int32Array.from(index),
    weight: Float64Array.from(weight),
  };
}

/** A region of a frame (clamped to it), copied into a new packed frame. */
export function cropFrame(
  frame: Frame,
  rect: { x: number; y: number; width: number; height: number },
): Frame {
  const x0 = Math.max(0, Math.min(frame.width - 1, Math.round(rect.x)));
  const y0 = Math.max(0, Math.min(frame.height - 1, Math.round(rect.y)));
  const w = Math.max(1, Math.min(frame.width - x0, Math.round(rect.width)));
  const h = Math.max(1, Math.min(frame.height - y0, Math.round(rect.height)));
  if (x0 === 0 && y0 === 0 && w === frame.width && h === frame.height) {
    return frame;
  }
  const c = frame.channels;
  const out = new Uint8Array(w * h * c);
  for (let y = 0; y < h; y++) {
    const src = ((y0 + y) * frame.width + x0) * c;
    out.set(frame.data.subarray(src, src + w * c), y * w * c);
  }
  return { width: w, height: h, channels: c, data: out };
}

/** Converts and resizes a frame to the given format (no-op when it matches). */
export function adaptFrame(frame: Frame, format: FrameFormat): Frame {
  let f = frame;
  if (format.channels === 1 && f.channels === 3) f = toGray(f);
  if (format.channels === 3 && f.channels === 1) {
    throw new RangeError("cannot make an RGB frame from a gray one");
  }
  return resizeArea(f, format.width, format.height);
}
