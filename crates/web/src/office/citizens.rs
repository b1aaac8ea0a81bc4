//! Citizens in the office: search, enrolment with a photo, the citizen's page (issue, replace,
//! revoke, suspend, reinstate) and the printed card.

use super::{FORM_LIMIT, UPLOAD_LIMIT};
use crate::page::{render, see_other, Chrome};
use crate::session::Staff;
use crate::Host;
use askama::Template;
use axum::extract::{DefaultBodyLimit, Form, Multipart, Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use base64::Engine;
use qrid_credential::{Citizen, CitizenInput};
use qrid_service::citizens::{IssueOptions, Profile};
use qrid_service::{CitizenId, CredentialId, ServiceError};
use qrid_store::{CitizenRecord, CredentialRecord, CredentialStatus, StoreError};
use serde::Deserialize;
use std::sync::Arc;

pub(super) fn routes<H: Host>() -> Router<Arc<H>> {
    Router::new()
        .route("/office/citizens", get(search::<H>))
        .route(
            "/office/enrol",
            get(enrol_page)
                .post(enrol::<H>)
                .layer(DefaultBodyLimit::max(UPLOAD_LIMIT)),
        )
        .route("/office/citizens/{id}", get(citizen::<H>))
        .route("/office/citizens/{id}/photo", get(photo::<H>))
        .route(
            "/office/citizens/{id}/issue",
            post(issue::<H>).layer(DefaultBodyLimit::max(FORM_LIMIT)),
        )
        .route(
            "/office/credentials/{id}/status",
            post(change_status::<H>).layer(DefaultBodyLimit::max(FORM_LIMIT)),
        )
        .route("/office/credentials/{id}/card", get(card::<H>))
}

/// A citizen as a list row or a page header shows them.
pub(super) struct CitizenView {
    pub id: String,
    pub id_number: String,
    pub full_name: String,
    pub date_of_birth: String,
    pub sex: String,
    pub nationality: String,
    pub place_of_origin: String,
    pub place_of_residence: String,
}

impl CitizenView {
    pub(super) fn of(id: &str, c: &Citizen) -> CitizenView {
        CitizenView {
            id: id.to_owned(),
            id_number: c.id_number.to_string(),
            full_name: c.full_name.as_str().to_owned(),
            date_of_birth: c.date_of_birth.to_string(),
            sex: c.sex.map(|s| s.to_string()).unwrap_or_default(),
            nationality: c
                .nationality
                .as_ref()
                .map(|n| n.to_string())
                .unwrap_or_default(),
            place_of_origin: c
                .place_of_origin
                .as_ref()
                .map(|p| p.as_str().to_owned())
                .unwrap_or_default(),
            place_of_residence: c
                .place_of_residence
                .as_ref()
                .map(|p| p.as_str().to_owned())
                .unwrap_or_default(),
        }
    }
}

// ----- search -----

#[derive(Template)]
#[template(path = "search.html")]
struct Search {
    c: Chrome,
    q: String,
    searched: bool,
    found: Vec<CitizenView>,
}

#[derive(Deserialize)]
struct SearchQuery {
    q: Option<String>,
}

async fn search<H: Host>(
    State(host): State<Arc<H>>,
    staff: Staff,
    Query(q): Query<SearchQuery>,
) -> Response {
    if let Err(e) = staff.officer.require(qrid_service::citizens::READERS) {
        return staff.error(e);
    }
    let query = q.q.unwrap_or_default();
    let found = if query.trim().is_empty() {
        Vec::new()
    } else {
        match host.service().find_citizens(&staff.officer, &query).await {
            Ok(found) => found,
            Err(e) => return staff.error(e),
        }
    };
    let found = found
        .iter()
        .map(|r| CitizenView::of(&r.id, &r.citizen))
        .collect();
    render(
        StatusCode::OK,
        &Search {
            searched: !query.trim().is_empty(),
            q: query,
            c: staff.chrome,
            found,
        },
    )
}

// ----- enrolment -----

#[derive(Template)]
#[template(path = "enrol.html")]
struct Enrol {
    c: Chrome,
    f: EnrolFields,
    errors: Vec<String>,
    existing: Option<String>,
}

#[derive(Default)]
struct EnrolFields {
    id_number: String,
    full_name: String,
    date_of_birth: String,
    sex: String,
    nationality: String,
    place_of_origin: String,
    place_of_residence: String,
}

async fn enrol_page(staff: Staff) -> Response {
    if let Err(e) = staff.officer.require(qrid_service::citizens::ISSUERS) {
        return staff.error(e);
    }
    render(
        StatusCode::OK,
        &Enrol {
            c: staff.chrome,
            f: EnrolFields::default(),
            errors: Vec::new(),
            existing: None,
        },
    )
}

/// The most text one enrolment field may carry before validation looks at it.
const FIELD_LIMIT: usize = 4096;

async fn enrol<H: Host>(State(host): State<Arc<H>>, staff: Staff, mut form: Multipart) -> Response {
    // The role first: a clerk gets the 403 page before anything is read.
    if let Err(e) = staff.officer.require(qrid_service::citizens::ISSUERS) {
        return staff.error(e);
    }
    let mut f = EnrolFields::default();
    let mut csrf = String::new();
    let mut photo: Option<Vec<u8>> = None;
    let mut errors = Vec::new();
    let t = staff.chrome.t;
    loop {
        let field = match form.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(e) => {
                errors.push(format!("{}: {}", t.error_text, e.body_text()));
                break;
            }
        };
        let name = field.name().unwrap_or_default().to_owned();
        if name == "photo" {
            match field.bytes().await {
                Ok(b) if !b.is_empty() => photo = Some(b.to_vec()),
                Ok(_) => {}
                Err(e) => errors.push(format!("{}: {}", t.photo, e.body_text())),
            }
            continue;
        }
        let value = match field.text().await {
            Ok(v) if v.len() <= FIELD_LIMIT => v,
            Ok(_) => {
                errors.push(format!("{name}: too long"));
                continue;
            }
            Err(e) => {
                errors.push(format!("{name}: {}", e.body_text()));
                continue;
            }
        };
        match name.as_str() {
            "csrf" => csrf = value,
            "id_number" => f.id_number = value.trim().to_owned(),
            "full_name" => f.full_name = value.trim().to_owned(),
            "date_of_birth" => f.date_of_birth = value.trim().to_owned(),
            "sex" => f.sex = value.trim().to_owned(),
            "nationality" => f.nationality = value.trim().to_uppercase(),
            // Browsers send a text area's line breaks as CR LF; Claim 169 addresses use LF.
            "place_of_origin" => f.place_of_origin = value.trim().replace("\r\n", "\n"),
            "place_of_residence" => f.place_of_residence = value.trim().replace("\r\n", "\n"),
            _ => {}
        }
    }
    if !staff.csrf_ok(&csrf) {
        return staff.csrf_refused();
    }
    let input = CitizenInput {
        id_number: Some(f.id_number.clone()),
        full_name: Some(f.full_name.clone()),
        date_of_birth: Some(f.date_of_birth.clone()),
        sex: non_empty(&f.sex),
        nationality: non_empty(&f.nationality),
        place_of_origin: non_empty(&f.place_of_origin),
        place_of_residence: non_empty(&f.place_of_residence),
        ..CitizenInput::default()
    };
    // Every field's problem at once, not the first one only.
    errors.extend(input.problems().iter().map(ToString::to_string));
    let mut existing = None;
    if errors.is_empty() {
        match host
            .service()
            .enrol_with_photo(&staff.officer, input, photo)
            .await
        {
            Ok(rec) => return see_other(&format!("/office/citizens/{}?done=enrolled", rec.id)),
            Err(ServiceError::Store(StoreError::AlreadyEnrolled(id))) => {
                errors.push(t.already_enrolled.to_owned());
                existing = Some(id);
            }
            Err(e @ (ServiceError::Photo(_) | ServiceError::BadClaims(_))) => {
                errors.push(e.to_string());
            }
            Err(e) => return staff.error(e),
        }
    }
    render(
        StatusCode::UNPROCESSABLE_ENTITY,
        &Enrol {
            c: staff.chrome,
            f,
            errors,
            existing,
        },
    )
}

