//! Versions compared as PHP's `version_compare` compares them (what WordPress uses to decide that
//! an update exists): `-`, `_` and `+` become `.`, a dot goes between digits and letters, numbers
//! compare as numbers, and the special forms rank `dev` < `alpha`/`a` < `beta`/`b` < `RC`/`rc` <
//! a number < `pl`/`p`. A port of ext/standard/versioning.c, byte for byte; a test compares it
//! with the PHP interpreter's own answers.
//!
//! No crate matches PHP here (semver refuses `1.0.0.1`, `version-compare` orders `1.0.0-beta`
//! after `1.0.0`), and a version wrong by one rule would offer a downgrade or hide an update.

use std::cmp::Ordering;

/// `version_compare(a, b)` as an ordering.
pub fn compare(a: &str, b: &str) -> Ordering {
    compare_bytes(a.as_bytes(), b.as_bytes())
}

/// Whether `a` is newer than `b` (`version_compare(a, b, '>')`).
pub fn newer(a: &str, b: &str) -> bool {
    compare(a, b) == Ordering::Greater
}

fn is_special(c: u8) -> bool {
    matches!(c, b'-' | b'_' | b'+')
}

fn is_dig(c: u8) -> bool {
    c.is_ascii_digit()
}

fn is_ndig(c: u8) -> bool {
    !c.is_ascii_digit() && c != b'.'
}

/// A canonical version, on the stack when it is short (every version a release or a site
/// sends): comparing runs for every release on every update check, without allocating.
enum Canonical {
    Stack([u8; 160], usize),
    Heap(Vec<u8>),
}

impl std::ops::Deref for Canonical {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Canonical::Stack(b, n) => &b[..*n],
            Canonical::Heap(v) => v,
        }
    }
}

/// `php_canonicalize_version`: the first byte as it is, then separators as dots and a dot at
/// each change between digits and other characters.
fn canonical(v: &[u8]) -> Canonical {
    if v.len() * 2 <= 160 {
        let mut buf = [0u8; 160];
        let n = canonical_into(v, |i, c| buf[i] = c);
        Canonical::Stack(buf, n)
    } else {
        let mut out = vec![0u8; v.len() * 2];
        let n = canonical_into(v, |i, c| out[i] = c);
        out.truncate(n);
        Canonical::Heap(out)
    }
}

/// Writes the canonical form through `put(index, byte)`; returns its length (at most twice the input's).
fn canonical_into(v: &[u8], mut put: impl FnMut(usize, u8)) -> usize {
    let Some((&first, rest)) = v.split_first() else { return 0 };
    let mut n = 0;
    let mut last_out = first;
    let mut push = |c: u8, n: &mut usize, last_out: &mut u8| {
        put(*n, c);
        *n += 1;
        *last_out = c;
    };
    push(first, &mut n, &mut last_out);
    let mut last = first;
    for &c in rest {
        let dot_last = last_out == b'.';
        if is_special(c) {
            if !dot_last {
                push(b'.', &mut n, &mut last_out);
            }
        } else if (is_ndig(last) && is_dig(c)) || (is_dig(last) && is_ndig(c)) {
            if !dot_last {
                push(b'.', &mut n, &mut last_out);
            }
            push(c, &mut n, &mut last_out);
        } else if !c.is_ascii_alphanumeric() {
            if !dot_last {
                push(b'.', &mut n, &mut last_out);
            }
        } else {
            push(c, &mut n, &mut last_out);
        }
        last = c;
    }
    n
}

/// The rank of a named part (prefix match, as PHP's `strncmp`); unknown names rank lowest.
fn special_rank(form: &[u8]) -> i32 {
    const FORMS: [(&[u8], i32); 10] = [
        (b"dev", 0),
        (b"alpha", 1),
        (b"a", 1),
        (b"beta", 2),
        (b"b", 2),
        (b"RC", 3),
        (b"rc", 3),
        (b"#", 4),
        (b"pl", 5),
        (b"p", 5),
    ];
    FORMS.iter().find(|(name, _)| form.starts_with(name)).map_or(-1, |(_, rank)| *rank)
}

fn compare_special(a: &[u8], b: &[u8]) -> Ordering {
    special_rank(a).cmp(&special_rank(b))
}

/// `strtol` of a run of digits (saturating, as `strtol` does at `LONG_MAX`).
fn number(part: &[u8]) -> i64 {
    let mut n: i64 = 0;
    for &c in part.iter().take_while(|c| c.is_ascii_digit()) {
        n = n.saturating_mul(10).saturating_add((c - b'0') as i64);
    }
    n
}

