//! Delivering a credential to a citizen's wallet (OpenID4VCI, pre-authorized code): the
//! citizen page's form makes an offer, and this page shows it once: the QR the citizen's phone
//! scans (the browser wallet's link, which any camera app opens) and, apart from it, the PIN
//! the officer reads out. Nothing of it is kept in the page's session or cache: a reload does
//! not show it again (the offer is single use anyway).

use super::FORM_LIMIT;
use crate::page::{render, Chrome};
use crate::session::Staff;
use crate::Host;
use askama::Template;
use axum::extract::{DefaultBodyLimit, Form, Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::post;
use axum::Router;
use qrid_service::{CitizenId, ServiceError};
use serde::Deserialize;
use std::sync::Arc;

pub(super) fn routes<H: Host>() -> Router<Arc<H>> {
    Router::new().route(
        "/office/citizens/{id}/offer",
        post(offer::<H>).layer(DefaultBodyLimit::max(FORM_LIMIT)),
    )
}

#[derive(Deserialize)]
struct OfferForm {
    csrf: String,
    profile: Option<String>,
    valid_days: Option<String>,
}

#[derive(Template)]
#[template(path = "offer.html")]
struct OfferPage {
    c: Chrome,
    citizen_id: String,
    qr_svg: String,
    link: String,
    pin: String,
    expires: String,
    minutes: i64,
}

async fn offer<H: Host>(
    State(host): State<Arc<H>>,
    staff: Staff,
    Path(id): Path<String>,
    Form(f): Form<OfferForm>,
) -> Response {
    if !staff.csrf_ok(&f.csrf) {
        return staff.csrf_refused();
    }
    let result = async {
        let cid = CitizenId::parse(&id)?;
        let (profile, valid_days) =
            super::citizens::terms_of(f.profile.as_deref(), f.valid_days.as_deref())?;
        host.service()
            .create_offer(&staff.officer, &cid, profile, valid_days)
            .await
    }
    .await;
    let offer = match result {
        Ok(o) => o,
        Err(e) => return staff.error(e),
    };
    // Byte mode (a URL): level M keeps a phone camera's read quick at this length.
    let qr_svg = match qrid_qr::Symbol::encode(&offer.wallet_url, qrid_qr::Ecc::M) {
        Ok(s) => s.to_svg(4),
        Err(e) => return staff.error(ServiceError::internal(e)),
    };
    let now = host.service().now();
    render(
        StatusCode::OK,
        &OfferPage {
            citizen_id: id,
            qr_svg,
            link: offer.wallet_url.clone(),
            pin: offer.pin.clone(),
            expires: qrid_credential::format_utc(offer.expires_at).unwrap_or_default(),
            minutes: (offer.expires_at - now).max(0) / 60,
            c: staff.chrome,
        },
    )
}
