//! `activate`, `deactivate` and `validate`: the licensing API's own service, answered with the
//! same codes a product receives over HTTP (`VALID`, `ACTIVATED`, `ACTIVATION_LIMIT_EXCEEDED`…).
//! Exit 0 for a yes, 3 for an answer that is no (the code says which), 1 for an error.

use crate::context::{runtime, Ctx};
use crate::output::{CmdResult, Failure, Out};
use keymanager::api::{signing, ApiCode, LicensingService};
use keymanager::envato::PurchaseCode;
use keymanager::sync::SharedStore;
use keymanager::verify::{Asker, Verifier};
use keymanager::{time, Error, ErrorCode};
use serde_json::{json, Value};
use std::sync::Arc;

fn service(ctx: &Ctx) -> Result<LicensingService, Error> {
    let dir = ctx.data_dir()?;
    let store = SharedStore::new(ctx.store()?);
    let signer = Arc::new(signing::SignerCell::load(&dir)?);
    let verifier = Verifier::new(store.clone(), ctx.clients()?);
    Ok(LicensingService::new(store, Some(verifier), signer))
}

/// The request body naming the license: a purchase code when it looks like one, else a key.
fn body(key_or_code: &str, fingerprint: Option<&str>, label: Option<&str>) -> Vec<u8> {
    let mut b = if PurchaseCode::parse(key_or_code).is_ok() {
        json!({ "purchase_code": key_or_code })
    } else {
        json!({ "key": key_or_code })
    };
    if let Some(f) = fingerprint {
        b["fingerprint"] = json!(f);
    }
    if let Some(l) = label {
        b["label"] = json!(l);
    }
    serde_json::to_vec(&b).unwrap_or_default()
}

/// Prints the answer; `yes` are the codes that exit 0.
fn finish(out: &mut Out, answer: keymanager::api::Answer, yes: &[ApiCode]) -> CmdResult {
    let v: Value = serde_json::from_slice(&answer.body).unwrap_or_default();
    let detail = v["detail"].as_str().unwrap_or("").to_string();
    match answer.code {
        ApiCode::BadRequest => {
            return Err(Error::new(ErrorCode::InputInvalid, detail).into());
        }
        ApiCode::InternalError | ApiCode::EnvatoUnavailable => {
            return Err(Error::new(ErrorCode::Internal, detail).into());
        }
        _ => {}
    }
    out.emit(&v, |w| {
        write!(w, "{}: {detail}", answer.code)?;
        if let (Some(used), Some(limit)) =
            (v["license"]["activations_used"].as_u64(), v["license"]["activation_limit"].as_u64())
        {
            write!(w, " ({used} of {limit} activations used)")?;
        }
        writeln!(w)
    })?;
    out.flush()?;
    if yes.contains(&answer.code) {
        Ok(())
    } else {
        Err(Failure::No)
    }
}

pub fn activate(ctx: &Ctx, key: &str, instance: &str, label: Option<&str>, out: &mut Out) -> CmdResult {
    let svc = service(ctx)?;
    let days = ctx.store()?.settings()?.certificate_days;
    let answer = runtime()?.block_on(svc.activate(&body(key, Some(instance), label), days, Asker::Seller, time::now()));
    ctx.deliver_after_change();
    finish(out, answer, &[ApiCode::Activated, ApiCode::AlreadyActivated])
}

pub fn deactivate(ctx: &Ctx, key: &str, instance: &str, out: &mut Out) -> CmdResult {
    // The seller's own command: the buyers' daily limit does not apply.
    let svc = service(ctx)?;
    let answer =
        runtime()?.block_on(svc.deactivate(&body(key, Some(instance), None), u32::MAX, Asker::Seller, time::now()));
    ctx.deliver_after_change();
    finish(out, answer, &[ApiCode::Deactivated])
}

pub fn validate(ctx: &Ctx, key: &str, instance: Option<&str>, out: &mut Out) -> CmdResult {
    let svc = service(ctx)?;
    let answer = runtime()?.block_on(svc.validate(&body(key, instance, None), Asker::Seller, time::now()));
    finish(out, answer, &[ApiCode::Valid])
}
