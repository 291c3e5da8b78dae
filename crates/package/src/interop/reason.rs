//! Why an element of an import was not carried over exactly: one variant
//! per situation, with the variable parts as fields, so that the report
//! can say it in English (the CLI, the JSON's `message`) and in German (the
//! README of the imported package, which the web UI shows to municipal
//! staff) without anyone translating free text.

use std::borrow::Cow;

use crate::model::{FieldType, Occurs};

/// What `fim_label` writes for an element without an id; the German report
/// says it in German.
pub(crate) const NO_FIM_ID: &str = "(no id)";

/// A FIM label (`F00000057 V1.2`, or the no-id marker, possibly followed by
/// a path) as the German report shows it.
pub(crate) fn fim_de(label: &str) -> Cow<'_, str> {
    match label.strip_prefix(NO_FIM_ID) {
        Some(rest) => Cow::Owned(format!("(ohne ID){rest}")),
        None => Cow::Borrowed(label),
    }
}

/// A Markdown code span that shows `s` as it is, whatever it holds: the
/// values come from the imported file.
pub(crate) fn code(s: &str) -> String {
    let s: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if s.trim().is_empty() {
        return "„“".into();
    }
    let mut longest = 0;
    let mut run = 0;
    for c in s.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat(longest + 1);
    // A span that starts or ends with a backtick needs a space inside the
    // fence; CommonMark strips one space on each side.
    if s.starts_with('`') || s.ends_with('`') || (s.starts_with(' ') && s.ends_with(' ')) {
        format!("{fence} {s} {fence}")
    } else {
        format!("{fence}{s}{fence}")
    }
}

/// The condition keys a rule was turned into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConditionKeys {
    /// An optional field or a group: `shown-when`.
    ShownWhen,
    /// A required field: `shown-when` and `required-when`, with the same
    /// expression.
    ShownAndRequiredWhen,
}

impl ConditionKeys {
    pub fn english(self) -> &'static str {
        match self {
            ConditionKeys::ShownWhen => "shown-when",
            ConditionKeys::ShownAndRequiredWhen => "shown-when and required-when",
        }
    }

    /// The keys with their expression, as German Markdown:
    /// `` `shown-when = "x"` und `required-when = "x"` ``.
    pub fn german(self, expr: &str) -> String {
        let one = |key: &str| code(&format!("{key} = \"{expr}\""));
        match self {
            ConditionKeys::ShownWhen => one("shown-when"),
            ConditionKeys::ShownAndRequiredWhen => {
                format!("{} und {}", one("shown-when"), one("required-when"))
            }
        }
    }
}

/// Why a select's code list could not be read; the field becomes text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodelistGap {
    /// 3.0.0 `werte` without a single `wert` with a code.
    NoCodes,
    NoCodelist,
    /// The list's name or id, if it has one.
    NoUrn {
        list: Option<String>,
    },
    NoVersion {
        urn: String,
    },
}

impl CodelistGap {
    fn code(&self) -> &'static str {
        match self {
            CodelistGap::NoCodes => "select-without-codes",
            CodelistGap::NoCodelist => "select-without-codelist",
            CodelistGap::NoUrn { .. } => "codelist-without-urn",
            CodelistGap::NoVersion { .. } => "codelist-without-version",
        }
    }

    fn english(&self) -> String {
        match self {
            CodelistGap::NoCodes => "the <werte> list has no code".into(),
            CodelistGap::NoCodelist => "a select without a code list".into(),
            CodelistGap::NoUrn { list } => format!(
                "the code list {} names no URN",
                list.as_deref().unwrap_or("(unnamed)")
            ),
            CodelistGap::NoVersion { urn } => format!("the code list {urn} names no version"),
        }
    }

    fn german(&self) -> String {
        match self {
            CodelistGap::NoCodes => "Die Liste `<werte>` enthält keinen Code".into(),
            CodelistGap::NoCodelist => {
                "Das Auswahlfeld (Feldart `select`) hat keine Codeliste".into()
            }
            CodelistGap::NoUrn { list: Some(l) } => {
                format!("Die Codeliste {} nennt keine URN", code(l))
            }
            CodelistGap::NoUrn { list: None } => {
                "Die Codeliste hat keinen Namen und nennt keine URN".into()
            }
            CodelistGap::NoVersion { urn } => {
                format!("Die Codeliste {} nennt keine Version", code(urn))
            }
        }
    }
}

/// Why a rule stays text instead of becoming a condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuleGap {
    NotADependency,
    /// The FIM id the rule names is not among the imported elements.
    NotImported {
        id: String,
    },
    /// The FIM id occurs more than once in the import.
    Ambiguous {
        id: String,
        times: usize,
    },
    /// The condition field is not a `bool` field.
    NotBoolean {
        id: String,
    },
    /// The condition field is inside a repeatable group the dependent
    /// element is not in.
    InRepeatableGroup {
        id: String,
        group: String,
    },
    /// No name of the condition field resolves to it from the dependent
    /// element.
    NotNameable {
        id: String,
        from: String,
    },
    AlreadyConditioned {
        path: String,
    },
    NotFound {
        path: String,
    },
}

