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
        Ok((warnings, views::view_lags(&reg)?))
    })
    .await;
    match db {
        Ok(Ok((warnings, lags))) => {
            let views: serde_json::Map<String, serde_json::Value> = lags
                .into_iter()
                .map(|l| {
                    (
                        l.view.to_string(),
                        serde_json::json!({ "lag_changes": l.lag_changes, "lag_seconds": l.lag_seconds }),
                    )
                })
                .collect();
            let mut body = serde_json::json!({ "status": "ok", "views": views });
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
    let (totals, (pending, parked), lags) =
        actix_web::web::block(move || -> Result<_, RegistryError> {
            let mut conn = reg.db.conn()?;
            let totals = packages::totals(&mut conn)?;
            let pending = jobs::pending_count(&mut conn)?;
            let parked = jobs::parked(&mut conn)?.len();
            drop(conn);
            Ok((totals, (pending, parked), views::view_lags(&reg)?))
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
    body.push_str(
        "# HELP gemeinwerk_background_panics_total Panics of this node's background threads, each followed by a restart.\n\
         # TYPE gemeinwerk_background_panics_total counter\n",
    );
    for thread in [
        "gemeinwerk-jobs-index",
        "gemeinwerk-jobs",
        "gemeinwerk-search",
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
