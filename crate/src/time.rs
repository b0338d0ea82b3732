//! Time as data. The core never reads a clock: every command is decided at a `now` the caller
//! passes in, and every timestamp it stores is a [`Millis`].

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;

/// Milliseconds since the Unix epoch (UTC). Plain `u64` so that it is a JSON number in every
/// stored and wire format, and a JavaScript `number` (exact up to year 287,396).
pub type Millis = u64;

/// The latest instant [`format_rfc3339`] can spell: 9999-12-31T23:59:59.999Z (RFC 3339 has
/// four-digit years). Later values are clamped to it.
pub const MAX_RFC3339_MILLIS: Millis = 253_402_300_799_999;

/// Formats `ms` as RFC 3339 UTC: `2026-05-01T14:30:00Z`, or `2026-05-01T14:30:00.250Z` when the
/// milliseconds are not zero. Always `Z`, never an offset, so strings sort like the instants.
///
/// Values past year 9999 are clamped to [`MAX_RFC3339_MILLIS`] (total function: no panic, no
/// error for a timestamp that a clock of this century cannot produce).
pub fn format_rfc3339(ms: Millis) -> String {
    let ms = ms.min(MAX_RFC3339_MILLIS);
    let secs = (ms / 1000) as i64; // <= 253_402_300_799, fits
    let frac = ms % 1000;
    let base = OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .and_then(|t| {
            t.format(format_description!(
                "[year]-[month]-[day]T[hour]:[minute]:[second]"
            ))
            .ok()
        })
        // Unreachable for clamped input; keep the function total anyway.
        .unwrap_or_else(|| String::from("9999-12-31T23:59:59"));
    if frac == 0 {
        format!("{base}Z")
    } else {
        format!("{base}.{frac:03}Z")
    }
}

/// Why a timestamp string was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TimeError {
    /// Not RFC 3339 (the message says where).
    Invalid(String),
    /// Before 1970-01-01T00:00:00Z: runbrake has no such runs.
    BeforeEpoch,
}

impl core::fmt::Display for TimeError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            TimeError::Invalid(m) => write!(f, "invalid RFC 3339 timestamp: {m}"),
            TimeError::BeforeEpoch => f.write_str("timestamp is before the Unix epoch"),
        }
    }
}

impl std::error::Error for TimeError {}

/// Parses any RFC 3339 timestamp (any offset, any fraction) to [`Millis`]. Sub-millisecond
/// digits are truncated, so `parse_rfc3339(&format_rfc3339(x)) == Ok(x)` for every
/// `x <= MAX_RFC3339_MILLIS`.
pub fn parse_rfc3339(s: &str) -> Result<Millis, TimeError> {
    let t = OffsetDateTime::parse(s, &Rfc3339).map_err(|e| TimeError::Invalid(e.to_string()))?;
    let nanos = t.unix_timestamp_nanos();
    if nanos < 0 {
        return Err(TimeError::BeforeEpoch);
    }
    u64::try_from(nanos / 1_000_000).map_err(|_| TimeError::Invalid(String::from("out of range")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_whole_seconds_without_fraction() {
        // 2026-05-01T14:30:00Z
        assert_eq!(format_rfc3339(1_777_645_800_000), "2026-05-01T14:30:00Z");
        assert_eq!(format_rfc3339(0), "1970-01-01T00:00:00Z");
    }

    #[test]
    fn formats_millis_when_not_zero() {
        assert_eq!(
            format_rfc3339(1_777_645_800_250),
            "2026-05-01T14:30:00.250Z"
        );
        assert_eq!(
            format_rfc3339(1_777_645_800_007),
            "2026-05-01T14:30:00.007Z"
        );
    }

    #[test]
    fn clamps_beyond_year_9999() {
        assert_eq!(format_rfc3339(u64::MAX), "9999-12-31T23:59:59.999Z");
    }

    #[test]
    fn parses_offsets_and_fractions() {
        assert_eq!(parse_rfc3339("2026-05-01T14:30:00Z"), Ok(1_777_645_800_000));
        assert_eq!(
            parse_rfc3339("2026-05-01T16:30:00.25+02:00"),
            Ok(1_777_645_800_250)
        );
        assert_eq!(
            parse_rfc3339("2026-05-01T14:30:00.123999Z"),
            Ok(1_777_645_800_123)
        );
        assert_eq!(
            parse_rfc3339("1969-12-31T23:59:59Z"),
            Err(TimeError::BeforeEpoch)
        );
        assert!(matches!(
            parse_rfc3339("yesterday"),
            Err(TimeError::Invalid(_))
        ));
        assert!(matches!(
            parse_rfc3339("2026-05-01 14:30:00"),
            Err(TimeError::Invalid(_))
        ));
    }

    #[test]
    fn round_trips() {
        for x in [0, 1, 999, 1000, 1_777_645_800_250, MAX_RFC3339_MILLIS] {
            assert_eq!(parse_rfc3339(&format_rfc3339(x)), Ok(x));
        }
    }
}
