//! Envato purchase codes: normalised and checked before any request, because a malformed code
//! sent to Envato only earns a block from its CDN's firewall.

use crate::error::{Error, ErrorCode, Result};
use unicode_normalization::UnicodeNormalization;

/// A purchase code in canonical form: 36 characters, lowercase hexadecimal 8-4-4-4-12.
/// UUID version and variant bits are not required (real codes break them).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PurchaseCode(String);

fn is_invisible(c: char) -> bool {
    c.is_whitespace() || matches!(c, '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}')
}

impl PurchaseCode {
    /// NFKC (full-width digits from some keyboards become ASCII), trim (including zero-width
    /// characters that ride along with a copy from a web page), lowercase, then the shape check.
    pub fn parse(input: &str) -> Result<PurchaseCode> {
        let normalised: String = input.nfkc().collect();
        let code = normalised.trim_matches(is_invisible).to_lowercase();
        let groups: Vec<&str> = code.split('-').collect();
        let shape_ok = groups.len() == 5
            && groups
                .iter()
                .zip([8, 4, 4, 4, 12])
                .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()));
        if !shape_ok {
            return Err(Error::new(
                ErrorCode::PurchaseCodeMalformed,
                "That is not an Envato purchase code. A purchase code has 36 characters in five groups of \
                 letters a-f and digits, like a67f4582-95d6-4019-81f3-75d1ebe3a071. Ask the buyer to copy it \
                 from their Downloads page on Envato.",
            ));
        }
        Ok(PurchaseCode(code))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalisation_table() {
        let want = "a67f4582-95d6-4019-81f3-75d1ebe3a071";
        for input in [
            want,
            "  A67F4582-95D6-4019-81F3-75D1EBE3A071\n",
            "\u{200B}a67f4582-95d6-4019-81f3-75d1ebe3a071\u{FEFF}",
            // Full-width characters, as typed with some Asian input methods.
            "ａ６７ｆ４５８２－９５ｄ６－４０１９－８１ｆ３－７５ｄ１ｅｂｅ３ａ０７１",
        ] {
            assert_eq!(PurchaseCode::parse(input).unwrap().as_str(), want, "{input:?}");
        }
        // Not UUID-v4 shaped, still valid.
        assert!(PurchaseCode::parse("00000000-0000-0000-0000-000000000000").is_ok());
        for bad in [
            "",
            "1234-5678-90123",
            "a67f458295d6401981f375d1ebe3a071",
            "g67f4582-95d6-4019-81f3-75d1ebe3a071",
            "a67f4582-95d6-4019-81f3-75d1ebe3a07",
            "a67f4582-95d6-4019-81f3-75d1ebe3a071-",
            "a67f4582 95d6 4019 81f3 75d1ebe3a071",
            "'; DROP TABLE licenses; --",
        ] {
            assert_eq!(PurchaseCode::parse(bad).unwrap_err().code, ErrorCode::PurchaseCodeMalformed, "{bad:?}");
        }
    }
}
