// Importing `hookguard` must not pull in adapter or store code, and no subpath may load a
// framework or client at run time except the optional peer it exists for. Checked on the
// source graph, bundled the way a user's bundler would (esbuild, which tsup builds with);
// `npm run check:consumer` checks the same on the packed tarball, in Node, ESM and CJS.
import { build, type Metafile } from "esbuild";
import { describe, expect, it } from "vitest";
import { entries } from "../../tsup.config";
import { readPackageJson, root, subpaths } from "./subpaths";

const pkg = readPackageJson();
const list = subpaths(pkg);
const peers = new Set(Object.keys(pkg.peerDependencies ?? {}));
const sourceOf = (entry: string): string => (entries as Record<string, string>)[entry]!;

// Code that belongs to a subpath other than the core: the core must contain none of it.
const NOT_CORE = [/^src\/adapters\//, /^src\/stores\/(?!memory\.ts$|validate\.ts$)/, /^src\/testing\//, /^src\/queues\//];

async function graph(file: string): Promise<{ inputs: string[]; externals: string[] }> {
  const result = await build({
    absWorkingDir: root,
    entryPoints: [file],
    bundle: true,
    write: false,
    metafile: true,
    format: "esm",
    platform: "neutral",
    mainFields: ["module", "main"],
    packages: "external",
    external: ["node:*"],
    logLevel: "silent",
    outdir: "out",
  });
  const meta: Metafile = result.metafile;
  const externals = Object.values(meta.outputs).flatMap((o) => o.imports.filter((i) => i.external).map((i) => i.path));
  return { inputs: Object.keys(meta.inputs), externals: [...new Set(externals)] };
}

describe("import isolation", () => {
  it("hookguard (the core) bundles no adapter, store client, conformance kit or queue code", async () => {
    const { inputs } = await graph(sourceOf("index"));
    expect(inputs.length).toBeGreaterThan(10);
    expect(inputs.filter((f) => NOT_CORE.some((re) => re.test(f)))).toEqual([]);
  });

  it("hookguard (the core) imports nothing at run time, not even a Node built-in (it runs on Workers, Deno, browsers)", async () => {
    expect((await graph(sourceOf("index"))).externals).toEqual([]);
  });

  it.each(list.filter((s) => s.entry !== "index").map((s) => [s.specifier, s.entry] as const))(
    "%s bundles no other subpath's entry and imports nothing but its own optional peer",
    async (_, entry) => {
      const { inputs, externals } = await graph(sourceOf(entry));
      const others = list.filter((s) => s.entry !== entry).map((s) => sourceOf(s.entry));
      expect(inputs.filter((f) => others.includes(f))).toEqual([]);
      // Adapters and stores are typed by shape: `import type` from express or fastify is
      // erased; only a subpath that wraps a peer (a queue library) may load it.
      expect(externals.filter((name) => !name.startsWith("node:") && !peers.has(name))).toEqual([]);
      expect(externals.filter((name) => peers.has(name) && name !== entry)).toEqual([]);
    },
  );
});
