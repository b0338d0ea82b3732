//! The change stream: messages on the org's hibernatable WebSockets, and the replay decision.

use super::error::ApiError;
use super::fields::MAX_SAFE_INT;

/// Every watcher of the run list carries this tag.
pub const WATCH_TAG: &str = "org";

/// Changes kept for replay; older ones are pruned on each write (and by the alarm).
pub const RETAINED_CHANGES: u64 = 10_000;

/// `{"type":"run","seq":N,"run":<summary>}`; the summary is already JSON text.
pub fn run_message(seq: u64, summary_json: &str) -> String {
    format!(r#"{{"type":"run","seq":{seq},"run":{summary_json}}}"#)
}

pub fn hello(seq: u64) -> String {
    format!(r#"{{"type":"hello","seq":{seq}}}"#)
}

pub fn pong(seq: u64) -> String {
    format!(r#"{{"type":"pong","seq":{seq}}}"#)
}

pub fn resync(seq: u64) -> String {
    format!(r#"{{"type":"resync","seq":{seq}}}"#)
}

/// What a watcher resuming after `after_seq` gets before the hello.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Replay {
    /// Up to date.
    Nothing,
    /// Every retained change with seq > this.
    After(u64),
    /// Some changes it missed are gone (or it claims a seq we never issued): re-list.
    Resync,
}

/// `oldest`/`latest` are the retained window (`None`/0 when no change was ever recorded).
pub fn plan_replay(after: u64, oldest: Option<u64>, latest: u64) -> Replay {
    if after == latest {
        return Replay::Nothing;
    }
    if after > latest {
        return Replay::Resync;
    }
    match oldest {
        Some(oldest) if oldest <= after.saturating_add(1) => Replay::After(after),
        Some(_) | None => Replay::Resync,
    }
}

/// The first seq the pruner deletes up to (inclusive), if any.
pub fn prune_through(latest: u64) -> Option<u64> {
    latest.checked_sub(RETAINED_CHANGES).filter(|n| *n > 0)
}

/// `GET /watch?after_seq=N`: the only parameter.
pub fn parse_watch<I, K, V>(pairs: I) -> Result<Option<u64>, ApiError>
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<str>,
    V: AsRef<str>,
{
    let mut after = None;
    for (key, value) in pairs {
        match key.as_ref() {
            "after_seq" if after.is_none() => {
                let v = value.as_ref();
                let n = v
                    .parse::<u64>()
                    .ok()
                    .filter(|n| *n <= MAX_SAFE_INT && v.bytes().all(|b| b.is_ascii_digit()))
                    .ok_or_else(|| {
                        ApiError::invalid("after_seq: must be a change seq (integer >= 0)")
                    })?;
                after = Some(n);
            }
            "after_seq" => return Err(ApiError::invalid("after_seq: given more than once")),
            other => return Err(ApiError::invalid(format!("{other}: unknown parameter"))),
        }
    }
    Ok(after)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages() {
        assert_eq!(
            run_message(7, r#"{"id":"r"}"#),
            r#"{"type":"run","seq":7,"run":{"id":"r"}}"#
        );
        assert_eq!(hello(3), r#"{"type":"hello","seq":3}"#);
        assert_eq!(pong(0), r#"{"type":"pong","seq":0}"#);
        assert_eq!(resync(9), r#"{"type":"resync","seq":9}"#);
    }

    #[test]
    fn replay_plans() {
        assert_eq!(plan_replay(0, None, 0), Replay::Nothing);
        assert_eq!(plan_replay(5, Some(1), 5), Replay::Nothing);
        assert_eq!(plan_replay(0, Some(1), 5), Replay::After(0));
        assert_eq!(plan_replay(3, Some(1), 5), Replay::After(3));
        assert_eq!(plan_replay(3, Some(4), 5), Replay::After(3));
        assert_eq!(plan_replay(3, Some(5), 5), Replay::Resync);
        assert_eq!(plan_replay(0, Some(2), 5), Replay::Resync);
        assert_eq!(plan_replay(6, Some(1), 5), Replay::Resync);
        assert_eq!(plan_replay(2, None, 5), Replay::Resync);
    }

    #[test]
    fn pruning_keeps_the_window() {
        assert_eq!(prune_through(0), None);
        assert_eq!(prune_through(10_000), None);
        assert_eq!(prune_through(10_001), Some(1));
        assert_eq!(prune_through(25_000), Some(15_000));
    }

    #[test]
    fn watch_params() {
        let none: [(&str, &str); 0] = [];
        assert_eq!(parse_watch(none), Ok(None));
        assert_eq!(parse_watch([("after_seq", "12")]), Ok(Some(12)));
        assert!(parse_watch([("after_seq", "-1")]).is_err());
        assert!(parse_watch([("after_seq", "1"), ("after_seq", "2")]).is_err());
        assert!(parse_watch([("x", "1")]).is_err());
    }
}
