-- Hardening (PostgreSQL): no two live interviews of an evaluator overlap, whoever books
-- them; sign-out revokes the session; a new sign-in link replaces the older unused ones.

-- btree_gist gives text equality to a GiST index (a trusted extension since PostgreSQL 13).
CREATE EXTENSION IF NOT EXISTS btree_gist;

ALTER TABLE interviews ADD CONSTRAINT interviews_no_overlap EXCLUDE USING gist (
    evaluator_id WITH =,
    int8range(scheduled_at, scheduled_at + duration_min * 60000) WITH &&
) WHERE (status <> 'cancelled');

-- Sessions ended before their expiry (sign-out); rows are useless after `expires_at`.
CREATE TABLE revoked_sessions (
    session_id  TEXT PRIMARY KEY,
    expires_at  BIGINT NOT NULL
);

ALTER TABLE sign_in_links ADD COLUMN replaced_at BIGINT;
