//! The sync planner: a pure function from one page of `/author/sales` plus what the database
//! already holds to the operations that page needs. No I/O, no clock: tested by tables.

use crate::envato::Sale;
use crate::model::{DESCRIPTION_MAX, NAME_MAX};
use crate::text::truncate_chars;
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

/// What a run remembers from page to page, to key sales consistently across page boundaries.
#[derive(Debug, Default)]
pub struct RunMemory {
    /// (base key, key) of the previous page, in list order.
    prev: Vec<(String, String)>,
    /// Distinct sales with each base key seen so far this run: the next one's ordinal.
    next_ordinal: HashMap<String, u32>,
    /// How far the list has shifted since the run began (new sales push it down).
    shift: usize,
    /// Set by `measure_shift` for the boundary being keyed.
    measured: bool,
}

/// The outcome of keying a page.
#[derive(Debug)]
pub enum Keyed {
    Records(Vec<SaleRecord>),
    /// The page starts the way the previous one ended with sales that may be repeats (the list
    /// shifted) or more identical sales: fetch the previous page again and `measure_shift`.
    CheckPreviousPage,
}

impl RunMemory {
    /// Compares the previous page as fetched now with how it was first fetched: if it moved
    /// down by `s` sales, the list has shifted by `s`; if it is unchanged, by none.
    pub fn measure_shift(&mut self, previous_now: &[Sale]) {
        let before: Vec<&String> = self.prev.iter().map(|(b, _)| b).collect();
        let now: Vec<String> = previous_now.iter().map(base_key).collect();
        self.shift = (0..=now.len())
            .find(|&s| now[s..].iter().zip(&before).all(|(a, b)| a == *b) && now.len() - s <= before.len())
            .unwrap_or(0);
        self.measured = true;
    }
}

