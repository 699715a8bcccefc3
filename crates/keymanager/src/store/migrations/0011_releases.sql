-- Update delivery (shared/docs/updates-api.md): releases of a product and their packages, the
-- product's update slug and kind, hand-made licenses' end of updates, and the downloads counted
-- against `downloads_per_day`.
ALTER TABLE products ADD COLUMN update_slug TEXT;
ALTER TABLE products ADD COLUMN update_kind TEXT;
ALTER TABLE products ADD COLUMN updates_require_activation INTEGER NOT NULL DEFAULT 0;
CREATE UNIQUE INDEX products_update_slug ON products (update_slug) WHERE update_slug IS NOT NULL;

ALTER TABLE licenses ADD COLUMN updates_until TEXT;

CREATE TABLE releases (
    id INTEGER PRIMARY KEY,
    product_id INTEGER NOT NULL REFERENCES products (id),
    version TEXT NOT NULL,
    channel TEXT NOT NULL DEFAULT 'stable',
    status TEXT NOT NULL DEFAULT 'draft',
    rollout INTEGER NOT NULL DEFAULT 100,
    changelog TEXT NOT NULL DEFAULT '',
    upgrade_notice TEXT NOT NULL DEFAULT '',
    requires TEXT,
    tested TEXT,
    requires_php TEXT,
    -- The package: a file named by its SHA-256 in the data folder's `packages`.
    sha256 TEXT NOT NULL,
    sha384 TEXT NOT NULL,
    md5 TEXT NOT NULL,
    size INTEGER NOT NULL,
    -- What the package's headers said (JSON: name, homepage, author, description, changelog).
    meta TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL,
    released_at TEXT,
    yanked_at TEXT,
    yank_reason TEXT,
    UNIQUE (product_id, version)
);
CREATE INDEX releases_product ON releases (product_id, status);

CREATE TABLE release_downloads (
    id INTEGER PRIMARY KEY,
    license_id INTEGER NOT NULL,
    release_id INTEGER NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX release_downloads_license_at ON release_downloads (license_id, at);
