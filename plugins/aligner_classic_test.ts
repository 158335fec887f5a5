import assert from "node:assert/strict";
import type { CostModel, Timeline } from "../core/types.ts";
import {
  type ClassicAlignment,
  classicDefaults,
  createClassic,
  plugin,
} from "./aligner_classic.ts";

/** Constant-rate timeline. */
function timeline(count: number, fps: number): Timeline {
  const times = new Float64Array(count);
  for (let i = 0; i < count; i++) times[i] = i / fps;
  return { count, fps, times };
}

/** Deterministic noise in [0, 1) per (a, b). */
function hash01(a: number, b: number): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(b | 0, 0xc2b2ae35);
  h ^= h >>> 13;
  h = Math.imul(h, 0x27d4eb2f);
  h ^= h >>> 16;
  return (h >>> 0) / 4294967296;
}

/** A synthetic pair: what every fg and bg frame shows, in moments. */
interface Synthetic {
  /** fg frames. */
  n: number;
  /** bg frames. */
  m: number;
  fgFps: number;
  bgFps: number;
  /** Moment (in bg frame units of the undisturbed bg) shown by fg frame i. */
  fgMoment: (i: number) => number;
  /** Moment shown by bg frame j (default j; freezes and drops change it). */
  bgMoment?: (j: number) => number;
  /** Cost of a pair whose moments differ by d: base + slope·|d| + noise. */
  base?: number;
  slope?: number;
  noise?: number;
  /** Extra costs, e.g. a decoy: return a number to override. */
  override?: (i: number, j: number) => number | undefined;
}

function costModel(s: Synthetic): CostModel {
  const bgMoment = s.bgMoment ?? ((j: number) => j);
  const f = (i: number, j: number) => {
    const o = s.override?.(i, j);
    if (o !== undefined) return o;
    const d = Math.abs(bgMoment(j) - s.fgMoment(i));
    // Noise depends on the picture (the bg moment), not the index, so a
    // frozen bg gives identical costs, as real fingerprints would.
    return Math.min(
      1,
      (s.base ?? 0) + (s.slope ?? 0.15) * d +
        (s.noise ?? 0) * hash01(i, Math.round(bgMoment(j) * 1000)),
    );
  };
  return { cost: f, coarseCost: f };
}

/** Every bg frame whose moment is nearest fg frame i's (the truth). */
function accepted(s: Synthetic, i: number): number[] {
  const bgMoment = s.bgMoment ?? ((j: number) => j);
  let best = Infinity;
  const out: number[] = [];
  for (let j = 0; j < s.m; j++) {
    const d = Math.abs(bgMoment(j) - s.fgMoment(i));
    if (d < best - 1e-9) {
      best = d;
      out.length = 0;
    }
    if (Math.abs(d - best) <= 1e-9) out.push(j);
  }
  return out;
}

async function align(
  s: Synthetic,
  extra: { offsetHint?: number; window?: number } = {},
): Promise<ClassicAlignment> {
  return await createClassic().align({
    fg: timeline(s.n, s.fgFps),
    bg: timeline(s.m, s.bgFps),
    costs: costModel(s),
    ...extra,
  }) as ClassicAlignment;
}

/** Checks the alignment's shape; returns the fg frames it got wrong. */
function misses(s: Synthetic, path: Int32Array, res?: ClassicAlignment) {
  assert.equal(path.length, s.n);
  const wrong: number[] = [];
  for (let i = 0; i < s.n; i++) {
    assert.ok(path[i] >= 0 && path[i] < s.m, `bg[${i}] = ${path[i]}`);
    if (i > 0) assert.ok(path[i] >= path[i - 1], `steps back at ${i}`);
    if (!accepted(s, i).includes(path[i])) wrong.push(i);
  }
  if (res) {
    const costs = costModel(s);
    assert.equal(res.cost.length, s.n);
    assert.equal(res.margin.length, s.n);
    for (let i = 0; i < s.n; i++) {
      assert.equal(res.cost[i], Math.fround(costs.cost(i, path[i])));
      assert.ok(res.cost[i] >= 0 && res.cost[i] <= 1);
    }
  }
  return wrong;
}

