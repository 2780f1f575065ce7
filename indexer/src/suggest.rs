//! Suggestions for a search box: completions of what has been typed, from the indexed
//! titles, keywords, organisations, municipalities, themes and specifications.
//!
//! Every dataset indexes one term per name it carries in the `suggest` field: the name's
//! folded words (lower case, accents folded), then what kind of name it is, its language and
//! the name as written, joined by U+001F. A title is also indexed from each later word, so
//! `elbil` completes to "Laddplatser för elbilar". The term dictionary is sorted, so the
//! completions of a prefix are one range of it, and its document frequencies count the
//! datasets that carry each name. Only when a prefix completes to too little are the names
//! starting with its first letter compared with it by edit distance (typos).

use crate::IndexInput;
use samla_model::labels;
use samla_model::normalize::folded_chars;
use serde::Serialize;
use std::collections::HashMap;
use tantivy::termdict::TermDictionary;

/// Most suggestions one request returns.
pub const MAX_SUGGESTIONS: usize = 20;

/// Separates a term's parts.
const SEPARATOR: char = '\u{1f}';

/// Longest name suggested, in characters (longer ones are left out).
const LONGEST_NAME: usize = 160;

/// Later words of a title a completion may start from.
const TITLE_WORDS: usize = 3;

/// Names read from the dictionary per segment before the ranking.
const SCANNED: usize = 4096;

/// Names compared by edit distance per segment, when a prefix completes to too little.
const SCANNED_FOR_TYPOS: usize = 20_000;

/// What kind of name a suggestion is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A dataset title.
    Title,
    /// A keyword.
    Keyword,
    /// A publishing organisation.
    Organisation,
    /// A municipality.
    Municipality,
    /// A data theme.
    Theme,
    /// A national specification.
    Specification,
}

impl Kind {
    fn code(self) -> &'static str {
        match self {
            Kind::Title => "t",
            Kind::Keyword => "k",
            Kind::Organisation => "o",
            Kind::Municipality => "m",
            Kind::Theme => "h",
            Kind::Specification => "s",
        }
    }

    fn from_code(code: &str) -> Option<Self> {
        Some(match code {
            "t" => Kind::Title,
            "k" => Kind::Keyword,
            "o" => Kind::Organisation,
            "m" => Kind::Municipality,
            "h" => Kind::Theme,
            "s" => Kind::Specification,
            _ => return None,
        })
    }
}

/// A completion.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Suggestion {
    /// The name as written.
    pub text: String,
    /// What it names.
    pub kind: Kind,
    /// Datasets that carry it.
    pub datasets: u64,
}

/// Text as it is matched: folded words (runs of letters and digits), one space apart.
pub fn key(text: &str) -> String {
    let mut key = String::with_capacity(text.len());
    let mut between = false;
    for c in folded_chars(text) {
        if c.is_alphanumeric() {
            if between && !key.is_empty() {
                key.push(' ');
            }
            between = false;
            key.push(c);
        } else {
            between = true;
        }
    }
    key
}

/// One term of the `suggest` field: `key`, kind, language, name.
fn term(key: &str, kind: Kind, lang: &str, name: &str) -> String {
    let mut term = String::with_capacity(key.len() + lang.len() + name.len() + 5);
    for part in [key, kind.code(), lang] {
        term.push_str(part);
        term.push(SEPARATOR);
    }
    term.push_str(name);
    term
}

