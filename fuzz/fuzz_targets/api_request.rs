//! The licensing API's request decoder: never panics, and whatever it accepts is within the
//! contract's bounds (one license name, printable fingerprint of 1 to 128, label and nonce limits).
#![no_main]
use keymanager::api::request::{decode, LicenseRef, Needs, FINGERPRINT_MAX, LABEL_MAX, NONCE_MAX};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for needs in [Needs::OptionalFingerprint, Needs::Fingerprint, Needs::PurchaseCodeOnly] {
        match decode(data, needs) {
            Ok(r) => {
                if let Some(f) = &r.fingerprint {
                    assert!(!f.is_empty() && f.len() <= FINGERPRINT_MAX && f.bytes().all(|b| (0x20..0x7f).contains(&b)));
                } else {
                    assert!(needs != Needs::Fingerprint);
                }
                assert!(r.label.as_ref().is_none_or(|l| l.chars().count() <= LABEL_MAX));
                assert!(r.nonce.as_ref().is_none_or(|n| n.chars().count() <= NONCE_MAX));
                assert!(r.item_id.is_none_or(|i| i > 0) && r.product_id.is_none_or(|i| i > 0));
                if needs == Needs::PurchaseCodeOnly {
                    assert!(matches!(r.license, LicenseRef::PurchaseCode(_)));
                }
            }
            Err(bad) => {
                assert!(!bad.detail.is_empty() && bad.detail.len() < 300);
                assert!(bad.nonce.as_ref().is_none_or(|n| n.chars().count() <= NONCE_MAX));
            }
        }
    }
});
