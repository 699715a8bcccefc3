//! The Envato decoders and response classification on arbitrary bodies: never panic.
#![no_main]
use keymanager::envato::client::{classify, ClientConfig, Endpoint};
use keymanager::envato::decode;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let cfg = ClientConfig::new("http://127.0.0.1:1");
    let status = data.first().map(|b| [200u16, 401, 403, 404, 422, 429, 500, 503][*b as usize % 8]).unwrap_or(200);
    let retry_after = std::str::from_utf8(data.get(1..4).unwrap_or_default()).ok();
    for ep in [Endpoint::SaleByCode, Endpoint::Sales, Endpoint::WhoAmI, Endpoint::CatalogItem, Endpoint::Search] {
        let _ = classify(ep, status, retry_after, data, &cfg);
    }
    let _ = decode::error_text(data);
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) {
        let _ = decode::sale(&v);
        let _ = decode::sales_page(&v);
        let _ = decode::item(&v);
        let _ = decode::search_page(&v);
        let _ = decode::statement_page(&v);
        let _ = decode::whoami(&v);
        let _ = decode::user_items_by_site(&v);
        let _ = decode::new_files_from_user(&v);
        let _ = decode::account(&v);
    }
});
