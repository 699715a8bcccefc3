//! The `webhook_endpoints`, `outbox` and `delivery_health` tables: events written in the same
//! transaction as the change they describe (`emit`), claimed by whichever process delivers
//! (`claim_due`, with a lease so two processes never send one message at once), and the
//! outcome of every attempt (`record_outcomes`: the retry schedule, 410 disabling, and the
//! once-per-destination warning).

use super::audit::{insert_audit, AuditEntry, AuditLevel};
use super::settings::settings_in;
use super::Store;
use crate::error::{Error, ErrorCode, Result};
use crate::events::{self, EventFilter, EventType};
use crate::time::{to_db, Timestamp};
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use ts_rs::TS;

crate::text_enum! {
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, TS)]
    pub enum Channel {
        Webhook = "webhook",
        Email = "email",
    }
}

crate::text_enum! {
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS, serde::Deserialize)]
    pub enum DeliveryStatus {
        Pending = "pending",
        Delivered = "delivered",
        Failed = "failed",
    }
}

/// The contract's retry schedule: after the first attempt fails, wait 5 s, 5 min, 30 min, 2 h,
/// 5 h, 10 h, 10 h; a message that fails all eight attempts is failed.
pub const RETRY_DELAYS_SECS: [i64; 7] = [5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 10 * 3600];

/// When a message that has now failed `attempts` times is tried again; None: it has failed.
pub fn next_attempt(attempts: u32, now: Timestamp) -> Option<Timestamp> {
    let i = (attempts as usize).checked_sub(1)?;
    RETRY_DELAYS_SECS.get(i).map(|s| now + chrono::Duration::seconds(*s))
}

/// A webhook endpoint as the seller sees it (its secret is never part of it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS, serde::Deserialize)]
pub struct WebhookEndpoint {
    #[ts(type = "number")]
    pub id: i64,
    pub url: String,
    /// Every event when true; else `events`.
    pub all_events: bool,
    pub events: Vec<EventType>,
    pub enabled: bool,
    /// Why it was disabled (a 410 Gone answer), when it was.
    pub disabled_reason: Option<String>,
    pub created_at: String,
    pub pending: u32,
    pub failed: u32,
    /// Since when its deliveries fail, and the last error (None while they succeed).
    pub failing_since: Option<String>,
    pub last_error: Option<String>,
    #[serde(skip)]
    #[ts(skip)]
    pub secret_version: i64,
}

/// One message in the outbox, as the delivery log shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS, serde::Deserialize)]
pub struct Delivery {
    pub message_id: String,
    pub channel: Channel,
    #[ts(type = "number | null")]
    pub endpoint_id: Option<i64>,
    /// The endpoint's URL or the mailbox.
    pub destination: String,
    pub event_type: String,
    pub status: DeliveryStatus,
    pub attempts: u32,
    pub last_status: Option<u16>,
    pub last_error: Option<String>,
    pub next_attempt_at: Option<String>,
    pub created_at: String,
    pub delivered_at: Option<String>,
}

/// Messages waiting and failed, and the destinations now failing: the dashboard's line.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, TS, serde::Deserialize)]
pub struct OutboxCounts {
    pub pending: u32,
    pub failed: u32,
    pub failing: Vec<FailingDestination>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS, serde::Deserialize)]
pub struct FailingDestination {
    /// `webhook:<id>` or `email`.
    pub destination: String,
    /// The endpoint's URL, or "e-mail".
    pub label: String,
    pub since: String,
    pub last_error: String,
}

/// A message claimed for sending: what a sender needs.
#[derive(Debug, Clone)]
pub struct DueMessage {
    pub id: i64,
    pub message_id: String,
    pub channel: Channel,
    pub endpoint_id: Option<i64>,
    pub url: Option<String>,
    pub secret_version: i64,
    pub recipient: Option<String>,
    pub event_type: String,
    pub body: String,
    pub attempts: u32,
}

/// What one attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Delivered {
        status: Option<u16>,
    },
    /// Retried on the schedule (or failed after the last attempt).
    Failed {
        status: Option<u16>,
        error: String,
    },
    /// `410 Gone`: the endpoint is disabled and the message failed.
    Gone,
}

/// Destinations that started failing (or were disabled) with these outcomes: told once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewlyFailing {
    pub label: String,
    pub error: String,
    pub disabled: bool,
}

