//! Purchase-code lookup for support staff: is the code real, which item, which buyer, the
//! support window, and the license it maps to. A code already in the database answers from it,
//! with no request; an unknown one is verified with Envato, and the answer creates or completes
//! the license. Envato data older than six hours is refreshed (`refresh`), as its terms require.

use crate::envato::{EnvatoClient, PurchaseCode, Sale};
use crate::error::{Error, ErrorCode, Result};
use crate::model::{Activation, License, SupportWindow};
use crate::plan;
use crate::store::PendingSale;
use crate::store::SharedStore;
use crate::time::{parse, to_db, Timestamp};
use crate::verify::{Asker, Verified, Verifier};
use serde::Serialize;
use ts_rs::TS;

/// Envato's data may be shown for at most this long before it is refreshed.
pub const FRESH_FOR: chrono::Duration = chrono::Duration::hours(6);

crate::text_enum! {
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS, serde::Deserialize)]
    pub enum LookupVerdict {
        /// A sale of one of the seller's items.
        Valid = "valid",
        /// Unknown, another author's item, refunded or reversed: Envato has no sale of yours for it.
        NotASale = "not_a_sale",
        /// In the database, but Envato no longer recognises it (refund or reversal?).
        NoLongerRecognised = "no_longer_recognised",
        /// Not shaped like a purchase code; nothing was sent to Envato.
        Malformed = "malformed",
    }
}

/// The sale as Envato reported it: shown whether or not a license exists for it yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS, serde::Deserialize)]
pub struct LookupSale {
    #[ts(type = "number | null")]
    pub item_id: Option<i64>,
    pub item_name: Option<String>,
    pub marketplace: Option<String>,
    /// None for a guest checkout.
    pub buyer: Option<String>,
    /// Envato's license name, verbatim ("Regular License").
    pub envato_license: Option<String>,
    pub sold_at: Option<String>,
    /// Exact decimal text, e.g. "19.84", in `currency`.
    pub amount: Option<String>,
    /// Envato Market sells in US dollars.
    pub currency: String,
    pub purchase_count: Option<u32>,
    pub supported_until: Option<String>,
}

/// Envato Market prices and pays in US dollars.
pub const CURRENCY: &str = "USD";

impl LookupSale {
    fn from_license(l: &License) -> LookupSale {
        LookupSale {
            item_id: l.envato_item_id,
            item_name: l.item_name.clone(),
            marketplace: l.marketplace.clone(),
            buyer: l.buyer.clone(),
            envato_license: l.envato_license.clone(),
            sold_at: l.sold_at.clone(),
            amount: l.amount.clone(),
            currency: CURRENCY.to_string(),
            purchase_count: l.purchase_count,
            supported_until: l.supported_until.clone(),
        }
    }

