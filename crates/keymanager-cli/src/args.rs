//! The command line: every subcommand and flag, and nothing else. Each group's behaviour lives in
//! its own file under `cmd/`.

use clap::{Args, Parser, Subcommand};
use keymanager::model::LicenseStatus;
use keymanager::settings::LicenseType;
use std::path::PathBuf;

#[derive(Parser)]
#[command(name = "keymanager", version, about = "KeyManager: license manager for Envato Market sellers (headless)")]
pub struct Cli {
    /// The data folder (holds the database). Defaults to the platform's data directory.
    #[arg(long, global = true, env = "KEYMANAGER_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Developer option: send Envato requests to this address on this machine (the sandbox,
    /// http://127.0.0.1:PORT) instead of Envato. Never stored; tokens saved under it are kept apart.
    #[arg(long, global = true, env = "KEYMANAGER_ENVATO_API_BASE", value_name = "URL", hide_env_values = true)]
    pub envato_api_base: Option<String>,
    /// Print JSON instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    /// Work on the KeyManager server paired as NAME (`remote add`) instead of this computer's
    /// data. Available for `lookup`, `licenses list|show|suspend|revoke|reactivate` so far.
    #[arg(long, global = true, env = "KEYMANAGER_REMOTE", value_name = "NAME")]
    pub remote: Option<String>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
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
    Lookup { code: String },
    /// Activate a license on an instance (idempotent for the same instance).
    Activate {
        key: String,
        #[arg(long)]
        instance: String,
        #[arg(long)]
        label: Option<String>,
    },
    /// Free a license's activation on an instance.
    Deactivate {
        key: String,
        #[arg(long)]
        instance: String,
    },
    /// Check a license key (and optionally an instance): exit 0 when valid, 3 when not.
    Validate {
        key: String,
        #[arg(long)]
        instance: Option<String>,
    },
    /// Sync Envato sales into licenses now (one run; the app also syncs in the background).
    Sync,
    /// Sales waiting for a product (Auto-Create Products off): list, create or map.
    #[command(subcommand)]
    Review(ReviewCmd),
    /// The Envato personal token (kept in the system keychain).
    #[command(subcommand)]
    Token(TokenCmd),
    /// Where the data lives, schema and version.
    Info,
    /// Run the licensing server (the API products call, signed answers) over this data folder;
    /// it also syncs sales in the background. Stops on Ctrl+C or SIGTERM.
    Serve {
        /// Address and port to listen on (port 0 picks a free one).
        #[arg(long, default_value = "127.0.0.1:8787")]
        bind: String,
        /// A reverse proxy's address whose X-Forwarded-For names the client (repeatable).
        #[arg(long = "trusted-proxy", value_name = "IP")]
        trusted_proxies: Vec<std::net::IpAddr>,
    },
    /// The licensing server's signing key.
    #[command(subcommand)]
    Keys(KeysCmd),
    /// On the server: pair devices with its admin API, list and revoke them.
    #[command(subcommand)]
    Admin(AdminCmd),
    /// On the desktop: KeyManager servers this computer administers (`--remote NAME`).
    #[command(subcommand)]
    Remote(RemoteCmd),
    /// Releases of your products: the packages licensed sites update to.
    #[command(subcommand)]
    Releases(ReleasesCmd),
    /// Update delivery as a site sees it: a check, and download links for support replies.
    #[command(subcommand)]
    Updates(UpdatesCmd),
    /// Sites as activations see them: canonical form and environment.
    #[command(subcommand)]
    Sites(SitesCmd),
    /// Webhook endpoints (Standard Webhooks v1, signed), their deliveries and replays.
    #[command(subcommand)]
    Webhooks(WebhooksCmd),
    /// E-mail to buyers: the SMTP password, license keys, a test message.
    #[command(subcommand)]
    Email(EmailCmd),
    /// The outbox of webhooks and e-mails.
    #[command(subcommand)]
    Outbox(OutboxCmd),
    /// Back the database up (consistent while a sync runs): into the backup folder (the last 14
    /// are kept), or to --to FILE.
    Backup {
        #[arg(long, value_name = "FILE")]
        to: Option<PathBuf>,
    },
    /// Restore a backup: checked first (integrity, not from a newer KeyManager), the current
    /// data kept aside in the backup folder. Secrets stay in the keychain and are not restored.
    Restore { file: PathBuf },
}

