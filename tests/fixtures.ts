/**
 * Test fixtures with known ground truth: pairs of a background (bg) and a
 * foreground (fg) video, rendered at test time by ffmpeg from lavfi sources.
 *
 * Truth by construction: a "master" clip is rendered at a master rate R that
 * both target rates divide. The bg is a list of master frame indices
 * `B[0..m)` (non-decreasing, repeats allowed), the fg a list `F[0..n)` plus a
 * crop rectangle. The master is streamed once; each master frame is written
 * to the bg encoder as many times as it occurs in B and to the fg encoder as
 * many times as it occurs in F. fg frame i therefore shows master time
 * `F[i] / R`, and the bg frames that match it are all j minimising
 * `|B[j] − F[i]|`.
 *
 * Rendered pairs are cached (see {@link fixtureDir}); a pair is reused when
 * its files and a truth JSON with the same spec (and generator version)
 * exist.
 *
 * @module
 */

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

/** Bumped whenever the rendering changes, so stale caches are not reused. */
const GENERATOR_VERSION = 8;

/** What one test pair looks like. All times are master seconds. */
export interface PairSpec {
  /** Used in file names. */
  name: string;
  /** Picture content of the master clip. */
  content: "testsrc2" | "slowpan" | "mandelbrot";
  /** bg picture size (= master size). */
  bgWidth: number;
  bgHeight: number;
  /** fg = this crop of the bg picture; width/height even (yuv420p). */
  crop: { x: number; y: number; width: number; height: number };
  /** Integer frame rates. */
  bgFps: number;
  fgFps: number;
  /** Default: the least common multiple of both rates (must be ≤ 300). */
  masterFps?: number;
  /** Seconds of master time where the fg starts. */
  fgStart: number;
  /** fg length in seconds. */
  fgDuration: number;
  /** Seconds of master time where the bg starts. */
  bgStart: number;
  /** bg length in seconds. */
  bgDuration: number;
  /**
   * bg holds frame `atBgFrame` for `length` extra frames, replacing the
   * following ones (timeline unchanged: content stalls, then resumes on time).
   */
  freezes?: { atBgFrame: number; length: number }[];
  /**
   * From bg frame `atBgFrame` on, content jumps ahead by `count` bg frames
   * (content lost; later content shows earlier than it should).
   */
  drops?: { atBgFrame: number; count: number }[];
  /**
   * Picture in picture: the bg shows the master scaled by `scale` (area
   * filter) at (`x`, `y`) over a blurred copy of itself, so the full-size fg
   * crop appears in the bg at that scale.
   */
  pip?: { scale: number; x: number; y: number };
  /** bg gets eq=brightness=0.05:contrast=1.12:saturation=1.2 + temporal noise. */
  regrade?: boolean;
  /** x264 CRF; defaults 23 (bg) / 18 (fg). */
  bgCrf?: number;
  fgCrf?: number;
  /** AAC sine track (fg 440 Hz, bg 660 Hz); defaults true (fg) / false (bg). */
  fgAudio?: boolean;
  bgAudio?: boolean;
}

/** The ground truth of a pair. */
export interface Truth {
  /** Top-left of the fg inside the bg, in bg pixels. */
  x: number;
  y: number;
  /** fg pixels × scale = bg pixels (1 unless the pair is picture in picture). */
  scale: number;
  fgFrames: number;
  bgFrames: number;
  fgFps: number;
  bgFps: number;
  /** Canonical (smallest accepted) bg index per fg index. */
  expected: Int32Array;
  /** All acceptable bg indices per fg index (ascending). */
  accepted: number[][];
  /** bg time − fg time of the same moment at fg frame 0. */
  offsetSeconds: number;
}

/** A rendered pair: file paths, truth and the spec it was made from. */
export interface Pair {
  bg: string;
  fg: string;
  truth: Truth;
  spec: PairSpec;
}

/** How well a frame map matches a truth. */
export interface MapScore {
  /** Number of fg frames in the truth. */
  total: number;
  /** fg frames whose mapped bg index is accepted. */
  exact: number;
  /** exact / total. */
  exactRatio: number;
  /** Times the map goes backwards (`map[i] < map[i - 1]`). */
  backwardSteps: number;
  /** Up to 10 misses, farthest from an accepted index first. */
  worst: { fg: number; got: number; want: number[] }[];
}

// ---------------------------------------------------------------------------
// Timeline (pure)

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

