//! `releases add|list|show|publish|rollout|yank|remove|rerelease|edit`: publishing product
//! updates (updates-api.md). Each is one core call; packages live in the data folder.

use crate::args::ReleasesCmd;
use crate::context::Ctx;
use crate::output::{clip, CmdResult, Out};
use keymanager::store::ReleaseEdit;
use keymanager::updates::publish::{self, AddRelease, Added};
use keymanager::updates::{Release, ReleaseChannel};
use keymanager::{time, Error, ErrorCode};
use std::io::{self, Write};
use std::path::Path;

fn read_notes(file: &Path) -> Result<String, Error> {
    let meta = std::fs::metadata(file)
        .map_err(|e| Error::invalid_input(format!("Cannot read {}: {e}.", file.display())).with_field("notes"))?;
    if meta.len() > 64 * 1024 {
        return Err(Error::invalid_input("The notes file is larger than 64 KiB.").with_field("notes"));
    }
    std::fs::read_to_string(file)
        .map_err(|e| Error::invalid_input(format!("Cannot read {}: {e}.", file.display())).with_field("notes"))
}

fn channel(text: Option<&str>) -> Result<Option<ReleaseChannel>, Error> {
    text.map(|c| {
        ReleaseChannel::parse(c)
            .ok_or_else(|| Error::invalid_input("--channel is stable or beta.").with_field("channel"))
    })
    .transpose()
}

fn not_found(id: i64) -> Error {
    Error::new(ErrorCode::ReleaseNotFound, format!("There is no release with ID {id}."))
}

/// The request of `releases add` from its arguments (here and with --remote).
pub fn request(
    product: i64,
    ch: Option<&str>,
    notes: Option<&Path>,
    version: &Option<String>,
    publish: bool,
    rollout: Option<u32>,
) -> Result<AddRelease, Error> {
    Ok(AddRelease {
        product_id: product,
        channel: channel(ch)?,
        notes: notes.map(read_notes).transpose()?,
        version: version.clone(),
        publish,
        rollout,
    })
}

/// The edit `releases edit` describes (here and with --remote).
pub fn edit_of(cmd: &ReleasesCmd) -> Result<ReleaseEdit, Error> {
    let ReleasesCmd::Edit { notes, requires, tested, requires_php, .. } = cmd else {
        return Err(Error::internal("not releases edit"));
    };
    Ok(ReleaseEdit {
        changelog: notes.as_deref().map(read_notes).transpose()?,
        upgrade_notice: None,
        requires: requires.clone(),
        tested: tested.clone(),
        requires_php: requires_php.clone(),
    })
}

pub fn run(ctx: &Ctx, cmd: &ReleasesCmd, out: &mut Out) -> CmdResult {
    let now = time::now();
    match cmd {
        ReleasesCmd::Add { product, file, channel: ch, notes, version, publish, rollout } => {
            let req = request(*product, ch.as_deref(), notes.as_deref(), version, *publish, *rollout)?;
            let added = publish::add_release_file(&mut ctx.store()?, &ctx.data_dir()?, file, &req, now)?;
            ctx.deliver_after_change();
            out.emit(&added, |w| print_added(w, &added))
        }
        ReleasesCmd::List { product } => {
            let releases = ctx.store()?.releases(*product)?;
            out.emit(&releases, |w| print_list(w, &releases))
        }
        ReleasesCmd::Show { id } => {
            let r = ctx.store()?.release(*id)?.ok_or_else(|| not_found(*id))?;
            out.emit(&r, |w| print_one(w, &r))
        }
        ReleasesCmd::Publish { id, rollout } => {
            let r = ctx.store()?.publish_release(*id, *rollout, now)?;
            ctx.deliver_after_change();
            out.emit(&r, |w| {
                writeln!(w, "Release {} {} published to {} ({}% rollout).", r.id, r.version, r.channel, r.rollout)
            })
        }
        ReleasesCmd::Rollout { id, percent } => {
            let r = ctx.store()?.set_rollout(*id, *percent, now)?;
            ctx.deliver_after_change();
            out.emit(&r, |w| writeln!(w, "Release {} {}: {}% of licenses are offered it.", r.id, r.version, r.rollout))
        }
        ReleasesCmd::Yank { id, reason } => {
            let r = ctx.store()?.yank_release(*id, reason, now)?;
            ctx.deliver_after_change();
            out.emit(&r, |w| {
                writeln!(w, "Release {} {} yanked: it is no longer offered or downloaded.", r.id, r.version)
            })
        }
        ReleasesCmd::Remove { id } => {
            let r = publish::remove_release(&mut ctx.store()?, &ctx.data_dir()?, *id, now)?;
            out.emit(&r, |w| writeln!(w, "Draft release {} {} removed.", r.id, r.version))
        }
        ReleasesCmd::Rerelease { id, version, publish: p } => {
            let added = publish::rerelease(&mut ctx.store()?, &ctx.data_dir()?, *id, version, *p, now)?;
            ctx.deliver_after_change();
            out.emit(&added, |w| print_added(w, &added))
        }
        ReleasesCmd::Edit { id, .. } => {
            let edit = edit_of(cmd)?;
            let r = ctx.store()?.edit_release(*id, &edit, now)?;
            out.emit(&r, |w| print_one(w, &r))
        }
    }
}

