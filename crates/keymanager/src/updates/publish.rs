//! Publishing: a zip becomes a release (read, checked, stored, recorded in one go, or nothing
//! at all), a published release is re-released under a newer version (the only rollback that
//! reaches sites already updated: WordPress never downgrades), a draft is removed with its
//! package. The CLI and the app call these; the store keeps the rows, `package` the files.

use super::package::{self, Contents};
use super::{Release, ReleaseChannel, UpdateKind};
use crate::error::{Error, ErrorCode, Result};
use crate::store::NewRelease;
use crate::time::Timestamp;
use crate::Store;
use serde::{Deserialize, Serialize};
use std::io::Read;
use std::path::Path;
use ts_rs::TS;

/// What the seller asks for with a zip.
#[derive(Debug, Clone, Default, Deserialize, TS, serde::Serialize)]
pub struct AddRelease {
    #[ts(type = "number")]
    pub product_id: i64,
    #[serde(default)]
    #[ts(optional)]
    pub channel: Option<ReleaseChannel>,
    /// The changelog (else the package's readme.txt entry for this version).
    #[serde(default)]
    #[ts(optional)]
    pub notes: Option<String>,
    /// Required for a generic package; must match the package's header otherwise.
    #[serde(default)]
    #[ts(optional)]
    pub version: Option<String>,
    /// Publish at once (else it stays a draft).
    #[serde(default)]
    pub publish: bool,
    #[serde(default)]
    #[ts(optional)]
    pub rollout: Option<u32>,
}

/// A release added, with what was read from its package.
#[derive(Debug, Clone, Serialize, TS, serde::Deserialize)]
pub struct Added {
    pub release: Release,
    /// The package's top-level folder (the product's update slug).
    pub folder: String,
    pub kind: Option<UpdateKind>,
    /// The file the version was read from (`km-test/km-test.php`, `km-theme/style.css`).
    pub version_from: Option<String>,
}

/// The most a package may unpack to: generous for real plugins, fatal for zip bombs.
fn unpack_limit(max_bytes: u64) -> u64 {
    max_bytes.saturating_mul(20).clamp(64 * 1024 * 1024, 16 * 1024 * 1024 * 1024)
}

/// Reads `from` as a release of `req.product_id` and records it (a draft, or published with
/// `req.publish`). A refused package leaves no file and no row.
pub fn add_release(
    store: &mut Store,
    data_dir: &Path,
    from: &mut impl Read,
    req: &AddRelease,
    now: Timestamp,
) -> Result<Added> {
    let product = store.product_updates(req.product_id)?.ok_or_else(|| {
        Error::new(ErrorCode::ProductNotFound, format!("There is no product with ID {}.", req.product_id))
    })?;
    let max = store.settings()?.release_max_mb as u64 * 1024 * 1024;
    let staged = package::stage(data_dir, from, max)?;
    let contents = package::read_for(staged.path(), product.kind, product.slug.as_deref(), unpack_limit(max))?;
    let kind = contents.kind.or(product.kind);
    let is_wordpress = matches!(kind, Some(UpdateKind::WpPlugin | UpdateKind::WpTheme));
    if is_wordpress {
        if let Some(slug) = &product.slug {
            if *slug != contents.folder {
                return Err(Error::new(
                    ErrorCode::ReleaseWrongFolder,
                    format!(
                        "The zip's folder is “{}”, but {}'s update slug is “{slug}”: WordPress would install it as another plugin.",
                        contents.folder, product.product_name
                    ),
                ));
            }
        }
    }
    let version = match (&contents.version, req.version.as_deref().map(str::trim)) {
        (Some(found), Some(asked)) if found != asked => {
            return Err(Error::new(
                ErrorCode::ReleaseVersionMismatch,
                format!(
                    "The package says version {found} ({}), not {asked}.",
                    contents.main_file.as_deref().unwrap_or("its header")
                ),
            )
            .with_field("version"))
        }
        (Some(found), _) => found.clone(),
        (None, Some(asked)) if !is_wordpress => asked.to_string(),
        (None, _) if is_wordpress => {
            return Err(Error::new(
                ErrorCode::ReleaseVersionMismatch,
                format!("{} has no “Version:” header.", contents.main_file.as_deref().unwrap_or("The package")),
            ))
        }
        (None, _) => return Err(Error::invalid_input("Give the release's version (--version).").with_field("version")),
    };
    let slug = if is_wordpress || product.slug.is_none() { Some(contents.folder.clone()) } else { None };
    let new =
        new_release(req, &product, &contents, version, slug.filter(|s| super::valid_slug(s)), kind, &staged.digests);
    let kept = staged.keep()?;
    let release = match store.insert_release(&new, now) {
        Ok(r) => r,
        Err(e) => {
            forget_package(store, &kept, &new.digests.sha256);
            return Err(e);
        }
    };
    let release = if req.publish { store.publish_release(release.id, req.rollout, now)? } else { release };
    Ok(Added { release, folder: contents.folder, kind, version_from: contents.main_file })
}

