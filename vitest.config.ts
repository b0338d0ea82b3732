import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

// Runs worker/tests inside workerd against the built Worker (`make build` first: the plugin
// does not run wrangler's [build] step).
export default defineConfig({
  plugins: [cloudflareTest({ wrangler: { configPath: "./wrangler.toml" } })],
  test: {
    include: ["worker/tests/**/*.test.ts"],
  },
});
