import { fileURLToPath } from "node:url";
import { defineConfig, type Plugin } from "vite";

// The dashboard: plain TypeScript and the DOM, plus the core state machine compiled to Wasm
// (`bash scripts/package-core.sh` builds `crate/pkg/web`). `vite build web` writes `web/dist`,
// which the Worker serves at `/`.
const core = fileURLToPath(new URL("../crate/pkg/web/runbrake_core.js", import.meta.url));

/**
 * Starts the Wasm download with the HTML (a `<link rel="preload">` for the hashed file) instead
 * of after the script has loaded and asked for it: the core is then ready as soon as the page.
 */
function preloadWasm(): Plugin {
  return {
    name: "runbrake-preload-wasm",
    apply: "build",
    transformIndexHtml: {
      order: "post",
      handler(_html, ctx) {
        const wasm = Object.values(ctx.bundle ?? {}).find((f) => f.fileName.endsWith(".wasm"));
        if (!wasm) return [];
        return [
          {
            tag: "link",
            // `fetch(url)` in the core's loader is a CORS-mode, same-origin-credentials request:
            // `crossorigin` makes the preload match it, so the file is fetched once.
            attrs: { rel: "preload", href: `/${wasm.fileName}`, as: "fetch", type: "application/wasm", crossorigin: "anonymous" },
            injectTo: "head",
          },
        ];
      },
    },
  };
}

export default defineConfig({
  plugins: [preloadWasm()],
  root: import.meta.dirname,
  resolve: { alias: { "runbrake-core": core } },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    // No inline polyfill script: the page runs under a CSP without 'unsafe-inline'.
    modulePreload: { polyfill: false },
    // The Wasm module is always a file of its own (never a data: URL, which the CSP refuses).
    assetsInlineLimit: 0,
    reportCompressedSize: false,
  },
  server: { fs: { allow: [".."] } },
});
