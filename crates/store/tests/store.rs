//! The store's test suite, run against both back ends: every case is one async fn taking a
//! fresh store, and `both!` makes a SQLite test and a PostgreSQL test of it.

use qrid_credential::{CitizenInput, Credential, IssuerKey, StatusIndex, StatusRef};
use qrid_store::testing::TestDatabase;
use qrid_store::*;
use std::future::Future;

const NOW: i64 = 1_763_856_000;

async fn run<F, Fut>(backend: Backend, case: F)
where
    F: FnOnce(Store) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let db = TestDatabase::create(backend)
        .await
        .expect("create test database");
    let store = db.store().await.expect("connect and migrate");
    // Run the case in its own task so the database is dropped even when it panics.
    let outcome = tokio::spawn(case(store.clone())).await;
    store.close().await;
    db.drop_database().await.expect("drop test database");
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

macro_rules! both {
    ($($case:ident),* $(,)?) => {
        mod sqlite { $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $case() { super::run(qrid_store::Backend::Sqlite, super::$case).await } )* }
        mod postgres { $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $case() { super::run(qrid_store::Backend::Postgres, super::$case).await } )* }
    };
}

both!(
    citizens_are_unique_by_id_number,
    issuance_allocates_fresh_indices_across_lists,
    failed_signing_writes_nothing_and_consumes_no_index,
    status_changes_follow_the_rules_and_are_audited,
    batch_enrolment_skips_the_already_enrolled,
    pipelined_bulk_issuance_reserves_then_inserts,
    officers_clients_keys_and_records,
    audit_and_verifications_are_append_only,
    concurrent_issuance_never_reuses_an_index,
    login_transactions_codes_and_tokens_are_single_use,
    pending_logins_are_bounded_per_client_and_in_total,
    expired_logins_are_pruned_promptly,
    officials_are_created_with_a_signer_credential,
    failed_certification_writes_nothing_and_consumes_no_index,
    totp_steps_are_accepted_once_and_only_increasing,
    signing_sessions_are_limited_in_count_and_time_and_bound_to_the_official,
    signatures_are_append_only_and_listed_newest_first,
    signer_credentials_share_the_status_api_and_lists,
    accounts_are_listed_disabled_enabled_and_reset,
);

fn citizen(id_number: &str, name: &str) -> NewCitizen {
    let json = format!(
        r#"{{"id_number":"{id_number}","full_name":"{name}","date_of_birth":"1980-05-06","place_of_residence":"Số 1 Phố Huế, Hà Nội"}}"#
    );
    NewCitizen {
        citizen: CitizenInput::from_json(&json)
            .unwrap()
            .to_citizen()
            .unwrap(),
    }
}

fn signer(key: &IssuerKey, c: &NewCitizen, slot: StatusSlot) -> Result<NewCredential, String> {
    let status = StatusRef::new(
        &format!("https://id.example/s/{}", slot.list),
        StatusIndex(slot.index),
    )
    .map_err(|e| e.to_string())?;
    let cred = Credential {
        issuer: "VN".into(),
        issued_at: NOW,
        expires_at: NOW + 86_400,
        not_before: None,
        id: qrid_credential::CredentialId::random(),
        citizen: c.citizen.clone(),
        status: Some(status),
        holder: None,
    };
    let payload = cred
        .sign(key.signing_key(), key.kid())
        .map_err(|e| e.to_string())?;
    Ok(NewCredential {
        id: cred.id.to_string(),
        kid: key.kid().to_string(),
        payload,
        issued_at: NOW,
        expires_at: NOW + 86_400,
    })
}

async fn citizens_are_unique_by_id_number(store: Store) {
    let a = store
        .insert_citizen(&citizen("000000000001", "Lê Lợi"), "tester", NOW)
        .await
        .unwrap();
    let back = store.get_citizen(&a.id).await.unwrap().unwrap();
    assert_eq!(back.citizen.full_name.as_str(), "Lê Lợi");
    assert_eq!(
        back.citizen.place_of_residence.unwrap().as_str(),
        "Số 1 Phố Huế, Hà Nội"
    );
    let e = store
        .insert_citizen(&citizen("000000000001", "Someone Else"), "tester", NOW)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), "conflict");
    // The refusal names who is already enrolled, and the writer is usable after it.
    assert!(
        matches!(&e, StoreError::AlreadyEnrolled(id) if *id == a.id),
        "{e:?}"
    );
    store
        .insert_citizen(&citizen("000000000005", "Someone Else"), "tester", NOW)
        .await
        .unwrap();
    assert!(store
        .get_citizen("ffffffffffffffff")
        .await
        .unwrap()
        .is_none());
}

async fn issuance_allocates_fresh_indices_across_lists(store: Store) {
    let key = IssuerKey::generate();
    let c = store
        .insert_citizen(&citizen("000000000002", "Trần Hưng Đạo"), "t", NOW)
        .await
        .unwrap();
    let mut seen = Vec::new();
    for _ in 0..5 {
        let cred = store
            .issue_credential(&c.id, 2, "t", NOW, |slot| {
                signer(&key, &citizen("000000000002", "Trần Hưng Đạo"), slot)
            })
            .await
            .unwrap();
        seen.push((cred.status_list, cred.status_index));
    }
    // Lists of two entries: (1,0) (1,1) (2,0) (2,1) (3,0).
    assert_eq!(seen, [(1, 0), (1, 1), (2, 0), (2, 1), (3, 0)]);
    let creds = store.credentials_of(&c.id).await.unwrap();
    assert_eq!(creds.len(), 5);
    let one = store.get_credential(&creds[0].id).await.unwrap().unwrap();
    assert_eq!(one.status, CredentialStatus::Valid);
    let e = store
        .issue_credential("0000000000000000", 2, "t", NOW, |slot| {
            signer(&key, &citizen("000000000002", "x"), slot)
        })
        .await
        .unwrap_err();
    assert_eq!(e.kind(), "not_found");
}

async fn failed_signing_writes_nothing_and_consumes_no_index(store: Store) {
    let key = IssuerKey::generate();
    let c = store
        .insert_citizen(&citizen("000000000003", "Ngô Quyền"), "t", NOW)
        .await
        .unwrap();
    let e = store
        .issue_credential(&c.id, 10, "t", NOW, |_| Err("HSM unplugged".into()))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), "rejected");
    assert!(store.credentials_of(&c.id).await.unwrap().is_empty());
    let cred = store
        .issue_credential(&c.id, 10, "t", NOW, |slot| {
            signer(&key, &citizen("000000000003", "Ngô Quyền"), slot)
        })
        .await
        .unwrap();
    assert_eq!(
        (cred.status_list, cred.status_index),
        (1, 0),
        "the rolled-back allocation must not have consumed index 0"
    );
}

