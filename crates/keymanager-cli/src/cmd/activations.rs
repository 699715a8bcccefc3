use crate::context::Ctx;
use crate::output::{CmdResult, Failure, Out};
use keymanager::{licensing, time};

pub fn activate(ctx: &Ctx, key: &str, instance: &str, label: Option<&str>, out: &mut Out) -> CmdResult {
    let r = licensing::activate(&mut ctx.store()?, key, instance, label, time::now())?;
    out.emit(&r, |w| {
        writeln!(
            w,
            "{} on “{}” ({} of {} activations used).",
            if r.new { "Activated" } else { "Already active" },
            r.activation.instance_id,
            r.license.activations_used,
            r.license.activation_limit
        )
    })
}

pub fn deactivate(ctx: &Ctx, key: &str, instance: &str, out: &mut Out) -> CmdResult {
    let l = licensing::deactivate(&mut ctx.store()?, key, instance, time::now())?;
    out.emit(&l, |w| {
        writeln!(w, "Deactivated “{instance}” ({} of {} activations used).", l.activations_used, l.activation_limit)
    })
}

/// Exit 0 when the key is valid (for the instance), 3 when it is not.
pub fn validate(ctx: &Ctx, key: &str, instance: Option<&str>, out: &mut Out) -> CmdResult {
    let v = licensing::validate(&ctx.store()?, key, instance)?;
    out.emit(&v, |w| writeln!(w, "{} {}", if v.valid { "Valid:" } else { "Not valid:" }, v.message))?;
    out.flush()?;
    if v.valid {
        Ok(())
    } else {
        Err(Failure::No)
    }
}
