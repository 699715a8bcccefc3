use crate::args::EmailCmd;
use crate::context::{read_secret, runtime, Ctx};
use crate::output::{CmdResult, Out};
use keymanager::secrets::SMTP_PASSWORD;
use keymanager::{email, time, Error};
use std::time::Duration;

pub fn run(ctx: &Ctx, cmd: &EmailCmd, out: &mut Out) -> CmdResult {
    match cmd {
        EmailCmd::Password => {
            let text = read_secret("SMTP password (input is hidden), then press Enter: ", "the password")?;
            let password = text.trim_end_matches(['\r', '\n']);
            if password.is_empty() {
                return Err(Error::invalid_input("The password is empty; nothing was stored.").into());
            }
            ctx.secrets()?.save(SMTP_PASSWORD, password)?;
            out.emit(&serde_json::json!({"stored": true}), |w| writeln!(w, "Stored the SMTP password in the keychain."))
        }
        EmailCmd::SendKey { license_id, to } => {
            let id = email::queue_key(&mut ctx.store()?, *license_id, to.as_deref(), time::now())?;
            ctx.deliver_outbox(Duration::from_secs(30))?;
            super::webhooks::show_message(ctx, &id, keymanager::ErrorCode::EmailSendFailed, out)
        }
        EmailCmd::Test { to } => {
            let settings = ctx.store()?.settings()?;
            let password = ctx.secrets()?.load(SMTP_PASSWORD)?;
            let sent_to = runtime()?.block_on(email::send_test(
                &settings,
                password.as_deref().map(|p| p.as_str()),
                to.as_deref(),
            ))?;
            out.emit(&serde_json::json!({"sent_to": sent_to}), |w| writeln!(w, "Sent a test e-mail to {sent_to}."))
        }
    }
}
