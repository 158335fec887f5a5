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
export { Image } from "imagescript";
