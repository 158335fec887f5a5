/**
 * exactPlacement's memo: a second exact search of the same run over the
 * same picks reuses the first one's locator answers and full-resolution
 * pin, and finds what a search without the memo finds (the truth).
 */

import assert from "node:assert/strict";
import { exactMemo, exactPlacement } from "./placement.ts";
import { probe } from "./probe.ts";
import { createTemplate } from "../plugins/locator_template.ts";
import { fixtureDir, makePair, standardPairs } from "../tests/fixtures.ts";

Deno.test("a second exact search with the run's memo reuses its windows and pin and finds the same pixel", async () => {
  const spec = standardPairs.find((s) => s.name === "band_odd")!;
  const pair = await makePair(spec, await fixtureDir());
  const [fg, bg] = await Promise.all([probe(pair.fg), probe(pair.bg)]);
  const locator = createTemplate({ refinePrecision: 2 });
  const picks = [10, 11, 40].map((i) => ({
    fg: i,
    bg: pair.truth.expected[i],
  }));
  // The current placement a few pixels off, as the coarse step leaves it.
  const current = {
    x: pair.truth.x + 2,
    y: pair.truth.y - 1,
    scale: 1,
    confidence: 0.9,
  };
  const search = (memo?: ReturnType<typeof exactMemo>) =>
    exactPlacement(fg, bg, locator, picks, 6, {
      unscaled: true,
      precision: 2,
      current,
      memo,
    });
  const memo = exactMemo();
  const first = await search(memo);
  assert.equal(memo.pins.length, 1);
  assert.equal(memo.located.size, 2, "two windows: frames 10–11 and 40");
  const again = await search(memo);
  assert.equal(memo.pins.length, 1, "the pin was reused, not made again");
  const fresh = await search();
  for (const r of [first, again, fresh]) {
    assert.deepEqual(
      { x: r.placement.x, y: r.placement.y, shift: r.shift },
      { x: pair.truth.x, y: pair.truth.y, shift: 0 },
    );
  }
});
