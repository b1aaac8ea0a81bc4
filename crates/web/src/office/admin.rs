//! Account administration in the office (admins): list officers, clients and officials; create
//! an officer; disable, enable, reset a password; re-enrol an official's TOTP device (the new
//! secret shown once, as text and QR) and rotate an official's signing key (after a
//! confirmation page). The `qrid` commands do the same (docs/api.md, "Accounts"); both call
//! the service's admin operations, which refuse anyone but an admin.

use crate::page::{render, see_other, Chrome};
use crate::session::Staff;
use crate::Host;
use askama::Template;
use axum::extract::{Form, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use qrid_service::ServiceError;
use qrid_store::{AccountKind, Role};
use serde::Deserialize;
use std::sync::Arc;

pub(super) fn routes<H: Host>() -> Router<Arc<H>> {
    Router::new()
        .route("/office/admin", get(page::<H>))
        .route("/office/admin/accounts", post(account::<H>))
        .route("/office/admin/officers", post(create::<H>))
        .route("/office/admin/officials/totp", post(reset_totp::<H>))
        .route(
            "/office/admin/officials/rotate-key",
            get(rotate_page).post(rotate::<H>),
        )
}

struct Row {
    name: String,
    detail: String,
    disabled: bool,
}

#[derive(Template)]
#[template(path = "admin.html")]
struct Admin {
    c: Chrome,
    kind: &'static str,
    rows: Vec<Row>,
    next_after: Option<String>,
    done: bool,
    can_reset: bool,
}

#[derive(Deserialize)]
struct AdminQuery {
    kind: Option<String>,
    after: Option<String>,
    done: Option<String>,
}

fn kind_of(s: Option<&str>) -> (AccountKind, &'static str) {
    match s {
        Some("client") => (AccountKind::Client, "client"),
        Some("official") => (AccountKind::Official, "official"),
        _ => (AccountKind::Officer, "officer"),
    }
}

async fn page<H: Host>(
    State(host): State<Arc<H>>,
    staff: Staff,
    Query(q): Query<AdminQuery>,
) -> Response {
    let (kind, name) = kind_of(q.kind.as_deref());
    let list = host
        .service()
        .admin_list_accounts(&staff.officer, kind, q.after.as_deref())
        .await;
    let list = match list {
        Ok(l) => l,
        Err(e) => return staff.error(e),
    };
    let next_after = (list.len() as u64 >= u64::from(qrid_store::ACCOUNT_PAGE))
        .then(|| list.last().map(|a| a.name.clone()))
        .flatten();
    let rows = list
        .into_iter()
        .map(|a| Row {
            name: a.name,
            detail: a.detail,
            disabled: a.disabled,
        })
        .collect();
    render(
        StatusCode::OK,
        &Admin {
            c: staff.chrome,
            kind: name,
            rows,
            next_after,
            done: q.done.is_some(),
            can_reset: kind != AccountKind::Client,
        },
    )
}

#[derive(Deserialize)]
struct AccountForm {
    csrf: String,
    kind: String,
    name: String,
    action: String,
    password: Option<String>,
}

async fn account<H: Host>(
    State(host): State<Arc<H>>,
    staff: Staff,
    Form(f): Form<AccountForm>,
) -> Response {
    if !staff.csrf_ok(&f.csrf) {
        return staff.csrf_refused();
    }
    let (kind, kind_name) = kind_of(Some(&f.kind));
    let svc = host.service();
    let r = match f.action.as_str() {
        "disable" => {
            svc.admin_set_disabled(&staff.officer, kind, &f.name, true)
                .await
        }
        "enable" => {
            svc.admin_set_disabled(&staff.officer, kind, &f.name, false)
                .await
        }
        "reset" => {
            svc.admin_reset_password(
                &staff.officer,
                kind,
                &f.name,
                f.password.as_deref().unwrap_or_default(),
            )
            .await
        }
        _ => Err(ServiceError::InvalidRequest(
            "action must be disable, enable or reset".into(),
        )),
    };
    match r {
        Ok(()) => see_other(&format!("/office/admin?kind={kind_name}&done=1")),
        Err(e) => staff.error(e),
    }
}

#[derive(Deserialize)]
struct CreateForm {
    csrf: String,
    username: String,
    role: String,
    password: String,
}

async fn create<H: Host>(
    State(host): State<Arc<H>>,
    staff: Staff,
    Form(f): Form<CreateForm>,
) -> Response {
    if !staff.csrf_ok(&f.csrf) {
        return staff.csrf_refused();
    }
    let role = match f.role.parse::<Role>() {
        Ok(r) => r,
        Err(why) => return staff.error(ServiceError::InvalidRequest(why)),
    };
    match host
        .service()
        .admin_create_officer(&staff.officer, f.username.trim(), role, &f.password)
        .await
    {
        Ok(()) => see_other("/office/admin?kind=officer&done=1"),
        Err(e) => staff.error(e),
    }
}

// ----- officials: TOTP re-enrolment and key rotation -----

#[derive(Deserialize)]
struct OfficialForm {
    csrf: String,
    name: String,
    confirm: Option<String>,
}

/// The new TOTP secret, shown once: the QR an authenticator app scans, and the URI as text.
/// Nothing of it is kept: a reload posts again, which enrols yet another secret.
#[derive(Template)]
#[template(path = "admin_official_totp.html")]
struct TotpPage {
    c: Chrome,
    name: String,
    qr_svg: String,
    uri: String,
}

async fn reset_totp<H: Host>(
    State(host): State<Arc<H>>,
    staff: Staff,
    Form(f): Form<OfficialForm>,
) -> Response {
    if !staff.csrf_ok(&f.csrf) {
        return staff.csrf_refused();
    }
    let uri = match host
        .service()
        .admin_reset_official_totp(&staff.officer, &f.name)
        .await
    {
        Ok(u) => u,
        Err(e) => return staff.error(e),
    };
    // An otpauth URI is bytes to a QR; level M, as the offer's, reads quickly on a phone.
    let qr_svg = match qrid_qr::Symbol::encode(&uri, qrid_qr::Ecc::M) {
        Ok(s) => s.to_svg(4),
        Err(e) => return staff.error(ServiceError::internal(e)),
    };
    render(
        StatusCode::OK,
        &TotpPage {
            c: staff.chrome,
            name: f.name,
            qr_svg,
            uri: uri.as_str().to_owned(),
        },
    )
}

/// The confirmation page of a key rotation (nothing changes until it is posted with the box
/// ticked), and the notice of one done.
#[derive(Template)]
#[template(path = "admin_official_rotate.html")]
struct RotatePage {
    c: Chrome,
    name: String,
    error: bool,
    done: Option<Rotated>,
}

/// What a rotation did, as the notice shows it.
struct Rotated {
    kid: String,
    previous_kid: String,
    signer_credential: String,
    revoked: Vec<String>,
}

#[derive(Deserialize)]
struct RotateQuery {
    name: String,
}

async fn rotate_page(staff: Staff, Query(q): Query<RotateQuery>) -> Response {
    // The list of officials is an admin's: so is the page that acts on one.
    if let Err(e) = staff.officer.require(&[Role::Admin]) {
        return staff.error(e);
    }
    if !qrid_service::admin::valid_username(&q.name) {
        return staff.error(ServiceError::NotFound("official"));
    }
    render(
        StatusCode::OK,
        &RotatePage {
            c: staff.chrome,
            name: q.name,
            error: false,
            done: None,
        },
    )
}

async fn rotate<H: Host>(
    State(host): State<Arc<H>>,
    staff: Staff,
    Form(f): Form<OfficialForm>,
) -> Response {
    if !staff.csrf_ok(&f.csrf) {
        return staff.csrf_refused();
    }
    if f.confirm.as_deref() != Some("yes") {
        if let Err(e) = staff.officer.require(&[Role::Admin]) {
            return staff.error(e);
        }
        return render(
            StatusCode::UNPROCESSABLE_ENTITY,
            &RotatePage {
                c: staff.chrome,
                name: f.name,
                error: true,
                done: None,
            },
        );
    }
    match host
        .service()
        .admin_rotate_official_key(&staff.officer, &f.name)
        .await
    {
        Ok(r) => render(
            StatusCode::OK,
            &RotatePage {
                c: staff.chrome,
                name: f.name,
                error: false,
                done: Some(Rotated {
                    kid: r.official.kid,
                    previous_kid: r.previous_kid,
                    signer_credential: r.signer_credential.id,
                    revoked: r.revoked.into_iter().map(|c| c.id).collect(),
                }),
            },
        ),
        Err(e) => staff.error(e),
    }
}
