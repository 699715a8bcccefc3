//! What every command shares: the data folder, the Envato address in force, and the ways to open
//! the store, the keychain and an Envato client over them.

use crate::args::Cli;
use keymanager::envato::{ApiBase, ClientConfig, EnvatoClient};
use keymanager::keychain::Keychain;
use keymanager::sync::worker::ClientSource;
use keymanager::{paths, Error, Store};
use std::path::PathBuf;

pub struct Ctx {
    data_dir: Option<PathBuf>,
    envato_api_base: Option<String>,
}

impl Ctx {
    pub fn new(cli: &Cli) -> Ctx {
        Ctx { data_dir: cli.data_dir.clone(), envato_api_base: cli.envato_api_base.clone() }
    }

    pub fn data_dir(&self) -> Result<PathBuf, Error> {
        paths::data_dir(self.data_dir.clone())
    }

    pub fn store(&self) -> Result<Store, Error> {
        Store::open_in_dir(&self.data_dir()?)
    }

    /// Envato, or the developer override (`--envato-api-base`, checked: this machine only).
    pub fn api(&self) -> Result<ApiBase, Error> {
        ApiBase::resolve(self.envato_api_base.as_deref())
    }

    /// The keychain entry of this data folder for the Envato address in force.
    pub fn keychain(&self) -> Result<Keychain, Error> {
        Keychain::for_data_dir(&self.data_dir()?, &self.api()?)
    }

    pub fn client_config(&self) -> Result<ClientConfig, Error> {
        Ok(ClientConfig::new(self.api()?.as_str()))
    }

    /// Where this profile's token is: the credential file (`KEYMANAGER_ENVATO_TOKEN_FILE` or
    /// systemd's credentials, what a server without a keychain uses), else the keychain.
    pub fn clients(&self) -> Result<ClientSource, Error> {
        ClientSource::for_profile(&self.data_dir()?, &self.api()?)
    }

    /// A client for the stored token (keychain or credential file), bound to the address it was
    /// validated against; None without a stored token. Interactive limits (fail in seconds) for
    /// one-off commands.
    pub fn stored_client(&self, interactive: bool) -> Result<Option<EnvatoClient>, Error> {
        let client = self.clients()?.client_blocking()?;
        Ok(client.map(|c| if interactive { c.interactive() } else { c }))
    }
}

pub fn runtime() -> Result<tokio::runtime::Runtime, Error> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::internal(format!("Cannot start the async runtime: {e}.")))
}

/// Reads a secret from standard input: hidden when typed at a terminal, else one line. The
/// buffer is wiped when dropped.
pub fn read_secret(prompt: &str, what: &str) -> Result<zeroize::Zeroizing<String>, Error> {
    use std::io::{self, IsTerminal};
    if io::stdin().is_terminal() {
        eprint!("{prompt}");
        return rpassword::read_password()
            .map(zeroize::Zeroizing::new)
            .map_err(|e| Error::invalid_input(format!("Cannot read {what}: {e}.")));
    }
    let mut line = zeroize::Zeroizing::new(String::with_capacity(128));
    io::stdin()
        .read_line(&mut line)
        .map_err(|e| Error::invalid_input(format!("Cannot read {what} from standard input: {e}.")))?;
    Ok(line)
}

impl Ctx {
    /// The seller's other secrets (webhook secrets, SMTP password) for this data folder.
    pub fn secrets(&self) -> Result<keymanager::secrets::Secrets, Error> {
        Ok(keymanager::secrets::Secrets::for_data_dir(&self.data_dir()?))
    }

    /// Delivers what is due in the outbox once, before a command that made events exits
    /// (at most `budget`); a failure to deliver is reported on stderr, never the command's error.
    pub fn deliver_outbox(&self, budget: std::time::Duration) -> Result<keymanager::outbox::DeliveryReport, Error> {
        use keymanager::outbox::Deliverer;
        let shared = keymanager::store::SharedStore::new(self.store()?);
        let deliverer = Deliverer::new(shared, self.secrets()?, std::sync::Arc::new(keymanager::time::now))?;
        runtime()?.block_on(deliverer.run_due(Some(budget)))
    }

    /// `deliver_outbox` after a change, its problems on stderr.
    pub fn deliver_after_change(&self) {
        // Most changes make no message (no endpoint, no e-mail): then nothing is set up at all.
        let due = self.store().and_then(|s| s.next_due()).map(|t| t.is_some_and(|t| t <= keymanager::time::now()));
        if !matches!(due, Ok(true)) {
            return;
        }
        match self.deliver_outbox(std::time::Duration::from_secs(20)) {
            Ok(r) => {
                for f in &r.newly_failing {
                    eprintln!("warning: delivery to {} is failing: {} (kept and retried)", f.label, f.error);
                }
            }
            Err(e) => eprintln!("warning: the outbox could not be delivered now: {}", e.message),
        }
    }
}
