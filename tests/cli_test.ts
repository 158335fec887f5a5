/**
 * The command line: flags, exit codes, the report, progress output. Failures
 * (bad inputs, outputs, ffmpeg, signals) are in failure_test.ts.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { main, normaliseArgs } from "../cli.ts";
import { fixtureDir, makePair, standardPairs } from "./fixtures.ts";
import { CLI, runCli } from "./_cli.ts";

const dir = await fixtureDir();
const spec = standardPairs.find((s) => s.name === "offset_crop") ??
  standardPairs[0];

const cli = runCli;

Deno.test("snake_case flags of the original are accepted", () => {
  assert.deepEqual(
    normaliseArgs(["--temporal_align", "dtw", "--x_shift=3", "-o", "a_b.mp4"]),
    ["--temporal-align", "dtw", "--x-shift=3", "-o", "a_b.mp4"],
  );
});

Deno.test("comp --dry-run --report writes the report with the frame map and timings", async () => {
  const pair = await makePair(spec, dir);
  const report = join(dir, "cli_report.json");
  const r = await cli([
    "comp",
    "--bg",
    pair.bg,
    "--fg",
    pair.fg,
    "--dry-run",
    "--report",
    report,
    "--quiet",
    "--progress",
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(
    r.stderr,
    "",
    "--quiet wins over --progress: no stage lines, no summary",
  );
  const json = JSON.parse(await Deno.readTextFile(report));
  assert.equal(json.frame_map.length, pair.truth.fgFrames);
  assert.equal(json.similarity.length, pair.truth.fgFrames);
  assert.equal(json.placement.x, pair.truth.x);
  assert.equal(json.placement.y, pair.truth.y);
  assert.equal(typeof json.offset_seconds, "number");
  assert.ok(
    Math.abs(json.fps_ratio - pair.truth.bgFps / pair.truth.fgFps) < 1e-6,
  );
  assert.equal(typeof json.timings.total, "number");
  assert.deepEqual(json.plugins, {
    aligner: "dtw",
    fingerprint: "thumb",
    mapper: "interp",
    locator: "template",
    validator: "msssim",
  });
});

Deno.test("--progress without a terminal prints plain stage lines, no colour", async () => {
  const pair = await makePair(spec, dir);
  const r = await cli([
    "comp",
    "--bg",
    pair.bg,
    "--fg",
    pair.fg,
    "--dry-run",
    "--progress",
  ], { NO_COLOR: "" });
  assert.equal(r.code, 0, r.stderr);
  // Every stage ends with one line giving its count and time taken.
  for (
    const [stage, total] of [
      ["analyse fg", pair.truth.fgFrames],
      ["analyse bg", pair.truth.bgFrames],
    ] as const
  ) {
    const ends = r.stderr.split("\n").filter((l) =>
      l.startsWith(`${stage} ${total}/${total} 100% `)
    );
    assert.equal(ends.length, 1, `${stage} ends once:\n${r.stderr}`);
    assert.match(ends[0], / \d+(\.\d)?\/s in \d+\.\ds$/);
  }
  // These may run again after the placement is pinned.
  assert.match(r.stderr, /^fingerprint bg \d+\/\d+ 100% /m);
  assert.match(r.stderr, /^align \d+\/\d+ 100% /m);
  // No terminal: no redraws and no colour, even with NO_COLOR unset.
  assert.ok(!r.stderr.includes("\x1b"), "no escape codes");
  assert.ok(!r.stderr.includes("\r"), "no carriage returns");
  assert.match(r.stderr, /^placement /m, "the summary follows");
});

Deno.test("on a terminal, stages are bars redrawn in place, without colour under NO_COLOR", async () => {
  const pair = await makePair(spec, dir);
  // script(1) runs the CLI on a pseudo-terminal and copies what it shows.
  const quote = (a: string) => `'${a.replaceAll("'", `'\\''`)}'`;
  const line = [
    Deno.execPath(),
    "run",
    "--allow-all",
    CLI,
    "comp",
    "--bg",
    pair.bg,
    "--fg",
    pair.fg,
    "--dry-run",
  ].map(quote).join(" ");
  const out = await new Deno.Command("script", {
    args: ["-qec", line, "/dev/null"],
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const screen = new TextDecoder().decode(out.stdout);
  assert.equal(out.code, 0, screen);
  const esc = String.fromCharCode(27);
  const n = pair.truth.bgFrames;
  assert.match(screen, new RegExp(`analyse bg +\\[#{24}\\] +${n}/${n} 100%`));
  assert.ok(screen.includes(`${esc}[1A\r${esc}[J`), "moves up and redraws");
  assert.doesNotMatch(
    screen,
    new RegExp(`${esc}\\[[0-9;]*m`),
    "no colour codes with NO_COLOR",
  );
  assert.match(screen, /placement /);
});

Deno.test("bad flag values exit 2 with a usage message", async () => {
  const code = await main([
    "comp",
    "--bg",
    "a.mp4",
    "--fg",
    "b.mp4",
    "--crf",
    "99",
  ]);
  assert.equal(code, 2);
  const unknown = await main([
    "comp",
    "--bg",
    "a.mp4",
    "--fg",
    "b.mp4",
    "--temporal-align",
    "nope",
  ]);
  assert.equal(unknown, 1);
});

Deno.test("--help lists the registered plugins", async () => {
  const r = await cli(["comp", "--help"]);
  assert.equal(r.code, 0);
  for (
    const name of [
      "phash",
      "ahash",
      "dhash",
      "colormoment",
      "histogram",
      "thumb",
      "dtw",
    ]
  ) {
    assert.match(r.stdout, new RegExp(name));
  }
});