/// The `suggest` terms of a dataset.
pub(crate) fn terms(input: &IndexInput<'_>) -> Vec<String> {
    let v = input.view;
    let mut out = Vec::new();
    let mut add = |kind: Kind, lang: &str, name: &str, from_each_word: bool| {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > LONGEST_NAME || name.contains(SEPARATOR) {
            return;
        }
        let whole = key(name);
        if whole.is_empty() {
            return;
        }
        out.push(term(&whole, kind, lang, name));
        if from_each_word {
            // From each later word that says something (not `i`, `och`, `for`, a number).
            let starts = whole
                .match_indices(' ')
                .map(|(at, _)| at + 1)
                .filter(|&at| {
                    let w = whole[at..].split(' ').next().unwrap_or("");
                    w.chars().count() >= 3
                        && !w.chars().all(|c| c.is_ascii_digit())
                        && !crate::LITTLE_WORDS.contains(&w)
                })
                .take(TITLE_WORDS);
            for at in starts {
                out.push(term(&whole[at..], kind, lang, name));
            }
        }
    };
    for (lang, title) in &v.title {
        add(Kind::Title, lang, title, true);
    }
    for (lang, keyword) in &v.keywords {
        add(Kind::Keyword, lang, keyword, false);
    }
    if let Some(p) = &v.publisher {
        for (lang, name) in &p.name {
            add(Kind::Organisation, lang, name, true);
        }
    }
    for name in input.municipality_names {
        add(Kind::Municipality, "", name, false);
    }
    for theme in &v.themes {
        for lang in ["sv", "en"] {
            if let Some(label) = labels::label_for(theme, lang) {
                add(Kind::Theme, lang, label, false);
            }
        }
    }
    for spec in &v.conforms_to {
        add(
            Kind::Specification,
            "",
            &labels::specification_label(spec),
            false,
        );
    }
    out.sort();
    out.dedup();
    out
}

/// A suggestion found, before ranking.
struct Found {
    suggestion: Suggestion,
    /// Whether the name starts with what was typed (not a later word of it).
    starts: bool,
    /// Edit distance to what was typed (0: a completion as typed).
    distance: usize,
}

/// Adds the name of `term` (carried by `datasets` datasets, `distance` edits from what was
/// typed) to `found`, when it is shown in `lang`.
fn take(
    found: &mut HashMap<String, Found>,
    term: &[u8],
    datasets: u64,
    distance: usize,
    lang: &str,
) {
    let Ok(term) = std::str::from_utf8(term) else {
        return;
    };
    let mut parts = term.split(SEPARATOR);
    let (Some(term_key), Some(kind), Some(term_lang), Some(name)) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return;
    };
    let Some(kind) = Kind::from_code(kind) else {
        return;
    };
    if !shown_in(term_lang, lang) {
        return;
    }
    let starts = key(name).starts_with(term_key);
    let entry = found.entry(name.to_lowercase()).or_insert_with(|| Found {
        suggestion: Suggestion {
            text: name.to_string(),
            kind,
            datasets: 0,
        },
        starts,
        distance,
    });
    // A name is counted once per dataset: from its whole key, not its later words.
    if starts || !entry.starts {
        entry.suggestion.datasets = entry.suggestion.datasets.max(datasets);
    }
    entry.starts |= starts;
    entry.distance = entry.distance.min(distance);
}

/// Whether a name in `lang` is shown to someone asking in `asked`: names without a
/// language, and those in the asked one (`sv-SE` is Swedish).
fn shown_in(lang: &str, asked: &str) -> bool {
    lang.is_empty() || lang.split('-').next() == Some(asked)
}

