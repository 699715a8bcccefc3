//! The buyer page (`GET /`): a buyer pastes a purchase code and sees their license key(s), the
//! product, the support window and the activations in use, and can free one (the code is the
//! proof of ownership; the per-license deactivation limit applies). Plain HTML forms: it works
//! without JavaScript (a same-origin script only adds Copy buttons), loads nothing from
//! elsewhere, and is served with a strict Content-Security-Policy. Nothing about other buyers,
//! never a stack trace: a bad or unknown code gets a plain sentence.

use crate::api::{LicensingService, Resolved};
use crate::envato::PurchaseCode;
use crate::model::{Activation, License, SupportWindow};
use crate::store::{AuditEntry, AuditLevel, BuyerMail, BuyerMailCap, BuyerMailKind};
use crate::time::Timestamp;
use crate::verify::Asker;

/// Served with every page and asset.
pub const CSP: &str = "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; \
                       form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

pub const CSS: &str = include_str!("buyer.css");
pub const JS: &str = include_str!("buyer.js");

pub use crate::text::escape_html as escape;

/// What the page shows under the form.
pub enum Shown {
    Nothing,
    /// A sentence (unknown code, waiting for review, an error), with a tone.
    Message {
        text: String,
        good: bool,
    },
    Licenses {
        code: String,
        licenses: Vec<(License, Vec<Activation>, SupportWindow)>,
        /// What the last action said, and whether it went well.
        notice: Option<(String, bool)>,
        /// How the page offers to e-mail the key (the seller's `buyer_email_form`).
        email: EmailOffer,
    },
}

/// What the buyer page offers for e-mailing a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EmailOffer {
    /// Off (the default), or e-mail is not set up.
    None,
    /// The license has the seller's address for the buyer: the key goes there (shown masked).
    ToAddressOnFile(String),
    /// No address yet: the buyer types one and confirms it by a mailed link first.
    ConfirmNewAddress,
}

/// `jane@example.com` as `j•••@example.com`: enough for a buyer to recognise, nothing more.
pub fn mask_address(address: &str) -> String {
    match address.split_once('@') {
        Some((local, domain)) => {
            format!("{}•••@{domain}", local.chars().next().map(String::from).unwrap_or_default())
        }
        None => "•••".to_string(),
    }
}

pub fn page(store_name: &str, code: &str, shown: &Shown) -> String {
    let title = if store_name.is_empty() {
        "Your license keys".to_string()
    } else {
        format!("{store_name}: your license keys")
    };
    let mut body = String::new();
    match shown {
        Shown::Nothing => {}
        Shown::Message { text, good } => {
            body.push_str(&format!(
                "<p class=\"message {}\" role=\"status\">{}</p>",
                if *good { "good" } else { "bad" },
                escape(text)
            ));
        }
        Shown::Licenses { code, licenses, notice, email } => {
            if let Some((n, good)) = notice {
                body.push_str(&format!(
                    "<p class=\"message {}\" role=\"status\">{}</p>",
                    if *good { "good" } else { "bad" },
                    escape(n)
                ));
            }
            for (l, acts, support) in licenses {
                body.push_str(&license_card(code, l, acts, support));
                body.push_str(&email_form(code, l, store_name, email));
            }
        }
    }
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><link rel=\"stylesheet\" href=\"/buyer.css\"></head>\
         <body><main><h1>{title}</h1>\
         <p>Paste the purchase code from your Envato downloads page to see your license key.</p>\
         <form method=\"post\" action=\"/\" class=\"lookup\">\
         <label for=\"code\">Purchase code</label>\
         <input id=\"code\" name=\"purchase_code\" required maxlength=\"100\" autocomplete=\"off\" \
         spellcheck=\"false\" placeholder=\"e.g. a67f4582-95d6-4019-81f3-75d1ebe3a071\" value=\"{code}\">\
         <button type=\"submit\">Show my license</button></form>{body}</main>\
         <script src=\"/buyer.js\" defer></script></body></html>\n",
        title = escape(&title),
        code = escape(code),
    )
}

