use crate::context::Ctx;
use crate::output::{CmdResult, Out};
use keymanager::api::{http, signing, LicensingService};
use keymanager::outbox::{Deliverer, OutboxWorker};
use keymanager::secrets::Secrets;
use keymanager::sync::worker::SyncWorker;
use keymanager::sync::SharedStore;
use keymanager::verify::Verifier;
use keymanager::{time, Error, ErrorCode};
use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

/// `keymanager serve`: the licensing API, plus the background sync the app would run.
pub fn run(ctx: &Ctx, bind: &str, trusted_proxies: &[std::net::IpAddr], out: &mut Out) -> CmdResult {
    // Many clients mean many descriptors: the soft limit goes up to the hard one (LimitNOFILE=).
    keymanager::process::raise_open_files_limit();
    let dir = ctx.data_dir()?;
    let shared = SharedStore::new(ctx.store()?);
    let options = http::ServeOptions::from_settings(&shared.lock().settings()?, trusted_proxies.to_vec());
    // Secrets are checked now, not at the first request: a credential file others can read, a
    // symbolic link or a missing key file stops the start with its error.
    if let Some(path) = signing::credential_file(signing::TOKEN_FILE_ENV, "envato-token") {
        if path.exists() {
            signing::read_credential(&path)?;
        }
    }
    let signer = Arc::new(signing::SignerCell::load(&dir)?);
    let clients = ctx.clients()?;
    let verifier = Verifier::new(shared.clone(), clients.clone());
    let service = LicensingService::new(shared.clone(), Some(verifier), signer.clone());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::internal(format!("Cannot start the async runtime: {e}.")))?;
    let served: CmdResult = rt.block_on(async {
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
        // `keys rotate` takes effect here within seconds.
        let rotation = signing::SignerCell::watch(&signer);
        let router = http::router(service.clone(), shared, Arc::new(time::now), &options, Default::default());
        http::serve(listener, router, &options, shutdown())
            .await
            .map_err(|e| Error::internal(format!("The server stopped: {e}.")))?;
        // What validations saw in their last seconds is written, not dropped with the process.
        if let Err(e) = service.flush_seen().await {
            eprintln!("warning: the last validations' sightings were not written: {}", e.message);
        }
        rotation.abort();
        drop((worker, outbox));
        Ok::<(), crate::output::Failure>(())
    });
    // A sync or a keychain call still running is not waited for: the stop stays bounded.
    rt.shutdown_timeout(Duration::from_secs(1));
    served?;
    eprintln!("stopped");
    Ok(())
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
