//! The wallet's answer to a login request (`POST /login/response`): the body is read here, the
//! answer judged by the service ([`Service::oidc_login_answer`]: the credential, the holder
//! key's signature and the confirmation code, checked before the login is accepted).
//!
//! [`Service::oidc_login_answer`]: qrid_service::Service::oidc_login_answer

use super::{no_store, S};
use crate::openapi as doc;
use crate::problem::{bytes_rejection, json_error, Problem, ProblemKind};
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use qrid_credential::Signature;
use qrid_service::oidc::{check_tx_id, LoginAnswer};
use serde::Deserialize;
use serde_json::json;

/// A wallet's login response as sent (docs/login.md).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginResponse {
    /// The transaction id (32 hex digits).
    pub tx: String,
    /// The credential payload (base45).
    pub credential: String,
    /// The holder key's signature, base64url.
    pub signature: String,
    /// The confirmation code the login page showed, as the citizen typed it into the wallet.
    pub code: String,
}

impl From<LoginResponse> for LoginAnswer {
    fn from(r: LoginResponse) -> LoginAnswer {
        LoginAnswer {
            tx: r.tx,
            credential: r.credential,
            signature: r.signature,
            code: r.code,
        }
    }
}

/// Parses a login response body (JSON, at most the JSON body limit, already enforced by the
/// router) and checks the transaction id's form. Pure: what outside input can reach before
/// the database is read, and what `fuzz/` drives.
pub fn parse_login_response(body: &[u8]) -> Result<LoginResponse, Problem> {
    let r: LoginResponse = serde_json::from_slice(body).map_err(json_error)?;
    check_tx_id(&r.tx)?;
    Ok(r)
}

/// Decodes the holder signature of a login response: base64url (padding tolerated) of 64
/// bytes, or `holder_signature_invalid` ([`qrid_service::oidc::decode_holder_signature`]).
pub fn decode_holder_signature(text: &str) -> Result<Signature, Problem> {
    Ok(qrid_service::oidc::decode_holder_signature(text)?)
}

/// `POST /login/response`: the wallet's answer. Every refusal of the client's making (4xx) is
/// counted in `qrid_wallet_refusals_total`.
#[utoipa::path(post, path = "/login/response", tag = "login",
    summary = "The wallet's signed answer to a login request",
    description = "No authentication: the holder's signature over the login request is the proof (docs/login.md). Each refused answer counts against the transaction; the fifth makes it fail.",
    request_body(content = LoginResponse, content_type = doc::JSON),
    responses((status = 200, description = "Accepted (`Cache-Control: no-store`)", body = doc::LoginAccepted),
        (status = 403, description = "`client_disabled`: the portal was disabled while the login waited", body = doc::ProblemJson, content_type = doc::PROBLEM),
        (status = 404, description = "`not_found` (`tx` not 32 hexadecimal digits) or `login_unknown`", body = doc::ProblemJson, content_type = doc::PROBLEM),
        (status = 409, description = "`login_used` (answered already) or `login_failed` (5 refused answers)", body = doc::ProblemJson, content_type = doc::PROBLEM),
        (status = 410, description = "`login_expired`: the transaction is older than 5 minutes", body = doc::ProblemJson, content_type = doc::PROBLEM),
        (status = 422, description = "`invalid_body`, `login_code_mismatch`, `credential_invalid`, `holder_key_missing` or `holder_signature_invalid`", body = doc::ProblemJson, content_type = doc::PROBLEM),
        doc::JsonErrors, doc::ServerErrors))]
pub async fn response(
    State(state): S,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Problem> {
    let outcome = answer(&state, &headers, body).await;
    if outcome.as_ref().is_err_and(|p| p.status.is_client_error()) {
        state.metrics.wallet_refusals.inc();
    }
    outcome
}

async fn answer(
    state: &AppState,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Problem> {
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !json {
        return Err(Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ProblemKind::UnsupportedMediaType,
            "send the login response as application/json",
        ));
    }
    let body = body.map_err(bytes_rejection)?;
    let r = parse_login_response(&body)?;
    let accepted = state.oidc_login_answer(&r.into()).await?;
    state.metrics.wallet_logins.inc();
    Ok(no_store(
        json!({"status": "accepted", "client_id": accepted.client_id}),
    ))
}
