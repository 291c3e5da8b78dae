//! The package page: what a package is, its README, versions, dependencies,
//! the live preview of a form or the diagram of a process, and the fork
//! network; plus the members' actions on it (yank, unyank, deprecate).

use actix_web::{get, post, web, HttpRequest};
use askama::Template;
use serde::Deserialize;

use super::preview::{self, Input, Preview};
use super::{block, diagram, ok, see_other, Chrome, WebError, WebResult};
use crate::http::{origin_of, Reg};
use crate::registry::auth::Credential;
use crate::registry::{accounts, content, forks, index, packages, yank, Registry, RegistryError};
use crate::store::models::Version;
use gemeinwerk_package::codelist_package::CodelistPackage;
use gemeinwerk_package::content::{Content, DependencyContent};
use gemeinwerk_package::form::Form;
use gemeinwerk_package::manifest::Manifest;
use gemeinwerk_package::model::Duration;
use gemeinwerk_package::process::Process;

pub struct VersionRow {
    pub num: String,
    pub date: String,
    pub yanked: bool,
    pub reason: String,
    pub downloads: String,
    /// The version before it, for the diff link.
    pub previous: Option<String>,
    pub shown: bool,
}

pub struct DependencyRow {
    pub name: String,
    pub req: String,
}

pub struct StateRow {
    pub id: String,
    pub label: String,
    pub kind: String,
    pub deadline: String,
}

pub struct TransitionRow {
    pub number: usize,
    pub label: String,
    pub from: String,
    pub to: String,
    pub role: String,
    pub forms: Vec<String>,
    pub deadline: String,
}

pub struct FeeRow {
    pub label: String,
    pub amount: String,
    pub on: String,
    pub legal_basis: String,
}

pub struct ProcessView {
    pub svg: String,
    pub states: Vec<StateRow>,
    pub transitions: Vec<TransitionRow>,
    pub fees: Vec<FeeRow>,
    pub notices: Vec<(String, String)>,
}

/// A code list package: its identity and its codes (the first
/// [`CODES_SHOWN`]; the archive has them all).
pub struct CodelistView {
    pub canonical_uri: String,
    pub source_version: String,
    pub agency: String,
    pub valid_from: String,
    pub total: usize,
    /// Column headings: the code, the label, the other columns.
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
    pub more: usize,
}

const CODES_SHOWN: usize = 500;

fn codelist_view(l: &CodelistPackage) -> CodelistView {
    let heading = |id: &str| {
        l.columns
            .iter()
            .find(|c| c.id == id)
            .and_then(|c| c.name.clone().or_else(|| c.long_name.clone()))
            .unwrap_or_else(|| id.to_string())
    };
    let others: Vec<&str> = l
        .columns
        .iter()
        .map(|c| c.id.as_str())
        .filter(|id| *id != l.key && Some(*id) != l.label_column.as_deref())
        .collect();
    let mut columns = vec![heading(&l.key)];
    columns.extend(l.label_column.as_deref().map(heading));
    columns.extend(others.iter().map(|id| heading(id)));
    let rows = l
        .codes
        .iter()
        .take(CODES_SHOWN)
        .map(|c| {
            let mut row = vec![c.code.clone()];
            if l.label_column.is_some() {
                row.push(c.label.clone().unwrap_or_default());
            }
            row.extend(others.iter().map(|id| {
                c.values
                    .iter()
                    .find(|(k, _)| k == id)
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default()
            }));
            row
        })
        .collect();
    CodelistView {
        canonical_uri: l.canonical_uri.clone().unwrap_or_default(),
        source_version: l.source_version.clone().unwrap_or_default(),
        agency: l.agency.clone().unwrap_or_default(),
        valid_from: l.valid_from.clone().unwrap_or_default(),
        total: l.codes.len(),
        columns,
        rows,
        more: l.codes.len().saturating_sub(CODES_SHOWN),
    }
}

