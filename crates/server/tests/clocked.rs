//! What depends on time passing, tested in process on a [`ManualClock`](qrid_service::ManualClock)
//! that the test moves: lockouts running out, TOTP steps, and signatures judged against a
//! status history whose times are whole seconds. No test here sleeps.

mod common;

use common::{sha256_hex, App, Auth, OfficialAccount};
use qrid_credential::docsig::{DocumentRef, SignatureHeader};
use qrid_credential::IssuerKey;
use qrid_store::Backend;
use serde_json::{json, Value};

/// A wallet's signature over `doc` at the clock's now, as `qrid wallet sign` makes it.
fn wallet_sign(app: &App, key: &IssuerKey, credential: &Value, doc: &[u8], name: &str) -> String {
    use sha2::Digest;
    let digest: [u8; 32] = sha2::Sha256::digest(doc).into();
    SignatureHeader {
        kid: key.kid().clone(),
        signing_time: app.clock_now(),
        document: DocumentRef::new(digest, name, "text/plain").expect("a document reference"),
        credential: credential["payload"]
            .as_str()
            .expect("the credential payload")
            .to_owned(),
        signature_id: None,
    }
    .sign(key.signing_key())
    .expect("a signature")
}

async fn verify_signature(app: &App, jws: &str, doc: &[u8]) -> common::Reply {
    app.call(
        "POST",
        "/v1/signatures/verify",
        Auth::Client,
        Some(json!({"signature": jws, "digest": sha256_hex(doc)})),
        &[],
    )
    .await
}

async fn change_status(app: &App, officer: &str, id: &str, action: &str, reason: &str) {
    app.call(
        "POST",
        &format!("/v1/credentials/{id}/{action}"),
        Auth::Bearer(officer),
        Some(json!({ "reason": reason })),
        &[],
    )
    .await
    .ok(200);
}

async fn sign_digest(
    app: &App,
    token: &str,
    doc: &[u8],
    headers: &[(&str, &str)],
) -> common::Reply {
    app.call(
        "POST",
        "/v1/signatures",
        Auth::Bearer(token),
        Some(
            json!({"digest": sha256_hex(doc), "name": "decision.txt", "media_type": "text/plain"}),
        ),
        headers,
    )
    .await
}

#[tokio::test]
async fn a_lockout_runs_out_on_the_clock_and_the_right_password_then_works() {
    let app = App::start(Backend::Sqlite).await;
    let guess = |i: usize| json!({"username": "alice", "password": format!("wrong guess {i}")});
    let mut locked = None;
    for i in 0..10 {
        let r = app
            .call("POST", "/v1/auth/token", Auth::None, Some(guess(i)), &[])
            .await;
        if r.status.as_u16() == 429 {
            locked = Some(r);
            break;
        }
        r.problem(401, "unauthorized");
    }
    let locked = locked.expect("five wrong passwords lock the account");
    locked.problem(429, "too_many_attempts");
    let wait: i64 = locked
        .header("retry-after")
        .expect("a Retry-After")
        .parse()
        .expect("seconds");
    assert!(wait >= 1, "{wait}");
    let right = json!({"username": "alice", "password": common::PASSWORD});
    // Still locked a second before the lock runs out, and the right password is not checked.
    app.clock.advance(wait - 1);
    app.call(
        "POST",
        "/v1/auth/token",
        Auth::None,
        Some(right.clone()),
        &[],
    )
    .await
    .problem(429, "too_many_attempts");
    // Once it has run out, the right password works, and clears the count.
    app.clock.advance(1);
    app.call(
        "POST",
        "/v1/auth/token",
        Auth::None,
        Some(right.clone()),
        &[],
    )
    .await
    .ok(200);
    app.call("POST", "/v1/auth/token", Auth::None, Some(guess(99)), &[])
        .await
        .problem(401, "unauthorized");
    app.call("POST", "/v1/auth/token", Auth::None, Some(right), &[])
        .await
        .ok(200);
    app.stop().await;
}

