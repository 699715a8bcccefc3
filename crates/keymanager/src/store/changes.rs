//! Which tables the writer's commits changed, for whoever follows the data (the outbox worker,
//! the window's `db-changed`): SQLite's update hook notes each table a statement writes and its
//! rollback hook forgets what a rolled-back transaction wrote; `SharedStore` takes the tables
//! once the writer is released, after the commit, and hands them on.

use super::Store;
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

/// Tables written since they were last taken.
#[derive(Default, Clone)]
pub(super) struct Pending(Arc<Mutex<BTreeSet<String>>>);

impl Pending {
    fn set(&self) -> std::sync::MutexGuard<'_, BTreeSet<String>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn note(&self, table: &str) {
        let mut set = self.set();
        if !set.contains(table) {
            set.insert(table.to_string());
        }
    }
}

impl Store {
    /// From now on, notes the tables each write changes (`take_changes`). The writer of a
    /// `SharedStore` does; readers never write.
    pub fn track_changes(&mut self) -> crate::Result<()> {
        let pending = Pending::default();
        let (noted, forgotten) = (pending.clone(), pending.clone());
        self.conn
            .update_hook(Some(move |_: rusqlite::hooks::Action, _: &str, table: &str, _: i64| noted.note(table)))?;
        self.conn.rollback_hook(Some(move || forgotten.set().clear()))?;
        self.changes = Some(pending);
        Ok(())
    }

    /// The tables written since the last call, by name (empty when nothing was, or when changes
    /// are not tracked). Call it outside a transaction: what a transaction still open wrote is
    /// not committed yet.
    pub fn take_changes(&self) -> Vec<String> {
        match &self.changes {
            Some(p) => std::mem::take(&mut *p.set()).into_iter().collect(),
            None => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::NewProduct;

    #[test]
    fn commits_are_told_by_table_and_rollbacks_are_not() {
        let mut store = Store::open_in_memory().unwrap();
        assert!(store.take_changes().is_empty(), "not tracked: nothing");
        store.track_changes().unwrap();
        let now = crate::time::now();
        store.create_product(&NewProduct { name: "Theme".into(), ..Default::default() }, now).unwrap();
        let tables = store.take_changes();
        assert!(tables.contains(&"products".to_string()), "{tables:?}");
        assert!(store.take_changes().is_empty(), "taken once");
        // A transaction rolled back after its writes leaves nothing to tell.
        store.conn.execute_batch("BEGIN; UPDATE products SET name = 'Other'; ROLLBACK;").unwrap();
        assert!(store.take_changes().is_empty());
        store.update_settings(&[("store_name".into(), "Shop".into())], now).unwrap();
        assert!(store.take_changes().contains(&"settings".to_string()));
    }
}
