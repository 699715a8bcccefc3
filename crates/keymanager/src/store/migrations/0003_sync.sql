-- Sync of Envato sales. Every synced sale is keyed by `sale_key` (item, sold_at, amount, license
-- and an ordinal for identical sales), and by its purchase code when known, so a sale is never
-- stored twice whether or not the sales list carries codes.
ALTER TABLE licenses ADD COLUMN sale_key TEXT;
CREATE UNIQUE INDEX licenses_sale_key ON licenses (sale_key);
ALTER TABLE licenses ADD COLUMN sync_run_id INTEGER REFERENCES sync_runs (id);
CREATE INDEX licenses_item_sold ON licenses (envato_item_id, sold_at);

-- Sales no product matched while Auto-Create Products was off: the review queue.
CREATE TABLE pending_sales (
    id                   INTEGER PRIMARY KEY,
    sale_key             TEXT NOT NULL UNIQUE,
    purchase_code        TEXT UNIQUE,
    envato_item_id       INTEGER NOT NULL,
    item_name            TEXT NOT NULL,
    item_description     TEXT NOT NULL DEFAULT '',
    marketplace          TEXT,
    buyer                TEXT,
    purchase_count       INTEGER,
    envato_license       TEXT NOT NULL,
    amount_cents         INTEGER NOT NULL,
    support_amount_cents INTEGER,
    sold_at              TEXT NOT NULL,
    supported_until      TEXT,
    sync_run_id          INTEGER REFERENCES sync_runs (id),
    queued_at            TEXT NOT NULL
) STRICT;
CREATE INDEX pending_sales_item ON pending_sales (envato_item_id, sold_at);

-- One row: how far the last completed sync reached, and whether syncing is paused.
CREATE TABLE sync_state (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    watermark       TEXT,
    last_success_at TEXT,
    paused          INTEGER NOT NULL DEFAULT 0,
    auth_failed     INTEGER NOT NULL DEFAULT 0
) STRICT;
INSERT INTO sync_state (id) VALUES (1);