pub struct NetworkRow {
    pub package: String,
    pub base: String,
    pub behind: usize,
    pub indent: usize,
}

/// One way to take the package, as a command to copy.
pub struct Command {
    pub label: &'static str,
    pub id: &'static str,
    pub text: String,
}

impl Command {
    /// The command as HTML that may wrap at spaces, after `/` and before
    /// `@`, and nowhere else: each piece is a `nowrap` span, so a name
    /// does not break at its hyphens either.
    pub fn html(&self) -> String {
        let escape = |t: &str| {
            t.replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
                .replace('"', "&quot;")
                .replace('\'', "&#39;")
        };
        self.text
            .split(' ')
            .map(|word| {
                let mut pieces = Vec::new();
                let mut piece = String::new();
                for c in word.chars() {
                    if c == '@' && !piece.is_empty() {
                        pieces.push(std::mem::take(&mut piece));
                    }
                    piece.push(c);
                    if c == '/' {
                        pieces.push(std::mem::take(&mut piece));
                    }
                }
                if !piece.is_empty() {
                    pieces.push(piece);
                }
                pieces
                    .iter()
                    .map(|p| format!("<span>{}</span>", escape(p)))
                    .collect::<Vec<_>>()
                    .join("<wbr>")
            })
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// A FIM element that is not released, as the page lists it.
pub struct UnreleasedRow {
    /// Its path in the package; empty for the package itself.
    pub path: String,
    pub fim: String,
    /// "3 Entwurf".
    pub status: String,
}

/// Everything the package page shows.
pub struct PackageData {
    pub name: String,
    pub namespace: String,
    pub publisher: super::publisher::Publisher,
    pub repository: String,
    pub homepage: String,
    /// The SPDX page of the licence, when it is an SPDX id.
    pub license_url: String,
    /// The newest version that is not yanked, when it is not the one shown.
    pub newest_usable: String,
    /// Why the shown version was yanked.
    pub yank_reason: String,
    pub commands: Vec<Command>,
    pub title: String,
    pub description: String,
    pub kind: &'static str,
    pub deprecated: Option<String>,
    pub license: String,
    pub themenfeld: Option<(String, String)>,
    pub leika: String,
    pub keywords: Vec<String>,
    pub version: String,
    pub version_yanked: bool,
    pub newest: String,
    pub readme: std::sync::Arc<str>,
    pub versions: Vec<VersionRow>,
    pub dependencies: Vec<DependencyRow>,
    pub dependents: Vec<String>,
    /// The dependents beyond those listed, in words ("3 weitere Pakete");
    /// empty when all are listed.
    pub dependents_more: String,
    pub vertrauensniveau: String,
    pub accounts: String,
    /// FIM elements of the shown version that FIM has not released.
    pub unreleased: Vec<UnreleasedRow>,
    pub preview: Option<Preview>,
    pub process: Option<ProcessView>,
    pub codelist: Option<CodelistView>,
    pub upstream: Vec<NetworkRow>,
    pub forks: Vec<NetworkRow>,
    pub fork_base: Option<String>,
    pub fork_base_package: String,
    /// Advisories that affect the shown version, and (a fork) the upstream
    /// version it is based on.
    pub advisories: Vec<crate::registry::advisories::AdvisoryView>,
    pub fork_behind: usize,
    pub downloads: String,
    /// Downloads of the last 90 days, as "1.234 Downloads".
    pub recent_downloads: String,
    /// The 90-day chart, an SVG (escaped where it holds text).
    pub downloads_chart: String,
    pub municipalities: usize,
    pub role: Option<String>,
}

#[derive(Template)]
#[template(path = "package.html")]
struct PackagePage {
    chrome: Chrome,
    p: PackageData,
}

#[derive(Template)]
#[template(path = "preview_page.html")]
struct PreviewPage {
    chrome: Chrome,
    p: PackageData,
}

/// German wording for an ISO 8601 duration: `P14D` → „14 Tage“.
pub fn duration_de(iso: &str) -> String {
    let Ok(d) = Duration::parse(iso) else {
        return iso.to_string();
    };
    let mut parts = Vec::new();
    let mut unit = |n: u32, one: &str, many: &str| {
        if n > 0 {
            parts.push(format!("{n} {}", if n == 1 { one } else { many }));
        }
    };
    unit(d.years, "Jahr", "Jahre");
    unit(d.months, "Monat", "Monate");
    unit(d.weeks, "Woche", "Wochen");
    unit(d.days, "Tag", "Tage");
    unit(d.hours, "Stunde", "Stunden");
    unit(d.minutes, "Minute", "Minuten");
    unit(d.seconds, "Sekunde", "Sekunden");
    parts.join(", ")
}

/// How often a fee is charged: `P1Y` → „jährlich“, `P2Y` → „alle 2 Jahre“.
pub fn per_de(iso: &str) -> String {
    let Ok(d) = Duration::parse(iso) else {
        return format!("je {iso}");
    };
    let only = |years, months, weeks, days| {
        (
            d.years, d.months, d.weeks, d.days, d.hours, d.minutes, d.seconds,
        ) == (years, months, weeks, days, 0, 0, 0)
    };
    let word = if only(1, 0, 0, 0) || only(0, 12, 0, 0) {
        "jährlich"
    } else if only(0, 6, 0, 0) {
        "halbjährlich"
    } else if only(0, 3, 0, 0) {
        "vierteljährlich"
    } else if only(0, 1, 0, 0) {
        "monatlich"
    } else if only(0, 0, 1, 0) || only(0, 0, 0, 7) {
        "wöchentlich"
    } else if only(0, 0, 0, 1) {
        "täglich"
    } else {
        return format!("alle {}", duration_de(iso));
    };
    word.to_string()
}

/// The SPDX page of a licence id such as `EUPL-1.2`; empty for an
/// expression (`MIT OR Apache-2.0`) or anything that is not an id.
pub fn spdx_url(license: &str) -> String {
    let id = license.trim();
    let plain = !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '+'));
    if plain {
        format!(
            "https://spdx.org/licenses/{}.html",
            id.trim_end_matches('+')
        )
    } else {
        String::new()
    }
}

