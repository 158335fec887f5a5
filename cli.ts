/**
 * The vidkompy command line.
 *
 * ```
 * deno run -A cli.ts comp --bg BG.mp4 --fg FG.mp4 [-o OUT.mp4]
 * ```
 *
 * Exit codes: 0 ok, 1 error, 2 usage, 3 no match, 130/143 interrupted.
 *
 * @module
 */

import { Command, Option } from "./deps.ts";
import { addAlignCommand } from "./core/align_command.ts";
import { NoMatchError, VidkompyError } from "./core/errors.ts";
import { prepareOutput } from "./core/output_path.ts";
import { plotDataOf, writePlot } from "./core/plot.ts";
import { makeLogger, parseBool, parseInteger } from "./core/cli_support.ts";
import {
  composite,
  type CompositeResult,
  DEFAULT_FINGERPRINT,
} from "./core/pipeline.ts";
import { registry } from "./core/registry.ts";
import { peakMemoryMb, reportObject, summaryText } from "./core/report.ts";
import type { PluginKind } from "./core/types.ts";

const VERSION = "0.1.0";

/** Accepts the original's snake_case flags (`--temporal_align`, `--x_shift`, …). */
export function normaliseArgs(args: readonly string[]): string[] {
  return args.map((a) => {
    if (!a.startsWith("--")) return a;
    const eq = a.indexOf("=");
    const name = eq < 0 ? a : a.slice(0, eq);
    return name.replaceAll("_", "-") + (eq < 0 ? "" : a.slice(eq));
  });
}

const PRESETS = [
  "ultrafast",
  "superfast",
  "veryfast",
  "faster",
  "fast",
  "medium",
  "slow",
  "slower",
  "veryslow",
];

async function pluginHelp(kind: PluginKind): Promise<string> {
  const defs = await registry.all(kind);
  return defs.map((d) => `${d.name} (${d.description})`).join("; ");
}

