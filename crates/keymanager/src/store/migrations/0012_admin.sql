-- The admin API (issue 23): devices paired with this server, and the one-time codes that pair
-- them. Tokens and codes are kept only as SHA-256 hashes.
CREATE TABLE admin_pairing_codes (
    code_hash   TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    scopes      TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    used_at     TEXT
);

CREATE TABLE admin_devices (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL,
    token_hash    TEXT NOT NULL UNIQUE,
    scopes        TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    expires_at    TEXT,
    last_used_at  TEXT,
    last_address  TEXT,
    revoked_at    TEXT
);