    fn from_record(r: &plan::SaleRecord) -> LookupSale {
        LookupSale {
            item_id: Some(r.item_id),
            item_name: Some(r.item_name.clone()),
            marketplace: r.marketplace.clone(),
            buyer: r.buyer.clone(),
            envato_license: Some(r.license.clone()),
            sold_at: Some(to_db(r.sold_at)),
            amount: Some(crate::money::format_cents(r.amount_cents)),
            currency: CURRENCY.to_string(),
            purchase_count: r.purchase_count,
            supported_until: r.supported_until.map(to_db),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS, serde::Deserialize)]
pub struct LookupResult {
    pub code: String,
    pub verdict: LookupVerdict,
    pub message: String,
    /// Answered from the database (no request) or from Envato just now.
    pub from_envato: bool,
    /// What was sold: item, buyer, license type, date, amount and support, with or without a license.
    pub sale: Option<LookupSale>,
    pub license: Option<License>,
    pub activations: Vec<Activation>,
    pub support: Option<SupportWindow>,
    /// Verified, but no product matches its item yet (Auto-Create off): it waits in the review queue.
    pub waiting_for_product: bool,
    /// The Envato data is older than six hours; a refresh is under way or due.
    pub stale: bool,
}

fn result_for(license: License, activations: Vec<Activation>, from_envato: bool, now: Timestamp) -> LookupResult {
    let flagged = license.envato_flag.as_deref() == Some("not_recognised");
    let stale = license.envato_checked_at.as_deref().and_then(parse).is_none_or(|t| now - t > FRESH_FOR);
    let verdict = if flagged { LookupVerdict::NoLongerRecognised } else { LookupVerdict::Valid };
    let message = if flagged {
        "Envato no longer recognises this purchase (refund or reversal?). The license is unchanged: suspend or revoke it if you decide to.".to_string()
    } else {
        format!("A genuine purchase of {}.", license.item_name.clone().unwrap_or_else(|| license.product_name.clone()))
    };
    LookupResult {
        code: license.purchase_code.clone().unwrap_or_default(),
        verdict,
        message,
        from_envato,
        sale: Some(LookupSale::from_license(&license)),
        support: Some(SupportWindow::at(license.supported_until.as_deref(), now)),
        license: Some(license),
        activations,
        waiting_for_product: false,
        stale: stale && !from_envato,
    }
}

/// An answer that has no sale to show (malformed, or not a sale of the seller's).
fn without_sale(code: String, verdict: LookupVerdict, message: String, from_envato: bool) -> LookupResult {
    LookupResult {
        code,
        verdict,
        message,
        from_envato,
        sale: None,
        license: None,
        activations: Vec::new(),
        support: None,
        waiting_for_product: false,
        stale: false,
    }
}

fn malformed(input: &str, err: Error) -> LookupResult {
    without_sale(crate::text::truncate_chars(input.trim(), 60), LookupVerdict::Malformed, err.message, false)
}

fn not_a_sale(code: &str) -> LookupResult {
    let message = "Envato has no sale of your items with this code: it is mistyped, belongs to another author's item, \
                   or was refunded or reversed.";
    without_sale(code.to_string(), LookupVerdict::NotASale, message.to_string(), true)
}

fn license_summary(l: &License) -> String {
    format!("{} · {} · {}", l.product_name, l.buyer.as_deref().unwrap_or("guest checkout"), l.license_key)
}

fn summary(r: &LookupResult) -> String {
    match &r.license {
        Some(l) => license_summary(l),
        None if r.waiting_for_product => "Valid; waiting in the review queue for a product".to_string(),
        None => r.message.chars().take(80).collect(),
    }
}

/// Looks a code up. A code the database holds (a license, or a sale waiting in the review
/// queue) is answered from it; another is asked of Envato through the process's `verifier`
/// (None without a token: codes in the database still answer).
pub async fn lookup(
    store: &SharedStore,
    verifier: Option<&Verifier>,
    input: &str,
    now: Timestamp,
) -> Result<LookupResult> {
    let code = match PurchaseCode::parse(input) {
        Ok(c) => c,
        Err(e) => return Ok(malformed(input, e)),
    };
    let c = code.as_str().to_string();
    let known = store
        .read(move |s| match s.license_by_code(&c)? {
            Some(l) => {
                let acts = s.activations(l.id)?;
                Ok(Known::License(Box::new(l), acts))
            }
            None => Ok(s.pending_sale_by_code(&c)?.map_or(Known::Nothing, Known::Pending)),
        })
        .await?;
    let result = match known {
        Known::License(l, acts) => result_for(*l, acts, false, now),
        Known::Pending(p) => pending_result(code.as_str(), &p, now),
        Known::Nothing => {
            let verifier = verifier.ok_or_else(crate::account::not_configured)?;
            match verifier.verify(&code, Asker::Seller, now).await {
                Verified::Sale(sale) => return record_verified(store, code.as_str(), *sale, now).await,
                Verified::Unknown => not_a_sale(code.as_str()),
                Verified::Unavailable { retry_after } | Verified::RateLimited { retry_after } => {
                    return Err(Error::new(
                        ErrorCode::EnvatoRateLimited,
                        format!(
                            "Envato is not answering purchase-code checks just now (rate limit or outage); try again in \
                             {retry_after} s."
                        ),
                    ))
                }
                Verified::Failed(e) => return Err(e),
            }
        }
    };
    let (c, r) = (code.as_str().to_string(), result.clone());
    store
        .run(move |s| s.record_lookup(&c, r.verdict.as_str(), r.license.as_ref().map(|l| l.id), &summary(&r), now))
        .await?;
    Ok(result)
}

/// What the database holds for a code.
enum Known {
    License(Box<License>, Vec<Activation>),
    Pending(PendingSale),
    Nothing,
}

/// A verified sale waiting in the review queue, answered from what was recorded.
fn pending_result(code: &str, p: &PendingSale, now: Timestamp) -> LookupResult {
    let shown = LookupSale {
        item_id: Some(p.item_id),
        item_name: Some(p.item_name.clone()),
        marketplace: p.marketplace.clone(),
        buyer: p.buyer.clone(),
        envato_license: Some(p.envato_license.clone()),
        sold_at: Some(p.sold_at.clone()),
        amount: Some(crate::money::format_cents(p.amount_cents)),
        currency: CURRENCY.to_string(),
        purchase_count: p.purchase_count,
        supported_until: p.supported_until.clone(),
    };
    waiting(code, &p.item_name, p.item_id, shown, p.supported_until.as_deref(), false, now)
}

/// Writes what Envato just confirmed, in one transaction with the lookup's history entry: the
/// code attached to the synced sale that lacked it, or the sale licensed by the sync's own rules
/// (matched product, auto-created product, or the review queue).
async fn record_verified(store: &SharedStore, code: &str, sale: Sale, now: Timestamp) -> Result<LookupResult> {
    let mut record = plan::keyed_alone(std::slice::from_ref(&sale)).remove(0);
    record.code = Some(code.to_string());
    let shown = LookupSale::from_record(&record);
    let waiting = waiting_for_product(code, &sale, &shown, now);
    let waiting_summary = summary(&waiting);
    store
        .run(move |s| {
            let license = s.record_verified_sale(&record, now, |license| match license {
                Some(l) => ("valid", license_summary(l)),
                None => ("valid", waiting_summary),
            })?;
            match license {
                Some(l) => {
                    let acts = s.activations(l.id)?;
                    Ok(result_for(l, acts, true, now))
                }
                None => Ok(waiting),
            }
        })
        .await
}

fn waiting_for_product(code: &str, sale: &Sale, shown: &LookupSale, now: Timestamp) -> LookupResult {
    let until = sale.supported_until.map(to_db);
    waiting(code, &sale.item.name, sale.item.id, shown.clone(), until.as_deref(), true, now)
}

fn waiting(
    code: &str,
    item_name: &str,
    item_id: i64,
    shown: LookupSale,
    supported_until: Option<&str>,
    from_envato: bool,
    now: Timestamp,
) -> LookupResult {
    LookupResult {
        code: code.to_string(),
        verdict: LookupVerdict::Valid,
        message: format!(
            "A genuine purchase of {item_name} (item {item_id}), but no product matches it and Auto-Create Products \
             is off: it waits in the review queue."
        ),
        from_envato,
        sale: Some(shown),
        license: None,
        activations: Vec::new(),
        support: Some(SupportWindow::at(supported_until, now)),
        waiting_for_product: true,
        stale: false,
    }
}

/// Envato's data may be shown at most six hours old: a stale answer is refreshed when a client
/// is at hand. A refresh that fails keeps the stored answer and returns why, so the caller can
/// say so. The app runs this in the background after answering; the CLI before printing.
pub async fn refresh_if_stale(
    store: &SharedStore,
    client: Option<&EnvatoClient>,
    result: LookupResult,
    now: Timestamp,
) -> (LookupResult, Option<Error>) {
    match client {
        Some(c) if result.stale => match refresh(store, c, &result.code, now).await {
            Ok(fresh) => (fresh, None),
            Err(e) => (result, Some(e)),
        },
        _ => (result, None),
    }
}

/// Asks Envato about the code of license `id` again: a sale found refreshes what may change (and
/// clears a flag); none found flags the license for the seller. Never suspends or revokes.
/// Returns whether Envato recognised it.
pub async fn reverify(
    store: &SharedStore,
    client: &EnvatoClient,
    id: i64,
    code: &PurchaseCode,
    now: Timestamp,
) -> Result<bool> {
    match client.sale_by_code(code).await? {
        None => {
            store.run(move |s| s.flag_not_recognised(id, now)).await?;
            Ok(false)
        }
        Some(sale) => {
            store
                .run(move |s| {
                    s.confirm_envato_sale(
                        id,
                        Some(sale.item.name.as_str()).filter(|n| !n.is_empty()),
                        sale.buyer.as_deref(),
                        sale.purchase_count,
                        sale.supported_until,
                        now,
                    )
                })
                .await?;
            Ok(true)
        }
    }
}

/// Re-verifies a code the database has: refreshes buyer, purchase count and support, or flags
/// the license when Envato no longer finds the sale. Never revokes.
pub async fn refresh(store: &SharedStore, client: &EnvatoClient, code: &str, now: Timestamp) -> Result<LookupResult> {
    let code = PurchaseCode::parse(code)?;
    let c = code.as_str().to_string();
    let license = store.read(move |s| s.license_by_code(&c)).await?.ok_or_else(|| {
        Error::new(ErrorCode::LicenseNotFound, "No license has this purchase code yet; look it up first.")
    })?;
    let id = license.id;
    reverify(store, client, id, &code, now).await?;
    let (l, acts) = store
        .run(move |s| Ok((s.license(id)?.ok_or_else(|| Error::internal("The license vanished."))?, s.activations(id)?)))
        .await?;
    Ok(result_for(l, acts, true, now))
}
