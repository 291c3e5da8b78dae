//! One middleware for what every request leaves behind: a tracing span
//! that the handler's own events belong to, one access-log line, and the
//! request count and latency histogram per route and status for
//! `/metrics`.
//!
//! The route is the pattern (`/index/{ns}/{name}`), never the path, so
//! that the metrics stay a bounded set however many packages there are.
//! Query strings are not logged: a search query is the user's business.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use tracing::Instrument;

/// Upper bounds of the latency buckets, in seconds (Prometheus' `le`).
const BUCKETS: [f64; 11] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

static NEXT_REQUEST_ID: AtomicU64 = AtomicU64::new(1);

/// Counts and latencies of one route, method and status.
#[derive(Default, Clone)]
struct Series {
    count: u64,
    sum_seconds: f64,
    /// Requests at or below each bound of [`BUCKETS`] (cumulative when
    /// rendered).
    buckets: [u64; BUCKETS.len()],
}

/// The request metrics of this node.
#[derive(Default)]
pub struct RequestMetrics {
    series: Mutex<BTreeMap<(String, String, u16), Series>>,
}

impl RequestMetrics {
    fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let mut series = self.series.lock().unwrap_or_else(|p| p.into_inner());
        let s = series
            .entry((method.to_string(), route.to_string(), status))
            .or_default();
        s.count += 1;
        s.sum_seconds += seconds;
        if let Some(i) = BUCKETS.iter().position(|le| seconds <= *le) {
            s.buckets[i] += 1;
        }
    }

    /// The Prometheus text of the request counter and the latency histogram.
    pub fn render(&self) -> String {
        use std::fmt::Write as _;
        let series = self
            .series
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let mut out = String::from(
            "# HELP gemeinwerk_http_requests_total HTTP requests answered, by route and status.\n\
             # TYPE gemeinwerk_http_requests_total counter\n",
        );
        for ((method, route, status), s) in &series {
            let _ = writeln!(
                out,
                "gemeinwerk_http_requests_total{{method=\"{method}\",route=\"{}\",status=\"{status}\"}} {}",
                escape(route),
                s.count
            );
        }
        out.push_str(
            "# HELP gemeinwerk_http_request_duration_seconds Time to answer, by route and status.\n\
             # TYPE gemeinwerk_http_request_duration_seconds histogram\n",
        );
        for ((method, route, status), s) in &series {
            let labels = format!(
                "method=\"{method}\",route=\"{}\",status=\"{status}\"",
                escape(route)
            );
            let mut cumulative = 0;
            for (le, n) in BUCKETS.iter().zip(s.buckets) {
                cumulative += n;
                let _ = writeln!(
                    out,
                    "gemeinwerk_http_request_duration_seconds_bucket{{{labels},le=\"{le}\"}} {cumulative}"
                );
            }
            let _ = writeln!(
                out,
                "gemeinwerk_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}\n\
                 gemeinwerk_http_request_duration_seconds_sum{{{labels}}} {}\n\
                 gemeinwerk_http_request_duration_seconds_count{{{labels}}} {}",
                s.count, s.sum_seconds, s.count
            );
        }
        out
    }
}

/// A label value as the Prometheus text format wants it.
fn escape(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"")
}

/// The middleware: wrap the app with `middleware::from_fn(access::record)`.
pub async fn record(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let id = NEXT_REQUEST_ID.fetch_add(1, Ordering::Relaxed);
    let method = req.method().to_string();
    let path = req.path().to_string();
    let peer = req
        .peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_default();
    let metrics = req
        .app_data::<actix_web::web::Data<RequestMetrics>>()
        .cloned();
    let span =
        tracing::info_span!("request", request_id = id, http.method = %method, http.path = %path);
    let result = next.call(req).instrument(span.clone()).await;
    let seconds = started.elapsed().as_secs_f64();
    let (status, route) = match &result {
        Ok(res) => (
            res.status().as_u16(),
            res.request()
                .match_pattern()
                .unwrap_or_else(|| "(unmatched)".into()),
        ),
        // An error that was not turned into a response (rare: the
        // handlers answer with the JSON envelope themselves).
        Err(e) => (
            e.as_response_error().status_code().as_u16(),
            "(error)".into(),
        ),
    };
    if let Some(metrics) = metrics {
        metrics.observe(&method, &route, status, seconds);
    }
    span.in_scope(|| {
        tracing::info!(
            target: "gemeinwerk::access",
            status,
            route = %route,
            client_addr = %peer,
            duration_ms = (seconds * 1000.0 * 100.0).round() / 100.0,
            "{method} {path} {status}"
        );
    });
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative_and_labelled_by_route() {
        let m = RequestMetrics::default();
        m.observe("GET", "/index/{ns}/{name}", 200, 0.0004);
        m.observe("GET", "/index/{ns}/{name}", 200, 0.03);
        m.observe("GET", "/index/{ns}/{name}", 304, 0.0002);
        let text = m.render();
        assert!(text.contains(
            "gemeinwerk_http_requests_total{method=\"GET\",route=\"/index/{ns}/{name}\",status=\"200\"} 2"
        ));
        assert!(text.contains(
            "gemeinwerk_http_request_duration_seconds_bucket{method=\"GET\",route=\"/index/{ns}/{name}\",status=\"200\",le=\"0.001\"} 1"
        ));
        assert!(text.contains(
            "gemeinwerk_http_request_duration_seconds_bucket{method=\"GET\",route=\"/index/{ns}/{name}\",status=\"200\",le=\"0.05\"} 2"
        ));
        assert!(text.contains(
            "gemeinwerk_http_request_duration_seconds_count{method=\"GET\",route=\"/index/{ns}/{name}\",status=\"304\"} 1"
        ));
    }
}
