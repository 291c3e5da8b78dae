//! What happens on publish, top to bottom.

use diesel::prelude::*;
use serde::Serialize;

use super::audit::{self, AuditAction, Origin};
use super::auth::{self, find_namespace, Credential, Scope};
use super::error::{RegistryError, Result};
use super::jobs::Job;
use super::{content, index, jobs, Registry};
use crate::store::db::now;
use crate::store::schema::{dependencies, packages, versions};
use crate::store::{write_tx, DbConn};
use gemeinwerk_package::archive::{self, sha256_hex};
use gemeinwerk_package::content::Content;
use gemeinwerk_package::diff::diff;
use gemeinwerk_package::{check_package, semver_check, Diagnostic, Manifest};

#[derive(Debug, Serialize)]
pub struct Published {
    pub name: String,
    pub version: String,
    pub cksum: String,
    pub warnings: Vec<Diagnostic>,
}

/// Publishes an uploaded archive on behalf of the credential's token.
pub fn publish(
    reg: &Registry,
    cred: Credential<'_>,
    origin: &Origin,
    upload: &[u8],
) -> Result<Published> {
    // 1. Who publishes? An upload from nobody is not even unpacked.
    let mut conn = reg.db.conn()?;
    let actor = auth::authenticate(&mut conn, cred)?;

    // 2. The archive must be safe to look at, and the manifest inside it is
    //    the truth about name, version and kind.
    let (prefix, files) = archive::unpack(upload, &reg.config.limits)?;
    let (manifest, mut warnings) = check_package(&files).map_err(RegistryError::Invalid)?;
    let expected_prefix = format!("{}-{}", manifest.name, manifest.version);
    if prefix != expected_prefix {
        return Err(RegistryError::bad_request(
            "archive_wrong_prefix",
            format!("the archive's folder is \"{prefix}/\"; for this manifest it must be \"{expected_prefix}/\""),
        ));
    }

    // Every version becomes a tag `v{version}` in the package history; a
    // number git cannot name (`1.0.0-rc.lock`) would stop that history
    // forever, so it is refused here.
    if !git2::Reference::is_valid_name(&format!("refs/tags/v{}", manifest.version)) {
        return Err(RegistryError::Invalid(vec![Diagnostic::error(
            "version.not_taggable",
            gemeinwerk_package::manifest::MANIFEST_FILE,
            format!(
                "version {} cannot be a git tag (a pre-release or build part may not end in \".lock\"); choose another version",
                manifest.version
            ),
        )]));
    }

    // 3. May they publish into this namespace?
    let namespace = find_namespace(&mut conn, &manifest.namespace)?;
    actor.authorize(&mut conn, Scope::Publish, &namespace, false)?;

    // 4. What the registry knows must agree: version new, dependencies
    //    there, the content valid with the dependencies' content, and the
    //    version bump large enough for the changes. Every problem at once.
    let mut problems = check_against_registry(&mut conn, &manifest, &mut warnings)?;
    let (deps, unreadable) = content::resolve_dependencies(reg, &mut conn, &manifest)?;
    problems.extend(unreadable);
    let (new_content, errors, more_warnings) =
        gemeinwerk_package::content::check_resolved(&manifest, &files, &deps, &warnings);
    problems.extend(errors);
    warnings.extend(more_warnings);
    if let (Some(new_content), Some(fork)) = (&new_content, &manifest.forked_from) {
        problems.extend(check_adaptation(
            reg,
            &mut conn,
            &manifest,
            new_content,
            fork,
        )?);
    }
    if let Some(new_content) = &new_content {
        problems.extend(check_semver(
            reg,
            &mut conn,
            &manifest,
            new_content,
            &mut warnings,
        )?);
    }
    if !problems.is_empty() {
        return Err(RegistryError::Invalid(problems));
    }

    // 5. The archive goes to the blob store before the database commit: a
    //    crash in between leaves an orphan blob, never a version without one.
    let cksum = sha256_hex(upload);
    reg.blobs.put(&cksum, upload)?;

    // 6. Version, dependencies, audit entry and the index job in one
    //    transaction.
    let origin = Origin {
        actor: Some(actor.login.clone()),
        ..origin.clone()
    };
    let record = |conn: &mut DbConn| {
        write_tx(conn, |conn| {
            ensure_version_is_new(conn, &manifest)?;
            let package_id = upsert_package(conn, &manifest, namespace.id)?;
            let manifest_text =
                String::from_utf8_lossy(&files[gemeinwerk_package::manifest::MANIFEST_FILE])
                    .into_owned();
            let version_id: i64 = diesel::insert_into(versions::table)
                .values((
                    versions::package_id.eq(package_id),
                    versions::num.eq(manifest.version.to_string()),
                    versions::canonical_num.eq(canonical(&manifest.version)),
                    versions::cksum.eq(&cksum),
                    versions::size.eq(upload.len() as i64),
                    versions::manifest.eq(manifest_text),
                    versions::forked_from.eq(manifest.forked_from.as_ref().map(|f| f.to_string())),
                    versions::published_by.eq(Some(actor.user_id)),
                    versions::downloads.eq(0i64),
                    versions::created_at.eq(now()),
                ))
                .returning(versions::id)
                .get_result(conn)?;
            for dep in &manifest.dependencies {
                diesel::insert_into(dependencies::table)
                    .values((
                        dependencies::version_id.eq(version_id),
                        dependencies::dep_name.eq(dep.full_name()),
                        dependencies::req.eq(dep.req.to_string()),
                    ))
                    .execute(conn)?;
            }
            audit::record(
                conn,
                &origin,
                AuditAction::Publish,
                Some(&manifest.namespace),
                &format!("{}@{}", manifest.full_name(), manifest.version),
                serde_json::json!({ "cksum": cksum, "size": upload.len() }),
            )?;
            jobs::enqueue(conn, Job::SyncIndex, &manifest.full_name())?;
            jobs::enqueue(conn, Job::SyncHistory, &manifest.full_name())
        })
    };
    // On PostgreSQL a publish racing another of the same package can lose
    // at a unique key; once the winner committed, a second try sees it and
    // gives the precise answer (version exists, kind differs).
    let recorded = match record(&mut conn) {
        Err(e) if e.is_concurrent_change() => record(&mut conn),
        other => other,
    };
    if let Err(e) = recorded {
        discard_unused_blob(reg, &mut conn, &cksum, &e);
        return Err(e);
    }
    reg.package_changed(&manifest.full_name());
    tracing::info!(package.name = %manifest.full_name(), package.version = %manifest.version, actor = %actor.login, "published");

    Ok(Published {
        name: manifest.full_name(),
        version: manifest.version.to_string(),
        cksum,
        warnings,
    })
}

