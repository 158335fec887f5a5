/**
 * Long-video benchmark (issue #5): a 640×360 30 fps bg of N minutes and a
 * 25 fps crop of it that starts a minute in (see `bench/long_pair.ts`),
 * aligned by `comp --dry-run`. Prints, per length, the time ffmpeg needs just
 * to decode both inputs in parallel, the tool's time and their ratio, the
 * frame map's accuracy against the truth, and the tool's peak memory, so that
 * memory growth with length is visible.
 *
 * Usage: deno task bench:long [--minutes 5,20] [--runs 1]
 *
 * @module
 */

import { parseArgs } from "node:util";
import { join, resolve } from "node:path";
import { longPair } from "./long_pair.ts";
import { median, parallelDecodeSeconds, timed } from "./_run.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    minutes: { type: "string", default: "5,20" },
    runs: { type: "string", default: "1" },
  },
});
const runs = Math.max(1, Number(values.runs));
const root = resolve(new URL("..", import.meta.url).pathname);
const dir = join(root, ".cache", "bench");
const lengths = values.minutes!.split(",").map(Number);

const rows: string[] = [];
for (const minutes of lengths) {
  console.error(`${minutes}-minute pair: rendering if needed…`);
  const pair = await longPair(dir, minutes);
  const report = join(dir, `long_${minutes}m_report.json`);
  const floors: number[] = [], tools: number[] = [], peaks: number[] = [];
  let exact = 0, backward = 0, placed = "";
  for (let r = 0; r < runs; r++) {
    floors.push(await parallelDecodeSeconds([pair.bg, pair.fg]));
    tools.push(
      await timed(Deno.execPath(), [
        "run",
        "--allow-all",
        join(root, "cli.ts"),
        "comp",
        "--bg",
        pair.bg,
        "--fg",
        pair.fg,
        "--dry-run",
        "--quiet",
        "--report",
        report,
      ]),
    );
    const rep = JSON.parse(await Deno.readTextFile(report));
    peaks.push(rep.peak_memory_mb ?? NaN);
    const map: number[] = rep.frame_map;
    exact = map.filter((j, i) => j === pair.expected[i]).length;
    backward = map.filter((j, i) => i > 0 && j < map[i - 1]).length;
    placed = `(${rep.placement.x}, ${rep.placement.y})`;
    console.error(
      `  run ${r + 1}: decode ${floors[r].toFixed(1)} s, tool ${
        tools[r].toFixed(1)
      } s, peak ${
        peaks[r]
      } MB, exact ${exact}/${map.length}, placement ${placed}`,
    );
  }
  const floor = median(floors), tool = median(tools);
  rows.push(
    `| ${minutes} min | ${pair.expected.length} | ${floor.toFixed(1)} s | ${
      tool.toFixed(1)
    } s | ${(tool / floor).toFixed(2)}× | ${
      (100 * exact / pair.expected.length).toFixed(2)
    }% | ${backward} | ${placed} (truth (${pair.x}, ${pair.y})) | ${
      median(peaks)
    } MB |`,
  );
}
console.log(
  "| bg length | fg frames | decode both (ffmpeg) | comp --dry-run | ratio | frames exact | backward steps | placement | peak memory |",
);
console.log("|---|---|---|---|---|---|---|---|---|");
for (const row of rows) console.log(row);
