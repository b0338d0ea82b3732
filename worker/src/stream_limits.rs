//! Limits of the live streams (hibernatable WebSockets), enforced by the objects that hold
//! them. The platform accepts client messages of up to 32 MiB and any number of sockets per
//! object; a stream whose clients only ever send `ping` needs neither, and an unbounded count
//! would let one key make every broadcast of a run or an organisation arbitrarily expensive.

use worker::{Response, Result, WebSocketIncomingMessage};

/// Longest message a client may send (clients send `ping`; the health probe sends `probe`).
pub const MAX_CLIENT_MESSAGE_BYTES: usize = 1024;
/// Watchers of one run at once (dashboards, CLIs).
pub const MAX_RUN_WATCHERS: usize = 100;
/// Sockets of one lease at once (an executor and its reconnects not yet closed).
pub const MAX_LEASE_SOCKETS: usize = 4;
/// Watchers of one organisation's run list at once.
pub const MAX_ORG_WATCHERS: usize = 1_000;

/// The close a client's message gets when it is over the size limit (RFC 6455 1009).
pub fn oversized(message: &WebSocketIncomingMessage) -> Option<(u16, &'static str)> {
    let len = match message {
        WebSocketIncomingMessage::String(text) => text.len(),
        WebSocketIncomingMessage::Binary(bytes) => bytes.len(),
    };
    (len > MAX_CLIENT_MESSAGE_BYTES).then_some((1009, "message too big"))
}

/// What a stream says when it is full (`what`: "watchers of this run", …).
pub fn full_message(limit: usize, what: &str) -> String {
    format!("At most {limit} {what} at once; close one and retry")
}

/// The native API's refusal of an upgrade to a full stream: 429 problem+json, before the 101.
pub fn full(limit: usize, what: &str) -> Result<Response> {
    crate::http::problem_with(
        429,
        "too_many_streams",
        full_message(limit, what),
        None,
        Some(serde_json::json!({ "limit": limit })),
    )
}