pub fn euro(cents: i64) -> String {
    format!(
        "{},{:02} €",
        super::number(cents / 100),
        (cents % 100).unsigned_abs()
    )
}

/// The version shown: the one asked for, else the newest that is not
/// yanked, else the newest.
fn pick<'a>(versions: &'a [Version], asked: Option<&str>) -> Option<&'a Version> {
    if let Some(num) = asked {
        return versions.iter().find(|v| v.num == num);
    }
    let newest = |yanked_too: bool| {
        versions
            .iter()
            .filter(|v| yanked_too || v.yanked_at.is_none())
            .filter_map(|v| semver::Version::parse(&v.num).ok().map(|s| (s, v)))
            .max_by(|a, b| a.0.cmp(&b.0))
            .map(|(_, v)| v)
    };
    newest(false).or_else(|| newest(true))
}

fn process_view(p: &Process, title: &str) -> ProcessView {
    let role = |id: &str| {
        p.roles
            .iter()
            .find(|r| r.id == id)
            .map(|r| r.label.clone())
            .unwrap_or_else(|| id.to_string())
    };
    let transition_label = |id: &str| {
        p.transitions
            .iter()
            .position(|t| t.id == id)
            .map(|i| {
                let t = &p.transitions[i];
                format!(
                    "„{}“ (Nr. {})",
                    t.label.as_ref().map(|l| l.de.as_str()).unwrap_or(&t.id),
                    i + 1
                )
            })
            .unwrap_or_else(|| id.to_string())
    };
    ProcessView {
        svg: diagram::svg(p, title),
        states: p
            .states
            .iter()
            .map(|s| StateRow {
                id: s.id.clone(),
                label: s.label.as_ref().map(|l| l.de.clone()).unwrap_or_default(),
                kind: match (s.start, s.end) {
                    (true, _) => "Beginn".into(),
                    (_, Some(o)) => format!("Ende: {}", o.as_str()),
                    _ => String::new(),
                },
                deadline: s.deadline.as_deref().map(duration_de).unwrap_or_default(),
            })
            .collect(),
        transitions: p
            .transitions
            .iter()
            .enumerate()
            .map(|(i, t)| TransitionRow {
                number: i + 1,
                label: t
                    .label
                    .as_ref()
                    .map(|l| l.de.clone())
                    .unwrap_or_else(|| t.id.clone()),
                from: diagram::state_label(p, t.from.get_ref()),
                to: diagram::state_label(p, t.to.get_ref()),
                role: role(t.role.get_ref()),
                forms: t.forms.iter().map(|f| f.get_ref().clone()).collect(),
                deadline: t.deadline.as_deref().map(duration_de).unwrap_or_default(),
            })
            .collect(),
        fees: p
            .fees
            .iter()
            .map(|f| FeeRow {
                label: f
                    .label
                    .as_ref()
                    .map(|l| l.de.clone())
                    .unwrap_or_else(|| f.id.clone()),
                amount: match &f.per {
                    Some(per) => format!("{} {}", euro(f.amount_cents), per_de(per)),
                    None => euro(f.amount_cents),
                },
                on: f
                    .on
                    .as_ref()
                    .map(|o| transition_label(o.get_ref()))
                    .unwrap_or_default(),
                legal_basis: f.legal_basis.clone().unwrap_or_default(),
            })
            .collect(),
        notices: p
            .notices
            .iter()
            .map(|n| {
                (
                    n.label
                        .as_ref()
                        .map(|l| l.de.clone())
                        .unwrap_or_else(|| n.id.clone()),
                    transition_label(n.on.get_ref()),
                )
            })
            .collect(),
    }
}

