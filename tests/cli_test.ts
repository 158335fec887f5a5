/**
 * The command line: flags, exit codes, clear failures, and that nothing is
 * overwritten or left behind.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { main, normaliseArgs } from "../cli.ts";
import { exists, fixtureDir, makePair, standardPairs } from "./fixtures.ts";

const dir = await fixtureDir();
const spec = standardPairs.find((s) => s.name === "offset_crop") ??
  standardPairs[0];

/** Runs the CLI as a child process (for exit codes and stderr text). */
async function cli(args: string[], env: Record<string, string> = {}) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      new URL("../cli.ts", import.meta.url).pathname,
      ...args,
    ],
    env: { NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
}

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
  ]);
  assert.equal(r.code, 0, r.stderr);
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
});

Deno.test("a missing input gives one clear line, exit 1 and no output", async () => {
  const out = join(dir, "never.mp4");
  const r = await cli([
    "comp",
    "--bg",
    join(dir, "nope.mp4"),
    "--fg",
    join(dir, "nope2.mp4"),
    "-o",
    out,
  ]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /not found/);
  assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
  assert.equal(await exists(out), false);
});

Deno.test("a file with no video stream is refused clearly", async () => {
  const audio = join(dir, "audio_only.m4a");
  if (!(await exists(audio))) {
    const gen = await new Deno.Command("ffmpeg", {
      args: [
        "-v",
        "error",
        "-y",
        "-f",
        "lavfi",
        "-i",
        "sine=d=1",
        "-c:a",
        "aac",
        audio,
      ],
    }).output();
    assert.ok(gen.success);
  }
  const pair = await makePair(spec, dir);
  const r = await cli(["comp", "--bg", audio, "--fg", pair.fg, "--dry-run"]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /no video stream/);
});

Deno.test("a missing ffmpeg names the fix", async () => {
  const pair = await makePair(spec, dir);
  const r = await cli(["comp", "--bg", pair.bg, "--fg", pair.fg, "--dry-run"], {
    VIDKOMPY_FFMPEG: "/nonexistent/ffmpeg",
  });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /ffmpeg was not found.*apt-get install ffmpeg/);
});

Deno.test("an existing output is kept unless --overwrite, and an input is never the output", async () => {
  const pair = await makePair(spec, dir);
  const out = join(dir, "existing.mp4");
  await Deno.writeTextFile(out, "keep me");
  const r = await cli(["comp", "--bg", pair.bg, "--fg", pair.fg, "-o", out]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /already exists.*--overwrite/);
  assert.equal(await Deno.readTextFile(out), "keep me");
  const same = await cli([
    "comp",
    "--bg",
    pair.bg,
    "--fg",
    pair.fg,
    "-o",
    pair.fg,
    "--overwrite",
  ]);
  assert.equal(same.code, 1);
  assert.match(same.stderr, /is one of the inputs/);
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
