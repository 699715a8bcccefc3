//! CSV export of the licenses matching a filter, streamed page by page. It carries no secret:
//! never the Envato token, and not buyers' purchase codes (proof of purchase at Envato's support);
//! license keys are the seller's own and are included.

use crate::error::{Error, Result};
use crate::store::{LicenseFilter, Store};
use crate::time::Timestamp;
use std::io::Write;

pub const COLUMNS: &[&str] = &[
    "license_key",
    "status",
    "product",
    "envato_item_id",
    "item",
    "marketplace",
    "buyer",
    "license_type",
    "envato_license",
    "amount",
    "sold_at",
    "supported_until",
    "activations_used",
    "activation_limit",
    "source",
    "created_at",
];

/// A plain decimal number (an amount such as `-12.50`): safe to leave as it is.
fn is_number(s: &str) -> bool {
    let digits = s.strip_prefix('-').unwrap_or(s);
    let mut parts = digits.splitn(2, '.');
    let whole = parts.next().unwrap_or("");
    let frac = parts.next();
    !whole.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && frac.is_none_or(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()))
}

/// Quotes a field when it needs it, and defuses spreadsheet formulas: a leading `=`, `+`, `-`,
/// `@`, TAB or CR (OWASP's list) gets a `'` in front, except in a plain number such as `-12.50`.
fn field(s: &str) -> String {
    let risky = s.starts_with(['=', '+', '-', '@', '\t', '\r']) && !is_number(s);
    let s = if risky { format!("'{s}") } else { s.to_string() };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// Writes the CSV; returns how many licenses it wrote.
pub fn write_csv(store: &Store, filter: &LicenseFilter, now: Timestamp, out: &mut impl Write) -> Result<u64> {
    let io = |e: std::io::Error| Error::internal(format!("Cannot write the export: {e}."));
    writeln!(out, "{}", COLUMNS.join(",")).map_err(io)?;
    let mut f = LicenseFilter { cursor: None, limit: Some(1000), ..filter.clone() };
    let mut n = 0;
    loop {
        let page = store.license_page(&f, now)?;
        for l in &page.licenses {
            let row = [
                l.license_key.clone(),
                l.status.as_str().to_string(),
                l.product_name.clone(),
                l.envato_item_id.map(|i| i.to_string()).unwrap_or_default(),
                l.item_name.clone().unwrap_or_default(),
                l.marketplace.clone().unwrap_or_default(),
                l.buyer.clone().unwrap_or_default(),
                l.license_type.as_str().to_string(),
                l.envato_license.clone().unwrap_or_default(),
                l.amount.clone().unwrap_or_default(),
                l.sold_at.clone().unwrap_or_default(),
                l.supported_until.clone().unwrap_or_default(),
                l.activations_used.to_string(),
                l.activation_limit.to_string(),
                l.source.as_str().to_string(),
                l.created_at.clone(),
            ];
            let line: Vec<String> = row.iter().map(|v| field(v)).collect();
            writeln!(out, "{}", line.join(",")).map_err(io)?;
            n += 1;
        }
        match page.next_cursor {
            Some(c) => f.cursor = Some(c),
            None => break,
        }
    }
    Ok(n)
}

/// Writes the export as `keymanager-licenses-YYYY-MM-DD-HHMMSS.csv` in `dir`; returns its path.
pub fn write_csv_file(store: &Store, filter: &LicenseFilter, now: Timestamp, dir: &std::path::Path) -> Result<String> {
    export_file(dir, now, |w| write_csv(store, filter, now, w).map(drop))
}

/// Saves CSV text made elsewhere (a server's licenses) the way `write_csv_file` saves its own.
pub fn save_csv_text(dir: &std::path::Path, csv: &str, now: Timestamp) -> Result<String> {
    export_file(dir, now, |w| {
        w.write_all(csv.as_bytes())
            .map_err(|e| Error::new(crate::error::ErrorCode::StoreIo, format!("Cannot write the export: {e}.")))
    })
}

/// A new export file in `dir`, private to the seller (it names buyers), filled by `fill`.
fn export_file(
    dir: &std::path::Path,
    now: Timestamp,
    fill: impl FnOnce(&mut std::io::BufWriter<std::fs::File>) -> Result<()>,
) -> Result<String> {
    let path = dir.join(format!("keymanager-licenses-{}.csv", now.format("%Y-%m-%d-%H%M%S")));
    let io = |e: std::io::Error| {
        Error::new(crate::error::ErrorCode::StoreIo, format!("Cannot write {}: {e}.", path.display()))
    };
    std::fs::create_dir_all(dir).map_err(io)?;
    let file = crate::private_files::create_private_file(&path)?;
    let mut w = std::io::BufWriter::new(file);
    fill(&mut w)?;
    w.flush().map_err(io)?;
    Ok(path.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::field;

    #[test]
    fn fields_are_quoted_and_formulas_defused() {
        assert_eq!(field("plain"), "plain");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(field("-3+A1"), "'-3+A1");
        assert_eq!(field("\tcmd"), "'\tcmd");
        assert_eq!(field("\r=1"), "\"'\r=1\"");
        // Amounts are numbers, negative ones included (refunds in a statement).
        assert_eq!(field("-12.50"), "-12.50");
        assert_eq!(field("-3"), "-3");
        assert_eq!(field("12"), "12");
        assert_eq!(field("-"), "'-");
        assert_eq!(field("-1.2.3"), "'-1.2.3");
    }
}
