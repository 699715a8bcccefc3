//! Timestamps. Everything is stored and exchanged in UTC as RFC 3339 with a `Z` and whole
//! seconds (`2026-11-28T08:16:49Z`), which sorts correctly as text. Logic that depends on the
//! current time takes `now: Timestamp` as an argument; only the outermost layers read the clock.

use chrono::{DateTime, SecondsFormat, Utc};

pub type Timestamp = DateTime<Utc>;

/// The wall clock. Call it at the edges (CLI, app commands), never inside tested logic.
pub fn now() -> Timestamp {
    Utc::now()
}

pub fn to_db(t: Timestamp) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Parses any RFC 3339 timestamp with a numeric offset (Envato sends `+10:00` and `+11:00`)
/// and converts it to UTC.
pub fn parse(s: &str) -> Option<Timestamp> {
    DateTime::parse_from_rfc3339(s.trim()).ok().map(|t| t.with_timezone(&Utc))
}

/// A timestamp typed by a seller: RFC 3339, or a date (`2027-06-30`, the end of that day, UTC).
pub fn parse_day_or_time(s: &str) -> Option<Timestamp> {
    parse(s).or_else(|| {
        chrono::NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok()?.and_hms_opt(23, 59, 59).map(|d| d.and_utc())
    })
}

/// Where "now" comes from: `time::now` in the processes, a fixed or stepped time in tests.
pub type Clock = std::sync::Arc<dyn Fn() -> Timestamp + Send + Sync>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn australian_offsets_become_utc() {
        assert_eq!(to_db(parse("2016-09-07T10:54:28+10:00").unwrap()), "2016-09-07T00:54:28Z");
        assert_eq!(to_db(parse("2016-01-07T10:54:28+11:00").unwrap()), "2016-01-06T23:54:28Z");
        assert!(parse("yesterday").is_none());
        assert_eq!(to_db(parse_day_or_time("2027-06-30").unwrap()), "2027-06-30T23:59:59Z");
        assert!(parse_day_or_time("30/06/2027").is_none());
    }
}
