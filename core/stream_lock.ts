/**
 * Finding where the fg sits while both videos are still decoding.
 *
 * The bg frames can only be fingerprinted where the fg sits, so until the
 * placement is known they must be kept, and a long bg does not fit in
 * memory. Spread samples of both videos (the old way) rarely show the same
 * moment on long videos: 40 bg samples of a 20-minute bg lie 30 s apart,
 * and a placement voted from different moments was 28 px off there.
 *
 * This lock instead tests bg frames at a steady rate ("probes", a few per
 * second) against fg samples as each arrives, so every fg sample meets the
 * bg frame of its own moment (within half a probe interval) whatever the
 * time offset. Each test is an exhaustive normalised cross-correlation at
 * the coarsest pyramid level where the fg's short side keeps `minSide`
 * pixels (a few hundred multiply-adds per position), so probes can be
 * cheap and many; only the lightest data of a probe (that level) is kept.
 * Each sample remembers its best few probes. Once a few samples have a
 * strong match, the caller may ask for the pairs: each sample's candidates
 * are climbed to full coarse resolution (±2 px per level, the probe's
 * frame fetched from the caller's buffer), and the best pairs go to the
 * locator plugin, which has the last word on the placement.
 *
 * @module
 */

import { type GrayImage, grayStdDev } from "./frame.ts";
import { nccMap, prepareTemplate, pyramid } from "./ncc.ts";

/** Tuning of {@link PlacementLock}. */
export interface LockOptions {
  /** fg sample size (coarse pixels). */
  readonly fg: { readonly width: number; readonly height: number };
  /** bg probe size (coarse pixels). */
  readonly bg: { readonly width: number; readonly height: number };
  /**
   * Multiply-adds one (sample, probe) test may cost (default 1e5); picks
   * the level. On a long bg the tests are most of the lock's work (every
   * sample against every probe until the fg's moments come): 1e5 instead
   * of 3e5 searches a 360×203 fg in a 480×270 bg one level coarser and cut
   * 1.3 s of CPU from the 5-minute pair's dry run, with the same maps and
   * placements in every accuracy bench (`--stream` included).
   */
  readonly pairBudget?: number;
  /** The search level keeps the fg's short side at least this long (default 8). */
  readonly minSide?: number;
  /** Level-L NCC from which a probe counts as a sample's candidate (default 0.6). */
  readonly gate?: number;
  /** Level-L NCC of a sample's best probe that makes it count for {@link PlacementLock.confident} (default 0.85). */
  readonly strong?: number;
  /** Candidates remembered per sample (default 12). */
  readonly keepPerSample?: number;
  /** Light probes remembered for samples that arrive later (default 4096). */
  readonly maxProbes?: number;
  /** Samples whose pixel standard deviation is below this are blank (default 3). */
  readonly minStd?: number;
}

/** A same-moment pair the lock found, at full coarse resolution. */
export interface LockPair {
  /** fg frame index of the sample. */
  readonly fg: number;
  /** bg frame index of the probe. */
  readonly bg: number;
  /** The sample (coarse gray). */
  readonly fgImage: GrayImage;
  /** The probe's frame (coarse gray). */
  readonly bgImage: GrayImage;
  /** Top-left of the sample in the probe (coarse pixels). */
  readonly x: number;
  /** Top-left of the sample in the probe (coarse pixels). */
  readonly y: number;
  /** NCC at full coarse resolution. */
  readonly score: number;
}

interface Sample {
  readonly index: number;
  /** Pyramid levels 0..level of the sample. */
  readonly levels: GrayImage[];
  /** Best probes so far, by level-L score, descending. */
  readonly best: Candidate[];
  /** Probes already climbed (each is climbed once, whatever happens next). */
  readonly climbed: Set<number>;
  /** The best pair climbing found so far. */
  pair?: LockPair;
}

interface Candidate {
  readonly probe: number;
  readonly x: number;
  readonly y: number;
  readonly score: number;
}

/** A position being refined down the pyramid of one bg frame. */
interface Climber {
  readonly probe?: number;
  readonly levels: GrayImage[];
  x: number;
  y: number;
  score: number;
}

/**
 * Runs the search-level tests of every (sample, probe) pair: for pair
 * (s, p) at `3 · (s · probes.length + p)` the best top-left x, y and its
 * NCC (−Infinity when nothing fits). Pure, so a worker can run it.
 */
