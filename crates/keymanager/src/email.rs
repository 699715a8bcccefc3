//! E-mail to buyers over SMTP (lettre): the settings checked into a `SmtpConfig`, the messages
//! written from an outbox entry (`render`: plain text and HTML, the store's name, no images, no
//! tracking), and the sending. The password comes from `Secrets` and is never in a message, a
//! log or an error (`scrub`).

use crate::error::{Error, ErrorCode, Result};
use crate::events::{EventType, EMAIL_CONFIRM_ADDRESS, EMAIL_LICENSE_KEY, EMAIL_SELLER_NOTICE, EMAIL_TEST};
use crate::mailbox::{parse_address, parse_mailbox};
use crate::settings::{Settings, SmtpSecurity};
use crate::text::escape_html as escape;
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde_json::Value;
use std::time::Duration;

/// Whether `host` is this machine (where `none` security is allowed).
fn is_local(host: &str) -> bool {
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    host.trim_matches(['[', ']']).parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// The SMTP settings, checked as a whole.
#[derive(Debug, Clone)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    pub username: String,
    pub from: Mailbox,
    /// What the messages sign with: the store name, else the From name, else a neutral one.
    pub store_name: String,
    pub public_url: String,
}

impl SmtpConfig {
    pub fn from_settings(s: &Settings) -> Result<SmtpConfig> {
        if s.smtp_host.is_empty() || s.smtp_from.is_empty() {
            return Err(Error::new(
                ErrorCode::EmailNotConfigured,
                "E-mail is not set up: fill in the SMTP host and the From address in Settings > Email.",
            ));
        }
        if s.smtp_security == SmtpSecurity::None && !is_local(&s.smtp_host) {
            return Err(Error::new(
                ErrorCode::EmailNotConfigured,
                format!(
                    "Security “none” sends the password and the mail in clear text: it is only allowed for a server on this \
                     machine, not {}. Choose tls (port 465) or starttls (port 587).",
                    s.smtp_host
                ),
            )
            .with_field("smtp_security"));
        }
        let from = parse_mailbox(&s.smtp_from).map_err(|e| e.with_field("smtp_from"))?;
        let store_name = if !s.store_name.is_empty() {
            s.store_name.clone()
        } else {
            from.name.clone().filter(|n| !n.trim().is_empty()).unwrap_or_else(|| "Your seller".to_string())
        };
        Ok(SmtpConfig {
            host: s.smtp_host.clone(),
            port: u16::try_from(s.smtp_port).unwrap_or(587),
            security: s.smtp_security,
            username: s.smtp_username.clone(),
            from,
            store_name,
            public_url: s.public_url.clone(),
        })
    }
}

/// A message ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    pub subject: String,
    pub text: String,
    pub html: String,
}

fn text(v: &Value, path: &[&str]) -> String {
    let mut v = v;
    for p in path {
        v = &v[*p];
    }
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => String::new(),
    }
}

/// `2027-06-01T00:00:00Z` as `1 June 2027`.
fn day(rfc3339: &str) -> String {
    crate::time::parse(rfc3339).map(|t| t.format("%-d %B %Y").to_string()).unwrap_or_default()
}

/// Lines of `(label, value)` as text and as an HTML table.
fn facts(rows: &[(&str, String)]) -> (String, String) {
    let text: String = rows.iter().map(|(k, v)| format!("{k}: {v}\n")).collect();
    let html: String = rows
        .iter()
        .map(|(k, v)| {
            format!(
                "<tr><td style=\"padding:4px 12px 4px 0;color:#555\">{}</td><td style=\"padding:4px 0\"><strong>{}</strong></td></tr>",
                escape(k),
                escape(v)
            )
        })
        .collect();
    (text, format!("<table cellspacing=\"0\" cellpadding=\"0\">{html}</table>"))
}

fn page(store: &str, intro: &str, table: &str, outro: &str) -> String {
    format!(
        "<!doctype html><html><body style=\"font-family:sans-serif;font-size:15px;color:#222;max-width:560px\">\
         <p>{}</p>{table}<p>{}</p><p>— {}</p></body></html>",
        escape(intro),
        escape(outro),
        escape(store)
    )
}

