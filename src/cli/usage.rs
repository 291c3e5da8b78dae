//! clap's help and usage errors from the catalogue, so that `--help` and a
//! mistyped flag speak the user's language too: the about text of every
//! command (`cmd-PATH`), the help of every argument, and clap's own words
//! (headings, `--help`, `[default: …]`, the usage errors). PATH is the
//! command's names below the top joined by `-` (`admin-token-create`); the
//! top itself is `cmd-gemeinwerk`. An argument's help is `arg-PATH-ARG`,
//! or, where it reads the same in a group of commands, the entry of their
//! common parent (`arg-upstream-dir` for every `upstream` command) or of
//! all (`arg-registry`): one text, not one copy per command.

use clap::builder::{StyledStr, Styles};
use clap::error::{ContextKind, ContextValue, Error, ErrorFormatter, ErrorKind};
use clap::{Arg, ArgAction, Command};

use super::i18n::lookup;
use crate::tr;

/// The command line definition with its texts from the catalogue, built.
pub fn command(cmd: Command) -> Command {
    let mut cmd = localize(cmd, Vec::new());
    cmd.build();
    // clap adds its `help` subcommands while building, with an English
    // about text.
    help_commands(&mut cmd);
    cmd
}

/// The id of a command's about text; `path` is its names below the top.
fn command_id(path: &[String]) -> String {
    match path.is_empty() {
        true => "cmd-gemeinwerk".to_string(),
        false => format!("cmd-{}", path.join("-")),
    }
}

/// The ids an argument's help may have, the most specific first.
fn arg_ids(path: &[String], arg: &Arg) -> Vec<String> {
    let name = arg.get_id().as_str().replace('_', "-");
    (0..=path.len())
        .rev()
        .map(|n| {
            let mut parts = path[..n].to_vec();
            parts.push(name.clone());
            format!("arg-{}", parts.join("-"))
        })
        .collect()
}

fn localize(cmd: Command, path: Vec<String>) -> Command {
    let mut cmd = cmd;
    if let Some(about) = lookup(&command_id(&path)) {
        cmd = cmd.about(about).long_about(None);
    }
    cmd = cmd
        .mut_args(|arg| localize_arg(arg, &path))
        .mut_subcommands(|sc| {
            let mut below = path.clone();
            below.push(sc.get_name().to_string());
            localize(sc, below)
        });
    let template = template(&cmd);
    cmd = cmd
        .help_template(template)
        .subcommand_value_name(tr!("command-placeholder"))
        .disable_help_flag(true)
        .arg(
            Arg::new("help")
                .short('h')
                .long("help")
                .action(ArgAction::Help)
                .help(tr!("help-flag")),
        );
    if cmd.get_version().is_some() {
        cmd = cmd.disable_version_flag(true).arg(
            Arg::new("version")
                .short('V')
                .long("version")
                .action(ArgAction::Version)
                .help(tr!("version-flag")),
        );
    }
    cmd
}

fn localize_arg(arg: Arg, path: &[String]) -> Arg {
    let Some(mut help) = arg_ids(path, &arg).iter().find_map(|id| lookup(id)) else {
        return arg;
    };
    let mut arg = arg;
    // clap writes these notes in English; they are written here instead.
    if arg.get_action().takes_values() {
        if let Some(env) = arg.get_env().filter(|_| !arg.is_hide_env_set()) {
            help = format!(
                "{help} {}",
                tr!("help-env", name = env.to_string_lossy().into_owned())
            );
            arg = arg.hide_env(true);
        }
        let defaults: Vec<String> = arg
            .get_default_values()
            .iter()
            .map(|v| v.to_string_lossy().into_owned())
            .collect();
        if !defaults.is_empty() && !arg.is_hide_default_value_set() {
            help = format!("{help} {}", tr!("help-default", value = defaults.join(" ")));
            arg = arg.hide_default_value(true);
        }
        let values: Vec<String> = arg
            .get_possible_values()
            .iter()
            .filter(|v| !v.is_hide_set())
            .map(|v| v.get_name().to_string())
            .collect();
        if !values.is_empty() && !arg.is_hide_possible_values_set() {
            help = format!("{help} {}", tr!("help-values", values = values.join(", ")));
            arg = arg.hide_possible_values(true);
        }
    }
    arg.help(help).long_help(None)
}

