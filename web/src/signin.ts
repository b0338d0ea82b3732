// Sign-in with an API key. The key is checked with `GET /api/me` and kept in sessionStorage
// (this tab only); a wrong or revoked key gets a plain message.

import { h, replace } from "./dom";

export class SignIn {
  private readonly el: HTMLElement;
  private readonly input: HTMLInputElement;
  private readonly message: HTMLElement;
  private readonly button: HTMLButtonElement;

  constructor(
    private readonly main: HTMLElement,
    private readonly onKey: (key: string) => Promise<void>,
  ) {
    this.input = h("input", {
      id: "api-key",
      name: "api-key",
      type: "password",
      autocomplete: "off",
      spellcheck: "false",
      autocapitalize: "off",
      required: true,
      "aria-describedby": "api-key-help sign-in-message",
    });
    this.message = h("p", { id: "sign-in-message", class: "form-message", role: "alert" });
    this.button = h("button", { type: "submit", class: "btn btn-primary" }, "Sign in");
    const form = h(
      "form",
      { class: "sign-in-form", "aria-labelledby": "sign-in-title" },
      h("h1", { id: "sign-in-title" }, "Sign in"),
      h("p", { class: "lede" }, "Cancel workflow runs and watch them stop."),
      h("label", { for: "api-key" }, "API key"),
      this.input,
      h(
        "p",
        { id: "api-key-help", class: "hint" },
        "Use a user key of your organisation. It is kept in this browser tab only and sent only in the Authorization header. ",
        h("code", {}, "make dev"),
        " prints a link that signs in the demo organisation.",
      ),
      this.message,
      this.button,
    );
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      void this.submit();
    });
    this.el = h("section", { class: "sign-in" }, form);
  }

  private async submit(): Promise<void> {
    const key = this.input.value.trim();
    if (!key) {
      this.show("Enter an API key.", "error");
      return;
    }
    this.button.disabled = true;
    this.button.textContent = "Checking…";
    this.message.textContent = "";
    try {
      await this.onKey(key);
    } finally {
      this.button.disabled = false;
      this.button.textContent = "Sign in";
    }
  }

  show(message: string | null, tone: "error" | "info"): void {
    if (this.main.firstElementChild !== this.el) this.main.replaceChildren(this.el);
    document.title = "Sign in · runbrake";
    replace(this.message, message ?? "");
    this.message.dataset["tone"] = tone;
    this.message.setAttribute("role", tone === "error" ? "alert" : "status");
    if (message && tone === "error") {
      this.input.setAttribute("aria-invalid", "true");
    } else {
      this.input.removeAttribute("aria-invalid");
    }
    this.input.value = "";
    this.input.focus();
  }

  hide(): void {
    this.el.remove();
  }
}
