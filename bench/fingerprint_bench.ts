/**
 * Throughput of every fingerprinter: `compute` on a fixed seeded random frame
 * of its input format, and `distance` between table slots.
 *
 * Each bench iteration does a batch (`COMPUTE_BATCH` computes or
 * `DISTANCE_BATCH` distances) so per-call costs of a few nanoseconds are not
 * swamped by the harness; frames/s = iter/s × batch size.
 *
 * Run: `deno bench bench/fingerprint_bench.ts`
 *
 * @module
 */

import type { Fingerprinter } from "../core/types.ts";
import { createAhash } from "../plugins/fingerprint_ahash.ts";
import { createColormoment } from "../plugins/fingerprint_colormoment.ts";
import { createDhash } from "../plugins/fingerprint_dhash.ts";
import { createHistogram } from "../plugins/fingerprint_histogram.ts";
import { createPhash } from "../plugins/fingerprint_phash.ts";
import { createThumb } from "../plugins/fingerprint_thumb.ts";
import { randomFrame } from "../plugins/_fingerprint_testing.ts";

/** Computes per bench iteration. */
const COMPUTE_BATCH = 100;
/** Distances per bench iteration (one query against a table of this many). */
const DISTANCE_BATCH = 1000;

/** Seeded PRNG (mulberry32) so every run benches the same pixels. */
const fingerprinters: Fingerprinter[] = [
  createPhash(),
  createAhash(),
  createDhash(),
  createColormoment(),
  createHistogram(),
  createThumb(),
];

// Keeps results observable so the JIT cannot drop the work.
let sink = 0;

for (const fp of fingerprinters) {
  const frame = randomFrame(fp.input, 42);
  const computeTable = fp.createTable(COMPUTE_BATCH);
  Deno.bench({
    name: `${fp.name} compute ×${COMPUTE_BATCH}`,
    group: "compute",
    fn() {
      for (let k = 0; k < COMPUTE_BATCH; k++) {
        fp.compute(frame, computeTable, k);
      }
    },
  });

  const table = fp.createTable(DISTANCE_BATCH);
  for (let k = 0; k < DISTANCE_BATCH; k++) {
    fp.compute(randomFrame(fp.input, 1000 + k), table, k);
  }
  const query = fp.createTable(1);
  fp.compute(randomFrame(fp.input, 7), query, 0);
  Deno.bench({
    name: `${fp.name} distance ×${DISTANCE_BATCH}`,
    group: "distance",
    fn() {
      let s = 0;
      for (let k = 0; k < DISTANCE_BATCH; k++) {
        s += fp.distance(query, 0, table, k);
      }
      sink += s;
    },
  });
}

globalThis.addEventListener("unload", () => {
  if (Number.isNaN(sink)) console.log(sink);
});
