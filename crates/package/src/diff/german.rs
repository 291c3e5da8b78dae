//! German wording of the semantic diff. The diff speaks English (the API
//! shows its reasons); the web UI's comparison page and the CLI under a
//! German locale speak German, so every reason the diff can give has its
//! German sentence here. A test reads the diff's source and fails when a
//! reason has no translation.

use super::{Area, Change, ChangeKind, Level};

/// The German sentence for a reason of `gemeinwerk_package::diff`.
pub fn reason(english: &str) -> Option<&'static str> {
    Some(match english {
        "FIM reference added or removed" => "FIM-Bezug hinzugefügt oder entfernt",
        "a fee is no longer charged" => "eine Gebühr wird nicht mehr erhoben",
        "a field became a group or a group a field" => "aus einem Feld wurde eine Gruppe oder umgekehrt",
        "a form is no longer used at this step" => "ein Formular wird bei diesem Schritt nicht mehr verwendet",
        "a form is used at this step" => "bei diesem Schritt wird ein Formular verwendet",
        "a column that receivers may read is gone" => "eine Spalte, die Empfänger lesen können, fällt weg",
        "a new code list" => "eine neue Codeliste",
        "a new column" => "eine neue Spalte",
        "a new dependency; what uses it is listed on its own" => "eine neue Abhängigkeit; was sie nutzt, ist einzeln aufgeführt",
        "a new fee" => "eine neue Gebühr",
        "a new field that must be filled in: old submissions lack it" => "ein neues Pflichtfeld: älteren Anträgen fehlt es",
        "a new group with values that must be filled in" => "eine neue Gruppe mit Pflichtangaben",
        "a new limit may refuse values that were accepted" => "eine neue Grenze kann Werte ablehnen, die bisher galten",
        "a new notice" => "ein neuer Bescheid",
        "a new optional field" => "ein neues freiwilliges Feld",
        "a new optional group" => "eine neue freiwillige Gruppe",
        "a new pattern may refuse values that were accepted" => "ein neues Muster kann Werte ablehnen, die bisher galten",
        "a new role" => "eine neue Rolle",
        "a new state" => "ein neuer Zustand",
        "a new step" => "ein neuer Schritt",
        "a new value to choose" => "ein neuer Wert zur Auswahl",
        "a newer version of the same code list" => "eine neuere Version derselben Codeliste",
        "a notice that was produced is gone" => "ein Bescheid, der erstellt wurde, fällt weg",
        "a step that could be taken is gone" => "ein Schritt, der möglich war, fällt weg",
        "a required field became optional" => "ein Pflichtfeld wurde freiwillig",
        "a required value may now be asked for where it was not" => "eine Pflichtangabe kann nun auch dort verlangt werden, wo sie es bisher nicht war",
        "an example of the old version no longer matches the pattern" => "ein Beispiel der alten Version passt nicht mehr zum Muster",
        "an optional field became required: old submissions may lack it" => "ein freiwilliges Feld wurde Pflicht: älteren Anträgen kann es fehlen",
        "another amount is charged" => "ein anderer Betrag wird erhoben",
        "another code list" => "eine andere Codeliste",
        "another deadline" => "eine andere Frist",
        "another role takes the step" => "eine andere Rolle übernimmt den Schritt",
        "another value in a descriptive column" => "ein anderer Wert in einer beschreibenden Spalte",
        "applicants identified at the old level can no longer apply" => "wer sich auf dem alten Vertrauensniveau ausweist, kann nicht mehr beantragen",
        "applicants with this account can no longer apply" => "wer dieses Nutzerkonto verwendet, kann nicht mehr beantragen",
        "charged at another step" => "wird bei einem anderen Schritt erhoben",
        "charged for another period" => "wird für einen anderen Zeitraum erhoben",
        "citation only" => "nur die Quellenangabe",
        "documentation only" => "nur die Dokumentation",
        "fewer or more entries are demanded than before" => "es werden weniger oder mehr Einträge verlangt als bisher",
        "fields that used it lose their values" => "Felder, die sie nutzten, verlieren ihre Werte",
        "files of this type are refused now" => "Dateien dieses Typs werden nun abgelehnt",
        "files that were accepted are too large now" => "bisher angenommene Dateien sind nun zu groß",
        "follows a newer FIM version" => "folgt einer neueren FIM-Version",
        "included content may change with the dependency" => "der eingebundene Inhalt kann sich mit der Abhängigkeit ändern",
        "it is another package" => "es ist ein anderes Paket",
        "it now stands for a different FIM element, so receivers map it differently" => "es steht nun für ein anderes FIM-Element; Empfänger ordnen es anders zu",
        "larger files are accepted" => "größere Dateien werden angenommen",
        "more applicants can apply" => "mehr Antragstellende können beantragen",
        "more kinds of files are accepted" => "mehr Dateitypen werden angenommen",
        "no longer used; what used it is listed on its own" => "nicht mehr verwendet; was sie nutzte, ist einzeln aufgeführt",
        "only changes how it is found" => "ändert nur, wie das Paket gefunden wird",
        "procedures in this state have nowhere to be" => "Verfahren in diesem Zustand haben keinen Platz mehr",
        "procedures start elsewhere" => "Verfahren beginnen an anderer Stelle",
        "produced at another step" => "wird bei einem anderen Schritt erstellt",
        "provenance only; the content changes are listed on their own" => "nur die Herkunft; inhaltliche Änderungen sind einzeln aufgeführt",
        "shown in fewer cases" => "wird in weniger Fällen angezeigt",
        "shown in other cases; nothing more is required" => "wird in anderen Fällen angezeigt; mehr wird nicht verlangt",
        "static text only" => "nur ein Hinweistext",
        "submissions and receivers lose these values" => "Anträge und Empfänger verlieren diese Werte",
        "submissions and receivers lose this value" => "Anträge und Empfänger verlieren diesen Wert",
        "submissions with this value are invalid now" => "Anträge mit diesem Wert sind nun ungültig",
        "switched between inline codes and an XRepository list" => "gewechselt zwischen eigenen Codes und einer XRepository-Liste",
        "submissions carry another value" => "Anträge tragen einen anderen Wert",
        "the codes are taken from another column" => "die Codes stammen aus einer anderen Spalte",
        "the field is no longer required in those cases" => "das Feld ist in diesen Fällen nicht mehr Pflicht",
        "the field is now required in some cases" => "das Feld ist nun in manchen Fällen Pflicht",
        "the field may now be required where it was not" => "das Feld kann nun dort Pflicht sein, wo es das bisher nicht war",
        "the form asks for less assurance" => "das Formular verlangt ein niedrigeres Vertrauensniveau",
        "the group allows more than before" => "die Gruppe erlaubt mehr als bisher",
        "the group takes its fields from another field group" => "die Gruppe übernimmt ihre Felder aus einer anderen Feldgruppe",
        "the limit changed in a way that cannot be compared" => "die Grenze hat sich auf eine nicht vergleichbare Weise geändert",
        "the limit is gone; more values are accepted" => "die Grenze entfällt; mehr Werte werden angenommen",
        "the limit is narrower; values that were accepted are refused" => "die Grenze ist enger; bisher gültige Werte werden abgelehnt",
        "the limit is wider; every old value is still accepted" => "die Grenze ist weiter; jeder bisherige Wert gilt weiter",
        "the new pattern does not compile" => "das neue Muster ist fehlerhaft",
        "the new type accepts every old value" => "der neue Feldtyp nimmt jeden bisherigen Wert an",
        "the outcome of the procedure changes" => "das Ergebnis des Verfahrens ändert sich",
        "the package is now of another kind" => "das Paket ist nun von anderer Art",
        "the pattern changed and the field has no examples to show that old values still match; add examples = [...] to the field" => "das Muster hat sich geändert und das Feld hat keine Beispiele, die zeigen, dass bisherige Werte weiter passen; ergänzen Sie examples = [...] am Feld",
        "the pattern changed; every example of the old version still matches" => "das Muster hat sich geändert; jedes Beispiel der alten Version passt weiter",
        "the pattern is gone; more values are accepted" => "das Muster entfällt; mehr Werte werden angenommen",
        "the service is filed under another Leistungsschlüssel" => "die Leistung steht unter einem anderen Leistungsschlüssel",
        "the step is described as another action" => "der Schritt wird als andere Handlung beschrieben",
        "the step leads to another state" => "der Schritt führt in einen anderen Zustand",
        "the step starts from another state" => "der Schritt beginnt in einem anderen Zustand",
        "the values to choose from come from another list" => "die Auswahlwerte kommen aus einer anderen Liste",
        "users must agree to new terms" => "Nutzende müssen neuen Lizenzbedingungen zustimmen",
        "values of the old type may not fit the new one" => "Werte des alten Feldtyps passen womöglich nicht zum neuen",
        "whoever acted in this role has no place any more" => "wer in dieser Rolle handelte, hat keinen Platz mehr",
        "wording only" => "nur die Formulierung",
        "what FIM says of the element; submissions are the same" => "was FIM über das Element sagt; Anträge bleiben gleich",
        _ => return None,
    })
}

