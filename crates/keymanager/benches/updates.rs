//! Update delivery benchmark (prints figures; not a timed test).
//! `cargo bench -p keymanager --bench updates` (`LICENSE_BENCH_N` to change the 1,000,000).
//!
//! With N licenses and 100 releases of one product, the server (the router `keymanager serve`
//! runs) answers plugin-update-checker's metadata request, `GET /updates/{slug}/info.json` with
//! WordPress's query and User-Agent, beside `GET /v1/health` in the same run, under 64
//! connections from oha: requests per second and p99 (targets: at least 70% of health's
//! throughput, p99 < 10 ms). Then a 20 MB package is downloaded by 16 concurrent clients for
//! 10 s from the server and from nginx (Debian's, started here on the same file): MB/s of each
//! (target: at least 80% of nginx), and the server's resident memory during the download run,
//! then again with a 100 MB package from the same starting point: it streams from disk, so the
//! growth must be the same (within 4 MB) whatever the package's size.

use keymanager::api::LicensingService;
use keymanager::server::{RunningServer, ServeOptions};
use keymanager::signing::{Signer, SignerCell};
use keymanager::store::NewRelease;
use keymanager::store::SharedStore;
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

#[path = "load/mod.rs"]
mod load;
use load::{oha, row, Load};

const PACKAGE_MB: usize = 20;
/// The User-Agent WordPress sends (it names the site).
const WP_UA: &str = "WordPress/6.1.9; http://bench-shop.example";
/// The larger package of the memory comparison.
const LARGE_MB: usize = 100;

/// What plugin-update-checker is told, asked from the bench's WordPress site.
async fn ask(metadata: &str) -> serde_json::Value {
    let answer = reqwest::Client::new().get(metadata).header("user-agent", WP_UA).send().await.unwrap();
    answer.json().await.unwrap()
}

