//! The sync's own tables: `sync_runs` (the Sync log) and `sync_state` (watermark, pause, 401
//! stop). `apply_sync_page` commits one page's plan (`sales::apply_ops`) and counts it on the run.

use super::audit::{insert_audit, AuditEntry, AuditLevel};
use super::outbox::emit;
use super::sales::{apply_ops, PageCounts};
use super::Store;
use crate::error::{Error, ErrorCode, Result};
use crate::events::{self, EventType};
use crate::plan::PagePlan;
use crate::time::{to_db, Timestamp};
use rusqlite::{params, OptionalExtension};
use serde::Serialize;
use ts_rs::TS;

crate::text_enum! {
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS, serde::Deserialize)]
    pub enum SyncTrigger {
        Scheduled = "scheduled",
        Manual = "manual",
        First = "first",
    }
}

crate::text_enum! {
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS, serde::Deserialize)]
    pub enum SyncRunStatus {
        Running = "running",
        Succeeded = "succeeded",
        Failed = "failed",
        Interrupted = "interrupted",
    }
}

/// One row of the Sync log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS, serde::Deserialize)]
pub struct SyncRun {
    #[ts(type = "number")]
    pub id: i64,
    pub trigger: SyncTrigger,
    pub status: SyncRunStatus,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub pages_fetched: u32,
    pub sales_seen: u32,
    pub licenses_created: u32,
    pub products_created: u32,
    pub sales_queued: u32,
    pub error: Option<Error>,
    /// Warnings logged during the run (skipped sales, …).
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SyncState {
    pub watermark: Option<Timestamp>,
    pub last_success_at: Option<Timestamp>,
    pub paused: bool,
    /// The last run failed with 401: periodic syncing waits until the token is fixed.
    pub auth_failed: bool,
}

impl Store {
    pub fn sync_state(&self) -> Result<SyncState> {
        Ok(self
            .conn
            .prepare_cached("SELECT watermark, last_success_at, paused, auth_failed FROM sync_state WHERE id = 1")?
            .query_row([], |r| {
                Ok(SyncState {
                    watermark: super::stored_time_opt(r, 0)?,
                    last_success_at: super::stored_time_opt(r, 1)?,
                    paused: r.get(2)?,
                    auth_failed: r.get(3)?,
                })
            })
            .optional()?
            .unwrap_or_default())
    }

    pub fn set_sync_paused(&mut self, paused: bool, now: Timestamp) -> Result<()> {
        self.write(|tx| {
            tx.execute("UPDATE sync_state SET paused = ?1 WHERE id = 1", [paused])?;
            let msg = if paused { "Syncing paused." } else { "Syncing resumed." };
            insert_audit(tx, &AuditEntry::new(now, AuditLevel::Info, "sync.paused", msg))?;
            Ok(())
        })
    }

    /// Cleared when a token is saved: periodic syncing may go on.
    pub fn clear_sync_auth_failure(&mut self) -> Result<()> {
        self.conn.execute("UPDATE sync_state SET auth_failed = 0 WHERE id = 1", [])?;
        Ok(())
    }

    /// Opens a run. Runs left `running` by a process that died are marked interrupted first.
    pub fn begin_sync_run(&mut self, trigger: SyncTrigger, now: Timestamp) -> Result<i64> {
        self.write(|tx| {
            tx.execute(
                "UPDATE sync_runs SET status = 'interrupted', finished_at = coalesce(finished_at, ?1) WHERE status = 'running'",
                [to_db(now)],
            )?;
            tx.execute(
                "INSERT INTO sync_runs (trigger, status, started_at) VALUES (?1, 'running', ?2)",
                params![trigger.as_str(), to_db(now)],
            )?;
            Ok(tx.last_insert_rowid())
        })
    }

