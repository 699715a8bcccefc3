//! The sync planner: a pure function from one page of `/author/sales` plus what the database
//! already holds to the operations that page needs. No I/O, no clock: tested by tables.

use crate::envato::Sale;
use crate::model::{truncate_chars, DESCRIPTION_MAX, NAME_MAX};
use crate::time::{to_db, Timestamp};
use std::collections::{HashMap, HashSet};

/// A sale as KeyManager records it, with its key.
#[derive(Debug, Clone, PartialEq)]
pub struct SaleRecord {
    /// `item|sold_at|amount|license#n`: identifies a sale whether or not its code is known.
    pub key: String,
    pub code: Option<String>,
    pub item_id: i64,
    pub item_name: String,
    pub item_description: String,
    pub marketplace: Option<String>,
    pub buyer: Option<String>,
    pub purchase_count: Option<u32>,
    pub license: String,
    pub amount_cents: i64,
    pub support_amount_cents: Option<i64>,
    pub sold_at: Timestamp,
    pub supported_until: Option<Timestamp>,
}

fn base_key(s: &Sale) -> String {
    format!("{}|{}|{}|{}", s.item.id, to_db(s.sold_at), s.amount_cents, s.license)
}

/// Keys a page. Identical sales (same item, second, amount and license: a buyer taking two
/// licenses at once, as in the recorded list) get ordinals #0, #1… in list order *within the
/// page*. Counting within the page, not the run, is what keeps a sale that a new sale pushed
/// from the end of one page to the start of the next (the list shifts while we page) on the key
/// it already has. The price: a group of identical code-less sales split exactly at a page
/// boundary counts as its larger part; the missing one gets its license when its purchase code
/// is verified.
pub fn keyed(page: &[Sale]) -> Vec<SaleRecord> {
    let mut ordinals: HashMap<String, u32> = HashMap::new();
    page.iter()
        .map(|s| {
            let base = base_key(s);
            let n = ordinals.entry(base.clone()).or_insert(0);
            let key = format!("{base}#{n}");
            *n += 1;
            SaleRecord {
                key,
                code: s.code.clone(),
                item_id: s.item.id,
                item_name: s.item.name.clone(),
                item_description: s.item.description.clone(),
                marketplace: s.item.site.clone(),
                buyer: s.buyer.clone(),
                purchase_count: s.purchase_count,
                license: s.license.clone(),
                amount_cents: s.amount_cents,
                support_amount_cents: s.support_amount_cents,
                sold_at: s.sold_at,
                supported_until: s.supported_until,
            }
        })
        .collect()
}

/// A sale the database already has (as a license, or waiting in the review queue).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Known {
    pub key: String,
    /// The run that recorded it (None: recorded outside a sync, e.g. by a lookup).
    pub run_id: Option<i64>,
    pub has_code: bool,
}

#[derive(Debug, Default, Clone)]
pub struct KnownSales {
    pub by_key: HashMap<String, Known>,
    /// purchase code → key of the sale that has it.
    pub by_code: HashMap<String, String>,
}

impl KnownSales {
    fn find(&self, s: &SaleRecord) -> Option<&Known> {
        if let Some(k) = self.by_key.get(&s.key) {
            return Some(k);
        }
        s.code.as_ref().and_then(|c| self.by_code.get(c)).and_then(|key| self.by_key.get(key))
    }
}

/// The seller's products as matching sees them.
#[derive(Debug, Default, Clone)]
pub struct ProductIndex {
    pub by_item: HashMap<i64, i64>,
    /// Lower-cased, trimmed product name → product.
    pub by_name: HashMap<String, i64>,
    /// Lower-cased SKU → product.
    pub by_sku: HashMap<String, i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchedBy {
    ItemId,
    Name,
    Sku,
    AutoCreated,
}

impl MatchedBy {
    pub fn describe(self) -> &'static str {
        match self {
            MatchedBy::ItemId => "Envato item ID",
            MatchedBy::Name => "product name",
            MatchedBy::Sku => "SKU",
            MatchedBy::AutoCreated => "auto-created product",
        }
    }
}

