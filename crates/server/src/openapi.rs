//! The OpenAPI 3.1 description of the HTTP API, served at `GET /openapi.json`: generated from
//! the `#[utoipa::path]` annotation on each handler and the schemas of [`schema`]. docs/api.md
//! stays the prose reference. The tests below check that the description has exactly the
//! routes `app()` serves, read from lib.rs's source.

mod schema;

pub(crate) use schema::*;

use crate::problem::Problem;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use std::sync::OnceLock;
use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

/// `application/json`.
pub(crate) const JSON: &str = "application/json";
/// `application/problem+json`.
pub(crate) const PROBLEM: &str = "application/problem+json";

const DESCRIPTION: &str = "The qrid digital-identity service: enrolment, issuance, revocation \
and publication of credentials, online verification, document signatures, and the OpenID \
Connect provider portals log citizens in with. Generated from the code; docs/api.md is the \
prose reference. Errors are RFC 9457 problems (`application/problem+json`, `type` \
`urn:qrid:problem:<kind>`) except where an operation says otherwise (the OAuth endpoints). \
Besides the statuses listed, any operation may answer 500 `internal` (a handler that \
panicked) or 503 `timeout` (over 30 s; 600 s for document uploads), and a known path asked \
with another method 405 `method_not_allowed`.";

/// The description of every route of `app()`.
#[derive(OpenApi)]
#[openapi(
    info(title = "qrid", version = env!("CARGO_PKG_VERSION"), description = DESCRIPTION),
    paths(
        crate::routes::token,
        crate::routes::enrol,
        crate::routes::get_citizen,
        crate::routes::find_citizens,
        crate::routes::put_photo,
        crate::routes::get_photo,
        crate::routes::issue,
        crate::routes::get_credential,
        crate::routes::access_record,
        crate::routes::revoke,
        crate::routes::suspend,
        crate::routes::reinstate,
        crate::routes::qr,
        crate::routes::jwks,
        crate::routes::status_list_index,
        crate::routes::status_list,
        crate::routes::verify,
        crate::signing::token,
        crate::signing::mine,
        crate::signing::open_session,
        crate::signing::sign,
        crate::signing::verify,
        crate::pades::sign,
        crate::pades::ca_pem,
        crate::pades::crl,
        crate::signing::get,
        crate::signing::stamp,
        crate::oidc::discovery::discovery,
        crate::oidc::discovery::jwks,
        crate::oidc::authorize::authorize,
        crate::oidc::authorize::wait_js,
        crate::oidc::authorize::status,
        crate::oidc::login_response::response,
        crate::oidc::token::token,
        crate::oidc::userinfo::userinfo,
        crate::vci::issuer_metadata,
        crate::vci::authorization_server_metadata,
        crate::vci::nonce,
        crate::vci::credential,
        crate::vci::create_offer,
        crate::routes::healthz,
        crate::routes::metrics,
        openapi_json,
    ),
    // Referred to by name (see `issue`), so not collected from the paths.
    components(schemas(crate::routes::IssueRequest, crate::vci::OfferRequest)),
    modifiers(&SecuritySchemes, &UniqueOperationIds),
    tags(
        (name = "officers", description = "Officer login (officers enrol, issue and revoke)"),
        (name = "citizens", description = "Enrolment and issuance"),
        (name = "credentials", description = "Credential records, QR images, access records, status changes"),
        (name = "publication", description = "The trust list and the status lists, for offline verifiers"),
        (name = "verification", description = "Online verification of a credential by a registered client"),
        (name = "signatures", description = "Officials' document signatures and their verification"),
        (name = "login", description = "The OpenID Connect provider: discovery, the QR login, tokens, claims"),
        (name = "wallet", description = "Credential delivery to wallets (OpenID4VCI 1.0, pre-authorized code)"),
        (name = "operations", description = "Health, metrics and this description"),
    )
)]
pub struct ApiDoc;

