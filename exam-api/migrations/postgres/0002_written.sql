-- The candidate's steps before the test, and the written test (PostgreSQL).

CREATE TABLE candidate_profiles (
    user_id        TEXT PRIMARY KEY REFERENCES users(id),
    birth_name     TEXT NOT NULL,
    usage_name     TEXT,
    first_names    TEXT NOT NULL,
    birth_date     TEXT NOT NULL,
    sex            TEXT NOT NULL CHECK (sex IN ('F', 'M')),
    birth_commune  TEXT NOT NULL,
    birth_country  TEXT NOT NULL,
    updated_at     BIGINT NOT NULL
);

CREATE TABLE candidate_steps (
    user_id            TEXT PRIMARY KEY REFERENCES users(id),
    system_check_at    BIGINT,
    system_check_json  TEXT,
    identity_at        BIGINT
);

CREATE TABLE written_sessions (
    id               TEXT PRIMARY KEY,
    candidate_id     TEXT NOT NULL UNIQUE REFERENCES users(id),
    seed             BIGINT NOT NULL,
    time_multiplier  DOUBLE PRECISION NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('in_progress', 'finished')),
    created_at       BIGINT NOT NULL,
    finished_at      BIGINT,
    result_json      TEXT
);

-- One row per item presented; an answer or timeout completes the row. Nothing is
-- ever deleted: this is the candidate's record.
CREATE TABLE written_items (
    session_id     TEXT NOT NULL REFERENCES written_sessions(id),
    position       BIGINT NOT NULL,
    item_id        TEXT NOT NULL,
    presented_at   BIGINT NOT NULL,
    deadline_at    BIGINT NOT NULL,
    done_at        BIGINT,
    outcome        TEXT CHECK (outcome IN ('answered', 'timeout')),
    response_json  TEXT,
    score          BIGINT,
    plays          BIGINT NOT NULL DEFAULT 0,
    extended_ms    BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (session_id, position)
);
CREATE INDEX written_items_item ON written_items(item_id);
