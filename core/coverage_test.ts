import assert from "node:assert/strict";
import {
  describeStretches,
  outsideBg,
  uncoveredStretches,
} from "./coverage.ts";

function times(n: number, fps: number, start = 0): Float64Array {
  return Float64Array.from({ length: n }, (_, i) => start + i / fps);
}

Deno.test("outsideBg flags fg moments before and after the bg", () => {
  // fg 0..2 s at 10 fps; the bg shows moments 0.5..1.5 s (fg time + 0.2 s
  // offset lands on bg time): bg times 0..1 s at 10 fps, offset −0.5 s.
  const flags = outsideBg(times(20, 10), -0.5, times(11, 10), 10);
  const firstIn = flags.indexOf(0);
  const lastIn = flags.lastIndexOf(0);
  assert.equal(firstIn, 5); // fg 0.5 s → bg 0.0 s
  assert.equal(lastIn, 15); // fg 1.5 s → bg 1.0 s
});

Deno.test("uncoveredStretches finds leading and trailing runs", () => {
  const missing = new Uint8Array(20);
  missing.fill(1, 0, 5);
  missing.fill(1, 16);
  const s = uncoveredStretches(missing, times(20, 10), 3);
  assert.deepEqual(s.map((r) => [r.start, r.end]), [[0, 4], [16, 19]]);
  assert.equal(s[0].startSeconds, 0);
  assert.equal(s[0].endSeconds, 0.5);
  // The last run ends one frame after its last frame's time.
  assert.equal(Math.round(s[1].endSeconds * 1000), 2000);
  assert.equal(describeStretches(s), "0.00–0.50 s, 1.60–2.00 s");
});

Deno.test("uncoveredStretches ignores runs shorter than minFrames", () => {
  const missing = new Uint8Array(30);
  missing[10] = missing[11] = 1;
  assert.deepEqual(uncoveredStretches(missing, times(30, 25), 3), []);
  missing.fill(1, 20, 23);
  assert.deepEqual(
    uncoveredStretches(missing, times(30, 25), 3).map((r) => r.start),
    [20],
  );
});
