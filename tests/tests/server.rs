//! The service end to end, as README.md's curl tour runs it: the real `qrid serve` binary on a
//! random port, the real database (a fresh SQLite file or PostgreSQL database per test), curl
//! as the HTTP client and zbarimg as the independent QR reader.

mod common;

use base64::Engine;
use qrid_e2e::service::{
    announce, enrol, http, http_with, issue, metric, simultaneous_posts, token, verify_payload,
    Auth, Body, World, PASSWORD,
};
use qrid_e2e::{parts, qrid, qrid_bin, zbar_read, zbarimg};
use qrid_store::Backend;
use serde_json::{json, Value};
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

const CITIZEN: &str = qrid_e2e::CITIZEN_JSON;

// ----- the README flow, on both databases -----

fn readme_flow(backend: Backend) {
    let w = World::new(backend);
    let s = w.start();
    assert!(
        s.log().contains("DEVELOPMENT key"),
        "the service must warn about development keys:\n{}",
        s.log()
    );
    let health = http("GET", &format!("{}/healthz", s.url), Auth::None, Body::None);
    assert_eq!(health.status, 200);
    assert_eq!(
        health.json()["database"],
        match backend {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    );

    let t = token(&s, "alice");
    let citizen_id = enrol(&s, &t, CITIZEN);
    let got = http(
        "GET",
        &format!("{}/v1/citizens/{citizen_id}", s.url),
        Auth::Bearer(&t),
        Body::None,
    );
    assert_eq!(got.status, 200);
    assert_eq!(got.json()["full_name"], "Nguyễn Thị Minh Khai");

    let cred = issue(&s, &t, &citizen_id);
    let cred_id = cred["id"].as_str().unwrap().to_owned();
    let payload = cred["payload"].as_str().unwrap().to_owned();
    assert!(cred["status_index"].is_u64() && cred["expires_at"].is_i64());

    // The PNG, read by an independent reader, is exactly the payload.
    let png = http(
        "GET",
        &format!("{}/v1/credentials/{cred_id}/qr.png?scale=4&ecc=M", s.url),
        Auth::Bearer(&t),
        Body::None,
    );
    assert_eq!(png.status, 200);
    assert_eq!(png.content_type, "image/png");
    let png_path = w.path("qr.png");
    std::fs::write(&png_path, &png.body).unwrap();
    assert_eq!(zbar_read(&zbarimg(), &png_path), payload);
    let svg = http(
        "GET",
        &format!("{}/v1/credentials/{cred_id}/qr.svg", s.url),
        Auth::Bearer(&t),
        Body::None,
    );
    assert_eq!(svg.status, 200);
    assert!(String::from_utf8_lossy(&svg.body).contains("<svg"));

    // A counter posts the photo: valid, with the name intact and the live status.
    let r = http(
        "POST",
        &format!("{}/v1/verify", s.url),
        w.client(),
        Body::Image(png_path.clone()),
    );
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let v = r.json();
    assert_eq!(v["valid"], true, "{v}");
    assert_eq!(v["status"], "valid", "{v}");
    assert_eq!(v["claims"]["full_name"], "Nguyễn Thị Minh Khai");
    assert_eq!(v["claims"]["credential_id"], cred_id.as_str());

    // Revoked: the service's own status list says so at once.
    let r = http(
        "POST",
        &format!("{}/v1/credentials/{cred_id}/revoke", s.url),
        Auth::Bearer(&t),
        Body::Json(r#"{"reason":"card reported stolen"}"#),
    );
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.json()["status"], "revoked");
    let r = http(
        "POST",
        &format!("{}/v1/verify", s.url),
        w.client(),
        Body::Image(png_path.clone()),
    );
    let v = r.json();
    assert_eq!(v["valid"], false, "{v}");
    assert_eq!(v["error"]["kind"], "revoked", "{v}");

    // The published status list and JWKS let a counter reach the same verdict offline.
    let status_uri = cred["status_uri"].as_str().unwrap();
    let list = http("GET", status_uri, Auth::None, Body::None);
    assert_eq!(list.status, 200);
    assert_eq!(list.content_type, "application/statuslist+cwt");
    let jwks = http(
        "GET",
        &format!("{}/.well-known/jwks.json", s.url),
        Auth::None,
        Body::None,
    );
    assert_eq!(jwks.status, 200);
    std::fs::write(w.path("jwks.json"), &jwks.body).unwrap();
    std::fs::write(w.path("list.cwt"), &list.body).unwrap();
    let trust = w.path("jwks.json").to_string_lossy().into_owned();
    let status = w.path("list.cwt").to_string_lossy().into_owned();
    let (code, out, _) = parts(&qrid(
        &[
            "verify",
            "--trust",
            &trust,
            "--status",
            &status,
            "--payload",
            &payload,
        ],
        None,
    ));
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("\"kind\":\"revoked\""), "{out}");

    // Graceful shutdown right after a verification: the record must not be lost.
    let before_stop = verify_payload(&w, &s, &payload);
    assert_eq!(before_stop["error"]["kind"], "revoked");
    assert_eq!(s.stop(), 0);

    // Restarted (on another port): everything is still there.
    let s = w.start();
    let t = token(&s, "alice");
    let r = http(
        "GET",
        &format!("{}/v1/credentials/{cred_id}", s.url),
        Auth::Bearer(&t),
        Body::None,
    );
    assert_eq!(r.status, 200);
    let j = r.json();
    assert_eq!(j["status"], "revoked", "{j}");
    assert_eq!(j["payload"], payload.as_str());
    let v = verify_payload(&w, &s, &payload);
    assert_eq!(v["error"]["kind"], "revoked", "{v}");
    let r = http(
        "GET",
        &format!("{}/v1/credentials/{cred_id}/verifications", s.url),
        Auth::Bearer(&t),
        Body::None,
    );
    let rows = r.json()["verifications"].as_array().unwrap().clone();
    // valid (image), revoked (image), revoked (payload, just before the stop); the one after the
    // restart may still be in its batch.
    let outcomes: Vec<&str> = rows.iter().filter_map(|r| r["outcome"].as_str()).collect();
    assert!(
        outcomes.iter().filter(|o| **o == "revoked").count() >= 2 && outcomes.contains(&"valid"),
        "{outcomes:?}"
    );
    assert!(rows.iter().all(|r| r["client_id"] == w.client_id.as_str()));
    let log = s.log();
    assert!(!log.contains("Nguyễn"), "a name reached the log");
    assert!(
        !log.contains("001099012345"),
        "an id number reached the log"
    );
    assert!(!log.contains(&t), "a token reached the log");
    assert_eq!(s.stop(), 0);
}

