declare namespace Cloudflare {
  interface Env {
    RUNS: DurableObjectNamespace;
    ORGS: DurableObjectNamespace;
    BULK: DurableObjectNamespace;
    ADMIN_TOKEN: string;
    TEST_CLOCK: string;
  }
}
