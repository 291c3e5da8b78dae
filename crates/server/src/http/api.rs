//! The JSON API under `/api/v1`.

use actix_web::http::StatusCode;
use actix_web::{delete, get, post, put, web, HttpRequest, HttpResponse};
use futures_util::StreamExt;
use serde::Deserialize;

use super::actor::Authenticated;
use super::error::{ApiError, ApiResult};
use super::{auth_header, origin_of, Reg};
use crate::registry::auth::Role;
use crate::registry::downloads::Purpose;
use crate::registry::rate_limits::Limited;
use crate::registry::search::{RawSearchParams, RawSuggestParams, SearchParams};
use crate::registry::tokens::{self, TokenRequest};
use crate::registry::{accounts, content, forks, packages, publish, yank, RegistryError};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(publish_new)
        .service(package_info)
        .service(download)
        .service(schema_json)
        .service(xdatenfelder_xml)
        .service(diff_versions)
        .service(fork_network)
        .service(fork_package)
        .service(yank_version)
        .service(unyank_version)
        .service(deprecate)
        .service(undeprecate)
        .service(list_members)
        .service(add_member)
        .service(remove_member)
        .service(end_member_sessions)
        .service(audit_log)
        .service(create_token)
        .service(list_tokens)
        .service(revoke_token)
        .service(namespace_tokens)
        .service(revoke_namespace_token)
        .service(search)
        .service(suggest)
        .service(find_codelists)
        .service(find_fim)
        .service(super::ops::openapi);
}

/// Reads the request body up to `limit` bytes; more is refused with 413
/// before it is all in memory.
async fn read_limited(payload: web::Payload, limit: u64) -> ApiResult<Vec<u8>> {
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "upload_too_large",
            format!("the upload has more than {limit} bytes; at most {limit} are allowed"),
        )
    };
    within(
        super::UPLOAD_BODY_TIMEOUT,
        read_capped(payload, limit, too_large),
    )
    .await
}

/// A body that trickles in holds a connection and a buffer; past the
/// deadline the request is answered 408 with the error envelope.
async fn within<T>(
    deadline: std::time::Duration,
    read: impl std::future::Future<Output = ApiResult<T>>,
) -> ApiResult<T> {
    tokio::time::timeout(deadline, read)
        .await
        .unwrap_or_else(|_| {
            Err(ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                "body_timeout",
                format!(
                    "the request body did not arrive within {} s",
                    deadline.as_secs()
                ),
            ))
        })
}

/// Reads the body chunk by chunk and stops with `too_large` as soon as it
/// passes `limit`, so that an oversized body is never all in memory.
async fn read_capped(
    mut payload: web::Payload,
    limit: u64,
    too_large: impl Fn() -> ApiError,
) -> ApiResult<Vec<u8>> {
    let mut body = Vec::new();
    while let Some(chunk) = payload.next().await {
        let chunk =
            chunk.map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "bad_body", e.to_string()))?;
        if (body.len() + chunk.len()) as u64 > limit {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// `?wait=search`: answer once this node's search shows the publish, so
/// that a search straight after it finds it (read-your-writes, as `cargo
/// publish` returns once the crate can be used). Opt-in, because the wait
/// is the search follower's lag, which a pipeline publishing many
/// versions need not pay.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct PublishQuery {
    wait: Option<String>,
}

/// The longest a publish answer waits for search; after it the answer
/// goes out anyway, since the package is already in the index and
/// downloadable and the follower is only late.
const SEARCH_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

#[put("/api/v1/packages/new")]
async fn publish_new(
    reg: Reg,
    req: HttpRequest,
    Authenticated(actor): Authenticated,
    query: web::Query<PublishQuery>,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    let read_your_writes = match query.wait.as_deref() {
        None => false,
        Some("search") => true,
        Some(other) => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad_query",
                format!("the query parameter wait takes only \"search\", not {other:?}"),
            ))
        }
    };
    // Counted before the upload is read: a token over its limit costs
    // the node no body.
    reg.rate
        .check(Limited::Publish, &actor.token_id.to_string())?;
    let origin = origin_of(&req);
    let body = read_limited(payload, reg.config.limits.max_upload_bytes).await?;
    let publisher = reg.clone();
    let published =
        web::block(move || publish::publish(&publisher, &actor, &origin, &body)).await??;
    if read_your_writes {
        wait_for_search(&reg, published.feed_id).await;
    }
    Ok(HttpResponse::Ok().json(published))
}

