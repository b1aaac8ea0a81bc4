//! HTTP handlers of the officers' and clients' API: each reads its input, makes one call to
//! the service, and answers JSON or problem+json.

use crate::auth::{Client, Officer};
use crate::openapi as doc;
use crate::problem::{
    bytes_rejection, json_error, json_rejection, too_large, Problem, ProblemKind,
};
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, JsonRejection, QueryRejection};
use axum::extract::{FromRequest, Multipart, Path, Query, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use qrid_credential::{CitizenInput, Jwk};
use qrid_service::citizens::IssueOptions;
use qrid_service::status::STATUS_LIST_MAX_AGE;
use qrid_service::{CitizenId, CredentialId};
use qrid_store::CredentialStatus;
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;

type S = State<Arc<AppState>>;

/// JSON body whose rejections become problems.
pub struct Body<T>(pub T);

impl<T: serde::de::DeserializeOwned, St: Send + Sync> FromRequest<St> for Body<T> {
    type Rejection = Problem;
    async fn from_request(req: Request, state: &St) -> Result<Self, Problem> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(Body(v)),
            Err(r) => Err(json_rejection(r)),
        }
    }
}

// ----- auth -----

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    username: String,
    password: String,
}

/// `POST /v1/auth/token`
#[utoipa::path(post, path = "/v1/auth/token", tag = "officers", operation_id = "officer_token",
    summary = "Officer login: username and password → bearer token",
    request_body(content = TokenRequest, content_type = doc::JSON),
    responses((status = 200, description = "A bearer token for 15 minutes", body = doc::BearerToken),
        (status = 401, description = "`unauthorized`: wrong username or password", body = doc::ProblemJson, content_type = doc::PROBLEM),
        (status = 422, description = "`invalid_body`: JSON of the wrong shape", body = doc::ProblemJson, content_type = doc::PROBLEM),
        (status = 429, description = "`too_many_attempts` (the username is locked out) or `rate_limited` (too many logins from this address); `Retry-After`", body = doc::ProblemJson, content_type = doc::PROBLEM),
        doc::JsonErrors, doc::ServerErrors))]
pub async fn token(
    State(state): S,
    body: Result<Json<TokenRequest>, JsonRejection>,
) -> Result<Json<Value>, Problem> {
    let Json(req) = body.map_err(json_rejection)?;
    let token = state
        .officer_login(&req.username, &req.password)
        .await
        .inspect_err(|e| state.metrics.count_sign_in_refusal(e))?;
    Ok(Json(json!({
        "access_token": token.token, "token_type": "Bearer",
        "expires_in": token.expires_at - state.now(),
    })))
}

// ----- citizens -----

fn citizen_json(id: &str, c: &qrid_credential::Citizen, created_at: i64) -> Value {
    let mut v = serde_json::to_value(c).unwrap_or_default();
    v["id"] = id.into();
    v["created_at"] = created_at.into();
    v
}

/// `POST /v1/citizens`
#[utoipa::path(post, path = "/v1/citizens", tag = "citizens", security(("officer" = [])),
    summary = "Enrol a citizen (officer: issuer or admin)",
    request_body(content = doc::CitizenInput, content_type = doc::JSON),
    responses((status = 201, description = "The stored citizen, with its id and enrolment time", body = doc::Citizen),
        (status = 409, description = "`conflict`: the `id_number` is enrolled already; the member `citizen_id` names the citizen", body = doc::ProblemJson, content_type = doc::PROBLEM),
        (status = 422, description = "`invalid_body` (JSON of the wrong shape) or `bad_claims` (a claim fails validation)", body = doc::ProblemJson, content_type = doc::PROBLEM),
        doc::OfficerErrors, doc::JsonErrors, doc::ServerErrors))]
pub async fn enrol(
    State(state): S,
    Officer(o): Officer,
    Body(input): Body<CitizenInput>,
) -> Result<Response, Problem> {
    let rec = state.enrol(&o, input).await?;
    Ok((
        StatusCode::CREATED,
        Json(citizen_json(&rec.id, &rec.citizen, rec.created_at)),
    )
        .into_response())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FindQuery {
    /// The 12-digit id number to look for (exact).
    id_number: String,
}

/// `GET /v1/citizens?id_number=…`
#[utoipa::path(get, path = "/v1/citizens", tag = "citizens", security(("officer" = [])),
    summary = "Find the citizen enrolled with an id number (officer: issuer, admin or auditor)", params(FindQuery),
    responses((status = 200, description = "`{\"citizens\": […]}`: the citizen with this id number, or none", body = doc::CitizenList),
        (status = 400, description = "`invalid_query`: no `id_number`", body = doc::ProblemJson, content_type = doc::PROBLEM),
        doc::OfficerErrors, doc::ServerErrors))]
