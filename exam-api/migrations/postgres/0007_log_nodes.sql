-- The certificate log's perfect subtrees (credential::merkle::Node): 2^level leaf
-- hashes from idx · 2^level on, written as each leaf is appended, so that a root or an
-- audit path reads O(log n) rows instead of every leaf. Certificates issued before this
-- table existed are added at start (exam_api::results::log::catch_up).
CREATE TABLE log_nodes (
    level  BIGINT NOT NULL,
    idx    BIGINT NOT NULL,
    hash   TEXT NOT NULL,
    PRIMARY KEY (level, idx)
);
