//! The userinfo endpoint (`GET`/`POST /userinfo`): the claims of the access token's scopes,
//! under the client's pairwise `sub`.

use super::{no_store, oidc_client, sha256_hex, S};
use crate::openapi as doc;
use crate::problem::Problem;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

fn bearer_error(description: &'static str) -> Response {
    (
        StatusCode::UNAUTHORIZED,
        [
            (
                header::WWW_AUTHENTICATE,
                format!("Bearer error=\"invalid_token\", error_description=\"{description}\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        Json(json!({"error": "invalid_token", "error_description": description})),
    )
        .into_response()
}

/// `GET` or `POST /userinfo`
#[utoipa::path(method(get, post), path = "/userinfo", tag = "login", security(("access_token" = [])),
    summary = "The claims of the granted scopes",
    responses((status = 200, description = "`sub` and the claims of the granted scopes (`Cache-Control: no-store`)", body = doc::UserInfo),
        (status = 401, description = "`invalid_token` (OAuth JSON, `WWW-Authenticate: Bearer error=\"invalid_token\"`): a missing, unknown, expired or revoked token; problem+json `unauthorized` when the client is no longer registered",
            content((doc::OAuthError = "application/json"), (doc::ProblemJson = "application/problem+json"))),
        doc::ServerErrors))]
pub async fn userinfo(State(state): S, headers: HeaderMap) -> Result<Response, Problem> {
    let Some(token) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .filter(|t| t.len() <= 128)
    else {
        return Ok(bearer_error("a Bearer access token is required"));
    };
    let Some(t) = state
        .store
        .token_login(&sha256_hex(token.trim()), state.now())
        .await?
    else {
        return Ok(bearer_error(
            "the access token is unknown, expired or revoked",
        ));
    };
    let citizen_id = t
        .citizen_id
        .as_deref()
        .ok_or_else(|| Problem::internal(&"token without citizen"))?;
    let record = state
        .store
        .get_citizen(citizen_id)
        .await?
        .ok_or_else(|| Problem::internal(&"token for an unknown citizen"))?;
    let (_, settings) = oidc_client(&state, &t.new.client_id)
        .await?
        .ok_or_else(|| Problem::unauthorized("the client is no longer registered"))?;
    let sector = settings.sector().unwrap_or_else(|| t.new.client_id.clone());
    let c = &record.citizen;
    let mut out = serde_json::Map::new();
    out.insert(
        "sub".into(),
        state.oidc.pairwise_sub(&sector, citizen_id).into(),
    );
    for scope in t.new.scope.split(' ') {
        match scope {
            "profile" => {
                out.insert("name".into(), c.full_name.as_str().into());
                out.insert("birthdate".into(), c.date_of_birth.to_string().into());
                if let Some(sex) = c.sex {
                    let g = match sex {
                        qrid_credential::Sex::Male => "male",
                        qrid_credential::Sex::Female => "female",
                        qrid_credential::Sex::Other => "other",
                    };
                    out.insert("gender".into(), g.into());
                }
            }
            "address" => {
                if let Some(a) = &c.place_of_residence {
                    out.insert("address".into(), json!({"formatted": a.as_str()}));
                }
            }
            "national_id" => {
                out.insert("national_id".into(), c.id_number.to_string().into());
                if let Some(n) = &c.nationality {
                    out.insert("nationality".into(), n.to_string().into());
                }
            }
            _ => {}
        }
    }
    Ok(no_store(Value::Object(out)))
}
