//! KeyManager's own license keys.
//!
//! `7KQ2M-XH4TP-9RWC3-NB8FZ`: 19 random symbols from a CSPRNG plus one check symbol, in groups
//! of five (about 92 bits of randomness). The alphabet leaves out 0/O, 1/I/L, S/5 and U so a key
//! read aloud or retyped is unambiguous. The check symbol makes the position-weighted sum of all
//! twenty symbols zero modulo 29, a prime: that catches every single-symbol typo and every swap
//! of two neighbours, so a mistyped key is refused before any database look-up. Keys are never
//! derived from purchase codes: a leaked code reveals nothing about its license key.

use crate::error::{Error, ErrorCode, Result};

pub const ALPHABET: &[u8; 29] = b"23456789ABCDEFGHJKMNPQRTVWXYZ";
const N: u32 = ALPHABET.len() as u32;
const DATA_LEN: usize = 19;
const GROUP: usize = 5;

fn index_of(c: u8) -> Option<u32> {
    ALPHABET.iter().position(|&a| a == c).map(|i| i as u32)
}

/// The check symbol `c` such that sum((i + 1) * v_i) over all 20 symbols is 0 mod 29.
/// Weights 1..=20 are all non-zero mod 29, so one wrong symbol always shows; neighbouring
/// weights differ by one, so a swap of two different neighbours always shows.
fn check_symbol(data: &[u32]) -> u32 {
    let sum: u32 = data.iter().enumerate().map(|(i, &v)| (i as u32 + 1) * v).sum::<u32>() % N;
    // The check sits at weight 20; 16 is the inverse of 20 modulo 29 (20 * 16 = 320 = 11 * 29 + 1).
    (N - sum) % N * 16 % N
}

/// A parsed, checked license key in canonical form.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct LicenseKey(String);

impl LicenseKey {
    /// A fresh key from the operating system's CSPRNG.
    pub fn generate() -> Result<LicenseKey> {
        let mut indices = Vec::with_capacity(DATA_LEN + 1);
        let mut buf = [0u8; 64];
        while indices.len() < DATA_LEN {
            getrandom::fill(&mut buf)
                .map_err(|e| Error::internal(format!("The system random generator failed: {e}.")))?;
            // Rejection sampling keeps every symbol equally likely: 232 = 8 * 29.
            for &b in buf.iter() {
                if indices.len() == DATA_LEN {
                    break;
                }
                if (b as u32) < N * 8 {
                    indices.push(b as u32 % N);
                }
            }
        }
        indices.push(check_symbol(&indices));
        Ok(LicenseKey(format_groups(&indices)))
    }

    /// Accepts a key as a person types it: any case, with or without dashes or spaces.
    pub fn parse(input: &str) -> Result<LicenseKey> {
        let malformed = |why: &str| {
            Error::new(ErrorCode::LicenseKeyMalformed, format!("That is not a valid KeyManager license key: {why}."))
        };
        let mut indices = Vec::with_capacity(DATA_LEN + 1);
        for c in input.trim().chars() {
            if c == '-' || c == ' ' {
                continue;
            }
            let up = c.to_ascii_uppercase();
            if !up.is_ascii() {
                return Err(malformed("it contains characters that never appear in keys"));
            }
            match index_of(up as u8) {
                Some(i) => indices.push(i),
                None => return Err(malformed(&format!("“{c}” never appears in keys"))),
            }
            if indices.len() > DATA_LEN + 1 {
                return Err(malformed("it is too long (keys have 20 characters)"));
            }
        }
        if indices.len() != DATA_LEN + 1 {
            return Err(malformed("keys have 20 characters in four groups of five"));
        }
        let (data, check) = indices.split_at(DATA_LEN);
        if check_symbol(data) != check[0] {
            return Err(malformed("a character is mistyped (the check character does not match)"));
        }
        Ok(LicenseKey(format_groups(&indices)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

fn format_groups(indices: &[u32]) -> String {
    let mut out = String::with_capacity(indices.len() + indices.len() / GROUP);
    for (i, &v) in indices.iter().enumerate() {
        if i > 0 && i % GROUP == 0 {
            out.push('-');
        }
        out.push(ALPHABET[v as usize] as char);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn generated_keys_parse_and_are_readable() {
        let mut seen = HashSet::new();
        for _ in 0..2000 {
            let key = LicenseKey::generate().unwrap();
            let s = key.as_str();
            assert_eq!(s.len(), 23);
            assert_eq!(s.split('-').count(), 4);
            for c in ['0', 'O', '1', 'I', 'L', 'U'] {
                assert!(!s.contains(c), "{s} contains ambiguous {c}");
            }
            assert_eq!(LicenseKey::parse(s).unwrap(), key);
            assert_eq!(LicenseKey::parse(&s.to_lowercase().replace('-', " ")).unwrap(), key);
            assert!(seen.insert(key));
        }
    }

    #[test]
    fn every_single_typo_and_adjacent_swap_is_caught() {
        let key = LicenseKey::generate().unwrap();
        let chars: Vec<u8> = key.as_str().bytes().filter(|&b| b != b'-').collect();
        for pos in 0..chars.len() {
            for &sub in ALPHABET.iter() {
                if sub == chars[pos] {
                    continue;
                }
                let mut typo = chars.clone();
                typo[pos] = sub;
                let err = LicenseKey::parse(std::str::from_utf8(&typo).unwrap()).unwrap_err();
                assert_eq!(err.code, ErrorCode::LicenseKeyMalformed);
            }
            if pos + 1 < chars.len() && chars[pos] != chars[pos + 1] {
                let mut swapped = chars.clone();
                swapped.swap(pos, pos + 1);
                assert!(LicenseKey::parse(std::str::from_utf8(&swapped).unwrap()).is_err());
            }
        }
    }

    #[test]
    fn garbage_is_refused_with_a_reason() {
        for bad in ["", "ABC", "0000-0000-0000-0000-0000", "'; DROP TABLE licenses; --", "ÄÖÜ", &"A".repeat(10_000)]
        {
            let err = LicenseKey::parse(bad).unwrap_err();
            assert_eq!(err.code, ErrorCode::LicenseKeyMalformed, "{bad}");
        }
    }
}