pub async fn find_citizens(
    State(state): S,
    Officer(o): Officer,
    q: Result<Query<FindQuery>, QueryRejection>,
) -> Result<Json<Value>, Problem> {
    let Query(q) = q.map_err(|e| {
        Problem::new(
            StatusCode::BAD_REQUEST,
            ProblemKind::InvalidQuery,
            e.body_text(),
        )
    })?;
    let digits = q.id_number.trim();
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Problem::new(
            StatusCode::BAD_REQUEST,
            ProblemKind::InvalidQuery,
            "id_number must be digits",
        ));
    }
    let found = state.find_citizens(&o, digits).await?;
    Ok(Json(json!({
        "citizens": found.iter().map(|r| citizen_json(&r.id, &r.citizen, r.created_at)).collect::<Vec<_>>()
    })))
}

/// `PUT /v1/citizens/{id}/photo`
#[utoipa::path(put, path = "/v1/citizens/{id}/photo", tag = "citizens", security(("officer" = [])),
    summary = "Store a citizen's face photo (officer: issuer or admin); its SHA-256 becomes their photo_sha256", params(doc::Id),
    request_body(content = Vec<u8>, content_type = "image/jpeg",
        description = "A PNG or JPEG image, 10 MiB and 24 megapixels at most, 120 pixels or more on each side. It is decoded, turned upright by its Exif orientation, shrunk to fit 480×640 and re-encoded as JPEG without metadata."),
    responses((status = 200, description = "The citizen as now stored (photo_sha256 is the stored photo's digest)", body = doc::Citizen),
        (status = 404, description = "`not_found`: no such citizen", body = doc::ProblemJson, content_type = doc::PROBLEM),
        (status = 413, description = "`body_too_large`: over the image limit", body = doc::ProblemJson, content_type = doc::PROBLEM),
        (status = 422, description = "`unsupported_image`, `image_too_large`, `image_corrupt` or `photo_too_small`", body = doc::ProblemJson, content_type = doc::PROBLEM),
        doc::OfficerErrors, doc::ServerErrors))]
pub async fn put_photo(
    State(state): S,
    Officer(o): Officer,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, Problem> {
    let id = CitizenId::parse(&id)?;
    let body = body.map_err(bytes_rejection)?;
    let rec = state.set_photo(&o, &id, body.to_vec()).await?;
    Ok(Json(citizen_json(&rec.id, &rec.citizen, rec.created_at)))
}

/// `GET /v1/citizens/{id}/photo`
#[utoipa::path(get, path = "/v1/citizens/{id}/photo", tag = "citizens", security(("officer" = [])),
    summary = "A citizen's stored face photo (officer: issuer, admin or auditor)", params(doc::Id),
    responses((status = 200, description = "The JPEG (never cached)", content_type = "image/jpeg", body = Vec<u8>),
        (status = 404, description = "`not_found`: no such citizen, or no photo", body = doc::ProblemJson, content_type = doc::PROBLEM),
        doc::OfficerErrors, doc::ServerErrors))]
pub async fn get_photo(
    State(state): S,
    Officer(o): Officer,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let photo = state.photo(&o, &CitizenId::parse(&id)?).await?;
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("image/jpeg")),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        photo.bytes,
    )
        .into_response())
}

/// `GET /v1/citizens/{id}`
#[utoipa::path(get, path = "/v1/citizens/{id}", tag = "citizens", security(("officer" = [])),
    summary = "A citizen and their credentials (officer: issuer, admin or auditor)", params(doc::Id),
    responses((status = 200, description = "The citizen, with its credentials newest first", body = doc::CitizenWithCredentials),
        (status = 404, description = "`not_found`: no such citizen", body = doc::ProblemJson, content_type = doc::PROBLEM),
        doc::OfficerErrors, doc::ServerErrors))]
