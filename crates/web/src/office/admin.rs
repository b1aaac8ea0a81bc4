//! Account administration in the office (admins): list officers, clients and officials; create
//! an officer; disable, enable, reset a password. The `qrid` commands do the same
//! (docs/api.md, "Accounts"); both call the service's admin operations.

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
