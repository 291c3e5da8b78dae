//! Which methods a known address answers, for the catch-all handler: a
//! known path asked with a method it does not answer gets `405` with an
//! `Allow` header instead of `404`. The addresses of the JSON API, the
//! index, git and ops come from the OpenAPI document the server serves (one
//! source of truth; `tests/it/contract.rs` holds the document against the
//! handlers' route attributes and the running server), the web pages from
//! [`super::web::PAGES`], held against `http/web/` by the same test.

use std::sync::OnceLock;

use actix_web::http::Method;

/// The OpenAPI document, served at `/api/openapi.json`.
pub const OPENAPI: &str = include_str!("../../../../docs/openapi.json");

/// The OpenAPI extension that marks a path parameter spanning several
/// segments (`/git/index.git/{path}` with `path` = `objects/ab/cdef…`):
/// OpenAPI itself has no way to say that.
pub const MULTI_SEGMENT: &str = "x-multi-segment";

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    /// One non-empty segment.
    Param,
    /// The rest of the path, one or more segments.
    Rest,
}

/// A path template as actix writes it (`/pakete/{ns}/{name}`,
/// `/git/index.git/{tail:.*}`) or as OpenAPI does (`{path}` with
/// [`MULTI_SEGMENT`]).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Template(Vec<Segment>);

impl Template {
    fn parse(template: &str, is_rest: impl Fn(&str) -> bool) -> Template {
        let segments = template
            .trim_start_matches('/')
            .split('/')
            .map(
                |s| match s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                    Some(param) if param.ends_with(":.*") || is_rest(param) => Segment::Rest,
                    Some(_) => Segment::Param,
                    None => Segment::Literal(s.to_string()),
                },
            )
            .collect();
        Template(segments)
    }

    fn matches(&self, path: &str) -> bool {
        let mut parts = path.trim_start_matches('/').split('/');
        for segment in &self.0 {
            match segment {
                // The rest must hold at least one non-empty segment.
                Segment::Rest => return parts.any(|p| !p.is_empty()),
                Segment::Param => match parts.next() {
                    Some(p) if !p.is_empty() => {}
                    _ => return false,
                },
                Segment::Literal(l) => {
                    if parts.next() != Some(l.as_str()) {
                        return false;
                    }
                }
            }
        }
        parts.next().is_none()
    }
}

struct Route {
    template: Template,
    methods: Vec<Method>,
}

/// The documented paths with their methods, read once from the embedded
/// document. A document that does not parse is a build mistake the
/// contract test catches; the server then answers 404 as before.
fn documented() -> &'static [Route] {
    static ROUTES: OnceLock<Vec<Route>> = OnceLock::new();
    ROUTES.get_or_init(|| match serde_json::from_str(OPENAPI) {
        Ok(doc) => routes_of_document(&doc),
        Err(e) => {
            tracing::error!(error = %e, "the embedded OpenAPI document does not parse");
            Vec::new()
        }
    })
}

const OPERATIONS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

fn routes_of_document(doc: &serde_json::Value) -> Vec<Route> {
    let Some(paths) = doc["paths"].as_object() else {
        return Vec::new();
    };
    paths
        .iter()
        .map(|(path, item)| {
            let methods: Vec<Method> = OPERATIONS
                .iter()
                .filter(|m| item.get(**m).is_some())
                .filter_map(|m| Method::from_bytes(m.to_uppercase().as_bytes()).ok())
                .collect();
            let rest = multi_segment_params(item);
            Route {
                template: Template::parse(path, |p| rest.iter().any(|r| r == p)),
                methods,
            }
        })
        .collect()
}

/// The names of the parameters marked [`MULTI_SEGMENT`], on the path item
/// or on any of its operations.
pub fn multi_segment_params(item: &serde_json::Value) -> Vec<String> {
    let lists = std::iter::once(&item["parameters"])
        .chain(OPERATIONS.iter().map(|m| &item[*m]["parameters"]));
    lists
        .filter_map(|l| l.as_array())
        .flatten()
        .filter(|p| p["in"] == "path" && p[MULTI_SEGMENT] == true)
        .filter_map(|p| p["name"].as_str().map(str::to_string))
        .collect()
}

fn web_pages() -> &'static [Route] {
    static ROUTES: OnceLock<Vec<Route>> = OnceLock::new();
    ROUTES.get_or_init(|| {
        super::web::PAGES
            .iter()
            .map(|(method, path)| Route {
                template: Template::parse(path, |_| false),
                methods: Method::from_bytes(method.as_bytes()).into_iter().collect(),
            })
            .collect()
    })
}

/// The methods the server answers at `path`, in a fixed order, HEAD beside
/// GET (a HEAD is answered as its GET); empty for an unknown path.
pub fn allowed_methods(path: &str) -> Vec<Method> {
    let mut allowed: Vec<Method> = Vec::new();
    for route in documented().iter().chain(web_pages()) {
        if route.template.matches(path) {
            allowed.extend(route.methods.iter().cloned());
        }
    }
    if allowed.contains(&Method::GET) {
        allowed.push(Method::HEAD);
    }
    let order = |m: &Method| {
        [
            Method::GET,
            Method::HEAD,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
            Method::OPTIONS,
            Method::TRACE,
        ]
        .iter()
        .position(|o| o == m)
    };
    allowed.sort_by_key(order);
    allowed.dedup();
    allowed
}

/// The value of an `Allow` header.
pub fn allow_header(methods: &[Method]) -> String {
    methods
        .iter()
        .map(Method::as_str)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_match_whole_segments() {
        let t = Template::parse("/api/v1/packages/{ns}/{name}", |_| false);
        assert!(t.matches("/api/v1/packages/kassel/antrag"));
        assert!(!t.matches("/api/v1/packages/kassel"));
        assert!(!t.matches("/api/v1/packages/kassel/"));
        assert!(!t.matches("/api/v1/packages/kassel/antrag/1.0.0"));
        assert!(!t.matches("/api/v1/packagesX/kassel/antrag"));
    }

    #[test]
    fn a_rest_parameter_spans_segments_but_not_nothing() {
        for t in [
            Template::parse("/git/index.git/{tail:.*}", |_| false),
            Template::parse("/git/index.git/{path}", |p| p == "path"),
        ] {
            assert!(t.matches("/git/index.git/HEAD"));
            assert!(t.matches("/git/index.git/objects/ab/cdef"));
            assert!(!t.matches("/git/index.git"));
            assert!(!t.matches("/git/index.git/"));
        }
    }

    #[test]
    fn the_embedded_document_yields_the_api_methods() {
        assert_eq!(
            allow_header(&allowed_methods("/api/v1/packages/kassel/antrag/deprecate")),
            "PUT, DELETE"
        );
        assert_eq!(
            allow_header(&allowed_methods("/git/index.git/objects/ab/cd")),
            "GET, HEAD"
        );
        assert_eq!(
            allow_header(&allowed_methods("/api/v1/packages/new")),
            "PUT"
        );
        assert!(allowed_methods("/nowhere").is_empty());
        // A web form: POST only.
        assert_eq!(allow_header(&allowed_methods("/abmelden")), "POST");
    }
}
