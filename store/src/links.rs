//! Link results held compactly: what scoring a dataset's quality needs of every link.

use samla_model::quality::LinkState;
use std::collections::HashSet;
use std::hash::{BuildHasher, RandomState};

/// A URL's key: a 128-bit hash of it, keyed with two random SipHash keys of the holder's own.
/// The chance that any two of a billion URLs share a key is below 10⁻²⁰, and nobody outside
/// the process knows the keys to make two that do.
#[derive(Default)]
struct Keys([RandomState; 2]);

impl Keys {
    fn of(&self, url: &str) -> u128 {
        (u128::from(self.0[0].hash_one(url)) << 64) | u128::from(self.0[1].hash_one(url))
    }
}

/// Whether each checked link answered at its last check, in 16 bytes a link rather than its
/// URL and row: the URL's keyed 128-bit hash, in a sorted list per result. At 3 million links
/// that is 48 MB where the rows took well over a gigabyte.
#[derive(Default)]
pub struct LinkTable {
    keys: Keys,
    ok: Vec<u128>,
    broken: Vec<u128>,
}

impl LinkTable {
    fn key(&self, url: &str) -> u128 {
        self.keys.of(url)
    }

    /// Adds a result; [`LinkTable::sorted`] must follow before lookups.
    pub(crate) fn push(&mut self, url: &str, ok: bool) {
        let key = self.key(url);
        if ok {
            self.ok.push(key);
        } else {
            self.broken.push(key);
        }
    }

    /// The table ready for lookups.
    pub(crate) fn sorted(mut self) -> Self {
        self.ok.sort_unstable();
        self.ok.dedup();
        self.broken.sort_unstable();
        self.broken.dedup();
        self
    }

    /// How many links it holds.
    pub fn len(&self) -> usize {
        self.ok.len() + self.broken.len()
    }

    /// Whether it holds no link.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether `url` answered at its last check (`Some(true)`), failed (`Some(false)`), or was
    /// not checked (`None`).
    pub fn get(&self, url: &str) -> Option<bool> {
        if self.is_empty() {
            return None;
        }
        let key = self.key(url);
        if self.ok.binary_search(&key).is_ok() {
            Some(true)
        } else if self.broken.binary_search(&key).is_ok() {
            Some(false)
        } else {
            None
        }
    }

    /// The state of `url`'s link at its last check.
    pub fn state(&self, url: &str) -> LinkState {
        match self.get(url) {
            Some(true) => LinkState::Ok,
            Some(false) => LinkState::Broken,
            None => LinkState::Unchecked,
        }
    }
}

impl<S: AsRef<str>> FromIterator<(S, bool)> for LinkTable {
    fn from_iter<I: IntoIterator<Item = (S, bool)>>(results: I) -> Self {
        let mut table = Self::default();
        for (url, ok) in results {
            table.push(url.as_ref(), ok);
        }
        table.sorted()
    }
}

/// A set of URLs held as their keyed 128-bit hashes (as in [`LinkTable`]): about 32 bytes a
/// URL in its hash set, whatever the URL's length.
#[derive(Default)]
pub struct LinkSet {
    keys: Keys,
    set: HashSet<u128>,
}

impl LinkSet {
    /// Adds `url`; whether it was not in the set before.
    pub fn insert(&mut self, url: &str) -> bool {
        self.set.insert(self.keys.of(url))
    }

    /// Whether `url` is in the set.
    pub fn contains(&self, url: &str) -> bool {
        self.set.contains(&self.keys.of(url))
    }

    /// How many URLs it holds.
    pub fn len(&self) -> usize {
        self.set.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.set.is_empty()
    }
}
