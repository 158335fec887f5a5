/**
 * Worker entry of the `template` locator's scale sweep: it receives every
 * sample once, then slices of the sweep (one fg sample at some template
 * sizes against the bg samples), and returns their best peaks. Pyramids,
 * integral images and resized templates are built here, per worker.
 *
 * @module
 */

import { serveTasks } from "../core/worker_pool.ts";
import {
  BgLevels,
  FgTemplates,
  type ScaledCandidate,
  type SweepInit,
  sweepPart,
  type SweepTask,
} from "./locator_template.ts";

let fgT: FgTemplates | undefined;
let bgL: BgLevels | undefined;

serveTasks<SweepInit | SweepTask, ScaledCandidate[] | null>((task) => {
  if (task.type === "init") {
    fgT = new FgTemplates(task.fg);
    bgL = new BgLevels(task.bg);
    return Promise.resolve({ result: null });
  }
  if (!fgT || !bgL) {
    return Promise.reject(new Error("sweep worker: no samples yet"));
  }
  return Promise.resolve({ result: sweepPart(fgT, bgL, task.part) });
});
