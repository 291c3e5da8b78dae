//! The command line's messages in German or English: one Fluent catalogue
//! per language (`i18n/de.ftl`, `i18n/en.ftl`), chosen by the locale as
//! gettext does (`LC_ALL`, then `LC_MESSAGES`, then `LANG`). Server error
//! codes (`[version_exists]`) are printed as they are in both languages,
//! so scripts and searches for them keep working.
//!
//! Numbers in German messages are written the German way ("1.234",
//! "1,5 MB"); English ones stay as Rust prints them, so that English
//! output reads as it always did.

use fluent_bundle::types::{FluentNumber, FluentNumberOptions};
use fluent_bundle::{FluentArgs, FluentBundle, FluentResource, FluentValue};
use gemeinwerk_package::diagnostics::{Phrase, Severity};
use gemeinwerk_package::diff::{german, Change};
use gemeinwerk_package::Diagnostic;

pub const DE: &str = include_str!("i18n/de.ftl");
pub const EN: &str = include_str!("i18n/en.ftl");

/// German when the first locale variable that is set starts with `de`.
pub fn german() -> bool {
    ["LC_ALL", "LC_MESSAGES", "LANG"]
        .iter()
        .filter_map(|var| std::env::var(var).ok())
        .find(|value| !value.is_empty())
        .is_some_and(|value| value.starts_with("de"))
}

fn bundle(german: bool) -> FluentBundle<FluentResource> {
    let (lang, text) = if german { ("de", DE) } else { ("en", EN) };
    let lang = lang.parse().expect("a valid language id");
    let mut bundle = FluentBundle::new(vec![lang]);
    // Terminals show the isolation marks around arguments as junk.
    bundle.set_use_isolating(false);
    if german {
        bundle.set_formatter(Some(german_number));
    }
    let resource = FluentResource::try_new(text.to_string()).expect("the catalogue parses");
    bundle
        .add_resource(resource)
        .expect("no id twice in a catalogue");
    bundle
}

/// fluent-bundle formats numbers without regard to the language: "1234.5"
/// for German too.
fn german_number<M>(value: &FluentValue, _: &M) -> Option<String> {
    match value {
        FluentValue::Number(n) => Some(german_digits(&n.as_string())),
        _ => None,
    }
}

/// "1234567.5" as "1.234.567,5", as the web UI writes numbers.
fn german_digits(plain: &str) -> String {
    let (sign, unsigned) = match plain.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", plain),
    };
    let (int, frac) = match unsigned.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (unsigned, None),
    };
    let mut out = String::from(sign);
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push('.');
        }
        out.push(c);
    }
    if let Some(frac) = frac {
        out.push(',');
        out.push_str(frac);
    }
    out
}

thread_local! {
    static BUNDLE: std::cell::RefCell<FluentBundle<FluentResource>> =
        std::cell::RefCell::new(bundle(german()));
}

