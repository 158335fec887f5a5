/**
 * A second stream of raw frames out of one ffmpeg process: ffmpeg writes
 * it to a Unix socket this process listens on (its stdout and stderr are
 * taken, and ffmpeg 5 has no file-descriptor output). The composer uses
 * these to hand the analysis the coarse frames of what it decodes anyway,
 * so one decode serves both.
 *
 * @module
 */

import { join } from "node:path";
import type { FrameBatch } from "./frame_reader.ts";
import { readBatches } from "./frame_reader.ts";

/** True where ffmpeg and Deno both speak Unix sockets. */
export const SIDE_OUTPUTS_AVAILABLE = Deno.build.os !== "windows";

/** A listening socket ffmpeg writes packed frames of `size` bytes to. */
export class SideOutput {
  readonly #listener: Deno.UnixListener;
  readonly #path: string;
  readonly #size: number;
  #conn?: Deno.UnixConn;

  private constructor(listener: Deno.UnixListener, path: string, size: number) {
    this.#listener = listener;
    this.#path = path;
    this.#size = size;
  }

  /** Listens at a fresh path in `dir` for frames of `size` bytes. */
  static async open(dir: string, size: number): Promise<SideOutput> {
    const path = join(
      dir,
      `.vidkompy-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}.sock`,
    );
    await Deno.remove(path).catch(() => {});
    const listener = Deno.listen({ transport: "unix", path });
    return new SideOutput(listener, path, size);
  }

  /** The output URL to give ffmpeg. */
  get url(): string {
    return `unix:${this.#path}`;
  }

  /** The frames as ffmpeg writes them, in batches; ends when it closes. */
  async *frames(batch = 16): AsyncGenerator<FrameBatch> {
    this.#conn = await this.#listener.accept();
    const reader = this.#conn.readable.getReader({ mode: "byob" });
    try {
      yield* readBatches(reader, this.#size, batch);
    } finally {
      await reader.cancel().catch(() => {});
      reader.releaseLock();
    }
  }

  /** Stops listening and removes the socket file. */
  async close(): Promise<void> {
    try {
      this.#conn?.close();
    } catch { /* closed */ }
    try {
      this.#listener.close();
    } catch { /* closed */ }
    await Deno.remove(this.#path).catch(() => {});
  }
}

/**
 * The batches of `source`, read to its end as they come, held here until
 * taken. ffmpeg writes all its outputs from one thread: an output nobody
 * reads (its reader waiting on another output) would stop them all, and
 * the encoder with them. A consumer that stops early lets the rest be
 * read and dropped.
 */
export function readAhead(
  source: AsyncIterable<FrameBatch>,
): AsyncIterable<FrameBatch> {
  const queue: FrameBatch[] = [];
  let ended = false, dropped = false;
  let failure: unknown;
  let wake: (() => void) | undefined;
  const pumped = (async () => {
    try {
      for await (const b of source) {
        if (!dropped) queue.push(b);
        wake?.();
      }
    } catch (err) {
      failure = err;
    } finally {
      ended = true;
      wake?.();
    }
  })();
  pumped.catch(() => {});
  return {
    async *[Symbol.asyncIterator]() {
      try {
        while (true) {
          const b = queue.shift();
          if (b) {
            yield b;
            continue;
          }
          if (failure) throw failure;
          if (ended) return;
          await new Promise<void>((r) => wake = r);
          wake = undefined;
        }
      } finally {
        dropped = true;
        queue.length = 0;
      }
    },
  };
}
