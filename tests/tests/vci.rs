//! Credential delivery (OpenID4VCI 1.0, pre-authorized code) against the real `qrid serve`:
//! the CLI wallet (`qrid wallet receive`) on both back ends, and an independent wallet written
//! from the specification in Python (tests/interop/oid4vci_client.py: requests and
//! cryptography, no code shared with the service) whose credential MOSIP's `claim169` decodes.
//! Each refusal of the protocol is tested in process on a manual clock
//! (crates/server/tests/vci.rs).
//!
//! Needs python3 with requests, cryptography and claim169; without them the interoperability
//! test fails, it does not skip (`.ci/run` installs them).

use qrid_e2e::service::{enrol, http, token, Auth, Body, Service, World};
use qrid_e2e::{parts, qrid, repo_root, CITIZEN_JSON};
use qrid_store::Backend;
use serde_json::Value;
use std::process::Command;

/// An offer for a freshly enrolled citizen, made through the officers' API.
fn offer(s: &Service) -> Value {
    let t = token(s, "alice");
    let id = enrol(s, &t, CITIZEN_JSON);
    let r = http(
        "POST",
        &format!("{}/v1/citizens/{id}/credential-offers", s.url),
        Auth::Bearer(&t),
        Body::None,
    );
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    r.json()
}

fn trust_file(w: &World, s: &Service) -> std::path::PathBuf {
    let r = http(
        "GET",
        &format!("{}/.well-known/jwks.json", s.url),
        Auth::None,
        Body::None,
    );
    assert_eq!(r.status, 200);
    let path = w.path("trust.jwks.json");
    std::fs::write(&path, &r.body).expect("write the trust list");
    path
}

fn cli_wallet_receives(backend: Backend) {
    let w = World::new(backend);
    let s = w.start();
    let o = offer(&s);
    let wallet = w.path("wallet");
    let wallet = wallet.to_str().expect("a UTF-8 path");
    let (code, jwk, err) = parts(&qrid(&["wallet", "init", "--dir", wallet], None));
    assert_eq!(code, 0, "{err}");
    let trust = trust_file(&w, &s);
    let trust = trust.to_str().expect("a UTF-8 path");
    let link = o["wallet_url"].as_str().expect("the wallet link");
    let pin = o["tx_code"].as_str().expect("the PIN");

    // A wrong PIN first: refused with the protocol's error, and nothing stored.
    let wrong = if pin == "000000" { "111111" } else { "000000" };
    let (code, _, err) = parts(&qrid(
        &[
            "wallet", "receive", "--dir", wallet, "--offer", link, "--pin", wrong, "--trust", trust,
        ],
        None,
    ));
    assert_ne!(code, 0);
    assert!(err.contains("invalid_grant"), "{err}");
    assert!(!std::path::Path::new(wallet).join("credential.txt").exists());

    // The PIN on standard input, as a citizen types it.
    let (code, _, err) = parts(&qrid(
        &[
            "wallet", "receive", "--dir", wallet, "--offer", link, "--trust", trust,
        ],
        Some(format!("{pin}\n").as_bytes()),
    ));
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains(pin), "the PIN was echoed: {err}");
    let stored = std::fs::read_to_string(std::path::Path::new(wallet).join("credential.txt"))
        .expect("the stored credential");
    // Bound to this wallet's key: the wallet checked it, and the service says so too.
    let holder: Value = serde_json::from_str(jwk.trim()).expect("the holder JWK");
    let r = http(
        "POST",
        &format!("{}/v1/verify", s.url),
        w.client(),
        Body::Json(&serde_json::json!({"payload": stored.trim()}).to_string()),
    );
    let v = r.json();
    assert_eq!(v["valid"], true, "{v}");
    assert_eq!(v["claims"]["holder_kid"], holder["kid"], "{v}");

    // The same offer again: single use.
    let (code, _, err) = parts(&qrid(
        &[
            "wallet", "receive", "--dir", wallet, "--offer", link, "--pin", pin, "--trust", trust,
        ],
        None,
    ));
    assert_ne!(code, 0);
    assert!(
        err.contains("invalid_grant") && err.contains("used"),
        "{err}"
    );
    s.stop();
}

#[test]
fn the_cli_wallet_receives_an_offer_sqlite() {
    cli_wallet_receives(Backend::Sqlite);
}

#[test]
fn the_cli_wallet_receives_an_offer_postgres() {
    cli_wallet_receives(Backend::Postgres);
}

/// Fails (never skips) when a Python package the client needs is missing.
fn require_python() {
    let out = Command::new("python3")
        .args(["-c", "import requests, cryptography, claim169"])
        .output();
    match out {
        Ok(o) if o.status.success() => {}
        Ok(o) => panic!(
            "the OpenID4VCI interoperability test needs python3 -m pip install requests \
             cryptography claim169\n{}",
            String::from_utf8_lossy(&o.stderr)
        ),
        Err(e) => panic!("python3 is not runnable ({e})"),
    }
}

#[test]
fn a_wallet_written_from_the_spec_in_python_receives_a_credential_that_claim169_decodes() {
    require_python();
    let w = World::new(Backend::Sqlite);
    let s = w.start();
    let o = offer(&s);
    let out = Command::new("python3")
        .arg(repo_root().join("tests/interop/oid4vci_client.py"))
        .args([
            "--offer",
            o["offer_uri"].as_str().expect("the offer URI"),
            "--probe-errors",
        ])
        // The PIN through the environment, as the script recommends: not on a command line.
        .env("QRID_TX_CODE", o["tx_code"].as_str().expect("the PIN"))
        .output()
        .expect("run python3");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the Python wallet failed:\n{stderr}\n{stdout}"
    );
    let got: Value = serde_json::from_str(stdout.trim()).expect("the client printed JSON");
    let citizen: Value = serde_json::from_str(CITIZEN_JSON).expect("citizen JSON");
    assert_eq!(got["claim169"]["id"], citizen["id_number"], "{got}");
    assert_eq!(got["claim169"]["full_name"], citizen["full_name"], "{got}");
    assert_eq!(got["bound"], true, "{got}");
    assert_eq!(got["warnings"], serde_json::json!([]), "{got}");
    let probes = got["probes"].as_array().map_or(0, Vec::len);
    assert!(probes >= 8, "the refusals it probed: {got}");
    println!("{}", serde_json::to_string_pretty(&got).unwrap_or_default());
    s.stop();
}
