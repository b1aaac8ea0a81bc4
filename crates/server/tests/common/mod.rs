//! The in-process harness: the real router, state and store (a throw-away SQLite file or
//! PostgreSQL database), driven with `tower::ServiceExt::oneshot` and no socket, on a
//! [`ManualClock`] that a test moves instead of sleeping. What needs the real process (signals,
//! connections, the CLI, other languages' libraries) stays in tests/tests.

#![allow(dead_code)] // Each test file uses part of the harness.

pub mod wallet;

use axum::body::{Body, Bytes};
use axum::extract::ConnectInfo;
use axum::http::{header, request, Request, StatusCode};
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
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tower::ServiceExt;

/// Every officer's and official's password.
pub const PASSWORD: &str = "correct horse battery staple";
/// The officer token secret (hex, as `token_secret` takes it), so a test can forge and expire
/// tokens (as tests/src/service.rs's `TOKEN_SECRET` does for the real binary).
pub const TOKEN_SECRET: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
/// A fixed start time (2026-12-01T00:00:00Z), on a TOTP step boundary.
pub const START: i64 = 1_796_083_200;

/// A citizen as the enrolment API takes one: the end-to-end tests' own (tests/fixtures).
pub const CITIZEN: &str = include_str!("../../../../tests/fixtures/citizen.json");

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
        assert_eq!(j["status"], status, "{j}");
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
    /// HTTP Basic with this id and secret.
    Basic(&'a str, &'a str),
}

impl App {
    /// A service on a fresh database of `backend`, the development keys, the token secret
    /// [`TOKEN_SECRET`] and a clock at [`START`], with the officers `alice` (issuer), `audrey`
    /// (auditor) and `root` (admin), all with [`PASSWORD`], and one client.
    pub async fn start(backend: Backend) -> App {
        App::start_with(backend, Settings::default()).await
    }

    /// [`App::start`] with `settings` over the harness's own (what `settings` leaves `None`
    /// is the harness's, then the defaults).
    pub async fn start_with(backend: Backend, settings: Settings) -> App {
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
        let config = Config::load(settings.or(Settings {
            database_url: Some(db.url.clone()),
            key_dir: Some(key_dir),
            public_url: Some("http://qrid.test".into()),
            token_secret: Some(TOKEN_SECRET.to_owned().into()),
            // Per-source allowances above what any test sends (all requests come from one
            // address here), as the end-to-end services get; a test of those limits sets its own.
            login_attempts_per_minute: Some(60_000),
            login_burst: Some(10_000),
            authorize_per_minute: Some(60_000),
            authorize_burst: Some(10_000),
            ..Settings::default()
        }))
        .expect("the test configuration");
        let store = Store::connect(&db.url).await.expect("connect the store");
        let hash = qrid_service::passwords::hash_password(PASSWORD).expect("hash a password");
        for (username, role) in [
            ("alice", Role::Issuer),
            ("audrey", Role::Auditor),
            ("root", Role::Admin),
        ] {
            store
                .create_officer(username, &hash, role, "test", START)
                .await
                .expect("create an officer");
        }
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

    /// Sends one request through the router, as from 127.0.0.1: `body` as JSON, or none.
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        auth: Auth<'_>,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Reply {
        match body {
            Some(v) => {
                let json = v.to_string().into_bytes();
                self.call_raw(method, path, auth, Some("application/json"), json, headers)
                    .await
            }
            None => {
                self.call_raw(method, path, auth, None, Vec::new(), headers)
                    .await
            }
        }
    }

    /// Sends one request with these bytes as its body, as from 127.0.0.1. With a content type,
    /// or a body, it declares the body's `Content-Length` as an HTTP/1.1 client (curl) does;
    /// without either it sends neither header, as `curl -X POST` with no data.
    pub async fn call_raw(
        &self,
        method: &str,
        path: &str,
        auth: Auth<'_>,
        content_type: Option<&str>,
        body: Vec<u8>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut req = self.head(method, path, auth, headers);
        if let Some(ct) = content_type {
            req = req.header(header::CONTENT_TYPE, ct);
        }
        if content_type.is_some() || !body.is_empty() {
            req = req.header(header::CONTENT_LENGTH, body.len());
        }
        self.send(req.body(Body::from(body)).expect("a request"))
            .await
    }

