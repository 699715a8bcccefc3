//! What keeps anonymous clients of the licensing server from spending, sending or growing
//! without bound: the negative cache of purchase codes Envato does not know, the buyer page's
//! key mails and their daily caps, e-mail confirmations, and the pruning of old rows.

use super::audit::{insert_audit, AuditEntry, AuditLevel};
use super::licenses::license_in;
use super::outbox::{insert_message, To};
use super::Store;
use crate::error::Result;
use crate::events::{self, EventType};
use crate::time::{to_db, Timestamp};
use rusqlite::{params, OptionalExtension};

/// How long "Envato does not know this code" is believed.
pub const UNKNOWN_CODE_DAYS: i64 = 1;

crate::text_enum! {
    /// A mail the buyer page sent: the key itself, or a link to confirm an address first.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
    pub enum BuyerMailKind {
        Key = "key",
        Confirm = "confirm",
    }
}

/// One mail the buyer page asks to send, with the caps it must stay under.
pub struct BuyerMail<'a> {
    pub license_id: i64,
    pub to: &'a str,
    pub kind: BuyerMailKind,
    /// The outbox message's kind and body (the e-mail is written from them at delivery).
    pub email_kind: &'a str,
    pub body: &'a str,
    /// Who asked (the client's address), for the audit log.
    pub client: &'a str,
    /// For a confirmation link: the SHA-256 of its token and when it expires.
    pub confirmation: Option<(&'a str, Timestamp)>,
    pub per_license: u32,
    pub per_store: u32,
}

/// Which daily cap refused a buyer-page mail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BuyerMailCap {
    License,
    Store,
}

/// An address waiting for its confirmation link to be clicked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingConfirmation {
    pub license_id: i64,
    pub address: String,
}

impl Store {
    /// Whether Envato said "no such sale" for `code` less than a day before `now`.
    pub fn code_known_unknown(&self, code: &str, now: Timestamp) -> Result<bool> {
        let since = to_db(now - chrono::Duration::days(UNKNOWN_CODE_DAYS));
        let found = self
            .conn
            .prepare_cached("SELECT 1 FROM unknown_codes WHERE code = ?1 AND checked_at > ?2")?
            .query_row(params![code, since], |_| Ok(()))
            .optional()?;
        Ok(found.is_some())
    }

    /// Remembers that Envato does not know `code` (and forgets entries older than a day, so the
    /// table holds at most a day of the server's budget for unseen codes).
    pub fn remember_unknown_code(&mut self, code: &str, now: Timestamp) -> Result<()> {
        let since = to_db(now - chrono::Duration::days(UNKNOWN_CODE_DAYS));
        self.write(|tx| {
            tx.prepare_cached("DELETE FROM unknown_codes WHERE checked_at <= ?1")?.execute([&since])?;
            tx.prepare_cached("INSERT OR REPLACE INTO unknown_codes (code, checked_at) VALUES (?1, ?2)")?
                .execute(params![code, to_db(now)])?;
            Ok(())
        })
    }

    /// Forgets what the daily caps no longer need (older than two days).
    pub(crate) fn prune_buyer_mails(tx: &rusqlite::Transaction<'_>, now: Timestamp) -> Result<()> {
        let before = to_db(now - chrono::Duration::days(2));
        tx.prepare_cached("DELETE FROM buyer_mails WHERE at < ?1")?.execute([&before])?;
        tx.prepare_cached("DELETE FROM buyer_email_confirmations WHERE expires_at < ?1")?.execute([to_db(now)])?;
        Ok(())
    }

    /// Counts one buyer-page mail and audits it with the client's address, in `tx`.
    pub(crate) fn note_buyer_mail(
        tx: &rusqlite::Transaction<'_>,
        license_id: i64,
        kind: BuyerMailKind,
        client: &str,
        now: Timestamp,
    ) -> Result<()> {
        Store::prune_buyer_mails(tx, now)?;
        tx.prepare_cached("INSERT INTO buyer_mails (license_id, kind, at) VALUES (?1, ?2, ?3)")?.execute(params![
            license_id,
            kind,
            to_db(now)
        ])?;
        let what = match kind {
            BuyerMailKind::Key => "the license key mailed to the buyer's address",
            BuyerMailKind::Confirm => "a link mailed to confirm the buyer's address",
        };
        insert_audit(
            tx,
            &AuditEntry::new(now, AuditLevel::Info, "buyer_page.email", format!("Buyer page: {what} (from {client})."))
                .license(license_id),
        )?;
        Ok(())
    }

