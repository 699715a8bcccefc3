//! Update delivery benchmark (prints figures; not a timed test).
//! `cargo bench -p keymanager --bench updates` (`LICENSE_BENCH_N` to change the 1,000,000).
//!
//! With N licenses and 100 releases of one product, the server (the router `keymanager serve`
//! runs) answers plugin-update-checker's metadata request, `GET /updates/{slug}/info.json` with
//! WordPress's query and User-Agent, beside `GET /v1/health` in the same run, under 64
//! connections from oha: requests per second and p99 (targets: at least 70% of health's
//! throughput, p99 < 10 ms). Then a 20 MB package is downloaded by 16 concurrent clients for
//! 10 s from the server and from nginx (Debian's, started here on the same file): MB/s of each
//! (target: at least 80% of nginx), and the server's resident memory during the download run
//! (it streams from disk: its growth must stay far below the package size).

use keymanager::api::http::{RunningServer, ServeOptions};
use keymanager::api::signing::{Signer, SignerCell};
use keymanager::api::LicensingService;
use keymanager::model::NewProduct;
use keymanager::store::NewRelease;
use keymanager::sync::SharedStore;
use keymanager::updates::package::Digests;
use keymanager::updates::publish::{add_release, AddRelease};
use keymanager::updates::{PackageMeta, ReleaseChannel, UpdateKind};
use keymanager::{time, Store};
use std::io::Write;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

#[path = "seed/mod.rs"]
mod seed;

const PACKAGE_MB: usize = 20;

fn row(what: &str, value: String, target: &str, ok: bool) {
    println!("| {what:<44} | {value:>12} | {target:>8} | {:<6} |", if ok { "met" } else { "MISSED" });
}

struct Load {
    rps: f64,
    p99: f64,
    bytes_per_sec: f64,
}

fn oha(url: &str, connections: u32, headers: &[&str]) -> Result<Load, String> {
    let mut cmd = Command::new("oha");
    cmd.args(["-z", "10s", "-c", &connections.to_string(), "--no-tui", "--output-format", "json"]);
    cmd.args(["-H", "x-forwarded-for: 198.51.100.7"]);
    for h in headers {
        cmd.args(["-H", h]);
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
        p99: f(&v["latencyPercentiles"]["p99"]) * 1000.0,
        bytes_per_sec: f(&v["summary"]["sizePerSec"]),
    })
}

/// This process's resident memory, in bytes.
fn rss() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

/// A zip of the test plugin with a `PACKAGE_MB` MB file of incompressible bytes beside it.
fn big_plugin(version: &str) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::with_capacity(PACKAGE_MB << 20));
    {
        let mut z = zip::ZipWriter::new(&mut out);
        let stored = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
        z.start_file("km-bench/km-bench.php", stored).unwrap();
        z.write_all(format!("<?php\n/*\n * Plugin Name: KM Bench\n * Version: {version}\n */\n").as_bytes()).unwrap();
        z.start_file("km-bench/assets.bin", stored).unwrap();
        let mut x: u64 = 0x9E3779B97F4A7C15;
        let mut block = vec![0u8; 1 << 20];
        for _ in 0..PACKAGE_MB {
            for chunk in block.chunks_mut(8) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                chunk.copy_from_slice(&x.to_le_bytes()[..chunk.len()]);
            }
            z.write_all(&block).unwrap();
        }
        z.finish().unwrap();
    }
    out.into_inner()
}

/// nginx serving `dir` on a free port until dropped.
struct Nginx {
    child: std::process::Child,
    port: u16,
}

