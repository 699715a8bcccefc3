//! The refund watch (the seed: "refunds aren't auto-synced"): re-checks the purchase codes of one
//! product's licenses, or all, with Envato, at the client's own pace (it keeps within Envato's
//! limits and backs off on 429). A code Envato no longer recognises flags its license for the
//! seller's review; nothing is ever suspended or revoked here. It can be cancelled between codes.

use crate::envato::{EnvatoClient, PurchaseCode};
use crate::error::Result;
use crate::store::SharedStore;
use crate::time::Clock;
use crate::time::Timestamp;
use serde::Serialize;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tokio::sync::watch;
use ts_rs::TS;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, TS, serde::Deserialize)]
pub struct RecheckProgress {
    #[ts(type = "number")]
    pub total: u64,
    #[ts(type = "number")]
    pub checked: u64,
    /// Codes Envato no longer recognises (their licenses are flagged).
    #[ts(type = "number")]
    pub not_recognised: u64,
    /// Codes that could not be checked (a network failure): left as they were.
    #[ts(type = "number")]
    pub failed: u64,
    pub running: bool,
    pub cancelled: bool,
    /// The last failure's message, if any.
    pub last_error: Option<String>,
}

/// Re-checks every code in scope; `on_progress` after each. Stops early when `cancel` is set.
pub async fn recheck(
    store: &SharedStore,
    client: &EnvatoClient,
    product_id: Option<i64>,
    now: &(dyn Fn() -> Timestamp + Send + Sync),
    cancel: &AtomicBool,
    on_progress: &mut (dyn FnMut(&RecheckProgress) + Send),
) -> Result<RecheckProgress> {
    let mut p = RecheckProgress { running: true, ..Default::default() };
    let mut after = 0i64;
    'pages: loop {
        let (page, total) = store.read(move |s| s.codes_to_recheck(product_id, after, 200)).await?;
        p.total = total.max(p.checked);
        if page.is_empty() {
            break;
        }
        for (id, code) in page {
            after = id;
            if cancel.load(Ordering::SeqCst) {
                p.cancelled = true;
                break 'pages;
            }
            let Ok(code) = PurchaseCode::parse(&code) else { continue };
            match crate::lookup::reverify(store, client, id, &code, now()).await {
                Ok(true) => {}
                Ok(false) => p.not_recognised += 1,
                Err(e) => {
                    p.failed += 1;
                    p.last_error = Some(e.message);
                }
            }
            p.checked += 1;
            on_progress(&p);
        }
    }
    p.running = false;
    on_progress(&p);
    Ok(p)
}

/// The refund watch as a job of the process: one run at a time, its progress published (the
/// window follows it without asking), cancellable between codes.
#[derive(Clone)]
pub struct RefundWatch {
    store: SharedStore,
    clock: Clock,
    progress: Arc<watch::Sender<RecheckProgress>>,
    cancel: Arc<AtomicBool>,
}

impl RefundWatch {
    pub fn new(store: SharedStore, clock: Clock) -> RefundWatch {
        let (progress, _) = watch::channel(RecheckProgress::default());
        RefundWatch { store, clock, progress: Arc::new(progress), cancel: Arc::default() }
    }

    /// The run in progress, or the last one's result.
    pub fn progress(&self) -> RecheckProgress {
        self.progress.borrow().clone()
    }

    /// Every change of the progress.
    pub fn subscribe(&self) -> watch::Receiver<RecheckProgress> {
        self.progress.subscribe()
    }

    /// Claims the job: false when a run is already going.
    fn claim(&self) -> bool {
        let claimed = self.progress.send_if_modified(|p| {
            if p.running {
                return false;
            }
            *p = RecheckProgress { running: true, ..Default::default() };
            true
        });
        if claimed {
            self.cancel.store(false, Ordering::SeqCst);
        }
        claimed
    }

    /// Runs the watch here (the CLI), publishing progress; a run already going is joined.
    pub async fn run(&self, client: EnvatoClient, product_id: Option<i64>) -> Result<RecheckProgress> {
        if !self.claim() {
            let mut rx = self.subscribe();
            let _ = rx.wait_for(|p| !p.running).await;
            return Ok(self.progress());
        }
        self.run_claimed(client, product_id).await
    }

    async fn run_claimed(&self, client: EnvatoClient, product_id: Option<i64>) -> Result<RecheckProgress> {
        let tx = self.progress.clone();
        let clock = self.clock.clone();
        let now = move || clock();
        let result = recheck(&self.store, &client, product_id, &now, &self.cancel, &mut |p| {
            tx.send_replace(p.clone());
        })
        .await;
        self.progress.send_modify(|p| {
            p.running = false;
            if let Err(e) = &result {
                p.last_error = Some(e.message.clone());
            }
        });
        result
    }

    /// Starts a run in the background (the app); the progress as it is now. One at a time: with
    /// a run going, that run's progress.
    pub fn start(&self, client: EnvatoClient, product_id: Option<i64>) -> RecheckProgress {
        if self.claim() {
            let job = self.clone();
            tokio::spawn(async move {
                let _ = job.run_claimed(client, product_id).await;
            });
        }
        self.progress()
    }

    /// Stops the run after the code being checked.
    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::SeqCst);
    }
}
