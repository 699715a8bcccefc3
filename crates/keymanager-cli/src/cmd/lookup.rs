use crate::context::{runtime, Ctx};
use crate::output::{CmdResult, Failure, Out};
use keymanager::lookup::{self, LookupResult, LookupVerdict};
use keymanager::store::SharedStore;
use keymanager::time;
use keymanager::verify::Verifier;
use std::io::{self, Write};

/// Prints the lookup's answer: exit 0 for a valid sale of the seller's, 3 when it is not.
pub fn run(ctx: &Ctx, code: &str, out: &mut Out) -> CmdResult {
    let shared = SharedStore::new(ctx.store()?);
    let clients = ctx.clients()?;
    let client = clients.client_blocking()?.map(|c| c.interactive());
    let verifier = client.is_some().then(|| Verifier::new(shared.clone(), clients));
    let rt = runtime()?;
    let r = rt.block_on(lookup::lookup(&shared, verifier.as_ref(), code, time::now()))?;
    // Envato's data may not be shown more than six hours old: refresh before answering.
    let (r, failed) = rt.block_on(lookup::refresh_if_stale(&shared, client.as_ref(), r, time::now()));
    if let Some(e) = failed {
        eprintln!("(Could not refresh from Envato: {}; showing the stored data.)", e.message);
    }
    ctx.deliver_after_change();
    out.emit(&r, |w| print(w, &r))?;
    out.flush()?;
    if r.verdict == LookupVerdict::Valid {
        Ok(())
    } else {
        Err(Failure::No)
    }
}

fn print(out: &mut dyn Write, r: &LookupResult) -> io::Result<()> {
    let head = match r.verdict {
        LookupVerdict::Valid => "VALID",
        LookupVerdict::NotASale => "NOT A SALE OF YOURS",
        LookupVerdict::NoLongerRecognised => "NO LONGER RECOGNISED BY ENVATO",
        LookupVerdict::Malformed => "MALFORMED",
    };
    writeln!(out, "{head}: {}", r.message)?;
    if let Some(s) = &r.sale {
        writeln!(
            out,
            "Item:           {} ({}) on {}",
            s.item_name.as_deref().unwrap_or("-"),
            s.item_id.map(|i| i.to_string()).unwrap_or_else(|| "-".into()),
            s.marketplace.as_deref().unwrap_or("-")
        )?;
        writeln!(out, "Buyer:          {}", s.buyer.as_deref().unwrap_or("guest checkout"))?;
        writeln!(out, "License type:   {}", s.envato_license.as_deref().unwrap_or("-"))?;
        writeln!(out, "Sold at:        {}", s.sold_at.as_deref().unwrap_or("-"))?;
        match &s.amount {
            Some(a) => writeln!(out, "Amount:         {a} {}", s.currency)?,
            None => writeln!(out, "Amount:         -")?,
        }
        if let Some(sw) = &r.support {
            match (&sw.until, sw.days_left) {
                (Some(u), Some(d)) if !sw.expired => writeln!(out, "Support until:  {u} ({d} days left)")?,
                (Some(u), _) => writeln!(out, "Support until:  {u} (expired)")?,
                _ => writeln!(out, "Support:        none")?,
            }
        }
        writeln!(out, "Purchases:      {} of this item by this buyer", s.purchase_count.unwrap_or(1))?;
    }
    match &r.license {
        Some(l) => {
            writeln!(out, "Product:        {}", l.product_name)?;
            writeln!(out, "License key:    {}", l.license_key)?;
            writeln!(out, "Status:         {}", l.status.as_str())?;
            writeln!(out, "Activations:    {} of {}", l.activations_used, l.activation_limit)?;
        }
        None if r.waiting_for_product => {
            writeln!(out, "License:        none yet: the sale waits in the review queue (keymanager review list)")?
        }
        None => {}
    }
    Ok(())
}
