//! `POST /v1/updates/check` on the wire: the JSON request decoded and checked, the typed
//! `UpdateService` asked, and the signed answer encoded (updates-api.md, "Paths").

use crate::api::request::id;
use crate::api::{answer_coded, Answer, ApiCode, Failure};
use crate::time::Timestamp;
use crate::updates::service::{Ask, Offer, UpdateService, Which};
use crate::verify::Asker;
use serde_json::{json, Map, Value};

/// A checked `/v1/updates/check` request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckRequest {
    pub which: Which,
    pub ask: Ask,
    pub nonce: Option<String>,
}

fn text(obj: &Map<String, Value>, field: &str, max: usize) -> Result<Option<String>, String> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.chars().count() <= max => Ok(Some(s.trim().to_string())),
        Some(Value::String(_)) => Err(format!("“{field}” has at most {max} characters.")),
        Some(_) => Err(format!("“{field}” must be a string.")),
    }
}

/// Decodes the body; the error is the `BAD_REQUEST` detail (and the nonce, when it was read).
pub fn decode(body: &[u8]) -> Result<CheckRequest, crate::api::request::BadRequest> {
    use crate::api::request::BadRequest;
    let Ok(Value::Object(obj)) = serde_json::from_slice::<Value>(body) else {
        return Err(BadRequest { detail: "The body must be a JSON object (UTF-8).".into(), nonce: None });
    };
    let nonce =
        text(&obj, "nonce", crate::api::request::NONCE_MAX).map_err(|detail| BadRequest { detail, nonce: None })?;
    let bad = |detail: String| BadRequest { detail, nonce: nonce.clone() };
    let key = text(&obj, "key", crate::api::request::NAME_MAX).map_err(bad)?;
    let code = text(&obj, "purchase_code", crate::api::request::NAME_MAX).map_err(bad)?;
    let license = match (key, code) {
        (Some(_), Some(_)) => return Err(bad("Send “key” or “purchase_code”, not both.".into())),
        (k, c) => k.or(c),
    };
    let installed = text(&obj, "installed_version", 64).map_err(bad)?;
    let Some(installed) = installed.filter(|v| crate::updates::version::valid(v)) else {
        return Err(bad("Send the “installed_version” (such as 1.2.0).".into()));
    };
    let beta = match text(&obj, "channel", 16).map_err(bad)?.as_deref() {
        None | Some("stable") => false,
        Some("beta") => true,
        Some(_) => return Err(bad("“channel” is stable or beta.".into())),
    };
    let site_url = text(&obj, "site_url", 2048).map_err(bad)?;
    if let Some(url) = &site_url {
        crate::site::canonical(url).map_err(|e| bad(e.message))?;
    }
    let fingerprint = text(&obj, "fingerprint", crate::api::request::FINGERPRINT_MAX).map_err(bad)?;
    let php = text(&obj, "php_version", 64).map_err(bad)?;
    let which =
        Which::Product { product_id: id(&obj, "product_id").map_err(bad)?, item_id: id(&obj, "item_id").map_err(bad)? };
    let ask = Ask { license, installed: Some(installed), beta, site_url, fingerprint, php, wordpress: None };
    Ok(CheckRequest { which, ask, nonce })
}

/// The signed answer's fields for an offer (or for no such product).
fn body(offer: Option<&Offer>) -> Value {
    let Some(o) = offer else { return json!({ "update_available": false, "release": null }) };
    let release = o.shown.as_ref().map(|r| {
        let package = match (&o.package, &o.download_url) {
            (Some(p), Some(url)) => json!({ "url": url, "sha256": p.sha256, "size": p.size }),
            _ => Value::Null,
        };
        json!({
            "version": r.version,
            "channel": r.channel,
            "released_at": r.released_at,
            "changelog": r.changelog,
            "upgrade_notice": r.upgrade_notice,
            "package": package,
        })
    });
    json!({ "update_available": o.code == crate::updates::UpdateCode::UpdateAvailable, "release": release })
}

/// `POST /v1/updates/check`: 200 for every well-formed request.
pub async fn check(updates: &UpdateService, body_bytes: &[u8], asker: Asker, now: Timestamp) -> Answer {
    let req = match decode(body_bytes) {
        Ok(r) => r,
        Err(bad) => return crate::api::wire::bad_request(&bad, now),
    };
    let nonce = req.nonce.as_deref();
    match updates.offer(&req.which, &req.ask, asker, now).await {
        Ok(Some(offer)) => {
            answer_coded(200, ApiCode::Ok, offer.code.as_str(), &offer.message, nonce, now, body(Some(&offer)))
        }
        Ok(None) => answer_coded(
            200,
            ApiCode::NotFound,
            "NOT_FOUND",
            "No product with updates matches this request.",
            nonce,
            now,
            body(None),
        ),
        Err(Failure::Internal(e)) => {
            tracing::error!(code = %e.code, "update check: {}", e.message);
            crate::api::answer(
                500,
                ApiCode::InternalError,
                "KeyManager could not answer; try again later.",
                nonce,
                now,
                json!({}),
            )
        }
        Err(_) => answer_coded(
            200,
            ApiCode::Ok,
            "NOT_FOUND",
            "The purchase code could not be checked now.",
            nonce,
            now,
            body(None),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_the_contract_fields() {
        let r = decode(br#"{"key":"K","item_id":5,"installed_version":"1.0.0","channel":"beta","site_url":"https://www.shop.example","php_version":"8.2","nonce":"n"}"#).unwrap();
        assert_eq!(r.which, Which::Product { product_id: None, item_id: Some(5) });
        assert_eq!(r.ask.license.as_deref(), Some("K"));
        assert!(r.ask.beta);
        assert_eq!(r.nonce.as_deref(), Some("n"));
        for bad in [
            &b"[]"[..],
            br#"{"key":"K"}"#,
            br#"{"key":"K","installed_version":"one"}"#,
            br#"{"key":"K","purchase_code":"C","installed_version":"1"}"#,
            br#"{"key":"K","installed_version":"1","channel":"nightly"}"#,
            br#"{"key":"K","installed_version":"1","site_url":"not a url"}"#,
            br#"{"key":"K","installed_version":"1","item_id":-1}"#,
        ] {
            assert!(decode(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
    }
}
