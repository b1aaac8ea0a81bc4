//! The crate boundaries of docs/design.md, checked on the real dependency graph (`cargo metadata`,
//! `cargo tree`): axum only in the server, sqlx only in the store, the format and verifier
//! libraries free of any runtime, web framework or database, the service crate and the CLI's
//! non-`serve` commands free of HTTP server code; and no source file so long that it hides
//! what it holds.

use serde_json::Value;
use std::collections::BTreeMap;
use std::process::Command;

/// Workspace package name → its direct normal (non-dev, non-build) dependency names.
fn direct_dependencies() -> BTreeMap<String, Vec<String>> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(qrid_e2e::repo_root())
        .output()
        .expect("run cargo metadata");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: Value = serde_json::from_slice(&out.stdout).expect("metadata JSON");
    meta["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .map(|p| {
            let deps = p["dependencies"]
                .as_array()
                .expect("dependencies")
                .iter()
                .filter(|d| d["kind"].is_null())
                .filter_map(|d| d["name"].as_str().map(str::to_owned))
                .collect();
            (p["name"].as_str().unwrap_or_default().to_owned(), deps)
        })
        .collect()
}

#[test]
fn dependencies_point_one_way() {
    let deps = direct_dependencies();
    assert!(deps.len() >= 6, "{deps:?}");
    let users = |krate: &str| -> Vec<&str> {
        deps.iter()
            .filter(|(_, d)| d.iter().any(|n| n == krate))
            .map(|(p, _)| p.as_str())
            .collect()
    };
    assert_eq!(
        users("axum"),
        ["qrid-server", "qrid-web"],
        "axum belongs to the HTTP front doors alone: the API server and the web apps it serves"
    );
    assert_eq!(
        users("askama"),
        ["qrid-web"],
        "page templates belong to the web apps"
    );
    assert_eq!(
        users("sqlx"),
        ["qrid-store"],
        "sqlx belongs to the store alone"
    );
    for pure in ["qrid-credential", "qrid-verifier", "qrid-qr", "qrid-pdf"] {
        let d = &deps[pure];
        for banned in [
            "axum",
            "sqlx",
            "tokio",
            "hyper",
            "tower",
            "qrid-store",
            "qrid-server",
        ] {
            assert!(
                !d.iter().any(|n| n == banned),
                "{pure} must stay a pure library but depends on {banned}"
            );
        }
    }
    // Lower layers never depend on higher ones.
    for (lower, higher) in [
        ("qrid-credential", "qrid-verifier"),
        ("qrid-pdf", "qrid-store"),
        ("qrid-pdf", "qrid-service"),
        ("qrid-verifier", "qrid-store"),
        ("qrid-store", "qrid-service"),
        ("qrid-store", "qrid-server"),
        ("qrid-service", "qrid-server"),
        ("qrid-service", "qrid-web"),
        ("qrid-store", "qrid-web"),
        ("qrid-web", "qrid-server"),
        ("qrid-server", "qrid-cli"),
    ] {
        assert!(
            !deps[lower].iter().any(|n| n == higher),
            "{lower} depends on {higher}"
        );
    }
}

/// The HTTP server stack: what the service crate and the CLI's non-`serve` build must not hold.
const HTTP_SERVER_CRATES: [&str; 6] = [
    "axum",
    "axum-core",
    "hyper",
    "hyper-util",
    "tower",
    "tower-http",
];

/// The names of every crate in the normal (non-dev, non-build) dependency tree of `package`
/// with the given extra arguments (features).
fn dependency_tree(package: &str, extra: &[&str]) -> Vec<String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "tree",
            "--offline",
            "-p",
            package,
            "-e",
            "normal",
            "--prefix",
            "none",
        ])
        .args(["--format", "{p}"])
        .args(extra)
        .current_dir(qrid_e2e::repo_root())
        .output()
        .expect("run cargo tree");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let names: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_owned)
        .collect();
    assert!(names.len() > 10, "{package}: {names:?}");
    names
}

