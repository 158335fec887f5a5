import assert from "node:assert/strict";
import { crop, texture } from "../bench/_texture.ts";
import { NoMatchError, PluginError } from "./errors.ts";
import type { GrayImage } from "./frame.ts";
import { scanMoments } from "./moment_scan.ts";
import { plugin as template } from "../plugins/locator_template.ts";
import type { Locator } from "./types.ts";
import {
  foundOrThrow,
  searchWindow,
  windowReply,
  type WindowSearch,
} from "./window_search.ts";

/** bg frame t: a picture of its own (only the true moment matches). */
const bgFrame = (t: number): GrayImage => texture(200, 120, 40 + t);

/** fg frames 6, 7 cut at (40, 30) from bg frames 6, 7; matched to 4, 5. */
function window(locate = true): WindowSearch {
  const bg = Array.from({ length: 12 }, (_, j) => bgFrame(j));
  const fg = [6, 7].map((t) => crop(bgFrame(t), 40, 30, 110, 70));
  return { fg, bg, at: [4, 5], x: 40, y: 30, locate, precision: 2 };
}

/** A locator whose locate throws `err` (refine is never called here). */
const throwing = (err: Error): Locator => ({
  name: "broken",
  locate: () => {
    throw err;
  },
  refine: () => {
    throw new Error("not used");
  },
});

Deno.test("a window search is the locator's answer and the moment scan of the same window", async () => {
  const locator = template.create({}) as Locator;
  const w = window();
  const found = await searchWindow(locator, w);
  const located = await locator.locate({
    fg: w.fg,
    bg: w.bg,
    unscaled: true,
    precision: 2,
  });
  assert.deepEqual(found.located, located);
  assert.deepEqual(found.scan, scanMoments(w));
  // The truth: the fg sits at (40, 30) in bg frames 6 and 7.
  assert.deepEqual(
    located.matches.map((m) => [m.bg, m.placement.x, m.placement.y]),
    [[6, 40, 30], [7, 40, 30]],
  );
  // Not asked: no locator call, the scan still runs.
  const scanOnly = await searchWindow(throwing(new Error("called")), {
    ...w,
    locate: false,
  });
  assert.equal(scanOnly.located, undefined);
  assert.deepEqual(scanOnly.scan, found.scan);
});

Deno.test("a window search treats a locator's plain error as blank picks and passes its own errors on", async () => {
  const blank = await searchWindow(
    throwing(new RangeError("nothing to match")),
    window(),
  );
  assert.equal(blank.located, undefined);
  assert.ok(blank.scan);
  const own = new NoMatchError("not here", { hint: "look elsewhere" });
  await assert.rejects(searchWindow(throwing(own), window()), (e) => e === own);
});

Deno.test("a worker's window reply carries a locator's own error back as a PluginError", async () => {
  const own = new NoMatchError("not here", { hint: "look elsewhere" });
  const reply = await windowReply(throwing(own), window());
  // What a worker posts must survive structured cloning.
  const back = structuredClone(reply);
  assert.throws(
    () => foundOrThrow(back, "broken"),
    (e) =>
      e instanceof PluginError && e.message === "locator broken: not here" &&
      e.hint === "look elsewhere",
  );
  const ok = structuredClone(
    await windowReply(template.create({}) as Locator, window()),
  );
  assert.deepEqual(
    foundOrThrow(ok, "template"),
    await searchWindow(template.create({}) as Locator, window()),
  );
  // Anything else is the worker's failure, as for any task.
  const odd: Locator = {
    ...throwing(new Error()),
    locate: () => {
      throw "not an Error";
    },
  };
  await assert.rejects(windowReply(odd, window()), (e) => e === "not an Error");
});
