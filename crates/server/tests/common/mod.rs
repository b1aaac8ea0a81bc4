//! The in-process harness: the real router, state and store (a throw-away SQLite file or
//! PostgreSQL database), driven with `tower::ServiceExt::oneshot` and no socket, on a
//! [`ManualClock`] that a test moves instead of sleeping. What needs the real process (signals,
//! connections, the CLI, other languages' libraries) stays in tests/tests.

#![allow(dead_code)] // Each test file uses part of the harness.

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use qrid_credential::{IssuerKey, Official};
use qrid_server::state::{AppState, Recorder};
use qrid_service::oidc::client::ClientSettings;
use qrid_service::{Config, ManualClock, Settings};
use qrid_store::testing::TestDatabase;
use qrid_store::{Backend, Role, Store};
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tower::ServiceExt;

/// Every officer's and official's password.
pub const PASSWORD: &str = "correct horse battery staple";
/// A fixed start time (2026-12-01T00:00:00Z), on a TOTP step boundary.
pub const START: i64 = 1_796_083_200;

/// A citizen as the enrolment API takes one.
pub const CITIZEN: &str = r#"{
  "id_number": "001099012345",
  "full_name": "Nguyễn Thị Minh Khai",
  "date_of_birth": "1990-01-15",
  "sex": "F",
  "nationality": "VN",
  "place_of_origin": "Xã Đông Hội, Huyện Đông Anh, Thành phố Hà Nội",
  "place_of_residence": "Số 12 Ngõ 34 Phố Nguyễn Trãi, Phường Thượng Đình, Quận Thanh Xuân, Hà Nội",
  "photo_sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
}"#;

/// The repository root (two levels above this crate).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// One service in this process: its state, router, clock and database.
pub struct App {
    /// The state the router serves.
    pub state: Arc<AppState>,
    router: Router,
    /// The service's clock: a test moves it.
    pub clock: ManualClock,
    /// A registered client's id and secret (HTTP Basic), for the verification endpoints.
    pub client: (String, String),
    recorder: Option<Recorder>,
    db: Option<TestDatabase>,
    _dir: tempfile::TempDir,
}

/// A response, read whole.
pub struct Reply {
    /// The status code.
    pub status: StatusCode,
    /// The headers.
    pub headers: axum::http::HeaderMap,
    /// The body.
    pub body: Vec<u8>,
}

impl Reply {
    /// The body as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "not JSON ({e}): {} {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    /// Asserts a problem+json of this status and kind, and returns it.
    pub fn problem(&self, status: u16, kind: &str) -> Value {
        let j = self.json();
        assert_eq!(self.status.as_u16(), status, "{j}");
        let ct = self
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        assert!(ct.starts_with("application/problem+json"), "{ct} for {j}");
        assert_eq!(j["type"], format!("urn:qrid:problem:{kind}"), "{j}");
        j
    }

    /// Asserts this status and returns the JSON body.
    pub fn ok(&self, status: u16) -> Value {
        assert_eq!(
            self.status.as_u16(),
            status,
            "{}",
            String::from_utf8_lossy(&self.body)
        );
        self.json()
    }

    /// A header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// How a request authenticates.
pub enum Auth<'a> {
    /// Not at all.
    None,
    /// `Authorization: Bearer …`.
    Bearer(&'a str),
    /// The harness's registered client, HTTP Basic.
    Client,
}

impl App {
    /// A service on a fresh database of `backend`, the development keys and a clock at
    /// [`START`], with the officer `alice` (issuer) and one client.
    pub async fn start(backend: Backend) -> App {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let key_dir = dir.path().join("keys");
        std::fs::create_dir_all(&key_dir).expect("the key directory");
        for entry in std::fs::read_dir(repo_root().join("keys-dev")).expect("read keys-dev") {
            let path = entry.expect("a keys-dev entry").path();
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
            if let Some(name) = name.filter(|n| n.ends_with(".pem") || n.ends_with(".key")) {
                std::fs::copy(&path, key_dir.join(&name)).expect("copy a development key");
            }
        }
        let db = TestDatabase::create(backend)
            .await
            .expect("a test database (PostgreSQL must be running for the postgres tests)");
        let config = Config::load(Settings {
            database_url: Some(db.url.clone()),
            key_dir: Some(key_dir),
            public_url: Some("http://qrid.test".into()),
            ..Settings::default()
        })
        .expect("the test configuration");
        let store = Store::connect(&db.url).await.expect("connect the store");
        let hash = qrid_service::passwords::hash_password(PASSWORD).expect("hash a password");
        store
            .create_officer("alice", &hash, Role::Issuer, "test", START)
            .await
            .expect("create the officer");
        let clock = ManualClock::at(START);
        let settings = ClientSettings {
            scopes: vec!["openid".into(), "profile".into()],
            ..ClientSettings::default()
        };
        let registered =
            qrid_service::oidc::client::register(&store, &clock, "Counter 1", &settings, "test")
                .await
                .expect("register a client");
        let client = (
            registered.client_id,
            registered.secret.expect("a secret").to_string(),
        );
        let (state, recorder) = AppState::with_clock(config, store, Arc::new(clock.clone()))
            .await
            .expect("the service state");
        App {
            router: qrid_server::app(state.clone()),
            state,
            clock,
            client,
            recorder: Some(recorder),
            db: Some(db),
            _dir: dir,
        }
    }

