//! The Envato personal token as a value that cannot be printed.
//!
//! `Token` has no `Debug`, `Display` or `Serialize`, so it cannot reach a log line, a panic
//! message, an IPC reply or `--json` output by accident. The only way to its text is
//! `expose()`, called where the Authorization header is built and where the keychain stores it.

use crate::error::{Error, ErrorCode, Result};

pub struct Token(String);

impl Token {
    /// Checks the format locally: Envato personal tokens are 32 letters or digits.
    /// Surrounding whitespace (a paste with a newline) is forgiven.
    pub fn parse(input: &str) -> Result<Token> {
        let t = input.trim();
        if t.len() == 32 && t.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Ok(Token(t.to_string()));
        }
        // Say what is wrong without echoing any of it.
        let why = if t.is_empty() {
            "the token is empty".to_string()
        } else if !t.chars().all(|c| c.is_ascii_alphanumeric()) {
            "it contains characters other than letters and digits".to_string()
        } else {
            format!("it has {} characters instead of 32", t.chars().count())
        };
        Err(Error::new(
            ErrorCode::EnvatoTokenFormat,
            format!(
                "Invalid token format: {why}. Copy the entire token from build.envato.com, including all characters."
            ),
        ))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The last four characters, which is all the UI ever shows.
    pub fn masked(&self) -> String {
        format!("••••{}", &self.0[self.0.len() - 4..])
    }
}

impl Clone for Token {
    fn clone(&self) -> Self {
        Token(self.0.clone())
    }
}

impl Drop for Token {
    fn drop(&mut self) {
        // Best effort: overwrite the bytes before the allocation is freed.
        // SAFETY: writing ASCII zeros keeps the String valid UTF-8.
        unsafe { self.0.as_bytes_mut().iter_mut().for_each(|b| *b = b'0') };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_is_checked_locally_and_errors_never_echo_the_input() {
        let ok = Token::parse("  abcdEFGH1234abcdEFGH1234abcd5678\n").unwrap();
        assert_eq!(ok.expose(), "abcdEFGH1234abcdEFGH1234abcd5678");
        assert_eq!(ok.masked(), "••••5678");
        for bad in ["", "short", "abcdEFGH1234abcdEFGH1234abcd567!", "abcdEFGH1234abcdEFGH1234abcd56789"] {
            let err = Token::parse(bad).err().unwrap();
            assert_eq!(err.code, ErrorCode::EnvatoTokenFormat);
            if bad.len() > 4 {
                assert!(!err.message.contains(bad), "{}", err.message);
            }
        }
    }
}
