//! License-key parsing: never panics; accepted keys are canonical and round-trip.
#![no_main]
use keymanager::license_key::LicenseKey;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let input = String::from_utf8_lossy(data);
    if let Ok(key) = LicenseKey::parse(&input) {
        assert_eq!(key.as_str().len(), 23);
        assert_eq!(LicenseKey::parse(key.as_str()).unwrap(), key);
        assert_eq!(LicenseKey::parse(&key.as_str().to_lowercase()).unwrap(), key);
    }
});
