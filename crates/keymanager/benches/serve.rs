//! Licensing server benchmark (prints figures; not a timed test).
//! `cargo bench -p keymanager --bench serve` (`LICENSE_BENCH_N` to change the 1,000,000).
//!
//! With N licenses, the server (the same router and axum stack `keymanager serve` runs) answers
//! `POST /v1/licenses/validate` and `GET /v1/health` under 64 concurrent connections from oha, an
//! established load generator (`scripts/bench.sh` installs it), 10 s each: requests per second
//! and p50/p99 latency. Activations per second are measured with 64 concurrent clients on
//! distinct licenses (each request differs, which oha cannot vary). Targets on 2 cores: validate
//! p99 < 10 ms, at least 5,000 validations/s, and at least half of health's throughput.

use keymanager::admin;
use keymanager::api::LicensingService;
use keymanager::license_key::LicenseKey;
use keymanager::server::{RunningServer, ServeOptions};
use keymanager::signing::{Signer, SignerCell};
use keymanager::store::LicenseFilter;
use keymanager::store::SharedStore;
use keymanager::verify::Asker;
use keymanager::{time, Store};
use std::sync::Arc;
use std::time::Instant;

#[path = "seed/mod.rs"]
mod seed;

#[path = "load/mod.rs"]
mod load;
use load::{oha, row};