    /// Sends a request head that declares a body (`headers` name its `content-length`) with a
    /// body that notes whether anything read it, as a careful client of a large upload
    /// (`Expect: 100-continue`) waits before it sends one: hyper writes `100 Continue` when the
    /// body is first read, so a service that refuses the declared length must answer without
    /// reading it. The reply, and whether the body was read. (What goes over the wire is
    /// tests/tests' `announce`.)
    pub async fn announce(
        &self,
        method: &str,
        path: &str,
        auth: Auth<'_>,
        headers: &[(&str, &str)],
    ) -> (Reply, bool) {
        let read = Arc::new(AtomicBool::new(false));
        let req = self
            .head(method, path, auth, headers)
            .header(header::EXPECT, "100-continue")
            .body(Body::new(Unsent(read.clone())))
            .expect("a request");
        let reply = self.send(req).await;
        (reply, read.load(Ordering::SeqCst))
    }

    /// A request head with this method, path, authentication and headers.
    fn head(
        &self,
        method: &str,
        path: &str,
        auth: Auth<'_>,
        headers: &[(&str, &str)],
    ) -> request::Builder {
        let mut req = Request::builder().method(method).uri(path);
        let basic = |id: &str, secret: &str| {
            use base64::Engine;
            let basic = base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"));
            format!("Basic {basic}")
        };
        match auth {
            Auth::None => {}
            Auth::Bearer(t) => req = req.header(header::AUTHORIZATION, format!("Bearer {t}")),
            Auth::Client => {
                req = req.header(header::AUTHORIZATION, basic(&self.client.0, &self.client.1));
            }
            Auth::Basic(id, secret) => {
                req = req.header(header::AUTHORIZATION, basic(id, secret));
            }
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        req
    }

    /// Sends a request through the router, as from 127.0.0.1, and reads the whole response.
    async fn send(&self, mut req: Request<Body>) -> Reply {
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
        self.token_of("alice").await
    }

    /// An officer's bearer token (password [`PASSWORD`]).
    pub async fn token_of(&self, username: &str) -> String {
        let r = self
            .call(
                "POST",
                "/v1/auth/token",
                Auth::None,
                Some(json!({"username": username, "password": PASSWORD})),
                &[],
            )
            .await;
        let j = r.ok(200);
        assert_eq!(j["token_type"], "Bearer", "{j}");
        j["access_token"]
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

/// A request body that was never sent: reading it notes that it was read and fails (so a
/// handler that reads it anyway answers instead of waiting).
struct Unsent(Arc<AtomicBool>);

impl http_body::Body for Unsent {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, std::io::Error>>> {
        self.0.store(true, Ordering::SeqCst);
        std::task::Poll::Ready(Some(Err(std::io::Error::other(
            "the announced body was read",
        ))))
    }
}

/// A `multipart/form-data` body with one file, as `curl -F name=@file` sends it (a file of
/// this name and content type): the content type with its boundary, and the body.
pub fn multipart(
    name: &str,
    filename: &str,
    content_type: &str,
    bytes: &[u8],
) -> (String, Vec<u8>) {
    let boundary = "------------------------qridtestboundary0123456789";
    let head = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\nContent-Type: {content_type}\r\n\r\n"
    );
    let tail = format!("\r\n--{boundary}--\r\n");
    let mut body = Vec::with_capacity(head.len() + bytes.len() + tail.len());
    body.extend_from_slice(head.as_bytes());
    body.extend_from_slice(bytes);
    body.extend_from_slice(tail.as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// The hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}
