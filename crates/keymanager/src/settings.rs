//! Settings: keys, defaults and validation. The CLI and the UI use the same keys.
//!
//! Values are stored as text in the `settings` table; a key absent there has its default.
//! `validate` is the only gate: a value it refuses is never written.

use crate::error::{Error, ErrorCode, Result};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// Every setting with its current value, as the UI and `settings get --json` see them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Settings {
    pub auto_create_products: bool,
    pub default_activation_limit: u32,
    pub default_license_type: LicenseType,
    pub sync_interval_minutes: u32,
    pub history_days: u32,
    /// Licensing API: requests one client address may make per minute.
    pub serve_requests_per_minute: u32,
    /// Licensing API: deactivations a license may make in 24 hours (buyers moving machines).
    pub deactivations_per_day: u32,
    /// Licensing API: how long an offline certificate (`KM1`) stays valid.
    pub certificate_days: u32,
    /// The seller's store name, shown on the buyer page (empty: a neutral title).
    pub store_name: String,
    /// The desktop app runs the licensing server while it is open.
    pub server_enabled: bool,
    /// Where the app's licensing server listens (`keymanager serve --bind` on a server).
    pub server_bind: String,
    /// The address products and buyers use (a tunnel or reverse proxy in front of the server);
    /// shown to the seller, never changed once products ship. Empty until set.
    pub public_url: String,
    /// SMTP server for e-mail to buyers (empty: e-mail is off).
    pub smtp_host: String,
    pub smtp_port: u32,
    pub smtp_security: SmtpSecurity,
    /// Empty: no login.
    pub smtp_username: String,
    /// `Store Name <store@example.com>` or a bare address.
    pub smtp_from: String,
    /// Mail suspensions, revocations and reactivations to buyers with an e-mail.
    pub notify_buyers: bool,
    /// Where the daily backups go (empty: `backups` in the data folder).
    pub backup_folder: String,
    /// The app offered "start at login" (once, after the token was saved).
    pub autostart_offered: bool,
    /// Set when this computer's data was moved to a server: what the window says of it (an
    /// archive; the server syncs now). Empty: not moved.
    pub archived_to: String,
    /// Licensing API: connections open at once (over it, new ones are closed at once).
    pub serve_max_connections: u32,
    /// The app's licensing server: reverse proxies or tunnels on this machine whose
    /// `X-Forwarded-For` names the client (`keymanager serve --trusted-proxy`), comma-separated.
    pub trusted_proxies: String,
    /// The buyer page offers "e-mail me my key" (off by default: it sends mail in the seller's name).
    pub buyer_email_form: bool,
    /// Delivered webhook and e-mail messages are kept this many days.
    pub outbox_keep_days: u32,
    /// The audit log keeps this many days (proposed addition).
    pub audit_keep_days: u32,
    /// Host patterns of staging sites (`staging.*`, `*.wpengine.com`, …), comma-separated.
    pub staging_hosts: String,
    /// Host patterns of development sites (`dev.*`, …), comma-separated.
    pub development_hosts: String,
    /// Believe the `environment` a site reports (WordPress's `wp_get_environment_type()`).
    pub trust_reported_environment: bool,
    /// Activations on non-production sites a license may have (they do not count toward its limit).
    pub dev_sites_per_license: u32,
    /// A production activation not seen for this many days is replaced at the limit (0: never).
    pub stale_activation_days: u32,
    /// Distinct production sites in 30 days above which a license is flagged possibly shared
    /// (0: the license's activation limit plus 3).
    pub shared_sites_threshold: u32,
    /// Update delivery: the largest release package taken, in MB.
    pub release_max_mb: u32,
    /// Update delivery: how long a download link lives.
    pub download_link_days: u32,
    /// Update delivery: package downloads one license may make in 24 hours.
    pub downloads_per_day: u32,
}

crate::text_enum! {
    /// How the SMTP connection is secured: TLS from the start (465), STARTTLS (587), or none
    /// (only for a server on this machine).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
    pub enum SmtpSecurity {
        Tls = "tls",
        Starttls = "starttls",
        None = "none",
    }
}

