//! Decoding every recorded Envato exchange and every realistic fixture.

use keymanager::envato::decode;
use keymanager::time::to_db;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// (uri, status, body) of a recorded cassette's first interaction.
fn recorded(name: &str) -> (String, u16, Vec<u8>) {
    let text = std::fs::read_to_string(fixtures().join("envato-recorded").join(name)).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    let i = &v["http_interactions"][0];
    (
        i["request"]["uri"].as_str().unwrap().to_string(),
        i["response"]["status"]["code"].as_u64().unwrap() as u16,
        i["response"]["body"]["string"].as_str().unwrap().as_bytes().to_vec(),
    )
}

fn realistic(name: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(fixtures().join("realistic").join(name)).unwrap()).unwrap()
}

fn json(body: &[u8]) -> Value {
    serde_json::from_slice(body).unwrap()
}

#[test]
fn every_recorded_exchange_decodes() {
    let dir = fixtures().join("envato-recorded");
    let mut decoded = 0;
    for entry in std::fs::read_dir(&dir).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        if !name.ends_with(".json") {
            continue;
        }
        let (uri, status, body) = recorded(&name);
        let path = uri.trim_start_matches("https://api.envato.com");
        let v = json(&body);
        let ok = match path {
            p if p.starts_with("/v3/market/author/sales") => decode::sales_page(&v).map(|_| ()),
            p if p.starts_with("/v3/market/author/sale?") && decode::is_not_found_body(&v) => Ok(()),
            p if p.starts_with("/v3/market/author/sale?") => decode::sale(&v).map(|_| ()),
            p if p.starts_with("/v3/market/catalog/item") => decode::item(&v).map(|_| ()),
            p if p.starts_with("/v1/market/item-prices") => decode::item_prices(&v).map(|_| ()),
            p if p.contains("earnings-and-sales-by-month") => decode::earnings_by_month(&v).map(|_| ()),
            p if p.contains("new-files-from-user") => decode::new_files_from_user(&v).map(|_| ()),
            p if p.contains("user-items-by-site") => decode::user_items_by_site(&v).map(|_| ()),
            p if p.contains("statement") => decode::statement_page(&v).map(|_| ()),
            p if p.contains("username.json") => decode::username(&v).map(|_| ()),
            p if p.contains("account.json")
                || p.contains("email.json")
                || p.contains("user-badges")
                || p.contains("/user:") =>
            {
                decode::account(&v).map(|_| ())
            }
            // Error replies: their text must be readable whatever the shape.
            _ => {
                assert!(status >= 400, "{name}: unexpected success for {path}");
                assert!(decode::error_text(&body).is_some(), "{name}");
                Ok(())
            }
        };
        ok.unwrap_or_else(|e| panic!("{name} ({path}): {}", e.0));
        decoded += 1;
    }
    assert_eq!(decoded, 22, "every recording is covered");
}

#[test]
fn recorded_sale_by_code() {
    let (_, _, body) = recorded("user_sale_by_purchase_code_valid_code.json");
    let s = decode::sale(&json(&body)).unwrap();
    assert_eq!(s.amount_cents, 540);
    assert_eq!(to_db(s.sold_at), "2009-11-13T08:28:25Z");
    assert_eq!(s.license, "Regular License");
    assert_eq!(s.support_amount_cents, Some(0));
    assert_eq!(to_db(s.supported_until.unwrap()), "2016-03-01T16:00:00Z");
    assert_eq!(s.buyer.as_deref(), Some("good-buyer"));
    assert_eq!(s.purchase_count, Some(1));
    assert_eq!(s.item.id, 56449);
    assert_eq!(s.item.site.as_deref(), Some("themeforest.net"));
    assert_eq!(s.item.rating.as_ref().map(|r| (r.value, r.count)), Some((4.34, Some(109))));
}

#[test]
fn recorded_sales_list_has_no_codes_or_buyers() {
    let (_, _, body) = recorded("user_sales_valid_sales.json");
    let sales = decode::sales_page(&json(&body)).unwrap();
    assert_eq!(sales.len(), 2);
    for s in &sales {
        assert_eq!((s.code.as_ref(), s.buyer.as_ref(), s.purchase_count), (None, None, None));
        assert_eq!(s.amount_cents, 2000);
        assert_eq!(to_db(s.sold_at), "2016-04-08T19:19:48Z");
        assert_eq!(s.item.site, None, "this recording's items carry no site");
    }
}

#[test]
fn recorded_invalid_code_is_a_not_found_body_on_status_200() {
    let (_, status, body) = recorded("user_sale_by_purchase_code_invalid_code.json");
    assert_eq!(status, 200);
    assert!(decode::is_not_found_body(&json(&body)));
}

