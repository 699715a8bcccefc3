//! Release packages on disk: `packages/{sha256}.zip` in the data folder. A package comes in as a
//! stream, copied to a temporary file while it is hashed (SHA-256 for its name and `ETag`,
//! SHA-384 for WordPress's signature, MD5 for `Content-MD5`) and cut off at the size limit; it
//! is then read as a zip (every entry decompressed once, so a damaged one is caught now, not on
//! a buyer's site) and moved into place only when the release is recorded. Never read whole
//! into memory.

use super::readme::{header, Readme};
use super::{PackageMeta, UpdateKind};
use crate::error::{Error, ErrorCode, Result};
pub use crate::release::Digests;
use crate::text::hex;
use sha2::Digest;
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

/// The folder of packages in a data folder.
pub fn dir(data_dir: &Path) -> PathBuf {
    data_dir.join("packages")
}

/// A stored package's file.
pub fn path(data_dir: &Path, sha256: &str) -> PathBuf {
    dir(data_dir).join(format!("{sha256}.zip"))
}

/// A package copied in, not yet kept: dropping it removes the temporary file.
#[derive(Debug)]
pub struct Staged {
    temp: Option<PathBuf>,
    dir: PathBuf,
    pub digests: Digests,
}

fn io(what: &str, e: impl std::fmt::Display) -> Error {
    Error::new(ErrorCode::StoreIo, format!("{what}: {e}."))
}

fn invalid(message: impl Into<String>) -> Error {
    Error::new(ErrorCode::ReleasePackageInvalid, message)
}

/// Copies `from` into the data folder's packages as a temporary file, hashing it, refusing it
/// past `max_bytes` (`release.too_large`; nothing is left behind).
pub fn stage(data_dir: &Path, from: &mut impl Read, max_bytes: u64) -> Result<Staged> {
    let dir = dir(data_dir);
    crate::private_files::private_dir(&dir)?;
    let mut nonce = [0u8; 8];
    getrandom::fill(&mut nonce).map_err(|e| Error::internal(format!("No randomness: {e}.")))?;
    let temp = dir.join(format!(".incoming-{}", hex(&nonce)));
    let mut staged = Staged {
        temp: Some(temp.clone()),
        dir,
        digests: Digests { sha256: String::new(), sha384: String::new(), md5: String::new(), size: 0 },
    };
    let mut out = std::fs::File::create(&temp).map_err(|e| io("Cannot write the package", e))?;
    let (mut s256, mut s384, mut m5) = (sha2::Sha256::new(), sha2::Sha384::new(), md5::Md5::new());
    let mut buf = vec![0u8; 64 * 1024];
    let mut size: u64 = 0;
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(io("Cannot read the package", e)),
        };
        size += n as u64;
        if size > max_bytes {
            return Err(Error::new(
                ErrorCode::ReleaseTooLarge,
                format!("The package is larger than {} MB (the release_max_mb setting).", max_bytes / (1024 * 1024)),
            ));
        }
        s256.update(&buf[..n]);
        s384.update(&buf[..n]);
        m5.update(&buf[..n]);
        out.write_all(&buf[..n]).map_err(|e| io("Cannot write the package", e))?;
    }
    out.sync_all().map_err(|e| io("Cannot write the package", e))?;
    staged.digests =
        Digests { sha256: hex(&s256.finalize()), sha384: hex(&s384.finalize()), md5: hex(&m5.finalize()), size };
    Ok(staged)
}

impl Staged {
    pub fn path(&self) -> &Path {
        self.temp.as_deref().unwrap_or(Path::new(""))
    }

    /// Moves the package into place under its SHA-256 (a package already there is the same bytes).
    pub fn keep(mut self) -> Result<PathBuf> {
        let to = self.dir.join(format!("{}.zip", self.digests.sha256));
        let from = self.temp.take().unwrap_or_default();
        if to.exists() {
            let _ = std::fs::remove_file(&from);
        } else {
            std::fs::rename(&from, &to).map_err(|e| io("Cannot store the package", e))?;
        }
        Ok(to)
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if let Some(t) = self.temp.take() {
            let _ = std::fs::remove_file(t);
        }
    }
}

