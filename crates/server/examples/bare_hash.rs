//! A reference for bench/sign.sh: a bare axum handler that reads an upload and hashes every
//! byte of it with SHA-256 as the frames arrive, with no parsing, auth, storage or logging:
//! what receiving and hashing a document costs at the least in an axum service on this
//! machine, so that the signing figure can be set beside it. `/drain` reads the upload and
//! throws it away: what receiving alone costs.
//!
//! `cargo run --release -p qrid-server --example bare_hash -- 127.0.0.1:8098`

use axum::extract::Request;
use axum::http::StatusCode;
use axum::routing::post;
use axum::Router;
use http_body_util::BodyExt;
use sha2::{Digest, Sha256};

async fn hash(req: Request) -> Result<String, StatusCode> {
    read(req, true).await
}

async fn drain(req: Request) -> Result<String, StatusCode> {
    read(req, false).await
}

async fn read(req: Request, hash: bool) -> Result<String, StatusCode> {
    let mut body = req.into_body();
    let mut hasher = Sha256::new();
    let mut size = 0u64;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|_| StatusCode::BAD_REQUEST)?;
        if let Ok(data) = frame.into_data() {
            size += data.len() as u64;
            if size > 200 << 20 {
                return Err(StatusCode::PAYLOAD_TOO_LARGE);
            }
            if hash {
                hasher.update(&data);
            }
        }
    }
    Ok(format!("{size} {}\n", hex::encode(hasher.finalize())))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8098".into());
    let app = Router::new()
        .route("/hash", post(hash))
        .route("/drain", post(drain));
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    eprintln!("bare_hash: listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}
