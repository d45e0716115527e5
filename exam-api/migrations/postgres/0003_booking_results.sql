-- Availability, bookings, mail outbox and scheduled mails, oral scores, proctoring
-- decisions, results, certificates and their transparency log (PostgreSQL).

ALTER TABLE interviews ADD COLUMN ics_sequence BIGINT NOT NULL DEFAULT 0;
ALTER TABLE interviews ADD COLUMN confirmed_at BIGINT;
-- Double booking is impossible by construction: one live interview per evaluator and
-- start time, and one live interview per candidate.
CREATE UNIQUE INDEX interviews_one_per_slot ON interviews(evaluator_id, scheduled_at) WHERE status <> 'cancelled';
CREATE UNIQUE INDEX interviews_one_per_candidate ON interviews(candidate_id) WHERE status <> 'cancelled';

ALTER TABLE candidates ADD COLUMN booking_later_at BIGINT;

CREATE TABLE availability (
    evaluator_id  TEXT PRIMARY KEY REFERENCES users(id),
    spec_json     TEXT NOT NULL,
    updated_at    BIGINT NOT NULL
);

-- The outbox: every mail is written here in the transaction that causes it, then
-- delivered by SMTP when configured (delivered_at), or read in the local mailbox.
CREATE TABLE mails (
    id               TEXT PRIMARY KEY,
    user_id          TEXT NOT NULL REFERENCES users(id),
    to_email         TEXT NOT NULL,
    kind             TEXT NOT NULL,
    subject          TEXT NOT NULL,
    body             TEXT NOT NULL,
    attachment_name  TEXT,
    attachment_type  TEXT,
    attachment_body  TEXT,
    created_at       BIGINT NOT NULL,
    delivered_at     BIGINT,
    attempts         BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX mails_user ON mails(user_id, created_at);
CREATE INDEX mails_undelivered ON mails(delivered_at);

-- Mails due later (the reminder 24 h before an interview): sent exactly once, by
-- whichever process first marks the row sent in the transaction that writes the mail.
CREATE TABLE scheduled_mails (
    id          TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,
    user_id     TEXT NOT NULL REFERENCES users(id),
    ref_id      TEXT NOT NULL,
    due_at      BIGINT NOT NULL,
    sent_at     BIGINT,
    cancelled_at BIGINT
);
CREATE INDEX scheduled_mails_due ON scheduled_mails(due_at) WHERE sent_at IS NULL AND cancelled_at IS NULL;

CREATE TABLE oral_scores (
    interview_id  TEXT PRIMARY KEY REFERENCES interviews(id),
    evaluator_id  TEXT NOT NULL REFERENCES users(id),
    levels_json   TEXT NOT NULL,
    oral_level    TEXT NOT NULL,
    comment       TEXT NOT NULL,
    scored_at     BIGINT NOT NULL
);

CREATE TABLE reviews (
    session_id   TEXT PRIMARY KEY REFERENCES written_sessions(id),
    status       TEXT NOT NULL CHECK (status IN ('pending', 'validated', 'invalidated')),
    reviewer_id  TEXT REFERENCES users(id),
    comment      TEXT,
    decided_at   BIGINT
);

CREATE TABLE results (
    candidate_id    TEXT PRIMARY KEY REFERENCES users(id),
    result_json     TEXT NOT NULL,
    overall         TEXT NOT NULL,
    status          TEXT NOT NULL,
    certificate_id  TEXT,
    created_at      BIGINT NOT NULL
);

CREATE TABLE certificates (
    id            TEXT PRIMARY KEY,
    candidate_id  TEXT NOT NULL REFERENCES users(id),
    jwt           TEXT NOT NULL,
    leaf_index    BIGINT NOT NULL UNIQUE,
    leaf_hash     TEXT NOT NULL,
    issued_at     BIGINT NOT NULL
);

CREATE TABLE log_checkpoints (
    tree_size   BIGINT PRIMARY KEY,
    body_json   TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE revocations (
    certificate_id  TEXT PRIMARY KEY REFERENCES certificates(id),
    reason          TEXT NOT NULL,
    revoked_by      TEXT NOT NULL REFERENCES users(id),
    revoked_at      BIGINT NOT NULL
);

-- The period in which a candidate may take the written test (set by the centre).
ALTER TABLE candidates ADD COLUMN written_opens_at BIGINT;
ALTER TABLE candidates ADD COLUMN written_closes_at BIGINT;
