//! What happens on publish, top to bottom.

mod context;

use diesel::prelude::*;
use serde::Serialize;

pub use self::context::PublishContext;
use super::audit::{self, AuditAction, Origin};
use super::auth::{self, find_namespace, Actor, Credential};
use super::error::{RegistryError, Result};
use super::events::{self, Event};
use super::jobs::Job;
use super::{index, jobs, Registry};
use crate::store::db::now;
use crate::store::schema::{codelist_sources, dependencies, fim_sources, packages, versions};
use crate::store::{write_tx, DbConn};
use gemeinwerk_package::archive::{self, sha256_hex};
use gemeinwerk_package::content::Content;
use gemeinwerk_package::diff::diff;
use gemeinwerk_package::{semver_check, Diagnostic, Manifest};

#[derive(Debug, Serialize)]
pub struct Published {
    pub name: String,
    pub version: String,
    pub cksum: String,
    pub warnings: Vec<Diagnostic>,
    /// The change-feed entry of this publish, so that an answer can wait
    /// until this node's search has applied it.
    #[serde(skip)]
    pub feed_id: i64,
}

/// Publishes an uploaded archive on behalf of a credential: authenticates
/// it, then [`publish`]. For callers without a request (the demo seeder,
/// benchmarks); the HTTP handler authenticates in its extractor.
pub fn publish_with_credential(
    reg: &Registry,
    cred: Credential<'_>,
    origin: &Origin,
    upload: &[u8],
) -> Result<Published> {
    let actor = auth::authenticate(&mut *reg.db.conn()?, cred)?;
    publish(reg, &actor, origin, upload)
}

/// Publishes an uploaded archive on behalf of an authenticated actor.
pub fn publish(reg: &Registry, actor: &Actor, origin: &Origin, upload: &[u8]) -> Result<Published> {
    // 1. The archive must be safe to look at, and the manifest inside it is
    //    the truth about name, version, kind and dependencies.
    let (prefix, files) = archive::unpack(upload, &reg.config.limits)?;
    let (manifest, mut warnings) =
        gemeinwerk_package::read_manifest(&files).map_err(RegistryError::Invalid)?;

    // 2. What the registry knows about this package, read once: the
    //    package and its versions, the dependencies with their content,
    //    the upstream, the semver baseline.
    let mut conn = reg.db.conn()?;
    let ctx = PublishContext::load(reg, &mut conn, &manifest)?;

    // 3. The files, checked once, with the dependencies' content; their
    //    errors are reported with the registry's problems below.
    let (new_content, found) =
        gemeinwerk_package::check_files(&manifest, &files, &ctx.dependencies.content);
    let (file_errors, file_warnings): (Vec<_>, Vec<_>) =
        found.into_iter().partition(Diagnostic::is_error);
    warnings.extend(file_warnings);
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
        ).arg("version", &manifest.version)]));
    }

    // 4. May they publish into this namespace?
    let namespace = find_namespace(&mut conn, &manifest.namespace)?;
    actor.authorize_publish(&mut conn, &namespace, &manifest.name)?;

    // 5. What the registry knows must agree: version new, dependencies
    //    there, the files valid, a fork within its upstream's limits, and
    //    the version bump large enough for the changes. Every problem at
    //    once.
    let mut problems = check_against_registry(&ctx, &manifest, &mut warnings)?;
    problems.extend(file_errors);
    if let (Some(new_content), Some(upstream)) = (&new_content, &ctx.upstream) {
        if let Some((up_manifest, up_content)) = &upstream.read {
            // An upstream that today's rules cannot read sets no limits.
            problems.extend(gemeinwerk_package::adaptation::check_adaptation(
                up_manifest,
                up_content,
                &manifest,
                new_content,
            ));
        }
    }
    if let Some(new_content) = &new_content {
        problems.extend(check_semver(&ctx, &manifest, new_content, &mut warnings));
    }
    if !problems.is_empty() {
        return Err(RegistryError::Invalid(problems));
    }

    // 6. The archive goes to the blob store before the database commit: a
    //    crash in between leaves an orphan blob, never a version without one.
    let cksum = sha256_hex(upload);
    reg.blobs.put(&cksum, upload)?;

    // 7. Version, dependencies, audit entry and the jobs in one
    //    transaction.
    let origin = Origin {
        actor: Some(actor.login.clone()),
        ..origin.clone()
    };
    let codelist_source = match &new_content {
        Some(Content::Codelist(l)) => l.canonical_uri.as_deref().zip(l.source_version.as_deref()),
        _ => None,
    };
    let new = NewVersion {
        manifest: &manifest,
        codelist_source,
        manifest_text: &String::from_utf8_lossy(
            &files[gemeinwerk_package::manifest::MANIFEST_FILE],
        ),
        cksum: &cksum,
        size: upload.len(),
        publisher: actor.user_id,
        namespace_id: namespace.id,
        trusted: actor.trusted.as_ref(),
    };
    let known = ctx.package.as_ref().map(|p| p.id);
    // A publish racing another of the same package can lose at a unique
    // key (PostgreSQL), or find the package created since the context was
    // read; a second try checks against what is committed now and gives
    // the precise answer (version exists, kind differs).
    let recorded = match record(&mut conn, &origin, &new, known, false) {
        Err(e) if e.is_concurrent_change() => record(&mut conn, &origin, &new, known, true),
        other => other,
    };
    let feed_id = match recorded {
        Ok(id) => id,
        Err(e) => {
            discard_unused_blob(reg, &mut conn, &cksum, &e);
            return Err(e);
        }
    };
    reg.package_changed(&manifest.full_name());
    tracing::info!(package.name = %manifest.full_name(), package.version = %manifest.version, actor = %actor.login, "published");

    Ok(Published {
        name: manifest.full_name(),
        version: manifest.version.to_string(),
        cksum,
        warnings,
        feed_id,
    })
}

