/**
 * The no-match verdict, through the CLI: a fg that is not in the bg stops
 * before composing with one line and exit code 3, and no output file, but
 * with the report and plot asked for (they show why); `--force` composes
 * anyway.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import {
  exists,
  fixtureDir,
  makePair,
  pipSpec,
  standardPairs,
} from "./fixtures.ts";
import { runCli } from "./_cli.ts";

const dir = await fixtureDir();

const run = (args: string[]) => runCli(["comp", ...args]);

const inputsTo = (bg: string, fg: string, output: string) => [
  "--bg",
  bg,
  "--fg",
  fg,
  "-o",
  output,
];

const pairOf = (name: string) =>
  makePair(standardPairs.find((s) => s.name === name)!, dir);

// testsrc2 bgs under a mandelbrot fg (thumbnails of both are smooth enough
// to look alike; pixels are not), and a slow pan under a testsrc2 crop.
for (
  const [bgName, fgName] of [["offset_crop", "mandel"], ["slow", "offset_crop"]]
) {
  Deno.test(`unrelated videos exit 3 with one line and no output: ${fgName} over ${bgName}`, async () => {
    const [bg, fg] = await Promise.all([pairOf(bgName), pairOf(fgName)]);
    const output = join(dir, `nomatch_${fgName}_${bgName}.mp4`);
    const report = join(dir, `nomatch_${fgName}_${bgName}.json`);
    const plot = join(dir, `nomatch_${fgName}_${bgName}.png`);
    for (const f of [output, report, plot]) {
      await Deno.remove(f).catch(() => {});
    }
    const r = await run([
      ...inputsTo(bg.bg, fg.fg, output),
      "--report",
      report,
      "--plot",
      plot,
      "-q",
    ]);
    assert.equal(r.code, 3, r.stderr);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    assert.match(r.stderr, /does not appear in the bg/);
    assert.doesNotMatch(r.stderr, /--unscaled false/); // not there at any size
    assert.equal(await exists(output), false);
    // The report and the plot say why: what was matched, and how badly.
    const json = JSON.parse(await Deno.readTextFile(report));
    assert.equal(json.verdict, "no match");
    assert.equal(json.output, null);
    assert.equal(json.frame_map.length, fg.truth.fgFrames);
    const pixels = json.validation?.mean;
    assert.ok(
      json.mean_similarity < 0.35 || pixels < 0.5,
      `similarity ${json.mean_similarity}, pixels ${pixels}`,
    );
    assert.equal(await exists(plot, true), true);
  });
}

Deno.test("--force composes unrelated videos anyway", async () => {
  const [bg, fg] = await Promise.all([pairOf("offset_crop"), pairOf("mandel")]);
  const output = join(dir, "nomatch_forced.mp4");
  await Deno.remove(output).catch(() => {});
  const r = await run([
    ...inputsTo(bg.bg, fg.fg, output),
    "--force",
    "--preset",
    "ultrafast",
    "-q",
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(await exists(output), true);
});

Deno.test("a picture in picture searched at 100% is a no-match that names the scale and the flag", async () => {
  const pair = await makePair(pipSpec, dir);
  const r = await run(["--bg", pair.bg, "--fg", pair.fg, "--dry-run", "-q"]);
  assert.equal(r.code, 3, r.stderr);
  assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
  // The truth is 62.5%.
  assert.match(r.stderr, /about 6[23]% of its size: pass --unscaled false/);
});
