-- Hardening (SQLite): no two live interviews of an evaluator overlap, whoever books
-- them; sign-out revokes the session; a new sign-in link replaces the older unused ones.

-- SQLite has no exclusion constraint: triggers refuse an insert or a change that would
-- overlap a live interview of the same evaluator (the error names the constraint).
CREATE TRIGGER interviews_no_overlap_insert
BEFORE INSERT ON interviews
WHEN NEW.status <> 'cancelled' AND EXISTS (
    SELECT 1 FROM interviews i
    WHERE i.evaluator_id = NEW.evaluator_id AND i.status <> 'cancelled'
      AND i.scheduled_at < NEW.scheduled_at + NEW.duration_min * 60000
      AND i.scheduled_at + i.duration_min * 60000 > NEW.scheduled_at
)
BEGIN
    SELECT RAISE(ABORT, 'interviews_no_overlap');
END;

CREATE TRIGGER interviews_no_overlap_update
BEFORE UPDATE OF evaluator_id, scheduled_at, duration_min, status ON interviews
WHEN NEW.status <> 'cancelled' AND EXISTS (
    SELECT 1 FROM interviews i
    WHERE i.id <> NEW.id AND i.evaluator_id = NEW.evaluator_id AND i.status <> 'cancelled'
      AND i.scheduled_at < NEW.scheduled_at + NEW.duration_min * 60000
      AND i.scheduled_at + i.duration_min * 60000 > NEW.scheduled_at
)
BEGIN
    SELECT RAISE(ABORT, 'interviews_no_overlap');
END;

-- Sessions ended before their expiry (sign-out); rows are useless after `expires_at`.
CREATE TABLE revoked_sessions (
    session_id  TEXT PRIMARY KEY,
    expires_at  INTEGER NOT NULL
);

ALTER TABLE sign_in_links ADD COLUMN replaced_at INTEGER;
