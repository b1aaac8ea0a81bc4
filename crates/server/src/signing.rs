//! Document signatures over HTTP (docs/signature-format.md, docs/api.md): officials sign in,
//! open signing sessions and sign; anyone reads a signature record and its QR stamp;
//! registered clients verify signatures with this service's live status.

use crate::auth::Client;
use crate::body;
use crate::form::{self, FormError, FormReader, PartHead, PartSink};
use crate::officials::{control_proof, OfficialAuth, SoleControl};
use crate::openapi as doc;
use crate::problem::{json_error, Problem, ProblemKind};
use crate::routes::Body;
use crate::state::AppState;
use axum::extract::{Path, Query, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use http_body_util::BodyExt;
use qrid_service::signing::DocumentToSign;
use qrid_service::SignatureId;
use qrid_store::SignatureRecord;
use qrid_verifier::SignatureVerdict;
use serde::Deserialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::sync::Arc;

type S = State<Arc<AppState>>;

/// Largest document accepted for signing or verification, bytes.
pub const MAX_DOCUMENT: u64 = 100 * 1024 * 1024;
/// Largest text field of a multipart signing or verification request, bytes.
const MAX_FIELD: usize = 32 * 1024;

fn problem(status: StatusCode, kind: ProblemKind, detail: impl Into<String>) -> Problem {
    Problem::new(status, kind, detail)
}

fn unprocessable(kind: ProblemKind, detail: impl Into<String>) -> Problem {
    problem(StatusCode::UNPROCESSABLE_ENTITY, kind, detail)
}

// ----- sign-in and sessions -----

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignInRequest {
    username: String,
    password: String,
    /// The current six-digit TOTP code.
    totp: String,
}

/// `POST /v1/officials/token`: `{"username", "password", "totp"}` → a bearer token.
#[utoipa::path(post, path = "/v1/officials/token", tag = "signatures", operation_id = "official_token",
    summary = "Official sign-in: username, password and TOTP code → bearer token",
    request_body(content = SignInRequest, content_type = doc::JSON),
    responses((status = 200, description = "A bearer token for 15 minutes, and who signed in", body = doc::OfficialToken),
        (status = 401, description = "`unauthorized`: wrong username, password or code (the same answer whichever was wrong)", body = doc::ProblemJson, content_type = doc::PROBLEM),
        (status = 422, description = "`invalid_body`: JSON of the wrong shape", body = doc::ProblemJson, content_type = doc::PROBLEM),
        (status = 429, description = "`too_many_attempts` (the username or the codes are locked out) or `rate_limited`; `Retry-After`", body = doc::ProblemJson, content_type = doc::PROBLEM),
        doc::JsonErrors, doc::ServerErrors))]
pub async fn token(
    State(state): S,
    Body(req): Body<SignInRequest>,
) -> Result<Json<Value>, Problem> {
    let (token, o) = state
        .official_sign_in(&req.username, &req.password, &req.totp)
        .await
        .inspect_err(|e| state.metrics.count_sign_in_refusal(e))?;
    Ok(Json(json!({
        "access_token": token.token, "token_type": "Bearer",
        "expires_in": token.expires_at - state.now(),
        "official": {"id": o.id, "name": o.full_name, "title": o.title, "agency": o.agency, "kid": o.kid},
    })))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SessionRequest {
    /// How many documents the session may sign, 1–100.
    documents: i64,
    /// How long it lasts, 1–60 minutes.
    minutes: i64,
}

/// `POST /v1/signing-sessions` with `X-TOTP`: `{"documents", "minutes"}` → a session token
/// that stands in for a fresh TOTP code on that many signing requests within that time.
#[utoipa::path(post, path = "/v1/signing-sessions", tag = "signatures", security(("official" = [], "totp" = [])),
    summary = "Open a signing session: N documents within M minutes without a code each",
    request_body(content = SessionRequest, content_type = doc::JSON),
    responses((status = 201, description = "The session (only its SHA-256 is stored)", body = doc::SigningSession),
        (status = 401, description = "`unauthorized` (no or not an official's valid token), `totp_malformed`, `totp_invalid`, `totp_reused` or `sole_control_required`", body = doc::ProblemJson, content_type = doc::PROBLEM),
        (status = 403, description = "`forbidden`: the official is disabled", body = doc::ProblemJson, content_type = doc::PROBLEM),
        (status = 422, description = "`invalid_body`: wrong shape, `documents` or `minutes` out of range", body = doc::ProblemJson, content_type = doc::PROBLEM),
        (status = 429, description = "`too_many_attempts`: the official's codes are locked out; `Retry-After`", body = doc::ProblemJson, content_type = doc::PROBLEM),
        doc::JsonErrors, doc::ServerErrors))]
