/**
 * Accuracy evaluation on randomised pairs with known truth: random content,
 * crop position (odd offsets included), frame-rate pair, start offset, and
 * sometimes a freeze, a drop or a regraded bg. Prints, per pair and overall,
 * the share of fg frames mapped to a correct bg frame, backward steps, and
 * the placement error; exits non-zero below the bar (≥ 99% exact, exact
 * placement) so it can gate changes.
 *
 * Usage: deno task bench:accuracy [--pairs 12] [--seed 1] [--stream]
 * [--size 480x270]
 *
 * `--stream` keeps almost no bg frames, so each pair is analysed the way a
 * long or big bg is: placement from the streaming lock, bg fingerprints
 * made while decoding, no whole-video second opinion. `--size` sets the bg
 * size (crops scale with it): the analysis shrinks bgs wider than 480 px,
 * and how much depends on the size.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { join } from "node:path";
import { composite } from "../mod.ts";
import {
  fixtureDir,
  makePair,
  type PairSpec,
  scoreMap,
} from "../tests/fixtures.ts";
import { rng } from "../plugins/_fingerprint_testing.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    pairs: { type: "string", default: "12" },
    seed: { type: "string", default: "1" },
    stream: { type: "boolean", default: false },
    size: { type: "string", default: "480x270" },
  },
});

// Seeded (mulberry32), so a run can be repeated with --seed.
const random = rng(Number(values.seed));
const pick = <T>(items: readonly T[]): T =>
  items[Math.floor(random() * items.length)];
const between = (lo: number, hi: number) =>
  Math.floor(lo + random() * (hi - lo + 1));

const RATES: [number, number][] = [
  [30, 30],
  [25, 30],
  [30, 25],
  [24, 60],
  [60, 24],
  [25, 50],
  [50, 25],
  [24, 30],
];

const [bgWidth, bgHeight] = values.size!.split("x").map(Number);
if (!(bgWidth >= 480 && bgHeight >= 270) || bgWidth % 2 || bgHeight % 2) {
  throw new RangeError(
    `--size must be even and at least 480x270: ${values.size}`,
  );
}
/** Crop sides scale with the bg (from 180..480 × 120..270 at 480×270). */
const cropSide = (lo: number, hi: number, side: number, base: number) =>
  2 * Math.round(between(lo, hi) * side / base);

function randomSpec(k: number): PairSpec {
  const [fgFps, bgFps] = pick(RATES);
  const width = cropSide(90, 240, bgWidth, 480);
  const height = cropSide(60, 135, bgHeight, 270);
  const x = between(0, bgWidth - width), y = between(0, bgHeight - height);
  const fgDuration = 3;
  const lead = Math.round(between(0, 60) / 100 * bgFps) / bgFps;
  const spec: PairSpec = {
    name: `acc_${values.seed}_${k}${
      values.size === "480x270" ? "" : `_${values.size}`
    }`,
    content: pick(["testsrc2", "slowpan", "mandelbrot"] as const),
    bgWidth,
    bgHeight,
    crop: { x, y, width, height },
    bgFps,
    fgFps,
    bgStart: 0,
    bgDuration: fgDuration + lead + 0.5,
    fgStart: lead,
    fgDuration,
    regrade: random() < 0.4,
  };
  const m = Math.round(spec.bgDuration * bgFps);
  if (random() < 0.3) {
    spec.freezes = [{
      atBgFrame: between(m / 4, m / 2),
      length: between(2, 6),
    }];
  }
  if (random() < 0.3) {
    spec.drops = [{
      atBgFrame: between(m / 2, (3 * m) / 4),
      count: between(1, 3),
    }];
  }
  return spec;
}

const dir = join(await fixtureDir(), "accuracy");
await Deno.mkdir(dir, { recursive: true });
const count = Math.max(1, Number(values.pairs));
let exact = 0, total = 0, placedOk = 0, backwards = 0;
for (let k = 0; k < count; k++) {
  const spec = randomSpec(k);
  const pair = await makePair(spec, dir);
  const t0 = performance.now();
  const r = await composite({
    bg: pair.bg,
    fg: pair.fg,
    dryRun: true,
    // --stream: keep almost no bg frames, as with a long or big bg.
    keepBytes: values.stream ? 256 * 1024 : undefined,
  });
  const s = scoreMap(r.frameMap, pair.truth);
  const dx = r.placement.x - pair.truth.x, dy = r.placement.y - pair.truth.y;
  exact += s.exact;
  total += s.total;
  backwards += s.backwardSteps;
  if (dx === 0 && dy === 0) placedOk++;
  console.log(
    `${spec.name} ${spec.content} ${spec.fgFps}→${spec.bgFps} fps crop ${spec.crop.width}×${spec.crop.height}@(${spec.crop.x},${spec.crop.y}) lead ${
      spec.fgStart.toFixed(2)
    }s${spec.regrade ? " regraded" : ""}${spec.freezes ? " freeze" : ""}${
      spec.drops ? " drop" : ""
    }: ${s.exact}/${s.total} exact, placement error (${dx}, ${dy}), ${
      ((performance.now() - t0) / 1000).toFixed(1)
    } s`,
  );
}
const ratio = exact / total;
console.log(
  `overall: ${
    (100 * ratio).toFixed(2)
  }% of ${total} fg frames exact, ${placedOk}/${count} placements exact, ${backwards} backward steps`,
);
if (ratio < 0.99 || placedOk < count || backwards > 0) Deno.exit(1);
