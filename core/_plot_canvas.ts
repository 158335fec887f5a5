/**
 * A minimal RGB raster for the `--plot` report: filled rectangles, lines,
 * gray images, a 3×5 bitmap font, and PNG output (core/png.ts).
 *
 * Text uses a built-in font because imagescript renders text only from a
 * font file, and a plot needs no more than digits and capitals.
 *
 * @module
 */

import { type GrayImage, resizeArea } from "./frame.ts";
import { encodePng } from "./png.ts";

/** A colour as 0xRRGGBB. */
export type Rgb = number;

/**
 * Glyphs of the 3×5 font: five octal digits, one per row from the top, bit
 * 4 = left column. Lower case draws as upper case; unknown characters as `?`.
 */
const GLYPHS: Readonly<Record<string, string>> = {
  "0": "75557",
  "1": "26227",
  "2": "71747",
  "3": "71317",
  "4": "55711",
  "5": "74717",
  "6": "74757",
  "7": "71122",
  "8": "75757",
  "9": "75717",
  A: "25755",
  B: "65656",
  C: "34443",
  D: "65556",
  E: "74647",
  F: "74644",
  G: "34553",
  H: "55755",
  I: "72227",
  J: "11152",
  K: "55655",
  L: "44447",
  M: "57555",
  N: "65555",
  O: "25552",
  P: "65644",
  Q: "25563",
  R: "65655",
  S: "34216",
  T: "72222",
  U: "55557",
  V: "55552",
  W: "55775",
  X: "55255",
  Y: "55222",
  Z: "71247",
  " ": "00000",
  ".": "00002",
  ",": "00024",
  "-": "00700",
  "+": "02720",
  ":": "02020",
  "/": "11244",
  "(": "24442",
  ")": "21112",
  "%": "51245",
  "=": "07070",
  "_": "00007",
  "<": "12421",
  ">": "42124",
  "'": "22000",
  "?": "71202",
  "×": "05250",
};

/** Width of one glyph cell in font pixels (3 drawn + 1 gap). */
const GLYPH_ADVANCE = 4;
/** Height of a glyph in font pixels. */
export const GLYPH_HEIGHT = 5;

/** Width in pixels of `text` drawn at `scale`. */
export function textWidth(text: string, scale = 2): number {
  return text.length === 0 ? 0 : (text.length * GLYPH_ADVANCE - 1) * scale;
}

/** An opaque RGB image with the few drawing operations a plot needs. */
export class Canvas {
  /** Width in pixels. */
  readonly width: number;
  /** Height in pixels. */
  readonly height: number;
  /** RGBA bytes, row-major (alpha is always 255). */
  readonly rgba: Uint8Array;

  /** A canvas filled with `background`. */
  constructor(width: number, height: number, background: Rgb = 0xffffff) {
    if (!Number.isInteger(width) || !Number.isInteger(height)) {
      throw new RangeError(`canvas size must be integers: ${width}×${height}`);
    }
    if (width < 1 || height < 1) {
      throw new RangeError(`canvas size must be positive: ${width}×${height}`);
    }
    this.width = width;
    this.height = height;
    this.rgba = new Uint8Array(width * height * 4);
    this.fillRect(0, 0, width, height, background);
  }

  /** Sets one pixel; outside the canvas nothing happens. */
  set(x: number, y: number, color: Rgb): void {
    x = Math.round(x);
    y = Math.round(y);
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return;
    const p = (y * this.width + x) * 4;
    this.rgba[p] = color >> 16;
    this.rgba[p + 1] = (color >> 8) & 0xff;
    this.rgba[p + 2] = color & 0xff;
    this.rgba[p + 3] = 255;
  }

  /** The colour at (x, y). */
  get(x: number, y: number): Rgb {
    const p = (Math.round(y) * this.width + Math.round(x)) * 4;
    return (this.rgba[p] << 16) | (this.rgba[p + 1] << 8) | this.rgba[p + 2];
  }

