//! The crate boundaries of docs/design.md, checked on the real dependency graph (`cargo metadata`):
//! axum only in the server, sqlx only in the store, and the format and verifier libraries free
//! of any runtime, web framework or database.

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
        ["qrid-server"],
        "axum belongs to the server alone"
    );
    assert_eq!(
        users("sqlx"),
        ["qrid-store"],
        "sqlx belongs to the store alone"
    );
    for pure in ["qrid-credential", "qrid-verifier", "qrid-qr"] {
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
        ("qrid-verifier", "qrid-store"),
        ("qrid-store", "qrid-server"),
        ("qrid-server", "qrid-cli"),
    ] {
        assert!(
            !deps[lower].iter().any(|n| n == higher),
            "{lower} depends on {higher}"
        );
    }
}
