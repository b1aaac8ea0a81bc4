//! Faults the store must survive without losing or inventing a write: a full SQLite database,
//! a second process writing the same SQLite file, and PostgreSQL going away and coming back.

use qrid_credential::CitizenInput;
use qrid_store::testing::TestDatabase;
use qrid_store::*;
use sqlx::Connection;
use std::time::Duration;

const NOW: i64 = 1_763_856_000;

fn citizen(n: usize) -> NewCitizen {
    let json = format!(
        r#"{{"id_number":"{n:012}","full_name":"Công dân {n}","date_of_birth":"1980-05-06","place_of_residence":"Số {n} Phố Huế, Hà Nội, một địa chỉ đủ dài để mỗi lần ghi chiếm chỗ"}}"#
    );
    NewCitizen {
        citizen: CitizenInput::from_json(&json)
            .unwrap()
            .to_citizen()
            .unwrap(),
    }
}

fn sqlite_path(url: &str) -> &str {
    url.strip_prefix("sqlite:").unwrap()
}

/// After `SQLITE_FULL`, every write the store acknowledges must be committed, and once space is
/// freed writes must work again, on the same store, without a restart. The database is capped
/// with `max_page_count` (no root needed); space is freed by deleting a filler table through
/// another connection, as an operator would free disk.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_sqlite_database_acknowledges_only_committed_writes_and_recovers() {
    let db = TestDatabase::create(Backend::Sqlite).await.unwrap();
    let path = sqlite_path(&db.url).to_owned();
    // Migrate, and put 256 KiB of filler in that can be deleted later to free space.
    {
        let store = db.store().await.unwrap();
        store.close().await;
        let mut raw = sqlx::SqliteConnection::connect(&db.url).await.unwrap();
        sqlx::raw_sql(
            "CREATE TABLE filler (pad BLOB); \
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 64) \
             INSERT INTO filler SELECT zeroblob(4000) FROM n;",
        )
        .execute(&mut raw)
        .await
        .unwrap();
        sqlx::raw_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&mut raw)
            .await
            .unwrap();
        raw.close().await.unwrap();
    }
    let size = std::fs::metadata(&path).unwrap().len();
    let store = Store::connect_with(
        &db.url,
        &StoreSettings::default().sqlite_max_bytes(Some(size + 96 * 1024)),
    )
    .await
    .unwrap();

    let mut acknowledged = Vec::new();
    let mut refused = 0;
    let mut n = 0;
    // Fill up, then keep writing into the full database.
    while refused < 50 {
        n += 1;
        assert!(n < 5_000, "the database never filled up");
        match store.insert_citizen(&citizen(n), "t", NOW).await {
            Ok(rec) => acknowledged.push(rec.id),
            Err(e) => {
                assert_eq!(e.kind(), "database_unavailable", "{e}");
                assert!(e.to_string().contains("full"), "{e}");
                refused += 1;
            }
        }
    }
    assert!(!acknowledged.is_empty());
    let err = store.check_writable().await.unwrap_err();
    assert_eq!(err.kind(), "database_unavailable", "{err}");

    // Free space through another connection, as an operator would; the store's writer must not
    // be holding a transaction open (a dead one would keep the write lock).
    let mut raw = sqlx::SqliteConnection::connect(&db.url).await.unwrap();
    sqlx::raw_sql("PRAGMA busy_timeout = 5000; DELETE FROM filler;")
        .execute(&mut raw)
        .await
        .expect("the writer left no transaction open, so space can be freed");
    raw.close().await.unwrap();

    store.check_writable().await.expect("writable again");
    for _ in 0..20 {
        n += 1;
        let rec = store
            .insert_citizen(&citizen(n), "t", NOW)
            .await
            .expect("writes work again once space is freed");
        acknowledged.push(rec.id);
    }
    store.close().await;

    // Every acknowledged write is there for a fresh connection.
    let fresh = Store::connect(&db.url).await.unwrap();
    for id in &acknowledged {
        assert!(
            fresh.get_citizen(id).await.unwrap().is_some(),
            "citizen {id} was acknowledged but not committed"
        );
    }
    assert_eq!(
        fresh.census().await.unwrap().citizens as usize,
        acknowledged.len()
    );
    fresh.close().await;
    db.drop_database().await.unwrap();
}

/// Two stores on one SQLite file, as the service and a CLI command are: writes that read first
/// (issuance reads the citizen) wait for the other's write lock instead of failing with
/// "database is locked".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_writers_in_two_processes_wait_for_each_other() {
    let db = TestDatabase::create(Backend::Sqlite).await.unwrap();
    let service = db.store().await.unwrap();
    let cli = Store::connect(&db.url).await.unwrap();
    let mut citizens = Vec::new();
    for n in 0..40 {
        citizens.push(
            service
                .insert_citizen(&citizen(n), "t", NOW)
                .await
                .unwrap()
                .id,
        );
    }
    let writer = tokio::spawn({
        let cli = cli.clone();
        async move {
            for n in 1000..1200 {
                cli.insert_citizen(&citizen(n), "cli", NOW).await?;
            }
            Ok::<_, StoreError>(())
        }
    });
    let key = qrid_credential::IssuerKey::generate();
    for id in &citizens {
        service
            .issue_credential(id, 1024, "t", NOW, |slot| {
                let status = qrid_credential::StatusRef::new(
                    &format!("https://id.example/s/{}", slot.list),
                    qrid_credential::StatusIndex(slot.index),
                )
                .map_err(|e| e.to_string())?;
                let cred = qrid_credential::Credential {
                    issuer: "VN".into(),
                    issued_at: NOW,
                    expires_at: NOW + 86_400,
                    not_before: None,
                    id: qrid_credential::CredentialId::random(),
                    citizen: citizen(0).citizen,
                    status: Some(status),
                    holder: None,
                };
                Ok(NewCredential {
                    id: cred.id.to_string(),
                    kid: key.kid().to_string(),
                    payload: cred
                        .sign(key.signing_key(), key.kid())
                        .map_err(|e| e.to_string())?,
                    issued_at: NOW,
                    expires_at: NOW + 86_400,
                })
            })
            .await
            .expect("issuance waits for the other writer instead of failing");
    }
    writer.await.unwrap().expect("the other writer waits too");
    assert_eq!(service.census().await.unwrap().citizens, 240);
    service.close().await;
    cli.close().await;
    db.drop_database().await.unwrap();
}

