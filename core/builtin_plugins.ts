/**
 * The built-in plugins as a static table of loaders. Static `import()` calls
 * (rather than computed paths) let `deno compile` and bundlers see and embed
 * every plugin, and let a worker load a plugin by name.
 *
 * @module
 */

import type { PluginDefinition } from "./types.ts";

/** A lazily imported plugin module. */
export type PluginLoader = () => Promise<{ plugin: PluginDefinition }>;

/** `kind:name` → loader, for every plugin shipped with vidkompy. */
export const builtinPlugins: Readonly<Record<string, PluginLoader>> = {
  "fingerprinter:phash": () => import("../plugins/fingerprint_phash.ts"),
  "fingerprinter:ahash": () => import("../plugins/fingerprint_ahash.ts"),
  "fingerprinter:dhash": () => import("../plugins/fingerprint_dhash.ts"),
  "fingerprinter:colormoment": () =>
    import("../plugins/fingerprint_colormoment.ts"),
  "fingerprinter:histogram": () =>
    import("../plugins/fingerprint_histogram.ts"),
  "fingerprinter:thumb": () => import("../plugins/fingerprint_thumb.ts"),
  "fingerprinter:ssim": () => import("../plugins/fingerprint_ssim.ts"),
  "aligner:dtw": () => import("../plugins/aligner_dtw.ts"),
  "aligner:classic": () => import("../plugins/aligner_classic.ts"),
  "mapper:interp": () => import("../plugins/mapper_interp.ts"),
  "validator:msssim": () => import("../plugins/validator_msssim.ts"),
  "locator:template": () => import("../plugins/locator_template.ts"),
};