/// The completions of `q` in `lang` over the dictionaries of every segment: names that start
/// with it (or a later word of a title does) first, then names within a small edit distance
/// of it; each group by the datasets that carry them. At most `limit`.
pub(crate) fn complete<'a>(
    dictionaries: impl Iterator<Item = &'a TermDictionary> + Clone,
    q: &str,
    lang: &str,
    limit: usize,
) -> Vec<Suggestion> {
    let typed = key(&q.chars().take(crate::MAX_QUERY_CHARS).collect::<String>());
    if typed.is_empty() {
        return Vec::new();
    }
    let mut found: HashMap<String, Found> = HashMap::new();
    let merge = |counts: &mut HashMap<Vec<u8>, u64>, key: &[u8], n: u32| {
        *counts.entry(key.to_vec()).or_default() += u64::from(n);
    };
    // Completions as typed: one range of each dictionary.
    let mut counts: HashMap<Vec<u8>, u64> = HashMap::new();
    for dictionary in dictionaries.clone() {
        let Ok(mut stream) = dictionary.range().ge(typed.as_bytes()).into_stream() else {
            continue;
        };
        let mut read = 0;
        while stream.advance() && read < SCANNED {
            if !stream.key().starts_with(typed.as_bytes()) {
                break;
            }
            merge(&mut counts, stream.key(), stream.value().doc_freq);
            read += 1;
        }
    }
    for (term, n) in &counts {
        take(&mut found, term, *n, 0, lang);
    }
    // Typos: names starting with the same letter, compared by their start.
    let length = typed.chars().count();
    if found.len() < limit && length >= 4 {
        let allowed = if length >= 8 { 2 } else { 1 };
        let first: String = typed.chars().take(1).collect();
        let mut counts: HashMap<Vec<u8>, (u64, usize)> = HashMap::new();
        for dictionary in dictionaries {
            let Ok(mut stream) = dictionary.range().ge(first.as_bytes()).into_stream() else {
                continue;
            };
            let mut read = 0;
            while stream.advance() && read < SCANNED_FOR_TYPOS {
                let Ok(term) = std::str::from_utf8(stream.key()) else {
                    continue;
                };
                if !term.starts_with(first.as_str()) {
                    break;
                }
                read += 1;
                let term_key = term.split(SEPARATOR).next().unwrap_or("");
                let distance = (length.saturating_sub(allowed)..=length + allowed)
                    .filter_map(|n| {
                        let start: String = term_key.chars().take(n).collect();
                        (start.chars().count() == n).then(|| strsim::osa_distance(&start, &typed))
                    })
                    .min();
                if let Some(distance) = distance.filter(|d| (1..=allowed).contains(d)) {
                    let entry = counts.entry(stream.key().to_vec()).or_insert((0, distance));
                    entry.0 += u64::from(stream.value().doc_freq);
                }
            }
        }
        for (term, (n, distance)) in &counts {
            take(&mut found, term, *n, *distance, lang);
        }
    }
    let mut found: Vec<Found> = found.into_values().collect();
    found.sort_by(|a, b| {
        (
            a.distance,
            !a.starts,
            std::cmp::Reverse(a.suggestion.datasets),
        )
            .cmp(&(
                b.distance,
                !b.starts,
                std::cmp::Reverse(b.suggestion.datasets),
            ))
            .then_with(|| a.suggestion.text.len().cmp(&b.suggestion.text.len()))
            .then_with(|| a.suggestion.text.cmp(&b.suggestion.text))
    });
    found
        .into_iter()
        .take(limit)
        .map(|f| f.suggestion)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_fold_case_accents_and_punctuation() {
        assert_eq!(
            key("  Badvatten-kvalitet i MALMÖ "),
            "badvatten kvalitet i malmo"
        );
        assert_eq!(key("!!"), "");
    }

    /// The key made in one pass is the folded text's words joined, for text with every kind
    /// of separator, letters that lower-case to two characters, digits and marks.
    #[test]
    fn keys_are_the_folded_words_joined() {
        let joined = |text: &str| {
            samla_model::normalize::fold(text)
                .split(|c: char| !c.is_alphanumeric())
                .filter(|w| !w.is_empty())
                .collect::<Vec<_>>()
                .join(" ")
        };
        for text in [
            "",
            " ",
            "Å",
            "İstanbul İİ",
            "Straße\tGRÜN\n\r–—ÄÖ  x",
            "a\u{301}b e\u{0301}",
            "2024-01-02T10:00",
            "😀 data 😀",
            "  leading and trailing  ",
            "Ω-Ωmega_under_score",
            "ǅemal Ǆ",
        ] {
            assert_eq!(key(text), joined(text), "{text:?}");
        }
    }

    /// Later words' terms are the key from each word that says something, at most
    /// [`TITLE_WORDS`] of them.
    #[test]
    fn titles_are_suggested_from_later_words() {
        let view = samla_model::view::DatasetView {
            title: [(
                "sv".to_string(),
                "Laddplatser för elbilar i Lund 2024 och Malmö".to_string(),
            )]
            .into_iter()
            .collect(),
            ..Default::default()
        };
        let input = IndexInput {
            view: &view,
            source_id: "s",
            municipality_names: &[],
            changed: 0,
            quality: None,
        };
        let keys: Vec<String> = terms(&input)
            .iter()
            .map(|t| t.split(SEPARATOR).next().unwrap_or("").to_string())
            .collect();
        assert_eq!(
            keys,
            [
                "elbilar i lund 2024 och malmo",
                "laddplatser for elbilar i lund 2024 och malmo",
                "lund 2024 och malmo",
                "malmo",
            ]
        );
    }
}
