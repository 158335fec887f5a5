/**
 * Ground-truth pairs for `align`, rendered by ffmpeg: crops at odd offsets
 * (PNG in JPEG, PNG in PNG, BMP in WebP), a wide band of a 1280×720 frame,
 * a regraded and noisy bg, a fg identical to its bg, a fg that is not in its
 * bg, thumbnails at fractional scales over a blurred fill and over busy
 * content, and video pairs whose bg starts earlier (the standard pairs of
 * tests/fixtures.ts, a still cut from a video, a scaled video).
 *
 * Pictures come from tests/fixtures.ts `masterFrames` (the same content as
 * the video pairs). Outputs are cached under `.cache/align_fixtures/v<N>/`,
 * written under temporary names and renamed into place.
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import { runText } from "../core/process.ts";
import {
  exists,
  fixtureDir,
  makePair,
  masterFrames,
  type Pair,
  type PairSpec,
  standardPairs,
} from "./fixtures.ts";

/** Bumped whenever a fixture changes, so stale files are not reused. */
const VERSION = 2;

/** Where the fg really is. */
export interface AlignTruth {
  /** fg top-left in bg pixels. */
  readonly x: number;
  readonly y: number;
  /** fg pixels → bg pixels. */
  readonly scale: number;
  /** False for a fg that is not in the bg. */
  readonly present: boolean;
  /** bg time − fg time of the same moment (video pairs). */
  readonly offsetSeconds?: number;
  /** bg frames showing the fg's moment (a still cut from the bg video). */
  readonly bgFrames?: readonly number[];
}

/** One pair of files with its truth. */
export interface AlignFixture {
  /** Short name for test titles. */
  readonly name: string;
  /** The file to find. */
  readonly fg: string;
  /** The file to find it in. */
  readonly bg: string;
  /** Ground truth. */
  readonly truth: AlignTruth;
  /** The truth needs the scaled search (`unscaled: false`). */
  readonly scaled: boolean;
  /** The standard video pair it came from, if any. */
  readonly pair?: Pair;
}

/** `<repo>/.cache/align_fixtures/v<VERSION>`, created if missing. */
export async function alignFixtureDir(): Promise<string> {
  const dir = fileURLToPath(
    new URL(`../.cache/align_fixtures/v${VERSION}`, import.meta.url),
  );
  await Deno.mkdir(dir, { recursive: true });
  return dir;
}

const inFlight = new Map<string, Promise<string>>();

/**
 * `dir/file`, made by `make(temporaryPath)` unless it exists; the temporary
 * name keeps the extension (ffmpeg picks the format from it).
 */
export function cached(
  dir: string,
  file: string,
  make: (tmp: string) => Promise<void>,
): Promise<string> {
  const path = `${dir}/${file}`;
  let p = inFlight.get(path);
  if (!p) {
    p = (async () => {
      if (await exists(path, true)) return path;
      const dot = file.lastIndexOf(".");
      const tag = `${Deno.pid}-${Math.random().toString(36).slice(2, 8)}`;
      const tmp = `${dir}/${file.slice(0, dot)}.${tag}.tmp${file.slice(dot)}`;
      try {
        await make(tmp);
        await Deno.rename(tmp, path);
      } finally {
        await Deno.remove(tmp).catch(() => {});
      }
      return path;
    })();
    p.catch(() => inFlight.delete(path));
    inFlight.set(path, p);
  }
  return p;
}

/** Runs ffmpeg quietly (FfmpegError with its last words on failure). */
export async function ffmpeg(args: string[]): Promise<void> {
  await runText("ffmpeg", ["-hide_banner", "-nostdin", "-v", "error", ...args]);
}

/** Encoder flags per still format: good JPEG/WebP quality, as a camera or an export would give. */
function stillCodec(path: string): string[] {
  if (path.endsWith(".jpg")) return ["-q:v", "3"];
  if (path.endsWith(".webp")) return ["-c:v", "libwebp", "-quality", "90"];
  return [];
}

/** A lossless source picture: one master frame of a content. */
function picture(
  dir: string,
  content: PairSpec["content"],
  width: number,
  height: number,
): Promise<string> {
  return cached(dir, `pic_${content}_${width}x${height}.png`, async (tmp) => {
    // slowpan at 1 s: the moving subject is inside the picture.
    const k = content === "slowpan" ? 30 : 0;
    let raw: Uint8Array | undefined;
    for await (const f of masterFrames(content, width, height, 30, k, k)) {
      raw = f;
    }
    if (!raw) throw new Error(`no ${content} frame`);
    const rawPath = `${tmp}.rgb`;
    await Deno.writeFile(rawPath, raw);
    try {
      await ffmpeg([
        "-f",
        "rawvideo",
        "-pix_fmt",
        "rgb24",
        "-s",
        `${width}x${height}`,
        "-i",
        rawPath,
        "-frames:v",
        "1",
        "-y",
        tmp,
      ]);
    } finally {
      await Deno.remove(rawPath).catch(() => {});
    }
  });
}

