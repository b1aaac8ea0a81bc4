//! What the service's integration tests share: a node on a fresh database of either back end
//! (the development keys, a manual clock), officers, a client to verify with, TOTP secrets.
#![allow(dead_code)] // Each test file uses its part.

use qrid_service::{ClientId, Config, ManualClock, Officer, Service, Settings};
use qrid_store::testing::TestDatabase;
use qrid_store::{Backend, Role, Store};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// 2026-12-01T00:00:00Z.
pub const START: i64 = 1_796_083_200;
pub const PASSWORD: &str = "official password 2026";

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Runs `case` on a fresh database of `backend` (its URL), in a task of its own, so that the
/// database is dropped even when the case panics.
pub async fn run<F, Fut>(backend: Backend, case: F)
where
    F: FnOnce(String) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let db = TestDatabase::create(backend)
        .await
        .expect("a test database");
    let outcome = tokio::spawn(case(db.url.clone())).await;
    db.drop_database().await.expect("drop the test database");
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

pub struct Node {
    pub service: Service,
    pub clock: ManualClock,
    pub recorder: qrid_service::Recorder,
    _dir: tempfile::TempDir,
}

impl Node {
    pub async fn stop(self) {
        self.recorder.finish().await;
        self.service.store.close().await;
    }
}

pub async fn node(url: String) -> Node {
    let dir = tempfile::tempdir().expect("a temporary directory");
    for entry in std::fs::read_dir(repo().join("keys-dev")).expect("read keys-dev") {
        let path = entry.expect("an entry").path();
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        if let Some(name) = name.filter(|n| n.ends_with(".pem") || n.ends_with(".key")) {
            std::fs::copy(&path, dir.path().join(&name)).expect("copy a development key");
        }
    }
    let config = Config::load(Settings {
        database_url: Some(url.clone()),
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
    let store = Store::connect(&url).await.expect("connect");
    let clock = ManualClock::at(START);
    let (service, recorder) = Service::start(
        config,
        store,
        Arc::new(clock.clone()),
        Arc::new(qrid_service::events::NoEvents),
    )
    .await
    .expect("start the service");
    Node {
        service,
        clock,
        recorder,
        _dir: dir,
    }
}

pub fn officer(role: Role) -> Officer {
    Officer {
        username: format!("{}-1", role.as_str()),
        role,
    }
}

/// The TOTP secret an otpauth:// URI carries.
pub fn secret_of(uri: &str) -> Vec<u8> {
    let b32 = uri
        .split("secret=")
        .nth(1)
        .and_then(|r| r.split('&').next())
        .expect("a secret in the URI");
    data_encoding::BASE32_NOPAD
        .decode(b32.as_bytes())
        .expect("base32")
}

/// A registered client, authenticated, to verify with.
pub async fn client(s: &Service) -> ClientId {
    let r = qrid_service::oidc::client::register(
        &s.store,
        s.clock.as_ref(),
        "Counter 1",
        // A counter's settings: no redirect URI, the default scopes.
        &serde_json::from_str("{}").expect("the default settings"),
        "admin-1",
    )
    .await
    .expect("register a client");
    let secret = r.secret.expect("a client secret");
    s.authenticate_client(&r.client_id, &secret)
        .await
        .expect("authenticate")
}
