//! The service's metrics, in the OpenMetrics text format Prometheus scrapes (the
//! `prometheus-client` crate): counters since the process started, and the latency of every
//! route as a histogram.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

/// The labels of a request's latency: its method and its route as declared (`/v1/credentials/{id}`,
/// never the path with its ids), or `unmatched` for paths no route serves, so that the label set
/// stays bounded whatever clients send.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    /// The request method, when it is one of the methods routes serve; `other` otherwise.
    pub method: &'static str,
    /// The route's template, or `unmatched`.
    pub route: String,
    /// The status class: `2xx`, `3xx`, `4xx` or `5xx`.
    pub status: &'static str,
}

/// Service counters and histograms, registered once; reading them for `/metrics` takes no lock
/// that a request holds beyond the histogram family's map.
pub struct Metrics {
    registry: Registry,
    /// Request latency in seconds, by route, method and status class.
    pub http_duration: Family<RouteLabels, Histogram>,
    /// Responses by class.
    pub http_2xx: Counter,
    /// 4xx responses.
    pub http_4xx: Counter,
    /// 5xx responses.
    pub http_5xx: Counter,
    /// Verifications that found the credential valid.
    pub verify_valid: Counter,
    /// Verifications that found it invalid.
    pub verify_invalid: Counter,
    /// Credentials issued.
    pub issued: Counter,
    /// Status changes.
    pub status_changes: Counter,
    /// Failed officer logins.
    pub login_failures: Counter,
    /// Verifications handed to the recorder.
    pub recorder_queued: Counter,
    /// Wallet logins accepted.
    pub wallet_logins: Counter,
    /// Wallet answers refused.
    pub wallet_refusals: Counter,
    /// Token responses issued.
    pub tokens_issued: Counter,
    /// Failed client authentications at the token endpoint.
    pub token_client_failures: Counter,
    /// Documents signed.
    pub signatures: Counter,
    /// Passwords checked against their argon2 hash (officers' and officials').
    pub password_checks: Counter,
    /// Requests refused by a per-source limit.
    pub rate_limited: Counter,
    /// `/authorize` calls refused because too many logins were pending.
    pub pending_logins_refused: Counter,
}

impl Metrics {
    /// Counts a sign-in (an officer's or an official's) refused for its credentials in
    /// `qrid_login_failures_total`; a lockout or a failure of the service is not a failed
    /// sign-in.
    pub fn count_sign_in_refusal(&self, e: &qrid_service::ServiceError) {
        if matches!(e, qrid_service::ServiceError::Unauthorized(_)) {
            self.login_failures.inc();
        }
    }
}

