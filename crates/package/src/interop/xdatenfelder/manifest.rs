//! The package around the content: the manifest (name, version,
//! description and the FIM source, from the schema's identity) and the
//! README that lists what the import carried and what it could not.

use super::*;

impl Importer<'_> {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn manifest(
        &mut self,
        top: &Element,
        kind: PackageKind,
        name: &str,
        title: &str,
        id: Option<&str>,
        version: Option<&str>,
        fim: &str,
    ) -> Manifest {
        let pkg_name = self.opts.name.clone().unwrap_or_else(|| {
            let s = slug(name, '-', 64);
            if s.is_empty() || !s.starts_with(|c: char| c.is_ascii_alphanumeric()) {
                format!("fim-{}", id.unwrap_or("import").to_ascii_lowercase())
            } else {
                s
            }
        });
        let semver = version.and_then(|v| {
            let parts: Vec<&str> = v.split('.').collect();
            let full = match parts.len() {
                1 => format!("{v}.0.0"),
                2 => format!("{v}.0"),
                _ => v.to_string(),
            };
            semver::Version::parse(&full).ok()
        });
        let semver = semver.unwrap_or_else(|| {
            self.note(
                NoteKind::Approximated,
                Some(fim),
                None,
                top,
                format!(
                    "the FIM version {} is not a version the package can take; the package starts at 0.1.0",
                    version.unwrap_or("(none)")
                ),
            );
            semver::Version::new(0, 1, 0)
        });
        let description = ["beschreibung", "definition"]
            .iter()
            .find_map(|n| text(top, n))
            .map(normalize_space)
            .unwrap_or_else(|| format!("{title}: imported from FIM {fim}"));
        let description: String = description.chars().take(1000).collect();
        let mut keywords = vec!["fim".to_string()];
        for s in top.children_named("stichwort") {
            if let Some(t) = s.trimmed() {
                let t = normalize_space(t);
                if t.chars().count() <= 40 && keywords.len() < 10 && !keywords.contains(&t) {
                    keywords.push(t);
                }
            }
        }
        let fim_source = id.filter(|i| is_fim_id(i)).map(|i| FimSource {
            id: i.to_string(),
            version: version.filter(|v| is_fim_version(v)).map(str::to_string),
        });
        self.note(
            NoteKind::Approximated,
            Some(fim),
            None,
            top,
            format!(
                "XDatenfelder carries no licence; the manifest says \"{}\": check the terms of the source before publishing",
                self.opts.license
            ),
        );
        Manifest {
            namespace: self.opts.namespace.clone(),
            name: pkg_name,
            version: semver,
            kind,
            title: Some(title.to_string()),
            description,
            license: self.opts.license.clone(),
            keywords,
            themenfeld: None,
            leika: None,
            readme: None,
            dependencies: Vec::new(),
            forked_from: None,
            lowers_vertrauensniveau: false,
            repository: None,
            homepage: None,
            fim: fim_source,
        }
    }
}

pub(super) fn readme(
    m: &Manifest,
    std: Standard,
    what: &str,
    fim: &str,
    top: &Element,
    rules: &[Rule],
    report: &ImportReport,
) -> String {
    let mut s = format!(
        "# {}\n\nÜbernommen aus dem FIM-{what} {fim} („{}“, {}) mit `gemeinwerk import xdatenfelder`.\n",
        m.title.as_deref().unwrap_or(&m.name),
        text(top, "name").unwrap_or(""),
        std.as_str()
    );
    for key in ["beschreibung", "definition"] {
        if let Some(t) = text(top, key) {
            s.push_str(&format!("\n{}\n", normalize_space(t)));
        }
    }
    if let Some(b) = text(top, "bezug") {
        s.push_str(&format!("\nRechtsgrundlage: {}\n", normalize_space(b)));
    }
    if !rules.is_empty() {
        s.push_str("\n## Regeln\n\nDie Regeln der FIM-Quelle. Sie dienen der Dokumentation: Das Formular prüft nur die, die als Bedingung übernommen wurden.\n");
        for r in rules {
            s.push_str(&format!(
                "\n### {}{}\n\nBetrifft: {}\n",
                r.fim,
                r.name
                    .as_deref()
                    .map(|n| format!(": {n}"))
                    .unwrap_or_default(),
                r.on.join(", ")
            ));
            if let Some(t) = &r.text {
                s.push_str(&format!("\n> {t}\n"));
            }
            if let Some(script) = &r.script {
                s.push_str(&format!("\n```\n{}\n```\n", script.replace("```", "` ` `")));
            }
            if let Some((path, key, e)) = &r.condition {
                s.push_str(&format!(
                    "\nAls Bedingung geprüft: `{key} = \"{e}\"` an `{path}`.\n"
                ));
            }
        }
    }
    s.push_str(&format!(
        "\n## Bericht der Übernahme\n\n{}",
        report.german()
    ));
    s
}
