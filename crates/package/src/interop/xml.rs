//! Reading untrusted XML into a small element tree, refusing what XML
//! parsers are attacked with: a document type declaration (the door to
//! external entities and entity expansion), references to entities other
//! than the five predefined ones, documents beyond a size limit, nesting
//! beyond a depth limit and too many elements. Nothing is fetched and
//! nothing is expanded: quick-xml does neither, and a DOCTYPE is refused
//! outright rather than skipped, so a hostile file gets a clear answer.

use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::NsReader;

/// How much a document may ask of the reader.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_bytes: usize,
    pub max_depth: usize,
    pub max_elements: usize,
}

impl Default for Limits {
    /// A FIM Stammdatenschema with several thousand fields is a few MB and
    /// nests some 30 elements deep; these limits leave room for ten times
    /// that.
    fn default() -> Self {
        Limits {
            max_bytes: 32 * 1024 * 1024,
            max_depth: 256,
            max_elements: 2_000_000,
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum XmlError {
    #[error("the file has {size} bytes; at most {limit} bytes are read")]
    TooLarge { size: usize, limit: usize },
    #[error("the file is empty")]
    Empty,
    #[error("the file is not UTF-8 text (byte {at}): XDatenfelder files are UTF-8")]
    NotUtf8 { at: usize },
    #[error("line {line}: the document declares the encoding \"{encoding}\"; only UTF-8 is read")]
    Encoding { line: usize, encoding: String },
    #[error("line {line}: the document has a document type declaration (<!DOCTYPE …>); DTDs are refused because they can define external entities (XXE) and entity expansion (\"billion laughs\"); XDatenfelder files have none")]
    Doctype { line: usize },
    #[error("line {line}: the entity reference &{name}; is refused: only &amp; &lt; &gt; &quot; &apos; and character references are allowed, no external or user-defined entities")]
    Entity { line: usize, name: String },
    #[error("line {line}: the elements nest deeper than {limit} levels")]
    TooDeep { line: usize, limit: usize },
    #[error("line {line}: the document has more than {limit} elements")]
    TooManyElements { line: usize, limit: usize },
    #[error("line {line}: the XML is malformed: {message}")]
    Malformed { line: usize, message: String },
}

/// An element: its local name, namespace, attributes, children and text.
#[derive(Debug, Clone, Default)]
pub struct Element {
    pub name: String,
    /// Index into [`Document::namespaces`]; `None` when unqualified.
    pub ns: Option<usize>,
    pub attrs: Vec<(String, String)>,
    pub children: Vec<Element>,
    /// The text directly inside, references resolved, not trimmed; but for
    /// an element with children and only whitespace between them, empty.
    pub text: String,
    pub line: usize,
    /// The column of the start tag's `<`, in characters from 1.
    pub column: usize,
}

impl Element {
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The trimmed text of a child, `None` when missing or blank.
    pub fn text_of(&self, name: &str) -> Option<&str> {
        self.child(name).and_then(Element::trimmed)
    }

    /// The trimmed text, `None` when blank.
    pub fn trimmed(&self) -> Option<&str> {
        let t = self.text.trim();
        (!t.is_empty()).then_some(t)
    }

    /// Text or children: an element that says something.
    pub fn is_blank(&self) -> bool {
        self.trimmed().is_none() && self.children.iter().all(Element::is_blank)
    }
}

#[derive(Debug)]
pub struct Document {
    pub namespaces: Vec<String>,
    pub root: Element,
}

impl Document {
    pub fn namespace_of(&self, e: &Element) -> Option<&str> {
        e.ns.map(|i| self.namespaces[i].as_str())
    }
}

/// Counts lines forward through the input, so that every element knows its
/// line without scanning from the start each time.
struct Lines<'a> {
    input: &'a [u8],
    pos: usize,
    line: usize,
    /// Where the line of `pos` starts.
    line_start: usize,
}

impl Lines<'_> {
    fn at(&mut self, pos: usize) -> usize {
        let pos = pos.min(self.input.len());
        if pos > self.pos {
            for (i, b) in self.input[self.pos..pos].iter().enumerate() {
                if *b == b'\n' {
                    self.line += 1;
                    self.line_start = self.pos + i + 1;
                }
            }
            self.pos = pos;
        }
        self.line
    }

    /// The column (in characters, from 1) of `pos`, on the line `at`
    /// last moved to.
    fn column(&self, pos: usize) -> usize {
        let pos = pos.min(self.input.len()).max(self.line_start);
        String::from_utf8_lossy(&self.input[self.line_start..pos])
            .chars()
            .count()
            + 1
    }
}

fn resolve_reference(name: &str) -> Option<char> {
    if let Some(num) = name.strip_prefix('#') {
        let n = match num.strip_prefix('x') {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => num.parse().ok()?,
        };
        return char::from_u32(n).filter(|c| *c != '\0');
    }
    Some(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        _ => return None,
    })
}