function isInt(v: number): boolean {
  return Number.isInteger(v);
}

/** The master rate of a spec (validated). */
export function masterRate(spec: PairSpec): number {
  const { bgFps, fgFps } = spec;
  if (!isInt(bgFps) || !isInt(fgFps) || bgFps <= 0 || fgFps <= 0) {
    throw new RangeError(`${spec.name}: frame rates must be positive integers`);
  }
  const r = spec.masterFps ?? bgFps / gcd(bgFps, fgFps) * fgFps;
  if (!isInt(r) || r % bgFps !== 0 || r % fgFps !== 0) {
    throw new RangeError(
      `${spec.name}: master rate ${r} is not a multiple of ${bgFps} and ${fgFps}`,
    );
  }
  if (r > 300 && spec.masterFps === undefined) {
    throw new RangeError(
      `${spec.name}: no common multiple of ${bgFps} and ${fgFps} ≤ 300`,
    );
  }
  return r;
}

/** Master frame indices of the bg (B) and fg (F) frames, and the rate R. */
export interface Timeline {
  rate: number;
  bg: Int32Array;
  fg: Int32Array;
}

/**
 * Builds B and F. Start times are rounded to the nearest master frame.
 * Drops are applied first (they shift the content of all later frames),
 * then freezes (which repeat the possibly shifted frame).
 */
export function buildTimeline(spec: PairSpec): Timeline {
  const rate = masterRate(spec);
  const m = Math.round(spec.bgDuration * spec.bgFps);
  const n = Math.round(spec.fgDuration * spec.fgFps);
  if (m < 1 || n < 1) throw new RangeError(`${spec.name}: empty video`);
  const stepB = rate / spec.bgFps, stepF = rate / spec.fgFps;
  const b0 = Math.round(spec.bgStart * rate);
  const f0 = Math.round(spec.fgStart * rate);
  if (b0 < 0 || f0 < 0) throw new RangeError(`${spec.name}: negative start`);
  const bg = new Int32Array(m);
  for (let j = 0; j < m; j++) bg[j] = b0 + j * stepB;
  const drops = [...(spec.drops ?? [])].sort((a, b) =>
    a.atBgFrame - b.atBgFrame
  );
  for (const d of drops) {
    for (let j = Math.max(0, d.atBgFrame); j < m; j++) bg[j] += d.count * stepB;
  }
  for (const f of spec.freezes ?? []) {
    if (f.atBgFrame < 0 || f.atBgFrame >= m) continue;
    const held = bg[f.atBgFrame];
    for (let k = 1; k <= f.length && f.atBgFrame + k < m; k++) {
      bg[f.atBgFrame + k] = held;
    }
  }
  for (let j = 1; j < m; j++) {
    if (bg[j] < bg[j - 1]) {
      throw new RangeError(`${spec.name}: bg timeline goes backwards at ${j}`);
    }
  }
  const fg = new Int32Array(n);
  for (let i = 0; i < n; i++) fg[i] = f0 + i * stepF;
  return { rate, bg, fg };
}

/** The truth of a spec, computed from its timeline. */
export function computeTruth(spec: PairSpec, tl = buildTimeline(spec)): Truth {
  const { bg, fg, rate } = tl;
  const n = fg.length, m = bg.length;
  const expected = new Int32Array(n);
  const accepted: number[][] = [];
  for (let i = 0; i < n; i++) {
    let best = Infinity;
    for (let j = 0; j < m; j++) best = Math.min(best, Math.abs(bg[j] - fg[i]));
    const acc: number[] = [];
    for (let j = 0; j < m; j++) {
      if (Math.abs(bg[j] - fg[i]) === best) acc.push(j);
    }
    accepted.push(acc);
    expected[i] = acc[0];
  }
  // bg time at which the bg shows master frame F[0], assuming the bg runs at
  // normal speed around its nearest frame.
  const j0 = expected[0];
  const offsetSeconds = j0 / spec.bgFps + (fg[0] - bg[j0]) / rate;
  return {
    x: spec.pip ? spec.pip.x + spec.crop.x * spec.pip.scale : spec.crop.x,
    y: spec.pip ? spec.pip.y + spec.crop.y * spec.pip.scale : spec.crop.y,
    scale: spec.pip?.scale ?? 1,
    fgFrames: n,
    bgFrames: m,
    fgFps: spec.fgFps,
    bgFps: spec.bgFps,
    expected,
    accepted,
    offsetSeconds,
  };
}

