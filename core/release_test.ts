/** release: a buffer is freed (detached) at once; others are left alone. */

import assert from "node:assert/strict";
import { release } from "./release.ts";

Deno.test("release detaches buffers at once, skips detached and shared ones", () => {
  const a = new Uint8Array(1 << 20);
  const view = a.subarray(10, 20);
  const shared = new SharedArrayBuffer(16);
  release(a.buffer, shared);
  assert.equal(a.buffer.byteLength, 0);
  assert.equal(a.length, 0);
  assert.equal(view.length, 0, "views on it read as empty");
  assert.equal(shared.byteLength, 16);
  release(a.buffer); // already detached: no error
});
