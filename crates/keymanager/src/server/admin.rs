//! The admin API under `/admin/v1/` (docs/admin-api.md): what the desktop and the CLI need to
//! administer this server. Off until a device is paired (a pairing code waits or a device
//! exists); then every request names a device by its token, over https (plain HTTP only on this
//! machine), from an address that has not failed too often. Answers are the operation's JSON,
//! or `{code, message}` with the codes the window and the CLI use, signed like `/v1`. Every
//! change is audited with the device's name.

use super::{Client, Peer, Served};
use crate::admin::{self, Scope};
use crate::error::{Error, ErrorCode, Result};
use crate::store::AdminDevice;
use crate::workspace::ops;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, Request, StatusCode};
use axum::response::Response;
use serde::{Deserialize, Serialize};

/// The HTTP status for an error's code.
fn status_of(code: ErrorCode) -> StatusCode {
    use ErrorCode::*;
    match code {
        AdminUnauthorized | AdminTokenExpired | AdminTokenRevoked | AdminPairingCodeInvalid => StatusCode::UNAUTHORIZED,
        AdminForbidden | AdminHttpsRequired => StatusCode::FORBIDDEN,
        AdminLockedOut => StatusCode::TOO_MANY_REQUESTS,
        LicenseNotFound | ProductNotFound | ReleaseNotFound => StatusCode::NOT_FOUND,
        Internal | StoreIo | StoreBusy | StoreCorrupt => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    }
}

fn answer<T: Serialize>(s: &Served, result: Result<T>) -> Response {
    match result {
        Ok(v) => super::signed_json(&s.service, StatusCode::OK, serde_json::to_vec(&v).unwrap_or_default()),
        Err(e) => {
            if e.code == ErrorCode::Internal {
                tracing::error!(code = %e.code, "admin API: {}", e.message);
            }
            let status = status_of(e.code);
            super::signed_json(&s.service, status, serde_json::to_vec(&e).unwrap_or_default())
        }
    }
}

/// What the checks need of a request, taken before anything is awaited (a body is not `Sync`).
struct Asked {
    client: std::net::IpAddr,
    peer: Peer,
    proto: Option<String>,
    token: Option<String>,
}

impl Asked {
    fn of(req: &Request<Body>) -> Asked {
        let unknown = std::net::IpAddr::from([0, 0, 0, 0]);
        let token = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(|t| t.trim().to_string());
        Asked {
            client: req.extensions().get::<Client>().map_or(unknown, |c| c.0),
            peer: req.extensions().get::<Peer>().copied().unwrap_or(Peer { ip: unknown, via_proxy: false }),
            proto: req.headers().get("x-forwarded-proto").and_then(|v| v.to_str().ok()).map(str::to_string),
            token,
        }
    }
}

/// The checks every admin request passes before its operation: on at all, the transport, the
/// lock-out, the token, the scope. A wrong token counts toward the address's lock-out.
async fn checked(s: &Served, asked: Asked, needed: Option<Scope>) -> std::result::Result<AdminDevice, Response> {
    let now = (s.clock)();
    let client = asked.client;
    // Whether the API is on and who the token names, in one read (one trip to the blocking
    // pool per request instead of two).
    let token = asked.token.clone();
    let read = s
        .store
        .read(move |st| {
            let on = st.admin_enabled(now)?;
            Ok((on, on.then(|| admin::authenticate(st, token.as_deref(), now))))
        })
        .await;
    let (on, found) = read.map_err(|e| answer::<()>(s, Err(e)))?;
    if !on {
        return Err(super::respond(&s.service, crate::api::wire::no_such_path(now)));
    }
    admin::transport_allowed(asked.peer.ip, asked.peer.via_proxy, asked.proto.as_deref())
        .map_err(|e| answer::<()>(s, Err(e)))?;
    s.admin_lockout
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .check(client, now)
        .map_err(|e| answer::<()>(s, Err(e)))?;
    let device = match found.unwrap_or_else(|| Err(Error::new(ErrorCode::AdminUnauthorized, "No device token."))) {
        Ok(d) => d,
        Err(e) => {
            if matches!(e.code, ErrorCode::AdminUnauthorized) {
                s.admin_lockout.lock().unwrap_or_else(|p| p.into_inner()).fail(client, now);
            }
            return Err(answer::<()>(s, Err(e)));
        }
    };
    s.admin_lockout.lock().unwrap_or_else(|p| p.into_inner()).succeed(client);
    if let Some(scope) = needed {
        admin::require(&device, scope).map_err(|e| answer::<()>(s, Err(e)))?;
    }
    // Last use and address are noted at most once a minute per device and address (a window
    // refetching pages is not a write per request).
    let (id, address) = (device.id, client.to_string());
    let recent = crate::time::to_db(now - chrono::Duration::seconds(60));
    let stale = device.last_used_at.as_deref().is_none_or(|at| at < recent.as_str());
    if stale || device.last_address.as_deref() != Some(address.as_str()) {
        if let Err(e) = s.store.run(move |st| st.admin_note_use(id, &address, now)).await {
            tracing::warn!(code = %e.code, "cannot note a device's use: {}", e.message);
        }
    }
    Ok(device)
}

