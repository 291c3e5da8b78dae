//! German analysis: one set of functions for indexing, querying and
//! highlighting, so that the three can never disagree.
//!
//! A word goes through: lowercase → fold (ß→ss; "ae"/"oe"/"ue" and ä/ö/ü
//! to a/o/u, as Snowball's German2 variant decides when "ue" is an umlaut)
//! → Snowball German stem. Compound words get their proper prefixes and
//! suffixes as *parts* ("bewohnerparkausweis" has the part "parkausweis"
//! and "ausweis"), which a separate field indexes: German puts the head of
//! a compound last and the modifier first, so a query word that is either
//! one finds the compound without a dictionary.

use std::sync::OnceLock;

use rust_stemmers::{Algorithm, Stemmer};

/// Function words only. Never a noun: "Antrag", "Amt", "Bescheid" and the
/// like are what people search for.
const STOP_WORDS: &[&str] = &[
    "aber", "als", "am", "an", "auch", "auf", "aus", "bei", "bin", "bis", "bist", "da", "damit",
    "dann", "das", "dass", "dem", "den", "denen", "der", "deren", "des", "dessen", "die", "dies",
    "diese", "diesem", "diesen", "dieser", "dieses", "doch", "du", "durch", "ein", "eine", "einem",
    "einen", "einer", "eines", "er", "es", "fur", "gegen", "hat", "hatte", "ich", "ihr", "ihre",
    "ihrem", "ihren", "ihrer", "im", "in", "ins", "ist", "ja", "je", "jede", "jedem", "jeden",
    "jeder", "jedes", "kann", "man", "mit", "muss", "nach", "nicht", "noch", "nur", "ob", "oder",
    "ohne", "sehr", "sei", "sein", "seine", "seinem", "seinen", "seiner", "sich", "sie", "sind",
    "so", "soll", "uber", "um", "und", "uns", "unter", "vom", "von", "vor", "war", "waren", "was",
    "weil", "wenn", "wer", "werden", "wie", "wir", "wird", "wo", "zu", "zum", "zur",
];

/// Compound parts shorter than this are not indexed: "amt" (Bürgeramt) is
/// the shortest head worth finding.
pub const MIN_SUFFIX_CHARS: usize = 3;
/// Shorter modifiers ("Kfz") are words of their own in practice.
pub const MIN_PREFIX_CHARS: usize = 4;
/// Words this short have no parts: they are not compounds.
const MIN_COMPOUND_CHARS: usize = 7;
/// Longer runs are not words (hashes, base64): they are skipped.
const MAX_WORD_CHARS: usize = 60;

fn stemmer() -> &'static Stemmer {
    static STEMMER: OnceLock<Stemmer> = OnceLock::new();
    STEMMER.get_or_init(|| Stemmer::create(Algorithm::German))
}

/// A word of the input with its byte offsets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word<'a> {
    pub text: &'a str,
    pub from: usize,
    pub to: usize,
}

/// Splits text into runs of letters and digits. Hyphens split too
/// ("Kfz-Zulassung" is two words); [`analyze`] also joins them.
pub fn words(text: &str) -> Vec<Word<'_>> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        if c.is_alphanumeric() {
            if start.is_none() {
                start = Some(i);
            }
        } else if let Some(s) = start.take() {
            out.push(Word {
                text: &text[s..i],
                from: s,
                to: i,
            });
        }
    }
    if let Some(s) = start {
        out.push(Word {
            text: &text[s..],
            from: s,
            to: text.len(),
        });
    }
    out.retain(|w| w.text.chars().count() <= MAX_WORD_CHARS);
    out
}

fn is_vowel(c: char) -> bool {
    matches!(c, 'a' | 'e' | 'i' | 'o' | 'u' | 'y' | 'ä' | 'ö' | 'ü')
}

/// Lowercases and folds a word so that every German spelling of it is the
/// same: "Straße" and "Strasse" → "strasse", "München" and "Muenchen" →
/// "munchen". "ue" is an umlaut unless after "q" or with the "u" between
/// vowels ("Steuer", "neue", "bauen" keep it), as in Snowball's German2.
pub fn fold(word: &str) -> String {
    let lower: Vec<char> = word.to_lowercase().chars().collect();
    let mut out = String::with_capacity(lower.len() + 2);
    let mut i = 0;
    while i < lower.len() {
        let c = lower[i];
        let next = lower.get(i + 1).copied();
        let prev = if i > 0 { Some(lower[i - 1]) } else { None };
        match (c, next) {
            ('a', Some('e')) | ('o', Some('e')) => {
                out.push(c);
                i += 2;
                continue;
            }
            ('u', Some('e')) if prev != Some('q') && !prev.is_some_and(is_vowel) => {
                out.push('u');
                i += 2;
                continue;
            }
            _ => {}
        }
        match c {
            'ß' => out.push_str("ss"),
            'ä' | 'à' | 'á' | 'â' => out.push('a'),
            'ö' | 'ò' | 'ó' | 'ô' => out.push('o'),
            'ü' | 'ù' | 'ú' | 'û' => out.push('u'),
            'é' | 'è' | 'ê' | 'ë' => out.push('e'),
            'ç' => out.push('c'),
            c => out.push(c),
        }
        i += 1;
    }
    out
}