/// The version without build metadata: `1.0.0+a` and `1.0.0+b` are the same
/// version to a resolver, so only one of them may exist.
fn canonical(v: &semver::Version) -> String {
    let mut v = v.clone();
    v.build = semver::BuildMetadata::EMPTY;
    v.to_string()
}

fn ensure_version_is_new(conn: &mut DbConn, manifest: &Manifest) -> Result<()> {
    let Some(package) = index::find_package(conn, &manifest.namespace, &manifest.name)? else {
        return Ok(());
    };
    let existing: Option<String> = versions::table
        .filter(versions::package_id.eq(package.id))
        .filter(versions::canonical_num.eq(canonical(&manifest.version)))
        .select(versions::num)
        .first(conn)
        .optional()?;
    match existing {
        None => Ok(()),
        Some(num) if num == manifest.version.to_string() => Err(RegistryError::conflict(
            "version_exists",
            format!("{}@{num} already exists; publish a new version instead", manifest.full_name()),
        )),
        Some(num) => Err(RegistryError::conflict(
            "version_exists",
            format!(
                "{}@{num} already exists and differs from {} only in build metadata; publish a new version instead",
                manifest.full_name(),
                manifest.version
            ),
        )),
    }
}

/// Refuses a version that exists or a change of kind (both checked again
/// inside the publish transaction, where they cannot race); returns the
/// problems with dependencies and `forked-from`.
fn check_against_registry(
    conn: &mut DbConn,
    manifest: &Manifest,
    warnings: &mut Vec<Diagnostic>,
) -> Result<Vec<Diagnostic>> {
    ensure_version_is_new(conn, manifest)?;
    if let Some(existing) = index::find_package(conn, &manifest.namespace, &manifest.name)? {
        if existing.kind != manifest.kind.as_str() {
            return Err(kind_mismatch(manifest, &existing.kind));
        }
        if let Some(message) = &existing.deprecated {
            warnings.push(Diagnostic::warning(
                "package.deprecated",
                "gemeinwerk.toml",
                format!("the package is deprecated: {message}"),
            ));
        }
    }
    let mut problems = Vec::new();
    for dep in &manifest.dependencies {
        let found = index::find_package(conn, &dep.namespace, &dep.name)?;
        let Some(found) = found else {
            problems.push(Diagnostic::error(
                "dependency.not_found",
                "gemeinwerk.toml",
                format!(
                    "dependency \"{}\" does not exist in this registry",
                    dep.full_name()
                ),
            ));
            continue;
        };
        let matching = index::package_versions(conn, found.id)?
            .into_iter()
            .filter(|v| v.yanked_at.is_none())
            .filter_map(|v| semver::Version::parse(&v.num).ok())
            .any(|v| dep.req.matches(&v));
        if !matching {
            problems.push(Diagnostic::error(
                "dependency.no_matching_version",
                "gemeinwerk.toml",
                format!(
                    "dependency \"{}\" has no published, non-yanked version matching \"{}\"",
                    dep.full_name(),
                    dep.req
                ),
            ));
        }
    }
    if let Some(fork) = &manifest.forked_from {
        let upstream = index::find_package(conn, &fork.namespace, &fork.name)?;
        let version = match &upstream {
            Some(p) => index::package_versions(conn, p.id)?
                .into_iter()
                .find(|v| v.num == fork.version.to_string()),
            None => None,
        };
        match version {
            None => problems.push(Diagnostic::error(
                "forked_from.not_found",
                "gemeinwerk.toml",
                format!("forked-from names {fork}, which does not exist in this registry"),
            )),
            Some(v) => {
                if let Some(cksum) = &fork.cksum {
                    if *cksum != v.cksum {
                        problems.push(Diagnostic::error(
                            "forked_from.checksum_mismatch",
                            "gemeinwerk.toml",
                            format!(
                                "forked-from checksum does not match {fork} (registry has {})",
                                v.cksum
                            ),
                        ));
                    }
                }
            }
        }
    }
    Ok(problems)
}

