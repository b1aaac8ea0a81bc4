//! The desk itself: upload, preview and place, approve with one code, download, history.

use super::{Official, FORM_LIMIT};
use crate::page::{render, secure, see_other};
use crate::Host;
use askama::Template;
use axum::extract::{DefaultBodyLimit, Form, Multipart, Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use qrid_service::desk::Approved;
use qrid_service::pades::MAX_PDF;
use qrid_service::ServiceError;
use qrid_store::{CredentialStatus, DeskDocument, DeskFile};
use serde::Deserialize;
use std::sync::Arc;

/// One upload request: a batch of PDFs. Each file is bounded by the service
/// ([`MAX_PDF`]); the request as a whole by this.
const UPLOAD_LIMIT: usize = 100 << 20;
/// Signatures per history page.
const HISTORY_PAGE: i64 = 50;

pub(super) fn routes<H: Host>() -> Router<Arc<H>> {
    Router::new()
        .route("/sign/", get(desk::<H>))
        .route("/sign/approve", post(approve::<H>))
        .route("/sign/clear", post(clear::<H>))
        .route("/sign/history", get(history::<H>))
        .route("/sign/documents/{id}", get(preview::<H>))
        .route("/sign/documents/{id}/place", post(place::<H>))
        .route("/sign/documents/{id}/remove", post(remove::<H>))
        .route("/sign/documents/{id}/{which}", get(file::<H>))
        .layer(DefaultBodyLimit::max(FORM_LIMIT))
        .merge(
            Router::new()
                .route("/sign/upload", post(upload::<H>))
                .layer(DefaultBodyLimit::max(UPLOAD_LIMIT)),
        )
}

fn size_in_words(bytes: i64) -> String {
    if bytes >= 1 << 20 {
        format!("{:.1} MiB", bytes as f64 / f64::from(1u32 << 20))
    } else {
        format!("{} KiB", (bytes + 1023) / 1024)
    }
}

fn time(at: i64) -> String {
    qrid_credential::format_utc(at)
        .map(|t| t.replace('T', " ").replace('Z', " UTC"))
        .unwrap_or_default()
}

/// A desk document as the page lists it.
struct DocView {
    id: String,
    name: String,
    pages: i64,
    size: String,
    place: String,
    signature_id: Option<String>,
}

fn doc_view(t: &crate::i18n::Texts, d: DeskDocument) -> DocView {
    let place = match d.place {
        None => t.sign_place_default.to_owned(),
        Some((x, y)) => t
            .sign_place_at
            .replace("{x}", &x.to_string())
            .replace("{y}", &y.to_string()),
    };
    DocView {
        size: size_in_words(d.size),
        id: d.id,
        name: d.name,
        pages: d.pages,
        place,
        signature_id: d.signature_id,
    }
}

#[derive(Template)]
#[template(path = "sign_desk.html")]
struct Desk {
    s: super::SignChrome,
    waiting: Vec<DocView>,
    signed: Vec<DocView>,
    notices: Vec<String>,
    problems: Vec<String>,
    approve_label: String,
}

async fn desk_page<H: Host>(
    host: &H,
    official: Official,
    status: StatusCode,
    notices: Vec<String>,
    problems: Vec<String>,
) -> Response {
    let docs = match host.service().desk(&official.session.claims).await {
        Ok(d) => d,
        Err(e) => return official.error(e),
    };
    let t = official.s.t();
    let (signed, waiting): (Vec<_>, Vec<_>) = docs
        .into_iter()
        .map(|d| doc_view(t, d))
        .partition(|d| d.signature_id.is_some());
    let approve_label = t
        .sign_approve_button
        .replace("{n}", &waiting.len().to_string());
    render(
        status,
        &Desk {
            s: official.s,
            waiting,
            signed,
            notices,
            problems,
            approve_label,
        },
    )
}

#[derive(Deserialize)]
struct DeskQuery {
    uploaded: Option<u32>,
}

async fn desk<H: Host>(
    State(host): State<Arc<H>>,
    official: Official,
    Query(q): Query<DeskQuery>,
) -> Response {
    let t = official.s.t();
    let notices = q
        .uploaded
        .map(|n| t.sign_uploaded.replace("{n}", &n.to_string()))
        .into_iter()
        .collect();
    desk_page(host.as_ref(), official, StatusCode::OK, notices, Vec::new()).await
}

/// The batch upload: the anti-forgery token must come first (the form puts it first), so no
/// file of a forged request is read; each PDF goes on the desk or is refused with its reason,
/// and the others still go.
async fn upload<H: Host>(
    State(host): State<Arc<H>>,
    official: Official,
    mut form: Multipart,
) -> Response {
    let t = official.s.t();
    let mut csrf_seen = false;
    let mut stored = 0u32;
    let mut problems = Vec::new();
    loop {
        let field = match form.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(e) => {
                problems.push(format!("{}: {}", t.error_title, e.body_text()));
                break;
            }
        };
        let name = field.name().unwrap_or_default().to_owned();
        if !csrf_seen {
            let ok = name == "csrf"
                && match field.text().await {
                    Ok(v) => official.csrf_ok(&v),
                    Err(_) => false,
                };
            if !ok {
                return official.csrf_refused();
            }
            csrf_seen = true;
            continue;
        }
        if name != "files" {
            continue;
        }
        let file_name = field.file_name().unwrap_or_default().to_owned();
        if file_name.is_empty() {
            // A file input with nothing chosen still sends an empty part.
            continue;
        }
        let shown: String = file_name.chars().take(120).collect();
        // Read at most one byte more than a PDF may have: a larger one is refused unread.
        let mut bytes = Vec::new();
        let mut field = field;
        let mut too_large = false;
        loop {
            match field.chunk().await {
                Ok(Some(chunk)) => {
                    if bytes.len() + chunk.len() > MAX_PDF {
                        too_large = true;
                        break;
                    }
                    bytes.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(e) => {
                    problems.push(
                        t.sign_rejected_file
                            .replace("{name}", &shown)
                            .replace("{why}", &e.body_text()),
                    );
                    return desk_page(
                        host.as_ref(),
                        official,
                        StatusCode::PAYLOAD_TOO_LARGE,
                        Vec::new(),
                        problems,
                    )
                    .await;
                }
            }
        }
        let result = if too_large {
            Err(ServiceError::Signing(
                qrid_service::signing::SigningRefusal::Pdf {
                    kind: "pdf_too_large",
                    message: format!("the PDF is over the {} MiB limit", MAX_PDF >> 20),
                },
            ))
        } else {
            host.service()
                .desk_upload(&official.session.claims, &file_name, bytes)
                .await
        };
        match result {
            Ok(_) => stored += 1,
            Err(e @ (ServiceError::Signing(_) | ServiceError::DeskFull)) => {
                let why = match &e {
                    ServiceError::DeskFull => t.sign_desk_full.to_owned(),
                    ServiceError::Signing(r) => format!("{e} ({})", r.kind()),
                    _ => e.to_string(),
                };
                problems.push(
                    t.sign_rejected_file
                        .replace("{name}", &shown)
                        .replace("{why}", &why),
                );
            }
            Err(e) => return official.error(e),
        }
    }
    if !csrf_seen {
        return official.csrf_refused();
    }
    if problems.is_empty() {
        if stored == 0 {
            problems.push(t.sign_nothing.to_owned());
        } else {
            return see_other(&format!("/sign/?uploaded={stored}"));
        }
    }
    let notices = if stored > 0 {
        vec![t.sign_uploaded.replace("{n}", &stored.to_string())]
    } else {
        Vec::new()
    };
    desk_page(
        host.as_ref(),
        official,
        StatusCode::UNPROCESSABLE_ENTITY,
        notices,
        problems,
    )
    .await
}

#[derive(Deserialize)]
struct ApproveForm {
    csrf: String,
    code: String,
}

/// One code signs the batch; the answer is the desk with what was signed and what was not.
async fn approve<H: Host>(
    State(host): State<Arc<H>>,
    official: Official,
    Form(f): Form<ApproveForm>,
) -> Response {
    if !official.csrf_ok(&f.csrf) {
        return official.csrf_refused();
    }
    let t = official.s.t();
    let outcome = host
        .service()
        .desk_approve(&official.session.claims, &f.code)
        .await;
    let results = match outcome {
        Ok(r) => r,
        Err(e) => return official.error(e),
    };
    let names: std::collections::HashMap<String, String> = host
        .service()
        .desk(&official.session.claims)
        .await
        .map(|docs| docs.into_iter().map(|d| (d.id, d.name)).collect())
        .unwrap_or_default();
    let mut n = 0usize;
    let mut problems = Vec::new();
    for r in results {
        match r {
            Approved::Signed { .. } => n += 1,
            Approved::Refused {
                document,
                kind,
                message,
            } => problems.push(
                t.sign_result_refused
                    .replace("{name}", names.get(&document).map_or("?", String::as_str))
                    .replace("{why}", &format!("{message} ({kind})")),
            ),
        }
    }
    let notices = vec![t.sign_result_signed.replace("{n}", &n.to_string())];
    let status = if problems.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    desk_page(host.as_ref(), official, status, notices, problems).await
}

#[derive(Deserialize)]
struct CsrfOnly {
    csrf: String,
}

async fn clear<H: Host>(
    State(host): State<Arc<H>>,
    official: Official,
    Form(f): Form<CsrfOnly>,
) -> Response {
    if !official.csrf_ok(&f.csrf) {
        return official.csrf_refused();
    }
    match host
        .service()
        .desk_remove(&official.session.claims, None)
        .await
    {
        Ok(_) => see_other("/sign/"),
        Err(e) => official.error(e),
    }
}

async fn remove<H: Host>(
    State(host): State<Arc<H>>,
    official: Official,
    Path(id): Path<String>,
    Form(f): Form<CsrfOnly>,
) -> Response {
    if !official.csrf_ok(&f.csrf) {
        return official.csrf_refused();
    }
    match host
        .service()
        .desk_remove(&official.session.claims, Some(&id))
        .await
    {
        Ok(0) => official.error(ServiceError::NotFound("document")),
        Ok(_) => see_other("/sign/"),
        Err(e) => official.error(e),
    }
}

#[derive(Template)]
#[template(path = "sign_document.html")]
struct Preview {
    s: super::SignChrome,
    d: DocView,
    x: i64,
    y: i64,
    custom: bool,
    page_width: i64,
    page_height: i64,
}

async fn preview<H: Host>(
    State(host): State<Arc<H>>,
    official: Official,
    Path(id): Path<String>,
) -> Response {
    let found = host
        .service()
        .desk(&official.session.claims)
        .await
        .map(|docs| docs.into_iter().find(|d| d.id == id));
    let d = match found {
        Ok(Some(d)) if d.signature_id.is_none() => d,
        Ok(_) => return official.error(ServiceError::NotFound("unsigned document")),
        Err(e) => return official.error(e),
    };
    let (x, y) = d.place.unwrap_or((1000, 0));
    let custom = d.place.is_some();
    let (page_width, page_height) = (d.page_width, d.page_height);
    let t = official.s.t();
    render(
        StatusCode::OK,
        &Preview {
            d: doc_view(t, d),
            s: official.s,
            x,
            y,
            custom,
            page_width,
            page_height,
        },
    )
}

#[derive(Deserialize)]
struct PlaceForm {
    csrf: String,
    x: Option<String>,
    y: Option<String>,
    reset: Option<String>,
}

async fn place<H: Host>(
    State(host): State<Arc<H>>,
    official: Official,
    Path(id): Path<String>,
    Form(f): Form<PlaceForm>,
) -> Response {
    if !official.csrf_ok(&f.csrf) {
        return official.csrf_refused();
    }
    let place = if f.reset.is_some() {
        None
    } else {
        let parse = |v: Option<&str>| v.and_then(|v| v.trim().parse::<i64>().ok());
        match (parse(f.x.as_deref()), parse(f.y.as_deref())) {
            (Some(x), Some(y)) => Some((x, y)),
            _ => {
                return official.error(ServiceError::InvalidRequest(
                    "the stamp's place is two whole numbers, 0 to 1000".into(),
                ))
            }
        }
    };
    match host
        .service()
        .desk_place(&official.session.claims, &id, place)
        .await
    {
        Ok(()) => see_other("/sign/"),
        Err(e) => official.error(e),
    }
}

/// A PDF of the desk: for the preview (`inline`) or the download (`attachment`, under the
/// document's name with `-signed` added). Sent with the pages' headers: never cached.
fn pdf_response(name: &str, bytes: Vec<u8>, attachment: bool) -> Response {
    let stem = name.strip_suffix(".pdf").unwrap_or(name);
    let file = if attachment {
        format!("{stem}-signed.pdf")
    } else {
        name.to_owned()
    };
    // RFC 6266: an ASCII fallback and the UTF-8 name.
    let ascii: String = file
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let disposition = format!(
        "{}; filename=\"{ascii}\"; filename*=UTF-8''{}",
        if attachment { "attachment" } else { "inline" },
        crate::page::encode_component(&file).replace('/', "%2F")
    );
    let mut r = secure(bytes.into_response());
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/pdf"),
    );
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    r
}