/// The service's events, counted.
impl qrid_service::events::Events for Metrics {
    fn password_checked(&self) {
        self.password_checks.inc();
    }
    fn verification_queued(&self) {
        self.recorder_queued.inc();
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

fn latency_histogram() -> Histogram {
    // 0.25 ms to about 8 s, doubling: a verification takes a millisecond, an image or a
    // password hash tens to hundreds, a 100 MiB upload seconds.
    Histogram::new(exponential_buckets(0.000_25, 2.0, 16))
}

impl Metrics {
    /// Every metric, registered under its documented name (docs/api.md, `GET /metrics`).
    pub fn new() -> Metrics {
        let mut registry = Registry::default();
        let http_duration = Family::<RouteLabels, Histogram>::new_with_constructor(
            latency_histogram as fn() -> Histogram,
        );
        registry.register(
            "qrid_http_request_duration_seconds",
            "Time from a request's head to its response, by route, method and status class.",
            http_duration.clone(),
        );
        let http_2xx = Counter::default();
        registry.register(
            "qrid_http_responses_2xx",
            "HTTP responses with a 2xx status.",
            http_2xx.clone(),
        );
        let http_4xx = Counter::default();
        registry.register(
            "qrid_http_responses_4xx",
            "HTTP responses with a 4xx status.",
            http_4xx.clone(),
        );
        let http_5xx = Counter::default();
        registry.register(
            "qrid_http_responses_5xx",
            "HTTP responses with a 5xx status.",
            http_5xx.clone(),
        );
        let verify_valid = Counter::default();
        registry.register(
            "qrid_verifications_valid",
            "Verifications with a valid verdict.",
            verify_valid.clone(),
        );
        let verify_invalid = Counter::default();
        registry.register(
            "qrid_verifications_invalid",
            "Verifications with an invalid verdict.",
            verify_invalid.clone(),
        );
        let issued = Counter::default();
        registry.register(
            "qrid_credentials_issued",
            "Credentials issued.",
            issued.clone(),
        );
        let status_changes = Counter::default();
        registry.register(
            "qrid_status_changes",
            "Revocations, suspensions and reinstatements.",
            status_changes.clone(),
        );
        let login_failures = Counter::default();
        registry.register(
            "qrid_login_failures",
            "Failed officer logins.",
            login_failures.clone(),
        );
        let recorder_queued = Counter::default();
        registry.register(
            "qrid_verifications_recorded",
            "Verifications queued for the access record.",
            recorder_queued.clone(),
        );
        let wallet_logins = Counter::default();
        registry.register(
            "qrid_wallet_logins",
            "Wallet login answers accepted.",
            wallet_logins.clone(),
        );
        let wallet_refusals = Counter::default();
        registry.register(
            "qrid_wallet_refusals",
            "Wallet login answers refused.",
            wallet_refusals.clone(),
        );
        let tokens_issued = Counter::default();
        registry.register(
            "qrid_oidc_tokens_issued",
            "Token responses issued by /token.",
            tokens_issued.clone(),
        );
        let token_client_failures = Counter::default();
        registry.register(
            "qrid_oidc_client_auth_failures",
            "Failed client authentications at /token.",
            token_client_failures.clone(),
        );
        let signatures = Counter::default();
        registry.register(
            "qrid_signatures",
            "Documents signed by officials.",
            signatures.clone(),
        );
        let password_checks = Counter::default();
        registry.register(
            "qrid_password_checks",
            "Passwords checked against their hash (officer logins and official sign-ins).",
            password_checks.clone(),
        );
        let rate_limited = Counter::default();
        registry.register(
            "qrid_rate_limited",
            "Requests refused by a per-source rate limit.",
            rate_limited.clone(),
        );
        let pending_logins_refused = Counter::default();
        registry.register(
            "qrid_pending_logins_refused",
            "Calls of /authorize refused because too many logins were pending.",
            pending_logins_refused.clone(),
        );
        Metrics {
            registry,
            http_duration,
            http_2xx,
            http_4xx,
            http_5xx,
            verify_valid,
            verify_invalid,
            issued,
            status_changes,
            login_failures,
            recorder_queued,
            wallet_logins,
            wallet_refusals,
            tokens_issued,
            token_client_failures,
            signatures,
            password_checks,
            rate_limited,
            pending_logins_refused,
        }
    }

    /// The OpenMetrics exposition text.
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(8 * 1024);
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

/// The content type of [`Metrics::render`]'s text.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_and_latencies_are_rendered_under_their_documented_names() {
        let m = Metrics::new();
        m.wallet_refusals.inc();
        m.wallet_refusals.inc();
        m.http_duration
            .get_or_create(&RouteLabels {
                method: "POST",
                route: "/v1/verify".into(),
                status: "2xx",
            })
            .observe(0.0007);
        let text = m.render();
        assert!(
            text.lines().any(|l| l == "qrid_wallet_refusals_total 2"),
            "{text}"
        );
        assert!(
            text.lines().any(|l| l == "qrid_http_responses_5xx_total 0"),
            "{text}"
        );
        let bucket = text
            .lines()
            .find(|l| {
                l.starts_with("qrid_http_request_duration_seconds_bucket{")
                    && l.contains("le=\"0.001\"")
                    && l.contains("route=\"/v1/verify\"")
                    && l.contains("method=\"POST\"")
            })
            .unwrap_or_else(|| panic!("no 1 ms bucket of /v1/verify in {text}"));
        assert!(bucket.ends_with(" 1"), "{bucket}");
        assert!(text.ends_with("# EOF\n"), "{text}");
    }
}
