// The consumer test (`npm run check:consumer`): what a user gets from `npm install hookguard`.
//
//   1. Packs the tarball (building first if dist/ is missing or older than src/) and checks
//      what it ships: every file `exports` points to, and nothing outside dist/ and the docs.
//   2. Installs it into a fresh temporary project, offline (hookguard has no dependencies),
//      and links the repo's framework packages and types the verification needs.
//   3. Type-checks the same consumer code four ways with the repo's own tsc: ESM and CJS
//      under `moduleResolution: node16` with skipLibCheck off (so hookguard's .d.ts and
//      .d.cts themselves are checked), then `bundler` and CJS under `node10` (typesVersions),
//      which resolve the same declaration files and so skip re-checking libraries.
//   4. Runs it as ESM and as CJS: every subpath, real servers on port 0, the conformance
//      kit; ESM also checks that both builds export the same names and recognise each
//      other's errors.
//   5. Checks import isolation at run time, per subpath and format: which files Node loads.
//
// Flags: --keep leaves the temporary project in place for inspection.
import { execFile, type ExecFileOptions } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, sep } from "node:path";
import { readPackageJson, root, subpaths, type Subpath } from "./subpaths";

const keep = process.argv.includes("--keep");
const started = Date.now();
let failures = 0;

function run(command: string, args: string[], options: ExecFileOptions = {}): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(command, args, { maxBuffer: 64 * 1024 * 1024, encoding: "utf8", ...options }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
      resolve({ code, output: `${String(stdout)}${String(stderr)}` });
    });
  });
}

let lastStep = Date.now();
function step(name: string, ok: boolean, detail = ""): void {
  if (!ok) failures++;
  const seconds = ((Date.now() - lastStep) / 1000).toFixed(1);
  lastStep = Date.now();
  console.log(`${ok ? "✓" : "✗"} ${name} (${seconds} s)${detail ? `\n${detail.replace(/^/gm, "    ")}` : ""}`);
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

const pkg = readPackageJson();
const list = subpaths(pkg);
const npm = process.platform === "win32" ? "npm.cmd" : "npm";

// 1. Build if needed, then pack.
const distIndex = join(root, "dist", "index.js");
const sourcesChanged = Math.max(newestMtime(join(root, "src")), statSync(join(root, "tsup.config.ts")).mtimeMs);
if (!existsSync(distIndex) || statSync(distIndex).mtimeMs < sourcesChanged) {
  console.log("dist/ is missing or older than src/: npm run build");
  const build = await run(npm, ["run", "build"], { cwd: root });
  step("npm run build", build.code === 0, build.code === 0 ? "" : build.output);
  if (build.code !== 0) process.exit(1);
}

const work = mkdtempSync(join(tmpdir(), "hookguard-consumer-"));
const packed = await run(npm, ["pack", "--json", "--pack-destination", work], { cwd: root });
const packInfo = (() => {
  try {
    const json = packed.output.slice(packed.output.indexOf("["));
    return (JSON.parse(json) as { filename: string; size: number; unpackedSize: number; files: { path: string }[] }[])[0];
  } catch {
    return undefined;
  }
})();
step("npm pack", packed.code === 0 && packInfo !== undefined, packed.code === 0 ? "" : packed.output);
if (!packInfo) process.exit(1);

const shipped = new Set(packInfo.files.map((f) => f.path));
const targets = list.flatMap((s) => [s.import.types, s.import.default, s.require.types, s.require.default]).map((t) => t.replace(/^\.\//, ""));
const missing = ["package.json", "README.md", "LICENSE", ...targets].filter((f) => !shipped.has(f));
const stray = [...shipped].filter((f) => !f.startsWith("dist/") && !["package.json", "README.md", "LICENSE", "CHANGELOG.md"].includes(f));
step(
  `the tarball ships every exports target and nothing outside dist/ (${packInfo.files.length} files, ${(packInfo.size / 1024).toFixed(0)} kB packed, ${(packInfo.unpackedSize / 1024).toFixed(0)} kB unpacked)`,
  missing.length === 0 && stray.length === 0,
  [missing.length ? `missing: ${missing.join(", ")}` : "", stray.length ? `should not ship: ${stray.join(", ")}` : ""].filter(Boolean).join("\n"),
);

// 2. A fresh project with the tarball installed.
const tarball = join(work, packInfo.filename);
writeFileSync(join(work, "package.json"), JSON.stringify({ name: "hookguard-consumer", version: "1.0.0", private: true }, null, 2));
const installed = await run(npm, ["install", tarball, "--offline", "--no-audit", "--no-fund", "--ignore-scripts"], { cwd: work });
step("npm install <tarball> --offline into a fresh project", installed.code === 0, installed.code === 0 ? "" : installed.output);
if (installed.code !== 0) process.exit(1);

// The frameworks and types the verification uses, from the repo (never downloaded). Their
// own dependencies resolve from the repo too: Node and tsc follow a symlink to its real path.
const linked: string[] = [];
for (const name of [...Object.keys(pkg.peerDependencies ?? {}), "@types/node", "@types/express"]) {
  const from = join(root, "node_modules", name);
  const to = join(work, "node_modules", name);
  if (!existsSync(from) || existsSync(to)) continue;
  mkdirSync(dirname(to), { recursive: true });
  symlinkSync(from, to, "dir");
  linked.push(name);
}
console.log(`  linked from the repo: ${linked.join(", ")}`);

// 3. The same consumer code, four TypeScript set-ups.
interface Project {
  readonly name: string;
  readonly type: "module" | "commonjs";
  readonly compilerOptions: Record<string, unknown>;
  readonly runs: boolean;
}

const projects: Project[] = [
  { name: "esm-node16", type: "module", compilerOptions: { module: "node16", moduleResolution: "node16" }, runs: true },
  { name: "cjs-node16", type: "commonjs", compilerOptions: { module: "node16", moduleResolution: "node16" }, runs: true },
  { name: "esm-bundler", type: "module", compilerOptions: { module: "preserve", moduleResolution: "bundler", noEmit: true, skipLibCheck: true }, runs: false },
  { name: "cjs-node10", type: "commonjs", compilerOptions: { module: "commonjs", moduleResolution: "node10", noEmit: true, skipLibCheck: true }, runs: false },
];

const fixture = (file: string): string => readFileSync(join(root, "test", "package", "fixture", file), "utf8");
const allSubpaths =
  list.map((s, i) => `import * as m${i} from "${s.specifier}";`).join("\n") +
  `\n\nexport const specifiers = ${JSON.stringify(list.map((s) => s.specifier))} as const;\n` +
  `export const modules: object[] = [${list.map((_, i) => `m${i}`).join(", ")}];\n`;

for (const project of projects) {
  const dir = join(work, project.name);
  const esm = project.type === "module";
  mkdirSync(join(dir, "src"), { recursive: true });
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: project.name, private: true, type: project.type }, null, 2));
  writeFileSync(
    join(dir, "tsconfig.json"),
    JSON.stringify(
      {
        compilerOptions: {
          target: "ES2022",
          lib: ["ES2023"],
          types: ["node"],
          strict: true,
          esModuleInterop: true,
          skipLibCheck: false,
          noEmitOnError: true,
          rootDir: "src",
          outDir: "out",
          ...project.compilerOptions,
        },
        include: ["src"],
      },
      null,
      2,
    ),
  );
  writeFileSync(join(dir, "src", "verify.ts"), fixture("verify.ts"));
  writeFileSync(join(dir, "src", "all-subpaths.ts"), allSubpaths);
  if (esm) writeFileSync(join(dir, "src", "dual.ts"), fixture("dual.ts"));
  writeFileSync(
    join(dir, "src", "main.ts"),
    esm
      ? `import { specifiers, modules } from "./all-subpaths.js";\nimport { verifyDual } from "./dual.js";\nimport { verifyPackage } from "./verify.js";\n\n` +
          `const failed = modules.length === specifiers.length ? (await verifyPackage("${project.name}")) + (await verifyDual("${project.name}", specifiers)) : 1;\nprocess.exitCode = failed ? 1 : 0;\n`
      : `import { specifiers, modules } from "./all-subpaths.js";\nimport { verifyPackage } from "./verify.js";\n\n` +
          `void verifyPackage("${project.name}").then((failed) => {\n  process.exitCode = failed || modules.length !== specifiers.length ? 1 : 0;\n});\n`,
  );
}