export function lockTests(
  samples: readonly GrayImage[],
  probes: readonly GrayImage[],
): Float32Array {
  const out = new Float32Array(3 * samples.length * probes.length);
  for (let s = 0; s < samples.length; s++) {
    const t = prepareTemplate(samples[s]);
    for (let p = 0; p < probes.length; p++) {
      const o = 3 * (s * probes.length + p);
      const g = probes[p];
      const peak = t.norm > 0
        ? nccMap(g, t, 0, 0, g.width - t.width, g.height - t.height)
        : { x: -1, y: -1, score: -Infinity };
      out[o] = peak.x;
      out[o + 1] = peak.y;
      out[o + 2] = peak.score;
    }
  }
  return out;
}

/** Where the search-level tests run: here, or in a worker. */
export type LockTester = (
  samples: readonly GrayImage[],
  probes: readonly GrayImage[],
) => Float32Array | Promise<Float32Array>;

/**
 * The search level: the finest whose exhaustive search of one pair costs
 * at most `budget` multiply-adds, but never so coarse that the fg's short
 * side drops below `minSide` pixels.
 */
export function lockLevel(
  fg: { readonly width: number; readonly height: number },
  bg: { readonly width: number; readonly height: number },
  budget: number,
  minSide: number,
): number {
  const short = Math.min(fg.width, fg.height);
  let top = 0;
  while ((short >> (top + 1)) >= Math.max(1, minSide)) top++;
  for (let l = 0; l < top; l++) {
    const tw = fg.width >> l, th = fg.height >> l;
    const positions = ((bg.width >> l) - tw + 1) * ((bg.height >> l) - th + 1);
    if (positions * tw * th <= budget) return l;
  }
  return top;
}

/**
 * The fg frames to offer the lock as samples: at doubling times from 0.1 s
 * (when the bg holds the fg from its first frame on, the lock comes within
 * a fraction of a second of bg) and `spread` more evenly over the fg (when
 * the fg starts before the bg, or its first seconds are blank).
 */
export function lockSampleIndices(
  frames: number,
  fps: number,
  spread = 16,
): number[] {
  const set = new Set<number>();
  for (let t = 0.1; Math.floor(t * fps) < frames; t *= 2) {
    set.add(Math.floor(t * fps));
  }
  for (let k = 0; k < spread; k++) {
    set.add(Math.min(frames - 1, Math.floor(((k + 0.5) / spread) * frames)));
  }
  return [...set].filter((i) => i >= 0).sort((a, b) => a - b);
}

/**
 * The pairs that agree with the best-scoring one on the position (±1
 * coarse px) and on the moment (bg time − fg time within `tolerance`
 * seconds), best first. Along a slow pan, "a few pixels over at another
 * moment" is consistent across samples too, so the largest group can be
 * wrong (four pairs at NCC 0.988 against two true ones at 0.998 on a test
 * pan); the best single pair is the surest evidence, and pairs that only
 * match a wrong moment disagree with it.
 */
export function agreeingPairs(
  pairs: readonly LockPair[],
  fgTimes: Float64Array,
  bgTimes: Float64Array,
  tolerance: number,
): LockPair[] {
  if (pairs.length === 0) return [];
  const offset = (p: LockPair) => bgTimes[p.bg] - fgTimes[p.fg];
  let a = pairs[0];
  for (const p of pairs) if (p.score > a.score) a = p;
  return pairs.filter((b) =>
    Math.abs(a.x - b.x) <= 1 && Math.abs(a.y - b.y) <= 1 &&
    Math.abs(offset(a) - offset(b)) <= tolerance
  ).sort((p, q) => q.score - p.score);
}

/** Samples every probe is tested against (the earliest accepted). */
const FIRST_SAMPLES = 6;
/** Further samples each probe meets, in turn. */
const ROTATING_SAMPLES = 2;
/** Most remembered probes a newly arrived sample is tested against. */
const BACKLOG = 512;

/** Tests bg probes against fg samples as they arrive; see the module doc. */
export class PlacementLock {
  readonly level: number;
  readonly #gate: number;
  readonly #strong: number;
  readonly #keep: number;
  readonly #maxProbes: number;
  readonly #minStd: number;
  readonly #tester: LockTester;
  readonly #samples: Sample[] = [];
  /** Level-L image of each remembered probe, by bg index (insertion order). */
  readonly #probes = new Map<number, GrayImage>();
  readonly #inFlight = new Set<Promise<void>>();
  #failure: unknown;
  #turn = 0;