/// What the transaction writes.
struct NewVersion<'a> {
    manifest: &'a Manifest,
    /// A code list's canonical URI and own version, when it names both.
    codelist_source: Option<(&'a str, &'a str)>,
    manifest_text: &'a str,
    cksum: &'a str,
    size: usize,
    publisher: i64,
    namespace_id: i64,
    /// The pipeline, when a token from trusted publishing publishes.
    trusted: Option<&'a auth::TrustedGrant>,
}

/// Writes the version in one transaction. The package row is read again
/// inside it, where the decision cannot race: its kind, and whether the
/// package is still the one the context was read for. The version list is
/// checked again only then or on `recheck` (after a unique-key conflict);
/// otherwise the unique key on (package, version) catches a racing twin.
/// Answers the id of the publish's audit entry (its change-feed entry).
fn record(
    conn: &mut DbConn,
    origin: &Origin,
    new: &NewVersion,
    known_package: Option<i64>,
    recheck: bool,
) -> Result<i64> {
    let manifest = new.manifest;
    write_tx(conn, |conn| {
        let current = index::find_package(conn, &manifest.namespace, &manifest.name)?;
        if let Some(p) = &current {
            // Decided here, inside the transaction: two first publishes of
            // one name as different kinds must not both land.
            if p.kind != manifest.kind.as_str() {
                return Err(kind_mismatch(manifest, &p.kind));
            }
            if recheck || known_package != Some(p.id) {
                ensure_version_is_new(conn, p.id, manifest)?;
            }
        }
        let first_publish = current.is_none();
        let package_id = upsert_package(conn, manifest, new.namespace_id, current.map(|p| p.id))?;
        let version_id: i64 = diesel::insert_into(versions::table)
            .values((
                versions::package_id.eq(package_id),
                versions::num.eq(manifest.version.to_string()),
                versions::canonical_num.eq(canonical(&manifest.version)),
                versions::cksum.eq(new.cksum),
                versions::size.eq(new.size as i64),
                versions::manifest.eq(new.manifest_text),
                versions::forked_from.eq(manifest.forked_from.as_ref().map(|f| f.to_string())),
                versions::published_by.eq(Some(new.publisher)),
                versions::downloads.eq(0i64),
                versions::created_at.eq(now()),
            ))
            .returning(versions::id)
            .get_result(conn)?;
        if let Some((id, Some(fim_version))) =
            manifest.fim.as_ref().map(|f| (&f.id, f.version.as_ref()))
        {
            diesel::insert_into(fim_sources::table)
                .values((
                    fim_sources::version_id.eq(version_id),
                    fim_sources::fim_id.eq(id),
                    fim_sources::fim_version.eq(fim_version),
                ))
                .execute(conn)?;
        }
        if let Some((uri, source_version)) = new.codelist_source {
            diesel::insert_into(codelist_sources::table)
                .values((
                    codelist_sources::version_id.eq(version_id),
                    codelist_sources::canonical_uri.eq(uri),
                    codelist_sources::source_version.eq(source_version),
                ))
                .execute(conn)?;
        }
        for dep in &manifest.dependencies {
            diesel::insert_into(dependencies::table)
                .values((
                    dependencies::version_id.eq(version_id),
                    dependencies::dep_name.eq(dep.full_name()),
                    dependencies::req.eq(dep.req.to_string()),
                ))
                .execute(conn)?;
        }
        let dep_names: Vec<String> = manifest
            .dependencies
            .iter()
            .map(|d| d.full_name())
            .collect();
        super::packages::record_dependents(
            conn,
            &manifest.full_name(),
            &manifest.namespace,
            &dep_names,
        )?;
        let feed_id = audit::record(
            conn,
            origin,
            AuditAction::Publish,
            Some(&manifest.namespace),
            &format!("{}@{}", manifest.full_name(), manifest.version),
            match new.trusted {
                Some(t) => {
                    serde_json::json!({ "cksum": new.cksum, "size": new.size, "trusted_publishing": t })
                }
                None => serde_json::json!({ "cksum": new.cksum, "size": new.size }),
            },
        )?;
        jobs::enqueue(conn, Job::SyncIndex, &manifest.full_name())?;
        jobs::enqueue(conn, Job::SyncHistory, &manifest.full_name())?;
        let base = manifest.forked_from.as_ref().map(|f| f.to_string());
        events::record(
            conn,
            Event::Published,
            &manifest.full_name(),
            origin.actor.as_deref(),
            serde_json::json!({
                "version": manifest.version.to_string(), "cksum": new.cksum,
                "forked_from": base,
            }),
        )?;
        // A fork that starts with its first publish (not through
        // `gemeinwerk fork`) is news for its upstream too.
        if let (true, Some(base)) = (first_publish, &base) {
            events::record(
                conn,
                Event::Forked,
                super::forks::upstream_of(base),
                origin.actor.as_deref(),
                serde_json::json!({ "fork": manifest.full_name(), "base": base }),
            )?;
        }
        Ok(feed_id)
    })
}

