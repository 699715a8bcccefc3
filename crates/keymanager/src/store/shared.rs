//! The store as async code shares it: one writer connection, reader threads, the change feed.

use super::Store;
use crate::error::{Error, ErrorCode, Result};
use serde::Serialize;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use ts_rs::TS;

/// A store shared by async code: no call runs on an async worker, but one kind. Writes go
/// through the one writer connection (`run`, on tokio's blocking pool); reads (pages, lookups,
/// exports) go to a few reader threads, each with its own read-only WAL connection (`read`), so
/// a long write never stalls them. The exception is `read_row`: a license found by its key or
/// purchase code, microseconds from the page cache, read on the worker itself with a connection
/// that never waits for a lock. A store with no file (tests) reads through the writer.
#[derive(Clone)]
pub struct SharedStore {
    writer: Arc<Mutex<Store>>,
    readers: Option<Arc<Readers>>,
    /// The folder holding the database file (and release packages); None in memory.
    data_dir: Option<Arc<std::path::PathBuf>>,
    /// The database file, for the connections `read_row` keeps on async workers.
    path: Option<Arc<std::path::PathBuf>>,
    /// This store's number in the process: a connection `read_row` kept for another store (even
    /// one opened later on the same path) is never used for this one.
    id: u64,
    /// The tables each release of the writer changed (`changes`).
    changed: tokio::sync::broadcast::Sender<Changed>,
}

/// The tables one or more commits changed, by name (`SharedStore::changes`).
pub type Changed = Arc<[String]>;

/// What the window is told after commits (`db-changed`): the tables that changed, or `all`
/// when the listener fell behind and everything should be read again.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize, TS)]
pub struct DbChanged {
    pub tables: Vec<String>,
    pub all: bool,
}

/// The next batch of changes a listener is told: waits for a commit, then gathers what else
/// commits within `gather` (a sync writes many pages a second; one refetch covers them). A
/// listener that fell behind is told `all`. None once the store is gone.
pub async fn next_change(
    rx: &mut tokio::sync::broadcast::Receiver<Changed>,
    gather: std::time::Duration,
) -> Option<DbChanged> {
    use tokio::sync::broadcast::error::{RecvError, TryRecvError};
    let mut tables = std::collections::BTreeSet::new();
    let mut all = false;
    match rx.recv().await {
        Ok(t) => tables.extend(t.iter().cloned()),
        Err(RecvError::Lagged(_)) => all = true,
        Err(RecvError::Closed) => return None,
    }
    tokio::time::sleep(gather).await;
    loop {
        match rx.try_recv() {
            Ok(t) => tables.extend(t.iter().cloned()),
            Err(TryRecvError::Lagged(_)) => all = true,
            Err(TryRecvError::Empty | TryRecvError::Closed) => break,
        }
    }
    Some(DbChanged { tables: tables.into_iter().collect(), all })
}

/// The writer, locked; when it is released, the tables its commits changed are told to
/// `SharedStore::changes`' listeners.
pub struct Writer<'a> {
    store: std::sync::MutexGuard<'a, Store>,
    changed: &'a tokio::sync::broadcast::Sender<Changed>,
}

impl std::ops::Deref for Writer<'_> {
    type Target = Store;
    fn deref(&self) -> &Store {
        &self.store
    }
}

impl std::ops::DerefMut for Writer<'_> {
    fn deref_mut(&mut self) -> &mut Store {
        &mut self.store
    }
}

impl Drop for Writer<'_> {
    fn drop(&mut self) {
        tell(&self.store, self.changed);
    }
}

/// Sends what `store`'s commits changed, if anything, to the listeners (none listening is fine).
fn tell(store: &Store, changed: &tokio::sync::broadcast::Sender<Changed>) {
    let tables = store.take_changes();
    if !tables.is_empty() {
        let _ = changed.send(tables.into());
    }
}

/// The numbers `SharedStore::new` gives.
static NEXT_STORE_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

thread_local! {
    /// `read_row`'s connection on this thread, and the store (`SharedStore::id`) it reads.
    static ROW_READER: std::cell::RefCell<Option<(u64, Store)>> =
        const { std::cell::RefCell::new(None) };
}