fn form_facts(f: &Form) -> (String, String) {
    (
        f.vertrauensniveau
            .map(|v| v.as_str().to_string())
            .unwrap_or_default(),
        f.accounts
            .iter()
            .map(|a| a.as_str())
            .collect::<Vec<_>>()
            .join(", "),
    )
}

/// Reads everything the package page shows. `input` fills the preview.
pub fn load(
    reg: &Registry,
    namespace: &str,
    name: &str,
    asked: Option<&str>,
    input: &Input,
    login: Option<&str>,
) -> Result<PackageData, RegistryError> {
    let full_name = format!("{namespace}/{name}");
    let view = packages::package_view(reg, namespace, name)?;
    let mut conn = reg.db.conn()?;
    let package = index::find_package(&mut conn, namespace, name)?
        .ok_or_else(|| RegistryError::UnknownPackage(full_name.clone()))?;
    let rows = index::package_versions(&mut conn, package.id)?;
    let recent = crate::registry::downloads::recent_days(reg, &mut conn, package.id)?;
    let shown = match pick(&rows, asked) {
        Some(v) => Some(v),
        None if asked.is_some() => {
            return Err(RegistryError::UnknownVersion {
                package: full_name,
                version: asked.unwrap_or_default().to_string(),
            })
        }
        None => None,
    };
    let mut manifest: Option<Manifest> = None;
    let mut parsed: Option<Content> = None;
    let mut readme: std::sync::Arc<str> = "".into();
    if let Some(v) = shown {
        let rendered = super::rendered::version(reg, &full_name, v)?;
        if let Some((m, c)) = &rendered.package {
            manifest = Some(m.clone());
            parsed = Some(c.clone());
        }
        readme = rendered.readme_html.clone();
    }
    let deps = match &manifest {
        Some(m) if !m.dependencies.is_empty() => {
            content::resolve_dependencies(reg, &mut conn, m)?.content
        }
        _ => DependencyContent::unresolved(),
    };
    let role = match login {
        Some(login) => accounts::list_members(&mut conn, namespace)?
            .into_iter()
            .find(|m| m.login == login)
            .map(|m| m.role),
        None => None,
    };
    drop(conn);
    let network = forks::network(reg, namespace, name)?;
    let dependents = packages::dependents(reg, &full_name)?;

    let title = view.title.clone().unwrap_or_else(|| full_name.clone());
    let version = shown.map(|v| v.num.clone()).unwrap_or_default();
    let shown_content = ContentViews::of(parsed.as_ref(), &deps, input, &title);
    let municipalities = municipalities(namespace, &dependents.namespaces, &network);
    let newest = pick(&rows, None).map(|v| v.num.clone()).unwrap_or_default();
    let newest_usable = super::publisher::newest_usable(&rows)
        .filter(|v| v.yanked_at.is_none() && v.num != version)
        .map(|v| v.num.clone())
        .unwrap_or_default();
    let commands = commands(reg, &full_name, name, &newest);
    let publisher = super::publisher::lookup(reg, [namespace.to_string()])?
        .remove(namespace)
        .unwrap_or_default();
    let shown_row = view.versions.iter().find(|v| v.num == version);
    let yank_reason = shown_row
        .and_then(|v| v.yank_reason.clone())
        .unwrap_or_default();
    let dependencies = shown_row
        .map(|v| {
            v.dependencies
                .iter()
                .map(|d| DependencyRow {
                    name: d.name.clone(),
                    req: d.req.clone(),
                })
                .collect()
        })
        .unwrap_or_default();
    let row = |e: &forks::NetworkEntry| NetworkRow {
        package: e.package.clone(),
        base: e.base.clone().unwrap_or_default(),
        behind: e.behind,
        indent: e.depth.saturating_sub(1),
    };
    let mut shown_advisories: Vec<_> =
        crate::registry::advisories::of_package(reg, namespace, name)?
            .into_iter()
            .filter(|a| a.affects(&version))
            .collect();
    if let Some((up, base)) = network.base.as_deref().and_then(|b| b.split_once('@')) {
        if let Some((up_ns, up_name)) = up.split_once('/') {
            shown_advisories.extend(
                crate::registry::advisories::of_package(reg, up_ns, up_name)?
                    .into_iter()
                    .filter(|a| a.affects(base)),
            );
        }
    }
    let m = manifest.as_ref();
    Ok(PackageData {
        advisories: shown_advisories,
        name: full_name,
        namespace: namespace.to_string(),
        publisher,
        repository: m.and_then(|m| m.repository.clone()).unwrap_or_default(),
        homepage: m.and_then(|m| m.homepage.clone()).unwrap_or_default(),
        license_url: m.map(|m| spdx_url(&m.license)).unwrap_or_default(),
        newest_usable,
        yank_reason,
        commands,
        title,
        description: view.description.clone(),
        kind: super::kind_label(&view.kind),
        deprecated: view.deprecated.clone(),
        license: m.map(|m| m.license.clone()).unwrap_or_default(),
        themenfeld: m
            .and_then(|m| m.themenfeld.clone())
            .map(|t| (super::themenfeld_label(&t), t)),
        leika: m.and_then(|m| m.leika.clone()).unwrap_or_default(),
        keywords: m.map(|m| m.keywords.clone()).unwrap_or_default(),
        version_yanked: shown.is_some_and(|v| v.yanked_at.is_some()),
        versions: version_rows(&view, &version),
        version,
        newest,
        readme,
        dependencies,
        dependents_more: more_dependents(&dependents),
        dependents: dependents.shown,
        vertrauensniveau: shown_content.vertrauensniveau,
        accounts: shown_content.accounts,
        unreleased: shown_content.unreleased,
        preview: shown_content.preview,
        process: shown_content.process,
        codelist: shown_content.codelist,
        upstream: network.upstream.iter().map(row).collect(),
        forks: network.forks.iter().map(row).collect(),
        fork_base_package: network
            .base
            .as_deref()
            .and_then(|b| b.split_once('@'))
            .map(|(p, _)| p.to_string())
            .unwrap_or_default(),
        fork_base: network.base.clone(),
        fork_behind: network.behind,
        downloads: super::number(view.downloads),
        recent_downloads: super::chart::downloads_de(recent.iter().map(|(_, n)| n).sum()),
        downloads_chart: super::chart::downloads_svg(&recent),
        municipalities,
        role,
    })
}

