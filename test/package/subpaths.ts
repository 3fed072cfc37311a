// The package's public subpaths, read from package.json's `exports`: the single source the
// packaging checks (subpath consistency, import isolation, the consumer test) start from, so
// a subpath added there is checked everywhere without editing a list.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const root = fileURLToPath(new URL("../../", import.meta.url));

interface ConditionTargets {
  readonly types: string;
  readonly default: string;
}

export interface PackageJson {
  readonly name: string;
  readonly version: string;
  readonly exports: Record<string, string | { import: ConditionTargets; require: ConditionTargets }>;
  readonly typesVersions?: Record<string, Record<string, string[]>>;
  readonly peerDependencies?: Record<string, string>;
  readonly peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  readonly devDependencies?: Record<string, string>;
  readonly files?: string[];
  readonly engines?: Record<string, string>;
  readonly sideEffects?: boolean;
  readonly [key: string]: unknown;
}

export interface Subpath {
  /** The key in `exports`: `"."`, `"./express"`, … */
  readonly key: string;
  /** What a user writes: `"hookguard"`, `"hookguard/express"`, … */
  readonly specifier: string;
  /** The tsup entry name and the dist file's base name: `"index"`, `"express"`, … */
  readonly entry: string;
  readonly import: ConditionTargets;
  readonly require: ConditionTargets;
}

export function readPackageJson(dir = root): PackageJson {
  return JSON.parse(readFileSync(`${dir}/package.json`, "utf8")) as PackageJson;
}

/** Every code subpath of the package (not `./package.json`), core first. */
export function subpaths(pkg: PackageJson = readPackageJson()): Subpath[] {
  const list: Subpath[] = [];
  for (const [key, value] of Object.entries(pkg.exports)) {
    if (typeof value === "string") continue; // "./package.json"
    const entry = /^\.\/dist\/([^/]+)\.js$/.exec(value.import.default)?.[1];
    if (!entry) throw new Error(`package.json exports["${key}"].import.default is not ./dist/<entry>.js: ${value.import.default}`);
    list.push({ key, specifier: key === "." ? pkg.name : `${pkg.name}/${key.slice(2)}`, entry, import: value.import, require: value.require });
  }
  return list.sort((a, b) => (a.key === "." ? -1 : b.key === "." ? 1 : a.key.localeCompare(b.key)));
}
