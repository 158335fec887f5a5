/**
 * `align` against ground truth: the library (`alignMedia`) on every fixture
 * of tests/align_fixtures.ts, still loading, and the command line (JSON,
 * table, the original's flags, exit codes).
 *
 * The scaled cases need the locator's scaled search (`unscaled: false`).
 */

import { runCli } from "./_cli.ts";
import assert from "node:assert/strict";
import {
  alignMedia,
  type AlignMediaResult,
  FOUND_CONFIDENCE,
} from "../core/align_media.ts";
import { InputError } from "../core/errors.ts";
import { cropFrame } from "../core/frame.ts";
import { decodeAll } from "../core/frame_reader.ts";
import { probe } from "../core/probe.ts";
import { loadStill, openMedia } from "../core/still_image.ts";
import {
  type AlignFixture,
  alignFixtureDir,
  type AlignTruth,
  blankFixture,
  imageFixtures,
  scaledImageFixtures,
  scaledVideoFixture,
  videoFixtures,
} from "./align_fixtures.ts";

const images = await imageFixtures();
const scaledImages = await scaledImageFixtures();
const videos = await videoFixtures();

function fixture(list: AlignFixture[], name: string): AlignFixture {
  const f = list.find((x) => x.name === name);
  if (!f) throw new RangeError(`no fixture ${name}`);
  return f;
}

/** The bar of issue #3: within 1 px and 0.5% of scale, and found. */
function assertPlaced(r: AlignMediaResult, truth: AlignTruth): void {
  const p = r.placement;
  const where = `got x=${p.x} y=${p.y} scale=${p.scale} ncc=${
    p.confidence.toFixed(4)
  }, want x=${truth.x} y=${truth.y} scale=${truth.scale}`;
  assert.ok(Math.abs(p.x - truth.x) <= 1, where);
  assert.ok(Math.abs(p.y - truth.y) <= 1, where);
  assert.ok(Math.abs(p.scale / truth.scale - 1) <= 0.005, where);
  assert.ok(r.found, `not reported as found: ${where}`);
  assert.ok(p.confidence >= FOUND_CONFIDENCE, where);
}

// ---------------------------------------------------------------------------
// Loading stills

Deno.test("loadStill: PNG through imagescript equals ffmpeg's own decode, pixel for pixel", async () => {
  const crop = fixture(images, "crop_png_in_jpg").fg;
  const frame = await loadStill(crop);
  const info = await probe(crop);
  const [ref] = await decodeAll({
    path: crop,
    format: { width: info.width, height: info.height, channels: 3 },
    maxFrames: 1,
  });
  assert.equal(frame.width, 301);
  assert.equal(frame.height, 187);
  assert.equal(frame.channels, 3);
  assert.deepEqual(frame.data, ref);
});

Deno.test("loadStill: a BMP (through ffmpeg) holds the PNG's pixels of the same crop", async () => {
  const bmp = fixture(images, "bmp_in_webp").fg;
  const source = fixture(images, "identical").fg; // the lossless source picture
  const [fromBmp, whole] = await Promise.all([
    loadStill(bmp),
    loadStill(source),
  ]);
  const expected = cropFrame(whole, { x: 77, y: 45, width: 256, height: 144 });
  assert.equal(fromBmp.width, 256);
  assert.equal(fromBmp.height, 144);
  assert.deepEqual(fromBmp.data, expected.data);
});

Deno.test("openMedia tells stills (PNG/JPEG decoded in process, others probed) from videos", async () => {
  const [still, jpeg, webp, video] = await Promise.all([
    openMedia(fixture(images, "crop_png_in_jpg").fg, "fg"),
    openMedia(fixture(images, "crop_png_in_jpg").bg, "bg"),
    openMedia(fixture(images, "bmp_in_webp").bg, "bg"),
    openMedia(fixture(videos, "video_offset_crop").bg, "bg"),
  ]);
  assert.deepEqual(
    [still.kind, jpeg.kind, webp.kind, video.kind],
    ["image", "image", "image", "video"],
  );
  assert.equal(webp.info.width, 640);
  assert.ok(video.info.frames > 1);
});