async fn status_changes_follow_the_rules_and_are_audited(store: Store) {
    let key = IssuerKey::generate();
    let c = store
        .insert_citizen(&citizen("000000000004", "Lý Thường Kiệt"), "t", NOW)
        .await
        .unwrap();
    let cred = store
        .issue_credential(&c.id, 10, "officer1", NOW, |slot| {
            signer(&key, &citizen("000000000004", "x"), slot)
        })
        .await
        .unwrap();
    let s = store
        .set_status(
            &cred.id,
            CredentialStatus::Suspended,
            "card reported lost",
            "officer1",
            NOW + 1,
        )
        .await
        .unwrap();
    assert_eq!(s.status, CredentialStatus::Suspended);
    assert_eq!(
        store
            .set_status(
                &cred.id,
                CredentialStatus::Suspended,
                "again",
                "officer1",
                NOW + 2
            )
            .await
            .unwrap_err()
            .kind(),
        "invalid_state"
    );
    store
        .set_status(
            &cred.id,
            CredentialStatus::Valid,
            "card found",
            "officer1",
            NOW + 3,
        )
        .await
        .unwrap();
    store
        .set_status(
            &cred.id,
            CredentialStatus::Revoked,
            "deceased",
            "officer2",
            NOW + 4,
        )
        .await
        .unwrap();
    assert_eq!(
        store
            .set_status(
                &cred.id,
                CredentialStatus::Valid,
                "oops",
                "officer2",
                NOW + 5
            )
            .await
            .unwrap_err()
            .kind(),
        "invalid_state"
    );
    assert_eq!(
        store
            .set_status("nope", CredentialStatus::Revoked, "x", "o", NOW)
            .await
            .unwrap_err()
            .kind(),
        "not_found"
    );
    let (size, entries) = store.status_list(cred.status_list).await.unwrap().unwrap();
    assert_eq!(size, 10);
    assert_eq!(
        entries,
        [(cred.status_index as u32, CredentialStatus::Revoked)]
    );
    assert!(store.status_list(999).await.unwrap().is_none());
    let actions: Vec<String> = store
        .audit_of(&cred.id)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.action)
        .collect();
    assert_eq!(
        actions,
        [
            "credential.issue",
            "credential.suspend",
            "credential.reinstate",
            "credential.revoke"
        ]
    );
}

async fn batch_enrolment_skips_the_already_enrolled(store: Store) {
    let key = IssuerKey::generate();
    let batch: Vec<NewCitizen> = (0..50)
        .map(|i| citizen(&format!("{:012}", 100 + i), "Hồ Xuân Hương"))
        .collect();
    let sign = |work: &[(NewCitizen, StatusSlot)]| {
        work.iter()
            .map(|(c, s)| signer(&key, c, *s))
            .collect::<Result<Vec<_>, _>>()
    };
    let first = store
        .enrol_and_issue(batch[..30].to_vec(), 1000, "bulk", NOW, sign)
        .await
        .unwrap();
    assert_eq!(
        first,
        BatchOutcome {
            issued: 30,
            skipped: 0
        }
    );
    // A re-run over everything (as after a crash) issues only the 20 missing, once each.
    let mut again = batch.clone();
    again.push(citizen("000000000100", "Duplicate In Batch"));
    let second = store
        .enrol_and_issue(again, 1000, "bulk", NOW, sign)
        .await
        .unwrap();
    assert_eq!(
        second,
        BatchOutcome {
            issued: 20,
            skipped: 31
        }
    );
    assert_eq!(
        store.census().await.unwrap(),
        Census {
            citizens: 50,
            credentials: 50,
            citizens_without_credential: 0,
            citizens_with_several: 0
        }
    );
    let (_, entries) = store.status_list(1).await.unwrap().unwrap();
    assert!(entries.is_empty());
    // A failing signer leaves nothing behind.
    let more: Vec<NewCitizen> = (0..5)
        .map(|i| citizen(&format!("{:012}", 900 + i), "X"))
        .collect();
    let e = store
        .enrol_and_issue(more.clone(), 1000, "bulk", NOW, |_| Err("boom".into()))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), "rejected");
    let third = store
        .enrol_and_issue(more, 1000, "bulk", NOW, sign)
        .await
        .unwrap();
    assert_eq!(third.issued, 5);
}

async fn officers_clients_keys_and_records(store: Store) {
    store
        .create_officer(
            "lan",
            "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA",
            Role::Issuer,
            "admin",
            NOW,
        )
        .await
        .unwrap();
    assert_eq!(
        store
            .create_officer("lan", "h", Role::Admin, "admin", NOW)
            .await
            .unwrap_err()
            .kind(),
        "conflict"
    );
    let o = store.officer("lan").await.unwrap().unwrap();
    assert_eq!(o.role, Role::Issuer);
    assert!(
        !format!("{o:?}").contains("argon2"),
        "Debug must not show the hash"
    );
    assert!(store.officer("nobody").await.unwrap().is_none());

    store
        .create_client(
            "portal-1",
            "Cổng dịch vụ công",
            &[7u8; 32],
            "{}",
            "admin",
            NOW,
        )
        .await
        .unwrap();
    let c = store.client("portal-1").await.unwrap().unwrap();
    assert_eq!(c.secret_sha256, vec![7u8; 32]);
    assert_eq!(c.name, "Cổng dịch vụ công");

    store
        .rotate_key("kid-a", "{}", None, "admin", NOW)
        .await
        .unwrap();
    store
        .rotate_key("kid-b", "{}", Some("kid-a"), "admin", NOW + 10)
        .await
        .unwrap();
    // A second rotation from the same key lost the race: nothing changes.
    let e = store
        .rotate_key("kid-c", "{}", Some("kid-a"), "admin", NOW + 11)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), "invalid_state", "{e}");
    let keys = store.issuer_keys().await.unwrap();
    assert_eq!(
        keys.iter()
            .map(|k| (k.kid.as_str(), k.state))
            .collect::<Vec<_>>(),
        [("kid-b", KeyState::Current), ("kid-a", KeyState::Previous)]
    );

    let v = |cred: &str, at| Verification {
        credential_id: Some(cred.into()),
        client_id: "portal-1".into(),
        at,
        outcome: "valid".into(),
    };
    store
        .record_verifications(&[v("c1", NOW), v("c2", NOW), v("c1", NOW + 5)])
        .await
        .unwrap();
    let rec = store.verifications_of("c1").await.unwrap();
    assert_eq!(rec, [v("c1", NOW + 5), v("c1", NOW)]);
}

async fn audit_and_verifications_are_append_only(store: Store) {
    store
        .audit(&AuditEntry {
            at: NOW,
            actor: "a".into(),
            action: "test".into(),
            subject: Some("s".into()),
            detail: "{}".into(),
        })
        .await
        .unwrap();
    let e = store.try_tamper_audit().await.unwrap_err();
    assert_eq!(e.kind(), "database", "{e}");
    assert!(
        e.to_string().contains("append-only") || format!("{e:?}").contains("append-only"),
        "{e:?}"
    );
    assert_eq!(store.audit_of("s").await.unwrap().len(), 1);
}