/// `add_release` of the zip at `path` (a file dropped on the window, a CLI argument).
pub fn add_release_file(
    store: &mut Store,
    data_dir: &Path,
    path: &Path,
    req: &AddRelease,
    now: Timestamp,
) -> Result<Added> {
    let meta = std::fs::metadata(path)
        .map_err(|e| Error::invalid_input(format!("Cannot open {}: {e}.", path.display())).with_field("file"))?;
    if !meta.is_file() {
        return Err(Error::invalid_input(format!("{} is not a file.", path.display())).with_field("file"));
    }
    let mut f = std::fs::File::open(path)
        .map_err(|e| Error::invalid_input(format!("Cannot open {}: {e}.", path.display())).with_field("file"))?;
    add_release(store, data_dir, &mut f, req, now)
}

fn new_release(
    req: &AddRelease,
    product: &super::ProductUpdates,
    c: &Contents,
    version: String,
    slug: Option<String>,
    kind: Option<UpdateKind>,
    digests: &package::Digests,
) -> NewRelease {
    NewRelease {
        product_id: product.product_id,
        version,
        channel: req.channel.unwrap_or(ReleaseChannel::Stable),
        changelog: req.notes.clone().or_else(|| c.changelog.clone()).unwrap_or_default(),
        upgrade_notice: c.upgrade_notice.clone().unwrap_or_default(),
        requires: c.requires.clone(),
        tested: c.tested.clone(),
        requires_php: c.requires_php.clone(),
        digests: digests.clone(),
        meta: c.meta.clone(),
        slug,
        kind,
    }
}

/// Removes a package file no release names any more.
fn forget_package(store: &Store, file: &Path, sha256: &str) {
    if !store.package_in_use(sha256).unwrap_or(true) {
        let _ = std::fs::remove_file(file);
    }
}

/// Makes a new release `version` from release `id`'s package, its version header rewritten (a
/// rollback: re-release the last good version under a number above the bad one). A draft in
/// the same channel, with `publish` published at once.
pub fn rerelease(
    store: &mut Store,
    data_dir: &Path,
    id: i64,
    version: &str,
    publish: bool,
    now: Timestamp,
) -> Result<Added> {
    let old = store
        .release(id)?
        .ok_or_else(|| Error::new(ErrorCode::ReleaseNotFound, format!("There is no release with ID {id}.")))?;
    let product = store
        .product_updates(old.product_id)?
        .ok_or_else(|| Error::new(ErrorCode::ProductNotFound, "The release's product is gone."))?;
    let source = package::path(data_dir, &old.sha256);
    let max = store.settings()?.release_max_mb as u64 * 1024 * 1024;
    let contents = package::read(&source, product.kind, unpack_limit(max.max(old.size)))?;
    let notes = format!("Re-release of {}.\n{}", old.version, old.changelog).trim().to_string();
    let req = AddRelease {
        product_id: old.product_id,
        channel: Some(old.channel),
        notes: Some(notes),
        version: Some(version.to_string()),
        publish,
        rollout: None,
    };
    match contents.main_file {
        Some(main) => {
            crate::private_files::private_dir(&package::dir(data_dir))?;
            let mut nonce = [0u8; 8];
            getrandom::fill(&mut nonce).map_err(|e| Error::internal(format!("No randomness: {e}.")))?;
            let temp_path = package::dir(data_dir).join(format!(".rerelease-{}", crate::text::hex(&nonce)));
            let io = |e: std::io::Error| Error::new(ErrorCode::StoreIo, format!("Cannot write the package: {e}."));
            let mut temp =
                std::fs::File::options().read(true).write(true).create_new(true).open(&temp_path).map_err(io)?;
            let result = package::with_version(&source, &main, version, &mut temp)
                .and_then(|()| std::io::Seek::rewind(&mut temp).map_err(io))
                .and_then(|()| add_release(store, data_dir, &mut temp, &req, now));
            let _ = std::fs::remove_file(&temp_path);
            result
        }
        None => {
            let mut f = std::fs::File::open(&source)
                .map_err(|e| Error::new(ErrorCode::StoreIo, format!("Cannot read the package: {e}.")))?;
            add_release(store, data_dir, &mut f, &req, now)
        }
    }
}

/// Removes a draft and, when no other release names it, its package.
pub fn remove_release(store: &mut Store, data_dir: &Path, id: i64, now: Timestamp) -> Result<Release> {
    let r = store.remove_release(id, now)?;
    forget_package(store, &package::path(data_dir, &r.sha256), &r.sha256);
    Ok(r)
}
