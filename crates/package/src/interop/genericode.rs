//! OASIS genericode 1.0 code lists, as XRepository publishes them: the
//! identification (short and long name, version, canonical URI and
//! canonical version URI, agency), the columns, which column is the code
//! and which the label, and the rows.
//!
//! The code is the value of the key column, which is not always the first
//! column: a list may have several keys, and XÖV marks the one to use
//! (`xoev-cl-4:recommendedKeyColumn`, `xoev-cl-3:empfohleneCodeSpalte`,
//! or `xoev-cl:xoev-code` in the older lists); without a mark the first
//! key is taken. The label is the column of a key marked
//! `xoev-cl:xoev-codename`, else the first other string column (German or
//! without a language before other languages). Every other column is kept.
//!
//! Whatever is wrong is refused with its line: a code list this reader
//! cannot read completely is not read at all.

use std::collections::HashMap;

use super::xml::{self, Element, Limits, XmlError};

/// The genericode 1.0 namespace.
pub const NAMESPACE: &str = "http://docs.oasis-open.org/codelist/ns/genericode/1.0/";

/// Local names of the XÖV marks on a `Key` that make it the code.
const CODE_MARKS: [&str; 3] = ["recommendedKeyColumn", "empfohleneCodeSpalte", "xoev-code"];
/// The XÖV mark on a `Key` that makes its column the label.
const LABEL_MARK: &str = "xoev-codename";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeList {
    pub short_name: String,
    pub long_name: Option<String>,
    /// The list's own version (`2010-04-01`, `2`, `2.0`): not semver.
    pub version: String,
    pub canonical_uri: String,
    pub canonical_version_uri: Option<String>,
    pub agency: Option<String>,
    /// XÖV's description of the list, if it has one.
    pub description: Option<String>,
    /// XÖV's date from which the list is valid (`YYYY-MM-DD`), if given.
    pub valid_from: Option<String>,
    pub columns: Vec<Column>,
    /// Index into `columns` of the code.
    pub key: usize,
    /// Index into `columns` of the label, if the list has a text column.
    pub label: Option<usize>,
    pub rows: Vec<Row>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub id: String,
    pub short_name: Option<String>,
    pub long_name: Option<String>,
    /// The `Data Type` (`string`, `normalizedString`, `date`, …).
    pub data_type: Option<String>,
    /// The `Data Lang` (`de-DE`), if the column is in one language.
    pub lang: Option<String>,
    pub required: bool,
}

/// One row: a value per column (`None` where the row has none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub values: Vec<Option<String>>,
    pub line: usize,
}

impl CodeList {
    /// The code of a row.
    pub fn code<'a>(&self, row: &'a Row) -> &'a str {
        row.values[self.key].as_deref().unwrap_or_default()
    }

    /// The label of a row, if the list has a label column and the row a
    /// value in it.
    pub fn label_of<'a>(&self, row: &'a Row) -> Option<&'a str> {
        self.label.and_then(|l| row.values[l].as_deref())
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum GenericodeError {
    #[error(transparent)]
    Xml(#[from] XmlError),
    #[error(
        "line {line}: the root element is <{found}>, not a genericode 1.0 <CodeList> ({NAMESPACE})"
    )]
    NotGenericode { line: usize, found: String },
    #[error("line {line}: <{parent}> has no <{missing}>")]
    Missing {
        line: usize,
        parent: String,
        missing: String,
    },
    #[error("line {line}: <{element}> appears twice in <{parent}>")]
    Twice {
        line: usize,
        element: String,
        parent: String,
    },
    #[error("line {line}: the column id \"{id}\" is used twice (first on line {first})")]
    DuplicateColumn {
        line: usize,
        id: String,
        first: usize,
    },
    #[error("line {line}: there is no column \"{id}\"")]
    UnknownColumn { line: usize, id: String },
    #[error(
        "line {line}: the key \"{key}\" spans {count} columns; only single-column keys name a code"
    )]
    CompositeKey {
        line: usize,
        key: String,
        count: usize,
    },
    #[error("line {line}: the row has more values than the list has columns ({columns})")]
    TooManyValues { line: usize, columns: usize },
    #[error("line {line}: the row has two values for the column \"{column}\"")]
    DuplicateValue { line: usize, column: String },
    #[error("line {line}: the value of column \"{column}\" is a <ComplexValue>; only <SimpleValue> is read")]
    ComplexValue { line: usize, column: String },
    #[error("line {line}: the row has no code (no value in the key column \"{column}\")")]
    MissingCode { line: usize, column: String },
    #[error("line {line}: the code \"{code}\" appears twice (first on line {first})")]
    DuplicateCode {
        line: usize,
        code: String,
        first: usize,
    },
    #[error("line {line}: the list has no rows")]
    Empty { line: usize },
}

