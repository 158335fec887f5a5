/**
 * End-to-end benchmark: an 8 s 1080p 60 fps pair (a 1920×870 fg band of a
 * 1920×1080 bg that starts 0.5 s earlier), composed by `vidkompy comp` and,
 * as the floor, by a plain ffmpeg overlay of the same inputs with the same
 * x264 settings (which aligns nothing). Prints both wall times, their ratio,
 * the tool process's peak memory (VmHWM: main thread and workers, not the
 * ffmpeg children) and the frame-map accuracy against the known truth.
 *
 * Usage: deno task bench:e2e [--runs 3] [--preset veryfast] [--dry-run]
 * [--validate sample|all|none]
 *
 * @module
 */

import { parseArgs } from "node:util";
import { join, resolve } from "node:path";
import { exists } from "../tests/fixtures.ts";
import { median, parallelDecodeSeconds, run, timed } from "./_run.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    runs: { type: "string", default: "1" },
    preset: { type: "string", default: "veryfast" },
    crf: { type: "string", default: "18" },
    "dry-run": { type: "boolean", default: false },
    validate: { type: "string", default: "sample" },
  },
});
const runs = Math.max(1, Number(values.runs));
const root = resolve(new URL("..", import.meta.url).pathname);
const dir = join(root, ".cache", "bench");
await Deno.mkdir(dir, { recursive: true });

const W = 1920, H = 1080, FPS = 60;
const BAND = { x: 0, y: 105, width: 1920, height: 870 };
const LEAD = 0.5; // the bg starts this much earlier than the fg
const FG_SECONDS = 8;
const bgPath = join(dir, "e2e_bg.mp4");
const fgPath = join(dir, "e2e_fg.mp4");

if (!(await exists(bgPath)) || !(await exists(fgPath))) {
  console.error("making the 1080p60 pair (once; cached in .cache/bench)…");
  const src = `testsrc2=size=${W}x${H}:rate=${FPS}`;
  await run("ffmpeg", [
    "-v",
    "error",
    "-y",
    "-f",
    "lavfi",
    "-i",
    src,
    "-t",
    String(FG_SECONDS + LEAD),
    "-c:v",
    "libx264",
    "-preset",
    "veryfast",
    "-crf",
    "20",
    "-pix_fmt",
    "yuv420p",
    bgPath,
  ]);
  await run("ffmpeg", [
    "-v",
    "error",
    "-y",
    "-f",
    "lavfi",
    "-i",
    src,
    "-f",
    "lavfi",
    "-i",
    "sine=frequency=440:sample_rate=48000",
    "-filter_complex",
    `[0:v]trim=start=${LEAD}:duration=${FG_SECONDS},setpts=PTS-STARTPTS,crop=${BAND.width}:${BAND.height}:${BAND.x}:${BAND.y}:exact=1[v];[1:a]atrim=duration=${FG_SECONDS}[a]`,
    "-map",
    "[v]",
    "-map",
    "[a]",
    "-c:v",
    "libx264",
    "-preset",
    "veryfast",
    "-crf",
    "18",
    "-pix_fmt",
    "yuv420p",
    "-c:a",
    "aac",
    fgPath,
  ]);
}

const x264 = [
  "-c:v",
  "libx264",
  "-preset",
  values.preset!,
  "-crf",
  values.crf!,
];
const floorOut = join(dir, "e2e_floor.mp4");
const compOut = join(dir, "e2e_comp.mp4");
const report = join(dir, "e2e_report.json");
const floors: number[] = [], comps: number[] = [], peaks: number[] = [];
let stages: Record<string, number> = {};
for (let r = 0; r < runs; r++) {
  if (!values["dry-run"]) {
    const floor = await timed("ffmpeg", [
      "-v",
      "error",
      "-y",
      "-i",
      bgPath,
      "-i",
      fgPath,
      "-filter_complex",
      `[0:v][1:v]overlay=x=${BAND.x}:y=${BAND.y}:eof_action=pass[v]`,
      "-map",
      "[v]",
      "-map",
      "1:a",
      ...x264,
      "-c:a",
      "copy",
      floorOut,
    ]);
    floors.push(floor);
  } else {
    floors.push(await parallelDecodeSeconds([bgPath, fgPath]));
  }
  const comp = await timed(Deno.execPath(), [
    "run",
    "--allow-all",
    join(root, "cli.ts"),
    "comp",
    "--bg",
    bgPath,
    "--fg",
    fgPath,
    "-o",
    compOut,
    "--overwrite",
    "--preset",
    values.preset!,
    "--crf",
    values.crf!,
    "--report",
    report,
    "--validate",
    values.validate!,
    ...(values["dry-run"] ? ["--dry-run"] : []),
  ]);
  comps.push(comp);
  const rep = JSON.parse(await Deno.readTextFile(report));
  // The tool reports its own VmHWM at exit (main thread and workers, no
  // ffmpeg children).
  peaks.push(rep.peak_memory_mb ?? NaN);
  stages = rep.timings;
  // Truth: fg frame i shows the moment of bg frame i + LEAD·FPS.
  const map: number[] = rep.frame_map;
  const lead = Math.round(LEAD * FPS);
  const exact = map.filter((j, i) => j === i + lead).length;
  console.error(
    `run ${r + 1}: floor ${floors[r].toFixed(2)} s, comp ${
      comp.toFixed(2)
    } s, peak ${
      peaks[r].toFixed(0)
    } MB, placement (${rep.placement.x}, ${rep.placement.y}), exact ${exact}/${map.length}`,
  );
}
const floor = median(floors), comp = median(comps), peak = median(peaks);
console.log(
  `${
    values["dry-run"]
      ? "decode floor (both inputs, parallel)"
      : "ffmpeg overlay floor"
  }: ${floor.toFixed(2)} s`,
);
console.log(
  `vidkompy comp${values["dry-run"] ? " --dry-run" : ""}: ${comp.toFixed(2)} s`,
);
console.log(`ratio: ${(comp / floor).toFixed(2)}×`);
console.log(`tool peak memory (VmHWM): ${peak.toFixed(0)} MB`);
console.log(
  `stages: ${Object.entries(stages).map(([k, v]) => `${k} ${v}s`).join(", ")}`,
);