    /// Closes a run the seller cancelled: interrupted, the watermark left where it was (the next
    /// run completes it); what its pages committed stays.
    pub fn cancel_sync_run(&mut self, run_id: i64, now: Timestamp) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "UPDATE sync_runs SET status = 'interrupted', finished_at = ?2,
                        error_message = 'Cancelled; the next sync completes it.' WHERE id = ?1",
                params![run_id, to_db(now)],
            )?;
            insert_audit(
                tx,
                &AuditEntry::new(
                    now,
                    AuditLevel::Info,
                    "sync.cancelled",
                    "Sync cancelled; the next sync completes it.",
                )
                .run(Some(run_id)),
            )?;
            Ok(())
        })
    }

    /// Closes a run. Success moves the watermark (so the next run stops where this one began);
    /// a failure leaves it, so nothing this run missed is skipped next time.
    pub fn finish_sync_run(
        &mut self,
        run_id: i64,
        outcome: std::result::Result<Option<Timestamp>, &Error>,
        now: Timestamp,
    ) -> Result<()> {
        self.write(|tx| {
            match outcome {
                Ok(newest) => {
                    tx.execute(
                        "UPDATE sync_runs SET status = 'succeeded', finished_at = ?2 WHERE id = ?1",
                        params![run_id, to_db(now)],
                    )?;
                    tx.execute(
                        "UPDATE sync_state SET last_success_at = ?1, auth_failed = 0,
                                watermark = CASE WHEN ?2 IS NULL THEN watermark
                                                 WHEN watermark IS NULL OR ?2 > watermark THEN ?2 ELSE watermark END
                         WHERE id = 1",
                        params![to_db(now), newest.map(to_db)],
                    )?;
                }
                Err(e) => {
                    tx.execute(
                        "UPDATE sync_runs SET status = 'failed', finished_at = ?2, error_code = ?3, error_message = ?4 WHERE id = ?1",
                        params![run_id, to_db(now), e.code.as_str(), e.message],
                    )?;
                    if e.code == ErrorCode::EnvatoUnauthorized {
                        tx.execute("UPDATE sync_state SET auth_failed = 1 WHERE id = 1", [])?;
                    }
                    insert_audit(
                        tx,
                        &AuditEntry::new(now, AuditLevel::Error, "sync.failed", format!("[{}] {}", e.code, e.message)).run(Some(run_id)),
                    )?;
                    emit(tx, now, EventType::SyncFailed, None, None, |_| {
                        Ok(events::sync_failed_data(e.code.as_str(), &e.message))
                    })?;
                }
            }
            Ok(())
        })
    }

    /// Counts a fetched page on the run (also for pages with nothing new).
    pub fn record_sync_page(&mut self, run_id: i64, seen: u32) -> Result<()> {
        self.conn.execute(
            "UPDATE sync_runs SET pages_fetched = pages_fetched + 1, sales_seen = sales_seen + ?2 WHERE id = ?1",
            params![run_id, seen],
        )?;
        Ok(())
    }

    /// Commits one page's plan in one transaction, and counts it on the run.
    pub fn apply_sync_page(&mut self, run_id: i64, plan: &PagePlan, now: Timestamp) -> Result<PageCounts> {
        let settings = self.settings()?;
        self.write(|tx| {
            let counts = apply_ops(
                tx,
                Some(run_id),
                plan,
                settings.default_activation_limit,
                settings.default_license_type.as_str(),
                now,
            )?;
            tx.prepare_cached(
                "UPDATE sync_runs SET pages_fetched = pages_fetched + 1, sales_seen = sales_seen + ?2,
                        licenses_created = licenses_created + ?3, products_created = products_created + ?4,
                        sales_skipped = sales_skipped + ?5
                 WHERE id = ?1",
            )?
            .execute(params![
                run_id,
                plan.seen,
                counts.licenses_created,
                counts.products_created,
                counts.sales_queued
            ])?;
            Ok(counts)
        })
    }

    /// The newest `limit` runs, newest first, with their warnings.
    pub fn sync_runs(&self, limit: u32) -> Result<Vec<SyncRun>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, trigger, status, started_at, finished_at, pages_fetched, sales_seen, licenses_created, products_created,
                    sales_skipped, error_code, error_message
             FROM sync_runs ORDER BY id DESC LIMIT ?1",
        )?;
        let mut runs: Vec<SyncRun> = stmt
            .query_map([limit], |r| {
                let code: Option<String> = r.get(10)?;
                let message: Option<String> = r.get(11)?;
                Ok(SyncRun {
                    id: r.get(0)?,
                    trigger: r.get(1)?,
                    status: r.get(2)?,
                    started_at: r.get(3)?,
                    finished_at: r.get(4)?,
                    pages_fetched: r.get(5)?,
                    sales_seen: r.get(6)?,
                    licenses_created: r.get(7)?,
                    products_created: r.get(8)?,
                    sales_queued: r.get(9)?,
                    error: code.map(|c| Error::new(ErrorCode::from_stored(&c), message.unwrap_or_default())),
                    warnings: Vec::new(),
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        let mut warnings = self.conn.prepare_cached(
            "SELECT message FROM audit_log WHERE sync_run_id = ?1 AND level = 'warning' ORDER BY id LIMIT 50",
        )?;
        for run in &mut runs {
            run.warnings = warnings.query_map([run.id], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
        }
        Ok(runs)
    }
}
