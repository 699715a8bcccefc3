//! The licensing API's wire layer: the only code that turns request bodies into typed questions
//! (`request::decode`) and typed verdicts into the contract's JSON answers, with the HTTP status,
//! `code`, `detail`, `ts`, the nonce and the request echo. Answers are bytes the HTTP server
//! sends as they are, so the signature covers exactly what goes on the wire.

use super::request::{self, ApiRequest, BadRequest, Needs};
use super::service::{ActivateVerdict, DeactivateVerdict, Failure, LicensingService, Resolved, Verdict, PENDING_LATER};
use super::{Answer, ApiCode, LicenseView};
use crate::time::{to_db, Timestamp};
use crate::verify::Asker;
use serde_json::{json, Map, Value};

/// Builds an answer: `code`, `detail`, `ts`, the nonce when one was sent, then `extra`.
pub(crate) fn answer(
    status: u16,
    code: ApiCode,
    detail: &str,
    nonce: Option<&str>,
    now: Timestamp,
    extra: Value,
) -> Answer {
    answer_coded(status, code, code.as_str(), detail, nonce, now, extra)
}

/// `answer` whose `code` text is another enum's (update answers' `UPDATE_AVAILABLE`, …);
/// `code` is what the server's monitor records.
pub(crate) fn answer_coded(
    status: u16,
    code: ApiCode,
    code_text: &str,
    detail: &str,
    nonce: Option<&str>,
    now: Timestamp,
    extra: Value,
) -> Answer {
    let mut body = Map::new();
    body.insert("code".into(), json!(code_text));
    body.insert("detail".into(), json!(detail));
    body.insert("ts".into(), json!(to_db(now)));
    if let Some(n) = nonce {
        body.insert("nonce".into(), json!(n));
    }
    if let Value::Object(extra) = extra {
        body.extend(extra);
    }
    Answer { status, code, body: serde_json::to_vec(&Value::Object(body)).unwrap_or_default(), retry_after: None }
}

pub fn health(now: Timestamp) -> Answer {
    answer(200, ApiCode::Ok, "KeyManager is answering.", None, now, json!({}))
}

pub fn public_key(service: &LicensingService, now: Timestamp) -> Answer {
    let extra = json!({ "algorithm": "ed25519", "public_key": service.signer().public_key() });
    answer(200, ApiCode::Ok, "The key that signs every answer of this server.", None, now, extra)
}

pub fn bad_request(bad: &BadRequest, now: Timestamp) -> Answer {
    answer(400, ApiCode::BadRequest, &bad.detail, bad.nonce.as_deref(), now, json!({}))
}

pub fn too_large(limit: usize, now: Timestamp) -> Answer {
    let detail = format!("The body is larger than {} KiB.", limit / 1024);
    answer(413, ApiCode::PayloadTooLarge, &detail, None, now, json!({}))
}

pub fn rate_limited(retry_after_secs: u64, now: Timestamp) -> Answer {
    let detail = "Too many requests from this address; slow down.";
    let mut a = answer(429, ApiCode::RateLimited, detail, None, now, json!({}));
    a.retry_after = Some(retry_after_secs.max(1));
    a
}

pub fn no_such_path(now: Timestamp) -> Answer {
    answer(404, ApiCode::NotFoundPath, "There is no such path; see /v1/health.", None, now, json!({}))
}

/// The answer for a question the data could not answer.
pub fn failed(f: Failure, nonce: Option<&str>, now: Timestamp) -> Answer {
    match f {
        Failure::Envato(secs) => {
            let detail = "Envato could not be asked to verify this purchase code; try again shortly.";
            let mut a = answer(503, ApiCode::EnvatoUnavailable, detail, nonce, now, json!({}));
            a.retry_after = Some(secs.max(1));
            a
        }
        Failure::Limited(secs) => {
            let detail = "Too many purchase codes checked from this address; try again later.";
            let mut a = answer(429, ApiCode::RateLimited, detail, nonce, now, json!({}));
            a.retry_after = Some(secs.max(1));
            a
        }
        Failure::Internal(e) => {
            tracing::error!(code = %e.code, "licensing API: {}", e.message);
            let detail = "KeyManager could not answer; try again later.";
            answer(500, ApiCode::InternalError, detail, nonce, now, json!({}))
        }
    }
}

/// Decodes `body`, asks `call`, and encodes its verdict (or the failure) with the request's nonce.
async fn answered<T, F, E>(body: &[u8], needs: Needs, now: Timestamp, call: F, encode: E) -> Answer
where
    F: AsyncFnOnce(&ApiRequest) -> Result<T, Failure>,
    E: FnOnce(T, &ApiRequest) -> Answer,
{
    let req = match request::decode(body, needs) {
        Ok(r) => r,
        Err(bad) => return bad_request(&bad, now),
    };
    match call(&req).await {
        Ok(verdict) => encode(verdict, &req),
        Err(f) => failed(f, req.nonce.as_deref(), now),
    }
}

