use crate::context::Ctx;
use crate::output::{CmdResult, Out};
use keymanager::{backup, time};
use std::path::Path;

pub fn backup(ctx: &Ctx, to: Option<&Path>, out: &mut Out) -> CmdResult {
    let store = ctx.store()?;
    let file = match to {
        Some(path) => {
            store.backup_to(path)?;
            let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
            backup::BackupFile { path: path.display().to_string(), at: time::to_db(time::now()), size_bytes: size }
        }
        None => {
            let dir = backup::folder(&store.settings()?.backup_folder, &ctx.data_dir()?);
            backup::backup_now(&store, &dir, time::now())?
        }
    };
    out.emit(&file, |w| writeln!(w, "Backed up to {} ({} KB).", file.path, file.size_bytes / 1024))
}

pub fn restore(ctx: &Ctx, file: &Path, out: &mut Out) -> CmdResult {
    let mut store = ctx.store()?;
    let dir = backup::folder(&store.settings()?.backup_folder, &ctx.data_dir()?);
    let r = backup::restore(&mut store, &dir, file, time::now())?;
    out.emit(&r, |w| {
        writeln!(w, "Restored {} ({} licenses, {} products).", r.restored_from, r.licenses, r.products)?;
        writeln!(w, "The data before the restore is kept in {}.", r.kept_aside)?;
        if r.packages_missing > 0 {
            writeln!(
                w,
                "{} release package(s) were in neither the data folder nor the backup's folder: add those releases again.",
                r.packages_missing
            )?;
        }
        writeln!(w, "{}", r.note)
    })
}
