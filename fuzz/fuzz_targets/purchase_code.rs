//! Purchase-code normalisation: never panics; what it accepts is canonical and stable.
#![no_main]
use keymanager::envato::PurchaseCode;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let input = String::from_utf8_lossy(data);
    if let Ok(code) = PurchaseCode::parse(&input) {
        let s = code.as_str();
        assert_eq!(s.len(), 36);
        assert!(s.bytes().all(|b| b == b'-' || b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
        assert_eq!(PurchaseCode::parse(s).unwrap(), code, "parsing is idempotent");
    }
});
