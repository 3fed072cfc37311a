import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const src = (path: string) => fileURLToPath(new URL(`./src/${path}`, import.meta.url));

export default defineConfig({
  // The package's own subpaths resolve to the sources, as examples and docs import them.
  resolve: {
    alias: [
      { find: /^hookguard$/, replacement: src("index.ts") },
      { find: /^hookguard\/(express|fastify|node|fetch)$/, replacement: src("adapters/$1.ts") },
      { find: /^hookguard\/(redis|postgres)$/, replacement: src("stores/$1.ts") },
      { find: /^hookguard\/testing$/, replacement: src("testing/index.ts") },
      { find: /^hookguard\/bullmq$/, replacement: src("queues/bullmq.ts") },
    ],
  },
  test: {
    include: ["test/**/*.test.ts"],
    reporters: ["default", ["json", { outputFile: ".vitest-results.json" }]],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    coverage: {
      provider: "v8",
      include: ["src/**/*.ts"],
      reporter: ["text-summary", "json-summary"],
    },
  },
});
