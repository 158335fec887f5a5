/**
 * Running ffmpeg and ffprobe: argv arrays only (no shell), stderr always
 * drained (a full stderr pipe stalls the child), and a clear error when the
 * binary is missing.
 *
 * @module
 */

import { resolve } from "node:path";
import { FfmpegError } from "./errors.ts";

/**
 * A file path as ffmpeg must receive it: absolute, so a name starting with a
 * dash is not read as an option and `name:...` is not read as a protocol.
 */
export function mediaPath(path: string): string {
  return resolve(path);
}

/** Names of the binaries; override with VIDKOMPY_FFMPEG / VIDKOMPY_FFPROBE. */
export function binary(name: "ffmpeg" | "ffprobe"): string {
  const key = name === "ffmpeg" ? "VIDKOMPY_FFMPEG" : "VIDKOMPY_FFPROBE";
  try {
    return Deno.env.get(key) ?? name;
  } catch {
    // Without --allow-env we simply use the plain name.
    return name;
  }
}

const INSTALL_HINT =
  "install ffmpeg (Debian/Ubuntu: `apt-get install ffmpeg`, macOS: `brew install ffmpeg`) or point VIDKOMPY_FFMPEG/VIDKOMPY_FFPROBE at the binaries";

/** Wraps a spawn failure into a domain error that names the fix. */
export function spawnError(name: string, err: unknown): Error {
  if (err instanceof Deno.errors.NotFound) {
    return new FfmpegError(`${name} was not found on PATH`, {
      cause: err,
      hint: INSTALL_HINT,
    });
  }
  if (err instanceof Deno.errors.NotCapable) {
    return new FfmpegError(`not allowed to run ${name}`, {
      cause: err,
      hint: `run with --allow-run=ffmpeg,ffprobe`,
    });
  }
  return new FfmpegError(`could not start ${name}: ${String(err)}`, {
    cause: err,
  });
}

/**
 * Children started here that have not exited yet, each with the signal
 * that stops it (see {@link stopAbortedChildren}).
 */
const running = new Map<Deno.ChildProcess, AbortSignal | undefined>();

/**
 * Starts `name` with piped stderr (the caller must drain it) and the given
 * stdin/stdout; a spawn failure becomes a FfmpegError naming the fix, and
 * an already aborted `signal` throws its reason instead of starting.
 */
function spawnChild(
  name: "ffmpeg" | "ffprobe",
  args: string[],
  io: { stdin: "piped" | "null"; stdout: "piped" | "null" },
  signal?: AbortSignal,
): Deno.ChildProcess {
  // Deno starts a child even when the signal has already fired, and then
  // never kills it: an interrupted run must not begin new work.
  signal?.throwIfAborted();
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(binary(name), {
      args,
      stdin: io.stdin,
      stdout: io.stdout,
      stderr: "piped",
      signal,
    }).spawn();
  } catch (err) {
    throw spawnError(name, err);
  }
  running.set(child, signal);
  const forget = () => running.delete(child);
  child.status.then(forget, forget);
  return child;
}

/** Starts ffmpeg; see {@link spawnChild}. */
export function spawnFfmpeg(
  args: string[],
  io: { stdin: "piped" | "null"; stdout: "piped" | "null" },
  signal?: AbortSignal,
): Deno.ChildProcess {
  return spawnChild("ffmpeg", args, io, signal);
}

/**
 * Kills every child whose signal has fired and waits until all are gone.
 * The signal itself only sends SIGTERM, which ffmpeg answers in its own
 * time: one blocked writing to a pipe nobody reads any more waits for its
 * reader. A run that fails while one of its decodes is still in flight
 * (one side of a Promise.all) would otherwise return, and the CLI exit,
 * with that ffmpeg still running behind it.
 */
export async function stopAbortedChildren(): Promise<void> {
  const doomed = [...running].filter(([, s]) => s?.aborted).map(([c]) => c);
  for (const child of doomed) {
    try {
      child.kill("SIGKILL");
    } catch {
      // Already gone.
    }
  }
  await Promise.allSettled(doomed.map((c) => c.status));
}

/** Keeps the last `limit` bytes of a stream, so an error can quote ffmpeg's last words. */
export class TailBuffer {
  #chunks: Uint8Array[] = [];
  #size = 0;
  constructor(readonly limit = 16384) {}
  /** Appends a chunk, dropping the oldest beyond the limit. */
  push(chunk: Uint8Array): void {
    this.#chunks.push(chunk);
    this.#size += chunk.length;
    while (this.#size - this.#chunks[0].length > this.limit) {
      this.#size -= this.#chunks.shift()!.length;
    }
  }
  /** The kept text. */
  text(): string {
    const all = new Uint8Array(this.#size);
    let o = 0;
    for (const c of this.#chunks) {
      all.set(c, o);
      o += c.length;
    }
    return new TextDecoder().decode(all);
  }
}

/** Reads a stream to its end into a TailBuffer (drains stderr). */
export async function drain(
  stream: ReadableStream<Uint8Array>,
  tail = new TailBuffer(),
): Promise<TailBuffer> {
  for await (const chunk of stream) tail.push(chunk);
  return tail;
}

/** The last meaningful line of ffmpeg's stderr, for error messages. */
export function lastLines(text: string, count = 3): string {
  return text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l.length > 0)
    .slice(-count).join(" | ");
}