pub async fn open_session(
    State(state): S,
    OfficialAuth(claims): OfficialAuth,
    headers: HeaderMap,
    Body(req): Body<SessionRequest>,
) -> Result<Response, Problem> {
    let session = state
        .open_signing_session(&claims, control_proof(&headers), req.documents, req.minutes)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "session": session.token, "documents": session.documents,
            "expires_at": session.expires_at,
        })),
    )
        .into_response())
}

// ----- signing -----

/// What a signing or verification request says about its document.
#[derive(Default)]
struct DocumentInput {
    digest: Option<[u8; 32]>,
    size: Option<u64>,
    name: Option<String>,
    media_type: Option<String>,
    kid: Option<String>,
    signature: Option<String>,
}

fn parse_digest(hex_digest: &str) -> Result<[u8; 32], Problem> {
    let bad = || {
        unprocessable(
            ProblemKind::InvalidDigest,
            "digest must be the document's SHA-256 as 64 hexadecimal digits",
        )
    };
    let bytes = hex::decode(hex_digest.trim()).map_err(|_| bad())?;
    bytes.try_into().map_err(|_| bad())
}

/// What a multipart body may hold besides the document itself, bytes.
const MAX_FORM_OVERHEAD: u64 = 1024 * 1024;

impl From<FormError> for Problem {
    fn from(e: FormError) -> Self {
        Problem::bad_request(ProblemKind::InvalidMultipart, e.to_string())
    }
}

/// Collects a signing or verification form: the `document` part is hashed as its bytes
/// arrive, the other parts (at most [`MAX_FIELD`] bytes each, 16 parts in all) are kept.
#[derive(Default)]
struct DocumentSink {
    input: DocumentInput,
    parts: usize,
    current: Option<Part>,
}

enum Part {
    Document { hasher: Sha256, size: u64 },
    Text { name: String, bytes: Vec<u8> },
}

impl PartSink for DocumentSink {
    type Error = Problem;

    fn start(&mut self, head: PartHead) -> Result<(), Problem> {
        self.parts += 1;
        if self.parts > 16 {
            return Err(Problem::bad_request(
                ProblemKind::InvalidMultipart,
                "too many parts",
            ));
        }
        self.current = Some(if head.name == "document" {
            if self.input.digest.is_some() {
                return Err(Problem::bad_request(
                    ProblemKind::InvalidMultipart,
                    "one document per request, and a document or its digest, not both",
                ));
            }
            if self.input.name.is_none() {
                self.input.name = head.filename;
            }
            if self.input.media_type.is_none() {
                self.input.media_type = head.content_type;
            }
            Part::Document {
                hasher: Sha256::new(),
                size: 0,
            }
        } else {
            Part::Text {
                name: head.name,
                bytes: Vec::new(),
            }
        });
        Ok(())
    }

    fn data(&mut self, chunk: &[u8]) -> Result<(), Problem> {
        match &mut self.current {
            Some(Part::Document { hasher, size }) => {
                *size += chunk.len() as u64;
                if *size > MAX_DOCUMENT {
                    return Err(document_too_large());
                }
                hasher.update(chunk);
            }
            Some(Part::Text { name, bytes }) => {
                if bytes.len() + chunk.len() > MAX_FIELD {
                    return Err(Problem::bad_request(
                        ProblemKind::InvalidMultipart,
                        format!("the {name} part is longer than {MAX_FIELD} bytes"),
                    ));
                }
                bytes.extend_from_slice(chunk);
            }
            None => {}
        }
        Ok(())
    }