/// "E-mail me this key": to the address the seller has, or to one the buyer confirms first.
fn email_form(code: &str, l: &License, store_name: &str, offer: &EmailOffer) -> String {
    let who = if store_name.is_empty() { "The seller".to_string() } else { escape(store_name) };
    match offer {
        EmailOffer::None => String::new(),
        EmailOffer::ToAddressOnFile(masked) => format!(
            "<form method=\"post\" action=\"/email\" class=\"email\">\
             <input type=\"hidden\" name=\"purchase_code\" value=\"{code}\">\
             <button type=\"submit\">E-mail this key to {masked}</button></form>",
            code = escape(code),
            masked = escape(masked),
        ),
        EmailOffer::ConfirmNewAddress => format!(
            "<form method=\"post\" action=\"/email\" class=\"email\">\
             <input type=\"hidden\" name=\"purchase_code\" value=\"{code}\">\
             <label for=\"email-{id}\">E-mail me this key</label>\
             <input id=\"email-{id}\" type=\"email\" name=\"email\" required maxlength=\"254\" autocomplete=\"email\">\
             <label class=\"consent\"><input type=\"checkbox\" name=\"consent\" value=\"yes\" required> \
             {who} may keep this address to send me this key and notices about this license.</label>\
             <button type=\"submit\">Send me a confirmation link</button></form>",
            code = escape(code),
            id = l.id,
        ),
    }
}

/// The page a confirmation link opens: one button, so opening the link changes nothing.
pub fn confirm_page(store_name: &str, token: &str) -> String {
    let shown = Shown::Message { text: "Confirm your address to receive your license key.".into(), good: true };
    let form = format!(
        "<form method=\"post\" action=\"/email/confirm\" class=\"confirm\">\
         <input type=\"hidden\" name=\"token\" value=\"{}\">\
         <button type=\"submit\">Send my license key</button></form></main>",
        escape(&token.chars().take(100).collect::<String>())
    );
    page(store_name, "", &shown).replacen("</main>", &form, 1)
}

/// Any other path: a plain page that points to the buyer page.
pub fn not_found_page(store_name: &str) -> String {
    let shown = Shown::Message { text: "There is no such page; use the form above.".into(), good: false };
    page(store_name, "", &shown)
}

fn license_card(code: &str, l: &License, acts: &[Activation], support: &SupportWindow) -> String {
    let support_text = match (&support.until, support.days_left) {
        (Some(u), Some(d)) if !support.expired => format!("until {} ({d} days left)", &u[..10.min(u.len())]),
        (Some(u), _) => format!("expired on {}", &u[..10.min(u.len())]),
        _ => "none".to_string(),
    };
    let row = |a: &Activation| {
        let shown = a.site.as_deref().unwrap_or(&a.instance_id);
        let why = if a.environment.counts_toward_limit() {
            String::new()
        } else {
            format!("<span class=\"env\">{}, not counted</span>", a.environment.as_str())
        };
        format!(
            "<li><span class=\"fp\">{site}</span> {label}{why}<span class=\"since\">since {since}, last seen {seen}</span>\
             <form method=\"post\" action=\"/deactivate\" class=\"inline\">\
             <input type=\"hidden\" name=\"purchase_code\" value=\"{code}\">\
             <input type=\"hidden\" name=\"fingerprint\" value=\"{fp}\">\
             <button type=\"submit\">{free}</button></form></li>",
            site = escape(shown),
            fp = escape(&a.instance_id),
            label =
                a.label.as_deref().map(|l| format!("<span class=\"label\">{}</span>", escape(l))).unwrap_or_default(),
            since = escape(&a.activated_at[..10.min(a.activated_at.len())]),
            seen = escape(&a.last_seen_at[..10.min(a.last_seen_at.len())]),
            code = escape(code),
            free = if a.environment.counts_toward_limit() { "Free for a new site" } else { "Free this activation" },
        )
    };
    let (production, other): (Vec<&Activation>, Vec<&Activation>) =
        acts.iter().partition(|a| a.environment.counts_toward_limit());
    let mut activations = String::new();
    if acts.is_empty() {
        activations.push_str("<p class=\"muted\">Not activated anywhere yet.</p>");
    } else {
        activations.push_str(&format!(
            "<h3>Production ({} of {})</h3><ul class=\"activations\">{}</ul>",
            production.len(),
            l.activation_limit,
            production.iter().map(|a| row(a)).collect::<String>()
        ));
        if !other.is_empty() {
            activations.push_str(&format!(
                "<h3>Staging and development ({}, not counted)</h3><ul class=\"activations\">{}</ul>",
                other.len(),
                other.iter().map(|a| row(a)).collect::<String>()
            ));
        }
        activations.push_str(
            "<p class=\"muted\">Moved your site? Free its old activation here, then activate the new site.</p>",
        );
    }
    format!(
        "<section class=\"license\" data-status=\"{status}\"><h2>{product}</h2>\
         <p class=\"key\"><input readonly class=\"key\" value=\"{key}\" aria-label=\"License key\">\
         <button type=\"button\" class=\"copy\" data-copy=\"{key}\" hidden>Copy</button></p>\
         <dl><dt>Status</dt><dd>{status}</dd><dt>Support</dt><dd>{support}</dd>\
         <dt>Activations</dt><dd>{used} of {limit} in use</dd></dl>{activations}</section>",
        status = l.status.as_str(),
        product = escape(&l.product_name),
        key = escape(&l.license_key),
        support = escape(&support_text),
        used = l.activations_used,
        limit = l.activation_limit,
    )
}