/// Reads a genericode 1.0 code list.
pub fn read(input: &[u8]) -> Result<CodeList, GenericodeError> {
    let doc = xml::parse(input, &Limits::default())?;
    let root = &doc.root;
    if root.name != "CodeList" || doc.namespace_of(root) != Some(NAMESPACE) {
        return Err(GenericodeError::NotGenericode {
            line: root.line,
            found: root.name.clone(),
        });
    }
    let identification = required(root, "Identification")?;
    let text = |parent: &Element, name: &str| -> Result<Option<String>, GenericodeError> {
        Ok(single(parent, name)?
            .and_then(Element::trimmed)
            .map(str::to_string))
    };
    let must = |parent: &Element, name: &str| -> Result<String, GenericodeError> {
        text(parent, name)?.ok_or_else(|| missing(parent, name))
    };
    let agency = match single(identification, "Agency")? {
        Some(a) => match (text(a, "LongName")?, text(a, "ShortName")?) {
            (Some(long), Some(short)) => Some(format!("{long} ({short})")),
            (long, short) => long.or(short),
        },
        None => None,
    };
    let (description, valid_from) = xoev_annotation(root);
    let column_set = required(root, "ColumnSet")?;
    let columns = read_columns(column_set)?;
    let index: HashMap<&str, usize> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| (c.id.as_str(), i))
        .collect();
    let (key, label_key) = read_keys(column_set, &index)?;
    let label = label_key.or_else(|| label_column(&columns, key));
    let list = required(root, "SimpleCodeList")?;
    let rows = read_rows(list, &columns, &index, key)?;
    Ok(CodeList {
        short_name: must(identification, "ShortName")?,
        long_name: text(identification, "LongName")?,
        version: must(identification, "Version")?,
        canonical_uri: must(identification, "CanonicalUri")?,
        canonical_version_uri: text(identification, "CanonicalVersionUri")?,
        agency,
        description,
        valid_from,
        columns,
        key,
        label,
        rows,
    })
}

fn missing(parent: &Element, name: &str) -> GenericodeError {
    GenericodeError::Missing {
        line: parent.line,
        parent: parent.name.clone(),
        missing: name.to_string(),
    }
}

/// The one child `name`, if there is one; two are refused.
fn single<'a>(parent: &'a Element, name: &str) -> Result<Option<&'a Element>, GenericodeError> {
    let mut found = parent.children.iter().filter(|c| c.name == name);
    let first = found.next();
    if let Some(second) = found.next() {
        return Err(GenericodeError::Twice {
            line: second.line,
            element: name.to_string(),
            parent: parent.name.clone(),
        });
    }
    Ok(first)
}

fn required<'a>(parent: &'a Element, name: &str) -> Result<&'a Element, GenericodeError> {
    single(parent, name)?.ok_or_else(|| missing(parent, name))
}

/// XÖV's description and valid-from date, wherever its annotation puts
/// them (the element names differ between the XÖV genericode versions).
fn xoev_annotation(root: &Element) -> (Option<String>, Option<String>) {
    let mut description = None;
    let mut valid_from = None;
    let Some(annotation) = root.child("Annotation") else {
        return (None, None);
    };
    let mut stack: Vec<&Element> = annotation.children.iter().collect();
    while let Some(e) = stack.pop() {
        match e.name.as_str() {
            "beschreibung" | "codelistDescription" | "shortDescription" => {
                description = description.or(e.trimmed().map(str::to_string))
            }
            "datumgueltigkeitab" | "dateValidFrom" | "validFrom" => {
                valid_from = valid_from.or(e.trimmed().map(str::to_string))
            }
            _ => stack.extend(e.children.iter()),
        }
    }
    (description, valid_from)
}

