-- The connected Envato account: metadata about the token, never the token itself (that lives in
-- the OS keychain). One row at most.
CREATE TABLE envato_account (
    id                 INTEGER PRIMARY KEY CHECK (id = 1),
    token_hint         TEXT NOT NULL,
    username           TEXT,
    user_id            INTEGER,
    scopes             TEXT NOT NULL DEFAULT '',
    items_count        INTEGER,
    saved_at           TEXT NOT NULL,
    validated_at       TEXT,
    last_check_at      TEXT,
    last_check_ok      INTEGER,
    last_error_code    TEXT,
    last_error_message TEXT
) STRICT;
