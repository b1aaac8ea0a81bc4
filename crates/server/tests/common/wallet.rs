//! What the wallet tests share (tests/vci.rs, tests/live.rs, benches/wallet.rs): an offer
//! made through the API, each step of the OpenID4VCI flow as a wallet sends it, key proofs
//! well-formed or forged, and the live QR checked at a counter.

use super::{App, Auth, Reply, CITIZEN};
use qrid_credential::vci::{sign_proof, PROOF_TYP};
use qrid_credential::{IssuerKey, Presentation};
use qrid_service::live::LiveCheck;
use qrid_service::office::CounterCheck;
use qrid_service::vci::PRE_AUTHORIZED_GRANT;
use qrid_service::Officer;
use qrid_store::Role;
use serde_json::{json, Value};

pub const ISSUER: &str = "http://qrid.test";

/// An offer made by `alice` for a freshly enrolled citizen: (citizen id, the offer answer).
pub async fn offer(app: &App) -> (String, Value) {
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

pub fn code_of(offer: &Value) -> String {
    offer["credential_offer"]["grants"][PRE_AUTHORIZED_GRANT]["pre-authorized_code"]
        .as_str()
        .expect("a pre-authorized code")
        .to_owned()
}

pub fn pin_of(offer: &Value) -> String {
    offer["tx_code"].as_str().expect("a PIN").to_owned()
}

pub async fn token_request(app: &App, code: &str, pin: Option<&str>) -> Reply {
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

pub fn oauth_error(r: &Reply, status: u16, error: &str) -> Value {
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

pub async fn access_token(app: &App, offer: &Value) -> String {
    let r = token_request(app, &code_of(offer), Some(&pin_of(offer))).await;
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let j = r.ok(200);
    assert_eq!(j["token_type"], "Bearer");
    assert_eq!(j["expires_in"], 300);
    j["access_token"].as_str().expect("a token").to_owned()
}

pub async fn nonce(app: &App) -> String {
    let r = app.call("POST", "/nonce", Auth::None, None, &[]).await;
    assert_eq!(r.header("cache-control"), Some("no-store"));
    r.ok(200)["c_nonce"].as_str().expect("a c_nonce").to_owned()
}

pub async fn credential_request(app: &App, token: Option<&str>, body: Value) -> Reply {
    let auth = token.map_or(Auth::None, Auth::Bearer);
    app.call("POST", "/credential", auth, Some(body), &[]).await
}

pub fn request_with(proof: &str) -> Value {
    json!({"credential_configuration_id": "qrid_claim169", "proofs": {"jwt": [proof]}})
}

pub async fn proof_by(app: &App, key: &IssuerKey) -> String {
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
pub fn forged_proof(header: Value, claims: Value, signer: &IssuerKey) -> String {
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

pub fn header_of(key: &IssuerKey) -> Value {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
    use base64::Engine;
    json!({"alg": "EdDSA", "typ": PROOF_TYP,
        "jwk": {"kty": "OKP", "crv": "Ed25519", "x": B64.encode(key.verifying_key().as_bytes())}})
}

/// A credential bound to `holder` through an offer, and the counter clerk who checks it.
pub async fn wallet_credential(app: &App, holder: &IssuerKey) -> String {
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

pub fn clerk() -> Officer {
    Officer {
        username: "clerk1".into(),
        role: Role::Clerk,
    }
}

pub fn present(credential: &str, key: &IssuerKey, at: i64, nonce: u8) -> String {
    Presentation {
        credential: credential.to_owned(),
        presented_at: at,
        nonce: [nonce; 8],
    }
    .sign(key.signing_key(), key.kid())
    .expect("a presentation")
}

pub async fn live(app: &App, text: &str) -> (bool, Option<LiveCheck>) {
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

pub async fn live_ok(app: &App, text: &str) -> bool {
    matches!(
        live(app, text).await,
        (true, Some(LiveCheck::Accepted { .. }))
    )
}