#[derive(Subcommand)]
pub enum WebhooksCmd {
    /// Add an endpoint; prints its id and secret (the only time the secret is shown in full).
    Add {
        url: String,
        /// Event types, comma-separated (all events when omitted).
        #[arg(long)]
        events: Option<String>,
    },
    /// The endpoints, with their events and delivery health.
    List,
    /// Remove an endpoint, its messages and its secret.
    Remove { id: i64 },
    /// Send a `webhook.test` event to an endpoint now.
    Test { id: i64 },
    /// The delivery log: message id, type, attempts, status, last HTTP status, next attempt.
    Deliveries {
        #[arg(long, value_name = "ID")]
        endpoint: Option<i64>,
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// Send a message again (same webhook-id), now.
    Replay { message_id: String },
    /// Give an endpoint a new secret (printed once).
    RotateSecret { id: i64 },
}

#[derive(Subcommand)]
pub enum EmailCmd {
    /// Store the SMTP password in the keychain, read from standard input.
    Password,
    /// E-mail a license's key to its buyer (or to --to).
    SendKey {
        license_id: i64,
        #[arg(long, value_name = "ADDRESS")]
        to: Option<String>,
    },
    /// Send a test e-mail now (to --to, or the From address).
    Test {
        #[arg(long, value_name = "ADDRESS")]
        to: Option<String>,
    },
}

#[derive(Subcommand)]
pub enum OutboxCmd {
    /// Deliver what is due (for cron), and say what happened.
    Run,
}

#[derive(Subcommand)]
pub enum KeysCmd {
    /// Print the public key (base64) products use to check answers and certificates.
    Public,
    /// Check a KM1 certificate against this server's key: exit 0 when genuine and current, 3 when not.
    Verify { certificate: String },
    /// Make a new key pair. Products that pinned the old public key must be updated.
    Rotate,
    /// Make the first key pair in a credential file for a server (never overwrites one).
    Init {
        #[arg(long, value_name = "PATH")]
        file: std::path::PathBuf,
    },
}

#[derive(Subcommand)]
pub enum SitesCmd {
    /// The canonical site and environment of URL (production, staging, development, local), and
    /// which rule decided: what the licensing server applies to an activation from it.
    Classify {
        url: String,
        /// What the site reports (WordPress's wp_get_environment_type()); believed only with
        /// trust_reported_environment on.
        #[arg(long)]
        environment: Option<String>,
    },
}

#[derive(Subcommand)]
pub enum ReviewCmd {
    /// Envato items with sales waiting for a product.
    List,
    /// Create the product from the Envato item; its waiting sales become licenses.
    CreateProduct { item_id: i64 },
    /// Link the Envato item to an existing product; its waiting sales become licenses.
    Map { item_id: i64, product_id: i64 },
}

#[derive(Subcommand)]
pub enum TokenCmd {
    /// Validate a token read from standard input and, if it passes, store it in the keychain.
    /// The token is never taken from the command line (it would land in shell history).
    Set,
    /// Show whose token is stored, when it was saved and last validated, and its age.
    Status,
    /// Re-check the stored token against Envato.
    Validate,
    /// Remove the token from the keychain. Licenses are kept; syncing stops.
    Remove,
}

#[derive(Subcommand)]
pub enum SettingsCmd {
    /// Print every setting, or one.
    Get {
        /// One of: auto_create_products, default_activation_limit, default_license_type,
        /// sync_interval_minutes, history_days.
        key: Option<String>,
    },
    /// Change one setting (validated; an invalid value writes nothing).
    Set { key: String, value: String },
}

#[derive(Subcommand)]
pub enum ProductsCmd {
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
        activation_limit: Option<i64>,
        /// regular or extended (default: the setting).
        #[arg(long, value_parser = parse_license_type)]
        license_type: Option<LicenseType>,
        /// Create it inactive.
        #[arg(long)]
        inactive: bool,
    },
    /// List products (STATUS "review": auto-created and not reviewed yet).
    List {
        /// Only auto-created products not reviewed yet.
        #[arg(long)]
        needs_review: bool,
    },
    /// Mark an auto-created product reviewed.
    MarkReviewed { id: i64 },
    /// Change a product's update settings (the slug WordPress installs it in, its kind, and
    /// whether only activated sites receive updates).
    Edit {
        id: i64,
        /// The plugin's or theme's folder name ("" clears it).
        #[arg(long)]
        update_slug: Option<String>,
        /// wp-plugin, wp-theme or generic.
        #[arg(long)]
        update_kind: Option<String>,
        /// true: only sites among the license's activations receive updates.
        #[arg(long, value_name = "true|false")]
        updates_require_activation: Option<bool>,
    },
    /// Merge product FROM into --into (its Envato items and licenses move; FROM is removed).
    Merge {
        from: i64,
        #[arg(long, value_name = "PRODUCT_ID")]
        into: i64,
    },
}

