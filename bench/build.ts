// Bundles bench/subject.ts with tsup (esbuild underneath, as the package build does: ES2022,
// platform-neutral, no keepNames) into a temporary folder, and imports it: the hookguard
// rows of the bench then run the code as shipped, not src/ as tsx compiles it.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "tsup";
import type * as SubjectModule from "./subject";

export type Subject = typeof SubjectModule;

export async function buildSubject(): Promise<Subject> {
  const outDir = mkdtempSync(join(tmpdir(), "hookguard-bench-"));
  try {
    await build({
      entry: { subject: fileURLToPath(new URL("./subject.ts", import.meta.url)) },
      format: ["esm"],
      outDir,
      target: "es2022",
      platform: "neutral",
      dts: false,
      sourcemap: false,
      splitting: false,
      clean: false,
      silent: true,
      config: false,
      // .mjs: tsx, which runs the bench, re-transforms a .js file of unknown module type
      // (minified, with its keepNames helper), which would undo the point of bundling.
      outExtension: () => ({ js: ".mjs" }),
    });
    const subject = (await import(pathToFileURL(join(outDir, "subject.mjs")).href)) as Subject;
    if (subject.verifyRequest.toString().includes("__name")) throw new Error("the bundle was re-transformed on import");
    return subject;
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
}
