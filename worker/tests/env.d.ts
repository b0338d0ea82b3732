declare namespace Cloudflare {
  interface Env {
    RUNS: DurableObjectNamespace;
    ORGS: DurableObjectNamespace;
    BULK: DurableObjectNamespace;
  }
}
