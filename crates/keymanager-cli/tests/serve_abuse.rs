//! `keymanager serve` attacked the way an anonymous client on the internet could (from this
//! machine, on loopback only): spending the seller's Envato quota, holding connections, forging
//! its address, driving the API from another site, filling the outbox. Each attack is a test,
//! with a positive control that shows the test would see the attack succeed.

use chrono::Utc;
use envato_sandbox::data::GenSpec;
use envato_sandbox::{Fault, RunningSandbox, Switches};
use serde_json::json;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

mod common;
use common::server::Server;
use common::Env;

async fn sandbox() -> RunningSandbox {
    RunningSandbox::start(GenSpec { seed: 91, items: 3, sales: 30, days: 60, now: Utc::now() }, Switches::default())
        .await
        .unwrap()
}

/// A well-formed purchase code the sandbox has never sold.
fn unknown_code(i: usize) -> String {
    format!("0123abcd-0000-4000-8000-{i:012x}")
}

fn sale_requests(sb: &RunningSandbox) -> u64 {
    sb.stats().by_endpoint.get("sale").copied().unwrap_or(0)
}

/// A request from `client` (through the trusted proxy on 127.0.0.1) for `code`.
async fn validate_as(server: &Server, client: &str, code: &str) -> (u16, serde_json::Value) {
    let r = server
        .http
        .post(format!("{}/v1/licenses/validate", server.base))
        .header("content-type", "application/json")
        .header("x-forwarded-for", client)
        .body(json!({ "purchase_code": code }).to_string())
        .send()
        .await
        .unwrap();
    server.checked(r).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_unseen_purchase_code_costs_at_most_one_envato_request() {
    let sb = sandbox().await;
    let env = Env::with_sandbox(&sb.base_url());
    env.set_token();
    let server = std::sync::Arc::new(Server::start_with(&env, &["--trusted-proxy", "127.0.0.1"]));
    sb.reset_stats();

    // Positive control: a genuine code not seen yet is verified at Envato (one request).
    let genuine = sb.dataset().sales[0].code.clone();
    let (_, v) = validate_as(&server, "198.51.100.1", &genuine).await;
    assert_eq!(v["code"], "PENDING_REVIEW", "{v}");
    assert_eq!(sale_requests(&sb), 1, "the first question about a code asks Envato");

    // Ten questions about one unknown code, one after another: one request, then the
    // negative cache answers.
    let code = unknown_code(1);
    for _ in 0..10 {
        let (s, v) = validate_as(&server, "198.51.100.1", &code).await;
        assert_eq!((s, v["code"].as_str()), (200, Some("NOT_FOUND")));
    }
    assert_eq!(sale_requests(&sb), 2, "ten questions, one Envato request");

    // Ten at once about another unknown code (Envato slow to answer): they share one request.
    sb.update_switches(|s| s.faults.latency_ms = 400);
    let code = unknown_code(2);
    let asks: Vec<_> = (0..10)
        .map(|i| {
            let (server, code) = (server.clone(), code.clone());
            tokio::spawn(async move { validate_as(&server, &format!("198.51.100.{}", 10 + i), &code).await })
        })
        .collect();
    for a in asks {
        assert_eq!(a.await.unwrap().1["code"], "NOT_FOUND");
    }
    assert_eq!(sale_requests(&sb), 3, "concurrent questions share one request");

    // The negative cache is in the database: a new server process does not ask again.
    let server = match std::sync::Arc::try_unwrap(server) {
        Ok(s) => s,
        Err(_) => panic!("the server is still shared"),
    };
    drop(server);
    let server = std::sync::Arc::new(Server::start_with(&env, &["--trusted-proxy", "127.0.0.1"]));
    let (_, v) = validate_as(&server, "198.51.100.1", &unknown_code(1)).await;
    assert_eq!(v["code"], "NOT_FOUND");
    assert_eq!(sale_requests(&sb), 3, "remembered across processes");

    // Thirty distinct unknown codes at once from three clients: never more than 3 requests in
    // flight at Envato (the process's one client), of which unseen codes take at most 2 (the
    // background sync of `serve` may hold the third).
    sb.reset_stats();
    let asks: Vec<_> = (0..30)
        .map(|i| {
            let server = server.clone();
            tokio::spawn(
                async move { validate_as(&server, &format!("203.0.113.{}", i % 3), &unknown_code(100 + i)).await },
            )
        })
        .collect();
    let mut answered = std::collections::BTreeMap::<String, u32>::new();
    for a in asks {
        *answered.entry(a.await.unwrap().1["code"].as_str().unwrap().to_string()).or_default() += 1;
    }
    let stats = sb.stats();
    assert!(stats.max_in_flight >= 2, "positive control: requests did overlap ({stats:?})");
    assert!(stats.max_in_flight <= 3, "at most 3 in flight at Envato: {stats:?}");
    assert!(answered.get("NOT_FOUND").copied().unwrap_or(0) >= 1, "{answered:?}");
    assert!(sale_requests(&sb) <= 30, "{stats:?}");
    sb.update_switches(|s| s.faults.latency_ms = 0);

    // One client has 10 unseen codes an hour: the eleventh is refused with 429, and Envato is
    // not asked.
    let before = sale_requests(&sb);
    for i in 0..10 {
        let (s, v) = validate_as(&server, "192.0.2.50", &unknown_code(1000 + i)).await;
        assert!(s == 200 || s == 429, "{v}");
    }
    let (s, v) = validate_as(&server, "192.0.2.50", &unknown_code(1100)).await;
    assert_eq!((s, v["code"].as_str()), (429, Some("RATE_LIMITED")), "{v}");
    assert!(sale_requests(&sb) <= before + 10);
    // Known codes still answer for that client: the budget is for unseen codes only.
    let (s, v) = validate_as(&server, "192.0.2.50", &genuine).await;
    assert_eq!((s, v["code"].as_str()), (200, Some("PENDING_REVIEW")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_limiting_envato_is_answered_503_at_once_not_waited_out() {
    let sb = sandbox().await;
    let env = Env::with_sandbox(&sb.base_url());
    env.set_token();
    let server = Server::start(&env);
    sb.update_switches(|s| {
        s.variants.retry_after_secs = Some(30);
        s.faults.fail_next.extend([Fault::RateLimit; 5]);
    });
    sb.reset_stats();
    let started = Instant::now();
    let r = server
        .http
        .post(format!("{}/v1/activations", server.base))
        .header("content-type", "application/json")
        .body(json!({ "purchase_code": unknown_code(7), "fingerprint": "f", "nonce": "n-503" }).to_string())
        .send()
        .await
        .unwrap();
    let retry: u64 = r.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    let (s, v) = server.checked(r).await;
    assert_eq!((s, v["code"].as_str(), v["nonce"].as_str()), (503, Some("ENVATO_UNAVAILABLE"), Some("n-503")));
    assert!(started.elapsed() < Duration::from_secs(1), "answered at once: {:?}", started.elapsed());
    assert!((25..=30).contains(&retry), "Envato's Retry-After: {retry}");
    assert_eq!(sale_requests(&sb), 1, "one request, no retry inside the request");
    // While the circuit is open, other unseen codes are not even asked.
    let (s, v) = server.post("/v1/licenses/validate", json!({ "purchase_code": unknown_code(8) })).await;
    assert_eq!((s, v["code"].as_str()), (503, Some("ENVATO_UNAVAILABLE")));
    assert_eq!(sale_requests(&sb), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sale_waiting_for_review_is_answered_from_the_database() {
    let sb = sandbox().await;
    let env = Env::with_sandbox(&sb.base_url());
    env.set_token();
    let code = sb.dataset().sales[3].code.clone();
    sb.reset_stats();
    let (rc, out, _) = env.out(&["lookup", &code]);
    assert_eq!(rc, 0, "{out}");
    assert!(out.contains("review queue"), "{out}");
    assert_eq!(sale_requests(&sb), 1, "positive control: the first lookup asked Envato");
    let (rc, out, _) = env.out(&["lookup", &code]);
    assert_eq!(rc, 0);
    assert!(out.contains("review queue"), "{out}");
    assert_eq!(sale_requests(&sb), 1, "the second lookup of a waiting sale asks nothing");
}

/// Opens a connection from `source` (another loopback address: each is its own client) and
/// sends `bytes` (maybe nothing). Blocking from then on.
async fn open_from(source: &str, to: SocketAddr, bytes: &[u8]) -> std::io::Result<TcpStream> {
    let socket = tokio::net::TcpSocket::new_v4()?;
    socket.bind(format!("{source}:0").parse().unwrap())?;
    let stream = socket.connect(to).await?.into_std()?;
    stream.set_nonblocking(false)?;
    let mut s = stream;
    s.write_all(bytes)?;
    Ok(s)
}

/// Whether the server closed `s` (read returns 0 or an error) within `within`.
fn closed_within(s: &mut TcpStream, within: Duration) -> bool {
    s.set_read_timeout(Some(within)).unwrap();
    let mut buf = [0u8; 512];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {
                return false
            }
            Err(_) => return true,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_and_idle_clients_cannot_hold_the_server() {
    let env = Env::new();
    let mut server = Server::start(&env);
    let addr = server.addr();

    // Positive control: a connection that sends nothing is open until the header timeout.
    let mut half =
        open_from("127.0.0.3", addr, b"POST /v1/licenses/validate HTTP/1.1\r\nHost: x\r\nContent-").await.unwrap();
    assert!(!closed_within(&mut half, Duration::from_secs(2)), "open while its headers may still come");
    // A half-sent header is closed within the 10 seconds (and a little).
    let started = Instant::now();
    assert!(closed_within(&mut half, Duration::from_secs(12)), "closed at the header timeout");
    assert!(started.elapsed() >= Duration::from_secs(5), "not before its time: {:?}", started.elapsed());

    // One address may hold 32 connections; the 33rd is closed at once.
    let mut held: Vec<TcpStream> = Vec::new();
    for _ in 0..32 {
        held.push(open_from("127.0.0.4", addr, b"GET /v1/hea").await.unwrap());
    }
    let mut extra = open_from("127.0.0.4", addr, b"").await.unwrap();
    assert!(closed_within(&mut extra, Duration::from_secs(2)), "the 33rd connection of one address is closed");
    assert!(!closed_within(&mut held[0], Duration::from_millis(300)), "positive control: the 32 are held");

    // 150 idle connections from five more addresses do not stop a real request from another.
    for a in 5..10 {
        for _ in 0..30 {
            held.push(open_from(&format!("127.0.0.{a}"), addr, b"").await.unwrap());
        }
    }
    let started = Instant::now();
    let (s, _) = server.get("/v1/health").await;
    assert_eq!(s, 200);
    assert!(started.elapsed() < Duration::from_secs(2), "answered at once: {:?}", started.elapsed());

    // SIGTERM with a slow client attached (a request whose body never finishes): the server
    // stops within 10 seconds.
    let mut slow = open_from(
        "127.0.0.11",
        addr,
        b"POST /v1/licenses/validate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{",
    )
    .await
    .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let took = server.terminate();
    assert!(took < Duration::from_secs(10), "stopped in {took:?}");
    assert!(server.output().contains("stopped"), "{}", server.output());
    assert!(closed_within(&mut slow, Duration::from_secs(1)));
    drop(held);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_descriptor_limit_is_not_exhausted_by_idle_connections() {
    // The review's attack: 128 descriptors, 120 half-sent requests from one address, then a real
    // request and a sync. The per-address cap holds 32; the rest are closed at once, and the
    // connection cap never leaves the server without descriptors of its own.
    let sb = sandbox().await;
    let env = Env::with_sandbox(&sb.base_url());
    env.set_token();
    let server = Server::spawn(&env, &[], |cmd| {
        use std::os::unix::process::CommandExt;
        // SAFETY: setrlimit in the child before exec touches only the child.
        unsafe {
            cmd.pre_exec(|| {
                let r = libc::rlimit { rlim_cur: 128, rlim_max: 128 };
                libc::setrlimit(libc::RLIMIT_NOFILE, &r);
                Ok(())
            });
        }
    });
    let addr = server.addr();
    let mut held = Vec::new();
    for _ in 0..120 {
        if let Ok(s) = open_from("127.0.0.20", addr, b"GET / HTTP/1.1\r\nHost").await {
            held.push(s);
        }
    }
    let still_open = held.iter_mut().map(|s| !closed_within(s, Duration::from_millis(20))).filter(|open| *open).count();
    assert!((30..=32).contains(&still_open), "one address holds at most 32: {still_open}");
    let started = Instant::now();
    let (s, v) = server.get("/v1/health").await;
    assert_eq!((s, v["code"].as_str()), (200, Some("OK")));
    assert!(started.elapsed() < Duration::from_secs(3), "{:?}", started.elapsed());
    // A purchase code not seen yet still reaches Envato: the server has descriptors left.
    let code = sb.dataset().sales[2].code.clone();
    let (s, v) = server.post("/v1/licenses/validate", json!({ "purchase_code": code })).await;
    assert_eq!((s, v["code"].as_str()), (200, Some("PENDING_REVIEW")), "{v}");
    assert!(!server.output().contains("Too many open files"), "{}", server.output());
    drop(held);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_forwarded_for_lines_and_mapped_addresses_buy_no_quota() {
    let env = Env::new();
    assert!(env.run(&["settings", "set", "serve_requests_per_minute", "3"], "").status.success());
    // A dual-stack listener sees the IPv4 proxy as ::ffff:127.0.0.1; it is still trusted.
    let mut server = Server::spawn_at(&env, "[::]:0", &["--trusted-proxy", "127.0.0.1"], |_| {});
    assert!(server.base.contains("[::]"), "{}", server.base);
    let port: u16 = server.base.rsplit(':').next().unwrap().parse().unwrap();
    server.base = format!("http://127.0.0.1:{port}");
    let health = |lines: &[&str]| {
        let mut r = server.http.get(format!("{}/v1/health", server.base));
        for l in lines {
            r = r.header("x-forwarded-for", *l);
        }
        async move { r.send().await.unwrap().status().as_u16() }
    };
    // The proxy appends the real client as the last line; the attacker forges the first.
    for i in 0..3 {
        assert_eq!(health(&[&format!("10.9.9.{i}"), "198.51.100.7"]).await, 200);
    }
    assert_eq!(health(&["10.9.9.99", "198.51.100.7"]).await, 429, "a forged first line buys nothing");
    // Positive control: another real client (last line) has its own quota, so the proxy's
    // header is read at all (the mapped peer matched --trusted-proxy).
    assert_eq!(health(&["10.9.9.99", "198.51.100.8"]).await, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_sites_cannot_drive_the_api_or_the_buyer_forms() {
    let env = Env::new();
    let server = Server::start(&env);
    // `text/plain` needs no CORS preflight: any page could post it. Refused, signed.
    let r = server
        .http
        .post(format!("{}/v1/licenses/validate", server.base))
        .header("content-type", "text/plain")
        .body(r#"{"key":"AAAAA-AAAAA-AAAAA-AAAAA","nonce":"n"}"#)
        .send()
        .await
        .unwrap();
    let (s, v) = server.checked(r).await;
    assert_eq!((s, v["code"].as_str()), (415, Some("UNSUPPORTED_MEDIA_TYPE")));
    assert!(v.get("nonce").is_none(), "answered before the body was read");
    // Positive control: the same body as JSON is answered.
    let (s, v) = server.post_raw("/v1/licenses/validate", br#"{"key":"AAAAA-AAAAA-AAAAA-AAAAA"}"#.to_vec()).await;
    assert_eq!((s, v["code"].as_str()), (200, Some("NOT_FOUND")));

    // A wrong method: a signed 405 that names the right one.
    let r = server.http.get(format!("{}/v1/licenses/validate", server.base)).send().await.unwrap();
    assert_eq!(r.headers()["allow"], "POST");
    let (s, v) = server.checked(r).await;
    assert_eq!((s, v["code"].as_str()), (405, Some("METHOD_NOT_ALLOWED")));
    let r = server.http.post(format!("{}/v1/health", server.base)).send().await.unwrap();
    assert_eq!(r.headers()["allow"], "GET, HEAD");
    assert_eq!(server.checked(r).await.0, 405);

    // A form posted from another site is refused before anything is looked up.
    for (header, value) in [("origin", "https://evil.example"), ("sec-fetch-site", "cross-site"), ("origin", "null")] {
        let r = server
            .http
            .post(format!("{}/", server.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .header(header, value)
            .body("purchase_code=0123abcd-0000-4000-8000-00000000beef")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403, "{header}: {value}");
        assert!(r.text().await.unwrap().contains("only be sent from this page"));
    }
    // Positive control: from the page itself it is answered.
    let r = server.form("/", &[("purchase_code", "0123abcd-0000-4000-8000-00000000beef")]).await.unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_say_which_question_they_answer_and_a_rotated_key_signs_within_seconds() {
    let env = Env::new();
    let p = env.json(&["products", "add", "--name", "Theme", "--item-id", "4242", "--json"]);
    let key = env.ok(&["licenses", "issue", "--product", &p["id"].to_string()]).trim().to_string();
    let mut server = Server::start(&env);
    let (_, v) = server.post("/v1/activations", json!({"key": key, "fingerprint": "site-1", "item_id": 4242})).await;
    assert_eq!(v["request"], json!({"fingerprint": "site-1", "site": null, "item_id": 4242, "product_id": null}));
    let (_, v) = server.post("/v1/licenses/validate", json!({"key": key, "fingerprint": "site-1"})).await;
    assert_eq!(v["code"], "VALID");
    assert_eq!(v["request"], json!({"fingerprint": "site-1", "site": null, "item_id": null, "product_id": null}));
    let (_, v) = server.post("/v1/activations/deactivate", json!({"key": key, "fingerprint": "nope"})).await;
    assert_eq!(v["request"]["fingerprint"], "nope");

    // `keys rotate` while the server runs: within 5 seconds its answers are signed by the new key.
    let old = server.public_key.clone();
    let (rc, out, _) = env.out(&["keys", "rotate"]);
    assert_eq!(rc, 0);
    assert!(out.contains("within"), "it says when: {out}");
    let new = out.lines().next().unwrap().trim().to_string();
    assert_ne!(new, old);
    let deadline = Instant::now() + Duration::from_secs(5);
    server.public_key = new.clone();
    loop {
        let r = server.http.get(format!("{}/v1/health", server.base)).send().await.unwrap();
        let sig = r.headers()["keymanager-signature"].to_str().unwrap().trim_start_matches("ed25519=").to_string();
        let body = r.bytes().await.unwrap();
        if keymanager::signing::verify(&new, &body, &sig) {
            break;
        }
        assert!(keymanager::signing::verify(&old, &body, &sig), "signed by the old key until then");
        assert!(Instant::now() < deadline, "still the old key after 5 s");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (_, v) = server.get("/v1/public-key").await;
    assert_eq!(v["public_key"], new.as_str());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_at_the_limit_cannot_fill_the_outbox() {
    let env = Env::new();
    let p = env.json(&["products", "add", "--name", "Plugin", "--activation-limit", "1", "--json"]);
    let key = env.ok(&["licenses", "issue", "--product", &p["id"].to_string()]).trim().to_string();
    // An endpoint that wants every event (its URL need not answer: nothing is delivered here).
    assert!(env.run(&["webhooks", "add", "http://127.0.0.1:9/hook"], "").status.success());
    let server = Server::start_with(&env, &["--trusted-proxy", "127.0.0.1"]);
    let (s, _) = server.post("/v1/activations", json!({"key": key, "fingerprint": "first"})).await;
    assert_eq!(s, 201);
    let count = |kind: &str| {
        let all = env.json(&["webhooks", "deliveries", "--json"]);
        all.as_array().unwrap().iter().filter(|m| m["event_type"] == kind).count()
    };
    assert_eq!(count("activation.created"), 1, "positive control: events are queued");
    for _ in 0..60 {
        let (s, v) = server.post("/v1/activations", json!({"key": key, "fingerprint": "second"})).await;
        assert_eq!((s, v["code"].as_str()), (422, Some("ACTIVATION_LIMIT_EXCEEDED")));
    }
    assert_eq!(count("activation.limit_reached"), 1, "sixty refusals, one message");
    let (s, _) = server.post("/v1/activations", json!({"key": key, "fingerprint": "third"})).await;
    assert_eq!(s, 422);
    assert_eq!(count("activation.limit_reached"), 2, "another fingerprint is news");
}