/// The version without build metadata: `1.0.0+a` and `1.0.0+b` are the same
/// version to a resolver, so only one of them may exist.
fn canonical(v: &semver::Version) -> String {
    let mut v = v.clone();
    v.build = semver::BuildMetadata::EMPTY;
    v.to_string()
}

fn version_exists(manifest: &Manifest, num: &str) -> RegistryError {
    if num == manifest.version.to_string() {
        RegistryError::conflict(
            "version_exists",
            format!(
                "{}@{num} already exists; publish a new version instead",
                manifest.full_name()
            ),
        )
    } else {
        RegistryError::conflict(
            "version_exists",
            format!(
                "{}@{num} already exists and differs from {} only in build metadata; publish a new version instead",
                manifest.full_name(),
                manifest.version
            ),
        )
    }
}

/// Inside the transaction, against what is committed now.
fn ensure_version_is_new(conn: &mut DbConn, package_id: i64, manifest: &Manifest) -> Result<()> {
    let existing: Option<String> = versions::table
        .filter(versions::package_id.eq(package_id))
        .filter(versions::canonical_num.eq(canonical(&manifest.version)))
        .select(versions::num)
        .first(conn)
        .optional()?;
    match existing {
        None => Ok(()),
        Some(num) => Err(version_exists(manifest, &num)),
    }
}

