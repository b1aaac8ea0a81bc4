//! The offline workflow: issue, render, verify, publish status.

use crate::input::{par_lines, read_file, Line};
use crate::keys::load_key;
use anyhow::{bail, Context, Result};
use clap::Args;
use qrid_credential::{
    CitizenInput, Credential, HolderKey, Jwk, Jwks, Status, StatusBits, StatusIndex, StatusList,
    StatusListToken, StatusRef, MAX_INPUT_JSON,
};
use qrid_verifier::{Policy, StatusCache, TrustStore, Verifier};
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Lines processed per parallel batch: large enough to keep every core busy, small enough that
/// memory stays flat over millions of lines.
const BATCH: usize = 4096;

#[derive(Args)]
pub struct IssueArgs {
    /// Issuer private key (PKCS#8 PEM), e.g. keys-dev/issuer.key.pem.
    #[arg(long)]
    key: PathBuf,
    /// Claims JSON file (one object), or `-` for one JSON object per line on stdin.
    #[arg(long)]
    claims: String,
    /// Validity in days when the claims give no expiry_date.
    #[arg(long, default_value_t = 3650, value_parser = clap::value_parser!(u32).range(1..=36500))]
    valid_days: u32,
    /// The `iss` claim: a short issuer identifier such as the authority's ISO country code.
    #[arg(long, default_value = "VN")]
    issuer: String,
    /// Status list URI to reference (with --status-index).
    #[arg(long, requires = "status_index")]
    status_uri: Option<String>,
    /// Status list index; with `--claims -` the first line gets this index, the next +1, …
    #[arg(long, requires = "status_uri")]
    status_index: Option<u32>,
    /// The holder's public key (a JWK file, as `qrid wallet init` writes), bound as `cnf`.
    #[arg(long)]
    holder_jwk: Option<PathBuf>,
}

