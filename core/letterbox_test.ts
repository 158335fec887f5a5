import assert from "node:assert/strict";
import { clampByte, rng } from "../plugins/_fingerprint_testing.ts";
import { type GrayImage, resizeArea } from "./frame.ts";
import { decodeAll } from "./frame_reader.ts";
import { type ContentRect, detectContent, scaleRect } from "./letterbox.ts";
import { runText } from "./process.ts";

/** Bars of a synthetic frame, in pixels from each border. */
interface Bars {
  top: number;
  bottom: number;
  left: number;
  right: number;
}

const NO_BARS: Bars = { top: 0, bottom: 0, left: 0, right: 0 };

/**
 * A frame of textured content (moving blobs plus grain, different per seed)
 * inside bars of limited-range black with ±`barNoise` grain.
 */
function barred(
  width: number,
  height: number,
  bars: Bars,
  seed: number,
  options: { barNoise?: number; content?: (x: number, y: number) => number } =
    {},
): GrayImage {
  const random = rng(seed);
  const fx = 0.05 + 0.1 * random(), fy = 0.04 + 0.1 * random();
  const px = 6 * random(), py = 6 * random();
  const texture = options.content ??
    ((x: number, y: number) =>
      120 + 70 * Math.sin(fx * x + px) * Math.cos(fy * y + py) +
      30 * (random() - 0.5));
  const noise = options.barNoise ?? 0;
  const data = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const bar = y < bars.top || y >= height - bars.bottom ||
        x < bars.left || x >= width - bars.right;
      data[y * width + x] = clampByte(
        bar ? 16 + noise * (2 * random() - 1) : texture(x, y),
      );
    }
  }
  return { width, height, data };
}

function frames(
  count: number,
  width: number,
  height: number,
  bars: Bars,
  options?: { barNoise?: number },
): GrayImage[] {
  return Array.from(
    { length: count },
    (_, k) => barred(width, height, bars, 100 + k, options),
  );
}

/** The rect that the bars leave. */
function inside(width: number, height: number, b: Bars): ContentRect {
  return {
    x: b.left,
    y: b.top,
    width: width - b.left - b.right,
    height: height - b.top - b.bottom,
  };
}

Deno.test("letterbox bars are found exactly", () => {
  const bars = { ...NO_BARS, top: 11, bottom: 13 };
  assert.deepEqual(
    detectContent(frames(5, 160, 90, bars)),
    inside(160, 90, bars),
  );
});

Deno.test("pillarbox bars are found exactly", () => {
  const bars = { ...NO_BARS, left: 20, right: 17 };
  assert.deepEqual(
    detectContent(frames(5, 160, 90, bars)),
    inside(160, 90, bars),
  );
});

Deno.test("letterbox and pillarbox together are found exactly", () => {
  const bars = { top: 7, bottom: 9, left: 14, right: 12 };
  assert.deepEqual(
    detectContent(frames(5, 160, 90, bars)),
    inside(160, 90, bars),
  );
});

Deno.test("a frame without bars is content everywhere", () => {
  assert.deepEqual(
    detectContent(frames(5, 160, 90, NO_BARS)),
    inside(160, 90, NO_BARS),
  );
});

Deno.test("grain on the bars does not hide them", () => {
  const bars = { top: 10, bottom: 10, left: 6, right: 6 };
  assert.deepEqual(
    detectContent(frames(6, 160, 90, bars, { barNoise: 8 })),
    inside(160, 90, bars),
  );
});

Deno.test("a very dark scene does not shrink the content", () => {
  const bars = { ...NO_BARS, top: 11, bottom: 11 };
  const set = frames(4, 160, 90, bars);
  // Two frames of a near-black scene (as flat and dark as the bars) and one
  // whose upper third is black: alone, each would look like bars.
  for (const seed of [7, 8]) {
    set.push(barred(160, 90, bars, seed, { content: () => 14 }));
  }
  set.push(
    barred(160, 90, bars, 9, {
      content: (x, y) => y < 40 ? 15 : 100 + (x % 7) * 10,
    }),
  );
  assert.deepEqual(detectContent(set), inside(160, 90, bars));
  // The dark frames alone cannot tell bars from picture.
  const dark = set.slice(4, 6);
  assert.deepEqual(detectContent(dark), inside(160, 90, NO_BARS));
});

Deno.test("a dark textured scene is content, not bar", () => {
  const bars = { ...NO_BARS, left: 16, right: 16 };
  const set = Array.from(
    { length: 4 },
    (_, k) =>
      barred(160, 90, bars, 20 + k, {
        // Mean ≈ 20 (below the black level) but with picture texture.
        content: (x, y) => 20 + 18 * Math.sin(0.9 * x + k) * Math.cos(0.7 * y),
      }),
  );
  // Not one textured line is taken as bar. This texture repeats every 7
  // columns, so a line next to a bar may measure as a partial blend and be
  // trimmed by a fraction (never by a whole line): the trim errs inward.
  const rect = detectContent(set);
  assert.deepEqual([rect.y, rect.height], [0, 90]);
  assert.ok(rect.x >= 16 && rect.x < 17, `left ${rect.x}`);
  const right = rect.x + rect.width;
  assert.ok(right <= 144 && right > 143, `right ${right}`);
});

Deno.test("a black video keeps its whole frame", () => {
  const black = Array.from(
    { length: 3 },
    (_, k) =>
      barred(64, 36, { top: 36, bottom: 0, left: 0, right: 0 }, k, {
        barNoise: 3,
      }),
  );
  assert.deepEqual(detectContent(black), inside(64, 36, NO_BARS));
});