impl Settings {
    /// The seller's site rules: host patterns, and whether a reported environment is believed.
    pub fn site_rules(&self) -> crate::site::SiteRules {
        crate::site::SiteRules::new(&self.staging_hosts, &self.development_hosts, self.trust_reported_environment)
    }

    /// Classifies a site URL with the seller's rules (the tester box).
    pub fn classify_site(&self, site_url: &str) -> crate::Result<crate::site::Classification> {
        crate::site::classify_url(&self.site_rules(), site_url, None)
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            auto_create_products: false,
            default_activation_limit: 1,
            default_license_type: LicenseType::Regular,
            sync_interval_minutes: 30,
            history_days: 90,
            serve_requests_per_minute: 120,
            deactivations_per_day: 3,
            certificate_days: 30,
            store_name: String::new(),
            server_enabled: false,
            server_bind: "127.0.0.1:8787".to_string(),
            public_url: String::new(),
            smtp_host: String::new(),
            smtp_port: 587,
            smtp_security: SmtpSecurity::Starttls,
            smtp_username: String::new(),
            smtp_from: String::new(),
            notify_buyers: false,
            backup_folder: String::new(),
            autostart_offered: false,
            archived_to: String::new(),
            serve_max_connections: 1024,
            trusted_proxies: String::new(),
            buyer_email_form: false,
            outbox_keep_days: 30,
            audit_keep_days: 365,
            staging_hosts: crate::site::validate_patterns(crate::site::DEFAULT_STAGING).unwrap_or_default(),
            development_hosts: crate::site::validate_patterns(crate::site::DEFAULT_DEVELOPMENT).unwrap_or_default(),
            trust_reported_environment: false,
            dev_sites_per_license: 5,
            stale_activation_days: 45,
            shared_sites_threshold: 0,
            release_max_mb: 200,
            download_link_days: 7,
            downloads_per_day: 30,
        }
    }
}

/// The keys, in the order `settings get` prints them.
pub const KEYS: &[&str] = &[
    "auto_create_products",
    "default_activation_limit",
    "default_license_type",
    "sync_interval_minutes",
    "history_days",
    "serve_requests_per_minute",
    "deactivations_per_day",
    "certificate_days",
    "store_name",
    "server_enabled",
    "server_bind",
    "public_url",
    "smtp_host",
    "smtp_port",
    "smtp_security",
    "smtp_username",
    "smtp_from",
    "notify_buyers",
    "backup_folder",
    "autostart_offered",
    "archived_to",
    "serve_max_connections",
    "trusted_proxies",
    "buyer_email_form",
    "outbox_keep_days",
    "audit_keep_days",
    "staging_hosts",
    "development_hosts",
    "trust_reported_environment",
    "dev_sites_per_license",
    "stale_activation_days",
    "shared_sites_threshold",
    "release_max_mb",
    "download_link_days",
    "downloads_per_day",
];

pub use crate::model::{LicenseType, ACTIVATION_LIMIT_MAX};

fn invalid(key: &str, message: String) -> Error {
    Error::new(ErrorCode::SettingsInvalidValue, message).with_field(key)
}

fn parse_range(key: &str, label: &str, value: &str, min: u32, max: u32, unit: &str) -> Result<u32> {
    let v = value.trim();
    match v.parse::<u32>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(invalid(
            key,
            format!("{label} must be a whole number from {min} to {max}{unit}; “{}” is not.", shorten(v)),
        )),
    }
}

/// Keeps error messages readable when someone pastes a novel into a field.
fn shorten(v: &str) -> String {
    let mut s: String = v.chars().take(40).collect();
    if v.chars().count() > 40 {
        s.push('…');
    }
    s
}

fn parse_bool(key: &str, value: &str) -> Result<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "on" | "yes" | "1" => Ok(true),
        "false" | "off" | "no" | "0" => Ok(false),
        other => Err(invalid(key, format!("“{}” is not on or off; use true or false.", shorten(other)))),
    }
}

