//! Update delivery (shared/docs/updates-api.md): releases of a product, their packages, the one
//! eligibility rule, and the answers to the update clients WordPress sellers ship
//! (plugin-update-checker's metadata, EDD's `get_version`, KeyManager's signed check) and the
//! download links. Pure where it can be: `eligibility` decides from records and the request,
//! `package` reads zips from disk, `link` signs and reads download links; `service` asks the
//! store and puts them together for the HTTP server, the CLI and the app.

pub mod eligibility;
pub mod link;
pub mod package;
pub mod publish;
pub mod readme;
pub mod service;
pub mod snippet;
pub mod wire;

pub use crate::release::{
    rollout_bucket, valid_slug, version, Digests, PackageMeta, ProductUpdates, Release, ReleaseChannel, ReleaseStatus,
    UpdateCode, UpdateKind,
};
