-- Lookups, license lifecycle and Envato freshness.
ALTER TABLE licenses ADD COLUMN envato_checked_at TEXT;
-- The Envato item's name at the time of the sale (products may be renamed).
ALTER TABLE licenses ADD COLUMN item_name TEXT;
-- 'not_recognised': a re-verification found no sale for the code (refund or reversal?).
ALTER TABLE licenses ADD COLUMN envato_flag TEXT;
CREATE INDEX licenses_marketplace ON licenses (marketplace, id);
CREATE INDEX licenses_supported_until ON licenses (supported_until);

-- Keys a license had before "Regenerate key".
CREATE TABLE license_key_history (
    id          INTEGER PRIMARY KEY,
    license_id  INTEGER NOT NULL REFERENCES licenses (id) ON DELETE CASCADE,
    license_key TEXT NOT NULL,
    replaced_at TEXT NOT NULL,
    reason      TEXT NOT NULL
) STRICT;
CREATE INDEX license_key_history_license ON license_key_history (license_id);

-- Purchase-code lookups, for the Lookup page's history.
CREATE TABLE lookups (
    id         INTEGER PRIMARY KEY,
    at         TEXT NOT NULL,
    code       TEXT NOT NULL,
    verdict    TEXT NOT NULL,
    license_id INTEGER REFERENCES licenses (id) ON DELETE SET NULL,
    summary    TEXT NOT NULL
) STRICT;
-- Keyset paging by sale date (manual licenses, without one, sort as '').
CREATE INDEX licenses_sold_key ON licenses (coalesce(sold_at, ''), id);