/// The message for an outbox e-mail: `kind` is its event type, `body` the stored event JSON.
pub fn render(cfg: &SmtpConfig, kind: &str, body: &str) -> Result<Mail> {
    let event: Value = serde_json::from_str(body).map_err(|_| Error::internal("An outbox e-mail is not JSON."))?;
    let data = &event["data"];
    let store = cfg.store_name.as_str();
    let buyer_page = (!cfg.public_url.is_empty()).then(|| format!("{}/", cfg.public_url));
    let (license, reason) =
        if data.get("license").is_some() { (&data["license"], text(data, &["reason"])) } else { (data, String::new()) };
    let product = text(license, &["product", "name"]);
    let key = text(license, &["key"]);
    let mut rows = vec![("Product", product.clone()), ("License key", key.clone())];
    let (subject, intro, outro) = match kind {
        EMAIL_TEST => {
            return Ok(Mail {
                subject: format!("Test e-mail from {store}"),
                text: format!(
                    "This is a test e-mail from KeyManager for {store}. E-mail to buyers works.\n\n— {store}\n"
                ),
                html: page(
                    store,
                    &format!("This is a test e-mail from KeyManager for {store}. E-mail to buyers works."),
                    "",
                    "",
                ),
            })
        }
        EMAIL_CONFIRM_ADDRESS => {
            let link = text(data, &["link"]);
            return Ok(Mail {
                subject: format!("Confirm your address for {product}"),
                text: format!(
                    "Someone (we hope you) asked {store} to send the license key for {product} to this address.\n\n\
                     Open this link within 24 hours to receive it:\n{link}\n\nIf it was not you, ignore this e-mail: \
                     nothing is sent without the link.\n\n— {store}\n"
                ),
                html: page(
                    store,
                    &format!(
                        "Someone (we hope you) asked {store} to send the license key for {product} to this address."
                    ),
                    &format!("<p><a href=\"{}\">Confirm and receive the key</a></p>", escape(&link)),
                    "If it was not you, ignore this e-mail: nothing is sent without the link.",
                ),
            });
        }
        EMAIL_SELLER_NOTICE => {
            let per_day = text(data, &["per_day"]);
            let message = format!(
                "The buyer page reached today's limit of {per_day} key e-mails for your store and refused more. \
                 If your buyers did not ask for that many, someone may be using the form to send mail in your name; \
                 you can turn the form off (Settings > Licensing server, \"E-mail keys from the buyer page\")."
            );
            return Ok(Mail {
                subject: "KeyManager: the buyer page's daily e-mail limit was reached".to_string(),
                text: format!("{message}\n\n— KeyManager\n"),
                html: page("KeyManager", &message, "", ""),
            });
        }
        EMAIL_LICENSE_KEY => {
            let limit = text(license, &["activation_limit"]);
            rows.push(("Activations", format!("up to {limit} installation{}", if limit == "1" { "" } else { "s" })));
            let support = text(license, &["supported_until"]);
            rows.push((
                "Support",
                if support.is_empty() { "no support period".into() } else { format!("until {}", day(&support)) },
            ));
            (
                format!("Your license key for {product}"),
                format!("Thank you for your purchase of {product}. Here is your license key."),
                match &buyer_page {
                    Some(url) => format!("You can retrieve your keys and free an activation at any time at {url}"),
                    None => "Keep this e-mail: you need the key to activate the product.".to_string(),
                },
            )
        }
        other => {
            let kind =
                EventType::parse(other).ok_or_else(|| Error::internal(format!("No e-mail is written for {other}.")))?;
            let (verb, next) = match kind {
                EventType::LicenseSuspended => {
                    ("suspended", "It does not activate new installations until it is reactivated.")
                }
                EventType::LicenseRevoked => ("revoked", "It no longer activates or validates."),
                EventType::LicenseReactivated => ("reactivated", "It works again."),
                _ => return Err(Error::internal(format!("No e-mail is written for {other}."))),
            };
            if !reason.is_empty() {
                rows.push(("Reason", reason.clone()));
            }
            (
                format!("Your license for {product} was {verb}"),
                format!("Your license for {product} was {verb}. {next}"),
                "Reply to this e-mail if you have a question about it.".to_string(),
            )
        }
    };
    let (fact_text, fact_html) = facts(&rows);
    Ok(Mail {
        subject,
        text: format!("{intro}\n\n{fact_text}\n{outro}\n\n— {store}\n"),
        html: page(store, &intro, &fact_html, &outro),
    })
}