/// How many reads may run at once beside the writer (one reader thread and connection each):
/// one per core, from 2 to 4. More threads than cores only added context switches to the
/// licensing server's look-ups, which are served from memory.
pub fn readers() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get()).clamp(2, 4)
}

/// A read queued for a reader thread: it gets that thread's connection (or why it could not be
/// opened) and sends its own answer.
type ReadJob = Box<dyn FnOnce(Result<&Store>) + Send>;

/// The reader threads and their queue. Under load a thread takes queued reads one after another
/// without a wake-up or a hand-over to tokio's blocking pool for each, which is what a licensing
/// server answering thousands of validations a second needs. The threads end when the last
/// `SharedStore` clone (holding the queue's sender) is dropped.
struct Readers {
    jobs: crossbeam_channel::Sender<ReadJob>,
}

impl Readers {
    /// Starts the reader threads; each opens its connection on its first read (and again after
    /// a failed open). None if no thread could be started: reads then go through the writer.
    fn start(path: &std::path::Path) -> Option<Readers> {
        let (jobs, queue) = crossbeam_channel::unbounded::<ReadJob>();
        let mut started = 0;
        for i in 0..readers() {
            let (queue, path) = (queue.clone(), path.to_path_buf());
            let spawned = std::thread::Builder::new().name(format!("store-reader-{i}")).spawn(move || {
                let mut conn: Option<Store> = None;
                while let Ok(job) = queue.recv() {
                    let store = match conn.take() {
                        Some(s) => Ok(s),
                        None => Store::open_reader(&path),
                    };
                    match store {
                        Ok(s) => {
                            // A read that panics (a bug) fails its caller, not the thread.
                            let run = std::panic::AssertUnwindSafe(|| job(Ok(&s)));
                            let _ = std::panic::catch_unwind(run);
                            conn = Some(s);
                        }
                        Err(e) => job(Err(e)),
                    }
                }
            });
            match spawned {
                Ok(_) => started += 1,
                Err(e) => tracing::warn!(%e, "cannot start a store reader thread"),
            }
        }
        (started > 0).then_some(Readers { jobs })
    }

    /// Queues `f` and gives the channel its answer arrives on.
    fn queue<T, F>(&self, f: F) -> Result<tokio::sync::oneshot::Receiver<Result<T>>>
    where
        T: Send + 'static,
        F: FnOnce(&Store) -> Result<T> + Send + 'static,
    {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.jobs
            .send(Box::new(move |store: Result<&Store>| {
                let _ = tx.send(store.and_then(f));
            }))
            .map_err(|_| Error::internal("The store's readers have stopped."))?;
        Ok(rx)
    }
}

impl SharedStore {
    pub fn new(mut store: Store) -> SharedStore {
        // Without it, listeners are simply never told (the outbox worker still polls).
        if let Err(e) = store.track_changes() {
            tracing::warn!(code = %e.code, "changes are not told: {}", e.message);
        }
        // A sync commits hundreds of pages a second: it should not wait for the disk's flushes.
        if let Err(e) = store.checkpoint_in_background() {
            tracing::warn!(code = %e.code, "checkpoints stay in the writer: {}", e.message);
        }
        let readers = store.path().and_then(Readers::start).map(Arc::new);
        let data_dir = store.path().and_then(|p| p.parent()).map(|d| Arc::new(d.to_path_buf()));
        let path = store.path().map(|p| Arc::new(p.to_path_buf()));
        let id = NEXT_STORE_ID.fetch_add(1, Ordering::Relaxed);
        let (changed, _) = tokio::sync::broadcast::channel(256);
        SharedStore { writer: Arc::new(Mutex::new(store)), readers, data_dir, path, id, changed }
    }

    /// The data folder (release packages live in it); None for a store in memory.
    pub fn data_dir(&self) -> Option<&std::path::Path> {
        self.data_dir.as_deref().map(|p| p.as_path())
    }

