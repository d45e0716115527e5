-- Proctoring (PostgreSQL): the identity step's captures, the events the vision pipeline
-- closed with their images, the reviewers' audit log, and who reviews which session.
-- Images (captures, thumbnails, clip frames) are deleted after the retention period;
-- events, decisions and the audit log stay: they are the record of the review.

-- The reviewer a finished test is assigned to (NULL while the centre has none).
ALTER TABLE reviews ADD COLUMN assigned_to TEXT REFERENCES users(id);
-- When the session's images were deleted.
ALTER TABLE reviews ADD COLUMN media_purged_at BIGINT;
UPDATE reviews SET assigned_to = reviewer_id WHERE reviewer_id IS NOT NULL;
CREATE INDEX reviews_assigned ON reviews(assigned_to, status);

-- The latest accepted selfie and ID document of each candidate, and the similarity of
-- their faces (face embeddings are never stored). `version` grows with each capture, so
-- a comparison is stored only for the pair it was computed on.
CREATE TABLE identity_captures (
    candidate_id   TEXT PRIMARY KEY REFERENCES users(id),
    version        BIGINT NOT NULL,
    selfie         BYTEA,
    selfie_type    TEXT,
    selfie_at      BIGINT,
    document       BYTEA,
    document_type  TEXT,
    document_at    BIGINT,
    similarity     DOUBLE PRECISION,
    compared_at    BIGINT,
    purged_at      BIGINT
);

CREATE TABLE proctoring_events (
    id               TEXT PRIMARY KEY,
    session_id       TEXT NOT NULL REFERENCES written_sessions(id),
    kind             TEXT NOT NULL,
    severity         TEXT NOT NULL CHECK (severity IN ('info', 'low', 'medium', 'high')),
    start_ms         BIGINT NOT NULL,
    end_ms           BIGINT NOT NULL,
    peak_confidence  DOUBLE PRECISION NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('pending', 'confirmed', 'dismissed')),
    comment          TEXT,
    decided_by       TEXT REFERENCES users(id),
    decided_at       BIGINT,
    created_at       BIGINT NOT NULL
);
CREATE INDEX proctoring_events_session ON proctoring_events(session_id, start_ms);

-- Thumbnails (at_ms NULL) and clip frames of an event, in order (seq).
CREATE TABLE proctoring_media (
    id        TEXT PRIMARY KEY,
    event_id  TEXT NOT NULL REFERENCES proctoring_events(id),
    role      TEXT NOT NULL CHECK (role IN ('thumbnail', 'clip')),
    seq       BIGINT NOT NULL,
    at_ms     BIGINT,
    jpeg      BYTEA NOT NULL,
    UNIQUE (event_id, role, seq)
);

-- Every reviewer action: opened, confirmed, dismissed, validated, invalidated.
-- `seq` orders a session's entries written in the same millisecond.
CREATE TABLE proctoring_audit (
    id           TEXT PRIMARY KEY,
    session_id   TEXT NOT NULL REFERENCES written_sessions(id),
    seq          BIGINT NOT NULL,
    event_id     TEXT REFERENCES proctoring_events(id),
    reviewer_id  TEXT NOT NULL REFERENCES users(id),
    action       TEXT NOT NULL,
    comment      TEXT,
    at           BIGINT NOT NULL
);
CREATE INDEX proctoring_audit_session ON proctoring_audit(session_id, at, seq);
