//! The officials' signing desk (docs/sign.md) through the service's operations as the desk's
//! pages call them, on SQLite and on PostgreSQL, with the development keys and a manual clock:
//! sign-in with password and TOTP, uploads read before they are kept, one official's desk
//! closed to another, the stamp's place, one code for a batch (a wrong one signs nothing),
//! signed PDFs that verify, the history, the bounds, and the sessions' ends.

use qrid_credential::Official;
use qrid_service::desk::{Approved, DESK_IDLE, DESK_MAX_WAITING, DESK_RETENTION};
use qrid_service::officials::{create, provision};
use qrid_service::totp::code_at;
use qrid_service::{ManualClock, Service, ServiceError};
use qrid_store::{Backend, CredentialStatus, DeskFile};

mod common;

use common::{client, node, repo, run, secret_of, PASSWORD};

fn vector(name: &str) -> Vec<u8> {
    std::fs::read(repo().join("tests/vectors/pdf").join(name)).expect("a PDF vector")
}

/// An official with their TOTP secret.
async fn official(s: &Service, clock: &ManualClock, username: &str, name: &str) -> Vec<u8> {
    let details = Official::new(name, "Chủ tịch", "UBND xã Đông Hội").expect("details");
    let p = provision(&s.kek, username, &details, PASSWORD, "qrid VN").expect("provision");
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
    secret_of(&p.otpauth_uri)
}

