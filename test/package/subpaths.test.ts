// Every public subpath is wired the same way everywhere it must appear: built by tsup,
// typed for node10 (typesVersions), documented by typedoc under its own name, resolved to
// its source by tsconfig and vitest, and the package.json fields a consumer relies on are set.
// A subpath added to `exports` and forgotten in one of those places fails here, naming it.
import { readFileSync } from "node:fs";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { entries } from "../../tsup.config";
import vitestConfig from "../../vitest.config";
import { readPackageJson, root, subpaths } from "./subpaths";

const pkg = readPackageJson();
const list = subpaths(pkg);
const sourceOf = (entry: string): string | undefined => (entries as Record<string, string>)[entry];

function readJsonc(file: string): Record<string, unknown> {
  const { config, error } = ts.readConfigFile(`${root}/${file}`, ts.sys.readFile);
  if (error) throw new Error(`${file}: ${ts.flattenDiagnosticMessageText(error.messageText, "\n")}`);
  return config as Record<string, unknown>;
}

describe("package subpaths", () => {
  it("exports the core and one subpath per adapter and store", () => {
    expect(list.map((s) => s.specifier)).toEqual(expect.arrayContaining(["hookguard", "hookguard/express", "hookguard/fastify", "hookguard/node", "hookguard/fetch", "hookguard/redis", "hookguard/postgres", "hookguard/testing"]));
  });

  it.each(list.map((s) => [s.specifier, s] as const))("%s: ESM and CJS each have their own types and code", (_, s) => {
    expect(s.import).toEqual({ types: `./dist/${s.entry}.d.ts`, default: `./dist/${s.entry}.js` });
    expect(s.require).toEqual({ types: `./dist/${s.entry}.d.cts`, default: `./dist/${s.entry}.cjs` });
  });

  it("every subpath is a tsup entry, and every tsup entry is a subpath", () => {
    expect(Object.keys(entries).sort()).toEqual(list.map((s) => s.entry).sort());
  });

  it("node10 resolution finds each subpath's types (typesVersions)", () => {
    const map = pkg.typesVersions?.["*"] ?? {};
    const expected = Object.fromEntries(list.filter((s) => s.key !== ".").map((s) => [s.key.slice(2), [`./dist/${s.entry}.d.ts`]]));
    expect(map).toEqual(expected);
  });

  it("typedoc documents exactly the subpaths' entry files", () => {
    const typedoc = readJsonc("typedoc.json") as { entryPoints: string[] };
    expect([...typedoc.entryPoints].sort()).toEqual(list.map((s) => sourceOf(s.entry)).sort());
  });

  it.each(list.map((s) => [s.specifier, s] as const))("%s: its entry file names its module after the subpath (the API site's heading)", (specifier, s) => {
    const source = readFileSync(`${root}/${sourceOf(s.entry)}`, "utf8");
    const header = /^\/\*\*([\s\S]*?)\*\//.exec(source)?.[1] ?? "";
    expect(/@module\s+(\S+)/.exec(header)?.[1], `${sourceOf(s.entry)} should start with a doc comment ending in "@module ${specifier}"`).toBe(specifier);
  });

  it("tsconfig paths resolve each subpath to its source (examples, docs and tests import the package name)", () => {
    const tsconfig = readJsonc("tsconfig.json") as { compilerOptions: { paths: Record<string, string[]> } };
    const expected = Object.fromEntries(list.map((s) => [s.specifier, [`./${sourceOf(s.entry)}`]]));
    expect(tsconfig.compilerOptions.paths).toEqual(expected);
  });

  it("vitest aliases resolve each subpath to its source", () => {
    const aliases = (vitestConfig as { resolve: { alias: { find: RegExp; replacement: string }[] } }).resolve.alias;
    for (const s of list) {
      const alias = aliases.find((a) => a.find.test(s.specifier));
      expect(alias, `no vitest alias for ${s.specifier}`).toBeDefined();
      expect(s.specifier.replace(alias!.find, alias!.replacement)).toBe(`${root}${sourceOf(s.entry)}`);
    }
  });
});

describe("package.json", () => {
  it("is side-effect free, ships only dist and the docs a user reads, and states its Node range", () => {
    expect(pkg.sideEffects).toBe(false);
    expect(pkg.files).toContain("dist");
    expect(pkg.files?.every((f) => ["dist", "README.md", "LICENSE", "CHANGELOG.md"].includes(f))).toBe(true);
    expect(pkg.engines?.node).toMatch(/^>=\s*\d+/);
  });

  it("has no runtime dependencies; every peer dependency is optional", () => {
    expect(pkg.dependencies).toBeUndefined();
    for (const peer of Object.keys(pkg.peerDependencies ?? {})) {
      expect(pkg.peerDependenciesMeta?.[peer]?.optional, `peerDependenciesMeta["${peer}"].optional`).toBe(true);
    }
  });

  it("is ready for provenance: public access, provenance on, a repository URL", () => {
    expect(pkg.publishConfig).toMatchObject({ access: "public", provenance: true });
    expect((pkg.repository as { url?: string } | undefined)?.url).toMatch(/^git\+https:\/\/github\.com\/[^/]+\/[^/]+\.git$/);
  });
});
