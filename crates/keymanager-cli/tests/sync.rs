//! `keymanager sync` and `review` against the sandbox, and kill -9 in the middle of a sync:
//! the next run ends with every sale exactly once.

use chrono::Utc;
use envato_sandbox::check::assert_every_sale_once;
use envato_sandbox::data::GenSpec;
use envato_sandbox::{RunningSandbox, Switches};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::Env;

async fn sandbox(sales: usize) -> RunningSandbox {
    let spec = GenSpec { seed: 77, items: 5, sales, days: 60, now: Utc::now() };
    RunningSandbox::start(spec, Switches::default()).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_then_review_then_incremental() {
    let sb = sandbox(60).await;
    let env = Env::with_sandbox(&sb.base_url());
    let out = env.run(&["sync"], "");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("error[token.not_configured]"));

    env.set_token();
    let s = env.json(&["sync", "--json"]);
    assert_eq!((s["licenses_created"].as_u64(), s["sales_queued"].as_u64()), (Some(0), Some(60)));
    let queue = env.json(&["review", "list", "--json"]);
    let queue = queue.as_array().unwrap();
    let first = queue[0]["item_id"].as_i64().unwrap().to_string();
    let second = queue[1]["item_id"].as_i64().unwrap().to_string();
    let p = env.json(&["review", "create-product", &first, "--json"]);
    assert_eq!(p["license_count"], queue[0]["waiting_sales"]);
    let target = env.json(&["products", "add", "--name", "Target", "--json"]);
    let target_id = target["id"].as_i64().unwrap().to_string();
    let mapped = env.json(&["review", "map", &second, &target_id, "--json"]);
    assert_eq!(mapped["license_count"], queue[1]["waiting_sales"]);
    let text = String::from_utf8_lossy(&env.run(&["review", "list"], "").stdout).to_string();
    assert!(!text.contains(&first) && !text.contains(&second), "{text}");

    let out = env.run(&["review", "map", "1", &target_id], "");
    assert!(String::from_utf8_lossy(&out.stderr).contains("error[input.invalid]"));

    sb.reset_stats();
    let s = env.json(&["sync", "--json"]);
    assert_eq!(s["pages_fetched"], 1);
    assert_eq!(sb.stats().total, 1, "an incremental sync with nothing new makes one request");
}

/// Kill the syncing process at points of a large first sync chosen by a seeded generator (so a
/// failure reproduces); each following run completes it, and in the end every sale is present
/// exactly once. `CRASH_SALES`, `CRASH_POINTS` and `CRASH_SEED` scale it: `make crash-test` runs
/// 20 points of a 100,000-sale sync.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_during_a_large_sync_then_sync_again() {
    let env_num = |k: &str, d: u64| std::env::var(k).ok().and_then(|v| v.parse().ok()).unwrap_or(d);
    let (sales, points, seed) = (env_num("CRASH_SALES", 3000), env_num("CRASH_POINTS", 3), env_num("CRASH_SEED", 7));
    let mut state = seed;
    let mut kill_points: Vec<usize> = (0..points)
        .map(|_| {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            1 + ((state >> 33) % (sales - 1)) as usize
        })
        .collect();
    kill_points.sort_unstable();
    eprintln!("kill points (seed {seed}): {kill_points:?}");
    let sb = sandbox(sales as usize).await;
    sb.update_switches(|s| {
        s.faults.latency_ms = 15;
        s.variants.page_size = 50;
    });
    let env = Env::with_sandbox(&sb.base_url());
    env.set_token();
    assert!(env.run(&["settings", "set", "auto_create_products", "true"], "").status.success());

    let db = env.dir.path().join("keymanager.sqlite3");
    for kill_after in kill_points {
        // Output unread by the test must not fill a pipe and block the sync.
        let mut child = env.cmd(&["sync"]).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
        let started = Instant::now();
        loop {
            let n = count_licenses(&db);
            if n >= kill_after {
                break;
            }
            assert!(started.elapsed() < Duration::from_secs(600), "the sync made no progress");
            if child.try_wait().unwrap().is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Command::new("kill").args(["-9", &child.id().to_string()]).status().unwrap();
        let status = child.wait().unwrap();
        assert!(!status.success() || count_licenses(&db) == sales as usize, "killed (or already done)");
    }
    let out = env.run(&["sync"], "");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let licensed: Vec<_> = env
        .licenses()
        .iter()
        .map(|l| {
            let text = |k: &str| l[k].as_str().unwrap().to_string();
            (l["envato_item_id"].as_i64().unwrap(), text("sold_at"), text("license_key"))
        })
        .collect();
    assert_eq!(licensed.len(), sales as usize);
    assert_every_sale_once(&sb.dataset(), None, &licensed);
    let runs = keymanager::Store::open(&db).unwrap().sync_runs(10).unwrap();
    let interrupted = runs.iter().filter(|r| r.status == keymanager::store::SyncRunStatus::Interrupted).count();
    assert!(interrupted >= (points as usize).min(10) / 2, "{interrupted} runs were interrupted");
}

/// Reads the count through its own connection, as another process would.
fn count_licenses(db: &std::path::Path) -> usize {
    match keymanager::Store::open(db) {
        Ok(s) => s.license_counts().map(|c| c.total as usize).unwrap_or(0),
        Err(_) => 0,
    }
}
