/**
 * Choosing and guarding the output file: the default name, never an input,
 * never an existing file without `overwrite`, a temporary name beside the
 * target that is renamed into place only after ffmpeg succeeded.
 *
 * @module
 */

import { basename, dirname, extname, join, resolve } from "node:path";
import { OutputError } from "./errors.ts";

/** `{bgstem}_overlay_{fgstem}.mp4` in the current folder. */
export function defaultOutputPath(bg: string, fg: string): string {
  const stem = (p: string) => basename(p, extname(p));
  return `${stem(bg)}_overlay_${stem(fg)}.mp4`;
}

async function realOrResolved(path: string): Promise<string> {
  try {
    return await Deno.realPath(path);
  } catch {
    return resolve(path);
  }
}

/**
 * Checks that `output` may be written: not one of `inputs`, not an existing
 * file unless `overwrite`, not a folder. Creates its parent folder.
 */
export async function prepareOutput(
  output: string,
  inputs: readonly string[],
  overwrite: boolean,
): Promise<void> {
  const target = await realOrResolved(output);
  for (const input of inputs) {
    if (target === await realOrResolved(input)) {
      throw new OutputError(`the output ${output} is one of the inputs`, {
        hint: "choose another --output",
      });
    }
  }
  let stat: Deno.FileInfo | undefined;
  try {
    stat = await Deno.stat(output);
  } catch (err) {
    // NotADirectory: a file is in the path; the folder creation below
    // explains that.
    if (
      !(err instanceof Deno.errors.NotFound ||
        err instanceof Deno.errors.NotADirectory)
    ) {
      throw new OutputError(`cannot use output ${output}: ${String(err)}`, {
        cause: err,
      });
    }
  }
  if (stat?.isDirectory) {
    throw new OutputError(`the output ${output} is a folder`, {
      hint: "give a file name such as out.mp4",
    });
  }
  if (stat && !overwrite) {
    throw new OutputError(`the output ${output} already exists`, {
      hint: "pass --overwrite to replace it, or choose another --output",
    });
  }
  const folder = dirname(resolve(output));
  try {
    await Deno.mkdir(folder, { recursive: true });
  } catch (err) {
    const why = err instanceof Deno.errors.AlreadyExists ||
        err instanceof Deno.errors.NotADirectory
      ? "part of that path is a file"
      // Deno's error names read as words: PermissionDenied → "permission denied".
      : err instanceof Error
      ? err.name.replace(/([a-z])([A-Z])/g, "$1 $2").toLowerCase()
      : String(err);
    throw new OutputError(`cannot create the output folder ${folder}: ${why}`, {
      cause: err,
      hint: "choose another --output",
    });
  }
}

/** A hidden temporary file beside the target (same folder, so rename is atomic). */
export function temporaryPath(output: string): string {
  const abs = resolve(output);
  const tag = `${Deno.pid}-${Math.random().toString(36).slice(2, 8)}`;
  return join(dirname(abs), `.${basename(abs)}.${tag}.partial`);
}

/** Removes a file if it exists; never throws. */
export async function removeQuietly(path: string): Promise<void> {
  try {
    await Deno.remove(path);
  } catch { /* already gone */ }
}