/// The Snowball German stem of a folded word.
pub fn stem(folded: &str) -> String {
    stemmer().stem(folded).into_owned()
}

pub fn is_stop_word(folded: &str) -> bool {
    STOP_WORDS.binary_search(&folded).is_ok()
}

/// One analysed word: folded, stemmed, with its place in the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Analyzed {
    pub folded: String,
    pub stem: String,
    pub from: usize,
    pub to: usize,
}

/// Words of `text`, folded and stemmed, stop words removed. A hyphenated
/// compound ("Kfz-Zulassung") also yields its joined form ("kfzzulassung").
pub fn analyze(text: &str) -> Vec<Analyzed> {
    let ws = words(text);
    let mut out = Vec::with_capacity(ws.len());
    for (i, w) in ws.iter().enumerate() {
        let folded = fold(w.text);
        if is_stop_word(&folded) {
            continue;
        }
        out.push(Analyzed {
            stem: stem(&folded),
            folded,
            from: w.from,
            to: w.to,
        });
        if let Some(next) = ws.get(i + 1) {
            if &text[w.to..next.from] == "-" {
                let joined = fold(&format!("{}{}", w.text, next.text));
                out.push(Analyzed {
                    stem: stem(&joined),
                    folded: joined,
                    from: w.from,
                    to: next.to,
                });
            }
        }
    }
    out
}

/// The proper prefixes and suffixes of a stem that may be parts of a
/// compound: "hundesteu" (Hundesteuer) → "hund", "hunde", …, "steu",
/// "esteu", …. Short words have none.
pub fn parts(stem: &str) -> Vec<String> {
    let chars: Vec<char> = stem.chars().collect();
    let n = chars.len();
    if n < MIN_COMPOUND_CHARS {
        return Vec::new();
    }
    let mut out = Vec::with_capacity(2 * n);
    for len in MIN_PREFIX_CHARS..n {
        out.push(chars[..len].iter().collect());
    }
    for len in MIN_SUFFIX_CHARS..n {
        out.push(chars[n - len..].iter().collect());
    }
    out
}

/// Edits a query word of this many characters may be away from what it
/// finds: none below 5, one from 5, two from 9.
pub fn typo_distance(folded: &str) -> u8 {
    match folded.chars().count() {
        0..=4 => 0,
        5..=8 => 1,
        _ => 2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stems(text: &str) -> Vec<String> {
        analyze(text).into_iter().map(|a| a.stem).collect()
    }

    #[test]
    fn stop_words_are_sorted_and_never_domain_words() {
        let mut sorted = STOP_WORDS.to_vec();
        sorted.sort();
        assert_eq!(sorted, STOP_WORDS, "binary search needs a sorted list");
        for word in ["antrag", "amt", "bescheid", "steuer", "ausweis", "kind"] {
            assert!(!is_stop_word(word), "{word}");
        }
        assert_eq!(stems("Antrag auf einen Bescheid"), stems("Antrag Bescheid"));
    }

    #[test]
    fn umlauts_and_sharp_s_fold_together() {
        assert_eq!(fold("Straße"), fold("Strasse"));
        assert_eq!(fold("München"), fold("Muenchen"));
        assert_eq!(fold("Änderung"), fold("Aenderung"));
        assert_eq!(fold("Größe"), fold("Groesse"));
        // "ue" that is no umlaut stays.
        assert_eq!(fold("Steuer"), "steuer");
        assert_eq!(fold("bauen"), "bauen");
        assert_eq!(fold("Quelle"), "quelle");
    }

    #[test]
    fn stems_join_inflections() {
        assert_eq!(stems("Anträge"), stems("Antrag"));
        assert_eq!(stems("Hunde"), stems("Hund"));
        assert_eq!(stems("Anmeldung"), stems("anmelden"));
        assert_eq!(stems("Steuern"), stems("Steuer"));
    }

    #[test]
    fn compounds_have_their_heads_and_modifiers_as_parts() {
        let p = parts(&stem(&fold("Bewohnerparkausweis")));
        for part in ["parkausweis", "ausweis", "bewohner"] {
            assert!(p.contains(&stem(part)), "{part} in {p:?}");
        }
        let p = parts(&stem(&fold("Hundesteuer")));
        assert!(
            p.contains(&stem("hunde")) && p.contains(&stem("steuer")),
            "{p:?}"
        );
        assert!(parts("amt").is_empty());
    }

    #[test]
    fn hyphenated_compounds_are_joined_too() {
        let s = stems("Kfz-Zulassung");
        assert!(s.contains(&stem("kfzzulassung")), "{s:?}");
        assert!(s.contains(&stem("zulassung")), "{s:?}");
    }

    #[test]
    fn typo_distances_grow_with_length() {
        assert_eq!(typo_distance("hund"), 0);
        assert_eq!(typo_distance("ausweis"), 1);
        assert_eq!(typo_distance("parkausweis"), 2);
    }
}
