use crate::args::{LicensesCmd, StatusChange};
use crate::context::Ctx;
use crate::output::{clip, CmdResult, Failure, Out};
use keymanager::licensing::{self, LicenseAction, LicenseDetail};
use keymanager::model::{License, LicenseStatus};
use keymanager::store::{LicenseFilter, LicenseQuery};
use keymanager::{export, time, Error, Store};
use std::io::{self, Write};

pub fn run(ctx: &Ctx, cmd: &LicensesCmd, out: &mut Out) -> CmdResult {
    match cmd {
        LicensesCmd::List { status, product, limit } => {
            let limit = match limit {
                Some(n) if *n < 0 => {
                    return Err(Error::invalid_input(format!("--limit is a count of licenses; {n} is not."))
                        .with_field("limit")
                        .into())
                }
                Some(n) => Some(*n as u64),
                None => None,
            };
            list(out, &ctx.store()?, *status, *product, limit)
        }
        LicensesCmd::Show { id } => {
            let d = licensing::detail(&ctx.store()?, *id, time::now())?;
            out.emit(&d, |w| print_detail(w, &d))
        }
        LicensesCmd::Suspend(c) => change(ctx, c, Some(LicenseAction::Suspend), out),
        LicensesCmd::Revoke(c) => change(ctx, c, Some(LicenseAction::Revoke), out),
        LicensesCmd::Reactivate(c) => change(ctx, c, Some(LicenseAction::Reactivate), out),
        LicensesCmd::RegenerateKey(c) => change(ctx, c, None, out),
        LicensesCmd::Recheck { product } => {
            let client = ctx.stored_client(false)?.ok_or_else(keymanager::account::not_configured)?;
            let shared = keymanager::store::SharedStore::new(ctx.store()?);
            let job = keymanager::refund_watch::RefundWatch::new(shared, std::sync::Arc::new(time::now));
            let mut progress = job.subscribe();
            let p = crate::context::runtime()?.block_on(async {
                let run = job.run(client, *product);
                tokio::pin!(run);
                loop {
                    tokio::select! {
                        done = &mut run => break done,
                        // Ctrl+C stops after the code being checked; what was checked counts.
                        _ = tokio::signal::ctrl_c() => job.cancel(),
                        Ok(()) = progress.changed() => {
                            let p = progress.borrow_and_update().clone();
                            if p.checked.is_multiple_of(50) && p.checked > 0 && p.running {
                                eprintln!("  {} of {} checked, {} not recognised", p.checked, p.total, p.not_recognised);
                            }
                        }
                    }
                }
            })?;
            out.emit(&p, |w| {
                writeln!(
                    w,
                    "Checked {} purchase codes: {} no longer recognised by Envato (flagged; see `licenses list` and decide), {} could not be checked.",
                    p.checked, p.not_recognised, p.failed
                )
            })
        }
        LicensesCmd::Bulk { action, ids, reason } => {
            let r = licensing::change_status_many(&mut ctx.store()?, ids, *action, reason, time::now())?;
            ctx.deliver_after_change();
            out.emit(&r, |w| {
                writeln!(w, "Changed {} license(s).", r.changed.len())?;
                for s in &r.skipped {
                    writeln!(w, "Skipped {}: {}", s.id, s.message)?;
                }
                Ok(())
            })
        }
        LicensesCmd::Export { output, .. } => {
            let store = ctx.store()?;
            let filter = export_filter(cmd);
            match output {
                Some(path) => {
                    // The file names buyers: created readable by the seller alone.
                    let file = keymanager::private_files::create_private_file(path)?;
                    let mut w = io::BufWriter::new(file);
                    let n = export::write_csv(&store, &filter, time::now(), &mut w)?;
                    w.flush()?;
                    writeln!(out.w, "Wrote {n} licenses to {}.", path.display())?;
                    Ok(())
                }
                None => {
                    export::write_csv(&store, &filter, time::now(), &mut out.w)?;
                    Ok(())
                }
            }
        }
        LicensesCmd::Issue { product, buyer, buyer_email, note } => {
            let l = licensing::issue(
                &mut ctx.store()?,
                *product,
                buyer.as_deref(),
                buyer_email.as_deref(),
                note.as_deref(),
                time::now(),
            )?;
            ctx.deliver_after_change();
            out.emit(&l, |w| writeln!(w, "{}", l.license_key))
        }
        LicensesCmd::Edit { id, buyer_email, note, updates_until } => {
            let mut store = ctx.store()?;
            if let Some(until) = updates_until.as_deref().map(str::trim) {
                let at = match until {
                    "" => None,
                    t => Some(time::parse_day_or_time(t).ok_or_else(|| {
                        Error::invalid_input(format!("“{t}” is not a date (YYYY-MM-DD or RFC 3339)."))
                            .with_field("updates_until")
                    })?),
                };
                let l = store.set_updates_until(*id, at, time::now())?;
                if buyer_email.is_none() && note.is_none() {
                    return out.emit(&l, |w| {
                        writeln!(
                            w,
                            "License {}: updates until {}.",
                            l.id,
                            l.updates_until.as_deref().unwrap_or("no end date")
                        )
                    });
                }
            }
            let current = store.license(*id)?.ok_or_else(|| {
                Error::new(keymanager::ErrorCode::LicenseNotFound, format!("There is no license with ID {id}."))
            })?;
            let email = buyer_email.clone().unwrap_or_else(|| current.buyer_email.clone().unwrap_or_default());
            let note = note.clone().unwrap_or_else(|| current.note.clone().unwrap_or_default());
            let l = licensing::set_details(&mut store, *id, &email, &note, time::now())?;
            out.emit(&l, |w| {
                writeln!(
                    w,
                    "License {}: buyer e-mail {}, note {}.",
                    l.id,
                    l.buyer_email.as_deref().unwrap_or("(none)"),
                    l.note.as_deref().unwrap_or("(none)")
                )
            })
        }
    }
}

