//! The certificate log as stored: its perfect subtrees ([`merkle::Node`]) in
//! `log_nodes`, written as each leaf is appended, so that appending a leaf, a root and an
//! audit path each read O(log n) rows however long the log has grown.
//!
//! Every function takes a connection (or a transaction), so that an issuance appends its
//! leaf in the result's transaction and a check reads one consistent snapshot.

use std::collections::HashMap;

use credential::merkle::{self, Hash, Node};
use sqlx::AnyConnection;

use crate::db::{Db, StoreError};

/// A hash as stored: 64 hexadecimal digits.
pub(crate) fn hex(h: &Hash) -> String {
    h.iter().map(|b| format!("{b:02x}")).collect()
}

/// A hash stored as 64 hexadecimal digits.
pub(crate) fn unhex(s: &str) -> Result<Hash, StoreError> {
    let bad = || StoreError::Corrupt(format!("a log hash is not 32 bytes of hex: {s:?}"));
    if s.len() != 64 || !s.is_ascii() {
        return Err(bad());
    }
    let mut h = [0u8; 32];
    for (i, b) in h.iter_mut().enumerate() {
        *b = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).map_err(|_| bad())?;
    }
    Ok(h)
}

fn index(i: u64) -> i64 {
    i64::try_from(i).unwrap_or(i64::MAX)
}

/// How many leaves the log holds (the leaf nodes are numbered from 0 without gaps).
pub async fn size(conn: &mut AnyConnection) -> Result<u64, StoreError> {
    let (max,): (Option<i64>,) = sqlx::query_as("SELECT MAX(idx) FROM log_nodes WHERE level = 0")
        .fetch_one(&mut *conn)
        .await?;
    Ok(max.map_or(0, |m| m as u64 + 1))
}

/// The stored hashes of `nodes`, in one query; an error if any is missing.
async fn read(conn: &mut AnyConnection, nodes: &[Node]) -> Result<HashMap<Node, Hash>, StoreError> {
    let mut wanted: Vec<Node> = nodes.to_vec();
    wanted.sort();
    wanted.dedup();
    if wanted.is_empty() {
        return Ok(HashMap::new());
    }
    let mut sql = String::from("SELECT level, idx, hash FROM log_nodes WHERE ");
    for k in 0..wanted.len() {
        if k > 0 {
            sql.push_str(" OR ");
        }
        sql.push_str(&format!(
            "(level = ${} AND idx = ${})",
            2 * k + 1,
            2 * k + 2
        ));
    }
    // Only placeholders are formatted in; the values are bound.
    let mut query = sqlx::query_as::<_, (i64, i64, String)>(sqlx::AssertSqlSafe(sql));
    for n in &wanted {
        query = query.bind(i64::from(n.level)).bind(index(n.index));
    }
    let rows = query.fetch_all(&mut *conn).await?;
    let mut found = HashMap::with_capacity(rows.len());
    for (level, idx, hash) in rows {
        let node = Node {
            level: u32::try_from(level).map_err(|_| StoreError::Corrupt("log level".into()))?,
            index: u64::try_from(idx).map_err(|_| StoreError::Corrupt("log index".into()))?,
        };
        found.insert(node, unhex(&hash)?);
    }
    match wanted.iter().find(|n| !found.contains_key(n)) {
        Some(n) => Err(StoreError::Corrupt(format!(
            "the log has no node at level {} index {}",
            n.level, n.index
        ))),
        None => Ok(found),
    }
}

/// Appends a leaf hash; returns its index and the log's new root. Writes the leaf and
/// the subtrees it completes; reads their left halves and the older nodes of the new
/// root's cover, never a node it has just written.
pub async fn append(conn: &mut AnyConnection, leaf: Hash) -> Result<(u64, Hash), StoreError> {
    let at = size(conn).await?;
    let completed = merkle::completed_by_append(at);
    let mut written = vec![(
        Node {
            level: 0,
            index: at,
        },
        leaf,
    )];
    // The new root's cover ends with the highest node this append writes; the nodes before
    // it, and the left halves of the completed nodes, are already stored: one read.
    let cover = merkle::cover(0, at + 1);
    let mut needed: Vec<Node> = completed.iter().map(|(_, left, _)| *left).collect();
    needed.extend(&cover[..cover.len() - 1]);
    let mut hashes = read(conn, &needed).await?;
    let mut right = leaf;
    for (parent, left, _) in &completed {
        right = merkle::node_hash(&hashes[left], &right);
        written.push((*parent, right));
    }
    hashes.extend(written.iter().copied());
    let root = merkle::fold(&cover.iter().map(|n| hashes[n]).collect::<Vec<_>>());
    for (node, hash) in &written {
        sqlx::query("INSERT INTO log_nodes (level, idx, hash) VALUES ($1, $2, $3)")
            .bind(i64::from(node.level))
            .bind(index(node.index))
            .bind(hex(hash))
            .execute(&mut *conn)
            .await
            .map_err(|e| {
                StoreError::on_constraint(e, "log_nodes_pkey", "log_nodes.level, log_nodes.idx")
            })?;
    }
    Ok((at, root))
}

/// The audit path of leaf `leaf` in the log's first `size` leaves; `None` if it is not
/// one of them.
pub async fn inclusion_proof(
    conn: &mut AnyConnection,
    leaf: u64,
    size: u64,
) -> Result<Option<Vec<Hash>>, StoreError> {
    let Some(plan) = merkle::inclusion_plan(leaf, size) else {
        return Ok(None);
    };
    let all: Vec<Node> = plan.iter().flatten().copied().collect();
    let hashes = read(conn, &all).await?;
    Ok(Some(
        plan.iter()
            .map(|group| merkle::fold(&group.iter().map(|n| hashes[n]).collect::<Vec<_>>()))
            .collect(),
    ))
}

/// Writes the nodes of certificates issued before the log kept its subtrees (a data
/// directory of an earlier version), once, at start: a no-op when the nodes hold every
/// certificate's leaf.
pub async fn catch_up(db: &Db) -> Result<u64, StoreError> {
    let mut tx = db.begin_write().await?;
    let have = size(&mut tx).await?;
    let leaves: Vec<(String,)> = sqlx::query_as(
        "SELECT leaf_hash FROM certificates WHERE leaf_index >= $1 ORDER BY leaf_index",
    )
    .bind(index(have))
    .fetch_all(&mut *tx)
    .await?;
    for (hash,) in &leaves {
        append(&mut tx, unhex(hash)?).await?;
    }
    tx.commit().await?;
    Ok(leaves.len() as u64)
}
