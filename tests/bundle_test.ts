/**
 * The single-file build: `deno task bundle` writes dist/vidkompy.js and its
 * worker, and a comp run through the bundle (least permissions, outside the
 * repository, so no deno.json or import map helps) maps a generated pair
 * as exactly as the source does, with built-in and user plugins.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { BUNDLE, rewriteWorkerRefs, WORKERS } from "../tools/bundle.ts";
import {
  fixtureDir,
  makePair,
  type Pair,
  scoreMap,
  standardPairs,
} from "./fixtures.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
const dist = join(root, "dist");
const spec = standardPairs.find((s) => s.name === "offset_crop") ??
  standardPairs[0];

/** The bundle task, run once for every test that needs it. */
let build: Promise<Deno.CommandOutput> | undefined;
function bundleTask(): Promise<Deno.CommandOutput> {
  build ??= new Deno.Command(Deno.execPath(), {
    args: ["task", "bundle"],
    cwd: root,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  return build;
}

async function builtBundle(): Promise<string> {
  const out = await bundleTask();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  return join(dist, BUNDLE);
}

/** Runs the bundle with the CLI's least permissions from a folder without a deno.json. */
async function runBundle(args: string[]) {
  const bundle = await builtBundle();
  const cwd = await Deno.makeTempDir({ prefix: "vidkompy_bundle_" });
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-read",
        "--allow-write",
        "--allow-run=ffmpeg,ffprobe",
        "--allow-env",
        bundle,
        ...args,
      ],
      cwd,
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    return {
      code: out.code,
      stdout: new TextDecoder().decode(out.stdout),
      stderr: new TextDecoder().decode(out.stderr),
    };
  } finally {
    await Deno.remove(cwd, { recursive: true });
  }
}

function assertMapsTruth(json: { frame_map: number[] }, pair: Pair): void {
  const score = scoreMap(json.frame_map, pair.truth);
  assert.equal(score.total, json.frame_map.length);
  assert.equal(score.backwardSteps, 0);
  assert.ok(
    score.exactRatio >= 0.99,
    `${score.exact}/${score.total} exact: ${JSON.stringify(score.worst)}`,
  );
}

Deno.test("bundling points worker references at the bundled workers and refuses unknown ones", () => {
  const code = `a(new URL("./fingerprint_worker.ts", import.meta.url));\n` +
    `b(new URL('./fingerprint_worker.ts',import.meta.url));`;
  const r = rewriteWorkerRefs(code, ["core/fingerprint_worker.ts"]);
  assert.equal(
    r.code,
    `a(new URL("./fingerprint_worker.js", import.meta.url));\n` +
      `b(new URL('./fingerprint_worker.js', import.meta.url));`,
  );
  assert.deepEqual([...r.referenced], ["fingerprint_worker"]);
  assert.throws(
    () => rewriteWorkerRefs(`new URL("./other.ts", import.meta.url)`, WORKERS),
    /other\.ts/,
  );
});

Deno.test("deno task bundle writes dist/vidkompy.js and its workers beside it", async () => {
  const bundle = await builtBundle();
  const code = await Deno.readTextFile(bundle);
  for (const w of WORKERS) {
    const name = w.slice(w.lastIndexOf("/") + 1, -3);
    const worker = join(dist, `${name}.js`);
    assert.ok((await Deno.stat(worker)).size > 0, `${worker} is written`);
    assert.ok(code.includes(`"./${name}.js"`), `the bundle starts ${name}.js`);
    assert.ok(!code.includes(`"./${name}.ts"`), `no reference to ${name}.ts`);
  }
  // Built-in plugins are inside, not imported from the source tree.
  assert.ok(!/from\s+["'][^"']*\.ts["']/.test(code), "no .ts imports remain");
  assert.ok(!/import\(["'][^"']*plugins\//.test(code));
});

Deno.test("comp through the bundle maps a generated pair exactly", async () => {
  const pair = await makePair(spec, await fixtureDir());
  const r = await runBundle([
    "comp",
    pair.bg,
    pair.fg,
    "--dry-run",
    "--json",
    "--quiet",
  ]);
  assert.equal(r.code, 0, r.stderr);
  const json = JSON.parse(r.stdout);
  assertMapsTruth(json, pair);
  assert.equal(json.placement.x, pair.truth.x);
  assert.equal(json.placement.y, pair.truth.y);
});

Deno.test("a user plugin runs through the bundle and its workers", async () => {
  const pair = await makePair(spec, await fixtureDir());
  const plugin = join(root, "examples", "fingerprint_profile.ts");
  const r = await runBundle([
    "comp",
    pair.bg,
    pair.fg,
    "--plugin",
    plugin,
    "--fingerprint",
    "profile",
    "--dry-run",
    "--json",
    "--quiet",
  ]);
  assert.equal(r.code, 0, r.stderr);
  assertMapsTruth(JSON.parse(r.stdout), pair);
  // Without the plugin the bundle does not know the name.
  const without = await runBundle([
    "comp",
    pair.bg,
    pair.fg,
    "--fingerprint",
    "profile",
    "--dry-run",
  ]);
  assert.equal(without.code, 1);
  assert.match(without.stderr, /unknown fingerprinter "profile"/);
});