/// Off until a device is paired (a 404 like any unknown path), and https unless local.
async fn gate(s: &Served, asked: &Asked, now: crate::time::Timestamp) -> std::result::Result<(), Response> {
    let on = s.store.read(move |st| st.admin_enabled(now)).await.unwrap_or(false);
    if !on {
        return Err(super::respond(&s.service, crate::api::wire::no_such_path(now)));
    }
    admin::transport_allowed(asked.peer.ip, asked.peer.via_proxy, asked.proto.as_deref())
        .map_err(|e| answer::<()>(s, Err(e)))
}

async fn json<T: for<'de> Deserialize<'de>>(s: &Served, req: Request<Body>) -> std::result::Result<T, Response> {
    let bytes = super::body(s, req).await?;
    serde_json::from_slice(&bytes).map_err(|e| {
        answer::<()>(s, Err(Error::invalid_input(format!("The body is not what this operation takes: {e}."))))
    })
}

/// Audits a change made through the admin API with the device's name.
async fn audit(s: &Served, device: &AdminDevice, what: String) {
    let now = (s.clock)();
    let entry = crate::store::AuditEntry::new(
        now,
        crate::store::AuditLevel::Info,
        "admin.change",
        format!("{what} (device “{}”, admin API).", device.name),
    );
    if let Err(e) = s.store.run(move |st| st.record_audit(&entry)).await {
        tracing::warn!(code = %e.code, "cannot audit an admin change: {}", e.message);
    }
}

#[derive(Deserialize)]
struct PairRequest {
    code: String,
    name: Option<String>,
}

/// What a device receives once: its token, and the key that signs every answer (to pin).
#[derive(Serialize)]
struct PairAnswer {
    device: AdminDevice,
    token: String,
    public_key: String,
}

/// `POST /admin/v1/pair`: a pairing code for a device token. Wrong codes count toward the
/// address's lock-out.
pub(super) async fn pair(State(s): State<Served>, req: Request<Body>) -> Response {
    let now = (s.clock)();
    let asked = Asked::of(&req);
    let client = asked.client;
    if let Err(r) = gate(&s, &asked, now).await {
        return r;
    }
    if let Err(e) = s.admin_lockout.lock().unwrap_or_else(|p| p.into_inner()).check(client, now) {
        return answer::<()>(&s, Err(e));
    }
    let asked: PairRequest = match json(&s, req).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let address = client.to_string();
    let paired = s.store.run(move |st| admin::pair(st, &asked.code, asked.name.as_deref(), None, &address, now)).await;
    let mut lockout = s.admin_lockout.lock().unwrap_or_else(|p| p.into_inner());
    match paired {
        Ok(p) => {
            lockout.succeed(client);
            drop(lockout);
            let public_key = s.service.signer().public_key();
            answer(&s, Ok(PairAnswer { device: p.device, token: p.token, public_key }))
        }
        Err(e) => {
            if e.code == ErrorCode::AdminPairingCodeInvalid {
                lockout.fail(client, now);
            }
            drop(lockout);
            answer::<()>(&s, Err(e))
        }
    }
}

