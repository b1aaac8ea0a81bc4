//! Credential delivery to wallets, OpenID4VCI 1.0 pre-authorized code flow (docs/api.md,
//! "Credential delivery"): the issuer's and its authorization server's metadata, the nonce
//! and credential endpoints, and the officers' API that makes an offer. The token endpoint is
//! `/token` (oidc::token), which serves both grant types. The rules are the service's
//! ([`qrid_service::vci`]); errors of the wallet-facing endpoints are the protocol's JSON, not
//! problem+json.

use crate::auth::Officer;
use crate::openapi as doc;
use crate::problem::{bytes_rejection, Problem};
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use qrid_service::vci::{
    CredentialRefusal, CONFIGURATION_ID, FORMAT, PIN_DIGITS, PRE_AUTHORIZED_GRANT,
};
use qrid_service::CitizenId;
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;

type S = State<Arc<AppState>>;

fn cached(body: Value) -> Response {
    ([(header::CACHE_CONTROL, "public, max-age=300")], Json(body)).into_response()
}

fn no_store(status: StatusCode, body: Value) -> Response {
    (
        status,
        [
            (header::CACHE_CONTROL, "no-store"),
            (header::PRAGMA, "no-cache"),
        ],
        Json(body),
    )
        .into_response()
}

/// `GET /.well-known/openid-credential-issuer`
#[utoipa::path(get, path = "/.well-known/openid-credential-issuer", tag = "wallet",
    summary = "OpenID4VCI 1.0 credential issuer metadata",
    description = "The one configuration `qrid_claim169`: the base45 Claim 169 payload of docs/credential-format.md, bound to the wallet's Ed25519 key (`cnf`) proven by a `jwt` proof. No `authorization_servers`: the issuer is its own (see `/.well-known/oauth-authorization-server`).",
    responses((status = 200, description = "The metadata (`Cache-Control: public, max-age=300`)", body = Object, content_type = doc::JSON)))]
pub async fn issuer_metadata(State(state): S) -> Response {
    let base = state.credential_issuer();
    cached(json!({
        "credential_issuer": base,
        "credential_endpoint": format!("{base}/credential"),
        "nonce_endpoint": format!("{base}/nonce"),
        "display": [
            {"name": "Căn cước số qrid", "locale": "vi"},
            {"name": "qrid digital identity", "locale": "en"},
        ],
        "credential_configurations_supported": {
            CONFIGURATION_ID: {
                "format": FORMAT,
                "scope": CONFIGURATION_ID,
                "cryptographic_binding_methods_supported": ["cose_key"],
                "credential_signing_alg_values_supported": ["EdDSA"],
                "proof_types_supported": {
                    "jwt": {"proof_signing_alg_values_supported": ["EdDSA"]},
                },
                "credential_metadata": {
                    "display": [
                        {"name": "Căn cước công dân", "locale": "vi"},
                        {"name": "Citizen identity credential", "locale": "en"},
                    ],
                },
            },
        },
    }))
}

/// `GET /.well-known/oauth-authorization-server`
#[utoipa::path(get, path = "/.well-known/oauth-authorization-server", tag = "wallet",
    summary = "RFC 8414 authorization server metadata (the pre-authorized code grant)",
    responses((status = 200, description = "The metadata (`Cache-Control: public, max-age=300`)", body = Object, content_type = doc::JSON)))]
pub async fn authorization_server_metadata(State(state): S) -> Response {
    let base = state.credential_issuer();
    cached(json!({
        "issuer": base,
        "token_endpoint": format!("{base}/token"),
        "authorization_endpoint": format!("{base}/authorize"),
        "jwks_uri": format!("{base}/oidc/jwks.json"),
        "response_types_supported": ["code"],
        "grant_types_supported": ["authorization_code", PRE_AUTHORIZED_GRANT],
        "token_endpoint_auth_methods_supported": ["none", "client_secret_basic", "client_secret_post", "private_key_jwt"],
        "code_challenge_methods_supported": ["S256"],
        "pre-authorized_grant_anonymous_access_supported": true,
    }))
}

/// `POST /nonce`
#[utoipa::path(post, path = "/nonce", tag = "wallet",
    summary = "A fresh c_nonce for one key proof (OpenID4VCI §7)",
    responses((status = 200, description = "`{\"c_nonce\": …}`, good for one proof within 300 s (`Cache-Control: no-store`)", body = Object, content_type = doc::JSON),
        (status = 429, description = "`rate_limited`: the source is over the `authorize_per_minute` allowance (`Retry-After`)", body = doc::ProblemJson, content_type = doc::PROBLEM),
        doc::ServerErrors))]
pub async fn nonce(State(state): S) -> Result<Response, Problem> {
    let n = state.vci_nonce().await?;
    Ok(no_store(StatusCode::OK, json!({"c_nonce": n})))
}

