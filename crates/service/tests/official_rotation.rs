//! An administrator rotates an official's signing key and re-enrols their TOTP device, through
//! the service's operations as the office calls them, on SQLite and on PostgreSQL, with the
//! development keys and a manual clock (so that every TOTP code is of a fresh step): the new
//! key is certified by a new signer credential, the old credential is revoked (its PDF
//! certificate on the CRL), the official keeps their authenticator, tokens made before end,
//! and what was signed before stays valid at its signing time.

use qrid_credential::Official;
use qrid_pdf::pki::{Cert, Crl};
use qrid_pdf::Placement;
use qrid_service::officials::{create, new_key, provision};
use qrid_service::signing::{ControlProof, DocumentToSign};
use qrid_service::totp::code_at;
use qrid_store::{Backend, CredentialStatus, Role, StoreError};
use qrid_verifier::{SignatureVerdict, Standing};
use sha2::{Digest, Sha256};

mod common;

use common::{client, node, officer, repo, run, secret_of, PASSWORD};

fn document(text: &str) -> DocumentToSign {
    DocumentToSign {
        digest: Some(Sha256::digest(text.as_bytes()).into()),
        name: Some(format!("{text}.txt")),
        media_type: Some("text/plain".into()),
        kid: None,
    }
}

async fn rotation_keeps_the_past_and_ends_the_old_key(url: String) {
    let n = node(url).await;
    let (s, clock) = (&n.service, &n.clock);
    let step = || clock.advance(30);
    let details =
        Official::new("Nguyễn Văn Khải", "Chủ tịch", "UBND xã Đông Hội").expect("details");
    let p = provision(&s.kek, "khai", &details, PASSWORD, "qrid VN").expect("provision");
    let secret = secret_of(&p.otpauth_uri);
    let (official, first) = create(
        &s.store,
        &s.config,
        clock,
        &s.keys().current,
        &p.official,
        730,
        "admin-1",
    )
    .await
    .expect("create the official");
    let verifier = client(s).await;

    // Before: signed in, a JWS and a PDF signed with the first key.
    let (token, _) = s
        .official_sign_in("khai", PASSWORD, &code_at(&secret, s.now()))
        .await
        .expect("sign in");
    let claims = s.official_claims(&token.token).expect("claims");
    step();
    let code = code_at(&secret, s.now());
    s.begin_signing(&claims, ControlProof::Totp(Some(&code)))
        .await
        .expect("sole control");
    let before = s
        .sign_document(&claims, document("decision 1"))
        .await
        .expect("sign before");
    step();
    let code = code_at(&secret, s.now());
    s.begin_signing(&claims, ControlProof::Totp(Some(&code)))
        .await
        .expect("sole control");
    let pdf = std::fs::read(repo().join("tests/vectors/pdf/simple.pdf")).expect("a PDF vector");
    let pdf_before = s
        .sign_pdf(
            &claims,
            pdf.clone(),
            "decision-1.pdf",
            Placement::BottomRight,
        )
        .await
        .expect("sign a PDF before");
    step();

    // Only an admin rotates.
    for role in [Role::Issuer, Role::Auditor, Role::Clerk] {
        let e = s
            .admin_rotate_official_key(&officer(role), "khai")
            .await
            .expect_err("refused");
        assert_eq!(e.kind(), "forbidden", "{role:?}");
    }
    let e = s
        .admin_rotate_official_key(&officer(Role::Admin), "nobody")
        .await
        .expect_err("no such official");
    assert_eq!(e.kind(), "not_found");
    assert_eq!(
        s.store
            .official(&official.id)
            .await
            .expect("read")
            .map(|o| o.kid),
        Some(official.kid.clone()),
        "a refusal changes nothing"
    );

    let rotated_at = s.now();
    let r = s
        .admin_rotate_official_key(&officer(Role::Admin), "khai")
        .await
        .expect("rotate");
    assert_eq!(r.previous_kid, official.kid);
    assert_ne!(r.official.kid, official.kid, "a new kid");
    assert_ne!(r.official.public_key, official.public_key, "a new key");
    assert_eq!(r.official.token_epoch, official.token_epoch + 1);
    let stored = s
        .store
        .official(&official.id)
        .await
        .expect("read")
        .expect("the official");
    assert_eq!(stored.kid, r.official.kid);
    // The new key opens under its new binding and is the row's public key.
    let key = qrid_service::signing::signing_key(&s.kek, &stored).expect("the new key opens");
    assert_eq!(key.verifying_key().to_bytes(), stored.public_key);

    // The new signer credential is valid, current, on a slot of its own; the old one revoked.
    let new = &r.signer_credential;
    assert_ne!(new.id, first.id);
    assert_ne!(
        (new.status_list, new.status_index),
        (first.status_list, first.status_index)
    );
    let current = s
        .store
        .current_signer_credential(&official.id)
        .await
        .expect("read")
        .expect("a signer credential");
    assert_eq!(
        (current.id.as_str(), current.status),
        (new.id.as_str(), CredentialStatus::Valid)
    );
    assert_eq!(
        r.revoked.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
        [first.id.as_str()]
    );
    let old = s
        .store
        .signer_credential(&first.id)
        .await
        .expect("read")
        .expect("the old credential");
    assert_eq!(old.status, CredentialStatus::Revoked);
    assert_eq!(old.status_changed_at, Some(rotated_at));
    let audit = s.store.audit_of(&official.id).await.expect("the audit");
    let entry = audit
        .iter()
        .find(|e| e.action == "official.rotate_key")
        .expect("the rotation is audited");
    assert_eq!(entry.actor, "admin-1");
    assert!(entry.detail.contains(&r.official.kid), "{}", entry.detail);
    assert!(!entry.detail.contains(PASSWORD));

    // The token made before is refused; the same authenticator signs in again.
    let e = s.current_official(&claims).await.expect_err("old token");
    assert_eq!(e.kind(), "unauthorized");
    step();
    let (token, signed_in) = s
        .official_sign_in("khai", PASSWORD, &code_at(&secret, s.now()))
        .await
        .expect("the same TOTP secret signs in");
    assert_eq!(signed_in.kid, r.official.kid);
    let claims = s.official_claims(&token.token).expect("claims");

    // What was signed before stays valid at its signing time; the old credential is revoked now.
    match s
        .verify_signature(&verifier, &before.jws, None)
        .await
        .expect("verify")
    {
        SignatureVerdict::Valid { check, now } => {
            assert_eq!(now, Standing::RevokedSince(rotated_at));
            assert_eq!(check.signer_key.to_bytes(), official.public_key);
        }
        v => panic!("not valid: {v:?}"),
    }
    assert!(s
        .verify_pdf(&verifier, pdf_before.pdf.clone())
        .await
        .expect("verify the PDF")
        .is_valid());
    // The old certificate is on the CRL from the rotation.
    let ca = Cert::from_pem(&std::fs::read_to_string(repo().join("keys-dev/ca.pem")).expect("ca"))
        .expect("the CA");
    let crl = Crl::from_der(&s.crl().await.expect("the CRL"), &ca).expect("a CRL of the CA");
    assert_eq!(
        crl.revoked_at(&pdf_before.certificate_serial),
        Some(rotated_at)
    );

    // New signatures are made with the new key, under the new credential and a new certificate.
    step();
    let code = code_at(&secret, s.now());
    s.begin_signing(&claims, ControlProof::Totp(Some(&code)))
        .await
        .expect("sole control");
    let after = s
        .sign_document(&claims, document("decision 2"))
        .await
        .expect("sign after");
    assert_eq!(after.signer_credential_id, new.id);
    match s
        .verify_signature(&verifier, &after.jws, None)
        .await
        .expect("verify")
    {
        SignatureVerdict::Valid { check, now } => {
            assert_eq!(now, Standing::Valid);
            assert_eq!(check.signer_key.to_bytes(), r.official.public_key);
        }
        v => panic!("not valid: {v:?}"),
    }
    step();
    let code = code_at(&secret, s.now());
    s.begin_signing(&claims, ControlProof::Totp(Some(&code)))
        .await
        .expect("sole control");
    let pdf_after = s
        .sign_pdf(&claims, pdf, "decision-2.pdf", Placement::BottomRight)
        .await
        .expect("sign a PDF after");
    assert_ne!(pdf_after.certificate_serial, pdf_before.certificate_serial);
    assert!(s
        .verify_pdf(&verifier, pdf_after.pdf)
        .await
        .expect("verify")
        .is_valid());

    // A rotation prepared from a stale read (another rotation won) writes nothing.
    let stale = new_key(&s.kek, &official).expect("the stale TOTP secret still opens");
    let e = s
        .store
        .rotate_official_key(&official.id, &stale, 1024, "admin-1", s.now(), |_, _| {
            Err("never called".into())
        })
        .await
        .expect_err("stale");
    assert!(matches!(e, StoreError::InvalidState(_)), "{e:?}");
    assert_eq!(
        s.store
            .official(&official.id)
            .await
            .expect("read")
            .map(|o| o.kid),
        Some(r.official.kid.clone())
    );

    n.stop().await;
}