/// The message `id` with its arguments, in the user's language.
pub fn tr(id: &str, args: &[(&str, FluentValue<'_>)]) -> String {
    BUNDLE.with(|bundle| format(&bundle.borrow(), id, args))
}

/// The message `id` (no arguments) if the catalogue has it: for ids made
/// at run time, such as the help text of a command.
pub fn lookup(id: &str) -> Option<String> {
    BUNDLE.with(|bundle| {
        let bundle = bundle.borrow();
        bundle.has_message(id).then(|| format(&bundle, id, &[]))
    })
}

/// Whether this thread's messages are German.
pub fn is_german() -> bool {
    BUNDLE.with(|bundle| is_german_bundle(&bundle.borrow()))
}

/// The catalogue id of a diagnostic code: `diag-manifest-invalid-name`
/// for `manifest.invalid_name`.
pub fn diagnostic_id(code: &str) -> String {
    format!("diag-{}", code.replace(['.', '_'], "-"))
}

/// A diagnostic's message from the catalogue entry of its code and its
/// args; `None` when the catalogue has no entry or the args do not fit it.
fn diagnostic_message(bundle: &FluentBundle<FluentResource>, d: &Diagnostic) -> Option<String> {
    let pattern = bundle.get_message(&diagnostic_id(&d.code))?.value()?;
    let mut args = FluentArgs::new();
    for (name, value) in &d.args {
        args.set(name.as_str(), value.as_str());
    }
    // What our own parsers found is said from the cause's id and values.
    if let Some(detail) = d
        .cause
        .as_ref()
        .and_then(|c| phrase_text(bundle, "cause", c))
    {
        args.set("detail", detail);
    }
    // The changes that need a larger bump come as the diff's records too,
    // so that each is said in German as `gemeinwerk diff` says it.
    if is_german_bundle(bundle) {
        if let Some(changes) = d
            .args
            .get("change_list")
            .and_then(|json| serde_json::from_str::<Vec<Change>>(json).ok())
        {
            let listed: String = changes
                .iter()
                .map(|c| format!("\n  {}", german::line(c)))
                .collect();
            args.set("changes", listed);
        }
    }
    let mut errors = Vec::new();
    let text = bundle.format_pattern(pattern, Some(&args), &mut errors);
    errors.is_empty().then(|| text.into_owned())
}

/// What one of our parsers found, in this thread's language.
pub fn cause(c: &Phrase) -> String {
    BUNDLE
        .with(|bundle| phrase_text(&bundle.borrow(), "cause", c))
        .unwrap_or_else(|| c.english.clone())
}

fn is_german_bundle(bundle: &FluentBundle<FluentResource>) -> bool {
    bundle
        .locales
        .first()
        .is_some_and(|l| l.language.as_str() == "de")
}

/// A diagnostic for people: in English as the check wrote it; in German
/// from its code and args, the English message where the catalogue has
/// nothing for it. The code stays as it is in both, for scripts.
pub fn diagnostic(d: &Diagnostic) -> String {
    if !is_german() {
        return d.to_string();
    }
    let message = BUNDLE
        .with(|bundle| diagnostic_message(&bundle.borrow(), d))
        .unwrap_or_else(|| d.message.clone());
    let place = match d.line {
        0 => d.file.clone(),
        line => format!("{}:{line}:{}", d.file, d.column),
    };
    let severity = match d.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    let mut text = crate::tr!(
        "diagnostic",
        place = place,
        severity = severity,
        code = d.code.as_str(),
        message = message
    );
    let suggestion = d
        .hint
        .as_ref()
        .and_then(|h| BUNDLE.with(|bundle| phrase_text(&bundle.borrow(), "hint", h)))
        .or_else(|| d.suggestion.clone());
    if let Some(s) = suggestion {
        text.push_str(" — ");
        text.push_str(&s);
    }
    text
}

/// A suggestion from the catalogue entry `hint-<id>`, a parser's account
/// of a problem from `cause-<id>` (`prefix`), with its args; `None` when
/// the catalogue has no entry or the args do not fit it.
fn phrase_text(
    bundle: &FluentBundle<FluentResource>,
    prefix: &str,
    phrase: &Phrase,
) -> Option<String> {
    let pattern = bundle
        .get_message(&format!("{prefix}-{}", phrase.id))?
        .value()?;
    let mut args = FluentArgs::new();
    for (name, value) in &phrase.args {
        args.set(name.as_str(), value.as_str());
    }
    let mut errors = Vec::new();
    let text = bundle.format_pattern(pattern, Some(&args), &mut errors);
    errors.is_empty().then(|| text.into_owned())
}

/// This thread's messages in German or English, whatever the locale: a
/// test checks one language without depending on the developer's.
#[cfg(test)]
pub fn use_language(german: bool) {
    BUNDLE.with(|b| *b.borrow_mut() = bundle(german));
}

fn format(
    bundle: &FluentBundle<FluentResource>,
    id: &str,
    args: &[(&str, FluentValue<'_>)],
) -> String {
    let Some(pattern) = bundle.get_message(id).and_then(|m| m.value()) else {
        return id.to_string();
    };
    let mut fluent_args = FluentArgs::new();
    for (name, value) in args {
        fluent_args.set(*name, value.clone());
    }
    let mut errors = Vec::new();
    bundle
        .format_pattern(pattern, Some(&fluent_args), &mut errors)
        .into_owned()
}

/// `value` with exactly `digits` decimals: "30.70", in German "30,70".
pub fn decimal(value: f64, digits: usize) -> FluentValue<'static> {
    let scale = 10f64.powi(digits as i32);
    let options = FluentNumberOptions {
        minimum_fraction_digits: Some(digits),
        maximum_fraction_digits: Some(digits),
        ..FluentNumberOptions::default()
    };
    FluentValue::Number(FluentNumber::new((value * scale).round() / scale, options))
}

/// A size for people: bytes below 1000, else kB, MB or GB with one
/// decimal ("1.5 MB", in German "1,5 MB").
pub fn size(bytes: u64) -> String {
    const UNITS: [(f64, &str); 3] = [(1e9, "GB"), (1e6, "MB"), (1e3, "kB")];
    match UNITS.iter().find(|(scale, _)| bytes as f64 >= *scale) {
        Some((scale, unit)) => crate::tr!(
            "size",
            value = decimal(bytes as f64 / scale, 1),
            unit = *unit
        ),
        None => crate::tr!("size-bytes", count = bytes),
    }
}

/// A message by its id, with named arguments: `tr!(id, name = value, …)`.
#[macro_export]
macro_rules! tr {
    ($id:literal $(, $name:ident = $value:expr)* $(,)?) => {
        $crate::cli::i18n::tr($id, &[$((stringify!($name), fluent_bundle::FluentValue::from($value))),*])
    };
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use gemeinwerk_package::diagnostics::{Hint, Subject, SubjectKind};

    pub(crate) fn ids(text: &str) -> Vec<String> {
        let mut ids: Vec<String> = text
            .lines()
            .filter(|l| !l.starts_with([' ', '#']) && l.contains(" = "))
            .map(|l| l.split(" = ").next().unwrap().to_string())
            .collect();
        ids.sort();
        ids
    }

    /// The value of message `id` in a catalogue, without arguments.
    pub(crate) fn text(german: bool, id: &str) -> Option<String> {
        let bundle = bundle(german);
        bundle.has_message(id).then(|| format(&bundle, id, &[]))
    }

    #[test]
    fn both_catalogues_have_the_same_messages() {
        assert_eq!(ids(DE), ids(EN));
        // Both parse, with no id twice.
        bundle(true);
        bundle(false);
    }

    /// Every message is used, and every use names a message. Help texts
    /// (`cmd-…`, `arg-…`) get their ids from the command's names at run
    /// time; `usage::tests` checks those both ways.
    #[test]
    fn every_message_is_used() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/cli");
        let mut source = String::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                // This file's tests name ids in format strings.
                let code = match path.ends_with("i18n.rs") {
                    true => text
                        .split("pub(crate) mod tests")
                        .next()
                        .unwrap()
                        .to_string(),
                    false => text,
                };
                source.push_str(&code);
            }
        }
        // rustfmt may break a call after `tr!(`.
        source.retain(|c| !c.is_whitespace());
        // The ids of `tr!` calls (not of `include_str!` and the like).
        let mut used: Vec<&str> = source
            .match_indices("tr!(\"")
            .filter(|(at, _)| !source[..*at].ends_with(|c: char| c.is_alphanumeric() || c == '_'))
            .map(|(at, m)| source[at + m.len()..].split('"').next().unwrap())
            .collect();
        // Messages other messages refer to (`{ subject }`).
        let reference = regex::Regex::new(r"\{ ([a-z][a-z-]*) \}").unwrap();
        used.extend(
            reference
                .captures_iter(EN)
                .map(|c| c.get(1).unwrap().as_str()),
        );
        let known = ids(EN);
        for id in &known {
            // `diag-…` ids are named by a diagnostic's code;
            // `diagnostic_ids_are_the_codes` checks those both ways.
            // `hint-…` and `cause-…` by their ids;
            // `hint_and_cause_ids_are_in_the_catalogues`.
            if ["cmd-", "arg-", "diag-", "hint-", "cause-"]
                .iter()
                .any(|prefix| id.starts_with(prefix))
            {
                continue;
            }
            assert!(used.contains(&id.as_str()), "{id} is not used");
        }
        for id in used {
            assert!(
                known.iter().any(|k| k == id),
                "tr!(\"{id}\") names no message"
            );
        }
    }

    /// The codes the package checks (and the registry's publish checks)
    /// create: the string literals shaped like `area.problem` outside the
    /// tests where a code is given: first argument of a diagnostic's
    /// constructor, a match arm's value (`fn code`), `d.code = …`.
    fn diagnostic_codes() -> std::collections::BTreeSet<String> {
        fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    walk(&path, out);
                } else if path.extension().is_some_and(|e| e == "rs") && !path.ends_with("tests.rs")
                {
                    out.push(path);
                }
            }
        }
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = Vec::new();
        walk(&root.join("crates/package/src"), &mut files);
        // The client's own files: the lockfile and a project's manifest.
        walk(&root.join("crates/client/src"), &mut files);
        // The publish checks that need the registry's data.
        files.push(root.join("crates/server/src/registry/content.rs"));
        files.push(root.join("crates/server/src/registry/publish.rs"));
        // String literals of that shape that are no codes.
        const NOT_CODES: [&str; 1] = ["group.group"];
        let literal = regex::Regex::new(
            r#"(?:(?:error|warning|err|Problem::new)\(|=>\s*\(?|code = )\s*"([a-z]+(?:_[a-z]+)*\.[a-z0-9]+(?:_[a-z0-9]+)*)""#,
        )
        .unwrap();
        let tests = regex::Regex::new(r"#\[cfg\(test\)\]\s*(pub(\(crate\))? )?mod \w+ \{").unwrap();
        let mut codes = std::collections::BTreeSet::new();
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            let code = match tests.find(&text) {
                Some(m) => &text[..m.start()],
                None => &text,
            };
            for c in literal.captures_iter(code) {
                let c = &c[1];
                let file_name = [".toml", ".md", ".json", ".rs", ".lock", ".git", ".db"]
                    .iter()
                    .any(|ext| c.ends_with(ext));
                if !file_name && !NOT_CODES.contains(&c) {
                    codes.insert(c.to_string());
                }
            }
        }
        codes
    }

    /// Every code has its message in the catalogues, and every `diag-`
    /// message belongs to a code.
    #[test]
    fn diagnostic_ids_are_the_codes() {
        let codes = diagnostic_codes();
        assert!(codes.len() > 100, "{codes:?}");
        assert!(codes.contains("manifest.invalid_name"));
        assert!(codes.contains("dependency.not_found"));
        let ids: Vec<String> = ids(EN)
            .into_iter()
            .filter(|id| id.starts_with("diag-"))
            .collect();
        for code in &codes {
            let id = diagnostic_id(code);
            assert!(ids.contains(&id), "{code} has no message {id}");
        }
        for id in &ids {
            assert!(
                codes.iter().any(|c| diagnostic_id(c) == *id),
                "{id} belongs to no code"
            );
        }
    }

    /// The ids of the hints (`Hint::new`, `Hint::choices`) or causes
    /// (`Cause::new`) the package checks and the client give.
    fn phrase_ids(constructor: &str) -> std::collections::BTreeSet<String> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = Vec::new();
        for dir in ["crates/package/src", "crates/client/src"] {
            let mut stack = vec![root.join(dir)];
            while let Some(dir) = stack.pop() {
                for entry in std::fs::read_dir(dir).unwrap() {
                    let path = entry.unwrap().path();
                    if path.is_dir() {
                        stack.push(path);
                    } else if path.extension().is_some_and(|e| e == "rs") {
                        files.push(path);
                    }
                }
            }
        }
        let literal = regex::Regex::new(&format!(r#"{constructor}\(\s*"([a-z-]+)""#)).unwrap();
        let mut hints = std::collections::BTreeSet::new();
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            hints.extend(literal.captures_iter(&text).map(|c| c[1].to_string()));
        }
        hints
    }

    /// Every hint and cause has its wording in both catalogues, and every
    /// `hint-` and `cause-` message belongs to one.
    #[test]
    fn hint_and_cause_ids_are_in_the_catalogues() {
        for (constructor, prefix, at_least) in [
            (r"Hint::(?:new|choices)", "hint", 40),
            // `found(…)` in the condition parser makes a cause too.
            (r"(?:Cause::new|\bfound)", "cause", 30),
        ] {
            let phrases = phrase_ids(constructor);
            assert!(phrases.len() > at_least, "{phrases:?}");
            for text in [EN, DE] {
                let catalogue: Vec<String> = ids(text)
                    .into_iter()
                    .filter_map(|id| id.strip_prefix(&format!("{prefix}-")).map(str::to_string))
                    .collect();
                for id in &phrases {
                    assert!(catalogue.contains(id), "{id} has no message {prefix}-{id}");
                }
                for id in &catalogue {
                    assert!(phrases.contains(id), "{prefix}-{id} belongs to no {prefix}");
                }
            }
        }
    }

    /// Arg names are part of the registry's API (422 error entries): whole
    /// words that say what the value is, never a variable's one-letter name.
    #[test]
    fn arg_names_are_words() {
        let short = |name: &str| name.len() < 3;
        let variable = regex::Regex::new(r"\$([a-z_]+)").unwrap();
        let mut names = std::collections::BTreeSet::new();
        for text in [DE, EN] {
            let mut in_diag = false;
            for line in text.lines() {
                if !line.starts_with([' ', '#', '}']) && line.contains(" = ") {
                    in_diag = line.starts_with("diag-");
                }
                if in_diag {
                    names.extend(variable.captures_iter(line).map(|c| c[1].to_string()));
                }
            }
        }
        // The creation sites, also of codes no test package provokes.
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let site = regex::Regex::new(r#"\.(?:set_)?arg\(\s*"([a-z_]+)""#).unwrap();
        let mut files = vec![
            root.join("crates/server/src/registry/content.rs"),
            root.join("crates/server/src/registry/publish.rs"),
        ];
        let mut dirs = vec![root.join("crates/package/src")];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    files.push(path);
                }
            }
        }
        let mut sites = 0;
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            for c in site.captures_iter(&text) {
                sites += 1;
                names.insert(c[1].to_string());
            }
        }
        assert!(sites > 100, "only {sites} arg sites found");
        for d in real_diagnostics() {
            names.extend(d.args.keys().cloned());
        }
        let bad: Vec<&String> = names.iter().filter(|n| short(n)).collect();
        assert!(
            bad.is_empty(),
            "arg names too short to say what they are: {bad:?}"
        );
        assert!(
            names.contains("variant") && names.contains("package"),
            "{names:?}"
        );
    }

    /// Small packages with many problems, checked for real.
    fn real_diagnostics() -> Vec<Diagnostic> {
        let package = |manifest: &str, content: Option<(&str, &str)>| {
            let mut files = gemeinwerk_package::PackageFiles::new();
            files.insert("gemeinwerk.toml".into(), manifest.as_bytes().to_vec());
            files.insert("README.md".into(), b"# x\n".to_vec());
            if let Some((name, text)) = content {
                files.insert(name.into(), text.as_bytes().to_vec());
            }
            match gemeinwerk_package::check_package(&files) {
                Ok((_, found)) | Err(found) => found,
            }
        };
        const MANIFEST: &str = "[package]\nname = \"kassel/probe\"\nversion = \"1.0.0\"\nkind = \"KIND\"\ntitle = \"Probe\"\ndescription = \"Ein Paket zum Prüfen der Meldungen.\"\nlicense = \"EUPL-1.2\"\nthemenfeld = \"mobilitaet_reisen\"\n";
        let mut found = Vec::new();
        found.extend(package(
            "[package]\nname = \"Kassel/Bad Name\"\nversion = \"1.0\"\nkind = \"formular\"\ndescription = \"\"\nlicense = \"not a license(\"\nthemenfeld = \"nirgendwo\"\nleika = \"123\"\nkeywords = [\"\", \"a\", \"b\", \"c\", \"d\", \"e\", \"f\", \"g\", \"h\", \"i\", \"j\", \"k\"]\nhomepage = \"ftp://kassel.de\"\nrepository = \"kein link\"\n\n[dependencies]\n\"kassel/Bad Name\" = \"nope\"\n",
            None,
        ));
        found.extend(package(
            &MANIFEST.replace("KIND", "form"),
            Some(("form.toml", FORM)),
        ));
        found.extend(package(
            &MANIFEST.replace("KIND", "process"),
            Some(("process.toml", PROCESS)),
        ));
        found.extend(package(
            &MANIFEST.replace("KIND", "form"),
            Some(("form.toml", "[form\n")),
        ));
        // A lockfile with every problem it can have.
        found.extend(
            gemeinwerk_client::lockfile::parse_lockfile(
                "version = 2\n\n[requires]\n\"Kassel/a\" = \"^^1\"\n\"kassel/b\" = \"^1\"\n\n\
                 [[package]]\nname = \"kassel/c\"\nversion = \"1\"\ncksum = \"xyz\"\nregistry = \"ftp://x\"\ndependencies = [\"kassel/d\"]\n\n\
                 [[package]]\nname = \"kassel/c\"\nversion = \"1.0.0\"\ncksum = \"xyz\"\nregistry = \"http://x\"\ndependencies = []\n\n\
                 [[package]]\nname = \"-x/c\"\nversion = \"1.0.0\"\ncksum = \"xyz\"\nregistry = \"http://x\"\ndependencies = []\n",
            )
            .unwrap_err(),
        );
        // Conditions are type-checked only in an otherwise sound form.
        found.extend(package(
            &MANIFEST.replace("KIND", "form"),
            Some((
                "form.toml",
                "[form]\ntitle = \"Probe\"\nvertrauensniveau = \"niedrig\"\naccounts = [\"BundID\"]\n\n[[field]]\nid = \"anlage\"\ntype = \"file\"\nlabel = \"Anlage\"\nmedia-types = [\"application/pdf\"]\n\n[[field]]\nid = \"wahl\"\ntype = \"text\"\nlabel = \"Wahl\"\nshown-when = \"!anlage\"\n",
            )),
        ));
        found
    }

    const FORM: &str = r#"[form]
