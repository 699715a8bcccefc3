//! The licensing API's request decoder: a pure function from the body bytes to a checked
//! request, or the sentence that goes into a `BAD_REQUEST` answer. Unknown fields are ignored;
//! a body that is not a JSON object, a field of the wrong type, or a value out of bounds is
//! refused before anything is looked up.

use serde_json::{Map, Value};

pub use super::service::{LicenseRef, Query};

/// A decoded request: the question, and the nonce its answer echoes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiRequest {
    pub query: Query,
    pub nonce: Option<String>,
}

impl std::ops::Deref for ApiRequest {
    type Target = Query;
    fn deref(&self) -> &Query {
        &self.query
    }
}

impl ApiRequest {
    /// The question as the server understood it (contract 1.1's `request`), so a product can
    /// check that a signed answer is about what it asked.
    pub fn echo(&self) -> serde_json::Value {
        serde_json::json!({
            "fingerprint": self.fingerprint,
            "site": self.site,
            "item_id": self.item_id,
            "product_id": self.product_id,
        })
    }
}

/// A refused request: why, and the nonce when one could be read (it is echoed even then).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadRequest {
    pub detail: String,
    pub nonce: Option<String>,
}

pub use super::service::{FINGERPRINT_MAX, LABEL_MAX, NAME_MAX};
pub const NONCE_MAX: usize = 64;

fn text(obj: &Map<String, Value>, field: &str) -> Result<Option<String>, String> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(format!("“{field}” must be a string.")),
    }
}

/// A positive whole number, when the field is there (`item_id`, `product_id`).
pub(crate) fn id(obj: &Map<String, Value>, field: &str) -> Result<Option<i64>, String> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => match n.as_i64() {
            Some(v) if v > 0 => Ok(Some(v)),
            _ => Err(format!("“{field}” must be a positive whole number.")),
        },
        Some(_) => Err(format!("“{field}” must be a number.")),
    }
}

/// What each path needs besides the license.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Needs {
    /// validate: a fingerprint is optional.
    OptionalFingerprint,
    /// activations and deactivate: a fingerprint is required.
    Fingerprint,
    /// retrieve: only a purchase code names the sale.
    PurchaseCodeOnly,
}

