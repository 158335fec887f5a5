import assert from "node:assert/strict";
import { FfmpegError } from "./errors.ts";
import {
  runLines,
  runText,
  spawnFfmpeg,
  stopAbortedChildren,
} from "./process.ts";

/** A listing of 1,800 packets (~280 KB, many pipe reads) that needs no file. */
const LISTING = [
  "-v",
  "error",
  "-f",
  "lavfi",
  "-i",
  "testsrc=d=60:r=30:s=64x36",
  "-show_packets",
  "-of",
  "compact",
];

Deno.test("runLines hands over every line of a long output, as runText reads it", async () => {
  const lines: string[] = [];
  await runLines("ffprobe", LISTING, (line) => lines.push(line));
  const text = await runText("ffprobe", LISTING);
  assert.ok(text.length > 200_000, `listing of ${text.length} bytes`);
  assert.ok(text.endsWith("\n"));
  assert.deepEqual(lines, text.slice(0, -1).split("\n"));
  assert.equal(lines.filter((l) => l.startsWith("packet|")).length, 1800);
});

Deno.test("runLines reports a failing command with its last words", async () => {
  await assert.rejects(
    runLines("ffprobe", ["-v", "error", "-i", "/no/such/file.mp4"], () => {}),
    (err) =>
      err instanceof FfmpegError && /ffprobe failed: .*No such file/.test(
        err.message,
      ),
  );
});

Deno.test("runLines stops the command and passes on what the reader throws", async () => {
  let seen = 0;
  const stop = new Error("enough");
  // An hour of packets: were the child not killed, this would run on.
  const hour = LISTING.map((a) => a.replace("d=60", "d=3600"));
  await assert.rejects(
    runLines("ffprobe", hour, () => {
      if (++seen === 3) throw stop;
    }),
    (err) => err === stop,
  );
  assert.equal(seen, 3);
});

/**
 * An ffmpeg writing raw frames to a pipe that nobody reads after its first
 * chunk: once that has come, the pipe fills within a few frames and every
 * write then blocks.
 */
async function blockedWriter(signal: AbortSignal): Promise<Deno.ChildProcess> {
  const args = ["-hide_banner", "-v", "error", "-f", "lavfi"];
  args.push("-i", "testsrc2=s=320x180:r=30", "-t", "600");
  args.push("-f", "rawvideo", "-pix_fmt", "gray", "pipe:1");
  const child = spawnFfmpeg(args, { stdin: "null", stdout: "piped" }, signal);
  const reader = child.stdout.getReader();
  await reader.read();
  reader.releaseLock();
  return child;
}

Deno.test("stopAbortedChildren ends an aborted ffmpeg that SIGTERM leaves blocked, and only that one", async () => {
  const aborted = new AbortController(), live = new AbortController();
  const stuck = await blockedWriter(aborted.signal);
  const other = await blockedWriter(live.signal);
  let stuckEnded = false, otherEnded = false;
  stuck.status.then(() => stuckEnded = true);
  other.status.then(() => otherEnded = true);
  try {
    // Writing since its first chunk, it is blocked well before this; the
    // abort then sends SIGTERM, which ffmpeg only acts on once its write
    // returns, and it never does.
    await new Promise((r) => setTimeout(r, 500));
    aborted.abort(new Error("stop"));
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(stuckEnded, false, "SIGTERM alone ended it: test is moot");
    await stopAbortedChildren();
    assert.equal(stuckEnded, true);
    assert.equal((await stuck.status).signal, "SIGKILL");
    assert.equal(otherEnded, false, "a run not aborted keeps its child");
  } finally {
    live.abort(new Error("done"));
    await stopAbortedChildren();
    for (const c of [stuck, other]) {
      await c.stdout.cancel();
      await c.stderr.cancel();
    }
  }
  assert.equal(otherEnded, true);
});
