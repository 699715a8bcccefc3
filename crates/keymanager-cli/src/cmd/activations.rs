//! `activate`, `deactivate` and `validate`: the licensing API's own service, answered with the
//! same codes a product receives over HTTP (`VALID`, `ACTIVATED`, `ACTIVATION_LIMIT_EXCEEDED`…).
//! Exit 0 for a yes, 3 for an answer that is no (the code says which), 1 for an error.

use crate::context::{runtime, Ctx};
use crate::output::{CmdResult, Failure, Out};
use keymanager::api::{
    self, ActivateVerdict, ApiCode, DeactivateVerdict, LicenseRef, LicenseView, LicensingService, Query, Verdict,
};
use keymanager::model::License;
use keymanager::signing;
use keymanager::store::SharedStore;
use keymanager::verify::{Asker, Verifier};
use keymanager::{time, Error, ErrorCode};
use serde_json::json;
use std::sync::Arc;

fn service(ctx: &Ctx) -> Result<LicensingService, Error> {
    let dir = ctx.data_dir()?;
    let store = SharedStore::new(ctx.store()?);
    let signer = Arc::new(signing::SignerCell::load(&dir)?);
    let verifier = Verifier::new(store.clone(), ctx.clients()?);
    Ok(LicensingService::new(store, Some(verifier), signer))
}

/// The question: a purchase code when the text looks like one, else a key.
fn query(key_or_code: &str, fingerprint: Option<&str>, label: Option<&str>) -> Result<Query, Error> {
    let mut q = Query::of(LicenseRef::guess(key_or_code), fingerprint);
    q.label = label.map(str::to_string);
    q.checked().map_err(|detail| Error::new(ErrorCode::InputInvalid, detail))
}

/// Prints the verdict as `CODE: detail (n of m activations used)`, or as JSON (`code`, `detail`,
/// `license` as products see it); `yes` is whether it exits 0.
fn finish(out: &mut Out, code: ApiCode, detail: String, license: Option<&License>, yes: bool) -> CmdResult {
    let v = json!({ "code": code, "detail": detail, "license": license.map(LicenseView::of) });
    out.emit(&v, |w| {
        write!(w, "{code}: {detail}")?;
        if let Some(l) = license {
            write!(w, " ({} of {} activations used)", l.activations_used, l.activation_limit)?;
        }
        writeln!(w)
    })?;
    out.flush()?;
    if yes {
        Ok(())
    } else {
        Err(Failure::No)
    }
}

/// A question the data could not answer, as the CLI's error.
fn failure(f: api::Failure) -> Error {
    match f {
        api::Failure::Internal(e) => e,
        api::Failure::Envato(_) => Error::new(
            ErrorCode::Internal,
            "Envato could not be asked to verify this purchase code; try again shortly.",
        ),
        api::Failure::Limited(_) => {
            Error::new(ErrorCode::Internal, "Too many purchase codes checked; try again later.")
        }
    }
}

pub fn activate(ctx: &Ctx, key: &str, instance: &str, label: Option<&str>, out: &mut Out) -> CmdResult {
    let svc = service(ctx)?;
    let days = ctx.store()?.settings()?.certificate_days;
    let q = query(key, Some(instance), label)?;
    let v = runtime()?.block_on(svc.activate(&q, days, Asker::Seller, time::now())).map_err(failure)?;
    ctx.deliver_after_change();
    let yes = matches!(v, ActivateVerdict::Activated(_));
    finish(out, v.code(), v.detail(), v.license(), yes)
}

pub fn deactivate(ctx: &Ctx, key: &str, instance: &str, out: &mut Out) -> CmdResult {
    // The seller's own command: the buyers' daily limit does not apply.
    let svc = service(ctx)?;
    let q = query(key, Some(instance), None)?;
    let v = runtime()?.block_on(svc.deactivate(&q, u32::MAX, Asker::Seller, time::now())).map_err(failure)?;
    ctx.deliver_after_change();
    let yes = matches!(v, DeactivateVerdict::Deactivated(_));
    finish(out, v.code(), v.detail(), v.license(), yes)
}

pub fn validate(ctx: &Ctx, key: &str, instance: Option<&str>, out: &mut Out) -> CmdResult {
    let svc = service(ctx)?;
    let v =
        runtime()?.block_on(svc.validate(&query(key, instance, None)?, Asker::Seller, time::now())).map_err(failure)?;
    finish(out, v.code(), v.detail(), v.license(), matches!(v, Verdict::Valid(_)))
}
