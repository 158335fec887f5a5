/**
 * Runs deno (the CLI, or a bundle) as a child process for tests that check
 * exit codes and stderr text.
 *
 * @module
 */

import { fileURLToPath } from "node:url";

/** The repository's cli.ts. */
export const CLI = fileURLToPath(new URL("../cli.ts", import.meta.url));

/** A finished child: exit code and decoded output. */
export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** `deno <args>`, colour off, output captured. */
export async function runDeno(
  args: string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
): Promise<Run> {
  const out = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: options.cwd,
    env: { NO_COLOR: "1", ...options.env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
}

/** `deno run --allow-all cli.ts <args>`. */
export function runCli(
  args: string[],
  env: Record<string, string> = {},
): Promise<Run> {
  return runDeno(["run", "--allow-all", CLI, ...args], { env });
}
