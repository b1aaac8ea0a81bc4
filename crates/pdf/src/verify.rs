//! Reading the signatures of a PDF back (§12.8.1): each signature field's dictionary, its
//! `/ByteRange` checked to cover the whole revision but the `/Contents` hex string, the CMS
//! verified over those bytes, the signer's certificate chained to the CA; then the verdict
//! with the certificate's status, by the same rules as the JWS signatures
//! (docs/signature-format.md).

use crate::cms::{verify_detached, VerifiedCms};
use crate::file::PdfFile;
use crate::object::{Dict, Object};
use crate::pki::{Cert, Subject};
use crate::PdfError;
use sha2::{Digest, Sha256};

/// Most form fields looked at.
const MAX_FIELDS: usize = 10_000;
/// Most signatures judged in one document.
pub const MAX_SIGNATURES: usize = 64;

/// A signature dictionary found in the document, before any check of its CMS.
#[derive(Debug, Clone)]
pub struct Embedded {
    /// The field's name (`/T`).
    pub field: String,
    /// `/ByteRange`.
    pub byte_range: [usize; 4],
    /// The CMS bytes (the `/Contents` between the two ranges).
    pub cms: Vec<u8>,
    /// `/SubFilter`.
    pub sub_filter: String,
    /// `/M`, Unix seconds, if given and readable.
    pub signing_time: Option<i64>,
}

impl Embedded {
    /// Where the signed revision ends.
    pub fn revision_end(&self) -> usize {
        self.byte_range[2] + self.byte_range[3]
    }
}

/// Why one signature does not verify. [`SigFailure::kind`] is stable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SigFailure {
    /// The `/ByteRange` does not cover the revision but for `/Contents`.
    #[error("the byte range does not cover the document but for the signature")]
    ByteRange,
    /// The signature is not a CMS this verifier reads (or not PAdES).
    #[error("{0}")]
    Malformed(String),
    /// The bytes were changed after signing.
    #[error("the signed bytes were changed after signing")]
    DigestMismatch,
    /// The CMS signature does not verify with the certificate's key.
    #[error("the signature does not verify with the signer's certificate")]
    BadSignature,
    /// The certificate is not issued by the trusted CA.
    #[error("the signer's certificate is not issued by the trusted CA")]
    UntrustedCertificate,
    /// The signature has no signing time (`/M`).
    #[error("the signature has no signing time")]
    NoSigningTime,
    /// Signed outside the certificate's validity.
    #[error("signed outside the certificate's validity")]
    SignedOutsideValidity,
    /// The signing time is in the future.
    #[error("the signing time is in the future")]
    SigningTimeInFuture,
    /// The certificate was revoked at or before the signing time.
    #[error("the certificate was revoked before the signing time")]
    RevokedBeforeSigning,
    /// The document was changed by a revision after this signature that no later signature
    /// covers.
    #[error("the document was changed after it was signed")]
    ModifiedAfterSigning,
}

impl SigFailure {
    /// The stable kind.
    pub fn kind(&self) -> &'static str {
        match self {
            SigFailure::ByteRange => "byte_range_invalid",
            SigFailure::Malformed(_) => "malformed_signature",
            SigFailure::DigestMismatch => "digest_mismatch",
            SigFailure::BadSignature => "bad_signature",
            SigFailure::UntrustedCertificate => "untrusted_certificate",
            SigFailure::NoSigningTime => "malformed_signature",
            SigFailure::SignedOutsideValidity => "signed_outside_validity",
            SigFailure::SigningTimeInFuture => "signing_time_in_future",
            SigFailure::RevokedBeforeSigning => "revoked_before_signing",
            SigFailure::ModifiedAfterSigning => "modified_after_signing",
        }
    }
}

/// A signature whose bytes, CMS and chain verified.
#[derive(Debug, Clone)]
pub struct Examined {
    /// The field's name.
    pub field: String,
    /// `/M`, Unix seconds.
    pub signing_time: i64,
    /// The signer's certificate.
    pub certificate: Cert,
    /// Who it names.
    pub signer: Subject,
    /// Whether it covers the whole file as given.
    pub covers_whole_file: bool,
    /// Whether every revision after it ends with another signature's (countersignatures only).
    pub later_revisions_signed: bool,
    /// SHA-256 of the signed revision (the file up to the end of the byte range).
    pub revision_sha256: [u8; 32],
    /// The PAdES baseline level: `B-B` when the profile's attributes are all there.
    pub level: Option<&'static str>,
}