    fn end(&mut self) -> Result<(), Problem> {
        let input = &mut self.input;
        match self.current.take() {
            Some(Part::Document { hasher, size }) => {
                input.digest = Some(hasher.finalize().into());
                input.size = Some(size);
            }
            Some(Part::Text { name, bytes }) => {
                let text = String::from_utf8(bytes).map_err(|_| {
                    Problem::bad_request(
                        ProblemKind::InvalidMultipart,
                        format!("the {name} part is not UTF-8"),
                    )
                })?;
                match name.as_str() {
                    "name" => input.name = Some(text),
                    "media_type" => input.media_type = Some(text),
                    "kid" => input.kid = Some(text),
                    "signature" => input.signature = Some(text),
                    "digest" => {
                        if input.digest.is_some() {
                            return Err(Problem::bad_request(
                                ProblemKind::InvalidMultipart,
                                "send a document or its digest, not both",
                            ));
                        }
                        input.digest = Some(parse_digest(&text)?);
                    }
                    other => {
                        return Err(Problem::bad_request(
                            ProblemKind::InvalidMultipart,
                            format!("unknown part {other:?}"),
                        ))
                    }
                }
            }
            None => {}
        }
        Ok(())
    }
}

fn document_too_large() -> Problem {
    problem(
        StatusCode::PAYLOAD_TOO_LARGE,
        ProblemKind::DocumentTooLarge,
        format!(
            "documents are limited to {} MiB",
            MAX_DOCUMENT / (1024 * 1024)
        ),
    )
}

/// Streams a multipart signing or verification body through the form reader, refusing it
/// once more than `limit` bytes have arrived.
async fn read_form(
    stream: &mut axum::body::Body,
    boundary: &str,
    limit: u64,
) -> Result<DocumentInput, Problem> {
    let mut reader = FormReader::new(boundary);
    let mut sink = DocumentSink::default();
    let mut total = 0u64;
    while let Some(frame) = stream.frame().await {
        let frame =
            frame.map_err(|e| Problem::bad_request(ProblemKind::InvalidBody, e.to_string()))?;
        let Ok(data) = frame.into_data() else {
            continue; // trailers
        };
        total += data.len() as u64;
        if total > limit {
            return Err(document_too_large());
        }
        reader.feed(&data, &mut sink)?;
    }
    reader.finish()?;
    Ok(sink.input)
}

/// Reads a JSON body (`digest`, `name`, `media_type`, `kid`, `signature`) or a multipart body
/// whose `document` part is hashed as it streams in, never held whole in memory.
async fn read_document(state: &Arc<AppState>, req: Request) -> Result<DocumentInput, Problem> {
    let ctype = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    if let Some(boundary) = form::boundary(&ctype) {
        let boundary = boundary?;
        // Besides the document: its part headers and the other, small, parts.
        let limit = MAX_DOCUMENT + MAX_FORM_OVERHEAD;
        body::within(req.headers(), limit, document_too_large)?;
        let mut stream = req.into_body();
        return match read_form(&mut stream, &boundary, limit).await {
            Ok(input) => Ok(input),
            Err(p) => {
                body::drain(stream).await;
                Err(p)
            }
        };
    }
    if !ctype.starts_with("application/json") {
        return Err(problem(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ProblemKind::UnsupportedMediaType,
            "send application/json or multipart/form-data with a document part",
        ));
    }
    let bytes = body::bytes_within(req, state.config.max_json_body).await?;
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Json {
        digest: Option<String>,
        name: Option<String>,
        media_type: Option<String>,
        kid: Option<String>,
        signature: Option<String>,
    }
    let j: Json = serde_json::from_slice(&bytes).map_err(json_error)?;
    Ok(DocumentInput {
        digest: j.digest.as_deref().map(parse_digest).transpose()?,
        size: None,
        name: j.name,
        media_type: j.media_type,
        kid: j.kid,
        signature: j.signature,
    })
}

