//! The items the engine may choose from, indexed by id and by domain.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::bank::{Domain, ItemType};

use super::error::CatError;
use super::irt::Model;

/// One calibrated item as the engine sees it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CatItem {
    /// The item's id in the bank.
    pub id: String,
    /// The domain it measures.
    pub domain: Domain,
    /// Its type, used to spread the types within a domain.
    pub item_type: ItemType,
    /// Its response model.
    pub model: Model,
}

/// An immutable item pool, shared by every session.
#[derive(Clone, Debug)]
pub struct Pool {
    items: Vec<CatItem>,
    by_id: HashMap<String, usize>,
    by_domain: [Vec<usize>; 5],
    types: [Vec<ItemType>; 5],
}

impl Pool {
    /// Builds a pool, checking that ids are unique and parameters usable.
    pub fn new(items: Vec<CatItem>) -> Result<Pool, CatError> {
        let mut by_id = HashMap::with_capacity(items.len());
        let mut by_domain: [Vec<usize>; 5] = Default::default();
        let mut types: [Vec<ItemType>; 5] = Default::default();
        for (i, item) in items.iter().enumerate() {
            item.model
                .validate()
                .map_err(|source| CatError::InvalidItem {
                    id: item.id.clone(),
                    source,
                })?;
            if by_id.insert(item.id.clone(), i).is_some() {
                return Err(CatError::DuplicateItem(item.id.clone()));
            }
            let d = item.domain.index();
            by_domain[d].push(i);
            if !types[d].contains(&item.item_type) {
                types[d].push(item.item_type);
            }
        }
        types.iter_mut().for_each(|t| t.sort());
        Ok(Pool {
            items,
            by_id,
            by_domain,
            types,
        })
    }

    /// Every item, in the order given to [`Pool::new`].
    pub fn items(&self) -> &[CatItem] {
        &self.items
    }

    /// How many items the pool holds.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// True when the pool holds no item.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The item with that id.
    pub fn get(&self, id: &str) -> Option<&CatItem> {
        self.by_id.get(id).map(|&i| &self.items[i])
    }

    /// The items of a domain, in pool order.
    pub fn domain(&self, domain: Domain) -> impl Iterator<Item = &CatItem> + '_ {
        self.by_domain[domain.index()]
            .iter()
            .map(|&i| &self.items[i])
    }

    /// How many items a domain has.
    pub fn domain_len(&self, domain: Domain) -> usize {
        self.by_domain[domain.index()].len()
    }

    /// The distinct item types of a domain, sorted.
    pub fn types_in(&self, domain: Domain) -> &[ItemType] {
        &self.types[domain.index()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(id: &str, domain: Domain, item_type: ItemType) -> CatItem {
        CatItem {
            id: id.into(),
            domain,
            item_type,
            model: Model::two_pl(1.0, 0.0),
        }
    }

    #[test]
    fn indexes_by_domain_and_type() {
        let pool = Pool::new(vec![
            item("v1", Domain::Vocabulary, ItemType::Choice),
            item("g1", Domain::Grammar, ItemType::OrderWords),
            item("v2", Domain::Vocabulary, ItemType::DropdownGaps),
            item("v3", Domain::Vocabulary, ItemType::Choice),
        ])
        .unwrap();
        assert_eq!(pool.len(), 4);
        assert_eq!(pool.domain_len(Domain::Vocabulary), 3);
        assert_eq!(pool.domain_len(Domain::Listening), 0);
        let ids: Vec<&str> = pool
            .domain(Domain::Vocabulary)
            .map(|i| i.id.as_str())
            .collect();
        assert_eq!(ids, ["v1", "v2", "v3"]);
        assert_eq!(
            pool.types_in(Domain::Vocabulary),
            [ItemType::DropdownGaps, ItemType::Choice]
        );
        assert_eq!(pool.get("g1").unwrap().domain, Domain::Grammar);
        assert!(pool.get("x").is_none());
    }

    #[test]
    fn rejects_duplicates_and_bad_parameters() {
        let dup = Pool::new(vec![
            item("v1", Domain::Vocabulary, ItemType::Choice),
            item("v1", Domain::Grammar, ItemType::Choice),
        ]);
        assert_eq!(dup.unwrap_err(), CatError::DuplicateItem("v1".into()));
        let mut bad = item("v1", Domain::Vocabulary, ItemType::Choice);
        bad.model = Model::two_pl(-1.0, 0.0);
        assert!(matches!(
            Pool::new(vec![bad]),
            Err(CatError::InvalidItem { .. })
        ));
    }
}