pub async fn get_citizen(
    State(state): S,
    Officer(o): Officer,
    Path(id): Path<String>,
) -> Result<Json<Value>, Problem> {
    let file = state.citizen(&o, &CitizenId::parse(&id)?).await?;
    let rec = &file.citizen;
    let mut v = citizen_json(&rec.id, &rec.citizen, rec.created_at);
    v["credentials"] = file
        .credentials
        .iter()
        .map(|c| json!({"id": c.id, "status": c.status, "issued_at": c.issued_at, "expires_at": c.expires_at}))
        .collect();
    Ok(Json(v))
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IssueRequest {
    /// 1–36500; default the `credential_days` setting (3650).
    valid_days: Option<u32>,
    /// The holder's (wallet's) public key, bound into the credential's `cnf` claim.
    #[schema(value_type = Option<doc::HolderJwk>)]
    holder_jwk: Option<Jwk>,
    /// The id of the citizen's credential this one replaces: revoked in the same transaction
    /// (reason `replaced by <new id>`).
    replaces: Option<String>,
    /// `digest` (default: the photo's SHA-256 only) or `photo` (a gray face thumbnail in the
    /// QR as well, Claim 169 keys 16 and 17; needs the citizen's photo on file).
    profile: Option<String>,
}

/// A JSON body that may be empty (or only whitespace): then all its defaults.
pub(crate) fn optional_json<T: Default + serde::de::DeserializeOwned>(
    body: Result<Bytes, BytesRejection>,
) -> Result<T, Problem> {
    let body = body.map_err(bytes_rejection)?;
    if body.iter().all(u8::is_ascii_whitespace) {
        Ok(T::default())
    } else {
        serde_json::from_slice(&body).map_err(json_error)
    }
}

/// The `profile` of an issuance or an offer: `digest` (the default) or `photo`.
pub(crate) fn profile_of(name: Option<&str>) -> Result<qrid_service::citizens::Profile, Problem> {
    qrid_service::citizens::Profile::parse(name.unwrap_or("digest")).ok_or_else(|| {
        Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            ProblemKind::InvalidBody,
            "profile must be digest or photo",
        )
    })
}

/// `POST /v1/citizens/{id}/credentials`
#[utoipa::path(post, path = "/v1/citizens/{id}/credentials", tag = "citizens", security(("officer" = [])),
    summary = "Issue a credential to an enrolled citizen (officer: issuer or admin)", params(doc::Id),
    // By reference, so that the body is optional without the schema admitting `null`.
    request_body(content = ref("#/components/schemas/IssueRequest"), content_type = doc::JSON,
        description = "Optional: an empty body (or only whitespace) means all defaults. The `Content-Type` is not checked."),
    responses((status = 201, description = "The credential, signed and stored", body = doc::IssuedCredential),
        (status = 400, description = "`malformed_json`: the body is not JSON", body = doc::ProblemJson, content_type = doc::PROBLEM),
        (status = 404, description = "`not_found`: no such citizen", body = doc::ProblemJson, content_type = doc::PROBLEM),
        (status = 409, description = "`conflict`: the status-list allocation lost a race 4 times", body = doc::ProblemJson, content_type = doc::PROBLEM),
        (status = 413, description = "`body_too_large`: over 64 KiB", body = doc::ProblemJson, content_type = doc::PROBLEM),
        (status = 422, description = "`invalid_body` (wrong shape, `valid_days` out of range) or `bad_holder_key`", body = doc::ProblemJson, content_type = doc::PROBLEM),
        doc::OfficerErrors, doc::ServerErrors))]
pub async fn issue(
    State(state): S,
    Officer(o): Officer,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Problem> {
    let id = CitizenId::parse(&id)?;
    let req: IssueRequest = optional_json(body)?;
    let options = IssueOptions {
        valid_days: req.valid_days,
        holder_jwk: req.holder_jwk,
        replaces: req
            .replaces
            .as_deref()
            .map(CredentialId::parse)
            .transpose()?,
        profile: profile_of(req.profile.as_deref())?,
    };
    let rec = state.issue(&o, &id, options).await?;
    state.metrics.issued.inc();
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "id": rec.id, "payload": rec.payload, "issued_at": rec.issued_at, "expires_at": rec.expires_at,
            "status_list": rec.status_list, "status_index": rec.status_index,
            "status_uri": state.config.status_list_uri(rec.status_list),
        })),
    )
        .into_response())
}