/// German names of the properties and manifest keys the diff names.
pub fn property(property: &str) -> Option<&'static str> {
    Some(match property {
        "label" => "Beschriftung",
        "label-en" => "englische Beschriftung",
        "help" => "Hilfetext",
        "help-en" => "englischer Hilfetext",
        "text" => "Text",
        "type" => "Feldtyp",
        "required" => "Pflichtfeld",
        "required-when" => "Pflicht-Bedingung",
        "shown-when" => "Anzeige-Bedingung",
        "pattern" => "Muster",
        "examples" => "Beispiele",
        "codelist" => "Codeliste",
        "codes" => "Codes",
        "code" => "Code",
        "occurs" => "Häufigkeit",
        "include" => "eingebundene Feldgruppe",
        "min" => "Mindestwert",
        "max" => "Höchstwert",
        "min-length" => "Mindestlänge",
        "max-length" => "Höchstlänge",
        "media-types" => "Dateitypen",
        "max-size" => "Höchstgröße",
        "title" => "Titel",
        "description" => "Beschreibung",
        "deadline" => "Frist",
        "amount" => "Betrag",
        "per" => "Zeitraum",
        "on" => "Zeitpunkt",
        "legal-basis" => "Rechtsgrundlage",
        "action" => "Handlung",
        "start" => "Beginn",
        "end" => "Ende",
        "role" => "Rolle",
        "from" => "von",
        "to" => "nach",
        "form" => "Formular",
        "forms" => "Formulare",
        "vertrauensniveau" => "Vertrauensniveau",
        "accounts" => "Nutzerkonten",
        "name" => "Paketname",
        "license" => "Lizenz",
        "keywords" => "Schlagwörter",
        "themenfeld" => "Themenfeld",
        "leika" => "Leistungsschlüssel",
        "readme" => "README",
        "forked-from" => "Herkunft (abgeleitet von)",
        "kind" => "Art",
        "version" => "Version",
        "source" => "Quelle",
        "urn" => "URN",
        "fim-id" => "FIM-Kennung",
        "fim-status" => "FIM-Freigabestatus",
        "fim-schemaelementart" => "Schemaelementart",
        "fim-definition" => "FIM-Definition",
        "fim-help-output" => "FIM-Hilfetext für die Ausgabe",
        "fim-version" => "FIM-Version",
        "repository" => "Quellcode-Adresse",
        "homepage" => "Webseite",
        _ => return None,
    })
}

