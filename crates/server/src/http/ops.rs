//! Health, metrics and the OpenAPI document.

use actix_web::{get, HttpResponse};
use diesel::prelude::*;

use super::error::ApiResult;
use super::Reg;
use crate::registry::{db_health, jobs, supervisor, RegistryError};
use crate::store::schema::{namespaces, packages, versions};

#[get("/healthz")]
pub(super) async fn healthz(reg: Reg) -> HttpResponse {
    let db = actix_web::web::block(move || -> Result<Vec<String>, RegistryError> {
        let mut conn = reg.db.conn()?;
        diesel::sql_query("SELECT 1").execute(&mut *conn)?;
        // A table without statistics still serves, slowly: a warning, not
        // a reason for the load balancer to take the node out.
        let unanalysed = db_health::never_analysed(&mut conn)?;
        Ok(unanalysed.iter().map(|t| t.warning()).collect())
    })
    .await;
    match db {
        Ok(Ok(warnings)) if warnings.is_empty() => {
            HttpResponse::Ok().json(serde_json::json!({ "status": "ok" }))
        }
        Ok(Ok(warnings)) => {
            HttpResponse::Ok().json(serde_json::json!({ "status": "ok", "warnings": warnings }))
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
    let (ns, pkgs, vers, (pending, parked)) =
        actix_web::web::block(move || -> Result<_, RegistryError> {
            let mut conn = reg.db.conn()?;
            let ns: i64 = namespaces::table.count().get_result(&mut *conn)?;
            let pkgs: i64 = packages::table.count().get_result(&mut *conn)?;
            let vers: i64 = versions::table.count().get_result(&mut *conn)?;
            let pending = jobs::pending_count(&mut conn)?;
            let parked = jobs::parked(&mut conn)?.len();
            Ok((ns, pkgs, vers, (pending, parked)))
        })
        .await??;
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
    for thread in ["gemeinwerk-jobs", "gemeinwerk-search"] {
        let count = supervisor::panic_counts().get(thread).copied().unwrap_or(0);
        body.push_str(&format!(
            "gemeinwerk_background_panics_total{{thread=\"{thread}\"}} {count}\n"
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