#[derive(Subcommand)]
pub enum LicensesCmd {
    /// List licenses, newest first: all that match, unless --limit is given.
    List {
        #[arg(long, value_parser = parse_status)]
        status: Option<LicenseStatus>,
        #[arg(long, value_name = "PRODUCT_ID")]
        product: Option<i64>,
        #[arg(long)]
        limit: Option<i64>,
    },
    /// One license with its activations, key history and audit trail.
    Show { id: i64 },
    /// Suspend a license (activations are refused until it is reactivated).
    Suspend(StatusChange),
    /// Revoke a license (for a refund, say: the seller's call).
    Revoke(StatusChange),
    /// Reactivate a suspended or revoked license.
    Reactivate(StatusChange),
    /// Suspend, revoke or reactivate several licenses with one reason (each one judged on its
    /// own; those that cannot change are listed, not fatal).
    Bulk {
        /// suspend, revoke or reactivate
        #[arg(value_parser = parse_action)]
        action: keymanager::licensing::LicenseAction,
        #[arg(required = true, num_args = 1..)]
        ids: Vec<i64>,
        #[arg(long)]
        reason: String,
    },
    /// Give a license a new key (the old one is kept in its history).
    RegenerateKey(StatusChange),
    /// Write the matching licenses as CSV (to a file, or standard output). No secrets.
    Export {
        #[arg(long, value_parser = parse_status)]
        status: Option<LicenseStatus>,
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
        #[arg(long, value_name = "ADDRESS")]
        buyer_email: Option<String>,
        #[arg(long)]
        note: Option<String>,
    },
    /// Re-check purchase codes with Envato (refund watch): codes it no longer recognises are
    /// flagged for your review; nothing is suspended. One product, or every license.
    Recheck {
        #[arg(long, value_name = "PRODUCT_ID")]
        product: Option<i64>,
    },
    /// Set a license's buyer e-mail and note (an empty value clears it).
    Edit {
        id: i64,
        #[arg(long, value_name = "ADDRESS")]
        buyer_email: Option<String>,
        #[arg(long)]
        note: Option<String>,
        /// A hand-made license's end of updates (YYYY-MM-DD or RFC 3339; "" for none): releases
        /// published after it are not offered. Envato licenses always receive updates.
        #[arg(long, value_name = "DATE")]
        updates_until: Option<String>,
    },
}

