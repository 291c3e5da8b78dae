//! The manifest `gemeinwerk.toml`: parsing and the checks of its keys.
//!
//! ```toml
//! [package]
//! name = "kassel/bewohnerparkausweis"
//! version = "1.0.0"
//! kind = "form"
//! title = "Antrag auf Bewohnerparkausweis"
//! description = "…"
//! license = "EUPL-1.2"
//! themenfeld = "mobilitaet_reisen"
//! leika = "99050012104000"
//! keywords = ["parken", "bewohnerparken"]
//!
//! [dependencies]
//! "fim/anschrift-inland" = "^1.2"
//!
//! [forked-from]
//! package = "kassel/bewohnerparkausweis"
//! version = "1.0.0"
//! cksum = "…"
//!
//! [fim]
//! id = "S00000036"
//! version = "1.2"
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use toml::Spanned;

use super::diagnostics::{nearest, toml_error, Diagnostic, Hint};
use super::names::{is_fim_id, is_fim_version, split_full_name};

pub const MANIFEST_FILE: &str = "gemeinwerk.toml";
pub const MAX_KEYWORDS: usize = 10;
pub const MAX_DESCRIPTION_CHARS: usize = 1000;

/// What a package contains.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PackageKind {
    Form,
    Process,
    Fieldgroup,
    Codelist,
}

impl PackageKind {
    pub const ALL: [PackageKind; 4] = [Self::Form, Self::Process, Self::Fieldgroup, Self::Codelist];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Form => "form",
            Self::Process => "process",
            Self::Fieldgroup => "fieldgroup",
            Self::Codelist => "codelist",
        }
    }

    /// The content file each kind carries beside the manifest.
    pub fn content_file(self) -> &'static str {
        match self {
            Self::Form => "form.toml",
            Self::Process => "process.toml",
            Self::Fieldgroup => "fieldgroup.toml",
            Self::Codelist => "codelist.toml",
        }
    }
}

impl fmt::Display for PackageKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for PackageKind {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        Self::ALL.into_iter().find(|k| k.as_str() == s).ok_or(())
    }
}

/// Themenfeld: one of the 14 subject areas of the OZG catalogue
/// (Onlinezugangsgesetz), by which services are grouped.
pub const THEMENFELDER: [(&str, &str); 14] = [
    ("arbeit_ruhestand", "Arbeit & Ruhestand"),
    ("bauen_wohnen", "Bauen & Wohnen"),
    ("bildung", "Bildung"),
    ("ein_auswanderung", "Ein- & Auswanderung"),
    ("engagement_hobby", "Engagement & Hobby"),
    ("familie_kind", "Familie & Kind"),
    ("forschung_foerderung", "Forschung & Förderung"),
    ("gesundheit", "Gesundheit"),
    ("mobilitaet_reisen", "Mobilität & Reisen"),
    ("querschnitt", "Querschnitt"),
    ("recht_ordnung", "Recht & Ordnung"),
    ("steuern_zoll", "Steuern & Zoll"),
    ("umwelt", "Umwelt"),
    (
        "unternehmensfuehrung_entwicklung",
        "Unternehmensführung & -entwicklung",
    ),
];

/// A checked manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Manifest {
    pub namespace: String,
    pub name: String,
    pub version: semver::Version,
    pub kind: PackageKind,
    pub title: Option<String>,
    pub description: String,
    pub license: String,
    pub keywords: Vec<String>,
    pub themenfeld: Option<String>,
    /// Leistungsschlüssel of the LeiKa (Leistungskatalog), 14 digits.
    pub leika: Option<String>,
    pub readme: Option<String>,
    /// Where the package's sources are developed (an http or https URL).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
    /// A page about the package or its service (an http or https URL).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub homepage: Option<String>,
    pub dependencies: Vec<Dependency>,
    pub forked_from: Option<ForkedFrom>,
    /// `lowers-vertrauensniveau = true`: a fork says explicitly that it
    /// needs a lower Vertrauensniveau than its upstream (see
    /// `package::adaptation`).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub lowers_vertrauensniveau: bool,
    /// `[fim]`: the FIM element the package was made from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fim: Option<FimSource>,
}

