//! KeyManager's core. Everything that matters lives here, with no Tauri, GTK or webkit
//! dependency: the store, settings, licensing, and (in later modules) the Envato client, sync
//! and keychain access. The app in src-tauri/ and the `keymanager` CLI are thin shells over it.

pub mod account;
pub mod admin;
pub mod api;
pub mod backup;
pub mod bindings;
pub mod dashboard;
pub mod email;
pub mod envato;
pub mod error;
pub mod events;
pub mod export;
pub mod keychain;
pub mod license_key;
pub mod licensing;
pub mod lookup;
pub mod mailbox;
pub mod model;
pub mod money;
pub mod net;
pub mod outbox;
pub mod paths;
pub mod plan;
pub mod private_files;
pub mod process;
pub mod refund_watch;
pub mod release;
pub mod remote;
pub mod runtime;
pub mod secrets;
pub mod server;
pub mod settings;
pub mod signing;
pub mod site;
pub mod store;
pub mod sync;
pub mod text;
pub mod text_enum;
pub mod time;
pub mod token;
pub mod updates;
pub mod verify;
pub mod webhooks;
pub mod workspace;

pub use error::{Error, ErrorCode, Result};
pub use store::Store;

/// The version shown in the UI, the CLI and the Envato User-Agent.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