/// The public address of the licensing server: empty, or an http(s) address with no user name,
/// query or fragment (parsed with a URL parser).
fn validate_public_url(key: &str, value: &str) -> Result<String> {
    let v = value.trim();
    if v.is_empty() {
        return Ok(String::new());
    }
    let bad = || invalid(key, format!("“{}” is not a web address such as https://licenses.example.com.", shorten(v)));
    let url = url::Url::parse(v).map_err(|_| bad())?;
    if !matches!(url.scheme(), "http" | "https")
        || url.host().is_none()
        || !url.username().is_empty()
        || url.password().is_some()
        || url.query().is_some()
        || url.fragment().is_some()
    {
        return Err(bad());
    }
    Ok(url.as_str().trim_end_matches('/').to_string())
}

/// Trusted proxies: IP addresses separated by commas or spaces, stored as `a, b`.
fn validate_proxies(key: &str, value: &str) -> Result<String> {
    let mut out = Vec::new();
    for part in value.split([',', ' ', '\n']).map(str::trim).filter(|p| !p.is_empty()) {
        let ip = part
            .parse::<std::net::IpAddr>()
            .map_err(|_| invalid(key, format!("“{}” is not an IP address such as 127.0.0.1 or ::1.", shorten(part))))?;
        if !out.contains(&ip) {
            out.push(ip);
        }
    }
    if out.len() > 16 {
        return Err(invalid(key, "At most 16 trusted proxies.".into()));
    }
    Ok(out.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "))
}

impl Settings {
    /// The trusted proxies as addresses (the stored text is always valid).
    pub fn trusted_proxy_list(&self) -> Vec<std::net::IpAddr> {
        self.trusted_proxies.split(',').filter_map(|p| p.trim().parse().ok()).collect()
    }
}

/// One validated change: the key and its canonical stored text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingChange {
    pub key: &'static str,
    pub value: String,
}