// ---------------------------------------------------------------------------
// Still pairs

for (const f of images.filter((f) => f.truth.present)) {
  Deno.test(`alignMedia finds ${f.name} at precision 2`, async () => {
    const r = await alignMedia({ fg: f.fg, bg: f.bg, precision: 2 });
    assertPlaced(r, f.truth);
    assert.equal(r.framesUsed, 1);
    assert.equal(r.fg.kind, "image");
    assert.equal(r.bg.kind, "image");
    assert.ok(
      Number.isInteger(r.placement.x) && Number.isInteger(r.placement.y),
    );
  });
}

Deno.test("alignMedia: a fg identical to its bg is at (0, 0), 100%", async () => {
  const f = fixture(images, "identical");
  const r = await alignMedia({ fg: f.fg, bg: f.bg });
  assert.deepEqual(
    [r.placement.x, r.placement.y, r.placement.scale],
    [0, 0, 1],
  );
  assert.ok(r.placement.confidence > 0.99);
});

Deno.test("alignMedia: a fg that is not in the bg is reported as not found, with low confidence", async () => {
  const f = fixture(images, "absent");
  const r = await alignMedia({ fg: f.fg, bg: f.bg });
  assert.equal(r.found, false);
  assert.ok(
    r.placement.confidence < FOUND_CONFIDENCE,
    `confidence ${r.placement.confidence}`,
  );
});

Deno.test("alignMedia: a 35% thumbnail searched at 100% only is not reported as found", async () => {
  // At 100% the best match is the picture over its own blurred fill.
  const f = fixture(scaledImages, "thumb_35pct_blurred_fill");
  const r = await alignMedia({ fg: f.fg, bg: f.bg, alternative: false });
  assert.equal(r.found, false, `confidence ${r.placement.confidence}`);
});

Deno.test("alignMedia at precision 1 stays within the coarse scale's uncertainty, in whole pixels", async () => {
  const f = fixture(images, "crop_png_in_jpg");
  const r = await alignMedia({ fg: f.fg, bg: f.bg, precision: 1 });
  // 640×360 is searched at 480×270: one coarse pixel is 4/3 bg pixels.
  assert.ok(Math.abs(r.placement.x - f.truth.x) <= 3, `x=${r.placement.x}`);
  assert.ok(Math.abs(r.placement.y - f.truth.y) <= 3, `y=${r.placement.y}`);
  assert.ok(Number.isInteger(r.placement.x) && Number.isInteger(r.placement.y));
  assert.equal(r.precision, 1);
  assert.equal(r.placement.scale, 1);
});

Deno.test("alignMedia at precision 0 gives the ballpark (within 2.5% of the bg's width)", async () => {
  const f = fixture(images, "crop_png_in_jpg");
  const r = await alignMedia({ fg: f.fg, bg: f.bg, precision: 0 });
  assert.ok(Math.abs(r.placement.x - f.truth.x) <= 16, `x=${r.placement.x}`);
  assert.ok(Math.abs(r.placement.y - f.truth.y) <= 16, `y=${r.placement.y}`);
});

Deno.test("alignMedia at precision 4 gives sub-pixel x and y near the truth", async () => {
  const f = fixture(images, "crop_png_in_jpg");
  const r = await alignMedia({ fg: f.fg, bg: f.bg, precision: 4 });
  assert.ok(Math.abs(r.placement.x - f.truth.x) <= 0.5, `x=${r.placement.x}`);
  assert.ok(Math.abs(r.placement.y - f.truth.y) <= 0.5, `y=${r.placement.y}`);
  assert.ok(r.found);
});

Deno.test("alignMedia refuses a fg larger than the bg at 100%, naming --unscaled false", async () => {
  const f = fixture(images, "crop_png_in_jpg");
  await assert.rejects(
    () => alignMedia({ fg: f.bg, bg: f.fg }),
    (err: unknown) =>
      err instanceof InputError && /larger than the bg/.test(err.message) &&
      /--unscaled false/.test(err.hint ?? ""),
  );
});

