/**
 * The one place that names third-party modules (all from the npm registry,
 * mapped in deno.json).
 *
 * @module
 */

export {
  Command,
  InvalidArgumentError,
  Option,
} from "@commander-js/extra-typings";
// imagescript's plain-JS framebuffer (PNG codec): its main entry would load
// a native addon (needs --allow-ffi, cannot be bundled). Loaded on first
// use: the module takes ~20 MB, which a run without PNGs does not need.
export const loadImagescriptFramebuffer = () =>
  import("imagescript/v2/framebuffer.mjs");