// ----- credentials -----

/// `GET /v1/credentials/{id}`
#[utoipa::path(get, path = "/v1/credentials/{id}", tag = "credentials", security(("officer" = [])),
    summary = "A stored credential (officer: issuer, admin or auditor)", params(doc::Id),
    responses((status = 200, description = "The credential record", body = doc::CredentialRecord),
        (status = 404, description = "`not_found`: no such credential", body = doc::ProblemJson, content_type = doc::PROBLEM),
        doc::OfficerErrors, doc::ServerErrors))]
pub async fn get_credential(
    State(state): S,
    Officer(o): Officer,
    Path(id): Path<String>,
) -> Result<Json<Value>, Problem> {
    let rec = state.credential(&o, &CredentialId::parse(&id)?).await?;
    let mut v = serde_json::to_value(&rec).unwrap_or_default();
    v["status_uri"] = state.config.status_list_uri(rec.status_list).into();
    Ok(Json(v))
}

/// `GET /v1/credentials/{id}/verifications`: who checked this identity, and when.
#[utoipa::path(get, path = "/v1/credentials/{id}/verifications", tag = "credentials", security(("officer" = [])),
    summary = "A credential's access record: who verified it, when (officer: issuer, admin or auditor)",
    params(doc::Id),
    responses((status = 200, description = "The verifications that named the credential, newest first", body = doc::AccessRecord),
        (status = 404, description = "`not_found`: no such credential", body = doc::ProblemJson, content_type = doc::PROBLEM),
        doc::OfficerErrors, doc::ServerErrors))]
pub async fn access_record(
    State(state): S,
    Officer(o): Officer,
    Path(id): Path<String>,
) -> Result<Json<Value>, Problem> {
    let rows = state.access_record(&o, &CredentialId::parse(&id)?).await?;
    Ok(Json(json!({"credential_id": id, "verifications": rows})))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QrQuery {
    /// Pixels per module, 1–32 (default 4).
    scale: Option<u32>,
    /// Error correction: `L`, `M` (default), `Q` or `H`, any case.
    ecc: Option<String>,
}

/// `GET /v1/credentials/{id}/qr.png` and `qr.svg`
#[utoipa::path(get, path = "/v1/credentials/{id}/{file}", tag = "credentials", security(("officer" = [])),
    summary = "The credential as a QR image (officer: issuer or admin)",
    params(doc::Id, ("file" = inline(doc::QrFile), Path, description = "`qr.png` or `qr.svg`"), QrQuery),
    responses((status = 200, description = "The QR code with a 4-module quiet zone (`Cache-Control: no-store`)",
            content(("image/png"), ("image/svg+xml"))),
        (status = 400, description = "`invalid_query`, `bad_scale`, `bad_option` (ecc), `qr_too_long` or `png_encode`", body = doc::ProblemJson, content_type = doc::PROBLEM),
        (status = 404, description = "`not_found`: no such credential, or another file name", body = doc::ProblemJson, content_type = doc::PROBLEM),
        doc::OfficerErrors, doc::ServerErrors))]
