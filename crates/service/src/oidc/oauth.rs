//! The OAuth 2.0 errors the provider tells a portal of (RFC 6749 §4.1.2.1 and §5.2, RFC 6750
//! §3.1): not problems of the HTTP API but answers of the protocol, each a code the portal's
//! library acts on and a description for its developer.

/// An OAuth error code this provider answers with. [`OAuthErrorCode::as_str`] is the wire
/// name, fixed by the RFCs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OAuthErrorCode {
    /// A parameter is missing, repeated, malformed or not supported.
    InvalidRequest,
    /// Client authentication failed, or none was sent.
    InvalidClient,
    /// The code (or its PKCE verifier, `redirect_uri` or client) is not good.
    InvalidGrant,
    /// A scope asked for is not registered, or `openid` is missing.
    InvalidScope,
    /// A `grant_type` other than `authorization_code`.
    UnsupportedGrantType,
    /// A `response_type` other than `code`.
    UnsupportedResponseType,
    /// A request object (`request`, `request_uri`) was sent.
    RequestNotSupported,
    /// `prompt=none`: a login always needs the wallet (OpenID Connect Core §3.1.2.6).
    LoginRequired,
    /// Too many logins are waiting for a wallet; try again shortly.
    TemporarilyUnavailable,
    /// The login was not completed: it expired or its answers were refused.
    AccessDenied,
    /// A missing, unknown, expired or revoked access token (RFC 6750).
    InvalidToken,
    /// The service failed; nothing the client did.
    ServerError,
}

impl OAuthErrorCode {
    /// The wire name (`invalid_request`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            OAuthErrorCode::InvalidRequest => "invalid_request",
            OAuthErrorCode::InvalidClient => "invalid_client",
            OAuthErrorCode::InvalidGrant => "invalid_grant",
            OAuthErrorCode::InvalidScope => "invalid_scope",
            OAuthErrorCode::UnsupportedGrantType => "unsupported_grant_type",
            OAuthErrorCode::UnsupportedResponseType => "unsupported_response_type",
            OAuthErrorCode::RequestNotSupported => "request_not_supported",
            OAuthErrorCode::LoginRequired => "login_required",
            OAuthErrorCode::TemporarilyUnavailable => "temporarily_unavailable",
            OAuthErrorCode::AccessDenied => "access_denied",
            OAuthErrorCode::InvalidToken => "invalid_token",
            OAuthErrorCode::ServerError => "server_error",
        }
    }
}

impl std::fmt::Display for OAuthErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An OAuth error: its code and the `error_description`, which never holds secrets or
/// personal data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {description}")]
pub struct OAuthError {
    /// The `error`.
    pub code: OAuthErrorCode,
    /// The `error_description`.
    pub description: String,
}

impl OAuthError {
    /// An error of `code` described by `description`.
    pub fn new(code: OAuthErrorCode, description: impl Into<String>) -> OAuthError {
        OAuthError {
            code,
            description: description.into(),
        }
    }
}

/// `uri` with `extra` appended to its query (a `?` or `&` as the URI needs).
pub(crate) fn with_query(uri: &str, extra: &[(&str, &str)]) -> String {
    // Serialising string pairs cannot fail; an empty query would still leave a working URI.
    let q = serde_urlencoded::to_string(extra).unwrap_or_default();
    let sep = if uri.contains('?') { '&' } else { '?' };
    format!("{uri}{sep}{q}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extra_parameters_join_the_query_the_uri_has() {
        assert_eq!(
            with_query("https://p.example/cb", &[("code", "a b"), ("state", "x&y")]),
            "https://p.example/cb?code=a+b&state=x%26y"
        );
        assert_eq!(
            with_query("https://p.example/cb?k=1", &[("error", "access_denied")]),
            "https://p.example/cb?k=1&error=access_denied"
        );
    }
}