/// `POST /v1/signatures`: signs a document (multipart `document`, streamed and hashed, up to
/// 100 MiB) or its digest (JSON `{"digest", "name", "media_type"}`) with the signed-in
/// official's key. Needs `X-TOTP` or `X-Signing-Session` besides the bearer token.
#[utoipa::path(post, path = "/v1/signatures", tag = "signatures",
    security(("official" = [], "totp" = []), ("official" = [], "signing_session" = [])),
    summary = "Sign a document, or its SHA-256, with the official's key → JWS and QR stamp",
    request_body(description = "The document's digest as JSON (at most 64 KiB), or the document itself (at most 100 MiB, hashed as it streams)",
        content((doc::SignDigest = "application/json"), (doc::SignUpload = "multipart/form-data"))),
    responses((status = 201, description = "The signature, recorded", body = doc::SignatureCreated),
        (status = 400, description = "`invalid_body` (a `signature` sent, or the body could not be read), `invalid_multipart` or `malformed_json`", body = doc::ProblemJson, content_type = doc::PROBLEM),
        (status = 401, description = "`unauthorized` (no or not an official's valid token), `totp_malformed`, `totp_invalid`, `totp_reused` or `sole_control_required`", body = doc::ProblemJson, content_type = doc::PROBLEM),
        (status = 403, description = "`forbidden` (a disabled official), `signing_session_refused`, `not_your_key`, `no_signer_credential`, `signer_credential_revoked`, `signer_credential_suspended` or `signer_credential_expired`", body = doc::ProblemJson, content_type = doc::PROBLEM),
        (status = 413, description = "`document_too_large` (over 100 MiB) or `body_too_large` (JSON over 64 KiB)", body = doc::ProblemJson, content_type = doc::PROBLEM),
        (status = 415, description = "`unsupported_media_type`: neither JSON nor multipart", body = doc::ProblemJson, content_type = doc::PROBLEM),
        (status = 422, description = "`invalid_digest`, `missing_document`, `missing_name`, `invalid_document`, `invalid_body` or `invalid_input`", body = doc::ProblemJson, content_type = doc::PROBLEM),
        (status = 429, description = "`too_many_attempts`: the official's codes are locked out; `Retry-After`", body = doc::ProblemJson, content_type = doc::PROBLEM),
        doc::ServerErrors))]
pub async fn sign(
    State(state): S,
    OfficialAuth(claims): OfficialAuth,
    req: Request,
) -> Result<Response, Problem> {
    // Sole control first: nobody uploads 100 MiB on a stolen bearer token alone.
    let control = state
        .begin_signing(&claims, control_proof(req.headers()))
        .await?;
    let input = read_document(&state, req).await?;
    if input.signature.is_some() {
        return Err(Problem::bad_request(
            ProblemKind::InvalidBody,
            "signature belongs in a verification request",
        ));
    }
    let signed = state
        .sign_document(
            &claims,
            DocumentToSign {
                digest: input.digest,
                name: input.name,
                media_type: input.media_type,
                kid: input.kid,
            },
        )
        .await?;
    state.metrics.signatures.inc();
    let (o, document, url) = (&signed.official, &signed.document, &signed.url);
    let mut body = json!({
        "id": signed.id, "jws": signed.jws, "stamp": signed.stamp, "signed_at": signed.signed_at,
        "url": url, "stamp_png": format!("{url}/stamp.png"), "stamp_svg": format!("{url}/stamp.svg"),
        "document": {"name": document.name.as_str(), "media_type": document.media_type, "sha256": document.digest_hex()},
        "signer": {"name": o.full_name, "title": o.title, "agency": o.agency, "kid": o.kid},
        "signer_credential_id": signed.signer_credential_id,
    });
    if let Some(size) = input.size {
        body["document"]["size"] = size.into();
    }
    if let SoleControl::Session { left } = control {
        body["session_documents_left"] = left.into();
    }
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

// ----- records -----

fn record_json(r: &SignatureRecord, public_url: &str) -> Value {
    let url = format!("{public_url}/v1/signatures/{}", r.id);
    json!({
        "id": r.id, "signed_at": r.signed_at, "url": url,
        "document": {"name": r.document_name, "media_type": r.media_type, "sha256": r.digest},
        "signer_credential_id": r.signer_credential_id,
        "jws": r.jws, "stamp": r.stamp,
        "stamp_png": format!("{url}/stamp.png"), "stamp_svg": format!("{url}/stamp.svg"),
        "format": if r.pades.is_some() { "pades" } else { "jws" },
        "pdf": r.pades.as_ref().map(|p| json!({
            "certificate_serial": p.certificate_serial, "signed_sha256": p.signed_sha256,
        })),
    })
}

/// `GET /v1/signatures/{id}`: what a QR stamp points to. Public, like the stamp on the paper:
/// the signer, the time, the document's name and digest, the signature itself, and the signer
/// credential's status now.
#[utoipa::path(get, path = "/v1/signatures/{id}", tag = "signatures", operation_id = "get_signature",
    summary = "The signature record a QR stamp points to (public, as the stamp is)", params(doc::Id),
    responses((status = 200, description = "The record, with the signer and the signer credential's status now", body = doc::SignatureRecord),
        (status = 404, description = "`not_found`: no such signature", body = doc::ProblemJson, content_type = doc::PROBLEM),
        doc::ServerErrors))]