/// A TCP relay in front of PostgreSQL that the test can take down and bring back on the same
/// port, as an outage and a restart of the database server look to qrid.
struct Relay {
    port: u16,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Relay {
    async fn start(port: u16) -> Relay {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .unwrap();
        let port = listener.local_addr().unwrap().port();
        let task = tokio::spawn(async move {
            let mut conns = tokio::task::JoinSet::new();
            while let Ok((mut inbound, _)) = listener.accept().await {
                conns.spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect("127.0.0.1:5432").await
                    {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
            }
        });
        Relay {
            port,
            task: Some(task),
        }
    }
    /// Closes the listener and every relayed connection (aborting the task drops the JoinSet,
    /// which aborts the connection tasks).
    async fn stop(&mut self) {
        if let Some(t) = self.task.take() {
            t.abort();
            let _ = t.await;
        }
    }
}

/// PostgreSQL down: the store answers `Unavailable` within its acquire timeout instead of an
/// internal error, and recovers by itself when the server is back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_down_is_unavailable_fast_and_recovers() {
    let db = TestDatabase::create(Backend::Postgres).await.unwrap();
    let mut relay = Relay::start(0).await;
    let port = relay.port;
    let url = db
        .url
        .replacen("127.0.0.1:5432", &format!("127.0.0.1:{port}"), 1);
    assert_ne!(url, db.url, "the test database URL names 127.0.0.1:5432");
    let store = Store::connect_with(
        &url,
        &StoreSettings::default().acquire_timeout(Duration::from_millis(500)),
    )
    .await
    .unwrap();
    store.insert_citizen(&citizen(1), "t", NOW).await.unwrap();

    relay.stop().await;
    let started = std::time::Instant::now();
    for n in 2..5 {
        let e = store
            .insert_citizen(&citizen(n), "t", NOW)
            .await
            .unwrap_err();
        assert!(
            matches!(e, StoreError::Unavailable(Unavailable::Unreachable)),
            "{e:?}"
        );
        let e = store.ping().await.unwrap_err();
        assert_eq!(e.kind(), "database_unavailable", "{e}");
    }
    // Not a timing assertion on speed: a bound only a hang (the old 10 s per call) exceeds.
    assert!(started.elapsed() < Duration::from_secs(30));

    let _relay = Relay::start(port).await;
    let mut back = false;
    for _ in 0..50 {
        if store.insert_citizen(&citizen(10), "t", NOW).await.is_ok() {
            back = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(back, "the store reconnects once PostgreSQL is back");
    assert_eq!(store.census().await.unwrap().citizens, 2);
    store.close().await;
    db.drop_database().await.unwrap();
}

/// The SQLite database holds citizens' claims, password hashes and sealed keys: a new
/// directory and database are owner-only, and so are SQLite's side files; an existing file
/// readable by others is tightened.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_files_are_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let file = data.join("qrid.db");
    let store = Store::connect(&format!("sqlite:{}", file.display()))
        .await
        .unwrap();
    store.insert_citizen(&citizen(1), "t", NOW).await.unwrap();
    assert_eq!(mode(&data), 0o700);
    for side in ["", "-wal", "-shm"] {
        let p = std::path::PathBuf::from(format!("{}{side}", file.display()));
        assert_eq!(mode(&p), 0o600, "{}", p.display());
    }
    store.close().await;

    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let store = Store::connect(&format!("sqlite:{}", file.display()))
        .await
        .unwrap();
    assert_eq!(mode(&file), 0o600);
    store.close().await;
}

/// A database that does not exist, or a server that does not answer, is named once, with its
/// host and port, and the reason is the database's own words; no password is shown.
#[tokio::test]
async fn a_database_that_cannot_be_opened_is_named_with_its_host() {
    let admin = testing::postgres_admin_url();
    let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
    let missing = format!("{base}/qrid_no_such_database_x");
    let e = match Store::connect(&missing).await {
        Err(e) => e,
        Ok(_) => panic!("a missing database opened"),
    };
    let msg = e.to_string();
    assert_eq!(e.kind(), "database_open", "{msg}");
    assert!(
        msg.starts_with("cannot open the PostgreSQL database \"qrid_no_such_database_x\" on ")
            && msg.contains("does not exist")
            && !msg.contains("error returned from database"),
        "{msg}"
    );
    // Nothing listens on port 1: said with the host and port.
    let e = match Store::connect("postgres://someone:hunter2secret@127.0.0.1:1/qrid").await {
        Err(e) => e,
        Ok(_) => panic!("port 1 answered"),
    };
    let msg = e.to_string();
    assert!(
        msg.contains("\"qrid\" on 127.0.0.1:1") && msg.contains("is the server running"),
        "{msg}"
    );
    assert!(
        !msg.contains("hunter2secret") && !msg.contains("someone"),
        "{msg}"
    );
}