pub async fn qr(
    State(state): S,
    Officer(o): Officer,
    Path(file): Path<(String, String)>,
    q: Result<Query<QrQuery>, QueryRejection>,
) -> Result<Response, Problem> {
    let Query(q) = q.map_err(|e| Problem::bad_request(ProblemKind::InvalidQuery, e.body_text()))?;
    let (id, name) = file;
    let id = CredentialId::parse(&id)?;
    let (format, mime) = match name.as_str() {
        "qr.png" => (qrid_qr::Format::Png, "image/png"),
        "qr.svg" => (qrid_qr::Format::Svg, "image/svg+xml"),
        _ => return Err(Problem::not_found("resource")),
    };
    let ecc: qrid_qr::Ecc = q
        .ecc
        .as_deref()
        .unwrap_or("M")
        .parse()
        .map_err(|e: qrid_qr::QrError| qr_problem(StatusCode::BAD_REQUEST, &e))?;
    let scale = q.scale.unwrap_or(4);
    let rec = state.credential_for_print(&o, &id).await?;
    let bytes = qrid_qr::render(&rec.payload, ecc, scale, format)
        .map_err(|e| qr_problem(StatusCode::BAD_REQUEST, &e))?;
    Ok((
        [
            (header::CONTENT_TYPE, mime),
            (header::CACHE_CONTROL, "no-store"),
        ],
        bytes,
    )
        .into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusChange {
    /// 1–500 characters after trimming (stored trimmed).
    reason: String,
}

async fn change_status(
    state: Arc<AppState>,
    o: qrid_service::Officer,
    id: String,
    to: CredentialStatus,
    reason: String,
) -> Result<Json<Value>, Problem> {
    let id = CredentialId::parse(&id)?;
    let rec = state.change_status(&o, &id, to, &reason).await?;
    state.metrics.status_changes.inc();
    Ok(Json(
        json!({"id": rec.id, "status": rec.status, "status_reason": rec.status_reason}),
    ))
}

/// `POST /v1/credentials/{id}/revoke`
#[utoipa::path(post, path = "/v1/credentials/{id}/revoke", tag = "credentials", security(("officer" = [])),
    summary = "Revoke a credential, for good (officer: issuer or admin)", params(doc::Id),
    request_body(content = StatusChange, content_type = doc::JSON),
    responses((status = 200, description = "The credential's new status", body = doc::StatusChanged),
        (status = 404, description = "`not_found`: no such credential", body = doc::ProblemJson, content_type = doc::PROBLEM),
        (status = 409, description = "`invalid_state`: the credential's state does not allow the change", body = doc::ProblemJson, content_type = doc::PROBLEM),
        (status = 422, description = "`invalid_body`: wrong shape, or a reason empty or over 500 characters", body = doc::ProblemJson, content_type = doc::PROBLEM),
        doc::OfficerErrors, doc::JsonErrors, doc::ServerErrors))]
pub async fn revoke(
    State(state): S,
    Officer(o): Officer,
    Path(id): Path<String>,
    Body(b): Body<StatusChange>,
) -> Result<Json<Value>, Problem> {
    change_status(state, o, id, CredentialStatus::Revoked, b.reason).await
}
/// `POST /v1/credentials/{id}/suspend`
#[utoipa::path(post, path = "/v1/credentials/{id}/suspend", tag = "credentials", security(("officer" = [])),
    summary = "Suspend a valid credential (officer: issuer or admin)", params(doc::Id),
    request_body(content = StatusChange, content_type = doc::JSON),
    responses((status = 200, description = "The credential's new status", body = doc::StatusChanged),
        (status = 404, description = "`not_found`: no such credential", body = doc::ProblemJson, content_type = doc::PROBLEM),
        (status = 409, description = "`invalid_state`: the credential's state does not allow the change", body = doc::ProblemJson, content_type = doc::PROBLEM),
        (status = 422, description = "`invalid_body`: wrong shape, or a reason empty or over 500 characters", body = doc::ProblemJson, content_type = doc::PROBLEM),
        doc::OfficerErrors, doc::JsonErrors, doc::ServerErrors))]
pub async fn suspend(
    State(state): S,
    Officer(o): Officer,
    Path(id): Path<String>,
    Body(b): Body<StatusChange>,
) -> Result<Json<Value>, Problem> {
    change_status(state, o, id, CredentialStatus::Suspended, b.reason).await
}
/// `POST /v1/credentials/{id}/reinstate`
#[utoipa::path(post, path = "/v1/credentials/{id}/reinstate", tag = "credentials", security(("officer" = [])),
    summary = "Lift a credential's suspension (officer: issuer or admin)", params(doc::Id),
    request_body(content = StatusChange, content_type = doc::JSON),
    responses((status = 200, description = "The credential's new status", body = doc::StatusChanged),
        (status = 404, description = "`not_found`: no such credential", body = doc::ProblemJson, content_type = doc::PROBLEM),
        (status = 409, description = "`invalid_state`: the credential's state does not allow the change", body = doc::ProblemJson, content_type = doc::PROBLEM),
        (status = 422, description = "`invalid_body`: wrong shape, or a reason empty or over 500 characters", body = doc::ProblemJson, content_type = doc::PROBLEM),
        doc::OfficerErrors, doc::JsonErrors, doc::ServerErrors))]
