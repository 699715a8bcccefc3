//! The admin API's access rules (issue 23), below the server that applies them: device scopes,
//! one-time pairing codes, device tokens (random 256-bit values, kept only as SHA-256 hashes),
//! who a token belongs to and why one is refused, the lock-out of addresses that keep failing,
//! and the rule that plain HTTP is answered only on this machine.

use crate::error::{Error, ErrorCode, Result};
use crate::store::{AdminDevice, PairingGrant, Store};
use crate::time::{to_db, Timestamp};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::net::IpAddr;
use ts_rs::TS;

crate::text_enum! {
    /// What a device may do. `owner` may do everything; `support` looks licenses up and
    /// suspends or reactivates them; `publish` adds and publishes releases (a CI job).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
    pub enum Scope {
        Owner = "owner",
        Support = "support",
        Publish = "publish",
    }
}

/// How long a pairing code can be redeemed.
pub const PAIRING_MINUTES: i64 = 10;
/// Failed attempts from one address before it is locked out, and for how long.
pub const LOCKOUT_AFTER: u32 = 10;
pub const LOCKOUT_SECS: i64 = 15 * 60;
/// What a device token starts with (so a leaked one is recognisable).
pub const TOKEN_PREFIX: &str = "kmdev_";

/// Scopes as stored (`owner,support`), from a list; an empty list is refused.
pub fn scopes_text(scopes: &[Scope]) -> Result<String> {
    if scopes.is_empty() {
        return Err(
            Error::invalid_input("Give the device at least one scope: owner, support or publish.").with_field("scope")
        );
    }
    let mut names: Vec<&str> = scopes.iter().map(|s| s.as_str()).collect();
    names.sort();
    names.dedup();
    Ok(names.join(","))
}

/// Scopes from their stored text (unknown names are ignored: a newer server's).
pub fn parse_scopes(text: &str) -> Vec<Scope> {
    text.split(',').filter_map(Scope::parse).collect()
}

fn random(bytes: usize) -> Result<Vec<u8>> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).map_err(|e| Error::internal(format!("The system's random source failed: {e}.")))?;
    Ok(buf)
}

/// SHA-256, hex: what the database keeps of codes and tokens.
pub fn hash(secret: &str) -> String {
    crate::text::hex(&Sha256::digest(secret.trim().as_bytes()))
}

/// A code a person reads off one screen and types into another: 12 characters of an alphabet
/// without look-alikes, in groups of four (60 bits; the lock-out makes guessing hopeless).
fn new_code() -> Result<String> {
    const ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
    let raw = random(12)?;
    let chars: String = raw.iter().map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char).collect();
    Ok(format!("{}-{}-{}", &chars[0..4], &chars[4..8], &chars[8..12]))
}

/// A code as typed: case and dashes forgiven.
fn normalise_code(code: &str) -> String {
    let c: String = code.chars().filter(|c| c.is_ascii_alphanumeric()).collect::<String>().to_ascii_uppercase();
    if c.len() == 12 {
        format!("{}-{}-{}", &c[0..4], &c[4..8], &c[8..12])
    } else {
        c
    }
}

/// A new pairing code (printed once, kept only as its hash) for a device named `name`.
pub fn make_pairing_code(store: &mut Store, name: &str, scopes: &[Scope], now: Timestamp) -> Result<(String, String)> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(Error::invalid_input("A device name is 1 to 100 characters.").with_field("name"));
    }
    let code = new_code()?;
    let expires_at = to_db(now + chrono::Duration::minutes(PAIRING_MINUTES));
    let grant = PairingGrant { name: name.to_string(), scopes: scopes_text(scopes)?, expires_at: expires_at.clone() };
    store.admin_add_pairing_code(&hash(&code), &grant, now)?;
    Ok((code, expires_at))
}

/// A device paired: its record, and the token it alone will ever see.
pub struct Paired {
    pub device: AdminDevice,
    pub token: String,
}

impl std::fmt::Debug for Paired {
    /// The token is never printed, not even in a panic.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Paired").field("device", &self.device).field("token", &"kmdev_…").finish()
    }
}

