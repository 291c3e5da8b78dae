//! `gemeinwerk new`: the files of a new package folder, with German
//! placeholders and a small example of the kind that passes `validate`.

use gemeinwerk_package::PackageKind;

/// The files of a new package `namespace/name`, as `(path, text)`.
pub fn files(namespace: &str, name: &str, kind: PackageKind) -> Vec<(&'static str, String)> {
    let (what, title) = match kind {
        PackageKind::Form => ("ein Formular", "Antrag auf …"),
        PackageKind::Process => ("ein Verfahren", "Verfahren: …"),
        PackageKind::Fieldgroup => ("eine Feldgruppe", "Feldgruppe …"),
        PackageKind::Codelist => ("eine Codeliste", "Codeliste …"),
    };
    let manifest = format!(
        r#"# Das Manifest des Pakets; alle Schlüssel sind in docs/package-format.md
# beschrieben. Ersetzen Sie die Platzhalter (…), bevor Sie veröffentlichen.
[package]
name = "{namespace}/{name}"
version = "0.1.0"
kind = "{kind}"
title = "{title}"
description = "Kurze Beschreibung: wofür das Paket gedacht ist und wer es nutzt."
license = "EUPL-1.2"
# OZG-Themenfeld, z. B. mobilitaet_reisen, bauen_wohnen, familie_kind
themenfeld = "querschnitt"
# Leistungsschlüssel aus dem LeiKa (14 Ziffern), sobald er feststeht:
# leika = "99000000000000"
# Schlagwörter für die Suche:
# keywords = ["…"]

[dependencies]
# Feldgruppen und Formulare anderer Pakete, mit Semver-Anforderung, z. B.:
# "fim/anschrift-inland" = "^1.2"
"#,
        kind = kind.as_str(),
    );
    let content = match kind {
        PackageKind::Form => FORM.to_string(),
        PackageKind::Process => PROCESS.to_string(),
        PackageKind::Fieldgroup => FIELDGROUP.to_string(),
        PackageKind::Codelist => CODELIST.to_string(),
    };
    let readme = format!(
        "# {title}\n\n\
         `{namespace}/{name}` ist {what} für gemeinwerk.\n\n\
         ## Wofür\n\n\
         Beschreiben Sie hier, wofür das Paket gedacht ist, welche Rechtsgrundlage gilt\n\
         und was andere Kommunen anpassen müssen, wenn sie es übernehmen.\n\n\
         ## Prüfen und veröffentlichen\n\n\
         ```sh\n\
         gemeinwerk validate\n\
         gemeinwerk publish\n\
         ```\n"
    );
    vec![
        ("gemeinwerk.toml", manifest),
        (kind.content_file(), content),
        ("README.md", readme),
    ]
}

const FORM: &str = r#"# Das Formular: Felder, Gruppen, Codelisten und Bedingungen.
# Ein kleines Beispiel zum Anpassen; siehe docs/package-format.md, Abschnitt 3.
[form]
title = "Antrag auf …"
vertrauensniveau = "niedrig"
accounts = ["BundID"]

[[field]]
id = "familienname"
type = "text"
label = "Familienname"
help = "Wie im Personalausweis eingetragen."
required = true
max-length = 120

[[field]]
id = "email"
type = "email"
label = "E-Mail-Adresse"
help = "Für Rückfragen zu Ihrem Antrag."

[[field]]
id = "antragsart"
type = "select"
label = "Art des Antrags"
codelist = "antragsart"
required = true

[[field]]
id = "begruendung"
type = "text"
label = "Begründung"
help = "Bitte erläutern Sie Ihr Anliegen."
shown-when = "antragsart == \"sonstiges\""
required-when = "antragsart == \"sonstiges\""

[codelist.antragsart]
label = "Art des Antrags"
codes = [
  { code = "erstantrag", label = "Erstantrag" },
  { code = "verlaengerung", label = "Verlängerung" },
  { code = "sonstiges", label = "Sonstiges" },
]
"#;

const PROCESS: &str = r#"# Das Verfahren: Rollen, Zustände, Übergänge, Gebühren und Bescheide.
# Ein kleines Beispiel zum Anpassen; siehe docs/package-format.md, Abschnitt 6.
[process]
title = "Verfahren: …"

[roles]
antragsteller = "Antragstellende Person"
sachbearbeitung = "Sachbearbeitung"

[[state]]
id = "eingang"
label = "Antrag eingegangen"
start = true
deadline = "P5D"

[[state]]
id = "pruefung"
label = "Antrag in Prüfung"
deadline = "P14D"

[[state]]
id = "bewilligt"
label = "Antrag bewilligt"
end = "bewilligt"

[[state]]
id = "abgelehnt"
label = "Antrag abgelehnt"
end = "abgelehnt"

[[state]]
id = "zurueckgezogen"
label = "Antrag zurückgezogen"
end = "zurückgezogen"

[[transition]]
id = "pruefen"
label = "Antrag zur Prüfung übernehmen"
from = "eingang"
to = "pruefung"
role = "sachbearbeitung"
action = "pruefen"

[[transition]]
id = "bewilligen"
label = "Antrag bewilligen"
from = "pruefung"
to = "bewilligt"
role = "sachbearbeitung"
action = "bewilligen"

[[transition]]
id = "ablehnen"
label = "Antrag ablehnen"
from = "pruefung"
to = "abgelehnt"
role = "sachbearbeitung"
action = "ablehnen"

[[transition]]
id = "zurueckziehen"
label = "Antrag zurückziehen"
from = "eingang"
to = "zurueckgezogen"
role = "antragsteller"
action = "zurueckziehen"

[[notice]]
id = "bescheid"
label = "Bescheid"
on = "bewilligen"
legal-basis = "…"
"#;

const CODELIST: &str = r#"# Die Codeliste: die Werte, die ein Auswahlfeld anbietet. Formulare
# verwenden sie mit `codelist = "namensraum/name"` und einer Abhängigkeit.
# Listen des XRepository übernimmt `gemeinwerk import genericode`.
[codelist]
label = "Codeliste …"

[[code]]
code = "A"
label = "Erster Wert"

[[code]]
code = "B"
label = "Zweiter Wert"
"#;

const FIELDGROUP: &str = r#"# Die Feldgruppe: Felder, die Formulare über `include` einbinden.
# Ein kleines Beispiel zum Anpassen; siehe docs/package-format.md, Abschnitt 5.
[fieldgroup]
label = "Feldgruppe …"
help = "Wofür die Felder dieser Gruppe stehen."

[[field]]
id = "bezeichnung"
type = "text"
label = "Bezeichnung"
required = true
max-length = 100

[[field]]
id = "datum"
type = "date"
label = "Datum"
"#;