/// The element a manifest change names, in German: `dependency x/y` →
/// „Abhängigkeit x/y“, a manifest key → its German name.
pub fn manifest_path(path: &str) -> String {
    if let Some(name) = path.strip_prefix("dependency ") {
        return format!("Abhängigkeit {name}");
    }
    property(path)
        .map(str::to_string)
        .unwrap_or_else(|| path.to_string())
}

/// The level in German, as the comparison page and the CLI name it.
pub fn level(level: Level) -> &'static str {
    match level {
        Level::Major => "größer (nicht abwärtskompatibel)",
        Level::Minor => "mittel (neue Möglichkeiten)",
        Level::Patch => "klein (Korrektur)",
    }
}

/// What a change is about, in German.
pub fn area(area: Area) -> &'static str {
    match area {
        Area::Manifest => "Angaben zum Paket",
        Area::Form => "Formular",
        Area::Field => "Feld",
        Area::Group => "Gruppe",
        Area::Codelist => "Codeliste",
        Area::Condition => "Bedingung",
        Area::Role => "Rolle",
        Area::State => "Zustand",
        Area::Transition => "Übergang",
        Area::Fee => "Gebühr",
        Area::Notice => "Bescheid",
    }
}

/// The element a change names: a manifest key by its German name, an id
/// path as it is.
pub fn path(change: &Change) -> String {
    if change.area == Area::Manifest {
        manifest_path(&change.path)
    } else {
        change.path.clone()
    }
}