/// `GET /admin/v1/whoami`: the device, as the server knows it.
pub(super) async fn whoami(State(s): State<Served>, req: Request<Body>) -> Response {
    match checked(&s, Asked::of(&req), None).await {
        Ok(d) => answer(&s, Ok(d)),
        Err(r) => r,
    }
}

/// `GET /admin/v1/dashboard`.
pub(super) async fn dashboard(State(s): State<Served>, req: Request<Body>) -> Response {
    if let Err(r) = checked(&s, Asked::of(&req), Some(Scope::Support)).await {
        return r;
    }
    let now = (s.clock)();
    answer(&s, s.store.read(move |st| crate::dashboard::dashboard(st, now)).await)
}

/// `POST /admin/v1/licenses/page`: a `LicenseFilter` answered with a `LicensePage`.
pub(super) async fn licenses_page(State(s): State<Served>, req: Request<Body>) -> Response {
    if let Err(r) = checked(&s, Asked::of(&req), Some(Scope::Support)).await {
        return r;
    }
    let now = (s.clock)();
    let filter: crate::store::LicenseFilter = match json(&s, req).await {
        Ok(f) => f,
        Err(r) => return r,
    };
    answer(&s, s.store.read(move |st| st.license_page(&filter, now)).await)
}

/// `GET /admin/v1/licenses/{id}`: the `LicenseDetail`.
pub(super) async fn license(State(s): State<Served>, Path(id): Path<i64>, req: Request<Body>) -> Response {
    if let Err(r) = checked(&s, Asked::of(&req), Some(Scope::Support)).await {
        return r;
    }
    let now = (s.clock)();
    answer(&s, s.store.read(move |st| crate::licensing::detail(st, id, now)).await)
}

#[derive(Deserialize)]
struct StatusChange {
    action: crate::licensing::LicenseAction,
    reason: String,
}

/// `POST /admin/v1/licenses/{id}/status`: suspend, revoke or reactivate with a reason (revoking
/// needs the owner scope).
pub(super) async fn license_status(State(s): State<Served>, Path(id): Path<i64>, req: Request<Body>) -> Response {
    let d = match checked(&s, Asked::of(&req), Some(Scope::Support)).await {
        Ok(d) => d,
        Err(r) => return r,
    };
    let change: StatusChange = match json(&s, req).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    if change.action == crate::licensing::LicenseAction::Revoke {
        if let Err(e) = admin::require(&d, Scope::Owner) {
            return answer::<()>(&s, Err(e));
        }
    }
    let now = (s.clock)();
    let action = change.action;
    let done = s.store.run(move |st| crate::licensing::change_status(st, id, change.action, &change.reason, now)).await;
    if done.is_ok() {
        audit(&s, &d, format!("License {id}: {}", action.as_str())).await;
    }
    answer(&s, done)
}

#[derive(Deserialize)]
struct LookupRequest {
    code: String,
}

/// `POST /admin/v1/lookup`: a purchase code looked up as the window does (Envato is asked for a
/// code the data does not hold, with the server's token).
pub(super) async fn lookup(State(s): State<Served>, req: Request<Body>) -> Response {
    if let Err(r) = checked(&s, Asked::of(&req), Some(Scope::Support)).await {
        return r;
    }
    let asked: LookupRequest = match json(&s, req).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let now = (s.clock)();
    answer(&s, crate::lookup::lookup(&s.store, s.service.verifier(), &asked.code, now).await)
}

/// `GET /admin/v1/devices`: every paired device (owner).
pub(super) async fn devices(State(s): State<Served>, req: Request<Body>) -> Response {
    if let Err(r) = checked(&s, Asked::of(&req), Some(Scope::Owner)).await {
        return r;
    }
    answer(&s, s.store.read(|st| st.admin_devices()).await)
}

