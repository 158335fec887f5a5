import assert from "node:assert/strict";
import {
  formatBarLine,
  formatDuration,
  formatPlainLine,
  formatRate,
  ProgressRenderer,
} from "./progress.ts";

const ESC = String.fromCharCode(27);
/** Any SGR (colour/style) escape; cursor movement is not colour. */
const SGR = new RegExp(`${ESC}\\[[0-9;]*m`);

/** A clock the test moves by hand (milliseconds). */
function manualClock() {
  let now = 0;
  return {
    clock: () => now,
    set(ms: number) {
      now = ms;
    },
  };
}

Deno.test("durations and rates are short and exact", () => {
  assert.equal(formatDuration(0.44), "0.4s");
  assert.equal(formatDuration(59.9), "59.9s");
  assert.equal(formatDuration(65), "1m05s");
  assert.equal(formatDuration(3 * 3600 + 7 * 60 + 10), "3h07m");
  assert.equal(formatDuration(NaN), "?");
  assert.equal(formatRate(0.25), "0.3/s");
  assert.equal(formatRate(334.4), "334/s");
  assert.equal(formatRate(0), "-/s");
});

Deno.test("a plain line gives done/total, share, rate and ETA", () => {
  // 45 of 90 in 0.5 s: 90/s, 45 left → 0.5 s to go.
  assert.equal(
    formatPlainLine({ stage: "analyse fg", done: 45, total: 90, elapsed: 0.5 }),
    "analyse fg 45/90 50% 90/s eta 0.5s",
  );
  // 30 of 1200 in 10 s: 3/s, 1170 left → 390 s.
  assert.equal(
    formatPlainLine({ stage: "compose", done: 30, total: 1200, elapsed: 10 }),
    "compose 30/1200 3% 3.0/s eta 6m30s",
  );
  // Done: the time taken instead of an ETA.
  assert.equal(
    formatPlainLine({ stage: "align", done: 334, total: 334, elapsed: 2 }),
    "align 334/334 100% 167/s in 2.0s",
  );
  // Nothing measured yet: no rate, unknown ETA.
  assert.equal(
    formatPlainLine({ stage: "align", done: 0, total: 334, elapsed: 0 }),
    "align 0/334 0% -/s eta ?",
  );
});

Deno.test("a bar line fills in proportion and fits the terminal", () => {
  const f = { stage: "analyse bg", done: 30, total: 120, elapsed: 0.1 };
  assert.equal(
    formatBarLine(f, { color: false }),
    "analyse bg     [######------------------]  30/120  25%    300/s  eta 0.3s",
  );
  const narrow = formatBarLine(f, { color: false, columns: 40 });
  assert.equal(narrow.length, 39);
  assert.ok(
    "analyse bg     [######------------------]  30/120  25%    300/s  eta 0.3s"
      .startsWith(narrow),
  );
  const colored = formatBarLine(f, { color: true });
  assert.match(colored, SGR);
  assert.equal(
    colored.replaceAll(new RegExp(SGR, "g"), ""),
    formatBarLine(f, {
      color: false,
    }),
  );
});

Deno.test("plain lines come at most every 2 s per stage, and once at the end", () => {
  const t = manualClock();
  const r = new ProgressRenderer({
    mode: "lines",
    color: false,
    clock: t.clock,
  });
  const out: string[] = [];
  for (let ms = 0; ms <= 5000; ms += 250) {
    t.set(ms);
    out.push(r.update("compose", ms / 50, 100));
  }
  // 0..5000 ms, 100 units done at 5000: lines at 2000, 4000 and the end.
  assert.deepEqual(out.filter((s) => s !== ""), [
    "compose 40/100 40% 20/s eta 3.0s\n",
    "compose 80/100 80% 20/s eta 1.0s\n",
    "compose 100/100 100% 20/s in 5.0s\n",
  ]);
  // A repeated end report says nothing; a new run of the stage starts over.
  t.set(5100);
  assert.equal(r.update("compose", 100, 100), "");
  t.set(6000);
  assert.equal(r.update("compose", 10, 100), "");
  t.set(6500);
  assert.equal(
    r.update("compose", 100, 100),
    "compose 100/100 100% 200/s in 0.5s\n",
  );
  for (const line of out) assert.ok(!line.includes(ESC));
});

Deno.test("bars redraw one line per stage in place; finished stages and messages stay above", () => {
  const t = manualClock();
  const r = new ProgressRenderer({
    mode: "bar",
    color: false,
    clock: t.clock,
    columns: 100,
  });
  const bar = (stage: string, done: number, total: number, elapsed: number) =>
    formatBarLine({ stage, done, total, elapsed }, { color: false }) + "\n";
  const up = (n: number) => `${ESC}[${n}A\r${ESC}[J`;
  assert.equal(r.update("analyse fg", 0, 10), bar("analyse fg", 0, 10, 0));
  t.set(50);
  assert.equal(r.update("analyse fg", 1, 10), "", "throttled below 100 ms");
  // A new stage always draws: up over the one bar, then both.
  assert.equal(
    r.update("analyse bg", 0, 20),
    up(1) + bar("analyse fg", 1, 10, 0.05) + bar("analyse bg", 0, 20, 0),
  );
  t.set(150);
  assert.equal(
    r.update("analyse bg", 5, 20),
    up(2) + bar("analyse fg", 1, 10, 0.15) + bar("analyse bg", 5, 20, 0.1),
  );
  // A finished stage is drawn a last time and leaves the redrawn block.
  t.set(500);
  assert.equal(
    r.update("analyse fg", 10, 10),
    up(2) + bar("analyse fg", 10, 10, 0.5) + bar("analyse bg", 5, 20, 0.45),
  );
  // A message erases the one running bar; the next update draws it below.
  t.set(700);
  assert.equal(r.message("note: hello"), up(1) + "note: hello\n");
  assert.equal(r.message("more"), "more\n");
  t.set(900);
  assert.equal(r.update("analyse bg", 19, 20), bar("analyse bg", 19, 20, 0.85));
  // A stage that never ends leaves no bar under the last message.
  t.set(1000);
  assert.equal(r.message("summary"), up(1) + "summary\n");
});

Deno.test("NO_COLOR bars carry no colour codes; colour bars do", () => {
  for (const color of [false, true]) {
    const t = manualClock();
    const r = new ProgressRenderer({ mode: "bar", color, clock: t.clock });
    let all = "";
    for (let ms = 0; ms <= 1000; ms += 100) {
      t.set(ms);
      all += r.update("compose", ms / 10, 100);
    }
    all += r.message("done");
    assert.equal(SGR.test(all), color, all);
    assert.match(all, /compose .*100\/100/);
  }
});

Deno.test("off mode writes nothing but messages", () => {
  const r = new ProgressRenderer({ mode: "off", color: true });
  assert.equal(r.update("compose", 5, 10), "");
  assert.equal(r.update("compose", 10, 10), "");
  assert.equal(r.message("summary"), "summary\n");
});
