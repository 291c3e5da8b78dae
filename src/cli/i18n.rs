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
        let used: Vec<&str> = source
            .match_indices("tr!(\"")
            .filter(|(at, _)| !source[..*at].ends_with(|c: char| c.is_alphanumeric() || c == '_'))
            .map(|(at, m)| source[at + m.len()..].split('"').next().unwrap())
            .collect();
        let known = ids(EN);
        for id in &known {
            if id.starts_with("cmd-") || id.starts_with("arg-") {
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
