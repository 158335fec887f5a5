/**
 * Progress rendering, kept pure: the renderer is fed stage updates and a
 * clock, and returns the text to write (the caller owns stderr). On a
 * terminal each running stage has one line that is redrawn in place (name,
 * bar, done/total, rate, ETA); without one, plain lines at most every few
 * seconds per stage and once when it ends.
 *
 * @module
 */

/** How progress is shown. */
export type ProgressMode = "bar" | "lines" | "off";

/** Options of {@link ProgressRenderer}. */
export interface ProgressRendererOptions {
  /** `bar`: redrawn lines (a terminal); `lines`: plain periodic lines; `off`. */
  readonly mode: ProgressMode;
  /** ANSI colours (false when NO_COLOR is set or stderr is no terminal). */
  readonly color: boolean;
  /** Milliseconds on a monotonic clock (default `performance.now`). */
  readonly clock?: () => number;
  /** Terminal columns; bar lines are cut to fit so redraws stay aligned. */
  readonly columns?: number;
  /** Least milliseconds between redraws in `bar` mode (default 100). */
  readonly redrawMs?: number;
  /** Least milliseconds between two lines of one stage in `lines` mode (default 2000). */
  readonly lineMs?: number;
}

/** One stage's figures at a moment, as the formatters take them. */
export interface StageFigures {
  /** Stage name, e.g. `analyse bg`. */
  readonly stage: string;
  /** Units done. */
  readonly done: number;
  /** Units in all (0 when unknown). */
  readonly total: number;
  /** Seconds since the stage started. */
  readonly elapsed: number;
}

/** Control Sequence Introducer: cursor moves, clears and colours start with it. */
const CSI = "\x1b[";
/** Width the stage name is padded to in bar lines, so bars line up. */
const NAME_WIDTH = 14;
/** Cells of the bar. */
const BAR_CELLS = 24;

/** `12.3s`, `4m05s`, `2h03m`: short and unambiguous. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "?";
  if (seconds < 60) return `${seconds.toFixed(1)}s`;
  const s = Math.round(seconds);
  if (s < 3600) {
    return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  }
  const m = Math.round(s / 60);
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m`;
}

/** Units per second with sensible precision (`0.5/s`, `12/s`, `1250/s`). */
export function formatRate(perSecond: number): string {
  if (!Number.isFinite(perSecond) || perSecond <= 0) return "-/s";
  return `${perSecond < 10 ? perSecond.toFixed(1) : perSecond.toFixed(0)}/s`;
}

/** Rate, share and remaining time of a stage's figures. */
function measures(f: StageFigures) {
  const done = Math.max(0, f.done);
  const rate = f.elapsed > 0 ? done / f.elapsed : 0;
  const share = f.total > 0 ? Math.min(1, done / f.total) : 0;
  const finished = f.total > 0 && done >= f.total;
  const eta = rate > 0 && f.total > done ? (f.total - done) / rate : NaN;
  return { done, rate, share, finished, eta };
}

/** The tail after the counts: `eta 1.2s` while running, `in 3.4s` when done. */
function timeText(f: StageFigures): string {
  const m = measures(f);
  if (m.finished) return `in ${formatDuration(f.elapsed)}`;
  return `eta ${Number.isFinite(m.eta) ? formatDuration(m.eta) : "?"}`;
}

/**
 * One plain progress line (no bar, no control codes), e.g.
 * `analyse bg 64/120 53% 572/s eta 0.1s`.
 */
export function formatPlainLine(f: StageFigures): string {
  const m = measures(f);
  return `${f.stage} ${m.done}/${f.total} ${(100 * m.share).toFixed(0)}% ${
    formatRate(m.rate)
  } ${timeText(f)}`;
}

/**
 * One bar line, e.g.
 * `analyse bg     [############------------]  64/120  53%  572/s  eta 0.1s`;
 * with `color`, the filled cells are cyan and the time is dim. Cut to
 * `columns - 1` visible characters so it never wraps.
 */
export function formatBarLine(
  f: StageFigures,
  options: { color: boolean; columns?: number },
): string {
  const m = measures(f);
  const filled = Math.round(m.share * BAR_CELLS);
  const full = "#".repeat(filled), empty = "-".repeat(BAR_CELLS - filled);
  const name = f.stage.length > NAME_WIDTH
    ? f.stage.slice(0, NAME_WIDTH)
    : f.stage.padEnd(NAME_WIDTH);
  const counts = `${m.done}/${f.total}`.padStart(
    2 * String(f.total).length + 1,
  );
  const pct = `${(100 * m.share).toFixed(0)}%`.padStart(4);
  const rate = formatRate(m.rate).padStart(8);
  const time = timeText(f);
  // A terminal that reports no size (0 columns) gets the classic 80.
  const columns = options.columns && options.columns > 0 ? options.columns : 80;
  const width = Math.max(20, columns - 1);
  const plain = `${name} [${full}${empty}] ${counts} ${pct} ${rate}  ${time}`;
  if (plain.length > width) return plain.slice(0, width);
  if (!options.color) return plain;
  const paint = (code: string, s: string) =>
    s ? `${CSI}${code}m${s}${CSI}0m` : s;
  return `${name} [${paint("36", full)}${empty}] ${counts} ${pct} ${rate}  ${
    paint("2", time)
  }`;
}

