/**
 * Generator of the long-video pair for `bench/long.ts`: a 640×360 30 fps bg
 * and a 480×270 crop of it at odd offsets, at 25 fps, starting one minute in
 * and ending one minute before the bg does.
 *
 * Truth by construction: one ffmpeg process renders a master at 150 fps
 * (the least common multiple of 25 and 30; testsrc2 blended with a drifting
 * pattern) and keeps every 5th master
 * frame for the bg and every 6th, from master frame 60·150 on, for the fg. fg
 * frame i therefore shows master frame 9000 + 6i, the moment of bg frame
 * (9000 + 6i) / 5 = 1800 + 1.2i, whose nearest bg frame is unique (the
 * fraction is never one half).
 *
 * @module
 */

import { join } from "node:path";
import { exists } from "../tests/fixtures.ts";

/** A generated long pair and its truth. */
export interface LongPair {
  /** bg path. */
  readonly bg: string;
  /** fg path. */
  readonly fg: string;
  /** bg index under each fg index. */
  readonly expected: Int32Array;
  /** Top-left of the fg in the bg. */
  readonly x: number;
  /** Top-left of the fg in the bg. */
  readonly y: number;
}

const MASTER_FPS = 150, BG_STEP = 5, FG_STEP = 6;
const LEAD_SECONDS = 60;
const CROP = { x: 81, y: 45, width: 480, height: 270 };

/**
 * Renders (once; cached in `dir`) a pair whose bg lasts `minutes` and whose fg
 * covers all of it but the first and last minute.
 */
export async function longPair(
  dir: string,
  minutes: number,
): Promise<LongPair> {
  const bgSeconds = minutes * 60;
  const fgSeconds = bgSeconds - 2 * LEAD_SECONDS;
  if (fgSeconds <= 0) {
    throw new RangeError("long pair: need more than 2 minutes");
  }
  const bg = join(dir, `long2_${minutes}m_bg.mp4`);
  const fg = join(dir, `long2_${minutes}m_fg.mp4`);
  const fgFrames = fgSeconds * (MASTER_FPS / FG_STEP);
  const lead = LEAD_SECONDS * MASTER_FPS;
  const expected = new Int32Array(fgFrames);
  for (let i = 0; i < fgFrames; i++) {
    expected[i] = Math.round((lead + FG_STEP * i) / BG_STEP);
  }
  if (await exists(bg) && await exists(fg)) {
    return { bg, fg, expected, x: CROP.x, y: CROP.y };
  }
  await Deno.mkdir(dir, { recursive: true });
  const bgTmp = `${bg}.tmp.mp4`, fgTmp = `${fg}.tmp.mp4`;
  const x264 = ["-c:v", "libx264", "-preset", "veryfast", "-crf", "20"];
  const graph = [
    `testsrc2=s=640x360:r=${MASTER_FPS}:d=${bgSeconds}[t]`,
    // testsrc2 repeats itself about every minute; a drifting smooth pattern
    // with incommensurate periods, blended in, makes every moment unique.
    `color=c=black:s=64x36:r=${MASTER_FPS}:d=${bgSeconds},format=gray,` +
    `geq=lum='128+110*sin(X/9+T*0.61)*cos(Y/7-T*0.37+3*sin(T*0.053))',` +
    `scale=640:360,format=yuv420p[d]`,
    `[t][d]blend=all_mode=average,split[a][b]`,
    `[a]select='not(mod(n\\,${BG_STEP}))',setpts=N/(${
      MASTER_FPS / BG_STEP
    }*TB)[bg]`,
    `[b]select='gte(n\\,${lead})*not(mod(n-${lead}\\,${FG_STEP}))',` +
    `select='lt(n\\,${fgFrames})',setpts=N/(${MASTER_FPS / FG_STEP}*TB),` +
    `crop=${CROP.width}:${CROP.height}:${CROP.x}:${CROP.y}:exact=1[fg]`,
  ].join(";");
  const out = await new Deno.Command("ffmpeg", {
    args: [
      "-v",
      "error",
      "-y",
      "-filter_complex",
      graph,
      "-map",
      "[bg]",
      "-r",
      String(MASTER_FPS / BG_STEP),
      ...x264,
      "-pix_fmt",
      "yuv420p",
      bgTmp,
      "-map",
      "[fg]",
      "-r",
      String(MASTER_FPS / FG_STEP),
      ...x264,
      "-pix_fmt",
      "yuv420p",
      fgTmp,
    ],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(
      `long pair: ffmpeg failed: ${
        new TextDecoder().decode(out.stderr).slice(-400)
      }`,
    );
  }
  await Deno.rename(bgTmp, bg);
  await Deno.rename(fgTmp, fg);
  return { bg, fg, expected, x: CROP.x, y: CROP.y };
}
