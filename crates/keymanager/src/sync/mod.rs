//! The sync of Envato sales into licenses: for each page of `/author/sales`, newest first,
//! `plan::plan_page` decides (pure) and `Store::apply_sync_page` commits (one transaction).
//! A run stops at the first sale a completed sync already recorded, or, on the first sync, at
//! the history window. Only a completed run moves the watermark, so a run that dies half-way
//! is finished by the next one: never a duplicate (keys are UNIQUE), never a lost sale.

pub mod worker;

use crate::envato::EnvatoClient;
use crate::error::{Error, ErrorCode, Result};
use crate::plan;
use crate::store::{PageCounts, SharedStore, SyncRunStatus, SyncTrigger};
use crate::time::Timestamp;
use serde::Serialize;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use ts_rs::TS;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncPhase {
    Fetching,
    Applying,
    Finished,
    Failed,
}

/// Sent after every page: drives the progress bar and the tray tooltip.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS, serde::Deserialize)]
pub struct SyncProgress {
    #[ts(type = "number")]
    pub run_id: i64,
    pub phase: SyncPhase,
    pub pages_fetched: u32,
    pub sales_seen: u32,
    pub licenses_created: u32,
    pub products_created: u32,
    pub sales_queued: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS, serde::Deserialize)]
pub struct SyncSummary {
    #[ts(type = "number")]
    pub run_id: i64,
    pub status: SyncRunStatus,
    pub pages_fetched: u32,
    pub sales_seen: u32,
    pub licenses_created: u32,
    pub products_created: u32,
    pub sales_queued: u32,
    pub codes_attached: u32,
    pub finished_at: String,
    pub error: Option<Error>,
    /// Time spent waiting for Envato and writing the database (benchmarks).
    #[serde(skip)]
    #[ts(skip)]
    pub fetch_time: Duration,
    #[serde(skip)]
    #[ts(skip)]
    pub apply_time: Duration,
}

/// The most pages one run fetches: 500,000 sales, beyond any seller's year of history. A list
/// that goes on past it (a misbehaving server, a paging bug) stops the run with an error rather
/// than running forever; the watermark does not move, so no sale is skipped.
pub const MAX_PAGES: u32 = 5_000;

/// How one sync runs: why, how many pages at most, and the flag that cancels it.
#[derive(Clone, Copy)]
pub struct SyncOptions<'a> {
    pub trigger: SyncTrigger,
    /// `MAX_PAGES` unless a test wants fewer.
    pub max_pages: u32,
    /// When set, the run stops after the page being applied (its transaction commits whole),
    /// without moving the watermark, so the next run completes it; it is logged as interrupted,
    /// not failed.
    pub cancel: Option<&'a AtomicBool>,
}

impl From<SyncTrigger> for SyncOptions<'_> {
    fn from(trigger: SyncTrigger) -> Self {
        SyncOptions { trigger, max_pages: MAX_PAGES, cancel: None }
    }
}

