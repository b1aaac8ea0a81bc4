//! The counter: the page that scans (camera or a photo of a QR, decoded in the page), and the
//! two calls its script makes: check a scanned text, and fetch the holder's face for a
//! credential that verified.
//!
//! Answers are JSON the script writes into the page with `textContent` (never as markup), and
//! are never cached; the script clears the verdict and the face at the next scan or after a
//! minute, so nothing personal stays on the screen or in the browser.

use super::{json_refusal, FORM_LIMIT};
use crate::page::{render, Chrome};
use crate::session::{Staff, CSRF_HEADER};
use crate::Host;
use askama::Template;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use qrid_service::office::{CounterCheck, COUNTER};
use qrid_service::verification::Checked;
use qrid_service::ServiceError;
use qrid_verifier::Verdict;
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;

pub(super) fn routes<H: Host>() -> Router<Arc<H>> {
    Router::new()
        .route("/office/counter", get(page))
        .route("/office/counter/offline", get(offline_shell))
        .route("/office/sw.js", get(service_worker))
        .route("/office/manifest.webmanifest", get(manifest))
        .route(
            "/office/counter/check",
            post(check::<H>).layer(DefaultBodyLimit::max(FORM_LIMIT)),
        )
        .route(
            "/office/counter/face",
            post(face::<H>).layer(DefaultBodyLimit::max(FORM_LIMIT)),
        )
}

#[derive(Template)]
#[template(path = "counter.html")]
struct CounterPage {
    c: Chrome,
    offline: bool,
}

async fn page(staff: Staff) -> Response {
    if let Err(e) = staff.officer.require(COUNTER) {
        return staff.error(e);
    }
    render(
        StatusCode::OK,
        &CounterPage {
            c: staff.chrome,
            offline: false,
        },
    )
}

#[derive(Template)]
#[template(path = "counter_offline.html")]
struct OfflineShell {
    c: Chrome,
    offline: bool,
}

/// The counter without the service: what the service worker shows when the counter cannot be
/// reached. It holds no session and no personal data; its script verifies in the page.
async fn offline_shell(headers: HeaderMap) -> Response {
    let c = Chrome::anonymous(crate::session::lang_of(&headers), "/office/counter");
    render(StatusCode::OK, &OfflineShell { c, offline: true })
}

/// The service worker, with this build's asset URLs and version filled in.
async fn service_worker() -> Response {
    crate::page::service_worker(include_str!("../../assets/js/sw.js"))
}

/// The web app manifest: the counter installs as an app that opens on the counter.
async fn manifest() -> Response {
    let body = json!({
        "name": "qrid — Quầy kiểm tra / Counter",
        "short_name": "qrid",
        "lang": "vi",
        "start_url": "/office/counter",
        "scope": "/office/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#0b4f8a",
        "icons": [
            {"src": crate::assets::url("office-192.png"), "sizes": "192x192", "type": "image/png"},
            {"src": crate::assets::url("office-512.png"), "sizes": "512x512", "type": "image/png"},
        ],
    });
    let mut r = crate::page::secure(Json(body).into_response());
    r.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("application/manifest+json"),
    );
    r
}

#[derive(Deserialize)]
struct Scanned {
    text: String,
}

/// The refusals of the script's calls, as JSON: a missing or wrong anti-forgery token, a role
/// that may not use the counter, a body that is not `{"text": …}`.
fn guard(staff: &Staff, headers: &HeaderMap) -> Option<Response> {
    let given = headers
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !staff.csrf_ok(given) {
        return Some(json_refusal(
            StatusCode::FORBIDDEN,
            "csrf",
            staff.chrome.t.csrf_text.to_owned(),
        ));
    }
    staff
        .officer
        .require(COUNTER)
        .err()
        .map(|e| json_refusal(StatusCode::FORBIDDEN, e.kind(), e.to_string()))
}

/// The scanned text of one of the script's calls, or its refusal ([`guard`], or a body that is
/// not `{"text": …}`).
fn scanned(
    staff: &Staff,
    headers: &HeaderMap,
    body: Result<Json<Scanned>, axum::extract::rejection::JsonRejection>,
) -> Result<Scanned, Box<Response>> {
    if let Some(r) = guard(staff, headers) {
        return Err(Box::new(r));
    }
    body.map(|Json(s)| s).map_err(|_| {
        Box::new(json_refusal(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
            "the body must be {\"text\": \"…\"}".into(),
        ))
    })
}

