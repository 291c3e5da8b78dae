//! Text from a registry is data, not terminal commands: every string the
//! client receives has its control characters (but newline and tab) made
//! visible before anything can print it. A title holding `\u{1b}[2J` would
//! otherwise clear the screen of whoever runs `gemeinwerk info`, or forge
//! a line of output with `\r`.

use serde_json::Value;

/// `s` with every control character but `\n` and `\t` written as `\u{…}`.
pub fn escape_controls(s: &str) -> String {
    if !s.chars().any(needs_escape) {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if needs_escape(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

fn needs_escape(c: char) -> bool {
    c.is_control() && c != '\n' && c != '\t'
}

/// Escapes every string (and object key) of a JSON value in place.
pub fn escape_json(value: &mut Value) {
    match value {
        Value::String(s) if s.chars().any(needs_escape) => *s = escape_controls(s),
        Value::Array(items) => items.iter_mut().for_each(escape_json),
        Value::Object(map) => {
            if map.keys().any(|k| k.chars().any(needs_escape)) {
                let old = std::mem::take(map);
                for (k, mut v) in old {
                    escape_json(&mut v);
                    map.insert(escape_controls(&k), v);
                }
            } else {
                map.values_mut().for_each(escape_json);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_become_visible() {
        assert_eq!(escape_controls("\u{1b}[31mrot"), "\\u{1b}[31mrot");
        assert_eq!(escape_controls("a\0b\rc"), "a\\u{0}b\\u{d}c");
        assert_eq!(
            escape_controls("zwei\nZeilen\tTab äöü"),
            "zwei\nZeilen\tTab äöü"
        );
        let mut v = serde_json::json!({"title": "\u{7}x", "list": ["\u{9b}y"]});
        escape_json(&mut v);
        assert_eq!(
            v,
            serde_json::json!({"title": "\\u{7}x", "list": ["\\u{9b}y"]})
        );
    }
}
