//! Health, metrics and the OpenAPI document.

use actix_web::{get, HttpResponse};

use super::error::ApiResult;
use super::Reg;
use crate::registry::{db_health, jobs, packages, supervisor, views, RegistryError};

/// Health, warnings and the lag of each derived view. A view that is
/// behind does not make the node unhealthy: the database, which answers the
/// sparse index and the API, is the authority; the lag is there to be
/// watched.
#[get("/healthz")]
pub(super) async fn healthz(reg: Reg) -> HttpResponse {
    let db = actix_web::web::block(move || -> Result<_, RegistryError> {
        let mut conn = reg.db.conn()?;
        // A table without statistics still serves, slowly: a warning, not
        // a reason for the load balancer to take the node out.
        let warnings = db_health::check(&mut conn)?;
        drop(conn);
        Ok((warnings, views::view_lags(&reg)?, reg.blobs.probe()))
    })
    .await;
    match db {
        Ok(Ok((mut warnings, lags, blobs))) => {
            let views: serde_json::Map<String, serde_json::Value> = lags
                .into_iter()
                .map(|l| {
                    (
                        l.view.to_string(),
                        serde_json::json!({ "lag_changes": l.lag_changes, "lag_seconds": l.lag_seconds }),
                    )
                })
                .collect();
            // Every node shares the object store: taking nodes out of the
            // load balancer would not bring it back, and the sparse index
            // and the API still answer from the database. So an
            // unreachable store is reported and warned about, not a 503.
            let blob_store = match blobs {
                Ok(()) => "ok".to_string(),
                Err(e) => {
                    tracing::error!(error = %e, "health check: blob store unreachable");
                    warnings.push(format!("the blob store does not answer: {e}"));
                    "unreachable".to_string()
                }
            };
            let mut body =
                serde_json::json!({ "status": "ok", "blob_store": blob_store, "views": views });
            if !warnings.is_empty() {
                body["warnings"] = serde_json::json!(warnings);
            }
            HttpResponse::Ok().json(body)
        }
        Ok(Err(e)) => {
            tracing::error!(error = %e, "health check: database unreachable");
            HttpResponse::ServiceUnavailable()
                .json(serde_json::json!({ "status": "database unreachable" }))
        }
        Err(_) => {
            HttpResponse::ServiceUnavailable().json(serde_json::json!({ "status": "overloaded" }))
        }
    }
}