/// Replaces the password (and its SMTP AUTH forms) in a text from the SMTP conversation.
pub fn scrub(text: &str, username: &str, password: &str) -> String {
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine;
    if password.is_empty() {
        return text.to_string();
    }
    let plain = STANDARD.encode(format!("\0{username}\0{password}"));
    let login = STANDARD.encode(password);
    text.replace(password, "********").replace(&plain, "********").replace(&login, "********")
}

/// Sends one message. The error is the server's or the connection's, password removed.
pub async fn send(cfg: &SmtpConfig, password: Option<&str>, to: &str, mail: &Mail) -> Result<()> {
    let failed = |m: String| Error::new(ErrorCode::EmailSendFailed, scrub(&m, &cfg.username, password.unwrap_or("")));
    let to = parse_mailbox(to)?;
    let message = Message::builder()
        .from(cfg.from.clone())
        .to(to)
        .subject(mail.subject.clone())
        .multipart(MultiPart::alternative_plain_html(mail.text.clone(), mail.html.clone()))
        .map_err(|e| failed(format!("The message could not be built: {e}.")))?;
    let builder = match cfg.security {
        SmtpSecurity::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&cfg.host),
        SmtpSecurity::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&cfg.host),
        SmtpSecurity::None => Ok(AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&cfg.host)),
    }
    .map_err(|e| failed(format!("Cannot set up the connection to {}: {e}.", cfg.host)))?;
    let mut builder = builder.port(cfg.port).timeout(Some(Duration::from_secs(15)));
    if !cfg.username.is_empty() {
        builder = builder.credentials(Credentials::new(cfg.username.clone(), password.unwrap_or("").to_string()));
    }
    let transport = builder.build();
    transport
        .send(message)
        .await
        .map(|_| ())
        .map_err(|e| failed(format!("The SMTP server {}:{} did not take the message: {e}.", cfg.host, cfg.port)))
}

/// "E-mail key to buyer": queues the license key for `to`, or the license's buyer e-mail. E-mail
/// must be set up first (said now, not after a failed delivery). Returns the message id.
pub fn queue_key(
    store: &mut crate::Store,
    license_id: i64,
    to: Option<&str>,
    now: crate::time::Timestamp,
) -> Result<String> {
    let license = store
        .license(license_id)?
        .ok_or_else(|| Error::new(ErrorCode::LicenseNotFound, format!("There is no license with ID {license_id}.")))?;
    let to = match to.map(str::trim).filter(|t| !t.is_empty()) {
        Some(t) => parse_address(t).map_err(|e| e.with_field("to"))?,
        None => license.buyer_email.clone().ok_or_else(|| {
            Error::new(
                ErrorCode::EmailNoRecipient,
                "This license has no buyer e-mail: add one to the license, or give an address to send to.",
            )
            .with_field("to")
        })?,
    };
    SmtpConfig::from_settings(&store.settings()?)?;
    let body = crate::events::body(EventType::LicenseCreated, now, &crate::events::license_data(&license));
    store.queue_email(&to, EMAIL_LICENSE_KEY, &body, Some(license_id), now)
}