impl RuleGap {
    fn code(&self) -> &'static str {
        match self {
            RuleGap::NotADependency => "rule-not-a-dependency",
            RuleGap::NotImported { .. } => "rule-names-missing-element",
            RuleGap::Ambiguous { .. } => "rule-names-ambiguous-element",
            RuleGap::NotBoolean { .. } => "rule-condition-not-boolean",
            RuleGap::InRepeatableGroup { .. } => "rule-condition-in-repeatable-group",
            RuleGap::NotNameable { .. } => "rule-condition-not-nameable",
            RuleGap::AlreadyConditioned { .. } => "rule-target-has-condition",
            RuleGap::NotFound { .. } => "rule-target-not-found",
        }
    }

    fn english(&self) -> String {
        match self {
            RuleGap::NotADependency => "its text is not a plain dependency (\"F… ist nur zu befüllen, wenn F… bejaht wurde\")".into(),
            RuleGap::NotImported { id } => format!("{id} is not part of the import"),
            RuleGap::Ambiguous { id, times } => {
                format!("{id} occurs {times} times, so it is not clear which is meant")
            }
            RuleGap::NotBoolean { id } => format!("{id} is not a yes/no field (datentyp bool)"),
            RuleGap::InRepeatableGroup { id, group } => format!("{id} lies in the repeatable group \"{group}\", so the condition could not tell which entry is meant"),
            RuleGap::NotNameable { id, from } => {
                format!("{id} cannot be named unambiguously from {from}")
            }
            RuleGap::AlreadyConditioned { path } => format!("\"{path}\" already has a condition"),
            RuleGap::NotFound { path } => format!("\"{path}\" was not found"),
        }
    }

    fn german(&self) -> String {
        match self {
            RuleGap::NotADependency => "Ihr Text ist keine einfache Abhängigkeit wie „F… ist nur zu befüllen, wenn F… bejaht wurde“".into(),
            RuleGap::NotImported { id } => {
                format!("Das Element {id}, das sie nennt, gehört nicht zu den übernommenen Elementen")
            }
            RuleGap::Ambiguous { id, times } => format!(
                "Das Element {id}, das sie nennt, kommt {times}-mal vor; es ist nicht eindeutig, welches gemeint ist"
            ),
            RuleGap::NotBoolean { id } => {
                format!("Das Datenfeld {id} ist kein Ja/Nein-Feld (Datentyp `bool`)")
            }
            RuleGap::InRepeatableGroup { id, group } => format!(
                "Das Datenfeld {id} liegt in der wiederholbaren Gruppe {}; eine Bedingung könnte nicht erkennen, welcher Eintrag gemeint ist",
                code(group)
            ),
            RuleGap::NotNameable { id, from } => format!(
                "Das Datenfeld {id} lässt sich von {} aus nicht eindeutig benennen",
                code(from)
            ),
            RuleGap::AlreadyConditioned { path } => {
                format!("Das Element {} hat bereits eine Bedingung", code(path))
            }
            RuleGap::NotFound { path } => {
                format!("Das Element {} wurde nicht gefunden", code(path))
            }
        }
    }
}

