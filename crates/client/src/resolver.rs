//! Resolving a project's whole dependency graph to exact versions, with
//! PubGrub (the algorithm of Dart's pub, uv and cargo's new resolver): the
//! highest compatible version of every package, one version per package
//! (a form includes a field group by name, so two versions of one package in
//! one project would be ambiguous), and, when there is no solution, an
//! explanation in plain words of which requirement clashes with which.
//!
//! Yanked versions are never picked, except a version the previous lockfile
//! already has ("preferred"), which stays while it still fits.

use std::cell::RefCell;
use std::cmp::Reverse;
use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;
use std::rc::Rc;

use pubgrub::{
    DefaultStringReporter, Dependencies, DependencyProvider, Derived, External, Map,
    PackageResolutionStatistics, PubGrubError, Ranges, ReportFormatter, Reporter, Term,
};
use registry_index::IndexLine;
use semver::{Version, VersionReq};

use super::{ClientError, ClientResult};
use gemeinwerk_package::manifest::Dependency;

/// Where the resolver reads index files from: the registry through the
/// cache, the cache alone, a vendored folder, or memory (benchmarks).
pub trait IndexSource {
    /// The index lines of `ns/name`; `Ok(None)` when there is no such
    /// package.
    fn lines(&self, full_name: &str) -> ClientResult<Option<Vec<IndexLine>>>;
}

impl IndexSource for HashMap<String, Vec<IndexLine>> {
    fn lines(&self, full_name: &str) -> ClientResult<Option<Vec<IndexLine>>> {
        Ok(self.get(full_name).cloned())
    }
}

/// The name the project itself has in explanations.
const ROOT: &str = "your gemeinwerk.toml";

type VS = Ranges<Version>;

/// The published versions of one package, oldest first.
struct Known {
    exists: bool,
    /// (version, index into `lines`), sorted ascending.
    versions: Vec<(Version, usize)>,
    lines: Vec<IndexLine>,
}

impl Known {
    fn line(&self, v: &Version) -> Option<&IndexLine> {
        self.versions
            .binary_search_by(|(x, _)| x.cmp(v))
            .ok()
            .map(|i| &self.lines[self.versions[i].1])
    }
}

struct Provider<'a> {
    source: &'a dyn IndexSource,
    root: Vec<(String, VersionReq)>,
    preferred: &'a BTreeMap<String, String>,
    known: RefCell<HashMap<String, Rc<Known>>>,
    /// (package, requirement text) → the set of its known versions that
    /// match; also how explanations turn sets back into requirements.
    ranges: RefCell<HashMap<(String, String), VS>>,
}

impl Provider<'_> {
    fn known(&self, name: &str) -> ClientResult<Rc<Known>> {
        if let Some(k) = self.known.borrow().get(name) {
            return Ok(k.clone());
        }
        let lines = self.source.lines(name)?;
        let exists = lines.is_some();
        let lines = lines.unwrap_or_default();
        let mut versions: Vec<(Version, usize)> = lines
            .iter()
            .enumerate()
            .filter_map(|(i, l)| Version::parse(&l.vers).ok().map(|v| (v, i)))
            .collect();
        versions.sort_by(|a, b| a.0.cmp(&b.0));
        let k = Rc::new(Known {
            exists,
            versions,
            lines,
        });
        self.known.borrow_mut().insert(name.to_string(), k.clone());
        Ok(k)
    }

    /// The known versions of `name` that `req` matches, as runs of
    /// neighbouring versions.
    fn range(&self, name: &str, req_text: &str, req: &VersionReq) -> ClientResult<VS> {
        let key = (name.to_string(), req_text.to_string());
        if let Some(r) = self.ranges.borrow().get(&key) {
            return Ok(r.clone());
        }
        let known = self.known(name)?;
        let mut set = VS::empty();
        let mut run: Option<(&Version, &Version)> = None;
        for (v, _) in &known.versions {
            if req.matches(v) {
                run = Some(match run {
                    None => (v, v),
                    Some((start, _)) => (start, v),
                });
            } else if let Some((a, b)) = run.take() {
                set = set.union(&closed(a, b));
            }
        }
        if let Some((a, b)) = run {
            set = set.union(&closed(a, b));
        }
        self.ranges.borrow_mut().insert(key, set.clone());
        Ok(set)
    }
}

fn closed(a: &Version, b: &Version) -> VS {
    VS::from_range_bounds((Bound::Included(a.clone()), Bound::Included(b.clone())))
}

