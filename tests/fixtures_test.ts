/**
 * Tests that the fixture generator's ground truth is right: the rendered
 * files decode to what the truth says, the timeline edits land where they
 * should, slowpan moves smoothly, and scoreMap counts correctly.
 *
 * Run: deno test --allow-read --allow-write --allow-run=ffmpeg,ffprobe
 *      --allow-env tests/fixtures_test.ts
 */

import assert from "node:assert/strict";
import {
  buildTimeline,
  computeTruth,
  fixtureDir,
  makePair,
  masterFrames,
  type Pair,
  type PairSpec,
  scoreMap,
  standardPairs,
  type Truth,
} from "./fixtures.ts";

function spec(name: string): PairSpec {
  const s = standardPairs.find((p) => p.name === name);
  assert.ok(s, `no standard pair ${name}`);
  return s;
}

async function pair(name: string): Promise<Pair> {
  return makePair(spec(name), await fixtureDir());
}

interface Probe {
  video: { frames: number; rate: string; width: number; height: number };
  audio: boolean;
}

async function probe(path: string): Promise<Probe> {
  const out = await new Deno.Command("ffprobe", {
    args: [
      "-v",
      "error",
      "-count_frames",
      "-show_entries",
      "stream=codec_type,nb_read_frames,r_frame_rate,width,height",
      "-of",
      "json",
      path,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  const streams = JSON.parse(new TextDecoder().decode(out.stdout))
    .streams as Record<string, string | number>[];
  const v = streams.find((s) => s.codec_type === "video");
  assert.ok(v, `${path}: no video stream`);
  return {
    video: {
      frames: Number(v.nb_read_frames),
      rate: String(v.r_frame_rate),
      width: Number(v.width),
      height: Number(v.height),
    },
    audio: streams.some((s) => s.codec_type === "audio"),
  };
}

/** Decodes a video to half-size gray frames, optionally cropping first. */
async function decodeGray(
  path: string,
  w: number,
  h: number,
  crop?: { x: number; y: number },
): Promise<Uint8Array[]> {
  const ow = w >> 1, oh = h >> 1;
  const vf = ["format=gray"];
  if (crop) vf.push(`crop=${w}:${h}:${crop.x}:${crop.y}`);
  vf.push(`scale=${ow}:${oh}:flags=area`);
  const out = await new Deno.Command("ffmpeg", {
    args: [
      "-v",
      "error",
      "-nostdin",
      "-i",
      path,
      "-vf",
      vf.join(","),
      "-f",
      "rawvideo",
      "-pix_fmt",
      "gray",
      "pipe:1",
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  const size = ow * oh;
  assert.equal(out.stdout.length % size, 0);
  const frames: Uint8Array[] = [];
  for (let o = 0; o < out.stdout.length; o += size) {
    frames.push(out.stdout.subarray(o, o + size));
  }
  return frames;
}

/**
 * Mean abs difference after normalising each frame to mean 128, std 32, so
 * a regraded bg (brightness/contrast) still compares fairly.
 */
function nmad(a: Uint8Array, b: Uint8Array): number {
  const norm = (x: Uint8Array) => {
    let s = 0, s2 = 0;
    for (const v of x) {
      s += v;
      s2 += v * v;
    }
    const mean = s / x.length;
    const sd = Math.sqrt(Math.max(s2 / x.length - mean * mean, 1e-6));
    return Float32Array.from(x, (v) => 128 + 32 * (v - mean) / sd);
  };
  const na = norm(a), nb = norm(b);
  let d = 0;
  for (let i = 0; i < na.length; i++) d += Math.abs(na[i] - nb[i]);
  return d / na.length;
}

function mad(a: Uint8Array, b: Uint8Array): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d += Math.abs(a[i] - b[i]);
  return d / a.length;
}

/** Checks the files of a pair against its truth; returns the decoded frames. */
async function checkFiles(p: Pair) {
  const { truth, spec: s } = p;
  const [pb, pf] = await Promise.all([probe(p.bg), probe(p.fg)]);
  assert.equal(pb.video.frames, truth.bgFrames, `${s.name}: bg frames`);
  assert.equal(pf.video.frames, truth.fgFrames, `${s.name}: fg frames`);
  assert.equal(pb.video.rate, `${truth.bgFps}/1`, `${s.name}: bg fps`);
  assert.equal(pf.video.rate, `${truth.fgFps}/1`, `${s.name}: fg fps`);
  assert.equal(pb.video.width, s.bgWidth);
  assert.equal(pb.video.height, s.bgHeight);
  assert.equal(pf.video.width, s.crop.width);
  assert.equal(pf.video.height, s.crop.height);
  assert.equal(pf.audio, s.fgAudio ?? true, `${s.name}: fg audio`);
  assert.equal(pb.audio, s.bgAudio ?? false, `${s.name}: bg audio`);
}

/**
 * For fg frames whose content is exactly in the bg (distance 0 in master
 * frames), the expected bg frame must match much better than bg frames ±2
 * away that show other content.
 */
async function checkContent(p: Pair, ratio: number) {
  const { truth, spec: s } = p;
  const { width, height } = s.crop;
  const [bg, fg] = await Promise.all([
    decodeGray(p.bg, width, height, truth),
    decodeGray(p.fg, width, height),
  ]);
  assert.equal(bg.length, truth.bgFrames);
  assert.equal(fg.length, truth.fgFrames);
  const tl = buildTimeline(s);
  let checked = 0;
  const rows: string[] = [];
  for (let i = 0; i < fg.length; i++) {
    const j = truth.expected[i];
    if (tl.bg[j] !== tl.fg[i]) continue; // content not exactly in the bg
    const d0 = nmad(fg[i], bg[j]);
    let dFar = Infinity;
    for (const k of [j - 2, j + 2]) {
      if (k < 0 || k >= bg.length || tl.bg[k] === tl.bg[j]) continue;
      dFar = Math.min(dFar, nmad(fg[i], bg[k]));
    }
    if (dFar === Infinity) continue;
    rows.push(`${i}:${d0.toFixed(2)}/${dFar.toFixed(2)}`);
    assert.ok(
      d0 < ratio * dFar,
      `${s.name}: fg ${i} vs bg ${j}: ${d0.toFixed(2)}, ±2: ${dFar.toFixed(2)}`,
    );
    checked++;
  }
  assert.ok(checked >= 8, `${s.name}: only ${checked} frames checked`);
  if (Deno.env.get("FIXTURES_VERBOSE")) console.log(s.name, rows.join(" "));
  return { bg, fg };
}

// ---------------------------------------------------------------------------
// Pure tests

function handTruth(accepted: number[][]): Truth {
  return {
    x: 0,
    y: 0,
    scale: 1,
    fgFrames: accepted.length,
    bgFrames: Math.max(...accepted.flat()) + 1,
    fgFps: 30,
    bgFps: 30,
    expected: Int32Array.from(accepted, (a) => a[0]),
    accepted,
    offsetSeconds: 0,
  };
}

Deno.test("scoreMap: exact, ties and backward steps", () => {
  const truth = handTruth([[0], [1, 2], [3], [4], [5], [6, 7, 8]]);
  const perfect = scoreMap([0, 2, 3, 4, 5, 7], truth);
  assert.equal(perfect.total, 6);
  assert.equal(perfect.exact, 6);
  assert.equal(perfect.exactRatio, 1);
  assert.equal(perfect.backwardSteps, 0);
  assert.deepEqual(perfect.worst, []);

  const bad = scoreMap([0, 3, 2, 4, 9, 6], truth);
  assert.equal(bad.exact, 3); // fg 0, 3, 5
  assert.equal(bad.exactRatio, 0.5);
  assert.equal(bad.backwardSteps, 2); // 3→2, 9→6
  // worst first: fg 4 (off by 4), then fg 1 and fg 2 (off by 1)
  assert.deepEqual(bad.worst, [
    { fg: 4, got: 9, want: [5] },
    { fg: 1, got: 3, want: [1, 2] },
    { fg: 2, got: 2, want: [3] },
  ]);

  const short = scoreMap(Int32Array.from([0, 1]), truth);
  assert.equal(short.exact, 2);
  assert.equal(short.worst.length, 4);
  assert.equal(short.worst[0].got, -1);

  const many = scoreMap(
    new Array(20).fill(50),
    handTruth(
      Array.from({ length: 20 }, (_, i) => [i]),
    ),
  );
  assert.equal(many.exact, 0);
  assert.equal(many.worst.length, 10);
  assert.equal(many.worst[0].fg, 0);
});

Deno.test("timeline: offsets, fps ratios, ties", () => {
  const t = computeTruth(spec("offset_crop"));
  assert.equal(t.offsetSeconds, 0.4);
  assert.equal(t.fgFrames, 90);
  assert.equal(t.bgFrames, 120);
  assert.deepEqual(
    [...t.expected],
    Array.from({ length: 90 }, (_, i) => i + 12),
  );
  assert.equal(t.x, 64);
  assert.equal(t.y, 36);

  // fg 24 fps on a 60 fps bg: master 120, F = 30 + 5i, B = 2j → every odd
  // fg frame lies halfway between two bg frames: both accepted.
  const tl = buildTimeline(spec("fps_24_60"));
  assert.equal(tl.rate, 120);
  const t2 = computeTruth(spec("fps_24_60"), tl);
  assert.deepEqual(t2.accepted[0], [15]);
  assert.deepEqual(t2.accepted[1], [17, 18]);
  assert.equal(t2.expected[1], 17);
  assert.deepEqual(t2.accepted[2], [20]);

  // fg longer than the bg on both ends: clamps to the bg ends, offset < 0.
  const t3 = computeTruth(spec("fg_longer"));
  assert.equal(t3.offsetSeconds, -0.5);
  assert.equal(t3.expected[0], 0);
  assert.equal(t3.expected[15], 0);
  assert.equal(t3.expected[16], 1);
  assert.equal(t3.expected[119], 89);

  // 25 → 30: master 150
  assert.equal(buildTimeline(spec("fps_25_30")).rate, 150);
  assert.equal(computeTruth(spec("slow")).offsetSeconds, 0.32);
});

Deno.test("timeline: freeze and drop edit B", () => {
  const s = spec("freeze_drop"); // freeze 6 at 40, drop 3 at 80, bg @30
  const tl = buildTimeline(s);
  assert.equal(tl.rate, 30);
  for (let j = 0; j <= 40; j++) assert.equal(tl.bg[j], j);
  for (let j = 41; j <= 46; j++) assert.equal(tl.bg[j], 40, `held at ${j}`);
  for (let j = 47; j < 80; j++) assert.equal(tl.bg[j], j);
  for (let j = 80; j < tl.bg.length; j++) assert.equal(tl.bg[j], j + 3);

  const t = computeTruth(s, tl); // fg starts at master 9
  const fgAt = (master: number) => master - 9;
  // content 43 is 3 away from the held 40 and 4 from 47: all held accepted
  assert.deepEqual(t.accepted[fgAt(43)], [40, 41, 42, 43, 44, 45, 46]);
  assert.equal(t.expected[fgAt(43)], 40);
  // content 44: 4 from 40, 3 from 47
  assert.deepEqual(t.accepted[fgAt(44)], [47]);
  // dropped content 80..82: 80 is 1 from j=79, 2 from j=80 (shows 83)
  assert.deepEqual(t.accepted[fgAt(80)], [79]);
  assert.deepEqual(t.accepted[fgAt(81)], [79, 80]);
  assert.deepEqual(t.accepted[fgAt(82)], [80]);
  assert.deepEqual(t.accepted[fgAt(86)], [83]);
  assert.equal(t.offsetSeconds, 0.3);
});

Deno.test("slowpan: every master frame distinct, bg steps small", async () => {
  const R = 150, w = 480, h = 270;
  const frames: Uint8Array[] = [];
  for await (const f of masterFrames("slowpan", w, h, R, 0, 2 * R)) {
    frames.push(f);
  }
  assert.equal(frames.length, 2 * R + 1);
  // MAD over all RGB bytes: no two consecutive master frames are equal
  for (let k = 1; k < frames.length; k++) {
    const d = mad(frames[k - 1], frames[k]);
    assert.ok(d > 0, `master frames ${k - 1} and ${k} are identical`);
  }
  // the motion is sub-pixel and smooth: MAD grows steadily with the step
  const step = (s: number) => {
    let lo = Infinity, hi = 0;
    for (let k = s; k < frames.length; k += s) {
      const d = mad(frames[k - s], frames[k]);
      lo = Math.min(lo, d);
      hi = Math.max(hi, d);
    }
    return { lo, hi };
  };
  const m150 = step(1), m30 = step(5), m25 = step(6);
  for (const [name, m] of [["30", m30], ["25", m25]] as const) {
    assert.ok(m.hi <= 2, `@${name}: consecutive bg MAD up to ${m.hi}`);
    assert.ok(m.lo >= 0.3, `@${name}: consecutive bg MAD as low as ${m.lo}`);
  }
  // smooth sub-pixel motion: the difference grows with the time step
  const m2 = step(2);
  assert.ok(m150.hi < m30.lo, "master steps smaller than bg steps");
  assert.ok(m150.lo < m2.lo && m2.hi < m30.hi, "difference grows with step");
});

// ---------------------------------------------------------------------------
// Rendered pairs

Deno.test("offset_crop (testsrc2): files and content match the truth", async () => {
  const p = await pair("offset_crop");
  await checkFiles(p);
  await checkContent(p, 0.5);
});

Deno.test("fps_25_30 (slowpan): files and content match the truth", async () => {
  const p = await pair("fps_25_30");
  await checkFiles(p);
  const { bg } = await checkContent(p, 0.65);
  // consecutive decoded bg frames differ, but only slightly
  let hi = 0, lo = Infinity;
  for (let j = 1; j < bg.length; j++) {
    const d = mad(bg[j - 1], bg[j]);
    hi = Math.max(hi, d);
    lo = Math.min(lo, d);
  }
  assert.ok(lo > 0 && hi <= 3, `decoded bg steps ${lo}..${hi}`);
});

for (
  const [name, ratio] of [
    ["fps_60_24", 0.65],
    ["odd_xy", 0.75],
    ["slow", 0.75], // slowpan, regraded
    ["mandel", 0.6],
  ] as const
) {
  Deno.test(`${name}: files and content match the truth`, async () => {
    const p = await pair(name);
    await checkFiles(p);
    await checkContent(p, ratio);
  });
}

Deno.test("freeze_drop (regraded): files and content match the truth", async () => {
  const p = await pair("freeze_drop");
  await checkFiles(p);
  const { bg, fg } = await checkContent(p, 0.6);
  // the frozen bg frames 40..46 decode (nearly) identical to each other...
  const tl = buildTimeline(p.spec);
  const d = (a: number, b: number) => nmad(bg[a], bg[b]);
  const still = Math.max(d(40, 43), d(40, 46));
  const moving = Math.min(d(38, 40), d(46, 47));
  assert.ok(still < 0.5 * moving, `freeze: ${still} vs ${moving}`);
  // ...and the fg frame right after the drop matches bg 80 (master 83).
  const i = tl.fg.indexOf(83);
  assert.ok(i >= 0);
  assert.equal(p.truth.expected[i], 80);
  assert.ok(nmad(fg[i], bg[80]) < 0.6 * nmad(fg[i], bg[79]));
});

Deno.test("standardPairs: all render with the truth's counts, rates, audio", async () => {
  const dir = await fixtureDir();
  const names = new Set<string>();
  for (const s of standardPairs) {
    assert.ok(!names.has(s.name), `duplicate ${s.name}`);
    names.add(s.name);
    const p = await makePair(s, dir);
    await checkFiles(p);
    assert.equal(p.truth.x, s.crop.x);
    assert.equal(p.truth.y, s.crop.y);
    assert.equal(p.truth.expected.length, p.truth.fgFrames);
    assert.equal(p.truth.accepted.length, p.truth.fgFrames);
    // a second call (other key, same dir) reuses the files on disk
    const t0 = performance.now();
    const again = await makePair(structuredClone(s), `${dir}/`);
    assert.ok(performance.now() - t0 < 1000, "cache not reused");
    assert.equal(again.bg, p.bg);
    assert.deepEqual([...again.truth.expected], [...p.truth.expected]);
    assert.deepEqual(again.truth.accepted, p.truth.accepted);
  }
});
