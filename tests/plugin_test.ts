/**
 * User plugins: the example in examples/ keeps the fingerprinter contract,
 * is loaded by `--plugin`, chosen by `--fingerprint` and used end to end
 * (in the workers too); bad plugin paths fail with one clear line; a
 * locator registered in-process (no module a worker could load) still
 * serves a dry run.
 */

import { runDeno } from "./_cli.ts";
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { composite } from "../mod.ts";
import { Registry } from "../core/registry.ts";
import type { Locator } from "../core/types.ts";
import { plugin as templateLocator } from "../plugins/locator_template.ts";
import {
  createProfile,
  plugin,
  profileDefaults,
} from "../examples/fingerprint_profile.ts";
import {
  assertDistanceContract,
  assertFingerprinterPlugin,
  assertNoisyCloser,
  assertRejectsFormat,
  assertSlotLayout,
  flatFrame,
  mapFrame,
  noisy,
  scene,
} from "../plugins/_fingerprint_testing.ts";
import {
  assertAccurate,
  fixtureDir,
  makePair,
  standardPairs,
} from "./fixtures.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
const dir = await fixtureDir();
const INPUT = { width: 64, height: 64, channels: 1 } as const;

const cli = (args: string[]) =>
  runDeno(["run", "--allow-all", "cli.ts", ...args], { cwd: root });

Deno.test("the example profile fingerprinter keeps the fingerprinter contract", () => {
  const fp = assertFingerprinterPlugin(plugin, { size: 64, unknown: 1 }, {
    name: "profile",
    input: INPUT,
    coarse: false,
  });
  assert.equal(profileDefaults.size, 64);
  assertDistanceContract(
    fp,
    (k) => k === 0 ? flatFrame(INPUT, 90) : scene(INPUT, k),
    12,
  );
  assertSlotLayout(fp, scene(INPUT, 3));
  assertRejectsFormat(fp, { width: 32, height: 32, channels: 1 });
  assertNoisyCloser(fp, (k) => scene(INPUT, k + 1), (f, k) => noisy(f, 6, k), {
    count: 10,
    nearBelow: 0.02,
    farOverNear: 10,
  });
  // A regrade (brightness and contrast) leaves the profiles' shape alone.
  const f = scene(INPUT, 5);
  const t = fp.createTable(2);
  fp.compute(f, t, 0);
  fp.compute(mapFrame(f, (v) => v * 0.8 + 30), t, 1);
  assert.ok(fp.distance(t, 0, t, 1) < 1e-3, `${fp.distance(t, 0, t, 1)}`);
  assert.throws(() => createProfile({ size: 4 }), RangeError);
});

Deno.test("--plugin loads the example, --fingerprint picks it, and it aligns a pair end to end", async () => {
  // A regraded, noisy bg with freezes and drops: features differ enough
  // from the default fingerprint that its similarity shows which one ran.
  const spec = standardPairs.find((s) => s.name === "freeze_drop") ??
    standardPairs[0];
  const pair = await makePair(spec, dir);
  const report = join(dir, "plugin_report.json");
  await Deno.remove(report).catch(() => {});

  const unknown = await cli([
    "comp",
    pair.bg,
    pair.fg,
    "--fingerprint",
    "profile",
    "--dry-run",
    "--quiet",
  ]);
  assert.equal(unknown.code, 1, "without --plugin the name is unknown");
  assert.match(unknown.stderr, /unknown fingerprinter "profile"/);

  const r = await cli([
    "comp",
    "--plugin",
    "examples/fingerprint_profile.ts",
    "--fingerprint",
    "profile",
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
  assertAccurate(
    { frameMap: Int32Array.from(json.frame_map), placement: json.placement },
    pair,
  );
  assert.equal(json.plugins.fingerprint, "profile");

  // The same pair with the default fingerprint: had the plugin been
  // ignored, the similarities would be these.
  const builtin = await composite({ bg: pair.bg, fg: pair.fg, dryRun: true });
  let diff = 0;
  for (let i = 0; i < builtin.similarity.length; i++) {
    diff += Math.abs(json.similarity[i] - builtin.similarity[i]);
  }
  diff /= builtin.similarity.length;
  assert.ok(diff > 1e-3, `mean similarity difference ${diff}`);
});

Deno.test("a plugin path that does not exist fails with exit 1 and one clear line", async () => {
  const missing = "examples/no_such_plugin.ts";
  const r = await cli(["comp", "a.mp4", "b.mp4", "--plugin", missing]);
  assert.equal(r.code, 1);
  const lines = r.stderr.trim().split("\n");
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0], /^vidkompy: cannot load plugin module /);
  assert.ok(lines[0].includes(missing), lines[0]);
});

Deno.test("a module without a plugin export is refused with one clear line", async () => {
  const dirTmp = await Deno.makeTempDir({ prefix: "vidkompy_plugin_" });
  try {
    const path = join(dirTmp, "not_a_plugin.ts");
    await Deno.writeTextFile(path, "export const answer = 42;\n");
    const r = await cli(["comp", "a.mp4", "b.mp4", "--plugin", path]);
    assert.equal(r.code, 1);
    const lines = r.stderr.trim().split("\n");
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], /exports no `plugin` or `plugins`/);
  } finally {
    await Deno.remove(dirTmp, { recursive: true });
  }
});

Deno.test("a locator that embedding code registered in this process serves a dry run's exact placement here, not in the workers", async () => {
  // The workers build plugins from a module or a built-in name: this one
  // has neither, so its windows must be searched on the main thread.
  const reg = new Registry();
  let calls = 0;
  reg.register({
    kind: "locator",
    name: "counting",
    description: "the template locator, counting its searches",
    create: (o) => {
      const inner = templateLocator.create(o) as Locator;
      return {
        name: "counting",
        locate: (request) => {
          calls++;
          return inner.locate(request);
        },
        refine: (pairs, guess, radius) => inner.refine(pairs, guess, radius),
      };
    },
  });
  const spec = standardPairs.find((s) => s.name === "offset_crop") ??
    standardPairs[0];
  const pair = await makePair(spec, dir);
  const result = await composite({
    bg: pair.bg,
    fg: pair.fg,
    dryRun: true,
    registry: reg,
    locator: "counting",
  });
  assertAccurate(result, pair);
  assert.ok(calls > 0, "the registered locator searched");
});

Deno.test("workerSpec names what a worker can build: built-ins, and user plugins by their module", async () => {
  const reg = new Registry();
  assert.deepEqual(reg.workerSpec("locator", "template", { a: 1 }), {
    name: "template",
    options: { a: 1 },
    moduleUrl: undefined,
  });
  await reg.registerModule("examples/fingerprint_profile.ts");
  const spec = reg.workerSpec("fingerprinter", "profile");
  assert.match(
    spec?.moduleUrl ?? "",
    /^file:.*examples\/fingerprint_profile\.ts$/,
  );
  reg.register({ ...plugin, name: "inline" });
  assert.equal(reg.workerSpec("fingerprinter", "inline"), undefined);
  assert.equal(reg.workerSpec("locator", "nowhere"), undefined);
});
