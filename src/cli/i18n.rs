//! The command line's messages in German or English: one Fluent catalogue
//! per language (`i18n/de.ftl`, `i18n/en.ftl`), chosen by the locale as
//! gettext does (`LC_ALL`, then `LC_MESSAGES`, then `LANG`). Server error
//! codes (`[version_exists]`) are printed as they are in both languages,
//! so scripts and searches for them keep working.

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
    let resource = FluentResource::try_new(text.to_string()).expect("the catalogue parses");
    bundle
        .add_resource(resource)
        .expect("no id twice in a catalogue");
    bundle
}

thread_local! {
    static BUNDLE: FluentBundle<FluentResource> = bundle(german());
}

/// The message `id` with its arguments, in the user's language.
pub fn tr(id: &str, args: &[(&str, FluentValue<'_>)]) -> String {
    BUNDLE.with(|bundle| format(bundle, id, args))
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

/// `tr!("id")` or `tr!("id", name = value, …)`.
#[macro_export]
macro_rules! tr {
    ($id:literal $(, $name:ident = $value:expr)* $(,)?) => {
        $crate::cli::i18n::tr($id, &[$((stringify!($name), fluent_bundle::FluentValue::from($value))),*])
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(text: &str) -> Vec<String> {
        let mut ids: Vec<String> = text
            .lines()
            .filter(|l| !l.starts_with([' ', '#']) && l.contains(" = "))
            .map(|l| l.split(" = ").next().unwrap().to_string())
            .collect();
        ids.sort();
        ids
    }

    #[test]
    fn both_catalogues_have_the_same_messages() {
        assert_eq!(ids(DE), ids(EN));
        // Both parse, with no id twice.
        bundle(true);
        bundle(false);
    }

    #[test]
    fn every_message_is_used() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/cli");
        let mut source = String::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "rs") && !path.ends_with("i18n.rs") {
                source.push_str(&std::fs::read_to_string(path).unwrap());
            }
        }
        // rustfmt may break a call after `tr!(`.
        source.retain(|c| !c.is_whitespace());
        for id in ids(EN) {
            assert!(
                source.contains(&format!("tr!(\"{id}\"")),
                "{id} is not used"
            );
        }
    }

    #[test]
    fn plural_forms() {
        let de = bundle(true);
        let n = |c: u64| [("count", FluentValue::from(c))];
        assert_eq!(format(&de, "info-downloads", &n(1)), "1 Download");
        assert_eq!(format(&de, "info-downloads", &n(2)), "2 Downloads");
        let en = bundle(false);
        assert_eq!(format(&en, "info-downloads", &n(1)), "1 download");
    }
}