#[test]
fn readme_flow_on_sqlite() {
    readme_flow(Backend::Sqlite);
}

#[test]
fn readme_flow_on_postgres() {
    readme_flow(Backend::Postgres);
}

// ----- hostile and mistaken input -----

/// The refusals of hostile and mistaken input (malformed, mistyped and oversized bodies, wrong
/// content types, images without a QR code, unknown ids, forged and expired tokens, wrong
/// roles, password guessing, status changes against the rules), each a 4xx problem and never a
/// 5xx, moved to the in-process test of the same name in crates/server/tests/refusals.rs, with
/// the helpers only they used (forging tokens, the QR-less PNG). It runs the same router, state
/// and SQLite database without a process, a port or curl.
///
/// What stays here needs the real binary: a declared length over the limit answered on the
/// wire with the final 413 rather than `100 Continue` (hyper's connection writes that, in
/// `qrid_server::serve`'s accept loop, which the router alone does not have), the service's
/// log (no panic, no password), and the process still up and stopping cleanly after it all.
#[test]
fn bad_input_is_a_4xx_problem_never_a_5xx() {
    let w = World::new(Backend::Sqlite);
    let s = w.start();
    let u = &s.url;
    let t = token(&s, "alice");

    // A declared length over the limit is refused before the body is sent: the answer is the
    // final 413, not `100 Continue`, so a careful client never uploads the bytes at all.
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD
            .encode(format!("{}:{}", w.client_id, w.client_secret))
    );
    let officer = format!("Bearer {t}");
    for (path, auth, ctype, length) in [
        ("/v1/citizens", officer.as_str(), "application/json", 65_537),
        ("/v1/verify", basic.as_str(), "application/json", 65_537),
        (
            "/v1/verify",
            basic.as_str(),
            "multipart/form-data; boundary=b",
            10 * 1024 * 1024 + 1,
        ),
    ] {
        let length = length.to_string();
        announce(
            u,
            "POST",
            path,
            &[
                ("authorization", auth),
                ("content-type", ctype),
                ("content-length", &length),
            ],
        )
        .problem(413, "body_too_large");
    }
    // A wrong password, which must not reach the log either.
    let wrong = json!({"username": "alice", "password": "not the password"}).to_string();
    http(
        "POST",
        &format!("{u}/v1/auth/token"),
        Auth::None,
        Body::Json(&wrong),
    )
    .problem(401, "unauthorized");

    // Nothing above was a server error, and the server is still up.
    let metrics = http("GET", &format!("{u}/metrics"), Auth::None, Body::None);
    let text = String::from_utf8_lossy(&metrics.body).into_owned();
    let five = text
        .lines()
        .find(|l| l.starts_with("qrid_http_responses_5xx_total "))
        .unwrap_or_else(|| panic!("no 5xx counter in\n{text}"));
    assert!(five.trim_end().ends_with(" 0"), "{five}");
    let log = s.log();
    assert!(!log.contains("panicked"), "{log}");
    assert!(!log.contains(PASSWORD) && !log.contains("not the password"));
    assert_eq!(s.stop(), 0);
}