/// Suspend, revoke or reactivate with a reason; None regenerates the key.
fn change(ctx: &Ctx, c: &StatusChange, action: Option<LicenseAction>, out: &mut Out) -> CmdResult {
    let mut store = ctx.store()?;
    let now = time::now();
    let l = match action {
        Some(a) => licensing::change_status(&mut store, c.id, a, &c.reason, now)?,
        None => licensing::regenerate_key(&mut store, c.id, &c.reason, now)?,
    };
    ctx.deliver_after_change();
    out.emit(&l, |w| writeln!(w, "License {} is {}; key {}.", l.id, l.status.as_str(), l.license_key))
}

/// Streams every matching license page by page, so a million rows never sit in memory.
fn list(
    out: &mut Out,
    store: &Store,
    status: Option<LicenseStatus>,
    product: Option<i64>,
    limit: Option<u64>,
) -> CmdResult {
    const PAGE: u64 = 1000;
    let json = out.json;
    let w = &mut out.w;
    let mut remaining = limit.unwrap_or(u64::MAX);
    let mut before_id = None;
    let mut first = true;
    if json {
        write!(w, "[")?;
    }
    while remaining > 0 {
        let page = store.licenses(&LicenseQuery {
            status,
            product_id: product,
            limit: remaining.min(PAGE) as u32,
            before_id,
        })?;
        if page.is_empty() {
            break;
        }
        remaining -= page.len() as u64;
        before_id = page.last().map(|l| l.id);
        for l in &page {
            if json {
                if !first {
                    write!(w, ",")?;
                }
                write!(w, "\n  ")?;
                serde_json::to_writer(&mut *w, l).map_err(|e| Failure::Io(e.into()))?;
            } else {
                if first {
                    writeln!(
                        w,
                        "{:>8}  {:<23}  {:<9}  {:<28}  {:<20}  SOLD AT",
                        "ID", "KEY", "STATUS", "PRODUCT", "BUYER"
                    )?;
                }
                print_license_row(w, l)?;
            }
            first = false;
        }
    }
    if json {
        writeln!(w, "{}]", if first { "" } else { "\n" })?;
    } else if first {
        writeln!(w, "No licenses match.")?;
    }
    Ok(())
}

