//! `remote`: the KeyManager servers this computer administers, and `--remote NAME`: commands
//! answered by that server's admin API instead of this computer's database.

use crate::args::{Command, LicensesCmd, RemoteCmd, StatusChange};
use crate::context::{read_secret, runtime, Ctx};
use crate::output::{CmdResult, Failure, Out};
use keymanager::licensing::LicenseAction;
use keymanager::remote::{self, Method, RemoteClient, Remotes};
use keymanager::{time, Error};

use serde_json::{json, Value};

pub fn run(ctx: &Ctx, c: &RemoteCmd, out: &mut Out) -> CmdResult {
    let dir = ctx.data_dir()?;
    match c {
        RemoteCmd::Add { name, url, code, fingerprint, device_name } => {
            let code = match code {
                Some(c) => zeroize::Zeroizing::new(c.clone()),
                None => read_secret("Pairing code (from `keymanager admin pair` on the server): ", "pairing code")?,
            };
            let r = runtime()?.block_on(remote::add(
                &dir,
                name,
                url,
                &code,
                device_name,
                fingerprint.as_deref(),
                time::now(),
            ))?;
            let fp = remote::fingerprint(&r.public_key);
            out.emit(&r, |w| {
                writeln!(
                    w,
                    "Paired with {} as “{}” ({}). Server key fingerprint: {fp}.",
                    r.url, r.device_name, r.scopes
                )?;
                writeln!(w, "The device token is in the system keychain. Use it with --remote {}.", r.name)
            })
        }
        RemoteCmd::List => {
            let all = Remotes::load(&dir)?;
            out.emit(&all, |w| {
                if all.remotes.is_empty() {
                    writeln!(w, "No server is paired (keymanager remote add NAME URL).")?;
                }
                for r in &all.remotes {
                    let mark = if all.current.as_deref() == Some(r.name.as_str()) { "*" } else { " " };
                    writeln!(w, "{mark} {:<16} {:<40} {} ({})", r.name, r.url, r.device_name, r.scopes)?;
                }
                Ok(())
            })
        }
        RemoteCmd::Use { name } => {
            let all = remote::use_remote(&dir, name.as_deref())?;
            out.emit(&all, |w| match &all.current {
                Some(n) => writeln!(w, "The workspace in use is the server “{n}”."),
                None => writeln!(w, "The workspace in use is this computer."),
            })
        }
        RemoteCmd::Watch { name, count } => {
            let remotes = Remotes::load(&dir)?;
            let client = RemoteClient::for_remote(&dir, remotes.get(name)?)?;
            let mut seen = 0u64;
            let json = out.json;
            let opened = || eprintln!("Watching “{name}” (Ctrl+C stops)…");
            runtime()?.block_on(client.follow_changes(opened, |changed| {
                seen += 1;
                let line = if json {
                    serde_json::to_string(&changed).unwrap_or_default()
                } else if changed.all {
                    "everything (the feed fell behind)".to_string()
                } else {
                    changed.tables.join(" ")
                };
                // Each change as it comes, not buffered until the end.
                println!("{line}");
                count.is_none_or(|c| seen < c)
            }))?;
            Ok(())
        }
        RemoteCmd::Remove { name } => {
            remote::remove(&dir, name)?;
            out.emit(&json!({ "removed": name }), |w| {
                writeln!(
                    w,
                    "Forgot “{name}” here. On the server, `keymanager admin devices --revoke ID` ends its token."
                )
            })
        }
    }
}

/// A command answered by the server `name` (the subset its admin API covers so far).
pub fn on_remote(ctx: &Ctx, name: &str, command: &Command, out: &mut Out) -> CmdResult {
    let dir = ctx.data_dir()?;
    let remotes = Remotes::load(&dir)?;
    let client = RemoteClient::for_remote(&dir, remotes.get(name)?)?;
    let rt = runtime()?;
    let call = |method: Method, path: String, body: Option<Value>| -> Result<Value, Error> {
        rt.block_on(client.call::<Value>(method, &path, body.as_ref()))
    };
    match command {
        Command::Lookup { code } => {
            let v = call(Method::POST, "admin/v1/lookup".into(), Some(json!({ "code": code })))?;
            out.emit(&v, |w| {
                writeln!(w, "{}: {}", v["verdict"].as_str().unwrap_or("?").to_uppercase(), v["message"].as_str().unwrap_or(""))
            })?;
            out.flush()?;
            if v["verdict"] == "valid" {
                Ok(())
            } else {
                Err(Failure::No)
            }
        }
        Command::Licenses(LicensesCmd::List { status, product, limit }) => {
            let mut filter = json!({ "limit": limit.unwrap_or(200).clamp(1, 1000) });
            if let Some(s) = status {
                filter["status"] = json!(s.as_str());
            }
            if let Some(p) = product {
                filter["product_id"] = json!(p);
            }
            let v = call(Method::POST, "admin/v1/licenses/page".into(), Some(filter))?;
            out.emit(&v["licenses"], |w| {
                for l in v["licenses"].as_array().into_iter().flatten() {
                    writeln!(
                        w,
                        "{:>8}  {}  {:<10} {}  {}",
                        l["id"],
                        l["license_key"].as_str().unwrap_or(""),
                        l["status"].as_str().unwrap_or(""),
                        l["product_name"].as_str().unwrap_or(""),
                        l["buyer"].as_str().unwrap_or("-")
                    )?;
                }
                Ok(())
            })
        }
        Command::Licenses(LicensesCmd::Show { id }) => {
            let v = call(Method::GET, format!("admin/v1/licenses/{id}"), None)?;
            let l = &v["license"];
            out.emit(&v, |w| {
                writeln!(w, "License {}  {}  ({})", l["id"], l["license_key"].as_str().unwrap_or(""), l["status"].as_str().unwrap_or(""))?;
                writeln!(w, "Product:     {}", l["product_name"].as_str().unwrap_or(""))?;
                writeln!(w, "Buyer:       {}", l["buyer"].as_str().unwrap_or("-"))?;
                writeln!(w, "Activations: {} of {}", l["activations_used"], l["activation_limit"])
            })
        }
        Command::Licenses(LicensesCmd::Suspend(c)) => status(&call, c, LicenseAction::Suspend, out),
        Command::Licenses(LicensesCmd::Revoke(c)) => status(&call, c, LicenseAction::Revoke, out),
        Command::Licenses(LicensesCmd::Reactivate(c)) => status(&call, c, LicenseAction::Reactivate, out),
        _ => Err(Error::invalid_input(
            "This command does not work with --remote yet: run it on the server, or use lookup and licenses list|show|suspend|revoke|reactivate.",
        )
        .into()),
    }
}

fn status(
    call: &dyn Fn(Method, String, Option<Value>) -> Result<Value, Error>,
    c: &StatusChange,
    action: LicenseAction,
    out: &mut Out,
) -> CmdResult {
    let body = json!({ "action": action.as_str(), "reason": c.reason });
    let l = call(Method::POST, format!("admin/v1/licenses/{}/status", c.id), Some(body))?;
    out.emit(&l, |w| {
        writeln!(
            w,
            "License {} is {}; key {}.",
            l["id"],
            l["status"].as_str().unwrap_or(""),
            l["license_key"].as_str().unwrap_or("")
        )
    })
}
