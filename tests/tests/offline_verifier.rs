//! The offline browser verifier (crates/web/assets/js/qrid-verify.mjs) gives every case of
//! tests/vectors/ the verdict the Rust verifier gives, and refuses hostile input without
//! throwing or hanging: tests/js/vectors.mjs checks both, run here with Node.js. A missing
//! `node` fails the test, as a missing zbarimg does: a check that skips proves nothing.

use std::path::{Path, PathBuf};
use std::process::Command;

/// `node` on PATH, or a failure that says what to install.
fn node() -> PathBuf {
    std::env::var_os("PATH")
        .and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|p| p.join("node"))
                .find(|p| p.is_file())
        })
        .expect(
            "node is not installed: install Node.js 20 or later (e.g. `apt-get install nodejs`); \
             it runs the browser verifier against the test vectors",
        )
}

#[test]
fn browser_verifier_gives_every_vector_its_verdict() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = Command::new(node())
        .arg("tests/js/vectors.mjs")
        .current_dir(&root)
        .output()
        .expect("run node tests/js/vectors.mjs");
    let output = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    println!("{output}");
    assert!(
        out.status.success(),
        "node tests/js/vectors.mjs failed ({}):\n{output}",
        out.status
    );
}

/// The copy of jsQR embedded in the binary (crates/web/assets/vendor) is the npm package
/// pinned by crates/web/package-lock.json, byte for byte: `npm ci --prefix crates/web`
/// installs it (.ci/run does), and an edited or stale copy fails here.
#[test]
fn the_vendored_qr_decoder_is_the_pinned_package() {
    let web = Path::new(env!("CARGO_MANIFEST_DIR")).join("../crates/web");
    let installed = web.join("node_modules/jsqr/dist/jsQR.js");
    let pinned = std::fs::read(&installed).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; run `npm ci --prefix crates/web` (the pinned browser packages)",
            installed.display()
        )
    });
    let lock = std::fs::read_to_string(web.join("package-lock.json")).expect("the lock file");
    assert!(
        lock.contains("\"node_modules/jsqr\""),
        "jsqr is not in the lock file"
    );
    let vendored = std::fs::read(web.join("assets/vendor/jsQR.js")).expect("the vendored copy");
    assert!(
        vendored == pinned,
        "crates/web/assets/vendor/jsQR.js differs from the pinned package's dist/jsQR.js: copy it again"
    );
}
