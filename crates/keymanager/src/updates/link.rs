//! Download links: `{public_url}/updates/download/KMD1.<payload>.<signature>`, the payload
//! base64url (no padding) of `{"v": 1, "release_id", "license_id", "site", "exp"}` and the
//! signature the seller's Ed25519 signature of the text `KMD1.<payload>`. The license key never
//! appears in a link; `exp` is in Unix seconds.

use crate::signing::Signer;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct LinkClaims {
    pub v: u32,
    pub release_id: i64,
    pub license_id: i64,
    /// The canonical site the link was given to ("" when none was named).
    pub site: String,
    /// When the link stops working, Unix seconds.
    pub exp: i64,
}

/// Why a link does not lead to a package.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkProblem {
    /// Not a link of this server (malformed, another key): 404.
    Unknown,
    /// Past `exp`: 410 `LINK_EXPIRED`.
    Expired,
}

/// When a link given at `now` stops working: `days` later, rounded up to the next whole hour,
/// so that the links one license and site are given within an hour are the same link (one
/// signature, not one per request).
pub fn expiry(now: crate::time::Timestamp, days: u32) -> i64 {
    let exp = (now + chrono::Duration::days(days as i64)).timestamp();
    exp + (3600 - exp.rem_euclid(3600)) % 3600
}

/// The token part of a link.
pub fn token(signer: &Signer, claims: &LinkClaims) -> String {
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).unwrap_or_default());
    let signed = format!("KMD1.{payload}");
    let sig = signer.sign_url_safe(signed.as_bytes());
    format!("{signed}.{sig}")
}

/// The whole link under the server's public address.
pub fn url(public_url: &str, token: &str) -> String {
    format!("{}/updates/download/{token}", public_url.trim_end_matches('/'))
}

/// Reads a token: the signature by `signer`, then its expiry against `now` (Unix seconds).
pub fn read(signer: &Signer, token: &str, now: i64) -> Result<LinkClaims, LinkProblem> {
    if token.len() > 1024 {
        return Err(LinkProblem::Unknown);
    }
    let (signed, sig) = token.rsplit_once('.').ok_or(LinkProblem::Unknown)?;
    let payload = signed.strip_prefix("KMD1.").ok_or(LinkProblem::Unknown)?;
    let sig = URL_SAFE_NO_PAD.decode(sig).map_err(|_| LinkProblem::Unknown)?;
    if !signer.signed(signed.as_bytes(), &sig) {
        return Err(LinkProblem::Unknown);
    }
    let json = URL_SAFE_NO_PAD.decode(payload).map_err(|_| LinkProblem::Unknown)?;
    let claims: LinkClaims = serde_json::from_slice(&json).map_err(|_| LinkProblem::Unknown)?;
    if claims.v != 1 {
        return Err(LinkProblem::Unknown);
    }
    if claims.exp <= now {
        return Err(LinkProblem::Expired);
    }
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_round_trip_expire_and_resist_tampering() {
        let signer = Signer::generate().unwrap();
        let claims = LinkClaims { v: 1, release_id: 3, license_id: 9, site: "shop.example".into(), exp: 1_000 };
        let t = token(&signer, &claims);
        assert!(t.starts_with("KMD1."));
        assert_eq!(read(&signer, &t, 999), Ok(claims.clone()));
        assert_eq!(read(&signer, &t, 1_000), Err(LinkProblem::Expired));
        // Another key, a changed payload, garbage.
        assert_eq!(read(&Signer::generate().unwrap(), &t, 0), Err(LinkProblem::Unknown));
        let other = LinkClaims { license_id: 10, ..claims };
        let forged_payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&other).unwrap());
        let sig = t.rsplit_once('.').unwrap().1;
        assert_eq!(read(&signer, &format!("KMD1.{forged_payload}.{sig}"), 0), Err(LinkProblem::Unknown));
        for junk in ["", "KMD1", "KMD1..", "KM1.abc.def", &"A".repeat(5000)] {
            assert_eq!(read(&signer, junk, 0), Err(LinkProblem::Unknown), "{junk:.20}");
        }
        assert_eq!(url("https://l.example/", &t), format!("https://l.example/updates/download/{t}"));
    }

    #[test]
    fn links_live_their_days_rounded_up_to_the_hour() {
        let at = |t: &str| crate::time::parse(t).unwrap();
        let exp = expiry(at("2026-12-03T10:20:30Z"), 7);
        assert_eq!(exp, at("2026-12-10T11:00:00Z").timestamp());
        // On the hour it is not moved; every moment of one hour gives the same expiry.
        assert_eq!(expiry(at("2026-12-03T10:00:00Z"), 7), at("2026-12-10T10:00:00Z").timestamp());
        assert_eq!(expiry(at("2026-12-03T10:59:59Z"), 7), exp);
        assert_eq!(expiry(at("2026-12-03T10:00:01Z"), 7), exp);
    }
}
