//! PDF signatures over HTTP (docs/api.md "PDF signatures"): an official signs a PDF
//! (`POST /v1/signatures/pdf`), anyone fetches the CA certificate and its CRL, and
//! `POST /v1/signatures/verify` takes a signed PDF (see [`verify_pdf`]).

use crate::auth::Client;
use crate::body;
use crate::officials::{control_proof, OfficialAuth, SoleControl};
use crate::openapi as doc;
use crate::problem::{Problem, ProblemKind};
use crate::state::AppState;
use axum::extract::{Query, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use qrid_pdf::{PdfVerdict, Placement};
use qrid_service::pades::MAX_PDF;
use serde::Deserialize;
use std::sync::Arc;

type S = State<Arc<AppState>>;

/// Where the stamp goes and the document's name, from the query string.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SignPdfQuery {
    /// The document's name (shown on the record and in the stamp's QR).
    name: String,
    /// Across the last page, 0 (left) to 1 (right); with `y`. Default: bottom right.
    x: Option<f64>,
    /// Up the last page, 0 (bottom) to 1 (top); with `x`.
    y: Option<f64>,
}

fn pdf_too_large() -> Problem {
    Problem::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        ProblemKind::PdfTooLarge,
        format!("PDFs are limited to {} MiB", MAX_PDF >> 20),
    )
}

/// Reads a whole `application/pdf` body of at most [`MAX_PDF`] bytes.
pub async fn read_pdf(req: Request) -> Result<Vec<u8>, Problem> {
    body::within(req.headers(), MAX_PDF as u64, pdf_too_large)?;
    let bytes = axum::body::to_bytes(req.into_body(), MAX_PDF)
        .await
        .map_err(|_| pdf_too_large())?;
    Ok(bytes.to_vec())
}

/// Whether a request's body is a PDF (`Content-Type: application/pdf`).
pub fn is_pdf(req: &Request) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().to_ascii_lowercase().starts_with("application/pdf"))
}

/// The placement the query asks for.
fn placement(x: Option<f64>, y: Option<f64>) -> Result<Placement, Problem> {
    match (x, y) {
        (None, None) => Ok(Placement::BottomRight),
        (Some(x), Some(y)) if (0.0..=1.0).contains(&x) && (0.0..=1.0).contains(&y) => {
            Ok(Placement::At { x, y })
        }
        _ => Err(Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            ProblemKind::InvalidInput,
            "x and y go together, each from 0 to 1",
        )),
    }
}

/// `POST /v1/signatures/pdf?name=…[&x=…&y=…]` with a PDF body: signs it (PAdES B-B, visible
/// stamp on the last page) with the signed-in official's certified key. Needs `X-TOTP` or
/// `X-Signing-Session` besides the bearer token. Answers the signed PDF.
#[utoipa::path(post, path = "/v1/signatures/pdf", tag = "signatures", operation_id = "sign_pdf",
    security(("official" = [], "totp" = []), ("official" = [], "signing_session" = [])),
    summary = "Sign a PDF (PAdES B-B, visible QR stamp) with the official's certified key → the signed PDF",
    params(SignPdfQuery),
    request_body(description = "The PDF, at most 32 MiB", content(("application/pdf"))),
    responses((status = 201, description = "The signed PDF; `Location` is its record (`GET /v1/signatures/{id}`), `X-Signature-Id` its id, `X-Session-Documents-Left` what a signing session has left",
            content(("application/pdf"))),
        (status = 401, description = "`unauthorized`, `totp_malformed`, `totp_invalid`, `totp_reused` or `sole_control_required`", body = doc::ProblemJson, content_type = doc::PROBLEM),
        (status = 403, description = "`forbidden` (a disabled official), `signing_session_refused`, `no_signer_credential`, `signer_credential_revoked`, `signer_credential_suspended` or `signer_credential_expired`", body = doc::ProblemJson, content_type = doc::PROBLEM),
        (status = 413, description = "`pdf_too_large`: over 32 MiB", body = doc::ProblemJson, content_type = doc::PROBLEM),
        (status = 415, description = "`unsupported_media_type`: the body is not `application/pdf`", body = doc::ProblemJson, content_type = doc::PROBLEM),
        (status = 422, description = "`not_pdf`, `malformed_pdf`, `encrypted_pdf`, `unsupported_pdf` (nothing is signed), `missing_name`, `invalid_document`, `invalid_input`", body = doc::ProblemJson, content_type = doc::PROBLEM),
        (status = 429, description = "`too_many_attempts`: the official's codes are locked out; `Retry-After`", body = doc::ProblemJson, content_type = doc::PROBLEM),
        doc::ServerErrors))]