/// The security schemes the operations name.
struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let bearer = |format: Option<&str>, description: &str| {
            let mut b = HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .description(Some(description));
            if let Some(f) = format {
                b = b.bearer_format(f);
            }
            SecurityScheme::Http(b.build())
        };
        let header = |name: &str, description: &str| {
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                name,
                description,
            )))
        };
        let components = doc.components.get_or_insert_with(Default::default);
        for (name, scheme) in [
            (
                "officer",
                bearer(
                    Some("JWT"),
                    "An officer's token from POST /v1/auth/token (15 minutes).",
                ),
            ),
            (
                "official",
                bearer(
                    Some("JWT"),
                    "An official's token from POST /v1/officials/token (15 minutes).",
                ),
            ),
            (
                "client",
                SecurityScheme::Http(
                    HttpBuilder::new()
                        .scheme(HttpAuthScheme::Basic)
                        .description(Some(
                            "A registered client: client_id and client_secret (qrid client create).",
                        ))
                        .build(),
                ),
            ),
            (
                "totp",
                header(
                    "X-TOTP",
                    "A fresh TOTP code of the official, used up by the request.",
                ),
            ),
            (
                "signing_session",
                header(
                    "X-Signing-Session",
                    "A signing session's token (POST /v1/signing-sessions).",
                ),
            ),
            (
                "login_cookie",
                SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                    "qrid_login",
                    "The cookie GET /authorize set in the browser that started the login.",
                ))),
            ),
            (
                "access_token",
                bearer(
                    None,
                    "An opaque access token from POST /token (10 minutes).",
                ),
            ),
            (
                "offer_token",
                bearer(
                    None,
                    "A wallet's access token from POST /token with a credential offer's pre-authorized code (5 minutes, one credential).",
                ),
            ),
        ] {
            components.add_security_scheme(name, scheme);
        }
    }
}

/// Suffixes the method to an operation id that several operations share (one handler serving
/// two methods, as `/userinfo` does): OpenAPI wants each id once.
struct UniqueOperationIds;

fn operations(item: &mut PathItem) -> [(&'static str, &mut Option<Operation>); 8] {
    [
        ("get", &mut item.get),
        ("put", &mut item.put),
        ("post", &mut item.post),
        ("delete", &mut item.delete),
        ("options", &mut item.options),
        ("head", &mut item.head),
        ("patch", &mut item.patch),
        ("trace", &mut item.trace),
    ]
}

impl Modify for UniqueOperationIds {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let mut seen = std::collections::HashMap::<String, usize>::new();
        for item in doc.paths.paths.values_mut() {
            for (_, op) in operations(item) {
                if let Some(id) = op.as_ref().and_then(|o| o.operation_id.clone()) {
                    *seen.entry(id).or_default() += 1;
                }
            }
        }
        for item in doc.paths.paths.values_mut() {
            for (method, op) in operations(item) {
                if let Some(op) = op.as_mut() {
                    if let Some(id) = op.operation_id.as_mut().filter(|id| seen[id.as_str()] > 1) {
                        id.push('_');
                        id.push_str(method);
                    }
                }
            }
        }
    }
}

/// `GET /openapi.json`: the description, made once per process.
#[utoipa::path(get, path = "/openapi.json", tag = "operations",
    summary = "This OpenAPI 3.1 description of the API",
    description = "Generated from the code; the same for every request to a given build (`Cache-Control: public, max-age=300`).",
    responses((status = 200, description = "The OpenAPI document", body = Object, content_type = JSON)))]
pub async fn openapi_json() -> Response {
    static DOCUMENT: OnceLock<Result<String, String>> = OnceLock::new();
    match DOCUMENT.get_or_init(|| ApiDoc::openapi().to_json().map_err(|e| e.to_string())) {
        Ok(json) => (
            [
                (header::CONTENT_TYPE, JSON),
                (header::CACHE_CONTROL, "public, max-age=300"),
            ],
            json.as_str(),
        )
            .into_response(),
        Err(e) => Problem::internal(e).into_response(),
    }
}

#[cfg(test)]
mod tests;
