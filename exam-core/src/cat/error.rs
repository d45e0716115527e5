//! The errors of the adaptive engine.

use crate::bank::Domain;

use super::irt::ModelError;

/// What went wrong building a pool or session, or feeding a session.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum CatError {
    /// A configuration value is out of range.
    #[error("invalid CAT configuration: {0}")]
    InvalidConfig(&'static str),
    /// An item's parameters cannot be used.
    #[error("item {id}: {source}")]
    InvalidItem {
        /// The item.
        id: String,
        /// What is wrong with its parameters.
        #[source]
        source: ModelError,
    },
    /// Two items of a pool share an id.
    #[error("item id {0} appears more than once in the pool")]
    DuplicateItem(String),
    /// The item is not in the pool.
    #[error("item {0} is not in the pool")]
    UnknownItem(String),
    /// A response was recorded for an item that is not the one the session is waiting for.
    #[error("response for item {got}, but the pending item is {}", expected.as_deref().unwrap_or("none"))]
    NotPending {
        /// The pending item, if any.
        expected: Option<String>,
        /// The item the response was for.
        got: String,
    },
    /// The score is above the item's maximum.
    #[error("score {score} for item {item} is above its maximum {max}")]
    ScoreOutOfRange {
        /// The item.
        item: String,
        /// The score given.
        score: u32,
        /// The item's maximum score.
        max: u32,
    },
    /// A replayed or restored item belongs to another domain than the current one.
    #[error("item {item} is in domain {got}, but the session is in domain {expected}")]
    OutOfOrder {
        /// The item.
        item: String,
        /// The session's current domain.
        expected: Domain,
        /// The item's domain.
        got: Domain,
    },
    /// The item was already given in this session.
    #[error("item {0} was already given in this session")]
    Repeated(String),
    /// The session has already given all its items.
    #[error("the session is finished")]
    Finished,
    /// A pending item cannot be restored while another one is pending.
    #[error("item {0} is already pending")]
    AlreadyPending(String),
}