    /// Keeps an address the buyer must confirm; `token_hash` is the SHA-256 of the link's token.
    pub(crate) fn insert_confirmation(
        tx: &rusqlite::Transaction<'_>,
        token_hash: &str,
        license_id: i64,
        address: &str,
        now: Timestamp,
        expires: Timestamp,
    ) -> Result<()> {
        tx.prepare_cached(
            "INSERT INTO buyer_email_confirmations (token_hash, license_id, address, created_at, expires_at) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )?
        .execute(params![token_hash, license_id, address, to_db(now), to_db(expires)])?;
        Ok(())
    }

    /// Takes (and removes) the confirmation with this token hash, if it has not expired.
    pub(crate) fn take_confirmation(
        tx: &rusqlite::Transaction<'_>,
        token_hash: &str,
        now: Timestamp,
    ) -> Result<Option<PendingConfirmation>> {
        let found = tx
            .prepare_cached(
                "DELETE FROM buyer_email_confirmations WHERE token_hash = ?1 RETURNING license_id, address, expires_at",
            )?
            .query_row([token_hash], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?)))
            .optional()?;
        Ok(found.and_then(|(license_id, address, expires)| {
            (expires > to_db(now)).then_some(PendingConfirmation { license_id, address })
        }))
    }

    /// Whether an `activation.limit_reached` for this license and fingerprint may be queued now
    /// (none in the last hour); records it when so. In `tx`, the refusal's own transaction.
    pub(crate) fn limit_refusal_is_news(
        tx: &rusqlite::Transaction<'_>,
        license_id: i64,
        fingerprint: &str,
        now: Timestamp,
    ) -> Result<bool> {
        let hour_ago = to_db(now - chrono::Duration::hours(1));
        tx.prepare_cached("DELETE FROM limit_refusals WHERE at <= ?1")?.execute([&hour_ago])?;
        let inserted = tx
            .prepare_cached("INSERT OR IGNORE INTO limit_refusals (license_id, fingerprint, at) VALUES (?1, ?2, ?3)")?
            .execute(params![license_id, fingerprint, to_db(now)])?;
        Ok(inserted == 1)
    }

    /// Queues a buyer-page mail in one transaction with its caps and its audit entry. Over a cap
    /// nothing is queued; the first refusal of a day leaves a warning for the seller (and, for
    /// the store's cap, `seller_notice` is queued to the seller's own address).
    pub fn queue_buyer_mail(
        &mut self,
        m: &BuyerMail<'_>,
        seller_notice: Option<(&str, &str, &str)>,
        now: Timestamp,
    ) -> Result<std::result::Result<String, BuyerMailCap>> {
        self.write(|tx| {
            let since = to_db(now - chrono::Duration::days(1));
            let (license, store): (u32, u32) = tx.query_row(
                "SELECT count(*) FILTER (WHERE license_id = ?1), count(*) FROM buyer_mails WHERE at > ?2",
                params![m.license_id, since],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            let cap = if store >= m.per_store {
                Some(BuyerMailCap::Store)
            } else if license >= m.per_license {
                Some(BuyerMailCap::License)
            } else {
                None
            };
            if let Some(cap) = cap {
                let (action, license_id, what) = match cap {
                    BuyerMailCap::Store => {
                        ("buyer_page.email_cap_store", None, format!("the store's {} key mails a day", m.per_store))
                    }
                    BuyerMailCap::License => (
                        "buyer_page.email_cap_license",
                        Some(m.license_id),
                        format!("{} key mails a day for this license", m.per_license),
                    ),
                };
                let told: bool = tx.query_row(
                    "SELECT EXISTS (SELECT 1 FROM audit_log WHERE action = ?1 AND at > ?2
                                    AND (?3 IS NULL OR license_id = ?3))",
                    params![action, since, license_id],
                    |r| r.get(0),
                )?;
                if !told {
                    let mut e = AuditEntry::new(
                        now,
                        AuditLevel::Warning,
                        action,
                        format!(
                            "The buyer page refused to send more mail: {what} were reached (last asked from {}).",
                            m.client
                        ),
                    );
                    e.license_id = license_id;
                    insert_audit(tx, &e)?;
                    if let (BuyerMailCap::Store, Some((to, kind, body))) = (cap, seller_notice) {
                        insert_message(tx, To::Mailbox(to), kind, body, None, now, &to_db(now))?;
                    }
                }
                return Ok(Err(cap));
            }
            if let Some((hash, expires)) = m.confirmation {
                Store::insert_confirmation(tx, hash, m.license_id, m.to, now, expires)?;
            }
            let id = insert_message(tx, To::Mailbox(m.to), m.email_kind, m.body, Some(m.license_id), now, &to_db(now))?;
            Store::note_buyer_mail(tx, m.license_id, m.kind, m.client, now)?;
            Ok(Ok(id))
        })
    }

    /// A confirmed address: kept on the license when the seller has none there (a buyer never
    /// replaces the seller's), and the key queued to it, in one transaction. Returns the
    /// address the key went to, or None for a link that is unknown, used or expired.
    pub fn confirm_buyer_address(&mut self, token_hash: &str, client: &str, now: Timestamp) -> Result<Option<String>> {
        self.write(|tx| {
            let Some(c) = Store::take_confirmation(tx, token_hash, now)? else { return Ok(None) };
            tx.prepare_cached("UPDATE licenses SET buyer_email = ?2 WHERE id = ?1 AND buyer_email IS NULL")?
                .execute(params![c.license_id, c.address])?;
            let to: String =
                tx.query_row("SELECT buyer_email FROM licenses WHERE id = ?1", [c.license_id], |r| r.get(0))?;
            let license =
                license_in(tx, c.license_id)?.ok_or_else(|| crate::Error::internal("The license vanished."))?;
            let body = events::body(EventType::LicenseCreated, now, &events::license_data(&license));
            insert_message(
                tx,
                To::Mailbox(&to),
                events::EMAIL_LICENSE_KEY,
                &body,
                Some(c.license_id),
                now,
                &to_db(now),
            )?;
            // Counted toward the day's caps (the link itself was issued within them).
            tx.prepare_cached("INSERT INTO buyer_mails (license_id, kind, at) VALUES (?1, ?2, ?3)")?
                .execute(params![c.license_id, BuyerMailKind::Key, to_db(now)])?;
            insert_audit(
                tx,
                &AuditEntry::new(
                    now,
                    AuditLevel::Info,
                    "buyer_page.email_confirmed",
                    format!("Buyer page: the buyer confirmed an address and was sent the key (from {client})."),
                )
                .license(c.license_id),
            )?;
            Ok(Some(to))
        })
    }

    /// Removes audit entries older than `before`; returns how many.
    pub fn prune_audit(&mut self, before: Timestamp) -> Result<usize> {
        Ok(self.conn.execute("DELETE FROM audit_log WHERE at < ?1", [to_db(before)])?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn now() -> Timestamp {
        chrono::Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0).unwrap()
    }

    #[test]
    fn retention_settings_prune_delivered_messages_and_old_audit_entries_only() {
        let mut s = Store::open_in_memory().unwrap();
        s.update_settings(&[("outbox_keep_days".into(), "10".into()), ("audit_keep_days".into(), "90".into())], now())
            .unwrap();
        let day = |d: i64| to_db(now() - chrono::Duration::days(d));
        for (i, (status, age)) in
            [("delivered", 11), ("delivered", 9), ("failed", 400), ("pending", 400)].iter().enumerate()
        {
            s.conn
                .execute(
                    "INSERT INTO outbox (message_id, channel, recipient, event_type, body, created_at, status, delivered_at)
                     VALUES (?1, 'email', 'a@b.example', 'email.test', '{}', ?2, ?3, ?4)",
                    params![format!("msg_{i}"), day(*age), status, (*status == "delivered").then(|| day(*age))],
                )
                .unwrap();
        }
        for age in [100, 91, 89, 1] {
            s.conn
                .execute(
                    "INSERT INTO audit_log (at, level, action, message) VALUES (?1, 'info', 'test.entry', 'x')",
                    [day(age)],
                )
                .unwrap();
        }
        assert_eq!(crate::outbox::prune(&mut s, now()).unwrap(), (1, 2));
        let left: Vec<String> = s
            .conn
            .prepare("SELECT status FROM outbox ORDER BY id")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(left, ["delivered", "failed", "pending"], "failed and waiting messages stay");
        let audit: u32 =
            s.conn.query_row("SELECT count(*) FROM audit_log WHERE action = 'test.entry'", [], |r| r.get(0)).unwrap();
        assert_eq!(audit, 2);
    }

    #[test]
    fn the_negative_cache_lasts_a_day_and_keeps_only_a_day() {
        let mut s = Store::open_in_memory().unwrap();
        s.remember_unknown_code("old", now() - chrono::Duration::hours(30)).unwrap();
        s.remember_unknown_code("new", now()).unwrap();
        assert!(s.code_known_unknown("new", now() + chrono::Duration::hours(23)).unwrap());
        assert!(!s.code_known_unknown("new", now() + chrono::Duration::hours(25)).unwrap());
        let rows: u32 = s.conn.query_row("SELECT count(*) FROM unknown_codes", [], |r| r.get(0)).unwrap();
        assert_eq!(rows, 1, "entries older than a day are removed as new ones come");
    }
}
