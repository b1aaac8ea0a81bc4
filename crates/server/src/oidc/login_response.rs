//! The wallet's answer to a login request (`POST /login/response`): the credential, the
//! holder key's signature and the confirmation code, checked before the login is accepted.

use super::authorize::confirm_code;
use super::{no_store, oidc_client, tx_id_ok, MAX_LOGIN_FAILURES, S};
use crate::openapi as doc;
use crate::problem::{bytes_rejection, json_error, Problem, ProblemKind};
use crate::routes::with_live_status;
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use base64::Engine;
use qrid_credential::{HolderKey, LoginRequest, Signature};
use qrid_service::passwords::constant_time_eq;
use qrid_store::{LoginStatus, LoginTx};
use qrid_verifier::Verdict;
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;

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

/// Parses a login response body (JSON, at most the JSON body limit, already enforced by the
/// router) and checks the transaction id's form. Pure: what outside input can reach before
/// the database is read, and what `fuzz/` drives.
pub fn parse_login_response(body: &[u8]) -> Result<LoginResponse, Problem> {
    let r: LoginResponse = serde_json::from_slice(body).map_err(json_error)?;
    tx_id_ok(&r.tx)?;
    Ok(r)
}

/// Decodes the holder signature of a login response: base64url (padding tolerated) of 64
/// bytes, or `holder_signature_invalid`.
pub fn decode_holder_signature(text: &str) -> Result<Signature, Problem> {
    B64URL
        .decode(text.trim_end_matches('='))
        .ok()
        .and_then(|b| Signature::from_slice(&b).ok())
        .ok_or_else(|| {
            Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                ProblemKind::HolderSignatureInvalid,
                "the signature is not a base64url Ed25519 signature",
            )
        })
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
    state: &Arc<AppState>,
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
    let t = state.store.login_tx(&r.tx).await?.ok_or_else(|| {
        Problem::new(
            StatusCode::NOT_FOUND,
            ProblemKind::LoginUnknown,
            "no such login transaction",
        )
    })?;
    let at = state.now();
    match t.status {
        LoginStatus::Pending if at > t.new.expires_at => {
            return Err(Problem::new(
                StatusCode::GONE,
                ProblemKind::LoginExpired,
                "the login transaction has expired",
            ))
        }
        LoginStatus::Pending => {}
        LoginStatus::Failed => {
            return Err(Problem::new(
                StatusCode::CONFLICT,
                ProblemKind::LoginFailed,
                "the login transaction failed after repeated refused answers",
            ))
        }
        LoginStatus::Authenticated | LoginStatus::Complete => {
            return Err(Problem::new(
                StatusCode::CONFLICT,
                ProblemKind::LoginUsed,
                "the login transaction has already been answered",
            ))
        }
    }
    match check_response(state, &t, &r, at).await {
        Ok((citizen_id, credential_id)) => {
            match state
                .store
                .authenticate_login(&t.new.id, &citizen_id, &credential_id, at)
                .await
            {
                Ok(()) => {}
                Err(qrid_store::StoreError::InvalidState(_)) => {
                    return Err(Problem::new(
                        StatusCode::CONFLICT,
                        ProblemKind::LoginUsed,
                        "the login transaction has already been answered",
                    ))
                }
                Err(e) => return Err(e.into()),
            }
            state.metrics.wallet_logins.inc();
            tracing::info!(event = "login", credential_id = %credential_id, client_id = %t.new.client_id, "wallet login accepted");
            Ok(no_store(
                json!({"status": "accepted", "client_id": t.new.client_id}),
            ))
        }
        Err(p) => {
            if p.status.is_client_error() {
                let failed = state
                    .store
                    .fail_login(&t.new.id, MAX_LOGIN_FAILURES)
                    .await?;
                tracing::info!(
                    event = "login_refused",
                    kind = p.kind.as_str(),
                    failed,
                    "wallet answer refused"
                );
            }
            Err(p)
        }
    }
}

async fn check_response(
    state: &Arc<AppState>,
    t: &LoginTx,
    r: &LoginResponse,
    at: i64,
) -> Result<(String, String), Problem> {
    // A portal disabled while its login waited gets no citizen's consent: its token request
    // would be refused anyway, and the wallet should say so now, not after the citizen agreed.
    if oidc_client(state, &t.new.client_id).await?.is_none() {
        return Err(Problem::new(
            StatusCode::FORBIDDEN,
            ProblemKind::ClientDisabled,
            "the service that asked for this login is no longer allowed to log citizens in",
        ));
    }
    // First, and counted like any refused answer: five wrong codes fail the transaction.
    if !constant_time_eq(
        r.code.trim().as_bytes(),
        confirm_code(state, &t.new.id).as_bytes(),
    ) {
        return Err(Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            ProblemKind::LoginCodeMismatch,
            "the confirmation code is not the one the login page shows",
        ));
    }
    let verdict = state.verifier().verify(&r.credential, at).map_err(|e| {
        Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            ProblemKind::CredentialInvalid,
            format!("the credential could not be checked: {}", e.kind()),
        )
    })?;
    let verdict = match verdict {
        Verdict::Valid(v) => with_live_status(state, v).await?,
        invalid => invalid,
    };
    let v = match verdict {
        Verdict::Valid(v) => v,
        Verdict::Invalid(reason) => {
            return Err(Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                ProblemKind::CredentialInvalid,
                format!("the credential is not valid: {}", reason.kind()),
            ))
        }
    };
    let Some(HolderKey(holder)) = v.credential.holder else {
        return Err(Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            ProblemKind::HolderKeyMissing,
            "the credential is not bound to a holder key (no cnf); it cannot log in",
        ));
    };
    let sig = decode_holder_signature(&r.signature)?;
    let digest: [u8; 32] = hex::decode(&t.new.request_sha256)
        .ok()
        .and_then(|d| d.try_into().ok())
        .ok_or_else(|| Problem::internal(&"stored request digest is malformed"))?;
    holder
        .verify_strict(&LoginRequest::response_message_for_digest(&digest), &sig)
        .map_err(|_| {
            Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                ProblemKind::HolderSignatureInvalid,
                "the holder signature does not verify with the key bound in the credential",
            )
        })?;
    let credential_id = v.credential.id.to_string();
    let record = state
        .store
        .get_credential(&credential_id)
        .await?
        .ok_or_else(|| {
            Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                ProblemKind::CredentialInvalid,
                "the credential is not one this service issued",
            )
        })?;
    Ok((record.citizen_id, credential_id))
}
