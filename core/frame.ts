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
 * any ratio, but is meant for downscaling small frames.
 *
 * Per output row, the input rows it covers whole are summed column by column,
 * four columns per 32-bit load (in 16-bit lanes), into a running prefix sum
 * over the columns. The partly covered first and last rows get prefixes of
 * their own, each built once though a border row serves two output rows. A
 * column span is then a difference of two prefixes plus its two weighted edge
 * columns: a few operations per output pixel. Weights are integers (lengths
 * in 1/output-size units), so the mean is exact and rounds half up exactly
 * (float weights let noise decide exact halves, which upscaling makes common).
 */
export function resizeArea(frame: Frame, width: number, height: number): Frame {
  if (frame.width === width && frame.height === height) return frame;
  const c = frame.channels;
  const xs = cachedSpans(frame.width, width);
  const ys = cachedSpans(frame.height, height);
  const src = frame.data;
  const inRow = frame.width * c;
  const outRow = width * c;
  const s = scratch(inRow + c);
  const whole = s.whole;
  let { edgeA, edgeB } = s;
  // Input row whose prefix edgeB holds.
  let edgeRow = -1;
  const dv = new DataView(src.buffer, src.byteOffset, src.byteLength);
  /**
   * The prefix of a partly covered input row. A border row is the last of
   * one output row and the first of the next: its prefix is kept, and a new
   * one goes to the other buffer.
   */
  const edgePrefix = (y: number): Int32Array => {
    if (y !== edgeRow) {
      const t = edgeA;
      edgeA = edgeB;
      edgeB = t;
      edgeRow = y;
      rowPrefix(dv, src, y * inRow, inRow, c, edgeB);
    }
    return edgeB;
  };
  const out = new Uint8Array(outRow * height);
  const area = frame.width * frame.height;
  for (let oy = 0; oy < height; oy++) {
    const y0 = ys.first[oy], y1 = ys.last[oy];
    let w0 = ys.wFirst[oy], w1 = ys.wLast[oy];
    // Rows [a, b) are covered whole (weight `height`); a partly covered first
    // or last row has its own prefix, weighted w0 or w1 (0 when there is
    // none: the prefix passed is then stale but finite, and drops out).
    const a = w0 === height ? y0 : y0 + 1;
    const b = y1 > y0 && w1 !== height ? y1 : y1 + 1;
    if (a < b) columnPrefix(dv, src, inRow, c, a, b, whole);
    if (w0 === height) w0 = 0;
    const top = w0 ? edgePrefix(y0) : edgeB;
    if (y1 === y0 || w1 === height) w1 = 0;
    const bottom = w1 ? edgePrefix(y1) : edgeB;
    reduceRow(
      whole,
      a < b ? height : 0,
      top,
      w0,
      bottom,
      w1,
      xs,
      c,
      area,
      out,
      oy * outRow,
    );
  }
  s.edgeA = edgeA;
  s.edgeB = edgeB;
  return { width, height, channels: c, data: out };
}

/**
 * Column sums of input rows [a, b) as a prefix per channel:
 * pre[i + c] = pre[i] + column i.
 */
function columnPrefix(
  dv: DataView,
  src: Uint8Array,
  inRow: number,
  c: number,
  a: number,
  b: number,
  pre: Float64Array,
): void {
  // Rows per lane flush: 256 × 255 fits 16 bits.
  const chunk = 256 * inRow;
  const ra = a * inRow, rb = b * inRow;
  pre.fill(0, 0, c);
  let x = 0, run = 0;
  for (; x + 8 <= inRow; x += 8) {
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
    for (let r = ra + x, end = rb + x; r < end;) {
      const stop = Math.min(end, r + chunk);
      let lo = 0, hi = 0, lo2 = 0, hi2 = 0;
      for (; r < stop; r += inRow) {
        const u = dv.getUint32(r, true), v = dv.getUint32(r + 4, true);
        lo = (lo + (u & 0xff00ff)) | 0;
        hi = (hi + ((u >>> 8) & 0xff00ff)) | 0;
        lo2 = (lo2 + (v & 0xff00ff)) | 0;
        hi2 = (hi2 + ((v >>> 8) & 0xff00ff)) | 0;
      }
      s0 += lo & 0xffff;
      s1 += hi & 0xffff;
      s2 += lo >>> 16;
      s3 += hi >>> 16;
      s4 += lo2 & 0xffff;
      s5 += hi2 & 0xffff;
      s6 += lo2 >>> 16;
      s7 += hi2 >>> 16;
    }
    if (c === 1) {
      // Running sum in a register: no store-to-load chain.
      pre[x + 1] = run += s0;
      pre[x + 2] = run += s1;
      pre[x + 3] = run += s2;
      pre[x + 4] = run += s3;
      pre[x + 5] = run += s4;
      pre[x + 6] = run += s5;
      pre[x + 7] = run += s6;
      pre[x + 8] = run += s7;
    } else {
      // c === 3.
      pre[x + 3] = pre[x] + s0;
      pre[x + 4] = pre[x + 1] + s1;
      pre[x + 5] = pre[x + 2] + s2;
      pre[x + 6] = pre[x + 3] + s3;
      pre[x + 7] = pre[x + 4] + s4;
      pre[x + 8] = pre[x + 5] + s5;
      pre[x + 9] = pre[x + 6] + s6;
      pre[x + 10] = pre[x + 7] + s7;
    }
  }
  for (; x < inRow; x++) {
    let sum = 0;
    for (let r = ra + x; r < rb; r += inRow) sum += src[r];
    pre[x + c] = pre[x] + sum;
  }
}