/// Turns an item name into the slug a SKU may hold ("Modern Portfolio Pro" → "modern-portfolio-pro").
pub fn slug(name: &str) -> String {
    let lower = name.to_lowercase();
    let mut out = String::with_capacity(lower.len());
    for c in lower.chars() {
        if c.is_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_string()
}

impl ProductIndex {
    /// The seed's order: Envato item ID first, then product name, then SKU (which may hold the
    /// item ID or the item name's slug).
    pub fn find(&self, item_id: i64, item_name: &str) -> Option<(i64, MatchedBy)> {
        if let Some(&p) = self.by_item.get(&item_id) {
            return Some((p, MatchedBy::ItemId));
        }
        if let Some(&p) = self.by_name.get(&item_name.trim().to_lowercase()) {
            return Some((p, MatchedBy::Name));
        }
        for candidate in [item_id.to_string(), slug(item_name)] {
            if let Some(&p) = self.by_sku.get(&candidate) {
                return Some((p, MatchedBy::Sku));
            }
        }
        None
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProductRef {
    Existing(i64),
    /// The product this page's `CreateProduct` for that item makes.
    NewForItem(i64),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    /// Auto-create: a product from the Envato item ("What Gets Auto-Created").
    CreateProduct {
        item_id: i64,
        name: String,
        description: String,
    },
    IssueLicense {
        sale: SaleRecord,
        product: ProductRef,
        matched_by: MatchedBy,
    },
    /// No product matches and Auto-Create is off: the sale waits in the review queue.
    Queue {
        sale: SaleRecord,
    },
    /// A sale recorded without its code is now listed with it.
    AttachCode {
        key: String,
        code: String,
        buyer: Option<String>,
        purchase_count: Option<u32>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// Reached a sale a previous completed sync already recorded.
    ReachedKnown,
    /// The first sync reached the end of its history window.
    HistoryWindow,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PagePlan {
    pub ops: Vec<Op>,
    pub stop: Option<Stop>,
    /// Sales of this page looked at (those past a stop point are not).
    pub seen: u32,
}

pub struct PlanContext {
    pub run_id: i64,
    pub auto_create: bool,
    /// The first sync goes back this far.
    pub history_cutoff: Timestamp,
    /// The newest `sold_at` the last completed sync saw. None until one has completed, so an
    /// interrupted first sync is finished by the next run rather than cut short.
    pub watermark: Option<Timestamp>,
}

/// Plain text for a product description from Envato's HTML: tags dropped, entities decoded,
/// whitespace folded, truncated to the product limit.
pub fn text_from_html(html: &str) -> String {
    let mut text = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => {
                in_tag = true;
                text.push(' ');
            }
            '>' if in_tag => in_tag = false,
            _ if !in_tag => text.push(c),
            _ => {}
        }
    }
    let decoded = text
        .replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&");
    let folded = decoded.split_whitespace().collect::<Vec<_>>().join(" ");
    truncate_chars(&folded, DESCRIPTION_MAX)
}

pub fn plan_page(sales: &[SaleRecord], known: &KnownSales, products: &ProductIndex, ctx: &PlanContext) -> PagePlan {
    let mut ops = Vec::new();
    let mut creating: HashSet<i64> = HashSet::new();
    let mut seen = 0;
    for s in sales {
        if ctx.watermark.is_none() && s.sold_at < ctx.history_cutoff {
            return PagePlan { ops, stop: Some(Stop::HistoryWindow), seen };
        }
        seen += 1;
        if let Some(k) = known.find(s) {
            let before_this_run = k.run_id != Some(ctx.run_id);
            if before_this_run && ctx.watermark.is_some_and(|w| s.sold_at <= w) {
                return PagePlan { ops, stop: Some(Stop::ReachedKnown), seen };
            }
            if let (Some(code), false) = (&s.code, k.has_code) {
                ops.push(Op::AttachCode {
                    key: k.key.clone(),
                    code: code.clone(),
                    buyer: s.buyer.clone(),
                    purchase_count: s.purchase_count,
                });
            }
            continue;
        }
        match products.find(s.item_id, &s.item_name) {
            Some((id, by)) => {
                ops.push(Op::IssueLicense { sale: s.clone(), product: ProductRef::Existing(id), matched_by: by })
            }
            None if ctx.auto_create => {
                if creating.insert(s.item_id) {
                    let name = truncate_chars(s.item_name.trim(), NAME_MAX);
                    let name = if name.is_empty() { format!("Envato item {}", s.item_id) } else { name };
                    ops.push(Op::CreateProduct {
                        item_id: s.item_id,
                        name,
                        description: text_from_html(&s.item_description),
                    });
                }
                ops.push(Op::IssueLicense {
                    sale: s.clone(),
                    product: ProductRef::NewForItem(s.item_id),
                    matched_by: MatchedBy::AutoCreated,
                });
            }
            None => ops.push(Op::Queue { sale: s.clone() }),
        }
    }
    PagePlan { ops, stop: None, seen }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envato::{Item, Sale};
    use crate::time::parse;

    fn sale(item: i64, at: &str, code: Option<&str>) -> Sale {
        Sale {
            code: code.map(str::to_string),
            amount_cents: 1984,
            sold_at: parse(at).unwrap(),
            license: "Regular License".into(),
            support_amount_cents: Some(0),
            supported_until: None,
            item: Item {
                id: item,
                name: format!("Item {item}"),
                description: "<p>Great &amp; <b>bold</b></p>".into(),
                site: Some("codecanyon.net".into()),
                classification: None,
                price_cents: None,
                number_of_sales: None,
                author_username: None,
                url: None,
                rating: None,
                updated_at: None,
                published_at: None,
            },
            buyer: None,
            purchase_count: None,
        }
    }

    fn ctx(auto_create: bool, watermark: Option<&str>) -> PlanContext {
        PlanContext {
            run_id: 7,
            auto_create,
            history_cutoff: parse("2026-09-01T00:00:00Z").unwrap(),
            watermark: watermark.map(|w| parse(w).unwrap()),
        }
    }

    fn products() -> ProductIndex {
        let mut p = ProductIndex::default();
        p.by_item.insert(1, 100);
        p.by_name.insert("item 2".into(), 200);
        p.by_sku.insert("3".into(), 300);
        p.by_sku.insert("item-4".into(), 400);
        // Item 5 matches by ID and by name: the ID wins.
        p.by_item.insert(5, 500);
        p.by_name.insert("item 5".into(), 555);
        p
    }

    fn keys(page: &[Sale]) -> Vec<SaleRecord> {
        keyed(page)
    }

    /// A compact view of a plan: "L<product>" license, "N<item>" new product, "Q" queued, "C" code.
    fn summary(plan: &PagePlan) -> Vec<String> {
        plan.ops
            .iter()
            .map(|op| match op {
                Op::CreateProduct { item_id, .. } => format!("N{item_id}"),
                Op::IssueLicense { product: ProductRef::Existing(p), .. } => format!("L{p}"),
                Op::IssueLicense { product: ProductRef::NewForItem(i), .. } => format!("L(new {i})"),
                Op::Queue { sale } => format!("Q{}", sale.item_id),
                Op::AttachCode { .. } => "C".into(),
            })
            .collect()
    }

    #[test]
    fn matching_order_and_auto_create_table() {
        let page = keys(&[
            sale(1, "2026-11-27T10:00:00Z", None),
            sale(2, "2026-11-27T09:00:00Z", None),
            sale(3, "2026-11-27T08:00:00Z", None),
            sale(4, "2026-11-27T07:00:00Z", None),
            sale(5, "2026-11-27T06:00:00Z", None),
            sale(9, "2026-11-27T05:00:00Z", None),
            sale(9, "2026-11-27T04:00:00Z", None),
        ]);
        let off = plan_page(&page, &KnownSales::default(), &products(), &ctx(false, None));
        assert_eq!(summary(&off), ["L100", "L200", "L300", "L400", "L500", "Q9", "Q9"]);
        assert_eq!(off.stop, None);
        let on = plan_page(&page, &KnownSales::default(), &products(), &ctx(true, None));
        assert_eq!(
            summary(&on),
            ["L100", "L200", "L300", "L400", "L500", "N9", "L(new 9)", "L(new 9)"],
            "one product per item"
        );
        let Op::CreateProduct { name, description, .. } = &on.ops[5] else { panic!() };
        assert_eq!((name.as_str(), description.as_str()), ("Item 9", "Great & bold"));
        let by: Vec<MatchedBy> = on
            .ops
            .iter()
            .filter_map(|o| if let Op::IssueLicense { matched_by, .. } = o { Some(*matched_by) } else { None })
            .collect();
        use MatchedBy::*;
        assert_eq!(by, [ItemId, Name, Sku, Sku, ItemId, AutoCreated, AutoCreated]);
    }

    #[test]
    fn identical_sales_get_distinct_keys_and_a_shifted_repeat_keeps_its_key() {
        let a = keyed(&[sale(1, "2016-04-08T19:19:48Z", None), sale(1, "2016-04-08T19:19:48Z", None)]);
        assert_eq!(a[0].key, "1|2016-04-08T19:19:48Z|1984|Regular License#0");
        assert_eq!(a[1].key, "1|2016-04-08T19:19:48Z|1984|Regular License#1");
        // The last sale of a page, pushed to the next page by a new sale, is the same sale.
        let b = keyed(&[sale(2, "2016-04-08T19:00:00Z", None)]);
        let c = keyed(&[sale(2, "2016-04-08T19:00:00Z", None), sale(3, "2016-04-08T18:00:00Z", None)]);
        assert_eq!(b[0].key, c[0].key);
    }

    fn known(records: &[&SaleRecord], run_id: Option<i64>, has_code: bool) -> KnownSales {
        let mut k = KnownSales::default();
        for r in records {
            k.by_key.insert(r.key.clone(), Known { key: r.key.clone(), run_id, has_code });
            if let Some(c) = &r.code {
                k.by_code.insert(c.clone(), r.key.clone());
            }
        }
        k
    }

    #[test]
    fn stops_at_the_first_sale_a_completed_sync_recorded() {
        let page = keys(&[
            sale(1, "2026-11-27T10:00:00Z", None),
            sale(1, "2026-11-27T09:00:00Z", None),
            sale(1, "2026-11-27T08:00:00Z", None),
        ]);
        let k = known(&[&page[1], &page[2]], Some(3), false);
        let plan = plan_page(&page, &k, &products(), &ctx(false, Some("2026-11-27T09:00:00Z")));
        assert_eq!(summary(&plan), ["L100"]);
        assert_eq!((plan.stop, plan.seen), (Some(Stop::ReachedKnown), 2));
    }

    #[test]
    fn sales_this_run_already_wrote_are_skipped_not_stopped_at() {
        // A sale added on Envato mid-sync shifts the list: page 2 repeats page 1's last sale.
        let page = keys(&[sale(1, "2026-11-27T10:00:00Z", None), sale(1, "2026-11-27T09:00:00Z", None)]);
        let k = known(&[&page[0]], Some(7), false);
        let plan = plan_page(&page, &k, &products(), &ctx(false, Some("2026-11-26T00:00:00Z")));
        assert_eq!(summary(&plan), ["L100"]);
        assert_eq!(plan.stop, None);
    }

    #[test]
    fn an_interrupted_first_sync_is_finished_not_cut_short() {
        // No completed sync yet (no watermark): known sales are skipped, paging goes on to the window.
        let page = keys(&[sale(1, "2026-11-27T10:00:00Z", None), sale(1, "2026-11-27T09:00:00Z", None)]);
        let k = known(&[&page[0]], Some(2), false);
        let plan = plan_page(&page, &k, &products(), &ctx(false, None));
        assert_eq!(summary(&plan), ["L100"]);
        assert_eq!(plan.stop, None);
    }

    #[test]
    fn the_first_sync_stops_at_its_history_window() {
        let page = keys(&[
            sale(1, "2026-09-02T00:00:00Z", None),
            sale(1, "2026-08-31T23:59:59Z", None),
            sale(1, "2026-08-01T00:00:00Z", None),
        ]);
        let plan = plan_page(&page, &KnownSales::default(), &products(), &ctx(false, None));
        assert_eq!(summary(&plan), ["L100"]);
        assert_eq!((plan.stop, plan.seen), (Some(Stop::HistoryWindow), 1));
        // Later syncs go by the watermark, not the window.
        let k = known(&[&page[2]], Some(1), false);
        let plan = plan_page(&page, &k, &products(), &ctx(false, Some("2026-08-01T00:00:00Z")));
        assert_eq!(summary(&plan), ["L100", "L100"]);
        assert_eq!(plan.stop, Some(Stop::ReachedKnown));
    }

    #[test]
    fn codes_are_attached_to_sales_recorded_without_them() {
        let without = keys(&[sale(1, "2026-11-27T10:00:00Z", None)]);
        let with = keys(&[sale(1, "2026-11-27T10:00:00Z", Some("a67f4582-95d6-4019-81f3-75d1ebe3a071"))]);
        let k = known(&[&without[0]], Some(1), false);
        let plan = plan_page(&with, &k, &products(), &ctx(false, None));
        assert_eq!(summary(&plan), ["C"]);
        // Known by code (its key differs, e.g. a lookup recorded it): nothing to do.
        let mut by_code = known(&[&with[0]], None, true);
        by_code.by_key.insert("other".into(), Known { key: "other".into(), run_id: None, has_code: true });
        let plan = plan_page(&with, &by_code, &products(), &ctx(false, None));
        assert!(plan.ops.is_empty());
    }

    #[test]
    fn slugs_and_html() {
        assert_eq!(slug("Modern Portfolio Pro - WordPress Theme"), "modern-portfolio-pro-wordpress-theme");
        assert_eq!(text_from_html("<h3>Intro</h3>\n<p>A &lt;fast&gt;&nbsp;theme</p>"), "Intro A <fast> theme");
        assert_eq!(text_from_html(&"<p>x</p>".repeat(3000)).chars().count(), DESCRIPTION_MAX);
    }
}