pub async fn sign(
    State(state): S,
    OfficialAuth(claims): OfficialAuth,
    Query(q): Query<SignPdfQuery>,
    req: Request,
) -> Result<Response, Problem> {
    let placement = placement(q.x, q.y)?;
    // Sole control first: nobody uploads 32 MiB on a stolen bearer token alone.
    let control = state
        .begin_signing(&claims, control_proof(req.headers()))
        .await?;
    if !is_pdf(&req) {
        return Err(Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ProblemKind::UnsupportedMediaType,
            "send the PDF as the body, with Content-Type: application/pdf",
        ));
    }
    let pdf = read_pdf(req).await?;
    let signed = state.sign_pdf(&claims, pdf, &q.name, placement).await?;
    state.metrics.signatures.inc();
    let mut resp = (StatusCode::CREATED, signed.pdf).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/pdf"),
    );
    let set = |h: &mut axum::http::HeaderMap, name: &'static str, v: &str| {
        if let Ok(v) = HeaderValue::from_str(v) {
            h.insert(name, v);
        }
    };
    set(h, "location", &signed.url);
    set(h, "x-signature-id", &signed.id);
    set(h, "x-signed-sha256", &hex::encode(signed.signed_sha256));
    set(
        h,
        "content-disposition",
        "attachment; filename=\"signed.pdf\"",
    );
    if let SoleControl::Session { left } = control {
        set(h, "x-session-documents-left", &left.to_string());
    }
    Ok(resp)
}

/// `GET /v1/pki/ca.pem`: the CA certificate, the trust root of officials' PDF signatures.
#[utoipa::path(get, path = "/v1/pki/ca.pem", tag = "signatures", operation_id = "ca_certificate",
    summary = "The CA certificate that certifies officials' PDF signing keys (PEM)",
    responses((status = 200, description = "The certificate", content(("application/x-pem-file"))), doc::ServerErrors))]
pub async fn ca_pem(State(state): S) -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/x-pem-file"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        state.authority().certificate().to_pem(),
    )
        .into_response()
}

/// `GET /v1/pki/crl`: the CA's CRL (DER), made now; good for an hour.
#[utoipa::path(get, path = "/v1/pki/crl", tag = "signatures", operation_id = "crl",
    summary = "The CA's certificate revocation list (DER): officials' certificates revoked or suspended with their signer credential",
    responses((status = 200, description = "The CRL (`nextUpdate` an hour after `thisUpdate`)", content(("application/pkix-crl"))), doc::ServerErrors))]
pub async fn crl(State(state): S) -> Result<Response, Problem> {
    let der = state.crl().await?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/pkix-crl"),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        der,
    )
        .into_response())
}

/// `POST /v1/signatures/verify` with a PDF body: the verdict on every signature in it.
pub async fn verify_pdf(
    state: &AppState,
    client: &Client,
    req: Request,
) -> Result<Response, Problem> {
    let pdf = read_pdf(req).await?;
    let verdict = state.verify_pdf(&client.0, pdf).await?;
    Ok(verdict_response(&verdict))
}

/// Valid → 200 with the verdict; invalid → 422 problem+json whose `type` names the first
/// reason, with the verdict's members alongside.
pub fn verdict_response(verdict: &PdfVerdict) -> Response {
    let body = verdict.to_json();
    if verdict.is_valid() {
        return axum::Json(body).into_response();
    }
    let kind = verdict
        .failure_kind()
        .and_then(ProblemKind::named)
        .unwrap_or(ProblemKind::MalformedPdf);
    let message = verdict.failure_message().unwrap_or_default();
    let status = if kind == ProblemKind::PdfTooLarge {
        StatusCode::PAYLOAD_TOO_LARGE
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Problem::new(
        status,
        kind,
        format!("the signed PDF is not valid: {message}"),
    )
    .into_response_with(body)
}
