import { defineConfig, type Options } from "tsup";

// One entry per public subpath: importing "hookguard" must not pull in adapter or store code.
export const entries = {
  index: "src/index.ts",
  express: "src/adapters/express.ts",
  fastify: "src/adapters/fastify.ts",
  node: "src/adapters/node.ts",
  fetch: "src/adapters/fetch.ts",
  redis: "src/stores/redis.ts",
  postgres: "src/stores/postgres.ts",
  testing: "src/testing/index.ts",
  bullmq: "src/queues/bullmq.ts",
};

/** How the code is bundled: the package build below and the benches' bundles (bench/http.ts) alike. */
export const bundling = {
  target: "es2022",
  platform: "neutral",
  splitting: true,
  treeshake: true,
  // The node and express adapters import node:async_hooks: kept as "node:async_hooks", the
  // specifier every runtime with Node's built-ins accepts (Deno refuses a bare "async_hooks").
  removeNodeProtocol: false,
  // Framework and client packages are the user's: never bundled.
  external: ["express", "fastify", "ioredis", "redis", "pg", "bullmq", "node:async_hooks", "node:crypto", "node:http", "node:stream"],
} as const satisfies Options;

export default defineConfig({
  ...bundling,
  external: [...bundling.external],
  entry: entries,
  format: ["esm", "cjs"],
  dts: true,
  clean: true,
  sourcemap: true,
  outDir: "dist",
});
