//! From what someone typed to a tantivy query.
//!
//! Every query word may match in several ways, each with its weight: its
//! stem in the name, title and keywords (strongest), in description and
//! publisher, in labels and README; as a part of a compound word; within
//! one or two typos of a word in name, title or keywords; and, for the last
//! word, as the beginning of one (typeahead). Two adjacent words also try
//! their joined form ("Hunde Steuer" → "hundesteuer"). A word that looks
//! like a LeiKa key or a FIM id matches those exactly. Of several words
//! most must match (all of two, two of three, three of four …), which keeps
//! long queries precise and fast; when that finds nothing, any word will do
//! (the caller asks again with `strict = false`).

use tantivy::query::{AllQuery, BooleanQuery, BoostQuery, FuzzyTermQuery, Occur, Query, TermQuery};
use tantivy::schema::IndexRecordOption;
use tantivy::Term;

use super::german;
use super::schema::Fields;

/// The analysed words of a query.
#[derive(Debug, Clone, Default)]
pub struct QueryWords {
    pub words: Vec<german::Analyzed>,
    /// The raw words, lowercased, for exact keys (LeiKa, FIM ids).
    pub raw: Vec<String>,
    /// The last word was still being typed (no space after it).
    pub last_is_prefix: bool,
}

/// Longest prefix expansion: a shorter last word would expand to too much
/// of the dictionary to be useful or fast.
const MIN_PREFIX_CHARS: usize = 3;

const W_PRIMARY: f32 = 3.0;
const W_SECONDARY: f32 = 1.0;
const W_CONTENT: f32 = 0.4;
const W_PARTS: f32 = 0.8;
const W_FUZZY: f32 = 1.2;
const W_PREFIX: f32 = 1.0;
const W_JOINED: f32 = 2.0;
const W_KEY: f32 = 20.0;
const W_QUERY_PART: f32 = 0.3;

impl QueryWords {
    pub fn parse(q: &str) -> QueryWords {
        let mut words = german::analyze(q);
        if words.is_empty() {
            // Only stop words: search for them after all rather than for nothing.
            words = german::words(q)
                .into_iter()
                .map(|w| {
                    let folded = german::fold(w.text);
                    german::Analyzed {
                        stem: german::stem(&folded),
                        folded,
                        from: w.from,
                        to: w.to,
                    }
                })
                .collect();
        }
        let raw = q
            .split_whitespace()
            .map(|w| {
                w.trim_matches(|c: char| !c.is_alphanumeric())
                    .to_lowercase()
            })
            .filter(|w| !w.is_empty())
            .collect();
        QueryWords {
            words,
            raw,
            last_is_prefix: !q.ends_with(char::is_whitespace),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.words.is_empty() && self.raw.is_empty()
    }
}

fn term(field: tantivy::schema::Field, text: &str, boost: f32) -> Box<dyn Query> {
    Box::new(BoostQuery::new(
        Box::new(TermQuery::new(
            Term::from_field_text(field, text),
            IndexRecordOption::WithFreqs,
        )),
        boost,
    ))
}

/// How many of `n` query words a package must match when strict.
fn required(n: usize) -> usize {
    match n {
        0..=2 => n,
        n => n - (n / 3).max(1),
    }
}

pub(super) fn build(f: &Fields, q: &QueryWords, strict: bool) -> Box<dyn Query> {
    if q.is_empty() {
        return Box::new(AllQuery);
    }
    let mut word_clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    let last = q.words.len().saturating_sub(1);
    for (i, w) in q.words.iter().enumerate() {
        let mut any: Vec<(Occur, Box<dyn Query>)> = vec![
            (Occur::Should, term(f.primary, &w.stem, W_PRIMARY)),
            (Occur::Should, term(f.secondary, &w.stem, W_SECONDARY)),
            (Occur::Should, term(f.content, &w.stem, W_CONTENT)),
            (Occur::Should, term(f.parts, &w.stem, W_PARTS)),
        ];
        // The query word may itself be a compound whose parts the package
        // has as words: "Grabstelle" for a package about a "Grab".
        for part in german::parts(&w.stem) {
            if part.chars().count() >= german::MIN_PREFIX_CHARS {
                any.push((Occur::Should, term(f.primary, &part, W_QUERY_PART)));
            }
        }
        let distance = german::typo_distance(&w.folded);
        if distance > 0 {
            let fuzzy =
                FuzzyTermQuery::new(Term::from_field_text(f.folded, &w.folded), distance, true);
            any.push((
                Occur::Should,
                Box::new(BoostQuery::new(Box::new(fuzzy), W_FUZZY)),
            ));
            // A typo in a compound's head: "Parkauswies" for the part
            // "parkausweis" of "Bewohnerparkausweis".
            let part = FuzzyTermQuery::new(Term::from_field_text(f.parts, &w.stem), distance, true);
            any.push((
                Occur::Should,
                Box::new(BoostQuery::new(Box::new(part), W_FUZZY * 0.5)),
            ));
        }
        if i == last && q.last_is_prefix && w.folded.chars().count() >= MIN_PREFIX_CHARS {
            let prefix =
                FuzzyTermQuery::new_prefix(Term::from_field_text(f.folded, &w.folded), 0, false);
            any.push((
                Occur::Should,
                Box::new(BoostQuery::new(Box::new(prefix), W_PREFIX)),
            ));
            if w.folded.chars().count() >= german::MIN_PREFIX_CHARS {
                let part =
                    FuzzyTermQuery::new_prefix(Term::from_field_text(f.parts, &w.folded), 0, false);
                any.push((
                    Occur::Should,
                    Box::new(BoostQuery::new(Box::new(part), W_PREFIX * 0.5)),
                ));
            }
        }
        word_clauses.push((Occur::Should, Box::new(BooleanQuery::new(any))));
    }
    let n = word_clauses.len();
    let min = if strict { required(n).max(1) } else { 1 };
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    if n > 0 {
        clauses.push((
            Occur::Should,
            Box::new(BooleanQuery::with_minimum_required_clauses(
                word_clauses,
                min,
            )),
        ));
    }
    for pair in q.words.windows(2) {
        let joined = german::stem(&format!("{}{}", pair[0].folded, pair[1].folded));
        clauses.push((Occur::Should, term(f.primary, &joined, W_JOINED)));
    }
    for raw in &q.raw {
        if raw.len() >= 5 {
            clauses.push((Occur::Should, term(f.keys, raw, W_KEY)));
        }
    }
    Box::new(BooleanQuery::new(clauses))
}

#[cfg(test)]
mod tests {
    use super::required;

    #[test]
    fn most_words_are_required() {
        let got: Vec<usize> = (1..=6).map(required).collect();
        assert_eq!(got, [1, 2, 2, 3, 4, 4]);
    }
}