/// `msg_` and 27 characters, the `webhook-id` of Standard Webhooks: like a KSUID, 8 characters of
/// time in milliseconds (so ids sort by creation and a burst of them lands at the end of the
/// unique index instead of all over it) and 19 from the OS CSPRNG.
pub fn new_message_id(now: Timestamp) -> Result<String> {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut id = String::with_capacity(31);
    id.push_str("msg_");
    let mut ms = now.timestamp_millis().max(0) as u64;
    let mut time = [b'0'; 8];
    for c in time.iter_mut().rev() {
        *c = ALPHABET[(ms % 62) as usize];
        ms /= 62;
    }
    id.extend(time.iter().map(|b| *b as char));
    let mut bytes = [0u8; 19];
    os_random(&mut bytes)?;
    // 62 does not divide 256; the bias (under 2%) is irrelevant for an identifier.
    id.extend(bytes.iter().map(|b| ALPHABET[(*b as usize) % 62] as char));
    Ok(id)
}

/// Bytes from the OS CSPRNG, read 4 KiB at a time: a sync draws an id for each of thousands of
/// messages, and one system call each was a tenth of what a message cost. Each byte is handed
/// out once (and the buffer is per thread); message ids are public, so holding unread random
/// bytes in memory gives nothing away.
fn os_random(out: &mut [u8]) -> Result<()> {
    use std::cell::RefCell;
    const CHUNK: usize = 4096;
    thread_local! {
        static POOL: RefCell<(Box<[u8; CHUNK]>, usize)> = RefCell::new((Box::new([0; CHUNK]), CHUNK));
    }
    POOL.with_borrow_mut(|(buf, used)| {
        if out.len() > CHUNK - *used {
            getrandom::fill(&mut buf[..])
                .map_err(|e| Error::internal(format!("The system's random source failed: {e}.")))?;
            *used = 0;
        }
        out.copy_from_slice(&buf[*used..*used + out.len()]);
        buf[*used..*used + out.len()].fill(0);
        *used += out.len();
        Ok(())
    })
}

/// Where a message goes.
#[derive(Clone, Copy)]
pub(crate) enum To<'a> {
    Endpoint(i64),
    Mailbox(&'a str),
}

pub(crate) fn insert_message(
    conn: &Connection,
    to: To<'_>,
    event_type: &str,
    body: &str,
    license_id: Option<i64>,
    now: Timestamp,
    at: &str,
) -> Result<String> {
    let id = new_message_id(now)?;
    let (channel, endpoint_id, recipient) = match to {
        To::Endpoint(e) => (Channel::Webhook, Some(e), None),
        To::Mailbox(m) => (Channel::Email, None, Some(m)),
    };
    conn.prepare_cached(
        "INSERT INTO outbox (message_id, channel, endpoint_id, recipient, event_type, body, license_id, created_at, status, next_attempt_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'pending', ?8)",
    )?
    .execute(params![id, channel, endpoint_id, recipient, event_type, body, license_id, at])?;
    Ok(id)
}

/// Writes the event `kind` to the outbox for every enabled endpoint that wants it, and, for a
/// lifecycle event of a license with a buyer e-mail (`mail_to`) while `notify_buyers` is on, an
/// e-mail to the buyer. Called inside the transaction of the change itself. `data` is built
/// only when someone listens, so events cost nothing without endpoints.
pub(crate) fn emit<D: serde::Serialize>(
    conn: &Connection,
    now: Timestamp,
    kind: EventType,
    license_id: Option<i64>,
    mail_to: Option<&str>,
    data: impl FnOnce(&Connection) -> Result<D>,
) -> Result<()> {
    let mut endpoints = Vec::new();
    {
        let mut stmt = conn.prepare_cached("SELECT id, events FROM webhook_endpoints WHERE enabled = 1")?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            // A stored list this version cannot read (a newer one wrote it) means every event.
            let events = r.get_ref(1)?.as_str().unwrap_or("*");
            if EventFilter::parse(events).unwrap_or(EventFilter::All).wants(kind) {
                endpoints.push(r.get(0)?);
            }
        }
    }
    let mail_to = match mail_to {
        Some(to) if kind.is_lifecycle() && settings_in(conn)?.notify_buyers => Some(to),
        _ => None,
    };
    if endpoints.is_empty() && mail_to.is_none() {
        return Ok(());
    }
    let at = to_db(now);
    let body = events::body_at(kind, &at, &data(conn)?);
    for endpoint in endpoints {
        insert_message(conn, To::Endpoint(endpoint), kind.as_str(), &body, license_id, now, &at)?;
    }
    if let Some(to) = mail_to {
        insert_message(conn, To::Mailbox(to), kind.as_str(), &body, license_id, now, &at)?;
    }
    Ok(())
}

