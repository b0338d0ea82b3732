//! Admin routes (guarded by the `ADMIN_TOKEN` secret): organisations and their API keys.
//! A key is shown once, in the reply that creates it; only its hash is stored.

use serde::Deserialize;
use serde_json::{Value, json};
use worker::{Env, Method, Request, Response, Result};

use super::{SMALL_BODY, errors};
use crate::auth::{self, Role};
use crate::http::{self, json_body};
use crate::{clock, ids};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewOrg {
    name: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewKey {
    role: Role,
    #[serde(default)]
    label: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Advance {
    advance_ms: u64,
}

pub async fn handle(mut req: Request, env: &Env, rest: &[&str]) -> Result<Response> {
    if !auth::is_admin(req.headers(), env) {
        return errors::auth(auth::AuthError::Invalid);
    }
    let post = matches!(req.method(), Method::Post);
    let get = matches!(req.method(), Method::Get);
    match rest {
        ["orgs"] if post => {
            let body: NewOrg = match json_body(&mut req, SMALL_BODY).await {
                Ok(b) => b,
                Err(e) => return errors::body(&e),
            };
            let name = body.name.trim();
            if name.is_empty() || name.chars().count() > 128 {
                return errors::invalid("name", "1–128 characters");
            }
            create_org(env, name).await
        }
        ["orgs", org, "keys"] if post && ids::is_valid_id(org) => {
            let body: NewKey = match json_body(&mut req, SMALL_BODY).await {
                Ok(b) => b,
                Err(e) => return errors::body(&e),
            };
            if !org_exists(env, org).await? {
                return org_not_found();
            }
            match create_key(env, org, body.role, body.label.as_deref().unwrap_or("")).await? {
                Ok(key) => http::json(201, &key),
                Err(refusal) => Ok(refusal),
            }
        }
        ["orgs", org, "keys"] if get && ids::is_valid_id(org) => {
            if !org_exists(env, org).await? {
                return org_not_found();
            }
            let mut res = auth::org_request(env, org, Method::Get, "/keys", None).await?;
            let body: Value = res.json().await?;
            http::json(200, &body)
        }
        ["orgs", org, "keys", key_id, "revoke"]
            if post && ids::is_valid_id(org) && ids::is_valid_id(key_id) =>
        {
            let body = json!({ "now": clock::now() }).to_string();
            let mut res = auth::org_request(
                env,
                org,
                Method::Post,
                &format!("/keys/{key_id}/revoke"),
                Some(body),
            )
            .await?;
            if res.status_code() != 200 {
                return http::problem(404, "key_not_found", "No such key");
            }
            auth::forget_key(key_id);
            let body: Value = res.json().await?;
            http::json(200, &body)
        }
        ["test-clock"] if post && clock::test_clock_enabled(env) => {
            let body: Advance = match json_body(&mut req, SMALL_BODY).await {
                Ok(b) => b,
                Err(e) => return errors::body(&e),
            };
            let now = clock::advance(body.advance_ms);
            http::json(200, &json!({ "now": now }))
        }
        // The right method with a malformed id: as unknown as a well-formed one.
        ["orgs", _, "keys"] if post || get => org_not_found(),
        ["orgs", _, "keys", _, "revoke"] if post => {
            http::problem(404, "key_not_found", "No such key")
        }
        // Without TEST_CLOCK the route does not exist.
        ["test-clock"] if post => http::not_found(),
        ["orgs"] | ["test-clock"] => http::method_not_allowed(&["POST"]),
        ["orgs", _, "keys"] => http::method_not_allowed(&["GET", "POST"]),
        ["orgs", _, "keys", _, "revoke"] => http::method_not_allowed(&["POST"]),
        _ => http::not_found(),
    }
}

fn org_not_found() -> Result<Response> {
    http::problem(404, "org_not_found", "No such organisation")
}

async fn org_exists(env: &Env, org: &str) -> Result<bool> {
    Ok(auth::org_request(env, org, Method::Get, "/org", None)
        .await?
        .status_code()
        == 200)
}

/// Mints a key and stores its hash; the key itself is in this reply only. A refusal by the
/// index (an invalid label) is passed on as a 400 naming the field, and no key is shown.
async fn create_key(
    env: &Env,
    org: &str,
    role: Role,
    label: &str,
) -> Result<std::result::Result<Value, Response>> {
    let key = auth::mint_key(org);
    let key_id = ids::new_key_id();
    let body = json!({
        "key_id": key_id, "hash": auth::hash_hex(&key), "role": role, "label": label, "now": clock::now(),
    })
    .to_string();
    let mut res = auth::org_request(env, org, Method::Post, "/keys", Some(body)).await?;
    let status = res.status_code();
    let mut stored: Value = res.json().await?;
    if status != 201 {
        let message = stored["message"]
            .as_str()
            .unwrap_or("key refused")
            .to_owned();
        let field = stored["field"].as_str().map(str::to_owned);
        return Ok(Err(http::problem_with(
            if status == 404 { 404 } else { 400 },
            "invalid_argument",
            message,
            field,
            None,
        )?));
    }
    stored["key"] = Value::String(key);
    Ok(Ok(stored))
}

async fn create_org(env: &Env, name: &str) -> Result<Response> {
    let org_id = ids::new_org_id();
    let body = json!({ "org_id": org_id, "name": name, "now": clock::now() }).to_string();
    let mut res = auth::org_request(env, &org_id, Method::Post, "/init", Some(body)).await?;
    let status = res.status_code();
    let org: Value = res.json().await?;
    if status != 200 {
        // The index refused the organisation (a name it does not take): nothing was created.
        let message = org["message"]
            .as_str()
            .unwrap_or("organisation refused")
            .to_owned();
        let field = org["field"].as_str().map(str::to_owned);
        return http::problem_with(400, "invalid_argument", message, field, None);
    }
    let user = match create_key(env, &org_id, Role::User, "default user key").await? {
        Ok(k) => k,
        Err(refusal) => return Ok(refusal),
    };
    let executor = match create_key(env, &org_id, Role::Executor, "default executor key").await? {
        Ok(k) => k,
        Err(refusal) => return Ok(refusal),
    };
    let mut res = http::json(201, &json!({ "org": org, "keys": [user, executor] }))?;
    res.headers_mut()
        .set("location", &format!("/api/admin/orgs/{org_id}/keys"))?;
    Ok(res)
}