/// clap's help layout with the headings from the catalogue.
fn template(cmd: &Command) -> StyledStr {
    let styles = cmd.get_styles();
    let usage = styles.get_usage();
    let header = styles.get_header();
    let mut t = format!(
        "{{before-help}}{{about-with-newline}}\n{usage}{}:{usage:#} {{usage}}",
        tr!("usage-heading")
    );
    let mut section = |heading: String, tag: &str| {
        t.push_str(&format!("\n\n{header}{heading}:{header:#}\n{{{tag}}}"));
    };
    if cmd.has_subcommands() {
        section(tr!("commands-heading"), "subcommands");
    }
    if cmd.get_positionals().any(|a| !a.is_hide_set()) {
        section(tr!("arguments-heading"), "positionals");
    }
    section(tr!("options-heading"), "options");
    t.push_str("{after-help}");
    StyledStr::from(t)
}

fn help_commands(cmd: &mut Command) {
    for sc in cmd.get_subcommands_mut() {
        if sc.get_name() == "help" {
            *sc = std::mem::take(sc).about(tr!("help-command"));
        }
        help_commands(sc);
    }
}

/// clap's usage errors with the catalogue's words. clap gives the details
/// (the argument, the value, the suggestions) as context.
pub struct Localized;

impl ErrorFormatter for Localized {
    fn format_error(error: &Error<Self>) -> StyledStr {
        let styles = Styles::styled();
        let (bad, good) = (styles.get_error(), styles.get_valid());
        let mut out = format!("{bad}{}{bad:#}", tr!("error", message = message(error)));
        let mut suggested = false;
        for (kind, what) in [
            (ContextKind::SuggestedSubcommand, "subcommand"),
            (ContextKind::SuggestedArg, "argument"),
            (ContextKind::SuggestedValue, "value"),
        ] {
            let names = match error.get(kind) {
                Some(ContextValue::String(name)) => vec![name.clone()],
                Some(ContextValue::Strings(names)) => names.clone(),
                _ => continue,
            };
            if !suggested {
                out.push('\n');
                suggested = true;
            }
            let quoted = quoted(&names);
            let tip = if names.len() == 1 {
                tr!("clap-similar", what = what, names = quoted)
            } else {
                tr!("clap-similar-many", what = what, names = quoted)
            };
            out.push_str(&format!("\n  {good}{tip}{good:#}"));
        }
        if let Some(ContextValue::StyledStrs(tips)) = error.get(ContextKind::Suggested) {
            if !suggested {
                out.push('\n');
            }
            for tip in tips {
                out.push_str(&format!("\n  {}", tr!("clap-tip", tip = tip.to_string())));
            }
        }
        if let Some(ContextValue::StyledStr(usage)) = error.get(ContextKind::Usage) {
            let usage = usage.to_string();
            let line = usage.strip_prefix("Usage:").unwrap_or(&usage).trim_start();
            out.push_str(&format!("\n\n{}: {line}", tr!("usage-heading")));
        }
        out.push_str(&format!("\n\n{}\n", tr!("clap-more-info", help = "--help")));
        StyledStr::from(out)
    }
}

