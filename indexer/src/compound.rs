//! Swedish compound words, measured and kept small: a compound such as `laddstolpar` is split
//! into its modifier (`ladd`) when it is a known modifier followed (after an optional linking
//! `s`) by a known head (`stolp…`). The modifier is indexed in its own field, and a query word
//! that splits adds a weak clause on it, so `laddstolpar` also finds `laddplatser` and
//! `laddinfrastruktur` but ranks exact matches first. Both lists are deliberately short: a
//! modifier is only split off in front of a head that makes a compound of it, so `badminton`
//! is not taken for `bad` + `minton`.

use samla_model::normalize::fold;

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
}