Deno.test("classic matches every frame at equal rates with an offset and noise", async () => {
  const s: Synthetic = {
    n: 300,
    m: 360,
    fgFps: 30,
    bgFps: 30,
    fgMoment: (i) => i + 23,
    noise: 0.05,
  };
  const res = await align(s);
  assert.deepEqual(misses(s, res.bg, res), []);
  assert.ok(
    Math.abs(res.offsetSeconds - 23 / 30) < 1e-9,
    `${res.offsetSeconds}`,
  );
  assert.ok(res.stats.agreed >= 295, `sweeps agreed on ${res.stats.agreed}`);
});

for (
  const [fgFps, bgFps] of [[25, 30], [30, 25], [60, 24], [24, 60]] as const
) {
  Deno.test(`classic picks the bg frame nearest in time at ${fgFps} → ${bgFps} fps`, async () => {
    const r = bgFps / fgFps;
    // The moment of fg frame i falls between bg frames: 0.37 s into the bg.
    const s: Synthetic = {
      n: Math.round(6 * fgFps),
      m: Math.round(8 * bgFps),
      fgFps,
      bgFps,
      fgMoment: (i) => 0.37 * bgFps + i * r,
      noise: 0.02,
    };
    const res = await align(s);
    const wrong = misses(s, res.bg, res);
    assert.ok(wrong.length <= s.n * 0.01, `misses at ${wrong.join(", ")}`);
  });
}

Deno.test("classic follows a freeze and a drop in the bg", async () => {
  // bg frames 60..65 hold frame 60; from bg frame 120 on the content jumps
  // ahead by 4 frames (4 moments lost).
  const bgMoment = (
    j: number,
  ) => (j >= 60 && j <= 65 ? 60 : j >= 120 ? j + 4 : j);
  const s: Synthetic = {
    n: 200,
    m: 240,
    fgFps: 30,
    bgFps: 30,
    fgMoment: (i) => i + 12,
    bgMoment,
    noise: 0.03,
  };
  const res = await align(s);
  const wrong = misses(s, res.bg, res);
  assert.ok(wrong.length <= 2, `misses at ${wrong.join(", ")}`);
  // After the drop the same moment sits 4 bg frames earlier.
  assert.equal(res.bg[150], 150 + 12 - 4);
});

Deno.test("classic holds the bg's end frames where the fg overhangs it", async () => {
  // The fg starts 20 frames before the bg and ends 25 frames after it; the
  // overhanging fg frames resemble nothing in the bg.
  const s: Synthetic = {
    n: 200,
    m: 155,
    fgFps: 30,
    bgFps: 30,
    fgMoment: (i) => i - 20,
    noise: 0.02,
    override: (i, j) =>
      i < 20 || i >= 175 ? 0.6 + 0.3 * hash01(i, j + 7) : undefined,
  };
  const res = await align(s);
  assert.deepEqual(misses(s, res.bg, res), []);
  for (let i = 0; i < 20; i++) assert.equal(res.bg[i], 0);
  for (let i = 175; i < 200; i++) assert.equal(res.bg[i], 154);
});

Deno.test("classic matches every frame when all costs are high: no threshold drops matches", async () => {
  // The original's classic matcher kept only pairs with similarity > 0.5 on
  // an unnormalised score, found none and fell back to frame numbers. Here
  // every cost is ≥ 0.6 (similarity ≤ 0.4), yet the minima still say where.
  const s: Synthetic = {
    n: 150,
    m: 200,
    fgFps: 25,
    bgFps: 25,
    fgMoment: (i) => i + 31,
    base: 0.6,
    slope: 0.02,
    noise: 0.005,
  };
  const res = await align(s);
  assert.deepEqual(misses(s, res.bg, res), []);
  assert.ok(res.cost.every((c) => c >= 0.6));
});

