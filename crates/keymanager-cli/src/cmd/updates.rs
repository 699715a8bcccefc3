//! `updates check` (what a site is told, through the same service the server answers with) and
//! `updates link` (a download link for a support reply), and `updates snippet` (the code to paste
//! into the plugin or theme).

use crate::args::UpdatesCmd;
use crate::context::{runtime, Ctx};
use crate::output::{CmdResult, Failure, Out};
use keymanager::api::LicensingService;
use keymanager::signing;
use keymanager::store::SharedStore;
use keymanager::updates::service::{puc_json, support_link, Ask, UpdateService, Which};
use keymanager::verify::{Asker, Verifier};
use keymanager::{time, Error, ErrorCode};
use std::sync::Arc;

pub fn run(ctx: &Ctx, cmd: &UpdatesCmd, out: &mut Out) -> CmdResult {
    match cmd {
        UpdatesCmd::Check { slug, key, purchase_code, installed, site, channel, php } => {
            let beta = match channel.as_deref() {
                None | Some("stable") => false,
                Some("beta") => true,
                Some(_) => {
                    return Err(Error::invalid_input("--channel is stable or beta.").with_field("channel").into())
                }
            };
            let dir = ctx.data_dir()?;
            let store = SharedStore::new(ctx.store()?);
            let signer = Arc::new(signing::SignerCell::load(&dir)?);
            let verifier = Verifier::new(store.clone(), ctx.clients()?);
            let service = UpdateService::new(LicensingService::new(store, Some(verifier), signer));
            let ask = Ask {
                license: key.clone().or(purchase_code.clone()),
                installed: Some(installed.clone()),
                beta,
                site_url: site.clone(),
                fingerprint: None,
                php: php.clone(),
                wordpress: None,
            };
            let offer = runtime()?
                .block_on(service.offer(&Which::Slug(slug.clone()), &ask, Asker::Seller, time::now()))
                .map_err(|f| match f {
                    keymanager::api::Failure::Internal(e) => e,
                    _ => Error::new(
                        ErrorCode::EnvatoConnectionFailed,
                        "Envato could not be asked about this purchase code now.",
                    ),
                })?
                .ok_or_else(|| {
                    Error::new(ErrorCode::ProductNotFound, format!("No product has the update slug “{slug}”."))
                })?;
            let json = puc_json(&offer);
            out.emit(&json, |w| {
                let version = offer.shown.as_ref().map_or("none", |r| r.version.as_str());
                writeln!(w, "{}: {} (newest version shown: {version})", offer.code, offer.message)?;
                if let Some(url) = &offer.download_url {
                    writeln!(w, "Download: {url}")?;
                }
                Ok(())
            })?;
            out.flush()?;
            if offer.download_url.is_some() || (offer.code.eligible() && offer.shown.is_none()) {
                Ok(())
            } else {
                Err(Failure::No)
            }
        }
        UpdatesCmd::Link { license, release } => {
            let signer = signing::SignerCell::load(&ctx.data_dir()?)?.current();
            let (r, url) = support_link(&ctx.store()?, &signer, *license, *release, time::now())?;
            out.emit(&serde_json::json!({ "release_id": r.id, "version": r.version, "url": url }), |w| {
                writeln!(w, "{} {} for license {license}:", r.product_name, r.version)?;
                writeln!(w, "{url}")
            })
        }
        UpdatesCmd::Snippet { product, edd } => {
            let key = signing::SignerCell::load(&ctx.data_dir()?)?.current().public_key();
            let snippet = keymanager::updates::snippet::for_product(&ctx.store()?, *product, &key)?;
            let code = if *edd {
                snippet.edd.clone().ok_or_else(|| {
                    Error::invalid_input("EDD's updater is for plugins: a theme uses the plugin-update-checker code.")
                        .with_field("edd")
                })?
            } else {
                snippet.puc.clone()
            };
            out.emit(&snippet, |w| {
                if let Some(problem) = &snippet.problem {
                    writeln!(w, "// Note: {problem}")?;
                }
                write!(w, "{code}")
            })
        }
    }
}
