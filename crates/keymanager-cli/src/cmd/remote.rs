//! `remote`: the KeyManager servers this computer administers, and `--remote NAME`: commands
//! answered by that server's admin API instead of this computer's database.

use crate::args::{
    Command, EmailCmd, LicensesCmd, ProductsCmd, ReleasesCmd, RemoteCmd, ReviewCmd, SettingsCmd, SitesCmd,
    StatusChange, TokenCmd, WebhooksCmd,
};
use crate::context::{read_secret, runtime, Ctx};
use crate::output::{CmdResult, Failure, Out};
use keymanager::licensing::LicenseAction;
use keymanager::remote::{self, RemoteClient, Remotes};
use keymanager::store::LicenseFilter;
use keymanager::workspace::{ops, RemoteWorkspace};
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
        RemoteCmd::Move { name, replace } => {
            let remotes = Remotes::load(&dir)?;
            let client = RemoteClient::for_remote(&dir, remotes.get(name)?)?;
            let store = keymanager::store::SharedStore::new(ctx.store()?);
            let rt = runtime()?;
            let report = rt.block_on(keymanager::workspace::pull::move_to_server(&client, &store, *replace))?;
            rt.block_on(keymanager::workspace::pull::archive_local(&store, name, time::now()))?;
            remote::use_remote(&dir, Some(name))?;
            out.emit(&report, |w| {
                writeln!(
                    w,
                    "Moved {} licenses and {} products to “{name}”; it is the workspace in use now.",
                    report.licenses, report.products
                )?;
                writeln!(w, "This computer's syncing is paused; its database stays as an archive.")
            })
        }
        RemoteCmd::Unsent { name, retry, discard } => {
            let ws = RemoteWorkspace::open(&dir, name)?;
            if let Some(id) = retry {
                let answer = runtime()?.block_on(ws.retry(id))?;
                return out.emit(&answer, |w| writeln!(w, "Sent the kept change {id} to “{name}”."));
            }
            if let Some(id) = discard {
                ws.unsent.get(id)?;
                ws.unsent.discard(id)?;
                return out.emit(&json!({ "discarded": id }), |w| writeln!(w, "Dropped the kept change {id}."));
            }
            let kept = ws.unsent.list()?;
            out.emit(&kept, |w| {
                if kept.is_empty() {
                    writeln!(w, "No change is waiting for “{name}”.")?;
                }
                for c in &kept {
                    writeln!(w, "{}  {}  {}", c.id, c.at, c.label)?;
                }
                Ok(())
            })
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

/// A command run on the server `name`: the same operation the local command performs
/// (crate keymanager's workspace ops), sent through the admin API. Commands that only make sense
/// where the data is (serve, keys, outbox run, restore) or that speak the buyers' licensing API
/// (activate, deactivate, validate) say so instead.
pub fn on_remote(ctx: &Ctx, name: &str, command: &Command, out: &mut Out) -> CmdResult {
    let dir = ctx.data_dir()?;
    let ws = RemoteWorkspace::open(&dir, name)?;
    let rt = runtime()?;
    macro_rules! call {
        ($op:expr) => {
            rt.block_on(ws.call($op))?
        };
    }
    match command {
        Command::Lookup { code } => {
            let v = call!(ops::Lookup { code: code.clone() });
            out.emit(&v, |w| writeln!(w, "{}: {}", v.verdict.as_str().to_uppercase(), v.message))?;
            out.flush()?;
            if v.verdict == keymanager::lookup::LookupVerdict::Valid {
                Ok(())
            } else {
                Err(Failure::No)
            }
        }
        Command::Info => {
            let v = call!(ops::AppInfoGet {});
            out.emit(&v, |w| {
                writeln!(w, "Server:  {} (KeyManager {}, schema {})", ws.remote.url, v.version, v.schema_version)?;
                writeln!(w, "Data:    {}", v.data_dir.as_deref().unwrap_or("?"))?;
                writeln!(w, "Envato:  {}", v.envato_api_base)
            })
        }
        Command::Sync => {
            call!(ops::SyncNow {});
            let v = call!(ops::SyncStatusGet {});
            out.emit(&v, |w| writeln!(w, "A sync was asked of “{name}”; it runs there (keymanager --remote {name} sync log… or the window shows it)."))
        }
        Command::Settings(SettingsCmd::Get { key }) => {
            let v = serde_json::to_value(call!(ops::SettingsGet {})).unwrap_or_default();
            match key {
                Some(k) => {
                    let one = v.get(k).cloned().ok_or_else(|| Error::invalid_input(format!("There is no setting “{k}”.")).with_field("key"))?;
                    out.emit(&one, |w| writeln!(w, "{}", scalar(&one)))
                }
                None => out.emit(&v, |w| print_value(w, &v)),
            }
        }
        Command::Settings(SettingsCmd::Set { key, value }) => {
            let v = call!(ops::SettingsUpdate { changes: [(key.clone(), value.clone())].into() });
            out.emit(&v, |w| writeln!(w, "{key} is set on “{name}”."))
        }
        Command::Products(ProductsCmd::List { needs_review }) => {
            let mut v = call!(ops::ProductsList {});
            if *needs_review {
                v.retain(|p| p.needs_review);
            }
            out.emit(&v, |w| {
                for p in &v {
                    writeln!(w, "{:>6}  {:<40} {}", p.id, p.name, p.status.as_str())?;
                }
                Ok(())
            })
        }
        Command::Products(c @ ProductsCmd::Add { .. }) => {
            let p = call!(ops::ProductCreate { product: crate::cmd::products::new_product(c)? });
            out.emit(&p, |w| writeln!(w, "Created product {} “{}” on “{name}”.", p.id, p.name))
        }
        Command::Products(c @ ProductsCmd::Edit { id, update_slug, updates_require_activation, .. }) => emit(
            out,
            call!(ops::ProductUpdatesSet {
                product_id: *id,
                slug: update_slug.clone(),
                kind: crate::cmd::products::update_kind(c)?,
                require_activation: *updates_require_activation
            }),
        ),
        Command::Licenses(LicensesCmd::Edit { id, buyer_email, note, updates_until }) => {
            let mut last = None;
            if updates_until.is_some() {
                last = Some(call!(ops::LicenseSetUpdatesUntil { id: *id, until: updates_until.clone() }));
            }
            if buyer_email.is_some() || note.is_some() {
                let current = call!(ops::LicenseDetailGet { id: *id }).license;
                last = Some(call!(ops::LicenseUpdateDetails {
                    id: *id,
                    buyer_email: buyer_email.clone().unwrap_or_else(|| current.buyer_email.clone().unwrap_or_default()),
                    note: note.clone().unwrap_or_else(|| current.note.clone().unwrap_or_default()),
                }));
            }
            match last {
                Some(l) => out.emit(&l, |w| writeln!(w, "License {} updated on “{name}”.", l.id)),
                None => Err(Error::invalid_input("Give --buyer-email, --note or --updates-until.").into()),
            }
        }
        Command::Webhooks(WebhooksCmd::Add { url, events }) => {
            let new = call!(ops::WebhookAdd { url: url.clone(), events: events.clone().unwrap_or_default() });
            out.emit(&new, |w| {
                writeln!(w, "Added webhook endpoint {} on “{name}”.", new.endpoint.id)?;
                writeln!(w, "Secret (shown only now; keep it in your receiver): {}", new.secret)
            })
        }
        Command::Webhooks(WebhooksCmd::Deliveries { endpoint, limit }) => emit(
            out,
            call!(ops::Deliveries {
                endpoint_id: *endpoint,
                channel: Some(keymanager::store::Channel::Webhook),
                limit: Some(*limit)
            }),
        ),
        Command::Email(EmailCmd::SendKey { license_id, to }) => {
            emit(out, call!(ops::LicenseSendKey { id: *license_id, to: to.clone() }))
        }
        Command::Email(EmailCmd::Test { to }) => {
            let sent_to = call!(ops::EmailSendTest { to: to.clone() });
            out.emit(&json!({ "sent_to": sent_to }), |w| writeln!(w, "“{name}” sent a test e-mail to {sent_to}."))
        }
        Command::Products(ProductsCmd::MarkReviewed { id }) => emit(out, call!(ops::ProductMarkReviewed { id: *id })),
        Command::Products(ProductsCmd::Merge { from, into }) => {
            emit(out, call!(ops::ProductMerge { from: *from, into: *into }))
        }
        Command::Licenses(LicensesCmd::List { status, product, limit }) => {
            let filter = LicenseFilter {
                status: *status,
                product_id: *product,
                limit: Some(limit.unwrap_or(200).clamp(1, 1000) as u32),
                ..Default::default()
            };
            let v = call!(ops::LicensesPage { filter });
            out.emit(&v.licenses, |w| {
                for l in &v.licenses {
                    writeln!(
                        w,
                        "{:>8}  {}  {:<10} {}  {}",
                        l.id,
                        l.license_key,
                        l.status.as_str(),
                        l.product_name,
                        l.buyer.as_deref().unwrap_or("-")
                    )?;
                }
                Ok(())
            })
        }
        Command::Licenses(LicensesCmd::Show { id }) => {
            let v = call!(ops::LicenseDetailGet { id: *id });
            let l = &v.license;
            out.emit(&v, |w| {
                writeln!(w, "License {}  {}  ({})", l.id, l.license_key, l.status.as_str())?;
                writeln!(w, "Product:     {}", l.product_name)?;
                writeln!(w, "Buyer:       {}", l.buyer.as_deref().unwrap_or("-"))?;
                writeln!(w, "Activations: {} of {}", l.activations_used, l.activation_limit)
            })
        }
        Command::Licenses(LicensesCmd::Suspend(c)) => status(&rt, &ws, c, LicenseAction::Suspend, out),
        Command::Licenses(LicensesCmd::Revoke(c)) => status(&rt, &ws, c, LicenseAction::Revoke, out),
        Command::Licenses(LicensesCmd::Reactivate(c)) => status(&rt, &ws, c, LicenseAction::Reactivate, out),
        Command::Licenses(LicensesCmd::Bulk { action, ids, reason }) => {
            emit(out, call!(ops::LicensesChangeStatus { ids: ids.clone(), action: *action, reason: reason.clone() }))
        }
        Command::Licenses(LicensesCmd::RegenerateKey(c)) => {
            emit(out, call!(ops::LicenseRegenerateKey { id: c.id, reason: c.reason.clone() }))
        }
        Command::Licenses(LicensesCmd::Issue { product, buyer, buyer_email, note }) => emit(
            out,
            call!(ops::LicenseIssue {
                product_id: *product,
                buyer: buyer.clone(),
                buyer_email: buyer_email.clone(),
                note: note.clone()
            }),
        ),
        Command::Licenses(c @ LicensesCmd::Export { output, .. }) => {
            let csv = call!(ops::LicensesCsv { filter: crate::cmd::licenses::export_filter(c) });
            match output {
                Some(path) => {
                    // As the local export: the file names buyers, created readable by the seller alone.
                    use std::io::Write as _;
                    let mut file = keymanager::private_files::create_private_file(path)?;
                    file.write_all(csv.as_bytes())?;
                    let n = csv.lines().count().saturating_sub(1);
                    writeln!(out.w, "Wrote {n} licenses to {}.", path.display())?;
                    Ok(())
                }
                None => {
                    std::io::Write::write_all(&mut out.w, csv.as_bytes())?;
                    Ok(())
                }
            }
        }
        Command::Licenses(LicensesCmd::Recheck { product }) => {
            let v = call!(ops::RecheckStart { product_id: *product });
            out.emit(&v, |w| writeln!(w, "The refund watch runs on “{name}”; the window shows its progress."))
        }
        Command::Review(ReviewCmd::List) => {
            let v = call!(ops::ReviewQueue {});
            out.emit(&v, |w| print_value(w, &serde_json::to_value(&v).unwrap_or_default()))
        }
        Command::Review(ReviewCmd::CreateProduct { item_id }) => {
            emit(out, call!(ops::ReviewCreateProduct { item_id: *item_id }))
        }
        Command::Review(ReviewCmd::Map { item_id, product_id }) => {
            emit(out, call!(ops::ReviewMap { item_id: *item_id, product_id: *product_id }))
        }
        Command::Token(TokenCmd::Status) => emit(out, call!(ops::TokenStatusGet {})),
        Command::Token(TokenCmd::Validate) => emit(out, call!(ops::TokenValidate { token: None })),
        Command::Token(TokenCmd::Remove) => emit(out, call!(ops::TokenRemove {})),
        Command::Token(TokenCmd::Set) => {
            // Read here, sent once to the server's keychain or secrets folder, never sent back.
            let token = read_secret("Envato personal token (sent to the server, stored there only): ", "token")?;
            let auto = call!(ops::SettingsGet {}).auto_create_products;
            let v = call!(ops::EnvatoSave { token: Some(token.to_string()), auto_create_products: auto });
            let saved = v.saved;
            out.emit(&v, |w| {
                if saved {
                    writeln!(w, "The token validated and is stored on “{name}”.")
                } else {
                    writeln!(w, "Envato did not accept the token; nothing was changed on “{name}”.")
                }
            })?;
            if saved {
                Ok(())
            } else {
                Err(Failure::No)
            }
        }
        Command::Releases(c) => releases(&rt, &ws, c, out),
        Command::Sites(SitesCmd::Classify { url, .. }) => emit(out, call!(ops::SitesClassify { url: url.clone() })),
        Command::Webhooks(WebhooksCmd::List) => emit(out, call!(ops::WebhooksList {})),
        Command::Webhooks(WebhooksCmd::Remove { id }) => emit(out, call!(ops::WebhookRemove { id: *id })),
        Command::Webhooks(WebhooksCmd::Test { id }) => emit(out, call!(ops::WebhookTest { id: *id })),
        Command::Webhooks(WebhooksCmd::RotateSecret { id }) => emit(out, call!(ops::WebhookRotateSecret { id: *id })),
        Command::Webhooks(WebhooksCmd::Replay { message_id }) => {
            emit(out, call!(ops::DeliveryReplay { message_id: message_id.clone() }))
        }
        Command::Email(EmailCmd::Password) => {
            let password = read_secret("SMTP password (sent to the server, stored there only): ", "password")?;
            emit(out, call!(ops::EmailSetPassword { password: password.to_string() }))
        }
        Command::Backup { to: None } => emit(out, call!(ops::BackupNow {})),
        Command::Backup { to: Some(path) } => {
            let file = rt.block_on(keymanager::workspace::pull::pull_backup(&ws.client, path))?;
            // Its release packages beside it, as local backups keep them.
            let beside = path.parent().unwrap_or(std::path::Path::new(".")).join("packages");
            let packages = rt.block_on(keymanager::workspace::pull::pull_packages(&ws.client, path, &beside))?;
            out.emit(&file, |w| {
                writeln!(w, "Pulled a backup of “{name}” to {} ({} bytes, integrity checked).", file.path, file.size_bytes)?;
                writeln!(w, "{packages} release package(s) fetched into {} (each checked against its SHA-256).", beside.display())
            })
        }
        Command::Activate { .. } | Command::Deactivate { .. } | Command::Validate { .. } | Command::Updates(_) => {
            Err(Error::invalid_input(
                "This command speaks the buyers' licensing API: point it at the server's public address instead of --remote.",
            )
            .into())
        }
        _ => Err(Error::invalid_input(
            "This command runs where the data is (serve, keys, outbox run, restore): run it on the server itself.",
        )
        .into()),
    }
}

/// Prints an answer: its JSON with --json, else its fields.
fn emit<T: serde::Serialize>(out: &mut Out, v: T) -> CmdResult {
    let value = serde_json::to_value(&v).unwrap_or_default();
    out.emit(&value, |w| print_value(w, &value))
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "-".to_string(),
        other => other.to_string(),
    }
}