fn non_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_owned())
}

// ----- the citizen's page -----

/// A credential as the citizen's page lists it.
struct CredentialView {
    id: String,
    issued: String,
    expires: String,
    status: &'static str,
    status_class: &'static str,
    reason: String,
    can_revoke: bool,
    can_suspend: bool,
    can_reinstate: bool,
}

fn credential_view(c: &Chrome, r: &CredentialRecord) -> CredentialView {
    let (status, status_class) = match r.status {
        CredentialStatus::Valid => (c.t.status_valid, "ok"),
        CredentialStatus::Revoked => (c.t.status_revoked, "bad"),
        CredentialStatus::Suspended => (c.t.status_suspended, "warn"),
    };
    CredentialView {
        id: r.id.clone(),
        issued: day(r.issued_at),
        expires: day(r.expires_at),
        status,
        status_class,
        reason: r.status_reason.clone().unwrap_or_default(),
        can_revoke: r.status != CredentialStatus::Revoked,
        can_suspend: r.status == CredentialStatus::Valid,
        can_reinstate: r.status == CredentialStatus::Suspended,
    }
}

/// A Unix time as its UTC date.
pub(super) fn day(t: i64) -> String {
    qrid_credential::format_utc(t)
        .map(|s| s.chars().take(10).collect())
        .unwrap_or_default()
}

