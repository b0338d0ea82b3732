//! Plain-text vars and secrets, read so that an unset one is simply absent.
//!
//! `Env::var` checks the binding's JavaScript constructor, which throws on `null` — the value
//! bare workerd gives a `fromEnvironment` binding whose environment variable is unset (the
//! self-hosted config declares `TEST_CLOCK` and `ALLOWED_ORIGINS` that way). A JavaScript
//! exception thrown through Wasm never settles the request: it hangs. Every var is read here.

use wasm_bindgen::JsValue;
use worker::Env;

/// The var's text, or `None` when it is unset, `null` or not a string.
pub fn get(env: &Env, name: &str) -> Option<String> {
    let env: &JsValue = env.as_ref();
    js_sys::Reflect::get(env, &JsValue::from_str(name))
        .ok()
        .and_then(|v| v.as_string())
}

/// Whether the var is set to exactly "1" (the test-only switches).
pub fn is_on(env: &Env, name: &str) -> bool {
    get(env, name).as_deref() == Some("1")
}