fn endpoint_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<WebhookEndpoint> {
    let events: String = r.get(2)?;
    let filter = EventFilter::parse(&events).unwrap_or(EventFilter::All);
    Ok(WebhookEndpoint {
        id: r.get(0)?,
        url: r.get(1)?,
        all_events: filter == EventFilter::All,
        events: filter.types(),
        enabled: r.get(3)?,
        disabled_reason: r.get(4)?,
        created_at: r.get(5)?,
        secret_version: r.get(6)?,
        pending: r.get(7)?,
        failed: r.get(8)?,
        failing_since: r.get(9)?,
        last_error: r.get(10)?,
    })
}

const ENDPOINT_SELECT: &str = "SELECT e.id, e.url, e.events, e.enabled, e.disabled_why, e.created_at, e.secret_version,
        (SELECT count(*) FROM outbox o WHERE o.endpoint_id = e.id AND o.status = 'pending'),
        (SELECT count(*) FROM outbox o WHERE o.endpoint_id = e.id AND o.status = 'failed'),
        h.failing_since, h.last_error
     FROM webhook_endpoints e LEFT JOIN delivery_health h ON h.destination = 'webhook:' || e.id";

const DELIVERY_SELECT: &str =
    "SELECT o.message_id, o.channel, o.endpoint_id, coalesce(e.url, o.recipient, ''), o.event_type, o.status, o.attempts,
            o.last_status, o.last_error, o.next_attempt_at, o.created_at, o.delivered_at
     FROM outbox o LEFT JOIN webhook_endpoints e ON e.id = o.endpoint_id";

fn delivery_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Delivery> {
    Ok(Delivery {
        message_id: r.get(0)?,
        channel: r.get(1)?,
        endpoint_id: r.get(2)?,
        destination: r.get(3)?,
        event_type: r.get(4)?,
        status: r.get(5)?,
        attempts: r.get(6)?,
        last_status: r.get(7)?,
        last_error: r.get(8)?,
        next_attempt_at: r.get(9)?,
        created_at: r.get(10)?,
        delivered_at: r.get(11)?,
    })
}

fn message_not_found(message_id: &str) -> Error {
    Error::new(
        ErrorCode::OutboxMessageNotFound,
        format!("There is no message {} in the outbox.", message_id.trim().chars().take(40).collect::<String>()),
    )
}

fn endpoint_not_found(id: i64) -> Error {
    Error::new(ErrorCode::WebhookNotFound, format!("There is no webhook endpoint with ID {id}."))
}

fn destination_of(channel: Channel, endpoint_id: Option<i64>) -> String {
    match (channel, endpoint_id) {
        (Channel::Webhook, Some(id)) => format!("webhook:{id}"),
        _ => "email".to_string(),
    }
}