/// Why one element was not carried over exactly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoteReason {
    /// A child of the message root beside the header and the payload.
    UnreadMessageElement,
    /// A child this importer has no mapping for.
    UnknownElement,
    /// `ableitungsmodifikationenStruktur` with a code outside 0–3.
    UnknownAbleitung {
        code: String,
    },
    /// Forms get `vertrauensniveau = "niedrig"`.
    VertrauensniveauAssumed,
    NotAFimId {
        id: String,
    },
    NotAFimVersion {
        version: String,
    },
    /// A `struktur` without `anzahl`: taken as 1:1.
    NoAnzahl,
    /// An `anzahl` of at most 0 (`x:0`): the element is left out. `error`
    /// is what the occurrence parser said.
    AnzahlNever {
        anzahl: String,
        error: String,
    },
    /// Any other unreadable `anzahl`: taken as 0:1.
    BadAnzahl {
        anzahl: String,
        error: String,
    },
    StrukturWithoutEnthaelt,
    NeitherFieldNorGroup,
    /// A code outside its list (a `schemaelementart`, a 2.0 `status`).
    UnknownCode {
        code: String,
    },
    /// XDatenfelder 2.0's status, kept as the Freigabestatus of 3.0.0.
    StatusAsFreigabestatus {
        status: String,
        freigabestatus: String,
    },
    /// The `bezug` of a `struktur` joined the element's legal basis.
    StrukturBezugJoined,
    /// A `bezug` whose `link` is no web address: the norm is kept, the
    /// link is not.
    LinkNotWeb {
        link: String,
    },
    /// No `bezeichnungEingabe`: the FIM name is the label.
    LabelFromName,
    /// A group none of whose fields could be imported.
    EmptyGroup,
    HiddenField,
    EmptyLabel,
    LockedField,
    UnknownFeldart {
        feldart: String,
    },
    /// A code list on a field that is not a select.
    CodelistOnInput,
    TextLatin,
    ObjAsFile,
    UnknownDatentyp {
        datentyp: String,
    },
    /// A select whose datentyp is not `text`.
    SelectDatentyp {
        datentyp: String,
    },
    /// A select whose code list could not be read: a text field.
    SelectAsText(CodelistGap),
    /// A field that occurs more than once, in a repeatable group.
    RepeatedField {
        occurs: Occurs,
        group: String,
    },
    DuplicateCode {
        code: String,
    },
    /// `minLength`/`maxLength` on a field that is not textual.
    LengthForType {
        key: String,
        value: String,
        ty: FieldType,
    },
    /// `minValue`/`maxValue` that does not fit the field's type.
    BoundForType {
        key: String,
        value: String,
        ty: FieldType,
    },
    NotANumber {
        key: String,
        value: String,
    },
    /// `maxSize` or `mediaType` on a field that is no file.
    FileOnlyForType {
        key: String,
        value: String,
        ty: FieldType,
    },
    /// The `inhalt` of a field that is not locked: a preset value.
    InhaltNotKept {
        value: String,
    },
    /// A bound with a fraction on an integer field.
    NotWhole {
        key: String,
        value: String,
    },
    PatternForType {
        ty: FieldType,
    },
    /// A pattern `regex-syntax` cannot parse (look-around,
    /// backreferences).
    UnsupportedPattern {
        pattern: String,
    },
    UnknownConstraint {
        name: String,
    },
    /// 1.0/2.0 `praezisierung` text that is not a JSON object.
    PraezisierungNotJson {
        text: String,
    },
    /// A pattern whose shortest match is longer than maxLength: no value
    /// fits both; maxLength is not kept.
    PatternLongerThanMax {
        pattern: String,
        shortest: usize,
        max: u64,
    },
    LengthContradiction {
        min: u64,
        max: u64,
    },
    /// `min`, `max` as the bounds print (numbers or dates).
    BoundContradiction {
        min: String,
        max: String,
    },
    RuleAsCondition {
        keys: ConditionKeys,
        expr: String,
    },
    RuleAsText(RuleGap),
    /// The FIM version (if any) is no package version: 0.1.0.
    VersionNotSemver {
        version: Option<String>,
    },
    /// The licence the importer wrote, from `--license`.
    LicenceAssumed {
        license: String,
    },
    /// The registry was asked and has no code list package that holds the
    /// referenced list: the reference stays.
    CodelistNotInRegistry {
        urn: String,
        version: String,
    },
}