/** Signals a child may die of, by number (exit codes 128 + n report them). */
const SIGNAL_NAMES: Record<number, string> = {
  1: "SIGHUP",
  2: "SIGINT",
  6: "SIGABRT",
  9: "SIGKILL",
  11: "SIGSEGV",
  13: "SIGPIPE",
  15: "SIGTERM",
};

/**
 * Why a child failed, for an error message: its last stderr lines, or,
 * when it said nothing (killed, crashed), how it ended.
 */
export function failureReason(
  status: { code: number; signal: Deno.Signal | null },
  stderr: string,
): string {
  const said = lastLines(stderr);
  if (said) return said;
  if (status.signal) return `it was killed by ${status.signal}`;
  // A wrapper or shell reports a child killed by signal n as 128 + n.
  const name = SIGNAL_NAMES[status.code - 128];
  if (name) return `it was killed by ${name} (exit code ${status.code})`;
  return `it exited with code ${status.code} without a message`;
}

/**
 * Every byte of a stream, read into one growing buffer (BYOB reads). ffprobe
 * writes its packet list a line at a time: collected with
 * `Command.output()` (or a default reader) its 4 MB for a 20-minute video
 * took 260 MB (78 MB) of memory in 17,000 small chunks; this takes ~20 MB.
 */
export async function readAll(
  stream: ReadableStream<Uint8Array>,
): Promise<Uint8Array> {
  const reader = stream.getReader({ mode: "byob" });
  let buffer = new Uint8Array(1 << 16);
  let filled = 0;
  try {
    while (true) {
      if (filled === buffer.length) {
        const grown = new Uint8Array(buffer.length * 2);
        grown.set(buffer);
        buffer = grown;
      }
      const { value, done } = await reader.read(buffer.subarray(filled));
      if (value) {
        buffer = new Uint8Array(value.buffer);
        filled += value.length;
      }
      if (done) break;
    }
  } finally {
    reader.releaseLock();
  }
  return buffer.subarray(0, filled);
}

/** Runs a command to completion and returns stdout as text; throws FfmpegError on failure. */
export async function runText(
  name: "ffmpeg" | "ffprobe",
  args: string[],
  signal?: AbortSignal,
): Promise<string> {
  let text = "";
  await runReading(name, args, async (stdout) => {
    text = new TextDecoder().decode(await readAll(stdout));
  }, signal);
  return text;
}

/**
 * Runs a command to completion, handing each line of its stdout to
 * `onLine` as it comes (without the line break); throws FfmpegError on
 * failure, and what `onLine` throws (the child is then killed). The output
 * is never held whole, so memory stays flat however long it is: ffprobe's
 * packet list of a 20-minute video is 4 MB of text, and holding it (bytes,
 * string and parsed objects) left 26 MB more resident than a 5-minute one.
 */
export async function runLines(
  name: "ffmpeg" | "ffprobe",
  args: string[],
  onLine: (line: string) => void,
  signal?: AbortSignal,
): Promise<void> {
  await runReading(name, args, async (stdout) => {
    const reader = stdout.getReader({ mode: "byob" });
    const decoder = new TextDecoder();
    let buffer = new Uint8Array(1 << 16);
    let partial = "";
    try {
      while (true) {
        const { value, done } = await reader.read(buffer);
        if (value) {
          // The read hands the buffer back; decode copies out of it.
          buffer = new Uint8Array(value.buffer);
          const lines = (partial + decoder.decode(value, { stream: true }))
            .split("\n");
          partial = lines.pop()!;
          for (const line of lines) onLine(line);
        }
        if (done) break;
      }
      partial += decoder.decode();
      if (partial) onLine(partial);
    } finally {
      reader.releaseLock();
    }
  }, signal);
}

/**
 * Starts a command with stdout piped to `read` and stderr drained, waits
 * for both, and throws FfmpegError (quoting its last words) when it fails.
 * When `read` throws, the child is killed and that error is thrown.
 */
async function runReading(
  name: "ffmpeg" | "ffprobe",
  args: string[],
  read: (stdout: ReadableStream<Uint8Array>) => Promise<void>,
  signal?: AbortSignal,
): Promise<void> {
  const child = spawnChild(
    name,
    args,
    { stdin: "null", stdout: "piped" },
    signal,
  );
  const errors = drain(child.stderr);
  try {
    await read(child.stdout);
  } catch (err) {
    try {
      child.kill();
    } catch {
      // Already gone.
    }
    await Promise.allSettled([child.status, errors, child.stdout.cancel()]);
    throw err;
  }
  const [status, tail] = await Promise.all([child.status, errors]);
  if (!status.success) {
    throw new FfmpegError(
      `${name} failed: ${failureReason(status, tail.text())}`,
    );
  }
}

/**
 * Checks that ffmpeg can be started; throws FfmpegError naming the fix.
 * (ffprobe is checked by the first probe, which names the fix the same way.)
 */
export async function checkFfmpeg(): Promise<void> {
  await runText("ffmpeg", ["-hide_banner", "-version"]);
}
