//! The Envato personal token as a value that cannot be printed, and is wiped from memory.
//!
//! `Token` has no `Debug`, `Display` or `Serialize`, so it cannot reach a log line, a panic
//! message, an IPC reply or `--json` output by accident. Its text lives in a
//! `secrecy::SecretString`, zeroised when dropped; the only way to it is `expose()`, called where
//! the Authorization header is built and where the keychain stores it. Input copies (IPC
//! arguments, standard input, the keychain's answer) are taken as `SecretString` or
//! `Zeroizing<String>` by their callers so they are wiped too.
//!
//! A token loaded from the keychain is bound to the Envato origin it was validated against
//! (`bound_to`); the client refuses to send it anywhere else.

use crate::error::{Error, ErrorCode, Result};
use secrecy::{ExposeSecret, SecretString};

pub use secrecy::SecretString as SecretText;

pub struct Token {
    secret: SecretString,
    bound_to: Option<String>,
}

impl Token {
    /// Checks the format locally: Envato personal tokens are 32 letters or digits.
    /// Surrounding whitespace (a paste with a newline) is forgiven.
    pub fn parse(input: &str) -> Result<Token> {
        let t = input.trim();
        if t.len() == 32 && t.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Ok(Token { secret: SecretString::from(t), bound_to: None });
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

    /// The same token, bound to the Envato origin (`scheme://host[:port]`) it was validated for.
    pub fn bound(mut self, origin: &str) -> Token {
        self.bound_to = Some(origin.to_string());
        self
    }

    /// The origin this token may be sent to; None for a token just typed (being validated).
    pub fn bound_to(&self) -> Option<&str> {
        self.bound_to.as_deref()
    }

    pub fn expose(&self) -> &str {
        self.secret.expose_secret()
    }

    /// The last four characters, which is all the UI ever shows.
    pub fn masked(&self) -> String {
        let t = self.expose();
        format!("••••{}", &t[t.len() - 4..])
    }
}

impl Clone for Token {
    fn clone(&self) -> Self {
        Token { secret: SecretString::from(self.expose()), bound_to: self.bound_to.clone() }
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
        assert_eq!(ok.bound_to(), None);
        assert_eq!(ok.bound("https://api.envato.com").bound_to(), Some("https://api.envato.com"));
        for bad in ["", "short", "abcdEFGH1234abcdEFGH1234abcd567!", "abcdEFGH1234abcdEFGH1234abcd56789"] {
            let err = Token::parse(bad).err().unwrap();
            assert_eq!(err.code, ErrorCode::EnvatoTokenFormat);
            if bad.len() > 4 {
                assert!(!err.message.contains(bad), "{}", err.message);
            }
        }
    }
}