// ----- password guessing: lockout and per-source limits -----

#[test]
fn concurrent_password_guesses_cannot_outrun_the_lockout() {
    let w = World::new(Backend::Sqlite);
    let s = w.start();
    let checks_before = metric(&s, "qrid_password_checks_total");
    // 120 wrong guesses for one username, all at once: each is counted before its password is
    // checked, so only the first five are checked and the rest are refused while locked.
    let guesses: Vec<String> = (0..120)
        .map(|i| json!({"username": "alice", "password": format!("wrong guess {i}")}).to_string())
        .collect();
    let answers = simultaneous_posts(&s.url, "/v1/auth/token", &guesses);
    let checked = answers.iter().filter(|r| r.status == 401).count();
    assert!(
        (1..=5).contains(&checked),
        "{checked} of 120 simultaneous guesses had their password checked (limit 5)"
    );
    for r in answers.iter().filter(|r| r.status != 401) {
        r.problem(429, "too_many_attempts");
    }
    assert_eq!(
        metric(&s, "qrid_password_checks_total") - checks_before,
        checked as u64
    );
    // Then the right password, still locked out: refused without being checked.
    let right = json!({"username": "alice", "password": PASSWORD}).to_string();
    let r = &simultaneous_posts(&s.url, "/v1/auth/token", std::slice::from_ref(&right))[0];
    r.problem(429, "too_many_attempts");
    let wait: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert_eq!(
        metric(&s, "qrid_password_checks_total") - checks_before,
        checked as u64
    );
    assert!(wait >= 1, "Retry-After {wait}");
    // That the right password works once the lock has run out is tested on a manual clock:
    // crates/server/tests/clocked.rs.
}