Deno.test("a bar edge blended into an analysis line is trimmed by its share", () => {
  // Full-size bars of 45 and 47 rows, scaled by 1/4 the way ffmpeg's area
  // scaler does: row 11 is a quarter bar, row 78 three quarters.
  const bars = { ...NO_BARS, top: 45, bottom: 47 };
  const small = frames(6, 640, 360, bars).map((f) => {
    const r = resizeArea({ ...f, channels: 1 }, 160, 90);
    return { width: r.width, height: r.height, data: r.data };
  });
  const rect = detectContent(small);
  assert.ok(Math.abs(rect.y - 45 / 4) < 0.1, `top ${rect.y}`);
  const bottom = rect.y + rect.height;
  assert.ok(Math.abs(bottom - (360 - 47) / 4) < 0.1, `bottom ${bottom}`);
  // Back at full size no bar line is kept, and at most one even step lost.
  const full = scaleRect(rect, { width: 160, height: 90 }, {
    width: 640,
    height: 360,
  });
  assert.equal(full.y, 46);
  assert.equal(full.y + full.height, 312);
  assert.deepEqual([full.x, full.width], [0, 640]);
});

Deno.test("a flat gray rule along the bar edge is trimmed whole", () => {
  const bars = { ...NO_BARS, top: 10, bottom: 10 };
  const set = frames(5, 160, 90, bars).map((f) => {
    const data = f.data.slice();
    data.fill(60, 10 * 160, 11 * 160); // rule under the top bar
    data.fill(45, 79 * 160, 80 * 160); // rule over the bottom bar
    return { ...f, data };
  });
  assert.deepEqual(detectContent(set), { x: 0, y: 11, width: 160, height: 68 });
});

Deno.test("detectContent rejects no frames and mixed sizes", () => {
  assert.throws(() => detectContent([]), RangeError);
  assert.throws(
    () =>
      detectContent([barred(32, 18, NO_BARS, 1), barred(18, 32, NO_BARS, 1)]),
    RangeError,
  );
});

Deno.test("scaleRect maps exact edges exactly and blended ones inward to even", () => {
  const from = { width: 160, height: 90 }, to = { width: 640, height: 360 };
  assert.deepEqual(
    scaleRect({ x: 0, y: 11, width: 160, height: 68 }, from, to),
    { x: 0, y: 44, width: 640, height: 272 },
  );
  // 10.3 → 41.2 → 42; 79.6 → 318.4 → 318; 5.5 → 22; 150.2 → 600.8 → 600.
  assert.deepEqual(
    scaleRect({ x: 5.5, y: 10.3, width: 144.7, height: 69.3 }, from, to),
    { x: 22, y: 42, width: 578, height: 276 },
  );
  // An odd-sized target: the far border drops a line to stay even.
  assert.deepEqual(
    scaleRect(
      { x: 0, y: 0, width: 64, height: 36 },
      { width: 64, height: 36 },
      {
        width: 1279,
        height: 719,
      },
    ),
    { x: 0, y: 0, width: 1278, height: 718 },
  );
  // Never empty, even for a sliver.
  const thin = scaleRect({ x: 10, y: 10, width: 0.2, height: 0.2 }, from, {
    width: 160,
    height: 90,
  });
  assert.deepEqual([thin.width, thin.height], [2, 2]);
  assert.ok(thin.x % 2 === 0 && thin.y % 2 === 0);
});

Deno.test("bars of an ffmpeg-made letterboxed and pillarboxed clip are found exactly", async () => {
  const dir = await Deno.makeTempDir({ prefix: "vidkompy_letterbox_" });
  try {
    const clip = `${dir}/boxed.mp4`;
    // 560×272 picture padded into 640×360: bars 40 left/right, 44 top/bottom.
    await runText("ffmpeg", [
      "-hide_banner",
      "-v",
      "error",
      "-f",
      "lavfi",
      "-i",
      "testsrc2=size=560x272:rate=10:duration=3",
      "-vf",
      "pad=640:360:40:44:black",
      "-c:v",
      "libx264",
      "-preset",
      "veryfast",
      "-crf",
      "23",
      "-pix_fmt",
      "yuv420p",
      "-y",
      clip,
    ]);
    const truth = { x: 40, y: 44, width: 560, height: 272 };
    const decode = async (width: number, height: number) =>
      (await decodeAll({ path: clip, format: { width, height, channels: 1 } }))
        .filter((_, k) => k % 3 === 0)
        .map((data) => ({ width, height, data }));

    // Full size: the exact bars.
    assert.deepEqual(detectContent(await decode(640, 360)), truth);
    // Analysis size 1/4: 10 and 11 lines, exactly, and back at full size.
    const quarter = detectContent(await decode(160, 90));
    assert.deepEqual(quarter, { x: 10, y: 11, width: 140, height: 68 });
    assert.deepEqual(
      scaleRect(quarter, { width: 160, height: 90 }, {
        width: 640,
        height: 360,
      }),
      truth,
    );
    // A ratio that splits lines (×3.0047): no bar pixel kept, at most one
    // even step of picture lost per side.
    const odd = scaleRect(
      detectContent(await decode(213, 120)),
      { width: 213, height: 120 },
      { width: 640, height: 360 },
    );
    assert.ok(odd.x >= 40 && odd.x <= 42, `x ${odd.x}`);
    assert.ok(odd.y >= 44 && odd.y <= 46, `y ${odd.y}`);
    const right = odd.x + odd.width, bottom = odd.y + odd.height;
    assert.ok(right <= 600 && right >= 598, `right ${right}`);
    assert.ok(bottom <= 316 && bottom >= 314, `bottom ${bottom}`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