/** Scores a fg→bg frame map against a truth. */
export function scoreMap(map: ArrayLike<number>, truth: Truth): MapScore {
  const total = truth.expected.length;
  let exact = 0, backwardSteps = 0;
  const misses: { fg: number; got: number; want: number[]; dist: number }[] =
    [];
  for (let i = 0; i < total; i++) {
    const got = i < map.length ? map[i] : -1;
    const want = truth.accepted[i];
    if (want.includes(got)) {
      exact++;
    } else {
      let dist = Infinity;
      for (const w of want) dist = Math.min(dist, Math.abs(w - got));
      misses.push({ fg: i, got, want, dist });
    }
  }
  for (let i = 1; i < map.length; i++) if (map[i] < map[i - 1]) backwardSteps++;
  misses.sort((a, b) => b.dist - a.dist || a.fg - b.fg);
  const worst = misses.slice(0, 10).map(({ fg, got, want }) => ({
    fg,
    got,
    want: [...want],
  }));
  return {
    total,
    exact,
    exactRatio: total ? exact / total : 0,
    backwardSteps,
    worst,
  };
}

// ---------------------------------------------------------------------------
// Processes

interface Proc {
  child: Deno.ChildProcess;
  stderr: Promise<string>;
  what: string;
}

function spawn(
  what: string,
  args: string[],
  io: { stdin?: boolean; stdout?: boolean },
): Proc {
  const child = new Deno.Command("ffmpeg", {
    args: ["-hide_banner", "-nostdin", "-v", "error", ...args],
    stdin: io.stdin ? "piped" : "null",
    stdout: io.stdout ? "piped" : "null",
    stderr: "piped",
  }).spawn();
  // Drain stderr concurrently so the pipe never fills up.
  const stderr = new Response(child.stderr).text().catch(() => "");
  return { child, stderr, what };
}

async function finish(p: Proc): Promise<void> {
  const status = await p.child.status;
  const err = await p.stderr;
  if (!status.success) {
    throw new Error(
      `ffmpeg (${p.what}) failed with code ${status.code}: ${err.trim()}`,
    );
  }
}

function kill(p: Proc): void {
  try {
    p.child.kill("SIGKILL");
  } catch {
    // already exited
  }
}