  /** Fills the rectangle [x, x + w) × [y, y + h), clipped to the canvas. */
  fillRect(x: number, y: number, w: number, h: number, color: Rgb): void {
    const x0 = Math.max(0, Math.round(x));
    const y0 = Math.max(0, Math.round(y));
    const x1 = Math.min(this.width, Math.round(x + w));
    const y1 = Math.min(this.height, Math.round(y + h));
    const r = color >> 16, g = (color >> 8) & 0xff, b = color & 0xff;
    for (let yy = y0; yy < y1; yy++) {
      for (let p = (yy * this.width + x0) * 4, e = p + (x1 - x0) * 4; p < e;) {
        this.rgba[p++] = r;
        this.rgba[p++] = g;
        this.rgba[p++] = b;
        this.rgba[p++] = 255;
      }
    }
  }

  /** A one-pixel rectangle outline. */
  strokeRect(x: number, y: number, w: number, h: number, color: Rgb): void {
    this.fillRect(x, y, w, 1, color);
    this.fillRect(x, y + h - 1, w, 1, color);
    this.fillRect(x, y, 1, h, color);
    this.fillRect(x + w - 1, y, 1, h, color);
  }

  /**
   * A straight line (Bresenham), `thickness` pixels wide; `dash` > 0 draws
   * dashes of that many steps with gaps of the same length.
   */
  line(
    x0: number,
    y0: number,
    x1: number,
    y1: number,
    color: Rgb,
    thickness = 1,
    dash = 0,
  ): void {
    x0 = Math.round(x0);
    y0 = Math.round(y0);
    x1 = Math.round(x1);
    y1 = Math.round(y1);
    const dx = Math.abs(x1 - x0), dy = -Math.abs(y1 - y0);
    const sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1;
    const lo = -((thickness - 1) >> 1);
    let err = dx + dy;
    for (let step = 0;; step++) {
      if (dash <= 0 || Math.floor(step / dash) % 2 === 0) {
        this.fillRect(x0 + lo, y0 + lo, thickness, thickness, color);
      }
      if (x0 === x1 && y0 === y1) break;
      const e2 = 2 * err;
      if (e2 >= dy) {
        err += dy;
        x0 += sx;
      }
      if (e2 <= dx) {
        err += dx;
        y0 += sy;
      }
    }
  }

  /** Draws `text` with its top-left corner at (x, y), each font pixel `scale` wide. */
  text(x: number, y: number, text: string, color: Rgb, scale = 2): void {
    let cx = Math.round(x);
    for (const ch of text.toUpperCase()) {
      const glyph = GLYPHS[ch] ?? GLYPHS["?"];
      for (let row = 0; row < GLYPH_HEIGHT; row++) {
        const bits = glyph.charCodeAt(row) - 48;
        for (let col = 0; col < 3; col++) {
          if (bits & (4 >> col)) {
            this.fillRect(
              cx + col * scale,
              y + row * scale,
              scale,
              scale,
              color,
            );
          }
        }
      }
      cx += GLYPH_ADVANCE * scale;
    }
  }

  /**
   * Draws a gray image scaled (area average) into the box, keeping its
   * aspect ratio and centring it; returns the rectangle it covers.
   */
  image(
    img: GrayImage,
    box: { x: number; y: number; width: number; height: number },
  ): { x: number; y: number; width: number; height: number } {
    const s = Math.min(box.width / img.width, box.height / img.height);
    const w = Math.max(1, Math.round(img.width * s));
    const h = Math.max(1, Math.round(img.height * s));
    const x = Math.round(box.x + (box.width - w) / 2);
    const y = Math.round(box.y + (box.height - h) / 2);
    const small = resizeArea({ ...img, channels: 1 }, w, h).data;
    for (let yy = 0; yy < h; yy++) {
      for (let xx = 0; xx < w; xx++) {
        const v = small[yy * w + xx];
        this.set(x + xx, y + yy, (v << 16) | (v << 8) | v);
      }
    }
    return { x, y, width: w, height: h };
  }

  /** PNG bytes of the canvas. */
  encodePng(): Promise<Uint8Array> {
    return encodePng(this);
  }
}