impl DependencyProvider for Provider<'_> {
    type P = String;
    type V = Version;
    type VS = VS;
    type M = String;
    type Err = ClientError;
    type Priority = (u32, Reverse<usize>);

    fn prioritize(
        &self,
        package: &String,
        range: &VS,
        stats: &PackageResolutionStatistics,
    ) -> Self::Priority {
        // Packages in conflicts first, then the most constrained ones.
        let count = match self.known.borrow().get(package) {
            Some(k) => k.versions.iter().filter(|(v, _)| range.contains(v)).count(),
            None => 0,
        };
        (stats.conflict_count(), Reverse(count))
    }

    fn choose_version(&self, package: &String, range: &VS) -> ClientResult<Option<Version>> {
        if package == ROOT {
            let v = Version::new(0, 0, 0);
            return Ok(range.contains(&v).then_some(v));
        }
        let known = self.known(package)?;
        if let Some(v) = self
            .preferred
            .get(package)
            .and_then(|v| Version::parse(v).ok())
        {
            if range.contains(&v) && known.line(&v).is_some() {
                return Ok(Some(v));
            }
        }
        Ok(known
            .versions
            .iter()
            .rev()
            .find(|(v, i)| !known.lines[*i].yanked && range.contains(v))
            .map(|(v, _)| v.clone()))
    }

    fn get_dependencies(
        &self,
        package: &String,
        version: &Version,
    ) -> ClientResult<Dependencies<String, VS, String>> {
        let mut deps = Map::default();
        if package == ROOT {
            for (name, req) in &self.root {
                deps.insert(name.clone(), self.range(name, &req.to_string(), req)?);
            }
            return Ok(Dependencies::Available(deps));
        }
        let known = self.known(package)?;
        let Some(line) = known.line(version) else {
            return Ok(Dependencies::Unavailable(format!(
                "version {version} is not in the index"
            )));
        };
        for d in &line.deps {
            let Ok(req) = VersionReq::parse(&d.req) else {
                return Ok(Dependencies::Unavailable(format!(
                    "its requirement \"{}\" on {} is unreadable",
                    d.req, d.name
                )));
            };
            deps.insert(d.name.clone(), self.range(&d.name, &d.req, &req)?);
        }
        Ok(Dependencies::Available(deps))
    }
}

/// Resolves `root` (the project's dependencies) to one index line per
/// package of the graph. `preferred` (from the previous lockfile: name →
/// version) is kept where it still fits, yanked or not.
pub fn resolve(
    root: &[Dependency],
    preferred: &BTreeMap<String, String>,
    source: &dyn IndexSource,
) -> ClientResult<BTreeMap<String, IndexLine>> {
    let provider = Provider {
        source,
        root: root
            .iter()
            .map(|d| (d.full_name(), d.req.clone()))
            .collect(),
        preferred,
        known: RefCell::default(),
        ranges: RefCell::default(),
    };
    let solution = match pubgrub::resolve(&provider, ROOT.to_string(), Version::new(0, 0, 0)) {
        Ok(s) => s,
        Err(PubGrubError::NoSolution(tree)) => {
            let words = Words {
                provider: &provider,
            };
            let text = DefaultStringReporter::report_with_formatter(&tree, &words);
            return Err(ClientError::NoSolution { explanation: text });
        }
        Err(PubGrubError::ErrorRetrievingDependencies { source, .. })
        | Err(PubGrubError::ErrorChoosingVersion { source, .. }) => return Err(source),
        Err(PubGrubError::ErrorInShouldCancel(e)) => return Err(e),
    };
    let mut out = BTreeMap::new();
    for (name, version) in solution {
        if name == ROOT {
            continue;
        }
        let known = provider.known(&name)?;
        let line = known
            .line(&version)
            .expect("the resolver picks only known versions");
        out.insert(name, line.clone());
    }
    Ok(out)
}

/// Turns PubGrub's derivation tree into sentences about requirements as
/// people wrote them ("kassel/antrag 1.0.0 requires fim/anschrift ^1").
struct Words<'a, 'b> {
    provider: &'a Provider<'b>,
}

impl Words<'_, '_> {
    fn versions_in(&self, package: &str, set: &VS) -> (Vec<Version>, usize) {
        match self.provider.known.borrow().get(package) {
            Some(k) => (
                k.versions
                    .iter()
                    .filter(|(v, _)| set.contains(v))
                    .map(|(v, _)| v.clone())
                    .collect(),
                k.versions.len(),
            ),
            None => (Vec::new(), 0),
        }
    }

