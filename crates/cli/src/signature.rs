//! Document signatures on the command line: `qrid verify-signature` (offline, with a trust
//! list and optional status lists) and the hashing that `qrid wallet sign` shares with it.

use anyhow::{Context, Result};
use clap::Args;
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The SHA-256 of a file, read in blocks (a document may be far larger than memory allows).
pub fn hash_file(path: &Path) -> Result<[u8; 32]> {
    let mut f = std::fs::File::open(path)
        .with_context(|| format!("cannot open the document {}", path.display()))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f
            .read(&mut buf)
            .with_context(|| format!("cannot read the document {}", path.display()))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hasher.finalize().into())
}

/// A media type from a file name's extension, for the common document kinds.
pub fn media_type_of(path: &Path) -> &'static str {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("pdf") => "application/pdf",
        Some("xml") => "application/xml",
        Some("json") => "application/json",
        Some("txt") => "text/plain",
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("docx") => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        Some("odt") => "application/vnd.oasis.opendocument.text",
        _ => "application/octet-stream",
    }
}

#[derive(Args)]
pub struct VerifySignatureArgs {
    /// Trusted issuer keys (JWKS file, e.g. the issuer's /.well-known/jwks.json).
    #[arg(long)]
    trust: PathBuf,
    /// Signed status list token(s): the signer credential's status is then checked.
    #[arg(long)]
    status: Vec<PathBuf>,
    /// Verify as of this Unix time instead of now.
    #[arg(long)]
    at: Option<i64>,
    /// Tolerated clock difference, seconds.
    #[arg(long, default_value_t = 300)]
    skew: i64,
    /// Oldest status list accepted, seconds since it was issued.
    #[arg(long, default_value_t = 48 * 3600)]
    max_status_age: i64,
    /// The signed document.
    file: PathBuf,
    /// The detached signature (the JWS text, as `POST /v1/signatures` or `qrid wallet sign`
    /// wrote it).
    signature: PathBuf,
}

/// Prints the verdict JSON; exit 0 when valid, 1 when invalid or indeterminate.
pub fn verify_signature(a: VerifySignatureArgs) -> Result<ExitCode> {
    let now = a.at.unwrap_or_else(crate::now);
    let verifier =
        crate::offline::load_verifier(&a.trust, &a.status, now, a.skew, a.max_status_age)?;
    let jws = crate::input::read_file(
        &a.signature,
        qrid_credential::docsig::MAX_JWS_CHARS as u64 + 2,
        "signature",
    )?;
    let jws = String::from_utf8_lossy(&jws).trim().to_owned();
    let digest = hash_file(&a.file)?;
    let json = match verifier.verify_signature(&jws, Some(&digest), now) {
        Ok(v) => (v.is_valid(), v.to_json()),
        Err(e) => (false, e.to_json()),
    };
    println!("{}", json.1);
    Ok(if json.0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