pub fn decode(body: &[u8], needs: Needs) -> Result<ApiRequest, BadRequest> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|_| BadRequest { detail: "The body must be a JSON object (UTF-8).".into(), nonce: None })?;
    let Value::Object(obj) = value else {
        return Err(BadRequest { detail: "The body must be a JSON object.".into(), nonce: None });
    };
    // The nonce first, so that even a refusal echoes it.
    let nonce = match text(&obj, "nonce") {
        Ok(Some(n)) if n.chars().count() <= NONCE_MAX => Some(n),
        Ok(Some(_)) => {
            return Err(BadRequest { detail: format!("“nonce” has at most {NONCE_MAX} characters."), nonce: None })
        }
        Ok(None) => None,
        Err(detail) => return Err(BadRequest { detail, nonce: None }),
    };
    let bad = |detail: String| BadRequest { detail, nonce: nonce.clone() };
    let key = text(&obj, "key").map_err(bad)?;
    let code = text(&obj, "purchase_code").map_err(bad)?;
    let license = match (key, code) {
        (Some(_), Some(_)) => return Err(bad("Send “key” or “purchase_code”, not both.".into())),
        (None, None) if needs == Needs::PurchaseCodeOnly => return Err(bad("Send the “purchase_code”.".into())),
        (None, None) => return Err(bad("Send the license “key” or the Envato “purchase_code”.".into())),
        (Some(_), None) if needs == Needs::PurchaseCodeOnly => {
            return Err(bad("Licenses are retrieved by their “purchase_code”.".into()))
        }
        (Some(k), None) => LicenseRef::Key(k),
        (None, Some(c)) => LicenseRef::PurchaseCode(c),
    };
    let item_id = id(&obj, "item_id").map_err(bad)?;
    let product_id = id(&obj, "product_id").map_err(bad)?;
    let site = match text(&obj, "site_url").map_err(bad)? {
        Some(url) => Some(crate::site::canonical(&url).map_err(|e| bad(e.message))?),
        None => None,
    };
    let environment = match text(&obj, "environment").map_err(bad)? {
        Some(e) => Some(
            crate::site::Environment::parse(&e)
                .ok_or_else(|| bad("“environment” is production, staging, development or local.".to_string()))?,
        ),
        None => None,
    };
    let fingerprint = text(&obj, "fingerprint").map_err(bad)?;
    if fingerprint.is_none() && needs == Needs::Fingerprint && site.is_none() {
        return Err(bad("Send the installation's “fingerprint” or the “site_url”.".into()));
    }
    let label = text(&obj, "label").map_err(bad)?;
    let query = Query { license, item_id, product_id, fingerprint, label, site, environment }.checked().map_err(bad)?;
    Ok(ApiRequest { query, nonce })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(body: &str) -> Result<ApiRequest, BadRequest> {
        decode(body.as_bytes(), Needs::OptionalFingerprint)
    }

    #[test]
    fn accepts_a_key_or_a_code_and_ignores_unknown_fields() {
        let r = d(r#"{"key":"AB","item_id":5,"fingerprint":"site.example","nonce":"n1","extra":[1]}"#).unwrap();
        assert_eq!(r.license, LicenseRef::Key("AB".into()));
        assert_eq!((r.item_id, r.nonce.as_deref()), (Some(5), Some("n1")));
        let r = d(r#"{"purchase_code":"abc"}"#).unwrap();
        assert_eq!(r.license, LicenseRef::PurchaseCode("abc".into()));
    }

    #[test]
    fn refuses_what_the_contract_refuses_and_echoes_the_nonce() {
        let long = "x".repeat(10_000);
        for body in [
            "",
            "not json",
            "[]",
            "\"key\"",
            r#"{}"#,
            r#"{"key":"a","purchase_code":"b"}"#,
            r#"{"key":5}"#,
            r#"{"key":"a","item_id":"5"}"#,
            r#"{"key":"a","item_id":1e300}"#,
            r#"{"key":"a","item_id":99999999999999999999999}"#,
            r#"{"key":"a","item_id":-3}"#,
            r#"{"key":"a","fingerprint":""}"#,
            r#"{"key":"a","fingerprint":"tab\there"}"#,
            &format!(r#"{{"key":"a","fingerprint":"{long}"}}"#),
            &format!(r#"{{"key":"a","label":"{long}"}}"#),
            &format!(r#"{{"key":"{long}"}}"#),
            &format!(r#"{{"key":"a","nonce":"{long}"}}"#),
            r#"{"key":"a","fingerprint":"f","label":"evil\u202eelpmaxe"}"#,
            &format!(r#"{{"key":"{}"}}"#, "x".repeat(101)),
        ] {
            assert!(d(body).is_err(), "accepted {}", &body[..body.len().min(60)]);
        }
        assert!(decode(b"\xff\xfe{}", Needs::OptionalFingerprint).is_err());
        // The 100-character bound counts after trimming: padding is forgiven, length is not.
        let padded = format!(r#"{{"key":"   {}   "}}"#, "x".repeat(100));
        assert!(d(&padded).is_ok(), "100 characters with spaces around is a key's length");
        assert!(d(r#"{"key":"a","label":"Café Ünïcode 日本"}"#).is_ok(), "plain Unicode labels pass");
        let e = d(r#"{"key":"a","purchase_code":"b","nonce":"keep-me"}"#).unwrap_err();
        assert_eq!(e.nonce.as_deref(), Some("keep-me"));
        assert!(decode(br#"{"key":"a"}"#, Needs::Fingerprint).is_err(), "activations need a fingerprint");
        // A site stands for the fingerprint; a bad site or environment is refused.
        let r = decode(br#"{"key":"a","site_url":"https://WWW.Shop.example/x/"}"#, Needs::Fingerprint).unwrap();
        assert_eq!(r.fingerprint.as_deref(), Some("site:shop.example/x"));
        assert_eq!(r.echo()["site"], "shop.example/x");
        assert!(decode(br#"{"key":"a","site_url":"shop.example"}"#, Needs::Fingerprint).is_err());
        assert!(decode(br#"{"key":"a","fingerprint":"f","environment":"prod"}"#, Needs::Fingerprint).is_err());
        let r = decode(
            br#"{"key":"a","fingerprint":"f","site_url":"http://shop.example","environment":"staging"}"#,
            Needs::Fingerprint,
        )
        .unwrap();
        assert_eq!((r.fingerprint.as_deref(), r.environment), (Some("f"), Some(crate::site::Environment::Staging)));
        assert!(decode(br#"{"key":"a"}"#, Needs::PurchaseCodeOnly).is_err(), "retrieve takes a code");
    }
}
