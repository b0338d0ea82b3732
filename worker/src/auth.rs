//! API keys, the admin token and WebSocket tickets.
//!
//! Keys look like `rbk_<org id>.<43 random base62>`: the org id tells the Worker which
//! organisation's index holds the key's SHA-256 hash; only hashes are stored. Verified keys are
//! cached in this isolate for a short time so a warm cancel costs no extra Durable Object hop;
//! revoking through this isolate drops the entry at once, elsewhere within `CACHE_TTL_MS`.

use std::cell::RefCell;
use std::collections::HashMap;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use worker::{Env, Headers, Method, Request, RequestInit};

use crate::{clock, ids};

const KEY_PREFIX: &str = "rbk_";
const CACHE_TTL_MS: u64 = 30_000;
const CACHE_MAX: usize = 10_000;
/// WebSocket tickets live long enough to open a socket, not to be worth stealing.
pub const TICKET_TTL_MS: u64 = 60_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Creates, reads and cancels runs (people, dashboards, vendor SDKs).
    User,
    /// Moves runs through their lifecycle (claim, heartbeat, complete…).
    Executor,
}

/// Who is calling, once their key checked out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Caller {
    pub org_id: String,
    pub key_id: String,
    pub role: Role,
}

/// Why a request is not let in; each route family renders it in its own shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthError {
    Missing,
    Invalid,
    /// A good key over its rate limit (see `rate_limit`): 429 with `Retry-After`.
    RateLimited {
        retry_after_s: u64,
    },
}

impl AuthError {
    pub fn message(self) -> &'static str {
        match self {
            AuthError::Missing => {
                "Missing API key: send `Authorization: Bearer <key>` or `Api-Key: <key>`"
            }
            AuthError::Invalid => "Invalid or revoked API key",
            AuthError::RateLimited { .. } => {
                "Too many requests with this API key; retry after the time in Retry-After"
            }
        }
    }
}

pub fn mint_key(org_id: &str) -> String {
    format!("{KEY_PREFIX}{org_id}.{}", ids::random_base62(43))
}

pub fn hash_hex(secret: &str) -> String {
    let digest = Sha256::digest(secret.as_bytes());
    let mut out = String::with_capacity(64);
    for b in digest {
        out.push(char::from(b"0123456789abcdef"[usize::from(b >> 4)]));
        out.push(char::from(b"0123456789abcdef"[usize::from(b & 15)]));
    }
    out
}

/// The organisation a key belongs to, if the key is well-formed.
pub fn org_of_key(key: &str) -> Option<&str> {
    let rest = key.strip_prefix(KEY_PREFIX)?;
    let (org, secret) = rest.split_once('.')?;
    (ids::is_valid_id(org) && org.starts_with("org_") && secret.len() == 43).then_some(org)
}

/// The key a request presents: `Authorization: Bearer <key>` (what the vendor SDKs send) or
/// `Api-Key: <key>` (what the seeds document). Keys in query strings are never read.
pub fn presented_key(headers: &Headers) -> Option<String> {
    if let Ok(Some(auth)) = headers.get("authorization") {
        let auth = auth.trim();
        let (scheme, token) = auth.split_once(' ').unwrap_or((auth, ""));
        if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() {
            return Some(token.trim().to_owned());
        }
    }
    match headers.get("api-key") {
        Ok(Some(key)) if !key.trim().is_empty() => Some(key.trim().to_owned()),
        Ok(_) | Err(_) => None,
    }
}

thread_local! {
    static CACHE: RefCell<HashMap<String, (Caller, u64)>> = RefCell::new(HashMap::new());
}

fn cached(hash: &str, now: u64) -> Option<Caller> {
    CACHE.with(|c| {
        let c = c.borrow();
        c.get(hash)
            .filter(|(_, exp)| *exp > now)
            .map(|(caller, _)| caller.clone())
    })
}

fn remember(hash: String, caller: Caller, now: u64) {
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        if c.len() >= CACHE_MAX {
            c.retain(|_, (_, exp)| *exp > now);
            if c.len() >= CACHE_MAX {
                c.clear();
            }
        }
        c.insert(hash, (caller, now + CACHE_TTL_MS));
    });
}

/// Drops every cached verification of one key (after a revoke).
pub fn forget_key(key_id: &str) {
    CACHE.with(|c| {
        c.borrow_mut()
            .retain(|_, (caller, _)| caller.key_id != key_id)
    });
}

#[derive(Deserialize)]
struct AuthReply {
    key_id: String,
    role: Role,
}

