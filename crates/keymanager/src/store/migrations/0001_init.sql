-- KeyManager schema, version 1. Released migrations are never edited: add a new file instead.
-- Timestamps are UTC RFC 3339 text ('2026-11-28T08:16:49Z'); money is integer cents.

CREATE TABLE settings (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at TEXT NOT NULL
) STRICT;

CREATE TABLE products (
    id               INTEGER PRIMARY KEY,
    name             TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    description      TEXT NOT NULL DEFAULT '',
    sku              TEXT UNIQUE,
    activation_limit INTEGER NOT NULL CHECK (activation_limit >= 1),
    license_type     TEXT NOT NULL CHECK (license_type IN ('regular', 'extended')),
    status           TEXT NOT NULL CHECK (status IN ('active', 'inactive')),
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
) STRICT;
CREATE INDEX products_name ON products (name COLLATE NOCASE);

-- One product may sell as several Envato items (the same plugin on CodeCanyon and ThemeForest);
-- an item belongs to at most one product, so matching by item ID is never ambiguous.
CREATE TABLE product_envato_items (
    item_id    INTEGER PRIMARY KEY,
    product_id INTEGER NOT NULL REFERENCES products (id) ON DELETE CASCADE
) STRICT;
CREATE INDEX product_envato_items_product ON product_envato_items (product_id);

CREATE TABLE licenses (
    id                   INTEGER PRIMARY KEY,
    license_key          TEXT NOT NULL UNIQUE,
    product_id           INTEGER NOT NULL REFERENCES products (id),
    status               TEXT NOT NULL CHECK (status IN ('active', 'suspended', 'revoked')),
    license_type         TEXT NOT NULL CHECK (license_type IN ('regular', 'extended')),
    activation_limit     INTEGER NOT NULL CHECK (activation_limit >= 1),
    source               TEXT NOT NULL CHECK (source IN ('envato', 'manual')),
    -- The Envato sale behind the license, when there is one.
    purchase_code        TEXT UNIQUE,
    envato_item_id       INTEGER,
    marketplace          TEXT,
    buyer                TEXT,
    purchase_count       INTEGER,
    envato_license       TEXT,
    amount_cents         INTEGER,
    support_amount_cents INTEGER,
    sold_at              TEXT,
    supported_until      TEXT,
    created_at           TEXT NOT NULL,
    updated_at           TEXT NOT NULL
) STRICT;
CREATE INDEX licenses_product ON licenses (product_id, id);
CREATE INDEX licenses_status ON licenses (status, id);
CREATE INDEX licenses_buyer ON licenses (buyer COLLATE NOCASE);
CREATE INDEX licenses_sold_at ON licenses (sold_at);

CREATE TABLE activations (
    id           INTEGER PRIMARY KEY,
    license_id   INTEGER NOT NULL REFERENCES licenses (id) ON DELETE CASCADE,
    instance_id  TEXT NOT NULL,
    label        TEXT,
    activated_at TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    UNIQUE (license_id, instance_id)
) STRICT;

CREATE TABLE sync_runs (
    id               INTEGER PRIMARY KEY,
    trigger          TEXT NOT NULL CHECK (trigger IN ('scheduled', 'manual', 'first')),
    status           TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'interrupted')),
    started_at       TEXT NOT NULL,
    finished_at      TEXT,
    pages_fetched    INTEGER NOT NULL DEFAULT 0,
    sales_seen       INTEGER NOT NULL DEFAULT 0,
    licenses_created INTEGER NOT NULL DEFAULT 0,
    products_created INTEGER NOT NULL DEFAULT 0,
    sales_skipped    INTEGER NOT NULL DEFAULT 0,
    error_code       TEXT,
    error_message    TEXT
) STRICT;

-- The audit trail and log: what changed, when, and why. Never holds a token or other secret.
CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY,
    at          TEXT NOT NULL,
    level       TEXT NOT NULL CHECK (level IN ('info', 'warning', 'error')),
    action      TEXT NOT NULL,
    license_id  INTEGER REFERENCES licenses (id) ON DELETE SET NULL,
    product_id  INTEGER REFERENCES products (id) ON DELETE SET NULL,
    sync_run_id INTEGER REFERENCES sync_runs (id) ON DELETE SET NULL,
    message     TEXT NOT NULL
) STRICT;
CREATE INDEX audit_log_license ON audit_log (license_id, id);
CREATE INDEX audit_log_at ON audit_log (at);