/// "Send test e-mail": sent at once (not through the outbox), so the answer says whether the
/// settings work. `to` defaults to the From address.
pub async fn send_test(settings: &Settings, password: Option<&str>, to: Option<&str>) -> Result<String> {
    let cfg = SmtpConfig::from_settings(settings)?;
    let to = match to.map(str::trim).filter(|t| !t.is_empty()) {
        Some(t) => parse_address(t).map_err(|e| e.with_field("to"))?,
        None => cfg.from.email.to_string(),
    };
    let mail = render(&cfg, EMAIL_TEST, "{}")?;
    send(&cfg, password, &to, &mail).await?;
    Ok(to)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> SmtpConfig {
        let s = Settings {
            smtp_host: "smtp.example.com".into(),
            smtp_from: "Acme Themes <store@acme.example>".into(),
            public_url: "https://licenses.acme.example".into(),
            ..Settings::default()
        };
        SmtpConfig::from_settings(&s).unwrap()
    }

    #[test]
    fn addresses_are_checked() {
        assert_eq!(parse_address(" buyer@example.com ").unwrap(), "buyer@example.com");
        for bad in ["", "buyer", "buyer@", "a b@example.com", "<x@y>"] {
            assert_eq!(parse_address(bad).unwrap_err().code, ErrorCode::EmailInvalidAddress, "{bad}");
        }
        assert_eq!(parse_mailbox("Acme <a@b.example>").unwrap().name.as_deref(), Some("Acme"));
    }

    #[test]
    fn settings_make_a_config_or_say_what_is_missing() {
        assert_eq!(SmtpConfig::from_settings(&Settings::default()).unwrap_err().code, ErrorCode::EmailNotConfigured);
        let clear = Settings {
            smtp_host: "smtp.example.com".into(),
            smtp_from: "a@b.example".into(),
            smtp_security: SmtpSecurity::None,
            ..Settings::default()
        };
        assert_eq!(SmtpConfig::from_settings(&clear).unwrap_err().field.as_deref(), Some("smtp_security"));
        let local = Settings { smtp_host: "127.0.0.1".into(), ..clear };
        assert_eq!(SmtpConfig::from_settings(&local).unwrap().store_name, "Your seller");
        assert_eq!(cfg().store_name, "Acme Themes");
    }

    #[test]
    fn the_key_mail_has_the_facts_in_both_parts_and_escapes_html() {
        let body = crate::events::body(
            EventType::LicenseCreated,
            crate::time::parse("2026-12-01T10:00:00Z").unwrap(),
            &serde_json::json!({"key": "KM-ABCD", "product": {"name": "Pixel <Theme>"}, "activation_limit": 2,
                "supported_until": "2027-06-01T00:00:00Z"}),
        );
        let m = render(&cfg(), EMAIL_LICENSE_KEY, &body).unwrap();
        assert_eq!(m.subject, "Your license key for Pixel <Theme>");
        for part in [&m.text, &m.html] {
            assert!(part.contains("KM-ABCD"));
            assert!(part.contains("1 June 2027"));
            assert!(part.contains("https://licenses.acme.example/"));
            assert!(part.contains("Acme Themes"));
        }
        assert!(m.html.contains("Pixel &lt;Theme&gt;") && !m.html.contains("<Theme>"));
        assert!(!m.html.contains("<img") && !m.html.contains("http://"), "no tracking pixels, no links elsewhere");
        assert!(m.text.contains("up to 2 installations"));
    }

    #[test]
    fn lifecycle_notices_say_what_happened_and_why() {
        let body = crate::events::body(
            EventType::LicenseRevoked,
            crate::time::parse("2026-12-01T10:00:00Z").unwrap(),
            &serde_json::json!({"license": {"key": "KM-X", "product": {"name": "Plugin"}}, "reason": "Refunded"}),
        );
        let m = render(&cfg(), "license.revoked", &body).unwrap();
        assert_eq!(m.subject, "Your license for Plugin was revoked");
        assert!(m.text.contains("Reason: Refunded"));
        assert!(render(&cfg(), "license.created", &body).is_err());
    }

    #[test]
    fn the_password_is_scrubbed_in_every_form() {
        use base64::Engine;
        let pw = "s3cret-pass";
        let plain = base64::engine::general_purpose::STANDARD.encode("\0me\0s3cret-pass");
        let t = format!("535 auth failed for s3cret-pass ({plain})");
        let out = scrub(&t, "me", pw);
        assert!(!out.contains(pw) && !out.contains(&plain), "{out}");
    }
}
