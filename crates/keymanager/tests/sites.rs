//! Site-aware activations in the store, with the clock passed in: staging and development sites
//! do not count toward the limit (up to their own), a stale production slot makes way at the
//! limit with `activation.replaced`, validations' sightings are written in batches, and a code
//! used on too many production sites is flagged once with `license.shared_suspected`.

use chrono::{Duration, TimeZone, Utc};
use keymanager::events::EventFilter;
use keymanager::license_key::LicenseKey;
use keymanager::licensing;
use keymanager::model::NewProduct;
use keymanager::site::{Environment, SiteRules};
use keymanager::store::{SeenActivation, SiteRequest};
use keymanager::time::Timestamp;
use keymanager::{ErrorCode, Store};

fn t0() -> Timestamp {
    Utc.with_ymd_and_hms(2026, 11, 1, 9, 0, 0).unwrap()
}

/// A store with one product of `limit` activations, one license of it, and a webhook endpoint
/// that wants every event (so events land in the outbox).
fn setup(limit: u32) -> (Store, LicenseKey, i64) {
    let mut s = Store::open_in_memory().unwrap();
    let p = s
        .create_product(&NewProduct { name: "Theme".into(), activation_limit: Some(limit), ..Default::default() }, t0())
        .unwrap();
    let l = licensing::issue(&mut s, p.id, None, None, None, t0()).unwrap();
    s.add_webhook_endpoint("http://127.0.0.1:9/hook", &EventFilter::All, t0()).unwrap();
    (s, LicenseKey::parse(&l.license_key).unwrap(), l.id)
}

fn on<'a>(site: &'a str, environment: Environment) -> SiteRequest<'a> {
    SiteRequest {
        site: Some(site),
        environment,
        dev_limit: 5,
        stale_after: Some(Duration::days(45)),
        shared_threshold: None,
    }
}

fn activate(
    s: &mut Store,
    key: &LicenseKey,
    site: &str,
    env: Environment,
    at: Timestamp,
) -> keymanager::Result<keymanager::store::Activated> {
    let fp = keymanager::site::fingerprint_of(site);
    s.activate_on_site(key, &fp, None, &on(site, env), licensing::refuse_if_not_active, at)
}

fn events(s: &Store, kind: &str) -> Vec<keymanager::store::Delivery> {
    s.deliveries(None, None, 1000).unwrap().into_iter().filter(|d| d.event_type == kind).collect()
}

#[test]
fn one_production_and_five_staging_sites_then_the_sixth_staging_is_refused() {
    let (mut s, key, _) = setup(1);
    let rules = SiteRules {
        staging: keymanager::site::parse_patterns(keymanager::site::DEFAULT_STAGING),
        ..Default::default()
    };
    let prod = activate(&mut s, &key, "shop.example.com", Environment::Production, t0()).unwrap();
    assert!(prod.new);
    for i in 0..5 {
        let site = format!("staging-shop{i}.kinsta.cloud");
        assert_eq!(rules.classify(&site, None).environment, Environment::Staging, "{site}");
        let a = activate(&mut s, &key, &site, Environment::Staging, t0()).unwrap();
        assert_eq!(a.activation.environment, Environment::Staging);
        assert_eq!((a.license.activations_used, a.license.dev_activations_used), (1, i + 1), "staging is not counted");
    }
    let e = activate(&mut s, &key, "staging-shop9.kinsta.cloud", Environment::Staging, t0()).unwrap_err();
    assert_eq!(e.code, ErrorCode::DevSiteLimit);
    // Production is still at its own limit.
    let e = activate(&mut s, &key, "other-shop.example.com", Environment::Production, t0()).unwrap_err();
    assert_eq!(e.code, ErrorCode::LicenseActivationLimit);
    // The same site again is the same activation (idempotent).
    assert!(!activate(&mut s, &key, "shop.example.com", Environment::Production, t0()).unwrap().new);
}

