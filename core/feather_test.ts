import assert from "node:assert/strict";
import {
  featherExpression,
  featherFilter,
  type FeatherSides,
  featherSides,
} from "./feather.ts";
import { decodeAll } from "./frame_reader.ts";
import { runText } from "./process.ts";

const BG = { width: 192, height: 128 };
const NONE: FeatherSides = {
  left: false,
  right: false,
  top: false,
  bottom: false,
};

Deno.test("featherSides feathers only edges strictly inside the bg", () => {
  assert.deepEqual(
    featherSides({ x: 10, y: 20, width: 100, height: 50 }, BG),
    { left: true, right: true, top: true, bottom: true },
  );
  // On the border: x = 0, right edge at 192, bottom edge at 128.
  assert.deepEqual(
    featherSides({ x: 0, y: 78, width: 192, height: 50 }, BG),
    { left: false, right: false, top: true, bottom: false },
  );
  // Beyond the border (the fg overhangs): nothing to blend into there.
  assert.deepEqual(
    featherSides({ x: -8, y: -4, width: 100, height: 200 }, BG),
    { left: false, right: true, top: false, bottom: false },
  );
});

Deno.test("featherExpression multiplies one ramp per feathered side", () => {
  assert.equal(
    featherExpression({ left: true, right: false, top: true, bottom: true }, 8),
    "255*clip(X/8,0,1)*clip(Y/8,0,1)*clip((H-1-Y)/8,0,1)",
  );
  assert.equal(featherExpression(NONE, 8), "255");
});

Deno.test("featherFilter passes through when nothing is feathered, rejects bad input", () => {
  const labels = { input: "f0", output: "f" };
  assert.equal(featherFilter(64, 48, NONE, 8, labels), "[f0]null[f]");
  assert.equal(
    featherFilter(64, 48, { ...NONE, left: true }, 0, labels),
    "[f0]null[f]",
  );
  assert.throws(
    () => featherFilter(64, 48, { ...NONE, left: true }, -1, labels),
    RangeError,
  );
  assert.throws(() => featherFilter(0, 48, NONE, 8, labels), RangeError);
});

/**
 * Composes a solid white fg of `fg` size over a black bg at (x, y) the way
 * compose.ts chains it (setpts, then the feather, then overlay), encodes
 * losslessly (FFV1) and returns every output frame as full-range gray.
 */
async function composeWhiteOnBlack(
  fg: { width: number; height: number },
  x: number,
  y: number,
  margin: number,
): Promise<Uint8Array[]> {
  const dir = await Deno.makeTempDir({ prefix: "vidkompy_feather_" });
  try {
    const out = `${dir}/out.mkv`;
    const sides = featherSides({ x, y, ...fg }, BG);
    const filter = `[1:v]setpts=N/(10)/TB[f0];` +
      featherFilter(fg.width, fg.height, sides, margin, {
        input: "f0",
        output: "f",
      }) +
      `;[0:v]setpts=N/(10)/TB[b];[b][f]overlay=x=${x}:y=${y}:eof_action=pass[v]`;
    await runText("ffmpeg", [
      "-hide_banner",
      "-v",
      "error",
      "-f",
      "lavfi",
      "-i",
      `color=c=black:s=${BG.width}x${BG.height}:r=10:d=0.5`,
      "-f",
      "lavfi",
      "-i",
      `color=c=white:s=${fg.width}x${fg.height}:r=10:d=0.5`,
      "-filter_complex",
      filter,
      "-map",
      "[v]",
      "-c:v",
      "ffv1",
      "-pix_fmt",
      "yuv420p",
      "-y",
      out,
    ]);
    return await decodeAll({
      path: out,
      format: { width: BG.width, height: BG.height, channels: 1 },
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Luma tolerance: limited→full range conversion rounds each way. */
const TOLERANCE = 3;

Deno.test("a feathered edge is a linear ramp over the margin on the sides over bg only", async () => {
  // 96×64 white at (96, 32): left, top and bottom lie over the black bg, the
  // right edge is on the bg border.
  const margin = 8, x0 = 96, y0 = 32, w = 96, h = 64;
  const frames = await composeWhiteOnBlack(
    { width: w, height: h },
    x0,
    y0,
    margin,
  );
  assert.equal(frames.length, 5);
  const near = (got: number, want: number, what: string) =>
    assert.ok(
      Math.abs(got - want) <= TOLERANCE,
      `${what}: got ${got}, want ${want.toFixed(1)}`,
    );
  // Every frame, the last included: the one-frame mask must be reused.
  for (const [n, f] of frames.entries()) {
    const at = (x: number, y: number) => f[y * BG.width + x];
    const midY = y0 + h / 2, midX = x0 + w / 2;
    near(at(x0 - 1, midY), 0, `frame ${n} bg left of the fg`);
    near(at(midX, midY), 255, `frame ${n} fg centre`);
    // Each feathered side: 0 on the edge, 255·k/margin k pixels in, then 255;
    // the corner is the product of its two sides' ramps.
    const ramps: [string, (k: number) => number][] = [
      ["left", (k) => at(x0 + k, midY)],
      ["top", (k) => at(midX, y0 + k)],
      ["bottom", (k) => at(midX, y0 + h - 1 - k)],
    ];
    for (const [side, value] of ramps) {
      let previous = -1;
      for (let k = 0; k <= margin + 4; k++) {
        const v = value(k);
        near(v, 255 * Math.min(1, k / margin), `frame ${n} ${side} +${k}`);
        assert.ok(v >= previous, `frame ${n} ${side} not monotonic at +${k}`);
        previous = v;
      }
    }
    for (let k = 0; k <= margin; k++) {
      near(at(x0 + k, y0 + k), 255 * (k / margin) ** 2, `frame ${n} corner`);
    }
    // The right side sits on the bg border: opaque up to the last column.
    for (let k = 0; k <= margin; k++) {
      near(at(BG.width - 1 - k, midY), 255, `frame ${n} right -${k}`);
    }
  }
});

Deno.test("an fg covering the whole bg is not feathered at all", async () => {
  const frames = await composeWhiteOnBlack(BG, 0, 0, 8);
  assert.equal(frames.length, 5);
  for (const f of frames) {
    let darkest = 255;
    for (const v of f) darkest = Math.min(darkest, v);
    assert.ok(darkest >= 255 - TOLERANCE, `darkest pixel ${darkest}`);
  }
});