/** A still made from inputs by a filter graph (`[0]`, `[1]` … in, one picture out). */
function still(
  dir: string,
  file: string,
  inputs: string[],
  filter: string,
): Promise<string> {
  return cached(dir, file, async (tmp) => {
    await ffmpeg([
      ...inputs.flatMap((i) => ["-i", i]),
      ...(filter ? ["-filter_complex", filter] : []),
      "-frames:v",
      "1",
      ...stillCodec(file),
      "-y",
      tmp,
    ]);
  });
}

function spec(name: string): PairSpec {
  const s = standardPairs.find((p) => p.name === name);
  if (!s) throw new RangeError(`no standard pair ${name}`);
  return s;
}

/** The still-image pairs that need only the unscaled search. */
export async function imageFixtures(): Promise<AlignFixture[]> {
  const dir = await alignFixtureDir();
  const [pan, pan720, mandel, test] = await Promise.all([
    picture(dir, "slowpan", 640, 360),
    picture(dir, "slowpan", 1280, 720),
    picture(dir, "mandelbrot", 640, 360),
    picture(dir, "testsrc2", 640, 360),
  ]);
  const panJpg = still(dir, "pan_640.jpg", [pan], "");
  const at = (
    name: string,
    fg: Promise<string>,
    bg: Promise<string>,
    truth: AlignTruth,
  ) =>
    Promise.all([fg, bg]).then(([f, b]) => ({
      name,
      fg: f,
      bg: b,
      truth,
      scaled: false,
    }));
  return await Promise.all([
    at(
      "crop_png_in_jpg",
      still(dir, "crop_117_63.png", [pan], "crop=301:187:117:63"),
      panJpg,
      { x: 117, y: 63, scale: 1, present: true },
    ),
    at(
      "crop_png_in_png",
      still(dir, "mandel_crop_203_41.png", [mandel], "crop=250:170:203:41"),
      Promise.resolve(mandel),
      { x: 203, y: 41, scale: 1, present: true },
    ),
    at(
      "band_1280",
      still(dir, "band_0_69.png", [pan720], "crop=1280:581:0:69"),
      still(dir, "pan_1280.jpg", [pan720], ""),
      { x: 0, y: 69, scale: 1, present: true },
    ),
    at(
      "regraded_noisy",
      still(dir, "crop_241_131.png", [pan], "crop=333:201:241:131"),
      still(
        dir,
        "pan_regraded.jpg",
        [pan],
        "eq=brightness=0.06:contrast=1.15:saturation=1.3,noise=alls=12:allf=u",
      ),
      { x: 241, y: 131, scale: 1, present: true },
    ),
    at(
      "identical",
      Promise.resolve(pan),
      panJpg,
      { x: 0, y: 0, scale: 1, present: true },
    ),
    at(
      "absent",
      still(dir, "testsrc_crop.png", [test], "crop=300:200:170:80"),
      panJpg,
      { x: 0, y: 0, scale: 1, present: false },
    ),
    at(
      "bmp_in_webp",
      still(dir, "crop_77_45.bmp", [pan], "crop=256:144:77:45"),
      still(dir, "pan_640.webp", [pan], ""),
      { x: 77, y: 45, scale: 1, present: true },
    ),
  ]);
}

/**
 * Thumbnails of a 640×360 picture at fractional scales: 35% over a blurred
 * fill of itself (a sharp fg also half-matches its own blur at 100%), and
 * 72.5% over busy content in a 1280×720 bg.
 */
export async function scaledImageFixtures(): Promise<AlignFixture[]> {
  const dir = await alignFixtureDir();
  const [pan, mandel720] = await Promise.all([
    picture(dir, "slowpan", 640, 360),
    picture(dir, "mandelbrot", 1280, 720),
  ]);
  const [blur, busy] = await Promise.all([
    still(
      dir,
      "thumb_035_blur.jpg",
      [pan],
      "[0]split[a][b];[a]gblur=sigma=12[f];[b]scale=224:126:flags=area[t];[f][t]overlay=301:157:format=rgb",
    ),
    still(
      dir,
      "thumb_0725_busy.jpg",
      [mandel720, pan],
      "[1]scale=464:261:flags=area[t];[0][t]overlay=503:211:format=rgb",
    ),
  ]);
  return [
    {
      name: "thumb_35pct_blurred_fill",
      fg: pan,
      bg: blur,
      truth: { x: 301, y: 157, scale: 0.35, present: true },
      scaled: true,
    },
    {
      name: "thumb_72_5pct_busy_1280",
      fg: pan,
      bg: busy,
      truth: { x: 503, y: 211, scale: 0.725, present: true },
      scaled: true,
    },
  ];
}