/// The signature dictionaries of the document, in the order of their revisions.
pub fn signatures(pdf: &[u8]) -> Result<Vec<Embedded>, PdfError> {
    let file = PdfFile::open(pdf)?;
    let catalog = match file
        .trailer
        .get("Root")
        .map(|r| file.resolve(r))
        .transpose()?
    {
        Some(Object::Dict(d)) => d,
        _ => {
            return Err(PdfError::Malformed(
                "the trailer has no document catalog".into(),
            ))
        }
    };
    let Some(form) = catalog
        .get("AcroForm")
        .map(|f| file.resolve(f))
        .transpose()?
    else {
        return Ok(Vec::new());
    };
    let Object::Dict(form) = form else {
        return Ok(Vec::new());
    };
    let mut todo: Vec<(Object, usize, bool)> =
        match form.get("Fields").map(|f| file.resolve(f)).transpose()? {
            Some(Object::Array(a)) => a.into_iter().map(|f| (f, 0, false)).collect(),
            _ => Vec::new(),
        };
    let mut found = Vec::new();
    let mut looked = 0;
    while let Some((field, depth, parent_sig)) = todo.pop() {
        looked += 1;
        if looked > MAX_FIELDS || depth > 16 {
            return Err(PdfError::TooLarge("too many form fields"));
        }
        let Object::Dict(f) = file.resolve(&field)? else {
            continue;
        };
        let is_sig = f.is_name("FT", "Sig") || (f.get("FT").is_none() && parent_sig);
        if let Some(Object::Array(kids)) = f.get("Kids").map(|k| file.resolve(k)).transpose()? {
            todo.extend(kids.into_iter().map(|k| (k, depth + 1, is_sig)));
        }
        if !is_sig {
            continue;
        }
        let Some(Object::Dict(v)) = f.get("V").map(|v| file.resolve(v)).transpose()? else {
            continue;
        };
        let name = match f.get("T") {
            Some(Object::Str(s)) => decode_text(s),
            _ => String::new(),
        };
        found.push(embedded(pdf, name, &v)?);
        if found.len() > MAX_SIGNATURES {
            return Err(PdfError::TooLarge("too many signatures"));
        }
    }
    found.sort_by_key(Embedded::revision_end);
    Ok(found)
}

fn embedded(pdf: &[u8], field: String, v: &Dict) -> Result<Embedded, PdfError> {
    let Some(Object::Array(br)) = v.get("ByteRange") else {
        return Err(PdfError::Malformed("a signature without /ByteRange".into()));
    };
    let br: Vec<usize> = br
        .iter()
        .map(|o| o.as_int().and_then(|i| usize::try_from(i).ok()))
        .collect::<Option<_>>()
        .filter(|v: &Vec<usize>| v.len() == 4)
        .ok_or_else(|| PdfError::Malformed("/ByteRange is not four offsets".into()))?;
    let byte_range = [br[0], br[1], br[2], br[3]];
    let [a, b, c, d] = byte_range;
    let gap_ok = a == 0
        && b < c
        && c.checked_add(d).is_some_and(|e| e <= pdf.len())
        && pdf.get(b) == Some(&b'<')
        && pdf.get(c - 1) == Some(&b'>')
        && pdf[b + 1..c - 1].iter().all(u8::is_ascii_hexdigit);
    let cms = if gap_ok {
        hex::decode(&pdf[b + 1..c - 1]).unwrap_or_default()
    } else {
        Vec::new()
    };
    let sub_filter = match v.get("SubFilter") {
        Some(Object::Name(n)) => String::from_utf8_lossy(n).into_owned(),
        _ => String::new(),
    };
    let signing_time = match v.get("M") {
        Some(Object::Str(s)) => parse_pdf_date(&String::from_utf8_lossy(s)),
        _ => None,
    };
    Ok(Embedded {
        field,
        byte_range,
        cms,
        sub_filter,
        signing_time,
    })
}

/// Checks one signature's bytes, CMS and chain to `ca` (not yet its time or status).
pub fn examine(
    pdf: &[u8],
    all: &[Embedded],
    sig: &Embedded,
    ca: &Cert,
) -> Result<Examined, SigFailure> {
    if sig.cms.is_empty() {
        return Err(SigFailure::ByteRange);
    }
    let [a, b, c, d] = sig.byte_range;
    let mut h = Sha256::new();
    h.update(&pdf[a..a + b]);
    h.update(&pdf[c..c + d]);
    let digest: [u8; 32] = h.finalize().into();
    let VerifiedCms {
        signer,
        signing_certificate_v2,
        ..
    } = verify_detached(&sig.cms, &digest).map_err(|e| match e {
        PdfError::DigestMismatch => SigFailure::DigestMismatch,
        PdfError::BadSignature => SigFailure::BadSignature,
        other => SigFailure::Malformed(other.to_string()),
    })?;
    if !signer.is_signed_by(ca) {
        return Err(SigFailure::UntrustedCertificate);
    }
    let signing_time = sig.signing_time.ok_or(SigFailure::NoSigningTime)?;
    let end = sig.revision_end();
    // A later revision is acceptable only as part of a later signature's range: the newest
    // signature must end where the file ends.
    let later_revisions_signed = all.iter().any(|s| s.revision_end() == pdf.len());
    let level =
        (signing_certificate_v2 && sig.sub_filter == "ETSI.CAdES.detached").then_some("B-B");
    Ok(Examined {
        field: sig.field.clone(),
        signing_time,
        signer: signer.subject(),
        certificate: signer,
        covers_whole_file: end == pdf.len(),
        later_revisions_signed,
        revision_sha256: Sha256::digest(&pdf[..end]).into(),
        level,
    })
}

