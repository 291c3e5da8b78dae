//! `gemeinwerk admin …`: the operator's commands, on the stores directly.

use clap::Subcommand;

use super::{refused, StoreArgs};
use gemeinwerk_package::archive::ArchiveLimits;
use gemeinwerk_server::registry::audit::Origin;
use gemeinwerk_server::registry::auth::{self, Role, Scope};
use gemeinwerk_server::registry::{accounts, fsck, search, Registry, RegistryConfig};
use gemeinwerk_server::store::DbConn;

#[derive(Subcommand)]
pub enum AdminCommand {
    /// Namespaces: one per municipality or provider.
    Namespace {
        #[command(subcommand)]
        command: NamespaceCommand,
    },
    /// Users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Members of namespaces.
    Member {
        #[command(subcommand)]
        command: MemberCommand,
    },
    /// API tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Compare the git index and the blob store with the database.
    Fsck {
        /// Rewrite what differs from the database.
        #[arg(long)]
        repair: bool,
    },
    /// Rebuild the derived views (the git index, the package histories and
    /// the search index) from the database. A running server switches to
    /// the new search index by itself.
    Reindex,
}

#[derive(Subcommand)]
pub enum NamespaceCommand {
    Add {
        slug: String,
        /// Display name, e.g. "Stadt Kassel".
        #[arg(long)]
        name: String,
        /// Amtlicher Regionalschlüssel (12 digits).
        #[arg(long)]
        ars: Option<String>,
    },
    List,
}

#[derive(Subcommand)]
pub enum UserCommand {
    Add { login: String },
}

#[derive(Subcommand)]
pub enum MemberCommand {
    Add {
        namespace: String,
        login: String,
        #[arg(long, default_value = "publisher", value_parser = ["owner", "publisher"])]
        role: String,
    },
    Remove {
        namespace: String,
        login: String,
    },
}

#[derive(Subcommand)]
pub enum TokenCommand {
    /// Create a token; it is printed once and never stored in plain text.
    Create {
        login: String,
        /// Comma-separated: publish, yank, owners.
        #[arg(long, default_value = "publish,yank")]
        scope: String,
        /// Restrict the token to one namespace.
        #[arg(long)]
        namespace: Option<String>,
        /// Lifetime such as 90d, 12h, 4w.
        #[arg(long)]
        expires_in: Option<String>,
        /// A name to recognise the token by, e.g. "ci".
        #[arg(long, default_value = "cli")]
        name: String,
    },
    /// Revoke a token, by id or by the token itself.
    Revoke { token: String },
    /// List a user's tokens (never their values).
    List { login: String },
}

fn parse_duration(s: &str) -> Result<chrono::Duration, String> {
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: i64 = num
        .parse()
        .map_err(|_| format!("\"{s}\" is not a duration like 90d, 12h or 4w"))?;
    match unit {
        "m" => Ok(chrono::Duration::minutes(n)),
        "h" => Ok(chrono::Duration::hours(n)),
        "d" => Ok(chrono::Duration::days(n)),
        "w" => Ok(chrono::Duration::weeks(n)),
        _ => Err(format!(
            "\"{s}\" is not a duration like 90d, 12h or 4w (units: m, h, d, w)"
        )),
    }
}

