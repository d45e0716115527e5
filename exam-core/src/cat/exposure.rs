//! Exposure counters shared by every session of a pool.
//!
//! The restricted part of the selection method (see [`super::select`]) needs to know
//! how often each item has been given so far. That state belongs to the whole pool, not
//! to one candidate, so it lives here, outside [`super::CatSession`]: the caller owns it
//! (in memory, or loaded from and saved to its database) and lends it to
//! [`super::CatSession::next_item`], which updates it.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

/// How many candidates have started a test and how often each item was given.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ExposureCounts {
    candidates: u64,
    given: HashMap<String, u64>,
}

impl ExposureCounts {
    /// Counters with no candidate and no item given.
    pub fn new() -> Self {
        Self::default()
    }

    /// Counters restored from stored values.
    pub fn from_parts(candidates: u64, given: HashMap<String, u64>) -> Self {
        ExposureCounts { candidates, given }
    }

    /// How many candidates have started a test.
    pub fn candidates(&self) -> u64 {
        self.candidates
    }

    /// How many times the item has been given.
    pub fn given(&self, item_id: &str) -> u64 {
        self.given.get(item_id).copied().unwrap_or(0)
    }

    /// The fraction of candidates who were given the item (0 before any candidate).
    pub fn rate(&self, item_id: &str) -> f64 {
        if self.candidates == 0 {
            0.0
        } else {
            self.given(item_id) as f64 / self.candidates as f64
        }
    }

    /// Every item given at least once, with its count.
    pub fn iter(&self) -> impl Iterator<Item = (&str, u64)> + '_ {
        self.given.iter().map(|(k, &v)| (k.as_str(), v))
    }

    /// Counts one more candidate.
    pub fn note_candidate(&mut self) {
        self.candidates += 1;
    }

    /// Counts one more administration of the item.
    pub fn note_given(&mut self, item_id: &str) {
        match self.given.get_mut(item_id) {
            Some(n) => *n += 1,
            None => {
                self.given.insert(item_id.to_owned(), 1);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_rates() {
        let mut e = ExposureCounts::new();
        assert_eq!(e.rate("a"), 0.0);
        e.note_candidate();
        e.note_candidate();
        e.note_given("a");
        assert_eq!(e.given("a"), 1);
        assert_eq!(e.given("b"), 0);
        assert_eq!(e.rate("a"), 0.5);
        let back: ExposureCounts =
            serde_json::from_str(&serde_json::to_string(&e).unwrap()).unwrap();
        assert_eq!(back, e);
        assert_eq!(
            ExposureCounts::from_parts(2, [("a".to_owned(), 1)].into()),
            e
        );
    }
}
