/**
 * Failure without loss: bad inputs, guarded outputs, a missing or dying
 * ffmpeg, SIGINT/SIGTERM mid-run and awkward file names, each through the
 * real CLI in a child process. The cases check the exit code, that stderr
 * holds one clear line (no stack), that no output or temporary file is left
 * behind, that no ffmpeg outlives the run, and that the inputs are untouched.
 */

import assert from "node:assert/strict";
import { basename, delimiter, join } from "node:path";
import { fileURLToPath } from "node:url";
import { probe } from "../core/probe.ts";
import { exists, fixtureDir, makePair, standardPairs } from "./fixtures.ts";

const CLI = fileURLToPath(new URL("../cli.ts", import.meta.url));
const spec = standardPairs.find((s) => s.name === "offset_crop") ??
  standardPairs[0];
/** Fixed placement of `offset_crop` (skips the spatial search for speed). */
const PLACED = ["-x", String(spec.crop.x), "-y", String(spec.crop.y)];

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

interface CliOptions {
  env?: Record<string, string>;
  cwd?: string;
  /** Run in a new process group (see {@link command}). */
  group?: boolean;
}

function command(args: string[], options: CliOptions): Deno.Command {
  const argv = ["run", "--allow-all", CLI, ...args];
  // setsid gives the CLI a process group of its own, which a test can
  // signal as a terminal's Ctrl-C does (the CLI and its ffmpeg children).
  return new Deno.Command(options.group ? which("setsid") : Deno.execPath(), {
    args: options.group ? [Deno.execPath(), ...argv] : argv,
    env: { NO_COLOR: "1", ...options.env },
    cwd: options.cwd,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  });
}

/** Runs the CLI to its end. */
async function cli(args: string[], options: CliOptions = {}): Promise<Run> {
  const out = await command(args, options).output();
  const text = new TextDecoder();
  return {
    code: out.code,
    stdout: text.decode(out.stdout),
    stderr: text.decode(out.stderr),
  };
}

/** Starts the CLI; `run` settles when it exits. */
function startCli(args: string[], options: CliOptions = {}) {
  const child = command(args, options).spawn();
  const text = new TextDecoder();
  const run: Promise<Run> = Promise.all([
    child.status,
    new Response(child.stdout).arrayBuffer(),
    new Response(child.stderr).arrayBuffer(),
  ]).then(([s, o, e]) => ({
    code: s.code,
    stdout: text.decode(o),
    stderr: text.decode(e),
  }));
  return { child, run };
}

/** Asserts the one-clear-line failure shape: exit 1, `vidkompy: …`, no stack. */
function assertOneLine(r: Run, pattern: RegExp, code = 1): void {
  assert.equal(r.code, code, r.stderr);
  const lines = r.stderr.trim().split("\n");
  assert.equal(lines.length, 1, `one line expected:\n${r.stderr}`);
  assert.match(lines[0], /^vidkompy: /);
  assert.match(lines[0], pattern);
  assert.doesNotMatch(r.stderr, /^\s+at /m, "no stack trace");
}

async function sha256(path: string): Promise<string> {
  const digest = await crypto.subtle.digest(
    "SHA-256",
    await Deno.readFile(path),
  );
  return [...new Uint8Array(digest)]
    .map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Every file under `dir`, relative, sorted (hidden temporaries included). */
async function filesUnder(dir: string, prefix = ""): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    const rel = prefix + e.name;
    if (e.isDirectory) {
      out.push(...await filesUnder(join(dir, e.name), rel + "/"));
    } else out.push(rel);
  }
  return out.sort();
}

/** Command lines of running processes that mention `text` (Linux /proc). */
async function processesMentioning(text: string): Promise<string[]> {
  const found: string[] = [];
  for await (const e of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(e.name) || Number(e.name) === Deno.pid) continue;
    try {
      const cmd = (await Deno.readTextFile(`/proc/${e.name}/cmdline`))
        .split("\0").join(" ");
      if (cmd.includes(text)) found.push(`${e.name}: ${cmd}`);
    } catch { /* exited meanwhile */ }
  }
  return found;
}

