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
//! (the caller asks again, not strict).
//!
//! The typo, prefix and compound-part expansions are asked for only when
//! the words themselves match fewer than [`EXACT_ENOUGH`] packages: a word
//! that a large share of the registry has ("Antrag") then costs one scan
//! of its own matches instead of several, and what a typo would add ranks
//! below them anyway. Search engines do the same (Typesense's
//! `typo_tokens_threshold`). The same holds for each word: one that
//! matches that many packages as it is ("Formular" in "Formular 4711")
//! is not expanded even when the query as a whole matches few.
//! Words with digits are never widened by typos: a number is an
//! identifier, not a word to misspell.

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
    /// Stems that match at least [`EXACT_ENOUGH`] packages as they are:
    /// such a word is asked for without its typos, prefixes and parts,
    /// which would add little and visit its many matches once more.
    pub common: std::collections::HashSet<String>,
}

/// Matches of the words themselves from which no tolerant expansion is
/// asked for.
pub(super) const EXACT_ENOUGH: u64 = 1_000;

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
            common: Default::default(),
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

/// How a query's words may match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Matching {
    /// Most words (see [`required`]) must match, or any one will do.
    pub(super) strict: bool,
    /// Also with typos, as the beginning of a word being typed, and by the
    /// parts of a compound query word; without, only the words' stems.
    pub(super) tolerant: bool,
}

/// Everything one query word may match, each way with its weight;
/// `joined` for the one-word form of a hyphenated pair, whose parts are the
/// pair's words and are asked for as such.
fn word_query(
    f: &Fields,
    w: &german::Analyzed,
    typed_on: bool,
    joined: bool,
    tolerant: bool,
) -> Box<dyn Query> {
    let mut any: Vec<(Occur, Box<dyn Query>)> = vec![
        (Occur::Should, term(f.primary, &w.stem, W_PRIMARY)),
        (Occur::Should, term(f.secondary, &w.stem, W_SECONDARY)),
        (Occur::Should, term(f.content, &w.stem, W_CONTENT)),
        (Occur::Should, term(f.parts, &w.stem, W_PARTS)),
    ];
    if !tolerant {
        return Box::new(BooleanQuery::new(any));
    }
    // The query word may itself be a compound whose parts the package
    // has as words: "Grabstelle" for a package about a "Grab".
    for part in german::parts(&w.stem) {
        if !joined && part.chars().count() >= german::MIN_PREFIX_CHARS {
            any.push((Occur::Should, term(f.primary, &part, W_QUERY_PART)));
        }
    }
    // A number is an identifier, not a word to misspell: "formular-4711"
    // means that form, and its neighbours 4712 or 4701 are other forms
    // (and, in a registry of numbered forms, thousands of terms to visit).
    let distance = if w.folded.chars().any(|c| c.is_ascii_digit()) {
        0
    } else {
        german::typo_distance(&w.folded)
    };
    if distance > 0 {
        let fuzzy = FuzzyTermQuery::new(Term::from_field_text(f.folded, &w.folded), distance, true);
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
    if typed_on && w.folded.chars().count() >= MIN_PREFIX_CHARS {
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
    Box::new(BooleanQuery::new(any))
}

/// Whether `joined` is the hyphenated pair `left`-`right` written as one
/// word, as [`german::analyze`] adds it ("Kita-Platz" → "kitaplatz").
fn joins(joined: &german::Analyzed, left: &german::Analyzed, right: &german::Analyzed) -> bool {
    joined.from == left.from && joined.to == right.to && left.to < right.from
}

pub(super) fn build(f: &Fields, q: &QueryWords, how: Matching) -> Box<dyn Query> {
    if q.is_empty() {
        return Box::new(AllQuery);
    }
    let words = &q.words;
    let last = words.len().saturating_sub(1);
    let typed_on = |i: usize| i == last && q.last_is_prefix;
    let tolerant = |w: &german::Analyzed| how.tolerant && !q.common.contains(&w.stem);
    // One clause per word; a hyphenated pair is one clause: both of its
    // words, or the two as one word. Requiring both words leads with the
    // rarer one, so "formular-4711" visits the few packages with "4711",
    // not every package with "formular".
    let mut word_clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    let mut i = 0;
    while i < words.len() {
        if let (Some(joined), Some(right)) = (words.get(i + 1), words.get(i + 2)) {
            if joins(joined, &words[i], right) {
                let both: Box<dyn Query> = Box::new(BooleanQuery::new(vec![
                    (
                        Occur::Must,
                        word_query(f, &words[i], false, false, tolerant(&words[i])),
                    ),
                    (
                        Occur::Must,
                        word_query(f, right, typed_on(i + 2), false, tolerant(right)),
                    ),
                ]));
                let pair = BooleanQuery::new(vec![
                    (Occur::Should, both),
                    (
                        Occur::Should,
                        word_query(f, joined, typed_on(i + 2), true, tolerant(joined)),
                    ),
                ]);
                word_clauses.push((Occur::Should, Box::new(pair)));
                i += 3;
                continue;
            }
        }
        word_clauses.push((
            Occur::Should,
            word_query(f, &words[i], typed_on(i), false, tolerant(&words[i])),
        ));
        i += 1;
    }
    let n = word_clauses.len();
    let min = if how.strict { required(n).max(1) } else { 1 };
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    if n > 1 && min == n {
        // Every word required: an intersection, led by the rarest word
        // (tantivy does not do this for a minimum that equals the number
        // of clauses).
        let all = word_clauses
            .into_iter()
            .map(|(_, q)| (Occur::Must, q))
            .collect();
        clauses.push((Occur::Should, Box::new(BooleanQuery::new(all))));
    } else if n > 0 {
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
