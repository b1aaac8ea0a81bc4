//! Credential delivery (OpenID4VCI 1.0, pre-authorized code), in process on a manual clock:
//! the whole flow through the real router on both back ends, and each refusal of the protocol
//! as its own test. The CLI wallet and a Python client of the same protocol run against the
//! real binary in tests/tests/vci.rs; the live QR is tests/live.rs.

mod common;

use common::wallet::{
    access_token, code_of, credential_request, forged_proof, header_of, nonce, oauth_error, offer,
    pin_of, proof_by, request_with, token_request, ISSUER,
};
use common::{App, Auth};
use qrid_credential::vci::sign_proof;
use qrid_credential::{open, Credential, HolderKey, IssuerKey};
use qrid_service::vci::{MAX_PIN_FAILURES, OFFER_TTL};
use qrid_store::Backend;
use serde_json::json;

async fn delivered(backend: Backend) {
    let app = App::start(backend).await;
    let meta = app
        .call(
            "GET",
            "/.well-known/openid-credential-issuer",
            Auth::None,
            None,
            &[],
        )
        .await
        .ok(200);
    assert_eq!(meta["credential_issuer"], ISSUER);
    assert_eq!(meta["credential_endpoint"], format!("{ISSUER}/credential"));
    assert_eq!(meta["nonce_endpoint"], format!("{ISSUER}/nonce"));
    let as_meta = app
        .call(
            "GET",
            "/.well-known/oauth-authorization-server",
            Auth::None,
            None,
            &[],
        )
        .await
        .ok(200);
    assert_eq!(as_meta["issuer"], ISSUER);
    assert_eq!(as_meta["token_endpoint"], format!("{ISSUER}/token"));
    assert_eq!(
        as_meta["pre-authorized_grant_anonymous_access_supported"],
        true
    );

    let (citizen, o) = offer(&app).await;
    assert_eq!(o["credential_offer"]["credential_issuer"], ISSUER);
    assert_eq!(o["expires_at"], app.clock_now() + OFFER_TTL);
    let uri = o["offer_uri"].as_str().expect("an offer URI");
    assert!(
        uri.starts_with("openid-credential-offer://?credential_offer="),
        "{uri}"
    );
    let wallet = o["wallet_url"].as_str().expect("a wallet URL");
    assert!(
        wallet.starts_with(&format!("{ISSUER}/wallet/offer?credential_offer=")),
        "{wallet}"
    );
    let pin = pin_of(&o);
    assert!(
        pin.len() == 6 && pin.bytes().all(|b| b.is_ascii_digit()),
        "{pin}"
    );

    let token = access_token(&app, &o).await;
    let holder = IssuerKey::generate();
    let proof = proof_by(&app, &holder).await;
    let r = credential_request(&app, Some(&token), request_with(&proof)).await;
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let j = r.ok(200);
    let payload = j["credentials"][0]["credential"]
        .as_str()
        .expect("a credential");
    let msg = open(payload).expect("a credential payload");
    msg.verify(&app.state.keys().current.verifying_key())
        .expect("signed by the issuer key");
    let cred = Credential::from_cbor(msg.payload()).expect("a credential");
    assert_eq!(cred.holder, Some(HolderKey(holder.verifying_key())));

    // Stored under the citizen, and the offer is spent.
    let t = app.officer_token().await;
    let file = app
        .call(
            "GET",
            &format!("/v1/citizens/{citizen}"),
            Auth::Bearer(&t),
            None,
            &[],
        )
        .await
        .ok(200);
    assert!(file.to_string().contains(&cred.id.to_string()), "{file}");
    let again = credential_request(
        &app,
        Some(&token),
        request_with(&proof_by(&app, &holder).await),
    )
    .await;
    oauth_error(&again, 401, "invalid_token");
    app.stop().await;
}

#[tokio::test]
async fn a_wallet_receives_its_credential_bound_to_its_key_sqlite() {
    delivered(Backend::Sqlite).await;
}

#[tokio::test]
async fn a_wallet_receives_its_credential_bound_to_its_key_postgres() {
    delivered(Backend::Postgres).await;
}

#[tokio::test]
async fn a_replayed_code_is_refused_and_ends_the_token_it_gave() {
    let app = App::start(Backend::Sqlite).await;
    let (_, o) = offer(&app).await;
    let token = access_token(&app, &o).await;
    let r = token_request(&app, &code_of(&o), Some(&pin_of(&o))).await;
    let j = oauth_error(&r, 400, "invalid_grant");
    assert!(
        j["error_description"]
            .as_str()
            .unwrap_or("")
            .contains("used"),
        "{j}"
    );
    let holder = IssuerKey::generate();
    let r = credential_request(
        &app,
        Some(&token),
        request_with(&proof_by(&app, &holder).await),
    )
    .await;
    oauth_error(&r, 401, "invalid_token");
    assert!(r
        .header("www-authenticate")
        .unwrap_or("")
        .contains("invalid_token"));
    app.stop().await;
}

