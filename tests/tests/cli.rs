//! The offline workflow of README.md, run with the real binary: keygen, issue, qr, verify.

use qrid_e2e::{parts, qrid, zbar_read, zbarimg};
use serde_json::Value;
use std::path::Path;

const CLAIMS: &str = qrid_e2e::CITIZEN_JSON;

struct Setup {
    dir: tempfile::TempDir,
}

impl Setup {
    fn new() -> Setup {
        let dir = tempfile::tempdir().unwrap();
        let s = Setup { dir };
        let (code, _, err) = parts(&qrid(&["keygen", "--out", &s.p("keys")], None));
        assert_eq!(code, 0, "{err}");
        std::fs::write(s.dir.path().join("claims.json"), CLAIMS).unwrap();
        s
    }
    fn p(&self, name: &str) -> String {
        self.dir.path().join(name).to_string_lossy().into_owned()
    }
    fn issue(&self, extra: &[&str]) -> String {
        let key = self.p("keys/issuer.key.pem");
        let claims = self.p("claims.json");
        let mut args = vec!["issue", "--key", &key, "--claims", &claims];
        args.extend_from_slice(extra);
        let (code, out, err) = parts(&qrid(&args, None));
        assert_eq!(code, 0, "{err}");
        out.trim_end().to_owned()
    }
    fn verify(&self, extra: &[&str], stdin: Option<&[u8]>) -> (i32, Vec<Value>, String) {
        let trust = self.p("keys/jwks.json");
        let mut args = vec!["verify", "--trust", &trust];
        args.extend_from_slice(extra);
        let (code, out, err) = parts(&qrid(&args, stdin));
        let verdicts = out
            .lines()
            .map(|l| serde_json::from_str(l).expect("verdict is JSON"))
            .collect();
        (code, verdicts, err)
    }
}

fn kind(v: &Value) -> &str {
    v["error"]["kind"].as_str().unwrap_or("<none>")
}

#[test]
fn keygen_writes_a_private_key_only_its_owner_can_read() {
    let s = Setup::new();
    let key = Path::new(&s.p("keys/issuer.key.pem")).to_owned();
    let pem = std::fs::read_to_string(&key).unwrap();
    assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let jwks: Value =
        serde_json::from_str(&std::fs::read_to_string(s.p("keys/jwks.json")).unwrap()).unwrap();
    assert_eq!(jwks["keys"][0]["kty"], "OKP");
    assert_eq!(jwks["keys"][0]["kid"].as_str().unwrap().len(), 43);
    assert!(
        !jwks.to_string().contains("\"d\""),
        "the JWKS must hold no private part"
    );
    // A second keygen must not silently destroy the key.
    let (code, _, err) = parts(&qrid(&["keygen", "--out", &s.p("keys")], None));
    assert_eq!(code, 2);
    assert!(err.contains("--force"), "{err}");
}

#[test]
fn issue_render_scan_verify_round_trip() {
    let s = Setup::new();
    let payload = s.issue(&[]);
    let png = s.p("id.png");
    let (code, _, err) = parts(&qrid(&["qr", "--out", &png], Some(payload.as_bytes())));
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        zbar_read(&zbarimg(), Path::new(&png)),
        payload,
        "zbarimg must read exactly the payload"
    );
    let (code, v, err) = s.verify(&["--image", &png], None);
    assert_eq!(code, 0, "{err} {v:?}");
    assert_eq!(v.len(), 1);
    assert_eq!(v[0]["valid"], true);
    assert_eq!(v[0]["claims"]["full_name"], "Nguyễn Thị Minh Khai");
    assert_eq!(
        v[0]["claims"]["place_of_origin"],
        "Xã Đông Hội, Huyện Đông Anh, Thành phố Hà Nội"
    );
    assert_eq!(v[0]["claims"]["id_number"], "001099012345");
    assert_eq!(v[0]["status"], "unchecked");
    // SVG renders too.
    let svg = s.p("id.svg");
    let (code, _, err) = parts(&qrid(
        &["qr", "--out", &svg, "--ecc", "Q", "--scale", "3"],
        Some(payload.as_bytes()),
    ));
    assert_eq!(code, 0, "{err}");
    assert!(std::fs::read_to_string(&svg).unwrap().contains("<svg"));
}