/// 'a', 'b' (in German „a“, „b“).
fn quoted(names: &[String]) -> String {
    names
        .iter()
        .map(|n| tr!("quoted", text = n.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

fn text(error: &Error<Localized>, kind: ContextKind) -> Option<String> {
    match error.get(kind)? {
        ContextValue::String(s) => Some(s.clone()),
        ContextValue::Strings(v) => Some(v.join(", ")),
        ContextValue::StyledStr(s) => Some(s.to_string()),
        ContextValue::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The error's first line, without the `error:` frame.
fn message(error: &Error<Localized>) -> String {
    let arg = || text(error, ContextKind::InvalidArg).unwrap_or_default();
    let value = || text(error, ContextKind::InvalidValue).unwrap_or_default();
    let list = |kind: ContextKind| match error.get(kind) {
        Some(ContextValue::Strings(v)) => v.clone(),
        _ => Vec::new(),
    };
    match error.kind() {
        ErrorKind::UnknownArgument => tr!("clap-unknown-argument", arg = arg()),
        ErrorKind::InvalidValue if value().is_empty() => {
            tr!("clap-value-missing", arg = arg())
        }
        ErrorKind::InvalidValue => {
            let mut m = tr!("clap-invalid-value", value = value(), arg = arg());
            let valid = list(ContextKind::ValidValue);
            if !valid.is_empty() {
                m.push_str(&format!(
                    "\n  {}",
                    tr!("help-values", values = valid.join(", "))
                ));
            }
            m
        }
        ErrorKind::ValueValidation => {
            let mut m = tr!("clap-invalid-value", value = value(), arg = arg());
            if let Some(source) = std::error::Error::source(error) {
                m.push_str(&format!(": {source}"));
            }
            m
        }
        ErrorKind::InvalidSubcommand => tr!(
            "clap-invalid-subcommand",
            name = text(error, ContextKind::InvalidSubcommand).unwrap_or_default()
        ),
        ErrorKind::MissingRequiredArgument => {
            let mut m = tr!("clap-missing-required");
            for a in list(ContextKind::InvalidArg) {
                m.push_str(&format!("\n  {a}"));
            }
            m
        }
        ErrorKind::MissingSubcommand => {
            let mut m = tr!(
                "clap-missing-subcommand",
                name = text(error, ContextKind::InvalidSubcommand).unwrap_or_default()
            );
            let valid = list(ContextKind::ValidSubcommand);
            if !valid.is_empty() {
                m.push_str(&format!(
                    "\n  {}",
                    tr!("clap-subcommands", names = valid.join(", "))
                ));
            }
            m
        }
        ErrorKind::ArgumentConflict => match error.get(ContextKind::PriorArg) {
            Some(ContextValue::String(prior)) if *prior == arg() => {
                tr!("clap-repeated", arg = arg())
            }
            Some(ContextValue::String(prior)) => {
                tr!(
                    "clap-conflict",
                    arg = arg(),
                    other = quoted(std::slice::from_ref(prior))
                )
            }
            Some(ContextValue::Strings(prior)) => {
                tr!("clap-conflict", arg = arg(), other = quoted(prior))
            }
            _ => tr!("clap-conflict-others", arg = arg()),
        },
        ErrorKind::TooManyValues => tr!("clap-too-many", value = value(), arg = arg()),
        ErrorKind::TooFewValues | ErrorKind::WrongNumberOfValues => tr!(
            "clap-wrong-number",
            arg = arg(),
            actual = text(error, ContextKind::ActualNumValues).unwrap_or_default()
        ),
        ErrorKind::NoEquals => tr!("clap-no-equals", arg = arg()),
        ErrorKind::InvalidUtf8 => tr!("clap-invalid-utf8"),
        // Help, version and I/O errors are not usage errors; clap's text.
        kind => kind.as_str().unwrap_or_default().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use clap::CommandFactory;

    use super::*;
    use crate::cli::i18n::tests::{ids, text};
    use crate::cli::i18n::EN;

    /// Every command and argument with the catalogue entry it takes its
    /// text from, and the text clap derives from its doc comment.
    fn entries() -> Vec<(String, String, Option<String>)> {
        fn walk(cmd: &Command, path: Vec<String>, out: &mut Vec<(String, String, Option<String>)>) {
            let id = command_id(&path);
            out.push((
                format!("command {id}"),
                id.clone(),
                cmd.get_about().map(ToString::to_string),
            ));
            assert!(
                cmd.get_long_about().is_none(),
                "{id}: one paragraph of doc comment, please: the catalogue has one text per command"
            );
            for arg in cmd.get_arguments().filter(|a| !a.is_hide_set()) {
                let ids = arg_ids(&path, arg);
                let id = ids
                    .iter()
                    .find(|id| text(false, id).is_some())
                    .unwrap_or(&ids[0])
                    .clone();
                assert!(arg.get_long_help().is_none(), "{id}: one paragraph, please");
                out.push((
                    format!("argument {} of {}", arg.get_id(), command_id(&path)),
                    id,
                    arg.get_help().map(ToString::to_string),
                ));
            }
            for sc in cmd.get_subcommands() {
                let mut below = path.clone();
                below.push(sc.get_name().to_string());
                walk(sc, below, out);
            }
        }
        let mut out = Vec::new();
        walk(&crate::cli::Cli::command(), Vec::new(), &mut out);
        out
    }

    /// Both ways: every command and argument has its text in both
    /// catalogues, the English one as its doc comment says, and every
    /// `cmd-`/`arg-` entry belongs to a command or argument.
    #[test]
    fn help_texts_match_the_commands() {
        let mut used = BTreeSet::new();
        for (what, id, doc) in entries() {
            let en = text(false, &id).unwrap_or_else(|| panic!("{what}: en.ftl has no {id}"));
            let de = text(true, &id).unwrap_or_else(|| panic!("{what}: de.ftl has no {id}"));
            let doc = doc.unwrap_or_else(|| panic!("{what} has no doc comment"));
            assert_eq!(en, doc, "{what}: {id} in en.ftl and the doc comment differ");
            assert_ne!(de, en, "{what}: {id} is not translated");
            used.insert(id);
        }
        // Without the server feature `serve` and `admin` do not exist.
        if cfg!(feature = "server") {
            for id in ids(EN) {
                if id.starts_with("cmd-") || id.starts_with("arg-") {
                    assert!(used.contains(&id), "{id} belongs to no command or argument");
                }
            }
        }
    }

    fn render(args: &[&str]) -> String {
        match command(crate::cli::Cli::command()).try_get_matches_from(args) {
            Ok(_) => panic!("{args:?} parsed"),
            Err(e) => e.apply::<Localized>().to_string(),
        }
    }

    /// The test process's language: these tests check the structure, the
    /// integration tests the words of each language.
    #[test]
    fn help_lists_every_command_with_its_text() {
        let help = render(&["gemeinwerk", "--help"]);
        assert!(help.contains(&tr!("cmd-publish")), "{help}");
        assert!(
            help.contains(&format!("{}:", tr!("commands-heading"))),
            "{help}"
        );
        assert!(help.contains(&tr!("help-command")), "{help}");
        let help = render(&["gemeinwerk", "publish", "--help"]);
        assert!(help.contains(&tr!("arg-publish-dry-run")), "{help}");
        assert!(
            help.contains(&format!("{}:", tr!("arguments-heading"))),
            "{help}"
        );
        assert!(help.contains(&tr!("help-flag")), "{help}");
        assert!(
            help.contains(&tr!("help-env", name = "GEMEINWERK_REGISTRY")),
            "{help}"
        );
    }

    #[test]
    fn usage_errors_name_the_argument() {
        let e = render(&["gemeinwerk", "publish", "--dry-rn"]);
        assert!(e.contains("--dry-rn"), "{e}");
        assert!(e.contains("--dry-run"), "the suggestion: {e}");
        let e = render(&[
            "gemeinwerk",
            "owner",
            "add",
            "kassel",
            "anna",
            "--role",
            "king",
        ]);
        assert!(e.contains("king") && e.contains("owner, publisher"), "{e}");
    }
}