async fn totp_re_enrolment_by_an_admin(url: String) {
    let n = node(url).await;
    let (s, clock) = (&n.service, &n.clock);
    let details =
        Official::new("Trần Thị Lan", "Phó Chủ tịch", "UBND xã Đông Hội").expect("details");
    let p = provision(&s.kek, "lan", &details, PASSWORD, "qrid VN").expect("provision");
    let old = secret_of(&p.otpauth_uri);
    create(
        &s.store,
        &s.config,
        clock,
        &s.keys().current,
        &p.official,
        730,
        "admin-1",
    )
    .await
    .expect("create the official");
    let (token, _) = s
        .official_sign_in("lan", PASSWORD, &code_at(&old, s.now()))
        .await
        .expect("sign in");
    let claims = s.official_claims(&token.token).expect("claims");

    let e = s
        .admin_reset_official_totp(&officer(Role::Clerk), "lan")
        .await
        .expect_err("a clerk");
    assert_eq!(e.kind(), "forbidden");
    let uri = s
        .admin_reset_official_totp(&officer(Role::Admin), "lan")
        .await
        .expect("re-enrol");
    assert!(
        uri.starts_with("otpauth://totp/qrid%20"),
        "not an otpauth URI"
    );
    let new = secret_of(&uri);
    assert_ne!(new, old);
    assert_eq!(
        s.current_official(&claims)
            .await
            .expect_err("old token")
            .kind(),
        "unauthorized"
    );
    clock.advance(30);
    let e = s
        .official_sign_in("lan", PASSWORD, &code_at(&old, s.now()))
        .await
        .expect_err("the old device");
    assert_eq!(e.kind(), "unauthorized");
    s.official_sign_in("lan", PASSWORD, &code_at(&new, s.now()))
        .await
        .expect("the new device signs in");

    n.stop().await;
}

