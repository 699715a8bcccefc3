//! Test support: the one "every sale exactly once" check the client's tests share. It reads the
//! licenses as plain (item ID, sold-at text, license key) triples, so it knows nothing of the
//! client's types: what it checks is the sandbox's own data.

use crate::data::Dataset;
use chrono::{DateTime, Utc};

/// One license as the check needs it: its Envato item, when the sale was made (RFC 3339), its key.
pub type Licensed = (i64, String, String);

/// Panics unless the licenses are exactly the dataset's sales (refunded ones left out) sold at or
/// after `since` (all of them without it), each once, with distinct license keys.
pub fn assert_every_sale_once(dataset: &Dataset, since: Option<DateTime<Utc>>, licenses: &[Licensed]) {
    // Envato (and so the sandbox) serves times to the second.
    let mut want: Vec<(i64, i64)> = dataset
        .sales
        .iter()
        .filter(|s| !s.refunded && since.is_none_or(|c| s.sold_at.with_timezone(&Utc) >= c))
        .map(|s| (s.item_id, s.sold_at.timestamp()))
        .collect();
    let mut have: Vec<(i64, i64)> = licenses
        .iter()
        .map(|(item, sold, _)| {
            let at = DateTime::parse_from_rfc3339(sold)
                .unwrap_or_else(|e| panic!("license sold at “{sold}” is not RFC 3339: {e}"));
            (*item, at.timestamp())
        })
        .collect();
    want.sort();
    have.sort();
    let missing: Vec<_> = difference(&want, &have);
    let extra: Vec<_> = difference(&have, &want);
    assert!(
        missing.is_empty() && extra.is_empty(),
        "every sale exactly once: {} missing {missing:?}, {} extra {extra:?}",
        missing.len(),
        extra.len()
    );
    let mut keys: Vec<&String> = licenses.iter().map(|(_, _, k)| k).collect();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), licenses.len(), "license keys are unique");
}

/// The elements of sorted `a` not matched one-for-one in sorted `b` (a multiset difference).
fn difference<T: Ord + Clone>(a: &[T], b: &[T]) -> Vec<T> {
    let (mut i, mut j, mut out) = (0, 0, Vec::new());
    while i < a.len() {
        if j < b.len() && a[i] == b[j] {
            i += 1;
            j += 1;
        } else if j < b.len() && b[j] < a[i] {
            j += 1;
        } else {
            out.push(a[i].clone());
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::difference;

    #[test]
    fn multiset_difference() {
        assert_eq!(difference(&[1, 1, 2, 3], &[1, 2, 2]), vec![1, 3]);
        assert_eq!(difference(&[1, 2], &[1, 2]), Vec::<i32>::new());
    }
}
