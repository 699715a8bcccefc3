-- Webhooks and e-mail (shared/docs/webhooks-email.md): endpoints, and one durable outbox that
-- events are written to in the same transaction as the change they describe.

-- A seller's webhook endpoint. Its secret is not here: it lives in the keychain (or the server's
-- secrets folder), under the endpoint's id and `secret_version`.
CREATE TABLE webhook_endpoints (
    id             INTEGER PRIMARY KEY,
    url            TEXT NOT NULL,
    -- '*' for every event, else the chosen types separated by commas.
    events         TEXT NOT NULL,
    enabled        INTEGER NOT NULL DEFAULT 1,
    disabled_at    TEXT,
    disabled_why   TEXT,
    secret_version INTEGER NOT NULL DEFAULT 1,
    created_at     TEXT NOT NULL
) STRICT;

-- One message to one destination: a webhook endpoint, or a mailbox.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    -- `webhook-id` (the same on every retry): msg_ and 27 random characters.
    message_id      TEXT NOT NULL UNIQUE,
    channel         TEXT NOT NULL CHECK (channel IN ('webhook', 'email')),
    endpoint_id     INTEGER REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    recipient       TEXT,
    event_type      TEXT NOT NULL,
    -- The exact body sent (webhooks), or the event the e-mail is written from.
    body            TEXT NOT NULL,
    license_id      INTEGER REFERENCES licenses (id) ON DELETE SET NULL,
    created_at      TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT,
    -- A process sending the message holds it until then; after a crash it is due again.
    lease_until     TEXT,
    last_attempt_at TEXT,
    last_status     INTEGER,
    last_error      TEXT,
    delivered_at    TEXT,
    CHECK ((channel = 'webhook' AND endpoint_id IS NOT NULL) OR (channel = 'email' AND recipient IS NOT NULL))
) STRICT;
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
-- (No index by endpoint: a sync writes thousands of messages, and the per-endpoint counts scan
-- only the pending and failed ones through outbox_due.)

-- A destination ('webhook:<id>' or 'email') whose last delivery failed: one row from the first
-- failure to the next success, so the seller is told once per destination, not per message.
CREATE TABLE delivery_health (
    destination   TEXT PRIMARY KEY,
    failing_since TEXT NOT NULL,
    last_error    TEXT NOT NULL
) STRICT;

-- The buyer's e-mail (Envato does not give one): typed by the seller or left by the buyer.
ALTER TABLE licenses ADD COLUMN buyer_email TEXT;
-- The seller's note on a license (hand-made licenses, support).
ALTER TABLE licenses ADD COLUMN note TEXT;
