//! Guessing the next page of a paged source from the links followed so far, so the page after
//! the one being read can be read ahead of the walk.

use url::Url;

/// The page after `current`, guessed from the link from `previous` to it: the one query
/// parameter whose integer value grew, grown once more by the same step (`page=2` → `page=3`
/// gives `page=4`; `start=100&rows=100` → `start=200&rows=100` gives `start=300&rows=100`).
/// `None` unless the two URLs differ in exactly that: one integer parameter, grown.
///
/// A guess is only a guess: the walk takes the page read ahead only when the page it reads
/// links to that very URL.
pub(crate) fn guess_next(previous: &Url, current: &Url) -> Option<Url> {
    let base = |u: &Url| {
        let mut u = u.clone();
        u.set_query(None);
        u.set_fragment(None);
        u
    };
    if base(previous) != base(current) {
        return None;
    }
    let (before, now) = (previous.query()?, current.query()?);
    let (before, now): (Vec<&str>, Vec<&str>) =
        (before.split('&').collect(), now.split('&').collect());
    if before.len() != now.len() {
        return None;
    }
    let mut changed = None;
    for (i, (b, n)) in before.iter().zip(&now).enumerate() {
        if b == n {
            continue;
        }
        let ((b_name, b_value), (n_name, n_value)) = (b.split_once('=')?, n.split_once('=')?);
        if changed.is_some() || b_name != n_name {
            return None;
        }
        let (b_value, n_value): (u64, u64) = (b_value.parse().ok()?, n_value.parse().ok()?);
        let step = n_value.checked_sub(b_value).filter(|s| *s > 0)?;
        changed = Some((i, n_name, n_value.checked_add(step)?));
    }
    let (i, name, value) = changed?;
    let mut pairs = now.clone();
    let pair = format!("{name}={value}");
    pairs[i] = &pair;
    let mut guess = current.clone();
    guess.set_query(Some(&pairs.join("&")));
    Some(guess)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guess(previous: &str, current: &str) -> Option<String> {
        let url = |u: &str| Url::parse(u).expect("url");
        guess_next(&url(previous), &url(current)).map(String::from)
    }

    #[test]
    fn a_growing_integer_parameter_grows_by_its_step() {
        assert_eq!(
            guess("http://x.se/c?page=2", "http://x.se/c?page=3").as_deref(),
            Some("http://x.se/c?page=4")
        );
        assert_eq!(
            guess(
                "http://x.se/api?q=*&start=100&rows=100",
                "http://x.se/api?q=*&start=200&rows=100"
            )
            .as_deref(),
            Some("http://x.se/api?q=*&start=300&rows=100")
        );
    }

    #[test]
    fn anything_else_is_no_guess() {
        for (previous, current) in [
            // The first page often has no parameter at all.
            ("http://x.se/c", "http://x.se/c?page=2"),
            // Going back, standing still, or not a number.
            ("http://x.se/c?page=3", "http://x.se/c?page=2"),
            ("http://x.se/c?page=2", "http://x.se/c?page=2"),
            ("http://x.se/c?page=a", "http://x.se/c?page=b"),
            // Two parameters changed, or another path, host or parameter name.
            ("http://x.se/c?page=1&v=1", "http://x.se/c?page=2&v=2"),
            ("http://x.se/c?page=1", "http://x.se/d?page=2"),
            ("http://x.se/c?page=1", "http://y.se/c?page=2"),
            ("http://x.se/c?page=1", "http://x.se/c?p=2"),
            // A cursor, not a count.
            ("http://x.se/c?cursor=abc", "http://x.se/c?cursor=def"),
        ] {
            assert_eq!(guess(previous, current), None, "{previous} → {current}");
        }
    }
}