/// TOTP steps on the clock: a code is good for its step and one either side, once; and an
/// official's signature stays valid at its signing time when the signer credential is revoked
/// later, while new signatures are refused.
async fn totp_steps_and_a_later_revocation(backend: Backend) {
    let app = App::start(backend).await;
    let officer = app.officer_token().await;
    let minh: OfficialAccount = app.official("minh.nguyen", "Nguyễn Văn Minh").await;
    app.clock.advance(7);
    // The previous step's code signs in (an authenticator a little slow); used once only.
    let first = app.sign_in(&minh, &app.code(&minh, -1)).await;
    let t = first.ok(200)["access_token"]
        .as_str()
        .expect("an access token")
        .to_owned();
    app.sign_in(&minh, &app.code(&minh, -1))
        .await
        .problem(401, "unauthorized");
    // Two steps ahead is too far; two steps behind too.
    let doc = b"Quyet dinh so 118/QD-UBND";
    sign_digest(&app, &t, doc, &[("x-totp", &app.code(&minh, 2))])
        .await
        .problem(401, "totp_invalid");
    sign_digest(&app, &t, doc, &[("x-totp", &app.code(&minh, -2))])
        .await
        .problem(401, "totp_invalid");
    // This step's code signs; again, it is refused as reused.
    let code = app.code(&minh, 0);
    let signed = sign_digest(&app, &t, doc, &[("x-totp", &code)])
        .await
        .ok(201);
    assert_eq!(signed["signed_at"], app.clock_now());
    sign_digest(&app, &t, doc, &[("x-totp", &code)])
        .await
        .problem(401, "totp_reused");
    // A step later the next code is fresh. A step after that, a code of the step before is
    // accepted as a neighbour's, but was the last one used: reused.
    app.clock.advance(30);
    let code = app.code(&minh, 0);
    sign_digest(&app, &t, doc, &[("x-totp", &code)])
        .await
        .ok(201);
    app.clock.advance(30);
    sign_digest(&app, &t, doc, &[("x-totp", &code)])
        .await
        .problem(401, "totp_reused");

    // The revocation comes a second after the last signature.
    app.clock.advance(1);
    change_status(
        &app,
        &officer,
        &minh.signer_credential_id,
        "revoke",
        "left office",
    )
    .await;
    sign_digest(&app, &t, doc, &[("x-totp", &app.code(&minh, 1))])
        .await
        .problem(403, "signer_credential_revoked");
    let jws = signed["jws"].as_str().expect("a JWS");
    let v = verify_signature(&app, jws, doc).await.ok(200);
    assert_eq!(v["valid"], true, "{v}");
    assert_eq!(v["signer_credential"]["valid_at_signing"], true, "{v}");
    assert_eq!(v["signer_credential"]["status_now"], "revoked", "{v}");
    assert!(
        v["signer_credential"]["changed_at"]
            .as_i64()
            .expect("changed_at")
            > signed["signed_at"].as_i64().expect("signed_at"),
        "{v}"
    );
    app.stop().await;
}

#[tokio::test]
async fn totp_steps_and_a_later_revocation_sqlite() {
    totp_steps_and_a_later_revocation(Backend::Sqlite).await;
}

#[tokio::test]
async fn totp_steps_and_a_later_revocation_postgres() {
    totp_steps_and_a_later_revocation(Backend::Postgres).await;
}

/// A citizen's wallet signature made before the credential was revoked cannot be shown to
/// predate the revocation (its time is the wallet's own claim): indeterminate. One made after
/// the revocation is invalid.
#[tokio::test]
async fn a_wallet_signature_before_a_revocation_is_indeterminate_and_one_after_is_invalid() {
    let app = App::start(Backend::Sqlite).await;
    let officer = app.officer_token().await;
    let holder = IssuerKey::generate();
    let cred = app.bound_credential(&officer, &holder).await;
    let doc = b"Don xin cap ban sao giay khai sinh";
    let early = wallet_sign(&app, &holder, &cred, doc, "application.txt");
    let v = verify_signature(&app, &early, doc).await.ok(200);
    assert_eq!(v["valid"], true, "{v}");

    app.clock.advance(1);
    let id = cred["id"].as_str().expect("a credential id");
    change_status(&app, &officer, id, "revoke", "card reported stolen").await;
    let v = verify_signature(&app, &early, doc).await.ok(200);
    assert_eq!(v["outcome"], "indeterminate", "{v}");
    assert_eq!(v["error"]["kind"], "signing_time_unproven", "{v}");

    app.clock.advance(1);
    let late = wallet_sign(&app, &holder, &cred, doc, "application.txt");
    let v = verify_signature(&app, &late, doc)
        .await
        .problem(422, "revoked_before_signing");
    assert_eq!(v["valid"], false, "{v}");
    assert_eq!(v["signer"]["name"], "Nguyễn Thị Minh Khai");
    app.stop().await;
}

/// A signature made while the credential was suspended stays invalid once it is reinstated:
/// the verdict judges the signing time against the status history, not the latest status.
async fn signed_while_suspended(backend: Backend) {
    let app = App::start(backend).await;
    let officer = app.officer_token().await;
    let holder = IssuerKey::generate();
    let cred = app.bound_credential(&officer, &holder).await;
    let id = cred["id"].as_str().expect("a credential id");
    change_status(&app, &officer, id, "suspend", "identity under review").await;
    app.clock.advance(1);
    let doc = b"application for a birth certificate copy\n";
    let jws = wallet_sign(&app, &holder, &cred, doc, "application.txt");
    app.clock.advance(1);
    change_status(&app, &officer, id, "reinstate", "identity under review").await;
    let v = verify_signature(&app, &jws, doc)
        .await
        .problem(422, "revoked_before_signing");
    assert_eq!(v["valid"], false, "{v}");
    assert!(
        v["error"]["message"]
            .as_str()
            .expect("a message")
            .contains("suspended"),
        "{v}"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_signature_made_while_suspended_stays_invalid_after_reinstatement_sqlite() {
    signed_while_suspended(Backend::Sqlite).await;
}

#[tokio::test]
async fn a_signature_made_while_suspended_stays_invalid_after_reinstatement_postgres() {
    signed_while_suspended(Backend::Postgres).await;
}