#[derive(Subcommand)]
pub enum ReleasesCmd {
    /// Add a release from a zip (read and checked; a draft unless --publish).
    Add {
        #[arg(long, value_name = "PRODUCT_ID")]
        product: i64,
        file: PathBuf,
        /// stable (default) or beta.
        #[arg(long)]
        channel: Option<String>,
        /// The changelog, from a file (default: readme.txt's entry for this version).
        #[arg(long, value_name = "FILE")]
        notes: Option<PathBuf>,
        /// The version (required for a generic package; else it must match the header).
        #[arg(long)]
        version: Option<String>,
        #[arg(long)]
        publish: bool,
        /// With --publish: the share of licenses offered it, 0 to 100.
        #[arg(long)]
        rollout: Option<u32>,
    },
    /// List releases, newest version first.
    List {
        #[arg(long, value_name = "PRODUCT_ID")]
        product: Option<i64>,
    },
    /// One release.
    Show { id: i64 },
    /// Publish a draft.
    Publish {
        id: i64,
        #[arg(long)]
        rollout: Option<u32>,
    },
    /// Change a published release's rollout.
    Rollout {
        id: i64,
        #[arg(long)]
        percent: u32,
    },
    /// Withdraw a published release: never offered or downloaded again.
    Yank {
        id: i64,
        #[arg(long)]
        reason: String,
    },
    /// Remove a draft (and its package, unless another release uses it).
    Remove { id: i64 },
    /// Re-release a release's package as a newer version (the rollback that reaches sites
    /// already updated).
    Rerelease {
        id: i64,
        #[arg(long = "as", value_name = "VERSION")]
        version: String,
        #[arg(long)]
        publish: bool,
    },
    /// Change a release's changelog (from a file) or requirements.
    Edit {
        id: i64,
        #[arg(long, value_name = "FILE")]
        notes: Option<PathBuf>,
        #[arg(long)]
        requires: Option<String>,
        #[arg(long)]
        tested: Option<String>,
        #[arg(long)]
        requires_php: Option<String>,
    },
}

#[derive(Subcommand)]
pub enum UpdatesCmd {
    /// Answer as a site asking for updates would be answered (exit 0 with a package, 3 without).
    Check {
        #[arg(long)]
        slug: String,
        #[arg(long, conflicts_with = "purchase_code")]
        key: Option<String>,
        #[arg(long)]
        purchase_code: Option<String>,
        #[arg(long, value_name = "VERSION")]
        installed: String,
        #[arg(long, value_name = "URL")]
        site: Option<String>,
        /// stable (default) or beta.
        #[arg(long)]
        channel: Option<String>,
        #[arg(long, value_name = "VERSION")]
        php: Option<String>,
    },
    /// Print a download link for a support reply (the newest release the license may have).
    Link {
        #[arg(long, value_name = "LICENSE_ID")]
        license: i64,
        #[arg(long, value_name = "RELEASE_ID")]
        release: Option<i64>,
    },
    /// Print the code to paste into the plugin or theme (plugin-update-checker; --edd: EDD's updater).
    Snippet {
        #[arg(long, value_name = "PRODUCT_ID")]
        product: i64,
        /// EDD Software Licensing's EDD_SL_Plugin_Updater instead (plugins only).
        #[arg(long)]
        edd: bool,
    },
}

#[derive(Args)]
pub struct StatusChange {
    pub id: i64,
    /// Why: kept in the license's audit trail.
    #[arg(long)]
    pub reason: String,
}

fn parse_license_type(s: &str) -> Result<LicenseType, String> {
    LicenseType::parse(s).ok_or_else(|| "use regular or extended".to_string())
}

#[derive(Subcommand)]
pub enum AdminCmd {
    /// Print a one-time pairing code (valid 10 minutes) and the server key's fingerprint.
    Pair {
        /// What the device is called in `admin devices` and the audit trail.
        #[arg(long, default_value = "Desktop")]
        name: String,
        /// What it may do: owner, support, publish (comma-separated).
        #[arg(long, default_value = "owner", value_delimiter = ',', value_parser = parse_scope)]
        scope: Vec<keymanager::admin::Scope>,
    },
    /// List paired devices, or revoke one.
    Devices {
        #[arg(long, value_name = "DEVICE_ID")]
        revoke: Option<i64>,
    },
}

