//! What every command shares: the data folder, the Envato address in force, and the ways to open
//! the store, the keychain and an Envato client over them.

use crate::args::Cli;
use keymanager::envato::{ApiBase, ClientConfig, EnvatoClient};
use keymanager::keychain::Keychain;
use keymanager::{account, paths, Error, Store};
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

    /// A client for the stored token, bound to the address it was validated against; None
    /// without a stored token. Interactive limits (fail in seconds) for one-off commands.
    pub fn stored_client(&self, interactive: bool) -> Result<Option<EnvatoClient>, Error> {
        let cfg = self.client_config()?;
        let cfg = if interactive { account::interactive(cfg) } else { cfg };
        self.keychain()?.load()?.map(|token| EnvatoClient::new(cfg, token)).transpose()
    }
}

pub fn runtime() -> Result<tokio::runtime::Runtime, Error> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::internal(format!("Cannot start the async runtime: {e}.")))
}
