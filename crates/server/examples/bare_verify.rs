//! The reference for bench/http.sh: a bare axum handler that does one strict Ed25519
//! verification per request (of a fixed 450-byte message, the size of a credential's
//! Sig_structure) and answers a small JSON object. No auth, no parsing of the body beyond reading
//! it, no logging: what any Rust verify endpoint costs at the least on this machine.
//!
//! `cargo run --release -p qrid-server --example bare_verify -- 127.0.0.1:8099`

use axum::body::Bytes;
use axum::routing::post;
use axum::{Json, Router};
use qrid_credential::IssuerKey;
use serde_json::{json, Value};
use signature::Signer;
use std::sync::Arc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8099".into());
    let key = IssuerKey::generate();
    let msg = Arc::new(vec![0x5Au8; 450]);
    let sig = key.signing_key().sign(&msg);
    let vk = key.verifying_key();
    let app = Router::new().route(
        "/verify",
        post(move |body: Bytes| {
            let msg = msg.clone();
            async move {
                let valid = !body.is_empty() && vk.verify_strict(&msg, &sig).is_ok();
                Json::<Value>(json!({ "valid": valid }))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    eprintln!(
        "bare_verify: listening on http://{}",
        listener.local_addr()?
    );
    axum::serve(listener, app).await?;
    Ok(())
}