/// Refuses a version that exists or a change of kind (both decided again
/// inside the publish transaction, where they cannot race); returns the
/// problems with dependencies and `forked-from`.
fn check_against_registry(
    ctx: &PublishContext,
    manifest: &Manifest,
    warnings: &mut Vec<Diagnostic>,
) -> Result<Vec<Diagnostic>> {
    if let Some(num) = ctx.taken_version(&canonical(&manifest.version)) {
        return Err(version_exists(manifest, num));
    }
    if let Some(existing) = &ctx.package {
        if existing.kind != manifest.kind.as_str() {
            return Err(kind_mismatch(manifest, &existing.kind));
        }
        if let Some(message) = &existing.deprecated {
            warnings.push(
                Diagnostic::warning(
                    "package.deprecated",
                    "gemeinwerk.toml",
                    format!("the package is deprecated: {message}"),
                )
                .arg("detail", message),
            );
        }
    }
    let mut problems = ctx.dependencies.absent.clone();
    if let Some(fork) = &manifest.forked_from {
        match &ctx.upstream {
            None => problems.push(
                Diagnostic::error(
                    "forked_from.not_found",
                    "gemeinwerk.toml",
                    format!("forked-from names {fork}, which does not exist in this registry"),
                )
                .arg("package", fork),
            ),
            Some(upstream) => {
                if let Some(cksum) = &fork.cksum {
                    if *cksum != upstream.cksum {
                        problems.push(
                            Diagnostic::error(
                                "forked_from.checksum_mismatch",
                                "gemeinwerk.toml",
                                format!(
                                    "forked-from checksum does not match {fork} (registry has {})",
                                    upstream.cksum
                                ),
                            )
                            .arg("package", fork)
                            .arg("checksum", &upstream.cksum),
                        );
                    }
                }
            }
        }
    }
    problems.extend(ctx.dependencies.unreadable.iter().cloned());
    Ok(problems)
}

/// The semver check: the new version against the highest existing release
/// below it (see `content::semver_baseline`), by the semantic diff of the
/// two. Returns the refusal, if any.
fn check_semver(
    ctx: &PublishContext,
    manifest: &Manifest,
    new_content: &Content,
    warnings: &mut Vec<Diagnostic>,
) -> Option<Diagnostic> {
    let baseline = ctx.baseline.as_ref()?;
    let Some((old_manifest, old_content)) = &baseline.read else {
        // Published before today's rules: refusing every new version for
        // it would lock the package; say what was not checked.
        warnings.push(
            Diagnostic::warning(
                "semver.unchecked",
                gemeinwerk_package::manifest::MANIFEST_FILE,
                format!(
                    "the version bump was not checked: {}@{} cannot be read with today's rules",
                    manifest.full_name(),
                    baseline.num
                ),
            )
            .arg("package", manifest.full_name())
            .arg("version", &baseline.num),
        );
        return None;
    };
    let changes = diff(old_manifest, old_content, manifest, new_content);
    semver_check::check(&baseline.version, &manifest.version, &changes)
        .err()
        .map(|e| e.to_diagnostic())
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

fn upsert_package(
    conn: &mut DbConn,
    manifest: &Manifest,
    namespace_id: i64,
    existing: Option<i64>,
) -> Result<i64> {
    let at = now();
    // The package builds on what its newest publish says it builds on.
    let base = manifest.forked_from.as_ref().map(|f| f.to_string());
    let upstream = base.as_deref().map(super::forks::upstream_of);
    match existing {
        Some(id) => {
            diesel::update(packages::table.find(id))
                .set((
                    packages::title.eq(&manifest.title),
                    packages::description.eq(&manifest.description),
                    packages::updated_at.eq(at),
                    packages::forked_from.eq(&base),
                    packages::upstream.eq(upstream),
                ))
                .execute(conn)?;
            Ok(id)
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