#[test]
fn one_source_is_rate_limited_across_officer_and_official_logins_and_authorize() {
    let w = World::new(Backend::Sqlite);
    let redirect = "http://127.0.0.1:9/cb";
    let (portal, _) = w.create_client("Portal", &["--redirect-uri", redirect, "--scope", "openid"]);
    // A refill of one a minute: nothing comes back within the test.
    let s = w.start_with(&[
        ("QRID_LOGIN_ATTEMPTS_PER_MINUTE", "1"),
        ("QRID_LOGIN_BURST", "3"),
        ("QRID_AUTHORIZE_PER_MINUTE", "1"),
        ("QRID_AUTHORIZE_BURST", "2"),
    ]);
    let u = &s.url;
    let post = |path: &str, body: Value| {
        http(
            "POST",
            &format!("{u}{path}"),
            Auth::None,
            Body::Json(&body.to_string()),
        )
    };
    // Three different usernames (no lockout is near): each is checked and refused.
    for user in ["nobody-1", "nobody-2", "nobody-3"] {
        post(
            "/v1/auth/token",
            json!({"username": user, "password": "a guess at it"}),
        )
        .problem(401, "unauthorized");
    }
    // The fourth from the same address, an officer's or an official's, right or wrong, is
    // refused before anything is checked.
    let limited = [
        post(
            "/v1/auth/token",
            json!({"username": "nobody-4", "password": "a guess at it"}),
        ),
        post(
            "/v1/officials/token",
            json!({"username": "nobody-5", "password": "a guess at it", "totp": "123456"}),
        ),
        post(
            "/v1/auth/token",
            json!({"username": "alice", "password": PASSWORD}),
        ),
    ];
    for r in &limited {
        r.problem(429, "rate_limited");
        let secs: u64 = r.header("retry-after").unwrap().parse().unwrap();
        assert!((1..=60).contains(&secs), "{secs}");
    }
    assert_eq!(metric(&s, "qrid_password_checks_total"), 3);

    // /authorize has an allowance of its own.
    let (_, challenge) = qrid_e2e::login::pkce_pair();
    let url = qrid_e2e::login::Authorize {
        base: u,
        client_id: &portal,
        redirect_uri: redirect,
        scope: "openid",
        state: "s",
        nonce: "n",
        code_challenge: &challenge,
    }
    .url();
    for _ in 0..2 {
        let r = http("GET", &url, Auth::None, Body::None);
        assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    }
    let r = http("GET", &url, Auth::None, Body::None);
    r.problem(429, "rate_limited");
    assert!(r.header("retry-after").is_some());
    assert_eq!(metric(&s, "qrid_rate_limited_total"), 4);
}

// ----- the audit trail fails closed -----

/// Every officer action goes to the audit table; a login it cannot record hands out no token.
#[test]
fn a_login_the_audit_table_cannot_record_hands_out_no_token() {
    let w = World::new(Backend::Sqlite);
    let s = w.start();
    let url = w.db.url();
    common::refuse_audit(&url, "officer.login");
    let body = json!({"username": "alice", "password": PASSWORD}).to_string();
    let r = http(
        "POST",
        &format!("{}/v1/auth/token", s.url),
        Auth::None,
        Body::Json(&body),
    );
    let p = r.problem(500, "internal");
    assert!(p.get("access_token").is_none(), "{p}");
    common::allow_audit(&url);
    token(&s, "alice");
    assert_eq!(s.stop(), 0);
}

// ----- key rotation -----