    /// A set of versions of `package`, as the requirement it came from if
    /// there is one, else as the versions it holds.
    fn set(&self, package: &str, set: &VS) -> String {
        if let Some(((_, req), _)) = self
            .provider
            .ranges
            .borrow()
            .iter()
            .find(|((p, _), s)| p == package && *s == set)
        {
            return req.clone();
        }
        self.versions(package, set)
    }

    /// A set of versions of `package`, as the published versions it holds.
    fn versions(&self, package: &str, set: &VS) -> String {
        let (inside, all) = self.versions_in(package, set);
        match inside.as_slice() {
            _ if set == &VS::full() => "(any version)".into(),
            [] => set.to_string(),
            [one] => one.to_string(),
            many if many.len() == all => "(any version)".into(),
            many if many.len() <= 4 => many
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", "),
            many => format!(
                "{} to {} ({} versions)",
                many[0],
                many[many.len() - 1],
                many.len()
            ),
        }
    }

    fn who(&self, package: &str, set: &VS) -> String {
        if package == ROOT {
            ROOT.to_string()
        } else {
            match self.versions(package, set).as_str() {
                "(any version)" => format!("every version of {package}"),
                v => format!("{package} {v}"),
            }
        }
    }

    fn requires(&self, p: &str, sp: &VS, d: &str, sd: &VS) -> String {
        let mut s = format!("{} requires {d} {}", self.who(p, sp), self.set(d, sd));
        match self.provider.known.borrow().get(d) {
            Some(k) if !k.exists => s.push_str(", which does not exist in the registry"),
            Some(_) if sd.is_empty() => s.push_str(", which no published version matches"),
            _ => {}
        }
        s
    }
}

impl ReportFormatter<String, VS, String> for Words<'_, '_> {
    type Output = String;

    fn format_external(&self, external: &External<String, VS, String>) -> String {
        match external {
            External::NotRoot(..) => format!("we are resolving {ROOT}"),
            External::NoVersions(p, set) => {
                let known = self.provider.known.borrow().get(p).cloned();
                match known {
                    Some(k) if !k.exists => format!("{p} does not exist in the registry"),
                    Some(k) => {
                        let yanked: Vec<String> = k
                            .versions
                            .iter()
                            .filter(|(v, i)| set.contains(v) && k.lines[*i].yanked)
                            .map(|(v, _)| v.to_string())
                            .collect();
                        let mut s =
                            format!("no usable version of {p} matches {}", self.set(p, set));
                        if !yanked.is_empty() {
                            s.push_str(&format!(
                                " ({} matching but yanked; a yanked version is kept only when the lockfile already has it)",
                                yanked.join(", ")
                            ));
                        }
                        s
                    }
                    None => format!("no version of {p} matches {}", self.set(p, set)),
                }
            }
            External::FromDependencyOf(p, sp, d, sd) => self.requires(p, sp, d, sd),
            External::Custom(p, set, why) => format!("{} cannot be used: {why}", self.who(p, set)),
        }
    }

    fn format_terms(&self, terms: &Map<String, Term<VS>>) -> String {
        let terms: Vec<_> = terms.iter().collect();
        match terms.as_slice() {
            [] => "no set of versions meets every requirement".into(),
            [(p, Term::Positive(_))] if p.as_str() == ROOT => {
                "the requirements cannot all be met".into()
            }
            [(p, Term::Positive(r))] => format!("{} cannot be used", self.who(p, r)),
            [(p, Term::Negative(r))] => format!("{} is needed", self.who(p, r)),
            [(p1, Term::Positive(r1)), (p2, Term::Negative(r2))]
            | [(p2, Term::Negative(r2)), (p1, Term::Positive(r1))] => self.requires(p1, r1, p2, r2),
            many => {
                let parts: Vec<String> = many
                    .iter()
                    .map(|(p, t)| match t {
                        Term::Positive(r) => self.who(p, r),
                        Term::Negative(r) => format!("not {}", self.who(p, r)),
                    })
                    .collect();
                format!("{} cannot be used together", parts.join(" and "))
            }
        }
    }

    fn explain_both_external(
        &self,
        a: &External<String, VS, String>,
        b: &External<String, VS, String>,
        terms: &Map<String, Term<VS>>,
    ) -> String {
        format!(
            "Because {} and {}, {}.",
            self.format_external(a),
            self.format_external(b),
            self.format_terms(terms)
        )
    }

    fn explain_both_ref(
        &self,
        id1: usize,
        d1: &Derived<String, VS, String>,
        id2: usize,
        d2: &Derived<String, VS, String>,
        terms: &Map<String, Term<VS>>,
    ) -> String {
        format!(
            "Because {} ({id1}) and {} ({id2}), {}.",
            self.format_terms(&d1.terms),
            self.format_terms(&d2.terms),
            self.format_terms(terms)
        )
    }

