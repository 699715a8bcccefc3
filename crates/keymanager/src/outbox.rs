//! Delivery of the outbox: whichever KeyManager process runs (the app, `keymanager serve`, a CLI
//! command before it exits, `keymanager outbox run`) claims what is due, sends it, and records
//! each outcome. Webhooks go out signed per Standard Webhooks v1 (15 s, no redirects, 2xx is
//! success, 410 disables); e-mail goes through SMTP. Nothing here blocks a sync, a lookup or the
//! UI: the store work runs on the blocking pool and sending is async.
//!
//! A crash between sending and recording leaves the message leased; when the lease ends it is
//! sent again with the same `webhook-id`, which the receiver dedupes. A message is never lost.

use crate::email::{self, SmtpConfig};
use crate::error::{Error, ErrorCode, Result};
use crate::secrets::{webhook_secret_name, Secrets, SMTP_PASSWORD};
use crate::store::SharedStore;
use crate::store::{Channel, DueMessage, NewlyFailing, Outcome};
use crate::time::Clock;
use crate::time::Timestamp;
use crate::webhooks;
use futures_util::stream::{self, StreamExt};
use serde::Serialize;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;
use zeroize::Zeroizing;

/// Messages claimed at once, and sent at once.
const BATCH: u32 = 200;
const IN_FLIGHT: usize = 32;
/// How long a claimed message is held: longer than a batch can take at 15 s per attempt.
const LEASE_SECS: i64 = 600;
pub const TIMEOUT: Duration = Duration::from_secs(15);

/// What the seller's retention settings let go: delivered messages older than
/// `outbox_keep_days` and audit entries older than `audit_keep_days`. Failed and waiting
/// messages stay until the seller acts. Returns (messages, audit entries) removed.
pub fn prune(store: &mut crate::Store, now: crate::time::Timestamp) -> crate::Result<(usize, usize)> {
    let settings = store.settings()?;
    let messages = store.prune_delivered(now - chrono::Duration::days(settings.outbox_keep_days as i64))?;
    let audit = store.prune_audit(now - chrono::Duration::days(settings.audit_keep_days as i64))?;
    Ok((messages, audit))
}

/// What one delivery pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DeliveryReport {
    pub delivered: u32,
    /// Failed this time, to be retried on the schedule.
    pub retrying: u32,
    /// Failed for good (all attempts used, or 410 Gone).
    pub failed: u32,
    pub newly_failing: Vec<NewlyFailing>,
}

impl DeliveryReport {
    fn add(&mut self, other: DeliveryReport) {
        self.delivered += other.delivered;
        self.retrying += other.retrying;
        self.failed += other.failed;
        self.newly_failing.extend(other.newly_failing);
    }
}

pub struct Deliverer {
    store: SharedStore,
    secrets: Secrets,
    http: reqwest::Client,
    clock: Clock,
    /// Endpoint id → (secret version, secret): the keychain is asked once per version.
    cache: Mutex<HashMap<i64, CachedSecret>>,
}

/// (secret version, secret).
type CachedSecret = (i64, Arc<Zeroizing<String>>);

fn http_client() -> Result<reqwest::Client> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        // Names resolve to public addresses only (or this machine for `localhost`).
        .dns_resolver(Arc::new(crate::webhooks::PublicOnly))
        .timeout(TIMEOUT)
        .connect_timeout(Duration::from_secs(10))
        .user_agent(format!("KeyManager/{} (webhooks)", crate::VERSION))
        .build()
        .map_err(|e| Error::internal(format!("Cannot set up the webhook client: {e}.")))
}

impl Deliverer {
    pub fn new(store: SharedStore, secrets: Secrets, clock: Clock) -> Result<Deliverer> {
        Ok(Deliverer { store, secrets, http: http_client()?, clock, cache: Mutex::default() })
    }

    async fn secret(&self, m: &DueMessage) -> Result<Arc<Zeroizing<String>>> {
        let id = m.endpoint_id.ok_or_else(|| Error::internal("A webhook message without an endpoint."))?;
        if let Some((v, s)) = self.cache.lock().unwrap_or_else(|p| p.into_inner()).get(&id) {
            if *v == m.secret_version {
                return Ok(s.clone());
            }
        }
        let secrets = self.secrets.clone();
        let secret = tokio::task::spawn_blocking(move || secrets.load(&webhook_secret_name(id)))
            .await
            .map_err(|e| Error::internal(format!("A background task failed: {e}.")))??
            .ok_or_else(|| {
                Error::new(
                    ErrorCode::WebhookNotFound,
                    "This endpoint's secret is missing from the keychain; rotate it.",
                )
            })?;
        let secret = Arc::new(secret);
        self.cache.lock().unwrap_or_else(|p| p.into_inner()).insert(id, (m.secret_version, secret.clone()));
        Ok(secret)
    }

