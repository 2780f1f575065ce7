//! Swedish compound words, measured and kept small: a compound such as `laddstolpar` is split
//! into its modifier (`ladd`) when it is a known modifier followed (after an optional linking
//! `s`) by a known head (`stolp…`). The modifier is indexed in its own field, and a query word
//! that splits adds a weak clause on it, so `laddstolpar` also finds `laddplatser` and
//! `laddinfrastruktur` but ranks exact matches first. Both lists are deliberately short: a
//! modifier is only split off in front of a head that makes a compound of it, so `badminton`
//! is not taken for `bad` + `minton`.

use samla_model::normalize::fold;
use std::collections::{HashMap, HashSet};

/// Modifiers: first parts of compounds common in municipal open data (folded, lower case).
const MODIFIERS: &[&str] = &[
    "ladd",
    "bad",
    "cykel",
    "cykla",
    "parkering",
    "park",
    "skol",
    "lek",
    "grill",
    "trafik",
    "luft",
    "buss",
    "gang",
    "bygg",
    "detalj",
    "miljo",
    "avfall",
    "vatten",
    "energi",
    "fordon",
    "bostad",
    "bostads",
    "folk",
    "hund",
    "natur",
    "sol",
    "idrott",
    "motion",
    "ute",
    "toalett",
    "vag",
    "gata",
    "gatu",
    "kollektiv",
    "trad",
    "skog",
    "strand",
    "fritid",
    "kultur",
    "forskol",
    "hallplats",
    "tomt",
    "avlopp",
    "dricks",
];

/// Heads: last parts of compounds (folded, lower case, as prefixes of inflected forms).
const HEADS: &[&str] = &[
    "plats",
    "stolp",
    "station",
    "infrastruktur",
    "punkt",
    "stall",
    "mat",
    "vatten",
    "kvalitet",
    "flode",
    "rakning",
    "plan",
    "yta",
    "ytor",
    "omrade",
    "data",
    "lov",
    "vag",
    "bana",
    "banor",
    "natverk",
    "matning",
    "gym",
    "anlaggning",
    "hall",
    "park",
    "toalett",
    "lan",
    "zon",
    "led",
    "hus",
    "register",
    "karta",
    "statistik",
    "automat",
    "hallplats",
    "tomt",
    "belysning",
    "trafik",
    "trad",
    "strand",
    "fakturor",
];

/// The modifier of a compound word, if it is one samla splits.
pub fn modifier(word: &str) -> Option<&'static str> {
    let word = fold(word);
    MODIFIERS
        .iter()
        .filter(|m| word.len() > m.len() + 2 && word.starts_with(**m))
        .max_by_key(|m| m.len())
        .copied()
        .filter(|m| {
            let rest = &word[m.len()..];
            let rest_unlinked = rest.strip_prefix('s').unwrap_or(rest);
            HEADS
                .iter()
                .any(|h| rest.starts_with(h) || rest_unlinked.starts_with(h))
        })
}

/// The modifiers of every compound word in `text`, space-separated, for the parts field.
pub fn modifiers_of(text: &str) -> String {
    text.split(|c: char| !c.is_alphanumeric())
        .filter_map(modifier)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Shortest part of a compound, in letters.
const SHORTEST_PART: usize = 3;

/// Compounds remembered per part: the most frequent.
const COMPOUNDS_PER_PART: usize = 32;

/// The compound words of the indexed titles and keywords, learned from them: a word is a
/// compound when it is a word seen on its own (or a known modifier), an optional linking `s`,
/// and the rest of a word. Built from the index's words with their document frequencies.
#[derive(Debug, Default)]
pub(crate) struct Lexicon {
    /// Words seen on their own (folded, not stemmed), and their Swedish stems.
    known: HashSet<String>,
    stems: HashSet<String>,
    /// Compounds by the stem of their last part (`kvalitet` → `badvattenkvalitet`, …).
    by_head: HashMap<String, Vec<(String, u64)>>,
    /// Compounds by their first part (`vatten` → `vattenkvalitet`, …).
    by_modifier: HashMap<String, Vec<(String, u64)>>,
}

/// A compound query word's parts: what it is made of, as words to search.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Split {
    /// The first part as a word (a modifier form such as `gatu` as written).
    pub modifier: String,
    /// The rest.
    pub head: String,
}

impl Lexicon {
    /// Learns the compounds among `words` (folded words and how many documents hold each);
    /// `stem` gives a word's Swedish stem.
    pub(crate) fn learn(
        words: impl IntoIterator<Item = (String, u64)>,
        mut stem: impl FnMut(&str) -> String,
    ) -> Self {
        let words: Vec<(String, u64)> = words
            .into_iter()
            .filter(|(w, _)| w.chars().all(char::is_alphabetic))
            .collect();
        let known: HashSet<String> = words
            .iter()
            .filter(|(w, _)| w.len() >= SHORTEST_PART && !crate::LITTLE_WORDS.contains(&w.as_str()))
            .map(|(w, _)| w.clone())
            .collect();
        let stems: HashSet<String> = known.iter().map(|w| stem(w)).collect();
        let mut lexicon = Self {
            known,
            stems,
            ..Self::default()
        };
        for (word, frequency) in &words {
            for at in SHORTEST_PART..word.len().saturating_sub(SHORTEST_PART - 1) {
                if !word.is_char_boundary(at) {
                    continue;
                }
                let (first, rest) = word.split_at(at);
                let Some(modifier) = lexicon.modifier_part(first) else {
                    continue;
                };
                let head = stem(rest);
                if head.len() < SHORTEST_PART {
                    continue;
                }
                let head_known = lexicon.stems.contains(&head)
                    || lexicon.known.contains(rest)
                    || HEADS.iter().any(|h| rest.starts_with(h));
                lexicon
                    .by_head
                    .entry(head)
                    .or_default()
                    .push((word.clone(), *frequency));
                if head_known {
                    lexicon
                        .by_modifier
                        .entry(modifier.to_string())
                        .or_default()
                        .push((word.clone(), *frequency));
                }
            }
        }
        for list in lexicon
            .by_head
            .values_mut()
            .chain(lexicon.by_modifier.values_mut())
        {
            list.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            list.dedup_by(|a, b| a.0 == b.0);
            list.truncate(COMPOUNDS_PER_PART);
        }
        lexicon
    }