/// Checks the presented key against its organisation's index, then counts the request against
/// the key's rate limit.
pub async fn authenticate(headers: &Headers, env: &Env) -> Result<Caller, AuthError> {
    let caller = verify(headers, env).await?;
    crate::rate_limit::check(env, &caller.key_id)
        .map_err(|retry_after_s| AuthError::RateLimited { retry_after_s })?;
    Ok(caller)
}

/// Finds the key by its SHA-256 hash: in this isolate's cache, else in the organisation's index
/// (`SELECT … WHERE hash = ?`). Both are lookups keyed by the hash of what the caller sent, never
/// comparisons against a stored secret, so their timing can reveal at most something about the
/// hash of the caller's own input (a one-way function of it), not about any real key.
async fn verify(headers: &Headers, env: &Env) -> Result<Caller, AuthError> {
    let key = presented_key(headers).ok_or(AuthError::Missing)?;
    let org_id = org_of_key(&key).ok_or(AuthError::Invalid)?.to_owned();
    let hash = hash_hex(&key);
    let now = clock::now();
    if let Some(caller) = cached(&hash, now) {
        return Ok(caller);
    }
    let body = serde_json::json!({ "hash": hash }).to_string();
    let reply = org_request(env, &org_id, Method::Post, "/auth", Some(body))
        .await
        .map_err(|_| AuthError::Invalid)?;
    if reply.status_code() != 200 {
        return Err(AuthError::Invalid);
    }
    let found: AuthReply = crate::http::response_json(reply)
        .await
        .map_err(|_| AuthError::Invalid)?;
    let caller = Caller {
        org_id,
        key_id: found.key_id,
        role: found.role,
    };
    remember(hash, caller.clone(), now);
    Ok(caller)
}

/// A request to one organisation's index object.
pub async fn org_request(
    env: &Env,
    org_id: &str,
    method: Method,
    path: &str,
    body: Option<String>,
) -> worker::Result<worker::Response> {
    let stub = env.durable_object("ORGS")?.get_by_name(org_id)?;
    let mut init = RequestInit::new();
    init.with_method(method);
    if let Some(body) = body {
        let headers = Headers::new();
        headers.set("content-type", "application/json")?;
        init.with_headers(headers).with_body(Some(body.into()));
    }
    let req = Request::new_with_init(&format!("https://org.internal{path}"), &init)?;
    stub.fetch_with_request(req).await
}

fn admin_token(env: &Env) -> Option<String> {
    crate::vars::get(env, "ADMIN_TOKEN").filter(|t| t.len() >= 16)
}

/// The admin token, compared hash-to-hash in constant time (see [`secrets_match`]).
pub fn is_admin(headers: &Headers, env: &Env) -> bool {
    let (Some(expected), Some(given)) = (admin_token(env), presented_key(headers)) else {
        return false;
    };
    secrets_match(&expected, &given)
}

/// Whether a presented secret is the expected one. Both are hashed first (SHA-256), so the
/// comparison always runs over 32 bytes whatever either length is, and those bytes are compared
/// by [`digests_match`], which has no early exit.
pub fn secrets_match(expected: &str, given: &str) -> bool {
    digests_match(
        &Sha256::digest(expected.as_bytes()).into(),
        &Sha256::digest(given.as_bytes()).into(),
    )
}

/// Two SHA-256 digests compared in constant time: every byte pair is XORed into one accumulator
/// (no branch on the data, no early exit) and the accumulator is tested with `subtle`.
pub fn digests_match(a: &[u8; 32], b: &[u8; 32]) -> bool {
    let diff = xor_fold(a.iter().copied().zip(b.iter().copied()));
    diff.ct_eq(&0u8).into()
}

/// ORs together the XOR of every pair, reading all of them whatever they hold.
fn xor_fold(pairs: impl Iterator<Item = (u8, u8)>) -> u8 {
    pairs.fold(0u8, |acc, (x, y)| std::hint::black_box(acc | (x ^ y)))
}

#[derive(Serialize, Deserialize)]
struct TicketClaims {
    org: String,
    key: String,
    role: Role,
    exp: u64,
}

fn ticket_mac(env: &Env) -> Option<Hmac<Sha256>> {
    // Derived from the admin secret so a deployment needs no second secret.
    let root = admin_token(env)?;
    let derived = Sha256::digest(format!("runbrake-ws-ticket:{root}").as_bytes());
    Hmac::<Sha256>::new_from_slice(&derived).ok()
}

/// A short-lived, signed ticket that lets a browser open a WebSocket without putting its API
/// key in a URL.
pub fn issue_ticket(env: &Env, caller: &Caller, now: u64) -> Option<(String, u64)> {
    let exp = now + TICKET_TTL_MS;
    let claims = TicketClaims {
        org: caller.org_id.clone(),
        key: caller.key_id.clone(),
        role: caller.role,
        exp,
    };
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).ok()?);
    let mut mac = ticket_mac(env)?;
    mac.update(payload.as_bytes());
    let sig = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    Some((format!("{payload}.{sig}"), exp))
}

