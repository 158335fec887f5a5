import assert from "node:assert/strict";
import { fgTimeExpression, timeRuns } from "./fg_timing.ts";

/** Evaluates an expression the way ffmpeg's setpts would, for frame n. */
function evaluate(expr: string, n: number): number {
  const js = expr.replaceAll(/gte\(N\\,(\d+)\)/g, "(N>=$1?1:0)");
  return new Function("N", `return ${js};`)(n) as number;
}

Deno.test("fgTimeExpression leaves a constant-rate fg alone (its N / rate times stay exact)", () => {
  const ntsc = Float64Array.from({ length: 900 }, (_, k) => k * 1001 / 30000);
  assert.equal(fgTimeExpression(ntsc, 900, 30000 / 1001), undefined);
  const offset = Float64Array.from({ length: 100 }, (_, k) => 3.5 + k / 25);
  assert.equal(fgTimeExpression(offset, 100, 25), undefined);
});

Deno.test("fgTimeExpression puts every frame of a variable-rate fg back at its own time", () => {
  // 30 fps with a 0.4 s pause, every seventh frame dropped, ±1 ms jitter.
  const times: number[] = [];
  for (let n = 0, k = 0; n < 300; n++) {
    if ((n >= 40 && n <= 52) || n % 7 === 3) continue;
    times.push(n / 30 + (k++ % 2 ? 0.001 : -0.001));
  }
  const rate = times.length / (times[times.length - 1] - times[0]);
  const expr = fgTimeExpression(times, times.length, rate);
  assert.ok(expr !== undefined);
  for (let k = 0; k < times.length; k++) {
    const want = times[k] - times[0];
    assert.ok(
      Math.abs(evaluate(expr, k) - want) <= 0.002 + 1e-9,
      `frame ${k}: ${evaluate(expr, k)} vs ${want}`,
    );
  }
});

Deno.test("timeRuns: one run for jitter within the tolerance, one more per pause", () => {
  const jitter = Array.from(
    { length: 200 },
    (_, k) => k / 30 + (k % 3 - 1) * 0.0005,
  );
  assert.equal(timeRuns(jitter, 200, 0.002).length, 1);
  const paused = jitter.map((t, k) => (k >= 100 ? t + 0.5 : t));
  const runs = timeRuns(paused, 200, 0.002);
  assert.equal(runs.length, 2);
  assert.equal(runs[1].start, 100);
  assert.ok(Math.abs(runs[0].step - 1 / 30) < 1e-4);
});

Deno.test("fgTimeExpression widens its tolerance rather than grow past 500 runs", () => {
  // Every frame on its own irregular step: no run of three fits 2 ms.
  const times = [0];
  for (let k = 1; k < 3000; k++) {
    times.push(times[k - 1] + (k % 2 ? 0.01 : 0.05));
  }
  const expr = fgTimeExpression(times, times.length, 1 / 0.03)!;
  assert.ok(expr.split("gte(").length - 1 < 500);
  // Still within a frame of every time.
  for (let k = 0; k < times.length; k += 97) {
    assert.ok(Math.abs(evaluate(expr, k) - times[k]) < 0.03);
  }
});
