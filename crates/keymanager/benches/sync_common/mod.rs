//! What the sync and outbox benchmarks share (`#[path]`-included): a fresh database set up for a
//! first sync of the whole sandbox history, and one table row.

use keymanager::{time, Store};

/// A new database in `dir` with Auto-Create on and a year of history.
pub fn fresh_store(dir: &std::path::Path) -> Store {
    let mut s = Store::open_in_dir(dir).unwrap();
    s.update_settings(
        &[("auto_create_products".into(), "true".into()), ("history_days".into(), "365".into())],
        time::now(),
    )
    .unwrap();
    s
}

/// One row of the printed table: `ok` None for a figure without a target.
pub fn row(what: &str, value: String, target: &str, ok: Option<bool>) {
    let verdict = match ok {
        Some(true) => "met",
        Some(false) => "MISSED",
        None => "",
    };
    println!("| {what:<58} | {value:>16} | {target:>10} | {verdict:<6} |");
}