pub async fn reinstate(
    State(state): S,
    Officer(o): Officer,
    Path(id): Path<String>,
    Body(b): Body<StatusChange>,
) -> Result<Json<Value>, Problem> {
    change_status(state, o, id, CredentialStatus::Valid, b.reason).await
}

// ----- publication -----

/// `GET /.well-known/jwks.json`
#[utoipa::path(get, path = "/.well-known/jwks.json", tag = "publication",
    summary = "The trust list: the issuer public keys not retired, the current key first",
    responses((status = 200, description = "The JWK Set (`Cache-Control: public, max-age=300`)",
        body = doc::JwkSet, content_type = "application/jwk-set+json")))]
pub async fn jwks(State(state): S) -> Response {
    let body = serde_json::to_string(&state.keys().jwks).unwrap_or_default();
    (
        [
            (header::CONTENT_TYPE, "application/jwk-set+json"),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        body,
    )
        .into_response()
}

/// `GET /v1/status-lists`
#[utoipa::path(get, path = "/v1/status-lists", tag = "publication",
    summary = "The index of the status lists, for offline verifiers that keep every list",
    responses((status = 200, description = "`{\"lists\": [{\"n\": 1, \"uri\": \"…/v1/status-lists/1\"}, …]}` in order (`Cache-Control: public, max-age=60`)", body = doc::StatusListIndex),
        doc::ServerErrors))]
pub async fn status_list_index(State(state): S) -> Result<Response, Problem> {
    let lists = state.status_list_numbers().await?;
    let body = json!({
        "lists": lists.iter().map(|n| json!({"n": n, "uri": state.config.status_list_uri(*n)})).collect::<Vec<_>>()
    });
    Ok((
        [(
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=60"),
        )],
        Json(body),
    )
        .into_response())
}

/// `GET /v1/status-lists/{n}`
#[utoipa::path(get, path = "/v1/status-lists/{n}", tag = "publication",
    summary = "Status list `n` as a signed Token Status List token (CWT)",
    params(("n" = String, Path, description = "The list's number: 1, 2, …; anything else answers 404")),
    responses((status = 200, description = "The token's bytes (`Cache-Control: public, max-age=60`)",
            content(("application/statuslist+cwt"))),
        (status = 404, description = "`not_found`: `n` not a positive integer, or no such list", body = doc::ProblemJson, content_type = doc::PROBLEM),
        doc::ServerErrors))]
pub async fn status_list(State(state): S, Path(n): Path<String>) -> Result<Response, Problem> {
    let n: i64 = n
        .parse()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| Problem::not_found("status list"))?;
    let token = state
        .status_list_token(n)
        .await?
        .ok_or_else(|| Problem::not_found("status list"))?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "application/statuslist+cwt".to_owned(),
            ),
            (
                header::CACHE_CONTROL,
                format!("public, max-age={STATUS_LIST_MAX_AGE}"),
            ),
        ],
        token.as_ref().clone(),
    )
        .into_response())
}

// ----- verification -----

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyRequest {
    /// The QR text; line ends and tabs around it are trimmed.
    payload: String,
}

/// `POST /v1/verify`: JSON `{"payload": …}` or a multipart upload with an `image` field.
#[utoipa::path(post, path = "/v1/verify", tag = "verification", security(("client" = [])),
    summary = "Verify a credential: a QR payload, or an image of QR codes",
    request_body(description = "The payload as JSON (at most 64 KiB), or an image (at most 10 MiB)",
        content((VerifyRequest = "application/json"), (doc::VerifyImage = "multipart/form-data"))),
    responses((status = 200, description = "The verdict (also for an invalid credential: `valid: false`)", body = doc::VerifyAnswer),
        (status = 400, description = "`malformed_json`, `invalid_multipart` or `missing_image`", body = doc::ProblemJson, content_type = doc::PROBLEM),
        (status = 401, description = "`unauthorized`: registered client credentials (HTTP Basic) are required", body = doc::ProblemJson, content_type = doc::PROBLEM),
        (status = 413, description = "`body_too_large`: over 64 KiB as JSON, 10 MiB as an upload", body = doc::ProblemJson, content_type = doc::PROBLEM),
        (status = 415, description = "`unsupported_media_type`: neither JSON nor multipart", body = doc::ProblemJson, content_type = doc::PROBLEM),
        (status = 422, description = "`invalid_body`, or the image: `unsupported_image`, `image_too_large`, `image_corrupt`, `no_qr_found`, `qr_unreadable`, `image_too_complex`", body = doc::ProblemJson, content_type = doc::PROBLEM),
        doc::ServerErrors,
        (status = 503, description = "`busy` (image memory taken for 10 s; `Retry-After: 2`), `database_unavailable` or `timeout`", body = doc::ProblemJson, content_type = doc::PROBLEM)))]
