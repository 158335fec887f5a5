/**
 * PNG encoding and decoding in plain JavaScript, through imagescript's v2
 * framebuffer codec.
 *
 * imagescript's main entry (`Image`) loads a native Node addon as soon as
 * it is imported: that needs `--allow-ffi` (beyond the CLI's least
 * permissions) and cannot be bundled. The v2 framebuffer module is plain
 * JavaScript with its own inflate/deflate, so it runs with no permission at
 * all and bundles into `dist/vidkompy.js`.
 *
 * @module
 */

import { loadImagescriptFramebuffer } from "../deps.ts";

/** An 8-bit RGBA picture, rows packed without padding. */
export interface RgbaImage {
  /** Width in pixels. */
  readonly width: number;
  /** Height in pixels. */
  readonly height: number;
  /** `width * height * 4` bytes: red, green, blue, alpha. */
  readonly rgba: Uint8Array;
}

/** The part of imagescript's framebuffer used here. */
interface Framebuffer {
  readonly width: number;
  readonly height: number;
  readonly u8: Uint8Array;
  encode(
    format: "png",
    options?: { compression?: "none" | "fast" | "best" | "default" },
  ): Uint8Array;
}

/**
 * imagescript ships one `.d.ts` for both builds and it types the ES module
 * as CommonJS, so the class is declared here; at run time the `.mjs`
 * default export is the class itself.
 */
type FramebufferClass = {
  new (width: number, height: number, buffer?: Uint8Array): Framebuffer;
  decode(format: "png", data: Uint8Array): Framebuffer;
};

let framebuffer: Promise<FramebufferClass> | undefined;

/** The codec, loaded on first use (see `deps.ts`). */
function codec(): Promise<FramebufferClass> {
  framebuffer ??= loadImagescriptFramebuffer().then((m) =>
    m.default as unknown as FramebufferClass
  );
  return framebuffer;
}

/** PNG bytes (8-bit RGBA, fast deflate) of an image. */
export async function encodePng(image: RgbaImage): Promise<Uint8Array> {
  if (image.rgba.length !== image.width * image.height * 4) {
    throw new RangeError(
      `${image.width}×${image.height} RGBA needs ${
        image.width * image.height * 4
      } bytes, got ${image.rgba.length}`,
    );
  }
  const Framebuffer = await codec();
  return new Framebuffer(image.width, image.height, image.rgba)
    .encode("png", { compression: "fast" });
}

/** Decodes a PNG (gray, RGB, palette or with alpha) into RGBA. */
export async function decodePng(png: Uint8Array): Promise<RgbaImage> {
  const fb = (await codec()).decode("png", png);
  return { width: fb.width, height: fb.height, rgba: fb.u8 };
}