async fn concurrent_issuance_never_reuses_an_index(store: Store) {
    let key = std::sync::Arc::new(IssuerKey::generate());
    let mut ids = Vec::new();
    for i in 0..8 {
        ids.push(
            store
                .insert_citizen(&citizen(&format!("{:012}", 500 + i), "Song Song"), "t", NOW)
                .await
                .unwrap()
                .id,
        );
    }
    let mut tasks = Vec::new();
    for (i, id) in ids.into_iter().enumerate() {
        let store = store.clone();
        let key = key.clone();
        tasks.push(tokio::spawn(async move {
            let mut got = Vec::new();
            for _ in 0..5 {
                let mut attempt = 0;
                loop {
                    let r = store
                        .issue_credential(&id, 7, "t", NOW, |slot| {
                            signer(&key, &citizen(&format!("{:012}", 500 + i), "x"), slot)
                        })
                        .await;
                    match r {
                        Ok(c) => {
                            got.push((c.status_list, c.status_index));
                            break;
                        }
                        // PostgreSQL may refuse a racing allocation; the service retries.
                        Err(e) if e.kind() == "conflict" && attempt < 5 => attempt += 1,
                        Err(e) => panic!("{e}"),
                    }
                }
            }
            got
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let n = all.len();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), n, "an index was handed out twice");
    assert_eq!(n, 40);
}

async fn pipelined_bulk_issuance_reserves_then_inserts(store: Store) {
    let key = IssuerKey::generate();
    let batch: Vec<NewCitizen> = (0..40)
        .map(|i| citizen(&format!("{:012}", 7000 + i), "Lý Thường Kiệt"))
        .collect();
    store
        .insert_citizen(&batch[0], "officer", NOW)
        .await
        .unwrap();
    let mut with_dup = batch.clone();
    with_dup.push(batch[5].clone());
    let fresh = store.not_enrolled(with_dup).await.unwrap();
    assert_eq!(
        fresh.len(),
        39,
        "the enrolled one and the repeat are left out"
    );
    // Reserved slots are spent even if never used: a second reservation gets new ones.
    let wasted = store.reserve_slots(3, 16, NOW).await.unwrap();
    let slots = store.reserve_slots(fresh.len(), 16, NOW).await.unwrap();
    assert_eq!(slots.len(), 39);
    let mut all: Vec<(i64, u32)> = wasted
        .iter()
        .chain(&slots)
        .map(|s| (s.list, s.index))
        .collect();
    all.sort();
    all.dedup();
    assert_eq!(
        all.len(),
        42,
        "no slot handed out twice, across lists of 16"
    );
    let rows: Vec<IssuedRow> = fresh
        .into_iter()
        .zip(slots)
        .map(|(c, slot)| IssuedRow {
            credential: signer(&key, &c, slot).unwrap(),
            citizen: c,
            slot,
        })
        .collect();
    assert_eq!(store.insert_issued(&rows, "bulk", NOW).await.unwrap(), 39);
    let census = store.census().await.unwrap();
    assert_eq!((census.citizens, census.credentials), (40, 39));
    assert_eq!(census.citizens_without_credential, 1);
    // Inserting the same rows again conflicts and stores nothing more.
    assert!(matches!(
        store.insert_issued(&rows, "bulk", NOW).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(store.census().await.unwrap().credentials, 39);
    let audit = store.audit_of(&rows[0].credential.id).await.unwrap();
    assert_eq!(audit.len(), 1);
}

/// Bounds no test case here reaches unless it means to.
const WIDE: PendingLoginBounds = PendingLoginBounds {
    per_client: 1000,
    total: 1000,
};

fn new_login(id: &str, client_id: &str, at: i64) -> NewLoginTx {
    NewLoginTx {
        id: id.into(),
        client_id: client_id.into(),
        redirect_uri: "https://portal.example/cb".into(),
        scope: "openid profile".into(),
        state: Some("s".into()),
        nonce: None,
        code_challenge: "c".repeat(43),
        browser_sha256: "b".repeat(64),
        request_sha256: "r".repeat(64),
        created_at: at,
        expires_at: at + 300,
    }
}

/// Client `c1` (a portal) and a citizen with a real credential, for the login cases: the store
/// honours codes and tokens only while the login's credential is valid.
async fn portal_and_citizen(store: &Store, id_number: &str) -> (CitizenRecord, CredentialRecord) {
    store
        .create_client("c1", "Portal", &[0u8; 32], "{}", "admin", NOW)
        .await
        .unwrap();
    let person = citizen(id_number, "Lê Văn Tám");
    let citizen = store.insert_citizen(&person, "o", NOW).await.unwrap();
    let key = IssuerKey::generate();
    let cred = store
        .issue_credential(&citizen.id, 64, "o", NOW, |slot| {
            signer(&key, &person, slot)
        })
        .await
        .unwrap();
    (citizen, cred)
}

async fn login_transactions_codes_and_tokens_are_single_use(store: Store) {
    // A real credential: codes and tokens are honoured only while it is valid.
    let (citizen, cred) = portal_and_citizen(&store, "001099000001").await;
    let cred1 = cred.id.as_str();
    let tx = "0123456789abcdef0123456789abcdef";
    assert_eq!(
        store
            .create_login_tx(&new_login(tx, "c1", NOW), WIDE)
            .await
            .unwrap(),
        LoginOpened::Opened
    );
    let t = store.login_tx(tx).await.unwrap().unwrap();
    assert_eq!(t.status, LoginStatus::Pending);
    assert_eq!(t.new.state.as_deref(), Some("s"));

    // The code cannot be collected before the wallet answered.
    assert!(!store
        .complete_login(tx, &"b".repeat(64), "code1", NOW + 60)
        .await
        .unwrap());
    // An expired transaction cannot be answered.
    let late = store
        .authenticate_login(tx, &citizen.id, cred1, NOW + 301)
        .await;
    assert_eq!(late.unwrap_err().kind(), "invalid_state");
    // The first answer is accepted and recorded in the access record; a second is refused.
    store
        .authenticate_login(tx, &citizen.id, cred1, NOW + 5)
        .await
        .unwrap();
    let again = store
        .authenticate_login(tx, &citizen.id, cred1, NOW + 6)
        .await;
    assert_eq!(again.unwrap_err().kind(), "invalid_state");
    let record = store.verifications_of(cred1).await.unwrap();
    assert_eq!(record.len(), 1);
    assert_eq!(
        (record[0].outcome.as_str(), record[0].client_id.as_str()),
        ("login", "c1")
    );

    // Only the browser that opened it collects the code, once.
    assert!(!store
        .complete_login(tx, &"x".repeat(64), "code1", NOW + 66)
        .await
        .unwrap());
    assert!(store
        .complete_login(tx, &"b".repeat(64), "code1", NOW + 66)
        .await
        .unwrap());
    assert!(!store
        .complete_login(tx, &"b".repeat(64), "code2", NOW + 66)
        .await
        .unwrap());
    assert!(matches!(
        store.code_login("code2", NOW + 7).await.unwrap(),
        Redemption::Unknown
    ));

    // Redeem once; the token works; a replay revokes it.
    match store.code_login("code1", NOW + 7).await.unwrap() {
        Redemption::Redeemed(t) => assert_eq!(t.citizen_id.as_deref(), Some(citizen.id.as_str())),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        store
            .redeem_code("code1", "tok1", NOW + 600, NOW + 8)
            .await
            .unwrap(),
        Redemption::Redeemed(_)
    ));
    assert!(store.token_login("tok1", NOW + 9).await.unwrap().is_some());
    assert!(
        store
            .token_login("tok1", NOW + 601)
            .await
            .unwrap()
            .is_none(),
        "expired"
    );
    assert!(matches!(
        store
            .redeem_code("code1", "tok2", NOW + 600, NOW + 9)
            .await
            .unwrap(),
        Redemption::Replayed
    ));
    assert!(
        store.token_login("tok1", NOW + 10).await.unwrap().is_none(),
        "revoked"
    );
    assert!(
        store.token_login("tok2", NOW + 10).await.unwrap().is_none(),
        "never stored"
    );
    assert!(matches!(
        store.code_login("code1", NOW + 10).await.unwrap(),
        Redemption::Replayed
    ));

    // An expired code is unknown.
    let tx2 = "fedcba9876543210fedcba9876543210";
    assert_eq!(
        store
            .create_login_tx(&new_login(tx2, "c1", NOW), WIDE)
            .await
            .unwrap(),
        LoginOpened::Opened
    );
    store
        .authenticate_login(tx2, &citizen.id, cred1, NOW + 1)
        .await
        .unwrap();
    assert!(store
        .complete_login(tx2, &"b".repeat(64), "code3", NOW + 61)
        .await
        .unwrap());
    assert!(matches!(
        store.code_login("code3", NOW + 62).await.unwrap(),
        Redemption::Unknown
    ));
    assert!(matches!(
        store
            .redeem_code("code3", "tok3", NOW + 600, NOW + 62)
            .await
            .unwrap(),
        Redemption::Unknown
    ));

    // Failures: the fifth refused answer fails the transaction.
    let tx3 = "00000000000000000000000000000003";
    assert_eq!(
        store
            .create_login_tx(&new_login(tx3, "c1", NOW), WIDE)
            .await
            .unwrap(),
        LoginOpened::Opened
    );
    for i in 1..=5 {
        assert_eq!(store.fail_login(tx3, 5).await.unwrap(), i == 5);
    }
    assert_eq!(
        store.login_tx(tx3).await.unwrap().unwrap().status,
        LoginStatus::Failed
    );
    assert_eq!(
        store
            .authenticate_login(tx3, &citizen.id, cred1, NOW + 1)
            .await
            .unwrap_err()
            .kind(),
        "invalid_state"
    );

    // A client assertion's jti is accepted once.
    assert!(store
        .use_client_assertion("c1", "j1", NOW + 60, NOW)
        .await
        .unwrap());
    assert!(!store
        .use_client_assertion("c1", "j1", NOW + 60, NOW + 1)
        .await
        .unwrap());
    assert!(store
        .use_client_assertion("c2", "j1", NOW + 60, NOW + 1)
        .await
        .unwrap());
}

/// The id of the `n`th test login transaction (32 hex digits, as `/authorize` makes them).
fn tx_id(n: usize) -> String {
    format!("{n:032x}")
}

async fn pending_logins_are_bounded_per_client_and_in_total(store: Store) {
    for c in ["c1", "c2", "c3"] {
        store
            .create_client(c, "Portal", &[0u8; 32], "{}", "admin", NOW)
            .await
            .unwrap();
    }
    let bounds = PendingLoginBounds {
        per_client: 3,
        total: 5,
    };
    let open = |n: usize, client: &'static str, at: i64| {
        let store = store.clone();
        async move {
            store
                .create_login_tx(&new_login(&tx_id(n), client, at), bounds)
                .await
                .unwrap()
        }
    };
    for n in 0..3 {
        assert_eq!(open(n, "c1", NOW).await, LoginOpened::Opened);
    }
    // The client's bound: nothing is written.
    assert_eq!(open(3, "c1", NOW).await, LoginOpened::ClientAtLimit);
    assert!(store.login_tx(&tx_id(3)).await.unwrap().is_none());
    // Another client still opens, up to the total.
    assert_eq!(open(4, "c2", NOW).await, LoginOpened::Opened);
    assert_eq!(open(5, "c2", NOW).await, LoginOpened::Opened);
    assert_eq!(open(6, "c3", NOW).await, LoginOpened::AllAtLimit);
    assert!(store.login_tx(&tx_id(6)).await.unwrap().is_none());

    // Only pending transactions count: one answered by the wallet frees its place.
    let citizen = store
        .insert_citizen(&citizen("001099000002", "Lê Văn Tám"), "o", NOW)
        .await
        .unwrap();
    store
        .authenticate_login(&tx_id(0), &citizen.id, "cred1", NOW + 1)
        .await
        .unwrap();
    assert_eq!(open(7, "c3", NOW + 2).await, LoginOpened::Opened);
    assert_eq!(open(8, "c3", NOW + 2).await, LoginOpened::AllAtLimit);
    // So does one that expired (300 s after opening), even before it is pruned.
    assert_eq!(open(9, "c1", NOW + 301).await, LoginOpened::Opened);

    // Concurrent openings cannot pass a bound: 40 at once for a fresh client with room for 3
    // (and a total with room for more than that).
    let later = NOW + 1000;
    let wide_total = PendingLoginBounds {
        per_client: 3,
        total: 100,
    };
    let tasks: Vec<_> = (100..140)
        .map(|n| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .create_login_tx(&new_login(&tx_id(n), "c2", later), wide_total)
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut opened = 0;
    for t in tasks {
        if t.await.unwrap() == LoginOpened::Opened {
            opened += 1;
        }
    }
    assert_eq!(opened, 3);
}

async fn expired_logins_are_pruned_promptly(store: Store) {
    // A real credential: a code is redeemed only while the credential is valid.
    let (citizen, cred) = portal_and_citizen(&store, "001099000003").await;
    let (pending, failed, done) = (tx_id(1), tx_id(2), tx_id(3));
    for t in [&pending, &failed, &done] {
        assert_eq!(
            store
                .create_login_tx(&new_login(t, "c1", NOW), WIDE)
                .await
                .unwrap(),
            LoginOpened::Opened
        );
    }
    for _ in 0..5 {
        store.fail_login(&failed, 5).await.unwrap();
    }
    store
        .authenticate_login(&done, &citizen.id, &cred.id, NOW + 1)
        .await
        .unwrap();
    assert!(store
        .complete_login(&done, &"b".repeat(64), "code1", NOW + 60)
        .await
        .unwrap());
    assert!(matches!(
        store
            .redeem_code("code1", "tok1", NOW + 600, NOW + 2)
            .await
            .unwrap(),
        Redemption::Redeemed(_)
    ));
    // They expire at NOW + 300. Within the grace after that, the next opening keeps them, so a
    // waiting page still learns "expired".
    let grace_end = NOW + 300 + LOGIN_PRUNE_GRACE;
    let _ = store
        .create_login_tx(&new_login(&tx_id(4), "c1", grace_end), WIDE)
        .await
        .unwrap();
    assert!(store.login_tx(&pending).await.unwrap().is_some());
    // Past the grace: those that produced no code are gone at the next opening (they were
    // kept a day before); the completed one stays while its token may live.
    let _ = store
        .create_login_tx(&new_login(&tx_id(5), "c1", grace_end + 1), WIDE)
        .await
        .unwrap();
    assert!(store.login_tx(&pending).await.unwrap().is_none());
    assert!(store.login_tx(&failed).await.unwrap().is_none());
    assert!(store.login_tx(&done).await.unwrap().is_some());
    assert!(store
        .token_login("tok1", NOW + 599)
        .await
        .unwrap()
        .is_some());
    // A day after its expiry the completed one goes too, codes and tokens first.
    let _ = store
        .create_login_tx(&new_login(&tx_id(6), "c1", NOW + 300 + 86_401), WIDE)
        .await
        .unwrap();
    assert!(store.login_tx(&done).await.unwrap().is_none());
}

const PHC: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA";

fn new_official(username: &str) -> NewOfficial {
    NewOfficial {
        username: username.into(),
        full_name: "Nguyễn Thị Minh Khai".into(),
        title: "Chủ tịch".into(),
        agency: "UBND Phường Bến Nghé".into(),
        password_hash: PHC.into(),
        totp_sealed: b"sealed-totp-secret".to_vec(),
        key_sealed: b"sealed-signing-key".to_vec(),
        public_key: [9u8; 32],
        kid: format!("kid-of-{username}"),
    }
}

/// A certify closure: the store does not parse payloads, so a plain string will do.
fn certify(official_id: &str, slot: StatusSlot) -> Result<NewCredential, String> {
    Ok(NewCredential {
        id: qrid_credential::CredentialId::random().to_string(),
        kid: "issuer-kid".into(),
        payload: format!("SIGNER:{official_id}:{}:{}", slot.list, slot.index),
        issued_at: NOW,
        expires_at: NOW + 86_400 * 365,
    })
}

fn certify_at(at: i64) -> impl FnOnce(&str, StatusSlot) -> Result<NewCredential, String> {
    move |official_id, slot| {
        let mut c = certify(official_id, slot)?;
        c.issued_at = at;
        Ok(c)
    }
}

fn hex64(n: u64) -> String {
    format!("{n:064x}")
}

async fn officials_are_created_with_a_signer_credential(store: Store) {
    let key = IssuerKey::generate();
    // Identity and signer credentials interleave on the same lists (of 3 entries).
    let c = store
        .insert_citizen(&citizen("000000000031", "Phan Bội Châu"), "t", NOW)
        .await
        .unwrap();
    let mut slots = Vec::new();
    let issue = |store: Store, id: String| {
        let key = &key;
        async move {
            store
                .issue_credential(&id, 3, "t", NOW, |slot| {
                    signer(key, &citizen("000000000031", "x"), slot)
                })
                .await
                .unwrap()
        }
    };
    let i1 = issue(store.clone(), c.id.clone()).await;
    slots.push((i1.status_list, i1.status_index));
    let (o, sc) = store
        .create_official(&new_official("khai"), 3, "admin", NOW, certify)
        .await
        .unwrap();
    slots.push((sc.status_list, sc.status_index));
    let i2 = issue(store.clone(), c.id.clone()).await;
    slots.push((i2.status_list, i2.status_index));
    let (o2, sc2) = store
        .create_official(&new_official("tam"), 3, "admin", NOW, certify)
        .await
        .unwrap();
    slots.push((sc2.status_list, sc2.status_index));
    assert_eq!(
        slots,
        [(1, 0), (1, 1), (1, 2), (2, 0)],
        "one allocator for both kinds"
    );
    assert_eq!(o.id.len(), 16);
    assert_ne!(o.id, o2.id);
    assert_eq!(sc.official_id, o.id);
    assert_eq!(sc.status, CredentialStatus::Valid);
    assert_eq!(sc.status_changed_at, None);
    assert!(sc.payload.starts_with(&format!("SIGNER:{}:", o.id)));

    // The username is unique; a refused creation leaves no trace and spends no slot.
    let e = store
        .create_official(&new_official("khai"), 3, "admin", NOW, certify)
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::Conflict("official")), "{e:?}");
    let i3 = issue(store.clone(), c.id.clone()).await;
    assert_eq!((i3.status_list, i3.status_index), (2, 1));

    // Lookups give back what was stored; Debug shows no secret.
    let back = store.official_by_username("khai").await.unwrap().unwrap();
    assert_eq!(back.id, o.id);
    assert_eq!(back.full_name, "Nguyễn Thị Minh Khai");
    assert_eq!(back.agency, "UBND Phường Bến Nghé");
    assert_eq!(back.password_hash, PHC);
    assert_eq!(back.totp_sealed, b"sealed-totp-secret");
    assert_eq!(back.key_sealed, b"sealed-signing-key");
    assert_eq!(back.public_key, [9u8; 32]);
    assert_eq!(back.kid, "kid-of-khai");
    assert_eq!(back.totp_last_step, 0);
    assert!(!back.disabled);
    assert_eq!(back.created_at, NOW);
    let debug = format!("{back:?} {:?}", new_official("khai"));
    assert!(
        !debug.contains("argon2") && !debug.contains("sealed"),
        "{debug}"
    );
    assert_eq!(
        store.official(&o.id).await.unwrap().unwrap().username,
        "khai"
    );
    assert!(store.official("0000000000000000").await.unwrap().is_none());
    assert!(store
        .official_by_username("nobody")
        .await
        .unwrap()
        .is_none());

    // Audited, with the username and no secret.
    let audit = store.audit_of(&o.id).await.unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].action, "official.create");
    assert_eq!(audit[0].actor, "admin");
    assert!(audit[0].detail.contains("khai"));
    assert!(!audit[0].detail.contains("argon2") && !audit[0].detail.contains("sealed"));
    let audit = store.audit_of(&sc.id).await.unwrap();
    assert_eq!(
        audit.iter().map(|a| a.action.as_str()).collect::<Vec<_>>(),
        ["signer_credential.issue"]
    );

    // A further credential becomes the current one.
    assert_eq!(
        store
            .current_signer_credential(&o.id)
            .await
            .unwrap()
            .unwrap()
            .id,
        sc.id
    );
    let again = store
        .certify_official(&o.id, 3, "admin", NOW + 100, certify_at(NOW + 100))
        .await
        .unwrap();
    assert_eq!((again.status_list, again.status_index), (2, 2));
    let current = store
        .current_signer_credential(&o.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(current.id, again.id);
    assert_eq!(
        store
            .signer_credential(&sc.id)
            .await
            .unwrap()
            .unwrap()
            .official_id,
        o.id
    );
    assert!(store.signer_credential("nope").await.unwrap().is_none());
    assert!(store
        .current_signer_credential("0000000000000000")
        .await
        .unwrap()
        .is_none());
    let e = store
        .certify_official("0000000000000000", 3, "admin", NOW, certify)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), "not_found");
    // An id already naming an identity credential is refused (one id, one credential).
    let e = store
        .certify_official(&o.id, 3, "admin", NOW, |official_id, slot| {
            let mut c = certify(official_id, slot)?;
            c.id = i1.id.clone();
            Ok(c)
        })
        .await
        .unwrap_err();
    assert_eq!(e.kind(), "conflict");
}

