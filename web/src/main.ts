import { fetchHealth } from "./health";

const status = document.querySelector<HTMLSpanElement>("#service-status");

async function showHealth(): Promise<void> {
  if (!status) return;
  try {
    const health = await fetchHealth();
    status.textContent = `${health.status} (v${health.version})`;
    status.dataset.state = health.status === "ok" ? "ok" : "down";
  } catch (err) {
    status.textContent = err instanceof Error ? err.message : "unreachable";
    status.dataset.state = "down";
  }
}

void showHealth();
