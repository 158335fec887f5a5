/**
 * Child-process helpers shared by the end-to-end benchmarks.
 *
 * @module
 */

/** Runs a child to completion, throwing with its stderr tail on failure. */
export async function run(cmd: string, args: string[]): Promise<void> {
  const out = await new Deno.Command(cmd, {
    args,
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(
      `${cmd} failed: ${new TextDecoder().decode(out.stderr).slice(-500)}`,
    );
  }
}

/** Runs a child to completion and returns its wall time in seconds. */
export async function timed(cmd: string, args: string[]): Promise<number> {
  const t0 = performance.now();
  await run(cmd, args);
  return (performance.now() - t0) / 1000;
}

/** Wall time of several commands run at once, each to completion. */
export async function parallelSeconds(
  cmd: string,
  argvs: readonly string[][],
): Promise<number> {
  const t0 = performance.now();
  await Promise.all(argvs.map((args) => run(cmd, args)));
  return (performance.now() - t0) / 1000;
}

/** Wall time of ffmpeg decoding every input at once (the analysis floor). */
export function parallelDecodeSeconds(
  paths: readonly string[],
): Promise<number> {
  return parallelSeconds(
    "ffmpeg",
    paths.map((p) => ["-v", "error", "-an", "-i", p, "-f", "null", "-"]),
  );
}

/** The median (upper median for even lengths). */
export function median(values: readonly number[]): number {
  return [...values].sort((a, b) => a - b)[values.length >> 1];
}