impl Store {
    pub fn webhook_endpoints(&self) -> Result<Vec<WebhookEndpoint>> {
        let mut stmt = self.conn.prepare_cached(&format!("{ENDPOINT_SELECT} ORDER BY e.id"))?;
        let rows = stmt.query_map([], endpoint_row)?.collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    pub fn webhook_endpoint(&self, id: i64) -> Result<WebhookEndpoint> {
        self.conn
            .prepare_cached(&format!("{ENDPOINT_SELECT} WHERE e.id = ?1"))?
            .query_row([id], endpoint_row)
            .optional()?
            .ok_or_else(|| endpoint_not_found(id))
    }

    /// Adds an endpoint (its URL already checked by the caller); its secret is stored by the caller.
    pub fn add_webhook_endpoint(&mut self, url: &str, filter: &EventFilter, now: Timestamp) -> Result<WebhookEndpoint> {
        let id = self.write(|tx| {
            tx.execute(
                "INSERT INTO webhook_endpoints (url, events, created_at) VALUES (?1, ?2, ?3)",
                params![url, filter.to_stored(), to_db(now)],
            )?;
            let id = tx.last_insert_rowid();
            insert_audit(
                tx,
                &AuditEntry::new(now, AuditLevel::Info, "webhook.added", format!("Webhook endpoint {url} added.")),
            )?;
            Ok(id)
        })?;
        self.webhook_endpoint(id)
    }

    /// Removes an endpoint and its messages.
    pub fn remove_webhook_endpoint(&mut self, id: i64, now: Timestamp) -> Result<()> {
        self.write(|tx| {
            let url: String = tx
                .query_row("SELECT url FROM webhook_endpoints WHERE id = ?1", [id], |r| r.get(0))
                .optional()?
                .ok_or_else(|| endpoint_not_found(id))?;
            tx.execute("DELETE FROM outbox WHERE endpoint_id = ?1", [id])?;
            tx.execute("DELETE FROM delivery_health WHERE destination = ?1", [format!("webhook:{id}")])?;
            tx.execute("DELETE FROM webhook_endpoints WHERE id = ?1", [id])?;
            insert_audit(
                tx,
                &AuditEntry::new(now, AuditLevel::Info, "webhook.removed", format!("Webhook endpoint {url} removed.")),
            )?;
            Ok(())
        })
    }

    /// Changes the events an endpoint receives, and enables or disables it (re-enabling a
    /// disabled endpoint resumes its waiting messages).
    pub fn update_webhook_endpoint(
        &mut self,
        id: i64,
        filter: Option<&EventFilter>,
        enabled: Option<bool>,
        now: Timestamp,
    ) -> Result<WebhookEndpoint> {
        self.write(|tx| {
            let n = tx.execute(
                "UPDATE webhook_endpoints SET events = coalesce(?2, events), enabled = coalesce(?3, enabled),
                    disabled_at = CASE WHEN ?3 = 1 THEN NULL WHEN ?3 = 0 THEN ?4 ELSE disabled_at END,
                    disabled_why = CASE WHEN ?3 = 1 THEN NULL WHEN ?3 = 0 THEN 'Disabled by the seller.' ELSE disabled_why END
                 WHERE id = ?1",
                params![id, filter.map(EventFilter::to_stored), enabled, to_db(now)],
            )?;
            if n == 0 {
                return Err(endpoint_not_found(id));
            }
            Ok(())
        })?;
        self.webhook_endpoint(id)
    }

    /// Records that the endpoint's secret was replaced (senders drop the one they cached).
    pub fn bump_webhook_secret(&mut self, id: i64, now: Timestamp) -> Result<()> {
        self.write(|tx| {
            let n =
                tx.execute("UPDATE webhook_endpoints SET secret_version = secret_version + 1 WHERE id = ?1", [id])?;
            if n == 0 {
                return Err(endpoint_not_found(id));
            }
            insert_audit(
                tx,
                &AuditEntry::new(
                    now,
                    AuditLevel::Info,
                    "webhook.secret_rotated",
                    format!("Secret of webhook endpoint {id} rotated."),
                ),
            )?;
            Ok(())
        })
    }

    /// Queues a `webhook.test` message for one endpoint (enabled or not: the seller asked).
    pub fn queue_webhook_test(&mut self, id: i64, now: Timestamp) -> Result<String> {
        self.write(|tx| {
            let exists: bool =
                tx.query_row("SELECT EXISTS (SELECT 1 FROM webhook_endpoints WHERE id = ?1)", [id], |r| r.get(0))?;
            if !exists {
                return Err(endpoint_not_found(id));
            }
            let body = events::body(EventType::WebhookTest, now, &serde_json::json!({}));
            insert_message(tx, To::Endpoint(id), EventType::WebhookTest.as_str(), &body, None, now, &to_db(now))
        })
    }

    /// Queues an e-mail (`events::EMAIL_*` kinds, or a lifecycle notice) to `to`.
    pub fn queue_email(
        &mut self,
        to: &str,
        kind: &str,
        body: &str,
        license_id: Option<i64>,
        now: Timestamp,
    ) -> Result<String> {
        self.write(|tx| insert_message(tx, To::Mailbox(to), kind, body, license_id, now, &to_db(now)))
    }

    /// Writes an event that belongs to no other change (`sync.failed`) in its own transaction.
    pub fn emit_event(&mut self, kind: EventType, data: serde_json::Value, now: Timestamp) -> Result<()> {
        self.write(|tx| emit(tx, now, kind, None, None, |_| Ok(data)))
    }

    /// Takes up to `limit` messages that are due, holding them for `lease` so no other process
    /// sends them meanwhile. Messages of a disabled endpoint wait.
    pub fn claim_due(&mut self, now: Timestamp, limit: u32, lease: chrono::Duration) -> Result<Vec<DueMessage>> {
        self.write(|tx| {
            let at = to_db(now);
            let rows: Vec<DueMessage> = tx
                .prepare_cached(
                    "SELECT o.id, o.message_id, o.channel, o.endpoint_id, e.url, coalesce(e.secret_version, 0), o.recipient,
                            o.event_type, o.body, o.attempts
                     FROM outbox o LEFT JOIN webhook_endpoints e ON e.id = o.endpoint_id
                     WHERE o.status = 'pending' AND o.next_attempt_at <= ?1 AND (o.lease_until IS NULL OR o.lease_until <= ?1)
                       AND (o.channel = 'email' OR e.enabled = 1 OR o.event_type = 'webhook.test')
                     ORDER BY o.next_attempt_at, o.id LIMIT ?2",
                )?
                .query_map(params![at, limit], |r| {
                    Ok(DueMessage {
                        id: r.get(0)?,
                        message_id: r.get(1)?,
                        channel: r.get(2)?,
                        endpoint_id: r.get(3)?,
                        url: r.get(4)?,
                        secret_version: r.get(5)?,
                        recipient: r.get(6)?,
                        event_type: r.get(7)?,
                        body: r.get(8)?,
                        attempts: r.get(9)?,
                    })
                })?
                .collect::<rusqlite::Result<_>>()?;
            let until = to_db(now + lease);
            let mut hold = tx.prepare_cached("UPDATE outbox SET lease_until = ?2 WHERE id = ?1")?;
            for m in &rows {
                hold.execute(params![m.id, until])?;
            }
            Ok(rows)
        })
    }

    /// Records what each attempt came to, in one transaction. Returns the destinations that
    /// started failing (or were disabled) with these outcomes, for a one-time notice.
    pub fn record_outcomes(&mut self, outcomes: &[(DueMessage, Outcome)], now: Timestamp) -> Result<Vec<NewlyFailing>> {
        self.write(|tx| {
            let at = to_db(now);
            let mut newly = Vec::new();
            for (m, outcome) in outcomes {
                let attempts = m.attempts + 1;
                let destination = destination_of(m.channel, m.endpoint_id);
                let label = m.url.clone().unwrap_or_else(|| "e-mail".to_string());
                let (error, disabled) = match outcome {
                    Outcome::Delivered { status } => {
                        tx.prepare_cached(
                            "UPDATE outbox SET status = 'delivered', attempts = ?2, last_attempt_at = ?3, last_status = ?4,
                                last_error = NULL, delivered_at = ?3, next_attempt_at = NULL, lease_until = NULL WHERE id = ?1",
                        )?
                        .execute(params![m.id, attempts, at, status])?;
                        tx.prepare_cached("DELETE FROM delivery_health WHERE destination = ?1")?.execute([&destination])?;
                        continue;
                    }
                    Outcome::Failed { status, error } => {
                        let next = next_attempt(attempts, now);
                        tx.prepare_cached(
                            "UPDATE outbox SET status = ?2, attempts = ?3, last_attempt_at = ?4, last_status = ?5, last_error = ?6,
                                next_attempt_at = ?7, lease_until = NULL WHERE id = ?1",
                        )?
                        .execute(params![
                            m.id,
                            if next.is_some() { DeliveryStatus::Pending } else { DeliveryStatus::Failed },
                            attempts,
                            at,
                            status,
                            error,
                            next.map(to_db)
                        ])?;
                        (error.clone(), false)
                    }
                    Outcome::Gone => {
                        let error = "The endpoint answered 410 Gone; it was disabled.".to_string();
                        tx.prepare_cached(
                            "UPDATE outbox SET status = 'failed', attempts = ?2, last_attempt_at = ?3, last_status = 410,
                                last_error = ?4, next_attempt_at = NULL, lease_until = NULL WHERE id = ?1",
                        )?
                        .execute(params![m.id, attempts, at, error])?;
                        let n = tx.execute(
                            "UPDATE webhook_endpoints SET enabled = 0, disabled_at = ?2, disabled_why = ?3 WHERE id = ?1 AND enabled = 1",
                            params![m.endpoint_id, at, "It answered 410 Gone."],
                        )?;
                        if n == 1 {
                            insert_audit(
                                tx,
                                &AuditEntry::new(now, AuditLevel::Warning, "webhook.disabled", format!("Webhook endpoint {label} answered 410 Gone and was disabled.")),
                            )?;
                            newly.push(NewlyFailing { label: label.clone(), error: error.clone(), disabled: true });
                        }
                        (error, true)
                    }
                };
                let was_failing: bool = tx
                    .prepare_cached("SELECT EXISTS (SELECT 1 FROM delivery_health WHERE destination = ?1)")?
                    .query_row([&destination], |r| r.get(0))?;
                tx.prepare_cached(
                    "INSERT INTO delivery_health (destination, failing_since, last_error) VALUES (?1, ?2, ?3)
                     ON CONFLICT (destination) DO UPDATE SET last_error = excluded.last_error",
                )?
                .execute(params![destination, at, error])?;
                if !was_failing && !disabled && !newly.iter().any(|n| n.label == label) {
                    let what = if m.channel == Channel::Email { "E-mail delivery" } else { "Webhook delivery to" };
                    let whom = if m.channel == Channel::Email { String::new() } else { format!(" {label}") };
                    insert_audit(
                        tx,
                        &AuditEntry::new(now, AuditLevel::Warning, "delivery.failing", format!("{what}{whom} is failing: {error} Messages are kept and retried.")),
                    )?;
                    newly.push(NewlyFailing { label, error, disabled: false });
                }
            }
            Ok(newly)
        })
    }

    /// The delivery log, newest first; `endpoint` narrows it to one endpoint.
    pub fn deliveries(&self, endpoint: Option<i64>, channel: Option<Channel>, limit: u32) -> Result<Vec<Delivery>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "{DELIVERY_SELECT} WHERE (?1 IS NULL OR o.endpoint_id = ?1) AND (?2 IS NULL OR o.channel = ?2)
             ORDER BY o.id DESC LIMIT ?3"
        ))?;
        let rows = stmt
            .query_map(params![endpoint, channel, limit.clamp(1, 1000)], delivery_row)?
            .collect::<rusqlite::Result<_>>()?;
        Ok(rows)
    }

    /// One message of the log; `outbox.message_not_found` when there is none.
    pub fn delivery(&self, message_id: &str) -> Result<Delivery> {
        self.conn
            .prepare_cached(&format!("{DELIVERY_SELECT} WHERE o.message_id = ?1"))?
            .query_row([message_id.trim()], delivery_row)
            .optional()?
            .ok_or_else(|| message_not_found(message_id))
    }

    /// Sends a message again with the same `webhook-id` (a receiver that already has it keeps one):
    /// it is due now, with a fresh set of attempts.
    pub fn replay_message(&mut self, message_id: &str, now: Timestamp) -> Result<Delivery> {
        self.write(|tx| {
            let n = tx.execute(
                "UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = ?2, lease_until = NULL WHERE message_id = ?1",
                params![message_id.trim(), to_db(now)],
            )?;
            if n == 0 {
                return Err(message_not_found(message_id));
            }
            Ok(())
        })?;
        self.delivery(message_id)
    }

    /// Messages waiting and failed, and failing destinations.
    pub fn outbox_counts(&self) -> Result<OutboxCounts> {
        let (pending, failed): (u32, u32) = self.conn.query_row(
            "SELECT count(*) FILTER (WHERE status = 'pending'), count(*) FILTER (WHERE status = 'failed') FROM outbox",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let mut stmt = self.conn.prepare_cached(
            "SELECT h.destination, coalesce(e.url, 'e-mail'), h.failing_since, h.last_error
             FROM delivery_health h LEFT JOIN webhook_endpoints e ON h.destination = 'webhook:' || e.id ORDER BY h.failing_since",
        )?;
        let failing = stmt
            .query_map([], |r| {
                Ok(FailingDestination {
                    destination: r.get(0)?,
                    label: r.get(1)?,
                    since: r.get(2)?,
                    last_error: r.get(3)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(OutboxCounts { pending, failed, failing })
    }

    /// Forgets messages delivered before `before` (the log keeps the last weeks, not every
    /// message ever sent). Failed and waiting messages stay until the seller acts.
    pub fn prune_delivered(&mut self, before: Timestamp) -> Result<usize> {
        let n = self
            .conn
            .execute("DELETE FROM outbox WHERE status = 'delivered' AND delivered_at < ?1", [to_db(before)])?;
        Ok(n)
    }

    /// When the next pending message is due (None: nothing waits), for the deliverer's sleep.
    pub fn next_due(&self) -> Result<Option<Timestamp>> {
        let at: Option<String> = self.conn.query_row(
            "SELECT min(max(next_attempt_at, coalesce(lease_until, ''))) FROM outbox WHERE status = 'pending'",
            [],
            |r| r.get(0),
        )?;
        at.map(|t| {
            crate::time::parse(&t).ok_or_else(|| Error::new(ErrorCode::StoreCorrupt, "An outbox time is unreadable."))
        })
        .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::parse;

    #[test]
    fn message_ids_are_distinct_across_buffer_refills_and_threads() {
        let t = parse("2026-12-01T00:00:00Z").unwrap();
        // 19 random bytes an id: 1,000 ids a thread go through the 4 KiB buffer several times.
        let threads: Vec<_> = (0..4)
            .map(|_| std::thread::spawn(move || (0..1_000).map(|_| new_message_id(t).unwrap()).collect::<Vec<_>>()))
            .collect();
        let ids: Vec<String> = threads.into_iter().flat_map(|h| h.join().unwrap()).collect();
        let distinct: std::collections::HashSet<&String> = ids.iter().collect();
        assert_eq!(distinct.len(), 4_000);
        let prefix = &ids[0][..12];
        for id in &ids {
            assert_eq!(id.len(), 31, "msg_ and 27 characters: {id}");
            assert!(id.starts_with(prefix), "the same millisecond, the same time part");
            assert!(id[4..].bytes().all(|b| b.is_ascii_alphanumeric()));
        }
        // The random part is not a short cycle: its first characters vary.
        let heads: std::collections::HashSet<&str> = ids.iter().map(|id| &id[12..15]).collect();
        assert!(heads.len() > 3_500, "{} distinct", heads.len());
    }

    #[test]
    fn the_retry_schedule_is_the_contracts() {
        let t = parse("2026-12-01T00:00:00Z").unwrap();
        let waits: Vec<i64> = (1..=7).map(|n| (next_attempt(n, t).unwrap() - t).num_seconds()).collect();
        assert_eq!(waits, [5, 300, 1800, 7200, 18000, 36000, 36000]);
        assert_eq!(next_attempt(8, t), None, "eight attempts, then failed");
    }

    #[test]
    fn no_endpoint_no_message_and_a_claimed_message_is_held() {
        let t = parse("2026-12-01T00:00:00Z").unwrap();
        let mut s = Store::open_in_memory().unwrap();
        s.emit_event(EventType::SyncFailed, serde_json::json!({}), t).unwrap();
        assert!(s.deliveries(None, None, 10).unwrap().is_empty(), "nobody listens: nothing written");
        let e = s.add_webhook_endpoint("https://x.example/h", &EventFilter::All, t).unwrap();
        s.emit_event(EventType::SyncFailed, serde_json::json!({"code": "x"}), t).unwrap();
        let due = s.claim_due(t, 10, chrono::Duration::seconds(600)).unwrap();
        assert_eq!(due.len(), 1);
        assert_eq!(due[0].endpoint_id, Some(e.id));
        assert!(s.claim_due(t, 10, chrono::Duration::seconds(600)).unwrap().is_empty(), "held by its lease");
        let later = t + chrono::Duration::seconds(601);
        assert_eq!(s.claim_due(later, 10, chrono::Duration::seconds(600)).unwrap().len(), 1, "due again after a crash");
        let newly = s
            .record_outcomes(&[(due[0].clone(), Outcome::Failed { status: Some(500), error: "HTTP 500".into() })], t)
            .unwrap();
        assert_eq!(newly.len(), 1, "told once when it starts failing");
        let d = &s.deliveries(None, None, 10).unwrap()[0];
        assert_eq!((d.status, d.attempts), (DeliveryStatus::Pending, 1));
        assert_eq!(d.next_attempt_at.as_deref(), Some("2026-12-01T00:00:05Z"));
        assert_eq!(s.outbox_counts().unwrap().failing.len(), 1);
    }
}