async fn wait_for_search(reg: &Reg, feed_id: i64) {
    let start = std::time::Instant::now();
    while start.elapsed() < SEARCH_WAIT {
        let reg = reg.clone();
        let applied = web::block(move || reg.search.applied_cursor()).await;
        match applied {
            // No index in use yet (still building): waiting would not help.
            Ok(Some(cursor)) if cursor < feed_id => {}
            _ => return,
        }
        actix_web::rt::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    tracing::debug!(feed_id, "publish answered before search applied it");
}

#[get("/api/v1/packages/{ns}/{name}")]
async fn package_info(reg: Reg, path: web::Path<(String, String)>) -> ApiResult<HttpResponse> {
    let (ns, name) = path.into_inner();
    let view = web::block(move || packages::package_view(&reg, &ns, &name)).await??;
    Ok(HttpResponse::Ok().json(view))
}

/// `?purpose=inspect` marks a download that is only looked at (a diff, a
/// comparison): it is not counted.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct DownloadQuery {
    purpose: Option<String>,
}

#[get("/api/v1/packages/{ns}/{name}/{version}/download")]
async fn download(
    reg: Reg,
    path: web::Path<(String, String, String)>,
    query: web::Query<DownloadQuery>,
) -> ApiResult<HttpResponse> {
    let (ns, name, version) = path.into_inner();
    let purpose = Purpose::from_query(query.purpose.as_deref())?;
    let filename = format!("{ns}-{name}-{version}.tar.gz");
    let dl = web::block(move || packages::download(&reg, &ns, &name, &version, purpose)).await??;
    Ok(HttpResponse::Ok()
        .content_type("application/gzip")
        .insert_header(("ETag", format!("\"{}\"", dl.cksum)))
        .insert_header(("X-Checksum-Sha256", dl.cksum))
        // A published archive never changes.
        .insert_header(("Cache-Control", "public, max-age=31536000, immutable"))
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"{filename}\""),
        ))
        .body(dl.bytes))
}

/// The JSON Schema of a form version's submission data (FIT-Connect
/// `submissionSchema`); like the archive, it never changes.
#[get("/api/v1/packages/{ns}/{name}/{version}/schema.json")]
async fn schema_json(
    reg: Reg,
    path: web::Path<(String, String, String)>,
) -> ApiResult<HttpResponse> {
    let (ns, name, version) = path.into_inner();
    let schema =
        web::block(move || crate::registry::exports::schema_json(&reg, &ns, &name, &version))
            .await??;
    Ok(HttpResponse::Ok()
        .content_type("application/schema+json")
        .insert_header(("Cache-Control", "public, max-age=31536000, immutable"))
        .json(schema))
}

/// A form or field group version as an XDatenfelder 3.0.0 message; like
/// the schema, it never changes.
#[get("/api/v1/packages/{ns}/{name}/{version}/xdatenfelder.xml")]
async fn xdatenfelder_xml(
    reg: Reg,
    path: web::Path<(String, String, String)>,
) -> ApiResult<HttpResponse> {
    let (ns, name, version) = path.into_inner();
    let xml =
        web::block(move || crate::registry::exports::xdatenfelder_xml(&reg, &ns, &name, &version))
            .await??;
    Ok(HttpResponse::Ok()
        .content_type("application/xml")
        .insert_header(("Cache-Control", "public, max-age=31536000, immutable"))
        .body(xml))
}

#[derive(Deserialize)]
struct DiffQuery {
    from: Option<String>,
    to: Option<String>,
}

/// The semantic diff between two published versions, for the web UI.
#[get("/api/v1/packages/{ns}/{name}/diff")]
async fn diff_versions(
    reg: Reg,
    path: web::Path<(String, String)>,
    query: web::Query<DiffQuery>,
) -> ApiResult<HttpResponse> {
    let (ns, name) = path.into_inner();
    let query = query.into_inner();
    let (Some(from), Some(to)) = (query.from, query.to) else {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "missing_versions",
            "name both versions: ?from=1.0.0&to=1.1.0",
        ));
    };
    let diff = web::block(move || content::diff_versions(&reg, &ns, &name, &from, &to)).await??;
    Ok(HttpResponse::Ok().json(diff))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct YankBody {
    reason: Option<String>,
}

/// The answer of a change that has nothing else to say.
pub(super) fn done() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "ok": true }))
}

