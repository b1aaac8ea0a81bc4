//! Credential delivery (OpenID4VCI 1.0, pre-authorized code) and the live QR, in process on a
//! manual clock: the whole flow through the real router on both back ends, and each refusal
//! of the protocol as its own test. The CLI wallet and a Python client of the same protocol
//! run against the real binary in tests/tests/vci.rs.

mod common;

use common::{App, Auth, Reply, CITIZEN};
use qrid_credential::vci::{sign_proof, PROOF_TYP};
use qrid_credential::{open, Credential, HolderKey, IssuerKey, Presentation};
use qrid_service::live::LiveCheck;
use qrid_service::office::CounterCheck;
use qrid_service::vci::{MAX_PIN_FAILURES, OFFER_TTL, PRE_AUTHORIZED_GRANT};
use qrid_service::Officer;
use qrid_store::{Backend, Role};
use serde_json::{json, Value};

const ISSUER: &str = "http://qrid.test";

/// An offer made by `alice` for a freshly enrolled citizen: (citizen id, the offer answer).
async fn offer(app: &App) -> (String, Value) {
    let t = app.officer_token().await;
    let citizen: Value = serde_json::from_str(CITIZEN).expect("citizen JSON");
    // Enrolled once: a second enrolment answers 409 with the citizen's id.
    let r = app
        .call("POST", "/v1/citizens", Auth::Bearer(&t), Some(citizen), &[])
        .await;
    let j = r.json();
    let id = j["id"]
        .as_str()
        .or(j["citizen_id"].as_str())
        .expect("a citizen id")
        .to_owned();
    let o = app
        .call(
            "POST",
            &format!("/v1/citizens/{id}/credential-offers"),
            Auth::Bearer(&t),
            None,
            &[],
        )
        .await;
    assert_eq!(o.header("cache-control"), Some("no-store"));
    (id, o.ok(201))
}

fn code_of(offer: &Value) -> String {
    offer["credential_offer"]["grants"][PRE_AUTHORIZED_GRANT]["pre-authorized_code"]
        .as_str()
        .expect("a pre-authorized code")
        .to_owned()
}

fn pin_of(offer: &Value) -> String {
    offer["tx_code"].as_str().expect("a PIN").to_owned()
}

async fn token_request(app: &App, code: &str, pin: Option<&str>) -> Reply {
    let mut form = vec![
        ("grant_type", PRE_AUTHORIZED_GRANT),
        ("pre-authorized_code", code),
    ];
    if let Some(p) = pin {
        form.push(("tx_code", p));
    }
    let body = serde_urlencoded::to_string(&form).expect("a form");
    app.call_raw(
        "POST",
        "/token",
        Auth::None,
        Some("application/x-www-form-urlencoded"),
        body.into_bytes(),
        &[],
    )
    .await
}

fn oauth_error(r: &Reply, status: u16, error: &str) -> Value {
    let j = r.json();
    assert_eq!(r.status.as_u16(), status, "{j}");
    assert_eq!(j["error"], error, "{j}");
    let d = j["error_description"].as_str().expect("a description");
    // RFC 6749 §5.2: printable ASCII without '"' and '\'.
    assert!(
        d.bytes()
            .all(|b| (0x20..=0x7e).contains(&b) && b != b'"' && b != b'\\'),
        "{d}"
    );
    j
}

async fn access_token(app: &App, offer: &Value) -> String {
    let r = token_request(app, &code_of(offer), Some(&pin_of(offer))).await;
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let j = r.ok(200);
    assert_eq!(j["token_type"], "Bearer");
    assert_eq!(j["expires_in"], 300);
    j["access_token"].as_str().expect("a token").to_owned()
}

async fn nonce(app: &App) -> String {
    let r = app.call("POST", "/nonce", Auth::None, None, &[]).await;
    assert_eq!(r.header("cache-control"), Some("no-store"));
    r.ok(200)["c_nonce"].as_str().expect("a c_nonce").to_owned()
}

async fn credential_request(app: &App, token: Option<&str>, body: Value) -> Reply {
    let auth = token.map_or(Auth::None, Auth::Bearer);
    app.call("POST", "/credential", auth, Some(body), &[]).await
}

fn request_with(proof: &str) -> Value {
    json!({"credential_configuration_id": "qrid_claim169", "proofs": {"jwt": [proof]}})
}

async fn proof_by(app: &App, key: &IssuerKey) -> String {
    let n = nonce(app).await;
    sign_proof(
        key.signing_key(),
        &key.verifying_key(),
        ISSUER,
        app.clock_now(),
        &n,
    )
    .expect("a proof")
}