/// Keys a page. Identical sales (same item, second, amount and license: a buyer taking several
/// licenses at once, as in the recorded list) get ordinals #0, #1… in list order across the run.
///
/// The list can shift while we page: a sale that arrives on Envato pushes every sale down, so the
/// last sales of one page come again at the head of the next. Those repeats keep the keys they
/// already got. An overlap of several different sales can only be a repeat, and tells the shift;
/// an overlap of one group of identical sales could also be the group going on, so it counts as
/// repeats only up to a shift already known, or measured by fetching the previous page again.
pub fn keyed(page: &[Sale], memory: &mut RunMemory) -> Keyed {
    let bases: Vec<String> = page.iter().map(base_key).collect();
    let prev = &memory.prev;
    let most = prev.len().min(bases.len());
    let overlap =
        (1..=most).rev().find(|&k| prev[prev.len() - k..].iter().map(|(b, _)| b).eq(bases[..k].iter())).unwrap_or(0);
    let repeats = if overlap == 0 {
        0
    } else if prev[prev.len() - overlap..].iter().any(|(b, _)| *b != bases[0]) {
        memory.shift = overlap;
        overlap
    } else if memory.shift > 0 || memory.measured {
        overlap.min(memory.shift)
    } else {
        return Keyed::CheckPreviousPage;
    };
    memory.measured = false;
    let prev = std::mem::take(&mut memory.prev);
    let records: Vec<SaleRecord> = page
        .iter()
        .zip(&bases)
        .enumerate()
        .map(|(i, (s, base))| {
            let key = if i < repeats {
                prev[prev.len() - repeats + i].1.clone()
            } else {
                let n = memory.next_ordinal.entry(base.clone()).or_insert(0);
                let key = format!("{base}#{n}");
                *n += 1;
                key
            };
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
        .collect();
    memory.prev = bases.into_iter().zip(records.iter().map(|r| r.key.clone())).collect();
    Keyed::Records(records)
}

/// Keys sales that stand alone (a verified purchase, one page): no boundary to resolve.
pub fn keyed_alone(sales: &[Sale]) -> Vec<SaleRecord> {
    match keyed(sales, &mut RunMemory::default()) {
        Keyed::Records(r) => r,
        Keyed::CheckPreviousPage => unreachable!("a fresh memory has no previous page"),
    }
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
    let decoded = decode_entities(&text);
    let folded = decoded.split_whitespace().collect::<Vec<_>>().join(" ");
    truncate_chars(&folded, DESCRIPTION_MAX)
}

/// HTML character references in one pass: the named ones Envato's descriptions use, and every
/// numeric one (`&#8217;`, `&#x2019;`). An unknown or malformed reference stays as written.
pub fn decode_entities(s: &str) -> String {
    const NAMED: &[(&str, &str)] = &[
        ("amp", "&"),
        ("lt", "<"),
        ("gt", ">"),
        ("quot", "\""),
        ("apos", "'"),
        ("nbsp", " "),
        ("ndash", "–"),
        ("mdash", "—"),
        ("hellip", "…"),
        ("lsquo", "‘"),
        ("rsquo", "’"),
        ("ldquo", "“"),
        ("rdquo", "”"),
        ("laquo", "«"),
        ("raquo", "»"),
        ("bull", "•"),
        ("middot", "·"),
        ("copy", "©"),
        ("reg", "®"),
        ("trade", "™"),
        ("deg", "°"),
        ("times", "×"),
        ("euro", "€"),
        ("pound", "£"),
        ("eacute", "é"),
        ("egrave", "è"),
        ("agrave", "à"),
        ("uuml", "ü"),
        ("ouml", "ö"),
        ("auml", "ä"),
        ("ccedil", "ç"),
        ("ntilde", "ñ"),
    ];
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let tail = &rest[at + 1..];
        let decoded = tail.find(';').filter(|&end| end <= 10).and_then(|end| {
            let name = &tail[..end];
            let c = if let Some(num) = name.strip_prefix("#x").or_else(|| name.strip_prefix("#X")) {
                u32::from_str_radix(num, 16).ok().and_then(char::from_u32).map(String::from)
            } else if let Some(num) = name.strip_prefix('#') {
                num.parse::<u32>().ok().and_then(char::from_u32).map(String::from)
            } else {
                NAMED.iter().find(|(n, _)| *n == name).map(|(_, v)| v.to_string())
            };
            c.map(|c| (c, end))
        });
        match decoded {
            Some((c, end)) => {
                out.push_str(&c);
                rest = &tail[end + 1..];
            }
            None => {
                out.push('&');
                rest = tail;
            }
        }
    }
    out.push_str(rest);
    out
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
                ..Default::default()
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
        keyed_alone(page)
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

    const T: &str = "2016-04-08T19:19:48Z";

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

    /// Keys pages in order; `refetched[i]` is what the previous page looks like when page i asks.
    fn key_pages(pages: &[Vec<Sale>], refetched: &[Option<Vec<Sale>>], asked: &mut usize) -> Vec<Vec<SaleRecord>> {
        let mut mem = RunMemory::default();
        let mut out = Vec::new();
        for (i, p) in pages.iter().enumerate() {
            loop {
                match keyed(p, &mut mem) {
                    Keyed::Records(r) => {
                        out.push(r);
                        break;
                    }
                    Keyed::CheckPreviousPage => {
                        *asked += 1;
                        mem.measure_shift(refetched[i].as_ref().expect("a re-fetch was not expected here"));
                    }
                }
            }
        }
        out
    }

    fn ordinals(pages: &[Vec<SaleRecord>]) -> Vec<Vec<String>> {
        pages
            .iter()
            .map(|p| p.iter().map(|r| format!("{}@{}", r.key.rsplit('#').next().unwrap(), r.item_id)).collect())
            .collect()
    }

    #[test]
    fn identical_sales_get_distinct_keys_even_across_a_page_boundary() {
        let b = || sale(1, T, None);
        let page1 = vec![sale(9, "2016-04-09T00:00:00Z", None), b(), b()];
        // Three identical sales, the third on the next page, the list unchanged: three licenses.
        // The boundary is ambiguous, so the previous page is fetched again: it has not moved.
        let mut asked = 0;
        let keys = key_pages(
            &[page1.clone(), vec![b(), sale(8, "2016-04-01T00:00:00Z", None)]],
            &[None, Some(page1)],
            &mut asked,
        );
        assert_eq!(ordinals(&keys), [vec!["0@9", "0@1", "1@1"], vec!["2@1", "0@8"]]);
        assert_eq!(asked, 1);
    }

    #[test]
    fn a_sale_pushed_to_the_next_page_by_a_new_sale_keeps_its_key() {
        // Page 1 was [A, B, C]; new sale N arrived, so page 2 starts with C again.
        let s = |i: i64, h: u32| sale(i, &format!("2016-04-08T{h:02}:00:00Z"), None);
        let mut asked = 0;
        let keys = key_pages(
            &[vec![s(1, 4), s(2, 3), s(3, 2)], vec![s(3, 2), s(4, 1)]],
            &[None, Some(vec![s(9, 5), s(1, 4), s(2, 3)])],
            &mut asked,
        );
        assert_eq!(keys[1][0].key, keys[0][2].key, "the repeat is the same sale");
        assert!(keys[1][1].key.ends_with("#0"));
        // Two new sales: an overlap of two different sales tells the shift without a re-fetch.
        let mut asked2 = 0;
        let keys =
            key_pages(&[vec![s(1, 4), s(2, 3), s(3, 2)], vec![s(2, 3), s(3, 2), s(4, 1)]], &[None, None], &mut asked2);
        assert_eq!((keys[1][0].key.clone(), keys[1][1].key.clone()), (keys[0][1].key.clone(), keys[0][2].key.clone()));
        assert_eq!((asked, asked2), (1, 0));
    }

    #[test]
    fn an_identical_group_at_the_boundary_uses_the_shift_already_known() {
        let b = || sale(1, T, None);
        let at = |i: i64, h: u32| sale(i, &format!("2016-04-09T{h:02}:00:00Z"), None);
        // Page 1 [W, X, Y]; two new sales: page 2 is [X, Y, Z, B] (shift 2, told by the overlap).
        // Page 3 starts with the B page 2 ended with, then two more: one repeat, two new.
        let mut asked = 0;
        let pages = [vec![at(8, 4), at(7, 3), at(6, 2)], vec![at(7, 3), at(6, 2), at(5, 1), b()], vec![b(), b(), b()]];
        let keys = key_pages(&pages, &[None, None, None], &mut asked);
        assert_eq!(asked, 0);
        assert_eq!(keys[2][0].key, keys[1][3].key, "the repeat");
        assert_eq!(ordinals(&keys[2..]), [vec!["0@1", "1@1", "2@1"]]);
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
        assert_eq!(
            text_from_html("It&#8217;s &ldquo;fast&rdquo; &mdash; 100&#x25; &copy; Acme &amp;lt;b&amp;gt;"),
            "It’s “fast” — 100% © Acme &lt;b&gt;",
            "named and numeric references, in one pass"
        );
        assert_eq!(decode_entities("AT&T &unknown; & &#xZZ; &#99999999;"), "AT&T &unknown; & &#xZZ; &#99999999;");
        assert_eq!(text_from_html(&"<p>x</p>".repeat(3000)).chars().count(), DESCRIPTION_MAX);
    }
}
