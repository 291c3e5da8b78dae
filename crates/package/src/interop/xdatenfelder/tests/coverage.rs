//! Every element and attribute of XDatenfelder 2.0 and 3.0.0, each in a
//! document of its own: the import maps it (the package's files differ
//! from those made without it), writes it into the README (rules), names
//! it in its report, or, for the attributes that name the standard's own
//! code list of a code element, carries nothing that is not implied. No
//! kind of element passes silently.

use super::*;

#[derive(Debug, Clone, Copy)]
enum Fate {
    /// `gemeinwerk.toml` or the content file differ.
    Mapped,
    /// The README shows this text (a rule's, kept as documentation).
    InReadme(&'static str),
    /// The report names the element: a note or a not-carried line with
    /// this name; the package's files are the same.
    Reported(&'static str),
    /// Part of every document of the test (required by the standard);
    /// mapped as the other tests show.
    InBase,
    /// An attribute that names the code list of a code element, which the
    /// element already fixes: nothing to carry, and nothing changes.
    Implied,
}
use Fate::*;

/// Where in the test document the element goes.
#[derive(Debug, Clone, Copy)]
enum Slot {
    Schema,
    Group,
    Field,
    File,
    Select,
    Struktur,
    Rule,
}

struct Kind {
    /// The element (`praezisierung/@minLength` for an attribute).
    name: &'static str,
    slot: Slot,
    xml: &'static str,
    /// For an attribute: the same element without it, which the document
    /// to compare with holds.
    without: &'static str,
    fate: Fate,
}

const fn k(name: &'static str, slot: Slot, xml: &'static str, fate: Fate) -> Kind {
    Kind {
        name,
        slot,
        xml,
        without: "",
        fate,
    }
}

const fn attr(
    name: &'static str,
    slot: Slot,
    xml: &'static str,
    without: &'static str,
    fate: Fate,
) -> Kind {
    Kind {
        name,
        slot,
        xml,
        without,
        fate,
    }
}

const V3: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<xdf:xdatenfelder.stammdatenschema.0102 xmlns:xdf="urn:xoev-de:fim:standard:xdatenfelder_3.0.0">
  <xdf:header><xdf:nachrichtID>abc</xdf:nachrichtID><xdf:erstellungszeitpunkt>2024-01-01T00:00:00Z</xdf:erstellungszeitpunkt><xdf:referenzID>def</xdf:referenzID></xdf:header>
  <xdf:stammdatenschema>
    <xdf:identifikation><xdf:id>S60000000100</xdf:id><xdf:version>1.0.0</xdf:version></xdf:identifikation>
    <xdf:name>Probe</xdf:name>
    {schema}
    <xdf:bezeichnung>Probe</xdf:bezeichnung>
    <xdf:struktur><xdf:anzahl>1:1</xdf:anzahl>{struktur}<xdf:enthaelt><xdf:datenfeldgruppe>
      <xdf:identifikation><xdf:id>G60000000100</xdf:id><xdf:version>1.0.0</xdf:version></xdf:identifikation>
      <xdf:name>Gruppe</xdf:name>
      {group}
      <xdf:bezeichnungEingabe>Gruppe</xdf:bezeichnungEingabe>
      <xdf:struktur><xdf:anzahl>1:1</xdf:anzahl><xdf:enthaelt><xdf:datenfeld>
        <xdf:identifikation><xdf:id>F60000000100</xdf:id><xdf:version>1.0.0</xdf:version></xdf:identifikation>
        <xdf:name>Feld</xdf:name><xdf:bezeichnungEingabe>Feld</xdf:bezeichnungEingabe>
        <xdf:feldart><code>input</code></xdf:feldart><xdf:datentyp><code>text</code></xdf:datentyp>
        {field}
        <xdf:regel><xdf:identifikation><xdf:id>R60000000100</xdf:id><xdf:version>1.0.0</xdf:version></xdf:identifikation><xdf:name>Hinweis</xdf:name><xdf:freitextRegel>Ein Hinweis.</xdf:freitextRegel>{rule}</xdf:regel>
      </xdf:datenfeld></xdf:enthaelt></xdf:struktur>
      <xdf:struktur><xdf:anzahl>0:1</xdf:anzahl><xdf:enthaelt><xdf:datenfeld>
        <xdf:identifikation><xdf:id>F60000000101</xdf:id><xdf:version>1.0.0</xdf:version></xdf:identifikation>
        <xdf:name>Nachweis</xdf:name><xdf:bezeichnungEingabe>Nachweis</xdf:bezeichnungEingabe>
        <xdf:feldart><code>input</code></xdf:feldart><xdf:datentyp><code>file</code></xdf:datentyp>
        {file}
      </xdf:datenfeld></xdf:enthaelt></xdf:struktur>
      <xdf:struktur><xdf:anzahl>1:1</xdf:anzahl><xdf:enthaelt><xdf:datenfeld>
        <xdf:identifikation><xdf:id>F60000000102</xdf:id><xdf:version>1.0.0</xdf:version></xdf:identifikation>
        <xdf:name>Auswahl</xdf:name><xdf:bezeichnungEingabe>Auswahl</xdf:bezeichnungEingabe>
        <xdf:feldart><code>select</code></xdf:feldart><xdf:datentyp><code>text</code></xdf:datentyp>
        {select}
      </xdf:datenfeld></xdf:enthaelt></xdf:struktur>
    </xdf:datenfeldgruppe></xdf:enthaelt></xdf:struktur>
  </xdf:stammdatenschema>
</xdf:xdatenfelder.stammdatenschema.0102>
"#;

const V2: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<xdf:xdatenfelder.stammdatenschema.0102 xmlns:xdf="urn:xoev-de:fim:standard:xdatenfelder_2">
  <xdf:header><xdf:nachrichtID>abc</xdf:nachrichtID><xdf:erstellungszeitpunkt>2024-01-01T00:00:00Z</xdf:erstellungszeitpunkt></xdf:header>
  <xdf:stammdatenschema>
    <xdf:identifikation><xdf:id>S00000100</xdf:id><xdf:version>1.0</xdf:version></xdf:identifikation>
    <xdf:name>Probe</xdf:name>
    <xdf:bezeichnungEingabe>Probe</xdf:bezeichnungEingabe>
    {schema}
    <xdf:struktur><xdf:anzahl>1:1</xdf:anzahl>{struktur}<xdf:enthaelt><xdf:datenfeldgruppe>
      <xdf:identifikation><xdf:id>G00000100</xdf:id><xdf:version>1.0</xdf:version></xdf:identifikation>
      <xdf:name>Gruppe</xdf:name>
      <xdf:bezeichnungEingabe>Gruppe</xdf:bezeichnungEingabe>
      {group}
      <xdf:struktur><xdf:anzahl>1:1</xdf:anzahl><xdf:enthaelt><xdf:datenfeld>
        <xdf:identifikation><xdf:id>F00000100</xdf:id><xdf:version>1.0</xdf:version></xdf:identifikation>
        <xdf:name>Feld</xdf:name><xdf:bezeichnungEingabe>Feld</xdf:bezeichnungEingabe>
        <xdf:feldart><code>input</code></xdf:feldart><xdf:datentyp><code>text</code></xdf:datentyp>
        {field}
        <xdf:regel><xdf:identifikation><xdf:id>R00000100</xdf:id><xdf:version>1.0</xdf:version></xdf:identifikation><xdf:name>Hinweis</xdf:name><xdf:definition>Ein Hinweis.</xdf:definition>{rule}</xdf:regel>
      </xdf:datenfeld></xdf:enthaelt></xdf:struktur>
      <xdf:struktur><xdf:anzahl>1:1</xdf:anzahl><xdf:enthaelt><xdf:datenfeld>
        <xdf:identifikation><xdf:id>F00000102</xdf:id><xdf:version>1.0</xdf:version></xdf:identifikation>
        <xdf:name>Auswahl</xdf:name><xdf:bezeichnungEingabe>Auswahl</xdf:bezeichnungEingabe>
        <xdf:feldart><code>select</code></xdf:feldart><xdf:datentyp><code>text</code></xdf:datentyp>
        {select}
      </xdf:datenfeld></xdf:enthaelt></xdf:struktur>
    </xdf:datenfeldgruppe></xdf:enthaelt></xdf:struktur>
  </xdf:stammdatenschema>
</xdf:xdatenfelder.stammdatenschema.0102>
"#;

/// What every element of both standards has in common, with its fate on
/// a field, a group and the schema (where it differs).
fn common(slot: Slot) -> Vec<Kind> {
    use Slot::*;
    let group_or_field = matches!(slot, Group | Field);
    let descriptive = |name| {
        if matches!(slot, Schema) {
            Mapped
        } else {
            Reported(name)
        }
    };
    let mut v = vec![
        k(
            "definition",
            slot,
            "<xdf:definition>Was es ist.</xdf:definition>",
            Mapped,
        ),
        k("bezug", slot, "<xdf:bezug>§ 1 ProbeG</xdf:bezug>", Mapped),
        k(
            "gueltigAb",
            slot,
            "<xdf:gueltigAb>2024-01-01</xdf:gueltigAb>",
            Reported("gueltigAb"),
        ),
        k(
            "gueltigBis",
            slot,
            "<xdf:gueltigBis>2030-01-01</xdf:gueltigBis>",
            Reported("gueltigBis"),
        ),
        k(
            "versionshinweis",
            slot,
            "<xdf:versionshinweis>Neu.</xdf:versionshinweis>",
            Reported("versionshinweis"),
        ),
        k(
            "veroeffentlichungsdatum",
            slot,
            "<xdf:veroeffentlichungsdatum>2024-01-01</xdf:veroeffentlichungsdatum>",
            Reported("veroeffentlichungsdatum"),
        ),
    ];
    v.push(k(
        "beschreibung",
        slot,
        "<xdf:beschreibung>Eine Probe.</xdf:beschreibung>",
        descriptive("beschreibung"),
    ));
    if group_or_field {
        v.extend([
            k(
                "bezeichnungAusgabe",
                slot,
                "<xdf:bezeichnungAusgabe>Ausgabe</xdf:bezeichnungAusgabe>",
                Reported("bezeichnungAusgabe"),
            ),
            k(
                "schemaelementart",
                slot,
                "<xdf:schemaelementart><code>HAR</code></xdf:schemaelementart>",
                Mapped,
            ),
            k(
                "hilfetextEingabe",
                slot,
                "<xdf:hilfetextEingabe>Hilfe</xdf:hilfetextEingabe>",
                Mapped,
            ),
            k(
                "hilfetextAusgabe",
                slot,
                "<xdf:hilfetextAusgabe>Hilfe im Druck</xdf:hilfetextAusgabe>",
                Mapped,
            ),
        ]);
    }
    v
}

fn kinds_v3() -> Vec<Kind> {
    use Slot::*;
    let mut v = Vec::new();
    for slot in [Schema, Group, Field] {
        v.extend(common(slot));
        if !matches!(slot, Schema) {
            v.push(k(
                "stichwort",
                slot,
                "<xdf:stichwort>Probe</xdf:stichwort>",
                Reported("stichwort"),
            ));
        }
        v.extend([
            attr(
                "bezug/@link",
                slot,
                r#"<xdf:bezug link="https://www.gesetze-im-internet.de/">§ 1 ProbeG</xdf:bezug>"#,
                "<xdf:bezug>§ 1 ProbeG</xdf:bezug>",
                Mapped,
            ),
            k(
                "freigabestatus",
                slot,
                "<xdf:freigabestatus><code>6</code></xdf:freigabestatus>",
                Mapped,
            ),
            k(
                "statusGesetztAm",
                slot,
                "<xdf:statusGesetztAm>2024-01-01</xdf:statusGesetztAm>",
                Reported("statusGesetztAm"),
            ),
            k(
                "statusGesetztDurch",
                slot,
                "<xdf:statusGesetztDurch>Redaktion</xdf:statusGesetztDurch>",
                Reported("statusGesetztDurch"),
            ),
            k(
                "letzteAenderung",
                slot,
                "<xdf:letzteAenderung>2024-01-01T00:00:00Z</xdf:letzteAenderung>",
                Reported("letzteAenderung"),
            ),
            k(
                "relation",
                slot,
                "<xdf:relation><xdf:praedikat><code>ABL</code></xdf:praedikat><xdf:objekt><xdf:id>S60000000001</xdf:id><xdf:version>1.0</xdf:version></xdf:objekt></xdf:relation>",
                Reported("relation"),
            ),
            k(
                "regel",
                slot,
                "<xdf:regel><xdf:identifikation><xdf:id>R60000000200</xdf:id><xdf:version>1.0.0</xdf:version></xdf:identifikation><xdf:name>Zweite</xdf:name><xdf:freitextRegel>Noch ein Hinweis.</xdf:freitextRegel></xdf:regel>",
                InReadme("Noch ein Hinweis."),
            ),
        ]);
    }
    v.extend([
        k("stichwort", Schema, "<xdf:stichwort>Probe</xdf:stichwort>", Mapped),
        attr(
            "stichwort/@uri",
            Schema,
            r#"<xdf:stichwort uri="urn:de:probe">Probe</xdf:stichwort>"#,
            "<xdf:stichwort>Probe</xdf:stichwort>",
            Reported("stichwort/@uri"),
        ),
        k("bezeichnung", Schema, "", InBase),
        k("hilfetext", Schema, "<xdf:hilfetext>Hilfe</xdf:hilfetext>", Reported("hilfetext")),
        k(
            "ableitungsmodifikationenStruktur",
            Schema,
            "<xdf:ableitungsmodifikationenStruktur><code>1</code></xdf:ableitungsmodifikationenStruktur>",
            Mapped,
        ),
        k(
            "ableitungsmodifikationenRepraesentation",
            Schema,
            "<xdf:ableitungsmodifikationenRepraesentation><code>1</code></xdf:ableitungsmodifikationenRepraesentation>",
            Reported("ableitungsmodifikationenRepraesentation"),
        ),
        k(
            "dokumentsteckbrief",
            Schema,
            "<xdf:dokumentsteckbrief><xdf:id>D60000000001</xdf:id></xdf:dokumentsteckbrief>",
            Reported("dokumentsteckbrief"),
        ),
        k("art", Group, "<xdf:art><code>X</code></xdf:art>", Reported("art")),
        k("struktur", Group, "", InBase),
        k("bezug", Struktur, "<xdf:bezug>§ 2 ProbeG</xdf:bezug>", Mapped),
        k("anzahl", Struktur, "", InBase),
        k("enthaelt", Struktur, "", InBase),
        attr(
            "praezisierung/@minLength",
            Field,
            r#"<xdf:praezisierung minLength="2"/>"#,
            "<xdf:praezisierung/>",
            Mapped,
        ),
        attr(
            "praezisierung/@maxLength",
            Field,
            r#"<xdf:praezisierung maxLength="20"/>"#,
            "<xdf:praezisierung/>",
            Mapped,
        ),
        attr(
            "praezisierung/@pattern",
            Field,
            r#"<xdf:praezisierung pattern="[A-Z]+"/>"#,
            "<xdf:praezisierung/>",
            Mapped,
        ),
        // On a text field a bound is reported; on a number it maps (the
        // import's own tests).
        attr(
            "praezisierung/@minValue",
            Field,
            r#"<xdf:praezisierung minValue="1"/>"#,
            "<xdf:praezisierung/>",
            Reported("praezisierung"),
        ),
        attr(
            "praezisierung/@maxValue",
            Field,
            r#"<xdf:praezisierung maxValue="9"/>"#,
            "<xdf:praezisierung/>",
            Reported("praezisierung"),
        ),
        k("inhalt", Field, "<xdf:inhalt>Vorgabe</xdf:inhalt>", Reported("inhalt")),
        k(
            "vorbefuellung",
            Field,
            "<xdf:vorbefuellung><code>optional</code></xdf:vorbefuellung>",
            Reported("vorbefuellung"),
        ),
        k("codeKey", Field, "<xdf:codeKey>code</xdf:codeKey>", Reported("codeKey")),
        k("nameKey", Field, "<xdf:nameKey>name</xdf:nameKey>", Reported("nameKey")),
        k("helpKey", Field, "<xdf:helpKey>hilfe</xdf:helpKey>", Reported("helpKey")),
        k("feldart", Field, "", InBase),
        k("datentyp", Field, "", InBase),
        k("maxSize", File, "<xdf:maxSize>1000</xdf:maxSize>", Mapped),
        k("mediaType", File, "<xdf:mediaType>application/pdf</xdf:mediaType>", Mapped),
        k("maxSize", Field, "<xdf:maxSize>1000</xdf:maxSize>", Reported("maxSize")),
        k(
            "mediaType",
            Field,
            "<xdf:mediaType>application/pdf</xdf:mediaType>",
            Reported("mediaType"),
        ),
        k(
            "werte",
            Select,
            "<xdf:werte><xdf:wert><xdf:code>a</xdf:code><xdf:name>A</xdf:name></xdf:wert></xdf:werte>",
            Mapped,
        ),
        attr(
            "wert/hilfe",
            Select,
            "<xdf:werte><xdf:wert><xdf:code>a</xdf:code><xdf:name>A</xdf:name><xdf:hilfe>Erklärung</xdf:hilfe></xdf:wert></xdf:werte>",
            "<xdf:werte><xdf:wert><xdf:code>a</xdf:code><xdf:name>A</xdf:name></xdf:wert></xdf:werte>",
            Reported("wert/hilfe"),
        ),
        k(
            "werte",
            Field,
            "<xdf:werte><xdf:wert><xdf:code>a</xdf:code><xdf:name>A</xdf:name></xdf:wert></xdf:werte>",
            Reported("werte"),
        ),
        k(
            "codelisteReferenz",
            Select,
            "<xdf:codelisteReferenz><xdf:canonicalIdentification>urn:de:probe:liste</xdf:canonicalIdentification><xdf:version>1</xdf:version></xdf:codelisteReferenz>",
            Mapped,
        ),
        attr(
            "codelisteReferenz/canonicalVersionUri",
            Select,
            "<xdf:codelisteReferenz><xdf:canonicalIdentification>urn:de:probe:liste</xdf:canonicalIdentification><xdf:version>1</xdf:version><xdf:canonicalVersionUri>urn:de:probe:liste_1</xdf:canonicalVersionUri></xdf:codelisteReferenz>",
            "<xdf:codelisteReferenz><xdf:canonicalIdentification>urn:de:probe:liste</xdf:canonicalIdentification><xdf:version>1</xdf:version></xdf:codelisteReferenz>",
            Reported("canonicalVersionUri"),
        ),
        k("freitextRegel", Rule, "", InBase),
        k("beschreibung", Rule, "<xdf:beschreibung>Wozu.</xdf:beschreibung>", Reported("beschreibung")),
        k("bezug", Rule, "<xdf:bezug>§ 3 ProbeG</xdf:bezug>", Reported("bezug")),
        k("stichwort", Rule, "<xdf:stichwort>Regel</xdf:stichwort>", Reported("stichwort")),
        k(
            "fachlicherErsteller",
            Rule,
            "<xdf:fachlicherErsteller>Redaktion</xdf:fachlicherErsteller>",
            Reported("fachlicherErsteller"),
        ),
        k(
            "letzteAenderung",
            Rule,
            "<xdf:letzteAenderung>2024-01-01T00:00:00Z</xdf:letzteAenderung>",
            Reported("letzteAenderung"),
        ),
        k("typ", Rule, "<xdf:typ><code>K</code></xdf:typ>", Reported("typ")),
        k(
            "param",
            Rule,
            "<xdf:param><xdf:element>F60000000100</xdf:element></xdf:param>",
            Reported("param"),
        ),
        k(
            "ziel",
            Rule,
            "<xdf:ziel><xdf:element>F60000000100</xdf:element></xdf:ziel>",
            Reported("ziel"),
        ),
        k("skript", Rule, "<xdf:skript>pruefe(F1)</xdf:skript>", InReadme("pruefe(F1)")),
        k(
            "fehler",
            Rule,
            "<xdf:fehler><xdf:code>E1</xdf:code><xdf:meldung>Falsch.</xdf:meldung></xdf:fehler>",
            Reported("fehler"),
        ),
        attr(
            "schemaelementart/@listURI",
            Group,
            r#"<xdf:schemaelementart listURI="urn:xoev-de:fim:codeliste:xdatenfelder.schemaelementart" listVersionID="1.0"><code>HAR</code></xdf:schemaelementart>"#,
            "<xdf:schemaelementart><code>HAR</code></xdf:schemaelementart>",
            Implied,
        ),
    ]);
    v
}

fn kinds_v2() -> Vec<Kind> {
    use Slot::*;
    let mut v = Vec::new();
    for slot in [Schema, Group, Field] {
        v.extend(common(slot));
        v.extend([
            k("status", slot, "<xdf:status><code>aktiv</code></xdf:status>", Mapped),
            k(
                "fachlicherErsteller",
                slot,
                "<xdf:fachlicherErsteller>Redaktion</xdf:fachlicherErsteller>",
                Reported("fachlicherErsteller"),
            ),
            k(
                "freigabedatum",
                slot,
                "<xdf:freigabedatum>2024-01-01</xdf:freigabedatum>",
                Reported("freigabedatum"),
            ),
            k(
                "regel",
                slot,
                "<xdf:regel><xdf:identifikation><xdf:id>R00000200</xdf:id><xdf:version>1.0</xdf:version></xdf:identifikation><xdf:name>Zweite</xdf:name><xdf:definition>Noch ein Hinweis.</xdf:definition></xdf:regel>",
                InReadme("Noch ein Hinweis."),
            ),
        ]);
    }
    v.extend([
        k("bezeichnungEingabe", Schema, "", InBase),
        k(
            "bezeichnungAusgabe",
            Schema,
            "<xdf:bezeichnungAusgabe>Ausgabe</xdf:bezeichnungAusgabe>",
            Reported("bezeichnungAusgabe"),
        ),
        k("hilfetext", Schema, "<xdf:hilfetext>Hilfe</xdf:hilfetext>", Reported("hilfetext")),
        k(
            "ableitungsmodifikationenStruktur",
            Schema,
            "<xdf:ableitungsmodifikationenStruktur><code>1</code></xdf:ableitungsmodifikationenStruktur>",
            Mapped,
        ),
        k(
            "ableitungsmodifikationenRepraesentation",
            Schema,
            "<xdf:ableitungsmodifikationenRepraesentation><code>1</code></xdf:ableitungsmodifikationenRepraesentation>",
            Reported("ableitungsmodifikationenRepraesentation"),
        ),
        k("struktur", Group, "", InBase),
        k("bezug", Struktur, "<xdf:bezug>§ 2 ProbeG</xdf:bezug>", Mapped),
        k("anzahl", Struktur, "", InBase),
        k("enthaelt", Struktur, "", InBase),
        k("feldart", Field, "", InBase),
        k("datentyp", Field, "", InBase),
        k(
            "praezisierung",
            Field,
            r#"<xdf:praezisierung>{"minLength":"2","maxLength":"20"}</xdf:praezisierung>"#,
            Mapped,
        ),
        k("inhalt", Field, "<xdf:inhalt>Vorgabe</xdf:inhalt>", Reported("inhalt")),
        k(
            "codelisteReferenz",
            Select,
            "<xdf:codelisteReferenz><xdf:genericodeIdentification><xdf:canonicalIdentification>urn:de:probe:liste</xdf:canonicalIdentification><xdf:version>1</xdf:version></xdf:genericodeIdentification></xdf:codelisteReferenz>",
            Mapped,
        ),
        attr(
            "codelisteReferenz/identifikation",
            Select,
            "<xdf:codelisteReferenz><xdf:identifikation><xdf:id>C00000001</xdf:id></xdf:identifikation><xdf:genericodeIdentification><xdf:canonicalIdentification>urn:de:probe:liste</xdf:canonicalIdentification><xdf:version>1</xdf:version></xdf:genericodeIdentification></xdf:codelisteReferenz>",
            "<xdf:codelisteReferenz><xdf:genericodeIdentification><xdf:canonicalIdentification>urn:de:probe:liste</xdf:canonicalIdentification><xdf:version>1</xdf:version></xdf:genericodeIdentification></xdf:codelisteReferenz>",
            Reported("codelisteReferenz/identifikation"),
        ),
        attr(
            "genericodeIdentification/canonicalVersionUri",
            Select,
            "<xdf:codelisteReferenz><xdf:genericodeIdentification><xdf:canonicalIdentification>urn:de:probe:liste</xdf:canonicalIdentification><xdf:version>1</xdf:version><xdf:canonicalVersionUri>urn:de:probe:liste_1</xdf:canonicalVersionUri></xdf:genericodeIdentification></xdf:codelisteReferenz>",
            "<xdf:codelisteReferenz><xdf:genericodeIdentification><xdf:canonicalIdentification>urn:de:probe:liste</xdf:canonicalIdentification><xdf:version>1</xdf:version></xdf:genericodeIdentification></xdf:codelisteReferenz>",
            Reported("canonicalVersionUri"),
        ),
        k("definition", Rule, "", InBase),
        k(
            "bezeichnungEingabe",
            Rule,
            "<xdf:bezeichnungEingabe>Regel</xdf:bezeichnungEingabe>",
            Reported("bezeichnungEingabe"),
        ),
        k("beschreibung", Rule, "<xdf:beschreibung>Wozu.</xdf:beschreibung>", Reported("beschreibung")),
        k("bezug", Rule, "<xdf:bezug>§ 3 ProbeG</xdf:bezug>", Reported("bezug")),
        k("status", Rule, "<xdf:status><code>aktiv</code></xdf:status>", Reported("status")),
        k("script", Rule, "<xdf:script>pruefe(F1)</xdf:script>", InReadme("pruefe(F1)")),
    ]);
    v
}

fn fill(template: &str, slot: Slot, xml: &str) -> String {
    let mut doc = template.to_string();
    for (s, mark) in [
        (Slot::Schema, "{schema}"),
        (Slot::Group, "{group}"),
        (Slot::Field, "{field}"),
        (Slot::File, "{file}"),
        (Slot::Select, "{select}"),
        (Slot::Struktur, "{struktur}"),
        (Slot::Rule, "{rule}"),
    ] {
        let here = if std::mem::discriminant(&s) == std::mem::discriminant(&slot) {
            xml
        } else {
            ""
        };
        doc = doc.replace(mark, here);
    }
    doc
}

fn package_toml(imp: &Imported) -> Vec<(String, Vec<u8>)> {
    imp.files()
        .into_iter()
        .filter(|(name, _)| name.ends_with(".toml"))
        .collect()
}

fn names_in_report(r: &ImportReport) -> Vec<String> {
    r.notes
        .iter()
        .map(|n| n.element.clone())
        .chain(r.not_carried.iter().map(|n| n.element.clone()))
        .collect()
}

fn check(standard: &str, template: &str, kinds: &[Kind]) -> usize {
    let opts = ImportOptions::default();
    let mut checked = 0;
    for kind in kinds {
        let what = format!("{standard} <{}> in {:?}", kind.name, kind.slot);
        if let InBase = kind.fate {
            let element = kind.name.rsplit('/').next().unwrap();
            assert!(template.contains(&format!("<xdf:{element}")), "{what}");
            continue;
        }
        let base = import(fill(template, kind.slot, kind.without).as_bytes(), &opts)
            .unwrap_or_else(|e| panic!("{what} (without): {e}"));
        let doc = fill(template, kind.slot, kind.xml);
        let imp = import(doc.as_bytes(), &opts).unwrap_or_else(|e| panic!("{what}: {e}"));
        let changed = package_toml(&imp) != package_toml(&base);
        let named = names_in_report(&imp.report);
        match kind.fate {
            Mapped => assert!(changed, "{what} does not change the package"),
            InReadme(text) => {
                assert!(
                    imp.readme.contains(text) && !base.readme.contains(text),
                    "{what} is not in the README"
                );
            }
            Reported(name) => {
                assert!(
                    named.iter().filter(|n| *n == name).count()
                        > names_in_report(&base.report)
                            .iter()
                            .filter(|n| *n == name)
                            .count(),
                    "{what}: the report does not name <{name}>: {named:?}"
                );
                assert!(!changed, "{what} is reported, yet the package changed");
            }
            Implied => {
                assert!(!changed, "{what} changed the package");
            }
            InBase => unreachable!(),
        }
        checked += 1;
    }
    checked
}

#[test]
fn every_element_of_xdatenfelder_3_is_mapped_or_reported() {
    let n = check("3.0.0", V3, &kinds_v3());
    assert!(n > 70, "{n}");
    // The header is transport data, and named so.
    let imp = import(
        fill(V3, Slot::Field, "").as_bytes(),
        &ImportOptions::default(),
    )
    .unwrap();
    assert!(names_in_report(&imp.report).contains(&"header".to_string()));
}

#[test]
fn every_element_of_xdatenfelder_2_is_mapped_or_reported() {
    let n = check("2.0", V2, &kinds_v2());
    assert!(n > 50, "{n}");
}
