//! Snippets: a window of text around the first match, HTML-escaped, with
//! the matching words in `<mark>`. A word matches as it would in the
//! query: same stem, a compound part, within the typo distance, or the
//! typed beginning of the last query word.

use super::german;
use super::query::QueryWords;

pub fn escape_html(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

fn matches(word: &german::Analyzed, q: &QueryWords) -> bool {
    let last = q.words.len().saturating_sub(1);
    q.words.iter().enumerate().any(|(i, w)| {
        if word.stem == w.stem {
            return true;
        }
        let part_len = w.stem.chars().count();
        if part_len >= german::MIN_SUFFIX_CHARS
            && word.stem.chars().count() > part_len
            && (word.stem.ends_with(&w.stem)
                || (part_len >= german::MIN_PREFIX_CHARS && word.stem.starts_with(&w.stem)))
        {
            return true;
        }
        let d = german::typo_distance(&w.folded) as usize;
        if d > 0 && strsim::osa_distance(&word.folded, &w.folded) <= d {
            return true;
        }
        if d > 0 && typo_in_part(&word.stem, &w.stem, d) {
            return true;
        }
        i == last
            && q.last_is_prefix
            && w.folded.chars().count() >= 3
            && word.folded.starts_with(&w.folded)
    })
}

/// Whether a suffix of `stem` is within `d` edits of `part`.
fn typo_in_part(stem: &str, part: &str, d: usize) -> bool {
    let chars: Vec<char> = stem.chars().collect();
    let n = part.chars().count();
    (n.saturating_sub(d)..=n + d)
        .filter(|&len| len >= german::MIN_SUFFIX_CHARS && len < chars.len())
        .any(|len| {
            let suffix: String = chars[chars.len() - len..].iter().collect();
            strsim::osa_distance(&suffix, part) <= d
        })
}

/// At most about `max_chars` characters of `text`, escaped, with matches
/// marked. Without a match: the beginning of the text.
pub fn snippet(text: &str, q: &QueryWords, max_chars: usize) -> String {
    let analyzed = german::analyze(text);
    let marked: Vec<&german::Analyzed> = analyzed.iter().filter(|w| matches(w, q)).collect();
    // Start a little before the first match, at a word boundary.
    let start = match marked.first() {
        Some(first) if first.from > max_chars / 3 => {
            let wanted = first.from - max_chars / 3;
            german::words(text)
                .into_iter()
                .map(|w| w.from)
                .find(|&from| from >= wanted)
                .unwrap_or(0)
        }
        _ => 0,
    };
    let mut end = text.len();
    if text[start..].chars().count() > max_chars {
        let limit = text[start..]
            .char_indices()
            .nth(max_chars)
            .map_or(text.len(), |(i, _)| start + i);
        // End at a word boundary.
        end = german::words(text)
            .into_iter()
            .filter(|w| w.to <= limit && w.from >= start)
            .map(|w| w.to)
            .next_back()
            .unwrap_or(limit);
    }
    let mut out = String::new();
    if start > 0 {
        out.push('…');
    }
    let mut at = start;
    for w in marked {
        if w.from < at || w.to > end {
            continue;
        }
        escape_html(&text[at..w.from], &mut out);
        out.push_str("<mark>");
        escape_html(&text[w.from..w.to], &mut out);
        out.push_str("</mark>");
        at = w.to;
    }
    escape_html(&text[at..end], &mut out);
    if end < text.len() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_stems_parts_and_typos_and_escapes_the_rest() {
        let q = QueryWords::parse("Parkauswies <b>");
        let s = snippet(
            "Antrag auf einen Bewohnerparkausweis & mehr <script>",
            &q,
            200,
        );
        assert_eq!(
            s,
            "Antrag auf einen <mark>Bewohnerparkausweis</mark> &amp; mehr &lt;script&gt;"
        );
    }

    #[test]
    fn long_texts_are_cut_around_the_first_match() {
        let text = format!("{} Hundesteuer am Ende", "Vorrede ".repeat(60));
        let s = snippet(&text, &QueryWords::parse("hunde steuer"), 80);
        assert!(s.starts_with('…'), "{s}");
        assert!(s.contains("<mark>Hundesteuer</mark>"), "{s}");
        assert!(s.chars().count() < 120, "{s}");
    }
}
