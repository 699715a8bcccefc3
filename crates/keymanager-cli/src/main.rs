//! `keymanager`: the headless CLI over KeyManager's core.
//!
//! Exit codes: 0 success, 2 usage error (clap), 1 any other error, printed on stderr as
//! `error[CODE]: message` with the same stable codes the app's UI receives.

use clap::{Args, Parser, Subcommand};
use keymanager::account::{self, StepState, TokenStatus, ValidationReport, ValidationStep};
use keymanager::envato::ClientConfig;
use keymanager::keychain::Keychain;
use keymanager::model::{License, NewProduct, Product, ProductStatus};
use keymanager::settings::{LicenseType, KEYS};
use keymanager::store::{LicenseQuery, NewLicense};
use keymanager::{paths, time, Error, ErrorCode, Store};
use serde::Serialize;
use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "keymanager", version, about = "KeyManager: license manager for Envato Market sellers (headless)")]
struct Cli {
    /// The data folder (holds the database). Defaults to the platform's data directory.
    #[arg(long, global = true, env = "KEYMANAGER_DATA_DIR", value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// The Envato API address for this run (the sandbox: http://127.0.0.1:PORT).
    #[arg(long, global = true, env = "KEYMANAGER_ENVATO_API_BASE", value_name = "URL")]
    envato_api_base: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Show or change settings.
    #[command(subcommand)]
    Settings(SettingsCmd),
    /// Manage products.
    #[command(subcommand)]
    Products(ProductsCmd),
    /// List and issue licenses.
    #[command(subcommand)]
    Licenses(LicensesCmd),
    /// Check a buyer's purchase code: exit 0 for a valid sale of yours, 3 when it is not.
    Lookup {
        code: String,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Activate a license on an instance (idempotent for the same instance).
    Activate {
        key: String,
        #[arg(long)]
        instance: String,
        #[arg(long)]
        label: Option<String>,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Free a license's activation on an instance.
    Deactivate {
        key: String,
        #[arg(long)]
        instance: String,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Check a license key (and optionally an instance): exit 0 when valid, 3 when not.
    Validate {
        key: String,
        #[arg(long)]
        instance: Option<String>,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Sync Envato sales into licenses now (one run; the app also syncs in the background).
    Sync(JsonFlag),
    /// Sales waiting for a product (Auto-Create Products off): list, create or map.
    #[command(subcommand)]
    Review(ReviewCmd),
    /// The Envato personal token (kept in the system keychain).
    #[command(subcommand)]
    Token(TokenCmd),
    /// Where the data lives, schema and version.
    Info(JsonFlag),
}

#[derive(Subcommand)]
enum ReviewCmd {
    /// Envato items with sales waiting for a product.
    List(JsonFlag),
    /// Create the product from the Envato item; its waiting sales become licenses.
    CreateProduct {
        item_id: i64,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Link the Envato item to an existing product; its waiting sales become licenses.
    Map {
        item_id: i64,
        product_id: i64,
        #[command(flatten)]
        json: JsonFlag,
    },
}

#[derive(Subcommand)]
enum TokenCmd {
    /// Validate a token read from standard input and, if it passes, store it in the keychain.
    /// The token is never taken from the command line (it would land in shell history).
    Set(JsonFlag),
    /// Show whose token is stored, when it was saved and last validated, and its age.
    Status(JsonFlag),
    /// Re-check the stored token against Envato.
    Validate(JsonFlag),
    /// Remove the token from the keychain. Licenses are kept; syncing stops.
    Remove(JsonFlag),
}

#[derive(Args)]
struct JsonFlag {
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Subcommand)]
enum SettingsCmd {
    /// Print every setting, or one.
    Get {
        /// One of: auto_create_products, default_activation_limit, default_license_type,
        /// sync_interval_minutes, history_days, envato_api_base.
        key: Option<String>,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Change one setting (validated; an invalid value writes nothing).
    Set {
        key: String,
        value: String,
        #[command(flatten)]
        json: JsonFlag,
    },
}

#[derive(Subcommand)]
enum ProductsCmd {
    /// Create a product.
    Add {
        #[arg(long)]
        name: String,
        #[arg(long)]
        description: Option<String>,
        #[arg(long)]
        sku: Option<String>,
        /// An Envato item ID sold as this product (repeat for several).
        #[arg(long = "item-id", value_name = "ID")]
        item_ids: Vec<i64>,
        /// Activations allowed per license (default: the setting).
        #[arg(long)]
        activation_limit: Option<u32>,
        /// regular or extended (default: the setting).
        #[arg(long, value_parser = parse_license_type)]
        license_type: Option<LicenseType>,
        /// Create it inactive.
        #[arg(long)]
        inactive: bool,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// List products.
    List(JsonFlag),
}

#[derive(Subcommand)]
enum LicensesCmd {
    /// List licenses, newest first: all that match, unless --limit is given.
    List {
        #[arg(long, value_parser = parse_status)]
        status: Option<keymanager::model::LicenseStatus>,
        #[arg(long, value_name = "PRODUCT_ID")]
        product: Option<i64>,
        #[arg(long)]
        limit: Option<u64>,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// One license with its activations, key history and audit trail.
    Show {
        id: i64,
        #[command(flatten)]
        json: JsonFlag,
    },
    /// Suspend a license (activations are refused until it is reactivated).
    Suspend(StatusChange),
    /// Revoke a license (for a refund, say: the seller's call).
    Revoke(StatusChange),
    /// Reactivate a suspended or revoked license.
    Reactivate(StatusChange),
    /// Give a license a new key (the old one is kept in its history).
    RegenerateKey(StatusChange),
    /// Write the matching licenses as CSV (to a file, or standard output). No secrets.
    Export {
        #[arg(long, value_parser = parse_status)]
        status: Option<keymanager::model::LicenseStatus>,
        #[arg(long, value_name = "PRODUCT_ID")]
        product: Option<i64>,
        #[arg(long)]
        marketplace: Option<String>,
        /// A key, a purchase code, or the start of a buyer's username.
        #[arg(long)]
        search: Option<String>,
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Issue a license by hand for a product.
    Issue {
        #[arg(long, value_name = "PRODUCT_ID")]
        product: i64,
        #[arg(long)]
        buyer: Option<String>,
        #[command(flatten)]
        json: JsonFlag,
    },
}

#[derive(Args)]
struct StatusChange {
    id: i64,
    /// Why: kept in the license's audit trail.
    #[arg(long)]
    reason: String,
    #[command(flatten)]
    json: JsonFlag,
}

fn parse_license_type(s: &str) -> Result<LicenseType, String> {
    LicenseType::parse(s).ok_or_else(|| "use regular or extended".to_string())
}

fn parse_status(s: &str) -> Result<keymanager::model::LicenseStatus, String> {
    keymanager::model::LicenseStatus::parse(s).ok_or_else(|| "use active, suspended or revoked".to_string())
}

/// Failures of the command: a core error, or stdout closing under us (`| head`).
enum Failure {
    Core(Error),
    Io(io::Error),
    /// The answer was printed and is "no" (not a valid sale, not a valid key): exit 3.
    No,
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::Core(e)
    }
}
impl From<io::Error> for Failure {
    fn from(e: io::Error) -> Self {
        Failure::Io(e)
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Logs go to stderr, at the level KEYMANAGER_LOG asks for (default: warnings).
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("KEYMANAGER_LOG").unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(io::stderr)
        .with_ansi(io::IsTerminal::is_terminal(&io::stderr()))
        .init();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Io(e)) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(Failure::No) => ExitCode::from(3),
        Err(Failure::Io(e)) => {
            eprintln!("error[{}]: cannot write output: {e}", ErrorCode::Internal);
            ExitCode::from(1)
        }
        Err(Failure::Core(e)) => {
            eprintln!("error[{}]: {}", e.code, e.message);
            ExitCode::from(1)
        }
    }
}

fn open_store(cli: &Cli) -> Result<Store, Error> {
    Store::open_in_dir(&paths::data_dir(cli.data_dir.clone())?)
}

fn print_json<T: Serialize + ?Sized>(out: &mut impl Write, value: &T) -> Result<(), Failure> {
    serde_json::to_writer_pretty(&mut *out, value).map_err(|e| Failure::Io(e.into()))?;
    writeln!(out)?;
    Ok(())
}

fn run(cli: Cli) -> Result<(), Failure> {
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    match &cli.command {
        Command::Info(j) => {
            let dir = paths::data_dir(cli.data_dir.clone())?;
            let store = Store::open_in_dir(&dir)?;
            let settings = store.settings()?;
            let info = serde_json::json!({
                "version": keymanager::VERSION,
                "data_dir": dir,
                "database": store.path(),
                "schema_version": store.schema_version()?,
                "envato_api_base": cli.envato_api_base.clone().unwrap_or(settings.envato_api_base),
            });
            if j.json {
                print_json(&mut out, &info)?;
            } else {
                for (k, v) in info.as_object().into_iter().flatten() {
                    writeln!(out, "{k}: {}", v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string()))?;
                }
            }
        }
        Command::Settings(SettingsCmd::Get { key, json }) => {
            let store = open_store(&cli)?;
            let settings = store.settings()?;
            match key {
                Some(key) => {
                    let value = settings.get(key)?;
                    if json.json {
                        print_json(
                            &mut out,
                            &serde_json::json!({ key: serde_json::to_value(&settings).ok().and_then(|v| v.get(key).cloned()) }),
                        )?;
                    } else {
                        writeln!(out, "{value}")?;
                    }
                }
                None if json.json => print_json(&mut out, &settings)?,
                None => {
                    for key in KEYS {
                        writeln!(out, "{key} = {}", settings.get(key)?)?;
                    }
                }
            }
        }
        Command::Settings(SettingsCmd::Set { key, value, json }) => {
            let mut store = open_store(&cli)?;
            let settings = store.update_settings(&[(key.clone(), value.clone())], time::now())?;
            if json.json {
                print_json(&mut out, &settings)?;
            } else {
                writeln!(out, "{key} = {}", settings.get(key)?)?;
            }
        }
        Command::Products(ProductsCmd::Add {
            name,
            description,
            sku,
            item_ids,
            activation_limit,
            license_type,
            inactive,
            json,
        }) => {
            let mut store = open_store(&cli)?;
            let new = NewProduct {
                name: name.clone(),
                description: description.clone(),
                sku: sku.clone(),
                envato_item_ids: Some(item_ids.clone()),
                activation_limit: *activation_limit,
                license_type: *license_type,
                status: Some(if *inactive { ProductStatus::Inactive } else { ProductStatus::Active }),
            };
            let p = store.create_product(&new, time::now())?;
            if json.json {
                print_json(&mut out, &p)?;
            } else {
                writeln!(out, "Created product {} “{}”.", p.id, p.name)?;
            }
        }
        Command::Products(ProductsCmd::List(j)) => {
            let store = open_store(&cli)?;
            let products = store.products()?;
            if j.json {
                print_json(&mut out, &products)?;
            } else {
                print_products(&mut out, &products)?;
            }
        }
        Command::Licenses(LicensesCmd::List { status, product, limit, json }) => {
            let store = open_store(&cli)?;
            list_licenses(&mut out, &store, *status, *product, *limit, json.json)?;
        }
        Command::Token(cmd) => token(&cli, cmd, &mut out)?,
        Command::Sync(j) => sync(&cli, j.json, &mut out)?,
        Command::Lookup { code, json } => {
            let valid = lookup(&cli, code, json.json, &mut out)?;
            out.flush()?;
            if !valid {
                return Err(Failure::No);
            }
        }
        Command::Activate { key, instance, label, json } => {
            let mut store = open_store(&cli)?;
            let r = keymanager::licensing::activate(&mut store, key, instance, label.as_deref(), time::now())?;
            if json.json {
                print_json(&mut out, &r)?;
            } else {
                writeln!(
                    out,
                    "{} on “{}” ({} of {} activations used).",
                    if r.new { "Activated" } else { "Already active" },
                    r.activation.instance_id,
                    r.license.activations_used,
                    r.license.activation_limit
                )?;
            }
        }
        Command::Deactivate { key, instance, json } => {
            let mut store = open_store(&cli)?;
            let l = keymanager::licensing::deactivate(&mut store, key, instance, time::now())?;
            if json.json {
                print_json(&mut out, &l)?;
            } else {
                writeln!(
                    out,
                    "Deactivated “{instance}” ({} of {} activations used).",
                    l.activations_used, l.activation_limit
                )?;
            }
        }
        Command::Validate { key, instance, json } => {
            let store = open_store(&cli)?;
            let v = keymanager::licensing::validate(&store, key, instance.as_deref())?;
            if json.json {
                print_json(&mut out, &v)?;
            } else {
                writeln!(out, "{} {}", if v.valid { "Valid:" } else { "Not valid:" }, v.message)?;
            }
            out.flush()?;
            if !v.valid {
                return Err(Failure::No);
            }
        }
        Command::Review(cmd) => review(&cli, cmd, &mut out)?,
        Command::Licenses(LicensesCmd::Show { id, json }) => {
            let store = open_store(&cli)?;
            let d = keymanager::licensing::detail(&store, *id)?;
            if json.json {
                print_json(&mut out, &d)?;
            } else {
                print_detail(&mut out, &d)?;
            }
        }
        Command::Licenses(
            cmd @ (LicensesCmd::Suspend(c)
            | LicensesCmd::Revoke(c)
            | LicensesCmd::Reactivate(c)
            | LicensesCmd::RegenerateKey(c)),
        ) => {
            use keymanager::licensing::{change_status, regenerate_key, LicenseAction};
            let mut store = open_store(&cli)?;
            let now = time::now();
            let l = match cmd {
                LicensesCmd::Suspend(_) => change_status(&mut store, c.id, LicenseAction::Suspend, &c.reason, now)?,
                LicensesCmd::Revoke(_) => change_status(&mut store, c.id, LicenseAction::Revoke, &c.reason, now)?,
                LicensesCmd::Reactivate(_) => {
                    change_status(&mut store, c.id, LicenseAction::Reactivate, &c.reason, now)?
                }
                _ => regenerate_key(&mut store, c.id, &c.reason, now)?,
            };
            if c.json.json {
                print_json(&mut out, &l)?;
            } else {
                writeln!(out, "License {} is {}; key {}.", l.id, l.status.as_str(), l.license_key)?;
            }
        }
        Command::Licenses(LicensesCmd::Export { status, product, marketplace, search, output }) => {
            let store = open_store(&cli)?;
            let filter = keymanager::store::LicenseFilter {
                status: *status,
                product_id: *product,
                marketplace: marketplace.clone(),
                search: search.clone(),
                ..Default::default()
            };
            match output {
                Some(path) => {
                    let file = std::fs::File::create(path).map_err(|e| {
                        Error::new(ErrorCode::StoreIo, format!("Cannot create {}: {e}.", path.display()))
                    })?;
                    let mut w = io::BufWriter::new(file);
                    let n = keymanager::export::write_csv(&store, &filter, time::now(), &mut w)?;
                    w.flush()?;
                    writeln!(out, "Wrote {n} licenses to {}.", path.display())?;
                }
                None => {
                    keymanager::export::write_csv(&store, &filter, time::now(), &mut out)?;
                }
            }
        }
        Command::Licenses(LicensesCmd::Issue { product, buyer, json }) => {
            let mut store = open_store(&cli)?;
            let l = store.issue_license(&NewLicense { product_id: *product, buyer: buyer.clone() }, time::now())?;
            if json.json {
                print_json(&mut out, &l)?;
            } else {
                writeln!(out, "{}", l.license_key)?;
            }
        }
    }
    out.flush()?;
    Ok(())
}

fn print_products(out: &mut impl Write, products: &[Product]) -> Result<(), Failure> {
    if products.is_empty() {
        writeln!(out, "No products yet. Add one with `keymanager products add --name NAME`.")?;
        return Ok(());
    }
    writeln!(
        out,
        "{:>6}  {:<32}  {:<12}  {:>5}  {:<9}  {:<8}  ENVATO ITEMS",
        "ID", "NAME", "SKU", "LIMIT", "TYPE", "STATUS"
    )?;
    for p in products {
        let ids: Vec<String> = p.envato_item_ids.iter().map(i64::to_string).collect();
        writeln!(
            out,
            "{:>6}  {:<32}  {:<12}  {:>5}  {:<9}  {:<8}  {}",
            p.id,
            clip(&p.name, 32),
            clip(p.sku.as_deref().unwrap_or("-"), 12),
            p.activation_limit,
            p.license_type.as_str(),
            p.status.as_str(),
            if ids.is_empty() { "-".to_string() } else { ids.join(",") }
        )?;
    }
    Ok(())
}

/// Streams every matching license page by page, so a million rows never sit in memory.
fn list_licenses(
    out: &mut impl Write,
    store: &Store,
    status: Option<keymanager::model::LicenseStatus>,
    product: Option<i64>,
    limit: Option<u64>,
    json: bool,
) -> Result<(), Failure> {
    const PAGE: u64 = 1000;
    let mut remaining = limit.unwrap_or(u64::MAX);
    let mut before_id = None;
    let mut first = true;
    if json {
        write!(out, "[")?;
    }
    while remaining > 0 {
        let page = store.licenses(&LicenseQuery {
            status,
            product_id: product,
            limit: remaining.min(PAGE) as u32,
            before_id,
        })?;
        if page.is_empty() {
            break;
        }
        remaining -= page.len() as u64;
        before_id = page.last().map(|l| l.id);
        for l in &page {
            if json {
                if !first {
                    write!(out, ",")?;
                }
                write!(out, "\n  ")?;
                serde_json::to_writer(&mut *out, l).map_err(|e| Failure::Io(e.into()))?;
            } else {
                if first {
                    writeln!(
                        out,
                        "{:>8}  {:<23}  {:<9}  {:<28}  {:<20}  SOLD AT",
                        "ID", "KEY", "STATUS", "PRODUCT", "BUYER"
                    )?;
                }
                print_license_row(out, l)?;
            }
            first = false;
        }
    }
    if json {
        writeln!(out, "{}]", if first { "" } else { "\n" })?;
    } else if first {
        writeln!(out, "No licenses match.")?;
    }
    Ok(())
}

fn print_license_row(out: &mut impl Write, l: &License) -> io::Result<()> {
    writeln!(
        out,
        "{:>8}  {:<23}  {:<9}  {:<28}  {:<20}  {}",
        l.id,
        l.license_key,
        l.status.as_str(),
        clip(&l.product_name, 28),
        clip(l.buyer.as_deref().unwrap_or("-"), 20),
        l.sold_at.as_deref().unwrap_or("-")
    )
}

fn clip(s: &str, n: usize) -> String {
    keymanager::model::truncate_chars(s, n)
}

/// The Envato client settings for this run: the `--envato-api-base` override, else the setting.
fn client_config(cli: &Cli, store: &Store) -> Result<ClientConfig, Error> {
    let base = match &cli.envato_api_base {
        Some(b) => keymanager::settings::validate_api_base("envato_api_base", b)?,
        None => store.settings()?.envato_api_base,
    };
    Ok(ClientConfig::new(&base))
}

fn runtime() -> Result<tokio::runtime::Runtime, Error> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::internal(format!("Cannot start the async runtime: {e}.")))
}

/// Reads the token from standard input: hidden when typed at a terminal, else one line.
fn read_token() -> Result<String, Error> {
    use std::io::IsTerminal;
    if io::stdin().is_terminal() {
        eprint!("Paste your Envato personal token (input is hidden), then press Enter: ");
        return rpassword::read_password().map_err(|e| Error::invalid_input(format!("Cannot read the token: {e}.")));
    }
    let mut line = String::new();
    io::stdin()
        .read_line(&mut line)
        .map_err(|e| Error::invalid_input(format!("Cannot read the token from standard input: {e}.")))?;
    Ok(line)
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

fn print_status(out: &mut impl Write, s: &TokenStatus) -> io::Result<()> {
    if !s.configured {
        writeln!(out, "No Envato token is stored.")?;
        if s.token_hint.is_some() {
            writeln!(
                out,
                "(The keychain no longer holds the token {}; set it again.)",
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

fn token(cli: &Cli, cmd: &TokenCmd, out: &mut impl Write) -> Result<(), Failure> {
    let dir = paths::data_dir(cli.data_dir.clone())?;
    let mut store = Store::open_in_dir(&dir)?;
    let keychain = Keychain::for_data_dir(&dir)?;
    match cmd {
        TokenCmd::Status(j) => {
            let status = account::status(&store, &keychain, time::now())?;
            if j.json {
                print_json(out, &status)?;
            } else {
                print_status(out, &status)?;
            }
        }
        TokenCmd::Set(j) => {
            let input = read_token()?;
            let cfg = client_config(cli, &store)?;
            let (report, token) = runtime()?.block_on(account::validate(cfg, &input, &mut |s| print_step(s)));
            let Some(token) = token else {
                if j.json {
                    print_json(out, &report)?;
                }
                return Err(report_failure(&report).into());
            };
            let status = account::save(&mut store, &keychain, &token, &report, time::now())?;
            if j.json {
                print_json(out, &status)?;
            } else {
                writeln!(
                    out,
                    "Saved the token {} for {} in the system keychain.",
                    status.token_hint.as_deref().unwrap_or(""),
                    status.username.as_deref().unwrap_or("?")
                )?;
            }
        }
        TokenCmd::Validate(j) => {
            let cfg = client_config(cli, &store)?;
            let report = runtime()?.block_on(account::check_stored(cfg, &keychain, &mut |s| print_step(s)))?;
            account::record_check(&mut store, &report, time::now())?;
            if j.json {
                print_json(out, &report)?;
            } else if report.ok {
                writeln!(out, "The stored token is valid.")?;
            }
            if !report.ok {
                return Err(report_failure(&report).into());
            }
        }
        TokenCmd::Remove(j) => {
            let status = account::remove(&mut store, &keychain, time::now())?;
            if j.json {
                print_json(out, &status)?;
            } else {
                writeln!(
                    out,
                    "Removed the Envato token. Licenses are kept; syncing stops until a token is set again."
                )?;
            }
        }
    }
    Ok(())
}

fn sync(cli: &Cli, json: bool, out: &mut impl Write) -> Result<(), Failure> {
    use keymanager::sync::{run_sync, SharedStore, SyncPhase};
    let dir = paths::data_dir(cli.data_dir.clone())?;
    let store = Store::open_in_dir(&dir)?;
    let cfg = client_config(cli, &store)?;
    let token = Keychain::for_data_dir(&dir)?.load()?.ok_or_else(account::not_configured)?;
    let client = keymanager::envato::EnvatoClient::new(cfg, token)?;
    let shared = SharedStore::new(store);
    let summary = runtime()?.block_on(run_sync(
        &shared,
        &client,
        keymanager::store::SyncTrigger::Manual,
        &time::now,
        &mut |p| {
            if p.phase == SyncPhase::Fetching && p.pages_fetched > 0 {
                eprintln!(
                    "  page {}: {} sales seen, {} new licenses, {} new products, {} queued for review",
                    p.pages_fetched, p.sales_seen, p.licenses_created, p.products_created, p.sales_queued
                );
            }
        },
    ))?;
    if json {
        print_json(out, &summary)?;
    } else {
        writeln!(
            out,
            "Sync {}: {} pages, {} sales seen, {} new licenses, {} new products, {} sales waiting for review.",
            if summary.error.is_some() { "failed" } else { "finished" },
            summary.pages_fetched,
            summary.sales_seen,
            summary.licenses_created,
            summary.products_created,
            summary.sales_queued
        )?;
    }
    match summary.error {
        Some(e) => Err(e.into()),
        None => Ok(()),
    }
}

fn review(cli: &Cli, cmd: &ReviewCmd, out: &mut impl Write) -> Result<(), Failure> {
    let mut store = open_store(cli)?;
    match cmd {
        ReviewCmd::List(j) => {
            let queue = store.review_queue()?;
            if j.json {
                print_json(out, &queue)?;
            } else if queue.is_empty() {
                writeln!(out, "No sales are waiting for review.")?;
            } else {
                writeln!(
                    out,
                    "{:>10}  {:<40}  {:<18}  {:>7}  NEWEST SALE",
                    "ITEM ID", "ITEM", "MARKETPLACE", "WAITING"
                )?;
                for q in &queue {
                    writeln!(
                        out,
                        "{:>10}  {:<40}  {:<18}  {:>7}  {}",
                        q.item_id,
                        clip(&q.item_name, 40),
                        q.marketplace.as_deref().unwrap_or("-"),
                        q.waiting_sales,
                        q.newest_sold_at
                    )?;
                }
            }
        }
        ReviewCmd::CreateProduct { item_id, json } => {
            let (p, n) = store.review_create_product(*item_id, time::now())?;
            if json.json {
                print_json(out, &p)?;
            } else {
                writeln!(out, "Created product {} “{}”; {n} waiting sales became licenses.", p.id, p.name)?;
            }
        }
        ReviewCmd::Map { item_id, product_id, json } => {
            let (p, n) = store.review_map(*item_id, *product_id, time::now())?;
            if json.json {
                print_json(out, &p)?;
            } else {
                writeln!(out, "Linked Envato item {item_id} to “{}”; {n} waiting sales became licenses.", p.name)?;
            }
        }
    }
    Ok(())
}

fn print_detail(out: &mut impl Write, d: &keymanager::licensing::LicenseDetail) -> io::Result<()> {
    let l = &d.license;
    writeln!(out, "License {}  {}  ({})", l.id, l.license_key, l.status.as_str())?;
    writeln!(out, "Product:     {}", l.product_name)?;
    if let Some(item) = l.envato_item_id {
        writeln!(
            out,
            "Envato item: {item} {} on {}",
            l.item_name.as_deref().unwrap_or(""),
            l.marketplace.as_deref().unwrap_or("?")
        )?;
    }
    writeln!(
        out,
        "Buyer:       {}",
        l.buyer.as_deref().unwrap_or(if l.envato_item_id.is_some() { "guest checkout" } else { "-" })
    )?;
    writeln!(out, "Activations: {} of {}", l.activations_used, l.activation_limit)?;
    for a in &d.activations {
        writeln!(out, "  - {} {} (since {})", a.instance_id, a.label.as_deref().unwrap_or(""), a.activated_at)?;
    }
    for k in &d.key_history {
        writeln!(out, "Former key:  {} (replaced {}: {})", k.license_key, k.replaced_at, k.reason)?;
    }
    writeln!(out, "Audit trail:")?;
    for a in &d.audit {
        writeln!(out, "  {}  {:<28} {}", a.at, a.action, a.message)?;
    }
    Ok(())
}

/// Prints the lookup's answer; returns whether it is a valid sale of the seller's.
fn lookup(cli: &Cli, code: &str, json: bool, out: &mut impl Write) -> Result<bool, Failure> {
    use keymanager::lookup::{self, LookupVerdict};
    use keymanager::sync::SharedStore;
    let dir = paths::data_dir(cli.data_dir.clone())?;
    let store = Store::open_in_dir(&dir)?;
    let cfg = client_config(cli, &store)?;
    let client = match Keychain::for_data_dir(&dir)?.load()? {
        Some(token) => Some(keymanager::envato::EnvatoClient::new(account::interactive(cfg), token)?),
        None => None,
    };
    let shared = SharedStore::new(store);
    let rt = runtime()?;
    let mut r = rt.block_on(lookup::lookup(&shared, client.as_ref(), code, time::now()))?;
    // Envato's data may not be shown more than six hours old: refresh before answering.
    if r.stale {
        if let Some(c) = &client {
            match rt.block_on(lookup::refresh(&shared, c, &r.code, time::now())) {
                Ok(fresh) => r = fresh,
                Err(e) => eprintln!("(Could not refresh from Envato: {}; showing the stored data.)", e.message),
            }
        }
    }
    if json {
        print_json(out, &r)?;
    } else {
        let head = match r.verdict {
            LookupVerdict::Valid => "VALID",
            LookupVerdict::NotASale => "NOT A SALE OF YOURS",
            LookupVerdict::NoLongerRecognised => "NO LONGER RECOGNISED BY ENVATO",
            LookupVerdict::Malformed => "MALFORMED",
        };
        writeln!(out, "{head}: {}", r.message)?;
        if let Some(l) = &r.license {
            writeln!(out, "Product:        {}", l.product_name)?;
            writeln!(
                out,
                "Item:           {} ({}) on {}",
                l.item_name.as_deref().unwrap_or("-"),
                l.envato_item_id.unwrap_or(0),
                l.marketplace.as_deref().unwrap_or("-")
            )?;
            writeln!(out, "Buyer:          {}", l.buyer.as_deref().unwrap_or("guest checkout"))?;
            writeln!(out, "License type:   {}", l.envato_license.as_deref().unwrap_or(l.license_type.as_str()))?;
            writeln!(out, "Sold at:        {}", l.sold_at.as_deref().unwrap_or("-"))?;
            writeln!(out, "Amount:         {}", l.amount.as_deref().unwrap_or("-"))?;
            if let Some(sw) = &r.support {
                match (&sw.until, sw.days_left) {
                    (Some(u), Some(d)) if !sw.expired => writeln!(out, "Support until:  {u} ({d} days left)")?,
                    (Some(u), _) => writeln!(out, "Support until:  {u} (expired)")?,
                    _ => writeln!(out, "Support:        none")?,
                }
            }
            writeln!(out, "Purchases:      {} of this item by this buyer", l.purchase_count.unwrap_or(1))?;
            writeln!(out, "License key:    {}", l.license_key)?;
            writeln!(out, "Status:         {}", l.status.as_str())?;
            writeln!(out, "Activations:    {} of {}", l.activations_used, l.activation_limit)?;
        }
    }
    Ok(r.verdict == LookupVerdict::Valid)
}