#[get("/metrics")]
pub(super) async fn metrics(
    reg: Reg,
    requests: Option<actix_web::web::Data<super::access::RequestMetrics>>,
) -> ApiResult<HttpResponse> {
    let blob_errors = reg.blobs.errors();
    let (listening, changes_received) = (reg.changes.connected(), reg.changes.received());
    let index_writer = reg.shared_index.is_writer();
    let (cached_files, cached_bytes) = reg.index_cache.size();
    let (totals, (pending, parked, by_kind), lags) =
        actix_web::web::block(move || -> Result<_, RegistryError> {
            let mut conn = reg.db.conn()?;
            let totals = packages::totals(&mut conn)?;
            let pending = jobs::pending_count(&mut conn)?;
            let parked = jobs::parked(&mut conn)?.len();
            let by_kind = jobs::pending_by_kind(&mut conn)?;
            drop(conn);
            Ok((totals, (pending, parked, by_kind), views::view_lags(&reg)?))
        })
        .await??;
    let packages::Totals {
        namespaces: ns,
        packages: pkgs,
        versions: vers,
    } = totals;
    let mut body = format!(
        "# HELP gemeinwerk_namespaces Namespaces in the registry.\n# TYPE gemeinwerk_namespaces gauge\ngemeinwerk_namespaces {ns}\n\
         # HELP gemeinwerk_packages Packages in the registry.\n# TYPE gemeinwerk_packages gauge\ngemeinwerk_packages {pkgs}\n\
         # HELP gemeinwerk_versions Published versions.\n# TYPE gemeinwerk_versions gauge\ngemeinwerk_versions {vers}\n\
         # HELP gemeinwerk_jobs_pending Jobs waiting in the queue.\n# TYPE gemeinwerk_jobs_pending gauge\ngemeinwerk_jobs_pending {pending}\n\
         # HELP gemeinwerk_jobs_parked Jobs given up on after failing; admin fsck lists them.\n# TYPE gemeinwerk_jobs_parked gauge\ngemeinwerk_jobs_parked {parked}\n"
    );
    body.push_str("# HELP gemeinwerk_jobs_queued Jobs in the queue by kind, claimed, waiting and parked.\n# TYPE gemeinwerk_jobs_queued gauge\n");
    for (kind, (n, _)) in &by_kind {
        body.push_str(&format!("gemeinwerk_jobs_queued{{kind=\"{kind}\"}} {n}\n"));
    }
    body.push_str("# HELP gemeinwerk_jobs_oldest_seconds Age of the oldest job in the queue by kind.\n# TYPE gemeinwerk_jobs_oldest_seconds gauge\n");
    let now = chrono::Utc::now().naive_utc();
    for (kind, (_, oldest)) in &by_kind {
        let age = oldest.map_or(0.0, |t| (now - t).num_milliseconds().max(0) as f64 / 1000.0);
        body.push_str(&format!(
            "gemeinwerk_jobs_oldest_seconds{{kind=\"{kind}\"}} {age:.3}\n"
        ));
    }
    body.push_str(&format!(
        "# HELP gemeinwerk_blob_store_errors_total Requests to the blob store that failed on this node.\n# TYPE gemeinwerk_blob_store_errors_total counter\ngemeinwerk_blob_store_errors_total {blob_errors}\n"
    ));
    body.push_str(&format!(
        "# HELP gemeinwerk_change_listener_connected 1 while this node hears every change made through other nodes (PostgreSQL LISTEN).\n# TYPE gemeinwerk_change_listener_connected gauge\ngemeinwerk_change_listener_connected {}\n\
         # HELP gemeinwerk_changes_received_total Change notifications this node received.\n# TYPE gemeinwerk_changes_received_total counter\ngemeinwerk_changes_received_total {changes_received}\n",
        u8::from(listening)
    ));
    body.push_str(&format!(
        "# HELP gemeinwerk_git_index_writer 1 while this node writes the git index that the nodes share (PostgreSQL and a bucket).\n# TYPE gemeinwerk_git_index_writer gauge\ngemeinwerk_git_index_writer {}\n",
        u8::from(index_writer)
    ));
    body.push_str(&format!(
        "# HELP gemeinwerk_index_cache_files Sparse index files this node keeps in memory.\n# TYPE gemeinwerk_index_cache_files gauge\ngemeinwerk_index_cache_files {cached_files}\n\
         # HELP gemeinwerk_index_cache_bytes Bytes they are counted at (bounded, see docs/operations.md).\n# TYPE gemeinwerk_index_cache_bytes gauge\ngemeinwerk_index_cache_bytes {cached_bytes}\n"
    ));
    body.push_str(
        "# HELP gemeinwerk_background_panics_total Panics of this node's background threads, each followed by a restart.\n\
         # TYPE gemeinwerk_background_panics_total counter\n",
    );
    for thread in [
        "gemeinwerk-jobs-index",
        "gemeinwerk-jobs",
        "gemeinwerk-jobs-webhooks",
        "gemeinwerk-search",
        "gemeinwerk-changes",
    ] {
        let count = supervisor::panic_counts().get(thread).copied().unwrap_or(0);
        body.push_str(&format!(
            "gemeinwerk_background_panics_total{{thread=\"{thread}\"}} {count}\n"
        ));
    }
    body.push_str("# HELP gemeinwerk_view_lag_changes Changes a derived view has not applied yet.\n# TYPE gemeinwerk_view_lag_changes gauge\n");
    for l in &lags {
        body.push_str(&format!(
            "gemeinwerk_view_lag_changes{{view=\"{}\"}} {}\n",
            l.view, l.lag_changes
        ));
    }
    body.push_str("# HELP gemeinwerk_view_lag_seconds Age of the oldest change a derived view has not applied yet.\n# TYPE gemeinwerk_view_lag_seconds gauge\n");
    for l in &lags {
        body.push_str(&format!(
            "gemeinwerk_view_lag_seconds{{view=\"{}\"}} {:.3}\n",
            l.view, l.lag_seconds
        ));
    }
    if let Some(requests) = requests {
        body.push_str(&requests.render());
    }
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(body))
}

#[get("/api/openapi.json")]
pub(super) async fn openapi() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(super::routes::OPENAPI)
}