const tsc = join(root, "node_modules", "typescript", "bin", "tsc");
const compiled = await Promise.all(projects.map((p) => run(process.execPath, [tsc, "-p", join(work, p.name, "tsconfig.json")], { cwd: join(work, p.name) })));
projects.forEach((p, i) => {
  const { code, output } = compiled[i]!;
  step(`tsc (${p.name}: ${JSON.stringify(p.compilerOptions)}) type-checks every subpath`, code === 0, code === 0 ? "" : output);
});

// 4. Run the compiled consumers.
for (const [i, project] of projects.entries()) {
  if (!project.runs || compiled[i]!.code !== 0) continue;
  const dir = join(work, project.name);
  const result = await run(process.execPath, [join(dir, "out", "main.js")], { cwd: dir, timeout: 60_000 });
  step(`node out/main.js (${project.name}) verifies every subpath`, result.code === 0, result.output.trimEnd());
}

// 5. What Node actually loads for each subpath, ESM and CJS.
const hooks = join(work, "trace-hooks.mjs");
writeFileSync(
  hooks,
  `import { appendFileSync } from "node:fs";\n` +
    `export async function load(url, context, nextLoad) {\n  appendFileSync(process.env.HOOKGUARD_TRACE, url + "\\n");\n  return nextLoad(url, context);\n}\n`,
);
writeFileSync(join(work, "trace-register.mjs"), `import { register } from "node:module";\nregister(${JSON.stringify(new URL(`file://${hooks}`).href)});\n`);
writeFileSync(join(work, "probe.mjs"), `await import(process.argv[2]);\n`);
writeFileSync(join(work, "probe.cjs"), `require(process.argv[2]);\nconsole.log(JSON.stringify(Object.keys(require.cache)));\n`);

const modulesDir = join(work, "node_modules") + sep;
// Linked packages load from their real path, in the repo's node_modules.
const repoModulesDir = join(root, "node_modules") + sep;
const NOT_CORE = [/\/src\/adapters\//, /\/src\/stores\/(?!memory\.ts$|validate\.ts$)/, /\/src\/testing\//, /\/src\/queues\//];

function packageOf(file: string): string | undefined {
  const base = [modulesDir, repoModulesDir].find((dir) => file.startsWith(dir));
  if (base === undefined) return undefined;
  const parts = relative(base, file).split(sep);
  return parts[0]!.startsWith("@") ? `${parts[0]}/${parts[1]}` : parts[0];
}

/** The optional peers a subpath may load: the one it wraps (if any) and what that one depends on. */
function allowedPeers(subpath: Subpath, peers: Set<string>): Set<string> {
  if (!peers.has(subpath.entry)) return new Set();
  const manifest = JSON.parse(readFileSync(join(repoModulesDir, subpath.entry, "package.json"), "utf8")) as { dependencies?: object; peerDependencies?: object };
  return new Set([subpath.entry, ...Object.keys({ ...manifest.dependencies, ...manifest.peerDependencies })]);
}

function problems(subpath: Subpath, files: string[]): string[] {
  const found: string[] = [];
  const peers = new Set(Object.keys(pkg.peerDependencies ?? {}));
  const distDir = join(modulesDir, pkg.name, "dist") + sep;
  const own = files.filter((f) => f.startsWith(distDir)).map((f) => relative(distDir, f));
  if (own.length === 0) found.push("loaded no file of hookguard/dist");
  // A subpath that wraps a peer (hookguard/bullmq) loads that peer and its dependencies;
  // no subpath loads a framework or client it does not wrap, and the others load nothing.
  const allowed = allowedPeers(subpath, peers);
  const loaded = new Set<string>();
  for (const file of files) {
    const name = packageOf(file);
    if (name === undefined) found.push(`loaded a file outside node_modules: ${file}`);
    else if (name !== pkg.name) loaded.add(name);
  }
  for (const name of loaded) {
    if (allowed.size === 0) found.push(`loaded ${name}`);
    else if (peers.has(name) && !allowed.has(name)) found.push(`loaded ${name}, a peer it does not wrap`);
  }
  const otherEntries = new Set(list.filter((s) => s.entry !== subpath.entry).flatMap((s) => [`${s.entry}.js`, `${s.entry}.cjs`]));
  for (const file of own) {
    if (otherEntries.has(file)) found.push(`loaded another subpath's entry: dist/${file}`);
    if (subpath.entry !== "index") continue;
    // The core's files (its entry and shared chunks) must hold no adapter or store source.
    const map = join(distDir, `${file}.map`);
    if (!existsSync(map)) continue;
    const sources = (JSON.parse(readFileSync(map, "utf8")) as { sources: string[] }).sources.map((s) => `/${s.replace(/^(\.\.\/)+/, "")}`);
    for (const source of sources.filter((s) => NOT_CORE.some((re) => re.test(s)))) found.push(`dist/${file} contains ${source.slice(1)}`);
  }
  return found;
}

const traces = await Promise.all(
  list.flatMap((s) =>
    (["esm", "cjs"] as const).map(async (format) => {
      const trace = join(work, `trace-${s.entry}-${format}.txt`);
      writeFileSync(trace, "");
      const result =
        format === "esm"
          ? await run(process.execPath, ["--import", join(work, "trace-register.mjs"), join(work, "probe.mjs"), s.specifier], { cwd: work, env: { ...process.env, HOOKGUARD_TRACE: trace } })
          : await run(process.execPath, [join(work, "probe.cjs"), s.specifier], { cwd: work });
      let files: string[] = [];
      if (format === "esm") {
        files = readFileSync(trace, "utf8")
          .split("\n")
          .filter((url) => url.startsWith("file:"))
          .map((url) => new URL(url).pathname)
          .filter((file) => !file.startsWith(join(work, "probe")));
      } else if (result.code === 0) {
        files = (JSON.parse(result.output.trim().split("\n").pop() ?? "[]") as string[]).filter((file) => !file.startsWith(join(work, "probe")));
      }
      return { s, format, code: result.code, output: result.output, files };
    }),
  ),
);
for (const { s, format, code, output, files } of traces) {
  const found = code === 0 ? problems(s, files) : [`failed to load: ${output}`];
  const loaded = files.map((f) => relative(modulesDir, f)).join(", ");
  step(`${format === "esm" ? "import" : "require"}("${s.specifier}") loads only its own files${s.entry === "index" ? ", none with adapter or store code" : ""}`, found.length === 0, found.length ? `${found.join("\n")}\nloaded: ${loaded}` : "");
}

if (keep) console.log(`\nkept: ${work}`);
else rmSync(work, { recursive: true, force: true });
console.log(`\nconsumer test: ${failures === 0 ? "passed" : `${failures} failed`} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
process.exit(failures === 0 ? 0 : 1);
