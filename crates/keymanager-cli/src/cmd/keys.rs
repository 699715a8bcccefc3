use crate::args::KeysCmd;
use crate::context::Ctx;
use crate::output::{CmdResult, Failure, Out};
use keymanager::signing;
use keymanager::time;

pub fn run(ctx: &Ctx, cmd: &KeysCmd, out: &mut Out) -> CmdResult {
    let dir = ctx.data_dir()?;
    match cmd {
        KeysCmd::Public => {
            let key = signing::load_or_create(&dir)?.public_key();
            let json = serde_json::json!({ "algorithm": "ed25519", "public_key": key });
            out.emit(&json, |w| writeln!(w, "{key}"))
        }
        KeysCmd::Rotate => {
            let key = signing::rotate(&dir)?.public_key();
            let json = serde_json::json!({ "algorithm": "ed25519", "public_key": key });
            out.emit(&json, |w| {
                writeln!(w, "{key}")?;
                writeln!(
                    w,
                    "A new signing key is in use. A running `keymanager serve` (and the app's server) signs with it \
                     within {} seconds. Products that pinned the old public key must be updated.",
                    signing::RELOAD_EVERY.as_secs() * 2
                )
            })
        }
        KeysCmd::Init { file } => {
            let key = signing::init_file(file)?.public_key();
            let json = serde_json::json!({ "algorithm": "ed25519", "public_key": key, "file": file });
            out.emit(&json, |w| {
                writeln!(w, "{key}")?;
                writeln!(
                    w,
                    "A new signing key is in {} (mode 600). Point {} at it (or systemd's LoadCredential=signing-key:…).",
                    file.display(),
                    signing::SIGNING_KEY_FILE_ENV
                )
            })
        }
        KeysCmd::Verify { certificate } => {
            let key = signing::load_or_create(&dir)?.public_key();
            let claims = signing::verify_certificate(&key, certificate)?;
            let expired = time::parse(&claims.expires_at).is_none_or(|t| t <= time::now());
            let json = serde_json::json!({ "genuine": true, "expired": expired, "certificate": &claims });
            out.emit(&json, |w| {
                writeln!(
                    w,
                    "{}: license {} on “{}” (product {}), {} until {}.",
                    if expired { "Genuine but EXPIRED" } else { "Genuine" },
                    claims.key,
                    claims.fingerprint,
                    claims.product_id,
                    claims.status,
                    claims.expires_at
                )
            })?;
            out.flush()?;
            if expired {
                Err(Failure::No)
            } else {
                Ok(())
            }
        }
    }
}