/// Redeems `code` for a device token (`expires_days`: none for a token that does not expire).
pub fn pair(
    store: &mut Store,
    code: &str,
    device_name: Option<&str>,
    expires_days: Option<u32>,
    address: &str,
    now: Timestamp,
) -> Result<Paired> {
    let token = format!("{TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(random(32)?));
    let expires = expires_days.map(|d| to_db(now + chrono::Duration::days(d as i64)));
    let device = store.admin_redeem(
        &hash(&normalise_code(code)),
        &hash(&token),
        device_name,
        expires.as_deref(),
        address,
        now,
    )?;
    Ok(Paired { device, token })
}

/// The device a token belongs to, if it may be used now: 401 `admin.unauthorized` for none,
/// `admin.token_revoked` and `admin.token_expired` say why a known one is refused.
pub fn authenticate(store: &Store, token: Option<&str>, now: Timestamp) -> Result<AdminDevice> {
    let unauthorized = || {
        Error::new(
            ErrorCode::AdminUnauthorized,
            "Send the device token as `Authorization: Bearer …` (pair with `keymanager remote add`).",
        )
    };
    let token =
        token.map(str::trim).filter(|t| t.starts_with(TOKEN_PREFIX) && t.len() < 200).ok_or_else(unauthorized)?;
    let device = store.admin_device_by_token(&hash(token))?.ok_or_else(unauthorized)?;
    if device.revoked_at.is_some() {
        return Err(Error::new(ErrorCode::AdminTokenRevoked, "This device was revoked on the server; pair it again."));
    }
    if device.expires_at.as_deref().is_some_and(|e| e < to_db(now).as_str()) {
        return Err(Error::new(ErrorCode::AdminTokenExpired, "This device's token has expired; pair it again."));
    }
    Ok(device)
}

/// 403 `admin.forbidden` unless the device holds `needed` (or is an owner).
pub fn require(device: &AdminDevice, needed: Scope) -> Result<()> {
    let held = parse_scopes(&device.scopes);
    if held.contains(&Scope::Owner) || held.contains(&needed) {
        Ok(())
    } else {
        Err(Error::new(
            ErrorCode::AdminForbidden,
            format!("The device “{}” has the {} scope(s); this needs {}.", device.name, device.scopes, needed.as_str()),
        ))
    }
}

/// 403 `admin.forbidden` unless the device holds one of `any` (or is an owner).
pub fn require_any(device: &AdminDevice, any: &[Scope]) -> Result<()> {
    let held = parse_scopes(&device.scopes);
    if held.contains(&Scope::Owner) || any.iter().any(|s| held.contains(s)) {
        return Ok(());
    }
    let needed: Vec<&str> = any.iter().map(|s| s.as_str()).collect();
    Err(Error::new(
        ErrorCode::AdminForbidden,
        format!("The device “{}” has the {} scope(s); this needs {}.", device.name, device.scopes, needed.join(" or ")),
    ))
}

/// Whether a request may be answered over plain HTTP: only from this machine, or through a
/// trusted proxy that says the client used https.
pub fn transport_allowed(peer: IpAddr, via_trusted_proxy: bool, forwarded_proto: Option<&str>) -> Result<()> {
    let https = forwarded_proto.is_some_and(|p| p.split(',').next().unwrap_or("").trim().eq_ignore_ascii_case("https"));
    let local = peer.is_loopback() && !via_trusted_proxy;
    if local || (via_trusted_proxy && https) {
        Ok(())
    } else {
        Err(Error::new(
            ErrorCode::AdminHttpsRequired,
            "The admin API answers plain HTTP only on this machine. Put the server behind https (the README's Caddy set-up).",
        ))
    }
}

/// Failed attempts per address, and who is locked out until when (in memory: a restart forgets
/// them, and the map is bounded).
#[derive(Default)]
pub struct Lockout {
    failures: HashMap<IpAddr, (u32, Timestamp)>,
}

const LOCKOUT_TRACKED_MAX: usize = 10_000;

impl Lockout {
    /// `admin.locked_out` while `address` is locked out.
    pub fn check(&self, address: IpAddr, now: Timestamp) -> Result<()> {
        match self.failures.get(&address) {
            Some((n, at)) if *n >= LOCKOUT_AFTER && now < *at + chrono::Duration::seconds(LOCKOUT_SECS) => {
                Err(Error::new(
                    ErrorCode::AdminLockedOut,
                    "Too many failed attempts from this address; try again in 15 minutes.",
                ))
            }
            _ => Ok(()),
        }
    }

    /// Notes a failed attempt (a wrong token or pairing code).
    pub fn fail(&mut self, address: IpAddr, now: Timestamp) {
        if self.failures.len() >= LOCKOUT_TRACKED_MAX {
            let cutoff = now - chrono::Duration::seconds(LOCKOUT_SECS);
            self.failures.retain(|_, (_, at)| *at > cutoff);
        }
        let e = self.failures.entry(address).or_insert((0, now));
        // A quiet quarter of an hour starts the count again.
        if now > e.1 + chrono::Duration::seconds(LOCKOUT_SECS) {
            *e = (0, now);
        }
        e.0 += 1;
        e.1 = now;
    }

    /// A success clears the address's count.
    pub fn succeed(&mut self, address: IpAddr) {
        self.failures.remove(&address);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    fn now() -> Timestamp {
        Utc.with_ymd_and_hms(2026, 12, 3, 12, 0, 0).unwrap()
    }

    #[test]
    fn a_code_pairs_once_within_ten_minutes_and_tokens_are_checked() {
        let mut s = Store::open_in_memory().unwrap();
        assert!(!s.admin_enabled(now()).unwrap(), "off until a device is paired");
        let (code, _) = make_pairing_code(&mut s, "Laptop", &[Scope::Support], now()).unwrap();
        assert!(s.admin_enabled(now()).unwrap());
        let typed = code.to_lowercase().replace('-', " ");
        let p = pair(&mut s, &typed, None, Some(30), "127.0.0.1", now()).unwrap();
        assert!(p.token.starts_with(TOKEN_PREFIX) && p.token.len() > 40);
        assert_eq!((p.device.name.as_str(), p.device.scopes.as_str()), ("Laptop", "support"));
        let again = pair(&mut s, &code, None, None, "127.0.0.1", now()).unwrap_err();
        assert_eq!(again.code, ErrorCode::AdminPairingCodeInvalid, "single use");
        let (late, _) = make_pairing_code(&mut s, "Late", &[Scope::Owner], now()).unwrap();
        let err = pair(&mut s, &late, None, None, "x", now() + chrono::Duration::minutes(11)).unwrap_err();
        assert_eq!(err.code, ErrorCode::AdminPairingCodeInvalid, "expires after 10 minutes");

        let d = authenticate(&s, Some(&p.token), now()).unwrap();
        assert_eq!(d.id, p.device.id);
        assert_eq!(require(&d, Scope::Support), Ok(()));
        assert_eq!(require(&d, Scope::Publish).unwrap_err().code, ErrorCode::AdminForbidden);
        assert_eq!(authenticate(&s, None, now()).unwrap_err().code, ErrorCode::AdminUnauthorized);
        assert_eq!(authenticate(&s, Some("kmdev_nope"), now()).unwrap_err().code, ErrorCode::AdminUnauthorized);
        let later = now() + chrono::Duration::days(31);
        assert_eq!(authenticate(&s, Some(&p.token), later).unwrap_err().code, ErrorCode::AdminTokenExpired);
        s.admin_revoke(d.id, now()).unwrap();
        assert_eq!(authenticate(&s, Some(&p.token), now()).unwrap_err().code, ErrorCode::AdminTokenRevoked);
        // Nothing stored is the token or the code.
        let stored = format!("{:?}", s.admin_devices().unwrap());
        assert!(!stored.contains(&p.token) && !stored.contains(&code));
    }

    #[test]
    fn an_address_that_keeps_failing_is_locked_out_for_a_while() {
        let mut l = Lockout::default();
        let a: IpAddr = "203.0.113.9".parse().unwrap();
        for _ in 0..LOCKOUT_AFTER {
            assert!(l.check(a, now()).is_ok());
            l.fail(a, now());
        }
        assert_eq!(l.check(a, now()).unwrap_err().code, ErrorCode::AdminLockedOut);
        assert!(l.check("203.0.113.10".parse().unwrap(), now()).is_ok(), "others are not");
        assert!(l.check(a, now() + chrono::Duration::seconds(LOCKOUT_SECS + 1)).is_ok(), "it ends");
    }

    #[test]
    fn plain_http_only_on_this_machine() {
        let local: IpAddr = "127.0.0.1".parse().unwrap();
        let far: IpAddr = "198.51.100.4".parse().unwrap();
        assert!(transport_allowed(local, false, None).is_ok());
        assert_eq!(transport_allowed(far, false, None).unwrap_err().code, ErrorCode::AdminHttpsRequired);
        assert_eq!(transport_allowed(far, true, Some("http")).unwrap_err().code, ErrorCode::AdminHttpsRequired);
        assert!(transport_allowed(local, true, Some("https")).is_ok());
        assert!(transport_allowed(far, false, Some("https")).is_err(), "only a trusted proxy is believed");
    }
}
