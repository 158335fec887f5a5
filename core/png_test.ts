import assert from "node:assert/strict";
import { join } from "node:path";
import { decodePng, encodePng } from "./png.ts";
import { binary } from "./process.ts";

async function ffmpeg(args: string[]): Promise<Uint8Array> {
  const out = await new Deno.Command(binary("ffmpeg"), {
    args: ["-hide_banner", "-nostdin", "-v", "error", ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  return out.stdout;
}

Deno.test("encodePng and decodePng round-trip RGBA exactly", async () => {
  const width = 7, height = 5;
  const rgba = new Uint8Array(width * height * 4).map((_, k) =>
    (k * 37 + (k >> 2) * 11) & 255
  );
  const png = await encodePng({ width, height, rgba });
  const back = await decodePng(png);
  assert.equal(back.width, width);
  assert.equal(back.height, height);
  assert.deepEqual([...back.rgba], [...rgba]);
  await assert.rejects(
    () => encodePng({ width, height, rgba: rgba.subarray(4) }),
    RangeError,
  );
});

Deno.test("decodePng reads gray, RGB and palette PNGs from ffmpeg as RGBA", async () => {
  const dir = await Deno.makeTempDir({ prefix: "vidkompy_png_" });
  try {
    for (const pixFmt of ["gray", "rgb24", "pal8", "rgba"]) {
      const path = join(dir, `${pixFmt}.png`);
      await ffmpeg([
        "-f",
        "lavfi",
        "-i",
        "testsrc2=s=48x28",
        "-frames:v",
        "1",
        "-pix_fmt",
        pixFmt,
        path,
      ]);
      // What ffmpeg itself reads back from the file, as RGBA.
      const want = await ffmpeg([
        "-i",
        path,
        "-f",
        "rawvideo",
        "-pix_fmt",
        "rgba",
        "pipe:1",
      ]);
      const got = await decodePng(await Deno.readFile(path));
      assert.equal(got.width, 48, pixFmt);
      assert.equal(got.height, 28, pixFmt);
      assert.equal(want.length, 48 * 28 * 4, pixFmt);
      assert.deepEqual([...got.rgba], [...want], pixFmt);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
