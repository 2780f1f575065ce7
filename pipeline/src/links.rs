//! The link results an index entry's quality band is scored with.

use super::Doc;
use samla_model::quality::LinkState;
use samla_store::{Store, StoreError};
use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};

/// Link results for scoring bands: those of a part's links, or every link's.
pub(crate) enum Links {
    /// No link has been checked (or they could not be read): every link is unchecked.
    Unchecked,
    /// The results of a part's links, looked up for it.
    These(HashMap<String, bool>),
    /// Every link's result, read once (a rebuild's).
    Every(Table),
}

impl Links {
    /// The results of `docs`' links, one lookup for them all.
    pub(crate) fn of(store: &Store, docs: &[Doc<'_>]) -> Self {
        match store.any_link_checked() {
            Ok(false) | Err(_) => Self::Unchecked,
            Ok(true) => store
                .link_states(
                    docs.iter()
                        .flat_map(|d| d.view.link_urls())
                        .map(String::as_str),
                )
                .map_or(Self::Unchecked, Self::These),
        }
    }

    /// Every link's result, for a rebuild: one read of the links rather than a lookup per
    /// part, which costs the store an index lookup a link.
    pub(crate) fn every(store: &Store) -> Result<Self, StoreError> {
        let mut table = Table::default();
        store.for_each_link_state(|url, ok| table.insert(url, ok))?;
        Ok(if table.is_empty() {
            Self::Unchecked
        } else {
            table.ok.sort_unstable();
            table.broken.sort_unstable();
            Self::Every(table)
        })
    }

    /// The state of `url`'s link at its last check.
    pub(crate) fn state(&self, url: &str) -> LinkState {
        let ok = match self {
            Self::Unchecked => None,
            Self::These(states) => states.get(url).copied(),
            Self::Every(table) => table.get(url),
        };
        match ok {
            Some(true) => LinkState::Ok,
            Some(false) => LinkState::Broken,
            None => LinkState::Unchecked,
        }
    }
}

/// Every checked link in 16 bytes rather than its URL: a 128-bit hash of the URL, keyed with
/// this process's random keys (two SipHash keys), in a sorted list per result. The chance that
/// any two of a billion URLs share a hash is below 10⁻²⁰, and nobody outside the process knows
/// the keys to make two that do.
#[derive(Default)]
pub(crate) struct Table {
    keys: [RandomState; 2],
    ok: Vec<u128>,
    broken: Vec<u128>,
}

impl Table {
    fn key(&self, url: &str) -> u128 {
        (u128::from(self.keys[0].hash_one(url)) << 64) | u128::from(self.keys[1].hash_one(url))
    }

    fn insert(&mut self, url: &str, ok: bool) {
        let key = self.key(url);
        if ok {
            self.ok.push(key);
        } else {
            self.broken.push(key);
        }
    }

    fn is_empty(&self) -> bool {
        self.ok.is_empty() && self.broken.is_empty()
    }

    fn get(&self, url: &str) -> Option<bool> {
        let key = self.key(url);
        if self.ok.binary_search(&key).is_ok() {
            Some(true)
        } else if self.broken.binary_search(&key).is_ok() {
            Some(false)
        } else {
            None
        }
    }
}