/// The part of `v` from `at` to the next dot, and where the next part starts (None: no dot).
fn part(v: &[u8], at: usize) -> (&[u8], Option<usize>) {
    let rest = &v[at.min(v.len())..];
    match rest.iter().position(|&c| c == b'.') {
        Some(i) => (&rest[..i], Some(at + i + 1)),
        None => (rest, None),
    }
}

fn compare_bytes(a: &[u8], b: &[u8]) -> Ordering {
    if a.is_empty() || b.is_empty() {
        return (!a.is_empty()).cmp(&!b.is_empty());
    }
    let v1 = if a[0] == b'#' { Canonical::Heap(a.to_vec()) } else { canonical(a) };
    let v2 = if b[0] == b'#' { Canonical::Heap(b.to_vec()) } else { canonical(b) };
    let (mut p1, mut p2) = (0usize, 0usize);
    // `n1`/`n2`: whether a dot followed the part last read (PHP's `n1 != NULL`).
    let (mut n1, mut n2) = (true, true);
    let mut result = Ordering::Equal;
    while p1 < v1.len() && p2 < v2.len() && n1 && n2 {
        let (s1, next1) = part(&v1, p1);
        let (s2, next2) = part(&v2, p2);
        n1 = next1.is_some();
        n2 = next2.is_some();
        let d1 = s1.first().is_some_and(|c| c.is_ascii_digit());
        let d2 = s2.first().is_some_and(|c| c.is_ascii_digit());
        result = match (d1, d2) {
            (true, true) => number(s1).cmp(&number(s2)),
            (false, false) => compare_special(s1, s2),
            (true, false) => compare_special(b"#N#", s2),
            (false, true) => compare_special(s1, b"#N#"),
        };
        if result != Ordering::Equal {
            break;
        }
        if let Some(n) = next1 {
            p1 = n;
        }
        if let Some(n) = next2 {
            p2 = n;
        }
    }
    if result == Ordering::Equal {
        if n1 {
            let rest = &v1[p1.min(v1.len())..];
            result = if rest.first().is_some_and(|c| c.is_ascii_digit()) {
                Ordering::Greater
            } else {
                compare_bytes(rest, b"#N#")
            };
        } else if n2 {
            let rest = &v2[p2.min(v2.len())..];
            result = if rest.first().is_some_and(|c| c.is_ascii_digit()) {
                Ordering::Less
            } else {
                compare_bytes(b"#N#", rest)
            };
        }
    }
    result
}

/// A version a seller may give a release: 1 to 64 characters, starting with a digit, made of
/// letters, digits, `.`, `-`, `_` and `+`.
pub fn valid(v: &str) -> bool {
    !v.is_empty()
        && v.len() <= 64
        && v.as_bytes()[0].is_ascii_digit()
        && v.bytes().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-' | b'_' | b'+'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use Ordering::*;

    /// Answers of PHP 8.2's `version_compare` (the integration test asks the interpreter for
    /// many more).
    #[test]
    fn compares_as_php_does() {
        let table = [
            ("1.0.0-beta", "1.0.0", Less),
            ("1.0.0", "1.0.0.1", Less),
            ("1.10", "1.9", Greater),
            ("1.0", "1.0.0", Less),
            ("1.0rc1", "1.0", Less),
            ("1.0RC1", "1.0rc1", Equal),
            ("1.0-dev", "1.0-alpha", Less),
            ("1.0a", "1.0alpha", Equal),
            ("1.0b1", "1.0RC1", Less),
            ("1.0pl1", "1.0", Greater),
            ("1.0.0", "1.0.0", Equal),
            ("1.0-foo", "1.0-dev", Less),
            ("", "1", Less),
            ("", "", Equal),
            ("1", "", Greater),
            ("5.2", "5.10", Less),
            ("1_0", "1.0", Equal),
            ("1+0", "1-0", Equal),
            ("2.0.0", "10.0.0", Less),
            ("1.0.0-beta2", "1.0.0-beta10", Less),
        ];
        for (a, b, want) in table {
            assert_eq!(compare(a, b), want, "version_compare({a:?}, {b:?})");
            assert_eq!(compare(b, a), want.reverse(), "version_compare({b:?}, {a:?})");
        }
    }

    #[test]
    fn valid_versions() {
        for ok in ["1", "1.0.0", "2.3.4-beta.1", "1.0_rc2", "10.0+build"] {
            assert!(valid(ok), "{ok}");
        }
        for bad in ["", "v1.0", "1.0 beta", "1/0", &"1".repeat(65), "../1"] {
            assert!(!valid(bad), "{bad}");
        }
    }
}
