//! The sandbox's data: accounts, tokens, items and sales, generated deterministically from a
//! seed or loaded from a JSON seed file (the same shape `--dump-seed` writes).

use chrono::{DateTime, Datelike, Duration, FixedOffset, TimeZone, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Account {
    pub username: String,
    pub user_id: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TokenSpec {
    pub token: String,
    pub username: String,
    pub scopes: Vec<String>,
    #[serde(default)]
    pub revoked: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ItemRec {
    pub id: i64,
    pub name: String,
    pub description: String,
    pub site: String,
    pub classification: String,
    pub price_cents: i64,
    pub author_username: String,
    pub rating: f64,
    pub rating_count: i64,
    pub published_at: DateTime<FixedOffset>,
    pub updated_at: DateTime<FixedOffset>,
    /// Whether the item is sold with support (themes and code are; media is not).
    pub supported: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SaleRec {
    pub code: String,
    pub item_id: i64,
    pub buyer: Option<String>,
    pub amount_cents: i64,
    pub sold_at: DateTime<FixedOffset>,
    pub license: String,
    /// None serves `""`.
    pub support_amount_cents: Option<i64>,
    pub supported_until: Option<DateTime<FixedOffset>>,
    #[serde(default)]
    pub refunded: bool,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Dataset {
    pub accounts: Vec<Account>,
    pub tokens: Vec<TokenSpec>,
    pub items: Vec<ItemRec>,
    pub sales: Vec<SaleRec>,
}

/// What to generate.
#[derive(Debug, Clone)]
pub struct GenSpec {
    pub seed: u64,
    pub items: usize,
    pub sales: usize,
    pub days: i64,
    pub now: DateTime<Utc>,
}

pub const SELLER: &str = "demo-author";
pub const BUYER_ONLY: &str = "buyer-only";

/// Well-known tokens (32 letters and digits, like real ones), documented in the README.
pub const SELLER_TOKEN: &str = "sandboxSellerToken00000000000001";
pub const NO_SALES_SCOPE_TOKEN: &str = "sandboxNoSalesScope0000000000002";
pub const NO_ITEMS_TOKEN: &str = "sandboxBuyerNoItems0000000000003";
pub const REVOKED_TOKEN: &str = "sandboxRevokedToken0000000000004";
pub const VERIFY_ONLY_TOKEN: &str = "sandboxVerifyOnly000000000000005";

pub const ALL_SCOPES: &[&str] =
    &["default", "user:username", "user:email", "user:account", "user:financial", "sale:history", "sale:verify"];

/// splitmix64: small, fast, and the same sequence on every machine.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
    pub fn chance(&mut self, p: f64) -> bool {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 <= p && p > 0.0
    }
    pub fn purchase_code(&mut self) -> String {
        let h = format!("{:016x}{:016x}", self.next_u64(), self.next_u64());
        format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32])
    }
}

/// Envato reports times in Melbourne time: +11:00 in daylight saving (October to March), else +10:00.
pub fn australian(t: DateTime<Utc>) -> DateTime<FixedOffset> {
    let dst = matches!(t.month(), 10..=12 | 1..=3);
    let offset = FixedOffset::east_opt(if dst { 11 * 3600 } else { 10 * 3600 }).unwrap();
    offset.from_utc_datetime(&t.naive_utc())
}

const ADJECTIVES: &[&str] =
    &["Modern", "Bold", "Clean", "Vivid", "Minimal", "Epic", "Smart", "Swift", "Aurora", "Nova", "Prime", "Zen"];
const NOUNS: &[&str] = &[
    "Portfolio",
    "Agency",
    "Studio",
    "Commerce",
    "Booking",
    "Forms",
    "Gallery",
    "Journal",
    "Pulse",
    "Harbor",
    "Summit",
    "Atlas",
];

fn site_profile(i: usize) -> (&'static str, &'static str, &'static str, i64, bool) {
    // (site, suffix, classification, price in cents, supported)
    match i % 9 {
        0 | 3 | 6 => ("themeforest.net", "WordPress Theme", "wordpress/creative", 5900, true),
        1 | 4 | 7 => ("codecanyon.net", "WordPress Plugin", "wordpress/forms", 2900, true),
        2 => ("videohive.net", "Logo Opener", "after-effects-project-files/openers", 1900, false),
        5 => ("audiojungle.net", "Corporate Track", "music/corporate", 1900, false),
        _ => ("graphicriver.net", "Flyer Template", "print-templates/flyers", 800, false),
    }
}

fn description(name: &str, rng: &mut Rng) -> String {
    let mut html = format!(
        "<h3 id=\"item-description__intro\">{name}</h3>\n<p>{name} is crafted for people who care about details.</p>\n"
    );
    for i in 0..(6 + rng.below(10)) {
        html.push_str(&format!(
            "<h4>Feature {i}</h4>\n<ul><li>Responsive &amp; retina ready</li><li>One-click demo import</li><li>Translation ready (.po/.mo)</li></ul>\n<p>Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua.</p>\n"
        ));
    }
    html
}

pub fn generate(spec: &GenSpec) -> Dataset {
    let mut rng = Rng::new(spec.seed);
    let accounts = vec![
        Account { username: SELLER.into(), user_id: 1_908_998 },
        Account { username: BUYER_ONLY.into(), user_id: 2_000_001 },
    ];
    let all: Vec<String> = ALL_SCOPES.iter().map(|s| s.to_string()).collect();
    let tokens = vec![
        TokenSpec { token: SELLER_TOKEN.into(), username: SELLER.into(), scopes: all.clone(), revoked: false },
        TokenSpec {
            token: NO_SALES_SCOPE_TOKEN.into(),
            username: SELLER.into(),
            scopes: vec!["default".into(), "user:username".into()],
            revoked: false,
        },
        TokenSpec { token: NO_ITEMS_TOKEN.into(), username: BUYER_ONLY.into(), scopes: all.clone(), revoked: false },
        TokenSpec { token: REVOKED_TOKEN.into(), username: SELLER.into(), scopes: all, revoked: true },
        TokenSpec {
            token: VERIFY_ONLY_TOKEN.into(),
            username: SELLER.into(),
            scopes: vec!["default".into(), "user:username".into(), "sale:verify".into()],
            revoked: false,
        },
    ];

    let mut items = Vec::with_capacity(spec.items);
    for i in 0..spec.items {
        let (site, suffix, classification, price, supported) = site_profile(i);
        let name = format!(
            "{} {} - {suffix}",
            ADJECTIVES[i % ADJECTIVES.len()],
            NOUNS[(i / ADJECTIVES.len() + i * 5) % NOUNS.len()]
        );
        let published = spec.now - Duration::days(400 + rng.below(2000) as i64);
        items.push(ItemRec {
            id: 20_000_000 + (i as i64) * 104_729 + rng.below(1000) as i64,
            description: description(&name, &mut rng),
            name,
            site: site.into(),
            classification: classification.into(),
            price_cents: price + 100 * rng.below(20) as i64,
            author_username: SELLER.into(),
            rating: 3.5 + (rng.below(150) as f64) / 100.0,
            rating_count: rng.below(2000) as i64,
            published_at: australian(published),
            updated_at: australian(spec.now - Duration::days(rng.below(60) as i64)),
            supported,
        });
    }

    let buyers = (spec.sales / 3).max(1) as u64;
    let window = spec.days.max(1) * 86_400;
    let mut sales = Vec::with_capacity(spec.sales);
    for _ in 0..spec.sales {
        if items.is_empty() {
            break;
        }
        // Skewed: the first items sell most, like a real catalogue.
        let a = rng.below(items.len() as u64);
        let b = rng.below(items.len() as u64);
        let item = &items[a.min(b) as usize];
        let sold = spec.now - Duration::seconds(1 + rng.below(window as u64) as i64);
        let extended = rng.chance(0.05);
        let price = if extended { item.price_cents * 25 } else { item.price_cents };
        let (support_amount, until) = if item.supported {
            if rng.chance(0.1) {
                (Some(price * 3 / 10), Some(sold + Duration::days(365)))
            } else {
                (Some(0), Some(sold + Duration::days(182)))
            }
        } else {
            (None, None)
        };
        sales.push(SaleRec {
            code: rng.purchase_code(),
            item_id: item.id,
            buyer: if rng.chance(0.15) { None } else { Some(format!("buyer{:05}", rng.below(buyers))) },
            // The author's share after Envato's fee, in whole cents.
            amount_cents: price * 70 / 100,
            sold_at: australian(sold),
            license: if extended { "Extended License".into() } else { "Regular License".into() },
            support_amount_cents: support_amount,
            supported_until: until.map(australian),
            refunded: false,
        });
    }
    sales.sort_by_key(|s| std::cmp::Reverse(s.sold_at));
    Dataset { accounts, tokens, items, sales }
}