/** Reads exactly-sized frames from a byte stream. */
class FrameReader {
  #reader: ReadableStreamDefaultReader<Uint8Array>;
  #chunk: Uint8Array | null = null;
  #off = 0;
  constructor(stream: ReadableStream<Uint8Array>, readonly size: number) {
    this.#reader = stream.getReader();
  }
  /** The next frame, or null at a clean end of stream. */
  async next(): Promise<Uint8Array | null> {
    const out = new Uint8Array(this.size);
    let filled = 0;
    while (filled < this.size) {
      if (!this.#chunk || this.#off >= this.#chunk.length) {
        const r = await this.#reader.read();
        if (r.done) {
          if (filled === 0) return null;
          throw new Error(`short frame: ${filled} of ${this.size} bytes`);
        }
        this.#chunk = r.value;
        this.#off = 0;
      }
      const k = Math.min(this.size - filled, this.#chunk.length - this.#off);
      out.set(this.#chunk.subarray(this.#off, this.#off + k), filled);
      filled += k;
      this.#off += k;
    }
    return out;
  }
  async cancel(): Promise<void> {
    await this.#reader.cancel().catch(() => {});
  }
}

// ---------------------------------------------------------------------------
// Master content

/** slowpan camera path in texture pixels; strictly increasing in x and y. */
function panX(t: number): number {
  return 7 * t + 0.5 * Math.sin(1.3 * t);
}
function panY(t: number): number {
  return 4 * t + 0.6 * (Math.sin(0.9 * t + 1) - Math.sin(1));
}

const textureCache = new Map<string, Promise<Uint8Array>>();

/**
 * The slowpan texture: one frame of a lavfi mandelbrot (seahorse valley)
 * with grain, blurred, as rgb24.
 */
function slowpanTexture(tw: number, th: number): Promise<Uint8Array> {
  const key = `${tw}x${th}`;
  let p = textureCache.get(key);
  if (!p) {
    p = (async () => {
      const proc = spawn("slowpan texture", [
        "-f",
        "lavfi",
        "-i",
        `mandelbrot=s=${tw}x${th}:r=1:start_scale=0.02:` +
        `start_x=-0.743643887037158:start_y=0.131825904205311:maxiter=100,` +
        `noise=alls=8:allf=0,gblur=sigma=1.2`,
        "-frames:v",
        "1",
        "-f",
        "rawvideo",
        "-pix_fmt",
        "rgb24",
        "pipe:1",
      ], { stdout: true });
      const reader = new FrameReader(proc.child.stdout, tw * th * 3);
      try {
        const tex = await reader.next();
        if (!tex) throw new Error("slowpan texture: no frame");
        await reader.cancel();
        await finish(proc);
        return tex;
      } catch (e) {
        kill(proc);
        await proc.child.status;
        throw e;
      }
    })();
    p.catch(() => textureCache.delete(key));
    textureCache.set(key, p);
  }
  return p;
}

/** Bilinear sample of the texture at a sub-pixel offset into `out`. */
function panFrame(
  tex: Uint8Array,
  tw: number,
  w: number,
  h: number,
  x: number,
  y: number,
): Uint8Array {
  const out = new Uint8Array(w * h * 3);
  const ix = Math.floor(x), iy = Math.floor(y);
  const fx = x - ix, fy = y - iy;
  const w00 = (1 - fx) * (1 - fy), w01 = fx * (1 - fy);
  const w10 = (1 - fx) * fy, w11 = fx * fy;
  const rs = tw * 3, n = w * 3;
  for (let v = 0; v < h; v++) {
    const r0 = (iy + v) * rs + ix * 3, r1 = r0 + rs, o = v * n;
    for (let q = 0; q < n; q++) {
      out[o + q] = (w00 * tex[r0 + q] + w01 * tex[r0 + q + 3] +
        w10 * tex[r1 + q] + w11 * tex[r1 + q + 3] + 0.5) | 0;
    }
  }
  return out;
}

/**
 * A soft bright disc moving slowly through the picture on its own path (a
 * subject walking while the camera pans). Without it a pure pan over a still
 * is ambiguous: a crop shifted by the pan's displacement at another moment
 * shows the same pixels, so no tool could tell placement and offset apart.
 * Sub-pixel smooth (anti-aliased edge), ~10 px/s.
 */
function drawSubject(frame: Uint8Array, w: number, h: number, t: number) {
  const cx = w * (0.5 + 0.22 * Math.sin(0.45 * t + 0.3));
  const cy = h * (0.5 + 0.2 * Math.sin(0.6 * t + 1.1));
  const radius = 0.12 * h;
  const x0 = Math.max(0, Math.floor(cx - radius - 2));
  const x1 = Math.min(w - 1, Math.ceil(cx + radius + 2));
  const y0 = Math.max(0, Math.floor(cy - radius - 2));
  const y1 = Math.min(h - 1, Math.ceil(cy + radius + 2));
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      const d = Math.hypot(x + 0.5 - cx, y + 0.5 - cy);
      const a = Math.max(0, Math.min(1, radius - d + 0.5)) * 0.7;
      if (a <= 0) continue;
      // A warm tone with an inner gradient, so it has structure of its own.
      const shade = 1 - 0.4 * (d / radius);
      const p = (y * w + x) * 3;
      frame[p] = frame[p] * (1 - a) + 250 * shade * a;
      frame[p + 1] = frame[p + 1] * (1 - a) + 190 * shade * a;
      frame[p + 2] = frame[p + 2] * (1 - a) + 90 * shade * a;
    }
  }
}

/**
 * Master frames `lo..hi` (inclusive) of a content at rate R, as full-size
 * rgb24 frames, in order.
 *
 * - testsrc2: ffmpeg renders the lavfi source at R (every frame unique).
 * - mandelbrot: the lavfi source at R, zooming slowly into the seahorse
 *   valley (×10 per 12 s, independent of R).
 * - slowpan: ffmpeg renders one textured still (larger than the picture);
 *   each master frame is a bilinear sub-pixel crop of it along a slow,
 *   strictly monotonic camera path (`panX`, `panY`, a few px/s).
 */