/// Unescapes an attribute value by hand: quick-xml would accept the same,
/// but the error must name the entity.
fn unescape_attr(raw: &str, line: usize) -> Result<String, XmlError> {
    if !raw.contains('&') {
        return Ok(raw.to_string());
    }
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let Some(end) = after.find(';') else {
            return Err(XmlError::Malformed {
                line,
                message: "an \"&\" in an attribute value starts no reference".into(),
            });
        };
        let name = &after[..end];
        match resolve_reference(name) {
            Some(c) => out.push(c),
            None => {
                return Err(XmlError::Entity {
                    line,
                    name: name.to_string(),
                })
            }
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Parses `input` into a tree, or refuses it with the first problem found.
pub fn parse(input: &[u8], limits: &Limits) -> Result<Document, XmlError> {
    if input.len() > limits.max_bytes {
        return Err(XmlError::TooLarge {
            size: input.len(),
            limit: limits.max_bytes,
        });
    }
    let text = std::str::from_utf8(input).map_err(|e| XmlError::NotUtf8 {
        at: e.valid_up_to(),
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim().is_empty() {
        return Err(XmlError::Empty);
    }
    let mut reader = NsReader::from_str(text);
    let offset = input.len() - text.len();
    let mut lines = Lines {
        input,
        pos: 0,
        line: 1,
        line_start: 0,
    };
    let mut namespaces: Vec<String> = Vec::new();
    let mut stack: Vec<Element> = Vec::new();
    // Whitespace inside an element that has no text yet, by depth: kept
    // aside (in buffers that are reused) until text follows or the element
    // ends without children. The indentation between child elements, most
    // of a large document's text events, then costs no allocation.
    let mut pending: Vec<String> = Vec::new();
    let mut root: Option<Element> = None;
    let mut elements = 0usize;

    loop {
        let before = reader.buffer_position() as usize + offset;
        let (resolved, event) = match reader.read_resolved_event() {
            Ok(pair) => pair,
            Err(e) => {
                let at = reader.error_position() as usize + offset;
                return Err(XmlError::Malformed {
                    line: lines.at(at),
                    message: e.to_string(),
                });
            }
        };
        let line = lines.at(before);
        let ns = namespace_index(resolved, &mut namespaces, line)?;
        let is_empty = matches!(event, Event::Empty(_));
        match event {
            Event::Start(start) | Event::Empty(start) => {
                elements += 1;
                if elements > limits.max_elements {
                    return Err(XmlError::TooManyElements {
                        line,
                        limit: limits.max_elements,
                    });
                }
                if root.is_some() {
                    return Err(XmlError::Malformed {
                        line,
                        message: "there is content after the root element".into(),
                    });
                }
                let mut el = open_element(&start, ns, line, stack.len(), limits)?;
                el.column = lines.column(before);
                if is_empty {
                    close(el, &mut stack, &mut root);
                } else {
                    if pending.len() <= stack.len() {
                        pending.push(String::new());
                    }
                    pending[stack.len()].clear();
                    stack.push(el);
                }
            }
            Event::End(_) => {
                let mut el = stack.pop().ok_or_else(|| XmlError::Malformed {
                    line,
                    message: "a closing tag without an opening one".into(),
                })?;
                let aside = &mut pending[stack.len()];
                if !aside.is_empty() && el.text.is_empty() && el.children.is_empty() {
                    el.text = std::mem::take(aside);
                }
                close(el, &mut stack, &mut root);
            }
            Event::Text(t) => {
                let top = stack.len().wrapping_sub(1);
                let s = t.xml10_content().map_err(|e| XmlError::Malformed {
                    line,
                    message: e.to_string(),
                })?;
                match stack.last_mut() {
                    Some(el) if el.text.is_empty() && s.trim().is_empty() => {
                        pending[top].push_str(&s);
                    }
                    Some(el) => {
                        flush(&mut pending[top], &mut el.text);
                        el.text.push_str(&s);
                    }
                    None if s.trim().is_empty() => {}
                    None => {
                        return Err(XmlError::Malformed {
                            line,
                            message: "text outside the root element".into(),
                        })
                    }
                }
            }
            Event::CData(t) => {
                let top = stack.len().wrapping_sub(1);
                if let Some(el) = stack.last_mut() {
                    flush(&mut pending[top], &mut el.text);
                    el.text.push_str(&String::from_utf8_lossy(&t));
                }
            }
            Event::GeneralRef(r) => {
                let name = String::from_utf8_lossy(&r).into_owned();
                let c = resolve_reference(&name).ok_or(XmlError::Entity { line, name })?;
                let top = stack.len().wrapping_sub(1);
                if let Some(el) = stack.last_mut() {
                    flush(&mut pending[top], &mut el.text);
                    el.text.push(c);
                }
            }
            Event::DocType(_) => return Err(XmlError::Doctype { line }),
            Event::Decl(d) => check_encoding(&d, line)?,
            Event::Comment(_) | Event::PI(_) => {}
            Event::Eof => break,
        }
    }
    if let Some(open) = stack.last() {
        return Err(XmlError::Malformed {
            line: lines.at(input.len()),
            message: format!(
                "the document ends inside <{}> (opened on line {})",
                open.name, open.line
            ),
        });
    }
    let root = root.ok_or(XmlError::Malformed {
        line: lines.at(input.len()),
        message: "the document has no root element".into(),
    })?;
    Ok(Document { namespaces, root })
}

/// The index of an element's namespace in `namespaces`, which it joins
/// when it is new.
fn namespace_index(
    resolved: ResolveResult,
    namespaces: &mut Vec<String>,
    line: usize,
) -> Result<Option<usize>, XmlError> {
    Ok(match resolved {
        ResolveResult::Bound(ns) => {
            let ns = String::from_utf8_lossy(ns.into_inner());
            Some(match namespaces.iter().position(|n| *n == ns) {
                Some(i) => i,
                None => {
                    namespaces.push(ns.into_owned());
                    namespaces.len() - 1
                }
            })
        }
        ResolveResult::Unbound => None,
        ResolveResult::Unknown(prefix) => {
            return Err(XmlError::Malformed {
                line,
                message: format!(
                    "the prefix \"{}\" is not bound to a namespace",
                    String::from_utf8_lossy(&prefix)
                ),
            })
        }
    })
}

/// A new element from its start tag, `depth` elements deep.
fn open_element(
    start: &BytesStart,
    ns: Option<usize>,
    line: usize,
    depth: usize,
    limits: &Limits,
) -> Result<Element, XmlError> {
    if depth >= limits.max_depth {
        return Err(XmlError::TooDeep {
            line,
            limit: limits.max_depth,
        });
    }
    let mut attrs = Vec::new();
    for a in start.attributes() {
        let a = a.map_err(|e| XmlError::Malformed {
            line,
            message: e.to_string(),
        })?;
        let key = String::from_utf8_lossy(a.key.local_name().into_inner()).into_owned();
        let raw = String::from_utf8_lossy(&a.value);
        attrs.push((key, unescape_attr(&raw, line)?));
    }
    Ok(Element {
        name: String::from_utf8_lossy(start.local_name().into_inner()).into_owned(),
        ns,
        attrs,
        children: Vec::new(),
        text: String::new(),
        line,
        column: 0,
    })
}

/// Only UTF-8 is read; a declaration of another encoding is refused
/// rather than misread.
fn check_encoding(d: &quick_xml::events::BytesDecl, line: usize) -> Result<(), XmlError> {
    if let Some(Ok(enc)) = d.encoding() {
        let enc = String::from_utf8_lossy(&enc).into_owned();
        if !enc.eq_ignore_ascii_case("utf-8") && !enc.eq_ignore_ascii_case("utf8") {
            return Err(XmlError::Encoding {
                line,
                encoding: enc,
            });
        }
    }
    Ok(())
}

/// Whitespace kept aside goes before the text that follows it.
fn flush(aside: &mut String, text: &mut String) {
    if !aside.is_empty() {
        text.push_str(aside);
        aside.clear();
    }
}

fn close(el: Element, stack: &mut [Element], root: &mut Option<Element>) {
    match stack.last_mut() {
        Some(parent) => parent.children.push(el),
        None => *root = Some(el),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(s: &str) -> Result<Document, XmlError> {
        parse(s.as_bytes(), &Limits::default())
    }

    /// Whitespace is text where there is text, and left out between the
    /// children of an element that has no other.
    #[test]
    fn whitespace_between_children_is_no_text() {
        let text = |s: &str| parse_str(s).unwrap().root.text;
        assert_eq!(text("<a>\n  <b/>\n  <c/>\n</a>"), "");
        assert_eq!(text("<a>  </a>"), "  ");
        assert_eq!(text("<a>  &amp; x</a>"), "  & x");
        assert_eq!(text("<a> <b/> x</a>"), "  x");
        assert_eq!(text("<a> <![CDATA[<c>]]></a>"), " <c>");
        let doc = parse_str("<a>\n <b>  </b>\n <c> 1 </c>\n</a>").unwrap();
        assert_eq!(doc.root.child("b").unwrap().text, "  ");
        assert_eq!(doc.root.child("c").unwrap().text, " 1 ");
    }

    #[test]
    fn reads_elements_text_attributes_and_lines() {
        let doc = parse_str(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<a:r xmlns:a=\"urn:x\">\n  <a:b k=\"1 &amp; 2\">x &lt; y&#13;z<![CDATA[<c>]]></a:b>\n  <code>6</code><!-- c -->\n</a:r>",
        )
        .unwrap();
        assert_eq!(doc.root.name, "r");
        assert_eq!(doc.namespace_of(&doc.root), Some("urn:x"));
        let b = doc.root.child("b").unwrap();
        assert_eq!(b.attr("k"), Some("1 & 2"));
        assert_eq!(b.text, "x < y\rz<c>");
        assert_eq!((b.line, b.column), (3, 3));
        let code = doc.root.child("code").unwrap();
        assert_eq!(doc.namespace_of(code), None);
        assert_eq!((code.line, code.column), (4, 3));
    }

    #[test]
    fn refuses_hostile_documents() {
        let cases: &[(&str, &str)] = &[
            (
                "<!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><r>&x;</r>",
                "document type declaration",
            ),
            (
                "<!DOCTYPE r [<!ENTITY a \"aaaa\"><!ENTITY b \"&a;&a;&a;\">]><r>&b;</r>",
                "document type declaration",
            ),
            ("<r>&xxe;</r>", "&xxe;"),
            ("<r k=\"&xxe;\"/>", "&xxe;"),
            ("<r><a></r>", "malformed"),
            ("<r>", "ends inside <r>"),
            ("<r/><s/>", "after the root"),
            ("", "empty"),
            (
                "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><r/>",
                "ISO-8859-1",
            ),
            ("<x:r/>", "not bound"),
        ];
        for (src, msg) in cases {
            let e = parse_str(src).unwrap_err().to_string();
            assert!(e.contains(msg), "{src}: {e}");
        }
        let deep = format!("{}{}", "<a>".repeat(300), "</a>".repeat(300));
        assert!(matches!(
            parse_str(&deep),
            Err(XmlError::TooDeep { limit: 256, .. })
        ));
        let small = Limits {
            max_bytes: 10,
            ..Limits::default()
        };
        assert!(matches!(
            parse(b"<r>0123456789</r>", &small),
            Err(XmlError::TooLarge { .. })
        ));
        let few = Limits {
            max_elements: 2,
            ..Limits::default()
        };
        assert!(matches!(
            parse(b"<r><a/><b/></r>", &few),
            Err(XmlError::TooManyElements { .. })
        ));
        assert!(matches!(
            parse(b"<r>\xff</r>", &Limits::default()),
            Err(XmlError::NotUtf8 { at: 3 })
        ));
    }
}