    async fn send_webhook(&self, m: &DueMessage) -> Outcome {
        let secret = match self.secret(m).await {
            Ok(s) => s,
            Err(e) => return Outcome::Failed { status: None, error: e.message },
        };
        let url = m.url.clone().unwrap_or_default();
        let ts = (self.clock)().timestamp();
        let signature = match webhooks::sign(&secret, &m.message_id, ts, &m.body) {
            Ok(s) => s,
            Err(e) => return Outcome::Failed { status: None, error: e.message },
        };
        let sent = self
            .http
            .post(&url)
            .header("content-type", "application/json")
            .header("webhook-id", &m.message_id)
            .header("webhook-timestamp", ts.to_string())
            .header("webhook-signature", signature)
            .body(m.body.clone())
            .send()
            .await;
        match sent {
            Ok(r) if r.status().is_success() => Outcome::Delivered { status: Some(r.status().as_u16()) },
            Ok(r) if r.status() == reqwest::StatusCode::GONE => Outcome::Gone,
            Ok(r) => {
                let status = r.status();
                let why = if status.is_redirection() { " (redirects are not followed)" } else { "" };
                Outcome::Failed {
                    status: Some(status.as_u16()),
                    error: format!("The endpoint answered HTTP {status}{why}."),
                }
            }
            Err(e) if e.is_timeout() => {
                Outcome::Failed { status: None, error: "The endpoint did not answer within 15 seconds.".into() }
            }
            Err(e) => {
                Outcome::Failed { status: None, error: format!("Cannot reach the endpoint: {}.", e.without_url()) }
            }
        }
    }

    async fn send_email(
        &self,
        m: &DueMessage,
        smtp: &std::result::Result<SmtpConfig, Error>,
        password: Option<&str>,
    ) -> Outcome {
        let failed = |e: Error| Outcome::Failed { status: None, error: e.message };
        let cfg = match smtp {
            Ok(c) => c,
            Err(e) => return failed(e.clone()),
        };
        let Some(to) = &m.recipient else { return failed(Error::internal("An e-mail without a recipient.")) };
        let mail = match email::render(cfg, &m.event_type, &m.body) {
            Ok(mail) => mail,
            Err(e) => return failed(e),
        };
        match email::send(cfg, password, to, &mail).await {
            Ok(()) => Outcome::Delivered { status: None },
            Err(e) => failed(e),
        }
    }

    /// One batch: claims what is due, sends it, records the outcomes. None: nothing was due.
    async fn batch(&self) -> Result<Option<DeliveryReport>> {
        let now = (self.clock)();
        let due = self.store.run(move |s| s.claim_due(now, BATCH, chrono::Duration::seconds(LEASE_SECS))).await?;
        if due.is_empty() {
            return Ok(None);
        }
        let needs_mail = due.iter().any(|m| m.channel == Channel::Email);
        let (smtp, password) = if needs_mail {
            let settings = self.store.read(|s| s.settings()).await?;
            let secrets = self.secrets.clone();
            let password = tokio::task::spawn_blocking(move || secrets.load(SMTP_PASSWORD))
                .await
                .map_err(|e| Error::internal(format!("A background task failed: {e}.")))?;
            (SmtpConfig::from_settings(&settings), password)
        } else {
            (Err(Error::internal("unused")), Ok(None))
        };
        let password = match password {
            Ok(p) => p,
            Err(e) => {
                return self
                    .record(
                        due.into_iter()
                            .map(|m| (m, Outcome::Failed { status: None, error: e.message.clone() }))
                            .collect(),
                    )
                    .await
                    .map(Some)
            }
        };
        let outcomes: Vec<(DueMessage, Outcome)> = stream::iter(due)
            .map(|m| {
                let smtp = &smtp;
                let password = password.as_deref().map(|p| p.as_str());
                async move {
                    let outcome = match m.channel {
                        Channel::Webhook => self.send_webhook(&m).await,
                        Channel::Email => self.send_email(&m, smtp, password).await,
                    };
                    (m, outcome)
                }
            })
            .buffer_unordered(IN_FLIGHT)
            .collect()
            .await;
        self.record(outcomes).await.map(Some)
    }

    async fn record(&self, outcomes: Vec<(DueMessage, Outcome)>) -> Result<DeliveryReport> {
        let now = (self.clock)();
        let mut report = DeliveryReport::default();
        for (m, o) in &outcomes {
            match o {
                Outcome::Delivered { .. } => report.delivered += 1,
                Outcome::Gone => report.failed += 1,
                Outcome::Failed { .. } if crate::store::next_attempt(m.attempts + 1, now).is_some() => {
                    report.retrying += 1
                }
                Outcome::Failed { .. } => report.failed += 1,
            }
        }
        report.newly_failing = self.store.run(move |s| s.record_outcomes(&outcomes, now)).await?;
        Ok(report)
    }

