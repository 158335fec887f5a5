import assert from "node:assert/strict";
import { crop, texture } from "../bench/_texture.ts";
import { integralImages, nccMap } from "./ncc.ts";

Deno.test("nccMap scores a few positions the same with and without integral images", () => {
  const image = texture(160, 100, 5);
  const template = crop(image, 37, 21, 90, 60);
  // 5×5 positions: summed beside the dot product; with `integral` given,
  // read from the tables.
  const few = new Float32Array(25), viaTables = new Float32Array(25);
  const a = nccMap(image, template, 35, 19, 39, 23, { out: few });
  const b = nccMap(image, template, 35, 19, 39, 23, {
    out: viaTables,
    integral: integralImages(image),
  });
  assert.deepEqual([a.x, a.y], [37, 21]);
  assert.deepEqual([b.x, b.y], [37, 21]);
  assert.ok(Math.abs(a.score - 1) < 1e-9);
  for (let k = 0; k < 25; k++) {
    assert.ok(Math.abs(few[k] - viaTables[k]) < 1e-5, `position ${k}`);
  }
  // A flat window scores 0, not a match.
  const flat = { width: 160, height: 100, data: new Uint8Array(16000) };
  assert.equal(nccMap(flat, template, 0, 0, 2, 2).score, 0);
});

Deno.test("nccMap's few-position path agrees with the tables at the image's edge and for odd widths", () => {
  const image = texture(161, 101, 9);
  for (
    const [x, y, w, h] of [[68, 38, 93, 63], [0, 0, 91, 61], [3, 40, 157, 59]]
  ) {
    const template = crop(image, x, y, w, h);
    // ±3 around the truth, partly outside the image: the range is clamped.
    const few = new Float32Array(49), viaTables = new Float32Array(49);
    const a = nccMap(image, template, x - 3, y - 3, x + 3, y + 3, { out: few });
    const b = nccMap(image, template, x - 3, y - 3, x + 3, y + 3, {
      out: viaTables,
      integral: integralImages(image),
    });
    assert.deepEqual([a.x, a.y], [x, y]);
    assert.deepEqual([b.x, b.y], [x, y]);
    for (let k = 0; k < 49; k++) {
      if (Number.isNaN(viaTables[k])) {
        assert.ok(Number.isNaN(few[k]), `position ${k} is outside`);
      } else assert.ok(Math.abs(few[k] - viaTables[k]) < 1e-5, `position ${k}`);
    }
  }
});
