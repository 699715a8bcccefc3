use crate::context::Ctx;
use crate::output::{CmdResult, Out};

pub fn run(ctx: &Ctx, out: &mut Out) -> CmdResult {
    let dir = ctx.data_dir()?;
    let store = keymanager::Store::open_in_dir(&dir)?;
    let api = ctx.api()?;
    let info = serde_json::json!({
        "version": keymanager::VERSION,
        "data_dir": dir,
        "database": store.path(),
        "schema_version": store.schema_version()?,
        "envato_api_base": api.as_str(),
        "envato_api_developer_override": api.is_override(),
    });
    out.emit(&info, |w| {
        for (k, v) in info.as_object().into_iter().flatten() {
            writeln!(w, "{k}: {}", v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string()))?;
        }
        Ok(())
    })
}