#[test]
fn rotated_keys_keep_old_credentials_verifying() {
    let w = World::new(Backend::Sqlite);
    let s = w.start();
    let t = token(&s, "alice");
    let old = issue(&s, &t, &enrol(&s, &t, CITIZEN));
    let old_payload = old["payload"].as_str().unwrap().to_owned();
    assert_eq!(s.stop(), 0);

    let key_dir = w.key_dir.to_string_lossy().into_owned();
    let (code, _, err) = parts(&qrid(
        &[
            "key",
            "rotate",
            "--key-dir",
            &key_dir,
            "--database-url",
            &w.db.url(),
        ],
        None,
    ));
    assert_eq!(code, 0, "{err}");

    let s = w.start();
    assert!(
        !s.log().contains("DEVELOPMENT key"),
        "the rotated key is not the development key"
    );
    let t = token(&s, "alice");
    let other = CITIZEN.replace("001099012345", "001099099999");
    let new = issue(&s, &t, &enrol(&s, &t, &other));
    let jwks = http(
        "GET",
        &format!("{}/.well-known/jwks.json", s.url),
        Auth::None,
        Body::None,
    )
    .json();
    let kids: Vec<&str> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|k| k["kid"].as_str())
        .collect();
    assert_eq!(kids.len(), 2, "{jwks}");
    let v_old = verify_payload(&w, &s, &old_payload);
    let v_new = verify_payload(&w, &s, new["payload"].as_str().unwrap());
    assert_eq!(v_old["valid"], true, "{v_old}");
    assert_eq!(v_new["valid"], true, "{v_new}");
    assert_ne!(
        v_old["kid"], v_new["kid"],
        "new credentials use the new key"
    );
    assert!(kids.contains(&v_old["kid"].as_str().unwrap()));
    assert!(kids.contains(&v_new["kid"].as_str().unwrap()));
    assert_eq!(s.stop(), 0);
}

// ----- bulk issuance -----

fn citizens_csv(path: &Path, n: usize) {
    let mut out = String::from("id_number,full_name,date_of_birth,sex,place_of_residence\n");
    for i in 0..n {
        out.push_str(&format!(
            "{:012},Trần Văn Số {i},1985-03-0{},M,\"Số {i}, Phố Huế, Hà Nội\"\n",
            500_000_000_000u64 + i as u64,
            1 + i % 9
        ));
    }
    std::fs::write(path, out).unwrap();
}

#[test]
fn bulk_issue_killed_halfway_then_rerun_issues_each_citizen_once() {
    let w = World::new(Backend::Sqlite);
    let input = w.path("citizens.csv");
    let n = 20_000;
    citizens_csv(&input, n);
    let url = w.db.url();
    let key_dir = w.key_dir.to_string_lossy().into_owned();
    let args = [
        "bulk-issue",
        "--database-url",
        &url,
        "--input",
        input.to_str().unwrap(),
        "--key-dir",
        &key_dir,
        "--batch",
        "200",
        "--quiet",
    ];
    // Kill the first run once some batches have landed.
    let mut child = Command::new(qrid_bin())
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut killed_at = None;
    for _ in 0..400 {
        std::thread::sleep(Duration::from_millis(25));
        let c = w.db.census();
        if c.credentials > 0 {
            killed_at = Some(c.credentials);
            break;
        }
    }
    let _ = child.kill();
    let status = child.wait().unwrap();
    let mut err = String::new();
    let _ = child.stderr.take().unwrap().read_to_string(&mut err);
    let killed_at = killed_at.unwrap_or_else(|| panic!("nothing issued in 10 s: {err}"));
    let mid = w.db.census();
    assert_eq!(mid.citizens, mid.credentials, "a batch landed half-way");
    assert_eq!(mid.citizens_without_credential, 0);
    assert!(
        !status.success() && (mid.credentials as usize) < n,
        "the run finished before it could be killed ({killed_at} seen); raise n"
    );

    // The rerun skips who is done and issues the rest; a third run issues nothing.
    let (code, _, err) = parts(&qrid(&args, None));
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains(&format!("{} already enrolled", mid.citizens)),
        "{err}"
    );
    let (code, _, err) = parts(&qrid(&args, None));
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains(&format!("0 issued, {n} already enrolled")),
        "{err}"
    );
    let c = w.db.census();
    assert_eq!(c.citizens as usize, n);
    assert_eq!(c.credentials as usize, n);
    assert_eq!(c.citizens_without_credential, 0);
    assert_eq!(c.citizens_with_several, 0);

    // The service serves what bulk-issue wrote.
    let s = w.start();
    let t = token(&s, "alice");
    let r = http(
        "GET",
        &format!("{}/v1/status-lists/1", s.url),
        Auth::Bearer(&t),
        Body::None,
    );
    assert_eq!(r.status, 200);
    assert_eq!(s.stop(), 0);
}