#[test]
fn a_stale_production_slot_makes_way_with_an_event_and_a_fresh_one_does_not() {
    let (mut s, key, id) = setup(1);
    activate(&mut s, &key, "old-shop.example.com", Environment::Production, t0()).unwrap();
    // Seen 40 days later: still fresh on day 80 (45 days' rule), so a new site is refused.
    s.note_seen(
        &[SeenActivation {
            license_id: id,
            fingerprint: "site:old-shop.example.com".into(),
            production_site: Some("old-shop.example.com".into()),
            at: t0() + Duration::days(40),
        }],
        None,
    )
    .unwrap();
    let e =
        activate(&mut s, &key, "new-shop.example.com", Environment::Production, t0() + Duration::days(80)).unwrap_err();
    assert_eq!(e.code, ErrorCode::LicenseActivationLimit, "seen 40 days ago: not stale yet");
    assert!(events(&s, "activation.replaced").is_empty());
    // 46 days after it was last seen, the moved site takes the slot.
    let a = activate(&mut s, &key, "new-shop.example.com", Environment::Production, t0() + Duration::days(86)).unwrap();
    let replaced = a.replaced.expect("the stale activation was replaced");
    assert_eq!(replaced.site.as_deref(), Some("old-shop.example.com"));
    assert_eq!(replaced.fingerprint, "site:old-shop.example.com");
    assert!(replaced.last_seen_at.starts_with("2026-12-11"), "{}", replaced.last_seen_at);
    assert_eq!(a.license.activations_used, 1);
    let sites: Vec<_> = s.activations(id).unwrap().into_iter().filter_map(|a| a.site).collect();
    assert_eq!(sites, ["new-shop.example.com"]);
    assert_eq!(events(&s, "activation.replaced").len(), 1);
}

#[test]
fn replacement_is_off_when_stale_days_is_zero() {
    let (mut s, key, _) = setup(1);
    activate(&mut s, &key, "a.example.com", Environment::Production, t0()).unwrap();
    let mut req = on("b.example.com", Environment::Production);
    req.stale_after = None;
    let e = s
        .activate_on_site(
            &key,
            "site:b.example.com",
            None,
            &req,
            licensing::refuse_if_not_active,
            t0() + Duration::days(400),
        )
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::LicenseActivationLimit);
}

#[test]
fn a_code_used_on_too_many_production_sites_is_flagged_once_and_never_suspended() {
    let (mut s, key, id) = setup(1);
    // Limit 1: the threshold is 1 + 3 = 4 distinct production sites in 30 days.
    activate(&mut s, &key, "site0.example.com", Environment::Production, t0()).unwrap();
    let seen = |i: u32, day: i64| SeenActivation {
        license_id: id,
        fingerprint: "site:site0.example.com".into(),
        production_site: Some(format!("site{i}.example.com")),
        at: t0() + Duration::days(day),
    };
    s.note_seen(&[seen(1, 1), seen(2, 2), seen(3, 3)], None).unwrap();
    assert!(s.license(id).unwrap().unwrap().shared_suspected_at.is_none(), "4 sites: at the threshold, not above");
    assert!(events(&s, "license.shared_suspected").is_empty());
    s.note_seen(&[seen(4, 4)], None).unwrap();
    let l = s.license(id).unwrap().unwrap();
    assert!(l.shared_suspected_at.is_some(), "5 sites in 30 days: flagged");
    assert_eq!(l.status, keymanager::model::LicenseStatus::Active, "never suspended by KeyManager");
    s.note_seen(&[seen(5, 5), seen(6, 6)], None).unwrap();
    let flagged = events(&s, "license.shared_suspected");
    assert_eq!(flagged.len(), 1, "the event is delivered once");
    // Sites older than 30 days do not count: another license used on 5 sites over a year is fine.
    let (mut s2, key2, id2) = setup(1);
    activate(&mut s2, &key2, "x0.example.com", Environment::Production, t0()).unwrap();
    for i in 1..6 {
        let at = t0() + Duration::days(40 * i);
        s2.note_seen(
            &[SeenActivation {
                license_id: id2,
                fingerprint: "f".into(),
                production_site: Some(format!("x{i}.example.com")),
                at,
            }],
            None,
        )
        .unwrap();
    }
    assert!(s2.license(id2).unwrap().unwrap().shared_suspected_at.is_none());
}