/// Rotations in the second the official was created (the clock does not move): each new
/// signer credential is the current one, though all were issued in the same second.
async fn rotations_in_one_second(url: String) {
    let n = node(url).await;
    let s = &n.service;
    let details = Official::new("Lê Văn Tám", "Chủ tịch", "UBND xã Đông Hội").expect("details");
    let p = provision(&s.kek, "tam", &details, PASSWORD, "qrid VN").expect("provision");
    let (official, _) = create(
        &s.store,
        &s.config,
        &n.clock,
        &s.keys().current,
        &p.official,
        730,
        "admin-1",
    )
    .await
    .expect("create the official");
    for _ in 0..4 {
        let r = s
            .admin_rotate_official_key(&officer(Role::Admin), "tam")
            .await
            .expect("rotate");
        let current = s
            .store
            .current_signer_credential(&official.id)
            .await
            .expect("read")
            .expect("a signer credential");
        assert_eq!(current.id, r.signer_credential.id);
        assert_eq!(current.status, CredentialStatus::Valid);
        assert_eq!(r.revoked.len(), 1, "only the one valid before");
    }
    n.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotations_in_one_second_sqlite() {
    run(Backend::Sqlite, rotations_in_one_second).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotations_in_one_second_postgres() {
    run(Backend::Postgres, rotations_in_one_second).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_sqlite() {
    run(
        Backend::Sqlite,
        rotation_keeps_the_past_and_ends_the_old_key,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_postgres() {
    run(
        Backend::Postgres,
        rotation_keeps_the_past_and_ends_the_old_key,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn totp_re_enrolment_sqlite() {
    run(Backend::Sqlite, totp_re_enrolment_by_an_admin).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn totp_re_enrolment_postgres() {
    run(Backend::Postgres, totp_re_enrolment_by_an_admin).await;
}