/**
 * A 1280×720 slow pan with a 1280×580 band at an odd y, the bg starting
 * 0.4 s earlier: frames large enough for the halved searches.
 */
const BAND_720: PairSpec = {
  name: "align_band_720",
  content: "slowpan",
  bgWidth: 1280,
  bgHeight: 720,
  crop: { x: 0, y: 69, width: 1280, height: 580 },
  bgFps: 30,
  fgFps: 30,
  bgStart: 0,
  bgDuration: 2.6,
  fgStart: 0.4,
  fgDuration: 2,
  fgAudio: false,
};

/** Video pairs at 100%: pairs whose bg starts earlier (two standard ones, one 1280×720), and a still cut from a bg video. */
export async function videoFixtures(): Promise<AlignFixture[]> {
  const dir = await alignFixtureDir();
  const pairs = await fixtureDir();
  const [offset, odd, band] = await Promise.all([
    makePair(spec("offset_crop"), pairs),
    makePair(spec("odd_xy"), pairs),
    makePair(BAND_720, pairs),
  ]);
  const fromPair = (p: Pair): AlignFixture => ({
    name: `video_${p.spec.name}`,
    fg: p.fg,
    bg: p.bg,
    truth: {
      x: p.truth.x,
      y: p.truth.y,
      scale: 1,
      present: true,
      offsetSeconds: p.truth.offsetSeconds,
    },
    scaled: false,
    pair: p,
  });
  // Frame 60 of a slow pan, cut from the decoded bg: only that moment (and
  // its neighbours, a fraction of a pixel away) shows these pixels here.
  const cut = await still(
    dir,
    "odd_xy_frame60_crop.png",
    [odd.bg],
    "[0]select=eq(n\\,60),format=rgb24,crop=200:120:151:77",
  );
  return [
    fromPair(offset),
    fromPair(odd),
    fromPair(band),
    {
      name: "image_in_video",
      fg: cut,
      bg: odd.bg,
      truth: { x: 151, y: 77, scale: 1, present: true, bgFrames: [59, 60, 61] },
      scaled: false,
    },
  ];
}

/**
 * A scaled video pair: the fg is a slow pan (480×270); the bg (640×360)
 * shows it at 60% at (251, 97) over a blurred fill of itself, starting 0.5 s
 * earlier.
 */
export async function scaledVideoFixture(): Promise<AlignFixture> {
  const dir = await alignFixtureDir();
  const odd = await makePair(spec("odd_xy"), await fixtureDir());
  const encode = [
    "-c:v",
    "libx264",
    "-preset",
    "veryfast",
    "-pix_fmt",
    "yuv420p",
    "-an",
  ];
  const [fg, bg] = await Promise.all([
    cached(dir, "scaled_video.fg.mp4", (tmp) =>
      ffmpeg([
        "-ss",
        "0.5",
        "-i",
        odd.bg,
        "-t",
        "2.5",
        ...encode,
        "-crf",
        "18",
        "-y",
        tmp,
      ])),
    cached(dir, "scaled_video.bg.mp4", (tmp) =>
      ffmpeg([
        "-i",
        odd.bg,
        "-filter_complex",
        "[0]split[a][b];[a]scale=640:360,gblur=sigma=10[f];" +
        "[b]scale=288:162:flags=area[t];[f][t]overlay=251:97:format=yuv444",
        ...encode,
        "-crf",
        "20",
        "-y",
        tmp,
      ])),
  ]);
  return {
    name: "video_scaled_60pct",
    fg,
    bg,
    truth: { x: 251, y: 97, scale: 0.6, present: true, offsetSeconds: 0.5 },
    scaled: true,
  };
}

/** A flat gray picture (nothing to find). */
export function blankFixture(): Promise<string> {
  return alignFixtureDir().then((dir) =>
    cached(dir, "blank_200x100.png", (tmp) =>
      ffmpeg([
        "-f",
        "lavfi",
        "-i",
        "color=c=gray:s=200x100",
        "-frames:v",
        "1",
        "-y",
        tmp,
      ]))
  );
}
