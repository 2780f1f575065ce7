//! The Swedish word filters (lower case, ASCII folding, Swedish stem, a final `s` dropped)
//! with what they made of each word remembered: catalogs repeat a small vocabulary, and
//! stemming was the largest part of the indexing threads' tokenising.

use std::collections::HashMap;
use tantivy::tokenizer::{
    AsciiFoldingFilter, Language, LowerCaser, RawTokenizer, Stemmer, TextAnalyzer, Token,
    TokenFilter, TokenStream, Tokenizer,
};

/// Words remembered per analyzer before it starts afresh (an analyzer lives as long as one
/// index segment is written, or one query is read; a writer holds one per text field and
/// indexing thread, so this bounds the memory to a few megabytes each). The glossary's
/// memories per thread keep as many.
const REMEMBERED_WORDS: usize = 20_000;

/// What was made of words (or names), remembered up to [`REMEMBERED_WORDS`]; past that the
/// memory starts afresh.
#[derive(Debug, Clone)]
pub(crate) struct Remembered<V>(HashMap<String, V>);

impl<V> Default for Remembered<V> {
    fn default() -> Self {
        Self(HashMap::new())
    }
}

impl<V> Remembered<V> {
    /// What was made of `word`, if it is remembered.
    pub(crate) fn get(&self, word: &str) -> Option<&V> {
        self.0.get(word)
    }

    /// Remembers what was made of `word`.
    pub(crate) fn keep(&mut self, word: String, made: V) {
        if self.0.len() >= REMEMBERED_WORDS {
            self.0.clear();
        }
        self.0.insert(word, made);
    }
}

/// The filters applied to one word at a time. Accents are folded before the stemmer, so a
/// word typed without them (`stadstrad`) is stemmed as the word written with them
/// (`stadsträd`): the stemmer takes `ad` off the first and not `äd` off the second.
fn word_filters() -> TextAnalyzer {
    TextAnalyzer::builder(RawTokenizer::default())
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .filter(Stemmer::new(Language::Swedish))
        .build()
}

/// A stem without a final `s`. The Swedish stemmer takes one ending off a word, so
/// `badplats` becomes `badplat` but `badplatser` becomes `badplats`, and `Malmös` keeps its
/// genitive `s`; without the `s` each pair is one term.
pub(crate) fn without_final_s(stem: &str) -> &str {
    match stem.strip_suffix('s') {
        Some(rest) if rest.len() >= 3 => rest,
        _ => stem,
    }
}

/// A token filter that gives each token what [`word_filters`] make of it, remembered by the
/// token's text.
#[derive(Clone)]
pub(crate) struct SwedishWords;

impl TokenFilter for SwedishWords {
    type Tokenizer<T: Tokenizer> = SwedishWordsFilter<T>;

    fn transform<T: Tokenizer>(self, tokenizer: T) -> SwedishWordsFilter<T> {
        SwedishWordsFilter {
            tokenizer,
            words: word_filters(),
            made: Remembered::default(),
        }
    }
}

#[derive(Clone)]
pub(crate) struct SwedishWordsFilter<T> {
    tokenizer: T,
    words: TextAnalyzer,
    made: Remembered<String>,
}

impl<T: Tokenizer> Tokenizer for SwedishWordsFilter<T> {
    type TokenStream<'a> = SwedishWordsStream<'a, T::TokenStream<'a>>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> Self::TokenStream<'a> {
        SwedishWordsStream {
            tail: self.tokenizer.token_stream(text),
            words: &mut self.words,
            made: &mut self.made,
        }
    }
}

pub(crate) struct SwedishWordsStream<'a, T> {
    tail: T,
    words: &'a mut TextAnalyzer,
    made: &'a mut Remembered<String>,
}

impl<T: TokenStream> TokenStream for SwedishWordsStream<'_, T> {
    fn advance(&mut self) -> bool {
        if !self.tail.advance() {
            return false;
        }
        let token = self.tail.token_mut();
        if let Some(made) = self.made.get(&token.text) {
            token.text.clone_from(made);
            return true;
        }
        let word = std::mem::take(&mut token.text);
        let mut stream = self.words.token_stream(&word);
        // One word in, one word out: every filter maps a token to one token.
        let made = if stream.advance() {
            without_final_s(&stream.token().text).to_string()
        } else {
            word.clone()
        };
        drop(stream);
        token.text.clone_from(&made);
        self.made.keep(word, made);
        true
    }

    fn token(&self) -> &Token {
        self.tail.token()
    }

    fn token_mut(&mut self) -> &mut Token {
        self.tail.token_mut()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tantivy::tokenizer::{RemoveLongFilter, SimpleTokenizer};

    fn tokens(analyzer: &mut TextAnalyzer, text: &str) -> Vec<(String, usize, usize, usize)> {
        let mut stream = analyzer.token_stream(text);
        let mut out = Vec::new();
        while stream.advance() {
            let t = stream.token();
            out.push((t.text.clone(), t.position, t.offset_from, t.offset_to));
        }
        out
    }

    #[test]
    fn remembered_words_are_what_the_filters_make() {
        let mut plain = TextAnalyzer::builder(SimpleTokenizer::default())
            .filter(RemoveLongFilter::limit(64))
            .filter(LowerCaser)
            .filter(AsciiFoldingFilter)
            .filter(Stemmer::new(Language::Swedish))
            .build();
        let mut remembered = TextAnalyzer::builder(SimpleTokenizer::default())
            .filter(RemoveLongFilter::limit(64))
            .filter(SwedishWords)
            .build();
        let text = format!(
            "Laddplatser i Malmö: LADDPLATSER, laddstolpar och Badplatser; Ångström ÅÄÖ åäö \
             Café naïve Øresund straße 2024 e-tjänster {} slut",
            "x".repeat(80)
        );
        let expected: Vec<_> = tokens(&mut plain, &text)
            .into_iter()
            .map(|(word, position, from, to)| {
                (without_final_s(&word).to_string(), position, from, to)
            })
            .collect();
        assert!(expected.iter().any(|t| t.0 == "badplat"), "{expected:?}");
        // With and without accents, one term.
        let folded = tokens(&mut remembered, "Stadsträd stadstrad");
        assert_eq!(folded[0].0, folded[1].0, "{folded:?}");
        assert!(expected.iter().any(|t| t.0 == "malmo"), "{expected:?}");
        // The second reading takes every word from memory.
        assert_eq!(tokens(&mut remembered, &text), expected);
        assert_eq!(tokens(&mut remembered, &text), expected);
    }
}
