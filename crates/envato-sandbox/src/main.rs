//! `envato-sandbox`: a local Envato Market API to point KeyManager at, without an Envato account.
//!
//!     envato-sandbox --port 8099
//!     keymanager --envato-api-base http://127.0.0.1:8099 ...

use clap::Parser;
use envato_sandbox::data::{self, GenSpec};
use envato_sandbox::{Faults, Sandbox, Switches, Variants};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "envato-sandbox", version, about = "A local stand-in for the Envato Market API (loopback only)")]
struct Args {
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 8099)]
    port: u16,
    /// Seed for the generated data set.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    #[arg(long, default_value_t = 12)]
    items: usize,
    #[arg(long, default_value_t = 500)]
    sales: usize,
    /// Days the generated sales spread over, ending now.
    #[arg(long, default_value_t = 90)]
    days: i64,
    /// Serve this JSON data set instead of generating one (the shape --dump-seed writes).
    #[arg(long, value_name = "FILE")]
    data: Option<PathBuf>,
    /// Write the data set as JSON and exit.
    #[arg(long, value_name = "FILE")]
    dump_seed: Option<PathBuf>,
    /// Sales-list entries carry code, buyer and purchase_count.
    #[arg(long)]
    sales_with_codes: bool,
    /// Status for an unknown purchase code: 404, or 200 with the 404 body.
    #[arg(long, default_value_t = 404)]
    unknown_code_status: u16,
    /// Leave Retry-After out of 429 replies.
    #[arg(long)]
    no_retry_after: bool,
    #[arg(long, default_value_t = 1)]
    retry_after_secs: u64,
    #[arg(long, default_value_t = 50)]
    page_size: usize,
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Every k-th request answers 429.
    #[arg(long, default_value_t = 0)]
    rate_limit_every: u64,
    /// Share of requests answered with a 5xx (0 to 1).
    #[arg(long, default_value_t = 0.0)]
    error_rate: f64,
    #[arg(long, default_value_t = 0.0)]
    drop_rate: f64,
    #[arg(long, default_value_t = 0.0)]
    truncate_rate: f64,
    #[arg(long, default_value_t = 0)]
    slow_body_ms: u64,
    /// Pad every answer with this many bytes (an oversized reply).
    #[arg(long, default_value_t = 0)]
    oversize_body_bytes: u64,
}

/// Prints a line, flushed, ignoring a closed stdout: the sandbox keeps serving (and stops
/// cleanly) when whoever started it stops reading.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, $($arg)*);
        let _ = out.flush();
    }};
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let dataset = match &args.data {
        Some(path) => match std::fs::read(path)
            .map_err(|e| e.to_string())
            .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()))
        {
            Ok(d) => d,
            Err(e) => {
                eprintln!("envato-sandbox: cannot read {}: {e}", path.display());
                return ExitCode::from(1);
            }
        },
        None => data::generate(&GenSpec {
            seed: args.seed,
            items: args.items,
            sales: args.sales,
            days: args.days,
            now: chrono::Utc::now(),
        }),
    };
    if let Some(path) = &args.dump_seed {
        return match std::fs::write(path, serde_json::to_vec_pretty(&dataset).unwrap_or_default()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("envato-sandbox: cannot write {}: {e}", path.display());
                ExitCode::from(1)
            }
        };
    }
    let switches = Switches {
        variants: Variants {
            sales_include_code: args.sales_with_codes,
            unknown_code_status: args.unknown_code_status,
            retry_after_secs: (!args.no_retry_after).then_some(args.retry_after_secs),
            page_size: args.page_size,
            unauthorized_plain_text: false,
        },
        faults: Faults {
            latency_ms: args.latency_ms,
            rate_limit_every: args.rate_limit_every,
            error_rate: args.error_rate,
            drop_rate: args.drop_rate,
            truncate_rate: args.truncate_rate,
            slow_body_ms: args.slow_body_ms,
            oversize_body_bytes: args.oversize_body_bytes,
            fail_next: Default::default(),
        },
    };
    // Listen for SIGTERM before announcing the address: whoever reads the address may stop us at once.
    #[cfg(unix)]
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    let (items, sales) = (dataset.items.len(), dataset.sales.len());
    let sandbox = Sandbox::new(dataset, switches, args.seed);
    let running = match sandbox.serve(SocketAddr::from(([127, 0, 0, 1], args.port))).await {
        Ok(r) => r,
        Err(e) => {
            eprintln!("envato-sandbox: cannot listen on 127.0.0.1:{}: {e}", args.port);
            return ExitCode::from(1);
        }
    };
    say!("envato-sandbox listening on {}", running.base_url());
    say!("  {items} items, {sales} sales of seller “{}”", data::SELLER);
    say!("  seller token (all permissions): {}", data::SELLER_TOKEN);
    say!("  token without sale:history:     {}", data::NO_SALES_SCOPE_TOKEN);
    say!("  token of a seller with no items: {}", data::NO_ITEMS_TOKEN);
    say!("  revoked token (401):            {}", data::REVOKED_TOKEN);
    say!(
        "  control API: {}/__sandbox/config, /__sandbox/sales, /__sandbox/refund, /__sandbox/stats",
        running.base_url()
    );

    #[cfg(unix)]
    wait_for_stop(term.as_mut()).await;
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
    say!("envato-sandbox stopping");
    running.stop().await;
    ExitCode::SUCCESS
}

#[cfg(unix)]
async fn wait_for_stop(term: Option<&mut tokio::signal::unix::Signal>) {
    match term {
        Some(term) => {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        }
        None => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
