//! The bilingual glossary: concepts of municipal open data with their Swedish and English
//! terms (`data/glossary.txt`, written here, and the EU authority tables' labels from
//! samla-model), so `zoning plans` also searches `detaljplan` and `badplatser` also searches
//! `bathing site`. Terms are matched by their words' stems in each language, longest first.

use samla_model::labels;
use std::collections::HashMap;
use std::sync::LazyLock;
use tantivy::tokenizer::{
    AsciiFoldingFilter, Language, LowerCaser, SimpleTokenizer, Stemmer, TextAnalyzer,
};

/// The curated part of the glossary.
const CURATED: &str = include_str!("../data/glossary.txt");

/// Most words in a term that a query is matched against.
const LONGEST_TERM: usize = 6;

/// A term's words as a language's stemmer makes them, tagged with the language.
type Key = (bool, Vec<String>);

/// The glossary, read once.
pub(crate) struct Glossary {
    /// Each concept's terms as written.
    concepts: Vec<Vec<String>>,
    /// Concepts by the stems of a term (Swedish `true`, English `false`).
    by_key: HashMap<Key, Vec<usize>>,
}

/// A stretch of query words that names a concept, and what else the concept is called.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Match {
    /// Index of the first query word.
    pub start: usize,
    /// Number of query words.
    pub len: usize,
    /// The concept's other terms.
    pub alternatives: Vec<String>,
}

fn analyzer(language: Language) -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .filter(Stemmer::new(language))
        .build()
}

/// The stems of `text`'s words in one language (without a final `s`, as the index keeps
/// them).
fn stems(analyzer: &mut TextAnalyzer, text: &str) -> Vec<String> {
    let mut stream = analyzer.token_stream(text);
    let mut out = Vec::new();
    while stream.advance() {
        out.push(crate::words::without_final_s(&stream.token().text).to_string());
    }
    out
}

/// The concepts of the curated file: `sv, sv | en, en` per line.
fn curated() -> impl Iterator<Item = (Vec<&'static str>, Vec<&'static str>)> {
    CURATED
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| {
            let (sv, en) = l.split_once('|')?;
            let list = |s: &'static str| {
                s.split(',')
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .collect::<Vec<_>>()
            };
            Some((list(sv), list(en)))
        })
}

/// The controlled vocabularies' concepts (themes, frequencies, access rights, HVD
/// categories) as Swedish and English labels.
fn vocabularies() -> impl Iterator<Item = (Vec<&'static str>, Vec<&'static str>)> {
    labels::THEMES
        .iter()
        .chain(labels::FREQUENCIES)
        .chain(labels::ACCESS_RIGHTS)
        .chain(labels::HVD_CATEGORIES)
        .filter(|c| !c.sv.eq_ignore_ascii_case(c.en))
        .map(|c| (vec![c.sv], vec![c.en]))
}

impl Glossary {
    fn build() -> Self {
        let mut sv = analyzer(Language::Swedish);
        let mut en = analyzer(Language::English);
        let mut concepts = Vec::new();
        let mut by_key: HashMap<Key, Vec<usize>> = HashMap::new();
        for (sv_terms, en_terms) in curated().chain(vocabularies()) {
            let id = concepts.len();
            let mut terms = Vec::new();
            for (swedish, term) in sv_terms
                .iter()
                .map(|t| (true, t))
                .chain(en_terms.iter().map(|t| (false, t)))
            {
                let key = stems(if swedish { &mut sv } else { &mut en }, term);
                if key.is_empty() || key.len() > LONGEST_TERM {
                    continue;
                }
                let ids = by_key.entry((swedish, key)).or_default();
                if !ids.contains(&id) {
                    ids.push(id);
                }
                terms.push((*term).to_string());
            }
            concepts.push(terms);
        }
        Self { concepts, by_key }
    }