#[derive(Subcommand)]
pub enum RemoteCmd {
    /// Pair with a server: NAME is yours to choose, URL its https address.
    Add {
        name: String,
        url: String,
        /// The code `keymanager admin pair` printed (asked for when not given).
        #[arg(long)]
        code: Option<String>,
        /// The fingerprint `admin pair` printed: the pairing fails if the server's key differs.
        #[arg(long)]
        fingerprint: Option<String>,
        /// This device's name on the server.
        #[arg(long, default_value = "Desktop")]
        device_name: String,
    },
    /// The paired servers, and the one in use.
    List,
    /// Make a paired server the workspace in use (none: this computer).
    Use { name: Option<String> },
    /// Forget a server here (its token leaves the keychain).
    Remove { name: String },
    /// Print the server's changes as they happen (the tables each commit wrote), signature
    /// checked, until Ctrl+C or `--count` changes.
    Watch {
        name: String,
        #[arg(long)]
        count: Option<u64>,
    },
    /// Move this computer's data to the server: a consistent backup of the local database is
    /// sent, checked there, and put in place; this computer's syncing is paused (the server
    /// syncs from now on) and the local file stays as an archive. The server must hold no
    /// licenses, unless --replace (its data is kept aside in its backup folder).
    Move {
        name: String,
        #[arg(long)]
        replace: bool,
    },
    /// The changes kept while the server could not be reached; --retry ID sends one again,
    /// --discard ID drops it.
    Unsent {
        name: String,
        #[arg(long, value_name = "ID", conflicts_with = "discard")]
        retry: Option<String>,
        #[arg(long, value_name = "ID")]
        discard: Option<String>,
    },
}

impl Command {
    /// Whether the command changes this computer's licensing data (refused while the data is an
    /// archive of a move to a server). Settings, secrets, keys, pairing, reads and backups stay open.
    pub fn changes_data(&self) -> bool {
        match self {
            Command::Products(c) => !matches!(c, ProductsCmd::List { .. }),
            Command::Licenses(c) => {
                !matches!(c, LicensesCmd::List { .. } | LicensesCmd::Show { .. } | LicensesCmd::Export { .. })
            }
            Command::Review(c) => !matches!(c, ReviewCmd::List),
            Command::Releases(c) => !matches!(c, ReleasesCmd::List { .. } | ReleasesCmd::Show { .. }),
            Command::Webhooks(c) => !matches!(c, WebhooksCmd::List | WebhooksCmd::Deliveries { .. }),
            Command::Email(c) => matches!(c, EmailCmd::SendKey { .. }),
            Command::Activate { .. } | Command::Deactivate { .. } | Command::Sync | Command::Serve { .. } => true,
            Command::Outbox(_) | Command::Restore { .. } => true,
            _ => false,
        }
    }
}

fn parse_scope(s: &str) -> Result<keymanager::admin::Scope, String> {
    keymanager::admin::Scope::parse(s).ok_or_else(|| "use owner, support or publish".to_string())
}

fn parse_action(s: &str) -> Result<keymanager::licensing::LicenseAction, String> {
    use keymanager::licensing::LicenseAction::*;
    match s.trim().to_ascii_lowercase().as_str() {
        "suspend" => Ok(Suspend),
        "revoke" => Ok(Revoke),
        "reactivate" => Ok(Reactivate),
        _ => Err("use suspend, revoke or reactivate".to_string()),
    }
}

fn parse_status(s: &str) -> Result<LicenseStatus, String> {
    LicenseStatus::parse(s).ok_or_else(|| "use active, suspended or revoked".to_string())
}

/// The command line with negative numbers read as values everywhere (`settings set
/// default_activation_limit -5` reaches the core's validation and gets its coded error, rather
/// than clap's usage error for an unknown `-5` flag).
pub fn command() -> clap::Command {
    fn allow_negatives(c: clap::Command) -> clap::Command {
        let names: Vec<String> = c.get_subcommands().map(|s| s.get_name().to_string()).collect();
        names.into_iter().fold(c.allow_negative_numbers(true), |c, n| c.mut_subcommand(n, allow_negatives))
    }
    allow_negatives(<Cli as clap::CommandFactory>::command())
}
