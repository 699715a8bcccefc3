//! The refund watch (the seed: "refunds aren't auto-synced"): re-checks the purchase codes of one
//! product's licenses, or all, with Envato, at the client's own pace (it keeps within Envato's
//! limits and backs off on 429). A code Envato no longer recognises flags its license for the
//! seller's review; nothing is ever suspended or revoked here. It can be cancelled between codes.

use crate::envato::{EnvatoClient, PurchaseCode};
use crate::error::Result;
use crate::sync::SharedStore;
use crate::time::Timestamp;
use serde::Serialize;
use std::sync::atomic::{AtomicBool, Ordering};
use ts_rs::TS;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, TS)]
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