fn read_columns(column_set: &Element) -> Result<Vec<Column>, GenericodeError> {
    let mut columns: Vec<Column> = Vec::new();
    let mut lines: HashMap<String, usize> = HashMap::new();
    for c in column_set.children_named("Column") {
        let id = c
            .attr("Id")
            .map(str::trim)
            .filter(|id| !id.is_empty())
            .ok_or_else(|| missing(c, "Id"))?
            .to_string();
        if let Some(first) = lines.insert(id.clone(), c.line) {
            return Err(GenericodeError::DuplicateColumn {
                line: c.line,
                id,
                first,
            });
        }
        let data = single(c, "Data")?;
        columns.push(Column {
            id,
            short_name: c.text_of("ShortName").map(str::to_string),
            long_name: c.text_of("LongName").map(str::to_string),
            data_type: data.and_then(|d| d.attr("Type")).map(str::to_string),
            lang: data.and_then(|d| d.attr("Lang")).map(str::to_string),
            required: c.attr("Use") == Some("required"),
        });
    }
    if columns.is_empty() {
        return Err(missing(column_set, "Column"));
    }
    Ok(columns)
}

/// The code column and, if a key is marked as the code name, the label
/// column.
fn read_keys(
    column_set: &Element,
    index: &HashMap<&str, usize>,
) -> Result<(usize, Option<usize>), GenericodeError> {
    let marked = |key: &Element, marks: &[&str]| {
        let mut stack = vec![key];
        while let Some(e) = stack.pop() {
            if marks.contains(&e.name.as_str()) {
                return true;
            }
            stack.extend(e.children.iter().filter(|c| c.name != "ColumnRef"));
        }
        false
    };
    let mut code = None;
    let mut first = None;
    let mut label = None;
    for key in column_set.children_named("Key") {
        let refs: Vec<&Element> = key.children_named("ColumnRef").collect();
        let [column] = refs.as_slice() else {
            return Err(match refs.len() {
                0 => missing(key, "ColumnRef"),
                count => GenericodeError::CompositeKey {
                    line: key.line,
                    key: key.attr("Id").unwrap_or_default().to_string(),
                    count,
                },
            });
        };
        let id = column.attr("Ref").unwrap_or_default();
        let at = *index
            .get(id)
            .ok_or_else(|| GenericodeError::UnknownColumn {
                line: column.line,
                id: id.to_string(),
            })?;
        first = first.or(Some(at));
        if marked(key, &CODE_MARKS) {
            code = code.or(Some(at));
        } else if marked(key, &[LABEL_MARK]) {
            label = label.or(Some(at));
        }
    }
    let code = code.or(first).ok_or_else(|| missing(column_set, "Key"))?;
    Ok((code, label.filter(|l| *l != code)))
}

/// The first text column other than the code: German or without a
/// language first, then any other.
fn label_column(columns: &[Column], key: usize) -> Option<usize> {
    let text = |c: &Column| {
        matches!(
            c.data_type.as_deref(),
            None | Some("string" | "normalizedString" | "token")
        )
    };
    let candidates = || {
        columns
            .iter()
            .enumerate()
            .filter(move |(i, c)| *i != key && text(c))
    };
    candidates()
        .find(|(_, c)| c.lang.as_deref().is_none_or(|l| l.starts_with("de")))
        .or_else(|| candidates().next())
        .map(|(i, _)| i)
}