/// What the page shows of the shown version's content, by its kind.
struct ContentViews {
    unreleased: Vec<UnreleasedRow>,
    preview: Option<Preview>,
    process: Option<ProcessView>,
    codelist: Option<CodelistView>,
    vertrauensniveau: String,
    accounts: String,
}

impl ContentViews {
    fn of(parsed: Option<&Content>, deps: &DependencyContent, input: &Input, title: &str) -> Self {
        let (preview, process, vertrauensniveau, accounts) = match parsed {
            Some(Content::Form(f)) => {
                let (v, a) = form_facts(f);
                let mut pv = preview::build(&f.body, deps, input);
                pv.legal = preview::legal(&f.legal_basis);
                (Some(pv), None, v, a)
            }
            Some(Content::Fieldgroup(g)) => {
                let mut pv = preview::build(&g.body, deps, input);
                pv.legal = preview::legal(&g.legal_basis);
                (Some(pv), None, String::new(), String::new())
            }
            Some(Content::Process(p)) => (
                None,
                Some(process_view(p, title)),
                String::new(),
                String::new(),
            ),
            Some(Content::Codelist(_)) | None => (None, None, String::new(), String::new()),
        };
        let codelist = match parsed {
            Some(Content::Codelist(l)) => Some(codelist_view(l)),
            _ => None,
        };
        let unreleased = parsed
            .map(Content::unreleased)
            .unwrap_or_default()
            .into_iter()
            .map(|(path, f)| UnreleasedRow {
                path,
                fim: f.to_string(),
                status: f.status_label().unwrap_or_default(),
            })
            .collect();
        ContentViews {
            unreleased,
            preview,
            process,
            codelist,
            vertrauensniveau,
            accounts,
        }
    }
}

