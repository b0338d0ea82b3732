import { randomBytes } from "node:crypto";
import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

// Runs worker/tests inside workerd against the built Worker (`make build` first: the plugin
// does not run wrangler's [build] step). TEST_CLOCK lets tests move the Worker's clock instead
// of waiting for deadlines; the admin token is generated for this run only (never committed;
// worker/tests/helpers.ts reads it from the binding).
const TEST_ADMIN_TOKEN = randomBytes(24).toString("hex");

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
