//! The live QR (`QP1:`, docs/credential-format.md "The live QR") at the office counter, in
//! process on a manual clock: a fresh one is accepted once, and each refusal is its own test
//! (a replay, a replay after its window, a screenshot shown late, another wallet's signature,
//! a credential bound to no wallet, a suspended credential), each on the access record.

mod common;

use common::wallet::{access_token, credential_request, proof_by, request_with};
use common::wallet::{live, live_ok, offer, present, wallet_credential};
use common::{App, Auth, CITIZEN};
use qrid_credential::{open, Credential, IssuerKey, PRESENTATION_MAX_AGE};
use qrid_service::live::LiveCheck;
use qrid_store::Backend;
use serde_json::{json, Value};

/// A credential bound to a fresh holder key: (the app, the key, the credential text).
async fn bound() -> (App, IssuerKey, String) {
    let app = App::start(Backend::Sqlite).await;
    let holder = IssuerKey::generate();
    let credential = wallet_credential(&app, &holder).await;
    (app, holder, credential)
}

/// The outcomes on the credential's access record, once `wanted` are all there (the record
/// is written behind the answer, by the recorder's queue: waited for, boundedly).
async fn outcomes(app: &App, credential: &str, wanted: &[&str]) -> Vec<String> {
    let id = open(credential)
        .ok()
        .and_then(|m| Credential::from_cbor(m.payload()).ok())
        .expect("the credential")
        .id
        .to_string();
    let t = app.officer_token().await;
    let mut found = Vec::new();
    for _ in 0..200 {
        let record = app
            .call(
                "GET",
                &format!("/v1/credentials/{id}/verifications"),
                Auth::Bearer(&t),
                None,
                &[],
            )
            .await
            .ok(200);
        found = record["verifications"]
            .as_array()
            .expect("verifications")
            .iter()
            .filter_map(|v| v["outcome"].as_str().map(str::to_owned))
            .collect::<Vec<String>>();
        if wanted.iter().all(|w| found.iter().any(|o| o == w)) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    found
}

async fn on_record(app: &App, credential: &str, outcome: &str) {
    let found = outcomes(app, credential, &[outcome]).await;
    assert!(
        found.iter().any(|o| o == outcome),
        "{outcome} not in {found:?}"
    );
}

#[tokio::test]
async fn a_fresh_live_qr_is_accepted_and_recorded() {
    let (app, holder, credential) = bound().await;
    let now = app.clock_now();
    let text = present(&credential, &holder, now, 1);
    assert_eq!(
        live(&app, &text).await,
        (true, Some(LiveCheck::Accepted { presented_at: now }))
    );
    on_record(&app, &credential, "valid").await;
    app.stop().await;
}

#[tokio::test]
async fn a_live_qr_shown_twice_is_refused_as_a_replay() {
    let (app, holder, credential) = bound().await;
    let text = present(&credential, &holder, app.clock_now(), 1);
    assert!(live_ok(&app, &text).await);
    assert_eq!(live(&app, &text).await, (true, Some(LiveCheck::Replayed)));
    on_record(&app, &credential, "presentation_replayed").await;
    app.stop().await;
}

#[tokio::test]
async fn a_live_qr_replayed_after_its_window_is_refused_as_stale() {
    let (app, holder, credential) = bound().await;
    let now = app.clock_now();
    let text = present(&credential, &holder, now, 1);
    assert!(live_ok(&app, &text).await);
    app.clock.advance(PRESENTATION_MAX_AGE);
    assert_eq!(
        live(&app, &text).await,
        (true, Some(LiveCheck::Stale { presented_at: now }))
    );
    on_record(&app, &credential, "presentation_stale").await;
    app.stop().await;
}

#[tokio::test]
async fn a_screenshot_shown_after_its_window_is_refused_as_stale() {
    let (app, holder, credential) = bound().await;
    let now = app.clock_now();
    // Never shown before (its own nonce), only late: stale, not a replay.
    let shot = present(&credential, &holder, now, 3);
    app.clock.advance(PRESENTATION_MAX_AGE);
    assert_eq!(
        live(&app, &shot).await,
        (true, Some(LiveCheck::Stale { presented_at: now }))
    );
    // One second inside the window it would have been accepted.
    let (app2, holder2, credential2) = bound().await;
    let shot = present(&credential2, &holder2, app2.clock_now(), 3);
    app2.clock.advance(PRESENTATION_MAX_AGE - 1);
    assert!(live_ok(&app2, &shot).await);
    app.stop().await;
    app2.stop().await;
}

#[tokio::test]
async fn a_live_qr_from_a_clock_far_ahead_is_refused_as_stale() {
    let (app, holder, credential) = bound().await;
    let ahead = app.clock_now() + qrid_credential::PRESENTATION_AHEAD + 1;
    assert_eq!(
        live(&app, &present(&credential, &holder, ahead, 1)).await,
        (
            true,
            Some(LiveCheck::Stale {
                presented_at: ahead
            })
        )
    );
    app.stop().await;
}

#[tokio::test]
async fn a_live_qr_signed_by_a_different_key_is_refused() {
    let (app, _, credential) = bound().await;
    let thief = IssuerKey::generate();
    assert_eq!(
        live(&app, &present(&credential, &thief, app.clock_now(), 2)).await,
        (true, Some(LiveCheck::WrongHolder))
    );
    on_record(&app, &credential, "presentation_wrong_holder").await;
    app.stop().await;
}

#[tokio::test]
async fn a_live_qr_of_an_unbound_or_suspended_credential_is_refused() {
    let app = App::start(Backend::Sqlite).await;
    let t = app.officer_token().await;
    let citizen: Value = serde_json::from_str(CITIZEN).expect("citizen JSON");
    let id = app
        .call("POST", "/v1/citizens", Auth::Bearer(&t), Some(citizen), &[])
        .await
        .ok(201)["id"]
        .as_str()
        .expect("an id")
        .to_owned();
    let unbound = app
        .call(
            "POST",
            &format!("/v1/citizens/{id}/credentials"),
            Auth::Bearer(&t),
            None,
            &[],
        )
        .await
        .ok(201);
    let key = IssuerKey::generate();
    let text = present(
        unbound["payload"].as_str().expect("a payload"),
        &key,
        app.clock_now(),
        1,
    );
    assert_eq!(live(&app, &text).await, (true, Some(LiveCheck::Unbound)));

    let holder = IssuerKey::generate();
    let credential = wallet_credential(&app, &holder).await;
    let cid = Credential::from_cbor(open(&credential).expect("a payload").payload())
        .expect("a credential")
        .id
        .to_string();
    app.call(
        "POST",
        &format!("/v1/credentials/{cid}/suspend"),
        Auth::Bearer(&t),
        Some(json!({"reason": "reported lost"})),
        &[],
    )
    .await
    .ok(200);
    let text = present(&credential, &holder, app.clock_now(), 2);
    // The credential's own verdict refuses it; the presentation is not even judged.
    assert_eq!(live(&app, &text).await, (false, None));
    app.stop().await;
}

/// The live QR's size for the fixture citizen, digest-only and with the face in the QR, beside
/// the plain credential's (docs/credential-format.md, "The live QR"): both stay readable QR
/// versions (at most 27 at level M for the photo profile).
#[tokio::test]
async fn live_qr_sizes() {
    let app = App::start(Backend::Sqlite).await;
    let t = app.officer_token().await;
    let (citizen, _) = offer(&app).await;
    let portrait = include_bytes!("../../../tests/fixtures/portrait.png").to_vec();
    app.call_raw(
        "PUT",
        &format!("/v1/citizens/{citizen}/photo"),
        Auth::Bearer(&t),
        Some("image/png"),
        portrait,
        &[],
    )
    .await
    .ok(200);
    let holder = IssuerKey::generate();
    for profile in ["digest", "photo"] {
        let o = app
            .call(
                "POST",
                &format!("/v1/citizens/{citizen}/credential-offers"),
                Auth::Bearer(&t),
                Some(json!({ "profile": profile })),
                &[],
            )
            .await
            .ok(201);
        let token = access_token(&app, &o).await;
        let r = credential_request(
            &app,
            Some(&token),
            request_with(&proof_by(&app, &holder).await),
        )
        .await;
        let credential = r.ok(200)["credentials"][0]["credential"]
            .as_str()
            .expect("a credential")
            .to_owned();
        let live = present(&credential, &holder, app.clock_now(), 1);
        let v = |s: &str| {
            qrid_qr::Symbol::encode(s, qrid_qr::Ecc::M)
                .expect("a QR")
                .version()
        };
        println!(
            "{profile}: credential {} characters (version {} at M), live QR {} characters (version {} at M)",
            credential.len(),
            v(&credential),
            live.len(),
            v(&live)
        );
        assert!(v(&live) <= 27, "{profile}: version {}", v(&live));
        assert!(
            live_ok(&app, &live).await,
            "{profile}: the live QR is not accepted"
        );
    }
    app.stop().await;
}