impl Manifest {
    pub fn full_name(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Dependency {
    pub namespace: String,
    pub name: String,
    pub req: semver::VersionReq,
}

impl Dependency {
    pub fn full_name(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }
}

/// FIM provenance (Föderales Informationsmanagement): the Stammdatenschema
/// (S…) or Datenfeldgruppe (G…) a package was imported from or follows,
/// with its FIM version. Search finds packages by it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FimSource {
    pub id: String,
    pub version: Option<String>,
}

/// The exact upstream version a fork was made from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ForkedFrom {
    pub namespace: String,
    pub name: String,
    pub version: semver::Version,
    pub cksum: Option<String>,
}

impl fmt::Display for ForkedFrom {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}@{}", self.namespace, self.name, self.version)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawManifest {
    package: Option<Spanned<RawPackage>>,
    #[serde(default)]
    dependencies: BTreeMap<Spanned<String>, Spanned<String>>,
    #[serde(rename = "forked-from")]
    forked_from: Option<Spanned<RawForkedFrom>>,
    fim: Option<Spanned<RawFim>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFim {
    id: Spanned<String>,
    version: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPackage {
    name: Spanned<String>,
    version: Spanned<String>,
    kind: Spanned<String>,
    title: Option<String>,
    description: Option<Spanned<String>>,
    license: Option<Spanned<String>>,
    #[serde(default)]
    keywords: Option<Spanned<Vec<String>>>,
    themenfeld: Option<Spanned<String>>,
    leika: Option<Spanned<String>>,
    readme: Option<String>,
    repository: Option<Spanned<String>>,
    homepage: Option<Spanned<String>>,
    #[serde(rename = "lowers-vertrauensniveau", default)]
    lowers_vertrauensniveau: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawForkedFrom {
    package: Spanned<String>,
    version: Spanned<String>,
    cksum: Option<String>,
}

/// Checks a `repository` or `homepage` link: an absolute http or https
/// URL with a host (no `javascript:`, `file:` or relative links, since the
/// web UI shows it as a link).
pub fn check_link(s: &str) -> Result<(), LinkProblem> {
    let url = url::Url::parse(s).map_err(|e| LinkProblem::NotUrl(e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(LinkProblem::Scheme(url.scheme().to_string()));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(LinkProblem::NoHost);
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(LinkProblem::Credentials);
    }
    Ok(())
}

/// Why a link is refused; displayed as the English end of the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkProblem {
    /// The URL parser's explanation.
    NotUrl(String),
    /// The scheme that is not http(s).
    Scheme(String),
    NoHost,
    Credentials,
}

impl LinkProblem {
    /// The `variant` arg of `manifest.invalid_url`.
    fn variant(&self) -> &'static str {
        match self {
            LinkProblem::NotUrl(_) => "not_url",
            LinkProblem::Scheme(_) => "scheme",
            LinkProblem::NoHost => "no_host",
            LinkProblem::Credentials => "credentials",
        }
    }
}

impl std::fmt::Display for LinkProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LinkProblem::NotUrl(e) => write!(f, "is not a URL: {e}"),
            LinkProblem::Scheme(s) => write!(f, "must start with https:// or http://, not {s}:"),
            LinkProblem::NoHost => f.write_str("has no host"),
            LinkProblem::Credentials => f.write_str("must not contain a user name or password"),
        }
    }
}

/// Parses and checks the manifest of a package. All problems are reported
/// at once; the manifest is returned only when there is no error.
pub fn parse_manifest(source: &str) -> Result<(Manifest, Vec<Diagnostic>), Vec<Diagnostic>> {
    let raw: RawManifest =
        toml::from_str(source).map_err(|e| vec![toml_error(MANIFEST_FILE, source, &e)])?;
    let Some(pkg) = raw.package else {
        return Err(vec![Diagnostic::error(
            "manifest.missing_package",
            MANIFEST_FILE,
            "the manifest has no [package] table; a package needs name, version, kind, description and license",
        )]);
    };
    let mut c = ManifestChecker {
        source,
        pkg_start: pkg.span().start,
        errs: Vec::new(),
        warnings: Vec::new(),
    };
    let pkg = pkg.into_inner();
    let (namespace, name) = c.full_name(&pkg.name);
    let version = c.version(&pkg.version);
    let kind = c.kind(&pkg.kind);
    let description = c.description(pkg.description.as_ref());
    let license = c.license(pkg.license.as_ref());
    let keywords = c.keywords(pkg.keywords);
    let themenfeld = c.themenfeld(pkg.themenfeld);
    let leika = c.leika(pkg.leika);
    c.placeholder_title(pkg.title.as_deref());
    let repository = c.link("repository", pkg.repository);
    let homepage = c.link("homepage", pkg.homepage);
    let dependencies = c.dependencies(&raw.dependencies, &namespace, &name);
    let forked_from = raw.forked_from.and_then(|f| c.forked_from(f.into_inner()));
    let fim = raw.fim.and_then(|f| c.fim(f.into_inner()));

    match (c.errs.is_empty(), version, kind) {
        (true, Some(version), Some(kind)) => Ok((
            Manifest {
                namespace,
                name,
                version,
                kind,
                title: pkg.title,
                description,
                license,
                keywords,
                themenfeld,
                leika,
                readme: pkg.readme,
                repository,
                homepage,
                dependencies,
                forked_from,
                lowers_vertrauensniveau: pkg.lowers_vertrauensniveau,
                fim,
            },
            c.warnings,
        )),
        _ => Err(c.errs),
    }
}

