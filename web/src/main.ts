// Start-up: take a sign-in link's key out of the URL before anything else, load the core
// (Wasm) while checking the key, then show the dashboard or the sign-in form.

import { Api, ApiError } from "./api";
import { App } from "./app";
import { initCore } from "./core";
import { byId } from "./dom";
import { forgetKey, storedKey, storeKey, takeKeyFromFragment } from "./session";
import { prefetchList } from "./list";
import { SignIn } from "./signin";

const linkKey = takeKeyFromFragment();
// Not awaited here: the list shows before the core is needed; a run's page waits for it.
void initCore().catch(() => {});
const main = byId("main");
let app: App | null = null;
let signIn: SignIn | null = null;

function showSignIn(message: string | null, tone: "error" | "info" = "error"): void {
  app?.dispose();
  app = null;
  signIn ??= new SignIn(main, (key) => startSession(key, "form"));
  signIn.show(message, tone);
}

function signOut(message: string | null, tone: "error" | "info"): void {
  forgetKey();
  showSignIn(message, tone);
}

async function startSession(key: string, how: "link" | "stored" | "form"): Promise<void> {
  const api = new Api(key, () =>
    signOut("Your API key stopped working: it has been revoked, or the organisation no longer exists. Sign in with a current key.", "error"),
  );
  // The first page of the list is asked for at once, beside the key check and the core's
  // download: a signed-in first load costs one round trip, not three.
  if (window.location.pathname === "/") prefetchList(new Api(key), window.location.search);
  let me;
  try {
    me = await new Api(key).me();
    performance.mark("runbrake:signed-in");
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) {
      forgetKey();
      const message =
        how === "stored"
          ? "Your saved key is no longer accepted (revoked?). Sign in with a current key."
          : "That API key was not accepted: it is mistyped, or it has been revoked. Check it and try again.";
      showSignIn(message, "error");
      return;
    }
    if (e instanceof ApiError) {
      showSignIn(`Could not check the key: ${e.message}`, "error");
      return;
    }
    showSignIn(`The dashboard could not start: ${e instanceof Error ? e.message : String(e)}`, "error");
    return;
  }
  storeKey(key);
  signIn?.hide();
  app = new App(main, api, me, () => signOut("You are signed out. The key was removed from this browser tab.", "info"));
}

const key = linkKey ?? storedKey();
if (key) void startSession(key, linkKey ? "link" : "stored");
else showSignIn(null);