    /// Delivers everything that is due, batch after batch, until nothing is due or `budget`
    /// (when given) has passed.
    pub async fn run_due(&self, budget: Option<Duration>) -> Result<DeliveryReport> {
        let started = tokio::time::Instant::now();
        let mut report = DeliveryReport::default();
        // Idle most of the time: ask a reader first, so an empty outbox never takes the write lock.
        let now = (self.clock)();
        if !self.store.read(move |s| Ok(s.next_due()?.is_some_and(|t| t <= now))).await? {
            return Ok(report);
        }
        while let Some(r) = self.batch().await? {
            report.add(r);
            if budget.is_some_and(|b| started.elapsed() >= b) {
                break;
            }
        }
        Ok(report)
    }
}

impl Deliverer {
    /// Delivers what is due now (at most 20 s) and answers with `message_id`'s row: Test,
    /// "E-mail key to buyer" and replay show their outcome at once.
    /// The outbox worker, woken by the same commit, may have claimed the message first: then
    /// this waits for its first attempt to be recorded (at most 20 s), so the answer is the
    /// attempt's outcome, not "waiting".
    pub async fn deliver_now(&self, message_id: &str) -> Result<crate::store::Delivery> {
        let started = tokio::time::Instant::now();
        let budget = Duration::from_secs(20);
        loop {
            self.run_due(Some(budget)).await?;
            let id = message_id.to_string();
            let row = self.store.read(move |s| s.delivery(&id)).await?;
            let attempted = row.status != crate::store::DeliveryStatus::Pending || row.attempts > 0;
            if attempted || started.elapsed() >= budget {
                return Ok(row);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// What the app and `serve` show of the outbox.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct OutboxStatus {
    pub last: Option<DeliveryReport>,
    /// Destinations that started failing in the last pass (the app notifies once for each).
    pub newly_failing: Vec<NewlyFailing>,
}

/// The background delivery loop: a pass when something is due (the database says when), at
/// least every `poll`, and at once when a commit queued a message. It ends as soon as every
/// handle is gone (a pass under way finishes first), whoever still follows its status.
#[derive(Clone)]
pub struct OutboxWorker {
    /// Shared by the handles: when the last is dropped, the loop ends.
    _stop: Arc<tokio::sync::oneshot::Sender<()>>,
    status: watch::Receiver<OutboxStatus>,
}

impl OutboxWorker {
    pub fn spawn(deliverer: Arc<Deliverer>, poll: Duration) -> OutboxWorker {
        let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
        let (tx, status) = watch::channel(OutboxStatus::default());
        // Every commit that queued a message wakes the worker (an activation over HTTP, a freed
        // slot, a product change): no caller has to remember to.
        let mut changed = deliverer.store.changes();
        tokio::spawn(async move {
            let mut pruned_at: Option<tokio::time::Instant> = None;
            loop {
                if pruned_at.is_none_or(|t| t.elapsed() > Duration::from_secs(3600)) {
                    pruned_at = Some(tokio::time::Instant::now());
                    let now = (deliverer.clock)();
                    if let Err(e) = deliverer.store.run(move |s| prune(s, now)).await {
                        tracing::warn!(code = %e.code, "outbox pruning failed: {}", e.message);
                    }
                }
                match deliverer.run_due(Some(Duration::from_secs(60))).await {
                    Ok(report) => {
                        if report != DeliveryReport::default() || !tx.borrow().newly_failing.is_empty() {
                            let newly = report.newly_failing.clone();
                            tx.send_replace(OutboxStatus { last: Some(report), newly_failing: newly });
                        }
                    }
                    Err(e) => tracing::warn!(code = %e.code, "outbox delivery could not run: {}", e.message),
                }
                let now = (deliverer.clock)();
                let next = deliverer.store.read(|s| s.next_due()).await.ok().flatten();
                let wait = match next {
                    Some(at) if at <= now => Duration::from_millis(200),
                    Some(at) => (at - now).to_std().unwrap_or(poll).min(poll),
                    None => poll,
                };
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    _ = outbox_written(&mut changed) => {}
                    _ = &mut stopped => break,
                }
            }
        });
        OutboxWorker { _stop: Arc::new(stop), status }
    }

    pub fn subscribe(&self) -> watch::Receiver<OutboxStatus> {
        self.status.clone()
    }
}

/// Returns once a commit wrote to the outbox (or listening fell behind: deliver to be sure);
/// never, once the store is gone.
async fn outbox_written(changed: &mut tokio::sync::broadcast::Receiver<crate::store::Changed>) {
    use tokio::sync::broadcast::error::RecvError;
    loop {
        match changed.recv().await {
            Ok(tables) if tables.iter().any(|t| t == "outbox") => return,
            Ok(_) => {}
            Err(RecvError::Lagged(_)) => return,
            Err(RecvError::Closed) => std::future::pending::<()>().await,
        }
    }
}

/// When now is, for code that has a `Timestamp` rather than a clock (tests).
pub fn fixed_clock(at: Timestamp) -> Clock {
    Arc::new(move || at)
}