/// Reads the manifest's values one at a time, collecting what is wrong
/// with each, so that one run reports every problem.
struct ManifestChecker<'s> {
    source: &'s str,
    /// Where `[package]` starts: the place of a missing key's diagnostic.
    pkg_start: usize,
    errs: Vec<Diagnostic>,
    warnings: Vec<Diagnostic>,
}

impl ManifestChecker<'_> {
    fn err(&self, code: &str, msg: String, at: usize) -> Diagnostic {
        Diagnostic::error(code, MANIFEST_FILE, msg).at(self.source, at)
    }

    fn full_name(&mut self, full: &Spanned<String>) -> (String, String) {
        match split_full_name(full.get_ref()) {
            Ok(pair) => pair,
            Err(e) => {
                let d = self
                    .err(
                        "manifest.invalid_name",
                        format!("package {e}"),
                        full.span().start,
                    )
                    .with_cause(e);
                self.errs.push(d);
                (String::new(), String::new())
            }
        }
    }

    fn version(&mut self, version: &Spanned<String>) -> Option<semver::Version> {
        match semver::Version::parse(version.get_ref()) {
            Ok(v) => Some(v),
            Err(e) => {
                let d = self
                    .err(
                        "manifest.invalid_version",
                        format!(
                            "version \"{}\" is not a semantic version: {e}",
                            version.get_ref()
                        ),
                        version.span().start,
                    )
                    .arg("version", version.get_ref())
                    .arg("detail", &e)
                    .with_suggestion(Hint::new(
                        "semver-form",
                        "write it as MAJOR.MINOR.PATCH, for example \"1.0.0\"",
                    ));
                self.errs.push(d);
                None
            }
        }
    }

    fn kind(&mut self, kind: &Spanned<String>) -> Option<PackageKind> {
        match kind.get_ref().parse::<PackageKind>() {
            Ok(k) => Some(k),
            Err(()) => {
                let d = self.err(
                    "manifest.invalid_kind",
                    format!(
                        "kind \"{}\" is not known; it must be \"form\", \"process\" or \"fieldgroup\"",
                        kind.get_ref()
                    ),
                    kind.span().start,
                ).arg("value", kind.get_ref());
                self.errs.push(d);
                None
            }
        }
    }

    fn description(&mut self, description: Option<&Spanned<String>>) -> String {
        let problem = match description {
            None => (
                "manifest.missing_description",
                "the package has no description; say in one or two sentences what it is for".into(),
                self.pkg_start,
            ),
            Some(d) if d.get_ref().trim().is_empty() => (
                "manifest.missing_description",
                "the description is empty".into(),
                d.span().start,
            ),
            Some(d) if d.get_ref().chars().count() > MAX_DESCRIPTION_CHARS => (
                "manifest.description_too_long",
                format!("the description has more than {MAX_DESCRIPTION_CHARS} characters; put details into the README"),
                d.span().start,
            ),
            Some(d) => return d.get_ref().trim().to_string(),
        };
        let (code, msg, at) = problem;
        let mut d = self.err(code, msg, at);
        if code == "manifest.description_too_long" {
            d.set_arg("limit", MAX_DESCRIPTION_CHARS);
        } else {
            d.set_arg(
                "variant",
                if description.is_none() {
                    "absent"
                } else {
                    "empty"
                },
            );
        }
        self.errs.push(d);
        String::new()
    }

    fn license(&mut self, license: Option<&Spanned<String>>) -> String {
        let Some(l) = license else {
            let d = self
                .err(
                    "manifest.missing_license",
                    "the package has no license".into(),
                    self.pkg_start,
                )
                .with_suggestion(Hint::new(
                    "license-eupl",
                    "license = \"EUPL-1.2\" is common in the German public sector",
                ));
            self.errs.push(d);
            return String::new();
        };
        match spdx::Expression::parse(l.get_ref()) {
            Ok(_) => l.get_ref().clone(),
            Err(e) => {
                let d = self
                    .err(
                        "manifest.invalid_license",
                        format!(
                            "license \"{}\" is not an SPDX expression: {}",
                            l.get_ref(),
                            e.reason
                        ),
                        l.span().start,
                    )
                    .arg("value", l.get_ref())
                    .arg("detail", &e.reason)
                    .with_suggestion(Hint::new(
                        "license-examples",
                        "for example \"EUPL-1.2\" or \"MIT OR Apache-2.0\"",
                    ));
                self.errs.push(d);
                String::new()
            }
        }
    }

    fn keywords(&mut self, keywords: Option<Spanned<Vec<String>>>) -> Vec<String> {
        let Some(k) = keywords else {
            return Vec::new();
        };
        let at = k.span().start;
        let k = k.into_inner();
        if k.len() > MAX_KEYWORDS {
            let d = self
                .err(
                    "manifest.too_many_keywords",
                    format!(
                        "{} keywords given; at most {MAX_KEYWORDS} are allowed",
                        k.len()
                    ),
                    at,
                )
                .arg("count", k.len())
                .arg("limit", MAX_KEYWORDS);
            self.errs.push(d);
        }
        for word in &k {
            if word.trim().is_empty() || word.chars().count() > 40 {
                let d = self
                    .err(
                        "manifest.invalid_keyword",
                        format!("keyword \"{word}\" must have 1 to 40 characters"),
                        at,
                    )
                    .arg("keyword", word);
                self.errs.push(d);
            }
        }
        k
    }

    fn themenfeld(&mut self, themenfeld: Option<Spanned<String>>) -> Option<String> {
        let Some(t) = themenfeld else {
            self.warnings.push(
                Diagnostic::warning(
                    "manifest.missing_themenfeld",
                    MANIFEST_FILE,
                    "no themenfeld given; the package will not show when people browse by Themenfeld",
                )
                .at(self.source, self.pkg_start),
            );
            return None;
        };
        if THEMENFELDER.iter().any(|(slug, _)| slug == t.get_ref()) {
            return Some(t.into_inner());
        }
        let mut d = self
            .err(
                "manifest.invalid_themenfeld",
                format!(
                    "themenfeld \"{}\" is not one of the 14 OZG Themenfelder",
                    t.get_ref()
                ),
                t.span().start,
            )
            .arg("value", t.get_ref());
        let slugs: Vec<&str> = THEMENFELDER.iter().map(|(s, _)| *s).collect();
        if let Some(best) = nearest(t.get_ref(), &slugs) {
            d = d.with_suggestion(Hint::did_you_mean(best));
        } else {
            d = d.with_suggestion(Hint::choices("known-themenfelder", "one of", &slugs));
        }
        self.errs.push(d);
        None
    }

    fn leika(&mut self, leika: Option<Spanned<String>>) -> Option<String> {
        let l = leika?;
        if l.get_ref().len() == 14 && l.get_ref().bytes().all(|b| b.is_ascii_digit()) {
            return Some(l.into_inner());
        }
        let d = self
            .err(
                "manifest.invalid_leika",
                format!(
                    "leika \"{}\" is not a Leistungsschlüssel: it must be 14 digits",
                    l.get_ref()
                ),
                l.span().start,
            )
            .arg("value", l.get_ref());
        self.errs.push(d);
        None
    }

    /// `gemeinwerk new` writes "Antrag auf …"; a package must not go out
    /// under its placeholder title.
    fn placeholder_title(&mut self, title: Option<&str>) {
        if title.is_some_and(|t| t.contains('…')) {
            let d = self.err(
                "manifest.placeholder_title",
                format!(
                    "title \"{}\" still holds the placeholder \"…\" of `gemeinwerk new`: write the real title",
                    title.unwrap_or_default()
                ),
                self.pkg_start,
            ).arg("title", title.unwrap_or_default());
            self.errs.push(d);
        }
    }

    fn link(&mut self, key: &str, value: Option<Spanned<String>>) -> Option<String> {
        let v = value?;
        match check_link(v.get_ref()) {
            Ok(()) => Some(v.into_inner()),
            Err(why) => {
                let d = self
                    .err(
                        "manifest.invalid_url",
                        format!("{key} \"{}\" {why}", v.get_ref()),
                        v.span().start,
                    )
                    .arg("variant", why.variant())
                    .arg("key", key)
                    .arg("value", v.get_ref());
                let d = match &why {
                    LinkProblem::NotUrl(detail) => d.arg("detail", detail),
                    LinkProblem::Scheme(scheme) => d.arg("scheme", scheme),
                    LinkProblem::NoHost | LinkProblem::Credentials => d,
                };
                self.errs.push(d);
                None
            }
        }
    }

    fn dependencies(
        &mut self,
        raw: &BTreeMap<Spanned<String>, Spanned<String>>,
        namespace: &str,
        name: &str,
    ) -> Vec<Dependency> {
        let mut dependencies = Vec::new();
        for (dep_name, req) in raw {
            let (dns, dname) = match split_full_name(dep_name.get_ref()) {
                Ok(pair) => pair,
                Err(e) => {
                    let d = self
                        .err(
                            "manifest.invalid_dependency",
                            format!("dependency {e}"),
                            dep_name.span().start,
                        )
                        .with_cause(e);
                    self.errs.push(d);
                    continue;
                }
            };
            if dns == namespace && dname == name {
                let d = self
                    .err(
                        "manifest.self_dependency",
                        format!("the package depends on itself (\"{}\")", dep_name.get_ref()),
                        dep_name.span().start,
                    )
                    .arg("package", dep_name.get_ref());
                self.errs.push(d);
                continue;
            }
            match semver::VersionReq::parse(req.get_ref()) {
                Ok(req) => dependencies.push(Dependency {
                    namespace: dns,
                    name: dname,
                    req,
                }),
                Err(e) => {
                    let d = self
                        .err(
                            "manifest.invalid_version_req",
                            format!("\"{}\" is not a version requirement: {e}", req.get_ref()),
                            req.span().start,
                        )
                        .arg("requirement", req.get_ref())
                        .arg("detail", &e)
                        .with_suggestion(Hint::requirement_examples());
                    self.errs.push(d);
                }
            }
        }
        dependencies
    }

    fn forked_from(&mut self, f: RawForkedFrom) -> Option<ForkedFrom> {
        let pair = match split_full_name(f.package.get_ref()) {
            Ok(pair) => Some(pair),
            Err(e) => {
                let d = self
                    .err(
                        "manifest.invalid_forked_from",
                        format!("forked-from package {e}"),
                        f.package.span().start,
                    )
                    .arg("variant", "name")
                    .with_cause(e);
                self.errs.push(d);
                None
            }
        };
        let version = match semver::Version::parse(f.version.get_ref()) {
            Ok(v) => Some(v),
            Err(e) => {
                let d = self
                    .err(
                        "manifest.invalid_forked_from",
                        format!(
                            "forked-from version \"{}\" must be an exact version: {e}",
                            f.version.get_ref()
                        ),
                        f.version.span().start,
                    )
                    .arg("variant", "version")
                    .arg("version", f.version.get_ref())
                    .arg("detail", &e);
                self.errs.push(d);
                None
            }
        };
        let ((namespace, name), version) = (pair?, version?);
        Some(ForkedFrom {
            namespace,
            name,
            version,
            cksum: f.cksum,
        })
    }

    fn fim(&mut self, f: RawFim) -> Option<FimSource> {
        if !is_fim_id(f.id.get_ref()) || !f.id.get_ref().starts_with(['S', 'G', 'D']) {
            let d = self
                .err(
                    "manifest.invalid_fim_id",
                    format!(
                        "[fim] id \"{}\" is not the id of a FIM Stammdatenschema, Datenfeldgruppe or Dokumentsteckbrief",
                        f.id.get_ref()
                    ),
                    f.id.span().start,
                ).arg("fim_id", f.id.get_ref())
                .with_suggestion(Hint::new("fim-ref-form", "a letter S, G or D and 8 digits (XDatenfelder 2, \"S00000036\") or 11 digits (XDatenfelder 3, \"G60000000088\")"));
            self.errs.push(d);
            return None;
        }
        if let Some(v) = &f.version {
            if !is_fim_version(v.get_ref()) {
                let d = self
                    .err(
                        "manifest.invalid_fim_version",
                        format!(
                            "[fim] version \"{}\" must be numbers separated by dots, like \"1.2\"",
                            v.get_ref()
                        ),
                        v.span().start,
                    )
                    .arg("value", v.get_ref());
                self.errs.push(d);
                return None;
            }
        }
        Some(FimSource {
            id: f.id.into_inner(),
            version: f.version.map(Spanned::into_inner),
        })
    }
}