/// Checks one `key = value` pair and returns its canonical form, or the error to show inline.
pub fn validate(key: &str, value: &str) -> Result<SettingChange> {
    let (key, value) = match key {
        "auto_create_products" => ("auto_create_products", parse_bool(key, value)?.to_string()),
        "default_activation_limit" => (
            "default_activation_limit",
            parse_range(key, "The default activation limit", value, 1, ACTIVATION_LIMIT_MAX, "")?.to_string(),
        ),
        "default_license_type" => (
            "default_license_type",
            LicenseType::parse(value)
                .ok_or_else(|| {
                    invalid(key, format!("“{}” is not a license type; use regular or extended.", shorten(value.trim())))
                })?
                .as_str()
                .to_string(),
        ),
        "sync_interval_minutes" => {
            ("sync_interval_minutes", parse_range(key, "The sync interval", value, 15, 1440, " minutes")?.to_string())
        }
        "history_days" => {
            ("history_days", parse_range(key, "The first sync's history", value, 1, 365, " days")?.to_string())
        }
        "serve_requests_per_minute" => (
            "serve_requests_per_minute",
            parse_range(key, "Requests per client per minute", value, 1, 100_000, "")?.to_string(),
        ),
        "deactivations_per_day" => (
            "deactivations_per_day",
            parse_range(key, "Deactivations per license per day", value, 1, 100, "")?.to_string(),
        ),
        "server_enabled" => ("server_enabled", parse_bool(key, value)?.to_string()),
        "server_bind" => {
            let v = value.trim();
            match v.parse::<std::net::SocketAddr>() {
                Ok(addr) => ("server_bind", addr.to_string()),
                Err(_) => {
                    return Err(invalid(
                        key,
                        format!("“{}” is not an address and port, such as 127.0.0.1:8787 or 0.0.0.0:8787.", shorten(v)),
                    ))
                }
            }
        }
        "public_url" => ("public_url", validate_public_url(key, value)?),
        "store_name" => {
            let v = value.trim();
            if v.chars().count() > 80 || v.chars().any(char::is_control) {
                return Err(invalid(key, "A store name has at most 80 characters, on one line.".into()));
            }
            ("store_name", v.to_string())
        }
        "certificate_days" => (
            "certificate_days",
            parse_range(key, "The offline certificate's life", value, 1, 365, " days")?.to_string(),
        ),
        "smtp_host" => {
            let v = value.trim();
            if !v.is_empty() && url::Host::parse(v).is_err() {
                return Err(invalid(key, format!("“{}” is not a host name such as smtp.example.com.", shorten(v))));
            }
            ("smtp_host", v.to_ascii_lowercase())
        }
        "smtp_port" => ("smtp_port", parse_range(key, "The SMTP port", value, 1, 65535, "")?.to_string()),
        "smtp_security" => (
            "smtp_security",
            SmtpSecurity::parse(value)
                .ok_or_else(|| invalid(key, format!("“{}” is not tls, starttls or none.", shorten(value.trim()))))?
                .as_str()
                .to_string(),
        ),
        "smtp_username" => {
            let v = value.trim();
            if v.chars().count() > 200 || v.chars().any(char::is_control) {
                return Err(invalid(key, "A user name has at most 200 characters, on one line.".into()));
            }
            ("smtp_username", v.to_string())
        }
        "smtp_from" => {
            let v = value.trim();
            if !v.is_empty() {
                crate::mailbox::parse_mailbox(v).map_err(|e| e.with_field(key))?;
            }
            ("smtp_from", v.to_string())
        }
        "notify_buyers" => ("notify_buyers", parse_bool(key, value)?.to_string()),
        "serve_max_connections" => {
            ("serve_max_connections", parse_range(key, "Connections open at once", value, 16, 100_000, "")?.to_string())
        }
        "trusted_proxies" => ("trusted_proxies", validate_proxies(key, value)?),
        "buyer_email_form" => ("buyer_email_form", parse_bool(key, value)?.to_string()),
        "outbox_keep_days" => {
            ("outbox_keep_days", parse_range(key, "Delivered messages", value, 1, 3650, " days")?.to_string())
        }
        "audit_keep_days" => {
            ("audit_keep_days", parse_range(key, "The audit log", value, 30, 3650, " days")?.to_string())
        }
        "staging_hosts" | "development_hosts" => {
            let stored = crate::site::validate_patterns(value).map_err(|m| invalid(key, m))?;
            (if key == "staging_hosts" { "staging_hosts" } else { "development_hosts" }, stored)
        }
        "trust_reported_environment" => ("trust_reported_environment", parse_bool(key, value)?.to_string()),
        "release_max_mb" => {
            ("release_max_mb", parse_range(key, "A release package", value, 1, 2048, " MB")?.to_string())
        }
        "download_link_days" => {
            ("download_link_days", parse_range(key, "A download link", value, 1, 90, " days")?.to_string())
        }
        "downloads_per_day" => {
            ("downloads_per_day", parse_range(key, "Downloads", value, 1, 10_000, " a day per license")?.to_string())
        }
        "dev_sites_per_license" => (
            "dev_sites_per_license",
            parse_range(key, "Staging and development sites", value, 0, 1000, " per license")?.to_string(),
        ),
        "stale_activation_days" => (
            "stale_activation_days",
            parse_range(key, "A stale activation's age", value, 0, 3650, " days (0: never replaced)")?.to_string(),
        ),
        "shared_sites_threshold" => (
            "shared_sites_threshold",
            parse_range(key, "The shared-code threshold", value, 0, 10_000, " sites (0: the limit plus 3)")?
                .to_string(),
        ),
        "autostart_offered" => ("autostart_offered", parse_bool(key, value)?.to_string()),
        "archived_to" => ("archived_to", crate::text::truncate_chars(value.trim(), 300).to_string()),
        "backup_folder" => {
            let v = value.trim();
            if !v.is_empty()
                && (!std::path::Path::new(v).is_absolute()
                    || v.chars().count() > 1000
                    || v.chars().any(char::is_control))
            {
                return Err(invalid(
                    key,
                    format!("“{}” is not a full folder path, such as /home/me/Backups/KeyManager.", shorten(v)),
                ));
            }
            ("backup_folder", v.to_string())
        }
        other => {
            return Err(Error::new(
                ErrorCode::SettingsUnknownKey,
                format!("There is no setting called “{}”. Settings are: {}.", shorten(other), KEYS.join(", ")),
            )
            .with_field(shorten(other)))
        }
    };
    Ok(SettingChange { key, value })
}