/// Runs one sync (`options`: a `SyncTrigger` alone, or `SyncOptions`). `now` is called for
/// timestamps (tests pass a fixed clock). The run is recorded in the Sync log whatever happens;
/// a failure is returned as the summary's `error`.
pub async fn run_sync<'a>(
    store: &SharedStore,
    client: &EnvatoClient,
    options: impl Into<SyncOptions<'a>>,
    now: &(dyn Fn() -> Timestamp + Send + Sync),
    on_progress: &mut (dyn FnMut(&SyncProgress) + Send),
) -> Result<SyncSummary> {
    let SyncOptions { trigger, max_pages, cancel } = options.into();
    let not_cancelled = AtomicBool::new(false);
    let cancel = cancel.unwrap_or(&not_cancelled);
    let start = now();
    let (settings, state) = store.read(|s| Ok((s.settings()?, s.sync_state()?))).await?;
    let trigger =
        if state.watermark.is_none() && trigger == SyncTrigger::Scheduled { SyncTrigger::First } else { trigger };
    let run_id = store.run(move |s| s.begin_sync_run(trigger, start)).await?;
    let ctx = plan::PlanContext {
        run_id,
        auto_create: settings.auto_create_products,
        history_cutoff: start - chrono::Duration::days(settings.history_days as i64),
        watermark: state.watermark,
    };
    let mut memory = plan::RunMemory::default();
    let mut progress = SyncProgress {
        run_id,
        phase: SyncPhase::Fetching,
        pages_fetched: 0,
        sales_seen: 0,
        licenses_created: 0,
        products_created: 0,
        sales_queued: 0,
    };
    let mut total = PageCounts::default();
    let mut newest: Option<Timestamp> = None;
    let (mut fetch_time, mut apply_time) = (Duration::ZERO, Duration::ZERO);
    on_progress(&progress);

    let mut cancelled = false;
    let outcome: Result<()> = async {
        for page_no in 1u32.. {
            if cancel.load(Ordering::SeqCst) {
                cancelled = true;
                break;
            }
            if page_no > max_pages {
                tracing::error!(run_id, max_pages, "the sales list did not end: stopping the sync");
                return Err(Error::new(
                    ErrorCode::EnvatoBadResponse,
                    format!(
                        "Envato's sales list went on past {max_pages} pages, far beyond any history; the sync stopped \
                         there. Nothing was lost: the next sync starts again from the last completed one."
                    ),
                ));
            }
            let t = Instant::now();
            let page = client.sales_page(page_no).await?;
            fetch_time += t.elapsed();
            if page.is_empty() {
                break;
            }
            newest = newest.max(page.iter().map(|s| s.sold_at).max());
            let records = loop {
                match plan::keyed(&page, &mut memory) {
                    plan::Keyed::Records(r) => break r,
                    // Repeat or more of the same? Look at the previous page again.
                    plan::Keyed::CheckPreviousPage => {
                        let t = Instant::now();
                        let previous = client.sales_page(page_no - 1).await?;
                        fetch_time += t.elapsed();
                        memory.measure_shift(&previous);
                    }
                }
            };
            progress.phase = SyncPhase::Applying;
            let t = Instant::now();
            let ctx_ref = plan::PlanContext { ..ctx };
            let at = now();
            let (plan, counts) = store
                .run(move |s| {
                    let known = s.known_sales(&records)?;
                    let products = s.product_index()?;
                    let plan = plan::plan_page(&records, &known, &products, &ctx_ref);
                    let counts = s.apply_sync_page(run_id, &plan, at)?;
                    Ok((plan, counts))
                })
                .await?;
            apply_time += t.elapsed();
            total.licenses_created += counts.licenses_created;
            total.products_created += counts.products_created;
            total.sales_queued += counts.sales_queued;
            total.codes_attached += counts.codes_attached;
            progress.pages_fetched += 1;
            progress.sales_seen += plan.seen;
            progress.licenses_created = total.licenses_created;
            progress.products_created = total.products_created;
            progress.sales_queued = total.sales_queued;
            progress.phase = SyncPhase::Fetching;
            on_progress(&progress);
            if plan.stop.is_some() {
                break;
            }
        }
        Ok(())
    }
    .await;

    let end = now();
    let error = outcome.err();
    let recorded = error.clone();
    if cancelled && error.is_none() {
        store.run(move |s| s.cancel_sync_run(run_id, end)).await?;
    } else {
        store.run(move |s| s.finish_sync_run(run_id, recorded.as_ref().map_or(Ok(newest), Err), end)).await?;
    }
    progress.phase = if error.is_some() { SyncPhase::Failed } else { SyncPhase::Finished };
    on_progress(&progress);
    if let Some(e) = &error {
        tracing::warn!(code = %e.code, run_id, "sync failed");
    }
    Ok(SyncSummary {
        run_id,
        status: if error.is_some() {
            SyncRunStatus::Failed
        } else if cancelled {
            SyncRunStatus::Interrupted
        } else {
            SyncRunStatus::Succeeded
        },
        pages_fetched: progress.pages_fetched,
        sales_seen: progress.sales_seen,
        licenses_created: total.licenses_created,
        products_created: total.products_created,
        sales_queued: total.sales_queued,
        codes_attached: total.codes_attached,
        finished_at: crate::time::to_db(end),
        error,
        fetch_time,
        apply_time,
    })
}