/// `POST /credential`
#[utoipa::path(post, path = "/credential", tag = "wallet", security(("offer_token" = [])),
    summary = "Redeem an offer's access token and a key proof → the credential bound to that key",
    description = "Body: `{\"credential_configuration_id\": \"qrid_claim169\", \"proofs\": {\"jwt\": [proof]}}`. The proof (`typ` `openid4vci-proof+jwt`, EdDSA, the key as `jwk`) signs `aud` (the issuer), `iat` and a `c_nonce`. One credential per offer.",
    request_body(content = Object, content_type = doc::JSON),
    responses((status = 200, description = "`{\"credentials\": [{\"credential\": <base45 payload>}]}` (`Cache-Control: no-store`)", body = Object, content_type = doc::JSON),
        (status = 400, description = "`invalid_credential_request`, `unknown_credential_configuration`, `invalid_proof` (malformed, signed by another key than its `jwk`, another `aud`, `iat` over 300 s off), `invalid_nonce` (unknown, used or expired: get a new one)", body = doc::OAuthError),
        (status = 401, description = "`invalid_token`, with `WWW-Authenticate: Bearer`: no token, an unknown or ended one, or one that had its credential", body = doc::OAuthError),
        (status = 413, description = "`body_too_large`: over 64 KiB", body = doc::ProblemJson, content_type = doc::PROBLEM),
        (status = 422, description = "`invalid_body`: the citizen's claims no longer fit the profile", body = doc::ProblemJson, content_type = doc::PROBLEM),
        doc::ServerErrors))]
pub async fn credential(
    State(state): S,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Problem> {
    let body = body.map_err(bytes_rejection)?;
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim);
    match state.vci_credential(bearer, &body).await {
        Ok(payload) => {
            state.metrics.issued.inc();
            Ok(no_store(
                StatusCode::OK,
                json!({"credentials": [{"credential": payload}]}),
            ))
        }
        Err(CredentialRefusal::Service(e)) => Err(e.into()),
        Err(e) => {
            let status = if matches!(
                e,
                CredentialRefusal::InvalidToken(_) | CredentialRefusal::NoToken
            ) {
                StatusCode::UNAUTHORIZED
            } else {
                StatusCode::BAD_REQUEST
            };
            let mut resp = no_store(
                status,
                json!({"error": e.code(), "error_description": e.to_string()}),
            );
            if matches!(e, CredentialRefusal::NoToken) {
                resp.headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            } else if status == StatusCode::UNAUTHORIZED {
                let challenge = format!(
                    "Bearer error=\"invalid_token\", error_description=\"{}\"",
                    e.to_string().replace('"', "'")
                );
                if let Ok(v) = HeaderValue::from_str(&challenge) {
                    resp.headers_mut().insert(header::WWW_AUTHENTICATE, v);
                }
            }
            Ok(resp)
        }
    }
}

/// The body of `POST /v1/citizens/{id}/credential-offers`.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OfferRequest {
    /// `digest` (default) or `photo`.
    profile: Option<String>,
    /// Days the credential will be valid, 1 to 36500; default the `credential_days` setting.
    valid_days: Option<u32>,
}

/// `POST /v1/citizens/{id}/credential-offers`
#[utoipa::path(post, path = "/v1/citizens/{id}/credential-offers", tag = "wallet", security(("officer" = [])),
    summary = "Make a credential offer for a wallet (officer: issuer or admin)",
    description = "The offer (OpenID4VCI §4.1) for the wallet's QR, and the PIN (`tx_code`) to tell the citizen apart from it. Single use; the code expires after 600 s. The body is optional.",
    params(doc::Id),
    request_body(content = ref("#/components/schemas/OfferRequest"), content_type = doc::JSON),
    responses((status = 201, description = "`id`, `credential_offer` (the object), `offer_uri` (`openid-credential-offer://…`), `wallet_url` (the browser wallet's offer endpoint), `tx_code`, `expires_at` (`Cache-Control: no-store`)", body = Object, content_type = doc::JSON),
        (status = 400, description = "`malformed_json`", body = doc::ProblemJson, content_type = doc::PROBLEM),
        (status = 404, description = "`not_found`: no such citizen", body = doc::ProblemJson, content_type = doc::PROBLEM),
        (status = 413, description = "`body_too_large`: over 64 KiB", body = doc::ProblemJson, content_type = doc::PROBLEM),
        (status = 422, description = "`invalid_body`: an unknown profile, `valid_days` out of range, the photo profile without a photo", body = doc::ProblemJson, content_type = doc::PROBLEM),
        doc::OfficerErrors, doc::ServerErrors))]
pub async fn create_offer(
    State(state): S,
    Officer(o): Officer,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Problem> {
    let id = CitizenId::parse(&id)?;
    let req: OfferRequest = crate::routes::optional_json(body)?;
    let profile = crate::routes::profile_of(req.profile.as_deref())?;
    let offer = state.create_offer(&o, &id, profile, req.valid_days).await?;
    Ok(no_store(
        StatusCode::CREATED,
        json!({
            "id": offer.id,
            "credential_offer": offer.offer,
            "offer_uri": offer.offer_uri,
            "wallet_url": offer.wallet_url,
            "tx_code": offer.pin,
            "tx_code_length": PIN_DIGITS,
            "expires_at": offer.expires_at,
        }),
    ))
}
