//! `keymanager`: the headless CLI over KeyManager's core.
//!
//! Exit codes: 0 success, 2 usage error (clap), 1 any other error, printed on stderr as
//! `error[CODE]: message` with the same stable codes the app's UI receives, and 3 for an answer
//! that is "no" (`lookup` of a code that is not a valid sale, `validate` of a key that is not valid).
//!
//! `args` defines the command line, `context` what every command shares (data folder, Envato
//! address, store, keychain), `output` the text-or-JSON answers and errors, and `cmd/` one file
//! per command group.

mod args;
mod cmd;
mod context;
mod output;

use args::{Cli, Command};
use clap::FromArgMatches;
use context::Ctx;
use output::{CmdResult, Failure, Out};
use std::io;
use std::process::ExitCode;

fn main() -> ExitCode {
    keymanager::process::harden();
    let cli = match Cli::from_arg_matches(&args::command().get_matches()) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    // Logs go to stderr, at the level KEYMANAGER_LOG asks for (default: warnings).
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("KEYMANAGER_LOG").unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(io::stderr)
        .with_ansi(io::IsTerminal::is_terminal(&io::stderr()))
        .init();
    let mut out = Out::new(cli.json);
    let result = run(&cli, &mut out).and_then(|()| out.flush());
    Failure::exit(result)
}

fn run(cli: &Cli, out: &mut Out) -> CmdResult {
    let ctx = Ctx::new(cli);
    // `remote` and `admin` are about this computer and this server themselves, whatever
    // KEYMANAGER_REMOTE says.
    if let (Some(name), false) = (&cli.remote, matches!(cli.command, Command::Remote(_) | Command::Admin(_))) {
        return cmd::remote::on_remote(&ctx, name, &cli.command, out);
    }
    // After a move to a server, this computer's data is an archive: read, not changed.
    if cli.command.changes_data() {
        let archived = ctx.store()?.settings()?.archived_to;
        if !archived.is_empty() {
            return Err(keymanager::Error::invalid_input(format!(
                "{archived} Run this with --remote NAME, or make this computer's data live again first \
                 (keymanager settings set archived_to \"\")."
            ))
            .into());
        }
    }
    match &cli.command {
        Command::Info => cmd::info::run(&ctx, out),
        Command::Settings(c) => cmd::settings::run(&ctx, c, out),
        Command::Products(c) => cmd::products::run(&ctx, c, out),
        Command::Licenses(c) => cmd::licenses::run(&ctx, c, out),
        Command::Lookup { code } => cmd::lookup::run(&ctx, code, out),
        Command::Activate { key, instance, label } => {
            cmd::activations::activate(&ctx, key, instance, label.as_deref(), out)
        }
        Command::Deactivate { key, instance } => cmd::activations::deactivate(&ctx, key, instance, out),
        Command::Validate { key, instance } => cmd::activations::validate(&ctx, key, instance.as_deref(), out),
        Command::Sync => cmd::sync::run(&ctx, out),
        Command::Review(c) => cmd::review::run(&ctx, c, out),
        Command::Token(c) => cmd::token::run(&ctx, c, out),
        Command::Serve { bind, trusted_proxies } => cmd::serve::run(&ctx, bind, trusted_proxies, out),
        Command::Keys(c) => cmd::keys::run(&ctx, c, out),
        Command::Admin(c) => cmd::admin::run(&ctx, c, out),
        Command::Remote(c) => cmd::remote::run(&ctx, c, out),
        Command::Sites(c) => cmd::sites::run(&ctx, c, out),
        Command::Releases(c) => cmd::releases::run(&ctx, c, out),
        Command::Updates(c) => cmd::updates::run(&ctx, c, out),
        Command::Webhooks(c) => cmd::webhooks::run(&ctx, c, out),
        Command::Email(c) => cmd::email::run(&ctx, c, out),
        Command::Outbox(c) => cmd::outbox::run(&ctx, c, out),
        Command::Backup { to } => cmd::backup::backup(&ctx, to.as_deref(), out),
        Command::Restore { file } => cmd::backup::restore(&ctx, file, out),
    }
}
