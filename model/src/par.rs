//! Work shared out between the cores, in order: deterministic whatever their number.

/// Items at least, for [`par_map`] to share them out.
pub const PARALLEL_FROM: usize = 64;

/// `f` of each item, in order, the items shared out between the cores (parsing a dataset's
/// graph, its view, its quality band and its SHACL verdict are much of the CPU time of
/// indexing it or of deriving what the reports know of it).
pub fn par_map<'a, T: Sync, U: Send>(items: &'a [T], f: impl Fn(&'a T) -> U + Sync) -> Vec<U> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    if threads < 2 || items.len() < PARALLEL_FROM {
        return items.iter().map(f).collect();
    }
    let f = &f;
    std::thread::scope(|s| {
        let parts: Vec<_> = items
            .chunks(items.len().div_ceil(threads))
            .map(|part| s.spawn(move || part.iter().map(f).collect::<Vec<U>>()))
            .collect();
        parts
            .into_iter()
            .flat_map(|part| match part.join() {
                Ok(done) => done,
                Err(panic) => std::panic::resume_unwind(panic),
            })
            .collect()
    })
}