pub fn issue(args: IssueArgs) -> Result<ExitCode> {
    let key = load_key(&args.key)?;
    let holder = match &args.holder_jwk {
        Some(p) => {
            let jwk: Jwk = serde_json::from_slice(&read_file(p, 64 * 1024, "holder JWK")?)
                .context("holder JWK")?;
            Some(HolderKey(jwk.verifying_key()?))
        }
        None => None,
    };
    let now = crate::now();
    let build = |json: &str, offset: u32| -> Result<String> {
        let input = CitizenInput::from_json(json)?;
        let status = match (&args.status_uri, args.status_index) {
            (Some(uri), Some(start)) => {
                let idx = start
                    .checked_add(offset)
                    .context("status index overflows")?;
                Some(StatusRef::new(uri, StatusIndex(idx))?)
            }
            _ => None,
        };
        let credential =
            Credential::from_input(&input, &args.issuer, now, args.valid_days, status, holder)?;
        Ok(credential.sign(key.signing_key(), key.kid())?)
    };
    if args.claims != "-" {
        let json = read_file(args.claims.as_ref(), MAX_INPUT_JSON as u64, "claims file")?;
        let json = String::from_utf8(json).context("claims file is not UTF-8")?;
        let payload = build(&json, 0).with_context(|| format!("claims file {}", args.claims))?;
        println!("{payload}");
        return Ok(ExitCode::SUCCESS);
    }
    let mut out = BufWriter::with_capacity(1 << 16, std::io::stdout());
    let mut failed = 0usize;
    par_lines(
        std::io::stdin(),
        MAX_INPUT_JSON,
        BATCH,
        |line_no, line| match line {
            Line::Text(json) => build(&json, u32::try_from(line_no - 1).unwrap_or(u32::MAX)),
            Line::Refused(why) => Err(anyhow::anyhow!(why)),
        },
        |line_no, result| {
            match result {
                Ok(p) => writeln!(out, "{p}")?,
                Err(e) => {
                    failed += 1;
                    eprintln!("qrid: line {line_no}: {e:#}");
                }
            }
            Ok(())
        },
    )?;
    out.flush()?;
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

#[derive(Args)]
pub struct QrArgs {
    /// png or svg; by default taken from the --out extension, else png.
    #[arg(long)]
    format: Option<String>,
    /// Error correction level: L, M, Q or H.
    #[arg(long, default_value = "M")]
    ecc: String,
    /// Pixels per module (1 to 32).
    #[arg(long, default_value_t = 4)]
    scale: u32,
    /// Output file.
    #[arg(long)]
    out: PathBuf,
}

pub fn qr(args: QrArgs) -> Result<ExitCode> {
    let format = match &args.format {
        Some(f) => f.clone(),
        None => match args.out.extension().and_then(|e| e.to_str()) {
            Some(e) if e.eq_ignore_ascii_case("svg") => "svg".into(),
            _ => "png".into(),
        },
    };
    let format: qrid_qr::Format = format
        .parse()
        .map_err(|e| anyhow::anyhow!("--format: {e}"))?;
    let ecc: qrid_qr::Ecc = args
        .ecc
        .parse()
        .map_err(|e| anyhow::anyhow!("--ecc: {e}"))?;
    let mut text = String::new();
    std::io::stdin()
        .lock()
        .take(qrid_credential::payload::MAX_PAYLOAD_CHARS as u64 + 3)
        .read_to_string(&mut text)
        .context("cannot read the payload from standard input")?;
    let payload = text.trim_end_matches(['\r', '\n']);
    if payload.is_empty() {
        bail!("no payload on standard input");
    }
    if payload.contains('\n') {
        bail!("standard input holds more than one line; qrid qr renders one payload");
    }
    let bytes = qrid_qr::render(payload, ecc, args.scale, format)?;
    std::fs::write(&args.out, bytes)
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    Ok(ExitCode::SUCCESS)
}

/// The trust list file.
pub(crate) fn load_jwks(trust: &Path) -> Result<Jwks> {
    Jwks::from_json(&read_file(
        trust,
        qrid_credential::MAX_JWKS_BYTES as u64,
        "trust list",
    )?)
    .with_context(|| format!("trust list {}", trust.display()))
}

/// A signature stamp (`QS1:`) checked offline: the issuer's signature over it against `trust`,
/// and, given the document's SHA-256, whether the stamp is for that document. The stamp is
/// the issuer's word on who signed what and when; the signature itself and its current status
/// are at the record URL it names (`qrid verify-signature` or `GET` that URL).
fn stamp_verdict(text: &str, trust: &Jwks, document: Option<&[u8; 32]>) -> (bool, String) {
    let stamp = match qrid_credential::Stamp::verify(text, trust) {
        Ok(s) => s,
        Err(e) => {
            let j = serde_json::json!({
                "valid": false, "kind": "signature_stamp",
                "error": {"kind": e.kind(), "message": e.to_string()},
            });
            return (false, j.to_string());
        }
    };
    let matches = document.map(|d| d == &stamp.digest);
    let mut signer = serde_json::json!({"name": stamp.signer.as_str()});
    if let Some((title, agency)) = &stamp.role {
        signer["title"] = title.as_str().into();
        signer["agency"] = agency.as_str().into();
    }
    let mut j = serde_json::json!({
        "valid": matches != Some(false),
        "kind": "signature_stamp",
        "signature_id": stamp.signature_id,
        "record_url": stamp.url,
        "signer": signer,
        "signing_time": qrid_credential::format_utc(stamp.signed_at),
        "document": {
            "name": stamp.document_name.as_str(),
            "sha256": hex::encode(stamp.digest),
        },
        "note": "the issuer's stamp, checked offline: for the signature and its current status, fetch record_url",
    });
    if let Some(m) = matches {
        j["document"]["matches"] = m.into();
        if !m {
            j["error"] = serde_json::json!({
                "kind": "document_mismatch",
                "message": "the stamp is for another document (its SHA-256 differs)",
            });
        }
    }
    (matches != Some(false), j.to_string())
}

/// A verifier over the trust list file and the status list tokens (checked against it at
/// `now`); status is required when any list is given.
pub(crate) fn load_verifier(
    trust: &Path,
    status: &[PathBuf],
    now: i64,
    skew: i64,
    max_status_age: i64,
) -> Result<Verifier> {
    let jwks = load_jwks(trust)?;
    let trust_store =
        TrustStore::from_jwks(&jwks).with_context(|| format!("trust list {}", trust.display()))?;
    let mut cache = StatusCache::default();
    for path in status {
        let bytes = read_file(path, qrid_credential::MAX_TOKEN_BYTES as u64, "status list")?;
        cache
            .insert_token(&bytes, &trust_store, now)
            .with_context(|| format!("status list {} refused", path.display()))?;
    }
    let policy = Policy {
        clock_skew: skew,
        max_status_age,
        require_status: !status.is_empty(),
    };
    Ok(Verifier::new(trust_store, cache, policy))
}

#[derive(Args)]
pub struct VerifyArgs {
    /// Trusted issuer keys (JWKS file, e.g. keys-dev/jwks.json or the issuer's /.well-known/jwks.json).
    #[arg(long)]
    trust: PathBuf,
    /// Signed status list token(s); when given, status is checked for every credential that
    /// references a list.
    #[arg(long)]
    status: Vec<PathBuf>,
    /// Verify as of this Unix time instead of now.
    #[arg(long)]
    at: Option<i64>,
    /// Read the QR code(s) in this PNG or JPEG image.
    #[arg(long, conflicts_with = "payload")]
    image: Option<PathBuf>,
    /// Verify this payload string.
    #[arg(long)]
    payload: Option<String>,
    /// Tolerated clock difference, seconds.
    #[arg(long, default_value_t = 300)]
    skew: i64,
    /// Oldest status list accepted, seconds since it was issued.
    #[arg(long, default_value_t = 48 * 3600)]
    max_status_age: i64,
    /// The signed document, for signature stamps (`QS1:`): the verdict says whether the stamp
    /// is for this document.
    #[arg(long)]
    document: Option<PathBuf>,
}

pub fn verify(args: VerifyArgs) -> Result<ExitCode> {
    let now = args.at.unwrap_or_else(crate::now);
    let verifier = load_verifier(
        &args.trust,
        &args.status,
        now,
        args.skew,
        args.max_status_age,
    )?;
    let jwks = load_jwks(&args.trust)?;
    let document: Option<[u8; 32]> = match &args.document {
        Some(path) => Some(crate::signature::hash_file(path)?),
        None => None,
    };
    let check = |payload: &str| -> (bool, String) {
        if payload.starts_with(qrid_credential::payload::prefix::SIGNATURE_STAMP) {
            return stamp_verdict(payload, &jwks, document.as_ref());
        }
        let json = match verifier.verify(payload, now) {
            Ok(v) => (v.is_valid(), v.to_json()),
            Err(e) => (false, e.to_json()),
        };
        (json.0, json.1.to_string())
    };
    let mut out = BufWriter::with_capacity(1 << 16, std::io::stdout());
    let mut all_valid = true;
    let mut any = false;
    let mut emit = |(valid, line): (bool, String), out: &mut BufWriter<_>| -> Result<()> {
        all_valid &= valid;
        any = true;
        writeln!(out, "{line}")?;
        Ok(())
    };
    if let Some(p) = &args.payload {
        emit(check(p), &mut out)?;
    } else if let Some(path) = &args.image {
        let limits = qrid_qr::DecodeLimits::default();
        let bytes = read_file(path, limits.max_bytes as u64, "image")?;
        match qrid_qr::decode_image(&bytes, &limits) {
            Ok(texts) => {
                for t in texts {
                    emit(check(&t), &mut out)?;
                }
            }
            Err(e) => {
                let line = serde_json::json!({"valid": false, "error": {"kind": e.kind(), "message": e.to_string()}});
                emit((false, line.to_string()), &mut out)?;
            }
        }
    } else {
        par_lines(
            std::io::stdin(),
            qrid_credential::payload::MAX_PAYLOAD_CHARS,
            BATCH,
            |_, line| match line {
                Line::Text(p) => check(&p),
                Line::Refused(why) => {
                    let j = serde_json::json!({"valid": false, "error": {"kind": "too_large", "message": why}});
                    (false, j.to_string())
                }
            },
            |_, r| emit(r, &mut out),
        )?;
    }
    out.flush()?;
    if !any {
        bail!("no payload to verify (give --payload, --image, or lines on standard input)");
    }
    Ok(if all_valid {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

#[derive(Args)]
pub struct StatusListArgs {
    /// Issuer private key (PKCS#8 PEM).
    #[arg(long)]
    key: PathBuf,
    /// The list's URI: credentials reference it with --status-uri.
    #[arg(long)]
    uri: String,
    /// Number of entries.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=100_000_000))]
    size: u32,
    /// Revoked indices, comma-separated.
    #[arg(long, value_delimiter = ',')]
    revoked: Vec<u32>,
    /// Suspended indices, comma-separated (needs 2 bits per entry, chosen automatically).
    #[arg(long, value_delimiter = ',')]
    suspended: Vec<u32>,
    /// Seconds a verifier may cache the list before fetching a fresh one (the `ttl` claim).
    #[arg(long, default_value_t = 43_200)]
    ttl: u64,
    /// Output file; standard output if absent.
    #[arg(long)]
    out: Option<PathBuf>,
}

pub fn status_list(args: StatusListArgs) -> Result<ExitCode> {
    let key = load_key(&args.key)?;
    let bits = if args.suspended.is_empty() {
        StatusBits::One
    } else {
        StatusBits::Two
    };
    let mut list = StatusList::new(bits, args.size as usize)?;
    for (indices, status) in [
        (&args.revoked, Status::Invalid),
        (&args.suspended, Status::Suspended),
    ] {
        for &i in indices {
            if i >= args.size {
                bail!("index {i} is outside a list of {} entries", args.size);
            }
            list.set(StatusIndex(i), status)?;
        }
    }
    StatusRef::new(&args.uri, StatusIndex(0))?;
    let token = StatusListToken {
        uri: args.uri,
        issued_at: crate::now(),
        expires_at: None,
        ttl: Some(args.ttl),
        list,
    };
    let bytes = token.sign(key.signing_key(), key.kid())?;
    match &args.out {
        Some(p) => {
            std::fs::write(p, &bytes).with_context(|| format!("cannot write {}", p.display()))?
        }
        None => std::io::stdout().lock().write_all(&bytes)?,
    }
    Ok(ExitCode::SUCCESS)
}