/// The manifest of a fork: the same text (comments and layout kept) with
/// the new name, and a `[forked-from]` table naming the exact upstream
/// version and its checksum (replacing one the upstream had itself).
pub fn fork_manifest(source: &str, new_name: &str, from: &ForkedFrom) -> Result<String, String> {
    #[derive(Deserialize)]
    struct Names {
        package: NamePart,
    }
    #[derive(Deserialize)]
    struct NamePart {
        name: Spanned<String>,
    }
    let names: Names = toml::from_str(source).map_err(|e| e.message().to_string())?;
    let span = names.package.name.span();
    let mut text = format!(
        "{}\"{new_name}\"{}",
        &source[..span.start],
        &source[span.end..]
    );
    // Drop an existing [forked-from] table: from its header to the next one.
    let mut out = String::with_capacity(text.len() + 200);
    let mut skipping = false;
    for line in text.lines() {
        let header = line.trim_start().starts_with('[');
        if header {
            skipping = line.trim() == "[forked-from]";
        }
        if !skipping {
            out.push_str(line);
            out.push('\n');
        }
    }
    text = out.trim_end().to_string();
    text.push_str(&format!(
        "\n\n[forked-from]\npackage = \"{}/{}\"\nversion = \"{}\"\n",
        from.namespace, from.name, from.version
    ));
    if let Some(cksum) = &from.cksum {
        text.push_str(&format!("cksum = \"{cksum}\"\n"));
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    #[test]
    fn links_must_be_web_addresses_and_titles_no_placeholders() {
        let base = "[package]\nname = \"kassel/a\"\nversion = \"1.0.0\"\nkind = \"form\"\ndescription = \"D\"\nlicense = \"EUPL-1.2\"\nthemenfeld = \"querschnitt\"\n";
        let (m, _) = parse_manifest(&format!(
            "{base}repository = \"https://git.example.org/a\"\nhomepage = \"http://www.kassel.de/a\"\n"
        ))
        .unwrap();
        assert_eq!(m.repository.as_deref(), Some("https://git.example.org/a"));
        assert_eq!(m.homepage.as_deref(), Some("http://www.kassel.de/a"));
        for bad in [
            "javascript:alert(1)",
            "file:///etc/passwd",
            "/relativ",
            "https://",
            "https://nutzer:geheim@example.org/",
        ] {
            let errs = parse_manifest(&format!("{base}homepage = \"{bad}\"\n")).unwrap_err();
            assert_eq!(errs[0].code, "manifest.invalid_url", "{bad}: {errs:?}");
        }
        let errs = parse_manifest(&format!("{base}title = \"Antrag auf …\"\n")).unwrap_err();
        assert_eq!(errs[0].code, "manifest.placeholder_title");
    }

    use super::*;

    const GOOD: &str = r#"
[package]
name = "kassel/bewohnerparkausweis"
version = "1.0.0"
kind = "form"
description = "Antrag auf einen Bewohnerparkausweis"
license = "EUPL-1.2"
themenfeld = "mobilitaet_reisen"
leika = "99050012104000"
keywords = ["parken"]

[dependencies]
"fim/anschrift-inland" = "^1.2"
"#;

    #[test]
    fn parses_a_good_manifest() {
        let (m, warnings) = parse_manifest(GOOD).unwrap();
        assert_eq!(m.full_name(), "kassel/bewohnerparkausweis");
        assert_eq!(m.kind, PackageKind::Form);
        assert_eq!(m.dependencies[0].full_name(), "fim/anschrift-inland");
        assert!(warnings.is_empty());
    }

    fn errors(src: &str) -> Vec<Diagnostic> {
        parse_manifest(src).unwrap_err()
    }

    #[test]
    fn reports_every_problem_with_position() {
        let src = GOOD
            .replace("kassel/bewohnerparkausweis", "Kassel/Bewohner")
            .replace("\"1.0.0\"", "\"1.0\"")
            .replace("EUPL-1.2", "EUPL 1.2 or so")
            .replace("mobilitaet_reisen", "mobilitaet_reise")
            .replace("99050012104000", "9905");
        let errs = errors(&src);
        let codes: Vec<&str> = errs.iter().map(|d| d.code.as_str()).collect();
        assert_eq!(
            codes,
            [
                "manifest.invalid_name",
                "manifest.invalid_version",
                "manifest.invalid_license",
                "manifest.invalid_themenfeld",
                "manifest.invalid_leika"
            ]
        );
        assert_eq!((errs[0].line, errs[0].column), (3, 8));
        assert_eq!(
            errs[3].suggestion.as_deref(),
            Some("did you mean \"mobilitaet_reisen\"?")
        );
        assert!(errs[0]
            .to_string()
            .starts_with("gemeinwerk.toml:3:8: error[manifest.invalid_name]"));
    }

    #[test]
    fn refuses_unknown_keys_and_bad_kinds() {
        let errs = errors(&GOOD.replace("kind = \"form\"", "kind = \"formular\""));
        assert_eq!(errs[0].code, "manifest.invalid_kind");
        let errs = errors(&GOOD.replace("kind =", "verison = \"1\"\nkind ="));
        assert_eq!(errs[0].code, "toml.syntax");
        assert!(errs[0].message.contains("verison"), "{}", errs[0].message);
        assert_eq!(errs[0].line, 5);
    }

    #[test]
    fn limits_keywords_and_checks_dependencies() {
        let many = (0..11)
            .map(|i| format!("\"k{i}\""))
            .collect::<Vec<_>>()
            .join(",");
        let errs = errors(&GOOD.replace("[\"parken\"]", &format!("[{many}]")));
        assert_eq!(errs[0].code, "manifest.too_many_keywords");
        let errs = errors(&GOOD.replace("\"^1.2\"", "\"about one\""));
        assert_eq!(errs[0].code, "manifest.invalid_version_req");
        let errs = errors(&GOOD.replace("fim/anschrift-inland", "anschrift"));
        assert_eq!(errs[0].code, "manifest.invalid_dependency");
    }

    #[test]
    fn fork_manifest_keeps_comments_and_replaces_provenance() {
        let src = format!(
            "# Kassels Antrag\n{GOOD}\n[forked-from]\npackage = \"x/y\"\nversion = \"0.1.0\"\n"
        );
        let from = ForkedFrom {
            namespace: "kassel".into(),
            name: "bewohnerparkausweis".into(),
            version: semver::Version::new(1, 0, 0),
            cksum: Some("ab".repeat(32)),
        };
        let out = fork_manifest(&src, "darmstadt/bewohnerparkausweis", &from).unwrap();
        assert!(out.starts_with("# Kassels Antrag\n"));
        let (m, _) = parse_manifest(&out).unwrap();
        assert_eq!(m.full_name(), "darmstadt/bewohnerparkausweis");
        assert_eq!(m.forked_from.unwrap(), from);
        assert_eq!(out.matches("[forked-from]").count(), 1);
        assert!(fork_manifest("not toml [", "a/b", &from).is_err());
    }

    #[test]
    fn fim_provenance() {
        let (m, _) = parse_manifest(&format!(
            "{GOOD}\n[fim]\nid = \"S00000036\"\nversion = \"1.2\"\n"
        ))
        .unwrap();
        let fim = m.fim.clone().unwrap();
        assert_eq!(
            (fim.id.as_str(), fim.version.as_deref()),
            ("S00000036", Some("1.2"))
        );
        let (again, _) = parse_manifest(&crate::write::write_manifest(&m)).unwrap();
        assert_eq!(again, m);
        let (m3, _) = parse_manifest(&format!("{GOOD}\n[fim]\nid = \"G60000000088\"\n")).unwrap();
        assert_eq!(m3.fim.unwrap().version, None);
        for (bad, code) in [
            ("id = \"F00000036\"", "manifest.invalid_fim_id"),
            ("id = \"S123\"", "manifest.invalid_fim_id"),
            (
                "id = \"S00000036\"\nversion = \"eins\"",
                "manifest.invalid_fim_version",
            ),
        ] {
            let errs = errors(&format!("{GOOD}\n[fim]\n{bad}\n"));
            assert_eq!(errs[0].code, code, "{bad}");
        }
        let errs = errors(&format!("{GOOD}\n[fim]\nversion = \"1.0\"\n"));
        assert_eq!(errs[0].code, "toml.syntax");
    }
}
