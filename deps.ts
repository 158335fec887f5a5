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
// a native addon (needs --allow-ffi, cannot be bundled).
export { default as imagescriptFramebuffer } from "imagescript/v2/framebuffer.mjs";
