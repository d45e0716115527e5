-- Accounts, sign-in links, interviews and the item bank (SQLite).
-- Times are milliseconds since the Unix epoch (UTC). Ids are random UUIDs: never personal data.

CREATE TABLE centres (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);

CREATE TABLE users (
    id             TEXT PRIMARY KEY,
    centre_id      TEXT REFERENCES centres(id),
    role           TEXT NOT NULL CHECK (role IN ('candidate','evaluator','reviewer','centre_admin','platform_admin')),
    email          TEXT NOT NULL UNIQUE,
    first_names    TEXT NOT NULL,
    last_name      TEXT NOT NULL,
    password_hash  TEXT,
    created_at     INTEGER NOT NULL
);

CREATE TABLE candidates (
    user_id        TEXT PRIMARY KEY REFERENCES users(id),
    centre_id      TEXT NOT NULL REFERENCES centres(id),
    cefr_target    TEXT NOT NULL,
    time_multiplier REAL NOT NULL DEFAULT 1.0,
    created_by     TEXT REFERENCES users(id)
);

CREATE TABLE sign_in_links (
    token_hash  TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users(id),
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    used_at     INTEGER
);
CREATE INDEX sign_in_links_user ON sign_in_links(user_id);

CREATE TABLE interviews (
    id            TEXT PRIMARY KEY,
    centre_id     TEXT NOT NULL REFERENCES centres(id),
    candidate_id  TEXT NOT NULL REFERENCES users(id),
    evaluator_id  TEXT NOT NULL REFERENCES users(id),
    scheduled_at  INTEGER NOT NULL,
    duration_min  INTEGER NOT NULL,
    target_cefr   TEXT NOT NULL,
    status        TEXT NOT NULL DEFAULT 'scheduled',
    created_at    INTEGER NOT NULL
);
CREATE INDEX interviews_evaluator ON interviews(evaluator_id, scheduled_at);
CREATE INDEX interviews_candidate ON interviews(candidate_id);

CREATE TABLE items (
    id          TEXT PRIMARY KEY,
    language    TEXT NOT NULL,
    domain      TEXT NOT NULL,
    item_type   TEXT NOT NULL,
    cefr        TEXT NOT NULL,
    item_json   TEXT NOT NULL,
    loaded_at   INTEGER NOT NULL
);
CREATE INDEX items_domain ON items(language, domain);

CREATE TABLE settings (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);