#[derive(Template)]
#[template(path = "citizen.html")]
struct CitizenPage {
    c: Chrome,
    p: CitizenView,
    photo_url: Option<String>,
    credentials: Vec<CredentialView>,
    replaceable: Vec<String>,
    can_issue: bool,
    done: Option<&'static str>,
    default_days: u32,
}

#[derive(Deserialize)]
struct DoneQuery {
    done: Option<String>,
}

async fn citizen<H: Host>(
    State(host): State<Arc<H>>,
    staff: Staff,
    Path(id): Path<String>,
    Query(q): Query<DoneQuery>,
) -> Response {
    let svc = host.service();
    let file = match CitizenId::parse(&id) {
        Ok(id) => svc.citizen(&staff.officer, &id).await,
        Err(e) => Err(e),
    };
    let file = match file {
        Ok(f) => f,
        Err(e) => return staff.error(e),
    };
    let c = staff.chrome;
    let t = c.t;
    let has_photo = match CitizenId::parse(&id) {
        Ok(cid) => svc.photo(&staff.officer, &cid).await.is_ok(),
        Err(_) => false,
    };
    let credentials: Vec<CredentialView> = file
        .credentials
        .iter()
        .map(|r| credential_view(&c, r))
        .collect();
    let replaceable = file
        .credentials
        .iter()
        .filter(|r| r.status != CredentialStatus::Revoked)
        .map(|r| r.id.clone())
        .collect();
    let done = match q.done.as_deref() {
        Some("issued") => Some(t.done_issued),
        Some("status") => Some(t.done_status),
        Some("enrolled") => Some(t.done_enrolled),
        _ => None,
    };
    let mut p = CitizenView::of(&file.citizen.id, &file.citizen.citizen);
    p.sex = match p.sex.as_str() {
        "M" => t.sex_m.to_owned(),
        "F" => t.sex_f.to_owned(),
        "X" => t.sex_x.to_owned(),
        _ => p.sex,
    };
    render(
        StatusCode::OK,
        &CitizenPage {
            photo_url: has_photo.then(|| format!("/office/citizens/{}/photo", p.id)),
            p,
            credentials,
            replaceable,
            can_issue: staff
                .officer
                .require(qrid_service::citizens::ISSUERS)
                .is_ok(),
            done,
            default_days: svc.config.credential_days,
            c,
        },
    )
}

async fn photo<H: Host>(
    State(host): State<Arc<H>>,
    staff: Staff,
    Path(id): Path<String>,
) -> Response {
    let got = match CitizenId::parse(&id) {
        Ok(id) => host.service().photo(&staff.officer, &id).await,
        Err(e) => Err(e),
    };
    match got {
        Ok(p) => jpeg(p.bytes),
        Err(e) => staff.error(e),
    }
}

/// A photo answer: never cached, never sniffed.
pub(super) fn jpeg(bytes: Vec<u8>) -> Response {
    crate::page::secure(
        (
            [(header::CONTENT_TYPE, HeaderValue::from_static("image/jpeg"))],
            bytes,
        )
            .into_response(),
    )
}

#[derive(Deserialize)]
struct IssueForm {
    csrf: String,
    profile: Option<String>,
    valid_days: Option<String>,
    replaces: Option<String>,
}

async fn issue<H: Host>(
    State(host): State<Arc<H>>,
    staff: Staff,
    Path(id): Path<String>,
    Form(f): Form<IssueForm>,
) -> Response {
    if !staff.csrf_ok(&f.csrf) {
        return staff.csrf_refused();
    }
    let result = async {
        let cid = CitizenId::parse(&id)?;
        let (profile, valid_days) = terms_of(f.profile.as_deref(), f.valid_days.as_deref())?;
        let replaces = match f.replaces.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(r) => Some(CredentialId::parse(r)?),
        };
        let options = IssueOptions {
            profile,
            valid_days,
            replaces,
            ..IssueOptions::default()
        };
        host.service().issue(&staff.officer, &cid, options).await
    }
    .await;
    match result {
        Ok(_) => see_other(&format!("/office/citizens/{id}?done=issued")),
        Err(e) => staff.error(e),
    }
}

