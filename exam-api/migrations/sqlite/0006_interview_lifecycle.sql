-- The interview's lifecycle (SQLite): each step's time, how it was closed (held without
-- recording, no-show, with the evaluator's reason), an audit log of every step, and
-- whether a centre lets a candidate who did not come book again.

ALTER TABLE interviews ADD COLUMN arrived_at INTEGER;
ALTER TABLE interviews ADD COLUMN id_checked_at INTEGER;
ALTER TABLE interviews ADD COLUMN started_at INTEGER;
ALTER TABLE interviews ADD COLUMN ended_at INTEGER;
ALTER TABLE interviews ADD COLUMN cancelled_at INTEGER;
-- NULL (held in the room), 'held_without_recording' or 'no_show'.
ALTER TABLE interviews ADD COLUMN closure TEXT;
ALTER TABLE interviews ADD COLUMN closure_reason TEXT;

-- Interviews held before the lifecycle was stored have no step times: they are kept
-- as held without recording (they may still be scored or corrected), with that reason.
UPDATE interviews SET closure = 'held_without_recording',
    closure_reason = 'held before the interview lifecycle was recorded',
    ended_at = scheduled_at + duration_min * 60000
    WHERE status IN ('done', 'ended');
UPDATE interviews SET started_at = scheduled_at WHERE status = 'in_progress';
-- Scoring no longer changes the phase: a scored interview is an ended one.
UPDATE interviews SET status = 'ended' WHERE status = 'done';

-- A candidate who did not come may book again (if their centre allows it).
DROP INDEX interviews_one_per_candidate;
CREATE UNIQUE INDEX interviews_one_per_candidate ON interviews(candidate_id) WHERE status NOT IN ('cancelled', 'no_show');

ALTER TABLE centres ADD COLUMN rebook_after_no_show INTEGER NOT NULL DEFAULT 1;

CREATE TABLE interview_audit (
    interview_id  TEXT NOT NULL REFERENCES interviews(id),
    seq           INTEGER NOT NULL,
    actor_id      TEXT REFERENCES users(id),
    action        TEXT NOT NULL,
    from_status   TEXT NOT NULL,
    to_status     TEXT NOT NULL,
    reason        TEXT,
    at            INTEGER NOT NULL,
    PRIMARY KEY (interview_id, seq)
);
