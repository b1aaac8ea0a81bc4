//! The service harness the end-to-end tests share: a throw-away database (a fresh SQLite file
//! or PostgreSQL database per test), the real `qrid serve` on a random port, HTTP through curl
//! as README.md's tour does it, and the officer and citizen set-up every service test needs.

use crate::{parts, qrid, qrid_bin, repo_root};
use qrid_store::testing::TestDatabase;
use qrid_store::Backend;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

/// The password of every officer that [`World::new`] creates.
pub const PASSWORD: &str = "correct horse battery staple";
/// The officer token secret the test servers use, so a test can forge and expire tokens.
pub const TOKEN_SECRET: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

// ----- a database that lives for one test -----

/// A fresh database for one test, dropped (PostgreSQL) or deleted (SQLite) afterwards.
pub struct Db {
    rt: tokio::runtime::Runtime,
    db: Option<TestDatabase>,
}

impl Db {
    /// Creates an empty database of this backend.
    pub fn new(backend: Backend) -> Db {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime for the database set-up");
        let db = rt
            .block_on(TestDatabase::create(backend))
            .expect("create a test database (PostgreSQL must be running for the postgres tests)");
        Db { rt, db: Some(db) }
    }
    /// Its connection URL, as `--database-url` takes it.
    pub fn url(&self) -> String {
        self.db.as_ref().map(|d| d.url.clone()).unwrap_or_default()
    }
    /// Runs `read` on a store connected to this database, then closes the store.
    fn read<T, F, Fut>(&self, read: F) -> T
    where
        F: FnOnce(qrid_store::Store) -> Fut,
        Fut: std::future::Future<Output = T>,
    {
        let url = self.url();
        self.rt.block_on(async {
            let store = qrid_store::Store::connect(&url)
                .await
                .expect("connect to the test database");
            let out = read(store.clone()).await;
            store.close().await;
            out
        })
    }
    /// Counts of what is stored, read through the store itself.
    pub fn census(&self) -> qrid_store::Census {
        self.read(|store| async move { store.census().await.expect("census of the test database") })
    }
    /// The access record of one credential id, read through the store itself (also for
    /// credentials this service did not issue, which its API does not show).
    pub fn verifications_of(&self, credential_id: &str) -> Vec<qrid_store::Verification> {
        self.read(|store| async move {
            store
                .verifications_of(credential_id)
                .await
                .expect("the access record")
        })
    }
}

impl Db {
    /// Every byte the database holds, as a dump: for SQLite the database file with its WAL
    /// and shared-memory files, for PostgreSQL the output of `pg_dump` (bytea as hex).
    pub fn dump(&self) -> Vec<u8> {
        let url = self.url();
        if let Some(path) = url.strip_prefix("sqlite:") {
            let path = path.split('?').next().unwrap_or(path);
            let mut all = Vec::new();
            for suffix in ["", "-wal", "-shm", "-journal"] {
                if let Ok(b) = std::fs::read(format!("{path}{suffix}")) {
                    all.extend_from_slice(&b);
                }
            }
            assert!(!all.is_empty(), "no SQLite database at {path}");
            all
        } else {
            let o = Command::new("pg_dump")
                .args(["--no-owner", "--dbname", &url])
                .output()
                .expect("pg_dump is installed beside PostgreSQL");
            assert!(
                o.status.success(),
                "pg_dump failed: {}",
                String::from_utf8_lossy(&o.stderr)
            );
            o.stdout
        }
    }

