//! Money as exact integer cents. Envato sends amounts as strings with two decimals ("19.84");
//! they are parsed as decimals, never through a float.

use crate::error::{Error, Result};

/// Parses "19.84", "19.8", "19", "0.00" (optionally with a leading '-') into cents.
/// An empty string is `Ok(None)` (Envato sends `support_amount: ""`).
pub fn parse_cents(s: &str) -> Result<Option<i64>> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    let bad = || Error::invalid_input(format!("“{s}” is not an amount of money (expected e.g. 19.84)."));
    let (neg, digits) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let (whole, frac) = digits.split_once('.').unwrap_or((digits, ""));
    if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    if frac.len() > 2 || whole.len() > 15 {
        return Err(bad());
    }
    let whole: i64 = whole.parse().map_err(|_| bad())?;
    let frac_cents: i64 = match frac.len() {
        0 => 0,
        1 => frac.parse::<i64>().map_err(|_| bad())? * 10,
        _ => frac.parse().map_err(|_| bad())?,
    };
    let cents = whole * 100 + frac_cents;
    Ok(Some(if neg { -cents } else { cents }))
}

/// Formats cents as "19.84".
pub fn format_cents(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let abs = cents.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_exactly() {
        for (input, want) in [
            ("19.84", Some(1984)),
            ("0.00", Some(0)),
            ("", None),
            ("12", Some(1200)),
            ("12.5", Some(1250)),
            ("-3.10", Some(-310)),
        ] {
            assert_eq!(parse_cents(input).unwrap(), want, "{input}");
        }
        // 0.1 + 0.2 style float damage cannot happen: every value round-trips.
        for cents in [1, 10, 29, 1984, 123456789] {
            assert_eq!(parse_cents(&format_cents(cents)).unwrap(), Some(cents));
        }
        for bad in ["1.234", "abc", "1,00", ".5", "1e3"] {
            assert!(parse_cents(bad).is_err(), "{bad}");
        }
    }
}