pub fn exec(store: &StoreArgs, command: AdminCommand) -> anyhow::Result<()> {
    let config = RegistryConfig {
        limits: ArchiveLimits::default(),
        base_url: std::env::var("GEMEINWERK_PUBLIC_URL")
            .unwrap_or_else(|_| "http://127.0.0.1:8080".into()),
    };
    let reg = store.open_registry(config)?;
    let mut conn = reg.db.conn()?;
    let origin = Origin::admin();
    match command {
        AdminCommand::Namespace { command } => match command {
            NamespaceCommand::Add { slug, name, ars } => {
                accounts::add_namespace(&mut conn, &origin, &slug, &name, ars.as_deref())?;
                eprintln!("namespace {slug} added");
            }
            NamespaceCommand::List => {
                for ns in accounts::list_namespaces(&mut conn)? {
                    println!(
                        "{}\t{}\t{}",
                        ns.slug,
                        ns.display_name,
                        ns.ars.unwrap_or_default()
                    );
                }
            }
        },
        AdminCommand::User {
            command: UserCommand::Add { login },
        } => {
            accounts::add_user(&mut conn, &origin, &login)?;
            eprintln!("user {login} added");
        }
        AdminCommand::Member { command } => match command {
            MemberCommand::Add {
                namespace,
                login,
                role,
            } => {
                let role = Role::parse(&role).expect("clap checked the role");
                accounts::set_member_as_operator(&mut conn, &origin, &namespace, &login, role)?;
                eprintln!("{login} is {} of {namespace}", role.as_str());
            }
            MemberCommand::Remove { namespace, login } => {
                accounts::remove_member_as_operator(&mut conn, &origin, &namespace, &login)?;
                eprintln!("{login} removed from {namespace}");
            }
        },
        AdminCommand::Token { command } => token(&mut conn, &origin, command)?,
        AdminCommand::Fsck { repair } => {
            drop(conn);
            fsck_command(&reg, repair)?;
        }
        AdminCommand::Reindex => {
            drop(conn);
            let report = fsck::check(&reg, true)?;
            eprintln!(
                "git index and package histories rebuilt from the database ({} packages)",
                report.packages
            );
            let search = search::rebuild(&reg)?;
            eprintln!(
                "search index rebuilt from the database ({} packages)",
                search.packages
            );
        }
    }
    Ok(())
}

/// `gemeinwerk admin token …`.
fn token(conn: &mut DbConn, origin: &Origin, command: TokenCommand) -> anyhow::Result<()> {
    match command {
        TokenCommand::Create {
            login,
            scope,
            namespace,
            expires_in,
            name,
        } => {
            let mut scopes = Vec::new();
            for s in scope.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                scopes.push(Scope::parse(s).ok_or_else(|| {
                    anyhow::anyhow!("unknown scope \"{s}\"; scopes are publish, yank, owners")
                })?);
            }
            let expires_at = expires_in
                .map(|d| parse_duration(&d).map(|d| gemeinwerk_server::store::db::now() + d))
                .transpose()
                .map_err(anyhow::Error::msg)?;
            let created = auth::create_token(
                conn,
                origin,
                &login,
                &name,
                &scopes,
                namespace.as_deref(),
                expires_at,
            )?;
            eprintln!(
                "token {} created for {login}; it is shown only now:",
                created.id
            );
            println!("{}", created.token);
        }
        TokenCommand::Revoke { token } => {
            let revoked = auth::revoke_token(conn, origin, &token)?;
            eprintln!("token {} revoked", revoked.id);
        }
        TokenCommand::List { login } => {
            for t in auth::list_tokens(conn, &login)? {
                let state = if t.revoked_at.is_some() {
                    "revoked"
                } else {
                    "active"
                };
                println!(
                    "{}\t{}\t{}\t{state}\texpires {}\tlast used {}",
                    t.id,
                    t.name,
                    t.scopes,
                    t.expires_at
                        .map(|d| d.to_string())
                        .unwrap_or_else(|| "never".into()),
                    t.last_used_at
                        .map(|d| d.to_string())
                        .unwrap_or_else(|| "never".into()),
                );
            }
        }
    }
    Ok(())
}

/// `gemeinwerk admin fsck [--repair]`: fails when the stores disagree and
/// are not (all) repaired.
fn fsck_command(reg: &Registry, repair: bool) -> anyhow::Result<()> {
    let report = fsck::check(reg, repair)?;
    for warning in &report.warnings {
        println!("warning: {warning}");
    }
    for problem in &report.problems {
        println!("{problem}");
    }
    if !report.orphans.is_empty() {
        eprintln!(
            "{} orphan blob(s) that no version names{}",
            report.orphans.len(),
            if repair {
                format!(
                    "; {} removed (those younger than an hour are kept: a publish may be in flight)",
                    report.orphans_removed
                )
            } else {
                "; --repair removes those older than an hour".to_string()
            }
        );
    }
    eprintln!(
        "checked {} packages and {} archives: {} problem(s){}",
        report.packages,
        report.blobs,
        report.problems.len(),
        if repair {
            format!(", {} repaired", report.repaired)
        } else {
            String::new()
        }
    );
    if !report.problems.is_empty() && (!repair || report.repaired < report.problems.len()) {
        return Err(refused(
            "the stores disagree; run `gemeinwerk admin fsck --repair`",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::parse_duration;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90d").unwrap(), chrono::Duration::days(90));
        assert_eq!(parse_duration("12h").unwrap(), chrono::Duration::hours(12));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("5y").is_err());
    }
}
