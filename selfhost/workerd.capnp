# Self-hosted runbrake: the same built Worker (worker/build) on bare workerd, without wrangler's
# proxy, inspector and per-request logging. `make serve` runs it; see README "Self-hosted".
#
#   workerd serve selfhost/workerd.capnp \
#     --socket-addr http=127.0.0.1:8788 \
#     --directory-path dashboard=$PWD/web/dist --directory-path data=$PWD/.selfhost/data
#
# Secrets and settings come from the environment (ADMIN_TOKEN; optional ALLOWED_ORIGINS,
# RATE_LIMIT_PER_10S, RATE_LIMIT_BURST).
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "main", worker = .front),
    (name = "runbrake", worker = .runbrake),
    # The built dashboard; overridden with --directory-path.
    (name = "dashboard", disk = (path = "web/dist")),
    # Durable Object storage (SQLite files); overridden with --directory-path.
    (name = "data", disk = (path = ".selfhost/data", writable = true)),
  ],
  sockets = [
    (name = "http", address = "127.0.0.1:8788", http = (), service = "main"),
  ],
);

# The Worker itself, exactly as `wrangler deploy` would ship it.
const runbrake :Workerd.Worker = (
  modules = [
    (name = "index.js", esModule = embed "../worker/build/index.js"),
    (name = "index_bg.wasm", wasm = embed "../worker/build/index_bg.wasm"),
  ],
  compatibilityDate = "2026-08-01",
  bindings = [
    (name = "RUNS", durableObjectNamespace = "RunObject"),
    (name = "ORGS", durableObjectNamespace = "OrgIndex"),
    (name = "BULK", durableObjectNamespace = "BulkJob"),
    (name = "ADMIN_TOKEN", fromEnvironment = "ADMIN_TOKEN"),
    (name = "ALLOWED_ORIGINS", fromEnvironment = "ALLOWED_ORIGINS"),
    # The per-key rate limit (README, Security); unset means the Worker's defaults.
    (name = "RATE_LIMIT_PER_10S", fromEnvironment = "RATE_LIMIT_PER_10S"),
    (name = "RATE_LIMIT_BURST", fromEnvironment = "RATE_LIMIT_BURST"),
    # Tests and benchmarks only (test clock, seed route); unset in any real deployment.
    (name = "TEST_CLOCK", fromEnvironment = "TEST_CLOCK"),
  ],
  durableObjectNamespaces = [
    (className = "RunObject", uniqueKey = "runbrake-RunObject", enableSql = true),
    (className = "OrgIndex", uniqueKey = "runbrake-OrgIndex", enableSql = true),
    (className = "BulkJob", uniqueKey = "runbrake-BulkJob", enableSql = true),
  ],
  durableObjectStorage = (localDisk = "data"),
);

# What Cloudflare's static-assets layer does in production: API routes go to the Worker, files
# come from the built dashboard, and unknown paths fall back to the dashboard's index.html.
const front :Workerd.Worker = (
  modules = [
    (name = "front.js", esModule = embed "front.js"),
  ],
  compatibilityDate = "2026-08-01",
  bindings = [
    (name = "API", service = "runbrake"),
    (name = "DASHBOARD", service = "dashboard"),
  ],
);
