/**
 * What ffmpeg alone needs to produce the frames `comp` analyses (issue #5).
 * For each pair, alternately: the wall time of ffmpeg decoding both inputs
 * side by side to nothing (the floor that `bench:e2e --dry-run` and
 * `bench:long` divide by), and of decoding them to the analysis frames
 * (luma, area-scaled to the coarse size, deblocking skipped where that
 * shrinks 2× or more, the same decoder threads), written to /dev/null so no
 * reader's cost counts. Their ratio is the least a dry run can take against
 * that floor before any analysis is done.
 *
 * Usage: deno task bench:floor [--runs 3] [--pair BG,FG]...
 * (default: the pairs `bench:e2e` and `bench:long --minutes 5` render)
 *
 * @module
 */

import { parseArgs } from "node:util";
import { join, resolve } from "node:path";
import { exists } from "../tests/fixtures.ts";
import { coarseSizes } from "../core/placement.ts";
import { analysisThreads } from "../core/pipeline.ts";
import { coarseDecode } from "../core/coarse_scan.ts";
import { decodeArgs } from "../core/frame_reader.ts";
import { probe } from "../core/probe.ts";
import { median, parallelDecodeSeconds, parallelSeconds } from "./_run.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    runs: { type: "string", default: "3" },
    pair: { type: "string", multiple: true },
  },
});
const runs = Math.max(1, Number(values.runs));
const dir = join(resolve(new URL("..", import.meta.url).pathname), ".cache");
const pairs = values.pair?.map((p) => p.split(",")) ?? [
  [join(dir, "bench/e2e_bg.mp4"), join(dir, "bench/e2e_fg.mp4")],
  [join(dir, "bench/long2_5m_bg.mp4"), join(dir, "bench/long2_5m_fg.mp4")],
];

console.log(
  "| pair | decode both (ffmpeg) | decode both to the analysis frames | ratio |",
);
console.log("|---|---|---|---|");
for (const [bgPath, fgPath] of pairs) {
  for (const p of [bgPath, fgPath]) {
    if (!(await exists(p))) {
      throw new Error(
        `${p} is missing: run deno task bench:e2e and bench:long first`,
      );
    }
  }
  const [bg, fg] = await Promise.all([
    probe(bgPath, "bg"),
    probe(fgPath, "fg"),
  ]);
  const { bw, bh, fw, fh } = coarseSizes(fg, bg);
  const threads = analysisThreads(fg, bg);
  // Written to stdout, which run() sends to /dev/null.
  const argvs = [
    decodeArgs(
      coarseDecode(bg, { width: bw, height: bh, channels: 1 }, threads),
    ),
    decodeArgs(
      coarseDecode(fg, { width: fw, height: fh, channels: 1 }, threads),
    ),
  ];
  const floors: number[] = [], analysis: number[] = [];
  for (let r = 0; r < runs; r++) {
    floors.push(await parallelDecodeSeconds([bgPath, fgPath]));
    analysis.push(await parallelSeconds("ffmpeg", argvs));
    console.error(
      `  ${fgPath.split("/").pop()} run ${r + 1}: floor ${
        floors[r].toFixed(2)
      } s, analysis frames ${analysis[r].toFixed(2)} s`,
    );
  }
  const floor = median(floors), frames = median(analysis);
  console.log(
    `| ${bg.width}×${bg.height} ${bg.frames} + ${fg.width}×${fg.height} ${fg.frames} frames | ${
      floor.toFixed(2)
    } s | ${frames.toFixed(2)} s | ${(frames / floor).toFixed(2)}× |`,
  );
}