/// A refused line is reported with its number and does not stop the others.
#[test]
fn bulk_issue_reports_bad_lines() {
    let w = World::new(Backend::Sqlite);
    let input = w.path("citizens.jsonl");
    std::fs::write(
        &input,
        format!(
            "{}\n{{\"id_number\":\"12\"}}\nnot json\n",
            CITIZEN.replace('\n', "")
        ),
    )
    .unwrap();
    let url = w.db.url();
    let key_dir = w.key_dir.to_string_lossy().into_owned();
    let (code, _, err) = parts(&qrid(
        &[
            "bulk-issue",
            "--database-url",
            &url,
            "--input",
            input.to_str().unwrap(),
            "--key-dir",
            &key_dir,
            "--quiet",
        ],
        None,
    ));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("line 2") && err.contains("line 3"), "{err}");
    assert!(err.contains("1 issued"), "{err}");
    assert_eq!(w.db.census().credentials, 1);

    // What was issued can be found: the manifest names the input line, the id number and the
    // credential, and is owner-only since it holds id numbers.
    let manifest = w.path("citizens.jsonl.issued.csv");
    assert!(
        err.contains(&manifest.display().to_string()),
        "the summary names the manifest: {err}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&manifest).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "manifest mode {mode:o}");
    }
    let text = std::fs::read_to_string(&manifest).unwrap();
    let rows: Vec<&str> = text.lines().collect();
    assert_eq!(rows.len(), 2, "{text}");
    assert_eq!(rows[0], "line,id_number,credential_id");
    let fields: Vec<&str> = rows[1].split(',').collect();
    let citizen: Value = serde_json::from_str(CITIZEN).unwrap();
    assert_eq!(fields[..2], ["1", citizen["id_number"].as_str().unwrap()]);
    let s = w.start();
    let t = token(&s, "alice");
    let r = http(
        "GET",
        &format!("{}/v1/credentials/{}", s.url, fields[2]),
        Auth::Bearer(&t),
        Body::None,
    );
    assert_eq!(
        r.status,
        200,
        "the manifest's credential exists: {}",
        String::from_utf8_lossy(&r.body)
    );
    assert_eq!(s.stop(), 0);
}