/// A JSON body that must be there; the error shows what was expected.
pub(super) fn required_json<T: for<'de> Deserialize<'de>>(
    body: &[u8],
    expected: &str,
) -> ApiResult<T> {
    serde_json::from_slice(body).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_json",
            format!("expected {expected}: {e}"),
        )
    })
}

/// An optional JSON body: empty means default, anything else must parse.
/// JSON bodies of the API are small (a reason, a login); anything larger
/// is refused with 413 and the error envelope before it is all read.
pub const MAX_JSON_BODY: u64 = 64 * 1024;

pub(super) async fn read_json_body(payload: web::Payload) -> ApiResult<Vec<u8>> {
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            format!("the request body has more than {MAX_JSON_BODY} bytes, the most a JSON body may have"),
        )
    };
    within(
        super::JSON_BODY_TIMEOUT,
        read_capped(payload, MAX_JSON_BODY, too_large),
    )
    .await
}

fn optional_json<T: for<'de> Deserialize<'de> + Default>(body: &[u8]) -> ApiResult<T> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(body).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_json",
            format!("the request body is not valid JSON for this endpoint: {e}"),
        )
    })
}

#[delete("/api/v1/packages/{ns}/{name}/{version}/yank")]
async fn yank_version(
    reg: Reg,
    req: HttpRequest,
    path: web::Path<(String, String, String)>,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    let body = read_json_body(payload).await?;
    let (ns, name, version) = path.into_inner();
    let body: YankBody = optional_json(&body)?;
    let (auth, origin) = (auth_header(&req), origin_of(&req));
    web::block(move || {
        yank::set_yanked(
            &reg,
            auth.as_deref().into(),
            &origin,
            &ns,
            &name,
            &version,
            true,
            body.reason.as_deref(),
        )
    })
    .await??;
    Ok(done())
}

#[put("/api/v1/packages/{ns}/{name}/{version}/unyank")]
async fn unyank_version(
    reg: Reg,
    req: HttpRequest,
    path: web::Path<(String, String, String)>,
) -> ApiResult<HttpResponse> {
    let (ns, name, version) = path.into_inner();
    let (auth, origin) = (auth_header(&req), origin_of(&req));
    web::block(move || {
        yank::set_yanked(
            &reg,
            auth.as_deref().into(),
            &origin,
            &ns,
            &name,
            &version,
            false,
            None,
        )
    })
    .await??;
    Ok(done())
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct DeprecateBody {
    message: Option<String>,
}

#[put("/api/v1/packages/{ns}/{name}/deprecate")]
async fn deprecate(
    reg: Reg,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    let body = read_json_body(payload).await?;
    let (ns, name) = path.into_inner();
    let body: DeprecateBody = optional_json(&body)?;
    let Some(message) = body.message.filter(|m| !m.trim().is_empty()) else {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "missing_message",
            "a deprecation needs a message that tells users what to use instead, e.g. {\"message\": \"use kassel/parkausweis\"}",
        ));
    };
    let (auth, origin) = (auth_header(&req), origin_of(&req));
    web::block(move || {
        yank::set_deprecated(
            &reg,
            auth.as_deref().into(),
            &origin,
            &ns,
            &name,
            Some(&message),
        )
    })
    .await??;
    Ok(done())
}

#[delete("/api/v1/packages/{ns}/{name}/deprecate")]
async fn undeprecate(
    reg: Reg,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (ns, name) = path.into_inner();
    let (auth, origin) = (auth_header(&req), origin_of(&req));
    web::block(move || {
        yank::set_deprecated(&reg, auth.as_deref().into(), &origin, &ns, &name, None)
    })
    .await??;
    Ok(done())
}

#[get("/api/v1/namespaces/{ns}/members")]
async fn list_members(reg: Reg, path: web::Path<String>) -> ApiResult<HttpResponse> {
    let ns = path.into_inner();
    let members = web::block(move || -> Result<_, RegistryError> {
        let mut conn = reg.db.conn()?;
        accounts::list_members(&mut conn, &ns)
    })
    .await??;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "members": members })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MemberBody {
    login: String,
    #[serde(default)]
    role: Option<String>,
    /// A login nobody has yet becomes a user (an invitation).
    #[serde(default)]
    invite: bool,
}

