//! E-mail addresses as KeyManager accepts them: a sender's mailbox (`Store <store@example.com>`)
//! or a buyer's bare address. Below the settings (which check `smtp_from`) and e-mail delivery.

use crate::error::{Error, ErrorCode, Result};
use lettre::message::Mailbox;
use lettre::Address;

fn invalid_address(text: &str) -> Error {
    let shown: String = text.trim().chars().take(60).collect();
    Error::new(ErrorCode::EmailInvalidAddress, format!("“{shown}” is not an e-mail address such as buyer@example.com."))
}

/// `Store Name <store@example.com>` or a bare address.
pub fn parse_mailbox(text: &str) -> Result<Mailbox> {
    text.trim().parse::<Mailbox>().map_err(|_| invalid_address(text))
}

/// One bare address, in its canonical form (a buyer's e-mail).
pub fn parse_address(text: &str) -> Result<String> {
    let t = text.trim();
    if t.len() > 254 {
        return Err(invalid_address(t));
    }
    t.parse::<Address>().map(|a| a.to_string()).map_err(|_| invalid_address(t))
}
