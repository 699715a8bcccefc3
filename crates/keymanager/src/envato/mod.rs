//! Everything that talks to Envato: the client, its tolerant decoders, purchase codes and the
//! names of token permissions.

pub mod api_base;
pub mod client;
pub mod decode;
pub mod purchase_code;
pub mod scopes;

pub use api_base::{ApiBase, ApiBaseInfo};
pub use client::{ClientConfig, EnvatoClient, SITES};
pub use decode::{Item, Rating, Sale, SearchPage, StatementEntry, StatementPage, WhoAmI};
pub use purchase_code::PurchaseCode;