/// Every command reads the service's configuration: with the service configured on another
/// port (in its config file), an official, a client and bulk-issued credentials made from the
/// command line name that port in their status list URIs, not the default 8080.
#[test]
fn admin_commands_read_the_same_configuration_as_serve() {
    let w = World::new(Backend::Sqlite);
    let config = w.path("qrid.toml");
    std::fs::write(
        &config,
        format!(
            // A connection limit for the service's own descriptor limit, far above this
            // process's: the admin commands must not be refused over a serve-only setting.
            "listen = \"127.0.0.1:18555\"\ndatabase_url = \"{}\"\nkey_dir = \"{}\"\nissuer = \"VN\"\nmax_connections = 1000000\n",
            w.db.url(),
            w.key_dir.display()
        ),
    )
    .unwrap();
    let config = config.to_string_lossy().into_owned();
    // An official, with only the config file.
    let out = qrid(
        &[
            "official",
            "create",
            "--config",
            &config,
            "--username",
            "cfg.official",
            "--full-name",
            "Nguyễn Văn Cấu Hình",
            "--title",
            "Chủ tịch",
            "--agency",
            "UBND xã Đông Hội",
        ],
        Some(b"a-long-enough-password\n"),
    );
    let (code, stdout, stderr) = parts(&out);
    assert_eq!(code, 0, "{stderr}");
    let j: Value = serde_json::from_str(stdout.trim()).unwrap();
    let signer = j["signer_credential_id"].as_str().unwrap();
    assert_eq!(
        w.db.credential_status_uri(signer),
        "http://127.0.0.1:18555/v1/status-lists/1"
    );
    // Bulk issuance, with the file through the environment as an operator's unit file would.
    let input = w.path("few.jsonl");
    std::fs::write(&input, format!("{}\n", CITIZEN.replace('\n', ""))).unwrap();
    let out = Command::new(qrid_bin())
        .args(["bulk-issue", "--quiet", "--input", input.to_str().unwrap()])
        .env("QRID_CONFIG", &config)
        .output()
        .unwrap();
    let (code, _, stderr) = parts(&out);
    assert_eq!(code, 0, "{stderr}");
    let manifest = std::fs::read_to_string(w.path("few.jsonl.issued.csv")).unwrap();
    let credential = manifest.lines().nth(1).unwrap().rsplit(',').next().unwrap();
    assert_eq!(
        w.db.credential_status_uri(credential),
        "http://127.0.0.1:18555/v1/status-lists/1"
    );
    // A flag still overrides the file, as for serve.
    let other = w.path("other.jsonl");
    std::fs::write(
        &other,
        format!(
            "{}\n",
            CITIZEN
                .replace('\n', "")
                .replace("001099012345", "001099054321")
        ),
    )
    .unwrap();
    let out = qrid(
        &[
            "bulk-issue",
            "--quiet",
            "--config",
            &config,
            "--public-url",
            "https://id.example.vn",
            "--input",
            other.to_str().unwrap(),
        ],
        None,
    );
    let (code, _, stderr) = parts(&out);
    assert_eq!(code, 0, "{stderr}");
    let manifest = std::fs::read_to_string(w.path("other.jsonl.issued.csv")).unwrap();
    let credential = manifest.lines().nth(1).unwrap().rsplit(',').next().unwrap();
    assert_eq!(
        w.db.credential_status_uri(credential),
        "https://id.example.vn/v1/status-lists/1"
    );
}

