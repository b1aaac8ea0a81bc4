//! Interoperability of the login (docs/login.md, docs/portal-guide.md) with an OpenID Connect
//! client library of another language: Python's authlib plays the portal
//! (tests/interop/oidc_authlib.py) against the real `qrid serve`, with the real `qrid wallet`.
//!
//! Needs `python3 -m pip install authlib requests`; without them the test fails, it does not
//! skip (`.ci/run` installs them).

use qrid_e2e::service::{http, Auth, Body, Db, Service};
use qrid_e2e::{parts, qrid, qrid_bin, repo_root, CITIZEN_JSON};
use qrid_store::Backend;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;

const PASSWORD: &str = "a long password here";

/// Fails (never skips) when authlib or requests is missing.
fn require_authlib() {
    let out = Command::new("python3")
        .args(["-c", "import authlib, requests"])
        .output();
    match out {
        Ok(o) if o.status.success() => {}
        Ok(o) => panic!(
            "the authlib interoperability test needs Python's authlib and requests: \
             python3 -m pip install authlib requests\n{}",
            String::from_utf8_lossy(&o.stderr)
        ),
        Err(e) => panic!(
            "python3 is not runnable ({e}); the authlib interoperability test needs it and \
             python3 -m pip install authlib requests"
        ),
    }
}

/// `qrid ARGS…`, which must succeed; its stdout.
fn qrid_ok(args: &[&str], stdin: Option<&[u8]>) -> String {
    let (code, out, err) = parts(&qrid(args, stdin));
    assert_eq!(code, 0, "qrid {args:?} failed: {err}");
    out
}

/// A registered portal: `qrid client create --name NAME ARGS…`.
struct Portal {
    id: String,
    secret: String,
    /// For private_key_jwt: the PKCS#8 PEM file of its P-256 key (whose public JWK it
    /// registered, under [`RP_KID`]).
    private_key: Option<PathBuf>,
    redirect_uri: &'static str,
    scope: &'static str,
    auth_method: &'static str,
    alg: &'static str,
}

fn register(db: &str, name: &str, portal_args: &[&str]) -> (String, String) {
    let mut args = vec!["client", "create", "--name", name, "--database-url", db];
    args.extend_from_slice(portal_args);
    let out = qrid_ok(&args, None);
    let c: Value = serde_json::from_str(out.trim())
        .unwrap_or_else(|e| panic!("qrid client create printed no JSON ({e}): {out}"));
    let id = c["client_id"]
        .as_str()
        .unwrap_or_else(|| panic!("no client_id in {c}"))
        .to_owned();
    // A private_key_jwt client proves itself with its key and is given no secret.
    let keyed = portal_args.contains(&"private_key_jwt");
    let secret = c["client_secret"].as_str().map(str::to_owned);
    assert_eq!(secret.is_none(), keyed, "{c}");
    (id, secret.unwrap_or_default())
}

const RP_KID: &str = "portal-key-1";

/// A fresh P-256 key for a private_key_jwt portal, written to `dir`: its PKCS#8 PEM (for
/// authlib) and its public JWKS (to register).
fn portal_key(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    use p256::pkcs8::EncodePrivateKey;
    let key = p256::SecretKey::random(&mut rand_core::OsRng);
    let pem = dir.join(format!("{name}.key.pem"));
    let pem_text = key
        .to_pkcs8_pem(p256::pkcs8::LineEnding::LF)
        .expect("PKCS#8 PEM of the portal key");
    std::fs::write(&pem, pem_text.as_bytes()).expect("write the portal key");
    let mut jwk: Value =
        serde_json::from_str(&key.public_key().to_jwk_string()).expect("p256 writes a JWK");
    jwk["kid"] = RP_KID.into();
    jwk["alg"] = "ES256".into();
    jwk["use"] = "sig".into();
    let jwks = dir.join(format!("{name}.jwks.json"));
    std::fs::write(&jwks, json!({ "keys": [jwk] }).to_string()).expect("write the portal JWKS");
    (pem, jwks)
}

fn portal(
    db: &str,
    dir: &Path,
    name: &str,
    redirect_uri: &'static str,
    scope: &'static str,
    auth_method: &'static str,
    alg: &'static str,
) -> Portal {
    let mut args: Vec<String> = [
        "--redirect-uri",
        redirect_uri,
        "--id-token-alg",
        alg,
        "--token-auth-method",
        auth_method,
    ]
    .map(String::from)
    .to_vec();
    for s in scope.split(' ') {
        args.extend(["--scope".into(), s.into()]);
    }
    let private_key = (auth_method == "private_key_jwt").then(|| {
        let (pem, jwks) = portal_key(dir, &format!("portal-{}", args.len()));
        args.extend(["--jwks".into(), jwks.to_string_lossy().into_owned()]);
        pem
    });
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (id, secret) = register(db, name, &args);
    Portal {
        id,
        secret,
        private_key,
        redirect_uri,
        scope,
        auth_method,
        alg,
    }
}