/// The profile and days of validity a form asks for (issue, wallet offer): `digest` and the
/// service's default when left out.
pub(super) fn terms_of(
    profile: Option<&str>,
    valid_days: Option<&str>,
) -> Result<(Profile, Option<u32>), ServiceError> {
    let valid_days =
        match valid_days.map(str::trim) {
            None | Some("") => None,
            Some(d) => Some(d.parse::<u32>().map_err(|_| {
                ServiceError::InvalidRequest("valid_days must be 1 to 36500".into())
            })?),
        };
    let profile = Profile::parse(profile.unwrap_or("digest"))
        .ok_or_else(|| ServiceError::InvalidRequest("profile must be digest or photo".into()))?;
    Ok((profile, valid_days))
}

#[derive(Deserialize)]
struct StatusForm {
    csrf: String,
    action: String,
    reason: String,
}

async fn change_status<H: Host>(
    State(host): State<Arc<H>>,
    staff: Staff,
    Path(id): Path<String>,
    Form(f): Form<StatusForm>,
) -> Response {
    if !staff.csrf_ok(&f.csrf) {
        return staff.csrf_refused();
    }
    let to = match f.action.as_str() {
        "revoke" => CredentialStatus::Revoked,
        "suspend" => CredentialStatus::Suspended,
        "reinstate" => CredentialStatus::Valid,
        _ => {
            return staff.error(ServiceError::InvalidRequest(
                "action must be revoke, suspend or reinstate".into(),
            ))
        }
    };
    let svc = host.service();
    let result = async {
        let cid = CredentialId::parse(&id)?;
        let change = svc
            .change_status(&staff.officer, &cid, to, &f.reason)
            .await?;
        Ok::<_, ServiceError>(change.holder_id)
    }
    .await;
    match result {
        Ok(holder) => see_other(&format!("/office/citizens/{holder}?done=status")),
        Err(e) => staff.error(e),
    }
}

// ----- the card -----

#[derive(Template)]
#[template(path = "card.html")]
struct Card {
    c: Chrome,
    p: CitizenView,
    credential_id: String,
    expires: String,
    photo_src: Option<String>,
    qr_svg: String,
}

async fn card<H: Host>(
    State(host): State<Arc<H>>,
    staff: Staff,
    Path(id): Path<String>,
) -> Response {
    let svc = host.service();
    let result = async {
        let cid = CredentialId::parse(&id)?;
        let rec = svc.credential_for_print(&staff.officer, &cid).await?;
        let holder = CitizenId::parse(&rec.citizen_id)?;
        let file = svc.citizen(&staff.officer, &holder).await?;
        let photo = svc.photo(&staff.officer, &holder).await.ok();
        Ok::<_, ServiceError>((rec, file.citizen, photo))
    }
    .await;
    let (rec, citizen, photo): (CredentialRecord, CitizenRecord, _) = match result {
        Ok(v) => v,
        Err(e) => return staff.error(e),
    };
    if rec.status != CredentialStatus::Valid {
        return staff.error(ServiceError::InvalidRequest(
            "only a valid credential is printed on a card".into(),
        ));
    }
    let qr_svg = match qrid_qr::Symbol::encode(&rec.payload, qrid_qr::Ecc::M) {
        Ok(s) => s.to_svg(4),
        Err(e) => return staff.error(ServiceError::internal(e)),
    };
    // The card shows the photo the credential was signed over, and only that one.
    let signed_digest = qrid_credential::open(&rec.payload)
        .ok()
        .and_then(|m| qrid_credential::Credential::from_cbor(m.payload()).ok())
        .and_then(|c| c.citizen.photo_sha256)
        .map(|d| hex::encode(d.0));
    let photo_src = photo
        .filter(|p| Some(&p.sha256) == signed_digest.as_ref())
        .map(|p| {
            format!(
                "data:image/jpeg;base64,{}",
                base64::engine::general_purpose::STANDARD.encode(&p.bytes)
            )
        });
    render(
        StatusCode::OK,
        &Card {
            p: CitizenView::of(&citizen.id, &citizen.citizen),
            credential_id: rec.id,
            expires: day(rec.expires_at),
            photo_src,
            qr_svg,
            c: staff.chrome,
        },
    )
}
