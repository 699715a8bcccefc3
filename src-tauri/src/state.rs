//! The values Tauri manages for the commands: the store (opened once at setup) and the data
//! folder. A store that fails to open (say, a database from a newer KeyManager) does not crash
//! the app: every command answers with the open error, and the UI shows it.

use keymanager::{paths, Error, Store};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

pub struct AppState {
    store: Result<Arc<Mutex<Store>>, Error>,
    pub data_dir: Option<PathBuf>,
}

impl AppState {
    pub fn open() -> AppState {
        let dir = paths::data_dir(std::env::var_os(paths::DATA_DIR_ENV).map(PathBuf::from));
        let store = dir
            .clone()
            .and_then(|d| Store::open_in_dir(&d))
            .map(|s| Arc::new(Mutex::new(s)));
        if let Err(err) = &store {
            tracing::error!(code = %err.code, message = %err.message, "cannot open the database");
        }
        AppState {
            store,
            data_dir: dir.ok(),
        }
    }

    /// Runs `f` with the store on a blocking thread: rusqlite never runs on the async runtime.
    pub async fn with_store<T, F>(&self, f: F) -> Result<T, Error>
    where
        T: Send + 'static,
        F: FnOnce(&mut Store) -> Result<T, Error> + Send + 'static,
    {
        let store = self.store.clone()?;
        tauri::async_runtime::spawn_blocking(move || {
            let mut guard = store
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            f(&mut guard)
        })
        .await
        .map_err(|e| Error::internal(format!("A background task failed: {e}.")))?
    }
}