/// A fork may adapt its upstream only as far as the upstream's form allows
/// (FIM's Ableitungsmodifikationen) and may lower the Vertrauensniveau only
/// when its manifest says so.
fn check_adaptation(
    reg: &Registry,
    conn: &mut DbConn,
    manifest: &Manifest,
    new_content: &gemeinwerk_package::content::Content,
    fork: &gemeinwerk_package::manifest::ForkedFrom,
) -> Result<Vec<Diagnostic>> {
    let Some(upstream) = index::find_package(conn, &fork.namespace, &fork.name)? else {
        return Ok(Vec::new());
    };
    let Some(version) = index::package_versions(conn, upstream.id)?
        .into_iter()
        .find(|v| v.num == fork.version.to_string())
    else {
        return Ok(Vec::new());
    };
    let full_name = format!("{}/{}", fork.namespace, fork.name);
    match content::load_version(reg, &full_name, &version)? {
        Ok((up_manifest, up_content)) => Ok(gemeinwerk_package::adaptation::check_adaptation(
            &up_manifest,
            &up_content,
            manifest,
            new_content,
        )),
        // An upstream that today's rules cannot read sets no limits.
        Err(_) => Ok(Vec::new()),
    }
}

/// The semver check: the new version against the highest existing release
/// below it (see `content::semver_baseline`), by the semantic diff of the
/// two. Returns the refusal, if any.
fn check_semver(
    reg: &Registry,
    conn: &mut DbConn,
    manifest: &Manifest,
    new_content: &Content,
    warnings: &mut Vec<Diagnostic>,
) -> Result<Option<Diagnostic>> {
    let Some(package) = index::find_package(conn, &manifest.namespace, &manifest.name)? else {
        return Ok(None);
    };
    let versions = index::package_versions(conn, package.id)?;
    let Some(baseline) = content::semver_baseline(&versions, &manifest.version) else {
        return Ok(None);
    };
    let Ok(old_version) = semver::Version::parse(&baseline.num) else {
        return Ok(None);
    };
    let (old_manifest, old_content) =
        match content::load_version(reg, &manifest.full_name(), baseline)? {
            Ok(read) => read,
            Err(_) => {
                // Published before today's rules: refusing every new version
                // for it would lock the package; say what was not checked.
                warnings.push(Diagnostic::warning(
                    "semver.unchecked",
                    gemeinwerk_package::manifest::MANIFEST_FILE,
                    format!(
                        "the version bump was not checked: {}@{} cannot be read with today's rules",
                        manifest.full_name(),
                        baseline.num
                    ),
                ));
                return Ok(None);
            }
        };
    let changes = diff(&old_manifest, &old_content, manifest, new_content);
    Ok(
        semver_check::check(&old_version, &manifest.version, &changes)
            .err()
            .map(|e| e.to_diagnostic()),
    )
}

