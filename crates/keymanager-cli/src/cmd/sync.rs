use crate::context::{runtime, Ctx};
use crate::output::{CmdResult, Out};
use keymanager::store::SharedStore;
use keymanager::sync::{run_sync, SyncPhase};
use keymanager::{account, time};

pub fn run(ctx: &Ctx, out: &mut Out) -> CmdResult {
    let store = ctx.store()?;
    let client = ctx.stored_client(false)?.ok_or_else(account::not_configured)?;
    let shared = SharedStore::new(store);
    let summary = runtime()?.block_on(run_sync(
        &shared,
        &client,
        keymanager::store::SyncTrigger::Manual,
        &time::now,
        &mut |p| {
            if p.phase == SyncPhase::Fetching && p.pages_fetched > 0 {
                eprintln!(
                    "  page {}: {} sales seen, {} new licenses, {} new products, {} queued for review",
                    p.pages_fetched, p.sales_seen, p.licenses_created, p.products_created, p.sales_queued
                );
            }
        },
    ))?;
    drop(shared);
    ctx.deliver_after_change();
    out.emit(&summary, |w| {
        writeln!(
            w,
            "Sync {}: {} pages, {} sales seen, {} new licenses, {} new products, {} sales waiting for review.",
            if summary.error.is_some() { "failed" } else { "finished" },
            summary.pages_fetched,
            summary.sales_seen,
            summary.licenses_created,
            summary.products_created,
            summary.sales_queued
        )
    })?;
    match summary.error {
        Some(e) => Err(e.into()),
        None => Ok(()),
    }
}