/// A desk file: `original` (the upload, for the preview) or `signed` (the download).
async fn file<H: Host>(
    State(host): State<Arc<H>>,
    official: Official,
    Path((id, which)): Path<(String, String)>,
) -> Response {
    let which = match which.as_str() {
        "original" => DeskFile::Original,
        "signed" => DeskFile::Signed,
        _ => return official.error(ServiceError::NotFound("file")),
    };
    match host
        .service()
        .desk_file(&official.session.claims, &id, which)
        .await
    {
        Ok((d, bytes)) => pdf_response(&d.name, bytes, which == DeskFile::Signed),
        Err(e) => official.error(e),
    }
}

struct HistoryView {
    id: String,
    name: String,
    when: String,
    format: &'static str,
    status: &'static str,
}

#[derive(Template)]
#[template(path = "sign_history.html")]
struct History {
    s: super::SignChrome,
    rows: Vec<HistoryView>,
    older: Option<i64>,
}

#[derive(Deserialize)]
struct HistoryQuery {
    before: Option<i64>,
}

async fn history<H: Host>(
    State(host): State<Arc<H>>,
    official: Official,
    Query(q): Query<HistoryQuery>,
) -> Response {
    let entries = match host
        .service()
        .desk_history(&official.session.claims, HISTORY_PAGE, q.before)
        .await
    {
        Ok(e) => e,
        Err(e) => return official.error(e),
    };
    let t = official.s.t();
    let older = (entries.len() as i64 >= HISTORY_PAGE)
        .then(|| entries.last().map(|e| e.record.signed_at))
        .flatten();
    let rows = entries
        .into_iter()
        .map(|e| HistoryView {
            when: time(e.record.signed_at),
            format: if e.record.pades.is_some() {
                "PDF (PAdES)"
            } else {
                "JWS"
            },
            status: match e.status_now {
                Some(CredentialStatus::Valid) => t.sign_status_valid,
                Some(CredentialStatus::Revoked) => t.sign_status_revoked,
                Some(CredentialStatus::Suspended) => t.sign_status_suspended,
                None => t.sign_status_unknown,
            },
            id: e.record.id,
            name: e.record.document_name,
        })
        .collect();
    render(
        StatusCode::OK,
        &History {
            s: official.s,
            rows,
            older,
        },
    )
}
