// Bundles bench/subject.ts with tsup (esbuild underneath, as the package build does: ES2022,
// platform-neutral, no keepNames) into a temporary folder, and imports it.
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
    });
    return (await import(pathToFileURL(join(outDir, "subject.js")).href)) as Subject;
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
}
