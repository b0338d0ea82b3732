//! Identifiers: random where they must be unguessable, and a strict grammar for everything a
//! caller sends, checked before any Durable Object is addressed.

use runbrake_core::RunKind;

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// `n` random base62 characters from the platform's CSPRNG (`crypto.getRandomValues`).
/// 22 characters carry 130 bits.
pub fn random_base62(n: usize) -> String {
    let mut out = String::with_capacity(n);
    let mut buf = vec![0u8; n * 2];
    while out.len() < n {
        if getrandom::getrandom(&mut buf).is_err() {
            // The runtime always provides getRandomValues; without it no id may be minted.
            panic_free_abort();
        }
        // Rejection sampling keeps the alphabet uniform (248 = 4 * 62).
        for b in &buf {
            if out.len() == n {
                break;
            }
            if *b < 248 {
                out.push(char::from(BASE62[usize::from(*b % 62)]));
            }
        }
    }
    out
}

/// Never reached on Workers; kept out of line so the id functions stay infallible.
#[cold]
fn panic_free_abort() -> ! {
    std::process::abort()
}

/// Characters of entropy in every minted id.
const ID_ENTROPY_CHARS: usize = 22;

pub fn run_prefix(kind: RunKind) -> &'static str {
    match kind {
        RunKind::Workflow => "run_",
        RunKind::WorkflowTest => "wftestrun_",
        RunKind::Experiment => "exprun_",
        RunKind::ExtendWorkflow => "workflow_run_",
        RunKind::Generic => "grun_",
    }
}

pub fn new_run_id(kind: RunKind) -> String {
    format!("{}{}", run_prefix(kind), random_base62(ID_ENTROPY_CHARS))
}

pub fn new_org_id() -> String {
    format!("org_{}", random_base62(ID_ENTROPY_CHARS))
}

pub fn new_key_id() -> String {
    format!("key_{}", random_base62(16))
}

pub fn new_lease_id() -> String {
    format!("lease_{}", random_base62(ID_ENTROPY_CHARS))
}

/// Longest id a caller may send (run ids, child ids, executor ids, batch ids, tags).
pub const MAX_ID_LEN: usize = 128;
/// Longest idempotency key (Stripe's bound).
pub const MAX_COMMAND_ID_LEN: usize = 255;

/// Ids callers send: `[A-Za-z0-9_-]`, 1..=128. No dots, slashes or percent signs, so no path
/// trick survives to a Durable Object name.
pub fn is_valid_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_ID_LEN
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Idempotency keys: `[A-Za-z0-9_.:-]`, 1..=255.
pub fn is_valid_command_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_COMMAND_ID_LEN
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b':'))
}

/// Tags and labels: printable, no control characters, 1..=64 bytes.
pub fn is_valid_tag(s: &str) -> bool {
    !s.is_empty() && s.len() <= 64 && !s.chars().any(char::is_control)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_grammar_refuses_path_tricks() {
        for bad in [
            "",
            "../x",
            "a/b",
            "%2e%2e",
            "a%2Fb",
            "a\0b",
            "a.b",
            "ａ",
            &"x".repeat(129),
        ] {
            assert!(!is_valid_id(bad), "{bad:?} accepted");
        }
        for good in [
            "run_abc123",
            "wftestrun_q1z2",
            "workflow_run_xKm9pNv3qWsY_jL2tR5Dh",
            "a",
        ] {
            assert!(is_valid_id(good), "{good:?} refused");
        }
    }

    #[test]
    fn command_ids_allow_dots_and_colons_up_to_255() {
        assert!(is_valid_command_id("cmd_cancel_abc"));
        assert!(is_valid_command_id("parent:7:cascade.1"));
        assert!(is_valid_command_id(&"k".repeat(255)));
        assert!(!is_valid_command_id(&"k".repeat(256)));
        assert!(!is_valid_command_id("has space"));
        assert!(!is_valid_command_id("slash/"));
    }
}