export async function* masterFrames(
  content: PairSpec["content"],
  width: number,
  height: number,
  rate: number,
  lo: number,
  hi: number,
): AsyncGenerator<Uint8Array> {
  if (content === "slowpan") {
    const tEnd = (hi + 1) / rate;
    // Fixed margin for clips up to ~15 s so all such pairs share a texture.
    const mx = Math.max(128, Math.ceil(panX(tEnd) + 4));
    const my = Math.max(80, Math.ceil(panY(tEnd) + 4));
    const tw = width + mx, th = height + my;
    const tex = await slowpanTexture(tw, th);
    for (let k = lo; k <= hi; k++) {
      const t = k / rate;
      const frame = panFrame(tex, tw, width, height, panX(t), panY(t));
      drawSubject(frame, width, height, t);
      yield frame;
    }
    return;
  }
  let source: string;
  if (content === "testsrc2") {
    source = `testsrc2=s=${width}x${height}:r=${rate}`;
  } else if (content === "mandelbrot") {
    source = `mandelbrot=s=${width}x${height}:r=${rate}:` +
      `start_scale=1:end_scale=0.1:end_pts=${12 * rate}:maxiter=300`;
  } else {
    throw new RangeError(`unknown content ${content}`);
  }
  const proc = spawn(`master ${content}`, [
    "-f",
    "lavfi",
    "-i",
    source,
    "-frames:v",
    String(hi + 1),
    "-f",
    "rawvideo",
    "-pix_fmt",
    "rgb24",
    "pipe:1",
  ], { stdout: true });
  const reader = new FrameReader(proc.child.stdout, width * height * 3);
  let done = false;
  try {
    for (let k = 0; k <= hi; k++) {
      const frame = await reader.next();
      if (!frame) throw new Error(`master ${content}: ended at frame ${k}`);
      if (k >= lo) yield frame;
    }
    await finish(proc);
    done = true;
  } finally {
    if (!done) {
      await reader.cancel();
      kill(proc);
      await proc.child.status;
    }
  }
}

// ---------------------------------------------------------------------------
// Rendering

function encoderArgs(
  fps: number,
  w: number,
  h: number,
  frames: number,
  vf: string,
  crf: number,
  audioHz: number | null,
  out: string,
): string[] {
  const args = [
    "-f",
    "rawvideo",
    "-pix_fmt",
    "rgb24",
    "-s",
    `${w}x${h}`,
    "-framerate",
    String(fps),
    "-i",
    "pipe:0",
  ];
  if (audioHz !== null) {
    args.push(
      "-f",
      "lavfi",
      "-i",
      `sine=frequency=${audioHz}:sample_rate=48000:duration=${frames / fps}`,
    );
  }
  args.push("-vf", `${vf}${vf ? "," : ""}format=yuv420p`, "-map", "0:v:0");
  if (audioHz !== null) {
    args.push("-map", "1:a:0", "-c:a", "aac", "-b:a", "96k");
  }
  args.push(
    "-c:v",
    "libx264",
    // veryfast, like most real encodes, has quarter-pel motion search;
    // ultrafast's whole-pixel search makes slow pans lag in the decoded
    // bg by a fraction of a frame, a codec artefact no truth could follow.
    "-preset",
    "veryfast",
    "-crf",
    String(crf),
    "-pix_fmt",
    "yuv420p",
    "-r",
    String(fps),
    "-y",
    out,
  );
  return args;
}

async function writeTimes(
  w: WritableStreamDefaultWriter<Uint8Array>,
  frame: Uint8Array,
  times: number,
): Promise<void> {
  for (let k = 0; k < times; k++) await w.write(frame);
}

function validate(spec: PairSpec): void {
  const { crop, bgWidth, bgHeight } = spec;
  if (!/^[A-Za-z0-9_.-]+$/.test(spec.name)) {
    throw new RangeError(`bad pair name ${JSON.stringify(spec.name)}`);
  }
  if (bgWidth % 2 || bgHeight % 2 || crop.width % 2 || crop.height % 2) {
    throw new RangeError(`${spec.name}: sizes must be even (yuv420p)`);
  }
  if (
    crop.x < 0 || crop.y < 0 || crop.width < 2 || crop.height < 2 ||
    crop.x + crop.width > bgWidth || crop.y + crop.height > bgHeight
  ) {
    throw new RangeError(`${spec.name}: crop does not fit in the bg`);
  }
}

