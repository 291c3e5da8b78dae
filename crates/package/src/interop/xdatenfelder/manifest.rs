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
        let semver = version.and_then(package_version);
        let semver = semver.unwrap_or_else(|| {
            self.note(
                NoteKind::Approximated,
                Some(fim),
                None,
                top,
                NoteReason::VersionNotSemver {
                    version: version.map(str::to_string),
                },
            );
            semver::Version::new(0, 1, 0)
        });
        let description = ["beschreibung", "definition"]
            .iter()
            .find_map(|n| text(top, n))
            .map(normalize_space)
            // The description is shown on the package's German page.
            .unwrap_or_else(|| format!("{title}: übernommen aus FIM {}", fim_de(fim)));
        let description: String = description.chars().take(1000).collect();
        let mut keywords = vec!["fim".to_string()];
        for s in top.children_named("stichwort") {
            if s.attr("uri").is_some() {
                self.not_carried
                    .entry("stichwort/@uri".into())
                    .or_default()
                    .push(fim.to_string());
            }
            if let Some(t) = s.trimmed() {
                let t = normalize_space(t);
                if keywords.contains(&t) {
                    continue;
                }
                if t.chars().count() <= 40 && keywords.len() < 10 {
                    keywords.push(t);
                } else {
                    // A manifest holds ten keywords of at most 40 characters.
                    self.not_carried
                        .entry("stichwort".into())
                        .or_default()
                        .push(fim.to_string());
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
            NoteReason::LicenceAssumed {
                license: self.opts.license.clone(),
            },
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
            // Exactly the version the import found: the codes the form was
            // checked against.
            dependencies: self
                .package_deps
                .iter()
                .filter_map(|(package, version)| {
                    let (namespace, name) = package.split_once('/')?;
                    Some(Dependency {
                        namespace: namespace.to_string(),
                        name: name.to_string(),
                        req: semver::VersionReq::parse(&format!("^{version}")).ok()?,
                    })
                })
                .collect(),
            forked_from: None,
            lowers_vertrauensniveau: false,
            repository: None,
            homepage: None,
            fim: fim_source,
        }
    }
}

/// The package version of a FIM version: `1.2` is 1.2.0, `2` is 2.0.0.
pub(super) fn package_version(fim: &str) -> Option<semver::Version> {
    let full = match fim.split('.').count() {
        1 => format!("{fim}.0.0"),
        2 => format!("{fim}.0"),
        _ => fim.to_string(),
    };
    semver::Version::parse(&full).ok()
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
    let named = text(top, "name")
        .map(|n| format!("„{}“, ", normalize_space(n)))
        .unwrap_or_default();
    let mut s = format!(
        "# {}\n\nÜbernommen aus {} FIM-{what} {} ({named}{}) mit `gemeinwerk import xdatenfelder`.\n",
        m.title.as_deref().unwrap_or(&m.name),
        // The German article: die Datenfeldgruppe, das Stammdatenschema.
        if what == "Datenfeldgruppe" { "der" } else { "dem" },
        fim_de(fim),
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
            let on: Vec<_> = r.on.iter().map(|o| fim_de(o)).collect();
            s.push_str(&format!(
                "\n### {}{}\n\nBetrifft: {}\n",
                fim_de(&r.fim),
                r.name
                    .as_deref()
                    .map(|n| format!(": {n}"))
                    .unwrap_or_default(),
                on.join(", ")
            ));
            if let Some(t) = &r.text {
                s.push_str(&format!("\n> {t}\n"));
            }
            if let Some(script) = &r.script {
                s.push_str(&format!("\n```\n{}\n```\n", script.replace("```", "` ` `")));
            }
            for (path, keys, e) in &r.conditions {
                s.push_str(&format!(
                    "\nAls Bedingung geprüft: {} an {}.\n",
                    keys.german(e),
                    code(path)
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
