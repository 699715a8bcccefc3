//! WAL checkpoints on a thread of their own, for a long-lived writer (the app, `serve`, a sync).
//!
//! By default SQLite checkpoints inside the commit that takes the write-ahead log past 1,000
//! pages: that commit copies the log into the database and waits for two flushes to disk
//! (`synchronous = NORMAL` syncs at checkpoints only). A first sync commits hundreds of pages a
//! second, so it waited for the disk dozens of times, for seconds in all, and longer when the
//! disk was busy; every byte more it wrote (the outbox's messages) meant more of those waits.
//!
//! Here the writer's commits only note how far the log has grown; a checkpointer thread with its
//! own connection runs PASSIVE checkpoints (they never block the writer or readers) once 1,000
//! pages are waiting. SQLite starts the log over from its beginning only when a write begins
//! with every page of it copied, which a thread copying beside a busy writer rarely sees; so
//! when the log reaches `LOG_LIMIT` pages the writer checkpoints itself once, as SQLite would
//! (by then the thread has copied nearly all of it), and the log starts over. The log stays
//! bounded whatever the disk does. Durability is unchanged: a commit is in the log either way,
//! and the log is flushed before it is copied.

use crate::error::Result;
use rusqlite::wal::CheckpointMode;
use rusqlite::{Connection, OpenFlags};
use std::path::Path;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, TrySendError};
use std::sync::Arc;

/// Pages waiting in the log before the checkpointer is asked to copy them (SQLite's own
/// auto-checkpoint threshold).
pub const CHECKPOINT_AFTER: i64 = 1_000;
/// The log's length (in pages, 4 KiB each) at which the writer checkpoints itself, so that the
/// log starts over: 32 MiB.
pub const LOG_LIMIT: i64 = 8 * CHECKPOINT_AFTER;

/// Where the log stood at the last checkpoint (frames copied into the database), and how many
/// checkpoints the thread and the writer ran.
pub(super) struct Progress {
    copied: AtomicI64,
    by_thread: AtomicU64,
    by_writer: AtomicU64,
}

impl Progress {
    pub(super) fn counts(&self) -> (u64, u64) {
        (self.by_thread.load(Ordering::Relaxed), self.by_writer.load(Ordering::Relaxed))
    }

    /// Pages committed to the log and not yet copied, given the log's length after a commit.
    /// A log shorter than what was copied has been restarted from its beginning.
    fn waiting(&self, pages: i64) -> i64 {
        let copied = self.copied.load(Ordering::Relaxed);
        if pages < copied {
            self.copied.store(0, Ordering::Relaxed);
            pages
        } else {
            pages - copied
        }
    }
}

/// Hands the checkpoints of `conn` (the writer of the database at `path`) to a new thread. The
/// thread ends when `conn` is closed (the hook holds the only sender of its wake-ups). Fails
/// only if the thread cannot be started or the hook set, leaving SQLite's own checkpoints in
/// place.
pub(super) fn in_background(conn: &mut Connection, path: &Path) -> Result<Arc<Progress>> {
    let (wake, woken) = sync_channel::<()>(1);
    let progress =
        Arc::new(Progress { copied: AtomicI64::new(0), by_thread: AtomicU64::new(0), by_writer: AtomicU64::new(0) });
    let (seen, shown) = (progress.clone(), progress.clone());
    let path = path.to_path_buf();
    std::thread::Builder::new()
        .name("store-checkpt".into())
        .spawn(move || {
            let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
            // A connection checkpoints only once it has opened the log, which its first read does.
            let opened = Connection::open_with_flags(&path, flags).and_then(|c| {
                let mode: String = c.query_row("PRAGMA journal_mode", [], |r| r.get(0))?;
                Ok((c, mode))
            });
            let conn = match opened {
                Ok((c, mode)) if mode.eq_ignore_ascii_case("wal") => c,
                Ok((_, mode)) => {
                    tracing::warn!(mode, "the database is not in WAL mode; the writer checkpoints");
                    return;
                }
                Err(e) => {
                    tracing::warn!(%e, "cannot open the database to checkpoint it; the writer will");
                    return;
                }
            };
            // Coalesced wake-ups: one pass copies everything committed so far.
            while woken.recv().is_ok() {
                match conn.wal_checkpoint_v2(None::<&str>, CheckpointMode::PASSIVE) {
                    Ok((_, copied)) if copied >= 0 => {
                        seen.copied.store(copied as i64, Ordering::Relaxed);
                        seen.by_thread.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok(_) => {}
                    // Another process checkpointing at the same moment: the next wake-up retries.
                    Err(e) => tracing::debug!(%e, "checkpoint skipped"),
                }
            }
        })
        .map_err(|e| crate::Error::internal(format!("Cannot start the checkpoint thread: {e}.")))?;
    conn.wal_hook(Some(move |wal: &mut rusqlite::hooks::Wal, pages: std::ffi::c_int| {
        let waiting = progress.waiting(pages as i64);
        // At the limit, or when the thread is gone (it could not open the database): do what
        // SQLite would have done.
        let step_in = pages as i64 >= LOG_LIMIT
            || (waiting >= CHECKPOINT_AFTER && matches!(wake.try_send(()), Err(TrySendError::Disconnected(()))));
        if step_in {
            // The commit has happened whatever this does: an error here must not report it as
            // failed. BUSY means the thread (or another process) is checkpointing right now;
            // the next commit tries again.
            match wal.checkpoint_v2(CheckpointMode::PASSIVE) {
                Ok((_, copied)) => {
                    progress.copied.store(copied.max(0) as i64, Ordering::Relaxed);
                    progress.by_writer.fetch_add(1, Ordering::Relaxed);
                }
                Err(e) => tracing::debug!(%e, "checkpoint at the log's limit skipped"),
            }
        }
        Ok(())
    }))?;
    Ok(shown)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_waiting_count_from_the_last_copy_and_from_a_restarted_log() {
        let p = Progress { copied: AtomicI64::new(0), by_thread: AtomicU64::new(0), by_writer: AtomicU64::new(0) };
        assert_eq!(p.waiting(1_200), 1_200);
        p.copied.store(1_200, Ordering::Relaxed);
        assert_eq!(p.waiting(1_450), 250, "only what came after the copy");
        assert_eq!(p.waiting(40), 40, "a log shorter than the copy was restarted");
        assert_eq!(p.waiting(1_300), 1_300, "and counts from its start from then on");
    }
}
