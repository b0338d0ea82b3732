declare namespace Cloudflare {
  interface Env {
    RUNS: DurableObjectNamespace;
  }
}
