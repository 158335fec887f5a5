/**
 * The pixel check of a guess, fed by the encoder's own decode: two side
 * outputs of the encoder select just the checked frames and shape them as
 * the check's own seeks would (see `checkFilters`), so composing on a guess
 * checks it without decoding anything a second time.
 *
 * @module
 */

import type { SideOutputSpec } from "./compose.ts";
import { readAhead, SideOutput } from "./side_output.ts";
import {
  checkFilters,
  type CheckFrames,
  type CheckPlan,
} from "./validate_video.ts";

/** The two side outputs of a check, the frames they carry, and their end. */
export interface EncoderCheck {
  /** What to add to the encoder's fg and bg side outputs. */
  readonly specs: { readonly fg: SideOutputSpec; readonly bg: SideOutputSpec };
  /** The checked frames as the encoder writes them (read ahead). */
  readonly frames: CheckFrames;
  /** Stops listening (call when the check or the encoder has ended). */
  close(): Promise<void>;
}

/** Opens the side outputs of `plan`'s check in `dir`. */
export async function encoderCheck(
  dir: string,
  plan: CheckPlan,
): Promise<EncoderCheck> {
  const size = plan.width * plan.height;
  const [fg, bg] = await Promise.all([
    SideOutput.open(dir, size),
    SideOutput.open(dir, size),
  ]);
  const filters = checkFilters(plan);
  return {
    specs: {
      fg: { url: fg.url, filter: filters.fg, pixFmt: "gray" },
      bg: { url: bg.url, filter: filters.bg, pixFmt: "gray" },
    },
    // Read ahead: ffmpeg writes all its outputs from one thread, and the
    // check reads one while the other fills.
    frames: { fg: readAhead(fg.frames(1)), bg: readAhead(bg.frames(1)) },
    close: async () => {
      await Promise.all([fg.close(), bg.close()]);
    },
  };
}