/** The absolute path of `name` on PATH. */
function which(name: string): string {
  for (const dir of (Deno.env.get("PATH") ?? "").split(delimiter)) {
    const path = join(dir, name);
    try {
      if (Deno.statSync(path).isFile) return path;
    } catch { /* not here */ }
  }
  throw new Error(`${name} not on PATH`);
}

/**
 * A folder to put first on PATH with an `ffmpeg` that runs the real one,
 * and a link to the real `ffprobe`. Runs whose arguments contain `match`
 * read their inputs at the frame rate (`-re`, so the stage lasts as long as
 * the video and a test can act in the middle of it) and, with `killAfter`,
 * are killed with SIGKILL that many seconds in: ffmpeg dying mid-run.
 */
async function ffmpegWrapper(
  dir: string,
  options: { match: "libx264" | "pipe:1"; killAfter?: number },
): Promise<string> {
  const bin = join(dir, "bin");
  await Deno.mkdir(bin);
  const ffmpeg = which("ffmpeg");
  const slow = options.killAfter
    ? `exec ${which("timeout")} -s KILL ${options.killAfter} ${ffmpeg} -re "$@"`
    : `exec ${ffmpeg} -re "$@"`;
  // The analysis decodes write to pipe:1 and never encode; the compose
  // encoder is the one ffmpeg with libx264 among its arguments.
  const isMatch = options.match === "libx264"
    ? `case "$*" in *libx264*) ${slow};; esac`
    : `case "$*" in *libx264*) ;; *pipe:1*) ${slow};; esac`;
  await Deno.writeTextFile(
    join(bin, "ffmpeg"),
    `#!/bin/sh\n${isMatch}\nexec ${ffmpeg} "$@"\n`,
    { mode: 0o755 },
  );
  await Deno.symlink(which("ffprobe"), join(bin, "ffprobe"));
  return bin;
}

/** A fresh folder with copies of the offset_crop pair as bg.mp4 and fg.mp4. */
async function workspace(names = { bg: "bg.mp4", fg: "fg.mp4" }) {
  const pair = await makePair(spec, await fixtureDir());
  const dir = await Deno.makeTempDir({ prefix: "vidkompy_failure_" });
  const bg = join(dir, names.bg), fg = join(dir, names.fg);
  await Deno.copyFile(pair.bg, bg);
  await Deno.copyFile(pair.fg, fg);
  const hashes = { bg: await sha256(bg), fg: await sha256(fg) };
  return {
    dir,
    bg,
    fg,
    truth: pair.truth,
    /** Asserts the inputs are byte for byte what they were. */
    async assertInputsUntouched() {
      assert.equal(await sha256(bg), hashes.bg, "bg untouched");
      assert.equal(await sha256(fg), hashes.fg, "fg untouched");
    },
    /** Asserts that no ffmpeg or ffprobe started on these files still runs. */
    async assertNoChildren() {
      assert.deepEqual(await processesMentioning(dir), []);
    },
    remove: () => Deno.remove(dir, { recursive: true }),
  };
}

type Workspace = Awaited<ReturnType<typeof workspace>>;

