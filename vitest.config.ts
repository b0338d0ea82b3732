import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

// Runs worker/tests inside workerd against the built Worker (`make build` first: the plugin
// does not run wrangler's [build] step). TEST_CLOCK lets tests move the Worker's clock instead
// of waiting for deadlines; the admin token exists only for this run.
export const TEST_ADMIN_TOKEN = "vitest-admin-token-0123456789abcdef";

export default defineConfig({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: { bindings: { TEST_CLOCK: "1", ADMIN_TOKEN: TEST_ADMIN_TOKEN } },
    }),
  ],
  test: {
    include: ["worker/tests/**/*.test.ts"],
  },
});