/// "1 weiteres Paket", "3 weitere Pakete", "mehr als 950 weitere Pakete"
/// when the count stopped at its bound; empty when every one is listed.
fn more_dependents(dependents: &packages::Dependents) -> String {
    let more = dependents.count - dependents.shown.len() as i64;
    let counted = super::count(more, "weiteres Paket", "weitere Pakete");
    match more {
        ..=0 => String::new(),
        _ if dependents.count_capped() => format!("mehr als {counted}"),
        _ => counted,
    }
}

/// Municipalities that use the package: those whose packages depend on it
/// or fork it, besides its own.
fn municipalities(
    namespace: &str,
    dependent_namespaces: &[String],
    network: &forks::ForkNetwork,
) -> usize {
    let mut users: Vec<&str> = dependent_namespaces
        .iter()
        .map(String::as_str)
        .chain(
            network
                .forks
                .iter()
                .filter_map(|f| f.package.split_once('/').map(|(ns, _)| ns)),
        )
        .filter(|ns| *ns != namespace)
        .collect();
    users.sort_unstable();
    users.dedup();
    users.len()
}

/// Versions newest first; the diff link goes to the one published before.
fn version_rows(view: &packages::PackageView, shown: &str) -> Vec<VersionRow> {
    view.versions
        .iter()
        .enumerate()
        .map(|(i, v)| VersionRow {
            num: v.num.clone(),
            date: super::date(&v.created_at),
            yanked: v.yanked,
            reason: v.yank_reason.clone().unwrap_or_default(),
            downloads: super::number(v.downloads),
            previous: view.versions.get(i + 1).map(|p| p.num.clone()),
            shown: v.num == shown,
        })
        .collect()
}