pub fn print_added(w: &mut dyn Write, a: &Added) -> io::Result<()> {
    let r = &a.release;
    writeln!(
        w,
        "Release {} added: {} {} ({}, {}), read from {}.",
        r.id,
        r.product_name,
        r.version,
        r.channel,
        r.status,
        a.version_from.as_deref().unwrap_or("the command line")
    )?;
    writeln!(
        w,
        "Folder {}, kind {}, {} bytes, SHA-256 {}.",
        a.folder,
        a.kind.map_or("generic", |k| k.as_str()),
        r.size,
        r.sha256
    )?;
    if r.status.as_str() == "draft" {
        writeln!(w, "Publish it with `keymanager releases publish {}`.", r.id)?;
    }
    Ok(())
}

pub fn print_list(w: &mut dyn Write, releases: &[Release]) -> io::Result<()> {
    if releases.is_empty() {
        return writeln!(w, "No releases yet. Add one with `keymanager releases add --product ID FILE.zip`.");
    }
    writeln!(
        w,
        "{:>5}  {:<24}  {:<14}  {:<7}  {:<9}  {:>7}  RELEASED",
        "ID", "PRODUCT", "VERSION", "CHANNEL", "STATUS", "ROLLOUT"
    )?;
    for r in releases {
        writeln!(
            w,
            "{:>5}  {:<24}  {:<14}  {:<7}  {:<9}  {:>6}%  {}",
            r.id,
            clip(&r.product_name, 24),
            clip(&r.version, 14),
            r.channel.as_str(),
            r.status.as_str(),
            r.rollout,
            r.released_at.as_deref().unwrap_or("-")
        )?;
    }
    Ok(())
}

pub fn print_one(w: &mut dyn Write, r: &Release) -> io::Result<()> {
    writeln!(
        w,
        "Release {}: {} {} ({}, {}, {}% rollout)",
        r.id, r.product_name, r.version, r.channel, r.status, r.rollout
    )?;
    writeln!(w, "Package: {} bytes, SHA-256 {}", r.size, r.sha256)?;
    let req = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    writeln!(
        w,
        "Requires WordPress {}, tested up to {}, requires PHP {}",
        req(&r.requires),
        req(&r.tested),
        req(&r.requires_php)
    )?;
    writeln!(w, "Added {}; released {}", r.created_at, r.released_at.as_deref().unwrap_or("not yet"))?;
    if let Some(at) = &r.yanked_at {
        writeln!(w, "Yanked {at}: {}", r.yank_reason.as_deref().unwrap_or(""))?;
    }
    if !r.upgrade_notice.is_empty() {
        writeln!(w, "Upgrade notice: {}", r.upgrade_notice)?;
    }
    if !r.changelog.is_empty() {
        writeln!(w, "Changelog:\n{}", r.changelog)?;
    }
    Ok(())
}