/// What happened to the element: „hinzugefügt“, „Muster geändert“.
pub fn what(change: &Change) -> String {
    match (change.kind, &change.property) {
        (ChangeKind::Added, None) => "hinzugefügt".into(),
        (ChangeKind::Removed, None) => "entfernt".into(),
        (_, Some(p)) if change.area == Area::Manifest && *p == change.path => "geändert".into(),
        (_, Some(p)) => format!("{} geändert", property(p).unwrap_or(p)),
        _ => "geändert".into(),
    }
}

/// The reason in German; one the table does not know stays English.
pub fn reason_of(change: &Change) -> String {
    reason(&change.reason)
        .map(str::to_string)
        .unwrap_or_else(|| change.reason.clone())
}

/// One change on one line, as the CLI prints it under a German locale:
/// `größer  Feld kennzeichen: Muster geändert: "a" → "b" (…)`.
pub fn line(change: &Change) -> String {
    let level = match change.level {
        Level::Major => "größer",
        Level::Minor => "mittel",
        Level::Patch => "klein ",
    };
    let mut out = format!(
        "{level} {} {}: {}",
        area(change.area),
        path(change),
        what(change)
    );
    match (&change.old, &change.new) {
        (Some(o), Some(n)) => out.push_str(&format!(": {o:?} → {n:?}")),
        (None, Some(n)) if change.property.is_some() => out.push_str(&format!(": {n:?}")),
        (Some(o), None) if change.property.is_some() => out.push_str(&format!(": war {o:?}")),
        _ => {}
    }
    out.push_str(&format!(" ({})", reason_of(change)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The sources of the diff (every file of its folder, so that a new
    /// one is read too), each without its tests.
    fn diff_sources() -> Vec<String> {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/diff");
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .expect("the diff's folder")
            .map(|e| e.expect("a directory entry").path())
            .filter(|p| p.extension().is_some_and(|x| x == "rs"))
            .filter(|p| !p.ends_with("tests.rs") && !p.ends_with("german.rs"))
            .collect();
        files.sort();
        files
            .iter()
            .map(|p| {
                let source = std::fs::read_to_string(p).expect("a diff source");
                // `mod tests;` names tests.rs, left out above.
                let tests_start = source
                    .find("#[cfg(test)]\nmod tests {")
                    .unwrap_or(source.len());
                source[..tests_start].to_string()
            })
            .collect()
    }

    /// Every reason the diff can give is a string literal in its source
    /// that stands alone on a line; each needs its German sentence.
    #[test]
    fn every_reason_of_the_diff_has_a_german_sentence() {
        let sources = diff_sources();
        let mut missing = Vec::new();
        let mut found = 0;
        for line in sources.iter().flat_map(|s| s.lines()) {
            if line.trim_start().starts_with("//") {
                continue;
            }
            // The string literals of the line: every other piece between
            // quotes (the diff's reasons contain no escaped quotes).
            for text in line.split('"').skip(1).step_by(2) {
                // Reasons are sentences; keys, paths and format strings
                // have no space, start with punctuation or hold `{`.
                if !text.contains(' ')
                    || text.contains('{')
                    || text.contains('\\')
                    || text.starts_with([' ', ':', ',', ';'])
                    || text == "no changes"
                {
                    continue;
                }
                found += 1;
                if reason(text).is_none() {
                    missing.push(text.to_string());
                }
            }
        }
        assert!(
            found > 60,
            "only {found} reasons found: the reader is broken"
        );
        assert!(missing.is_empty(), "reasons without German: {missing:#?}");
    }
}
