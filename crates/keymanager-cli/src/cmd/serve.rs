use crate::context::Ctx;
use crate::output::{CmdResult, Out};
use keymanager::private_files;
use keymanager::runtime::{Runtime, RuntimeOptions};
use keymanager::server;
use keymanager::signing;
use keymanager::store::SharedStore;
use keymanager::{time, Error, ErrorCode};
use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

/// `keymanager serve`: the runtime every KeyManager process opens (sync, outbox, daily backups)
/// plus the HTTP listener.
pub fn run(ctx: &Ctx, bind: &str, trusted_proxies: &[std::net::IpAddr], out: &mut Out) -> CmdResult {
    // Many clients mean many descriptors: the soft limit goes up to the hard one (LimitNOFILE=).
    keymanager::process::raise_open_files_limit();
    let dir = ctx.data_dir()?;
    // Secrets are checked now, not at the first request: a credential file others can read, a
    // symbolic link or a missing key file stops the start with its error.
    if let Some(path) = private_files::credential_file(private_files::TOKEN_FILE_ENV, "envato-token") {
        if path.exists() {
            private_files::read_credential(&path)?;
        }
    }
    let signer = Arc::new(signing::SignerCell::load(&dir)?);
    signing::publish_public_key(&dir, &signer.current().public_key())?;
    let store = ctx.store()?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::internal(format!("Cannot start the async runtime: {e}.")))?;
    let served: CmdResult = rt.block_on(async {
        let listener = tokio::net::TcpListener::bind(bind).await.map_err(|e| {
            Error::new(ErrorCode::InputInvalid, format!("Cannot listen on {bind}: {e}.")).with_field("bind")
        })?;
        let addr = listener.local_addr().map_err(|e| Error::internal(format!("No local address: {e}.")))?;
        let runtime = Arc::new(Runtime::with_store(
            SharedStore::new(store),
            &dir,
            RuntimeOptions::new(ctx.api()?),
            Arc::new(time::now),
        )?);
        let shared = runtime.store().clone();
        let options =
            server::ServeOptions::from_settings(&shared.read(|s| s.settings()).await?, trusted_proxies.to_vec());
        // The first line names the real port (port 0 picks one), for scripts and tests.
        writeln!(out.w, "listening on http://{addr}")?;
        out.flush()?;
        let service = runtime.licensing(signer.clone());
        // `keys rotate` takes effect here within seconds.
        let rotation = signing::SignerCell::watch(&signer);
        let router = server::router(
            service.clone(),
            shared,
            runtime.clock(),
            &options,
            Default::default(),
            Some(runtime.clone()),
        );
        server::serve(listener, router, &options, shutdown())
            .await
            .map_err(|e| Error::internal(format!("The server stopped: {e}.")))?;
        // What validations saw in their last seconds is written, not dropped with the process.
        if let Err(e) = service.flush_seen().await {
            eprintln!("warning: the last validations' sightings were not written: {}", e.message);
        }
        rotation.abort();
        runtime.shutdown();
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
