//! Asking Envato about a purchase code KeyManager has not seen: the one way every part of a
//! process does it (the licensing server, the buyer page, the app's and the CLI's lookups), so
//! that anonymous clients cannot spend the seller's Envato quota.
//!
//! - One Envato client per process (`ClientSource` caches it per credential): its in-flight
//!   limit, pacing and circuit hold across requests.
//! - Single flight: concurrent questions about one code share one request.
//! - A negative cache in the database: a code Envato does not know is answered "unknown" for a
//!   day without asking again, by every process over the data folder (a sync or lookup that
//!   records the sale ends it, since known codes are answered from the database first).
//! - Budgets for anonymous clients: at most `in_flight` requests at once and `per_minute` a
//!   minute for the whole server, `per_client_per_hour` for one client address (IPv6 by /64).
//! - A circuit: while Envato rate-limits or fails, clients are answered "unavailable" at once
//!   with Envato's `Retry-After`; nothing waits for Envato to recover.
//!
//! The seller's own lookups skip the negative cache and the budgets (a person asked), but share
//! the client, the single flight and the circuit.

use crate::envato::{EnvatoClient, PurchaseCode, Sale};
use crate::error::{Error, ErrorCode};
use crate::store::SharedStore;
use crate::sync::worker::ClientSource;
use crate::time::Timestamp;
use futures_util::future::{BoxFuture, FutureExt, Shared};
use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Semaphore;

/// How long a client should wait when Envato cannot be asked.
pub const ENVATO_RETRY_AFTER_SECS: u64 = 60;

/// Who asks: the seller (a lookup in the app or the CLI) or an anonymous client of the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Asker {
    Seller,
    Client(IpAddr),
}

/// The contract's budgets for codes not seen yet (licensing-api.md, 1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budgets {
    pub in_flight: usize,
    pub per_minute: u32,
    pub per_client_per_hour: u32,
    /// How long a client's question may wait for one of the `in_flight` places.
    pub place_wait: Duration,
}

impl Default for Budgets {
    fn default() -> Self {
        Budgets { in_flight: 2, per_minute: 30, per_client_per_hour: 10, place_wait: Duration::from_secs(5) }
    }
}

/// What asking about a code came to.
#[derive(Debug, Clone)]
pub enum Verified {
    /// A sale of the seller's: record it.
    Sale(Box<Sale>),
    /// Envato has no sale of the seller's with this code (now, or within the last day).
    Unknown,
    /// Envato rate-limits or fails: not asked; try again after this many seconds.
    Unavailable { retry_after: u64 },
    /// This client's (or the whole server's) budget for unseen codes is spent.
    RateLimited { retry_after: u64 },
    /// No token, a rejected token, or a failure of KeyManager itself.
    Failed(Error),
}

type Flight = Shared<BoxFuture<'static, Verified>>;
type KeyedLimiter = governor::DefaultKeyedRateLimiter<IpAddr>;
type DirectLimiter = governor::DefaultDirectRateLimiter;

struct Inner {
    store: SharedStore,
    clients: ClientSource,
    budgets: Budgets,
    /// The seller's lookups give up in seconds (a person waits); off for a given client.
    seller_interactive: bool,
    flights: Mutex<HashMap<String, Flight>>,
    places: Arc<Semaphore>,
    per_minute: DirectLimiter,
    per_client: KeyedLimiter,
    checks: AtomicU64,
}

/// One per process; cheap to clone.
#[derive(Clone)]
pub struct Verifier(Arc<Inner>);

fn secs(d: Duration) -> u64 {
    d.as_secs_f64().ceil().max(1.0) as u64
}

fn quota(n: u32, per: Duration) -> governor::Quota {
    let n = NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN);
    governor::Quota::with_period(per / n.get()).unwrap_or_else(|| governor::Quota::per_second(n)).allow_burst(n)
}

impl Verifier {
    pub fn new(store: SharedStore, clients: ClientSource) -> Verifier {
        Verifier::with_budgets(store, clients, Budgets::default())
    }

    pub fn with_budgets(store: SharedStore, clients: ClientSource, budgets: Budgets) -> Verifier {
        Verifier(Arc::new(Inner {
            store,
            clients,
            places: Arc::new(Semaphore::new(budgets.in_flight.max(1))),
            per_minute: governor::RateLimiter::direct(quota(budgets.per_minute, Duration::from_secs(60))),
            per_client: governor::RateLimiter::keyed(quota(budgets.per_client_per_hour, Duration::from_secs(3600))),
            budgets,
            seller_interactive: true,
            flights: Mutex::new(HashMap::new()),
            checks: AtomicU64::new(0),
        }))
    }

    /// A verifier over one given client, used as it is (tests, benchmarks).
    pub fn for_client(store: SharedStore, client: EnvatoClient) -> Verifier {
        let clients = ClientSource::from_fns(|| Ok(true), move || Ok(Some(client.clone())));
        let mut v = Verifier::with_budgets(store, clients, Budgets::default());
        if let Some(inner) = Arc::get_mut(&mut v.0) {
            inner.seller_interactive = false;
        }
        v
    }