fn refusal(e: ServiceError) -> Response {
    let status = match e.kind() {
        "not_found" => StatusCode::NOT_FOUND,
        "forbidden" => StatusCode::FORBIDDEN,
        "unauthorized" => StatusCode::UNAUTHORIZED,
        "not_verified" | "no_photo_digest" | "photo_mismatch" => StatusCode::CONFLICT,
        "database_unavailable" => StatusCode::SERVICE_UNAVAILABLE,
        "internal" => {
            tracing::error!(error = %e, "a counter call failed");
            return json_refusal(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "internal error".into(),
            );
        }
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    };
    json_refusal(status, e.kind(), e.to_string())
}

async fn check<H: Host>(
    State(host): State<Arc<H>>,
    staff: Staff,
    headers: HeaderMap,
    body: Result<Json<Scanned>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let scanned = match scanned(&staff, &headers, body) {
        Ok(s) => s,
        Err(refused) => return *refused,
    };
    match host
        .service()
        .counter_check(&staff.officer, &scanned.text)
        .await
    {
        Ok(found) => crate::page::secure(Json(view(&staff.chrome, &found)).into_response()),
        Err(e) => refusal(e),
    }
}

async fn face<H: Host>(
    State(host): State<Arc<H>>,
    staff: Staff,
    headers: HeaderMap,
    body: Result<Json<Scanned>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let scanned = match scanned(&staff, &headers, body) {
        Ok(s) => s,
        Err(refused) => return *refused,
    };
    match host
        .service()
        .counter_face(&staff.officer, &scanned.text)
        .await
    {
        Ok(photo) => super::citizens::jpeg(photo.bytes),
        Err(e) => refusal(e),
    }
}

/// The verdict as the counter page shows it: a headline, a sentence in plain words in the
/// page's language, and the holder's claims for a credential that could be examined.
fn view(c: &Chrome, found: &CounterCheck) -> Value {
    let t = c.t;
    let vi = c.lang == crate::i18n::Lang::Vi;
    match found {
        CounterCheck::LoginRequest => json!({
            "kind": "login_request", "valid": false,
            "headline": if vi { "MÃ ĐĂNG NHẬP" } else { "LOGIN CODE" },
            "reason": if vi {
                "Đây là mã đăng nhập của một cổng dịch vụ: công dân quét nó bằng ví định danh của mình, không phải tại quầy."
            } else {
                "This is a portal's login code: the citizen scans it with their identity wallet, not at a counter."
            },
        }),
        CounterCheck::Stamp {
            record,
            signer,
            signer_valid,
        } => json!({
            "kind": "stamp", "valid": *signer_valid,
            "headline": if vi { "DẤU CHỮ KÝ" } else { "SIGNATURE STAMP" },
            "reason": match (vi, *signer_valid) {
                (true, true) => "Chữ ký đã được ghi nhận; người ký vẫn còn hiệu lực.",
                (true, false) => "Chữ ký đã được ghi nhận, nhưng chứng thư của người ký không còn hiệu lực.",
                (false, true) => "The signature is on record; the signer's credential is valid.",
                (false, false) => "The signature is on record, but the signer's credential is no longer valid.",
            },
            "stamp": {
                "signature_id": record.id, "signer": signer,
                "document": record.document_name, "digest": record.digest,
                "signed_at": qrid_credential::format_utc(record.signed_at),
            },
        }),
        CounterCheck::Credential {
            checked,
            replaced_by,
            face_on_file,
            live,
        } => {
            let (valid, kind, detail, credential) = match checked {
                Checked::Verdict(Verdict::Valid(v)) => {
                    (true, "valid", String::new(), Some(&v.credential))
                }
                Checked::Verdict(Verdict::Invalid(r)) => {
                    (false, r.kind(), r.to_string(), r.credential())
                }
                Checked::Unchecked(e) => (false, e.kind(), e.to_string(), None),
            };
            let kind = if replaced_by.is_some() {
                "replaced"
            } else {
                kind
            };
            // A live QR: the credential verified, and now the presentation decides.
            let (valid, kind) = match live {
                Some(l) if !l.is_accepted() => (false, l.kind()),
                Some(_) => (valid, "live_valid"),
                None => (valid, kind),
            };
            // The face: from the QR itself when the credential carries one (signed with
            // it), else from the service's file when it holds the photo signed over.
            let in_qr = credential
                .and_then(|c| c.citizen.face.as_ref())
                .filter(|f| matches!(f.format, None | Some(qrid_credential::PhotoFormat::Jpeg)));
            let face = match (valid, in_qr, *face_on_file) {
                (true, Some(_), _) => "qr",
                (true, None, true) => "file",
                _ => "none",
            };
            let status_text = match kind {
                "valid" | "live_valid" => t.status_valid,
                "revoked" => t.status_revoked,
                "suspended" => t.status_suspended,
                "replaced" => t.status_replaced,
                _ => t.status_other,
            };
            let mut v = json!({
                "kind": kind, "valid": valid, "status_text": status_text,
                "headline": if valid { t.verdict_valid } else { t.verdict_invalid },
                "reason": plain_reason(vi, kind, &detail),
                "face": face,
            });
            if let (true, Some(f)) = (valid, in_qr) {
                use base64::Engine;
                v["photo"] = base64::engine::general_purpose::STANDARD
                    .encode(&f.bytes)
                    .into();
            }
            if let Some(cred) = credential {
                let p = super::citizens::CitizenView::of("", &cred.citizen);
                v["holder"] = json!({
                    "full_name": p.full_name, "date_of_birth": p.date_of_birth,
                    "id_number": p.id_number, "sex": p.sex, "nationality": p.nationality,
                    "expires": super::citizens::day(cred.expires_at),
                    "credential_id": cred.id.to_string(),
                });
            }
            v
        }
    }
}