title = "Probe"
vertrauensniveau = "mittel"
accounts = ["BundID", "BundID", "Brieftaube"]
ableitungsmodifikation = "alle"

[codelist.zone]
label = "Zonen"
codes = [{ code = "A", label = "A" }, { code = "A", label = "B" }, { code = "", label = "C" }]

[codelist.leer]
label = "leer"
version = "1"
codes = []

[[field]]
id = "Name"
type = "texte"
label = "Name"
fim-id = "G60000000243"

[[field]]
id = "alter"
type = "integer"
label = "Alter"
min = 10
max = 2
pattern = "("
required = true
required-when = "alter > 3"

[[field]]
id = "anlage"
type = "file"
label = "Anlage"
required = "ja"
max-size = "zehn"
shown-when = "alter = 3"

[[field]]
id = "alter"
type = "text"
label = ""
min-length = 5
max-length = 2
examples = ["x"]
visible-when = "unbekannt == 1"
colour = "rot"

[[field]]
id = "wahl"
type = "select"
label = "Wahl"
codelist = "fehlt"

[[field]]
id = "hinweis"
type = "static-text"
label = "Hin\u0007weis"
required = true

[[group]]
id = "leer"
label = "Leer"
required = true
occurs = "viele"
"#;

    const PROCESS: &str = r#"[process]