async fn failed_certification_writes_nothing_and_consumes_no_index(store: Store) {
    let e = store
        .create_official(&new_official("lan"), 10, "admin", NOW, |_, _| {
            Err("HSM unplugged".into())
        })
        .await
        .unwrap_err();
    assert_eq!(e.kind(), "rejected");
    assert!(store.official_by_username("lan").await.unwrap().is_none());
    let (o, sc) = store
        .create_official(&new_official("lan"), 10, "admin", NOW, certify)
        .await
        .unwrap();
    assert_eq!(
        (sc.status_list, sc.status_index),
        (1, 0),
        "the rolled-back allocation must not have consumed index 0"
    );
    let e = store
        .certify_official(&o.id, 10, "admin", NOW, |_, _| Err("no".into()))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), "rejected");
    assert_eq!(
        store
            .current_signer_credential(&o.id)
            .await
            .unwrap()
            .unwrap()
            .id,
        sc.id
    );
    let next = store
        .certify_official(&o.id, 10, "admin", NOW + 1, certify_at(NOW + 1))
        .await
        .unwrap();
    assert_eq!((next.status_list, next.status_index), (1, 1));
    // Malformed input is refused before anything is written.
    let mut bad = new_official("empty");
    bad.totp_sealed.clear();
    assert_eq!(
        store
            .create_official(&bad, 10, "admin", NOW, certify)
            .await
            .unwrap_err()
            .kind(),
        "invalid_input"
    );
}