pub async fn get(State(state): S, Path(id): Path<String>) -> Result<Json<Value>, Problem> {
    let file = state.signature_file(&SignatureId::parse(&id)?).await?;
    let mut v = record_json(&file.record, &state.config.public_url);
    if let Some(o) = file.signer {
        v["signer"] =
            json!({"name": o.full_name, "title": o.title, "agency": o.agency, "kid": o.kid});
    }
    if let Some(c) = file.signer_credential {
        v["signer_credential"] = json!({
            "id": c.id, "status": c.status, "status_changed_at": c.status_changed_at,
            "expires_at": c.expires_at,
        });
    }
    Ok(Json(v))
}

/// `GET /v1/signatures/{id}/stamp.png` and `stamp.svg`.
#[utoipa::path(get, path = "/v1/signatures/{id}/{file}", tag = "signatures",
    summary = "The QR stamp for the printed copy",
    params(doc::Id, ("file" = inline(doc::StampFile), Path, description = "`stamp.png` or `stamp.svg`")),
    responses((status = 200, description = "The stamp's QR code (`Cache-Control: public, max-age=86400`)",
            content(("image/png"), ("image/svg+xml"))),
        (status = 404, description = "`not_found`: no such signature, or another file name", body = doc::ProblemJson, content_type = doc::PROBLEM),
        doc::ServerErrors))]
pub async fn stamp(
    State(state): S,
    Path((id, file)): Path<(String, String)>,
) -> Result<Response, Problem> {
    let id = SignatureId::parse(&id)?;
    let (format, mime) = match file.as_str() {
        "stamp.png" => (qrid_qr::Format::Png, "image/png"),
        "stamp.svg" => (qrid_qr::Format::Svg, "image/svg+xml"),
        _ => return Err(Problem::not_found("resource")),
    };
    let r = state.signature(&id).await?;
    let bytes =
        qrid_qr::render(&r.stamp, qrid_qr::Ecc::M, 4, format).map_err(|e| Problem::internal(&e))?;
    Ok((
        [
            (header::CONTENT_TYPE, mime),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        bytes,
    )
        .into_response())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// 1–500 (default 50).
    limit: Option<i64>,
    /// The `next_before` of the previous page.
    before: Option<i64>,
}

/// `GET /v1/officials/me/signatures?limit=&before=`: the signed-in official's own signatures,
/// newest first.
#[utoipa::path(get, path = "/v1/officials/me/signatures", tag = "signatures", security(("official" = [])),
    summary = "The signed-in official's own signatures, newest first", params(ListQuery),
    responses((status = 200, description = "A page of signature records", body = doc::SignatureList),
        (status = 400, description = "`invalid_query`: a query that does not parse, or `limit` out of range", body = doc::ProblemJson, content_type = doc::PROBLEM),
        (status = 401, description = "`unauthorized`: no or not an official's valid token", body = doc::ProblemJson, content_type = doc::PROBLEM),
        (status = 403, description = "`forbidden`: the official is disabled", body = doc::ProblemJson, content_type = doc::PROBLEM),
        doc::ServerErrors))]
pub async fn mine(
    State(state): S,
    OfficialAuth(claims): OfficialAuth,
    q: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, Problem> {
    let Query(q) = q.map_err(|e| Problem::bad_request(ProblemKind::InvalidQuery, e.body_text()))?;
    let limit = q.limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(Problem::bad_request(
            ProblemKind::InvalidQuery,
            "limit must be 1 to 500",
        ));
    }
    let rows = state.my_signatures(&claims, limit, q.before).await?;
    let next = (rows.len() as i64 == limit)
        .then(|| rows.last().map(|r| r.signed_at))
        .flatten();
    Ok(Json(json!({
        "signatures": rows.iter().map(|r| record_json(r, &state.config.public_url)).collect::<Vec<_>>(),
        "next_before": next,
    })))
}