    /// Sends one request through the router, as from 127.0.0.1.
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        auth: Auth<'_>,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut req = Request::builder().method(method).uri(path);
        match auth {
            Auth::None => {}
            Auth::Bearer(t) => req = req.header(header::AUTHORIZATION, format!("Bearer {t}")),
            Auth::Client => {
                use base64::Engine;
                let basic = base64::engine::general_purpose::STANDARD
                    .encode(format!("{}:{}", self.client.0, self.client.1));
                req = req.header(header::AUTHORIZATION, format!("Basic {basic}"));
            }
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let body = match body {
            Some(v) => {
                req = req.header(header::CONTENT_TYPE, "application/json");
                Body::from(v.to_string())
            }
            None => Body::empty(),
        };
        let mut req = req.body(body).expect("a request");
        req.extensions_mut()
            .insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 40000))));
        let res = self
            .router
            .clone()
            .oneshot(req)
            .await
            .expect("the router answers");
        let (parts, body) = res.into_parts();
        let body = body
            .collect()
            .await
            .expect("the response body")
            .to_bytes()
            .to_vec();
        Reply {
            status: parts.status,
            headers: parts.headers,
            body,
        }
    }

    /// `alice`'s bearer token.
    pub async fn officer_token(&self) -> String {
        let r = self
            .call(
                "POST",
                "/v1/auth/token",
                Auth::None,
                Some(json!({"username": "alice", "password": PASSWORD})),
                &[],
            )
            .await;
        r.ok(200)["access_token"]
            .as_str()
            .expect("an access token")
            .to_owned()
    }

    /// Enrols [`CITIZEN`] and issues it a credential bound to `holder`: the credential JSON.
    pub async fn bound_credential(&self, officer: &str, holder: &IssuerKey) -> Value {
        let citizen: Value = serde_json::from_str(CITIZEN).expect("citizen JSON");
        let r = self
            .call(
                "POST",
                "/v1/citizens",
                Auth::Bearer(officer),
                Some(citizen),
                &[],
            )
            .await;
        let id = r.ok(201)["id"].as_str().expect("a citizen id").to_owned();
        let jwk = serde_json::to_value(holder.jwk()).expect("a JWK");
        self.call(
            "POST",
            &format!("/v1/citizens/{id}/credentials"),
            Auth::Bearer(officer),
            Some(json!({ "holder_jwk": jwk })),
            &[],
        )
        .await
        .ok(201)
    }

    /// Creates an official (as `qrid official create` does) and returns them with their TOTP
    /// secret.
    pub async fn official(&self, username: &str, name: &str) -> OfficialAccount {
        let kek = &self.state.kek;
        let details = Official::new(name, "Chủ tịch", "UBND Xã Đông Hội").expect("details");
        let provisioned =
            qrid_service::officials::provision(kek, username, &details, PASSWORD, "qrid test")
                .expect("provision an official");
        let issuer_key = qrid_service::keys::load_issuer_key(&self.state.config.key_dir)
            .expect("the issuer key");
        let (record, credential) = qrid_service::officials::create(
            &self.state.store,
            &self.state.config,
            &self.clock,
            &issuer_key,
            &provisioned.official,
            30,
            "test",
        )
        .await
        .expect("create the official");
        let uri = provisioned.otpauth_uri.as_str();
        let secret = uri
            .split(['?', '&'])
            .find_map(|p| p.strip_prefix("secret="))
            .expect("a secret in the otpauth URI");
        OfficialAccount {
            username: username.to_owned(),
            id: record.id,
            signer_credential_id: credential.id,
            secret: data_encoding::BASE32_NOPAD
                .decode(secret.as_bytes())
                .expect("a base32 secret"),
        }
    }

    /// The TOTP code of `o` at the clock's now plus `steps` steps.
    pub fn code(&self, o: &OfficialAccount, steps: i64) -> String {
        let step = qrid_service::totp::step_at(self.clock_now()) + steps;
        format!("{:06}", qrid_service::totp::hotp(&o.secret, step, 6))
    }

    /// The clock's now, Unix seconds.
    pub fn clock_now(&self) -> i64 {
        qrid_service::Clock::now(&self.clock)
    }

    /// An official's sign-in with this code.
    pub async fn sign_in(&self, o: &OfficialAccount, code: &str) -> Reply {
        self.call(
            "POST",
            "/v1/officials/token",
            Auth::None,
            Some(json!({"username": o.username, "password": PASSWORD, "totp": code})),
            &[],
        )
        .await
    }

    /// Writes what the recorder queued and drops the database.
    pub async fn stop(mut self) {
        if let Some(r) = self.recorder.take() {
            r.finish().await;
        }
        self.state.store.close().await;
        if let Some(db) = self.db.take() {
            db.drop_database().await.expect("drop the test database");
        }
    }
}

/// An official the harness created.
pub struct OfficialAccount {
    /// The sign-in name.
    pub username: String,
    /// The official's id.
    pub id: String,
    /// Their signer credential's id.
    pub signer_credential_id: String,
    /// The TOTP secret, as the authenticator app holds it.
    pub secret: Vec<u8>,
}

/// The hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}