/// `POST /v1/licenses/validate`: always 200 for a well-formed request.
pub async fn validate(service: &LicensingService, body: &[u8], asker: Asker, now: Timestamp) -> Answer {
    let call = async |req: &ApiRequest| service.validate(req, asker, now).await;
    answered(body, Needs::OptionalFingerprint, now, call, |v: Verdict, req| {
        let mut extra = json!({
            "valid": matches!(v, Verdict::Valid(_)),
            "license": v.license().map(LicenseView::of),
            "request": req.echo(),
        });
        if let Verdict::SiteMismatch { activated_site, .. } = &v {
            extra["activation"] = json!({ "site": activated_site });
        }
        answer(200, v.code(), &v.detail(), req.nonce.as_deref(), now, extra)
    })
    .await
}

/// `POST /v1/activations`.
pub async fn activate(
    service: &LicensingService,
    body: &[u8],
    certificate_days: u32,
    asker: Asker,
    now: Timestamp,
) -> Answer {
    let call = async |req: &ApiRequest| service.activate(req, certificate_days, asker, now).await;
    answered(body, Needs::Fingerprint, now, call, |v: ActivateVerdict, req| {
        let status = match &v {
            ActivateVerdict::Activated(m) if m.new => 201,
            ActivateVerdict::Activated(_) => 200,
            ActivateVerdict::NotFound => 404,
            ActivateVerdict::PendingReview => 202,
            ActivateVerdict::Revoked | ActivateVerdict::Suspended | ActivateVerdict::ProductInactive => 403,
            ActivateVerdict::ProductMismatch
            | ActivateVerdict::DevSiteLimitExceeded { .. }
            | ActivateVerdict::ActivationLimitExceeded { .. } => 422,
        };
        let mut extra = json!({ "request": req.echo() });
        match &v {
            ActivateVerdict::Activated(m) => {
                extra["license"] = json!(LicenseView::of(&m.license));
                extra["activation"] = json!({
                    "fingerprint": m.activation.instance_id,
                    "label": m.activation.label,
                    "created_at": m.activation.activated_at,
                    "site": m.activation.site,
                    "environment": m.activation.environment,
                });
                extra["certificate"] = json!(m.certificate);
                if let Some(r) = &m.replaced {
                    extra["replaced"] = json!(r);
                }
            }
            ActivateVerdict::DevSiteLimitExceeded { license, .. }
            | ActivateVerdict::ActivationLimitExceeded { license, .. } => {
                extra["license"] = json!(license.as_deref().map(LicenseView::of));
            }
            _ => {}
        }
        answer(status, v.code(), &v.detail(), req.nonce.as_deref(), now, extra)
    })
    .await
}

/// `POST /v1/activations/deactivate`.
pub async fn deactivate(service: &LicensingService, body: &[u8], per_day: u32, asker: Asker, now: Timestamp) -> Answer {
    let call = async |req: &ApiRequest| service.deactivate(req, per_day, asker, now).await;
    answered(body, Needs::Fingerprint, now, call, |v: DeactivateVerdict, req| {
        let mut extra = json!({ "request": req.echo() });
        if let Some(l) = v.license() {
            extra["license"] = json!(LicenseView::of(l));
        }
        let status = match &v {
            DeactivateVerdict::Deactivated(_) => 200,
            DeactivateVerdict::NotFound | DeactivateVerdict::NotActivated => 404,
            DeactivateVerdict::ProductMismatch => 422,
            DeactivateVerdict::TooManyDeactivations(_) => 429,
        };
        let mut a = answer(status, v.code(), &v.detail(), req.nonce.as_deref(), now, extra);
        if matches!(v, DeactivateVerdict::TooManyDeactivations(_)) {
            a.retry_after = Some(24 * 3600);
        }
        a
    })
    .await
}

/// `POST /v1/retrieve`: a buyer's keys, by purchase code.
pub async fn retrieve(service: &LicensingService, body: &[u8], asker: Asker, now: Timestamp) -> Answer {
    let call = async |req: &ApiRequest| service.resolve(&req.license, asker, now).await;
    answered(body, Needs::PurchaseCodeOnly, now, call, |r: Resolved, req| {
        let nonce = req.nonce.as_deref();
        match r {
            Resolved::License(l) => {
                let extra = json!({ "licenses": [LicenseView::of(&l)] });
                answer(200, ApiCode::Found, "The licenses of this purchase.", nonce, now, extra)
            }
            Resolved::Pending => answer(202, ApiCode::PendingReview, PENDING_LATER, nonce, now, json!({})),
            Resolved::NotFound => {
                let detail = "No purchase of the seller's items has this code.";
                answer(404, ApiCode::NotFound, detail, nonce, now, json!({}))
            }
        }
    })
    .await
}
