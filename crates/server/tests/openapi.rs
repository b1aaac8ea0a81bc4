//! `GET /openapi.json`, in process: served as JSON to anyone, cacheable, and a valid OpenAPI
//! 3.1 document by an independent validator in another language (the PyPI package
//! `openapi-spec-validator`, which .ci/run installs).

mod common;

use common::{App, Auth};
use qrid_store::Backend;
use std::io::Write;
use std::process::{Command, Stdio};

const INSTALL: &str = "python3 -m pip install openapi-spec-validator";

/// Runs `openapi-spec-validator` on `document`: its stderr when it refuses it. Fails, saying
/// how to install it, when python3 or the package is missing (never skipped).
fn validate_with_python(document: &[u8]) -> Result<(), String> {
    let script = "import json, sys\n\
                  from openapi_spec_validator import validate\n\
                  from openapi_spec_validator.versions.shortcuts import get_spec_version\n\
                  spec = json.load(sys.stdin)\n\
                  validate(spec)\n\
                  print(get_spec_version(spec))\n";
    let present = Command::new("python3")
        .args(["-c", "import openapi_spec_validator"])
        .output()
        .unwrap_or_else(|e| panic!("python3 cannot be run ({e}): install it, then {INSTALL}"));
    assert!(
        present.status.success(),
        "the validator is missing ({}): {INSTALL}",
        String::from_utf8_lossy(&present.stderr).trim()
    );
    let mut child = Command::new("python3")
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run python3");
    child
        .stdin
        .take()
        .expect("the validator's stdin")
        .write_all(document)
        .expect("write the document to the validator");
    let out = child.wait_with_output().expect("the validator's answer");
    if !out.status.success() {
        // The last lines say why; the traceback before them (and the whole document some
        // messages quote) would drown it.
        let stderr = String::from_utf8_lossy(&out.stderr);
        let lines: Vec<&str> = stderr.lines().collect();
        let why: Vec<String> = lines[lines.len().saturating_sub(6)..]
            .iter()
            .map(|l| l.chars().take(600).collect())
            .collect();
        return Err(why.join("\n"));
    }
    let version = String::from_utf8_lossy(&out.stdout);
    // The validator names the specification it checked the document against.
    assert!(version.contains("3.1"), "validated as {version}");
    Ok(())
}

#[tokio::test]
async fn openapi_json_is_served_and_valid_openapi_3_1() {
    let app = App::start(Backend::Sqlite).await;
    let r = app
        .call("GET", "/openapi.json", Auth::None, None, &[])
        .await;
    let doc = r.ok(200);
    assert_eq!(r.header("content-type"), Some("application/json"));
    let cache = r.header("cache-control").unwrap_or("");
    assert!(
        cache.contains("public") && cache.contains("max-age"),
        "{cache}"
    );
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["info"]["title"], "qrid");
    assert_eq!(doc["info"]["version"], env!("CARGO_PKG_VERSION"));
    // The routes the harness itself drives are there.
    for (path, method) in [
        ("/v1/citizens", "post"),
        ("/v1/verify", "post"),
        ("/userinfo", "get"),
        ("/userinfo", "post"),
        ("/openapi.json", "get"),
    ] {
        assert!(doc["paths"][path][method].is_object(), "{method} {path}");
    }
    // The same bytes on every request.
    let again = app
        .call("GET", "/openapi.json", Auth::None, None, &[])
        .await;
    assert_eq!(again.body, r.body);
    if let Err(why) = validate_with_python(&r.body) {
        panic!("openapi-spec-validator refuses /openapi.json:\n{why}");
    }
}

#[test]
fn the_validator_refuses_an_invalid_document() {
    // The check above means something: a 3.1 document with a response lacking its required
    // description is refused.
    let bad = br#"{"openapi": "3.1.0", "info": {"title": "t", "version": "1"},
        "paths": {"/x": {"get": {"responses": {"200": {}}}}}}"#;
    assert!(validate_with_python(bad).is_err());
}
