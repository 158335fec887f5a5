/**
 * `deno task bundle`: builds `dist/vidkompy.js`, the CLI and everything it
 * imports (built-in plugins and npm packages included) in one file, plus one
 * bundled file per worker beside it, e.g. `dist/fingerprint_worker.js`.
 *
 * ```sh
 * deno task bundle
 * deno run --allow-read --allow-write --allow-run=ffmpeg,ffprobe --allow-env dist/vidkompy.js comp BG.mp4 FG.mp4
 * ```
 *
 * Workers are started from `new URL("./name.ts", import.meta.url)`, which a
 * bundler leaves alone; in the bundle `import.meta.url` is the bundle's own
 * URL, so each such reference is pointed at the worker's bundled `.js`
 * beside it. A reference to a worker not listed in {@link WORKERS} (or a
 * listed worker nobody references) fails the build rather than shipping a
 * bundle whose workers cannot start.
 *
 * Files are built in a scratch folder and moved into place only when all of
 * them succeeded. Usage: `deno run -A tools/bundle.ts [OUT_DIR]` (default
 * `dist`).
 *
 * @module
 */

import { basename, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The CLI entry point, relative to the repository root. */
export const ENTRY = "cli.ts";
/** The bundle's file name. */
export const BUNDLE = "vidkompy.js";
/** Worker modules, relative to the repository root. */
export const WORKERS: readonly string[] = [
  "core/fingerprint_worker.ts",
  "core/validate_worker.ts",
  "plugins/locator_template_worker.ts",
];

const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** Worker references as the bundler leaves them: `new URL("./x.ts", import.meta.url)`. */
const WORKER_REF = /new URL\((["'])\.\/([\w.-]+)\.ts\1,\s*import\.meta\.url\)/g;

async function denoBundle(entry: string, output: string): Promise<void> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "bundle",
      "--quiet",
      "--platform",
      "deno",
      "--output",
      output,
      join(ROOT, entry),
    ],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    // Deno appends an empty backtrace to its errors: noise here.
    const text = new TextDecoder().decode(out.stderr)
      .replace(/\n*Stack backtrace:\n(\s+\d+: .*\n?)*/g, "\n").trim();
    const hint = text.includes('".node" files')
      ? "\nhint: a module imports imagescript's main entry (`Image`), which loads a native addon; use its pure-JS parts (imagescript/v2/framebuffer.mjs for PNG) or ffmpeg"
      : "";
    throw new Error(`deno bundle ${entry} failed:\n${text}${hint}`);
  }
}

/**
 * Points worker references in bundled code at the bundled workers; returns
 * the rewritten code and the worker names it referenced.
 */
export function rewriteWorkerRefs(
  code: string,
  workers: readonly string[],
): { code: string; referenced: Set<string> } {
  const names = new Set(workers.map((w) => basename(w, ".ts")));
  const referenced = new Set<string>();
  const rewritten = code.replace(WORKER_REF, (_m, quote, name) => {
    if (!names.has(name)) {
      throw new Error(
        `the bundle starts a worker ./${name}.ts that tools/bundle.ts does not build (add it to WORKERS)`,
      );
    }
    referenced.add(name);
    return `new URL(${quote}./${name}.js${quote}, import.meta.url)`;
  });
  return { code: rewritten, referenced };
}

/** Builds the bundle and its workers into `outDir`; returns the files written. */
export async function bundle(outDir = join(ROOT, "dist")): Promise<string[]> {
  outDir = resolve(outDir);
  await Deno.mkdir(outDir, { recursive: true });
  const scratch = await Deno.makeTempDir({ dir: outDir, prefix: ".bundle-" });
  try {
    const targets = [
      { entry: ENTRY, file: BUNDLE },
      ...WORKERS.map((w) => ({ entry: w, file: `${basename(w, ".ts")}.js` })),
    ];
    for (const t of targets) await denoBundle(t.entry, join(scratch, t.file));
    const referenced = new Set<string>();
    for (const t of targets) {
      const path = join(scratch, t.file);
      const r = rewriteWorkerRefs(await Deno.readTextFile(path), WORKERS);
      for (const name of r.referenced) referenced.add(name);
      await Deno.writeTextFile(path, r.code);
    }
    for (const w of WORKERS) {
      if (!referenced.has(basename(w, ".ts"))) {
        throw new Error(
          `no bundled code starts the worker ${w}: its reference was not found (was it written as new URL("./name.ts", import.meta.url)?)`,
        );
      }
    }
    const written: string[] = [];
    for (const t of targets) {
      const dest = join(outDir, t.file);
      await Deno.rename(join(scratch, t.file), dest);
      written.push(dest);
    }
    return written;
  } finally {
    await Deno.remove(scratch, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) {
  try {
    const files = await bundle(Deno.args[0]);
    for (const f of files) {
      const kb = (await Deno.stat(f)).size / 1024;
      console.log(`${f} (${kb.toFixed(0)} KB)`);
    }
  } catch (err) {
    console.error(`bundle: ${err instanceof Error ? err.message : err}`);
    Deno.exit(1);
  }
}