/** Renders a pair into `bgPath` / `fgPath` (deleted again on failure). */
async function render(
  spec: PairSpec,
  tl: Timeline,
  bgPath: string,
  fgPath: string,
): Promise<void> {
  const { bg: B, fg: F, rate } = tl;
  let lo = Infinity, hi = -Infinity;
  for (const v of [...B, ...F]) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  const countB = new Int32Array(hi - lo + 1);
  const countF = new Int32Array(hi - lo + 1);
  for (const v of B) countB[v - lo]++;
  for (const v of F) countF[v - lo]++;

  const { crop } = spec;
  const pip = spec.pip
    ? `split[m][p];[m]boxblur=16:2[fill];[p]scale=${
      Math.round(spec.bgWidth * spec.pip.scale)
    }:${
      Math.round(spec.bgHeight * spec.pip.scale)
    }:flags=area[s];[fill][s]overlay=${spec.pip.x}:${spec.pip.y}`
    : "";
  const regrade = spec.regrade
    ? "eq=brightness=0.05:contrast=1.12:saturation=1.2,noise=alls=6:allf=t"
    : "";
  const bgVf = [pip, regrade].filter((f) => f).join(",");
  const bgEnc = spawn(
    "bg encoder",
    encoderArgs(
      spec.bgFps,
      spec.bgWidth,
      spec.bgHeight,
      B.length,
      bgVf,
      spec.bgCrf ?? 23,
      spec.bgAudio ?? false ? 660 : null,
      bgPath,
    ),
    { stdin: true },
  );
  const fgEnc = spawn(
    "fg encoder",
    encoderArgs(
      spec.fgFps,
      spec.bgWidth,
      spec.bgHeight,
      F.length,
      `crop=${crop.width}:${crop.height}:${crop.x}:${crop.y}`,
      spec.fgCrf ?? 18,
      spec.fgAudio ?? true ? 440 : null,
      fgPath,
    ),
    { stdin: true },
  );
  const bgW = bgEnc.child.stdin.getWriter();
  const fgW = fgEnc.child.stdin.getWriter();
  let ok = false;
  try {
    let k = lo;
    for await (
      const frame of masterFrames(
        spec.content,
        spec.bgWidth,
        spec.bgHeight,
        rate,
        lo,
        hi,
      )
    ) {
      const cb = countB[k - lo], cf = countF[k - lo];
      if (cb || cf) {
        await Promise.all([
          writeTimes(bgW, frame, cb),
          writeTimes(fgW, frame, cf),
        ]);
      }
      k++;
    }
    if (k !== hi + 1) throw new Error(`master ended early at ${k}`);
    await Promise.all([bgW.close(), fgW.close()]);
    await Promise.all([finish(bgEnc), finish(fgEnc)]);
    ok = true;
  } catch (e) {
    // An encoder that died explains a failed write better than EPIPE does.
    kill(bgEnc);
    kill(fgEnc);
    const [bs, fs] = await Promise.all([
      bgEnc.child.status,
      fgEnc.child.status,
    ]);
    const why = [
      bs.success ? "" : `bg encoder: ${(await bgEnc.stderr).trim()}`,
      fs.success ? "" : `fg encoder: ${(await fgEnc.stderr).trim()}`,
    ].filter((s) => s).join("; ");
    throw new Error(
      `${spec.name}: rendering failed: ${e}${why ? `; ${why}` : ""}`,
      {
        cause: e,
      },
    );
  } finally {
    if (!ok) {
      await Deno.remove(bgPath).catch(() => {});
      await Deno.remove(fgPath).catch(() => {});
    }
  }
}

/** JSON with sorted keys, so equal specs give equal strings. */
function canonical(v: unknown): string {
  return JSON.stringify(
    v,
    (_k, val) =>
      val && typeof val === "object" && !Array.isArray(val)
        ? Object.fromEntries(
          Object.entries(val).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
        )
        : val,
  );
}

interface TruthFile {
  version: number;
  spec: PairSpec;
  truth: Omit<Truth, "expected"> & { expected: number[] };
}

/** True when `path` exists, and (with `nonEmpty`) holds at least a byte. */
export async function exists(path: string, nonEmpty = false): Promise<boolean> {
  try {
    const info = await Deno.stat(path);
    return !nonEmpty || info.size > 0;
  } catch {
    return false;
  }
}

async function loadCached(
  spec: PairSpec,
  bg: string,
  fg: string,
  json: string,
): Promise<Pair | null> {
  try {
    const file = JSON.parse(await Deno.readTextFile(json)) as TruthFile;
    if (file.version !== GENERATOR_VERSION) return null;
    if (canonical(file.spec) !== canonical(spec)) return null;
    if (!(await exists(bg, true)) || !(await exists(fg, true))) return null;
    const truth: Truth = {
      ...file.truth,
      expected: Int32Array.from(file.truth.expected),
    };
    return { bg, fg, truth, spec };
  } catch {
    return null;
  }
}

