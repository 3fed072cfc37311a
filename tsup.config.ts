import { defineConfig } from "tsup";

// One entry per public subpath: importing "hookguard" must not pull in adapter or store code.
export const entries = {
  index: "src/index.ts",
};

export default defineConfig({
  entry: entries,
  format: ["esm", "cjs"],
  dts: true,
  clean: true,
  sourcemap: true,
  target: "es2022",
  platform: "neutral",
  splitting: true,
  treeshake: true,
  outDir: "dist",
});