/// What a package says about itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Contents {
    /// The one top-level folder (the update slug).
    pub folder: String,
    pub kind: Option<UpdateKind>,
    /// The entry holding the version header (the plugin's main file, the theme's style.css).
    pub main_file: Option<String>,
    pub version: Option<String>,
    pub requires: Option<String>,
    pub tested: Option<String>,
    pub requires_php: Option<String>,
    pub changelog: Option<String>,
    pub upgrade_notice: Option<String>,
    pub meta: PackageMeta,
}

/// The largest file read for headers, and for readme.txt.
const HEADER_BYTES: u64 = 8 * 1024;
const README_BYTES: u64 = 512 * 1024;

fn read_entry<R: Read + Seek>(zip: &mut zip::ZipArchive<R>, name: &str, limit: u64) -> Option<String> {
    let mut f = zip.by_name(name).ok()?;
    let mut bytes = Vec::new();
    (&mut f).take(limit).read_to_end(&mut bytes).ok()?;
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

/// Reads the zip at `file`: one top-level folder, every entry whole (CRC checked, at most
/// `max_unpacked` bytes in all, against zip bombs), and the WordPress headers when `kind` is a
/// WordPress kind (None: found out from the files).
pub fn read(file: &Path, kind: Option<UpdateKind>, max_unpacked: u64) -> Result<Contents> {
    read_for(file, kind, None, max_unpacked)
}

/// `read`, refusing (`release.wrong_folder`) a top-level folder other than `folder` before the
/// headers are read.
pub fn read_for(
    file: &Path,
    kind: Option<UpdateKind>,
    folder_wanted: Option<&str>,
    max_unpacked: u64,
) -> Result<Contents> {
    let f = std::fs::File::open(file).map_err(|e| io("Cannot open the package", e))?;
    let mut zip = zip::ZipArchive::new(std::io::BufReader::new(f))
        .map_err(|e| invalid(format!("The file is not a valid zip archive ({e}).")))?;
    if zip.is_empty() {
        return Err(invalid("The zip archive is empty."));
    }
    let mut folder: Option<String> = None;
    let mut names = Vec::with_capacity(zip.len());
    let mut unpacked: u64 = 0;
    let mut sink = vec![0u8; 64 * 1024];
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).map_err(|e| invalid(format!("The zip archive is damaged ({e}).")))?;
        let Some(path) = entry.enclosed_name() else {
            return Err(invalid(format!("The zip holds an unsafe path: {}.", entry.name())));
        };
        let mut parts = path.components().map(|c| c.as_os_str().to_string_lossy().into_owned());
        let top = parts.next().unwrap_or_default();
        let nested = parts.next().is_some();
        if !nested && !entry.is_dir() {
            return Err(Error::new(
                ErrorCode::ReleaseWrongFolder,
                format!(
                    "“{}” lies at the top of the zip: a WordPress package holds exactly one folder, named after the slug.",
                    entry.name()
                ),
            ));
        }
        match &folder {
            None => folder = Some(top.clone()),
            Some(f) if *f != top => {
                return Err(Error::new(
                    ErrorCode::ReleaseWrongFolder,
                    format!(
                        "The zip has more than one top-level folder (“{f}” and “{top}”); it must have exactly one."
                    ),
                ))
            }
            Some(_) => {}
        }
        names.push(entry.name().to_string());
        loop {
            match entry.read(&mut sink) {
                Ok(0) => break,
                Ok(n) => {
                    unpacked += n as u64;
                    if unpacked > max_unpacked {
                        return Err(invalid("The zip unpacks to far more than its size (a zip bomb?)."));
                    }
                }
                Err(e) => return Err(invalid(format!("“{}” in the zip is damaged ({e}).", entry.name()))),
            }
        }
    }
    let folder = folder.unwrap_or_default();
    if let Some(wanted) = folder_wanted.filter(|w| *w != folder && kind != Some(UpdateKind::Generic)) {
        return Err(Error::new(
            ErrorCode::ReleaseWrongFolder,
            format!("The zip's folder is “{folder}”, but this product's update slug is “{wanted}”: WordPress would install it as another plugin or theme."),
        ));
    }
    let mut c = Contents { folder: folder.clone(), kind, ..Default::default() };
    if kind == Some(UpdateKind::Generic) {
        return Ok(c);
    }
    let style = format!("{folder}/style.css");
    let theme = names
        .contains(&style)
        .then(|| read_entry(&mut zip, &style, HEADER_BYTES))
        .flatten()
        .filter(|t| header(t, "Theme Name").is_some());
    let plugin = if theme.is_none() || kind == Some(UpdateKind::WpPlugin) {
        names
            .iter()
            .filter(|n| {
                n.strip_prefix(&format!("{folder}/")).is_some_and(|rest| rest.ends_with(".php") && !rest.contains('/'))
            })
            .find_map(|n| {
                read_entry(&mut zip, n, HEADER_BYTES)
                    .filter(|t| header(t, "Plugin Name").is_some())
                    .map(|t| (n.clone(), t))
            })
    } else {
        None
    };
    let (found, main, text) = match (kind, plugin, theme) {
        (Some(UpdateKind::WpTheme), _, Some(t)) | (None, None, Some(t)) => (UpdateKind::WpTheme, style, t),
        (Some(UpdateKind::WpPlugin) | None, Some((n, t)), _) => (UpdateKind::WpPlugin, n, t),
        (Some(UpdateKind::WpTheme), ..) => {
            return Err(invalid(format!("A theme's package needs {folder}/style.css with a “Theme Name:” header.")))
        }
        (Some(UpdateKind::WpPlugin), ..) => {
            return Err(invalid(format!(
                "A plugin's package needs a PHP file in {folder}/ with a “Plugin Name:” header."
            )))
        }
        _ => {
            return Err(invalid(format!(
                "Neither a plugin (a PHP file in {folder}/ with “Plugin Name:”) nor a theme ({folder}/style.css with “Theme Name:”). \
                 Set the product's update kind to generic for other packages."
            )))
        }
    };
    let name_field = if found == UpdateKind::WpTheme { "Theme Name" } else { "Plugin Name" };
    let uri_field = if found == UpdateKind::WpTheme { "Theme URI" } else { "Plugin URI" };
    c.kind = Some(found);
    c.main_file = Some(main);
    c.version = header(&text, "Version");
    c.meta.name = header(&text, name_field).unwrap_or_default();
    c.meta.homepage = header(&text, uri_field).unwrap_or_default();
    c.meta.author = header(&text, "Author").unwrap_or_default();
    c.meta.author_homepage = header(&text, "Author URI").unwrap_or_default();
    c.requires = header(&text, "Requires at least");
    c.requires_php = header(&text, "Requires PHP");
    let readme_name = format!("{folder}/readme.txt");
    if let Some(text) = names.contains(&readme_name).then(|| read_entry(&mut zip, &readme_name, README_BYTES)).flatten()
    {
        let r = Readme::parse(&text);
        c.requires = c.requires.or(r.requires.clone());
        c.requires_php = c.requires_php.or(r.requires_php.clone());
        c.tested = r.tested.clone();
        c.meta.description = r.section("description").unwrap_or("").to_string();
        c.meta.changelog_all = r.section("changelog").unwrap_or("").to_string();
        if let Some(v) = &c.version {
            c.changelog = r.for_version("changelog", v);
            c.upgrade_notice = r.for_version("upgrade notice", v);
        }
    }
    if c.meta.description.is_empty() {
        c.meta.description = header(&text, "Description").unwrap_or_default();
    }
    Ok(c)
}