/// `DELETE /admin/v1/devices/{id}`: revokes a device (owner).
pub(super) async fn revoke(State(s): State<Served>, Path(id): Path<i64>, req: Request<Body>) -> Response {
    let d = match checked(&s, Asked::of(&req), Some(Scope::Owner)).await {
        Ok(d) => d,
        Err(r) => return r,
    };
    let now = (s.clock)();
    let done = s.store.run(move |st| st.admin_revoke(id, now)).await;
    if let Ok(gone) = &done {
        audit(&s, &d, format!("Device “{}” revoked", gone.name)).await;
    }
    answer(&s, done)
}

/// How long the change stream gathers commits into one event (as the window's own feed does).
const CHANGES_GATHER: std::time::Duration = std::time::Duration::from_millis(150);
/// A comment line this often keeps proxies from closing a quiet stream.
const CHANGES_KEEPALIVE: std::time::Duration = std::time::Duration::from_secs(15);

/// `GET /admin/v1/changes`: the server's change feed as server-sent events, the same
/// `db-changed` the local window follows. Each event's data is two lines: the change as JSON,
/// then `ed25519=<signature>` over exactly that line, by the server's key.
pub(super) async fn changes(State(s): State<Served>, req: Request<Body>) -> Response {
    if let Err(r) = checked(&s, Asked::of(&req), None).await {
        return r;
    }
    let rx = s.store.changes();
    let signer = s.service.signer_cell().clone();
    let stream = futures_util::stream::unfold((rx, signer, true), |(mut rx, signer, first)| async move {
        // A first comment tells the client the stream is open (it can refetch from there).
        if first {
            return Some((Ok::<_, std::convert::Infallible>(": open\n\n".to_string()), (rx, signer, false)));
        }
        let text =
            match tokio::time::timeout(CHANGES_KEEPALIVE, crate::store::next_change(&mut rx, CHANGES_GATHER)).await {
                Err(_) => ": keep-alive\n\n".to_string(),
                Ok(None) => return None,
                Ok(Some(changed)) => {
                    let json = serde_json::to_string(&changed).unwrap_or_default();
                    let signature = signer.current().sign(json.as_bytes());
                    format!("event: db-changed\ndata: {json}\ndata: ed25519={signature}\n\n")
                }
            };
        Some((Ok(text), (rx, signer, false)))
    });
    let mut r = Response::new(Body::from_stream(stream));
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// What an operation's request may weigh: a release package travels inside `release_upload`
/// (base64), everything else is a small JSON object.
fn op_body_limit(name: &str) -> usize {
    if name == "release_upload" {
        512 * 1024 * 1024
    } else {
        1024 * 1024
    }
}

/// `POST /admin/v1/op/{name}`: any operation of the window and the CLI (crate::workspace::ops),
/// run on the server's runtime. The device is checked before the body is read; the operation's
/// own scope after (revoking needs the owner, releases the publish scope); a change is audited
/// with the device's name (never with a secret the request carries).
pub(super) async fn op(State(s): State<Served>, Path(name): Path<String>, req: Request<Body>) -> Response {
    let now = (s.clock)();
    let Some(rt) = s.runtime.clone() else {
        return super::respond(&s.service, crate::api::wire::no_such_path(now));
    };
    let device = match checked(&s, Asked::of(&req), None).await {
        Ok(d) => d,
        Err(r) => return r,
    };
    let upload = name == "release_upload";
    let timeout = if upload { std::time::Duration::from_secs(600) } else { s.body_timeout };
    let bytes = match super::body_up_to(&s, req, op_body_limit(&name), timeout).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    let (scope, changes, secret) = match ops::describe(&name, &bytes) {
        None => return super::respond(&s.service, crate::api::wire::no_such_path(now)),
        Some(Err(e)) => return answer::<()>(&s, Err(e)),
        Some(Ok(d)) => d,
    };
    if let Err(e) = admin::require_any(&device, scope) {
        return answer::<()>(&s, Err(e));
    }
    let done = match ops::dispatch(&name, &bytes, &rt).await {
        Some(d) => d,
        None => return super::respond(&s.service, crate::api::wire::no_such_path(now)),
    };
    if changes && done.is_ok() {
        let what = if secret || upload {
            name.replace('_', " ")
        } else {
            let body = serde_json::from_slice(&bytes).unwrap_or_default();
            crate::workspace::unsent::label(&name, &body)
        };
        audit(&s, &device, crate::text::truncate_chars(&what, 300).to_string()).await;
    }
    match done {
        Ok(json) => super::signed_json(&s.service, StatusCode::OK, json),
        Err(e) => answer::<()>(&s, Err(e)),
    }
}

/// A database the owner moves in may weigh this much.
const DATABASE_LIMIT: usize = 1024 * 1024 * 1024;

/// `GET /admin/v1/backup`: a consistent backup of the server's database, taken now (owner). The
/// file is the body, signed whole like every answer.
pub(super) async fn backup(State(s): State<Served>, req: Request<Body>) -> Response {
    if let Err(r) = checked(&s, Asked::of(&req), Some(Scope::Owner)).await {
        return r;
    }
    let made = crate::workspace::pull::backup_bytes(&s.store);
    match made.await {
        Ok(bytes) => {
            let mut r = super::signed_json(&s.service, StatusCode::OK, bytes);
            r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/vnd.sqlite3"));
            r
        }
        Err(e) => answer::<()>(&s, Err(e)),
    }
}

#[derive(Deserialize)]
pub(super) struct MoveQuery {
    #[serde(default)]
    replace: bool,
}

/// `PUT /admin/v1/database?replace=BOOL`: a database moved in from the desktop (owner). Checked
/// on arrival (integrity, schema), refused when the server holds licenses unless `replace`;
/// the data it replaces is kept aside in the backup folder.
pub(super) async fn database(
    State(s): State<Served>,
    axum::extract::Query(q): axum::extract::Query<MoveQuery>,
    req: Request<Body>,
) -> Response {
    let device = match checked(&s, Asked::of(&req), Some(Scope::Owner)).await {
        Ok(d) => d,
        Err(r) => return r,
    };
    let now = (s.clock)();
    let bytes = match super::read_limited(req.into_body(), DATABASE_LIMIT, std::time::Duration::from_secs(600)).await {
        Ok(b) => b,
        Err(_) => {
            return super::respond(&s.service, crate::api::wire::too_large(DATABASE_LIMIT, now));
        }
    };
    let received = async {
        let dir = tempfile::tempdir()
            .map_err(|e| Error::new(ErrorCode::StoreIo, format!("Cannot make a temporary folder: {e}.")))?;
        let file = dir.path().join("moved-in.db");
        tokio::fs::write(&file, &bytes)
            .await
            .map_err(|e| Error::new(ErrorCode::StoreIo, format!("Cannot keep the upload: {e}.")))?;
        let data_dir = s.store.data_dir().map(std::path::Path::to_path_buf).unwrap_or_default();
        let replace = q.replace;
        s.store
            .run(move |st| {
                let backups = crate::backup::folder(&st.settings()?.backup_folder, &data_dir);
                crate::workspace::pull::receive(st, &backups, &file, replace, now)
            })
            .await
    };
    let done = received.await;
    if let Ok(r) = &done {
        audit(&s, &device, format!("Database moved in ({} licenses, {} products)", r.licenses, r.products)).await;
    }
    answer(&s, done)
}

/// `GET /admin/v1/packages/{sha256}`: a release package, streamed (owner). Not signed: the
/// device checks it against the SHA-256 the signed backup names.
pub(super) async fn package(State(s): State<Served>, Path(sha): Path<String>, req: Request<Body>) -> Response {
    if let Err(r) = checked(&s, Asked::of(&req), Some(Scope::Owner)).await {
        return r;
    }
    let missing = || Error::new(ErrorCode::ReleaseNotFound, "There is no release package with that SHA-256.");
    if sha.len() != 64 || !sha.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
        return answer::<()>(&s, Err(missing()));
    }
    let Some(data_dir) = s.store.data_dir().map(std::path::Path::to_path_buf) else {
        return answer::<()>(&s, Err(missing()));
    };
    match std::fs::File::open(crate::updates::package::path(&data_dir, &sha)) {
        Ok(f) => {
            let mut r = Response::new(Body::from_stream(super::package_stream(f)));
            r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/zip"));
            r
        }
        Err(_) => answer::<()>(&s, Err(missing())),
    }
}