pub async fn verify(
    State(state): S,
    Client(client): Client,
    req: Request,
) -> Result<Response, Problem> {
    let ctype = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let payloads: Vec<String> = if ctype.starts_with("multipart/form-data") {
        let limit = state.config.max_image_body as u64;
        crate::body::within(req.headers(), limit, too_large)?;
        let mut mp = Multipart::from_request(req, &state)
            .await
            .map_err(|e| Problem::bad_request(ProblemKind::InvalidMultipart, e.body_text()))?;
        let mut image = None;
        while let Some(field) = mp.next_field().await.map_err(multipart_problem)? {
            if field.name() == Some("image") {
                image = Some(field.bytes().await.map_err(multipart_problem)?);
                break;
            }
        }
        let image = image.ok_or_else(|| {
            Problem::bad_request(
                ProblemKind::MissingImage,
                "multipart body has no field named image",
            )
        })?;
        decode_upload(&state, image).await?
    } else {
        // The route allows image-sized bodies; a JSON request gets the JSON limit.
        if !ctype.starts_with("application/json") {
            return Err(Problem::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                ProblemKind::UnsupportedMediaType,
                "send application/json {\"payload\": …} or multipart/form-data with an image field",
            ));
        }
        let bytes = crate::body::bytes_within(req, state.config.max_json_body).await?;
        let VerifyRequest { payload } = serde_json::from_slice(&bytes).map_err(json_error)?;
        vec![payload]
    };
    let mut verdicts = Vec::with_capacity(payloads.len());
    for p in &payloads {
        let checked = state.verify_for(&client, p).await?;
        let counter = if checked.is_valid() {
            &state.metrics.verify_valid
        } else {
            &state.metrics.verify_invalid
        };
        counter.inc();
        verdicts.push(checked);
    }
    // Written straight to bytes: no JSON tree per request on the endpoint's hot path.
    let mut body = Vec::with_capacity(1024);
    // One QR (the usual case) answers with its verdict; an image with several, with a list.
    let written = match verdicts.as_slice() {
        [one] => serde_json::to_writer(&mut body, one),
        many => serde_json::to_writer(&mut body, &json!({"verdicts": many})),
    };
    written.map_err(|e| Problem::internal(&e))?;
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response())
}

/// How long an upload waits for image memory before the service answers 503.
const IMAGE_QUEUE_WAIT: Duration = Duration::from_secs(10);

/// Sets the flag when dropped: the handler's future is dropped when its request ends early
/// (the client went away, the request timed out, or shutdown), and the decode on the blocking
/// pool sees the flag and stops instead of working for nobody.
struct CancelOnDrop(Arc<AtomicBool>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Relaxed);
    }
}

/// Reads the QR codes of an uploaded image on the blocking pool. What the image needs in memory
/// is judged from its header and reserved first from the service's image memory (waiting at
/// most [`IMAGE_QUEUE_WAIT`], then 503 with Retry-After); the reservation is held until the
/// blocking work ends, even if the request ended before, so the total stays bounded.
async fn decode_upload(state: &AppState, image: Bytes) -> Result<Vec<String>, Problem> {
    let limits = qrid_qr::DecodeLimits {
        max_bytes: state.config.max_image_body,
        max_memory: state.config.image_decode_memory,
        ..Default::default()
    };
    let unreadable = |e: qrid_qr::QrError| qr_problem(StatusCode::UNPROCESSABLE_ENTITY, &e);
    let need = qrid_qr::decode_memory(&image, &limits).map_err(unreadable)?;
    let mib = u32::try_from(need.div_ceil(1 << 20))
        .unwrap_or(u32::MAX)
        .max(1);
    let permit = tokio::time::timeout(
        IMAGE_QUEUE_WAIT,
        state.image_memory.clone().acquire_many_owned(mib),
    )
    .await
    .map_err(|_| {
        Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ProblemKind::Busy,
            "too many images are being read; try again shortly",
        )
        .with_retry_after(2)
    })?
    .map_err(|e| Problem::internal(&e))?;
    let cancel = Arc::new(AtomicBool::new(false));
    let _cancel_on_drop = CancelOnDrop(cancel.clone());
    tokio::task::spawn_blocking(move || {
        let texts = qrid_qr::decode_image_cancellable(&image, &limits, &cancel);
        drop(permit);
        texts
    })
    .await
    .map_err(|e| Problem::internal(&e))?
    .map_err(unreadable)
}