#[tokio::test]
async fn a_wrong_pin_is_refused_and_five_spend_the_offer() {
    let app = App::start(Backend::Sqlite).await;
    let (_, o) = offer(&app).await;
    let right = pin_of(&o);
    let wrong = if right == "000000" {
        "111111"
    } else {
        "000000"
    };
    for _ in 0..MAX_PIN_FAILURES {
        let r = token_request(&app, &code_of(&o), Some(wrong)).await;
        oauth_error(&r, 400, "invalid_grant");
    }
    let r = token_request(&app, &code_of(&o), Some(&right)).await;
    let j = oauth_error(&r, 400, "invalid_grant");
    assert!(
        j["error_description"]
            .as_str()
            .unwrap_or("")
            .contains("wrong PINs"),
        "{j}"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_missing_pin_an_unknown_code_and_an_expired_offer_are_refused() {
    let app = App::start(Backend::Sqlite).await;
    let (_, o) = offer(&app).await;
    oauth_error(
        &token_request(&app, &code_of(&o), None).await,
        400,
        "invalid_request",
    );
    oauth_error(
        &token_request(&app, "not-a-code-of-ours", Some("123456")).await,
        400,
        "invalid_grant",
    );
    app.clock.advance(OFFER_TTL);
    let r = token_request(&app, &code_of(&o), Some(&pin_of(&o))).await;
    let j = oauth_error(&r, 400, "invalid_grant");
    assert!(
        j["error_description"]
            .as_str()
            .unwrap_or("")
            .contains("expired"),
        "{j}"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_proof_for_another_nonce_or_a_used_one_is_refused() {
    let app = App::start(Backend::Sqlite).await;
    let (_, o) = offer(&app).await;
    let token = access_token(&app, &o).await;
    let holder = IssuerKey::generate();
    let made_up = sign_proof(
        holder.signing_key(),
        &holder.verifying_key(),
        ISSUER,
        app.clock_now(),
        "a-nonce-this-issuer-never-gave",
    )
    .expect("a proof");
    oauth_error(
        &credential_request(&app, Some(&token), request_with(&made_up)).await,
        400,
        "invalid_nonce",
    );
    // A nonce is good for one proof: a second proof over it is refused.
    let n = nonce(&app).await;
    let twice = |at: i64| {
        sign_proof(
            holder.signing_key(),
            &holder.verifying_key(),
            ISSUER,
            at,
            &n,
        )
        .expect("a proof")
    };
    let other = IssuerKey::generate();
    let first = sign_proof(
        other.signing_key(),
        &other.verifying_key(),
        "https://elsewhere.example",
        app.clock_now(),
        &n,
    )
    .expect("a proof");
    // (A proof refused before its nonce is looked at does not use the nonce up.)
    oauth_error(
        &credential_request(&app, Some(&token), request_with(&first)).await,
        400,
        "invalid_proof",
    );
    credential_request(&app, Some(&token), request_with(&twice(app.clock_now())))
        .await
        .ok(200);
    let (_, o2) = offer(&app).await;
    let token2 = access_token(&app, &o2).await;
    oauth_error(
        &credential_request(&app, Some(&token2), request_with(&twice(app.clock_now()))).await,
        400,
        "invalid_nonce",
    );
    // An expired nonce.
    let late = proof_by(&app, &holder).await;
    app.clock.advance(qrid_service::vci::NONCE_TTL);
    let (_, o3) = offer(&app).await;
    let token3 = access_token(&app, &o3).await;
    oauth_error(
        &credential_request(&app, Some(&token3), request_with(&late)).await,
        400,
        "invalid_nonce",
    );
    app.stop().await;
}

#[tokio::test]
async fn a_proof_for_another_audience_is_refused() {
    let app = App::start(Backend::Sqlite).await;
    let (_, o) = offer(&app).await;
    let token = access_token(&app, &o).await;
    let holder = IssuerKey::generate();
    let n = nonce(&app).await;
    let proof = sign_proof(
        holder.signing_key(),
        &holder.verifying_key(),
        "https://another-issuer.example",
        app.clock_now(),
        &n,
    )
    .expect("a proof");
    let j = oauth_error(
        &credential_request(&app, Some(&token), request_with(&proof)).await,
        400,
        "invalid_proof",
    );
    assert!(
        j["error_description"]
            .as_str()
            .unwrap_or("")
            .contains("aud"),
        "{j}"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_proof_signed_by_another_key_than_the_one_presented_is_refused() {
    let app = App::start(Backend::Sqlite).await;
    let (_, o) = offer(&app).await;
    let token = access_token(&app, &o).await;
    let presented = IssuerKey::generate();
    let signer = IssuerKey::generate();
    let n = nonce(&app).await;
    let proof = forged_proof(
        header_of(&presented),
        json!({"aud": ISSUER, "iat": app.clock_now(), "nonce": n}),
        &signer,
    );
    let j = oauth_error(
        &credential_request(&app, Some(&token), request_with(&proof)).await,
        400,
        "invalid_proof",
    );
    assert!(
        j["error_description"]
            .as_str()
            .unwrap_or("")
            .contains("signature"),
        "{j}"
    );
    // The proper proof still works afterwards: the refusal spent neither the token nor a
    // credential.
    credential_request(
        &app,
        Some(&token),
        request_with(&proof_by(&app, &presented).await),
    )
    .await
    .ok(200);
    app.stop().await;
}

#[tokio::test]
async fn malformed_requests_old_proofs_and_missing_tokens_are_refused() {
    let app = App::start(Backend::Sqlite).await;
    let (_, o) = offer(&app).await;
    let token = access_token(&app, &o).await;
    let holder = IssuerKey::generate();
    let good = proof_by(&app, &holder).await;

    let r = credential_request(&app, None, request_with(&good)).await;
    assert_eq!(r.status.as_u16(), 401);
    assert_eq!(r.header("www-authenticate"), Some("Bearer"));
    oauth_error(
        &credential_request(&app, Some("not-a-token"), request_with(&good)).await,
        401,
        "invalid_token",
    );
    oauth_error(
        &credential_request(
            &app,
            Some(&token),
            json!({"credential_configuration_id": "org.iso.18013.5.1.mDL", "proofs": {"jwt": [good]}}),
        )
        .await,
        400,
        "unknown_credential_configuration",
    );
    oauth_error(
        &credential_request(
            &app,
            Some(&token),
            json!({"credential_configuration_id": "qrid_claim169"}),
        )
        .await,
        400,
        "invalid_proof",
    );
    oauth_error(
        &credential_request(
            &app,
            Some(&token),
            json!({"credential_configuration_id": "qrid_claim169", "proofs": {"jwt": [good, good]}}),
        )
        .await,
        400,
        "invalid_credential_request",
    );
    let mut typ = header_of(&holder);
    typ["typ"] = "JWT".into();
    let n = nonce(&app).await;
    let wrong_typ = forged_proof(
        typ,
        json!({"aud": ISSUER, "iat": app.clock_now(), "nonce": n}),
        &holder,
    );
    oauth_error(
        &credential_request(&app, Some(&token), request_with(&wrong_typ)).await,
        400,
        "invalid_proof",
    );
    // A proof made ten minutes ago.
    let n = nonce(&app).await;
    let old = sign_proof(
        holder.signing_key(),
        &holder.verifying_key(),
        ISSUER,
        app.clock_now() - 600,
        &n,
    )
    .expect("a proof");
    oauth_error(
        &credential_request(&app, Some(&token), request_with(&old)).await,
        400,
        "invalid_proof",
    );
    // The token outlives none of this past its five minutes.
    app.clock.advance(qrid_service::vci::VCI_TOKEN_TTL);
    oauth_error(
        &credential_request(
            &app,
            Some(&token),
            request_with(&proof_by(&app, &holder).await),
        )
        .await,
        401,
        "invalid_token",
    );
    app.stop().await;
}

#[tokio::test]
async fn offers_are_refused_to_auditors_for_unknown_citizens_and_photoless_photo_profiles() {
    let app = App::start(Backend::Sqlite).await;
    let (citizen, _) = offer(&app).await;
    let auditor = app.token_of("audrey").await;
    app.call(
        "POST",
        &format!("/v1/citizens/{citizen}/credential-offers"),
        Auth::Bearer(&auditor),
        None,
        &[],
    )
    .await
    .problem(403, "forbidden");
    let t = app.officer_token().await;
    app.call(
        "POST",
        "/v1/citizens/0123456789abcdef/credential-offers",
        Auth::Bearer(&t),
        None,
        &[],
    )
    .await
    .problem(404, "not_found");
    app.call(
        "POST",
        &format!("/v1/citizens/{citizen}/credential-offers"),
        Auth::Bearer(&t),
        Some(json!({"profile": "photo"})),
        &[],
    )
    .await
    .problem(422, "invalid_body");
    app.call(
        "POST",
        &format!("/v1/citizens/{citizen}/credential-offers"),
        Auth::Bearer(&t),
        Some(json!({"valid_days": 0})),
        &[],
    )
    .await
    .problem(422, "invalid_body");
    app.stop().await;
}