async function ffmpegRun(args: string[]): Promise<void> {
  const out = await new Deno.Command(which("ffmpeg"), {
    args: ["-hide_banner", "-v", "error", "-y", ...args],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
}

/** Small broken or absurd media, made on first use in a run. */
let badMediaMade: ReturnType<typeof makeBadMedia> | undefined;
const badMedia = () => badMediaMade ??= makeBadMedia();

async function makeBadMedia() {
  const pair = await makePair(spec, await fixtureDir());
  // Remade on every run (cheap) beside the fixtures, so nothing is left in /tmp.
  const dir = join(await fixtureDir(), "bad_inputs");
  await Deno.remove(dir, { recursive: true }).catch(() => {});
  await Deno.mkdir(dir);
  const at = (name: string) => join(dir, name);
  await Deno.mkdir(at("folder.mp4"));
  await Deno.writeTextFile(at("notes.mp4"), "not a video\n");
  // Cut in half: without faststart the index (moov) is at the end and is
  // lost; with it the index survives but half the frames' data is gone.
  const whole = await Deno.readFile(pair.fg);
  await Deno.writeFile(at("cut.mp4"), whole.subarray(0, whole.length >> 1));
  await ffmpegRun([
    "-i",
    pair.fg,
    "-c",
    "copy",
    "-movflags",
    "+faststart",
    at("indexed.mp4"),
  ]);
  const indexed = await Deno.readFile(at("indexed.mp4"));
  await Deno.writeFile(
    at("cut_indexed.mp4"),
    indexed.subarray(0, indexed.length >> 1),
  );
  const lavfi = (source: string, out: string, ...extra: string[]) =>
    ffmpegRun(["-f", "lavfi", "-i", source, ...extra, at(out)]);
  await lavfi("sine=d=1", "audio_only.m4a", "-c:a", "aac");
  // AVI keeps a video stream that has no frames (mp4 drops such a stream).
  await lavfi("testsrc2=s=320x180:r=30:d=1", "no_frames.avi", "-frames:v", "0");
  await lavfi(
    "testsrc2=s=16x16:r=30:d=1",
    "one_pixel.mp4",
    "-vf",
    "scale=1:1",
    "-c:v",
    "libx264",
    "-pix_fmt",
    "yuv444p",
  );
  await lavfi("testsrc2=s=320x180:r=1/100:d=300", "slide_show.mp4");
  await lavfi("testsrc2=s=320x180:r=10000:d=0.02", "ten_thousand_fps.mp4");
  return { dir, at, bg: pair.bg, fg: pair.fg };
}

const badInputs: {
  what: string;
  role: "fg" | "bg";
  file: string;
  says: RegExp;
}[] = [
  {
    what: "a missing file",
    role: "fg",
    file: "nope.mp4",
    says: /fg file not found/,
  },
  {
    what: "a missing bg",
    role: "bg",
    file: "nope.mp4",
    says: /bg file not found/,
  },
  { what: "a folder", role: "bg", file: "folder.mp4", says: /bg is a folder/ },
  {
    what: "a text file",
    role: "fg",
    file: "notes.mp4",
    says: /fg is not a readable media file/,
  },
  {
    what: "an mp4 cut in half (no index)",
    role: "fg",
    file: "cut.mp4",
    says: /fg is truncated: the MP4 has no index/,
  },
  {
    what: "an mp4 cut in half (index first)",
    role: "fg",
    file: "cut_indexed.mp4",
    says: /fg is truncated or damaged: \d+ of 90 video frames can be read/,
  },
  {
    what: "an audio-only file",
    role: "fg",
    file: "audio_only.m4a",
    says: /fg has no video stream/,
  },
  {
    what: "a video stream with no frames",
    role: "fg",
    file: "no_frames.avi",
    says: /fg has no video frames/,
  },
  {
    what: "a 1×1 video",
    role: "fg",
    file: "one_pixel.mp4",
    says: /fg is too small to align: 1×1/,
  },
  {
    what: "a 0.01 fps video",
    role: "fg",
    file: "slide_show.mp4",
    says: /fg has an unusable frame rate \(0\.01 fps\)/,
  },
  {
    what: "a 10000 fps video",
    role: "bg",
    file: "ten_thousand_fps.mp4",
    says: /bg has an unusable frame rate \(10000 fps\)/,
  },
];

for (const bad of badInputs) {
  Deno.test(`bad input, ${bad.what}: one clear line, exit 1, no output`, async () => {
    const media = await badMedia();
    const before = await filesUnder(media.dir);
    const file = media.at(bad.file);
    const out = media.at("out/result.mp4");
    const r = await cli([
      "comp",
      "--bg",
      bad.role === "bg" ? file : media.bg,
      "--fg",
      bad.role === "fg" ? file : media.fg,
      "-o",
      out,
    ]);
    assertOneLine(r, bad.says);
    assert.ok(r.stderr.includes(basename(file)), "names the file");
    assert.deepEqual(await filesUnder(media.dir), before, "nothing written");
  });
}

Deno.test("a fg larger than the bg at 100%: one line that names --unscaled false, exit 1, no output", async () => {
  const media = await badMedia();
  const before = await filesUnder(media.dir);
  const r = await cli([
    "comp",
    "--bg",
    media.fg,
    "--fg",
    media.bg,
    "-o",
    media.at("out/result.mp4"),
  ]);
  assertOneLine(r, /larger than the bg.*--unscaled false/);
  assert.deepEqual(await filesUnder(media.dir), before, "nothing written");
});

Deno.test("bad input with --verbose also prints the stack", async () => {
  const media = await badMedia();
  const r = await cli([
    "comp",
    "--bg",
    media.bg,
    "--fg",
    media.at("notes.mp4"),
    "--dry-run",
    "--verbose",
  ]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^vidkompy: fg is not a readable media file/m);
  assert.match(r.stderr, /^\s+at .*probe\.ts/m);
});

/** Runs a test body on a fresh workspace and removes it afterwards. */
function inWorkspace(
  fn: (ws: Workspace) => Promise<void>,
  names?: { bg: string; fg: string },
): () => Promise<void> {
  return async () => {
    const ws = await workspace(names);
    try {
      await fn(ws);
    } finally {
      await ws.remove();
    }
  };
}

Deno.test(
  "the output is never an input, under any spelling, even with --overwrite",
  inWorkspace(async (ws) => {
    await Deno.symlink(ws.fg, join(ws.dir, "alias.mp4"));
    for (
      const out of [
        ws.fg,
        join(ws.dir, ".", "fg.mp4"),
        join(ws.dir, "alias.mp4"),
      ]
    ) {
      const r = await cli([
        "comp",
        "--bg",
        ws.bg,
        "--fg",
        ws.fg,
        "-o",
        out,
        "--overwrite",
      ]);
      assertOneLine(r, /is one of the inputs.*choose another --output/);
    }
    await ws.assertInputsUntouched();
    assert.deepEqual(await filesUnder(ws.dir), [
      "alias.mp4",
      "bg.mp4",
      "fg.mp4",
    ]);
  }),
);

Deno.test(
  "an output that is a folder, or under a file, is refused before any work",
  inWorkspace(async (ws) => {
    await Deno.mkdir(join(ws.dir, "folder.mp4"));
    const cases = [
      { out: join(ws.dir, "folder.mp4"), says: /is a folder/ },
      {
        out: join(ws.dir, "fg.mp4", "out.mp4"),
        says: /cannot create the output folder .*part of that path is a file/,
      },
    ];
    for (const { out, says } of cases) {
      const r = await cli(["comp", "--bg", ws.bg, "--fg", ws.fg, "-o", out]);
      assertOneLine(r, says);
    }
    assert.deepEqual(await filesUnder(ws.dir), ["bg.mp4", "fg.mp4"]);
    await ws.assertInputsUntouched();
  }),
);

Deno.test(
  "an existing output is kept unless --overwrite, which replaces it",
  inWorkspace(async (ws) => {
    const out = join(ws.dir, "existing.mp4");
    await Deno.writeTextFile(out, "keep me");
    const kept = await cli(["comp", "--bg", ws.bg, "--fg", ws.fg, "-o", out]);
    assertOneLine(kept, /already exists.*--overwrite/);
    assert.equal(await Deno.readTextFile(out), "keep me");
    const r = await cli([
      "comp",
      "--bg",
      ws.bg,
      "--fg",
      ws.fg,
      "-o",
      out,
      "--overwrite",
      "--quiet",
      ...PLACED,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await probe(out)).frames, ws.truth.fgFrames);
    assert.deepEqual(await filesUnder(ws.dir), [
      "bg.mp4",
      "existing.mp4",
      "fg.mp4",
    ]);
  }),
);

Deno.test(
  "a missing output folder is created and only the finished file appears in it",
  inWorkspace(async (ws) => {
    const out = join(ws.dir, "new", "deeper", "out.mp4");
    const r = await cli([
      "comp",
      "--bg",
      ws.bg,
      "--fg",
      ws.fg,
      "-o",
      out,
      "--quiet",
      ...PLACED,
    ]);
    assert.equal(r.code, 0, r.stderr);
    const info = await probe(out);
    assert.equal(info.frames, ws.truth.fgFrames);
    assert.deepEqual(await filesUnder(ws.dir), [
      "bg.mp4",
      "fg.mp4",
      "new/deeper/out.mp4",
    ]);
    await ws.assertInputsUntouched();
  }),
);

Deno.test(
  "file names with spaces, quotes, a leading dash and non-ASCII work end to end",
  inWorkspace(
    async (ws) => {
      // Relative names from the workspace, as a user would type them; the
      // default output name is built from both.
      const r = await cli(
        ["comp", "--bg", basename(ws.bg), "--fg", basename(ws.fg), "--quiet"],
        { cwd: ws.dir },
      );
      assert.equal(r.code, 0, r.stderr);
      const out = `${basename(ws.bg, ".mp4")}_overlay_${
        basename(ws.fg, ".mp4")
      }.mp4`;
      const info = await probe(join(ws.dir, out));
      assert.equal(info.frames, ws.truth.fgFrames);
      assert.equal(info.width, spec.bgWidth);
      assert.deepEqual(
        await filesUnder(ws.dir),
        [basename(ws.bg), basename(ws.fg), out].sort(),
      );
      await ws.assertInputsUntouched();
    },
    {
      bg: `-bg "quoted" it's ünï 日本.mp4`,
      fg: "-fg  two  spaces $HOME `x`.mp4",
    },
  ),
);

Deno.test(
  "ffmpeg missing from PATH: the fix is named, nothing is written",
  inWorkspace(async (ws) => {
    const empty = join(ws.dir, "empty_bin");
    await Deno.mkdir(empty);
    const out = join(ws.dir, "out.mp4");
    for (
      const env of [
        { PATH: empty },
        { VIDKOMPY_FFMPEG: join(empty, "ffmpeg") },
      ] as Record<string, string>[]
    ) {
      const r = await cli(["comp", "--bg", ws.bg, "--fg", ws.fg, "-o", out], {
        env,
      });
      assertOneLine(r, /ffmpeg was not found.*apt-get install ffmpeg/);
    }
    assert.deepEqual(await filesUnder(ws.dir), ["bg.mp4", "fg.mp4"]);
  }),
);

for (
  const stage of [
    {
      name: "analysis",
      match: "pipe:1",
      says: /ffmpeg could not decode .*: it was killed by SIGKILL/,
    },
    {
      name: "compose",
      match: "libx264",
      says: /ffmpeg failed while encoding: it was killed by SIGKILL/,
    },
  ] as const
) {
  Deno.test(
    `ffmpeg dying during ${stage.name}: a clear error, no partial output, no temp files`,
    inWorkspace(async (ws) => {
      const bin = await ffmpegWrapper(ws.dir, {
        match: stage.match,
        killAfter: 1,
      });
      const out = join(ws.dir, "out", "result.mp4");
      const r = await cli(
        ["comp", "--bg", ws.bg, "--fg", ws.fg, "-o", out, "--quiet", ...PLACED],
        { env: { PATH: `${bin}${delimiter}${Deno.env.get("PATH")}` } },
      );
      assertOneLine(r, stage.says);
      assert.deepEqual(await filesUnder(join(ws.dir, "out")), []);
      await ws.assertNoChildren();
      await ws.assertInputsUntouched();
    }),
  );
}

/** Polls until `ready` holds (or fails after `ms`). */
async function waitFor(
  what: string,
  ready: () => Promise<boolean>,
  ms = 20000,
): Promise<void> {
  const end = performance.now() + ms;
  while (!(await ready())) {
    if (performance.now() > end) {
      throw new Error(`timed out waiting for ${what}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}

const STAGES = {
  analysis: { match: "pipe:1", running: /rawvideo/ },
  compose: { match: "libx264", running: /libx264/ },
} as const;

const interruptions: {
  signal: "SIGINT" | "SIGTERM";
  stage: keyof typeof STAGES;
  group?: boolean;
  dryRun?: boolean;
}[] = [
  { signal: "SIGINT", stage: "analysis" },
  { signal: "SIGINT", stage: "compose" },
  { signal: "SIGTERM", stage: "analysis" },
  { signal: "SIGTERM", stage: "compose" },
  // Ctrl-C in a terminal: ffmpeg gets the SIGINT too and ends on its own.
  { signal: "SIGINT", stage: "compose", group: true },
  // An interrupted analysis must not go on to report on half the frames.
  { signal: "SIGINT", stage: "analysis", dryRun: true },
];

for (const { signal, stage, group, dryRun } of interruptions) {
  const code = signal === "SIGINT" ? 130 : 143;
  Deno.test(
    `${signal}${group ? " to the process group" : ""} during ${stage}${
      dryRun ? " of a --dry-run --report" : ""
    }: children stopped, temp files removed, exit ${code} within 2 s`,
    inWorkspace(async (ws) => {
      const bin = await ffmpegWrapper(ws.dir, { match: STAGES[stage].match });
      const output = dryRun
        ? ["--dry-run", "--report", join(ws.dir, "report.json")]
        : ["-o", join(ws.dir, "out", "result.mp4")];
      const { child, run } = startCli(
        // --verbose logs each stage as it ends: none may end after the signal.
        ["comp", "--bg", ws.bg, "--fg", ws.fg, ...output, ...PLACED, "-v"],
        {
          env: { PATH: `${bin}${delimiter}${Deno.env.get("PATH")}` },
          group,
        },
      );
      let exited = false;
      run.finally(() => exited = true);
      await waitFor(`an ffmpeg ${stage}`, async () => {
        if (exited) throw new Error(`exited early: ${(await run).stderr}`);
        return (await processesMentioning(ws.dir)).some((p) =>
          /ffmpeg/.test(p) && STAGES[stage].running.test(p)
        );
      });
      // Well into the stage (the wrapper makes it last 3–4 s): a second
      // of frames has been read, so the run has something to go on with.
      await new Promise((r) => setTimeout(r, 1000));
      if (stage === "compose" && !dryRun) {
        // While ffmpeg writes, only a hidden temporary exists beside the target.
        const writing = await filesUnder(join(ws.dir, "out"));
        assert.equal(writing.length, 1, writing.join(", "));
        assert.match(writing[0], /^\.result\.mp4\..+\.partial$/);
      }
      const sent = performance.now();
      if (group) Deno.kill(-child.pid, signal);
      else child.kill(signal);
      const r = await run;
      const took = performance.now() - sent;
      assert.equal(r.code, code, r.stderr);
      assert.ok(took < 2000, `exited ${took.toFixed(0)} ms after ${signal}`);
      const [before, after] = r.stderr.split(
        `interrupted (${signal}), cleaning up\n`,
      );
      assert.match(before, /^probe: /m, "the stage had begun");
      assert.equal(after, "", `nothing may run after the signal:\n${r.stderr}`);
      await ws.assertNoChildren();
      assert.equal(await exists(join(ws.dir, "report.json")), false);
      const outDir = join(ws.dir, "out");
      assert.deepEqual(
        await exists(outDir) ? await filesUnder(outDir) : [],
        [],
      );
      await ws.assertInputsUntouched();
    }),
  );
}
