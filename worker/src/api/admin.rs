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
                return http::problem(404, "org_not_found", "No such organisation");
            }
            let key = create_key(env, org, body.role, body.label.as_deref().unwrap_or("")).await?;
            http::json(201, &key)
        }
        ["orgs", org, "keys"] if get && ids::is_valid_id(org) => {
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
        _ => http::not_found(),
    }
}

async fn org_exists(env: &Env, org: &str) -> Result<bool> {
    Ok(auth::org_request(env, org, Method::Get, "/org", None)
        .await?
        .status_code()
        == 200)
}

async fn create_key(env: &Env, org: &str, role: Role, label: &str) -> Result<Value> {
    let key = auth::mint_key(org);
    let key_id = ids::new_key_id();
    let body = json!({
        "key_id": key_id, "hash": auth::hash_hex(&key), "role": role, "label": label, "now": clock::now(),
    })
    .to_string();
    let mut res = auth::org_request(env, org, Method::Post, "/keys", Some(body)).await?;
    let mut stored: Value = res.json().await?;
    stored["key"] = Value::String(key);
    Ok(stored)
}

async fn create_org(env: &Env, name: &str) -> Result<Response> {
    let org_id = ids::new_org_id();
    let body = json!({ "org_id": org_id, "name": name, "now": clock::now() }).to_string();
    let mut res = auth::org_request(env, &org_id, Method::Post, "/init", Some(body)).await?;
    let org: Value = res.json().await?;
    let user = create_key(env, &org_id, Role::User, "default user key").await?;
    let executor = create_key(env, &org_id, Role::Executor, "default executor key").await?;
    let mut res = http::json(201, &json!({ "org": org, "keys": [user, executor] }))?;
    res.headers_mut()
        .set("location", &format!("/api/admin/orgs/{org_id}/keys"))?;
    Ok(res)
}