/// Officers and clients are disabled, enabled and reset from the command line, and the change
/// holds at once on every node of the database (two nodes here), with no restart.
fn accounts_change_at_once_on_every_node(backend: Backend) {
    let w = World::new(backend);
    let a = w.start();
    let b = w.start();
    let url = w.db.url();
    let cli = |args: &[&str], stdin: Option<&[u8]>| {
        let mut all: Vec<&str> = args.to_vec();
        all.extend(["--database-url", &url]);
        let (code, out, err) = parts(&qrid(&all, stdin));
        assert_eq!(code, 0, "{args:?}: {err}");
        (out, err)
    };
    let me = |s: &qrid_e2e::service::Service, t: &str| {
        http(
            "GET",
            &format!("{}/v1/citizens/0123456789abcdef", s.url),
            Auth::Bearer(t),
            Body::None,
        )
        .status
    };
    // A token from node a works on both nodes (404: no such citizen, but authorised).
    let t = token(&a, "alice");
    assert_eq!((me(&a, &t), me(&b, &t)), (404, 404));

    // The list shows who exists, without hashes.
    let (out, _) = cli(&["officer", "list"], None);
    assert!(
        out.contains("\"username\":\"alice\"") && out.contains("\"role\":\"issuer\""),
        "{out}"
    );
    assert!(!out.contains("argon2"), "{out}");

    // Disabled: the token ends on both nodes, and sign-in is refused.
    cli(&["officer", "disable", "alice"], None);
    assert_eq!((me(&a, &t), me(&b, &t)), (401, 401));
    let login = |s: &qrid_e2e::service::Service, password: &str| {
        let body = json!({"username": "alice", "password": password}).to_string();
        http(
            "POST",
            &format!("{}/v1/auth/token", s.url),
            Auth::None,
            Body::Json(&body),
        )
        .status
    };
    assert_eq!(login(&b, PASSWORD), 401);
    // Enabled again: sign-in works, the old token stays ended.
    cli(&["officer", "enable", "alice"], None);
    assert_eq!(me(&b, &t), 401);
    let t2 = token(&b, "alice");
    assert_eq!(me(&a, &t2), 404);
    // A reset password: the old one and its tokens end everywhere.
    cli(
        &["officer", "reset-password", "alice"],
        Some(b"a brand new passphrase\n"),
    );
    assert_eq!((me(&a, &t2), me(&b, &t2)), (401, 401));
    assert_eq!(login(&a, PASSWORD), 401);
    assert_eq!(login(&a, "a brand new passphrase"), 200);

    // A client: disabled, then its secret reset.
    let verify = |s: &qrid_e2e::service::Service, auth: Auth<'_>| {
        http(
            "POST",
            &format!("{}/v1/verify", s.url),
            auth,
            Body::Json(r#"{"payload": "NOT-A-CREDENTIAL"}"#),
        )
        .status
    };
    assert_eq!((verify(&a, w.client()), verify(&b, w.client())), (200, 200));
    cli(&["client", "disable", &w.client_id], None);
    assert_eq!((verify(&a, w.client()), verify(&b, w.client())), (401, 401));
    cli(&["client", "enable", &w.client_id], None);
    assert_eq!(verify(&b, w.client()), 200);
    let (out, _) = cli(&["client", "reset-secret", &w.client_id], None);
    let fresh: Value = serde_json::from_str(out.trim()).unwrap();
    let secret = fresh["client_secret"].as_str().unwrap();
    assert_ne!(secret, w.client_secret);
    assert_eq!((verify(&a, w.client()), verify(&b, w.client())), (401, 401));
    let new_auth = || Auth::Basic(&w.client_id, secret);
    assert_eq!((verify(&a, new_auth()), verify(&b, new_auth())), (200, 200));

    // A name with a NUL byte (which PostgreSQL refuses outright) is an unknown name, on both
    // databases: 401, never a 500.
    let body = json!({"username": "ali\u{0}ce", "password": PASSWORD}).to_string();
    http(
        "POST",
        &format!("{}/v1/auth/token", a.url),
        Auth::None,
        Body::Json(&body),
    )
    .problem(401, "unauthorized");
    let body = json!({"username": "mi\u{0}nh", "password": PASSWORD, "totp": "123456"}).to_string();
    http(
        "POST",
        &format!("{}/v1/officials/token", a.url),
        Auth::None,
        Body::Json(&body),
    )
    .problem(401, "unauthorized");
    let nul_basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("c_\u{0}1:{secret}"))
    );
    let r = http_with(
        "POST",
        &format!("{}/v1/verify", a.url),
        Auth::None,
        Body::Json(r#"{"payload": "X"}"#),
        &[("authorization", &nul_basic)],
    );
    assert_eq!(r.status, 401, "{}", String::from_utf8_lossy(&r.body));
    let authorize = http(
        "GET",
        &format!("{}/authorize?client_id=c_%00&response_type=code", a.url),
        Auth::None,
        Body::None,
    );
    assert_eq!(
        authorize.status,
        400,
        "{}",
        String::from_utf8_lossy(&authorize.body)
    );

    // An unknown account is named in the refusal.
    let (code, _, err) = parts(&qrid(
        &["officer", "disable", "nobody", "--database-url", &url],
        None,
    ));
    assert_eq!(code, 2);
    assert!(err.contains("no officer nobody"), "{err}");
    assert_eq!(a.stop(), 0);
    assert_eq!(b.stop(), 0);
}

#[test]
fn accounts_change_at_once_on_every_node_on_sqlite() {
    accounts_change_at_once_on_every_node(Backend::Sqlite);
}

#[test]
fn accounts_change_at_once_on_every_node_on_postgres() {
    accounts_change_at_once_on_every_node(Backend::Postgres);
}
