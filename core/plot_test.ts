/**
 * The `--plot` image: decoded back from PNG and checked pixel by pixel at
 * the places the geometry says each thing sits.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { Canvas } from "./_plot_canvas.ts";
import { decodePng } from "./png.ts";
import { OutputError } from "./errors.ts";
import type { GrayImage } from "./frame.ts";
import { nccAt } from "./ncc.ts";
import { composite } from "./pipeline.ts";
import {
  MAX_THUMBS,
  PLOT_COLORS,
  PLOT_HEIGHT,
  PLOT_WIDTH,
  type PlotData,
  plotDataOf,
  plotGeometry,
  renderPlot,
  similarityClass,
  thumbIndices,
  writePlot,
} from "./plot.ts";
import { fixtureDir, makePair, standardPairs } from "../tests/fixtures.ts";

/** A decoded plot with a colour lookup. */
async function draw(data: PlotData) {
  const png = await renderPlot(data);
  const img = await decodePng(png);
  const at = (x: number, y: number) => {
    const p = (y * img.width + x) * 4;
    return (img.rgba[p] << 16) | (img.rgba[p + 1] << 8) | img.rgba[p + 2];
  };
  return { png, img, at, g: plotGeometry(data) };
}

function hex(c: number): string {
  return `#${c.toString(16).padStart(6, "0")}`;
}

function flat(width: number, height: number, value: number): GrayImage {
  return { width, height, data: new Uint8Array(width * height).fill(value) };
}

/**
 * 300 fg frames at 25 fps over a 30 fps bg, 0.5 s in: a freeze at 100..140
 * (the map stays while the fps line climbs), no match at 200..230,
 * doubtful at 240..250, sure elsewhere.
 */
function scenario(): PlotData & { frameMap: Int32Array } {
  const n = 300, fgFps = 25, bgFps = 30, offsetSeconds = 0.5;
  const frameMap = new Int32Array(n);
  const similarity = new Float32Array(n).fill(0.95);
  for (let i = 0; i < n; i++) {
    const t = i >= 100 && i <= 140 ? 100 : i;
    frameMap[i] = Math.round((t / fgFps + offsetSeconds) * bgFps);
    if (i >= 200 && i <= 230) similarity[i] = 0.2;
    if (i >= 240 && i <= 250) similarity[i] = 0.6;
  }
  return {
    frameMap,
    fgFps,
    bgFps,
    offsetSeconds,
    similarity,
    thumbs: [],
    title: "scenario",
  };
}

Deno.test("renderPlot makes a PLOT_WIDTH × PLOT_HEIGHT PNG", async () => {
  const { png, img } = await draw(scenario());
  assert.deepEqual(
    [...png.subarray(0, 8)],
    [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a],
  );
  assert.equal(img.width, PLOT_WIDTH);
  assert.equal(img.height, PLOT_HEIGHT);
});

Deno.test("the map line sits at each fg frame's bg index; the fps line shows where the map leaves it", async () => {
  const data = scenario();
  const { at, g } = await draw(data);
  for (const i of [5, 60, 99, 120, 170, 280]) {
    const x = g.fgX(i), y = g.bgY(data.frameMap[i]);
    assert.equal(hex(at(x, y)), hex(PLOT_COLORS.sure), `fg ${i} on the line`);
    for (const dy of [-8, 8]) {
      assert.notEqual(
        hex(at(x, y + dy)),
        hex(PLOT_COLORS.sure),
        `fg ${i}: nothing of the line ${dy} px away`,
      );
    }
  }
  // Bigger bg indices sit higher.
  assert.ok(g.bgY(data.frameMap[280]) < g.bgY(data.frameMap[5]));
  // In the freeze the map stays flat while the predicted line climbs.
  const x = g.fgX(130);
  const expectedY = g.bgY(g.expectedBg(130));
  assert.ok(g.bgY(data.frameMap[130]) - expectedY > 10);
  assert.equal(hex(at(x, expectedY)), hex(PLOT_COLORS.fpsLine));
});

