//! `gemeinwerk admin …`: the operator's commands, on the stores directly.

use clap::Subcommand;

use super::{refused, StoreArgs};
use crate::tr;
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
    /// Add a namespace.
    Add {
        /// The namespace's short name in package names, e.g. kassel.
        slug: String,
        /// Display name, e.g. "Stadt Kassel".
        #[arg(long)]
        name: String,
        /// Amtlicher Regionalschlüssel (12 digits).
        #[arg(long)]
        ars: Option<String>,
    },
    /// List the namespaces.
    List,
}

#[derive(Subcommand)]
pub enum UserCommand {
    /// Add a user.
    Add {
        /// The user's login.
        login: String,
    },
    /// Remove a user: tokens revoked, sessions ended, memberships and sign-in identities gone; the login stays, for the audit log.
    Remove {
        /// The user's login.
        login: String,
    },
}

#[derive(Subcommand)]
pub enum MemberCommand {
    /// Add a member (or change the role of one).
    Add {
        /// The namespace, e.g. kassel.
        namespace: String,
        /// The user's login.
        login: String,
        /// publisher: may publish and yank; owner: may also manage the members.
        #[arg(long, default_value = "publisher", value_parser = ["owner", "publisher"])]
        role: String,
    },
    /// Remove a member.
    Remove {
        /// The namespace, e.g. kassel.
        namespace: String,
        /// The user's login.
        login: String,
    },
}

#[derive(Subcommand)]
pub enum TokenCommand {
    /// Create a token; it is printed once and never stored in plain text.
    Create {
        /// The user's login.
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
    Revoke {
        /// The token's id, or the token itself.
        token: String,
    },
    /// List a user's tokens (never their values).
    List {
        /// The user's login.
        login: String,
    },
}

fn parse_duration(s: &str) -> Result<chrono::Duration, String> {
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: i64 = num
        .parse()
        .map_err(|_| tr!("duration-invalid", value = s))?;
    match unit {
        "m" => Ok(chrono::Duration::minutes(n)),
        "h" => Ok(chrono::Duration::hours(n)),
        "d" => Ok(chrono::Duration::days(n)),
        "w" => Ok(chrono::Duration::weeks(n)),
        _ => Err(tr!("duration-unit", value = s)),
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
                eprintln!("{}", tr!("admin-namespace-added", slug = slug.as_str()));
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
            eprintln!("{}", tr!("admin-user-added", login = login.as_str()));
        }
        AdminCommand::User {
            command: UserCommand::Remove { login },
        } => {
            let removed = accounts::remove_user(&mut conn, &origin, &login)?;
            eprintln!(
                "{}",
                tr!(
                    "admin-user-removed",
                    login = login.as_str(),
                    tokens = removed.tokens,
                    namespaces = removed.memberships.len()
                )
            );
        }
        AdminCommand::Member { command } => match command {
            MemberCommand::Add {
                namespace,
                login,
                role,
            } => {
                let role = Role::parse(&role).expect("clap checked the role");
                accounts::set_member_as_operator(&mut conn, &origin, &namespace, &login, role)?;
                eprintln!(
                    "{}",
                    tr!(
                        "member-is",
                        login = login.as_str(),
                        role = tr!("role", role = role.as_str()),
                        namespace = namespace.as_str()
                    )
                );
            }
            MemberCommand::Remove { namespace, login } => {
                accounts::remove_member_as_operator(&mut conn, &origin, &namespace, &login)?;
                eprintln!(
                    "{}",
                    tr!(
                        "member-removed",
                        login = login.as_str(),
                        namespace = namespace.as_str()
                    )
                );
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
            eprintln!("{}", tr!("reindex-index", count = report.packages));
            let search = search::rebuild(&reg)?;
            eprintln!("{}", tr!("reindex-search", count = search.packages));
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
                scopes.push(
                    Scope::parse(s)
                        .ok_or_else(|| anyhow::anyhow!(tr!("unknown-scope", scope = s)))?,
                );
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
                "{}",
                tr!(
                    "token-created",
                    id = created.id.to_string(),
                    login = login.as_str()
                )
            );
            println!("{}", created.token);
        }
        TokenCommand::Revoke { token } => {
            let revoked = auth::revoke_token(conn, origin, &token, None)?;
            eprintln!("{}", tr!("token-revoked", id = revoked.id.to_string()));
        }
        TokenCommand::List { login } => {
            for t in auth::list_tokens(conn, &login)? {
                let state = if t.revoked_at.is_some() {
                    tr!("token-state-revoked")
                } else {
                    tr!("token-state-active")
                };
                let expires = match t.expires_at {
                    Some(at) => tr!("token-expires", at = at.to_string()),
                    None => tr!("token-never-expires"),
                };
                let used = match t.last_used_at {
                    Some(at) => tr!("token-last-used", at = at.to_string()),
                    None => tr!("token-never-used"),
                };
                println!(
                    "{}\t{}\t{}\t{state}\t{expires}\t{used}",
                    t.id, t.name, t.scopes
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
        println!("{}", tr!("warning", message = warning.to_string()));
    }
    for problem in &report.problems {
        println!("{problem}");
    }
    if !report.orphans.is_empty() {
        let count = report.orphans.len();
        if repair {
            eprintln!(
                "{}",
                tr!(
                    "fsck-orphans-removed",
                    count = count,
                    removed = report.orphans_removed
                )
            );
        } else {
            eprintln!("{}", tr!("fsck-orphans", count = count));
        }
    }
    let checked = tr!(
        "fsck-checked",
        packages = report.packages,
        archives = report.blobs,
        problems = report.problems.len()
    );
    if repair {
        eprintln!(
            "{checked}, {}",
            tr!("fsck-repaired", count = report.repaired)
        );
    } else {
        eprintln!("{checked}");
    }
    if !report.problems.is_empty() && (!repair || report.repaired < report.problems.len()) {
        return Err(refused(tr!("fsck-disagree")));
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