    /// The process's client for the stored token, or None without one.
    pub async fn client(&self) -> crate::Result<Option<EnvatoClient>> {
        self.0.clients.client().await
    }

    /// Asks Envato about `code` (which the database does not hold) within the rules above.
    pub async fn verify(&self, code: &PurchaseCode, asker: Asker, now: Timestamp) -> Verified {
        let c = code.as_str().to_string();
        if let Asker::Client(_) = asker {
            let key = c.clone();
            match self.0.store.read(move |s| s.code_known_unknown(&key, now)).await {
                Ok(true) => return Verified::Unknown,
                Ok(false) => {}
                Err(e) => return Verified::Failed(e),
            }
        }
        // Joining a flight, or charging the budget and starting one, happen under one lock:
        // concurrent questions about a code find the first one's flight.
        let flight = {
            let mut flights = self.0.flights.lock().unwrap_or_else(|p| p.into_inner());
            match flights.get(&c) {
                Some(f) => f.clone(),
                None => {
                    if let Asker::Client(ip) = asker {
                        if let Some(limited) = self.charge(ip) {
                            return limited;
                        }
                    }
                    let f = self.launch(c.clone(), code.clone(), asker, now);
                    flights.insert(c, f.clone());
                    f
                }
            }
        };
        flight.await
    }

    async fn ask(&self, key: &str, code: &PurchaseCode, asker: Asker, now: Timestamp) -> Verified {
        let client = match self.0.clients.client().await {
            Ok(Some(client)) => client,
            Ok(None) => return Verified::Failed(crate::account::not_configured()),
            Err(e) => return Verified::Failed(e),
        };
        if let Some(wait) = client.blocked_for() {
            return Verified::Unavailable { retry_after: secs(wait) };
        }
        let (client, place) = match asker {
            Asker::Seller if self.0.seller_interactive => (client.interactive(), None),
            Asker::Seller => (client, None),
            Asker::Client(_) => {
                let wait = self.0.budgets.place_wait;
                match tokio::time::timeout(wait, self.0.places.clone().acquire_owned()).await {
                    Ok(Ok(p)) => (client.single_attempt(), Some(p)),
                    _ => return Verified::RateLimited { retry_after: secs(wait) },
                }
            }
        };
        let answer = client.sale_by_code(code).await;
        drop(place);
        match answer {
            Ok(Some(sale)) => Verified::Sale(Box::new(sale)),
            Ok(None) => {
                let c = key.to_string();
                match self.0.store.run(move |s| s.remember_unknown_code(&c, now)).await {
                    Ok(()) => Verified::Unknown,
                    Err(e) => Verified::Failed(e),
                }
            }
            // A rate limit is "ask again later" (with Envato's wait); other failures keep their
            // code (a firewall block, a rejected token, an outage), and the circuit they opened
            // answers the next askers at once.
            Err(e) if e.code == ErrorCode::EnvatoRateLimited => {
                Verified::Unavailable { retry_after: client.blocked_for().map_or(ENVATO_RETRY_AFTER_SECS, secs) }
            }
            Err(e) => Verified::Failed(e),
        }
    }

    /// The client's and the server's budgets: None when both allow one more question.
    fn charge(&self, ip: IpAddr) -> Option<Verified> {
        let inner = &self.0;
        if inner.checks.fetch_add(1, Ordering::Relaxed) % 1024 == 1023 {
            // Forget quiet addresses, so a flood of distinct ones cannot fill the memory.
            inner.per_client.retain_recent();
            inner.per_client.shrink_to_fit();
        }
        let clock = governor::clock::DefaultClock::default();
        let now = governor::clock::Clock::now(&clock);
        if let Err(not_until) = inner.per_client.check_key(&crate::net::bucket(ip)) {
            return Some(Verified::RateLimited { retry_after: secs(not_until.wait_time_from(now)) });
        }
        if let Err(not_until) = inner.per_minute.check() {
            return Some(Verified::RateLimited { retry_after: secs(not_until.wait_time_from(now)) });
        }
        None
    }

    /// Starts the one request for `code`: the process's client, the circuit, a place among the
    /// few in flight (a client waits a little for one; the seller takes none, the client's own
    /// in-flight limit still holds), and Envato's answer. It runs to its end even when every
    /// asker has gone (what Envato said is recorded either way), and leaves the table of flights
    /// when done.
    fn launch(&self, key: String, code: PurchaseCode, asker: Asker, now: Timestamp) -> Flight {
        let me = self.clone();
        let task = tokio::spawn(async move {
            let verified = me.ask(&key, &code, asker, now).await;
            me.0.flights.lock().unwrap_or_else(|p| p.into_inner()).remove(&key);
            verified
        });
        async move {
            task.await.unwrap_or_else(|e| Verified::Failed(Error::internal(format!("A verification failed: {e}."))))
        }
        .boxed()
        .shared()
    }
}