    /// Runs `f` with the writer connection, on the blocking pool.
    pub async fn run<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Store) -> Result<T> + Send + 'static,
    {
        let (store, changed) = (self.writer.clone(), self.changed.clone());
        tokio::task::spawn_blocking(move || {
            let mut store = store.lock().unwrap_or_else(|p| p.into_inner());
            let out = f(&mut store);
            tell(&store, &changed);
            out
        })
        .await
        .map_err(|e| Error::internal(format!("A background task failed: {e}.")))?
    }

    /// The tables the writer's commits change, as they are committed (every write through
    /// `run` or `lock` is told once the writer is released). A listener that falls behind by
    /// more than 256 releases is told `Lagged`: it should refresh everything it follows.
    pub fn changes(&self) -> tokio::sync::broadcast::Receiver<Changed> {
        self.changed.subscribe()
    }

    /// Runs `f` with a read-only connection, on a reader thread.
    pub async fn read<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Store) -> Result<T> + Send + 'static,
    {
        match &self.readers {
            Some(readers) => readers
                .queue(f)?
                .await
                .map_err(|_| Error::internal("A read of the store failed before it answered."))?,
            None => {
                let store = self.writer.clone();
                tokio::task::spawn_blocking(move || f(&store.lock().unwrap_or_else(|p| p.into_inner())))
                    .await
                    .map_err(|e| Error::internal(format!("A background task failed: {e}.")))?
            }
        }
    }

    /// Runs `f`, a read of a row or two by a unique index (a license by its key), on the calling
    /// async worker with a read-only connection kept on that thread: the one exception to "no
    /// call runs on an async worker", for reads that take microseconds from the page cache, where
    /// the hand-over to a reader thread and back cost more than the read. The connection never
    /// waits on a lock (WAL readers do not block; a busy database sends the read to the reader
    /// threads instead).
    pub async fn read_row<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: Fn(&Store) -> Result<T> + Send + 'static,
    {
        let Some(path) = self.path.clone() else { return self.read(f).await };
        let here = ROW_READER.with(|cell| {
            let mut slot = cell.try_borrow_mut().ok()?;
            if slot.as_ref().is_none_or(|(id, _)| *id != self.id) {
                *slot = None;
                let store = Store::open_row_reader(&path).ok()?;
                *slot = Some((self.id, store));
            }
            let (_, store) = slot.as_ref()?;
            match f(store) {
                Err(e) if e.code == ErrorCode::StoreBusy => None,
                done => Some(done),
            }
        });
        match here {
            Some(done) => done,
            None => self.read(f).await,
        }
    }

    /// Direct access to the writer for synchronous callers (tests, the CLI outside async code).
    pub fn lock(&self) -> Writer<'_> {
        Writer { store: self.writer.lock().unwrap_or_else(|p| p.into_inner()), changed: &self.changed }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `read_row` reads on the calling thread and sees every commit made before it (each read is
    /// its own snapshot: the kept connection holds no transaction open between reads).
    #[tokio::test(flavor = "current_thread")]
    async fn row_reads_see_each_commit_and_work_in_memory() {
        let dir = tempfile::tempdir().unwrap();
        let shared = SharedStore::new(Store::open_in_dir(dir.path()).unwrap());
        let now = crate::time::now();
        let name = |s: &Store| Ok(s.settings()?.store_name);
        for n in ["First", "Second", "Third"] {
            shared.lock().update_settings(&[("store_name".into(), n.into())], now).unwrap();
            assert_eq!(shared.read_row(name).await.unwrap(), n);
        }
        // Another database on the same thread: the kept connection follows the store.
        let other = tempfile::tempdir().unwrap();
        let second = SharedStore::new(Store::open_in_dir(other.path()).unwrap());
        second.lock().update_settings(&[("store_name".into(), "Other".into())], now).unwrap();
        assert_eq!(second.read_row(name).await.unwrap(), "Other");
        assert_eq!(shared.read_row(name).await.unwrap(), "Third");
        assert_eq!(second.read_row(name).await.unwrap(), "Other");
        // Another store opened later on the same file reads through its own connection.
        let again = SharedStore::new(Store::open_in_dir(dir.path()).unwrap());
        assert_ne!(again.id, shared.id);
        assert_eq!(again.read_row(name).await.unwrap(), "Third");
        // A store in memory reads through the writer.
        let memory = SharedStore::new(Store::open_in_memory().unwrap());
        memory.lock().update_settings(&[("store_name".into(), "Memory".into())], now).unwrap();
        assert_eq!(memory.read_row(name).await.unwrap(), "Memory");
    }
}
