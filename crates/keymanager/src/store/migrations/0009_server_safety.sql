-- The licensing server on the open internet (licensing-api.md and webhooks-email.md, 1.1).

-- Purchase codes Envato answered "no such sale" for: answered NOT_FOUND for 24 hours without
-- asking again, by every process over this database (server, app, CLI).
CREATE TABLE unknown_codes (
    code       TEXT PRIMARY KEY,
    checked_at TEXT NOT NULL
) STRICT;
CREATE INDEX unknown_codes_checked ON unknown_codes (checked_at);

-- Key mails asked for on the buyer page (and confirmation links), for the daily caps.
CREATE TABLE buyer_mails (
    id         INTEGER PRIMARY KEY,
    license_id INTEGER REFERENCES licenses (id) ON DELETE CASCADE,
    kind       TEXT NOT NULL CHECK (kind IN ('key', 'confirm')),
    at         TEXT NOT NULL
) STRICT;
CREATE INDEX buyer_mails_at ON buyer_mails (at);
CREATE INDEX buyer_mails_license ON buyer_mails (license_id, at);

-- An address a buyer asked the key to be sent to, waiting for the buyer to click the link
-- mailed to it (only its hash is kept; the link carries the token).
CREATE TABLE buyer_email_confirmations (
    token_hash TEXT PRIMARY KEY,
    license_id INTEGER NOT NULL REFERENCES licenses (id) ON DELETE CASCADE,
    address    TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
) STRICT;

-- The last `activation.limit_reached` queued per license and fingerprint: at most one an hour.
CREATE TABLE limit_refusals (
    license_id  INTEGER NOT NULL REFERENCES licenses (id) ON DELETE CASCADE,
    fingerprint TEXT NOT NULL,
    at          TEXT NOT NULL,
    PRIMARY KEY (license_id, fingerprint)
) STRICT;
CREATE INDEX limit_refusals_at ON limit_refusals (at);

-- Pruning the audit log and delivered messages by date.
CREATE INDEX outbox_delivered_at ON outbox (delivered_at) WHERE status = 'delivered';
