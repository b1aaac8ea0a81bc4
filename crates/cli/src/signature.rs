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
    /// Trusted issuer keys (JWKS file, e.g. the issuer's /.well-known/jwks.json): for a
    /// detached JWS.
    #[arg(long, required_unless_present = "ca")]
    trust: Option<PathBuf>,
    /// The CA certificate (PEM, the service's /v1/pki/ca.pem): for a signed PDF.
    #[arg(long, required_unless_present = "trust")]
    ca: Option<PathBuf>,
    /// The CA's CRL (DER, the service's /v1/pki/crl): a signed PDF's certificate status is
    /// then checked (without it: `status_now: unchecked`).
    #[arg(long, requires = "ca")]
    crl: Option<PathBuf>,
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
    /// The signed document: a PDF with its signatures inside (with `--ca`), or any file with
    /// its detached signature beside it (with `--trust`).
    file: PathBuf,
    /// The detached signature (the JWS text, as `POST /v1/signatures` or `qrid wallet sign`
    /// wrote it); none for a signed PDF.
    signature: Option<PathBuf>,
}

/// Prints the verdict JSON; exit 0 when valid, 1 when invalid or indeterminate.
pub fn verify_signature(a: VerifySignatureArgs) -> Result<ExitCode> {
    let now = a.at.unwrap_or_else(crate::now);
    let (Some(trust), Some(signature)) = (&a.trust, &a.signature) else {
        return verify_pdf(&a, now);
    };
    let verifier = crate::offline::load_verifier(trust, &a.status, now, a.skew, a.max_status_age)?;
    let jws = crate::input::read_file(
        signature,
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

/// A signed PDF, offline: every signature's bytes, CMS and chain to `--ca`, its time inside
/// the certificate's validity, and with `--crl` the certificate's revocation (revoked at or
/// before the signing time: invalid; after: valid, `status_now: revoked`).
fn verify_pdf(a: &VerifySignatureArgs, now: i64) -> Result<ExitCode> {
    use qrid_pdf::{CertStatus, Crl, PdfVerdict};
    let Some(ca_path) = &a.ca else {
        anyhow::bail!(
            "a detached signature needs --trust and the signature file; a signed PDF needs --ca"
        );
    };
    if a.signature.is_some() {
        anyhow::bail!("a signed PDF carries its signatures: give the PDF alone with --ca");
    }
    let ca_pem = crate::input::read_file(ca_path, 64 * 1024, "CA certificate")?;
    let ca = qrid_pdf::Cert::from_pem(&String::from_utf8_lossy(&ca_pem))
        .map_err(|e| anyhow::anyhow!("{}: {e}", ca_path.display()))?;
    let crl = match &a.crl {
        Some(p) => {
            let der = crate::input::read_file(p, 16 << 20, "CRL")?;
            Some(Crl::from_der(&der, &ca).map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?)
        }
        None => None,
    };
    let pdf = crate::input::read_file(&a.file, qrid_service::pades::MAX_PDF as u64, "PDF")?;
    let verdict = match qrid_pdf::report::examine_all(&pdf, &ca) {
        Err(e) => PdfVerdict::unreadable(&pdf, e),
        Ok(found) => {
            let judged = found
                .into_iter()
                .map(|f| {
                    let status = match (&crl, &f.examined) {
                        (Some(crl), Ok(e)) => match crl.revoked_at(&e.certificate.serial_hex()) {
                            Some(at) => CertStatus::Revoked(at),
                            None => CertStatus::Good,
                        },
                        _ => CertStatus::Unknown,
                    };
                    (f, status, None)
                })
                .collect();
            PdfVerdict::new(&pdf, judged, now, a.skew)
        }
    };
    println!("{}", verdict.to_json());
    Ok(if verdict.is_valid() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
