/**
 * readAhead: a side output is read to its end whatever its consumer does,
 * so ffmpeg, which writes all its outputs from one thread, never waits on
 * it.
 */

import assert from "node:assert/strict";
import type { FrameBatch } from "./frame_reader.ts";
import { readAhead } from "./side_output.ts";

/** Five one-byte batches, counting how many were taken from the source. */
function counted() {
  const state = { pulled: 0, ended: false };
  async function* source(): AsyncGenerator<FrameBatch> {
    for (let k = 0; k < 5; k++) {
      await new Promise((r) => setTimeout(r, 1));
      state.pulled++;
      yield { start: k, count: 1, data: Uint8Array.of(k) };
    }
    state.ended = true;
  }
  return { state, batches: source() };
}

Deno.test("readAhead reads the source while its consumer waits, and yields every batch in order", async () => {
  const { state, batches } = counted();
  const ahead = readAhead(batches);
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(state.pulled, 5, "read before anyone asked");
  const seen: number[] = [];
  for await (const b of ahead) seen.push(b.data[0]);
  assert.deepEqual(seen, [0, 1, 2, 3, 4]);
  assert.ok(state.ended);
});

Deno.test("readAhead drains the rest when its consumer stops early", async () => {
  const { state, batches } = counted();
  for await (const b of readAhead(batches)) {
    assert.equal(b.data[0], 0);
    break;
  }
  await new Promise((r) => setTimeout(r, 50));
  assert.ok(state.ended, `source read to its end (${state.pulled} batches)`);
});

Deno.test("readAhead passes a source failure to its consumer", async () => {
  async function* failing(): AsyncGenerator<FrameBatch> {
    yield { start: 0, count: 1, data: Uint8Array.of(7) };
    throw new Error("socket closed");
  }
  const seen: number[] = [];
  await assert.rejects(async () => {
    for await (const b of readAhead(failing())) seen.push(b.data[0]);
  }, /socket closed/);
  assert.deepEqual(seen, [7]);
});