// ----- verification -----

/// `POST /v1/signatures/verify` (registered clients, HTTP Basic): JSON `{"signature",
/// "digest"}` or multipart `signature` and `document` (hashed as it streams). Answers the
/// verdict of `qrid verify-signature`, with this service's live status and the time of any
/// revocation, so that a signature made before its signer credential was revoked is judged
/// valid and one made after is not.
#[utoipa::path(post, path = "/v1/signatures/verify", tag = "signatures", operation_id = "verify_signature",
    security(("client" = [])),
    summary = "Verify a document signature, with this service's live status of the signer credential",
    request_body(description = "The signature and the document's digest as JSON (at most 64 KiB), or the signature and the document (at most 100 MiB)",
        content((doc::VerifySignatureJson = "application/json"), (doc::VerifySignatureUpload = "multipart/form-data"), ("application/pdf"))),
    responses((status = 200, description = "A valid verdict (`valid: true`), or an indeterminate one (`outcome: \"indeterminate\"`), as `qrid verify-signature` prints it; for a signed PDF (`Content-Type: application/pdf`, at most 32 MiB), the verdict on every signature in it (`format: \"pades\"`)", body = Object),
        (status = 400, description = "`invalid_multipart`, `malformed_json` or `invalid_body`", body = doc::ProblemJson, content_type = doc::PROBLEM),
        (status = 401, description = "`unauthorized`: registered client credentials (HTTP Basic) are required", body = doc::ProblemJson, content_type = doc::PROBLEM),
        (status = 413, description = "`document_too_large`, `body_too_large` or `pdf_too_large`", body = doc::ProblemJson, content_type = doc::PROBLEM),
        (status = 415, description = "`unsupported_media_type`: neither JSON, multipart nor a PDF", body = doc::ProblemJson, content_type = doc::PROBLEM),
        (status = 422, description = "The signature is invalid: the `type` is the reason (`malformed_signature`, `too_large`, `unknown_issuer_key`, `bad_signer_credential`, `no_holder_key`, `key_mismatch`, `bad_signature`, `digest_mismatch`, `signing_time_in_future`, `signed_outside_validity`, `revoked_before_signing`, `unknown_status`; for a PDF also `not_pdf`, `malformed_pdf`, `encrypted_pdf`, `unsupported_pdf`, `no_signature`, `untrusted_certificate`, `byte_range_invalid`, `modified_after_signing`), with the verdict's members alongside; or the request: `missing_signature`, `invalid_digest`, `invalid_body`", body = doc::ProblemJson, content_type = doc::PROBLEM),
        doc::ServerErrors))]
pub async fn verify(
    State(state): S,
    Client(client): Client,
    req: Request,
) -> Result<Response, Problem> {
    if crate::pades::is_pdf(&req) {
        return crate::pades::verify_pdf(&state, &Client(client), req).await;
    }
    let input = read_document(&state, req).await?;
    let jws = input.signature.ok_or_else(|| {
        unprocessable(
            ProblemKind::MissingSignature,
            "send the signature (the JWS) to verify",
        )
    })?;
    let verdict = state
        .verify_signature(&client, &jws, input.digest.as_ref())
        .await?;
    Ok(verdict_response(&verdict))
}

/// A valid or indeterminate verdict is answered 200 with the verdict JSON; an invalid one
/// 422 problem+json whose `type` names the reason, with the verdict's members alongside (who
/// the signature claims to be from, the document, the signer credential), so that a portal
/// that only looks at the status still refuses it.
fn verdict_response(verdict: &SignatureVerdict) -> Response {
    let body = verdict.to_json();
    let SignatureVerdict::Invalid(f) = verdict else {
        return Json(body).into_response();
    };
    let Some(kind) = ProblemKind::of_signature_reason(&f.reason) else {
        // An indeterminate reason in an invalid verdict, or a reason added to the verifier
        // since: no kind of the API names it, so it is not put on the wire.
        return Problem::internal(&format!(
            "invalid signature verdict without a problem kind: {}",
            f.reason.kind()
        ))
        .into_response();
    };
    Problem::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        kind,
        format!("the signature is not valid: {}", f.reason),
    )
    .into_response_with(body)
}
