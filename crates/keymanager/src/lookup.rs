//! Purchase-code lookup for support staff: is the code real, which item, which buyer, the
//! support window, and the license it maps to. A code already in the database answers from it,
//! with no request; an unknown one is verified with Envato, and the answer creates or completes
//! the license. Envato data older than six hours is refreshed (`refresh`), as its terms require.

use crate::envato::{EnvatoClient, PurchaseCode, Sale};
use crate::error::{Error, ErrorCode, Result};
use crate::model::{Activation, License};
use crate::sync::plan;
use crate::sync::SharedStore;
use crate::time::{parse, to_db, Timestamp};
use serde::Serialize;
use ts_rs::TS;

/// Envato's data may be shown for at most this long before it is refreshed.
pub const FRESH_FOR: chrono::Duration = chrono::Duration::hours(6);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum LookupVerdict {
    /// A sale of one of the seller's items.
    Valid,
    /// Unknown, another author's item, refunded or reversed: Envato has no sale of yours for it.
    NotASale,
    /// In the database, but Envato no longer recognises it (refund or reversal?).
    NoLongerRecognised,
    /// Not shaped like a purchase code; nothing was sent to Envato.
    Malformed,
}

impl LookupVerdict {
    fn as_str(self) -> &'static str {
        match self {
            LookupVerdict::Valid => "valid",
            LookupVerdict::NotASale => "not_a_sale",
            LookupVerdict::NoLongerRecognised => "no_longer_recognised",
            LookupVerdict::Malformed => "malformed",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct SupportWindow {
    pub until: Option<String>,
    /// Whole days left (negative once expired); None without support.
    #[ts(type = "number | null")]
    pub days_left: Option<i64>,
    pub expired: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct LookupResult {
    pub code: String,
    pub verdict: LookupVerdict,
    pub message: String,
    /// Answered from the database (no request) or from Envato just now.
    pub from_envato: bool,
    pub license: Option<License>,
    pub activations: Vec<Activation>,
    pub support: Option<SupportWindow>,
    /// Verified, but no product matches its item yet (Auto-Create off): it waits in the review queue.
    pub waiting_for_product: bool,
    /// The Envato data is older than six hours; a refresh is under way or due.
    pub stale: bool,
}

fn support(until: Option<&str>, now: Timestamp) -> SupportWindow {
    let t = until.and_then(parse);
    SupportWindow {
        until: t.map(to_db),
        days_left: t.map(|u| (u - now).num_days()),
        expired: t.is_some_and(|u| u <= now),
    }
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
        support: Some(support(license.supported_until.as_deref(), now)),
        license: Some(license),
        activations,
        waiting_for_product: false,
        stale: stale && !from_envato,
    }
}

fn malformed(input: &str, err: Error) -> LookupResult {
    LookupResult {
        code: crate::model::truncate_chars(input.trim(), 60),
        verdict: LookupVerdict::Malformed,
        message: err.message,
        from_envato: false,
        license: None,
        activations: Vec::new(),
        support: None,
        waiting_for_product: false,
        stale: false,
    }
}

fn not_a_sale(code: &str) -> LookupResult {
    LookupResult {
        code: code.to_string(),
        verdict: LookupVerdict::NotASale,
        message: "Envato has no sale of your items with this code: it is mistyped, belongs to another author's item, \
                  or was refunded or reversed."
            .to_string(),
        from_envato: true,
        license: None,
        activations: Vec::new(),
        support: None,
        waiting_for_product: false,
        stale: false,
    }
}

fn summary(r: &LookupResult) -> String {
    match &r.license {
        Some(l) => {
            format!("{} · {} · {}", l.product_name, l.buyer.as_deref().unwrap_or("guest checkout"), l.license_key)
        }
        None if r.waiting_for_product => "Valid; waiting in the review queue for a product".to_string(),
        None => r.message.chars().take(80).collect(),
    }
}

/// Looks a code up. `client` is None without a token: codes in the database still answer.
pub async fn lookup(
    store: &SharedStore,
    client: Option<&EnvatoClient>,
    input: &str,
    now: Timestamp,
) -> Result<LookupResult> {
    let code = match PurchaseCode::parse(input) {
        Ok(c) => c,
        Err(e) => return Ok(malformed(input, e)),
    };
    let c = code.as_str().to_string();
    let known = store
        .run(move |s| match s.license_by_code(&c)? {
            Some(l) => {
                let acts = s.activations(l.id)?;
                Ok(Some((l, acts)))
            }
            None => Ok(None),
        })
        .await?;
    let result = match known {
        Some((l, acts)) => result_for(l, acts, false, now),
        None => {
            let client = client.ok_or_else(crate::account::not_configured)?;
            match client.sale_by_code(&code).await? {
                None => not_a_sale(code.as_str()),
                Some(sale) => record_verified(store, code.as_str(), sale, now).await?,
            }
        }
    };
    let (c, r) = (code.as_str().to_string(), result.clone());
    store
        .run(move |s| s.record_lookup(&c, r.verdict.as_str(), r.license.as_ref().map(|l| l.id), &summary(&r), now))
        .await?;
    Ok(result)
}

/// Writes what Envato just confirmed: attach the code to the synced sale that lacked it, or
/// create the license (or product, or review-queue entry) for it.
async fn record_verified(store: &SharedStore, code: &str, sale: Sale, now: Timestamp) -> Result<LookupResult> {
    let code = code.to_string();
    store
        .run(move |s| {
            let license_id = match s.codeless_license_for_sale(sale.item.id, sale.sold_at, sale.amount_cents)? {
                Some(id) => {
                    s.attach_code(id, &code, sale.buyer.as_deref(), sale.purchase_count, now)?;
                    Some(id)
                }
                None => {
                    let mut record = plan::keyed_alone(std::slice::from_ref(&sale)).remove(0);
                    let base = record.key.rsplit_once('#').map(|(b, _)| b.to_string()).unwrap_or_else(|| record.key.clone());
                    record.key = s.free_sale_key(&base)?;
                    record.code = Some(code.clone());
                    let products = s.product_index()?;
                    let product = match products.find(record.item_id, &record.item_name) {
                        Some((id, _by)) => Some(id),
                        None if s.settings()?.auto_create_products => Some(s.product_for_item_or_create(record.item_id, &record.item_name, &record.item_description, now)?),
                        None => None,
                    };
                    match product {
                        Some(p) => Some(s.insert_verified_sale(&record, p, now)?),
                        None => {
                            s.queue_verified_sale(&record, now)?;
                            None
                        }
                    }
                }
            };
            match license_id {
                Some(id) => {
                    let l = s.license(id)?.ok_or_else(|| Error::internal("The license vanished."))?;
                    let acts = s.activations(id)?;
                    Ok(result_for(l, acts, true, now))
                }
                None => Ok(LookupResult {
                    code: code.clone(),
                    verdict: LookupVerdict::Valid,
                    message: format!(
                        "A genuine purchase of {} (item {}), but no product matches it and Auto-Create Products is off: \
                         it waits in the review queue.",
                        sale.item.name, sale.item.id
                    ),
                    from_envato: true,
                    license: None,
                    activations: Vec::new(),
                    support: Some(support(sale.supported_until.map(to_db).as_deref(), now)),
                    waiting_for_product: true,
                    stale: false,
                }),
            }
        })
        .await
}

/// Re-verifies a code the database has: refreshes buyer, purchase count and support, or flags
/// the license when Envato no longer finds the sale. Never revokes.
pub async fn refresh(store: &SharedStore, client: &EnvatoClient, code: &str, now: Timestamp) -> Result<LookupResult> {
    let code = PurchaseCode::parse(code)?;
    let c = code.as_str().to_string();
    let license = store.run(move |s| s.license_by_code(&c)).await?.ok_or_else(|| {
        Error::new(ErrorCode::LicenseNotFound, "No license has this purchase code yet; look it up first.")
    })?;
    let id = license.id;
    match client.sale_by_code(&code).await? {
        None => store.run(move |s| s.flag_not_recognised(id, now)).await?,
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
                .await?
        }
    }
    let (l, acts) = store
        .run(move |s| Ok((s.license(id)?.ok_or_else(|| Error::internal("The license vanished."))?, s.activations(id)?)))
        .await?;
    Ok(result_for(l, acts, true, now))
}