/// A QR rendering (400) or image reading (422) error as a problem of `status`, of the kind
/// [`ProblemKind::of_qr_error`] names; an error that is no kind of the API (a decode cancelled
/// because its request ended, a variant added to the library since) is internal.
fn qr_problem(status: StatusCode, e: &qrid_qr::QrError) -> Problem {
    match ProblemKind::of_qr_error(e) {
        Some(kind) => Problem::new(status, kind, e.to_string()),
        None => Problem::internal(e),
    }
}

fn multipart_problem(e: axum::extract::multipart::MultipartError) -> Problem {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        too_large()
    } else {
        Problem::bad_request(ProblemKind::InvalidMultipart, e.body_text())
    }
}

// ----- operations -----

/// `GET /healthz`: 200 when the database answers a read and takes a write, else 503
/// `database_unavailable` naming which failed. Each check is bounded by
/// [`HEALTH_CHECK_TIMEOUT`] so a load balancer's probe gets an answer even while the database
/// hangs.
#[utoipa::path(get, path = "/healthz", tag = "operations",
    summary = "Liveness: the database answers a read and takes a write",
    responses((status = 200, description = "Healthy", body = doc::Health),
        (status = 503, description = "`database_unavailable`: the detail names the check that failed; `Retry-After: 5`", body = doc::ProblemJson, content_type = doc::PROBLEM)))]
pub async fn healthz(State(state): S) -> Response {
    let backend = format!("{:?}", state.store.backend()).to_lowercase();
    let bounded =
        |r: Result<Result<(), qrid_store::StoreError>, tokio::time::error::Elapsed>| match r {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(match e {
                qrid_store::StoreError::Unavailable(why) => why.to_string(),
                other => other.kind().to_owned(),
            }),
            Err(_) => Err("no answer in time".to_owned()),
        };
    let read = bounded(tokio::time::timeout(HEALTH_CHECK_TIMEOUT, state.store.ping()).await);
    let write = match read {
        Ok(()) => {
            bounded(tokio::time::timeout(HEALTH_CHECK_TIMEOUT, state.store.check_writable()).await)
        }
        Err(_) => Err("not checked".to_owned()),
    };
    match (&read, &write) {
        (Ok(()), Ok(())) => {
            Json(json!({"status": "ok", "database": backend, "writable": true})).into_response()
        }
        _ => {
            let what = |r: &Result<(), String>| match r {
                Ok(()) => "ok".to_owned(),
                Err(e) => e.clone(),
            };
            Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                ProblemKind::DatabaseUnavailable,
                format!("{backend}: read {}, write {}", what(&read), what(&write)),
            )
            .with_retry_after(5)
            .into_response()
        }
    }
}

/// How long `/healthz` waits for each database check: load balancers commonly time a probe
/// out after 5 s, and the two checks together stay under that.
pub const HEALTH_CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// `GET /metrics`
#[utoipa::path(get, path = "/metrics", tag = "operations",
    summary = "Counters and latency histograms in the OpenMetrics text format",
    responses((status = 200, description = "The metrics of this node since it started",
        body = String, content_type = "application/openmetrics-text; version=1.0.0; charset=utf-8")))]
pub async fn metrics(State(state): S) -> Response {
    (
        [(header::CONTENT_TYPE, crate::metrics::CONTENT_TYPE)],
        state.metrics.render(),
    )
        .into_response()
}

/// Any other path.
pub async fn fallback() -> Problem {
    Problem::not_found("resource")
}