/// A verdict kind in words a clerk reads out: the common kinds in both languages, the rest
/// with the verifier's own English sentence.
fn plain_reason(vi: bool, kind: &str, detail: &str) -> String {
    let words = match (kind, vi) {
        ("valid", true) => "Thẻ hợp lệ: chữ ký của cơ quan cấp đúng, còn hạn, không bị thu hồi. Hãy so khuôn mặt với người đứng trước quầy.",
        ("valid", false) => "The credential is genuine, in date and not revoked. Compare the face with the person at the counter.",
        ("live_valid", true) => "Mã QR động hợp lệ: do chính ví của người giữ thẻ tạo ra vừa xong, thẻ còn hạn và không bị thu hồi. Hãy so khuôn mặt với người đứng trước quầy.",
        ("live_valid", false) => "A valid live QR: made just now by the holder's own wallet, for a genuine credential in date and not revoked. Compare the face with the person at the counter.",
        ("presentation_stale", true) => "Mã QR động đã cũ (ảnh chụp hoặc ảnh màn hình): yêu cầu công dân mở lại ví.",
        ("presentation_stale", false) => "The live QR is stale (a photo or a screenshot): ask the citizen to open their wallet again.",
        ("presentation_replayed", true) => "Mã QR động này đã được quét trước đó: đây là bản sao.",
        ("presentation_replayed", false) => "This live QR was scanned before: it is a copy.",
        ("presentation_wrong_holder", true) => "Mã QR động không do ví của người giữ thẻ ký: thẻ của người khác.",
        ("presentation_wrong_holder", false) => "The live QR was not signed by the holder's wallet: someone else's card.",
        ("presentation_unbound", true) => "Thẻ này không gắn với ví nào nên không thể trình bày bằng mã QR động.",
        ("presentation_unbound", false) => "This credential is bound to no wallet, so it cannot be shown as a live QR.",
        ("replaced", true) => "Thẻ này đã được thay bằng thẻ mới và không còn hiệu lực.",
        ("replaced", false) => "This card was replaced by a new one and is no longer valid.",
        ("revoked", true) => "Thẻ đã bị thu hồi.",
        ("revoked", false) => "The credential has been revoked.",
        ("suspended", true) => "Thẻ đang bị tạm dừng.",
        ("suspended", false) => "The credential is suspended.",
        ("expired", true) => "Thẻ đã hết hạn.",
        ("expired", false) => "The credential has expired.",
        ("bad_signature", true) => "Chữ ký không đúng: thẻ giả hoặc đã bị sửa.",
        ("bad_signature", false) => "The signature does not verify: forged or altered.",
        ("unknown_key", true) => "Thẻ không do cơ quan này cấp.",
        ("unknown_key", false) => "The credential was not issued by this authority.",
        (_, true) => return format!("Không phải thẻ hợp lệ ({kind}). {detail}"),
        (_, false) => return format!("Not a valid credential ({kind}). {detail}"),
    };
    words.to_owned()
}
