/**
 * End-to-end accuracy of `comp` on generated pairs with known truth: the
 * frame map (≥ 99% exact, never backwards) and the placement (exact).
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { composite } from "../mod.ts";
import { probe } from "../core/probe.ts";
import {
  fixtureDir,
  makePair,
  type PairSpec,
  scoreMap,
  standardPairs,
} from "./fixtures.ts";

const dir = await fixtureDir();

for (const spec of standardPairs) {
  Deno.test(`comp maps ≥ 99% of frames exactly and places the fg exactly: ${spec.name}`, async () => {
    const pair = await makePair(spec, dir);
    const result = await composite({ bg: pair.bg, fg: pair.fg, dryRun: true });
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
    assert.equal(result.placement.scale, 1);
    assert.ok(
      Math.abs(result.offsetSeconds - pair.truth.offsetSeconds) <
        1.5 / spec.bgFps,
      `offset ${result.offsetSeconds} vs ${pair.truth.offsetSeconds}`,
    );
  });
}

const base = standardPairs.find((s) => s.name === "fps_25_30") ??
  standardPairs[0];

Deno.test("comp writes bg-sized H.264 video with every fg frame at the fg rate and the fg audio", async () => {
  const pair = await makePair(base, dir);
  const out = join(dir, `out_${base.name}.mp4`);
  await Deno.remove(out).catch(() => {});
  const result = await composite({
    bg: pair.bg,
    fg: pair.fg,
    output: out,
    preset: "ultrafast",
  });
  assert.equal(result.output, out);
  const info = await probe(out);
  const bg = await probe(pair.bg);
  assert.equal(info.width, bg.width);
  assert.equal(info.height, bg.height);
  assert.equal(info.frames, pair.truth.fgFrames);
  assert.ok(Math.abs(info.fps - pair.truth.fgFps) < 1e-6);
  assert.equal(info.videoCodec, "h264");
  assert.equal(info.audio?.codec, "aac");
});

Deno.test("comp uses the bg audio shifted by the offset when the fg has none", async () => {
  const spec: PairSpec = {
    ...base,
    name: `${base.name}_bgaudio`,
    fgAudio: false,
    bgAudio: true,
  };
  const pair = await makePair(spec, dir);
  const out = join(dir, `out_${spec.name}.mp4`);
  await Deno.remove(out).catch(() => {});
  await composite({
    bg: pair.bg,
    fg: pair.fg,
    output: out,
    preset: "ultrafast",
  });
  const info = await probe(out);
  assert.equal(info.audio?.codec, "aac");
  assert.equal(info.frames, pair.truth.fgFrames);
  // The audio lasts as long as the video (trimmed at the fg's end).
  assert.ok(
    Math.abs(info.duration - pair.truth.fgFrames / pair.truth.fgFps) < 0.1,
  );
});