async fn totp_steps_are_accepted_once_and_only_increasing(store: Store) {
    let (o, _) = store
        .create_official(&new_official("hoa"), 10, "admin", NOW, certify)
        .await
        .unwrap();
    let step = NOW / 30;
    assert!(store.accept_totp_step(&o.id, step).await.unwrap());
    assert!(
        !store.accept_totp_step(&o.id, step).await.unwrap(),
        "replay"
    );
    assert!(
        !store.accept_totp_step(&o.id, step - 1).await.unwrap(),
        "older step after a newer one"
    );
    assert!(store.accept_totp_step(&o.id, step + 1).await.unwrap());
    assert_eq!(
        store.official(&o.id).await.unwrap().unwrap().totp_last_step,
        step + 1
    );
    assert!(!store
        .accept_totp_step("0000000000000000", step + 5)
        .await
        .unwrap());

    // Concurrent attempts at one step: exactly one wins.
    for round in 2..5 {
        let mut tasks = Vec::new();
        for _ in 0..12 {
            let store = store.clone();
            let id = o.id.clone();
            tasks.push(tokio::spawn(async move {
                store.accept_totp_step(&id, step + round).await.unwrap()
            }));
        }
        let mut wins = 0;
        for t in tasks {
            wins += usize::from(t.await.unwrap());
        }
        assert_eq!(wins, 1, "round {round}");
    }
}

