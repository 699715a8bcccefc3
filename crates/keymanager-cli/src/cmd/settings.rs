use crate::args::SettingsCmd;
use crate::context::Ctx;
use crate::output::{CmdResult, Out};
use keymanager::settings::KEYS;
use keymanager::time;

pub fn run(ctx: &Ctx, cmd: &SettingsCmd, out: &mut Out) -> CmdResult {
    match cmd {
        SettingsCmd::Get { key: Some(key) } => {
            let settings = ctx.store()?.settings()?;
            let value = settings.get(key)?;
            let json =
                serde_json::json!({ key: serde_json::to_value(&settings).ok().and_then(|v| v.get(key).cloned()) });
            out.emit(&json, |w| writeln!(w, "{value}"))
        }
        SettingsCmd::Get { key: None } => {
            let settings = ctx.store()?.settings()?;
            out.emit(&settings, |w| {
                for key in KEYS {
                    let value = settings.get(key).unwrap_or_default();
                    writeln!(w, "{key} = {value}")?;
                }
                Ok(())
            })
        }
        SettingsCmd::Set { key, value } => {
            let settings = ctx.store()?.update_settings(&[(key.clone(), value.clone())], time::now())?;
            let shown = settings.get(key)?;
            out.emit(&settings, |w| writeln!(w, "{key} = {shown}"))
        }
    }
}
