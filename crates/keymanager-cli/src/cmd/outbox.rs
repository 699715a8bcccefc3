use crate::args::OutboxCmd;
use crate::context::Ctx;
use crate::output::{CmdResult, Out};
use std::time::Duration;

pub fn run(ctx: &Ctx, cmd: &OutboxCmd, out: &mut Out) -> CmdResult {
    match cmd {
        OutboxCmd::Run => {
            let r = ctx.deliver_outbox(Duration::from_secs(300))?;
            let counts = ctx.store()?.outbox_counts()?;
            out.emit(&serde_json::json!({"report": r, "outbox": counts}), |w| {
                writeln!(
                    w,
                    "Delivered {}, retrying {}, failed {}. Waiting: {}, failed in all: {}.",
                    r.delivered, r.retrying, r.failed, counts.pending, counts.failed
                )?;
                for f in &counts.failing {
                    writeln!(w, "Failing since {}: {} ({})", f.since, f.label, f.last_error)?;
                }
                Ok(())
            })
        }
    }
}