title = "Probe"

[[state]]
id = "eingang"
label = "Eingang"
start = true

[[state]]
id = "eingang"
label = "Doppelt"

[[state]]
id = "zweiter"
start = true

[[state]]
id = "fertig"
label = "Fertig"
end = "vielleicht"

[[transition]]
id = "weiter"
from = "eingang"
to = "nirgends"
role = "niemand"
action = "zaubern"

[[fee]]
id = "gebuehr"
label = "Gebühr"
amount = "viel"
on = "keiner"
"#;

    /// The English catalogue says each real diagnostic exactly as the
    /// check words it, so the two cannot drift apart.
    #[test]
    fn english_catalogue_says_what_the_checks_say() {
        let found = real_diagnostics();
        let codes: std::collections::BTreeSet<&str> =
            found.iter().map(|d| d.code.as_str()).collect();
        assert!(codes.len() >= 25, "only {} codes: {codes:?}", codes.len());
        // Messages that word their subject from kind/name or text_kind.
        for code in [
            "toml.unknown_key",
            "toml.wrong_type",
            "model.invalid_id",
            "text.control_character",
            "expr.type_mismatch",
            "fim.wrong_kind",
            "manifest.invalid_url",
            "manifest.invalid_name",
            "manifest.invalid_version",
            "lock.unknown_version",
            "lock.invalid_name",
            "lock.invalid_requirement",
            "lock.duplicate_package",
            "lock.invalid_version",
            "lock.invalid_cksum",
            "lock.invalid_registry",
            "lock.incomplete",
        ] {
            assert!(codes.contains(code), "{code} not among {codes:?}");
        }
        let en = bundle(false);
        let de = bundle(true);
        for d in &found {
            assert_eq!(
                diagnostic_message(&en, d).as_deref(),
                Some(d.message.as_str()),
                "{d:?}"
            );
            let german = diagnostic_message(&de, d).unwrap_or_else(|| panic!("{d:?}"));
            assert_ne!(german, d.message, "{d:?}");
        }
        // Every suggestion too: the English catalogue says it as the
        // check does, the German one in German (a snippet stays TOML).
        let with_hint: Vec<&Diagnostic> = found.iter().filter(|d| d.hint.is_some()).collect();
        assert!(with_hint.len() >= 15, "only {} hints", with_hint.len());
        for d in with_hint {
            let hint = d.hint.as_ref().unwrap();
            assert_eq!(phrase_text(&en, "hint", hint), d.suggestion, "{d:?}");
            let german = phrase_text(&de, "hint", hint).unwrap_or_else(|| panic!("{d:?}"));
            if hint.id != "snippet" {
                assert_ne!(Some(&german), d.suggestion.as_ref(), "{d:?}");
            }
        }
        // And what our own parsers found.
        let with_cause: Vec<&Diagnostic> = found.iter().filter(|d| d.cause.is_some()).collect();
        assert!(with_cause.len() >= 4, "only {} causes", with_cause.len());
        for d in with_cause {
            let cause = d.cause.as_ref().unwrap();
            assert_eq!(
                phrase_text(&en, "cause", cause).as_ref(),
                d.args.get("detail"),
                "{d:?}"
            );
            let german = phrase_text(&de, "cause", cause).unwrap_or_else(|| panic!("{d:?}"));
            assert_ne!(Some(&german), d.args.get("detail"), "{d:?}");
        }
        // Subjects and types are worded in German, not passed through.
        let german = |code: &str| {
            let d = found.iter().find(|d| d.code == code).unwrap();
            diagnostic_message(&de, d).unwrap()
        };
        assert_eq!(
            german("toml.wrong_type"),
            "\"required\" von dem Feld \"anlage\" muss true oder false sein, nicht eine Zeichenkette"
        );
        assert_eq!(
            german("expr.type_mismatch"),
            "shown-when von \"wahl\": \"&&\", \"||\" und \"!\" brauchen wahr/falsch, \"anlage\" ist aber eine Datei"
        );
        assert_eq!(
            german("text.control_character"),
            "die Beschriftung \"label\" enthält das Steuerzeichen U+0007; erlaubt sind nur Zeilenumbrüche und Tabulatoren"
        );
    }

    #[test]
    fn a_diagnostic_in_both_languages() {
        let d = Diagnostic::warning(
            "model.missing_label",
            "form.toml",
            "field \"a\" has no label",
        )
        .subject(&Subject::new(SubjectKind::Field, "a"))
        .with_suggestion(Hint::snippet("label = \"…\""));
        let d = Diagnostic {
            line: 3,
            column: 1,
            ..d
        };
        use_language(false);
        assert_eq!(diagnostic(&d), d.to_string());
        use_language(true);
        assert_eq!(
            diagnostic(&d),
            "form.toml:3:1: Warnung[model.missing_label]: das Feld \"a\" hat keine Beschriftung (label) — label = \"…\""
        );
        // No entry for the code: the English message, in the German frame.
        let odd = Diagnostic::error("odd.code", "x.toml", "something odd");
        assert_eq!(diagnostic(&odd), "x.toml: Fehler[odd.code]: something odd");
    }

    /// A conflict left open and the changes that need a larger bump are
    /// said in German too, from the diagnostics the checks make.
    #[test]
    fn conflicts_and_changes_in_german() {
        use gemeinwerk_package::diff::{Area, ChangeKind, Diff, Level};
        use gemeinwerk_package::merge::{self, Conflict, ConflictKind, MergeInfo};
        let about = MergeInfo {
            upstream: "kassel/antrag".into(),
            base: "1.0.0".into(),
            theirs: "1.1.0".into(),
        };
        let conflict = Conflict {
            path: "field:zone/label".into(),
            file: "form.toml".into(),
            kind: ConflictKind::Value,
            base: Some("\"Zone\"".into()),
            ours: None,
            theirs: Some("\"Parkzone\"".into()),
        };
        let mut files = gemeinwerk_package::PackageFiles::new();
        files.insert(
            merge::MERGE_FILE.into(),
            merge::write_merge_file(&about, &[conflict]).into_bytes(),
        );
        let found = merge::check_no_open_conflicts(&files);
        assert_eq!(found.len(), 1, "{found:?}");
        use_language(false);
        assert_eq!(diagnostic(&found[0]), found[0].to_string());
        use_language(true);
        assert_eq!(
            diagnostic(&found[0]),
            "gemeinwerk-merge.toml: Fehler[merge.open_conflict]: die Zusammenführung hat einen Konflikt offen gelassen: \
             field:zone/label (form.toml): Basis \"Zone\", hier (gelöscht), Upstream \"Parkzone\" \
             — gemeinwerk upstream resolve field:zone/label --ours (oder --theirs), oder bearbeiten Sie form.toml und löschen Sie den Eintrag"
        );

        let change = Change {
            area: Area::Field,
            path: "kennzeichen".into(),
            kind: ChangeKind::Removed,
            property: None,
            old: None,
            new: None,
            level: Level::Major,
            reason: "fields that used it lose their values".into(),
        };
        let diff = Diff {
            changes: vec![change],
        };
        let old = semver::Version::new(1, 0, 0);
        let new = semver::Version::new(1, 1, 0);
        let d = gemeinwerk_package::semver_check::check(&old, &new, &diff)
            .unwrap_err()
            .to_diagnostic();
        use_language(false);
        assert_eq!(diagnostic(&d), d.to_string());
        use_language(true);
        let german = diagnostic(&d);
        assert!(
            german.contains("\n  größer Feld kennzeichen: entfernt (Felder, die sie nutzten, verlieren ihre Werte)"),
            "{german}"
        );
        assert!(!german.contains("removed"), "{german}");
        assert!(german.ends_with("— version = \"2.0.0\""), "{german}");
    }

    #[test]
    fn plural_forms() {
        let de = bundle(true);
        let n = |c: u64| [("count", FluentValue::from(c))];
        assert_eq!(format(&de, "info-downloads", &n(1)), "1 Download");
        assert_eq!(format(&de, "info-downloads", &n(2)), "2 Downloads");
        assert_eq!(format(&de, "info-downloads", &n(0)), "0 Downloads");
        let en = bundle(false);
        assert_eq!(format(&en, "info-downloads", &n(1)), "1 download");
        assert_eq!(format(&en, "info-downloads", &n(2)), "2 downloads");

        let problems = |b: &FluentBundle<FluentResource>, e: u64, w: u64| {
            format(
                b,
                "problems-found",
                &[("errors", e.into()), ("warnings", w.into())],
            )
        };
        assert_eq!(problems(&de, 2, 1), "2 Fehler, 1 Warnung");
        assert_eq!(problems(&de, 1, 3), "1 Fehler, 3 Warnungen");
        assert_eq!(problems(&de, 1, 0), "1 Fehler");
        assert_eq!(problems(&en, 1, 2), "1 error, 2 warnings");
        assert_eq!(problems(&en, 2, 0), "2 errors");

        let vendored = |b: &FluentBundle<FluentResource>, c: u64| {
            format(b, "vendored", &[("count", c.into()), ("dir", "v".into())])
        };
        assert!(vendored(&de, 1).contains("1 Paket nach"));
        assert!(vendored(&de, 2).contains("2 Pakete nach"));
        assert!(vendored(&en, 1).contains("1 package into"));
    }

    #[test]
    fn german_numbers() {
        assert_eq!(german_digits("30.7"), "30,7");
        assert_eq!(german_digits("1234"), "1.234");
        assert_eq!(german_digits("123"), "123");
        assert_eq!(german_digits("1234567.25"), "1.234.567,25");
        assert_eq!(german_digits("-1000"), "-1.000");

        let de = bundle(true);
        let en = bundle(false);
        let fee = [("value", decimal(30.7, 2))];
        assert_eq!(
            format(&de, "size", &[fee[0].clone(), ("unit", "€".into())]),
            "30,70 €"
        );
        assert_eq!(
            format(&en, "size", &[fee[0].clone(), ("unit", "€".into())]),
            "30.70 €"
        );
        let count = [("count", FluentValue::from(1234u64))];
        assert_eq!(format(&de, "info-downloads", &count), "1.234 Downloads");
        assert_eq!(format(&en, "info-downloads", &count), "1234 downloads");
        let mb = [("value", decimal(1.5, 1)), ("unit", "MB".into())];
        assert_eq!(format(&de, "size", &mb), "1,5 MB");
        assert_eq!(format(&en, "size", &mb), "1.5 MB");
        let one = [("count", FluentValue::from(1u64))];
        assert_eq!(format(&de, "size-bytes", &one), "1 Byte");
        assert_eq!(format(&en, "size-bytes", &one), "1 byte");
    }
}