/// POST JSON (optionally with a bearer token); the 2xx answer as JSON.
fn post_json(url: &str, bearer: Option<&str>, body: &str) -> Value {
    let auth = bearer.map_or(Auth::None, Auth::Bearer);
    let r = http("POST", url, auth, Body::Json(body));
    assert!(
        (200..300).contains(&r.status),
        "POST {url}: {} {}",
        r.status,
        String::from_utf8_lossy(&r.body)
    );
    r.json()
}

/// Runs tests/interop/oidc_authlib.py as `p` and returns its JSON summary.
fn authlib_login(s: &Service, p: &Portal, wallet: &Path) -> Value {
    let script = repo_root().join("tests/interop/oidc_authlib.py");
    let out = Command::new("python3")
        .arg(&script)
        .args(["--url", &s.url])
        .args(["--client-id", &p.id])
        .args(match &p.private_key {
            // `=`: a base64url secret may begin with '-', which argparse would take for an
            // option.
            None => vec![format!("--client-secret={}", p.secret)],
            Some(pem) => vec![
                format!("--private-key={}", pem.display()),
                format!("--private-key-kid={RP_KID}"),
            ],
        })
        .args(["--redirect-uri", p.redirect_uri])
        .arg("--wallet")
        .arg(wallet)
        .arg("--qrid")
        .arg(qrid_bin())
        .args(["--scope", p.scope])
        .args(["--auth-method", p.auth_method])
        .args(["--alg", p.alg])
        .output()
        .expect("run python3");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "authlib login as {} ({}, {}) failed (exit {:?}):\n{stderr}\n{stdout}\nservice log:\n{}",
        p.id,
        p.alg,
        p.auth_method,
        out.status.code(),
        s.log()
    );
    serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("the script printed no JSON summary ({e}): {stdout}"))
}

