//! `admin`: on the server, pair devices with the admin API, list them and revoke them.

use crate::args::AdminCmd;
use crate::context::Ctx;
use crate::output::{CmdResult, Out};
use keymanager::{admin, remote, signing, time};

pub fn run(ctx: &Ctx, c: &AdminCmd, out: &mut Out) -> CmdResult {
    match c {
        AdminCmd::Pair { name, scope } => {
            let mut store = ctx.store()?;
            let key = signing::public_key_of(&ctx.data_dir()?)?;
            let (code, expires_at) = admin::make_pairing_code(&mut store, name, scope, time::now())?;
            let fingerprint = remote::fingerprint(&key);
            let v = serde_json::json!({ "code": code, "expires_at": expires_at, "fingerprint": fingerprint });
            out.emit(&v, |w| {
                writeln!(w, "Pairing code: {code}  (valid until {expires_at}, once)")?;
                writeln!(w, "Server key fingerprint: {fingerprint}")?;
                writeln!(
                    w,
                    "On the desktop: keymanager remote add NAME https://… --code {code} --fingerprint {fingerprint}"
                )
            })
        }
        AdminCmd::Devices { revoke } => {
            let mut store = ctx.store()?;
            if let Some(id) = revoke {
                let d = store.admin_revoke(*id, time::now())?;
                return out
                    .emit(&d, |w| writeln!(w, "Revoked device {} “{}”: its token no longer works.", d.id, d.name));
            }
            let devices = store.admin_devices()?;
            out.emit(&devices, |w| {
                if devices.is_empty() {
                    writeln!(w, "No device is paired (keymanager admin pair makes a code).")?;
                }
                for d in &devices {
                    let state = if d.revoked_at.is_some() { "revoked" } else { "active" };
                    writeln!(
                        w,
                        "{:>4}  {:<20} {:<22} {state:<8} last used {} from {}",
                        d.id,
                        d.name,
                        d.scopes,
                        d.last_used_at.as_deref().unwrap_or("never"),
                        d.last_address.as_deref().unwrap_or("-")
                    )?;
                }
                Ok(())
            })
        }
    }
}