/// A certificate's status as the verifier knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertStatus {
    /// Not revoked.
    Good,
    /// Revoked at this time (Unix seconds).
    Revoked(i64),
    /// Not known (no CRL given).
    Unknown,
}

impl CertStatus {
    /// `valid`, `revoked` or `unchecked`.
    pub fn as_str(&self) -> &'static str {
        match self {
            CertStatus::Good => "valid",
            CertStatus::Revoked(_) => "revoked",
            CertStatus::Unknown => "unchecked",
        }
    }
}

/// The verdict on one examined signature at `now`, with the certificate's status: signed
/// inside the certificate's validity, not in the future (`skew` seconds allowed), not after a
/// revocation (a revocation after the signing time leaves it valid: the time is the
/// service's, whose keys never leave it), and no unsigned change after it.
pub fn judge(e: &Examined, status: CertStatus, now: i64, skew: i64) -> Result<(), SigFailure> {
    let (nb, na) = e.certificate.validity();
    if e.signing_time > now + skew {
        return Err(SigFailure::SigningTimeInFuture);
    }
    if e.signing_time + skew < nb || e.signing_time > na {
        return Err(SigFailure::SignedOutsideValidity);
    }
    if let CertStatus::Revoked(at) = status {
        if at <= e.signing_time {
            return Err(SigFailure::RevokedBeforeSigning);
        }
    }
    if !e.covers_whole_file && !e.later_revisions_signed {
        return Err(SigFailure::ModifiedAfterSigning);
    }
    Ok(())
}

/// `D:YYYYMMDDHHmmSSOHH'mm'` (§7.9.4) as Unix seconds; the parts after the year may be
/// missing.
pub fn parse_pdf_date(s: &str) -> Option<i64> {
    let s = s.strip_prefix("D:").unwrap_or(s);
    let digits = |from: usize, len: usize, default: i64| -> Option<i64> {
        match s.get(from..from + len) {
            Some(t) if t.bytes().all(|c| c.is_ascii_digit()) => t.parse().ok(),
            Some(_) => None,
            None => Some(default),
        }
    };
    let y = s.get(0..4)?.parse::<i64>().ok()?;
    let (mo, d, h, mi, sec) = (
        digits(4, 2, 1)?,
        digits(6, 2, 1)?,
        digits(8, 2, 0)?,
        digits(10, 2, 0)?,
        digits(12, 2, 0)?,
    );
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let offset = match s.as_bytes().get(14) {
        Some(sign @ (b'+' | b'-')) => {
            let oh = s.get(15..17)?.parse::<i64>().ok()?;
            let om = s
                .get(18..20)
                .and_then(|m| m.parse::<i64>().ok())
                .unwrap_or(0);
            let o = oh * 3600 + om * 60;
            if *sign == b'+' {
                o
            } else {
                -o
            }
        }
        _ => 0,
    };
    // days from civil (Howard Hinnant)
    let (yy, mm) = if mo <= 2 {
        (y - 1, mo + 9)
    } else {
        (y, mo - 3)
    };
    let era = yy.div_euclid(400);
    let yoe = yy - era * 400;
    let doy = (153 * mm + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + h * 3600 + mi * 60 + sec - offset)
}

/// A PDF text string: UTF-16BE with a byte-order mark, else PDFDocEncoding read as Latin-1.
pub(crate) fn decode_text(s: &[u8]) -> String {
    if s.starts_with(&[0xfe, 0xff]) {
        let units: Vec<u16> = s[2..]
            .chunks_exact(2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]))
            .collect();
        return String::from_utf16_lossy(&units);
    }
    s.iter().map(|&b| char::from(b)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pdf_dates_read_back() {
        assert_eq!(
            parse_pdf_date(&crate::sign::pdf_date(1_765_000_000)),
            Some(1_765_000_000)
        );
        assert_eq!(
            parse_pdf_date("D:20261206150000+07'00'"),
            Some(1_796_569_200 - 7 * 3600)
        );
        assert_eq!(parse_pdf_date("D:2026"), Some(1_767_225_600));
        assert_eq!(parse_pdf_date("D:20261306"), None);
        assert_eq!(parse_pdf_date("garbage"), None);
    }
}