async fn signing_sessions_are_limited_in_count_and_time_and_bound_to_the_official(store: Store) {
    let (a, _) = store
        .create_official(&new_official("an"), 10, "admin", NOW, certify)
        .await
        .unwrap();
    let (b, _) = store
        .create_official(&new_official("binh"), 10, "admin", NOW, certify)
        .await
        .unwrap();
    let t1 = hex64(1);
    store
        .open_signing_session(&t1, &a.id, 2, NOW + 600, NOW)
        .await
        .unwrap();
    assert_eq!(
        store
            .use_signing_session(&t1, &b.id, NOW + 1)
            .await
            .unwrap(),
        None,
        "another official's session"
    );
    assert_eq!(
        store
            .use_signing_session(&t1, &a.id, NOW + 1)
            .await
            .unwrap(),
        Some(1)
    );
    assert_eq!(
        store
            .use_signing_session(&t1, &a.id, NOW + 2)
            .await
            .unwrap(),
        Some(0)
    );
    assert_eq!(
        store
            .use_signing_session(&t1, &a.id, NOW + 3)
            .await
            .unwrap(),
        None,
        "used up"
    );
    assert_eq!(
        store
            .use_signing_session(&hex64(99), &a.id, NOW)
            .await
            .unwrap(),
        None,
        "unknown"
    );

    // Time-limited: usable strictly before expires_at.
    let t2 = hex64(2);
    store
        .open_signing_session(&t2, &a.id, 5, NOW + 600, NOW)
        .await
        .unwrap();
    assert_eq!(
        store
            .use_signing_session(&t2, &a.id, NOW + 600)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store
            .use_signing_session(&t2, &a.id, NOW + 599)
            .await
            .unwrap(),
        Some(4)
    );

    // Concurrent uses never overspend.
    let t3 = hex64(3);
    store
        .open_signing_session(&t3, &a.id, 3, NOW + 600, NOW)
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for _ in 0..10 {
        let store = store.clone();
        let (t, id) = (t3.clone(), a.id.clone());
        tasks.push(tokio::spawn(async move {
            store.use_signing_session(&t, &id, NOW + 1).await.unwrap()
        }));
    }
    let mut left = Vec::new();
    for t in tasks {
        left.extend(t.await.unwrap());
    }
    left.sort();
    assert_eq!(left, [0, 1, 2]);

    // Refusals.
    assert_eq!(
        store
            .open_signing_session(&t1, &a.id, 2, NOW + 600, NOW)
            .await
            .unwrap_err()
            .kind(),
        "conflict"
    );
    for (token, docs, exp) in [
        ("not-hex", 1, NOW + 1),
        (&hex64(0xabc).to_uppercase()[..], 1, NOW + 1),
        (&hex64(4)[..], 0, NOW + 1),
        (&hex64(4)[..], 1, NOW),
    ] {
        assert_eq!(
            store
                .open_signing_session(token, &a.id, docs, exp, NOW)
                .await
                .unwrap_err()
                .kind(),
            "invalid_input",
            "{token} {docs} {exp}"
        );
    }
    assert_eq!(
        store
            .open_signing_session(&hex64(5), "0000000000000000", 1, NOW + 60, NOW)
            .await
            .unwrap_err()
            .kind(),
        "not_found"
    );

    // Audited without the token or its digest.
    let audit = store.audit_of(&a.id).await.unwrap();
    let opens: Vec<&AuditEntry> = audit
        .iter()
        .filter(|e| e.action == "signing_session.open")
        .collect();
    assert_eq!(opens.len(), 3);
    assert_eq!(opens[0].actor, "an");
    for e in &opens {
        assert!(!e.detail.contains(&t1) && !e.detail.contains(&t2) && !e.detail.contains(&t3));
    }

    // Opening a session prunes those expired more than a day ago: t1 (expired at NOW + 600)
    // is gone by NOW + 87_001, so its digest can be opened again instead of conflicting.
    store
        .open_signing_session(&hex64(6), &b.id, 1, NOW + 90_000, NOW + 87_001)
        .await
        .unwrap();
    store
        .open_signing_session(&t1, &a.id, 1, NOW + 90_000, NOW + 87_001)
        .await
        .unwrap();
}

