// The API key lives in sessionStorage only: it is gone when the tab closes, and never in a URL
// the browser keeps. A sign-in link (`/#key=…`, printed by `make dev`) is read once and its
// fragment removed from the address bar and history at once.

const STORAGE_KEY = "runbrake.key";

/** Takes a key from `#key=…` (removing the fragment), if there is one. */
export function takeKeyFromFragment(): string | null {
  const hash = window.location.hash;
  if (!hash.startsWith("#")) return null;
  const params = new URLSearchParams(hash.slice(1));
  const key = params.get("key");
  if (key === null) return null;
  params.delete("key");
  const rest = params.toString();
  const url = `${window.location.pathname}${window.location.search}${rest ? `#${rest}` : ""}`;
  window.history.replaceState(window.history.state, "", url);
  const trimmed = key.trim();
  return trimmed === "" ? null : trimmed;
}

export function storedKey(): string | null {
  try {
    return window.sessionStorage.getItem(STORAGE_KEY);
  } catch {
    return null;
  }
}

export function storeKey(key: string): void {
  try {
    window.sessionStorage.setItem(STORAGE_KEY, key);
  } catch {
    /* storage disabled: the key lives in memory for this page only */
  }
}

export function forgetKey(): void {
  try {
    window.sessionStorage.removeItem(STORAGE_KEY);
  } catch {
    /* nothing stored */
  }
}
