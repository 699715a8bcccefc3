//! `sites classify URL`: the canonical site and environment KeyManager gives an address, and
//! why (the same rules the licensing server applies to activations).

use crate::args::SitesCmd;
use crate::context::Ctx;
use crate::output::{CmdResult, Out};
use keymanager::site;

pub fn run(ctx: &Ctx, cmd: &SitesCmd, out: &mut Out) -> CmdResult {
    match cmd {
        SitesCmd::Classify { url, environment } => {
            let rules = ctx.store()?.settings()?.site_rules();
            let reported = match environment {
                Some(e) => Some(site::Environment::parse(e).ok_or_else(|| {
                    keymanager::Error::invalid_input("--environment is production, staging, development or local.")
                        .with_field("environment")
                })?),
                None => None,
            };
            let c = site::classify_url(&rules, url, reported)?;
            out.emit(&c, |w| {
                writeln!(w, "{}: {} ({})", c.site, c.environment, c.reason)?;
                writeln!(
                    w,
                    "{}",
                    if c.counts_toward_limit {
                        "Counts toward the activation limit."
                    } else {
                        "Does not count toward the activation limit (staging and development sites have their own)."
                    }
                )
            })
        }
    }
}
