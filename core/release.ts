/**
 * Freeing frame buffers as soon as they are done with.
 *
 * V8 frees a typed array's memory only when it collects garbage, and it
 * collects when its own heap fills: buffers live outside it, so a worker
 * that fingerprinted a few hundred 2 MB batches, its heap nearly empty,
 * held tens of MB of dead ones. Detaching a buffer frees it at once.
 *
 * @module
 */

/**
 * Frees these buffers now. Only for buffers nothing reads again: every
 * view on them reads as empty from then on.
 */
export function release(...buffers: ArrayBufferLike[]): void {
  for (const b of buffers) {
    // transfer(0) detaches the buffer and drops its memory.
    if (b instanceof ArrayBuffer && !b.detached) b.transfer(0);
  }
}