    /// The status list URI a stored credential's payload names (read from the signed payload
    /// itself, not from any service's configuration).
    pub fn credential_status_uri(&self, credential_id: &str) -> String {
        let payload = self.read(|store| async move {
            let identity = store
                .get_credential(credential_id)
                .await
                .expect("read the credential")
                .map(|c| c.payload);
            match identity {
                Some(p) => p,
                None => {
                    store
                        .signer_credential(credential_id)
                        .await
                        .expect("read the signer credential")
                        .unwrap_or_else(|| panic!("no credential {credential_id}"))
                        .payload
                }
            }
        });
        // Either kind: the CWT's status claim (65535) → status_list → uri.
        let bytes = qrid_credential::payload::decode(&payload).expect("a well-formed payload");
        let msg = qrid_credential::SignedMessage::parse(&bytes).expect("a COSE_Sign1");
        let claims: ciborium::Value =
            ciborium::de::from_reader(msg.payload()).expect("CBOR claims");
        let get = |v: &ciborium::Value, key: ciborium::Value| -> ciborium::Value {
            v.as_map()
                .and_then(|m| m.iter().find(|(k, _)| *k == key))
                .map(|(_, v)| v.clone())
                .unwrap_or_else(|| panic!("no {key:?} in {v:?}"))
        };
        let status = get(&claims, ciborium::Value::Integer(65535.into()));
        let list = get(&status, ciborium::Value::Text("status_list".into()));
        get(&list, ciborium::Value::Text("uri".into()))
            .as_text()
            .expect("a text uri")
            .to_owned()
    }

    /// An official's stored row, read through the store.
    pub fn official(&self, username: &str) -> qrid_store::OfficialRecord {
        self.read(|store| async move {
            store
                .official_by_username(username)
                .await
                .expect("read the official")
                .unwrap_or_else(|| panic!("no official {username}"))
        })
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        if let Some(db) = self.db.take() {
            let _ = self.rt.block_on(db.drop_database());
        }
    }
}

// ----- the service process -----

/// A running `qrid serve`, killed when dropped.
pub struct Service {
    child: Child,
    /// Where it listens, e.g. `http://127.0.0.1:40123` (also its public URL).
    pub url: String,
    log: Arc<Mutex<String>>,
}

impl Service {
    /// Starts `qrid serve` on a random port and waits until it says where it listens.
    pub fn start(db: &str, key_dir: &Path) -> Service {
        Service::start_full(db, key_dir, &[], &[], None)
    }

    /// [`Service::start`] with more `qrid serve` arguments.
    pub fn start_with(db: &str, key_dir: &Path, args: &[&str]) -> Service {
        Service::start_full(db, key_dir, args, &[], None)
    }

    /// [`Service::start`] with extra environment variables (settings such as
    /// `QRID_LOGIN_BURST`).
    ///
    /// Every test's requests come from 127.0.0.1, so the per-source limits are raised far
    /// above what any test sends unless `env` sets them: a test of those limits sets its own.
    pub fn start_with_env(db: &str, key_dir: &Path, env: &[(&str, &str)]) -> Service {
        Service::start_full(db, key_dir, &[], env, None)
    }