#[put("/api/v1/namespaces/{ns}/members")]
async fn add_member(
    reg: Reg,
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    let body = read_json_body(payload).await?;
    let ns = path.into_inner();
    let body: MemberBody = required_json(
        &body,
        r#"{"login": "…", "role": "owner|publisher", "invite": false}"#,
    )?;
    let role = match body.role.as_deref() {
        None => Role::Publisher,
        Some(r) => Role::parse(r).ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_role",
                format!("role \"{r}\" is not known; use \"owner\" or \"publisher\""),
            )
        })?,
    };
    let (auth, origin) = (auth_header(&req), origin_of(&req));
    web::block(move || -> Result<(), RegistryError> {
        let mut conn = reg.db.conn()?;
        let set = if body.invite {
            accounts::invite_member
        } else {
            accounts::set_member
        };
        set(
            &mut conn,
            auth.as_deref().into(),
            &origin,
            &ns,
            &body.login,
            role,
        )
    })
    .await??;
    Ok(done())
}

/// Ends every web session of a member.
#[delete("/api/v1/namespaces/{ns}/members/{login}/sessions")]
async fn end_member_sessions(
    reg: Reg,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (ns, login) = path.into_inner();
    let (auth, origin) = (auth_header(&req), origin_of(&req));
    let ended = web::block(move || -> Result<usize, RegistryError> {
        let mut conn = reg.db.conn()?;
        accounts::end_member_sessions(&mut conn, auth.as_deref().into(), &origin, &ns, &login)
    })
    .await??;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "ok": true, "ended": ended })))
}

#[delete("/api/v1/namespaces/{ns}/members/{login}")]
async fn remove_member(
    reg: Reg,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (ns, login) = path.into_inner();
    let (auth, origin) = (auth_header(&req), origin_of(&req));
    web::block(move || -> Result<(), RegistryError> {
        let mut conn = reg.db.conn()?;
        accounts::remove_member(&mut conn, auth.as_deref().into(), &origin, &ns, &login)
    })
    .await??;
    Ok(done())
}

#[derive(Deserialize)]
struct AuditQuery {
    limit: Option<i64>,
}

#[get("/api/v1/namespaces/{ns}/audit")]
async fn audit_log(
    reg: Reg,
    req: HttpRequest,
    path: web::Path<String>,
    query: web::Query<AuditQuery>,
) -> ApiResult<HttpResponse> {
    let ns = path.into_inner();
    let limit = query.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_limit",
            "limit must be between 1 and 1000",
        ));
    }
    let (auth, origin) = (auth_header(&req), origin_of(&req));
    let entries = web::block(move || -> Result<_, RegistryError> {
        let mut conn = reg.db.conn()?;
        accounts::audit_log(&mut conn, auth.as_deref().into(), &origin, &ns, limit)
    })
    .await??;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "entries": entries })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenBody {
    name: String,
    scopes: Vec<String>,
    #[serde(default)]
    namespace: Option<String>,
    /// A JSON number: `90` and `90.0` are the same integer to a client.
    expires_in_days: serde_json::Number,
}

/// Makes a token for the caller: shown once, in this answer.
#[post("/api/v1/tokens")]
async fn create_token(
    reg: Reg,
    req: HttpRequest,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    let body = read_json_body(payload).await?;
    let body: TokenBody = required_json(
        &body,
        r#"{"name": "…", "scopes": ["publish"], "namespace": "…", "expires_in_days": 90}"#,
    )?;
    let request = TokenRequest {
        name: body.name,
        scopes: body.scopes,
        namespace: body.namespace,
        // Not a whole number: out of range, refused below.
        expires_in_days: body.expires_in_days.as_i64().unwrap_or_else(|| {
            body.expires_in_days
                .as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 1e9)
                .map_or(-1, |f| f as i64)
        }),
    };
    let (auth, origin) = (auth_header(&req), origin_of(&req));
    let created = web::block(move || -> Result<_, RegistryError> {
        let mut conn = reg.db.conn()?;
        tokens::create(
            &mut conn,
            &reg.rate,
            auth.as_deref().into(),
            &origin,
            &request,
        )
    })
    .await??;
    Ok(HttpResponse::Created().json(created))
}

#[get("/api/v1/tokens")]
async fn list_tokens(reg: Reg, req: HttpRequest) -> ApiResult<HttpResponse> {
    let auth = auth_header(&req);
    let list = web::block(move || -> Result<_, RegistryError> {
        let mut conn = reg.db.conn()?;
        tokens::list_own(&mut conn, auth.as_deref().into())
    })
    .await??;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "tokens": list })))
}

/// A token id from the path: a number, else the error envelope.
fn token_id(raw: &str) -> ApiResult<i64> {
    raw.parse().map_err(|_| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_token_id",
            "a token id is a number, as the token list shows it",
        )
    })
}