#[test]
fn tampering_another_issuer_and_time_are_refused_with_their_kinds() {
    let s = Setup::new();
    let payload = s.issue(&[]);

    // A changed signed byte (re-encoded properly, so only the signature can catch it).
    let mut cose = qrid_credential::payload::decode(&payload).unwrap();
    let at = cose
        .windows(4)
        .position(|w| w == "Minh".as_bytes())
        .expect("name in claims");
    cose[at] = b'N';
    let forged = qrid_credential::payload::encode(&cose);
    let (code, v, _) = s.verify(&["--payload", &forged], None);
    assert_eq!((code, kind(&v[0])), (1, "bad_signature"));

    // A changed character of the QR text itself.
    let mut chars: Vec<char> = payload.chars().collect();
    let mid = chars.len() / 2;
    chars[mid] = if chars[mid] == 'A' { 'B' } else { 'A' };
    let changed: String = chars.into_iter().collect();
    let (code, v, _) = s.verify(&["--payload", &changed], None);
    assert_eq!(code, 1);
    assert!(
        [
            "bad_signature",
            "decompression",
            "base45",
            "cbor",
            "cose_structure"
        ]
        .contains(&kind(&v[0])),
        "{v:?}"
    );

    // Another issuer's trust list.
    let (code, _, err) = parts(&qrid(&["keygen", "--out", &s.p("other")], None));
    assert_eq!(code, 0, "{err}");
    let other = s.p("other/jwks.json");
    let (code, out, _) = parts(&qrid(
        &["verify", "--trust", &other, "--payload", &payload],
        None,
    ));
    let v: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!((code, kind(&v)), (1, "unknown_key"));

    // Expired (valid 10 days, checked 11 days later) and not yet valid.
    let short = s.issue(&["--valid-days", "10"]);
    let now = qrid_e2e::login::now();
    let later = (now + 11 * 86_400).to_string();
    let (code, v, _) = s.verify(&["--payload", &short, "--at", &later], None);
    assert_eq!((code, kind(&v[0])), (1, "expired"));
    assert!(v[0]["credential_id"]
        .as_str()
        .is_some_and(|id| id.len() == 16));
    let earlier = (now - 3600).to_string();
    let (code, v, _) = s.verify(&["--payload", &short, "--at", &earlier], None);
    assert_eq!((code, kind(&v[0])), (1, "not_yet_valid"));
}

#[test]
fn revoked_and_suspended_indices_follow_the_status_list() {
    let s = Setup::new();
    let uri = "https://id.example.vn/s/1";
    let revoked = s.issue(&["--status-uri", uri, "--status-index", "5"]);
    let suspended = s.issue(&["--status-uri", uri, "--status-index", "6"]);
    let fine = s.issue(&["--status-uri", uri, "--status-index", "7"]);
    let key = s.p("keys/issuer.key.pem");
    let list = s.p("status.cwt");
    let (code, _, err) = parts(&qrid(
        &[
            "status-list",
            "--key",
            &key,
            "--uri",
            uri,
            "--size",
            "1000",
            "--revoked",
            "5,900",
            "--suspended",
            "6",
            "--out",
            &list,
        ],
        None,
    ));
    assert_eq!(code, 0, "{err}");
    let input = format!("{revoked}\n{suspended}\n{fine}\n");
    let (code, v, err) = s.verify(&["--status", &list], Some(input.as_bytes()));
    assert_eq!(code, 1, "{err}");
    assert_eq!(v.len(), 3);
    assert_eq!(kind(&v[0]), "revoked");
    assert_eq!(v[0]["status"], "revoked");
    assert_eq!(kind(&v[1]), "suspended");
    assert_eq!(v[2]["valid"], true);
    assert_eq!(v[2]["status"], "valid");
    // With the status list, a stale copy is refused by age.
    let (code, v, _) = s.verify(
        &[
            "--status",
            &list,
            "--payload",
            &fine,
            "--max-status-age",
            "0",
            "--at",
            &(qrid_e2e::login::now() + 60).to_string(),
        ],
        None,
    );
    assert_eq!((code, kind(&v[0])), (1, "stale_status_list"));
    // A status list signed by another issuer is refused outright (exit 2, usage/I/O).
    let (code, _, _) = parts(&qrid(&["keygen", "--out", &s.p("other")], None));
    assert_eq!(code, 0);
    let other_key = s.p("other/issuer.key.pem");
    let forged = s.p("forged.cwt");
    let (code, _, _) = parts(&qrid(
        &[
            "status-list",
            "--key",
            &other_key,
            "--uri",
            uri,
            "--size",
            "10",
            "--out",
            &forged,
        ],
        None,
    ));
    assert_eq!(code, 0);
    let (code, _, err) = s.verify(&["--status", &forged, "--payload", &fine], None);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("status list"), "{err}");
}

