//! The service's operations called as a front door calls them, on a real SQLite database, the
//! development keys and a manual clock: roles, refusals before anything is read, and a
//! revocation seen by the next verification on the same node.

use qrid_credential::CitizenInput;
use qrid_service::citizens::IssueOptions;
use qrid_service::verification::Checked;
use qrid_service::{
    CitizenId, Config, CredentialId, ManualClock, Officer, Service, ServiceError, Settings,
};
use qrid_store::testing::TestDatabase;
use qrid_store::{Backend, CredentialStatus, Role, Store};
use std::path::Path;
use std::sync::Arc;

/// 2026-12-01T00:00:00Z.
const START: i64 = 1_796_083_200;

struct Node {
    service: Service,
    recorder: qrid_service::Recorder,
    db: TestDatabase,
    _dir: tempfile::TempDir,
}

async fn node() -> Node {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let keys_dev = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../keys-dev");
    for entry in std::fs::read_dir(&keys_dev).expect("read keys-dev") {
        let path = entry.expect("an entry").path();
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        if let Some(name) = name.filter(|n| n.ends_with(".pem") || n.ends_with(".key")) {
            std::fs::copy(&path, dir.path().join(&name)).expect("copy a development key");
        }
    }
    let db = TestDatabase::create(Backend::Sqlite)
        .await
        .expect("a test database");
    let config = Config::load(Settings {
        database_url: Some(db.url.clone()),
        key_dir: Some(dir.path().to_owned()),
        public_url: Some("http://qrid.test".into()),
        token_secret: Some(
            "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
                .to_owned()
                .into(),
        ),
        ..Settings::default()
    })
    .expect("the test configuration");
    let store = Store::connect(&db.url).await.expect("connect");
    let (service, recorder) = Service::start(
        config,
        store,
        Arc::new(ManualClock::at(START)),
        Arc::new(qrid_service::events::NoEvents),
    )
    .await
    .expect("start the service");
    Node {
        service,
        recorder,
        db,
        _dir: dir,
    }
}

fn officer(role: Role) -> Officer {
    Officer {
        username: format!("{}-1", role.as_str()),
        role,
    }
}

fn citizen() -> CitizenInput {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/citizen.json"),
    )
    .expect("the citizen fixture");
    serde_json::from_str(&text).expect("the fixture is a citizen")
}

#[tokio::test]
async fn roles_refusals_and_a_revocation_seen_at_once() {
    let n = node().await;
    let s = &n.service;
    let (issuer, auditor) = (officer(Role::Issuer), officer(Role::Auditor));

    // An auditor reads but neither enrols nor issues.
    let e = s.enrol(&auditor, citizen()).await.unwrap_err();
    assert_eq!(
        (e.kind(), e.to_string().as_str()),
        ("forbidden", "this needs the role issuer or admin")
    );
    let rec = s.enrol(&issuer, citizen()).await.expect("enrol");
    let id = CitizenId::parse(&rec.id).expect("a citizen id");
    let again = s.enrol(&issuer, citizen()).await.unwrap_err();
    assert_eq!(again.kind(), "conflict");

    // Out-of-range validity is refused before the citizen is looked up (the id is unknown).
    let nobody = CitizenId::parse("00000000000000ff").expect("an id");
    let e = s
        .issue(
            &issuer,
            &nobody,
            IssueOptions {
                valid_days: Some(0),
                ..IssueOptions::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(
        (e.kind(), e.to_string().as_str()),
        ("invalid_body", "valid_days must be 1 to 36500")
    );
    let e = s
        .issue(&issuer, &nobody, IssueOptions::default())
        .await
        .unwrap_err();
    assert!(matches!(e, ServiceError::NotFound("citizen")), "{e:?}");

    let cred = s
        .issue(&issuer, &id, IssueOptions::default())
        .await
        .expect("issue");
    assert_eq!(cred.issued_at, START);
    let cred_id = CredentialId::parse(&cred.id).expect("a credential id");
    assert_eq!(
        s.citizen(&auditor, &id)
            .await
            .expect("read")
            .credentials
            .len(),
        1
    );

    // A client as the front door gets it: registered, then authenticated with its secret.
    let registered = qrid_service::oidc::client::register(
        &s.store,
        &ManualClock::at(START),
        "Counter 1",
        &qrid_service::oidc::client::ClientSettings {
            scopes: vec!["openid".into()],
            ..Default::default()
        },
        "test",
    )
    .await
    .expect("register a client");
    let secret = registered.secret.expect("a secret").to_string();
    let e = s
        .authenticate_client(&registered.client_id, "not the secret")
        .await
        .unwrap_err();
    assert_eq!(e.kind(), "unauthorized");
    let client = s
        .authenticate_client(&registered.client_id, &secret)
        .await
        .expect("authenticate the client");
    let valid = s.verify_for(&client, &cred.payload).await.expect("verify");
    assert!(valid.is_valid(), "{valid:?}");

    // A reason is 1 to 500 characters; an auditor changes nothing.
    for reason in ["   ", &"x".repeat(501)] {
        let e = s
            .change_status(&issuer, &cred_id, CredentialStatus::Revoked, reason)
            .await
            .unwrap_err();
        assert_eq!(e.to_string(), "reason must be 1 to 500 characters");
    }
    let e = s
        .change_status(&auditor, &cred_id, CredentialStatus::Revoked, "lost")
        .await
        .unwrap_err();
    assert_eq!(e.kind(), "forbidden");
    let changed = s
        .change_status(
            &issuer,
            &cred_id,
            CredentialStatus::Revoked,
            "  card lost  ",
        )
        .await
        .expect("revoke");
    assert_eq!(changed.status_reason.as_deref(), Some("card lost"));
    // Revoked is final.
    let e = s
        .change_status(&issuer, &cred_id, CredentialStatus::Valid, "found")
        .await
        .unwrap_err();
    assert_eq!(e.kind(), "invalid_state");

    // This node dropped its cached list with the change: the next check sees it.
    match s.verify_for(&client, &cred.payload).await.expect("verify") {
        Checked::Verdict(v) => assert_eq!(v.kind(), "revoked"),
        other => panic!("{other:?}"),
    }

    // Both checks reach the access record once the writer has finished.
    n.recorder.finish().await;
    let record = s
        .access_record(&auditor, &cred_id)
        .await
        .expect("the record");
    let outcomes: Vec<&str> = record.iter().map(|v| v.outcome.as_str()).collect();
    assert_eq!(outcomes.len(), 2, "{outcomes:?}");
    assert!(
        outcomes.contains(&"valid") && outcomes.contains(&"revoked"),
        "{outcomes:?}"
    );
    assert!(record.iter().all(|v| v.client_id == client.as_str()));

    s.store.close().await;
    n.db.drop_database().await.expect("drop the database");
}