impl Settings {
    /// Builds the settings from stored `(key, value)` rows; unknown keys (from a newer version
    /// that wrote extra settings) and unreadable values fall back to the default.
    pub fn from_rows<'a>(rows: impl IntoIterator<Item = (&'a str, &'a str)>) -> Settings {
        let mut s = Settings::default();
        for (key, value) in rows {
            let Ok(change) = validate(key, value) else {
                tracing::warn!(key, "ignoring an unreadable stored setting");
                continue;
            };
            s.apply(&change);
        }
        s
    }

    fn apply(&mut self, change: &SettingChange) {
        let v = change.value.as_str();
        match change.key {
            "auto_create_products" => self.auto_create_products = v == "true",
            "default_activation_limit" => {
                self.default_activation_limit = v.parse().unwrap_or(self.default_activation_limit)
            }
            "default_license_type" => {
                self.default_license_type = LicenseType::parse(v).unwrap_or(self.default_license_type)
            }
            "sync_interval_minutes" => self.sync_interval_minutes = v.parse().unwrap_or(self.sync_interval_minutes),
            "history_days" => self.history_days = v.parse().unwrap_or(self.history_days),
            "serve_requests_per_minute" => {
                self.serve_requests_per_minute = v.parse().unwrap_or(self.serve_requests_per_minute)
            }
            "deactivations_per_day" => self.deactivations_per_day = v.parse().unwrap_or(self.deactivations_per_day),
            "certificate_days" => self.certificate_days = v.parse().unwrap_or(self.certificate_days),
            "store_name" => self.store_name = v.to_string(),
            "server_enabled" => self.server_enabled = v == "true",
            "server_bind" => self.server_bind = v.to_string(),
            "public_url" => self.public_url = v.to_string(),
            "smtp_host" => self.smtp_host = v.to_string(),
            "smtp_port" => self.smtp_port = v.parse().unwrap_or(self.smtp_port),
            "smtp_security" => self.smtp_security = SmtpSecurity::parse(v).unwrap_or(self.smtp_security),
            "smtp_username" => self.smtp_username = v.to_string(),
            "smtp_from" => self.smtp_from = v.to_string(),
            "notify_buyers" => self.notify_buyers = v == "true",
            "backup_folder" => self.backup_folder = v.to_string(),
            "autostart_offered" => self.autostart_offered = v == "true",
            "archived_to" => self.archived_to = v.to_string(),
            "serve_max_connections" => self.serve_max_connections = v.parse().unwrap_or(self.serve_max_connections),
            "trusted_proxies" => self.trusted_proxies = v.to_string(),
            "buyer_email_form" => self.buyer_email_form = v == "true",
            "outbox_keep_days" => self.outbox_keep_days = v.parse().unwrap_or(self.outbox_keep_days),
            "audit_keep_days" => self.audit_keep_days = v.parse().unwrap_or(self.audit_keep_days),
            "staging_hosts" => self.staging_hosts = v.to_string(),
            "development_hosts" => self.development_hosts = v.to_string(),
            "trust_reported_environment" => self.trust_reported_environment = v == "true",
            "dev_sites_per_license" => self.dev_sites_per_license = v.parse().unwrap_or(self.dev_sites_per_license),
            "stale_activation_days" => self.stale_activation_days = v.parse().unwrap_or(self.stale_activation_days),
            "shared_sites_threshold" => self.shared_sites_threshold = v.parse().unwrap_or(self.shared_sites_threshold),
            "release_max_mb" => self.release_max_mb = v.parse().unwrap_or(self.release_max_mb),
            "download_link_days" => self.download_link_days = v.parse().unwrap_or(self.download_link_days),
            "downloads_per_day" => self.downloads_per_day = v.parse().unwrap_or(self.downloads_per_day),
            _ => {}
        }
    }

    /// The value of one key as text, as `settings get KEY` prints it.
    pub fn get(&self, key: &str) -> Result<String> {
        Ok(match key {
            "auto_create_products" => self.auto_create_products.to_string(),
            "default_activation_limit" => self.default_activation_limit.to_string(),
            "default_license_type" => self.default_license_type.as_str().to_string(),
            "sync_interval_minutes" => self.sync_interval_minutes.to_string(),
            "history_days" => self.history_days.to_string(),
            "serve_requests_per_minute" => self.serve_requests_per_minute.to_string(),
            "deactivations_per_day" => self.deactivations_per_day.to_string(),
            "certificate_days" => self.certificate_days.to_string(),
            "store_name" => self.store_name.clone(),
            "server_enabled" => self.server_enabled.to_string(),
            "server_bind" => self.server_bind.clone(),
            "public_url" => self.public_url.clone(),
            "smtp_host" => self.smtp_host.clone(),
            "smtp_port" => self.smtp_port.to_string(),
            "smtp_security" => self.smtp_security.as_str().to_string(),
            "smtp_username" => self.smtp_username.clone(),
            "smtp_from" => self.smtp_from.clone(),
            "notify_buyers" => self.notify_buyers.to_string(),
            "backup_folder" => self.backup_folder.clone(),
            "autostart_offered" => self.autostart_offered.to_string(),
            "archived_to" => self.archived_to.clone(),
            "serve_max_connections" => self.serve_max_connections.to_string(),
            "trusted_proxies" => self.trusted_proxies.clone(),
            "buyer_email_form" => self.buyer_email_form.to_string(),
            "outbox_keep_days" => self.outbox_keep_days.to_string(),
            "audit_keep_days" => self.audit_keep_days.to_string(),
            "staging_hosts" => self.staging_hosts.clone(),
            "development_hosts" => self.development_hosts.clone(),
            "trust_reported_environment" => self.trust_reported_environment.to_string(),
            "dev_sites_per_license" => self.dev_sites_per_license.to_string(),
            "stale_activation_days" => self.stale_activation_days.to_string(),
            "shared_sites_threshold" => self.shared_sites_threshold.to_string(),
            "release_max_mb" => self.release_max_mb.to_string(),
            "download_link_days" => self.download_link_days.to_string(),
            "downloads_per_day" => self.downloads_per_day.to_string(),
            other => return Err(validate(other, "").unwrap_err()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(key: &str, value: &str, expect: std::result::Result<&str, ErrorCode>) {
        match (validate(key, value), expect) {
            (Ok(c), Ok(want)) => assert_eq!(c.value, want, "{key}={value}"),
            (Err(e), Err(code)) => {
                assert_eq!(e.code, code, "{key}={value}: {}", e.message);
                assert!(!e.message.is_empty());
            }
            (got, want) => panic!("{key}={value}: got {got:?}, want {want:?}"),
        }
    }

    #[test]
    fn validation_table() {
        use ErrorCode::*;
        check("auto_create_products", "ON", Ok("true"));
        check("auto_create_products", "false", Ok("false"));
        check("auto_create_products", "maybe", Err(SettingsInvalidValue));
        check("default_activation_limit", " 3 ", Ok("3"));
        check("default_activation_limit", "0", Err(SettingsInvalidValue));
        check("default_activation_limit", "1001", Err(SettingsInvalidValue));
        check("default_activation_limit", "-1", Err(SettingsInvalidValue));
        check("default_activation_limit", "2.5", Err(SettingsInvalidValue));
        check("default_license_type", "Extended", Ok("extended"));
        check("default_license_type", "lifetime", Err(SettingsInvalidValue));
        check("sync_interval_minutes", "15", Ok("15"));
        check("sync_interval_minutes", "1440", Ok("1440"));
        check("sync_interval_minutes", "14", Err(SettingsInvalidValue));
        check("sync_interval_minutes", "1441", Err(SettingsInvalidValue));
        check("history_days", "1", Ok("1"));
        check("history_days", "365", Ok("365"));
        check("history_days", "0", Err(SettingsInvalidValue));
        check("history_days", "366", Err(SettingsInvalidValue));
        check("deactivations_per_day", "3", Ok("3"));
        check("deactivations_per_day", "0", Err(SettingsInvalidValue));
        check("certificate_days", "30", Ok("30"));
        check("certificate_days", "-1", Err(SettingsInvalidValue));
        check("store_name", "  Acme Themes ", Ok("Acme Themes"));
        check("store_name", "a\nb", Err(SettingsInvalidValue));
        check("server_bind", " 0.0.0.0:8787 ", Ok("0.0.0.0:8787"));
        check("server_bind", "localhost", Err(SettingsInvalidValue));
        check("public_url", "https://licenses.example.com/", Ok("https://licenses.example.com"));
        check("public_url", "", Ok(""));
        check("public_url", "https://u:p@x.example", Err(SettingsInvalidValue));
        check("public_url", "ftp://x.example", Err(SettingsInvalidValue));
        check("smtp_host", " SMTP.Example.com ", Ok("smtp.example.com"));
        check("smtp_host", "", Ok(""));
        check("smtp_host", "smtp example", Err(SettingsInvalidValue));
        check("smtp_port", "465", Ok("465"));
        check("smtp_port", "70000", Err(SettingsInvalidValue));
        check("smtp_security", "STARTTLS", Ok("starttls"));
        check("smtp_security", "ssl", Err(SettingsInvalidValue));
        check("smtp_from", "Acme Themes <store@acme.example>", Ok("Acme Themes <store@acme.example>"));
        check("smtp_from", "store@acme.example", Ok("store@acme.example"));
        check("smtp_from", "store at acme", Err(EmailInvalidAddress));
        check("notify_buyers", "on", Ok("true"));
        check("backup_folder", "", Ok(""));
        check("backup_folder", "/srv/backups", Ok("/srv/backups"));
        check("backup_folder", "backups", Err(SettingsInvalidValue));
        check("trusted_proxies", " 127.0.0.1,::1  127.0.0.1", Ok("127.0.0.1, ::1"));
        check("trusted_proxies", "", Ok(""));
        check("trusted_proxies", "proxy.example", Err(SettingsInvalidValue));
        check("serve_max_connections", "1024", Ok("1024"));
        check("serve_max_connections", "2", Err(SettingsInvalidValue));
        check("buyer_email_form", "on", Ok("true"));
        check("outbox_keep_days", "0", Err(SettingsInvalidValue));
        check("staging_hosts", "Staging.*,  *.WPEngine.com", Ok("staging.*, *.wpengine.com"));
        check("staging_hosts", "not a pattern!", Err(SettingsInvalidValue));
        check("stale_activation_days", "0", Ok("0"));
        check("dev_sites_per_license", "5", Ok("5"));
        check("no_such_key", "1", Err(SettingsUnknownKey));
    }

    #[test]
    fn errors_name_their_field() {
        assert_eq!(validate("history_days", "x").unwrap_err().field.as_deref(), Some("history_days"));
    }

    #[test]
    fn stored_rows_fold_over_defaults() {
        let s = Settings::from_rows([("history_days", "30"), ("bogus", "1"), ("sync_interval_minutes", "garbage")]);
        assert_eq!(s.history_days, 30);
        assert_eq!(s.sync_interval_minutes, 30);
        assert!(!s.auto_create_products);
        for key in KEYS {
            assert!(s.get(key).is_ok());
        }
    }
}
