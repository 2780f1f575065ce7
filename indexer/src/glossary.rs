//! The bilingual glossary: concepts of municipal open data with their Swedish and English
//! terms (`data/glossary.txt`, written here, and the EU authority tables' labels from
//! samla-model). Terms are matched by their words' stems in each language, longest stretch
//! first. A dataset is indexed with the concepts its titles and keywords name, and a query
//! that names a concept also finds them: `zoning plans` finds "Detaljplaner", `badplatser`
//! finds a dataset titled only "Bathing sites".

use crate::words::Remembered;
use samla_model::labels;
use std::collections::{HashMap, HashSet};
use std::rc::Rc;
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

/// A word's Swedish and English stems.
type Stems = Rc<(String, String)>;

/// Words' stems, remembered: titles repeat their words (a remembered word's stems are
/// shared, not copied).
struct Stemmers {
    sv: TextAnalyzer,
    en: TextAnalyzer,
    made: Remembered<Stems>,
}

impl Stemmers {
    fn stems(&mut self, word: &str) -> Stems {
        if let Some(made) = self.made.get(word) {
            return Rc::clone(made);
        }
        // One stem per word in each language (a word the analyzer drops keeps its text).
        let first = |a: &mut TextAnalyzer| {
            stems(a, word)
                .into_iter()
                .next()
                .unwrap_or_else(|| word.to_lowercase())
        };
        let made = Rc::new((first(&mut self.sv), first(&mut self.en)));
        self.made.keep(word.to_string(), Rc::clone(&made));
        made
    }
}

thread_local! {
    /// Each thread's concepts of the names it has read.
    static NAMES: std::cell::RefCell<Remembered<Vec<usize>>> =
        std::cell::RefCell::new(Remembered::default());
    /// Each thread's stemmers for matching text against the glossary.
    static STEMMERS: std::cell::RefCell<Stemmers> = std::cell::RefCell::new(Stemmers {
        sv: analyzer(Language::Swedish),
        en: analyzer(Language::English),
        made: Remembered::default(),
    });
}

/// The glossary, read once.
pub(crate) struct Glossary {
    /// The first word of every term in Swedish and in English: a stretch starting with
    /// another word names nothing.
    starts: (HashSet<String>, HashSet<String>),
    /// The most words of a term.
    longest: usize,
    /// Concepts by the stems of a term (Swedish `true`, English `false`).
    by_key: HashMap<Key, Vec<usize>>,
}

/// A stretch of words that names one or more concepts.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Match {
    /// Index of the first word.
    pub start: usize,
    /// Number of words.
    pub len: usize,
    /// The concepts it names (their numbers: see [`Glossary::concept_token`]).
    pub concepts: Vec<usize>,
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
        let mut by_key: HashMap<Key, Vec<usize>> = HashMap::new();
        let mut starts = (HashSet::new(), HashSet::new());
        let mut longest = 0;
        for (id, (sv_terms, en_terms)) in curated().chain(vocabularies()).enumerate() {
            for (swedish, term) in sv_terms
                .iter()
                .map(|t| (true, t))
                .chain(en_terms.iter().map(|t| (false, t)))
            {
                let key = stems(if swedish { &mut sv } else { &mut en }, term);
                if key.is_empty() || key.len() > LONGEST_TERM {
                    continue;
                }
                let first = key[0].clone();
                if swedish {
                    starts.0.insert(first);
                } else {
                    starts.1.insert(first);
                }
                longest = longest.max(key.len());
                let ids = by_key.entry((swedish, key)).or_default();
                if !ids.contains(&id) {
                    ids.push(id);
                }
            }
        }
        Self {
            starts,
            longest,
            by_key,
        }
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
        STEMMERS.with_borrow_mut(|stemmers| self.matches_with(words, stemmers))
    }

    /// The concepts a name (a title, a keyword) names, remembered per thread: catalogs
    /// repeat their titles. A dataset is indexed with the concepts of its titles and
    /// keywords, so a query that names a concept also finds the datasets that call it by
    /// another term, in either language.
    pub(crate) fn concepts_of(&self, name: &str) -> Vec<usize> {
        if let Some(ids) = NAMES.with_borrow(|names| names.get(name).cloned()) {
            return ids;
        }
        let ids = self.concepts_in(name);
        NAMES.with_borrow_mut(|names| names.keep(name.to_string(), ids.clone()));
        ids
    }

    /// The concepts `text` names somewhere, each once.
    pub(crate) fn concepts_in(&self, text: &str) -> Vec<usize> {
        let words: Vec<&str> = text
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .collect();
        let mut ids: Vec<usize> = self
            .matches(&words)
            .into_iter()
            .flat_map(|m| m.concepts)
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    /// The token a concept is indexed as.
    pub(crate) fn concept_token(id: usize) -> String {
        format!("c{id}")
    }

    fn matches_with(&self, words: &[&str], stemmers: &mut Stemmers) -> Vec<Match> {
        let stemmed: Vec<Stems> = words.iter().map(|w| stemmers.stems(w)).collect();
        let mut out = Vec::new();
        let mut start = 0;
        while start < words.len() {
            let (sv_first, en_first) = &*stemmed[start];
            if !self.starts.0.contains(sv_first) && !self.starts.1.contains(en_first) {
                start += 1;
                continue;
            }
            let longest = self.longest.min(words.len() - start);
            let found = (1..=longest).rev().find_map(|len| {
                let range = start..start + len;
                let sv_key = (
                    true,
                    stemmed[range.clone()].iter().map(|s| s.0.clone()).collect(),
                );
                let en_key = (false, stemmed[range].iter().map(|s| s.1.clone()).collect());
                let mut ids: Vec<usize> = Vec::new();
                for key in [&sv_key, &en_key] {
                    for id in self.by_key.get(key).into_iter().flatten() {
                        if !ids.contains(id) {
                            ids.push(*id);
                        }
                    }
                }
                (!ids.is_empty()).then_some((len, ids))
            });
            let Some((len, ids)) = found else {
                start += 1;
                continue;
            };
            out.push(Match {
                start,
                len,
                concepts: ids,
            });
            start += len;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each stretch of `q` that names a concept: start, length, concepts.
    fn stretches(q: &str) -> Vec<(usize, usize, Vec<usize>)> {
        let words: Vec<&str> = q.split_whitespace().collect();
        Glossary::get()
            .matches(&words)
            .into_iter()
            .map(|m| (m.start, m.len, m.concepts))
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
        let g = Glossary::get();
        let zoning = stretches("zoning plans");
        assert_eq!(zoning.len(), 1, "{zoning:?}");
        assert_eq!((zoning[0].0, zoning[0].1), (0, 2));
        assert_eq!(zoning[0].2, g.concepts_in("Detaljplaner"));
        assert_eq!(
            g.concepts_in("Gällande detaljplaner"),
            g.concepts_in("Zoning plans in force"),
            "one concept in either language"
        );

        let bathing = stretches("Badplatser i Malmö");
        assert_eq!(bathing[0].0, 0);
        assert_eq!(bathing[0].2, g.concepts_in("bathing sites"));

        // "bathing water quality" is one concept, not "bathing" and "water quality".
        let water = stretches("bathing water quality");
        assert_eq!((water[0].0, water[0].1), (0, 3), "{water:?}");
        assert_eq!(water[0].2, g.concepts_in("badvattenkvalitet"));
        assert_ne!(water[0].2, g.concepts_in("luftkvalitet"));

        assert!(stretches("xyzzy plugh").is_empty());
    }
}
