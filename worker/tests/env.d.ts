declare namespace Cloudflare {
  interface Env {
    RUNS: DurableObjectNamespace;
    ORGS: DurableObjectNamespace;
  }
}