Deno.test("classic's merge repairs a wrong greedy step with the other sweep", async () => {
  // At fg frames 100..101 a flash spoils the right bg frames and makes bg
  // frame truth + 6 look perfect. The forward sweep takes it and, never
  // stepping back, stays late; the backward sweep, bounded by the frame
  // after, cannot reach it.
  const truth = (i: number) => i + 10;
  const decoy = truth(100) + 6;
  const s: Synthetic = {
    n: 200,
    m: 230,
    fgFps: 30,
    bgFps: 30,
    fgMoment: truth,
    noise: 0.02,
    override: (i, j) =>
      i < 100 || i > 101
        ? undefined
        : j === decoy
        ? 0
        : j === truth(i)
        ? 0.3
        : undefined,
  };
  const res = await align(s);
  const forwardWrong = misses(s, res.forward);
  assert.ok(forwardWrong.length >= 4, `forward misses ${forwardWrong}`);
  const wrong = misses(s, res.bg, res);
  // The two spoiled frames may stay wrong; nothing after them may.
  assert.ok(wrong.every((i) => i === 100 || i === 101), `misses ${wrong}`);
  assert.ok(res.stats.fromBackward >= 4, `${res.stats.fromBackward}`);
});

Deno.test("classic uses the offset hint only as a candidate and honours the window", async () => {
  const s: Synthetic = {
    n: 120,
    m: 200,
    fgFps: 30,
    bgFps: 30,
    fgMoment: (i) => i + 40,
    noise: 0.02,
  };
  // A wrong hint (2 s off) loses to the content.
  const res = await align(s, { offsetHint: -2, window: 5 });
  assert.deepEqual(misses(s, res.bg), []);
  assert.equal(res.stats.window, 5);
});

Deno.test("classic reports progress up to its total and handles tiny inputs", async () => {
  const seen: [number, number][] = [];
  const s: Synthetic = {
    n: 600,
    m: 700,
    fgFps: 30,
    bgFps: 30,
    fgMoment: (i) => i + 5,
  };
  await createClassic().align({
    fg: timeline(s.n, 30),
    bg: timeline(s.m, 30),
    costs: costModel(s),
    progress: (stage, done, total) => {
      assert.equal(stage, "align");
      seen.push([done, total]);
    },
  });
  assert.ok(seen.length > 3);
  const [lastDone, lastTotal] = seen[seen.length - 1];
  assert.equal(lastDone, lastTotal);
  for (let k = 1; k < seen.length; k++) assert.ok(seen[k][0] >= seen[k - 1][0]);

  const aligner = createClassic();
  const none = await aligner.align({
    fg: timeline(0, 30),
    bg: timeline(10, 30),
    costs: costModel({ ...s, n: 0, m: 10 }),
  });
  assert.equal(none.bg.length, 0);
  const single = await aligner.align({
    fg: timeline(5, 30),
    bg: timeline(1, 30),
    costs: costModel({ ...s, n: 5, m: 1 }),
  });
  assert.deepEqual(Array.from(single.bg), [0, 0, 0, 0, 0]);
  await assert.rejects(
    async () =>
      await aligner.align({
        fg: timeline(3, 30),
        bg: timeline(0, 30),
        costs: costModel({ ...s, n: 3, m: 0 }),
      }),
    RangeError,
  );
});

Deno.test("classic plugin definition builds the aligner and names its fingerprint", () => {
  assert.equal(plugin.kind, "aligner");
  assert.equal(plugin.name, "classic");
  assert.ok(plugin.description.length > 0);
  const a = plugin.create({ tie: 0.25, unknown: 1 });
  assert.equal(a.name, "classic");
  assert.equal(a.preferredFingerprint, "ssim");
  assert.equal(classicDefaults.window, 0);
});