    fn explain_ref_and_external(
        &self,
        id: usize,
        d: &Derived<String, VS, String>,
        e: &External<String, VS, String>,
        terms: &Map<String, Term<VS>>,
    ) -> String {
        format!(
            "Because {} ({id}) and {}, {}.",
            self.format_terms(&d.terms),
            self.format_external(e),
            self.format_terms(terms)
        )
    }

    fn and_explain_external(
        &self,
        e: &External<String, VS, String>,
        terms: &Map<String, Term<VS>>,
    ) -> String {
        format!(
            "And because {}, {}.",
            self.format_external(e),
            self.format_terms(terms)
        )
    }

    fn and_explain_ref(
        &self,
        id: usize,
        d: &Derived<String, VS, String>,
        terms: &Map<String, Term<VS>>,
    ) -> String {
        format!(
            "And because {} ({id}), {}.",
            self.format_terms(&d.terms),
            self.format_terms(terms)
        )
    }

    fn and_explain_prior_and_external(
        &self,
        prior: &External<String, VS, String>,
        e: &External<String, VS, String>,
        terms: &Map<String, Term<VS>>,
    ) -> String {
        format!(
            "And because {} and {}, {}.",
            self.format_external(prior),
            self.format_external(e),
            self.format_terms(terms)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use registry_index::IndexDependency;

    fn line(name: &str, vers: &str, deps: &[(&str, &str)], yanked: bool) -> IndexLine {
        IndexLine {
            name: name.into(),
            vers: vers.into(),
            kind: "form".into(),
            deps: deps
                .iter()
                .map(|(n, r)| IndexDependency {
                    name: n.to_string(),
                    req: r.to_string(),
                })
                .collect(),
            cksum: "ab".repeat(32),
            yanked,
            forked_from: None,
            v: 1,
        }
    }

    fn dep(n: &str, r: &str) -> Dependency {
        let (ns, name) = n.split_once('/').unwrap();
        Dependency {
            namespace: ns.into(),
            name: name.into(),
            req: VersionReq::parse(r).unwrap(),
        }
    }

    fn index() -> HashMap<String, Vec<IndexLine>> {
        let mut m = HashMap::new();
        m.insert(
            "fim/anschrift".to_string(),
            vec![
                line("fim/anschrift", "1.0.0", &[], false),
                line("fim/anschrift", "1.1.0", &[], true),
                line("fim/anschrift", "2.0.0", &[], false),
            ],
        );
        m.insert(
            "kassel/antrag".to_string(),
            vec![line(
                "kassel/antrag",
                "1.0.0",
                &[("fim/anschrift", "^1")],
                false,
            )],
        );
        m
    }

    fn versions(r: &BTreeMap<String, IndexLine>) -> Vec<String> {
        r.values()
            .map(|l| format!("{}@{}", l.name, l.vers))
            .collect()
    }

    #[test]
    fn highest_non_yanked_unless_locked() {
        let idx = index();
        let r = resolve(&[dep("kassel/antrag", "^1")], &BTreeMap::new(), &idx).unwrap();
        assert_eq!(versions(&r), ["fim/anschrift@1.0.0", "kassel/antrag@1.0.0"]);
        let locked = [("fim/anschrift".to_string(), "1.1.0".to_string())].into();
        let r = resolve(&[dep("kassel/antrag", "^1")], &locked, &idx).unwrap();
        assert_eq!(versions(&r), ["fim/anschrift@1.1.0", "kassel/antrag@1.0.0"]);
    }

    #[test]
    fn conflicts_are_explained_in_words() {
        let idx = index();
        let err = resolve(
            &[dep("kassel/antrag", "^1"), dep("fim/anschrift", "^2")],
            &BTreeMap::new(),
            &idx,
        )
        .unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("kassel/antrag 1.0.0 requires fim/anschrift ^1"),
            "{text}"
        );
        assert!(
            text.contains("your gemeinwerk.toml requires fim/anschrift ^2"),
            "{text}"
        );
        let err = resolve(&[dep("fim/nichts", "^1")], &BTreeMap::new(), &idx).unwrap_err();
        assert!(err.to_string().contains("fim/nichts"), "{err}");
        let err = resolve(&[dep("fim/anschrift", "=1.1.0")], &BTreeMap::new(), &idx).unwrap_err();
        assert!(err.to_string().contains("yanked"), "{err}");
    }
}