/// Runs `load` while sampling this process's resident memory every 50 ms: its result and the
/// highest figure seen.
async fn sampled<T>(load: tokio::task::JoinHandle<T>) -> (T, u64) {
    let peak = Arc::new(AtomicU64::new(rss()));
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
    let out = load.await.unwrap();
    stop.store(true, Ordering::Relaxed);
    sampler.join().unwrap();
    (out, peak.load(Ordering::Relaxed))
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

/// A zip of the test plugin with an `mb` MB file of incompressible bytes beside it.
fn big_plugin(version: &str, mb: usize) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::with_capacity(mb << 20));
    {
        let mut z = zip::ZipWriter::new(&mut out);
        let stored = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
        z.start_file("km-bench/km-bench.php", stored).unwrap();
        z.write_all(format!("<?php\n/*\n * Plugin Name: KM Bench\n * Version: {version}\n */\n").as_bytes()).unwrap();
        z.start_file("km-bench/assets.bin", stored).unwrap();
        let mut x: u64 = 0x9E3779B97F4A7C15;
        let mut block = vec![0u8; 1 << 20];
        for _ in 0..mb {
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
    let (key, product_id, sha256) = {
        let mut store = Store::open_in_dir(dir.path()).unwrap();
        seed::seed(&mut store, n);
        // The releases are the first seeded product's: its N/20 buyers ask with their purchase codes.
        let id = store.product_for_item(1000).unwrap().expect("the seeded product of item 1000");
        let p = store.product(id).unwrap().unwrap();
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
        let zip = big_plugin("2.0.0", PACKAGE_MB);
        let req = AddRelease { product_id: p.id, publish: true, ..Default::default() };
        let sha256 = add_release(&mut store, dir.path(), &mut &zip[..], &req, now).unwrap().release.sha256;
        let key =
            keymanager::licensing::issue(&mut store, p.id, Some("bench-buyer"), None, None, now).unwrap().license_key;
        (key, p.id, sha256)
    };

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
            RunningServer::start(&format!("127.0.0.1:{listener_port}"), service, shared.clone(), Arc::new(time::now), &options).await.unwrap();

        let metadata = format!(
            "{base}/updates/km-bench/info.json?installed_version=1.5.0&php=8.2.36&locale=en_US&checking_for_updates=1&license_key={key}"
        );
        let probe = ask(&metadata).await;
        assert_eq!(probe["license_status"], "UPDATE_AVAILABLE", "{probe}");
        assert_eq!(probe["version"], "2.0.0");
        let download = probe["download_url"].as_str().unwrap().to_string();

        let run = |url: String, c: u32, args: Vec<String>| {
            tokio::task::spawn_blocking(move || oha(&url, c, &args.iter().map(String::as_str).collect::<Vec<_>>()))
        };
        let ua = vec!["-H".to_string(), format!("user-agent: {WP_UA}")];
        let health = run(format!("{base}/v1/health"), 64, vec![]).await.unwrap();
        let puc = run(metadata.clone(), 64, ua.clone()).await.unwrap();
        // Many buyers: 20,000 URLs, each a different buyer's purchase code from its own site (the
        // product's licenses are every 20th sale), picked at random by oha: a link is signed for
        // nearly every answer, as when real sites ask.
        let urls = dir.path().join("urls.txt");
        let buyers = (n / 20).clamp(1, 20_000);
        let list: String = (0..buyers)
            .map(|i| {
                format!(
                    "{base}/updates/km-bench/info.json?installed_version=1.5.0&php=8.2.36&purchase_code={}&site=https://shop{i}.example\n",
                    seed::code(i * 20)
                )
            })
            .collect();
        std::fs::write(&urls, list).unwrap();
        let many = run(urls.to_string_lossy().to_string(), 64, [ua, vec!["--urls-from-file".into()]].concat()).await.unwrap();
        // Health again after them; the better of its two runs is the one compared against (the
        // machine's speed drifts between runs: the comparison must not flatter the updates).
        let health_again = run(format!("{base}/v1/health"), 64, vec![]).await.unwrap();
        let health = match (health, health_again) {
            (Ok(a), Ok(b)) => Ok(if b.rps > a.rps { b } else { a }),
            (Ok(a), Err(_)) | (Err(_), Ok(a)) => Ok(a),
            (Err(e), Err(_)) => Err(e),
        };

        // Downloads: the server's memory sampled while 16 clients pull the 20 MB package, then
        // while they pull a 100 MB one (a newer release), both from the same starting point.
        let before = rss();
        let (ours, peak) = sampled(run(download, 16, vec![])).await;
        let growth = peak as f64 - before as f64;
        let large = big_plugin("3.0.0", LARGE_MB);
        let req = AddRelease { product_id, publish: true, ..Default::default() };
        add_release(&mut shared.lock(), dir.path(), &mut &large[..], &req, time::now()).unwrap();
        drop(large);
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await; // metadata's freshness
        let probe = ask(&metadata).await;
        assert_eq!(probe["version"], "3.0.0", "{probe}");
        let large_link = probe["download_url"].as_str().unwrap().to_string();
        let (large_run, large_peak) = sampled(run(large_link, 16, vec![])).await;
        let large_growth = large_peak as f64 - before as f64;
        server.stop().await;

        // nginx on the same file, same machine, same run.
        let www = tempfile::tempdir().unwrap();
        let file = keymanager::updates::package::path(dir.path(), &sha256);
        let served = www.path().join("package.zip");
        std::fs::hard_link(&file, &served).or_else(|_| std::fs::copy(&file, &served).map(|_| ())).unwrap();
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
                row("updates: PUC checks per second (one buyer again)", format!("{:.0}/s", p.rps), "", true);
                row("updates: PUC, one buyer, p99 (64 connections)", format!("{:.2} ms", p.p99), "< 10 ms", p.p99 < 10.0);
                row("updates: /v1/health per second (better of 2 runs)", format!("{:.0}/s", h.rps), "", true);
                let ratio = p.rps / h.rps;
                row("updates: PUC, one buyer, throughput / health", format!("{:.0}%", ratio * 100.0), ">= 70%", ratio >= 0.7);
            }
            (p, h) => {
                let why = p.as_ref().err().or(h.as_ref().err()).cloned().unwrap_or_default();
                row(&format!("updates: PUC metadata under load ({})", why.lines().next().unwrap_or("")), "-".into(), "", false);
            }
        }
        match (&many, &health) {
            (Ok(p), Ok(h)) => {
                row(&format!("updates: PUC, {buyers} buyers' codes, per second"), format!("{:.0}/s", p.rps), "", true);
                row("updates: PUC, many buyers, p99 (64 connections)", format!("{:.2} ms", p.p99), "< 10 ms", p.p99 < 10.0);
                let ratio = p.rps / h.rps;
                row("updates: PUC, many buyers, throughput / health", format!("{:.0}%", ratio * 100.0), ">= 70%", ratio >= 0.7);
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
        let growth_mb = growth / (1024.0 * 1024.0);
        let large_mb = large_growth / (1024.0 * 1024.0);
        // The figure itself (threads of the blocking pool, allocator arenas, chunks in flight);
        // the target is that it does not grow with the package size (the row after next).
        row(&format!("updates: server peak memory, 16 x {PACKAGE_MB} MB (over start)"), format!("{growth_mb:+.1} MB"), "", true);
        match large_run {
            Ok(l) => {
                row(&format!("updates: {LARGE_MB} MB downloads, 16 clients"), format!("{:.0} MB/s", mb(&l)), "", true);
                row(
                    &format!("updates: server peak memory, 16 x {LARGE_MB} MB (over start)"),
                    format!("{large_mb:+.1} MB"),
                    &format!("< {:.0} MB", growth_mb + 4.0),
                    large_mb < growth_mb + 4.0,
                );
            }
            Err(e) => row(&format!("updates: {LARGE_MB} MB downloads ({})", e.lines().next().unwrap_or("")), "-".into(), "", false),
        }
    });
}