impl NoteReason {
    /// A stable name of the situation, for machines (the JSON report's
    /// `reason`).
    pub fn code(&self) -> &'static str {
        use NoteReason::*;
        match self {
            UnreadMessageElement => "unread-message-element",
            UnknownElement => "unknown-element",
            UnknownAbleitung { .. } => "unknown-ableitung",
            VertrauensniveauAssumed => "vertrauensniveau-assumed",
            NotAFimId { .. } => "not-a-fim-id",
            NotAFimVersion { .. } => "not-a-fim-version",
            NoAnzahl => "no-anzahl",
            AnzahlNever { .. } => "anzahl-never",
            BadAnzahl { .. } => "bad-anzahl",
            StrukturWithoutEnthaelt => "struktur-without-enthaelt",
            NeitherFieldNorGroup => "neither-field-nor-group",
            UnknownCode { .. } => "unknown-code",
            StatusAsFreigabestatus { .. } => "status-as-freigabestatus",
            StrukturBezugJoined => "struktur-bezug-joined",
            LinkNotWeb { .. } => "link-not-web",
            LabelFromName => "label-from-name",
            EmptyGroup => "empty-group",
            HiddenField => "hidden-field",
            EmptyLabel => "empty-label",
            LockedField => "locked-field",
            UnknownFeldart { .. } => "unknown-feldart",
            CodelistOnInput => "codelist-on-input",
            TextLatin => "text-latin",
            ObjAsFile => "obj-as-file",
            UnknownDatentyp { .. } => "unknown-datentyp",
            SelectDatentyp { .. } => "select-datentyp",
            SelectAsText(gap) => gap.code(),
            RepeatedField { .. } => "repeated-field",
            DuplicateCode { .. } => "duplicate-code",
            LengthForType { .. } => "length-for-type",
            BoundForType { .. } => "bound-for-type",
            NotANumber { .. } => "not-a-number",
            FileOnlyForType { .. } => "file-only-for-type",
            InhaltNotKept { .. } => "inhalt-not-kept",
            NotWhole { .. } => "not-whole",
            PatternForType { .. } => "pattern-for-type",
            UnsupportedPattern { .. } => "unsupported-pattern",
            UnknownConstraint { .. } => "unknown-constraint",
            PraezisierungNotJson { .. } => "praezisierung-not-json",
            LengthContradiction { .. } => "length-contradiction",
            PatternLongerThanMax { .. } => "pattern-longer-than-max",
            BoundContradiction { .. } => "bound-contradiction",
            RuleAsCondition { .. } => "rule-as-condition",
            RuleAsText(gap) => gap.code(),
            VersionNotSemver { .. } => "version-not-semver",
            LicenceAssumed { .. } => "licence-assumed",
            CodelistNotInRegistry { .. } => "codelist-not-in-registry",
        }
    }

    /// In English, plain text: what `gemeinwerk import` prints and the
    /// JSON report's `message`.
    pub fn english(&self) -> String {
        use NoteReason::*;
        match self {
            UnreadMessageElement => "an element of the message that is not read".into(),
            UnknownElement => "an element this importer does not know".into(),
            UnknownAbleitung { code } => {
                format!("ableitungsmodifikationenStruktur \"{code}\" is not a code 0 to 3")
            }
            VertrauensniveauAssumed => "XDatenfelder says nothing about the Vertrauensniveau; set to \"niedrig\": raise it in form.toml if the service needs more".into(),
            NotAFimId { id } => format!("\"{id}\" is not a FIM id (a letter and 8 or 11 digits); the reference is not kept"),
            NotAFimVersion { version } => {
                format!("the version \"{version}\" is not numbers and dots; not kept")
            }
            NoAnzahl => "no <anzahl>; taken as 1:1".into(),
            AnzahlNever { error, .. } => format!("{error}: the element is left out"),
            BadAnzahl { error, .. } => format!("{error}; taken as 0:1"),
            StrukturWithoutEnthaelt => "a <struktur> without <enthaelt>".into(),
            NeitherFieldNorGroup => "neither a datenfeld nor a datenfeldgruppe".into(),
            UnknownCode { code } => format!("\"{code}\" is no code of the element's list; not kept"),
            StatusAsFreigabestatus { status, freigabestatus } => format!(
                "the status \"{status}\" of XDatenfelder 2.0 is kept as Freigabestatus {freigabestatus} of 3.0.0"
            ),
            LinkNotWeb { link } => format!("the link \"{link}\" is no http(s) address; the legal basis is kept without it"),
            StrukturBezugJoined => "the legal basis given where the element is used (the bezug of its struktur) is kept in the element's legal-basis, with its own".into(),
            LabelFromName => "no bezeichnungEingabe; the label is the FIM name".into(),
            EmptyGroup => "the group has no fields that could be imported; left out".into(),
            HiddenField => "a hidden field (feldart hidden) is not part of what the applicant fills in; left out".into(),
            EmptyLabel => "a label without text; left out".into(),
            LockedField => "a locked (read-only) field without content that fits it is imported as an ordinary input".into(),
            UnknownFeldart { feldart } => {
                format!("feldart \"{feldart}\" is not known; imported as an input")
            }
            CodelistOnInput => "a code list on a field that is not a select; not kept".into(),
            TextLatin => "datentyp text_latin (DIN SPEC 91379 characters) is imported as text; the character set is not checked".into(),
            ObjAsFile => "datentyp obj (a binary object) is imported as a file upload".into(),
            UnknownDatentyp { datentyp } => {
                format!("datentyp \"{datentyp}\" is not known; imported as text")
            }
            SelectDatentyp { datentyp } => {
                format!("a select of datentyp \"{datentyp}\": the codes are text")
            }
            SelectAsText(gap) => format!("{}; imported as a text field", gap.english()),
            RepeatedField { occurs, group } => format!("the field occurs {occurs}; imported as the repeatable group \"{group}\" with the one field \"wert\""),
            DuplicateCode { code } => {
                format!("the code \"{code}\" is listed twice; the second is left out")
            }
            LengthForType { key, value, ty } => format!(
                "{key} {value} does not apply to a {} field; not kept",
                ty.as_str()
            ),
            FileOnlyForType { key, value, ty } => format!(
                "{key} {value} applies to file fields only, not to a {} field; not kept",
                ty.as_str()
            ),
            InhaltNotKept { value } => format!(
                "the inhalt \"{value}\" presets a field that is not locked; the package format has no preset values, so it is not kept"
            ),
            BoundForType { key, value, ty } => format!(
                "{key} \"{value}\" does not apply to a {} field; not kept",
                ty.as_str()
            ),
            NotANumber { key, value } => format!("{key} \"{value}\" is not a number; not kept"),
            NotWhole { key, value } => {
                format!("{key} {value} is not a whole number, but the field is")
            }
            PatternForType { ty } => format!(
                "a pattern does not apply to a {} field; not kept",
                ty.as_str()
            ),
            UnsupportedPattern { pattern } => format!("the pattern \"{pattern}\" is not a regular expression our checks understand (no look-around, no backreferences); not kept"),
            UnknownConstraint { name } => {
                format!("the constraint \"{name}\" is not known; not kept")
            }
            PraezisierungNotJson { text } => {
                format!("\"{text}\" is not a JSON object of constraints; not kept")
            }
            LengthContradiction { min, max } => {
                format!("minLength {min} is greater than maxLength {max}; neither is kept")
            }
            PatternLongerThanMax { pattern, shortest, max } => format!(
                "the pattern \"{pattern}\" matches nothing shorter than {shortest} characters, more than maxLength {max}: no value fits both; maxLength is not kept"
            ),
            BoundContradiction { min, max } => {
                format!("minValue {min} is greater than maxValue {max}; neither is kept")
            }
            RuleAsCondition { keys, expr } => format!("{} = \"{expr}\"", keys.english()),
            RuleAsText(gap) => format!("kept as text in README.md: {}", gap.english()),
            VersionNotSemver { version } => format!(
                "the FIM version {} is not a version the package can take; the package starts at 0.1.0",
                version.as_deref().unwrap_or("(none)")
            ),
            LicenceAssumed { license } => format!("XDatenfelder carries no licence; the manifest says \"{license}\": check the terms of the source before publishing"),
            CodelistNotInRegistry { urn, version } => format!("no code list package of the registry holds the list {urn}, version {version}; the field keeps the XRepository reference and its codes are not checked (import the list with `gemeinwerk import genericode` and publish it, then import again)"),
        }
    }

    /// In German, as Markdown (values from the source and names of the
    /// formats in code spans): what the README of an imported package says.
    pub fn german(&self) -> String {
        use NoteReason::*;
        match self {
            UnreadMessageElement => {
                "Dieses Element der Nachricht wird beim Import nicht gelesen.".into()
            }
            UnknownElement => {
                "Das Importwerkzeug kennt dieses Element nicht; es wurde nicht übernommen.".into()
            }
            UnknownAbleitung { code: c } => format!(
                "Die Ableitungsmodifikation der Struktur hat den Code {}, erlaubt sind 0 bis 3; sie wurde nicht übernommen.",
                code(c)
            ),
            VertrauensniveauAssumed => "XDatenfelder enthält keine Angabe zum Vertrauensniveau; es wurde auf `niedrig` gesetzt. Erhöhen Sie es in `form.toml`, wenn die Leistung ein höheres Vertrauensniveau erfordert.".into(),
            NotAFimId { id } => format!(
                "{} ist keine FIM-ID (ein Buchstabe und 8 oder 11 Ziffern); der Verweis auf FIM wurde nicht übernommen.",
                code(id)
            ),
            NotAFimVersion { version } => format!(
                "Die Version {} besteht nicht nur aus Ziffern und Punkten; sie wurde nicht übernommen.",
                code(version)
            ),
            NoAnzahl => "Die Anzahl (`<anzahl>`) fehlt; sie wurde als `1:1` angenommen.".into(),
            AnzahlNever { anzahl, .. } => format!(
                "Die Anzahl {} lässt kein Vorkommen zu; das Element wurde weggelassen.",
                code(anzahl)
            ),
            BadAnzahl { anzahl, .. } => format!(
                "Die Anzahl {} ist keine gültige Angabe wie `0:1`, `1:*` oder `2:5`; sie wurde als `0:1` angenommen.",
                code(anzahl)
            ),
            StrukturWithoutEnthaelt => {
                "Eine `<struktur>` ohne `<enthaelt>`; sie wurde weggelassen.".into()
            }
            NeitherFieldNorGroup => "Das Element ist weder ein Datenfeld noch eine Datenfeldgruppe; es wurde weggelassen.".into(),
            UnknownCode { code: c } => format!(
                "{} ist kein Code der Codeliste des Elements; er wurde nicht übernommen.",
                code(c)
            ),
            StatusAsFreigabestatus { status, freigabestatus } => format!(
                "Der Status {} aus XDatenfelder 2.0 wurde als Freigabestatus {} aus 3.0.0 übernommen.",
                code(status),
                code(freigabestatus)
            ),
            LinkNotWeb { link } => format!(
                "Der Verweis {} ist keine http(s)-Adresse; die Rechtsgrundlage wurde ohne ihn übernommen.",
                code(link)
            ),
            StrukturBezugJoined => "Die Rechtsgrundlage am Ort der Verwendung (`bezug` der `struktur`) steht mit der eigenen des Elements in dessen `legal-basis`.".into(),
            LabelFromName => "Die Bezeichnung für die Eingabe (`bezeichnungEingabe`) fehlt; als Beschriftung dient der FIM-Name.".into(),
            EmptyGroup => "Die Datenfeldgruppe enthält kein Datenfeld, das übernommen werden konnte; sie wurde weggelassen.".into(),
            HiddenField => "Ein verborgenes Datenfeld (Feldart `hidden`) gehört nicht zu den Angaben der antragstellenden Person; es wurde weggelassen.".into(),
            EmptyLabel => {
                "Ein Datenfeld der Feldart `label` ohne Text; es wurde weggelassen.".into()
            }
            LockedField => "Ein schreibgeschütztes Datenfeld (Feldart `locked`) ohne passenden Inhalt wurde als gewöhnliches Eingabefeld übernommen.".into(),
            UnknownFeldart { feldart } => format!(
                "Die Feldart {} ist unbekannt; das Datenfeld wurde als Eingabefeld übernommen.",
                code(feldart)
            ),
            CodelistOnInput => "Eine Codeliste an einem Datenfeld, das kein Auswahlfeld (Feldart `select`) ist; sie wurde nicht übernommen.".into(),
            TextLatin => "Der Datentyp `text_latin` (Zeichen nach DIN SPEC 91379) wurde als Text übernommen; der Zeichensatz wird nicht geprüft.".into(),
            ObjAsFile => {
                "Der Datentyp `obj` (ein Binärobjekt) wurde als Datei-Upload übernommen.".into()
            }
            UnknownDatentyp { datentyp } => format!(
                "Der Datentyp {} ist unbekannt; das Datenfeld wurde als Text übernommen.",
                code(datentyp)
            ),
            SelectDatentyp { datentyp } => format!(
                "Ein Auswahlfeld mit dem Datentyp {}: Die Codes wurden als Text übernommen.",
                code(datentyp)
            ),
            SelectAsText(gap) => format!(
                "{}; das Datenfeld wurde als Textfeld übernommen.",
                gap.german()
            ),
            RepeatedField { occurs, group } => format!(
                "Das Datenfeld hat die Anzahl {}; es wurde als wiederholbare Gruppe {} mit dem einzigen Feld `wert` übernommen.",
                code(&occurs.to_string()),
                code(group)
            ),
            DuplicateCode { code: c } => format!(
                "Der Code {} steht zweimal in der Liste; der zweite Eintrag wurde weggelassen.",
                code(c)
            ),
            FileOnlyForType { key, value, ty } => format!(
                "Die Angabe {} gilt nur für Dateifelder, nicht für ein Datenfeld vom Typ {}; sie wurde nicht übernommen.",
                code(&format!("{key} {value}")),
                type_de(*ty)
            ),
            InhaltNotKept { value } => format!(
                "Der Inhalt {} belegt ein Feld vor, das nicht gesperrt ist; das Paketformat kennt keine Vorbelegung, er wurde nicht übernommen.",
                code(value)
            ),
            LengthForType { key, value, ty } | BoundForType { key, value, ty } => format!(
                "Die Präzisierung {} gilt nicht für ein Datenfeld vom Typ {}; sie wurde nicht übernommen.",
                code(&format!("{key} {value}")),
                type_de(*ty)
            ),
            NotANumber { key, value } => format!(
                "Die Präzisierung {} ist keine Zahl; sie wurde nicht übernommen.",
                code(&format!("{key} {value}"))
            ),
            NotWhole { key, value } => format!(
                "Die Präzisierung {} ist keine ganze Zahl, das Datenfeld nimmt aber nur ganze Zahlen auf; sie wurde nicht übernommen.",
                code(&format!("{key} {value}"))
            ),
            PatternForType { ty } => format!(
                "Ein Muster (`pattern`) gilt nicht für ein Datenfeld vom Typ {}; es wurde nicht übernommen.",
                type_de(*ty)
            ),
            UnsupportedPattern { pattern } => format!(
                "Das Muster {} ist kein regulärer Ausdruck, den die Prüfungen verarbeiten können (Lookahead, Lookbehind und Rückverweise werden nicht unterstützt); es wurde nicht übernommen.",
                code(pattern)
            ),
            UnknownConstraint { name } => format!(
                "Die Präzisierung {} ist unbekannt; sie wurde nicht übernommen.",
                code(name)
            ),
            PraezisierungNotJson { text } => format!(
                "Die Präzisierung {} ist kein JSON-Objekt mit Einschränkungen; sie wurde nicht übernommen.",
                code(text)
            ),
            LengthContradiction { min, max } => format!(
                "`minLength {min}` ist größer als `maxLength {max}`; keine der beiden Angaben wurde übernommen."
            ),
            PatternLongerThanMax { pattern, shortest, max } => format!(
                "Das Muster {} passt auf nichts Kürzeres als {shortest} Zeichen, mehr als `maxLength {max}`: kein Wert erfüllt beides; `maxLength` wurde nicht übernommen.",
                code(pattern)
            ),
            BoundContradiction { min, max } => format!(
                "{} ist größer als {}; keine der beiden Angaben wurde übernommen.",
                code(&format!("minValue {min}")),
                code(&format!("maxValue {max}"))
            ),
            RuleAsCondition { keys, expr } => {
                format!("Die Regel wurde als Bedingung übernommen: {}.", keys.german(expr))
            }
            RuleAsText(gap) => format!(
                "Die Regel steht nur als Text im Abschnitt „Regeln“ und wird vom Formular nicht geprüft. {}.",
                gap.german()
            ),
            VersionNotSemver { version: Some(v) } => format!(
                "Die FIM-Version {} taugt nicht als Paketversion; das Paket beginnt mit Version 0.1.0.",
                code(v)
            ),
            VersionNotSemver { version: None } => "Die FIM-Quelle nennt keine Version; das Paket beginnt mit Version 0.1.0.".into(),
            LicenceAssumed { license } => format!(
                "XDatenfelder enthält keine Lizenzangabe; im Manifest steht {}. Prüfen Sie vor der Veröffentlichung die Nutzungsbedingungen der Quelle.",
                code(license)
            ),
            CodelistNotInRegistry { urn, version } => format!(
                "Kein Codelisten-Paket der Registry enthält die Liste {} in Version {}; das Feld behält den Verweis ins XRepository, seine Codes werden nicht geprüft. Übernehmen Sie die Liste mit {} und veröffentlichen Sie sie, dann importieren Sie erneut.",
                code(urn),
                code(version),
                code("gemeinwerk import genericode")
            ),
        }
    }
}