    /// The glossary.
    pub(crate) fn get() -> &'static Glossary {
        static GLOSSARY: LazyLock<Glossary> = LazyLock::new(Glossary::build);
        &GLOSSARY
    }

    /// Concepts with both a Swedish and an English term.
    #[cfg(test)]
    fn pairs() -> usize {
        curated()
            .chain(vocabularies())
            .filter(|(sv, en)| !sv.is_empty() && !en.is_empty())
            .count()
    }

    /// The stretches of `words` that name a concept, longest first from the left, without
    /// overlaps.
    pub(crate) fn matches(&self, words: &[&str]) -> Vec<Match> {
        let mut sv = analyzer(Language::Swedish);
        let mut en = analyzer(Language::English);
        // One stem per word in each language (a word the analyzer drops keeps its text).
        let stem = |a: &mut TextAnalyzer, w: &str| {
            stems(a, w)
                .into_iter()
                .next()
                .unwrap_or_else(|| w.to_lowercase())
        };
        let sv_words: Vec<String> = words.iter().map(|w| stem(&mut sv, w)).collect();
        let en_words: Vec<String> = words.iter().map(|w| stem(&mut en, w)).collect();
        let mut out = Vec::new();
        let mut start = 0;
        while start < words.len() {
            let longest = LONGEST_TERM.min(words.len() - start);
            let found = (1..=longest).rev().find_map(|len| {
                let range = start..start + len;
                let sv_key = (true, sv_words[range.clone()].to_vec());
                let en_key = (false, en_words[range].to_vec());
                let mut ids: Vec<usize> = Vec::new();
                for key in [&sv_key, &en_key] {
                    for id in self.by_key.get(key).into_iter().flatten() {
                        if !ids.contains(id) {
                            ids.push(*id);
                        }
                    }
                }
                (!ids.is_empty()).then_some((len, ids, sv_key, en_key))
            });
            let Some((len, ids, sv_key, en_key)) = found else {
                start += 1;
                continue;
            };
            let mut alternatives: Vec<String> = Vec::new();
            for id in ids {
                for term in &self.concepts[id] {
                    let same = stems(&mut sv, term) == sv_key.1 || stems(&mut en, term) == en_key.1;
                    if !same && !alternatives.contains(term) {
                        alternatives.push(term.clone());
                    }
                }
            }
            out.push(Match {
                start,
                len,
                alternatives,
            });
            start += len;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alternatives(q: &str) -> Vec<(usize, usize, Vec<String>)> {
        let words: Vec<&str> = q.split_whitespace().collect();
        Glossary::get()
            .matches(&words)
            .into_iter()
            .map(|m| (m.start, m.len, m.alternatives))
            .collect()
    }

    #[test]
    fn holds_at_least_three_hundred_pairs() {
        let pairs = Glossary::pairs();
        assert!(
            pairs >= 300,
            "{pairs} concepts with terms in both languages"
        );
    }

    #[test]
    fn matches_inflected_terms_in_either_language_longest_first() {
        let zoning = alternatives("zoning plans");
        assert_eq!(zoning.len(), 1, "{zoning:?}");
        assert_eq!((zoning[0].0, zoning[0].1), (0, 2));
        assert!(
            zoning[0].2.contains(&"detaljplan".to_string()),
            "{zoning:?}"
        );
        assert!(!zoning[0].2.contains(&"zoning plan".to_string()));

        let bathing = alternatives("Badplatser i Malmö");
        assert_eq!(bathing[0].0, 0);
        assert!(
            bathing[0].2.contains(&"bathing site".to_string()),
            "{bathing:?}"
        );

        // "bathing water quality" is one concept, not "bathing" and "water quality".
        let water = alternatives("bathing water quality");
        assert_eq!((water[0].0, water[0].1), (0, 3), "{water:?}");
        assert!(water[0].2.contains(&"badvattenkvalitet".to_string()));

        assert!(alternatives("xyzzy plugh").is_empty());
    }
}