impl Nginx {
    fn start(dir: &std::path::Path, root: &std::path::Path) -> Result<Nginx, String> {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let conf = dir.join("nginx.conf");
        std::fs::write(
            &conf,
            format!(
                "daemon off; worker_processes auto; pid {dir}/nginx.pid; error_log {dir}/error.log;\n\
                 events {{ worker_connections 1024; }}\n\
                 http {{ access_log off; sendfile on; tcp_nopush on; default_type application/zip;\n\
                   client_body_temp_path {dir}; proxy_temp_path {dir}; fastcgi_temp_path {dir}; uwsgi_temp_path {dir}; scgi_temp_path {dir};\n\
                   server {{ listen 127.0.0.1:{port}; root {root}; }} }}\n",
                dir = dir.display(),
                root = root.display()
            ),
        )
        .map_err(|e| e.to_string())?;
        let child = Command::new("nginx")
            .args(["-c", &conf.to_string_lossy(), "-p", &dir.to_string_lossy()])
            .spawn()
            .map_err(|e| format!("nginx is not installed ({e}); scripts/setup.sh --test installs it"))?;
        let started = std::time::Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if started.elapsed().as_secs() > 10 {
                return Err("nginx did not start".into());
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        Ok(Nginx { child, port })
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = Command::new("kill").arg(self.child.id().to_string()).status();
        let _ = self.child.wait();
    }
}

fn main() {
    let n: u64 = std::env::var("LICENSE_BENCH_N").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    let dir = tempfile::tempdir().unwrap();
    let now = time::now();
    let (key, product_id) = {
        let mut store = Store::open_in_dir(dir.path()).unwrap();
        seed::seed(&mut store, n);
        let p = store.create_product(&NewProduct { name: "KM Bench".into(), ..Default::default() }, now).unwrap();
        store.set_product_updates(p.id, Some("km-bench"), Some(UpdateKind::WpPlugin), None, now).unwrap();
        // 99 older releases (their packages are never fetched), then the real 20 MB one.
        for i in 0..99u32 {
            let version = format!("1.{i}.0");
            let r = store
                .insert_release(
                    &NewRelease {
                        product_id: p.id,
                        version: version.clone(),
                        channel: ReleaseChannel::Stable,
                        changelog: format!("* Changes in {version}.\n* And more."),
                        upgrade_notice: String::new(),
                        requires: Some("6.0".into()),
                        tested: Some("6.4".into()),
                        requires_php: Some("7.4".into()),
                        digests: Digests {
                            sha256: format!("{i:064}"),
                            sha384: "00".repeat(48),
                            md5: "00".repeat(16),
                            size: 1,
                        },
                        meta: PackageMeta {
                            name: "KM Bench".into(),
                            description: "A benchmark plugin.".into(),
                            ..Default::default()
                        },
                        slug: None,
                        kind: None,
                    },
                    now,
                )
                .unwrap();
            store.publish_release(r.id, None, now).unwrap();
        }
        store
            .update_settings(
                &[("release_max_mb".into(), "200".into()), ("downloads_per_day".into(), "10000".into())],
                now,
            )
            .unwrap();
        let zip = big_plugin("2.0.0");
        let req = AddRelease { product_id: p.id, publish: true, ..Default::default() };
        add_release(&mut store, dir.path(), &mut &zip[..], &req, now).unwrap();
        let key =
            keymanager::licensing::issue(&mut store, p.id, Some("bench-buyer"), None, None, now).unwrap().license_key;
        (key, p.id)
    };
    let _ = product_id;

    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let shared = SharedStore::new(Store::open_in_dir(dir.path()).unwrap());
        keymanager::process::raise_open_files_limit();
        let options = ServeOptions {
            requests_per_minute: u32::MAX,
            trusted_proxies: vec!["127.0.0.1".parse().unwrap()],
            ..ServeOptions::default()
        };
        // The public address is the server's own, known once it listens.
        let listener_port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let base = format!("http://127.0.0.1:{listener_port}");
        shared.lock().update_settings(&[("public_url".into(), base.clone())], now).unwrap();
        let service = LicensingService::new(shared.clone(), None, Arc::new(SignerCell::fixed(Signer::generate().unwrap())));
        let server =
            RunningServer::start(&format!("127.0.0.1:{listener_port}"), service, shared, Arc::new(time::now), &options).await.unwrap();

        let metadata = format!(
            "{base}/updates/km-bench/info.json?installed_version=1.5.0&php=8.2.36&locale=en_US&checking_for_updates=1&license_key={key}"
        );
        let probe: serde_json::Value = reqwest::Client::new()
            .get(&metadata)
            .header("user-agent", "WordPress/6.1.9; http://bench-shop.example")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(probe["license_status"], "UPDATE_AVAILABLE", "{probe}");
        assert_eq!(probe["version"], "2.0.0");
        let download = probe["download_url"].as_str().unwrap().to_string();

        let run = |url: String, c: u32, headers: Vec<String>| {
            tokio::task::spawn_blocking(move || oha(&url, c, &headers.iter().map(String::as_str).collect::<Vec<_>>()))
        };
        let ua = vec!["user-agent: WordPress/6.1.9; http://bench-shop.example".to_string()];
        let health = run(format!("{base}/v1/health"), 64, vec![]).await.unwrap();
        let puc = run(metadata, 64, ua).await.unwrap();

        // Downloads: the server's memory sampled while 16 clients pull the 20 MB package.
        let before = rss();
        let peak = Arc::new(AtomicU64::new(before));
        let stop = Arc::new(AtomicBool::new(false));
        let sampler = {
            let (peak, stop) = (peak.clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    peak.fetch_max(rss(), Ordering::Relaxed);
                    std::thread::sleep(std::time::Duration::from_millis(50));
                }
            })
        };
        let ours = run(download, 16, vec![]).await.unwrap();
        stop.store(true, Ordering::Relaxed);
        sampler.join().unwrap();
        let growth = peak.load(Ordering::Relaxed).saturating_sub(before);
        server.stop().await;

        // nginx on the same file, same machine, same run.
        let www = tempfile::tempdir().unwrap();
        let packages = keymanager::updates::package::dir(dir.path());
        let file = std::fs::read_dir(&packages).unwrap().filter_map(|e| e.ok()).find(|e| e.path().extension().is_some_and(|x| x == "zip")).unwrap();
        std::fs::hard_link(file.path(), www.path().join("package.zip")).or_else(|_| std::fs::copy(file.path(), www.path().join("package.zip")).map(|_| ())).unwrap();
        let nginx_dir = tempfile::tempdir().unwrap();
        let nginx = match Nginx::start(nginx_dir.path(), www.path()) {
            Ok(ng) => {
                let url = format!("http://127.0.0.1:{}/package.zip", ng.port);
                let load = run(url, 16, vec![]).await.unwrap();
                drop(ng);
                load
            }
            Err(e) => Err(e),
        };

        println!("\n| update delivery benchmark ({n} licenses, 100 releases) | figure | target | |");
        match (&puc, &health) {
            (Ok(p), Ok(h)) => {
                row("updates: PUC metadata checks per second", format!("{:.0}/s", p.rps), "", true);
                row("updates: PUC metadata p99 (64 connections)", format!("{:.2} ms", p.p99), "< 10 ms", p.p99 < 10.0);
                row("updates: /v1/health per second, same run", format!("{:.0}/s", h.rps), "", true);
                let ratio = p.rps / h.rps;
                row("updates: PUC metadata throughput / health", format!("{:.0}%", ratio * 100.0), ">= 70%", ratio >= 0.7);
            }
            (p, h) => {
                let why = p.as_ref().err().or(h.as_ref().err()).cloned().unwrap_or_default();
                row(&format!("updates: PUC metadata under load ({})", why.lines().next().unwrap_or("")), "-".into(), "", false);
            }
        }
        let mb = |l: &Load| l.bytes_per_sec / (1024.0 * 1024.0);
        match (&ours, &nginx) {
            (Ok(o), Ok(x)) => {
                row(&format!("updates: {PACKAGE_MB} MB downloads, 16 clients (KeyManager)"), format!("{:.0} MB/s", mb(o)), "", true);
                row(&format!("updates: {PACKAGE_MB} MB downloads, 16 clients (nginx)"), format!("{:.0} MB/s", mb(x)), "", true);
                let ratio = o.bytes_per_sec / x.bytes_per_sec;
                row("updates: download throughput / nginx", format!("{:.0}%", ratio * 100.0), ">= 80%", ratio >= 0.8);
                row("updates: download p99 (one 20 MB package)", format!("{:.0} ms", o.p99), "", true);
            }
            (o, x) => {
                let why = o.as_ref().err().or(x.as_ref().err()).cloned().unwrap_or_default();
                row(&format!("updates: downloads ({})", why.lines().next().unwrap_or("")), "-".into(), "", false);
            }
        }
        let growth_mb = growth as f64 / (1024.0 * 1024.0);
        row(
            "updates: server memory growth while downloading",
            format!("{growth_mb:.1} MB"),
            &format!("< {} MB", PACKAGE_MB / 2),
            growth_mb < (PACKAGE_MB / 2) as f64,
        );
    });
}