    /// [`Service::start`] with more flags and environment variables, and with its descriptor
    /// limit (`ulimit -n`) set to `nofile` if given.
    pub fn start_full(
        db: &str,
        key_dir: &Path,
        flags: &[&str],
        env: &[(&str, &str)],
        nofile: Option<u32>,
    ) -> Service {
        let mut cmd = match nofile {
            // The shell sets the limit and then becomes qrid (exec), so the child is qrid itself
            // and signals reach it.
            Some(n) => {
                let mut c = Command::new("bash");
                c.arg("-c")
                    .arg(format!("ulimit -n {n} && exec \"$0\" \"$@\""))
                    .arg(qrid_bin());
                c
            }
            None => Command::new(qrid_bin()),
        };
        cmd.args(["serve", "--listen", "127.0.0.1:0", "--database-url", db])
            .arg("--key-dir")
            .arg(key_dir)
            .args(flags)
            .env("QRID_TOKEN_SECRET", TOKEN_SECRET)
            .env("RUST_LOG", "info")
            .env("QRID_LOGIN_ATTEMPTS_PER_MINUTE", "60000")
            .env("QRID_LOGIN_BURST", "10000")
            .env("QRID_AUTHORIZE_PER_MINUTE", "60000")
            .env("QRID_AUTHORIZE_BURST", "10000");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd
            .current_dir(repo_root())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn qrid serve");
        let stderr = child.stderr.take().expect("stderr");
        let log = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = mpsc::channel();
        let sink = log.clone();
        // Drain stderr for the whole life of the process: a full pipe would stall the server.
        std::thread::spawn(move || {
            let mut tx = Some(tx);
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(addr) = line.strip_prefix("qrid: listening on ") {
                    let url = addr.split_whitespace().next().unwrap_or("").to_owned();
                    if let Some(tx) = tx.take() {
                        let _ = tx.send(url);
                    }
                }
                if let Ok(mut log) = sink.lock() {
                    log.push_str(&line);
                    log.push('\n');
                }
            }
        });
        let url = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(url) => url,
            Err(_) => {
                let _ = child.kill();
                let log = log.lock().map(|l| l.clone()).unwrap_or_default();
                panic!("qrid serve did not start:\n{log}");
            }
        };
        Service { child, url, log }
    }

    /// SIGTERM, and the exit code once it has shut down gracefully.
    pub fn stop(mut self) -> i32 {
        self.terminate();
        let status = self.child.wait().expect("wait for qrid serve");
        status.code().unwrap_or(-1)
    }

    /// Sends SIGTERM and returns at once.
    pub fn terminate(&self) {
        let pid = self.child.id().to_string();
        let ok = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("run kill");
        assert!(ok.success(), "kill -TERM {pid} failed");
    }

    /// The exit code, once the process has ended; panics if it is still running after `bound`
    /// (a bound only a hang exceeds, not a measure of speed).
    pub fn wait_exit(mut self, bound: Duration) -> i32 {
        let start = std::time::Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("wait for qrid serve") {
                return status.code().unwrap_or(-1);
            }
            assert!(
                start.elapsed() < bound,
                "qrid serve still running {} s after SIGTERM:\n{}",
                bound.as_secs(),
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits until the log holds `needle` (at most `bound`, which only a hang exceeds).
    pub fn wait_log(&self, needle: &str, bound: Duration) {
        let start = std::time::Instant::now();
        while !self.log().contains(needle) {
            assert!(
                start.elapsed() < bound,
                "no {needle:?} in the log after {} s:\n{}",
                bound.as_secs(),
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Everything it wrote to stderr so far.
    pub fn log(&self) -> String {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ----- HTTP through curl, as a user would -----

/// An HTTP response as curl saw it.
pub struct Resp {
    /// The status code.
    pub status: u16,
    /// The `content-type` header, or empty.
    pub content_type: String,
    /// The header block, as curl wrote it.
    pub headers: String,
    /// The body.
    pub body: Vec<u8>,
}

impl Resp {
    /// A response header's value (the last one of that name).
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .lines()
            .rev()
            .filter_map(|l| l.split_once(':'))
            .find(|(k, _)| k.trim().eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim().to_owned())
    }
    /// The body as JSON; panics with the body when it is not.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "not JSON ({e}): {} {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }
    /// Asserts a problem+json answer with this status and type, and returns it.
    pub fn problem(&self, status: u16, kind: &str) -> Value {
        let j = self.json();
        assert_eq!(self.status, status, "{j}");
        assert!(
            self.content_type.starts_with("application/problem+json"),
            "{} for {j}",
            self.content_type
        );
        assert_eq!(j["type"], format!("urn:qrid:problem:{kind}"), "{j}");
        assert_eq!(j["status"], status, "{j}");
        j
    }
}

/// What a request sends.
pub enum Body<'a> {
    /// Nothing.
    None,
    /// A JSON document.
    Json(&'a str),
    /// A file with this content type.
    Raw(&'a str, PathBuf),
    /// A multipart upload of a file as the field `image`.
    Image(PathBuf),
    /// A multipart form: each entry is a curl `-F` argument (`name=value`, `name=@file;type=…`).
    Form(Vec<String>),
}

/// How a request authenticates.
pub enum Auth<'a> {
    /// Not at all.
    None,
    /// `Authorization: Bearer`.
    Bearer(&'a str),
    /// HTTP Basic with an id and a secret.
    Basic(&'a str, &'a str),
}

/// One HTTP request through curl.
pub fn http(method: &str, url: &str, auth: Auth, body: Body) -> Resp {
    http_with(method, url, auth, body, &[])
}

/// [`http`] with extra request headers (`X-TOTP`, `X-Signing-Session`).
pub fn http_with(
    method: &str,
    url: &str,
    auth: Auth,
    body: Body,
    headers: &[(&str, &str)],
) -> Resp {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let out = dir.path().join("body");
    let head = dir.path().join("headers");
    let mut cmd = Command::new("curl");
    cmd.args(["-sS", "-X", method, "-D"]).arg(&head);
    cmd.arg("-o")
        .arg(&out)
        .args(["-w", "%{http_code}\n%{content_type}", "--max-time", "60"]);
    match auth {
        Auth::None => {}
        Auth::Bearer(t) => {
            cmd.args(["-H", &format!("authorization: Bearer {t}")]);
        }
        Auth::Basic(id, secret) => {
            cmd.args(["-u", &format!("{id}:{secret}")]);
        }
    }
    match body {
        Body::None => {}
        Body::Json(j) => {
            let f = dir.path().join("req.json");
            std::fs::write(&f, j).expect("write the request body");
            cmd.args(["-H", "content-type: application/json", "--data-binary"])
                .arg(format!("@{}", f.display()));
        }
        Body::Raw(ctype, f) => {
            cmd.args(["-H", &format!("content-type: {ctype}"), "--data-binary"])
                .arg(format!("@{}", f.display()));
        }
        Body::Image(f) => {
            cmd.arg("-F").arg(format!("image=@{}", f.display()));
        }
        Body::Form(fields) => {
            for f in fields {
                cmd.arg("-F").arg(f);
            }
        }
    }
    for (name, value) in headers {
        cmd.args(["-H", &format!("{name}: {value}")]);
    }
    cmd.arg(url);
    let o = cmd.output().expect("curl is installed");
    let meta = String::from_utf8_lossy(&o.stdout).into_owned();
    let mut lines = meta.lines();
    let status: u16 = lines.next().unwrap_or("0").trim().parse().unwrap_or(0);
    assert!(
        status != 0,
        "curl failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let content_type = lines.next().unwrap_or("").to_owned();
    let body = std::fs::read(&out).unwrap_or_default();
    let headers = std::fs::read_to_string(&head).unwrap_or_default();
    Resp {
        status,
        content_type,
        headers,
        body,
    }
}

/// Sends only a request head that announces a body (`Content-Length`, `Expect: 100-continue`)
/// and reads the answer, as a careful client of a large upload does. The body is never sent:
/// a service that refuses the declared length answers at once with its final status, where
/// one that reads first would answer `100 Continue`, which this reports as status 100.
pub fn announce(url: &str, method: &str, path: &str, headers: &[(&str, &str)]) -> Resp {
    use std::io::{Read, Write};
    let addr = url.trim_start_matches("http://").trim_end_matches('/');
    let mut tcp = std::net::TcpStream::connect(addr).expect("connect to the service");
    tcp.set_read_timeout(Some(Duration::from_secs(30)))
        .expect("set a read timeout");
    let mut head = format!("{method} {path} HTTP/1.1\r\nhost: {addr}\r\nexpect: 100-continue\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    tcp.write_all(head.as_bytes())
        .expect("send the request head");
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let split = loop {
        if let Some(i) = got.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        match tcp.read(&mut buf) {
            Ok(0) => panic!("connection closed before a response head: {got:?}"),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) => panic!("no response head ({e}): {got:?}"),
        }
    };
    let headers = String::from_utf8_lossy(&got[..split]).into_owned();
    let status = headers
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let field = |name: &str| {
        headers
            .lines()
            .filter_map(|l| l.split_once(':'))
            .find(|(k, _)| k.trim().eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim().to_owned())
    };
    let content_type = field("content-type").unwrap_or_default();
    let length: usize = field("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = got[split..].to_vec();
    while body.len() < length {
        match tcp.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => body.extend_from_slice(&buf[..n]),
        }
    }
    Resp {
        status,
        content_type,
        headers,
        body,
    }
}

/// Sends one JSON POST to `path` per body, all at once: every connection is opened first, then
/// the requests are written together, so they reach the service within a moment of each other
/// (curl processes, started one by one, would spread them out). The answers, in order.
pub fn simultaneous_posts(url: &str, path: &str, bodies: &[String]) -> Vec<Resp> {
    use std::io::{Read, Write};
    let addr = url.trim_start_matches("http://").trim_end_matches('/');
    let barrier = Arc::new(std::sync::Barrier::new(bodies.len()));
    let threads: Vec<_> = bodies
        .iter()
        .map(|body| {
            let mut tcp = std::net::TcpStream::connect(addr).expect("connect to the service");
            tcp.set_read_timeout(Some(Duration::from_secs(120)))
                .expect("set a read timeout");
            let request = format!(
                "POST {path} HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\n\
                 content-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                barrier.wait();
                tcp.write_all(request.as_bytes()).expect("send the request");
                let mut got = Vec::new();
                tcp.read_to_end(&mut got).expect("read the response");
                got
            })
        })
        .collect();
    threads
        .into_iter()
        .map(|t| {
            let got = t.join().expect("a request thread");
            let split = got
                .windows(4)
                .position(|w| w == b"\r\n\r\n")
                .map(|i| i + 4)
                .unwrap_or_else(|| panic!("no response head: {got:?}"));
            let headers = String::from_utf8_lossy(&got[..split]).into_owned();
            let status = headers
                .split_whitespace()
                .nth(1)
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            let content_type = headers
                .lines()
                .filter_map(|l| l.split_once(':'))
                .find(|(k, _)| k.trim().eq_ignore_ascii_case("content-type"))
                .map(|(_, v)| v.trim().to_owned())
                .unwrap_or_default();
            Resp {
                status,
                content_type,
                headers,
                body: got[split..].to_vec(),
            }
        })
        .collect()
}

/// The value of counter `name` on the service's `/metrics`.
pub fn metric(s: &Service, name: &str) -> u64 {
    let r = http("GET", &format!("{}/metrics", s.url), Auth::None, Body::None);
    assert_eq!(r.status, 200);
    let text = String::from_utf8_lossy(&r.body).into_owned();
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
        .unwrap_or_else(|| panic!("no counter {name} in\n{text}"))
}

// ----- setup shared by the tests -----

/// A database with officers (`alice` issuer, `audrey` auditor, `root` admin) and one
/// registered client, a key directory and a scratch directory.
pub struct World {
    /// Scratch space for the test's files.
    pub dir: tempfile::TempDir,
    /// The issuer key directory `qrid serve --key-dir` uses.
    pub key_dir: PathBuf,
    /// The database.
    pub db: Db,
    /// The client registered at creation (no redirect URI).
    pub client_id: String,
    /// Its secret.
    pub client_secret: String,
}

impl World {
    /// A fresh database with officers of each role and a registered client, made with the CLI,
    /// and a copy of the development keys (tests may rotate them).
    pub fn new(backend: Backend) -> World {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let key_dir = dir.path().join("keys");
        std::fs::create_dir_all(&key_dir).expect("create the key directory");
        // The development keys: the issuer key, and the ID token keys and pairwise secret of
        // the OpenID Connect provider.
        let dev = repo_root().join("keys-dev");
        for entry in std::fs::read_dir(&dev).expect("read keys-dev") {
            let path = entry.expect("a keys-dev entry").path();
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
            if let Some(name) = name.filter(|n| n.ends_with(".pem") || n.ends_with(".key")) {
                std::fs::copy(&path, key_dir.join(&name))
                    .unwrap_or_else(|e| panic!("copy keys-dev/{name}: {e}"));
            }
        }
        let db = Db::new(backend);
        let url = db.url();
        for (user, role) in [
            ("alice", "issuer"),
            ("audrey", "auditor"),
            ("root", "admin"),
        ] {
            create_officer(&url, user, role);
        }
        let (client_id, client_secret) = create_client(&url, "Counter 1, Xã Đông Hội", &[]);
        World {
            client_id,
            client_secret,
            dir,
            key_dir,
            db,
        }
    }
    /// Creates another officer with `qrid officer create` (password [`PASSWORD`]).
    pub fn create_officer(&self, name: &str, role: &str) {
        create_officer(&self.db.url(), name, role);
    }
    /// Registers another client with `qrid client create --name NAME ARGS…`: (id, secret).
    pub fn create_client(&self, name: &str, args: &[&str]) -> (String, String) {
        create_client(&self.db.url(), name, args)
    }
    /// Starts `qrid serve` on this database and key directory.
    pub fn start(&self) -> Service {
        Service::start(&self.db.url(), &self.key_dir)
    }
    /// [`World::start`] with extra environment variables ([`Service::start_with`]).
    pub fn start_with(&self, env: &[(&str, &str)]) -> Service {
        Service::start_with_env(&self.db.url(), &self.key_dir, env)
    }

    /// [`World::start`] with more flags and, if given, a descriptor limit.
    pub fn start_with_flags(&self, flags: &[&str], nofile: Option<u32>) -> Service {
        Service::start_full(&self.db.url(), &self.key_dir, flags, &[], nofile)
    }
    /// A path in the scratch directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
    /// HTTP Basic with the registered client.
    pub fn client(&self) -> Auth<'_> {
        Auth::Basic(&self.client_id, &self.client_secret)
    }
}

/// `qrid officer create --username NAME --role ROLE` on `database_url`, password
/// [`PASSWORD`] on stdin, never echoed.
fn create_officer(database_url: &str, name: &str, role: &str) {
    let (code, _, err) = parts(&qrid(
        &[
            "officer",
            "create",
            "--username",
            name,
            "--role",
            role,
            "--database-url",
            database_url,
        ],
        Some(format!("{PASSWORD}\n").as_bytes()),
    ));
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains(PASSWORD), "the password was echoed: {err}");
}

/// An officer's bearer token (password [`PASSWORD`]).
pub fn token(s: &Service, user: &str) -> String {
    let body = json!({"username": user, "password": PASSWORD}).to_string();
    let r = http(
        "POST",
        &format!("{}/v1/auth/token", s.url),
        Auth::None,
        Body::Json(&body),
    );
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let j = r.json();
    assert_eq!(j["token_type"], "Bearer");
    j["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("no access_token in {j}"))
        .to_owned()
}

/// Enrols a citizen (claims JSON) and returns the citizen id.
pub fn enrol(s: &Service, t: &str, citizen: &str) -> String {
    let r = http(
        "POST",
        &format!("{}/v1/citizens", s.url),
        Auth::Bearer(t),
        Body::Json(citizen),
    );
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let j = r.json();
    j["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no id in {j}"))
        .to_owned()
}

/// Issues a credential without a holder key; returns the API's answer.
pub fn issue(s: &Service, t: &str, citizen_id: &str) -> Value {
    let r = http(
        "POST",
        &format!("{}/v1/citizens/{citizen_id}/credentials", s.url),
        Auth::Bearer(t),
        Body::None,
    );
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    r.json()
}

/// Posts a payload to `/v1/verify` as the registered client and returns the verdict.
pub fn verify_payload(w: &World, s: &Service, payload: &str) -> Value {
    let body = json!({ "payload": payload }).to_string();
    let r = http(
        "POST",
        &format!("{}/v1/verify", s.url),
        w.client(),
        Body::Json(&body),
    );
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    r.json()
}

/// Issues a credential bound to a holder key (its public JWK, as `qrid wallet init` prints it);
/// returns the API's answer `{id, payload, expires_at, status_index, …}`.
pub fn issue_bound(s: &Service, t: &str, citizen_id: &str, holder_jwk: &Value) -> Value {
    let body = json!({ "holder_jwk": holder_jwk }).to_string();
    let r = http(
        "POST",
        &format!("{}/v1/citizens/{citizen_id}/credentials", s.url),
        Auth::Bearer(t),
        Body::Json(&body),
    );
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    r.json()
}

/// `qrid client create --name NAME --database-url URL ARGS…`, and its (client_id, client_secret)
/// (the secret empty when none was printed).
pub fn create_client(database_url: &str, name: &str, args: &[&str]) -> (String, String) {
    let mut all = vec![
        "client",
        "create",
        "--name",
        name,
        "--database-url",
        database_url,
    ];
    all.extend_from_slice(args);
    let (code, out, err) = parts(&qrid(&all, None));
    assert_eq!(code, 0, "qrid {all:?} failed: {err}");
    let c: Value = serde_json::from_str(out.trim())
        .unwrap_or_else(|e| panic!("qrid client create printed no JSON ({e}): {out}"));
    let id = c["client_id"]
        .as_str()
        .unwrap_or_else(|| panic!("no client_id in {c}"))
        .to_owned();
    // A private_key_jwt client may have no secret.
    let secret = c["client_secret"].as_str().unwrap_or_default().to_owned();
    (id, secret)
}