/// A proof whose header and claims the test writes, signed by `signer`.
fn forged_proof(header: Value, claims: Value, signer: &IssuerKey) -> String {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
    use base64::Engine;
    use signature::Signer;
    let input = format!(
        "{}.{}",
        B64.encode(header.to_string()),
        B64.encode(claims.to_string())
    );
    let sig = signer.signing_key().sign(input.as_bytes());
    format!("{input}.{}", B64.encode(sig.to_bytes()))
}

fn header_of(key: &IssuerKey) -> Value {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
    use base64::Engine;
    json!({"alg": "EdDSA", "typ": PROOF_TYP,
        "jwk": {"kty": "OKP", "crv": "Ed25519", "x": B64.encode(key.verifying_key().as_bytes())}})
}

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

// ----- the live QR at the counter -----

/// A credential bound to `holder` through an offer, and the counter clerk who checks it.
async fn wallet_credential(app: &App, holder: &IssuerKey) -> String {
    let (_, o) = offer(app).await;
    let token = access_token(app, &o).await;
    let r = credential_request(
        app,
        Some(&token),
        request_with(&proof_by(app, holder).await),
    )
    .await;
    r.ok(200)["credentials"][0]["credential"]
        .as_str()
        .expect("a credential")
        .to_owned()
}

fn clerk() -> Officer {
    Officer {
        username: "clerk1".into(),
        role: Role::Clerk,
    }
}

fn present(credential: &str, key: &IssuerKey, at: i64, nonce: u8) -> String {
    Presentation {
        credential: credential.to_owned(),
        presented_at: at,
        nonce: [nonce; 8],
    }
    .sign(key.signing_key(), key.kid())
    .expect("a presentation")
}

async fn live(app: &App, text: &str) -> (bool, Option<LiveCheck>) {
    match app
        .state
        .counter_check(&clerk(), text)
        .await
        .expect("a counter check")
    {
        CounterCheck::Credential { checked, live, .. } => (checked.is_valid(), live),
        other => panic!("not a credential check: {other:?}"),
    }
}

#[tokio::test]
async fn a_fresh_live_qr_is_accepted_once_and_a_replay_stale_or_foreign_one_is_refused() {
    let app = App::start(Backend::Sqlite).await;
    let holder = IssuerKey::generate();
    let credential = wallet_credential(&app, &holder).await;
    let now = app.clock_now();

    let text = present(&credential, &holder, now, 1);
    assert_eq!(
        live(&app, &text).await,
        (true, Some(LiveCheck::Accepted { presented_at: now }))
    );
    // The same presentation again: a copy.
    assert_eq!(live(&app, &text).await, (true, Some(LiveCheck::Replayed)));
    // Signed by another key than the one the credential is bound to.
    let thief = IssuerKey::generate();
    assert_eq!(
        live(&app, &present(&credential, &thief, now, 2)).await,
        (true, Some(LiveCheck::WrongHolder))
    );
    // A screenshot shown after its window (a new nonce, so it is not a replay).
    let shot = present(&credential, &holder, now, 3);
    app.clock.advance(qrid_credential::PRESENTATION_MAX_AGE);
    assert_eq!(
        live(&app, &shot).await,
        (true, Some(LiveCheck::Stale { presented_at: now }))
    );
    // The access record has each check with its outcome.
    let id = open(&credential)
        .ok()
        .and_then(|m| Credential::from_cbor(m.payload()).ok())
        .expect("the credential")
        .id
        .to_string();
    let t = app.officer_token().await;
    let wanted = [
        "valid",
        "presentation_replayed",
        "presentation_wrong_holder",
        "presentation_stale",
    ];
    // The access record is written behind the answer (the recorder's queue): wait for it,
    // boundedly.
    let mut outcomes = Vec::new();
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
        outcomes = record["verifications"]
            .as_array()
            .expect("verifications")
            .iter()
            .filter_map(|v| v["outcome"].as_str().map(str::to_owned))
            .collect::<Vec<String>>();
        if wanted.iter().all(|w| outcomes.iter().any(|o| o == w)) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    for o in wanted {
        assert!(outcomes.iter().any(|x| x == o), "{o} not in {outcomes:?}");
    }
    app.stop().await;
}

#[tokio::test]
async fn a_live_qr_of_an_unbound_or_revoked_credential_is_refused() {
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

async fn live_ok(app: &App, text: &str) -> bool {
    matches!(
        live(app, text).await,
        (true, Some(LiveCheck::Accepted { .. }))
    )
}