/** A stage as the renderer tracks it. */
interface StageRun {
  readonly stage: string;
  readonly start: number;
  done: number;
  total: number;
  finished: boolean;
  /** When it finished (its elapsed time stops there). */
  end: number;
  /** When its last plain line was written (`lines` mode). */
  lastLine: number;
}

/**
 * Turns stage updates into terminal text. Feed it every update; write what
 * it returns (possibly empty) to stderr. Messages go through
 * {@link ProgressRenderer.message} so they never land inside the bars.
 *
 * A stage is a run from its first update to `done >= total`; further
 * reports of a finished stage with the same count are ignored, and a lower
 * count starts a new run of it (a stage that is done again after a re-analysis).
 */
export class ProgressRenderer {
  readonly #mode: ProgressMode;
  readonly #color: boolean;
  readonly #clock: () => number;
  readonly #columns?: number;
  readonly #redrawMs: number;
  readonly #lineMs: number;
  /** The latest run of each stage name. */
  readonly #runs = new Map<string, StageRun>();
  /** Runs shown in the redrawn block, top to bottom (`bar` mode). */
  #block: StageRun[] = [];
  /** Lines of the block currently on screen above the cursor. */
  #drawn = 0;
  #lastDraw = -Infinity;

  constructor(options: ProgressRendererOptions) {
    this.#mode = options.mode;
    this.#color = options.color;
    this.#clock = options.clock ?? (() => performance.now());
    this.#columns = options.columns;
    this.#redrawMs = options.redrawMs ?? 100;
    this.#lineMs = options.lineMs ?? 2000;
  }

  /** Records `done` of `total` for `stage`; returns the text to write. */
  update(stage: string, done: number, total: number): string {
    if (this.#mode === "off") return "";
    const now = this.#clock();
    let run = this.#runs.get(stage);
    let fresh = false;
    if (!run || (run.finished && done < run.done)) {
      run = {
        stage,
        start: now,
        done: 0,
        total,
        finished: false,
        end: now,
        lastLine: now,
      };
      this.#runs.set(stage, run);
      fresh = true;
    } else if (run.finished) {
      return "";
    }
    run.done = done;
    run.total = total;
    const justFinished = total > 0 && done >= total;
    run.finished = justFinished;
    run.end = now;
    if (this.#mode === "lines") {
      if (!justFinished && now - run.lastLine < this.#lineMs) return "";
      run.lastLine = now;
      return formatPlainLine(this.#figures(run, now)) + "\n";
    }
    if (fresh) this.#block.push(run);
    if (!fresh && !justFinished && now - this.#lastDraw < this.#redrawMs) {
      return "";
    }
    return this.#redraw(now);
  }

  /**
   * A line to show (log output). In `bar` mode the live bars are erased
   * first and come back below it with the next update, so a stage that
   * never reports its end leaves no stale bar under the final summary.
   */
  message(line: string): string {
    return this.#erase() + line + "\n";
  }

  #figures(run: StageRun, now: number): StageFigures {
    return {
      stage: run.stage,
      done: run.done,
      total: run.total,
      elapsed: ((run.finished ? run.end : now) - run.start) / 1000,
    };
  }

  /** Moves up over the drawn bars and clears from there down. */
  #erase(): string {
    const out = this.#drawn > 0 ? `${CSI}${this.#drawn}A\r${CSI}J` : "";
    this.#drawn = 0;
    return out;
  }

  /**
   * Redraws the bars: stages that finished are written a last time above
   * the others and leave the block (they stay on screen as history); the
   * running ones form the block that the next redraw moves back over.
   */
  #redraw(now: number): string {
    this.#lastDraw = now;
    let out = this.#erase();
    const finished = this.#block.filter((r) => r.finished);
    const running = this.#block.filter((r) => !r.finished);
    for (const run of [...finished, ...running]) {
      out += formatBarLine(this.#figures(run, now), {
        color: this.#color,
        columns: this.#columns,
      }) + "\n";
    }
    this.#block = running;
    this.#drawn = running.length;
    return out;
  }
}