/** Prefix per channel of one input row starting at `row`. */
function rowPrefix(
  dv: DataView,
  src: Uint8Array,
  row: number,
  inRow: number,
  c: number,
  pre: Int32Array,
): void {
  pre.fill(0, 0, c);
  let x = 0;
  if (c === 1) {
    let run = 0;
    for (; x + 4 <= inRow; x += 4) {
      const u = dv.getUint32(row + x, true);
      pre[x + 1] = run += u & 0xff;
      pre[x + 2] = run += (u >>> 8) & 0xff;
      pre[x + 3] = run += (u >>> 16) & 0xff;
      pre[x + 4] = run += u >>> 24;
    }
  }
  for (; x < inRow; x++) pre[x + c] = pre[x] + src[row + x];
}

/**
 * One output row: each pixel's column span summed in the three prefixes
 * (edge columns weighted), the prefixes weighted, and the total divided by
 * the covered area. Weights count 1/outWidth × 1/outHeight units, so the
 * total is an integer (below 2^53) and the rounding is exact.
 */
function reduceRow(
  whole: Float64Array,
  wWhole: number,
  top: Int32Array,
  wTop: number,
  bottom: Int32Array,
  wBottom: number,
  xs: Spans,
  c: number,
  area: number,
  out: Uint8Array,
  base: number,
): void {
  const first = xs.first, last = xs.last;
  const wFirst = xs.wFirst, wLast = xs.wLast;
  const n = first.length;
  // A whole column's weight is n; the mean rounds half up: ⌊(2s + A) / 2A⌋.
  const area2 = 2 * area;
  if (c === 1) {
    for (let o = 0; o < n; o++) {
      const f = first[o], l = last[o];
      const wf = wFirst[o], wl = wLast[o];
      const f1 = f + 1;
      let sw = wf * (whole[f1] - whole[f]);
      let st = wf * (top[f1] - top[f]);
      let sb = wf * (bottom[f1] - bottom[f]);
      if (l > f) {
        const l1 = l + 1;
        sw += n * (whole[l] - whole[f1]) + wl * (whole[l1] - whole[l]);
        st += n * (top[l] - top[f1]) + wl * (top[l1] - top[l]);
        sb += n * (bottom[l] - bottom[f1]) + wl * (bottom[l1] - bottom[l]);
      }
      const sum = wWhole * sw + wTop * st + wBottom * sb;
      out[base + o] = Math.floor((2 * sum + area) / area2);
    }
    return;
  }
  for (let o = 0, q = base; o < n; o++) {
    const f = first[o] * c, l = last[o] * c;
    const wf = wFirst[o], wl = wLast[o];
    for (let ch = 0; ch < c; ch++, q++) {
      const i0 = f + ch, i1 = i0 + c;
      let sw = wf * (whole[i1] - whole[i0]);
      let st = wf * (top[i1] - top[i0]);
      let sb = wf * (bottom[i1] - bottom[i0]);
      if (l > f) {
        const j0 = l + ch, j1 = j0 + c;
        sw += n * (whole[j0] - whole[i1]) + wl * (whole[j1] - whole[j0]);
        st += n * (top[j0] - top[i1]) + wl * (top[j1] - top[j0]);
        sb += n * (bottom[j0] - bottom[i1]) + wl * (bottom[j1] - bottom[j0]);
      }
      const sum = wWhole * sw + wTop * st + wBottom * sb;
      out[q] = Math.floor((2 * sum + area) / area2);
    }
  }
}

/** Reused prefixes (resizeArea is synchronous, so one set suffices). */
interface Scratch {
  /** Column sums of the whole rows (Float64: an 8K frame's sums pass 2^31). */
  whole: Float64Array;
  /** The last two partly covered rows (one row's sums fit int32). */
  edgeA: Int32Array;
  edgeB: Int32Array;
}

let scratchBuffers: Scratch | undefined;

/** Prefix buffers of at least `length` entries. */
function scratch(length: number): Scratch {
  let s = scratchBuffers;
  if (!s || s.whole.length < length) {
    s = scratchBuffers = {
      whole: new Float64Array(length),
      edgeA: new Int32Array(length),
      edgeB: new Int32Array(length),
    };
  }
  return s;
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

/**
 * Output o covers inputs first[o]..last[o]. Lengths count in units of
 * 1/outSize, so every overlap is an integer: an input pixel is outSize long,
 * an output pixel inSize. The end inputs overlap by wFirst[o] and wLast[o]
 * units, the ones between fully (outSize). A single input has
 * last === first and wLast 0.
 */
interface Spans {
  first: Int32Array;
  last: Int32Array;
  wFirst: Float64Array;
  wLast: Float64Array;
}

function spans(inSize: number, outSize: number): Spans {
  const first = new Int32Array(outSize);
  const last = new Int32Array(outSize);
  const wFirst = new Float64Array(outSize);
  const wLast = new Float64Array(outSize);
  for (let o = 0; o < outSize; o++) {
    const a = o * inSize, b = a + inSize;
    const f = Math.floor(a / outSize), l = Math.ceil(b / outSize) - 1;
    first[o] = f;
    last[o] = l;
    wFirst[o] = Math.min(b, (f + 1) * outSize) - a;
    if (l > f) wLast[o] = b - l * outSize;
  }
  return { first, last, wFirst, wLast };
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
