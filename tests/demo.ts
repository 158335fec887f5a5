/**
 * `deno task demo`: makes a short pair with a known offset, crop and frame
 * rate (a 360×200 crop at (61, 37) of a 480×270 slow pan with a moving
 * subject; bg at 30 fps starting 0.5 s earlier, fg at 25 fps), composes it
 * into out/, and prints how many fg frames got the right bg frame and
 * whether the fg landed on the right pixel.
 */

import { join, resolve } from "node:path";
import { composite, summaryText } from "../mod.ts";
import { makePair, scoreMap, standardPairs } from "./fixtures.ts";

// A slow pan at an odd crop, 25 fps fg on a 30 fps bg that starts 0.5 s
// earlier: one of the test suite's standard pairs.
const spec = standardPairs.find((p) => p.name === "pan_odd")!;

const out = resolve("out");
await Deno.mkdir(out, { recursive: true });
console.error(
  "making the demo pair (bg 480×270 @ 30 fps, fg 360×200 @ 25 fps)…",
);
const pair = await makePair(spec, out);
const output = join(out, "demo_overlay.mp4");
const result = await composite({
  bg: pair.bg,
  fg: pair.fg,
  output,
  overwrite: true,
  preset: "veryfast",
});
console.error(summaryText(result));
const score = scoreMap(result.frameMap, pair.truth);
const placed = result.placement.x === pair.truth.x &&
  result.placement.y === pair.truth.y;
console.log(
  `frames matching the truth: ${score.exact}/${score.total} (${
    (100 * score.exactRatio).toFixed(1)
  }%), backward steps: ${score.backwardSteps}`,
);
console.log(
  `placement: (${result.placement.x}, ${result.placement.y}), truth (${pair.truth.x}, ${pair.truth.y}) ${
    placed ? "exact" : "WRONG"
  }`,
);
console.log(`output: ${output}`);
if (score.exactRatio < 0.99 || !placed) Deno.exit(1);