#[test]
fn the_service_crate_knows_no_http() {
    let tree = dependency_tree("qrid-service", &[]);
    assert!(tree.iter().any(|n| n == "qrid-store"), "{tree:?}");
    for banned in HTTP_SERVER_CRATES.iter().chain(&["qrid-server"]) {
        assert!(
            !tree.iter().any(|n| n == banned),
            "qrid-service depends on {banned}, directly or through another crate"
        );
    }
}

#[test]
fn the_cli_needs_the_server_for_serve_alone() {
    // With its default features the CLI holds the server (for `qrid serve`)…
    let full = dependency_tree("qrid-cli", &[]);
    assert!(full.iter().any(|n| n == "axum"), "{full:?}");
    // …and without them, every other command builds with no HTTP server code in it
    // (.ci/run builds it so).
    let bare = dependency_tree("qrid-cli", &["--no-default-features"]);
    assert!(bare.iter().any(|n| n == "qrid-service"), "{bare:?}");
    for banned in HTTP_SERVER_CRATES.iter().chain(&["qrid-server"]) {
        assert!(
            !bare.iter().any(|n| n == banned),
            "qrid-cli --no-default-features depends on {banned}"
        );
    }
}

/// Longest source file, in lines, that needs no reason.
const MAX_LINES: usize = 800;
/// What a longer file's header comment says, followed by its reason.
const LENGTH_REASON: &str = "Length:";

/// Every `.rs` file under `dir`, recursively.
fn rust_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read a source directory") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn no_source_file_is_over_800_lines_without_a_reason_in_its_header() {
    let root = qrid_e2e::repo_root();
    let mut files = Vec::new();
    for krate in std::fs::read_dir(root.join("crates")).expect("crates/") {
        let src = krate.expect("a crate").path().join("src");
        if src.is_dir() {
            rust_files(&src, &mut files);
        }
    }
    assert!(files.len() > 50, "{files:?}");
    let mut unexplained = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).expect("read a source file");
        let lines = text.lines().count();
        let header: Vec<&str> = text.lines().take_while(|l| l.starts_with("//!")).collect();
        let explained = header.iter().any(|l| {
            l.trim_start_matches("//!")
                .trim()
                .strip_prefix(LENGTH_REASON)
                .is_some_and(|reason| reason.trim().len() > 20)
        });
        if lines > MAX_LINES && !explained {
            unexplained.push(format!("{} ({lines} lines)", f.display()));
        }
    }
    assert!(
        unexplained.is_empty(),
        "over {MAX_LINES} lines with no `//! {LENGTH_REASON} …` in the header: {unexplained:?}"
    );
}

/// What the server may still ask of the store itself: the health check's probes, which are
/// about the database, not the domain. Everything else goes through the service.
const SERVER_STORE_CALLS: &[&str] = &[
    "state.store.backend()",
    "state.store.ping()",
    "state.store.check_writable()",
];

/// The server and the web apps translate HTTP: their handlers call the service, never the
/// store's operations (a rule the type system cannot hold, since the service holds the store
/// in a public field).
#[test]
fn the_server_calls_the_service_not_the_store() {
    let root = qrid_e2e::repo_root();
    let mut files = Vec::new();
    rust_files(&root.join("crates/server/src"), &mut files);
    rust_files(&root.join("crates/web/src"), &mut files);
    assert!(files.len() > 20, "{files:?}");
    let mut direct = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).expect("read a source file");
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            for handle in ["state.store.", "service().store.", "svc.store."] {
                let mut rest = code;
                while let Some(at) = rest.find(handle) {
                    let call = &rest[at + handle.len() - "store.".len()..];
                    let call = format!("state.{call}");
                    if !SERVER_STORE_CALLS.iter().any(|ok| call.starts_with(ok)) {
                        direct.push(format!("{}:{}: {}", f.display(), n + 1, line.trim()));
                    }
                    rest = &rest[at + handle.len()..];
                }
            }
        }
    }
    assert!(
        direct.is_empty(),
        "the server calls the store directly (put the operation in crates/service): {direct:?}"
    );
}