async fn the_desk(url: String) {
    let n = node(url).await;
    let (s, clock) = (&n.service, &n.clock);
    let lan = official(s, clock, "lan", "Trần Thị Lan").await;
    let hoa = official(s, clock, "hoa", "Lê Văn Hoà").await;

    // Sign-in: a wrong code is the single refusal; the right one opens a session.
    let e = s
        .desk_sign_in("lan", PASSWORD, "000000")
        .await
        .expect_err("wrong code");
    assert_eq!(e.kind(), "unauthorized");
    clock.advance(30);
    let opened = s
        .desk_sign_in("lan", PASSWORD, &code_at(&lan, s.now()))
        .await
        .expect("sign in");
    let session = s.desk_session(&opened.token).await.expect("a live session");
    assert_eq!(session.official.full_name, "Trần Thị Lan");
    assert_eq!(session.csrf, opened.csrf);
    let lan_claims = session.claims;
    // A desk session is no office session, nor the reverse.
    assert!(s.office_session(&opened.token).await.is_err());
    let other = s
        .desk_sign_in("hoa", PASSWORD, &code_at(&hoa, s.now()))
        .await
        .expect("sign in");
    let hoa_claims = s.desk_session(&other.token).await.expect("live").claims;

    // Uploads are read first: what cannot be signed is refused with its kind, nothing kept.
    for (file, kind) in [
        ("not-a-pdf.pdf", "not_pdf"),
        ("truncated.pdf", "malformed_pdf"),
        ("encrypted.pdf", "encrypted_pdf"),
    ] {
        let e = s
            .desk_upload(&lan_claims, file, vector(file))
            .await
            .expect_err(file);
        assert_eq!(e.kind(), kind, "{file}: {e}");
    }
    let e = s
        .desk_upload(&lan_claims, "big.pdf", vec![b' '; (32 << 20) + 1])
        .await
        .expect_err("too large");
    assert_eq!(e.kind(), "pdf_too_large");
    assert!(s.desk(&lan_claims).await.expect("desk").is_empty());

    let a = s
        .desk_upload(
            &lan_claims,
            "C:\\Văn bản\\Quyết định 12.pdf",
            vector("three-pages.pdf"),
        )
        .await
        .expect("upload");
    assert_eq!(a.name, "Quyết định 12.pdf", "the path is dropped");
    assert_eq!((a.pages, a.page_width, a.page_height), (3, 595, 842));
    let b = s
        .desk_upload(&lan_claims, "Công văn 7.pdf", vector("simple.pdf"))
        .await
        .expect("upload");

    // Another official sees none of it and can change none of it.
    assert!(s.desk(&hoa_claims).await.expect("desk").is_empty());
    for e in [
        s.desk_file(&hoa_claims, &a.id, DeskFile::Original)
            .await
            .map(|_| ())
            .expect_err("not theirs"),
        s.desk_place(&hoa_claims, &a.id, Some((1, 1)))
            .await
            .expect_err("not theirs"),
    ] {
        assert_eq!(e.kind(), "not_found");
    }
    assert_eq!(
        s.desk_remove(&hoa_claims, Some(&a.id)).await.expect("ok"),
        0
    );

    // The stamp's place: in range only.
    s.desk_place(&lan_claims, &a.id, Some((0, 1000)))
        .await
        .expect("place");
    let e = s
        .desk_place(&lan_claims, &a.id, Some((1001, 0)))
        .await
        .expect_err("out of range");
    assert_eq!(e.kind(), "invalid_body");
    let (original, bytes) = s
        .desk_file(&lan_claims, &a.id, DeskFile::Original)
        .await
        .expect("the upload");
    assert_eq!(original.place, Some((0, 1000)));
    assert_eq!(bytes, vector("three-pages.pdf"));
    assert_eq!(
        s.desk_file(&lan_claims, &a.id, DeskFile::Signed)
            .await
            .map(|_| ())
            .expect_err("not signed yet")
            .kind(),
        "not_found"
    );

    // One code for the batch: a wrong one signs nothing; the right one signs both.
    clock.advance(30);
    let good = code_at(&lan, s.now());
    let wrong = format!(
        "{:06}",
        (good.parse::<u32>().expect("digits") + 1) % 1_000_000
    );
    let e = s
        .desk_approve(&lan_claims, &wrong)
        .await
        .expect_err("wrong code");
    assert_eq!(e.kind(), "totp_invalid");
    assert!(s
        .desk(&lan_claims)
        .await
        .expect("desk")
        .iter()
        .all(|d| d.signature_id.is_none()));
    let approved = s.desk_approve(&lan_claims, &good).await.expect("approve");
    assert_eq!(approved.len(), 2);
    assert!(
        approved
            .iter()
            .all(|r| matches!(r, Approved::Signed { .. })),
        "{approved:?}"
    );
    // The same code again: used.
    let e = s
        .desk_approve(&lan_claims, &good)
        .await
        .expect_err("nothing waits, and the code is used");
    assert_eq!(e.kind(), "invalid_body");

    let client = client(s).await;
    for d in [&a, &b] {
        let (doc, signed) = s
            .desk_file(&lan_claims, &d.id, DeskFile::Signed)
            .await
            .expect("the signed PDF");
        assert!(signed.starts_with(&vector(if d.id == a.id {
            "three-pages.pdf"
        } else {
            "simple.pdf"
        })));
        let verdict = s.verify_pdf(&client, signed).await.expect("verify");
        assert!(verdict.is_valid(), "{}", verdict.to_json());
        let record = s
            .signature(
                &qrid_service::SignatureId::parse(doc.signature_id.as_deref().expect("signed"))
                    .expect("an id"),
            )
            .await
            .expect("the record");
        assert_eq!(record.document_name, d.name);
    }
    // Signed documents cannot be moved or signed again.
    assert_eq!(
        s.desk_place(&lan_claims, &a.id, None)
            .await
            .expect_err("signed")
            .kind(),
        "not_found"
    );

    // The history: both, with the signer credential valid.
    let history = s
        .desk_history(&lan_claims, 50, None)
        .await
        .expect("history");
    assert_eq!(history.len(), 2);
    assert!(history
        .iter()
        .all(|h| h.status_now == Some(CredentialStatus::Valid)));

    // Bounds: twenty documents waiting at most.
    assert_eq!(s.desk_remove(&lan_claims, None).await.expect("clear"), 2);
    for i in 0..DESK_MAX_WAITING {
        s.desk_upload(&lan_claims, &format!("{i}.pdf"), vector("simple.pdf"))
            .await
            .expect("room on the desk");
    }
    let e = s
        .desk_upload(&lan_claims, "one-too-many.pdf", vector("simple.pdf"))
        .await
        .expect_err("full");
    assert!(matches!(e, ServiceError::DeskFull), "{e}");
    assert_eq!(e.kind(), "desk_full");

    // Sessions end when idle; documents a day after upload.
    clock.advance(DESK_IDLE + 1);
    let e = s
        .desk_session(&opened.token)
        .await
        .expect_err("idle session");
    assert_eq!(
        e.to_string(),
        "your session ended after a time without use; sign in again"
    );
    clock.advance(DESK_RETENTION);
    assert!(s.desk(&lan_claims).await.expect("desk").is_empty());

    n.stop().await;
}

#[tokio::test]
async fn the_desk_on_sqlite() {
    run(Backend::Sqlite, the_desk).await;
}

#[tokio::test]
async fn the_desk_on_postgres() {
    run(Backend::Postgres, the_desk).await;
}