/// A buyer page's daily caps on key mails (licensing-api.md 1.1).
pub const MAILS_PER_LICENSE_PER_DAY: u32 = 3;
pub const MAILS_PER_STORE_PER_DAY: u32 = 100;
/// How long a confirmation link works.
pub const CONFIRM_HOURS: i64 = 24;

fn said(text: impl Into<String>, good: bool) -> Option<(String, bool)> {
    Some((text.into(), good))
}

fn client_text(asker: Asker) -> String {
    match asker {
        Asker::Client(ip) => ip.to_string(),
        Asker::Seller => "the seller".to_string(),
    }
}

/// Envato (or the database) could not be asked: the buyer tries again.
const NOT_CHECKED_NOW: &str = "The purchase could not be checked just now. Please try again in a few minutes.";

/// The SHA-256 of a confirmation token, hex: what the database keeps.
fn token_hash(token: &str) -> String {
    use sha2::Digest;
    crate::text::hex(&sha2::Sha256::digest(token.as_bytes()))
}

impl LicensingService {
    /// The page for a submitted purchase code (a code not seen yet is verified at Envato,
    /// within `asker`'s budget).
    pub async fn buyer_lookup(&self, code_input: &str, notice: Option<String>, asker: Asker, now: Timestamp) -> Shown {
        match self.buyer_license(code_input, asker, now).await {
            Ok(l) => self.licenses_shown(*l, notice.map(|n| (n, true)), now).await,
            Err(message) => message,
        }
    }

    /// Resolves the buyer's code once, or the sentence that says why there is no license.
    async fn buyer_license(&self, code_input: &str, asker: Asker, now: Timestamp) -> Result<Box<License>, Shown> {
        let Ok(code) = PurchaseCode::parse(code_input) else {
            return Err(Shown::Message {
                text: "That is not a purchase code: it looks like 8-4-4-4-12 letters and digits, for example \
                       a67f4582-95d6-4019-81f3-75d1ebe3a071."
                    .into(),
                good: false,
            });
        };
        let named = crate::api::LicenseRef::PurchaseCode(code.as_str().to_string());
        match self.resolve(&named, asker, now).await {
            Ok(Resolved::License(l)) => Ok(l),
            Ok(Resolved::Pending) => Err(Shown::Message {
                text: "Your purchase is genuine; the seller is still setting up its product. Please come back later."
                    .into(),
                good: true,
            }),
            Ok(Resolved::NotFound) => Err(Shown::Message {
                text: "No purchase of this seller's items has this code. Check it on your Envato downloads page."
                    .into(),
                good: false,
            }),
            Err(crate::api::Failure::Limited(_)) => Err(Shown::Message {
                text: "Too many purchase codes were checked from your address. Please try again in an hour.".into(),
                good: false,
            }),
            Err(_) => Err(Shown::Message { text: NOT_CHECKED_NOW.into(), good: false }),
        }
    }