  /** `tester` runs the search-level tests (default: {@link lockTests} here). */
  constructor(options: LockOptions, tester: LockTester = lockTests) {
    this.level = lockLevel(
      options.fg,
      options.bg,
      options.pairBudget ?? 1e5,
      options.minSide ?? 8,
    );
    this.#gate = options.gate ?? 0.6;
    this.#strong = options.strong ?? 0.85;
    this.#keep = Math.max(1, options.keepPerSample ?? 12);
    this.#maxProbes = Math.max(1, options.maxProbes ?? 4096);
    this.#minStd = options.minStd ?? 3;
    this.#tester = tester;
    const fw = options.fg.width >> this.level;
    const fh = options.fg.height >> this.level;
    if (
      fw < 1 || fh < 1 || options.fg.width > options.bg.width ||
      options.fg.height > options.bg.height
    ) {
      throw new RangeError(
        `lock: a ${options.fg.width}×${options.fg.height} fg cannot sit in a ${options.bg.width}×${options.bg.height} bg`,
      );
    }
  }

  /**
   * Adds an fg sample (coarse gray) and tests it against every remembered
   * probe. Returns false for a blank sample (nothing to match on).
   */
  addSample(index: number, image: GrayImage): boolean {
    if (grayStdDev(image) < this.#minStd) return false;
    const levels = pyramid(image, this.level);
    if (levels.length <= this.level) return false;
    const sample: Sample = { index, levels, best: [], climbed: new Set() };
    this.#samples.push(sample);
    const probes = [...this.#probes].slice(-BACKLOG);
    if (probes.length > 0) this.#run([sample], probes);
    return true;
  }

  /** Adds bg probes (coarse gray) and tests them against samples. */
  addProbes(probes: readonly { index: number; image: GrayImage }[]): void {
    const added: [number, GrayImage][] = [];
    for (const { index, image } of probes) {
      const levels = pyramid(image, this.level);
      if (levels.length <= this.level) continue;
      const small = levels[this.level];
      this.#probes.set(index, small);
      added.push([index, small]);
      if (this.#probes.size > this.#maxProbes) {
        this.#probes.delete(this.#probes.keys().next().value as number);
      }
    }
    // Every probe meets the first samples (the fg's first seconds: where
    // a bg that holds the fg from its start finds it) and, in turn, two of
    // the others; testing each against all would outrun the workers on a
    // bg that decodes 60× faster than it plays.
    const all = this.#samples;
    const samples = all.slice(0, FIRST_SAMPLES);
    const rest = all.length - FIRST_SAMPLES;
    for (let k = 0; k < Math.min(ROTATING_SAMPLES, rest); k++) {
      samples.push(all[FIRST_SAMPLES + (this.#turn++ % rest)]);
    }
    if (added.length > 0 && samples.length > 0) this.#run(samples, added);
  }

  /** Waits for the tests under way (and raises a tester failure). */
  async settled(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.all(this.#inFlight);
    if (this.#failure) throw this.#failure;
  }

  #run(samples: Sample[], probes: [number, GrayImage][]): void {
    const p = Promise.resolve(
      this.#tester(
        samples.map((s) => s.levels[this.level]),
        probes.map(([, g]) => g),
      ),
    ).then((r) => this.#merge(samples, probes, r))
      .catch((err) => {
        this.#failure ??= err;
      })
      .finally(() => this.#inFlight.delete(p));
    this.#inFlight.add(p);
  }

  #merge(
    samples: Sample[],
    probes: [number, GrayImage][],
    r: Float32Array,
  ): void {
    for (let si = 0; si < samples.length; si++) {
      const best = samples[si].best;
      for (let pi = 0; pi < probes.length; pi++) {
        const o = 3 * (si * probes.length + pi);
        const score = r[o + 2];
        if (!(score >= this.#gate)) continue;
        if (best.length >= this.#keep && score <= best[best.length - 1].score) {
          continue;
        }
        best.push({ probe: probes[pi][0], x: r[o], y: r[o + 1], score });
        best.sort((a, b) => b.score - a.score);
        if (best.length > this.#keep) best.length = this.#keep;
      }
    }
  }

  /**
   * True when at least `minSamples` samples found a probe scoring `strong`
   * or more at the search level. Positions need not agree: along a camera
   * pan, "a few pixels over at another moment" is nearly as good as the
   * truth at that level, and the locator sorts it out on the climbed pairs.
   */
  confident(minSamples = 3): boolean {
    return this.#strongSamples() >= minSamples;
  }

  /** Samples whose best probe scores `strong` or more at the search level. */
  #strongSamples(): number {
    let n = 0;
    for (const s of this.#samples) {
      if (s.best.length > 0 && s.best[0].score >= this.#strong) n++;
    }
    return n;
  }

  /**
   * The best same-moment pair of each sample, climbed to full coarse
   * resolution, scoring `minScore` (default 0.9) or more there; at most `max`, best
   * first. `bgFrame` returns a bg frame at the coarse scale if the caller
   * still holds it (candidates whose frame is gone are skipped); every
   * frame within `reach` of a pair's probe is tried too (half the probe
   * gap: see `#settle`). Climbing costs a few full-resolution windows per
   * candidate, so only the `2 · max` samples with the best search-level
   * scores are climbed.
   */
  pairs(
    bgFrame: (index: number) => GrayImage | undefined,
    options: { max?: number; minScore?: number; reach?: number } = {},
  ): LockPair[] {
    const max = options.max ?? 4, minScore = options.minScore ?? 0.9;
    const reach = options.reach ?? 0;
    const ranked = this.#samples.filter((s) => s.best.length > 0)
      .sort((a, b) => b.best[0].score - a.best[0].score)
      .slice(0, 2 * max);
    const out: LockPair[] = [];
    for (const s of ranked) {
      const best = this.#climb(s, bgFrame, reach);
      if (best && best.score >= minScore) out.push(best);
    }
    out.sort((a, b) => b.score - a.score);
    return out.slice(0, max);
  }

  /**
   * A sample's best pair: its candidates not climbed before are climbed
   * (and the best of them settled in time); the better of that and the
   * earlier best stays. Callers ask repeatedly while the bg decodes, so
   * each candidate costs its climb once.
   */
  #climb(
    s: Sample,
    bgFrame: (index: number) => GrayImage | undefined,
    reach: number,
  ): LockPair | undefined {
    const live: Climber[] = [];
    for (const c of s.best) {
      if (s.climbed.has(c.probe)) continue;
      const frame = bgFrame(c.probe);
      if (!frame) continue;
      s.climbed.add(c.probe);
      const levels = pyramid(frame, this.level);
      if (levels.length <= this.level) continue;
      live.push({ probe: c.probe, levels, x: c.x, y: c.y, score: c.score });
    }
    const top = this.#descend(s, live);
    if (!top || (s.pair && top.score <= s.pair.score)) return s.pair;
    s.pair = this.#settle(
      s,
      {
        fg: s.index,
        bg: top.probe!,
        fgImage: s.levels[0],
        bgImage: top.levels[0],
        x: top.x,
        y: top.y,
        score: top.score,
      },
      bgFrame,
      reach,
    );
    return s.pair;
  }

  /**
   * Refines search-level positions level by level (±2 px) to level 0,
   * keeping the best three after each level: the truth can rank low at the
   * search level when the crop's offset is not a multiple of the level's
   * pixel (pyramid phase), so many enter, few reach the expensive levels.
   */
  #descend(s: Sample, entries: Climber[]): Climber | undefined {
    let live = entries;
    for (let l = this.level - 1; l >= 0 && live.length > 0; l--) {
      const t = prepareTemplate(s.levels[l]);
      for (const e of live) {
        const p = nccMap(
          e.levels[l],
          t,
          2 * e.x - 2,
          2 * e.y - 2,
          2 * e.x + 2,
          2 * e.y + 2,
        );
        e.x = p.x;
        e.y = p.y;
        e.score = p.score;
      }
      live = live.filter((e) => e.score > -Infinity)
        .sort((a, b) => b.score - a.score).slice(0, 3);
    }
    return live[0];
  }

  /**
   * Tries every bg frame within `reach` of the pair's probe (full search at
   * the search level, then the climb) and keeps the best. Probes are a few
   * frames apart, so a sample's probe is usually not its own moment; when
   * the content moves (a pan, a scrolling pattern), that probe matches best
   * a few pixels away, and on a 1080p test pattern three of four such pairs
   * outvoted the true position (y 19 instead of 27 coarse px, NCC 0.995
   * against 0.9986). The frame of the sample's own moment scores highest,
   * but not by a margin a local walk in time can follow.
   */
  #settle(
    s: Sample,
    pair: LockPair,
    bgFrame: (index: number) => GrayImage | undefined,
    reach: number,
  ): LockPair {
    let best = pair;
    const t = prepareTemplate(s.levels[this.level]);
    for (let j = pair.bg - reach; j <= pair.bg + reach; j++) {
      if (j === pair.bg || j < 0) continue;
      const frame = bgFrame(j);
      if (!frame) continue;
      const levels = pyramid(frame, this.level);
      if (levels.length <= this.level) continue;
      const g = levels[this.level];
      const p = nccMap(g, t, 0, 0, g.width - t.width, g.height - t.height);
      if (!(p.score > -Infinity)) continue;
      const top = this.#descend(s, [{
        levels,
        x: p.x,
        y: p.y,
        score: p.score,
      }]);
      if (top && top.score > best.score) {
        best = {
          ...best,
          bg: j,
          bgImage: frame,
          x: top.x,
          y: top.y,
          score: top.score,
        };
      }
    }
    return best;
  }
}
