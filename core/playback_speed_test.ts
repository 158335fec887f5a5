import assert from "node:assert/strict";
import { sameFramesFactor, scaledTimeline } from "./playback_speed.ts";

Deno.test("sameFramesFactor: only rates a retiming apart (≤ 5%) can be the same frames", () => {
  assert.equal(sameFramesFactor(24, 25), 24 / 25);
  assert.equal(sameFramesFactor(30000 / 1001, 30), 1000 / 1001);
  assert.equal(sameFramesFactor(25, 24), 25 / 24);
  assert.equal(sameFramesFactor(30, 30), undefined);
  assert.equal(sameFramesFactor(25, 30), undefined);
  assert.equal(sameFramesFactor(24, 60), undefined);
});

Deno.test("scaledTimeline puts fg frames on the bg's frame clock", () => {
  const line = {
    count: 3,
    fps: 24,
    times: Float64Array.of(0, 1 / 24, 2 / 24),
  };
  assert.equal(scaledTimeline(line, 1), line);
  const onBg = scaledTimeline(line, 24 / 25);
  assert.equal(onBg.fps, 25);
  for (let k = 0; k < 3; k++) {
    assert.ok(Math.abs(onBg.times[k] - k / 25) < 1e-12);
  }
});
