//! Licensing server benchmark (prints figures; not a timed test).
//! `cargo bench -p keymanager --bench serve` (`LICENSE_BENCH_N` to change the 1,000,000).
//!
//! With N licenses, the server (the same router and axum stack `keymanager serve` runs) answers
//! `POST /v1/licenses/validate` and `GET /v1/health` under 64 concurrent connections from oha, an
//! established load generator (`scripts/bench.sh` installs it), 10 s each: requests per second
//! and p50/p99 latency. Activations per second are measured with 64 concurrent clients on
//! distinct licenses (each request differs, which oha cannot vary). Targets on 2 cores: validate
//! p99 < 10 ms, at least 5,000 validations/s, and at least half of health's throughput.

use keymanager::api::http::{RunningServer, ServeOptions};
use keymanager::api::signing::Signer;
use keymanager::api::LicensingService;
use keymanager::license_key::LicenseKey;
use keymanager::store::LicenseFilter;
use keymanager::sync::SharedStore;
use keymanager::{time, Store};
use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

#[path = "seed/mod.rs"]
mod seed;

fn row(what: &str, value: String, target: &str, ok: bool) {
    println!("| {what:<44} | {value:>12} | {target:>8} | {:<6} |", if ok { "met" } else { "MISSED" });
}

/// What oha measured: requests per second, p50 and p99 in milliseconds.
struct Load {
    rps: f64,
    p50: f64,
    p99: f64,
}

fn oha(url: &str, body: Option<&str>) -> Result<Load, String> {
    let mut cmd = Command::new("oha");
    cmd.args(["-z", "10s", "-c", "64", "--no-tui", "--output-format", "json"]);
    if let Some(b) = body {
        cmd.args(["-m", "POST", "-H", "content-type: application/json", "-d", b]);
    }
    let out = cmd.arg(url).output().map_err(|e| format!("oha is not installed ({e}); scripts/bench.sh installs it"))?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).to_string());
    }
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).map_err(|e| format!("oha's JSON: {e}"))?;
    let codes = &v["statusCodeDistribution"];
    if codes.as_object().is_some_and(|m| m.keys().any(|k| k != "200")) {
        return Err(format!("answers other than 200: {codes}"));
    }
    let f = |p: &serde_json::Value| p.as_f64().unwrap_or(f64::NAN);
    Ok(Load {
        rps: f(&v["summary"]["requestsPerSec"]),
        p50: f(&v["latencyPercentiles"]["p50"]) * 1000.0,
        p99: f(&v["latencyPercentiles"]["p99"]) * 1000.0,
    })
}

fn main() {
    let n: u64 = std::env::var("LICENSE_BENCH_N").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open_in_dir(dir.path()).unwrap();
    seed::seed(&mut store, n);
    // Licenses to validate and to activate, found through the store's own search.
    let keys: Vec<String> = (0..2_000u64)
        .filter_map(|i| {
            let f = LicenseFilter { search: Some(seed::code(i * 97 % n)), ..Default::default() };
            store.license_page(&f, time::now()).unwrap().licenses.pop().map(|l| l.license_key)
        })
        .collect();
    drop(store);

    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let shared = SharedStore::new(Store::open_in_dir(dir.path()).unwrap());
        let service = LicensingService::new(shared.clone(), None, Arc::new(Signer::generate().unwrap()));
        // Where the time goes: the service alone (decode, one read on the blocking pool, answer),
        // one call at a time, without HTTP or signing.
        let probe = format!(r#"{{"key":"{}","fingerprint":"bench-site"}}"#, keys[0]);
        let t = Instant::now();
        for _ in 0..5_000 {
            let a = service.validate(probe.as_bytes(), time::now()).await;
            assert_eq!(a.status, 200);
        }
        let in_process = t.elapsed() / 5_000;
        // The per-address limit would stop a load generator on one address: set out of its way.
        let options = ServeOptions { requests_per_minute: u32::MAX, trusted_proxies: Vec::new() };
        let server = RunningServer::start("127.0.0.1:0", service, shared, Arc::new(time::now), &options).await.unwrap();
        let base = format!("http://{}", server.address);

        let key = &keys[0];
        assert!(LicenseKey::parse(key).is_ok());
        let body = format!(r#"{{"key":"{key}","fingerprint":"bench-site"}}"#);
        let run = |url: String, body: Option<String>| tokio::task::spawn_blocking(move || oha(&url, body.as_deref()));
        let health = run(format!("{base}/v1/health"), None).await.unwrap();
        let validate = run(format!("{base}/v1/licenses/validate"), Some(body)).await.unwrap();

        // Activations on distinct licenses, 64 at a time.
        let http = reqwest::Client::new();
        let started = Instant::now();
        let chunks: Vec<Vec<String>> = keys[1..].chunks(keys.len().div_ceil(64)).map(|c| c.to_vec()).collect();
        let tasks: Vec<_> = chunks
            .into_iter()
            .map(|chunk| {
                let (http, url) = (http.clone(), format!("{base}/v1/activations"));
                tokio::spawn(async move {
                    let mut ok = 0u32;
                    for k in chunk {
                        let r = http
                            .post(&url)
                            .body(format!(r#"{{"key":"{k}","fingerprint":"bench-{k}"}}"#))
                            .send()
                            .await
                            .unwrap();
                        if r.status() == 201 {
                            ok += 1;
                        }
                    }
                    ok
                })
            })
            .collect();
        let mut activated = 0;
        for t in tasks {
            activated += t.await.unwrap();
        }
        let per_sec = activated as f64 / started.elapsed().as_secs_f64();
        server.stop().await;

        println!("\n| licensing server benchmark ({n} licenses, 64 connections) | figure | target | |");
        row(
            "server: one validate in-process, no HTTP (mean)",
            format!("{:.1} µs", in_process.as_secs_f64() * 1e6),
            "",
            true,
        );
        match (&validate, &health) {
            (Ok(v), Ok(h)) => {
                row("server: validations per second (oha)", format!("{:.0}/s", v.rps), ">= 5000", v.rps >= 5000.0);
                row("server: validate p50", format!("{:.2} ms", v.p50), "", true);
                row("server: validate p99", format!("{:.2} ms", v.p99), "< 10 ms", v.p99 < 10.0);
                row("server: /v1/health per second (oha)", format!("{:.0}/s", h.rps), "", true);
                row("server: health p99", format!("{:.2} ms", h.p99), "", true);
                let ratio = v.rps / h.rps;
                row("server: validate throughput / health", format!("{:.0}%", ratio * 100.0), ">= 50%", ratio >= 0.5);
            }
            (v, h) => {
                let why = v.as_ref().err().or(h.as_ref().err()).cloned().unwrap_or_default();
                row(
                    &format!("server: validate/health under load ({})", why.lines().next().unwrap_or("")),
                    "-".into(),
                    "",
                    false,
                );
            }
        }
        row(
            "server: activations per second (distinct licenses)",
            format!("{per_sec:.0}/s"),
            "",
            activated as usize == keys.len() - 1,
        );
    });
}
