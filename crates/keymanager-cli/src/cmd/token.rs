use crate::args::TokenCmd;
use crate::context::{runtime, Ctx};
use crate::output::{CmdResult, Out};
use keymanager::account::{self, StepState, TokenStatus, ValidationReport, ValidationStep};
use keymanager::store::SharedStore;
use keymanager::{time, Error};
use std::io::{self, Write};
use std::sync::Arc;
use zeroize::Zeroizing;

pub fn run(ctx: &Ctx, cmd: &TokenCmd, out: &mut Out) -> CmdResult {
    let mut store = ctx.store()?;
    let keychain = ctx.keychain()?;
    match cmd {
        TokenCmd::Status => {
            let status = account::status(&store, &keychain, time::now())?;
            out.emit(&status, |w| print_status(w, &status))
        }
        TokenCmd::Set => {
            let input = read_token()?;
            let cfg = ctx.client_config()?;
            let (report, token) = runtime()?.block_on(account::validate(cfg, &input, &mut |s| print_step(s)));
            drop(input);
            let Some(token) = token else {
                if out.json {
                    out.json(&report)?;
                }
                return Err(report_failure(&report).into());
            };
            let status = account::save(&mut store, &keychain, &token, &report, time::now())?;
            out.emit(&status, |w| {
                writeln!(
                    w,
                    "Saved the token {} for {} in the system keychain.",
                    status.token_hint.as_deref().unwrap_or(""),
                    status.username.as_deref().unwrap_or("?")
                )
            })
        }
        TokenCmd::Validate => {
            let (cfg, shared) = (ctx.client_config()?, SharedStore::new(store));
            let report = runtime()?.block_on(account::recheck(
                &shared,
                Arc::new(keychain),
                cfg,
                &mut |s| print_step(s),
                time::now(),
            ))?;
            out.emit(&report, |w| if report.ok { writeln!(w, "The stored token is valid.") } else { Ok(()) })?;
            if report.ok {
                Ok(())
            } else {
                Err(report_failure(&report).into())
            }
        }
        TokenCmd::Remove => {
            let status = account::remove(&mut store, &keychain, time::now())?;
            out.emit(&status, |w| {
                writeln!(w, "Removed the Envato token. Licenses are kept; syncing stops until a token is set again.")
            })
        }
    }
}

fn read_token() -> Result<Zeroizing<String>, Error> {
    crate::context::read_secret("Paste your Envato personal token (input is hidden), then press Enter: ", "the token")
}

/// Prints each validation step on stderr as it completes, so stdout stays clean for --json.
fn print_step(s: &ValidationStep) {
    let mark = match s.state {
        StepState::Running => return,
        StepState::Passed => "✓",
        StepState::Failed => "✗",
        StepState::Skipped => "–",
    };
    eprintln!("  {mark} {}: {}", s.title, s.detail);
    if let (Some(cause), Some(solution)) = (&s.cause, &s.solution) {
        eprintln!("      Cause: {cause}. Solution: {solution}.");
    }
}

fn print_status(out: &mut dyn Write, s: &TokenStatus) -> io::Result<()> {
    if let Some(p) = &s.keychain_problem {
        writeln!(out, "The keychain did not answer: {}", p.error.message)?;
        for fix in &p.fixes {
            writeln!(out, "  - {fix}")?;
        }
        return Ok(());
    }
    if !s.configured {
        writeln!(out, "No Envato token is stored.")?;
        if s.token_hint.is_some() {
            writeln!(
                out,
                "(The keychain no longer holds the token {} for this Envato address; set it again.)",
                s.token_hint.as_deref().unwrap_or("")
            )?;
        }
        return Ok(());
    }
    writeln!(out, "Token:          {}", s.token_hint.as_deref().unwrap_or("-"))?;
    writeln!(out, "Account:        {}", s.username.as_deref().unwrap_or("-"))?;
    if let Some(n) = s.items_count {
        writeln!(out, "Items for sale: {n}")?;
    }
    writeln!(out, "Saved:          {} ({} days ago)", s.saved_at.as_deref().unwrap_or("-"), s.age_days.unwrap_or(0))?;
    writeln!(out, "Last validated: {}", s.validated_at.as_deref().unwrap_or("never"))?;
    if s.last_check_ok == Some(false) {
        if let Some(e) = &s.last_error {
            writeln!(out, "Last check failed: [{}] {}", e.code, e.message)?;
        }
    }
    if s.rotation_due {
        writeln!(out, "Reminder: this token is over a year old. Envato advises rotating tokens yearly: create a new one and run `keymanager token set`.")?;
    }
    Ok(())
}

fn report_failure(report: &ValidationReport) -> Error {
    report.error.clone().unwrap_or_else(|| Error::internal("Validation failed."))
}
