//! Link results held compactly: what scoring a dataset's quality needs of every link.

use samla_model::quality::LinkState;
use std::hash::{BuildHasher, RandomState};

/// Whether each checked link answered at its last check, in 16 bytes a link rather than its
/// URL and row: a 128-bit hash of the URL, keyed with random keys of this table's own (two
/// SipHash keys), in a sorted list per result. At 3 million links that is 48 MB where the
/// rows took well over a gigabyte. The chance that any two of a billion URLs share a hash is
/// below 10⁻²⁰, and nobody outside the process knows the keys to make two that do.
#[derive(Default)]
pub struct LinkTable {
    keys: [RandomState; 2],
    ok: Vec<u128>,
    broken: Vec<u128>,
}

impl LinkTable {
    fn key(&self, url: &str) -> u128 {
        (u128::from(self.keys[0].hash_one(url)) << 64) | u128::from(self.keys[1].hash_one(url))
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
