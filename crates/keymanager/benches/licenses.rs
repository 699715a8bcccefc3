//! License store benchmark at scale (prints figures; not a timed test).
//! `cargo bench -p keymanager --bench licenses` (`LICENSE_BENCH_N` to change the 1,000,000).
//!
//! With N licenses in a database file: look-up by purchase code and by license key (p99,
//! target < 1 ms), search (p95, target < 20 ms), and the first page of the licenses table
//! (target < 50 ms), all at the core level.

use chrono::Utc;
use keymanager::store::LicenseFilter;
use keymanager::{license_key::LicenseKey, Store};
use std::time::{Duration, Instant};

/// splitmix64, for reproducible picks.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

fn percentile(mut v: Vec<Duration>, p: f64) -> Duration {
    v.sort();
    v[((v.len() as f64 * p).ceil() as usize).min(v.len()) - 1]
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1000.0)
}

fn row(what: &str, value: String, target: &str, ok: bool) {
    println!("| {what:<44} | {value:>12} | {target:>8} | {:<6} |", if ok { "met" } else { "MISSED" });
}

#[path = "seed/mod.rs"]
mod seed;
use seed::code;

fn main() {
    let n: u64 = std::env::var("LICENSE_BENCH_N").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open_in_dir(dir.path()).unwrap();
    let t = Instant::now();
    seed::seed(&mut store, n);
    let seed_time = t.elapsed();
    assert_eq!(store.license_counts().unwrap().total as u64, n);
    drop(store);
    // A fresh connection, as after a restart (no warm statement cache).
    let store = Store::open_in_dir(dir.path()).unwrap();
    let mut rng = Rng(42);

    // Keys to look up: read a sample through the API itself.
    let sample: Vec<String> = (0..200)
        .filter_map(|_| {
            let f = LicenseFilter { search: Some(code(rng.next() % n)), ..Default::default() };
            store.license_page(&f, Utc::now()).unwrap().licenses.pop().map(|l| l.license_key)
        })
        .collect();

    let mut by_code = Vec::new();
    for _ in 0..10_000 {
        let c = code(rng.next() % n);
        let t = Instant::now();
        let l = store.license_by_code(&c).unwrap();
        by_code.push(t.elapsed());
        assert!(l.is_some());
    }
    let mut by_key = Vec::new();
    for k in 0..10_000 {
        let key = &sample[k % sample.len()];
        let t = Instant::now();
        let parsed = LicenseKey::parse(key).unwrap();
        let l = store.license_by_key(&parsed).unwrap();
        by_key.push(t.elapsed());
        assert!(l.is_some());
    }
    let mut search = Vec::new();
    for k in 0..1_000 {
        let q = match k % 3 {
            0 => format!("buyer{:07}", rng.next() % n.min(300_000))[..11].to_string(), // a buyer's name, by prefix
            1 => code(rng.next() % n),                                                 // a purchase code
            _ => sample[k % sample.len()][..11].to_string(),                           // the start of a key
        };
        let t = Instant::now();
        let page = store
            .license_page(&LicenseFilter { search: Some(q), limit: Some(100), ..Default::default() }, Utc::now())
            .unwrap();
        search.push(t.elapsed());
        assert!(!page.licenses.is_empty());
    }
    let mut first_page = Vec::new();
    let mut filtered_page = Vec::new();
    for k in 0..50 {
        let t = Instant::now();
        let p = store.license_page(&LicenseFilter { limit: Some(200), ..Default::default() }, Utc::now()).unwrap();
        first_page.push(t.elapsed());
        assert_eq!(p.licenses.len(), 200);
        let f = LicenseFilter {
            marketplace: Some(seed::SITES[k % 4].into()),
            sort: Some(keymanager::store::LicenseSort::SoldDesc),
            limit: Some(200),
            ..Default::default()
        };
        let t = Instant::now();
        store.license_page(&f, Utc::now()).unwrap();
        filtered_page.push(t.elapsed());
    }

    let (c99, k99, s95) = (percentile(by_code, 0.99), percentile(by_key, 0.99), percentile(search, 0.95));
    let (p50, fp50) = (percentile(first_page, 0.5), percentile(filtered_page, 0.5));
    println!();
    println!(
        "| {:<44} | {:>12} | {:>8} | {:<6} |",
        format!("licenses benchmark, {n} licenses"),
        "figure",
        "target",
        ""
    );
    println!("|{}|{}|{}|{}|", "-".repeat(46), "-".repeat(14), "-".repeat(10), "-".repeat(8));
    println!(
        "| {:<44} | {:>12} | {:>8} | {:<6} |",
        "seeding (sync applier, 5,000 per transaction)",
        format!("{:.1} s", seed_time.as_secs_f64()),
        "",
        ""
    );
    row("look-up by purchase code, p99", ms(c99), "< 1 ms", c99 < Duration::from_millis(1));
    row("look-up by license key (parse + query), p99", ms(k99), "< 1 ms", k99 < Duration::from_millis(1));
    row("search (buyer prefix, code, key prefix), p95", ms(s95), "< 20 ms", s95 < Duration::from_millis(20));
    row("first page of the licenses table (200 rows)", ms(p50), "< 50 ms", p50 < Duration::from_millis(50));
    row("first page, marketplace filter, by sale date", ms(fp50), "< 50 ms", fp50 < Duration::from_millis(50));
    println!();
}
