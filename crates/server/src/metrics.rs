//! Prometheus text exposition of a few counters, without a metrics framework.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Service counters.
#[derive(Default)]
pub struct Metrics {
    /// Responses by class.
    pub http_2xx: AtomicU64,
    /// 4xx responses.
    pub http_4xx: AtomicU64,
    /// 5xx responses.
    pub http_5xx: AtomicU64,
    /// Verifications that found the credential valid.
    pub verify_valid: AtomicU64,
    /// Verifications that found it invalid.
    pub verify_invalid: AtomicU64,
    /// Credentials issued.
    pub issued: AtomicU64,
    /// Status changes.
    pub status_changes: AtomicU64,
    /// Failed officer logins.
    pub login_failures: AtomicU64,
    /// Verifications handed to the recorder.
    pub recorder_queued: AtomicU64,
    /// Wallet logins accepted.
    pub wallet_logins: AtomicU64,
    /// Wallet answers refused.
    pub wallet_refusals: AtomicU64,
    /// Token responses issued.
    pub tokens_issued: AtomicU64,
    /// Failed client authentications at the token endpoint.
    pub token_client_failures: AtomicU64,
    /// Documents signed.
    pub signatures: AtomicU64,
    /// Passwords checked against their argon2 hash (officers' and officials').
    pub password_checks: AtomicU64,
    /// Requests refused by a per-source limit.
    pub rate_limited: AtomicU64,
    /// `/authorize` calls refused because too many logins were pending.
    pub pending_logins_refused: AtomicU64,
}

impl Metrics {
    /// The exposition text.
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(1024);
        let mut counter = |name: &str, help: &str, labels: &str, v: &AtomicU64| {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name}{labels} {}",
                v.load(Relaxed)
            );
        };
        counter(
            "qrid_http_responses_2xx_total",
            "HTTP responses with a 2xx status.",
            "",
            &self.http_2xx,
        );
        counter(
            "qrid_http_responses_4xx_total",
            "HTTP responses with a 4xx status.",
            "",
            &self.http_4xx,
        );
        counter(
            "qrid_http_responses_5xx_total",
            "HTTP responses with a 5xx status.",
            "",
            &self.http_5xx,
        );
        counter(
            "qrid_verifications_valid_total",
            "Verifications with a valid verdict.",
            "",
            &self.verify_valid,
        );
        counter(
            "qrid_verifications_invalid_total",
            "Verifications with an invalid verdict.",
            "",
            &self.verify_invalid,
        );
        counter(
            "qrid_credentials_issued_total",
            "Credentials issued.",
            "",
            &self.issued,
        );
        counter(
            "qrid_status_changes_total",
            "Revocations, suspensions and reinstatements.",
            "",
            &self.status_changes,
        );
        counter(
            "qrid_login_failures_total",
            "Failed officer logins.",
            "",
            &self.login_failures,
        );
        counter(
            "qrid_verifications_recorded_total",
            "Verifications queued for the access record.",
            "",
            &self.recorder_queued,
        );
        counter(
            "qrid_wallet_logins_total",
            "Wallet login answers accepted.",
            "",
            &self.wallet_logins,
        );
        counter(
            "qrid_wallet_refusals_total",
            "Wallet login answers refused.",
            "",
            &self.wallet_refusals,
        );
        counter(
            "qrid_oidc_tokens_issued_total",
            "Token responses issued by /token.",
            "",
            &self.tokens_issued,
        );
        counter(
            "qrid_oidc_client_auth_failures_total",
            "Failed client authentications at /token.",
            "",
            &self.token_client_failures,
        );
        counter(
            "qrid_signatures_total",
            "Documents signed by officials.",
            "",
            &self.signatures,
        );
        counter(
            "qrid_password_checks_total",
            "Passwords checked against their hash (officer logins and official sign-ins).",
            "",
            &self.password_checks,
        );
        counter(
            "qrid_rate_limited_total",
            "Requests refused by a per-source rate limit.",
            "",
            &self.rate_limited,
        );
        counter(
            "qrid_pending_logins_refused_total",
            "Calls of /authorize refused because too many logins were pending.",
            "",
            &self.pending_logins_refused,
        );
        out
    }
}