    /// `first` as the first part of a compound: a word seen on its own or a known modifier,
    /// with or without a linking `s`, or a modifier form of a word (`gatu`, `skol` for
    /// `gata`, `skola`). Returns the part without its linking `s`.
    fn modifier_part<'a>(&self, first: &'a str) -> Option<&'a str> {
        let is_part = |p: &str| {
            p.len() >= SHORTEST_PART
                && !crate::LITTLE_WORDS.contains(&p)
                && (self.known.contains(p)
                    || self.stems.contains(p)
                    || MODIFIERS.contains(&p)
                    || self.known.contains(&format!("{p}a"))
                    || p.strip_suffix(['u', 'o'])
                        .is_some_and(|base| self.known.contains(&format!("{base}a"))))
        };
        if is_part(first) {
            return Some(first);
        }
        first.strip_suffix('s').filter(|p| is_part(p))
    }

    /// Compounds that hold `word` (folded) as their last or first part, most frequent
    /// first, not `word` itself.
    pub(crate) fn compounds_with(&self, word: &str, word_stem: &str) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        let lists = [self.by_head.get(word_stem), self.by_modifier.get(word)];
        for (compound, _) in lists.into_iter().flatten().flatten() {
            if compound != word && !out.contains(&compound.as_str()) {
                out.push(compound);
            }
        }
        out.truncate(COMPOUNDS_PER_PART);
        out
    }

    /// The parts of `word` (folded) when it is a compound of a first part and a word seen
    /// on its own: the split with the longest last part.
    pub(crate) fn split(&self, word: &str, mut stem: impl FnMut(&str) -> String) -> Option<Split> {
        (SHORTEST_PART..word.len().saturating_sub(SHORTEST_PART - 1))
            .filter(|at| word.is_char_boundary(*at))
            .find_map(|at| {
                let (first, rest) = word.split_at(at);
                let modifier = self.modifier_part(first)?;
                (self.known.contains(rest) || self.stems.contains(&stem(rest))).then(|| Split {
                    modifier: modifier.to_string(),
                    head: rest.to_string(),
                })
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_known_compounds_only() {
        assert_eq!(modifier("laddstolpar"), Some("ladd"));
        assert_eq!(modifier("Laddplatser"), Some("ladd"));
        assert_eq!(modifier("laddinfrastruktur"), Some("ladd"));
        assert_eq!(modifier("badplatser"), Some("bad"));
        assert_eq!(modifier("badvattenkvalitet"), Some("bad"));
        assert_eq!(modifier("cykelräkning"), Some("cykel"));
        assert_eq!(modifier("parkeringsplatser"), Some("parkering"));
        assert_eq!(modifier("badminton"), None);
        assert_eq!(modifier("ladda"), None);
        assert_eq!(modifier("bad"), None);
    }

    fn stem(word: &str) -> String {
        // Enough of the Swedish stemmer for these words: plural and definite endings.
        for ending in ["erna", "arna", "er", "ar", "en", "et", "or"] {
            if let Some(base) = word.strip_suffix(ending)
                && base.len() >= 3
            {
                return base.to_string();
            }
        }
        word.to_string()
    }

    fn lexicon(words: &[&str]) -> Lexicon {
        Lexicon::learn(words.iter().map(|w| (w.to_string(), 1)), stem)
    }

    #[test]
    fn learns_compounds_from_words_seen_on_their_own() {
        let lexicon = lexicon(&[
            "bad",
            "badvattenkvalitet",
            "vatten",
            "vattenkvalitet",
            "trad",
            "gata",
            "gatutrad",
            "stadstrad",
            "stad",
            "befolkning",
            "statistik",
            "forskolor",
            "skola",
            "badminton",
        ]);
        assert_eq!(
            lexicon.compounds_with("vattenkvalitet", &stem("vattenkvalitet")),
            ["badvattenkvalitet"]
        );
        let trees = lexicon.compounds_with("trad", "trad");
        assert!(
            trees.contains(&"gatutrad") && trees.contains(&"stadstrad"),
            "{trees:?}"
        );
        assert!(
            lexicon
                .compounds_with("vatten", "vatten")
                .contains(&"vattenkvalitet")
        );
        // "för" is no part, and "minton" is no word: neither compound is split.
        assert!(lexicon.compounds_with("skola", "skol").is_empty());
        assert!(!lexicon.compounds_with("bad", "bad").contains(&"badminton"));

        let split = |w: &str| lexicon.split(w, stem).map(|s| (s.modifier, s.head));
        assert_eq!(
            split("befolkningsstatistik"),
            Some(("befolkning".into(), "statistik".into()))
        );
        assert_eq!(split("gatutrad"), Some(("gatu".into(), "trad".into())));
        assert_eq!(split("statistik"), None);
    }
}