#[delete("/api/v1/tokens/{id}")]
async fn revoke_token(
    reg: Reg,
    req: HttpRequest,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = token_id(&path.into_inner())?;
    let (auth, origin) = (auth_header(&req), origin_of(&req));
    web::block(move || -> Result<(), RegistryError> {
        let mut conn = reg.db.conn()?;
        tokens::revoke_own(&mut conn, auth.as_deref().into(), &origin, id)
    })
    .await??;
    Ok(done())
}

#[get("/api/v1/namespaces/{ns}/tokens")]
async fn namespace_tokens(
    reg: Reg,
    req: HttpRequest,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let ns = path.into_inner();
    let (auth, origin) = (auth_header(&req), origin_of(&req));
    let list = web::block(move || -> Result<_, RegistryError> {
        let mut conn = reg.db.conn()?;
        tokens::list_for_namespace(&mut conn, auth.as_deref().into(), &origin, &ns)
    })
    .await??;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "tokens": list })))
}

#[delete("/api/v1/namespaces/{ns}/tokens/{id}")]
async fn revoke_namespace_token(
    reg: Reg,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (ns, id) = path.into_inner();
    let id = token_id(&id)?;
    let (auth, origin) = (auth_header(&req), origin_of(&req));
    web::block(move || -> Result<(), RegistryError> {
        let mut conn = reg.db.conn()?;
        tokens::revoke_in_namespace(&mut conn, auth.as_deref().into(), &origin, &ns, id)
    })
    .await??;
    Ok(done())
}

#[get("/api/v1/packages/{ns}/{name}/forks")]
async fn fork_network(reg: Reg, path: web::Path<(String, String)>) -> ApiResult<HttpResponse> {
    let (ns, name) = path.into_inner();
    let network = web::block(move || forks::network(&reg, &ns, &name)).await??;
    Ok(HttpResponse::Ok().json(network))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ForkBody {
    /// `ns/name` of the new package.
    target: String,
    version: Option<String>,
}

#[post("/api/v1/packages/{ns}/{name}/forks")]
async fn fork_package(
    reg: Reg,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    let body = read_json_body(payload).await?;
    let (ns, name) = path.into_inner();
    let body: ForkBody = required_json(&body, r#"{"target": "ns/name", "version": "1.0.0"}"#)?;
    let (auth, origin) = (auth_header(&req), origin_of(&req));
    let registered = web::block(move || {
        forks::register(
            &reg,
            auth.as_deref().into(),
            &origin,
            &ns,
            &name,
            body.version.as_deref(),
            &body.target,
        )
    })
    .await??;
    Ok(HttpResponse::Created().json(registered))
}

#[get("/api/v1/search")]
async fn search(reg: Reg, query: web::Query<RawSearchParams>) -> ApiResult<HttpResponse> {
    let params = SearchParams::parse(&query.into_inner())?;
    let results = web::block(move || reg.search(&params)).await??;
    Ok(HttpResponse::Ok().json(results))
}

/// Code list packages by their list's canonical URI and own version.
#[get("/api/v1/codelists")]
async fn find_codelists(
    reg: Reg,
    query: web::Query<crate::registry::sources::RawCodelistQuery>,
) -> ApiResult<HttpResponse> {
    let (uri, version) = query.into_inner().parse()?;
    let found = web::block(move || -> crate::registry::error::Result<_> {
        let mut conn = reg.db.conn()?;
        crate::registry::sources::find_codelists(&mut conn, &uri, &version)
    })
    .await??;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "codelists": found })))
}

/// Packages made from a FIM element, by its id and version.
#[get("/api/v1/fim")]
async fn find_fim(
    reg: Reg,
    query: web::Query<crate::registry::sources::RawFimQuery>,
) -> ApiResult<HttpResponse> {
    let (id, version) = query.into_inner().parse()?;
    let found = web::block(move || -> crate::registry::error::Result<_> {
        let mut conn = reg.db.conn()?;
        crate::registry::sources::find_fim(&mut conn, &id, &version)
    })
    .await??;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "packages": found })))
}

#[get("/api/v1/search/suggest")]
async fn suggest(reg: Reg, query: web::Query<RawSuggestParams>) -> ApiResult<HttpResponse> {
    let (q, limit) = query.into_inner().parse()?;
    let suggestions = web::block(move || reg.suggest(&q, limit)).await??;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "suggestions": suggestions })))
}