/// A field type in German, with its name in the package format.
fn type_de(ty: FieldType) -> String {
    let de = match ty {
        FieldType::Text => "Text",
        FieldType::MultilineText => "mehrzeiliger Text",
        FieldType::Integer => "ganze Zahl",
        FieldType::Decimal => "Dezimalzahl",
        FieldType::Money => "Geldbetrag",
        FieldType::Date => "Datum",
        FieldType::Time => "Uhrzeit",
        FieldType::DateTime => "Datum mit Uhrzeit",
        FieldType::Boolean => "Ja/Nein",
        FieldType::Email => "E-Mail-Adresse",
        FieldType::Phone => "Telefonnummer",
        FieldType::Iban => "IBAN",
        FieldType::PostalCode => "Postleitzahl",
        FieldType::Select => "Auswahl",
        FieldType::MultiSelect => "Mehrfachauswahl",
        FieldType::File => "Datei",
        FieldType::StaticText => "statischer Text",
    };
    format!("„{de}“ ({})", code(ty.as_str()))
}

/// One reason of every kind, with values as the importer writes them.
#[cfg(test)]
pub(crate) fn examples() -> Vec<NoteReason> {
    use NoteReason::*;
    let s = |v: &str| v.to_string();
    vec![
        UnreadMessageElement,
        UnknownElement,
        UnknownAbleitung { code: s("7") },
        VertrauensniveauAssumed,
        NotAFimId { id: s("X1") },
        NotAFimVersion { version: s("1.a") },
        NoAnzahl,
        AnzahlNever {
            anzahl: s("1:0"),
            error: s("\"1:0\": a group that occurs at most 0 times is never shown"),
        },
        BadAnzahl {
            anzahl: s("zwei"),
            error: s("\"zwei\" is not an occurrence like \"0:1\", \"1:*\" or \"2:5\""),
        },
        StrukturWithoutEnthaelt,
        NeitherFieldNorGroup,
        UnknownCode { code: s("XYZ") },
        StatusAsFreigabestatus {
            status: s("aktiv"),
            freigabestatus: s("5"),
        },
        StrukturBezugJoined,
        LinkNotWeb {
            link: s("file:///etc/passwd"),
        },
        LabelFromName,
        EmptyGroup,
        HiddenField,
        EmptyLabel,
        LockedField,
        UnknownFeldart {
            feldart: s("slider"),
        },
        CodelistOnInput,
        TextLatin,
        ObjAsFile,
        UnknownDatentyp {
            datentyp: s("farbe"),
        },
        SelectDatentyp { datentyp: s("num") },
        SelectAsText(CodelistGap::NoCodes),
        SelectAsText(CodelistGap::NoCodelist),
        SelectAsText(CodelistGap::NoUrn {
            list: Some(s("Anrede (C99000002)")),
        }),
        SelectAsText(CodelistGap::NoUrn { list: None }),
        SelectAsText(CodelistGap::NoVersion {
            urn: s("urn:de:kassel:codeliste:parkzone"),
        }),
        RepeatedField {
            occurs: Occurs {
                min: 0,
                max: Some(5),
            },
            group: s("weiterer_vorname"),
        },
        DuplicateCode { code: s("2") },
        LengthForType {
            key: s("minLength"),
            value: s("3"),
            ty: FieldType::Date,
        },
        FileOnlyForType {
            key: s("maxSize"),
            value: s("1000"),
            ty: FieldType::Text,
        },
        InhaltNotKept { value: s("Kassel") },
        BoundForType {
            key: s("maxValue"),
            value: s("9"),
            ty: FieldType::Text,
        },
        NotANumber {
            key: s("maxValue"),
            value: s("viel"),
        },
        NotWhole {
            key: s("minValue"),
            value: s("1.5"),
        },
        PatternForType {
            ty: FieldType::Integer,
        },
        UnsupportedPattern {
            pattern: s("(?=K)K[0-9]+"),
        },
        UnknownConstraint { name: s("foo") },
        PraezisierungNotJson { text: s("frei") },
        LengthContradiction { min: 5, max: 2 },
        PatternLongerThanMax {
            pattern: s("[0-9]{5}"),
            shortest: 5,
            max: 3,
        },
        BoundContradiction {
            min: s("10"),
            max: s("1"),
        },
        RuleAsCondition {
            keys: ConditionKeys::ShownWhen,
            expr: s("ermaessigung"),
        },
        RuleAsCondition {
            keys: ConditionKeys::ShownAndRequiredWhen,
            expr: s("ermaessigung"),
        },
        RuleAsText(RuleGap::NotADependency),
        RuleAsText(RuleGap::NotImported { id: s("F99000020") }),
        RuleAsText(RuleGap::Ambiguous {
            id: s("F60000000201"),
            times: 2,
        }),
        RuleAsText(RuleGap::NotBoolean {
            id: s("F60000000101"),
        }),
        RuleAsText(RuleGap::InRepeatableGroup {
            id: s("F60000000301"),
            group: s("mitglieder"),
        }),
        RuleAsText(RuleGap::NotNameable {
            id: s("F60000000401"),
            from: s("a.ziel"),
        }),
        RuleAsText(RuleGap::AlreadyConditioned { path: s("grund") }),
        RuleAsText(RuleGap::NotFound { path: s("grund") }),
        VersionNotSemver {
            version: Some(s("1.a")),
        },
        VersionNotSemver { version: None },
        LicenceAssumed {
            license: s("EUPL-1.2"),
        },
        CodelistNotInRegistry {
            urn: s("urn:xoev-de:xinneres:codeliste:anrede"),
            version: s("1"),
        },
    ]
}