fn new_signature(id: &str, official: &str, cred: &str, at: i64) -> NewSignature {
    NewSignature {
        id: id.into(),
        official_id: official.into(),
        signer_credential_id: cred.into(),
        digest: hex64(at as u64),
        document_name: "quyết định.pdf".into(),
        media_type: "application/pdf".into(),
        signed_at: at,
        jws: format!("jws-{id}"),
        stamp: format!("SG:{id}"),
        pades: None,
    }
}

async fn signatures_are_append_only_and_listed_newest_first(store: Store) {
    let (a, ca) = store
        .create_official(&new_official("an"), 10, "admin", NOW, certify)
        .await
        .unwrap();
    let (b, cb) = store
        .create_official(&new_official("binh"), 10, "admin", NOW, certify)
        .await
        .unwrap();
    for i in 0..7 {
        store
            .record_signature(
                &new_signature(&format!("sig{i}"), &a.id, &ca.id, NOW + i),
                "an",
                NOW + i,
            )
            .await
            .unwrap();
    }
    store
        .record_signature(&new_signature("other", &b.id, &cb.id, NOW), "binh", NOW)
        .await
        .unwrap();
    let one = store.signature("sig3").await.unwrap().unwrap();
    assert_eq!(one, new_signature("sig3", &a.id, &ca.id, NOW + 3));
    assert!(store.signature("nope").await.unwrap().is_none());

    let ids = |v: Vec<SignatureRecord>| v.into_iter().map(|s| s.id).collect::<Vec<_>>();
    let page1 = store.signatures_of(&a.id, 3, None).await.unwrap();
    let cursor = page1.last().unwrap().signed_at;
    assert_eq!(ids(page1), ["sig6", "sig5", "sig4"]);
    let page2 = store.signatures_of(&a.id, 3, Some(cursor)).await.unwrap();
    let cursor = page2.last().unwrap().signed_at;
    assert_eq!(ids(page2), ["sig3", "sig2", "sig1"]);
    let page3 = store.signatures_of(&a.id, 3, Some(cursor)).await.unwrap();
    assert_eq!(ids(page3), ["sig0"]);
    assert_eq!(
        store.signatures_of(&a.id, 0, None).await.unwrap().len(),
        1,
        "limit clamped to at least 1"
    );
    assert_eq!(
        store.signatures_of(&a.id, 5000, None).await.unwrap().len(),
        7
    );
    assert_eq!(
        ids(store.signatures_of(&b.id, 10, None).await.unwrap()),
        ["other"]
    );

    // Audited in the same transaction.
    let audit = store.audit_of("sig3").await.unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].action, "signature.create");
    assert!(audit[0].detail.contains(&a.id) && audit[0].detail.contains(&ca.id));
    assert!(audit[0].detail.contains(&hex64((NOW + 3) as u64)));

    // Refusals: taken id, bad digest, another official's credential, unknown credential.
    let e = store
        .record_signature(&new_signature("sig3", &a.id, &ca.id, NOW), "an", NOW)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), "conflict");
    let mut bad = new_signature("bad", &a.id, &ca.id, NOW);
    bad.digest = "abc".into();
    assert_eq!(
        store
            .record_signature(&bad, "an", NOW)
            .await
            .unwrap_err()
            .kind(),
        "invalid_input"
    );
    assert_eq!(
        store
            .record_signature(&new_signature("x1", &a.id, &cb.id, NOW), "an", NOW)
            .await
            .unwrap_err()
            .kind(),
        "invalid_state"
    );
    assert_eq!(
        store
            .record_signature(&new_signature("x2", &a.id, "nope", NOW), "an", NOW)
            .await
            .unwrap_err()
            .kind(),
        "not_found"
    );
    assert!(store.signature("x1").await.unwrap().is_none());
    assert!(store.audit_of("x1").await.unwrap().is_empty());

    // Append-only.
    for delete in [false, true] {
        let e = store
            .try_tamper_signature("sig3", delete)
            .await
            .unwrap_err();
        assert_eq!(e.kind(), "database", "{e}");
        assert!(format!("{e:?}").contains("append-only"), "{e:?}");
    }
    assert_eq!(store.signature("sig3").await.unwrap().unwrap(), one);
}

