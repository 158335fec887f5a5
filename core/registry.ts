/**
 * The plugin registry: (kind, name) → plugin definition. CLI flags choose
 * plugins by name, `--help` lists them, and workers load them by name (a
 * function cannot be posted to a worker, a name can).
 *
 * @module
 */

import { pathToFileURL } from "node:url";
import { resolve } from "node:path";
import { builtinPlugins, type PluginLoader } from "./builtin_plugins.ts";
import { PluginError } from "./errors.ts";
import type { PluginDefinition, PluginKind, PluginKinds } from "./types.ts";

const KINDS: readonly PluginKind[] = [
  "fingerprinter",
  "aligner",
  "mapper",
  "validator",
  "locator",
];

/** A named plugin source: built in, or a module URL a user registered. */
interface Entry {
  load: PluginLoader;
  /** Module URL for user plugins, so workers can import the same module. */
  moduleUrl?: string;
}

/** A plugin to build elsewhere (in a worker): by name, with its options. */
export interface PluginSpec {
  /** Registered name. */
  readonly name: string;
  /** Options for its factory. */
  readonly options?: Record<string, unknown>;
  /** Module URL when it is a user plugin. */
  readonly moduleUrl?: string;
}

/** Looks plugins up by kind and name; loads them on first use. */
export class Registry {
  #entries = new Map<string, Entry>();
  #loaded = new Map<string, PluginDefinition>();

  /** A registry of `loaders` (`kind:name` → module), the built-ins by default. */
  constructor(
    loaders: Readonly<Record<string, PluginLoader>> = builtinPlugins,
  ) {
    for (const [key, load] of Object.entries(loaders)) {
      this.#entries.set(key, { load });
    }
  }

  /** Registers a definition directly (for code that embeds vidkompy). */
  register(definition: PluginDefinition): void {
    const key = `${definition.kind}:${definition.name}`;
    this.#entries.set(key, {
      load: () => Promise.resolve({ plugin: definition }),
    });
    this.#loaded.set(key, definition);
  }

  /**
   * Imports a user plugin module (a path the user named) and registers every
   * definition it exports as `plugin` or `plugins`. Returns their keys.
   */
  async registerModule(pathOrUrl: string): Promise<string[]> {
    const url = /^[a-z]+:/i.test(pathOrUrl)
      ? pathOrUrl
      : pathToFileURL(resolve(pathOrUrl)).href;
    let mod: { plugin?: PluginDefinition; plugins?: PluginDefinition[] };
    try {
      mod = await import(url);
    } catch (err) {
      throw new PluginError(
        `cannot load plugin module ${pathOrUrl}: ${String(err)}`,
        {
          cause: err,
        },
      );
    }
    const defs = [...(mod.plugins ?? []), ...(mod.plugin ? [mod.plugin] : [])];
    if (defs.length === 0) {
      throw new PluginError(
        `plugin module ${pathOrUrl} exports no \`plugin\` or \`plugins\``,
      );
    }
    const keys: string[] = [];
    for (const def of defs) {
      if (!KINDS.includes(def.kind) || typeof def.create !== "function") {
        throw new PluginError(
          `plugin ${
            def.name ?? "?"
          } in ${pathOrUrl} has an unknown kind or no create()`,
        );
      }
      const key = `${def.kind}:${def.name}`;
      this.#entries.set(key, {
        load: () => Promise.resolve({ plugin: def }),
        moduleUrl: url,
      });
      this.#loaded.set(key, def);
      keys.push(key);
    }
    return keys;
  }

  /** Registered names of a kind, sorted. */
  names(kind: PluginKind): string[] {
    const prefix = `${kind}:`;
    return [...this.#entries.keys()].filter((k) => k.startsWith(prefix))
      .map((k) => k.slice(prefix.length)).sort();
  }

  /** Module URL of a user plugin (undefined for built-ins). */
  moduleUrl(kind: PluginKind, name: string): string | undefined {
    return this.#entries.get(`${kind}:${name}`)?.moduleUrl;
  }

  /**
   * What a worker needs to build this plugin (its registry holds only the
   * built-ins): the name and options, and the module URL of a user plugin;
   * undefined for one that code registered in this process only
   * ({@link register}), which no worker can build.
   */
  workerSpec(
    kind: PluginKind,
    name: string,
    options?: Record<string, unknown>,
  ): PluginSpec | undefined {
    const moduleUrl = this.moduleUrl(kind, name);
    if (moduleUrl === undefined && !(`${kind}:${name}` in builtinPlugins)) {
      return undefined;
    }
    return { name, options, moduleUrl };
  }

  /** The definition of a plugin; PluginError if unknown. */
  async definition<K extends PluginKind>(
    kind: K,
    name: string,
  ): Promise<PluginDefinition<K>> {
    const key = `${kind}:${name}`;
    const cached = this.#loaded.get(key);
    if (cached) return cached as PluginDefinition<K>;
    const entry = this.#entries.get(key);
    if (!entry) {
      const known = this.names(kind).join(", ") || "none";
      throw new PluginError(`unknown ${kind} "${name}" (registered: ${known})`);
    }
    let def: PluginDefinition;
    try {
      def = (await entry.load()).plugin;
    } catch (err) {
      throw new PluginError(`cannot load ${kind} "${name}": ${String(err)}`, {
        cause: err,
      });
    }
    this.#loaded.set(key, def);
    return def as PluginDefinition<K>;
  }

  /** Creates an instance of a plugin with options. */
  async create<K extends PluginKind>(
    kind: K,
    name: string,
    options: Record<string, unknown> = {},
  ): Promise<PluginKinds[K]> {
    const def = await this.definition(kind, name);
    return def.create(options) as PluginKinds[K];
  }

  /**
   * Builds the plugin a spec names, importing its module first when it is
   * a user plugin (a worker has a registry of its own, with only the
   * built-in plugins in it).
   */
  async createFromSpec<K extends PluginKind>(
    kind: K,
    spec: PluginSpec,
  ): Promise<PluginKinds[K]> {
    if (spec.moduleUrl) await this.registerModule(spec.moduleUrl);
    return await this.create(kind, spec.name, spec.options);
  }

  /** Loads every registered definition (for `--help`). */
  async all(kind: PluginKind): Promise<PluginDefinition[]> {
    return await Promise.all(
      this.names(kind).map((n) => this.definition(kind, n)),
    );
  }
}

/** The process-wide registry with the built-in plugins. */
export const registry: Registry = new Registry();