/// `s` without its Markdown code spans: what is left is our own wording.
#[cfg(test)]
pub(crate) fn without_code(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find('`') {
        out.push_str(&rest[..i]);
        let after = &rest[i..];
        let n = after.chars().take_while(|c| *c == '`').count();
        let fence = "`".repeat(n);
        let body = &after[n..];
        // The closing fence is a run of exactly n backticks.
        let mut close = None;
        let mut from = 0;
        while let Some(j) = body[from..].find(&fence) {
            let at = from + j;
            let run = body[at..].chars().take_while(|c| *c == '`').count();
            if run == n {
                close = Some(at);
                break;
            }
            from = at + run;
        }
        match close {
            Some(at) => {
                out.push_str(" CODE ");
                rest = &body[at + n..];
            }
            None => {
                out.push_str(after);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// The English words in `s` that German text does not have.
#[cfg(test)]
pub(crate) fn english_words(s: &str) -> Vec<&'static str> {
    const WORDS: [&str; 24] = [
        "the", "not", "is", "a", "of", "and", "to", "as", "no", "with", "field", "fields", "kept",
        "imported", "left", "out", "names", "occurs", "which", "this", "that", "list", "known",
        "rule",
    ];
    let lower = s.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    WORDS
        .iter()
        .copied()
        .filter(|w| words.contains(w))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reason_says_itself_in_german() {
        let all = examples();
        // Every code the source names has an example, so no variant goes
        // unchecked.
        let source = include_str!("reason.rs");
        let bodies =
            regex::Regex::new(r"(?s)fn code\(&self\) -> &'static str \{.*?\n    \}\n").unwrap();
        let named = regex::Regex::new(r#"=> "([a-z-]+)""#).unwrap();
        let mut codes: Vec<&str> = bodies
            .find_iter(source)
            .flat_map(|b| named.captures_iter(b.as_str()))
            .map(|c| c.get(1).unwrap().as_str())
            .collect();
        codes.sort();
        codes.dedup();
        let mut covered: Vec<&str> = all.iter().map(NoteReason::code).collect();
        covered.sort();
        covered.dedup();
        assert_eq!(covered, codes);
        assert!(codes.len() > 40, "{}", codes.len());

        for r in &all {
            let (en, de) = (r.english(), r.german());
            assert_ne!(en, de);
            let ours = without_code(&de);
            assert_eq!(english_words(&ours), Vec::<&str>::new(), "{de}");
            assert!(de.ends_with('.'), "{de}");
            assert!(
                de.starts_with(|c: char| c.is_uppercase() || c == '`'),
                "{de}"
            );
            // The check finds the English it is there to find.
            if !matches!(r, NoteReason::RuleAsCondition { .. }) {
                assert!(!english_words(&en).is_empty(), "{en}");
            }
        }
    }

    #[test]
    fn german_sentences_read_as_written() {
        let cases = [
            (
                NoteReason::VertrauensniveauAssumed,
                "XDatenfelder enthält keine Angabe zum Vertrauensniveau; es wurde auf `niedrig` gesetzt. Erhöhen Sie es in `form.toml`, wenn die Leistung ein höheres Vertrauensniveau erfordert.",
            ),
            (
                NoteReason::SelectAsText(CodelistGap::NoUrn {
                    list: Some("Anrede".into()),
                }),
                "Die Codeliste `Anrede` nennt keine URN; das Datenfeld wurde als Textfeld übernommen.",
            ),
            (
                NoteReason::BoundForType {
                    key: "minValue".into(),
                    value: "1900".into(),
                    ty: FieldType::Text,
                },
                "Die Präzisierung `minValue 1900` gilt nicht für ein Datenfeld vom Typ „Text“ (`text`); sie wurde nicht übernommen.",
            ),
            (
                NoteReason::RuleAsText(RuleGap::NotBoolean {
                    id: "F60000000101".into(),
                }),
                "Die Regel steht nur als Text im Abschnitt „Regeln“ und wird vom Formular nicht geprüft. Das Datenfeld F60000000101 ist kein Ja/Nein-Feld (Datentyp `bool`).",
            ),
        ];
        for (r, de) in cases {
            assert_eq!(r.german(), de);
        }
        // The English stays what the CLI always printed.
        assert_eq!(
            NoteReason::SelectAsText(CodelistGap::NoUrn { list: None }).english(),
            "the code list (unnamed) names no URN; imported as a text field"
        );
        assert_eq!(
            NoteReason::RuleAsCondition {
                keys: ConditionKeys::ShownAndRequiredWhen,
                expr: "x".into()
            }
            .english(),
            "shown-when and required-when = \"x\""
        );
    }

    #[test]
    fn values_from_the_source_stay_code() {
        assert_eq!(code("a`b"), "``a`b``");
        assert_eq!(code("`x"), "`` `x ``");
        assert_eq!(code("zwei\nZeilen"), "`zwei Zeilen`");
        assert_eq!(code(" "), "„“");
        assert_eq!(
            without_code("Die Anzahl ``a`b`` ist `x`."),
            "Die Anzahl  CODE  ist  CODE ."
        );
        assert_eq!(fim_de("(no id) (a.b)"), "(ohne ID) (a.b)");
        assert_eq!(fim_de("F00000001 V1.0"), "F00000001 V1.0");
    }
}
