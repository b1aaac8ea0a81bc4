//! Helpers for the end-to-end tests: find (and build once) the real `qrid` binary, run it,
//! and find the independent QR reader. [`service`] runs the service itself; [`login`] is the
//! citizen's side of a login with a QR credential.

pub mod login;
pub mod officials;
pub mod pages;
pub mod pdf;
pub mod service;
pub mod video;
pub mod webdriver;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

/// A citizen's claims as a person writes them, with Vietnamese diacritics in every text field
/// (tests/fixtures/citizen.json, shared with the server's in-process tests).
pub const CITIZEN_JSON: &str = include_str!("../fixtures/citizen.json");

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// The `qrid` binary of the profile these tests were built with, built once per test process
/// (a test package cannot depend on another package's binary, so we ask cargo for it).
pub fn qrid_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let exe = std::env::current_exe().expect("test executable path");
        // target/<profile>/deps/<test> -> target/<profile>
        let profile_dir = exe
            .parent()
            .and_then(Path::parent)
            .expect("target dir")
            .to_path_buf();
        let release = profile_dir.file_name().is_some_and(|n| n == "release");
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut cmd = Command::new(cargo);
        cmd.args(["build", "-q", "-p", "qrid-cli", "--bin", "qrid"])
            .current_dir(repo_root());
        // Build with the environment of a plain `cargo build`, not the one `cargo test` gives
        // this process: some build scripts (ring's) track CARGO_MANIFEST_DIR, and a different
        // value would rebuild the binary's whole dependency tree here and again at the next
        // `cargo build`.
        for (key, _) in std::env::vars_os() {
            let k = key.to_string_lossy();
            if k.starts_with("CARGO_PKG_")
                || matches!(
                    k.as_ref(),
                    "CARGO_MANIFEST_DIR"
                        | "CARGO_MANIFEST_PATH"
                        | "CARGO_CRATE_NAME"
                        | "CARGO_PRIMARY_PACKAGE"
                        | "CARGO_TARGET_TMPDIR"
                )
            {
                cmd.env_remove(&key);
            }
        }
        if release {
            cmd.arg("--release");
        }
        let status = cmd.status().expect("run cargo build");
        assert!(status.success(), "cargo build of qrid failed");
        let bin = profile_dir.join(format!("qrid{}", std::env::consts::EXE_SUFFIX));
        assert!(bin.exists(), "{} missing after build", bin.display());
        bin
    })
}

/// Runs `qrid` with arguments and optional standard input.
pub fn qrid(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(qrid_bin())
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn qrid");
    if let Some(input) = stdin {
        let mut pipe = child.stdin.take().expect("stdin");
        let data = input.to_vec();
        // Write from a thread so a large input cannot deadlock against a full stdout pipe.
        let writer = std::thread::spawn(move || {
            let _ = pipe.write_all(&data);
        });
        let out = child.wait_with_output().expect("wait qrid");
        let _ = writer.join();
        return out;
    }
    child.wait_with_output().expect("wait qrid")
}

/// The exit code, stdout and stderr as text.
pub fn parts(out: &Output) -> (i32, String, String) {
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Path of `zbarimg` (Debian zbar-tools), the independent QR reader. Its absence fails the
/// test, as a missing PostgreSQL does: a check against an independent reader that skips proves
/// nothing (`.ci/run` installs it).
pub fn zbarimg() -> PathBuf {
    std::env::var_os("PATH")
        .and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|p| p.join("zbarimg"))
                .find(|p| p.is_file())
        })
        .expect("zbarimg is not installed (apt-get install zbar-tools): the independent QR reader is part of the test")
}

/// Reads a QR image with zbarimg and returns the decoded text exactly (zbar adds one newline).
pub fn zbar_read(zbarimg: &Path, image: &Path) -> String {
    let out = Command::new(zbarimg)
        .args(["--raw", "-q", "-Sbinary"])
        .arg(image)
        .output()
        .expect("run zbarimg");
    assert!(
        out.status.success(),
        "zbarimg failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut text = String::from_utf8(out.stdout).expect("zbarimg output is UTF-8");
    if text.ends_with('\n') {
        text.pop();
    }
    text
}