#[test]
fn recorded_v1_values_are_all_strings() {
    let (_, _, body) = recorded("user_new_items_by_user_valid_username_with_items_and_valid_marketplace.json");
    let items = decode::new_files_from_user(&json(&body)).unwrap();
    assert_eq!(items[0].id, 22705);
    assert_eq!(items[0].price_cents, Some(800));
    assert_eq!(to_db(items[0].published_at.unwrap()), "2008-12-01T17:01:12Z");
    let (_, _, body) = recorded("user_user_items_by_site_user_has_items.json");
    let sites = decode::user_items_by_site(&json(&body)).unwrap();
    assert_eq!(sites[0].items, 1);
    let (_, _, body) = recorded("user_user_statement_user_statement_with_activity.json");
    let st = decode::statement_page(&json(&body)).unwrap();
    assert_eq!(st.entries[2].amount_cents, Some(2370));
    assert_eq!(st.entries[0].kind, "Author Fee");
}

#[test]
fn realistic_full_sale_at_plus_ten() {
    let s = decode::sale(&realistic("sale_full_plus10.json")).unwrap();
    assert_eq!(to_db(s.sold_at), "2026-09-07T00:54:28Z");
    assert_eq!(to_db(s.supported_until.unwrap()), "2027-03-07T23:54:28Z");
    assert_eq!(s.amount_cents, 4130);
    assert_eq!(s.purchase_count, Some(3));
    assert!(s.item.description.len() > 10_000, "long HTML kept whole");
    assert_eq!(s.item.rating.unwrap().count, Some(809));
}

#[test]
fn realistic_guest_without_support_at_plus_eleven() {
    let s = decode::sale(&realistic("sale_guest_no_support_plus11.json")).unwrap();
    assert_eq!(to_db(s.sold_at), "2026-01-15T12:59:59Z");
    assert_eq!(s.buyer, None);
    assert_eq!(s.supported_until, None);
    assert_eq!(s.support_amount_cents, None);
    assert_eq!(s.license, "Extended License");
    assert_eq!(s.amount_cents, 103250);
    let s = decode::sale(&realistic("sale_supported_until_empty.json")).unwrap();
    assert_eq!(s.supported_until, None);
    assert_eq!(s.amount_cents, 1984);
}

#[test]
fn realistic_sales_list_with_codes_and_odd_values() {
    let sales = decode::sales_page(&realistic("sales_list_with_codes.json")).unwrap();
    assert_eq!(sales[0].code.as_deref(), Some("a67f4582-95d6-4019-81f3-75d1ebe3a071"), "codes are lower-cased");
    assert_eq!(sales[1].item.id, 31415926, "string IDs accepted");
    assert_eq!(sales[1].item.rating.as_ref().unwrap().value, 4.5, "rating objects accepted");
    assert_eq!(sales[1].license, "Some Future License", "unknown license names kept verbatim");
    assert_eq!(sales[1].support_amount_cents, Some(525));
}

#[test]
fn realistic_search_whoami_statement_catalog() {
    let p = decode::search_page(&realistic("search_v1_string_ids.json")).unwrap();
    assert_eq!(p.items.iter().map(|i| i.id).collect::<Vec<_>>(), vec![20929979, 20929980]);
    assert_eq!(p.total_hits, 2);
    let w = decode::whoami(&realistic("whoami.json")).unwrap();
    assert_eq!(w.user_id, Some(1908998));
    assert!(w.scopes.contains(&"sale:history".to_string()));
    let st = decode::statement_page(&realistic("statement_v3.json")).unwrap();
    let kinds: Vec<&str> = st.entries.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["Sale", "Refund", "Sale Reversal", "Author Fee"]);
    assert_eq!(st.entries[1].amount_cents, Some(-4130));
    assert_eq!(st.entries[0].item_id, Some(20929979));
    let item = decode::item(&realistic("catalog_item_v1_string_id.json")).unwrap();
    assert_eq!(item.id, 20929979);
}

#[test]
fn garbage_is_an_error_not_a_panic() {
    for v in [
        Value::Null,
        Value::from(3),
        serde_json::json!({"sold_at": "nope"}),
        serde_json::json!({"amount": "1.00", "sold_at": "2026-01-01T00:00:00Z"}),
    ] {
        assert!(decode::sale(&v).is_err(), "{v}");
    }
    assert!(decode::sales_page(&serde_json::json!({"not": "an array"})).is_err());
    assert!(decode::sale(
        &serde_json::json!({"amount": "1.234", "sold_at": "2026-01-01T00:00:00Z", "item": {"id": 1}})
    )
    .is_err());
}
