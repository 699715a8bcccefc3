-- Site-aware activations (licensing-api.md, "Site-aware activations (version 1.1)").

-- The canonical site an activation was made for (NULL: none was sent), and its environment;
-- only production activations count toward the limit.
ALTER TABLE activations ADD COLUMN site TEXT;
ALTER TABLE activations ADD COLUMN environment TEXT NOT NULL DEFAULT 'production'
    CHECK (environment IN ('production', 'staging', 'development', 'local'));

-- Production sites seen per license (activations and validations), for shared-code detection:
-- distinct sites in the last 30 days.
CREATE TABLE license_sites (
    license_id   INTEGER NOT NULL REFERENCES licenses (id) ON DELETE CASCADE,
    site         TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    PRIMARY KEY (license_id, site)
) STRICT;

-- When KeyManager flagged the license as possibly shared (never suspended by it).
ALTER TABLE licenses ADD COLUMN shared_suspected_at TEXT;
CREATE INDEX licenses_shared ON licenses (shared_suspected_at) WHERE shared_suspected_at IS NOT NULL;