fn print_license_row(out: &mut impl Write, l: &License) -> io::Result<()> {
    writeln!(
        out,
        "{:>8}  {:<23}  {:<9}  {:<28}  {:<20}  {}",
        l.id,
        l.license_key,
        l.status.as_str(),
        clip(&l.product_name, 28),
        clip(l.buyer.as_deref().unwrap_or("-"), 20),
        l.sold_at.as_deref().unwrap_or("-")
    )
}

fn print_detail(out: &mut dyn Write, d: &LicenseDetail) -> io::Result<()> {
    let l = &d.license;
    writeln!(out, "License {}  {}  ({})", l.id, l.license_key, l.status.as_str())?;
    writeln!(out, "Product:     {}", l.product_name)?;
    if let Some(item) = l.envato_item_id {
        writeln!(
            out,
            "Envato item: {item} {} on {}",
            l.item_name.as_deref().unwrap_or(""),
            l.marketplace.as_deref().unwrap_or("?")
        )?;
    }
    if let Some(code) = &l.purchase_code {
        writeln!(out, "Purchase code: {code}")?;
    }
    writeln!(
        out,
        "Buyer:       {}",
        l.buyer.as_deref().unwrap_or(if l.envato_item_id.is_some() { "guest checkout" } else { "-" })
    )?;
    match (&d.support.until, d.support.days_left) {
        (Some(u), Some(n)) if !d.support.expired => writeln!(out, "Support:     until {u} ({n} days left)")?,
        (Some(u), _) => writeln!(out, "Support:     expired {u}")?,
        _ => writeln!(out, "Support:     none")?,
    }
    if let Some(at) = &l.shared_suspected_at {
        writeln!(out, "Possibly shared: more production sites in 30 days than expected (flagged {at})")?;
    }
    let (production, other): (Vec<_>, Vec<_>) = d.activations.iter().partition(|a| a.environment.counts_toward_limit());
    writeln!(out, "Production ({} of {}):", production.len(), l.activation_limit)?;
    for a in &production {
        print_activation(out, a, None)?;
    }
    if !other.is_empty() {
        writeln!(out, "Staging and development ({}, not counted):", other.len())?;
        for a in &other {
            print_activation(out, a, Some(a.environment.as_str()))?;
        }
    }
    for k in &d.key_history {
        writeln!(out, "Former key:  {} (replaced {}: {})", k.license_key, k.replaced_at, k.reason)?;
    }
    writeln!(out, "Audit trail:")?;
    for a in &d.audit {
        writeln!(out, "  {}  {:<28} {}", a.at, a.action, a.message)?;
    }
    Ok(())
}

fn print_activation(out: &mut dyn Write, a: &keymanager::model::Activation, why: Option<&str>) -> io::Result<()> {
    writeln!(
        out,
        "  - {} {}{} (since {}, last seen {}){}",
        a.site.as_deref().unwrap_or(&a.instance_id),
        a.label.as_deref().unwrap_or(""),
        if a.site.is_some() && !a.instance_id.starts_with("site:") {
            format!(" [{}]", a.instance_id)
        } else {
            String::new()
        },
        a.activated_at,
        a.last_seen_at,
        why.map(|w| format!(": {w}, not counted")).unwrap_or_default()
    )
}

/// The filter `licenses export` describes (here and with --remote).
pub fn export_filter(cmd: &LicensesCmd) -> LicenseFilter {
    let LicensesCmd::Export { status, product, marketplace, search, .. } = cmd else {
        return LicenseFilter::default();
    };
    LicenseFilter {
        status: *status,
        product_id: *product,
        marketplace: marketplace.clone(),
        search: search.clone(),
        ..Default::default()
    }
}
