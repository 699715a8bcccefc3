//! Tolerant decoding of Envato's JSON. Envato's shapes vary between endpoints, versions and
//! years (see shared/docs/envato-api.md): item IDs arrive as numbers or strings, `rating` as a
//! number or an object, `supported_until` as a timestamp, null or "", `buyer` as null for guest
//! checkouts, and v1 endpoints send every value as a string. Unknown fields are ignored and
//! optional ones may be missing. Money is parsed as exact cents, times converted to UTC.

use crate::money::parse_cents;
use crate::time::{self, Timestamp};
use serde::Serialize;
use serde_json::Value;

/// An Envato Market item (a theme, plugin, video…). `Default` is for test fixtures.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Item {
    pub id: i64,
    pub name: String,
    /// HTML, possibly long.
    pub description: String,
    /// `themeforest.net`, `codecanyon.net`…; absent in some sales-list entries.
    pub site: Option<String>,
    pub classification: Option<String>,
    pub price_cents: Option<i64>,
    pub number_of_sales: Option<i64>,
    pub author_username: Option<String>,
    pub url: Option<String>,
    pub rating: Option<Rating>,
    pub updated_at: Option<Timestamp>,
    pub published_at: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rating {
    pub value: f64,
    pub count: Option<i64>,
}

/// One sale of one of the seller's items.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sale {
    /// The purchase code, when the endpoint includes it (`/author/sale` does; `/author/sales`
    /// may not: Unknowns 1).
    pub code: Option<String>,
    pub amount_cents: i64,
    pub sold_at: Timestamp,
    /// Envato's license name, verbatim ("Regular License", "Extended License", …).
    pub license: String,
    pub support_amount_cents: Option<i64>,
    pub supported_until: Option<Timestamp>,
    pub item: Item,
    /// None for a guest checkout, or when the list omits buyers.
    pub buyer: Option<String>,
    pub purchase_count: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WhoAmI {
    pub user_id: Option<i64>,
    pub scopes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SearchPage {
    pub items: Vec<Item>,
    pub total_hits: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StatementEntry {
    pub unique_id: Option<String>,
    pub date: Option<Timestamp>,
    pub order_id: Option<String>,
    /// `Sale`, `Refund`, `Sale Reversal`, `Author Fee`…, verbatim.
    pub kind: String,
    pub detail: Option<String>,
    pub item_id: Option<i64>,
    pub amount_cents: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StatementPage {
    pub count: i64,
    pub entries: Vec<StatementEntry>,
}

/// Why a body could not be decoded; becomes `envato.bad_response`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError(pub String);

type D<T> = Result<T, DecodeError>;

fn bad(what: impl Into<String>) -> DecodeError {
    DecodeError(what.into())
}

// ---- field helpers: each accepts every variant seen or documented ----

fn as_i64(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn as_f64(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn as_string(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A non-empty string, or None for null, "" and absent.
fn opt_str(obj: &Value, key: &str) -> Option<String> {
    obj.get(key).and_then(as_string).filter(|s| !s.trim().is_empty())
}

/// Money: "19.84", 19.84, or "" (None).
fn money(v: Option<&Value>) -> D<Option<i64>> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(v) => {
            let text = as_string(v).ok_or_else(|| bad(format!("money is {v}")))?;
            parse_cents(&text).map_err(|e| bad(e.message))
        }
    }
}

/// RFC 3339 with any offset, or the v1 form `Tue Dec 02 04:01:12 +1100 2008`. The v1 weekday
/// is skipped, not checked: recorded replies carry weekdays that do not match their dates.
pub fn parse_time(s: &str) -> Option<Timestamp> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    time::parse(s).or_else(|| {
        let (_weekday, rest) = s.split_once(' ')?;
        chrono::DateTime::parse_from_str(rest.trim(), "%b %d %H:%M:%S %z %Y")
            .ok()
            .map(|t| t.with_timezone(&chrono::Utc))
    })
}

fn opt_time(obj: &Value, key: &str) -> D<Option<Timestamp>> {
    match opt_str(obj, key) {
        None => Ok(None),
        Some(s) => parse_time(&s).map(Some).ok_or_else(|| bad(format!("{key} is not a timestamp: {s}"))),
    }
}

fn rating(v: Option<&Value>) -> Option<Rating> {
    match v? {
        Value::Object(o) => Some(Rating { value: as_f64(o.get("rating")?)?, count: o.get("count").and_then(as_i64) }),
        other => as_f64(other).map(|value| Rating { value, count: None }),
    }
}

// ---- whole objects ----

pub fn item(v: &Value) -> D<Item> {
    if !v.is_object() {
        return Err(bad("an item is not an object"));
    }
    let id = v.get("id").and_then(as_i64).ok_or_else(|| bad("an item has no id"))?;
    let mut rating = rating(v.get("rating"));
    if let (Some(r), Some(count)) = (rating.as_mut(), v.get("rating_count").and_then(as_i64)) {
        r.count.get_or_insert(count);
    }
    Ok(Item {
        id,
        name: opt_str(v, "name").or_else(|| opt_str(v, "item")).unwrap_or_default(),
        description: opt_str(v, "description").unwrap_or_default(),
        site: opt_str(v, "site"),
        classification: opt_str(v, "classification").or_else(|| opt_str(v, "category")),
        price_cents: v.get("price_cents").and_then(as_i64),
        number_of_sales: v.get("number_of_sales").or_else(|| v.get("sales")).and_then(as_i64),
        author_username: opt_str(v, "author_username").or_else(|| opt_str(v, "user")),
        url: opt_str(v, "url"),
        rating,
        // Display-only dates: an odd format loses the date, not the item.
        updated_at: opt_time(v, "updated_at").unwrap_or(None),
        published_at: opt_time(v, "published_at").unwrap_or(None),
    })
}

pub fn sale(v: &Value) -> D<Sale> {
    if !v.is_object() {
        return Err(bad("a sale is not an object"));
    }
    let sold_at = opt_time(v, "sold_at")?.ok_or_else(|| bad("a sale has no sold_at"))?;
    Ok(Sale {
        code: opt_str(v, "code").map(|c| c.trim().to_lowercase()),
        amount_cents: money(v.get("amount"))?.ok_or_else(|| bad("a sale has no amount"))?,
        sold_at,
        license: opt_str(v, "license").unwrap_or_else(|| "Regular License".to_string()),
        support_amount_cents: money(v.get("support_amount"))?,
        supported_until: opt_time(v, "supported_until")?,
        item: item(v.get("item").ok_or_else(|| bad("a sale has no item"))?)?,
        buyer: opt_str(v, "buyer"),
        purchase_count: v.get("purchase_count").and_then(as_i64).and_then(|n| u32::try_from(n).ok()),
    })
}

/// The body's `"error": 404` marker, which Envato has been seen to send with status 200.
pub fn is_not_found_body(v: &Value) -> bool {
    v.get("error").and_then(as_i64) == Some(404)
}

pub fn sales_page(v: &Value) -> D<Vec<Sale>> {
    let list = v.as_array().ok_or_else(|| bad("the sales list is not an array"))?;
    list.iter().map(sale).collect()
}

pub fn whoami(v: &Value) -> D<WhoAmI> {
    let scopes = v
        .get("scopes")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("whoami has no scopes"))?
        .iter()
        .filter_map(|s| s.as_str().map(str::to_string))
        .collect();
    Ok(WhoAmI { user_id: v.get("userId").and_then(as_i64), scopes })
}

pub fn username(v: &Value) -> D<String> {
    opt_str(v, "username").ok_or_else(|| bad("no username in the reply"))
}

pub fn search_page(v: &Value) -> D<SearchPage> {
    let matches = v.get("matches").and_then(Value::as_array).ok_or_else(|| bad("search results have no matches"))?;
    let items = matches.iter().map(item).collect::<D<Vec<_>>>()?;
    let total_hits = v.get("total_hits").and_then(as_i64).unwrap_or(items.len() as i64);
    Ok(SearchPage { items, total_hits })
}

fn statement_entry(v: &Value) -> D<StatementEntry> {
    Ok(StatementEntry {
        unique_id: opt_str(v, "unique_id"),
        date: opt_time(v, "date")?.or(opt_time(v, "occured_at")?),
        order_id: opt_str(v, "order_id"),
        kind: opt_str(v, "type").or_else(|| opt_str(v, "kind")).unwrap_or_default(),
        detail: opt_str(v, "detail").or_else(|| opt_str(v, "description")),
        item_id: v.get("item_id").and_then(as_i64),
        amount_cents: money(v.get("amount"))?,
    })
}

/// v3 `{"count", "results": [...]}`, or the v1 `{"statement": [...]}` of the recordings.
pub fn statement_page(v: &Value) -> D<StatementPage> {
    if let Some(results) = v.get("results").and_then(Value::as_array) {
        let entries = results.iter().map(statement_entry).collect::<D<Vec<_>>>()?;
        return Ok(StatementPage { count: v.get("count").and_then(as_i64).unwrap_or(entries.len() as i64), entries });
    }
    if let Some(list) = v.get("statement").and_then(Value::as_array) {
        let entries = list.iter().map(statement_entry).collect::<D<Vec<_>>>()?;
        return Ok(StatementPage { count: entries.len() as i64, entries });
    }
    Err(bad("a statement has neither results nor statement"))
}

// ---- v1 endpoints of the recordings, all values strings ----

/// `/v1/market/user-items-by-site:USER.json`: how many items a user sells on each site.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SiteItemCount {
    pub site: String,
    pub items: i64,
}

pub fn user_items_by_site(v: &Value) -> D<Vec<SiteItemCount>> {
    let list = v.get("user-items-by-site").and_then(Value::as_array).ok_or_else(|| bad("no user-items-by-site"))?;
    list.iter()
        .map(|e| {
            Ok(SiteItemCount {
                site: opt_str(e, "site").ok_or_else(|| bad("a site count has no site"))?,
                items: e.get("items").and_then(as_i64).ok_or_else(|| bad("a site count has no items"))?,
            })
        })
        .collect()
}

/// `/v1/market/new-files-from-user:USER,SITE.json`.
pub fn new_files_from_user(v: &Value) -> D<Vec<Item>> {
    let list = v.get("new-files-from-user").and_then(Value::as_array).ok_or_else(|| bad("no new-files-from-user"))?;
    list.iter()
        .map(|e| {
            let mut it = item(e)?;
            it.published_at = opt_str(e, "uploaded_on").and_then(|s| parse_time(&s));
            it.price_cents = money(e.get("cost"))?;
            Ok(it)
        })
        .collect()
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ItemPrice {
    pub license: String,
    pub price_cents: i64,
}

/// `/v1/market/item-prices:ID.json` (note Envato's spelling `licence`).
pub fn item_prices(v: &Value) -> D<Vec<ItemPrice>> {
    let list = v.get("item-prices").and_then(Value::as_array).ok_or_else(|| bad("no item-prices"))?;
    list.iter()
        .map(|e| {
            Ok(ItemPrice {
                license: opt_str(e, "licence").or_else(|| opt_str(e, "license")).unwrap_or_default(),
                price_cents: money(e.get("price"))?.ok_or_else(|| bad("a price has no amount"))?,
            })
        })
        .collect()
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MonthEarnings {
    pub month: Timestamp,
    pub sales: i64,
    pub earnings_cents: i64,
}

/// `/v1/market/private/user/earnings-and-sales-by-month.json`.
pub fn earnings_by_month(v: &Value) -> D<Vec<MonthEarnings>> {
    let list = v
        .get("earnings-and-sales-by-month")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("no earnings-and-sales-by-month"))?;
    list.iter()
        .map(|e| {
            Ok(MonthEarnings {
                month: opt_time(e, "month")?.ok_or_else(|| bad("a month has no date"))?,
                sales: e.get("sales").and_then(as_i64).unwrap_or(0),
                earnings_cents: money(e.get("earnings"))?.unwrap_or(0),
            })
        })
        .collect()
}

/// Account-level v1 replies (`account`, `user`, `email`, `user-badges`): the fields KeyManager
/// shows, tolerant of everything else.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Account {
    pub username: Option<String>,
    pub email: Option<String>,
    pub first_name: Option<String>,
    pub surname: Option<String>,
    pub country: Option<String>,
    pub sales: Option<i64>,
    pub balance_cents: Option<i64>,
    pub badges: Vec<String>,
}

pub fn account(v: &Value) -> D<Account> {
    let mut a = Account::default();
    if let Some(acc) = v.get("account") {
        a.first_name = opt_str(acc, "firstname");
        a.surname = opt_str(acc, "surname");
        a.country = opt_str(acc, "country");
        a.balance_cents = money(acc.get("balance"))?;
    } else if let Some(user) = v.get("user") {
        a.username = opt_str(user, "username");
        a.country = opt_str(user, "country");
        a.sales = user.get("sales").and_then(as_i64);
    } else if let Some(email) = opt_str(v, "email") {
        a.email = Some(email);
    } else if let Some(badges) = v.get("user-badges").and_then(Value::as_array) {
        a.badges = badges.iter().filter_map(|b| opt_str(b, "label")).collect();
    } else {
        return Err(bad("not an account reply"));
    }
    Ok(a)
}

/// Reads the error text of a non-2xx body, whatever its shape: `error`, `description`,
/// `error_description`, `message` or `reason`, else the start of the raw text.
pub fn error_text(body: &[u8]) -> Option<String> {
    if let Ok(v) = serde_json::from_slice::<Value>(body) {
        for key in ["description", "error_description", "message", "reason", "error"] {
            if let Some(s) = v.get(key).and_then(as_string).filter(|s| !s.trim().is_empty()) {
                return Some(crate::text::truncate_chars(s.trim(), 200));
            }
        }
        return None;
    }
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    (!text.is_empty()).then(|| crate::text::truncate_chars(text, 200))
}