/// Writes a copy of the zip at `from` to `to` whose version header (in `main_file`) says
/// `version`: the package of a "re-release as x.y.z". Other entries are copied as they are
/// (still compressed); the edited file is at most 1 MiB.
pub fn with_version(from: &Path, main_file: &str, version: &str, to: &mut (impl Write + Seek)) -> Result<()> {
    let f = std::fs::File::open(from).map_err(|e| io("Cannot open the package", e))?;
    let mut zip = zip::ZipArchive::new(std::io::BufReader::new(f))
        .map_err(|e| invalid(format!("The stored package is not a valid zip ({e}).")))?;
    let mut out = zip::ZipWriter::new(to);
    let mut done = false;
    for i in 0..zip.len() {
        let name = zip.by_index_raw(i).map_err(|e| invalid(e.to_string()))?.name().to_string();
        if name == main_file {
            let text = read_entry(&mut zip, &name, 1024 * 1024).unwrap_or_default();
            let mut edited = String::with_capacity(text.len() + 16);
            let mut replaced = false;
            for line in text.split_inclusive('\n') {
                let bare = line.trim_start_matches([' ', '\t', '/', '*', '#', '@']);
                let is_version =
                    bare.get(..7).is_some_and(|p| p.eq_ignore_ascii_case("Version")) && bare[7..].starts_with(':');
                if !replaced && is_version {
                    let start = line.len() - bare.len() + 8;
                    let value_start = start + (line[start..].len() - line[start..].trim_start().len());
                    let old = header(line, "Version").unwrap_or_default();
                    edited.push_str(&line[..value_start]);
                    edited.push_str(version);
                    edited.push_str(&line[value_start + old.len()..]);
                    replaced = true;
                } else {
                    edited.push_str(line);
                }
            }
            if !replaced {
                return Err(invalid(format!("{main_file} has no Version header to change.")));
            }
            let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
            out.start_file(name.as_str(), options).map_err(|e| io("Cannot write the package", e))?;
            out.write_all(edited.as_bytes()).map_err(|e| io("Cannot write the package", e))?;
            done = true;
        } else {
            let entry = zip.by_index_raw(i).map_err(|e| invalid(e.to_string()))?;
            out.raw_copy_file(entry).map_err(|e| io("Cannot write the package", e))?;
        }
    }
    if !done {
        return Err(invalid(format!("{main_file} is not in the package.")));
    }
    out.finish().map_err(|e| io("Cannot write the package", e))?;
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A zip with `files` (name, content), deflated.
    pub fn zip_of(files: &[(&str, &str)]) -> Vec<u8> {
        let mut out = std::io::Cursor::new(Vec::new());
        {
            let mut z = zip::ZipWriter::new(&mut out);
            let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
            for (name, content) in files {
                z.start_file(*name, options).unwrap();
                z.write_all(content.as_bytes()).unwrap();
            }
            z.finish().unwrap();
        }
        out.into_inner()
    }

    const PLUGIN: &str =
        "<?php\n/*\n * Plugin Name: KM Test\n * Version: 1.2.0\n * Requires PHP: 7.4\n * Author: Seller\n */\n";
    const README: &str = "=== KM Test ===\nRequires at least: 6.0\nTested up to: 6.4\n\n== Description ==\nHello.\n\n== Changelog ==\n= 1.2.0 =\n* New.\n\n== Upgrade Notice ==\n= 1.2.0 =\nBack up.\n";

    fn staged(bytes: &[u8], dir: &Path) -> Staged {
        stage(dir, &mut &bytes[..], 10 * 1024 * 1024).unwrap()
    }

    #[test]
    fn a_plugin_is_read_from_its_headers_and_readme() {
        let tmp = tempfile::tempdir().unwrap();
        let s = staged(
            &zip_of(&[("km-test/km-test.php", PLUGIN), ("km-test/readme.txt", README), ("km-test/inc/a.php", "<?php")]),
            tmp.path(),
        );
        let c = read(s.path(), None, 1 << 30).unwrap();
        assert_eq!(c.folder, "km-test");
        assert_eq!(c.kind, Some(UpdateKind::WpPlugin));
        assert_eq!(c.version.as_deref(), Some("1.2.0"));
        assert_eq!(
            (c.requires.as_deref(), c.tested.as_deref(), c.requires_php.as_deref()),
            (Some("6.0"), Some("6.4"), Some("7.4"))
        );
        assert_eq!(c.changelog.as_deref(), Some("* New."));
        assert_eq!(c.upgrade_notice.as_deref(), Some("Back up."));
        assert_eq!(
            (c.meta.name.as_str(), c.meta.author.as_str(), c.meta.description.as_str()),
            ("KM Test", "Seller", "Hello.")
        );
        assert_eq!(s.digests.size, std::fs::metadata(s.path()).unwrap().len());
        let kept = s.keep().unwrap();
        assert!(kept.ends_with(format!("{}.zip", kept.file_stem().unwrap().to_string_lossy())));
        assert_eq!(std::fs::read_dir(dir(tmp.path())).unwrap().count(), 1, "no temporary file left");
    }

    #[test]
    fn a_theme_is_read_from_style_css() {
        let tmp = tempfile::tempdir().unwrap();
        let s = staged(
            &zip_of(&[
                ("km-theme/style.css", "/*\nTheme Name: KM Theme\nVersion: 2.0.1\n*/"),
                ("km-theme/index.php", "<?php"),
            ]),
            tmp.path(),
        );
        let c = read(s.path(), None, 1 << 30).unwrap();
        assert_eq!(
            (c.kind, c.version.as_deref(), c.meta.name.as_str()),
            (Some(UpdateKind::WpTheme), Some("2.0.1"), "KM Theme")
        );
    }

    #[test]
    fn refusals_are_coded_and_leave_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let cases: Vec<(Vec<u8>, ErrorCode)> = vec![
            (b"not a zip at all".to_vec(), ErrorCode::ReleasePackageInvalid),
            (zip_of(&[("a/a.php", PLUGIN), ("b/b.php", PLUGIN)]), ErrorCode::ReleaseWrongFolder),
            (zip_of(&[("loose.php", PLUGIN)]), ErrorCode::ReleaseWrongFolder),
            (zip_of(&[("x/readme.txt", README)]), ErrorCode::ReleasePackageInvalid),
            (zip_of(&[("../evil/x.php", PLUGIN)]), ErrorCode::ReleasePackageInvalid),
        ];
        for (bytes, code) in cases {
            let s = staged(&bytes, tmp.path());
            assert_eq!(read(s.path(), None, 1 << 30).unwrap_err().code, code);
        }
        // A damaged entry: flip bytes inside the compressed data.
        let mut bytes = zip_of(&[("km-test/km-test.php", &PLUGIN.repeat(50))]);
        for b in &mut bytes[60..90] {
            *b ^= 0x5a;
        }
        let s = staged(&bytes, tmp.path());
        assert_eq!(read(s.path(), None, 1 << 30).unwrap_err().code, ErrorCode::ReleasePackageInvalid);
        drop(s);
        // Too large: refused while copying in.
        let err = stage(tmp.path(), &mut &vec![0u8; 2 * 1024 * 1024][..], 1024 * 1024).unwrap_err();
        assert_eq!(err.code, ErrorCode::ReleaseTooLarge);
        assert_eq!(std::fs::read_dir(dir(tmp.path())).unwrap().count(), 0, "nothing stored");
        // A zip bomb: unpacks past the cap.
        let s = staged(&zip_of(&[("km-test/km-test.php", &"A".repeat(1 << 20))]), tmp.path());
        assert_eq!(read(s.path(), None, 64 * 1024).unwrap_err().code, ErrorCode::ReleasePackageInvalid);
    }

    #[test]
    fn a_re_release_rewrites_only_the_version() {
        let tmp = tempfile::tempdir().unwrap();
        let s = staged(&zip_of(&[("km-test/km-test.php", PLUGIN), ("km-test/readme.txt", README)]), tmp.path());
        let mut out = std::io::Cursor::new(Vec::new());
        with_version(s.path(), "km-test/km-test.php", "1.2.3", &mut out).unwrap();
        let again = staged(&out.into_inner(), tmp.path());
        let c = read(again.path(), None, 1 << 30).unwrap();
        assert_eq!(c.version.as_deref(), Some("1.2.3"));
        assert_eq!(c.meta.name, "KM Test");
        assert_eq!(c.requires_php.as_deref(), Some("7.4"));
    }
}