Deno.test("alignMedia refuses a blank fg: there is nothing to look for", async () => {
  const blank = await blankFixture();
  await assert.rejects(
    () => alignMedia({ fg: blank, bg: fixture(images, "absent").bg }),
    (err: unknown) => err instanceof InputError && /blank/.test(err.message),
  );
});

// ---------------------------------------------------------------------------
// Scaled stills (need the locator's scaled search)

for (const f of scaledImages) {
  Deno.test(`alignMedia finds ${f.name} with --unscaled false at precision 2`, async () => {
    const r = await alignMedia({
      fg: f.fg,
      bg: f.bg,
      precision: 2,
      unscaled: false,
    });
    assertPlaced(r, f.truth);
    assert.equal(r.unscaled, false);
  });
}

Deno.test("alignMedia reports the other scale mode as an alternative", async () => {
  const crop = fixture(images, "crop_png_in_jpg");
  const r = await alignMedia({ fg: crop.fg, bg: crop.bg });
  assert.equal(r.alternatives.length, 1, r.alternativeNote);
  const alt = r.alternatives[0];
  assert.equal(alt.unscaled, false);
  // The scaled search finds the same 100% crop.
  assert.ok(
    Math.abs(alt.placement.scale - 1) <= 0.02,
    `${alt.placement.scale}`,
  );
  assert.ok(Math.abs(alt.placement.x - crop.truth.x) <= 3);

  // A 35% thumbnail: its 100% alternative matches worse than the scaled result.
  const thumb = fixture(scaledImages, "thumb_35pct_blurred_fill");
  const s = await alignMedia({ fg: thumb.fg, bg: thumb.bg, unscaled: false });
  assert.equal(s.alternatives.length, 1, s.alternativeNote);
  assert.equal(s.alternatives[0].unscaled, true);
  assert.ok(
    s.alternatives[0].placement.confidence < s.placement.confidence,
    `alternative ${
      s.alternatives[0].placement.confidence
    } vs ${s.placement.confidence}`,
  );
});

// ---------------------------------------------------------------------------
// Videos

for (const f of videos.filter((f) => f.pair)) {
  Deno.test(`alignMedia finds ${f.name} (bg starts earlier) on same-moment pairs`, async () => {
    const pair = f.pair!;
    const r = await alignMedia({ fg: f.fg, bg: f.bg, precision: 2 });
    assertPlaced(r, f.truth);
    assert.equal(r.fg.kind, "video");
    assert.ok(r.framesUsed >= 5 && r.framesUsed <= 7, `${r.framesUsed}`);
    assert.ok(r.pairs.length >= 1);
    for (const p of r.pairs) {
      assert.ok(
        pair.truth.accepted[p.fg].includes(p.bg),
        `fg ${p.fg} paired with bg ${p.bg}, want ${pair.truth.accepted[p.fg]}`,
      );
    }
    const frame = 1 / pair.truth.bgFps;
    assert.ok(
      Math.abs(r.offsetSeconds! - f.truth.offsetSeconds!) <= frame + 1e-6,
      `offset ${r.offsetSeconds}`,
    );
  });
}

Deno.test("alignMedia finds a still cut from a video, and the moment it shows", async () => {
  const f = fixture(videos, "image_in_video");
  const r = await alignMedia({ fg: f.fg, bg: f.bg });
  assertPlaced(r, f.truth);
  assert.equal(r.bg.kind, "video");
  assert.ok(
    f.truth.bgFrames!.includes(r.pairs[0].bg),
    `bg frame ${r.pairs[0].bg}`,
  );
  assert.equal(r.offsetSeconds, undefined);
});

Deno.test("alignMedia finds a 60% video over a blurred fill of itself, with --unscaled false", async () => {
  const f = await scaledVideoFixture();
  const r = await alignMedia({
    fg: f.fg,
    bg: f.bg,
    precision: 2,
    unscaled: false,
  });
  assertPlaced(r, f.truth);
  assert.ok(
    Math.abs(r.offsetSeconds! - f.truth.offsetSeconds!) <= 1 / 30 + 1e-6,
    `offset ${r.offsetSeconds}`,
  );
});

