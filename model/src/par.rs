//! Work shared out between the cores, in order: deterministic whatever their number. On
//! rayon's pool (tantivy's own dependency): its threads live as long as the process, so
//! what one allocates another frees without the allocator reclaiming a thread's memory
//! each time, as threads spawned per call made it do.

use rayon::prelude::*;

/// Items at least, for [`par_map`] to share them out.
pub const PARALLEL_FROM: usize = 64;

/// `f` of each item, in order, the items shared out between the cores (parsing a dataset's
/// graph, its view, its quality band and its SHACL verdict are much of the CPU time of
/// indexing it or of deriving what the reports know of it).
pub fn par_map<'a, T: Sync, U: Send>(items: &'a [T], f: impl Fn(&'a T) -> U + Sync) -> Vec<U> {
    if items.len() < PARALLEL_FROM || rayon::current_num_threads() < 2 {
        return items.iter().map(f).collect();
    }
    let f = &f;
    items.par_iter().map(f).collect()
}

/// Drops `items` on every core (freeing a part's parsed graphs is a share of the CPU time
/// of indexing them).
pub fn par_drop<T: Send>(items: Vec<T>) {
    if items.len() < PARALLEL_FROM || rayon::current_num_threads() < 2 {
        return;
    }
    items.into_par_iter().for_each(drop);
}