pub fn verify_ticket(env: &Env, ticket: &str, now: u64) -> Option<Caller> {
    let (payload, sig) = ticket.split_once('.')?;
    let sig = URL_SAFE_NO_PAD.decode(sig).ok()?;
    let mut mac = ticket_mac(env)?;
    mac.update(payload.as_bytes());
    mac.verify_slice(&sig).ok()?;
    let claims: TicketClaims =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
    (claims.exp > now).then_some(Caller {
        org_id: claims.org,
        key_id: claims.key,
        role: claims.role,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_name_their_org() {
        let key = mint_key("org_abc");
        assert_eq!(org_of_key(&key), Some("org_abc"));
        assert_eq!(org_of_key("rbk_org_abc.short"), None);
        assert_eq!(org_of_key("sk_live_whatever"), None);
        assert_eq!(org_of_key(&key.replace("org_abc", "org_../x")), None);
    }

    /// Counts how many byte pairs a comparison reads.
    struct Counting<I> {
        inner: I,
        read: std::rc::Rc<std::cell::Cell<usize>>,
    }

    impl<I: Iterator<Item = (u8, u8)>> Iterator for Counting<I> {
        type Item = (u8, u8);
        fn next(&mut self) -> Option<(u8, u8)> {
            let item = self.inner.next();
            if item.is_some() {
                self.read.set(self.read.get() + 1);
            }
            item
        }
    }

    fn digest(s: &str) -> [u8; 32] {
        Sha256::digest(s.as_bytes()).into()
    }

    #[test]
    fn secrets_compare_equal_only_when_equal() {
        let key = mint_key("org_abc");
        assert!(secrets_match(&key, &key.clone()));
        assert!(!secrets_match(&key, &key[..key.len() - 1]));
        assert!(!secrets_match(&key, &format!("{key}x")));
        assert!(!secrets_match(&key, ""));
        assert!(!secrets_match("", &key));
        let a = digest("a");
        for i in 0..32 {
            let mut b = a;
            b[i] ^= 0x80;
            assert!(
                !digests_match(&a, &b),
                "a difference in byte {i} went unseen"
            );
        }
        assert!(digests_match(&a, &digest("a")));
    }

    /// The comparator is hash-to-hash and constant time: whatever the inputs' lengths and
    /// wherever the first difference lies (first byte, last byte, none), it reads all 32 byte
    /// pairs of the two digests — no early exit that a timing attack could measure.
    #[test]
    fn comparison_reads_every_byte_wherever_the_difference_is() {
        let expected = digest(&mint_key("org_abc"));
        let mut first = expected;
        first[0] ^= 1;
        let mut last = expected;
        last[31] ^= 1;
        let short = digest("x");
        let long = digest(&"y".repeat(10_000));
        for (what, given) in [
            ("equal", expected),
            ("first byte differs", first),
            ("last byte differs", last),
            ("short input", short),
            ("long input", long),
        ] {
            let read = std::rc::Rc::new(std::cell::Cell::new(0));
            let pairs = Counting {
                inner: expected.iter().copied().zip(given.iter().copied()),
                read: read.clone(),
            };
            let diff = xor_fold(pairs);
            assert_eq!(
                read.get(),
                32,
                "{what}: read {} of 32 byte pairs",
                read.get()
            );
            assert_eq!(diff == 0, what == "equal", "{what}");
        }
    }

    /// A lint over this file's code: no secret, token, hash or digest is compared with `==`,
    /// `!=` or `.eq(` (early-exit comparisons); only lengths may be.
    #[test]
    fn no_early_exit_comparison_of_secrets_in_the_auth_code() {
        let source = include_str!("auth.rs");
        let code = source.split("#[cfg(test)]").next().unwrap_or(source);
        let secretish = ["token", "secret", "hash", "digest", "given", "expected"];
        for (n, line) in code.lines().enumerate() {
            let l = line.trim();
            if l.starts_with("//") {
                continue;
            }
            let compares = l.contains("==") || l.contains("!=") || l.contains(".eq(");
            let names_secret = secretish.iter().any(|w| l.to_ascii_lowercase().contains(w));
            let length_only = l.contains(".len()");
            assert!(
                !(compares && names_secret && !length_only),
                "auth.rs line {}: {l}",
                n + 1
            );
        }
    }

    #[test]
    fn hashes_are_hex_sha256() {
        assert_eq!(
            hash_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