// ---------------------------------------------------------------------------
// The command line

const cli = (args: string[]) => runCli(args);

Deno.test("cli align --json prints exactly one JSON object with the result", async () => {
  const f = fixture(images, "crop_png_in_jpg");
  const r = await cli(["align", f.fg, f.bg, "--json"]);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split("\n");
  assert.equal(lines.length, 1, r.stdout);
  const json = JSON.parse(lines[0]);
  assert.equal(json.x, 117);
  assert.equal(json.y, 63);
  assert.equal(json.scale, 1);
  assert.ok(json.confidence >= FOUND_CONFIDENCE && json.confidence <= 1);
  assert.equal(json.found, true);
  assert.deepEqual(json.fg_size, { width: 301, height: 187 });
  assert.deepEqual(json.bg_size, { width: 640, height: 360 });
  assert.equal(json.precision, 2);
  assert.equal(json.frames_used, 1);
  assert.ok(Array.isArray(json.alternatives));
  assert.equal(typeof json.timings.total, "number");
});

Deno.test("cli align prints a table with the numbers, and says plainly when the fg is not there", async () => {
  const found = fixture(images, "regraded_noisy");
  const t = await cli(["align", found.fg, found.bg]);
  assert.equal(t.code, 0, t.stderr);
  assert.match(t.stdout, /^result\s+found/m);
  assert.match(t.stdout, /x=241 y=131/);
  assert.match(t.stdout, /100\.00%/);
  assert.match(t.stdout, /333×201 image/);
  assert.match(t.stdout, /640×360 image/);

  const absent = fixture(images, "absent");
  const a = await cli(["align", absent.fg, absent.bg]);
  assert.equal(a.code, 0, a.stderr);
  const m = a.stdout.match(
    /NOT FOUND: the fg does not seem to be in the bg \(best confidence (0\.\d{4})/,
  );
  assert.ok(m, a.stdout);
  assert.ok(Number(m[1]) < FOUND_CONFIDENCE);
});

Deno.test("cli align takes the original's flags on a video pair: --num_frames, -p, -u", async () => {
  const f = fixture(videos, "video_offset_crop");
  const r = await cli([
    "align",
    f.fg,
    f.bg,
    "--num_frames",
    "3",
    "-p",
    "1",
    "-u",
    "--json",
  ]);
  assert.equal(r.code, 0, r.stderr);
  const json = JSON.parse(r.stdout);
  assert.equal(json.precision, 1);
  assert.equal(json.unscaled, true);
  assert.ok(json.frames_used >= 1 && json.frames_used <= 3, r.stdout);
  assert.ok(
    Math.abs(json.x - f.truth.x) <= 2 && Math.abs(json.y - f.truth.y) <= 2,
  );
  assert.equal(json.fg_kind, "video");
});

Deno.test("cli align --unscaled false finds a scaled thumbnail", async () => {
  const f = fixture(scaledImages, "thumb_72_5pct_busy_1280");
  const r = await cli(["align", f.fg, f.bg, "--unscaled", "false", "--json"]);
  assert.equal(r.code, 0, r.stderr);
  const json = JSON.parse(r.stdout);
  assert.ok(Math.abs(json.x - f.truth.x) <= 1, r.stdout);
  assert.ok(Math.abs(json.y - f.truth.y) <= 1, r.stdout);
  assert.ok(Math.abs(json.scale / f.truth.scale - 1) <= 0.005, r.stdout);
});

Deno.test("cli align: a missing file exits 1 with one line; a bad flag value exits 2", async () => {
  const dir = await alignFixtureDir();
  const bg = fixture(images, "absent").bg;
  const missing = await cli(["align", `${dir}/no_such.png`, bg]);
  assert.equal(missing.code, 1);
  assert.equal(missing.stdout, "");
  const lines = missing.stderr.trim().split("\n");
  assert.equal(lines.length, 1, missing.stderr);
  assert.match(lines[0], /fg file not found/);

  const usage = await cli(["align", `${dir}/no_such.png`, bg, "-p", "7"]);
  assert.equal(usage.code, 2, usage.stderr);
});