/// The ways to take the package, as commands to copy.
fn commands(reg: &Registry, full_name: &str, name: &str, newest: &str) -> Vec<Command> {
    let snippet = match semver::Version::parse(newest) {
        Ok(v) if v.major > 0 => format!("gemeinwerk add {full_name}@^{}.{}", v.major, v.minor),
        Ok(v) => format!("gemeinwerk add {full_name}@^{v}"),
        Err(_) => format!("gemeinwerk add {full_name}"),
    };
    let base_url = reg.config.base_url.trim_end_matches('/');
    vec![
        Command {
            label: "Als Abhängigkeit eintragen",
            id: "befehl-add",
            text: snippet,
        },
        Command {
            label: "Für die eigene Kommune ableiten (Fork)",
            id: "befehl-fork",
            text: format!("gemeinwerk fork {full_name} {}/{name}", "IHR-NAMENSRAUM"),
        },
        Command {
            label: "Versionsgeschichte mit git holen",
            id: "befehl-git",
            text: format!("git clone {base_url}/git/packages/{full_name}.git"),
        },
    ]
}

#[derive(Deserialize)]
pub(super) struct VersionQuery {
    version: Option<String>,
}

/// Package pages being built at once. A page holds its README and
/// preview (a few MB for the largest allowed package) from the load until
/// it is rendered, and loads run on the blocking pool, which takes far
/// more at once than there are cores: thirty views of the largest page
/// held thirty copies. Beyond this many, a view waits its turn, so that
/// the memory for pages stays bounded whatever the number of requests.
static PAGES_AT_ONCE: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(4);

/// Waits for a turn to build a page (see [`PAGES_AT_ONCE`]).
async fn page_turn() -> tokio::sync::SemaphorePermit<'static> {
    PAGES_AT_ONCE
        .acquire()
        .await
        .expect("the semaphore is never closed")
}

#[get("/pakete/{ns}/{name}")]
pub(super) async fn page(
    reg: Reg,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    query: web::Query<VersionQuery>,
) -> WebResult {
    let (ns, name) = path.into_inner();
    let chrome = Chrome::of(&req);
    let login = chrome.login.clone();
    let version = query.into_inner().version;
    let _turn = page_turn().await;
    let data = block(&req, move || {
        load(
            &reg,
            &ns,
            &name,
            version.as_deref(),
            &Input::default(),
            login.as_deref(),
        )
    })
    .await?;
    Ok(ok(&PackagePage { chrome, p: data }))
}

/// The preview alone, filled with what the user entered: how the preview
/// works without JavaScript (conditions and added entries are evaluated
/// here).
#[get("/pakete/{ns}/{name}/vorschau")]
pub(super) async fn preview_page(
    reg: Reg,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    query: web::Query<Vec<(String, String)>>,
) -> WebResult {
    let (ns, name) = path.into_inner();
    let pairs = query.into_inner();
    let version = pairs
        .iter()
        .find(|(k, _)| k == "_version")
        .map(|(_, v)| v.clone());
    let input = Input::from_pairs(pairs.into_iter().filter(|(k, _)| k != "_version").collect());
    let chrome = Chrome::of(&req);
    let _turn = page_turn().await;
    let data = block(&req, move || {
        load(&reg, &ns, &name, version.as_deref(), &input, None)
    })
    .await?;
    if data.preview.is_none() {
        return Err(WebError::not_found(format!(
            "{} ist kein Formular; eine Vorschau gibt es nur für Formulare und Feldgruppen.",
            data.name
        ))
        .with_chrome(&req));
    }
    Ok(ok(&PreviewPage { chrome, p: data }))
}

#[derive(Deserialize, Default)]
pub(super) struct ActionForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    text: Option<String>,
}

