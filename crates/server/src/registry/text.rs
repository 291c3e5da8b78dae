//! Text that people send the registry (reasons, messages, names) is
//! stored, indexed and shown in terminals: it is checked here, once, for
//! control characters and for length. PostgreSQL cannot store NUL in a
//! text column at all, and an escape sequence in a yank reason would
//! reach every terminal that prints it.

use super::error::{RegistryError, Result};

/// Whether `s` holds a control character that text may not carry: every
/// one but newline and tab (and carriage return before a newline) where
/// the field allows several lines, every one where it does not.
pub fn has_forbidden_control(s: &str, multiline: bool) -> bool {
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if !c.is_control() {
            continue;
        }
        let allowed =
            multiline && (c == '\n' || c == '\t' || (c == '\r' && chars.peek() == Some(&'\n')));
        if !allowed {
            return true;
        }
    }
    false
}

/// Refuses a text field with a control character or more than `max`
/// characters, naming the field and the limit.
pub fn check(field: &str, value: &str, max: usize, multiline: bool) -> Result<()> {
    if has_forbidden_control(value, multiline) {
        return Err(RegistryError::BadRequest {
            code: "text_control_character",
            detail: format!(
                "the {field} contains a control character{}; remove it",
                if multiline {
                    " (only newlines and tabs are allowed)"
                } else {
                    ""
                }
            ),
        });
    }
    let chars = value.chars().count();
    if chars > max {
        return Err(RegistryError::BadRequest {
            code: "text_too_long",
            detail: format!("the {field} has {chars} characters; at most {max} are allowed"),
        });
    }
    Ok(())
}

/// A name taken from a URL or a request that cannot name anything stored
/// (names never hold control characters): the lookup answers "not found"
/// without asking the database, which may not even accept the bytes.
pub fn unmatchable(name: &str) -> bool {
    has_forbidden_control(name, false)
}

/// Whether a percent-encoded URL part encodes a control character: C0,
/// DEL or C1 (`%C2%80`–`%C2%9F`), the same set the text rules refuse.
pub fn encodes_control(raw: &str) -> bool {
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let b = raw.as_bytes();
    let mut decoded = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match (
            b[i],
            b.get(i + 1).and_then(|&h| hex(h)),
            b.get(i + 2).and_then(|&l| hex(l)),
        ) {
            (b'%', Some(h), Some(l)) => {
                decoded.push(h << 4 | l);
                i += 3;
            }
            (byte, _, _) => {
                decoded.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&decoded)
        .chars()
        .any(char::is_control)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_found() {
        assert!(has_forbidden_control("a\0b", true));
        assert!(has_forbidden_control("\u{1b}[31mrot", true));
        assert!(has_forbidden_control("zwei\nZeilen", false));
        assert!(!has_forbidden_control("zwei\r\nZeilen\tund Tab", true));
        assert!(has_forbidden_control("nur\rCR", true));
        assert!(has_forbidden_control("\u{85}", true));
        assert!(!has_forbidden_control("Straße ÄÖÜ 🚲", false));
    }

    #[test]
    fn encoded_control_characters_are_found() {
        assert!(encodes_control("/index/kassel/a%00b"));
        assert!(encodes_control("/x%1B"));
        assert!(encodes_control("/x%7f"));
        assert!(!encodes_control("/index/kassel/a%20b%C3%A4"));
        assert!(!encodes_control("/x%2500"));
        assert!(encodes_control("q=%C2%84"), "C1 control, as UTF-8");
        assert!(
            !encodes_control("q=%C2%A0%C3%A4"),
            "no-break space and ä are text"
        );
    }

    #[test]
    fn limits_name_the_field() {
        let e = check("yank reason", &"x".repeat(11), 10, true).unwrap_err();
        assert_eq!(e.code(), "text_too_long");
        assert!(e.to_string().contains("yank reason") && e.to_string().contains("10"));
        assert_eq!(
            check("title", "a\0", 10, false).unwrap_err().code(),
            "text_control_character"
        );
    }
}