Deno.test("low-similarity stretches are coloured in the map line, its background and the bars", async () => {
  const data = scenario();
  const { at, g } = await draw(data);
  const cases = [
    { i: 215, line: PLOT_COLORS.noMatch, back: PLOT_COLORS.noMatchBackground },
    {
      i: 245,
      line: PLOT_COLORS.doubtful,
      back: PLOT_COLORS.doubtfulBackground,
    },
    { i: 70, line: PLOT_COLORS.sure, back: PLOT_COLORS.background },
  ];
  for (const { i, line, back } of cases) {
    const x = g.fgX(i), v = data.similarity[i];
    assert.equal(hex(at(x, g.bgY(data.frameMap[i]))), hex(line), `line ${i}`);
    assert.equal(hex(at(x, g.map.y + 3)), hex(back), `background ${i}`);
    assert.equal(hex(at(x, g.simY(v / 2))), hex(line), `bar ${i}`);
    assert.equal(hex(at(x, g.simY(v) - 3)), hex(PLOT_COLORS.background));
  }
});

Deno.test("a single bad frame among thousands still shows in its column", async () => {
  const n = 20000;
  const frameMap = new Int32Array(n).map((_, i) => i);
  const similarity = new Float32Array(n).fill(0.95);
  similarity[12345] = 0.1;
  const data = {
    frameMap,
    fgFps: 30,
    bgFps: 30,
    offsetSeconds: 0,
    similarity,
    thumbs: [],
  };
  const { at, g } = await draw(data);
  const x = g.fgX(12345);
  assert.equal(hex(at(x, g.simY(0.05))), hex(PLOT_COLORS.noMatch));
  assert.equal(hex(at(x, g.bgY(12345))), hex(PLOT_COLORS.noMatch));
  assert.equal(hex(at(x + 3, g.simY(0.05))), hex(PLOT_COLORS.sure));
  assert.equal(hex(at(x - 3, g.simY(0.05))), hex(PLOT_COLORS.sure));
});

Deno.test("the threshold line crosses the similarity panel; confidence shows only where validated", async () => {
  const data = scenario();
  const confidence = new Float32Array(data.frameMap.length).fill(NaN);
  for (let i = 0; i < 100; i++) confidence[i] = 0.3;
  const { at, g } = await draw({ ...data, confidence, threshold: 0.7 });
  for (const i of [10, 60, 215, 280]) {
    assert.equal(
      hex(at(g.fgX(i), g.simY(0.7))),
      hex(PLOT_COLORS.threshold),
      `threshold at fg ${i}`,
    );
  }
  assert.equal(hex(at(g.fgX(50), g.simY(0.3))), hex(PLOT_COLORS.confidence));
  assert.equal(hex(at(g.fgX(150), g.simY(0.3))), hex(PLOT_COLORS.sure));
  // 0.6 is below this threshold: no match.
  assert.equal(hex(at(g.fgX(245), g.simY(0.3))), hex(PLOT_COLORS.noMatch));
});

Deno.test("thumbnail pairs are drawn in their boxes and framed in their class colour", async () => {
  const data = scenario();
  const thumbs = [60, 215].map((i) => ({
    fgIndex: i,
    bgIndex: data.frameMap[i],
    fg: flat(64, 36, 200),
    bg: flat(64, 36, 60),
  }));
  const { at, g } = await draw({ ...data, thumbs });
  assert.equal(g.thumbs.length, 2);
  for (let k = 0; k < 2; k++) {
    const want = k === 0 ? PLOT_COLORS.sure : PLOT_COLORS.noMatch;
    for (
      const [box, gray] of [[g.thumbs[k].fg, 200], [
        g.thumbs[k].bg,
        60,
      ]] as const
    ) {
      const cx = box.x + (box.width >> 1), cy = box.y + (box.height >> 1);
      assert.equal(hex(at(cx, cy)), hex(gray * 0x010101));
      let x = cx;
      while (at(x, cy) === gray * 0x010101) x--;
      assert.equal(hex(at(x, cy)), hex(want), `frame of thumb ${k}`);
      assert.ok(x >= box.x - 2, "the image stays inside its box");
    }
  }
});