/// After a refused commit, the blob written for it goes again, unless a
/// version names it. Only refusals count: they come from what is committed
/// (the same bytes always make the same version, so a racing twin has
/// already committed when this one is refused), while after a database
/// fault a twin may still be in flight and the blob is left to fsck.
fn discard_unused_blob(reg: &Registry, conn: &mut DbConn, cksum: &str, e: &RegistryError) {
    if !matches!(
        e.kind(),
        super::ErrorKind::Conflict | super::ErrorKind::Invalid | super::ErrorKind::BadRequest
    ) {
        return;
    }
    let named: Result<i64, _> = versions::table
        .filter(versions::cksum.eq(cksum))
        .count()
        .get_result(conn);
    if matches!(named, Ok(0)) {
        if let Err(err) = reg.blobs.delete(cksum) {
            tracing::warn!(cksum, error = %err, "could not remove the blob of a refused publish");
        }
    }
}

fn kind_mismatch(manifest: &Manifest, existing: &str) -> RegistryError {
    RegistryError::conflict(
        "kind_mismatch",
        format!(
            "{} is a {existing} package; a new version cannot make it a {}",
            manifest.full_name(),
            manifest.kind
        ),
    )
}

fn upsert_package(conn: &mut DbConn, manifest: &Manifest, namespace_id: i64) -> Result<i64> {
    let at = now();
    // The package builds on what its newest publish says it builds on.
    let base = manifest.forked_from.as_ref().map(|f| f.to_string());
    let upstream = base.as_deref().map(super::forks::upstream_of);
    match index::find_package(conn, &manifest.namespace, &manifest.name)? {
        // Decided here, inside the transaction: two first publishes of one
        // name as different kinds must not both land.
        Some(p) if p.kind != manifest.kind.as_str() => Err(kind_mismatch(manifest, &p.kind)),
        Some(p) => {
            diesel::update(packages::table.find(p.id))
                .set((
                    packages::title.eq(&manifest.title),
                    packages::description.eq(&manifest.description),
                    packages::updated_at.eq(at),
                    packages::forked_from.eq(&base),
                    packages::upstream.eq(upstream),
                ))
                .execute(conn)?;
            Ok(p.id)
        }
        None => Ok(diesel::insert_into(packages::table)
            .values((
                packages::namespace_id.eq(namespace_id),
                packages::name.eq(&manifest.name),
                packages::kind.eq(manifest.kind.as_str()),
                packages::title.eq(&manifest.title),
                packages::description.eq(&manifest.description),
                packages::downloads.eq(0i64),
                packages::created_at.eq(at),
                packages::updated_at.eq(at),
                packages::forked_from.eq(&base),
                packages::upstream.eq(upstream),
            ))
            .returning(packages::id)
            .get_result(conn)?),
    }
}