#[test]
fn authlib_logs_in_with_the_wallet() {
    require_authlib();
    let citizen: Value = serde_json::from_str(CITIZEN_JSON).expect("CITIZEN_JSON parses");
    let dir = tempfile::tempdir().expect("a temporary directory");
    let db = Db::new(Backend::Sqlite);
    let url = db.url();

    // As /tmp/smoke/run.sh: an issuing officer and the portals, made with the CLI.
    qrid_ok(
        &[
            "officer",
            "create",
            "--username",
            "o",
            "--role",
            "issuer",
            "--database-url",
            &url,
        ],
        Some(format!("{PASSWORD}\n").as_bytes()),
    );
    // Two portals of one sector (the host 127.0.0.1), one of another (localhost); one ID token
    // algorithm and client authentication each.
    let portals = [
        portal(
            &url,
            dir.path(),
            "Cổng Dịch vụ công",
            "http://127.0.0.1:9/cb",
            "openid profile national_id",
            "client_secret_basic",
            "RS256",
        ),
        portal(
            &url,
            dir.path(),
            "Bảo hiểm xã hội",
            "http://127.0.0.1:9/bhxh/cb",
            "openid profile address",
            "client_secret_post",
            "ES256",
        ),
        portal(
            &url,
            dir.path(),
            "Thuế điện tử",
            "http://localhost:9/cb?portal=thue",
            "openid national_id",
            "client_secret_basic",
            "EdDSA",
        ),
        // authlib's private_key_jwt as it comes: its assertions expire an hour after they are
        // made (a 10-minute bound refused them).
        portal(
            &url,
            dir.path(),
            "Cổng Dịch vụ công (khóa riêng)",
            "http://127.0.0.1:9/pkj/cb",
            "openid profile",
            "private_key_jwt",
            "ES256",
        ),
    ];
    let s = Service::start(&url, &repo_root().join("keys-dev"));

    // The citizen's wallet, enrolment and a credential bound to the wallet's holder key.
    let wallet = dir.path().join("wallet");
    let w = wallet.to_str().expect("UTF-8 path");
    let jwk: Value = serde_json::from_str(qrid_ok(&["wallet", "init", "--dir", w], None).trim())
        .expect("wallet init prints the holder JWK");
    let login = json!({"username": "o", "password": PASSWORD}).to_string();
    let token = post_json(&format!("{}/v1/auth/token", s.url), None, &login)["access_token"]
        .as_str()
        .expect("an officer token")
        .to_owned();
    let citizen_id = post_json(
        &format!("{}/v1/citizens", s.url),
        Some(&token),
        CITIZEN_JSON,
    )["id"]
        .as_str()
        .expect("a citizen id")
        .to_owned();
    let issued = post_json(
        &format!("{}/v1/citizens/{citizen_id}/credentials", s.url),
        Some(&token),
        &json!({ "holder_jwk": jwk }).to_string(),
    );
    let payload = issued["payload"].as_str().expect("a credential payload");
    let trust = http(
        "GET",
        &format!("{}/.well-known/jwks.json", s.url),
        Auth::None,
        Body::None,
    );
    assert_eq!(trust.status, 200);
    let trust_file = dir.path().join("trust.json");
    std::fs::write(&trust_file, &trust.body).expect("write the trust list");
    let t = trust_file.to_str().expect("UTF-8 path");
    qrid_ok(
        &[
            "wallet",
            "import",
            "--dir",
            w,
            "--trust",
            t,
            "--payload",
            payload,
        ],
        None,
    );

    let mut subs = Vec::new();
    for p in &portals {
        let sum = authlib_login(&s, p, &wallet);
        assert_eq!(sum["issuer"], s.url.as_str(), "{sum}");
        assert_eq!(
            sum["redirect_params"],
            json!(["code", "iss", "state"]),
            "{sum}"
        );
        let id = &sum["id_token"];
        assert_eq!(id["verified"], true, "{sum}");
        assert_eq!(id["alg"], p.alg, "{sum}");
        assert_eq!(id["claims"]["aud"], p.id.as_str(), "{sum}");
        assert_eq!(id["claims"]["acr"], "urn:qrid:acr:holder-key", "{sum}");
        assert_eq!(id["claims"]["amr"], json!(["pop", "swk"]), "{sum}");
        assert_eq!(sum["token"]["token_type"], "Bearer", "{sum}");
        assert_eq!(sum["token"]["scope"], p.scope, "{sum}");
        let info = &sum["userinfo"];
        let scopes: Vec<&str> = p.scope.split(' ').collect();
        // Exactly the claims of the scopes asked for, from the enrolled citizen.
        let mut expected = json!({"sub": id["claims"]["sub"]});
        if scopes.contains(&"profile") {
            expected["name"] = citizen["full_name"].clone();
            expected["birthdate"] = citizen["date_of_birth"].clone();
            expected["gender"] = json!("female");
        }
        if scopes.contains(&"address") {
            expected["address"] = json!({"formatted": citizen["place_of_residence"]});
        }
        if scopes.contains(&"national_id") {
            expected["national_id"] = citizen["id_number"].clone();
            expected["nationality"] = citizen["nationality"].clone();
        }
        assert_eq!(info, &expected, "{sum}");
        subs.push(id["claims"]["sub"].as_str().expect("a sub").to_owned());
    }
    // Pairwise subjects: one sector (127.0.0.1) sees one sub; another sector another.
    assert_eq!(subs[0], subs[1], "same sector, same sub");
    assert_eq!(subs[0], subs[3], "same sector, same sub");
    assert_ne!(subs[0], subs[2], "other sector, other sub");
    assert_eq!(s.stop(), 0, "qrid serve did not shut down cleanly");
}

/// A redirect URI that a browser reads as another host is refused at registration: WHATWG
/// URL parsing (every browser's) reads `\` as `/`, so the first one sends the code to
/// evil.example although a hand parser saw the loopback host after the `@`.
#[test]
fn redirect_uris_browsers_read_elsewhere_are_refused() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let db = Db::new(backend);
        let url = db.url();
        for bad in [
            "http://evil.example\\@127.0.0.1/cb",
            "https://evil.example\\@portal.example/cb",
            "http://user@127.0.0.1/cb",
            "HTTPS://Portal.example/cb",
        ] {
            let (code, out, err) = parts(&qrid(
                &[
                    "client",
                    "create",
                    "--name",
                    "Cổng giả",
                    "--redirect-uri",
                    bad,
                    "--database-url",
                    &url,
                ],
                None,
            ));
            assert_ne!(code, 0, "{backend:?}: {bad} was registered: {out}");
            assert!(err.contains("redirect URI"), "{backend:?}: {bad}: {err}");
        }
        // The loopback URI written plainly is still fine.
        qrid_ok(
            &[
                "client",
                "create",
                "--name",
                "Cổng thật",
                "--redirect-uri",
                "http://127.0.0.1:9/cb",
                "--database-url",
                &url,
            ],
            None,
        );
    }
}