#[test]
fn bulk_issue_and_verify_over_stdin_keep_order_and_report_bad_lines() {
    let s = Setup::new();
    let key = s.p("keys/issuer.key.pem");
    let good = |id: &str, name: &str| {
        format!(r#"{{"id_number":"{id}","full_name":"{name}","date_of_birth":"2001-02-03"}}"#)
    };
    let input = format!(
        "{}\n{}\n{}\n",
        good("000000000001", "Lê Văn Một"),
        r#"{"id_number":"12345","full_name":"Phạm Bí Mật","date_of_birth":"2001-02-03"}"#,
        good("000000000003", "Đỗ Thị Ba")
    );
    let (code, out, err) = parts(&qrid(
        &["issue", "--key", &key, "--claims", "-"],
        Some(input.as_bytes()),
    ));
    assert_eq!(code, 1, "a bad line makes the exit code 1");
    assert!(err.contains("line 2") && err.contains("id_number"), "{err}");
    assert!(
        !err.contains("Phạm Bí Mật") && !err.contains("12345"),
        "errors must not echo personal data: {err}"
    );
    let payloads: Vec<&str> = out.lines().collect();
    assert_eq!(payloads.len(), 2);

    let stdin = format!(
        "{}\nnot base45 at all\n{}\n{}\n",
        payloads[0],
        "A".repeat(50_000),
        payloads[1]
    );
    let (code, v, _) = s.verify(&[], Some(stdin.as_bytes()));
    assert_eq!(code, 1);
    assert_eq!(v.len(), 4);
    assert_eq!(v[0]["claims"]["full_name"], "Lê Văn Một");
    assert_eq!(kind(&v[1]), "base45");
    assert_eq!(kind(&v[2]), "too_large");
    assert_eq!(v[3]["claims"]["full_name"], "Đỗ Thị Ba");

    let (code, v, _) = s.verify(
        &[],
        Some(format!("{}\n{}\n", payloads[0], payloads[1]).as_bytes()),
    );
    assert_eq!(code, 0);
    assert_eq!(v.len(), 2);
}

#[test]
fn usage_and_input_errors() {
    let s = Setup::new();
    let payload = s.issue(&[]);
    // Missing trust file: exit 2.
    let (code, _, err) = parts(&qrid(
        &[
            "verify",
            "--trust",
            &s.p("nope.json"),
            "--payload",
            &payload,
        ],
        None,
    ));
    assert_eq!(code, 2, "{err}");
    // Unknown flag: exit 2 (clap).
    let (code, _, _) = parts(&qrid(&["verify", "--frobnicate"], None));
    assert_eq!(code, 2);
    // Not an image: a verdict with the QR error kind, exit 1.
    std::fs::write(s.p("x.gif"), b"GIF89a....").unwrap();
    let (code, v, _) = s.verify(&["--image", &s.p("x.gif")], None);
    assert_eq!((code, kind(&v[0])), (1, "unsupported_image"));
    // Claims with an unknown field or broken JSON: exit 2 with the field named.
    std::fs::write(
        s.p("bad.json"),
        r#"{"id_number":"001099012345","fullname":"x","date_of_birth":"1990-01-01"}"#,
    )
    .unwrap();
    let key = s.p("keys/issuer.key.pem");
    let (code, _, err) = parts(&qrid(
        &["issue", "--key", &key, "--claims", &s.p("bad.json")],
        None,
    ));
    assert_eq!(code, 2);
    assert!(err.contains("fullname"), "{err}");
    // A key file that is not a key.
    let (code, _, err) = parts(&qrid(
        &[
            "issue",
            "--key",
            &s.p("bad.json"),
            "--claims",
            &s.p("claims.json"),
        ],
        None,
    ));
    assert_eq!(code, 2, "{err}");
    // qr with nothing on stdin.
    let (code, _, _) = parts(&qrid(&["qr", "--out", &s.p("e.png")], Some(b"")));
    assert_eq!(code, 2);
}

/// Runs `qrid serve --production` with complete settings and the key directory `keys`; returns
/// (exited with failure, stderr so far). A service that starts is stopped once it listens.
fn serve_production(keys: &Path, db: &str) -> (bool, String) {
    let mut cmd = std::process::Command::new(qrid_e2e::qrid_bin());
    cmd.args([
        "serve",
        "--production",
        "--listen",
        "127.0.0.1:0",
        "--issuer",
        "VN",
    ])
    .args(["--public-url", "https://id.example", "--database-url", db])
    .arg("--key-dir")
    .arg(keys)
    .env("QRID_TOKEN_SECRET", "ab".repeat(32));
    match start_until_listening(cmd) {
        Ok((url, mut child)) => {
            let _ = child.kill();
            let _ = child.wait();
            (false, format!("listening on {url}"))
        }
        Err(seen) => (true, seen),
    }
}

#[test]
fn production_mode_refuses_every_development_key_and_starts_with_real_ones() {
    let s = Setup::new(); // keygen: issuer key, ID token keys and pairwise secret
    let db = format!("sqlite:{}", s.p("prod.db"));
    let dev = qrid_e2e::repo_root().join("keys-dev");
    let (failed, err) = serve_production(&dev, &db);
    assert!(failed && err.contains("development"), "{err}");

    // A real issuer key with a development ID token key beside it is refused too.
    let mixed = s.dir.path().join("mixed");
    std::fs::create_dir_all(&mixed).unwrap();
    for f in [
        "issuer.key.pem",
        "oidc-es256.pem",
        "oidc-ed25519.pem",
        "pairwise.key",
    ] {
        std::fs::copy(s.dir.path().join("keys").join(f), mixed.join(f)).unwrap();
    }
    std::fs::copy(dev.join("oidc-rs256.pem"), mixed.join("oidc-rs256.pem")).unwrap();
    let (failed, err) = serve_production(&mixed, &db);
    assert!(failed && err.contains("oidc-rs256.pem"), "{err}");

    // Keys of its own: it starts.
    let (failed, err) = serve_production(&s.dir.path().join("keys"), &db);
    assert!(!failed && err.contains("listening on"), "{err}");
}

/// Starts `qrid serve` with the config file `config` (through `QRID_CONFIG`, as
/// deploy/qrid.service gives it) and the environment `env`; returns the URL it listens on, or
/// `Err` with what it wrote before it exited. A service that starts is killed by `stop`.
fn serve_with_config(
    config: &Path,
    env: &[(&str, &str)],
) -> Result<(String, std::process::Child), String> {
    let mut cmd = std::process::Command::new(qrid_e2e::qrid_bin());
    cmd.arg("serve")
        .env("QRID_CONFIG", config)
        .envs(env.iter().copied());
    start_until_listening(cmd)
}

/// Starts `cmd` (a `qrid serve`) and reads its stderr until it says where it listens: the URL
/// and the running process, or `Err` with what it wrote before it exited.
fn start_until_listening(
    mut cmd: std::process::Command,
) -> Result<(String, std::process::Child), String> {
    use std::io::{BufRead, BufReader};
    let mut child = cmd
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start qrid serve");
    let stderr = child.stderr.take().expect("stderr");
    let mut seen = String::new();
    let mut lines = BufReader::new(stderr).lines();
    for line in lines.by_ref() {
        let line = line.unwrap_or_default();
        seen.push_str(&line);
        seen.push('\n');
        if let Some(at) = line.split("listening on ").nth(1) {
            let url = at.split_whitespace().next().unwrap_or("").to_owned();
            // Keep draining stderr so that the service never blocks on a full pipe.
            std::thread::spawn(move || lines.for_each(drop));
            return Ok((url, child));
        }
    }
    let _ = child.wait();
    Err(seen)
}

/// deploy/qrid.toml, the commented sample of a production node, is a configuration the service
/// accepts as it is: only its addresses and paths are pointed at this test, and the token secret
/// comes from the environment, as deploy/qrid.service gives it. Without that secret it is
/// refused, naming only the secret.
#[test]
fn the_sample_production_configuration_starts_the_service() {
    let s = Setup::new();
    let sample = std::fs::read_to_string(qrid_e2e::repo_root().join("deploy/qrid.toml"))
        .expect("deploy/qrid.toml");
    let db = format!("sqlite:{}", s.p("deploy/qrid.db"));
    let keys = s.p("keys");
    let mut pointed = Vec::new();
    let config: String = sample
        .lines()
        .map(|line| {
            let key = line.split(" = ").next().unwrap_or("");
            let value = match key {
                "listen" => Some("127.0.0.1:0".to_owned()),
                "database_url" => Some(db.clone()),
                "key_dir" => Some(keys.clone()),
                _ => None,
            };
            match value {
                Some(v) => {
                    pointed.push(key.to_owned());
                    format!("{key} = \"{v}\"\n")
                }
                None => format!("{line}\n"),
            }
        })
        .collect();
    assert_eq!(pointed, ["listen", "database_url", "key_dir"], "{sample}");
    let path = s.dir.path().join("qrid.toml");
    std::fs::write(&path, config).unwrap();

    let err = serve_with_config(&path, &[]).expect_err("started without a token secret");
    assert!(
        err.contains("1 missing: token_secret"),
        "the sample should lack only the secret: {err}"
    );

    let (url, mut child) = serve_with_config(&path, &[("QRID_TOKEN_SECRET", &"5e".repeat(32))])
        .unwrap_or_else(|err| panic!("the sample configuration did not start: {err}"));
    let health = qrid_e2e::service::http(
        "GET",
        &format!("{url}/healthz"),
        qrid_e2e::service::Auth::None,
        qrid_e2e::service::Body::None,
    );
    let discovery = qrid_e2e::service::http(
        "GET",
        &format!("{url}/.well-known/openid-configuration"),
        qrid_e2e::service::Auth::None,
        qrid_e2e::service::Body::None,
    );
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(
        health.status,
        200,
        "{}",
        String::from_utf8_lossy(&health.body)
    );
    // Its public URL is the sample's, not the address it listens on.
    assert_eq!(discovery.json()["issuer"], "https://id.example.gov.vn");
}

/// Runs `qrid args` on a pseudo-terminal (util-linux `script`), answering each prompt in
/// `answers` once it appears; returns everything the terminal showed and the exit code.
#[cfg(unix)]
fn on_terminal(args: &[&str], answers: &[(&str, &str)]) -> (String, i32) {
    use std::io::{Read, Write};
    use std::process::{Command, Stdio};
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant};
    let mut cmd = String::from("exec");
    for a in std::iter::once(qrid_e2e::qrid_bin().to_str().unwrap()).chain(args.iter().copied()) {
        cmd.push_str(&format!(" '{}'", a.replace('\'', "'\\''")));
    }
    let mut child = Command::new("script")
        .args(["-qfec", &cmd, "/dev/null"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("util-linux script (Debian's bsdutils) is needed for the terminal tests");
    let shown = Arc::new(Mutex::new(String::new()));
    let mut out = child.stdout.take().unwrap();
    let sink = shown.clone();
    let reader = std::thread::spawn(move || {
        let mut buf = [0u8; 256];
        while let Ok(n) = out.read(&mut buf) {
            if n == 0 {
                break;
            }
            sink.lock()
                .unwrap()
                .push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    });
    let mut stdin = child.stdin.take().unwrap();
    let mut seen = 0;
    for (prompt, answer) in answers {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let text = shown.lock().unwrap().clone();
            if let Some(at) = text[seen..].find(prompt) {
                seen += at + prompt.len();
                break;
            }
            assert!(
                Instant::now() < deadline,
                "no prompt {prompt:?} in {text:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        // The prompt is printed just before the echo is turned off: give it that moment.
        std::thread::sleep(Duration::from_millis(200));
        stdin.write_all(answer.as_bytes()).unwrap();
        stdin.write_all(b"\n").unwrap();
        stdin.flush().unwrap();
    }
    let status = child.wait().unwrap();
    drop(stdin);
    reader.join().unwrap();
    let text = shown.lock().unwrap().clone();
    (text, status.code().unwrap_or(-1))
}

/// A password typed at a terminal is asked twice and never shown.
#[cfg(unix)]
#[test]
fn a_password_typed_at_a_terminal_is_not_echoed() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite:{}", dir.path().join("q.db").display());
    let secret = "correct-horse-battery";
    let (shown, code) = on_terminal(
        &[
            "officer",
            "create",
            "--username",
            "tty.user",
            "--role",
            "issuer",
            "--database-url",
            &db,
        ],
        &[
            ("Password (not shown): ", secret),
            ("Password again: ", secret),
        ],
    );
    assert_eq!(code, 0, "{shown}");
    assert!(shown.contains("officer tty.user created"), "{shown}");
    assert!(!shown.contains(secret), "the password was shown: {shown:?}");
    // Two different answers change nothing.
    let (shown, code) = on_terminal(
        &[
            "officer",
            "create",
            "--username",
            "tty.other",
            "--role",
            "issuer",
            "--database-url",
            &db,
        ],
        &[
            ("Password (not shown): ", secret),
            ("Password again: ", "another-password-1"),
        ],
    );
    assert_ne!(code, 0, "{shown}");
    assert!(shown.contains("the two passwords differ"), "{shown}");
    assert!(
        !shown.contains(secret) && !shown.contains("another-password-1"),
        "{shown:?}"
    );
}
