//! `serve --demo`: on an empty registry, seeds municipalities, accounts and
//! packages, so that a new user sees a living registry. The packages go
//! through the ordinary publish path.

use std::io::Write;

use serde::Serialize;

use super::accounts;
use super::audit::Origin;
use super::auth::{self, Role, Scope};
use super::error::Result;
use super::{publish, Registry};
use gemeinwerk_package::archive::{self, PackageFiles};
use gemeinwerk_package::manifest::parse_manifest;

pub const NAMESPACES: [(&str, &str, Option<&str>); 3] = [
    ("kassel", "Stadt Kassel", Some("066110000000")),
    (
        "darmstadt",
        "Wissenschaftsstadt Darmstadt",
        Some("064110000000"),
    ),
    ("fim", "FIM-Bausteine (gemeinsam genutzt)", None),
];

macro_rules! demo_package {
    ($dir:literal: $($file:literal),+) => {
        ($dir, &[$(($file, include_str!(concat!("../../../../demo/", $dir, "/", $file)))),+])
    };
}

/// In publish order: dependencies first.
pub const PACKAGES: &[(&str, &[(&str, &str)])] = &[
    demo_package!("fim-anschrift-inland": "gemeinwerk.toml", "fieldgroup.toml", "README.md"),
    demo_package!("fim-natuerliche-person": "gemeinwerk.toml", "fieldgroup.toml", "README.md"),
    demo_package!("fim-fahrzeug": "gemeinwerk.toml", "fieldgroup.toml", "README.md"),
    demo_package!("kassel-bewohnerparkausweis": "gemeinwerk.toml", "form.toml", "README.md"),
    demo_package!("kassel-bewohnerparken-verfahren": "gemeinwerk.toml", "process.toml", "README.md"),
    demo_package!("kassel-sondernutzungserlaubnis": "gemeinwerk.toml", "form.toml", "README.md"),
    demo_package!("darmstadt-hundesteuer-anmeldung": "gemeinwerk.toml", "form.toml", "README.md"),
    demo_package!("darmstadt-gewerbeanmeldung": "gemeinwerk.toml", "form.toml", "README.md"),
    demo_package!("kassel-bewohnerparkausweis-1.1.0": "gemeinwerk.toml", "form.toml", "README.md"),
];

/// The files of a demo package folder, as the client would read them.
pub fn package_files(files: &[(&str, &str)]) -> PackageFiles {
    files
        .iter()
        .map(|(path, text)| (path.to_string(), text.as_bytes().to_vec()))
        .collect()
}

/// The deterministic archive of an embedded demo package.
pub fn package_archive(files: &[(&str, &str)]) -> (String, Vec<u8>) {
    let files = package_files(files);
    let manifest_text =
        std::str::from_utf8(&files["gemeinwerk.toml"]).expect("demo manifest is UTF-8");
    let (manifest, _) = parse_manifest(manifest_text).expect("demo manifests are valid");
    let prefix = format!("{}-{}", manifest.name, manifest.version);
    (manifest.namespace, archive::build(&prefix, &files))
}

#[derive(Debug, Serialize)]
pub struct DemoAccount {
    pub namespace: String,
    pub login: String,
    pub token: String,
}

/// Seeds the demo data if the registry has no namespace yet. Returns the
/// accounts created, or `None` when the registry was not empty.
pub fn seed(reg: &Registry) -> Result<Option<Vec<DemoAccount>>> {
    let mut conn = reg.db.conn()?;
    if !accounts::list_namespaces(&mut conn)?.is_empty() {
        return Ok(None);
    }
    let origin = Origin {
        actor: None,
        client_addr: Some("demo-seed".into()),
    };
    let mut created = Vec::new();
    for (slug, display_name, ars) in NAMESPACES {
        accounts::add_namespace(&mut conn, &origin, slug, display_name, ars)?;
        let login = format!("{slug}-redaktion");
        accounts::add_user(&mut conn, &origin, &login)?;
        accounts::set_member_as_operator(&mut conn, &origin, slug, &login, Role::Owner)?;
        let token =
            auth::create_token(&mut conn, &origin, &login, "demo", &Scope::ALL, None, None)?;
        created.push(DemoAccount {
            namespace: slug.to_string(),
            login,
            token: token.token,
        });
    }
    drop(conn);
    for (_, files) in PACKAGES {
        let (namespace, bytes) = package_archive(files);
        let account = created
            .iter()
            .find(|a| a.namespace == namespace)
            .expect("demo packages live in demo namespaces");
        publish::publish_with_credential(
            reg,
            Some(account.token.as_str()).into(),
            &origin,
            &bytes,
        )?;
    }
    write_tokens_file(reg, &created)?;
    Ok(Some(created))
}

fn write_tokens_file(reg: &Registry, accounts: &[DemoAccount]) -> Result<()> {
    let path = reg.data_dir.join("demo-tokens.toml");
    let mut text =
        String::from("# API tokens of the demo accounts, created by `gemeinwerk serve --demo`.\n");
    for a in accounts {
        text.push_str(&format!(
            "\n[{}]\nlogin = \"{}\"\ntoken = \"{}\"\n",
            a.namespace, a.login, a.token
        ));
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)?.write_all(text.as_bytes())?;
    Ok(())
}
