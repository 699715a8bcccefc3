use crate::context::Ctx;
use crate::output::{CmdResult, Out};
use keymanager::api::{http, signing, LicensingService};
use keymanager::outbox::{Deliverer, OutboxWorker};
use keymanager::secrets::Secrets;
use keymanager::sync::worker::{ClientSource, SyncWorker};
use keymanager::sync::SharedStore;
use keymanager::{time, Error, ErrorCode};
use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

/// `keymanager serve`: the licensing API, plus the background sync the app would run.
pub fn run(ctx: &Ctx, bind: &str, trusted_proxies: &[std::net::IpAddr], out: &mut Out) -> CmdResult {
    let dir = ctx.data_dir()?;
    let shared = SharedStore::new(ctx.store()?);
    let options = http::ServeOptions {
        requests_per_minute: shared.lock().settings()?.serve_requests_per_minute,
        trusted_proxies: trusted_proxies.to_vec(),
    };
    let signer = Arc::new(signing::load_or_create(&dir)?);
    let clients = ClientSource::for_profile(&dir, &ctx.api()?)?;
    let service = LicensingService::new(shared.clone(), Some(clients.clone()), signer);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::internal(format!("Cannot start the async runtime: {e}.")))?;
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind(bind).await.map_err(|e| {
            Error::new(ErrorCode::InputInvalid, format!("Cannot listen on {bind}: {e}.")).with_field("bind")
        })?;
        let addr = listener.local_addr().map_err(|e| Error::internal(format!("No local address: {e}.")))?;
        // The first line names the real port (port 0 picks one), for scripts and tests.
        writeln!(out.w, "listening on http://{addr}")?;
        out.flush()?;
        let worker = SyncWorker::spawn(shared.clone(), clients, Arc::new(time::now), Duration::from_secs(5));
        // Webhooks and e-mails: delivered while the server runs, as the app does.
        let deliverer = Deliverer::new(shared.clone(), Secrets::for_data_dir(&dir), Arc::new(time::now))?;
        let outbox = OutboxWorker::spawn(Arc::new(deliverer), Duration::from_secs(5));
        keymanager::backup::spawn_daily(shared.clone(), dir.clone(), Arc::new(time::now));
        let router = http::router(service, shared, Arc::new(time::now), &options, Default::default());
        http::serve(listener, router, shutdown())
            .await
            .map_err(|e| Error::internal(format!("The server stopped: {e}.")))?;
        drop((worker, outbox));
        eprintln!("stopped");
        Ok(())
    })
}

/// Ctrl+C or SIGTERM.
async fn shutdown() {
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(t) => t,
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
                return;
            }
        };
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}