/** Builds the commander program (plugins are listed in the help). */
export async function buildProgram(
  onExit: (code: number) => void,
): Promise<Command> {
  const fingerprints = await pluginHelp("fingerprinter");
  const aligners = registry.names("aligner").join(", ");
  const program = new Command()
    .name("vidkompy")
    .version(VERSION)
    .description(
      "Overlay a foreground video onto a background video with automatic spatial and temporal alignment.",
    )
    .exitOverride()
    .configureOutput({
      writeErr: (s) => Deno.stderr.writeSync(new TextEncoder().encode(s)),
    });

  program.command("comp")
    .description(
      "Find where the fg sits in the bg and which bg frame belongs under every fg frame, then write bg-sized video with the fg on top and the fg audio (H.264 + AAC in MP4).",
    )
    .argument("[bg]", "background video (or use --bg)")
    .argument("[fg]", "foreground video (or use --fg)")
    .option("-b, --bg <file>", "background video")
    .option(
      "-f, --fg <file>",
      "foreground video: every frame, its rate and its audio are kept",
    )
    .option(
      "-o, --output <file>",
      "output file (default: {bgstem}_overlay_{fgstem}.mp4 in the current folder)",
    )
    .addOption(
      new Option("--temporal-align <name>", `temporal aligner: ${aligners}`)
        .default("dtw"),
    )
    .option(
      "--fingerprint <spec>",
      `frame features as name[:weight],... from: ${fingerprints} (default: the aligner's own, else ${DEFAULT_FINGERPRINT})`,
    )
    .option(
      "-w, --window <frames>",
      "DTW band half-width in bg frames (0 = automatic)",
      parseInteger("--window", 0, 100000),
      0,
    )
    .option(
      "-x, --x-shift <px>",
      "fixed x of the fg in the bg (skips the spatial search)",
      parseInteger("--x-shift", -100000, 100000),
    )
    .option(
      "-y, --y-shift <px>",
      "fixed y of the fg in the bg (skips the spatial search)",
      parseInteger("--y-shift", -100000, 100000),
    )
    .option("-z, --zero-shift", "place the fg at (0, 0), unscaled")
    .option(
      "-u, --unscaled <bool>",
      "true: the fg is at 100% scale",
      parseBool,
      true,
    )
    .option(
      "-a, --align-precision <level>",
      "spatial precision 0..4",
      parseInteger("--align-precision", 0, 4),
      2,
    )
    .addOption(
      new Option("--preset <name>", "x264 preset: the biggest speed lever")
        .choices(PRESETS).default("veryfast"),
    )
    .option(
      "--crf <n>",
      "x264 quality (lower is better)",
      parseInteger("--crf", 0, 51),
      18,
    )
    .addOption(
      new Option(
        "--engine <name>",
        "full: overlay the whole fg; mask: find the fg's black bars, compare and overlay only the content inside them",
      ).choices(["full", "mask"] as const).default("full" as const),
    )
    .option(
      "--smooth",
      "feather the fg's edges that lie over visible bg (see --margin)",
    )
    .option(
      "--margin <px>",
      "width of the --smooth feather in pixels",
      parseInteger("--margin", 1, 1000),
      8,
    )
    .addOption(
      new Option(
        "--validate <mode>",
        "check matched frames on real pixels (multi-scale SSIM): all frames, a sample of stretches, or none",
      ).choices(["all", "sample", "none"] as const).default("sample" as const),
    )
    .option(
      "--validator <name>",
      `validator plugin for --validate: ${
        registry.names("validator").join(", ")
      }`,
      "msssim",
    )
    .option("--dry-run", "align and report, write no video")
    .option(
      "--report <file>",
      "write a JSON report (placement, offset, frame map, similarity, timings)",
    )
    .option("--json", "print the report JSON on stdout")
    .option(
      "--plot <file>",
      "write a PNG: the frame map over the fps-ratio line, per-frame similarity (and validation), matched fg/bg thumbnails",
    )
    .option("--overwrite", "replace an existing output file")
    .option("--force", "compose even when the fg does not seem to be in the bg")
    .option(
      "--workers <n>",
      "worker threads for fingerprinting (default: cores)",
      parseInteger("--workers", 1, 64),
    )
    .option("--plugin <module...>", "load plugins from these module paths")
    .option(
      "--progress",
      "print progress lines even when stderr is not a terminal",
    )
    .option("-v, --verbose", "debug detail and stack traces")
    .option("-q, --quiet", "no progress or summary")
    .action(async (bgArg, fgArg, opts) => {
      const bg = opts.bg ?? bgArg;
      const fg = opts.fg ?? fgArg;
      if (!bg || !fg) {
        program.error("error: comp needs a bg and a fg (--bg BG --fg FG)", {
          exitCode: 2,
          code: "vidkompy.missingInput",
        });
      }
      for (const p of opts.plugin ?? []) await registry.registerModule(p);
      // A plot path that cannot be written fails before any work.
      if (opts.plot) {
        await prepareOutput(opts.plot, [bg!, fg!], !!opts.overwrite);
      }
      const logger = makeLogger(opts);
      const controller = new AbortController();
      const stop = (signal: Deno.Signal, code: number) => () => {
        logger.info(`interrupted (${signal}), cleaning up`);
        controller.abort(new Error(`interrupted by ${signal}`));
        interruptedCode = code;
      };
      const onInt = stop("SIGINT", 130), onTerm = stop("SIGTERM", 143);
      Deno.addSignalListener("SIGINT", onInt);
      Deno.addSignalListener("SIGTERM", onTerm);
      /** Report, JSON and plot of a result, as asked. */
      const publish = async (
        result: CompositeResult,
        verdict: "match" | "no match",
      ) => {
        const report = {
          verdict,
          ...reportObject(result),
          peak_memory_mb: await peakMemoryMb() ?? null,
        };
        if (opts.report) {
          await Deno.writeTextFile(opts.report, JSON.stringify(report) + "\n");
        }
        if (opts.json) console.log(JSON.stringify(report));
        if (opts.plot) {
          const inputs = [bg!, fg!, ...(result.output ? [result.output] : [])];
          await writePlot(
            opts.plot,
            await plotDataOf(result, { signal: controller.signal }),
            { inputs, overwrite: true },
          );
        }
      };
      try {
        const result = await composite({
          bg: bg!,
          fg: fg!,
          output: opts.output,
          temporalAlign: opts.temporalAlign,
          fingerprint: opts.fingerprint,
          window: opts.window,
          xShift: opts.xShift,
          yShift: opts.yShift,
          zeroShift: opts.zeroShift,
          unscaled: opts.unscaled,
          alignPrecision: opts.alignPrecision,
          engine: opts.engine,
          validate: opts.validate,
          validator: opts.validator,
          smooth: opts.smooth,
          margin: opts.margin,
          preset: opts.preset,
          crf: opts.crf,
          dryRun: opts.dryRun,
          overwrite: opts.overwrite,
          force: opts.force,
          workers: opts.workers,
          logger,
          signal: controller.signal,
        });
        await publish(result, "match");
        logger.info(summaryText(result));
      } catch (err) {
        // A no-match still answers --report/--json/--plot: they show why.
        if (err instanceof NoMatchError && err.analysis) {
          await publish(err.analysis, "no match");
        }
        throw err;
      } finally {
        Deno.removeSignalListener("SIGINT", onInt);
        Deno.removeSignalListener("SIGTERM", onTerm);
      }
      onExit(0);
    });
  addAlignCommand(program);
  return program;
}

let interruptedCode = 0;

/** Runs the CLI with `args`; returns the exit code. */
export async function main(args: readonly string[]): Promise<number> {
  let code = 0;
  const verbose = args.includes("-v") || args.includes("--verbose");
  try {
    const program = await buildProgram((c) => (code = c));
    await program.parseAsync(normaliseArgs(args), { from: "user" });
  } catch (err) {
    if (interruptedCode) return interruptedCode;
    // deno-lint-ignore no-explicit-any
    const e = err as any;
    if (e?.code?.startsWith?.("commander.")) {
      if (
        e.code === "commander.helpDisplayed" ||
        e.code === "commander.version" ||
        e.code === "commander.help"
      ) return 0;
      return 2;
    }
    if (e?.code === "vidkompy.missingInput") return 2;
    if (err instanceof VidkompyError) {
      console.error(
        `vidkompy: ${err.message}${err.hint ? ` (${err.hint})` : ""}`,
      );
      if (verbose) console.error(err.stack);
      return err.exitCode;
    }
    if (err instanceof RangeError || err instanceof TypeError) {
      console.error(`vidkompy: ${err.message}`);
      if (verbose) console.error(err.stack);
      return err instanceof RangeError ? 2 : 1;
    }
    console.error(
      `vidkompy: ${err instanceof Error ? err.message : String(err)}`,
    );
    if (verbose) console.error(err instanceof Error ? err.stack : err);
    return 1;
  }
  // A run that was interrupted but still finished (a stage that does not
  // check the signal) must not report success.
  return interruptedCode || code;
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
