//! The buyer page (`GET /`): a buyer pastes a purchase code and sees their license key(s), the
//! product, the support window and the activations in use, and can free one (the code is the
//! proof of ownership; the per-license deactivation limit applies). Plain HTML forms: it works
//! without JavaScript (a same-origin script only adds Copy buttons), loads nothing from
//! elsewhere, and is served with a strict Content-Security-Policy. Nothing about other buyers,
//! never a stack trace: a bad or unknown code gets a plain sentence.

use super::{LicensingService, Resolved};
use crate::envato::PurchaseCode;
use crate::model::{Activation, License, SupportWindow};
use crate::time::Timestamp;

/// Served with every page and asset.
pub const CSP: &str = "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; \
                       form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

pub const CSS: &str = include_str!("buyer.css");
pub const JS: &str = include_str!("buyer.js");

/// Text safe inside HTML elements and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

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
        notice: Option<String>,
        /// E-mail is set up: the buyer may leave an address to be sent the key (opt-in).
        can_email: bool,
    },
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
        Shown::Licenses { code, licenses, notice, can_email } => {
            if let Some(n) = notice {
                body.push_str(&format!("<p class=\"message good\" role=\"status\">{}</p>", escape(n)));
            }
            for (l, acts, support) in licenses {
                body.push_str(&license_card(code, l, acts, support));
                if *can_email {
                    body.push_str(&email_form(code, l, store_name));
                }
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

/// "E-mail me this key": the buyer leaves an address, with explicit consent (opt-in).
fn email_form(code: &str, l: &License, store_name: &str) -> String {
    let who = if store_name.is_empty() { "The seller".to_string() } else { escape(store_name) };
    format!(
        "<form method=\"post\" action=\"/email\" class=\"email\">\
         <input type=\"hidden\" name=\"purchase_code\" value=\"{code}\">\
         <label for=\"email-{id}\">E-mail me this key</label>\
         <input id=\"email-{id}\" type=\"email\" name=\"email\" required maxlength=\"254\" autocomplete=\"email\">\
         <label class=\"consent\"><input type=\"checkbox\" name=\"consent\" value=\"yes\" required> \
         {who} may keep this address to send me this key and notices about this license.</label>\
         <button type=\"submit\">Send me the key</button></form>",
        code = escape(code),
        id = l.id,
    )
}

fn license_card(code: &str, l: &License, acts: &[Activation], support: &SupportWindow) -> String {
    let support_text = match (&support.until, support.days_left) {
        (Some(u), Some(d)) if !support.expired => format!("until {} ({d} days left)", &u[..10.min(u.len())]),
        (Some(u), _) => format!("expired on {}", &u[..10.min(u.len())]),
        _ => "none".to_string(),
    };
    let mut rows = String::new();
    for a in acts {
        rows.push_str(&format!(
            "<li><span class=\"fp\">{fp}</span> {label}<span class=\"since\">since {since}</span>\
             <form method=\"post\" action=\"/deactivate\" class=\"inline\">\
             <input type=\"hidden\" name=\"purchase_code\" value=\"{code}\">\
             <input type=\"hidden\" name=\"fingerprint\" value=\"{fp}\">\
             <button type=\"submit\">Free this activation</button></form></li>",
            fp = escape(&a.instance_id),
            label =
                a.label.as_deref().map(|l| format!("<span class=\"label\">{}</span>", escape(l))).unwrap_or_default(),
            since = escape(&a.activated_at[..10.min(a.activated_at.len())]),
            code = escape(code),
        ));
    }
    let activations = if acts.is_empty() {
        "<p class=\"muted\">Not activated anywhere yet.</p>".to_string()
    } else {
        format!("<ul class=\"activations\">{rows}</ul>")
    };
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

impl LicensingService {
    /// The page for a submitted purchase code (a code not seen yet is verified at Envato).
    pub async fn buyer_lookup(&self, code_input: &str, notice: Option<String>, now: Timestamp) -> Shown {
        let Ok(code) = PurchaseCode::parse(code_input) else {
            return Shown::Message {
                text: "That is not a purchase code: it looks like 8-4-4-4-12 letters and digits, for example \
                       a67f4582-95d6-4019-81f3-75d1ebe3a071."
                    .into(),
                good: false,
            };
        };
        let named = super::request::LicenseRef::PurchaseCode(code.as_str().to_string());
        match self.resolve(&named, now).await {
            Ok(Resolved::License(l)) => {
                let id = l.id;
                let acts = self.store.read(move |s| s.activations(id)).await.unwrap_or_default();
                let support = SupportWindow::at(l.supported_until.as_deref(), now);
                let can_email = self
                    .store
                    .read(|s| s.settings())
                    .await
                    .is_ok_and(|s| crate::email::SmtpConfig::from_settings(&s).is_ok());
                Shown::Licenses {
                    code: code.as_str().to_string(),
                    licenses: vec![(*l, acts, support)],
                    notice,
                    can_email,
                }
            }
            Ok(Resolved::Pending) => Shown::Message {
                text: "Your purchase is genuine; the seller is still setting up its product. Please come back later."
                    .into(),
                good: true,
            },
            Ok(Resolved::NotFound) => Shown::Message {
                text: "No purchase of this seller's items has this code. Check it on your Envato downloads page."
                    .into(),
                good: false,
            },
            Err(_) => Shown::Message {
                text: "The purchase could not be checked just now. Please try again in a few minutes.".into(),
                good: false,
            },
        }
    }

    /// "E-mail me this key": with the buyer's consent, keeps the address on the license of this
    /// purchase code and queues the key for it. Returns the sentence to show with the page.
    pub async fn buyer_email(&self, code: &str, address: &str, consent: bool, now: Timestamp) -> String {
        if !consent {
            return "Tick the box to agree that the seller keeps your address; nothing was saved.".into();
        }
        let address = match crate::email::parse_address(address) {
            Ok(a) => a,
            Err(_) => return "That is not an e-mail address; nothing was saved.".into(),
        };
        let Ok(code) = PurchaseCode::parse(code) else { return "That is not a purchase code.".into() };
        let named = super::request::LicenseRef::PurchaseCode(code.as_str().to_string());
        let Ok(Resolved::License(l)) = self.resolve(&named, now).await else {
            return "No license has this purchase code yet; nothing was saved.".into();
        };
        let (id, note, to) = (l.id, l.note.clone().unwrap_or_default(), address.clone());
        let queued = self
            .store
            .run(move |s| {
                crate::licensing::set_details(s, id, &to, &note, now)?;
                crate::email::queue_key(s, id, None, now)
            })
            .await;
        match queued {
            Ok(_) => format!("Your key is on its way to {address}."),
            Err(_) => "Your key could not be sent just now. Please try again later.".into(),
        }
    }

    /// Frees an activation from the buyer page; returns the sentence to show with the page.
    pub async fn buyer_deactivate(&self, code: &str, fingerprint: &str, per_day: u32, now: Timestamp) -> String {
        let body = serde_json::json!({ "purchase_code": code, "fingerprint": fingerprint }).to_string();
        let a = self.deactivate(body.as_bytes(), per_day, now).await;
        let v: serde_json::Value = serde_json::from_slice(&a.body).unwrap_or_default();
        v["detail"].as_str().unwrap_or("Done.").to_string()
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
