//! What the server benchmarks share (`#[path]`-included): one row of the printed table, and a
//! 10-second run of oha, the load generator `scripts/bench.sh` installs.

use std::process::Command;

/// One row of the table `make bench` prints: the figure, its target, and whether it is met.
pub fn row(what: &str, value: String, target: &str, ok: bool) {
    println!("| {what:<44} | {value:>12} | {target:>8} | {:<6} |", if ok { "met" } else { "MISSED" });
}

/// What oha measured: requests per second, p50 and p99 in milliseconds, bytes per second. Each
/// benchmark reads the figures it reports.
#[allow(dead_code)]
pub struct Load {
    pub rps: f64,
    pub p50: f64,
    pub p99: f64,
    pub bytes_per_sec: f64,
}

/// oha against `url` for 10 s with `connections` at once; `args` are oha's own (headers, a
/// method and body, `--urls-from-file`). Every answer must be 200.
pub fn oha(url: &str, connections: u32, args: &[&str]) -> Result<Load, String> {
    let mut cmd = Command::new("oha");
    cmd.args(["-z", "10s", "-c", &connections.to_string(), "--no-tui", "--output-format", "json"]);
    // As through the reverse proxy on this machine (a trusted proxy): the client's address is
    // read from X-Forwarded-For, the path every deployed request takes.
    cmd.args(["-H", "x-forwarded-for: 198.51.100.7"]);
    cmd.args(args);
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
        bytes_per_sec: f(&v["summary"]["sizePerSec"]),
    })
}