async fn signer_credentials_share_the_status_api_and_lists(store: Store) {
    let key = IssuerKey::generate();
    let c = store
        .insert_citizen(&citizen("000000000061", "Võ Thị Sáu"), "t", NOW)
        .await
        .unwrap();
    let ident = store
        .issue_credential(&c.id, 10, "officer1", NOW, |slot| {
            signer(&key, &citizen("000000000061", "x"), slot)
        })
        .await
        .unwrap();
    let (o, sc) = store
        .create_official(&new_official("sau"), 10, "admin", NOW, certify)
        .await
        .unwrap();
    assert_eq!(ident.status_list, sc.status_list);

    let ch = store
        .set_status(
            &sc.id,
            CredentialStatus::Suspended,
            "key check",
            "admin",
            NOW + 5,
        )
        .await
        .unwrap();
    assert_eq!(ch.kind, CredentialKind::Signer);
    assert_eq!(ch.holder_id, o.id);
    assert_eq!(
        (ch.previous, ch.status),
        (CredentialStatus::Valid, CredentialStatus::Suspended)
    );
    let ch = store
        .set_status(
            &sc.id,
            CredentialStatus::Revoked,
            "key compromised",
            "admin",
            NOW + 10,
        )
        .await
        .unwrap();
    assert_eq!(ch.status_list, sc.status_list);
    assert_eq!(ch.status_changed_at, NOW + 10);
    let back = store.signer_credential(&sc.id).await.unwrap().unwrap();
    assert_eq!(back.status, CredentialStatus::Revoked);
    assert_eq!(back.status_reason.as_deref(), Some("key compromised"));
    assert_eq!(back.status_changed_at, Some(NOW + 10));
    assert_eq!(
        store
            .set_status(&sc.id, CredentialStatus::Valid, "oops", "admin", NOW + 11)
            .await
            .unwrap_err()
            .kind(),
        "invalid_state"
    );
    // The identity credential is untouched until changed itself, then both are listed.
    let (_, entries) = store.status_list(sc.status_list).await.unwrap().unwrap();
    assert_eq!(
        entries,
        [(sc.status_index as u32, CredentialStatus::Revoked)]
    );
    let ch = store
        .set_status(
            &ident.id,
            CredentialStatus::Suspended,
            "lost",
            "officer1",
            NOW + 12,
        )
        .await
        .unwrap();
    assert_eq!(ch.kind, CredentialKind::Identity);
    assert_eq!(ch.holder_id, c.id);
    assert_eq!(
        store
            .get_credential(&ident.id)
            .await
            .unwrap()
            .unwrap()
            .status_changed_at,
        Some(NOW + 12)
    );
    let (size, mut entries) = store.status_list(sc.status_list).await.unwrap().unwrap();
    entries.sort_by_key(|e| e.0);
    assert_eq!(size, 10);
    assert_eq!(
        entries,
        [
            (ident.status_index as u32, CredentialStatus::Suspended),
            (sc.status_index as u32, CredentialStatus::Revoked),
        ]
    );
    let actions: Vec<String> = store
        .audit_of(&sc.id)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.action)
        .collect();
    assert_eq!(
        actions,
        [
            "signer_credential.issue",
            "credential.suspend",
            "credential.revoke"
        ]
    );
    let audit = store.audit_of(&sc.id).await.unwrap();
    assert!(
        audit[2].detail.contains("\"kind\":\"signer\""),
        "{}",
        audit[2].detail
    );
    // The revoked credential stays the current one (the caller decides); a new one replaces it.
    assert_eq!(
        store
            .current_signer_credential(&o.id)
            .await
            .unwrap()
            .unwrap()
            .id,
        sc.id
    );
    let fresh = store
        .certify_official(&o.id, 10, "admin", NOW + 20, certify_at(NOW + 20))
        .await
        .unwrap();
    let cur = store
        .current_signer_credential(&o.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(cur.id, fresh.id);
    assert_eq!(cur.status, CredentialStatus::Valid);
}

async fn accounts_are_listed_disabled_enabled_and_reset(store: Store) {
    // Officers: listed by name, no hash in sight; disabling and resetting raise the epoch.
    for name in ["hoa", "an", "binh"] {
        store
            .create_officer(name, "$argon2id$fake", Role::Issuer, "t", NOW)
            .await
            .unwrap();
    }
    let list = store
        .list_accounts(AccountKind::Officer, None)
        .await
        .unwrap();
    let names: Vec<&str> = list.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["an", "binh", "hoa"]);
    assert_eq!(list[0].detail, "issuer");
    assert!(!list[0].disabled);
    let after = store
        .list_accounts(AccountKind::Officer, Some("an"))
        .await
        .unwrap();
    assert_eq!(after.len(), 2, "pages continue after the last name");
    let epoch = store.officer("an").await.unwrap().unwrap().token_epoch;
    store
        .set_account_disabled(AccountKind::Officer, "an", true, "admin", NOW + 1)
        .await
        .unwrap();
    let an = store.officer("an").await.unwrap().unwrap();
    assert!(an.disabled);
    assert_eq!(an.token_epoch, epoch + 1);
    store
        .set_account_disabled(AccountKind::Officer, "an", false, "admin", NOW + 2)
        .await
        .unwrap();
    store
        .reset_password(
            AccountKind::Officer,
            "an",
            "$argon2id$other",
            "admin",
            NOW + 3,
        )
        .await
        .unwrap();
    let an = store.officer("an").await.unwrap().unwrap();
    assert!(!an.disabled);
    assert_eq!(an.password_hash, "$argon2id$other");
    assert_eq!(an.token_epoch, epoch + 3, "enable also ends earlier tokens");
    let actions: Vec<String> = store
        .audit_of("an")
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(
        actions,
        [
            "officer.create",
            "officer.disable",
            "officer.enable",
            "officer.reset_password"
        ]
    );
    assert!(matches!(
        store
            .set_account_disabled(AccountKind::Officer, "nobody", true, "admin", NOW)
            .await,
        Err(StoreError::NotFound("officer"))
    ));
    assert!(matches!(
        store
            .reset_password(AccountKind::Client, "c_1", "x", "admin", NOW)
            .await,
        Err(StoreError::Invalid(_))
    ));

    // Clients: disabled and given a new secret.
    store
        .create_client("c_0001", "Cổng dịch vụ", &[1u8; 32], "{}", "t", NOW)
        .await
        .unwrap();
    store
        .set_account_disabled(AccountKind::Client, "c_0001", true, "admin", NOW)
        .await
        .unwrap();
    store
        .reset_client_secret("c_0001", &[2u8; 32], "admin", NOW)
        .await
        .unwrap();
    let c = store.client("c_0001").await.unwrap().unwrap();
    assert!(c.disabled);
    assert_eq!(c.secret_sha256, vec![2u8; 32]);
    let clients = store
        .list_accounts(AccountKind::Client, None)
        .await
        .unwrap();
    assert_eq!(clients[0].detail, "Cổng dịch vụ");

    // Officials: TOTP re-enrolment resets the replay counter and ends signing sessions.
    let (o, _) = store
        .create_official(&new_official("khai"), 3, "admin", NOW, certify)
        .await
        .unwrap();
    assert!(store.accept_totp_step(&o.id, 1000).await.unwrap());
    store
        .open_signing_session(&"ab".repeat(32), &o.id, 5, NOW + 600, NOW)
        .await
        .unwrap();
    store
        .reset_official_totp("khai", b"new sealed secret", "admin", NOW + 5)
        .await
        .unwrap();
    let khai = store.official(&o.id).await.unwrap().unwrap();
    assert_eq!(khai.totp_sealed, b"new sealed secret");
    assert_eq!(khai.totp_last_step, 0);
    assert_eq!(khai.token_epoch, o.token_epoch + 1);
    assert_eq!(
        store
            .use_signing_session(&"ab".repeat(32), &o.id, NOW + 6)
            .await
            .unwrap(),
        None,
        "the session opened with the old secret has ended"
    );
    let officials = store
        .list_accounts(AccountKind::Official, None)
        .await
        .unwrap();
    assert_eq!(officials[0].name, "khai");
}