const inFlight = new Map<string, Promise<Pair>>();

/**
 * Renders (or reuses from `dir`) the pair described by `spec`:
 * `<dir>/<name>.bg.mp4`, `<name>.fg.mp4` and `<name>.truth.json`.
 * Files are written under temporary names and renamed into place.
 */
export function makePair(spec: PairSpec, dir: string): Promise<Pair> {
  const key = `${dir}\0${canonical(spec)}`;
  let p = inFlight.get(key);
  if (!p) {
    p = makePairUncached(spec, dir);
    p.catch(() => inFlight.delete(key));
    inFlight.set(key, p);
  }
  return p;
}

async function makePairUncached(spec: PairSpec, dir: string): Promise<Pair> {
  validate(spec);
  const base = `${dir.replace(/\/+$/, "")}/${spec.name}`;
  const bg = `${base}.bg.mp4`, fg = `${base}.fg.mp4`;
  const json = `${base}.truth.json`;
  const cached = await loadCached(spec, bg, fg, json);
  if (cached) return cached;

  await Deno.mkdir(dir, { recursive: true });
  const tl = buildTimeline(spec);
  const truth = computeTruth(spec, tl);
  const tag = `${Deno.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const bgTmp = `${base}.bg.${tag}.tmp.mp4`,
    fgTmp = `${base}.fg.${tag}.tmp.mp4`;
  await render(spec, tl, bgTmp, fgTmp);
  await Deno.rename(bgTmp, bg);
  await Deno.rename(fgTmp, fg);
  const file: TruthFile = {
    version: GENERATOR_VERSION,
    spec,
    truth: { ...truth, expected: [...truth.expected] },
  };
  const jsonTmp = `${base}.truth.${tag}.tmp`;
  await Deno.writeTextFile(jsonTmp, JSON.stringify(file));
  await Deno.rename(jsonTmp, json);
  return { bg, fg, truth, spec };
}

/** `<repo>/.cache/fixtures`, created if missing. */
export async function fixtureDir(): Promise<string> {
  const dir = fileURLToPath(new URL("../.cache/fixtures", import.meta.url));
  await Deno.mkdir(dir, { recursive: true });
  return dir;
}

// ---------------------------------------------------------------------------
// The standard suite

/** The standard pairs: small (≤ 480 px wide, 3–5 s). */
export const standardPairs: PairSpec[] = [
  {
    name: "offset_crop",
    content: "testsrc2",
    bgWidth: 480,
    bgHeight: 270,
    crop: { x: 64, y: 36, width: 320, height: 180 },
    bgFps: 30,
    fgFps: 30,
    bgStart: 0,
    bgDuration: 4,
    fgStart: 0.4,
    fgDuration: 3,
  },
  {
    name: "band_odd",
    content: "slowpan",
    bgWidth: 480,
    bgHeight: 270,
    crop: { x: 0, y: 37, width: 480, height: 200 },
    bgFps: 30,
    fgFps: 30,
    bgStart: 0,
    bgDuration: 3.6,
    fgStart: 0.3,
    fgDuration: 3,
  },
  {
    name: "odd_xy",
    content: "slowpan",
    bgWidth: 480,
    bgHeight: 270,
    crop: { x: 37, y: 23, width: 300, height: 170 },
    bgFps: 30,
    fgFps: 30,
    bgStart: 0,
    bgDuration: 3.6,
    fgStart: 0.2,
    fgDuration: 3,
  },
  {
    name: "fps_25_30",
    content: "slowpan",
    bgWidth: 480,
    bgHeight: 270,
    crop: { x: 60, y: 40, width: 360, height: 200 },
    bgFps: 30,
    fgFps: 25,
    bgStart: 0,
    bgDuration: 4.5,
    fgStart: 0.5,
    fgDuration: 3.5,
  },
  {
    name: "fps_30_25",
    content: "testsrc2",
    bgWidth: 480,
    bgHeight: 270,
    crop: { x: 80, y: 30, width: 320, height: 200 },
    bgFps: 25,
    fgFps: 30,
    bgStart: 0,
    bgDuration: 4.4,
    fgStart: 0.4,
    fgDuration: 3.5,
  },
  {
    name: "fps_24_60",
    content: "testsrc2",
    bgWidth: 384,
    bgHeight: 216,
    crop: { x: 48, y: 28, width: 256, height: 144 },
    bgFps: 60,
    fgFps: 24,
    bgStart: 0,
    bgDuration: 3,
    fgStart: 0.25,
    fgDuration: 2.5,
  },
  {
    name: "fps_60_24",
    content: "slowpan",
    bgWidth: 384,
    bgHeight: 216,
    crop: { x: 40, y: 32, width: 256, height: 144 },
    bgFps: 24,
    fgFps: 60,
    bgStart: 0,
    bgDuration: 3,
    fgStart: 0.25,
    fgDuration: 2.5,
  },
  {
    name: "freeze_drop",
    content: "testsrc2",
    bgWidth: 480,
    bgHeight: 270,
    crop: { x: 80, y: 50, width: 320, height: 180 },
    bgFps: 30,
    fgFps: 30,
    bgStart: 0,
    bgDuration: 4.2,
    fgStart: 0.3,
    fgDuration: 3.5,
    freezes: [{ atBgFrame: 40, length: 6 }],
    drops: [{ atBgFrame: 80, count: 3 }],
    regrade: true,
  },
  {
    name: "fg_longer",
    content: "testsrc2",
    bgWidth: 480,
    bgHeight: 270,
    crop: { x: 96, y: 54, width: 288, height: 162 },
    bgFps: 30,
    fgFps: 30,
    bgStart: 0.5,
    bgDuration: 3,
    fgStart: 0,
    fgDuration: 4,
  },
  {
    name: "slow",
    content: "slowpan",
    bgWidth: 400,
    bgHeight: 240,
    crop: { x: 50, y: 30, width: 280, height: 160 },
    bgFps: 25,
    fgFps: 25,
    bgStart: 0,
    bgDuration: 4.6,
    fgStart: 0.32,
    fgDuration: 4,
    regrade: true,
  },
  {
    // A pan at an odd crop where the coarse pair lands ~0.3 s off along the
    // pan (the crop shifted by the pan's displacement looks almost right):
    // the exact search must find the moment and re-analyse.
    name: "pan_odd",
    content: "slowpan",
    bgWidth: 480,
    bgHeight: 270,
    crop: { x: 61, y: 37, width: 360, height: 200 },
    bgFps: 30,
    fgFps: 25,
    bgStart: 0,
    bgDuration: 4.5,
    fgStart: 0.5,
    fgDuration: 3.5,
  },
  {
    name: "mandel",
    content: "mandelbrot",
    bgWidth: 480,
    bgHeight: 270,
    crop: { x: 80, y: 44, width: 320, height: 180 },
    bgFps: 30,
    fgFps: 30,
    bgStart: 0,
    bgDuration: 4,
    fgStart: 0.5,
    fgDuration: 3,
  },
];

/**
 * Asserts what every accuracy test asks of a run on a pair: one bg index
 * per fg frame, never stepping back, at least 99% of them exactly the
 * truth's, and the placement exactly the truth's.
 */
export function assertAccurate(
  result: {
    readonly frameMap: Int32Array;
    readonly placement: { readonly x: number; readonly y: number };
  },
  pair: { readonly truth: Truth },
): void {
  const score = scoreMap(result.frameMap, pair.truth);
  assert.equal(result.frameMap.length, pair.truth.fgFrames);
  assert.equal(score.backwardSteps, 0, "the map never steps back");
  assert.ok(
    score.exactRatio >= 0.99,
    `${score.exact}/${score.total} exact; misses: ${
      JSON.stringify(score.worst)
    }`,
  );
  assert.equal(result.placement.x, pair.truth.x);
  assert.equal(result.placement.y, pair.truth.y);
}

/** A picture in picture: the bg holds the master at 62.5% over a blurred
 * copy of itself; the fg is a full-size crop. */
export const pipSpec: PairSpec = {
  name: "pip_0625",
  content: "testsrc2",
  bgWidth: 640,
  bgHeight: 360,
  pip: { scale: 0.625, x: 40, y: 30 },
  crop: { x: 128, y: 72, width: 320, height: 180 },
  bgFps: 30,
  fgFps: 25,
  bgStart: 0,
  bgDuration: 4,
  fgStart: 0.4,
  fgDuration: 3,
};