Deno.test("the font draws its glyphs", () => {
  const c = new Canvas(8, 5, 0xffffff);
  c.text(0, 0, "1", 0x000000, 1);
  // "1" is rows 010 110 010 010 111.
  const rows = [0, 1, 2, 3, 4].map((y) =>
    [0, 1, 2].map((x) => c.get(x, y) === 0 ? "1" : "0").join("")
  );
  assert.deepEqual(rows, ["010", "110", "010", "010", "111"]);
  assert.equal(c.get(3, 0), 0xffffff, "one column of space after a glyph");
});

Deno.test("similarity classes: no match below the threshold, sure from halfway to 1", () => {
  assert.equal(similarityClass(0.49, 0.5), 0);
  assert.equal(similarityClass(NaN, 0.5), 0);
  assert.equal(similarityClass(0.5, 0.5), 1);
  assert.equal(similarityClass(0.74, 0.5), 1);
  assert.equal(similarityClass(0.75, 0.5), 2);
});

Deno.test("thumbIndices spreads its picks and includes the worst frame when it fails", () => {
  const s = new Float32Array(100).fill(0.9);
  assert.deepEqual(thumbIndices(s, 5), [10, 30, 50, 70, 90]);
  s[42] = 0.1;
  assert.deepEqual(thumbIndices(s, 5), [10, 30, 42, 70, 90]);
});

Deno.test("bad plot data is refused with a RangeError", () => {
  const ok = scenario();
  assert.throws(
    () => plotGeometry({ ...ok, frameMap: new Int32Array(0) }),
    RangeError,
  );
  assert.throws(
    () => plotGeometry({ ...ok, similarity: new Float32Array(3) }),
    RangeError,
  );
  assert.throws(() => plotGeometry({ ...ok, fgFps: 0 }), RangeError);
  const thumb = {
    fgIndex: 0,
    bgIndex: 0,
    fg: flat(4, 4, 0),
    bg: flat(4, 4, 0),
  };
  assert.throws(
    () =>
      plotGeometry({
        ...ok,
        thumbs: Array.from({ length: MAX_THUMBS + 1 }, () => thumb),
      }),
    RangeError,
  );
});

Deno.test("writePlot writes a whole PNG, never over an input, and leaves no temporary file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "vidkompy_plot_" });
  try {
    const path = join(dir, "sub", "plot.png");
    await writePlot(path, scenario());
    const img = await decodePng(await Deno.readFile(path));
    assert.equal(img.width, PLOT_WIDTH);
    await assert.rejects(
      () => writePlot(path, scenario(), { inputs: [path] }),
      OutputError,
    );
    await assert.rejects(
      () => writePlot(path, scenario(), { overwrite: false }),
      OutputError,
    );
    const names = [];
    for await (const e of Deno.readDir(join(dir, "sub"))) names.push(e.name);
    assert.deepEqual(names, ["plot.png"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("plotDataOf shows same-moment thumbnails of the fg and of the bg under the placement", async () => {
  const spec = standardPairs.find((s) => s.name === "offset_crop") ??
    standardPairs[0];
  const pair = await makePair(spec, await fixtureDir());
  const result = await composite({ bg: pair.bg, fg: pair.fg, dryRun: true });
  const data = await plotDataOf(result, { thumbs: 4 });
  assert.equal(data.thumbs.length, 4);
  assert.equal(data.frameMap, result.frameMap);
  for (const t of data.thumbs) {
    assert.equal(t.bgIndex, result.frameMap[t.fgIndex]);
    assert.equal(t.fg.width, t.bg.width);
    assert.equal(t.fg.height, t.bg.height);
  }
  // The matched pair looks alike; the same fg frame against another
  // moment's bg does not (testsrc2 changes every frame).
  const [a, b] = [data.thumbs[0], data.thumbs[2]];
  const same = nccAt(a.bg, a.fg, 0, 0);
  const other = nccAt(b.bg, a.fg, 0, 0);
  assert.ok(same > 0.95, `matched thumbnails ncc ${same}`);
  assert.ok(same - other > 0.05, `ncc ${same} matched vs ${other} other`);
  const { img } = await draw(data);
  assert.equal(img.width, PLOT_WIDTH);
});