#[post("/pakete/{ns}/{name}/versionen/{version}/zurueckziehen")]
pub(super) async fn yank_version(
    reg: Reg,
    req: HttpRequest,
    path: web::Path<(String, String, String)>,
    form: web::Form<ActionForm>,
) -> WebResult {
    set_yanked(reg, req, path.into_inner(), form.into_inner(), true).await
}

#[post("/pakete/{ns}/{name}/versionen/{version}/freigeben")]
pub(super) async fn unyank_version(
    reg: Reg,
    req: HttpRequest,
    path: web::Path<(String, String, String)>,
    form: web::Form<ActionForm>,
) -> WebResult {
    set_yanked(reg, req, path.into_inner(), form.into_inner(), false).await
}

async fn set_yanked(
    reg: Reg,
    req: HttpRequest,
    (ns, name, version): (String, String, String),
    form: ActionForm,
    yanked: bool,
) -> WebResult {
    let session = super::account::member_session(&req, &form.csrf)?;
    let origin = origin_of(&req);
    let back = format!("/pakete/{ns}/{name}#versionen");
    block(&req, move || {
        yank::set_yanked(
            &reg,
            Credential::Session(&session.id),
            &origin,
            &ns,
            &name,
            &version,
            yanked,
            form.text.as_deref(),
        )
    })
    .await?;
    Ok(see_other(&back))
}

/// Marks the package deprecated with the message given, or lifts the mark
/// when the message is empty.
#[post("/pakete/{ns}/{name}/veraltet")]
pub(super) async fn deprecate(
    reg: Reg,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    form: web::Form<ActionForm>,
) -> WebResult {
    let (ns, name) = path.into_inner();
    let form = form.into_inner();
    let session = super::account::member_session(&req, &form.csrf)?;
    let origin = origin_of(&req);
    let back = format!("/pakete/{ns}/{name}");
    block(&req, move || {
        let message = form
            .text
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty());
        yank::set_deprecated(
            &reg,
            Credential::Session(&session.id),
            &origin,
            &ns,
            &name,
            message,
        )
    })
    .await?;
    Ok(see_other(&back))
}

impl PackageData {
    pub fn is_form(&self) -> bool {
        self.preview.is_some()
    }
    pub fn can_manage(&self) -> bool {
        self.role.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_amounts_read_german() {
        assert_eq!(duration_de("P14D"), "14 Tage");
        assert_eq!(duration_de("P1Y"), "1 Jahr");
        assert_eq!(duration_de("PT48H"), "48 Stunden");
        assert_eq!(euro(3070), "30,70 €");
        assert_eq!(euro(123456), "1.234,56 €");
        assert_eq!(
            format!("{} {}", euro(3070), per_de("P1Y")),
            "30,70 € jährlich"
        );
        assert_eq!(per_de("P1M"), "monatlich");
        assert_eq!(per_de("P2Y"), "alle 2 Jahre");
        assert_eq!(
            spdx_url("EUPL-1.2"),
            "https://spdx.org/licenses/EUPL-1.2.html"
        );
        assert_eq!(spdx_url("MIT OR Apache-2.0"), "");
        let dependents = |shown: usize, count| packages::Dependents {
            shown: vec![String::new(); shown],
            count,
            namespaces: Vec::new(),
        };
        assert_eq!(more_dependents(&dependents(3, 3)), "");
        assert_eq!(more_dependents(&dependents(50, 51)), "1 weiteres Paket");
        assert_eq!(more_dependents(&dependents(50, 54)), "4 weitere Pakete");
        assert_eq!(
            more_dependents(&dependents(50, packages::DEPENDENTS_COUNTED)),
            "mehr als 950 weitere Pakete"
        );
        let c = Command {
            label: "",
            id: "",
            text: "gemeinwerk add kassel/a-b@^1.1 <x>".into(),
        };
        assert_eq!(
            c.html(),
            "<span>gemeinwerk</span> <span>add</span> <span>kassel/</span><wbr><span>a-b</span><wbr><span>@^1.1</span> <span>&lt;x&gt;</span>"
        );
    }
}