/// Holds `n` idle connections to `server` from 32 loopback addresses (at most 32 each, the
/// per-address cap), opening a new one whenever the server closes one, until `stop`. `held`
/// counts those open now.
fn hold_idle(
    server: std::net::SocketAddr,
    n: usize,
    stop: Arc<std::sync::atomic::AtomicBool>,
    held: Arc<std::sync::atomic::AtomicUsize>,
) -> Vec<tokio::task::JoinHandle<()>> {
    use std::sync::atomic::Ordering;
    (0..n)
        .map(|i| {
            let (stop, held) = (stop.clone(), held.clone());
            let source: std::net::SocketAddr = format!("127.0.1.{}:0", 1 + i % 32).parse().unwrap();
            tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    let Ok(socket) = tokio::net::TcpSocket::new_v4() else { return };
                    if socket.bind(source).is_err() {
                        return;
                    }
                    let Ok(mut conn) = socket.connect(server).await else {
                        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                        continue;
                    };
                    held.fetch_add(1, Ordering::Relaxed);
                    let mut buf = [0u8; 64];
                    // Idle until the server closes it (its header timeout) or the run ends.
                    loop {
                        tokio::select! {
                            r = tokio::io::AsyncReadExt::read(&mut conn, &mut buf) => if matches!(r, Ok(0) | Err(_)) { break },
                            _ = tokio::time::sleep(std::time::Duration::from_millis(200)) => {
                                if stop.load(Ordering::Relaxed) { break }
                            }
                        }
                    }
                    held.fetch_sub(1, Ordering::Relaxed);
                }
            })
        })
        .collect()
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
        let service =
            LicensingService::new(shared.clone(), None, Arc::new(SignerCell::fixed(Signer::generate().unwrap())));
        // Where the time goes: the service alone (decode, one read on the blocking pool, answer),
        // one call at a time, without HTTP or signing.
        let probe = format!(r#"{{"key":"{}","fingerprint":"bench-site"}}"#, keys[0]);
        let t = Instant::now();
        for _ in 0..5_000 {
            let a = keymanager::api::wire::validate(&service, probe.as_bytes(), Asker::Seller, time::now()).await;
            assert_eq!(a.status, 200);
        }
        let in_process = t.elapsed() / 5_000;
        // Every limit of the contract is on: header and body timeouts, the connection caps (one
        // address 32; the trusted proxy, which oha stands for, is exempt), X-Forwarded-For read
        // from the trusted proxy, and the per-client rate limiter, whose quota is set out of the
        // load generator's way (its check costs the same at any quota). The global cap is raised
        // above the 1,000 idle connections of the second run.
        keymanager::process::raise_open_files_limit();
        let options = ServeOptions {
            requests_per_minute: u32::MAX,
            trusted_proxies: vec!["127.0.0.1".parse().unwrap()],
            max_connections: 2048,
            ..ServeOptions::default()
        };
        let admin_store = shared.clone();
        // The runtime the admin API's operations run on, as `keymanager serve` has (no token: its
        // sync waits; no daily backup).
        let mut rt_options = keymanager::runtime::RuntimeOptions::new(keymanager::envato::ApiBase::official());
        rt_options.clients = Some(keymanager::sync::worker::ClientSource::from_fns(|| Ok(false), || Ok(None)));
        rt_options.daily_backups = false;
        let runtime = Arc::new(
            keymanager::runtime::Runtime::with_store(shared.clone(), dir.path(), rt_options, Arc::new(time::now))
                .unwrap(),
        );
        let server = RunningServer::start_with_runtime(
            "127.0.0.1:0",
            service,
            shared,
            Arc::new(time::now),
            &options,
            Some(runtime.clone()),
        )
        .await
        .unwrap();
        let base = format!("http://{}", server.address);

        let key = &keys[0];
        assert!(LicenseKey::parse(key).is_ok());
        // The validated license is activated on a production site, so validations answer VALID
        // (and are noted as sightings, written in batches).
        let http = reqwest::Client::new();
        let activated = http
            .post(format!("{base}/v1/activations"))
            .header("content-type", "application/json")
            .body(format!(
                r#"{{"key":"{key}","fingerprint":"bench-site","site_url":"https://bench-shop.example.com"}}"#
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(activated.status(), 201);
        let body = format!(r#"{{"key":"{key}","fingerprint":"bench-site"}}"#);
        let with_site =
            format!(r#"{{"key":"{key}","fingerprint":"bench-site","site_url":"https://www.bench-shop.example.com/"}}"#);
        let probe_site = http
            .post(format!("{base}/v1/licenses/validate"))
            .header("content-type", "application/json")
            .body(with_site.clone())
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(probe_site.contains("\"VALID\""), "{probe_site}");
        let run = |url: String, body: Option<String>| {
            tokio::task::spawn_blocking(move || match body {
                Some(b) => oha(&url, 64, &["-m", "POST", "-H", "content-type: application/json", "-d", &b]),
                None => oha(&url, 64, &[]),
            })
        };
        // The admin API as the desktop's remote workspace uses it (issue 23): a paired owner,
        // through the trusted proxy that says https.
        let token = {
            let mut st = admin_store.lock();
            let (code, _) = admin::make_pairing_code(&mut st, "bench", &[admin::Scope::Owner], time::now()).unwrap();
            admin::pair(&mut st, &code, None, None, "127.0.0.1", time::now()).unwrap().token
        };
        let admin_run = |path: &str, body: String, connections: u32| {
            let (url, auth) = (format!("{base}{path}"), format!("authorization: Bearer {token}"));
            tokio::task::spawn_blocking(move || {
                let args = ["-m", "POST", "-H", "content-type: application/json", "-H", "x-forwarded-proto: https"];
                oha(&url, connections, &[&args[..], &["-H", &auth, "-d", &body]].concat())
            })
        };
        // What the window sends: the operations route.
        let page_body = r#"{"filter":{"limit":50}}"#.to_string();
        let lookup_body = format!(r#"{{"code":"{}"}}"#, seed::code(n / 2));
        // One window asking (the remote workspace), then 64 connections at once.
        let admin_page_one = admin_run("/admin/v1/op/licenses_page", page_body.clone(), 1).await.unwrap();
        let admin_lookup_one = admin_run("/admin/v1/op/lookup", lookup_body.clone(), 1).await.unwrap();
        let admin_page = admin_run("/admin/v1/op/licenses_page", page_body, 64).await.unwrap();
        let admin_lookup = admin_run("/admin/v1/op/lookup", lookup_body, 64).await.unwrap();
        // The change stream: from a commit on the server to the event at a paired client, and
        // to the end of the refetch the window then makes (its licenses page, through the same
        // operation route the window uses). The feed gathers commits for 150 ms, like the local one.
        let mut delays = Vec::new();
        let mut refetched = Vec::new();
        for i in 0..5 {
            let (tx, rx) = tokio::sync::oneshot::channel::<(Instant, Instant)>();
            let (stream_url, bearer) = (format!("{base}/admin/v1/changes"), token.clone());
            let op_url = format!("{base}/admin/v1/op/licenses_page");
            let follower = tokio::spawn(async move {
                let http = reqwest::Client::new();
                let mut resp = http
                    .get(stream_url)
                    .bearer_auth(&bearer)
                    .header("x-forwarded-proto", "https")
                    .header("x-forwarded-for", "198.51.100.7")
                    .send()
                    .await
                    .unwrap();
                let mut tx = Some(tx);
                while let Some(chunk) = resp.chunk().await.unwrap() {
                    if String::from_utf8_lossy(&chunk).contains("event: db-changed") {
                        let told = Instant::now();
                        let page = http
                            .post(&op_url)
                            .bearer_auth(&bearer)
                            .header("x-forwarded-proto", "https")
                            .header("x-forwarded-for", "198.51.100.7")
                            .json(&serde_json::json!({"filter": {"limit": 50}}))
                            .send()
                            .await
                            .unwrap();
                        assert_eq!(page.status(), 200);
                        let _ = page.bytes().await.unwrap();
                        let _ = tx.take().map(|t| t.send((told, Instant::now())));
                        break;
                    }
                }
            });
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
            let written = Instant::now();
            admin_store
                .run(move |st| {
                    st.update_settings(&[("store_name".into(), format!("Bench store {i}"))], time::now()).map(|_| ())
                })
                .await
                .unwrap();
            if let Ok(Ok((told, done))) = tokio::time::timeout(std::time::Duration::from_secs(5), rx).await {
                delays.push(told - written);
                refetched.push(done - written);
            }
            follower.abort();
        }
        let health = run(format!("{base}/v1/health"), None).await.unwrap();
        let validate = run(format!("{base}/v1/licenses/validate"), Some(body.clone())).await.unwrap();
        let validate_site = run(format!("{base}/v1/licenses/validate"), Some(with_site)).await.unwrap();
        // The same validate run while 1,000 idle connections from 32 other addresses are held
        // open (each re-opened when the server's header timeout closes it).
        let stop_idle = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let held = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let idle = hold_idle(server.address, 1000, stop_idle.clone(), held.clone());
        tokio::time::sleep(std::time::Duration::from_secs(2)).await;
        let held_at_start = held.load(std::sync::atomic::Ordering::Relaxed);
        let with_idle = run(format!("{base}/v1/licenses/validate"), Some(body)).await.unwrap();
        let held_at_end = held.load(std::sync::atomic::Ordering::Relaxed);
        stop_idle.store(true, std::sync::atomic::Ordering::Relaxed);
        for t in idle {
            let _ = t.await;
        }

        // Activations on distinct licenses, 64 at a time.
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
                            .header("content-type", "application/json")
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
                row("server: validate throughput / health", format!("{:.0}%", ratio * 100.0), ">= 70%", ratio >= 0.7);
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
        match (&validate_site, &validate) {
            (Ok(w), Ok(v)) => {
                row("server: validations/s with site_url (site-aware)", format!("{:.0}/s", w.rps), "", true);
                row("server: validate p99 with site_url", format!("{:.2} ms", w.p99), "< 10 ms", w.p99 < 10.0);
                let ratio = w.rps / v.rps;
                row(
                    "server: validate with site_url / without",
                    format!("{:.0}%", ratio * 100.0),
                    ">= 90%",
                    ratio >= 0.9,
                );
            }
            (w, v) => {
                let why = w.as_ref().err().or(v.as_ref().err()).cloned().unwrap_or_default();
                row(
                    &format!("server: validate with site_url ({})", why.lines().next().unwrap_or("")),
                    "-".into(),
                    "",
                    false,
                );
            }
        }
        match (&with_idle, &validate) {
            (Ok(w), Ok(v)) => {
                row(
                    &format!("server: validations/s with 1,000 idle connections ({held_at_start}/{held_at_end} held)"),
                    format!("{:.0}/s", w.rps),
                    "",
                    true,
                );
                row(
                    "server: validate p99 with 1,000 idle connections",
                    format!("{:.2} ms", w.p99),
                    "< 10 ms",
                    w.p99 < 10.0,
                );
                let ratio = w.rps / v.rps;
                row(
                    "server: with idle connections / without",
                    format!("{:.0}%", ratio * 100.0),
                    ">= 80%",
                    ratio >= 0.8 && held_at_start >= 990,
                );
            }
            (w, v) => {
                let why = w.as_ref().err().or(v.as_ref().err()).cloned().unwrap_or_default();
                row(
                    &format!("server: validate with idle connections ({})", why.lines().next().unwrap_or("")),
                    "-".into(),
                    "",
                    false,
                );
            }
        }
        let worst = delays.iter().max().copied().unwrap_or(std::time::Duration::MAX);
        row(
            "admin API: change stream, commit to event (worst of 5)",
            if delays.len() == 5 { format!("{:.0} ms", worst.as_secs_f64() * 1000.0) } else { "lost".into() },
            "< 1 s",
            delays.len() == 5 && worst < std::time::Duration::from_secs(1),
        );
        let worst_refetch = refetched.iter().max().copied().unwrap_or(std::time::Duration::MAX);
        row(
            "admin API: commit to the window's refetched licenses page (worst of 5)",
            if refetched.len() == 5 {
                format!("{:.0} ms", worst_refetch.as_secs_f64() * 1000.0)
            } else {
                "lost".into()
            },
            "< 1 s",
            refetched.len() == 5 && worst_refetch < std::time::Duration::from_secs(1),
        );
        for (what, load) in [
            ("admin API: licenses first page, one client", &admin_page_one),
            ("admin API: lookup, one client", &admin_lookup_one),
            ("admin API: licenses first page, 64 connections", &admin_page),
            ("admin API: lookup, 64 connections", &admin_lookup),
        ] {
            match load {
                Ok(l) => {
                    row(&format!("{what}: per second"), format!("{:.0}/s", l.rps), "", true);
                    row(&format!("{what}: p99"), format!("{:.2} ms", l.p99), "< 20 ms", l.p99 < 20.0);
                }
                Err(e) => row(&format!("{what} ({})", e.lines().next().unwrap_or("")), "-".into(), "< 20 ms", false),
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