    /// The page showing license `l` (read again: an action may have changed it) and a notice.
    async fn licenses_shown(&self, l: License, notice: Option<(String, bool)>, now: Timestamp) -> Shown {
        let id = l.id;
        let (l, acts, settings) =
            match self.store().read(move |s| Ok((s.license(id)?, s.activations(id)?, s.settings()?))).await {
                Ok((Some(fresh), acts, settings)) => (fresh, acts, Some(settings)),
                _ => (l, Vec::new(), None),
            };
        let email = match settings {
            Some(s) if s.buyer_email_form && crate::email::SmtpConfig::from_settings(&s).is_ok() => {
                match &l.buyer_email {
                    Some(a) => EmailOffer::ToAddressOnFile(mask_address(a)),
                    None if !s.public_url.is_empty() => EmailOffer::ConfirmNewAddress,
                    None => EmailOffer::None,
                }
            }
            _ => EmailOffer::None,
        };
        let support = SupportWindow::at(l.supported_until.as_deref(), now);
        let code = l.purchase_code.clone().unwrap_or_default();
        Shown::Licenses { code, licenses: vec![(l, acts, support)], notice, email }
    }

    /// "E-mail me this key" (only when the seller turned `buyer_email_form` on): the key goes to
    /// the address the seller has for the license, or, without one, a link goes to the address
    /// the buyer typed, and the key follows once the buyer clicks it. A buyer never replaces an
    /// address the seller set. Capped per license and for the store each day; audited with the
    /// client's address.
    pub async fn buyer_email(&self, code: &str, address: &str, consent: bool, asker: Asker, now: Timestamp) -> Shown {
        let settings = match self.store().read(|s| s.settings()).await {
            Ok(s) => s,
            Err(_) => return Shown::Message { text: "Please try again later.".into(), good: false },
        };
        if !settings.buyer_email_form || crate::email::SmtpConfig::from_settings(&settings).is_err() {
            return Shown::Message {
                text: "This store does not send keys by e-mail from this page.".into(),
                good: false,
            };
        }
        let l = match self.buyer_license(code, asker, now).await {
            Ok(l) => *l,
            Err(message) => return message,
        };
        let client = client_text(asker);
        let (to, kind, email_kind, body, confirmation, token) = match &l.buyer_email {
            Some(on_file) => {
                let body = crate::events::body(
                    crate::events::EventType::LicenseCreated,
                    now,
                    &crate::events::license_data(&l),
                );
                (on_file.clone(), BuyerMailKind::Key, crate::events::EMAIL_LICENSE_KEY, body, false, String::new())
            }
            None => {
                if !consent {
                    let n = said("Tick the box to agree that the seller keeps your address; nothing was sent.", false);
                    return self.licenses_shown(l, n, now).await;
                }
                let Ok(address) = crate::mailbox::parse_address(address) else {
                    let n = said("That is not an e-mail address; nothing was sent.", false);
                    return self.licenses_shown(l, n, now).await;
                };
                if settings.public_url.is_empty() {
                    let n = said("This store cannot confirm addresses yet; please contact the seller.", false);
                    return self.licenses_shown(l, n, now).await;
                }
                let mut raw = [0u8; 32];
                if getrandom::fill(&mut raw).is_err() {
                    return self.licenses_shown(l, said("Please try again later.", false), now).await;
                }
                use base64::Engine;
                let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw);
                let link = format!("{}/email/confirm?token={token}", settings.public_url);
                let body = crate::events::body(
                    crate::events::EventType::LicenseCreated,
                    now,
                    &serde_json::json!({ "license": crate::events::license_data(&l), "link": link }),
                );
                (address, BuyerMailKind::Confirm, crate::events::EMAIL_CONFIRM_ADDRESS, body, true, token)
            }
        };
        let hash = token_hash(&token);
        let expires = now + chrono::Duration::hours(CONFIRM_HOURS);
        let notice_to = crate::mailbox::parse_mailbox(&settings.smtp_from).ok().map(|m| m.email.to_string());
        let notice_body = crate::events::body(
            crate::events::EventType::LicenseCreated,
            now,
            &serde_json::json!({ "per_day": MAILS_PER_STORE_PER_DAY }),
        );
        let (license_id, to_c, client_c) = (l.id, to.clone(), client.clone());
        let queued = self
            .store()
            .run(move |s| {
                let mail = BuyerMail {
                    license_id,
                    to: &to_c,
                    kind,
                    email_kind,
                    body: &body,
                    client: &client_c,
                    confirmation: confirmation.then_some((hash.as_str(), expires)),
                    per_license: MAILS_PER_LICENSE_PER_DAY,
                    per_store: MAILS_PER_STORE_PER_DAY,
                };
                let notice =
                    notice_to.as_deref().map(|t| (t, crate::events::EMAIL_SELLER_NOTICE, notice_body.as_str()));
                s.queue_buyer_mail(&mail, notice, now)
            })
            .await;
        let notice = match queued {
            Ok(Ok(_)) if kind == BuyerMailKind::Key => said(
                format!("Your key is on its way to the address the seller has for you ({}).", mask_address(&to)),
                true,
            ),
            Ok(Ok(_)) => {
                said(format!("We sent a link to {to}. Open it within {CONFIRM_HOURS} hours to receive your key."), true)
            }
            Ok(Err(BuyerMailCap::License)) => {
                said("Enough e-mails were sent for this license today; please try again tomorrow.", false)
            }
            Ok(Err(BuyerMailCap::Store)) => {
                said("This store cannot send more e-mail today; please try again tomorrow.", false)
            }
            Err(_) => said("Your key could not be sent just now. Please try again later.", false),
        };
        self.licenses_shown(l, notice, now).await
    }

    /// A confirmation link's button: the address is kept (unless the seller set one meanwhile)
    /// and the key is queued to the license's address.
    pub async fn buyer_confirm(&self, token: &str, asker: Asker, now: Timestamp) -> Shown {
        let (hash, client) = (token_hash(token.trim()), client_text(asker));
        match self.store().run(move |s| s.confirm_buyer_address(&hash, &client, now)).await {
            Ok(Some(to)) => Shown::Message {
                text: format!("Thank you. Your license key is on its way to {}.", mask_address(&to)),
                good: true,
            },
            Ok(None) => Shown::Message {
                text: "This link has expired or was already used. Ask for a new one on this page.".into(),
                good: false,
            },
            Err(_) => Shown::Message { text: "Please try again later.".into(), good: false },
        }
    }

    /// Frees an activation from the buyer page (the purchase code is the proof of ownership;
    /// the per-license daily limit applies); audited with the client's address.
    pub async fn buyer_deactivate(
        &self,
        code: &str,
        fingerprint: &str,
        per_day: u32,
        asker: Asker,
        now: Timestamp,
    ) -> Shown {
        let l = match self.buyer_license(code, asker, now).await {
            Ok(l) => *l,
            Err(message) => return message,
        };
        let asked = crate::api::Query::of(crate::api::LicenseRef::Key(l.license_key.clone()), Some(fingerprint));
        let (detail, good) = match self.deactivate(&asked, per_day, asker, now).await {
            Ok(v) => (v.detail(), matches!(v, crate::api::DeactivateVerdict::Deactivated(_))),
            Err(crate::api::Failure::Internal(e)) => {
                tracing::error!(code = %e.code, "buyer page: {}", e.message);
                ("KeyManager could not answer; try again later.".to_string(), false)
            }
            Err(_) => (NOT_CHECKED_NOW.to_string(), false),
        };
        let entry = AuditEntry::new(
            now,
            if good { AuditLevel::Info } else { AuditLevel::Warning },
            "buyer_page.deactivate",
            format!(
                "Buyer page: freeing the activation “{}” {} (from {}).",
                crate::text::truncate_chars(fingerprint, 128),
                if good { "succeeded" } else { "was refused" },
                client_text(asker)
            ),
        )
        .license(l.id);
        if let Err(e) = self.store().run(move |s| s.record_audit(&entry)).await {
            tracing::warn!(code = %e.code, "cannot audit a buyer-page action: {}", e.message);
        }
        self.licenses_shown(l, said(detail, good), now).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn everything_shown_is_escaped() {
        let html = page(
            "<Acme & Co>",
            "\"><script>alert(1)</script>",
            &Shown::Message { text: "<b>x</b>".into(), good: false },
        );
        assert!(!html.contains("<script>alert"));
        assert!(!html.contains("<b>x</b>"));
        assert!(html.contains("&lt;Acme &amp; Co&gt;: your license keys"));
        assert!(!html.contains("http://") && !html.contains("https://"), "nothing loaded from elsewhere");
    }
}