fn read_rows(
    list: &Element,
    columns: &[Column],
    index: &HashMap<&str, usize>,
    key: usize,
) -> Result<Vec<Row>, GenericodeError> {
    let mut rows = Vec::new();
    let mut codes: HashMap<String, usize> = HashMap::new();
    for row in list.children_named("Row") {
        let mut values: Vec<Option<String>> = vec![None; columns.len()];
        let mut seen = vec![false; columns.len()];
        // A value without ColumnRef is in the column after the previous one.
        let mut next = 0;
        for value in row.children_named("Value") {
            let at = match value.attr("ColumnRef") {
                Some(id) => *index
                    .get(id)
                    .ok_or_else(|| GenericodeError::UnknownColumn {
                        line: value.line,
                        id: id.to_string(),
                    })?,
                None if next < columns.len() => next,
                None => {
                    return Err(GenericodeError::TooManyValues {
                        line: value.line,
                        columns: columns.len(),
                    })
                }
            };
            let column = &columns[at].id;
            if seen[at] {
                return Err(GenericodeError::DuplicateValue {
                    line: value.line,
                    column: column.clone(),
                });
            }
            seen[at] = true;
            next = at + 1;
            if value.child("ComplexValue").is_some() {
                return Err(GenericodeError::ComplexValue {
                    line: value.line,
                    column: column.clone(),
                });
            }
            values[at] = single(value, "SimpleValue")?
                .map(|v| v.text.trim().to_string())
                .filter(|v| !v.is_empty());
        }
        let Some(code) = values[key].clone() else {
            return Err(GenericodeError::MissingCode {
                line: row.line,
                column: columns[key].id.clone(),
            });
        };
        if let Some(first) = codes.insert(code.clone(), row.line) {
            return Err(GenericodeError::DuplicateCode {
                line: row.line,
                code,
                first,
            });
        }
        rows.push(Row {
            values,
            line: row.line,
        });
    }
    if rows.is_empty() {
        return Err(GenericodeError::Empty { line: list.line });
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Vec<u8> {
        let path = format!(
            "{}/../../tests/fixtures/genericode/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    #[test]
    fn the_key_and_label_columns_are_the_marked_ones() {
        let list = read(&fixture("bundesland_2010-04-01.xml")).unwrap();
        assert_eq!(list.short_name, "Bundesland");
        assert_eq!(list.version, "2010-04-01");
        assert_eq!(
            list.canonical_uri,
            "urn:de:bund:destatis:bevoelkerungsstatistik:schluessel:bundesland"
        );
        assert_eq!(
            list.canonical_version_uri.as_deref(),
            Some("urn:de:bund:destatis:bevoelkerungsstatistik:schluessel:bundesland_2010-04-01")
        );
        assert_eq!(
            list.agency.as_deref(),
            Some("Statistisches Bundesamt, Wiesbaden (Destatis)")
        );
        assert_eq!(list.valid_from.as_deref(), Some("2010-04-01"));
        assert!(list
            .description
            .as_deref()
            .unwrap()
            .starts_with("Die Bundesrepublik"));
        assert_eq!(list.columns[list.key].id, "SCHLUESSEL");
        assert_eq!(list.columns[list.label.unwrap()].id, "Bezeichnung");
        assert_eq!(list.rows.len(), 16);
        let first = &list.rows[0];
        assert_eq!(list.code(first), "01");
        assert_eq!(list.label_of(first), Some("Schleswig-Holstein"));
    }

    #[test]
    fn without_marks_the_first_key_and_the_german_text_column() {
        let list = read(&fixture("anschrifttyp_2.0.xml")).unwrap();
        assert_eq!(list.columns[list.key].id, "code");
        assert_eq!(list.columns[list.label.unwrap()].id, "description-de-DE");
        assert_eq!(list.columns.len(), 3, "the English column is kept");
        assert_eq!(list.rows.len(), 6);
        assert_eq!(list.code(&list.rows[0]), "001");
        assert_eq!(list.rows[0].values[2].as_deref(), Some("Address"));
        let list = read(&fixture("dsmeld-familienstand_2.xml")).unwrap();
        assert_eq!(list.columns[list.key].id, "key");
        assert_eq!(list.columns[list.label.unwrap()].id, "name");
        assert_eq!(list.valid_from.as_deref(), Some("2017-11-01"));
        assert_eq!(list.rows.len(), 10);
    }

    /// A list whose second column is the key, marked the XÖV 4 way.
    const MARKED: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<gc:CodeList xmlns:gc="http://docs.oasis-open.org/codelist/ns/genericode/1.0/" xmlns:xoev-cl-4="http://xoev.de/schemata/genericode/4">
  <Identification>
    <ShortName>probe</ShortName>
    <Version>3</Version>
    <CanonicalUri>urn:de:probe</CanonicalUri>
  </Identification>
  <ColumnSet>
    <Column Id="name" Use="required"><Data Type="string"/></Column>
    <Column Id="schluessel" Use="required"><Data Type="string"/></Column>
    <Key Id="nameKey"><ColumnRef Ref="name"/></Key>
    <Key Id="codeKey"><Annotation><AppInfo><xoev-cl-4:recommendedKeyColumn/></AppInfo></Annotation><ColumnRef Ref="schluessel"/></Key>
  </ColumnSet>
  <SimpleCodeList>
    <Row><Value ColumnRef="name"><SimpleValue>Eins</SimpleValue></Value><Value ColumnRef="schluessel"><SimpleValue>1</SimpleValue></Value></Row>
    <Row><Value><SimpleValue>Zwei</SimpleValue></Value><Value><SimpleValue>2</SimpleValue></Value></Row>
  </SimpleCodeList>
</gc:CodeList>
"#;

    #[test]
    fn a_recommended_key_wins_over_the_first_and_values_may_go_by_position() {
        let list = read(MARKED.as_bytes()).unwrap();
        assert_eq!(list.columns[list.key].id, "schluessel");
        assert_eq!(list.columns[list.label.unwrap()].id, "name");
        let codes: Vec<&str> = list.rows.iter().map(|r| list.code(r)).collect();
        assert_eq!(codes, ["1", "2"]);
        assert_eq!(list.label_of(&list.rows[1]), Some("Zwei"));
    }

    #[test]
    fn what_cannot_be_read_completely_is_refused_with_its_line() {
        let refused = |text: &str| read(text.as_bytes()).unwrap_err().to_string();
        assert!(refused("<a/>").contains("not a genericode 1.0 <CodeList>"));
        assert_eq!(
            refused(&MARKED.replace("<Version>3</Version>", "")),
            "line 3: <Identification> has no <Version>"
        );
        assert_eq!(
            refused(&MARKED.replace("Id=\"name\"", "Id=\"schluessel\"")),
            "line 10: the column id \"schluessel\" is used twice (first on line 9)"
        );
        assert_eq!(
            refused(&MARKED.replace("<ColumnRef Ref=\"name\"/>", "<ColumnRef Ref=\"nom\"/>")),
            "line 11: there is no column \"nom\""
        );
        assert_eq!(
            refused(&MARKED.replace(
                "<SimpleValue>2</SimpleValue>",
                "<SimpleValue>1</SimpleValue>"
            )),
            "line 16: the code \"1\" appears twice (first on line 15)"
        );
        assert_eq!(
            refused(&MARKED.replace(
                "<SimpleValue>2</SimpleValue>",
                "<SimpleValue> </SimpleValue>"
            )),
            "line 16: the row has no code (no value in the key column \"schluessel\")"
        );
        assert_eq!(
            refused(&MARKED.replace(
                "<ColumnRef Ref=\"name\"/>",
                "<ColumnRef Ref=\"name\"/><ColumnRef Ref=\"schluessel\"/>"
            )),
            "line 11: the key \"nameKey\" spans 2 columns; only single-column keys name a code"
        );
        assert_eq!(
            refused(&MARKED.replace(
                "<Value><SimpleValue>2</SimpleValue></Value>",
                "<Value ColumnRef=\"name\"><SimpleValue>2</SimpleValue></Value>"
            )),
            "line 16: the row has two values for the column \"name\""
        );
        assert_eq!(
            refused(&MARKED.replace(
                "<Value><SimpleValue>2</SimpleValue></Value>",
                "<Value><SimpleValue>2</SimpleValue></Value><Value><SimpleValue>3</SimpleValue></Value>"
            )),
            "line 16: the row has more values than the list has columns (2)"
        );
        assert!(refused(&MARKED.replace(
            "<gc:CodeList",
            "<!DOCTYPE x [<!ENTITY e \"e\">]>\n<gc:CodeList"
        ))
        .contains("DOCTYPE"));
    }
}