/// A generic readable form: `key: value` for an object's fields, one line per item of a list.
fn print_value(w: &mut dyn std::io::Write, v: &Value) -> std::io::Result<()> {
    match v {
        Value::Array(items) => {
            if items.is_empty() {
                writeln!(w, "(none)")?;
            }
            for item in items {
                match item.as_object() {
                    Some(o) => {
                        let fields: Vec<String> = o
                            .iter()
                            .filter(|(_, v)| !v.is_object() && !v.is_array() && !v.is_null())
                            .take(6)
                            .map(|(k, v)| format!("{k}={}", scalar(v)))
                            .collect();
                        writeln!(w, "{}", fields.join("  "))?;
                    }
                    None => writeln!(w, "{}", scalar(item))?,
                }
            }
            Ok(())
        }
        Value::Object(o) => {
            for (k, v) in o {
                if v.is_object() || v.is_array() {
                    writeln!(w, "{k}: {}", serde_json::to_string(v).unwrap_or_default())?;
                } else {
                    writeln!(w, "{k}: {}", scalar(v))?;
                }
            }
            Ok(())
        }
        other => writeln!(w, "{}", scalar(other)),
    }
}

fn releases(rt: &tokio::runtime::Runtime, ws: &RemoteWorkspace, c: &ReleasesCmd, out: &mut Out) -> CmdResult {
    macro_rules! call {
        ($op:expr) => {
            rt.block_on(ws.call($op))?
        };
    }
    match c {
        ReleasesCmd::Add { product, file, channel, notes, version, publish, rollout } => {
            let request = crate::cmd::releases::request(
                *product,
                channel.as_deref(),
                notes.as_deref(),
                version,
                *publish,
                *rollout,
            )?;
            let added = rt.block_on(ws.upload_release(file, request))?;
            out.emit(&added, |w| crate::cmd::releases::print_added(w, &added))
        }
        ReleasesCmd::List { product } => match product {
            Some(p) => {
                let list = call!(ops::ReleasesList { product_id: *p });
                out.emit(&list, |w| crate::cmd::releases::print_list(w, &list))
            }
            None => Err(Error::invalid_input("Name the product: --product ID.").with_field("product").into()),
        },
        ReleasesCmd::Publish { id, rollout } => emit(out, call!(ops::ReleasePublish { id: *id, rollout: *rollout })),
        ReleasesCmd::Rollout { id, percent } => emit(out, call!(ops::ReleaseRollout { id: *id, percent: *percent })),
        ReleasesCmd::Yank { id, reason } => emit(out, call!(ops::ReleaseYank { id: *id, reason: reason.clone() })),
        ReleasesCmd::Remove { id } => emit(out, call!(ops::ReleaseRemove { id: *id })),
        ReleasesCmd::Rerelease { id, version, publish } => {
            emit(out, call!(ops::ReleaseRerelease { id: *id, version: version.clone(), publish: *publish }))
        }
        ReleasesCmd::Show { .. } | ReleasesCmd::Edit { .. } => {
            Err(Error::invalid_input("Use `releases list --product ID` with --remote, or run this on the server.")
                .into())
        }
    }
}

fn status(
    rt: &tokio::runtime::Runtime,
    ws: &RemoteWorkspace,
    c: &StatusChange,
    action: LicenseAction,
    out: &mut Out,
) -> CmdResult {
    let l = rt.block_on(ws.call(ops::LicenseChangeStatus { id: c.id, action, reason: c.reason.clone() }))?;
    out.emit(&l, |w| writeln!(w, "License {} is {}; key {}.", l.id, l.status.as_str(), l.license_key))
}
