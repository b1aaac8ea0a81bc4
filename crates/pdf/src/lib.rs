//! PAdES signatures (ETSI EN 319 142-1, baseline B-B) for qrid's officials: a bounded reader
//! of the PDF structure (modules `file` and `object`), the incremental update that adds a signature
//! with a visible stamp ([`sign`], [`appearance`]), the CMS SignedData in it ([`cms`]), the
//! authority's CA certificates and CRL ([`pki`]), and the verification of signed PDFs
//! ([`verify`]).
//!
//! Pure: bytes in, bytes out, no I/O and no clock (times are arguments). Keys sign through
//! `signature::Signer`. Every input is bounded: the whole document is held (the caller limits
//! its size), structure streams inflate to at most 32 MiB each and 128 MiB in all, nesting
//! and chains are capped, and page contents are never decoded.
//!
//! Refused: encrypted documents ([`PdfError::Encrypted`]), anything that is not a PDF this
//! reader can follow ([`PdfError::NotPdf`], [`PdfError::Malformed`],
//! [`PdfError::Truncated`], [`PdfError::Unsupported`]).

pub mod appearance;
pub mod cms;
mod file;
mod object;
pub mod pki;
pub mod report;
pub mod sign;
pub mod verify;

pub use appearance::Appearance;
pub use pki::{Cert, Crl, Revocation, Subject};
pub use report::{Found, PdfVerdict};
pub use sign::{last_page, PageBox, Placement, Prepared, SignatureInfo};
pub use verify::{CertStatus, Embedded, Examined, SigFailure};

/// Why a PDF could not be read, signed, or its signature checked. [`PdfError::kind`] is
/// stable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PdfError {
    /// No `%PDF-` header.
    #[error("this is not a PDF document")]
    NotPdf,
    /// The file ends too early (no `startxref`, a cut object).
    #[error("the PDF is truncated")]
    Truncated,
    /// The structure is broken.
    #[error("the PDF is malformed: {0}")]
    Malformed(String),
    /// A structure this reader does not follow.
    #[error("the PDF uses what this service does not support: {0}")]
    Unsupported(String),
    /// Encrypted (password-protected) documents are not signed.
    #[error("the PDF is encrypted; sign the document without its password protection")]
    Encrypted,
    /// A bound was reached.
    #[error("the PDF is too large: {0}")]
    TooLarge(&'static str),
    /// A certificate or CRL could not be made or read.
    #[error("certificate: {0}")]
    Certificate(String),
    /// The CMS could not be made or read.
    #[error("CMS: {0}")]
    Cms(String),
    /// The signed bytes' digest is not the one signed.
    #[error("the signed bytes were changed after signing")]
    DigestMismatch,
    /// The CMS signature does not verify.
    #[error("the signature does not verify")]
    BadSignature,
}

impl PdfError {
    /// The stable kind.
    pub fn kind(&self) -> &'static str {
        match self {
            PdfError::NotPdf => "not_pdf",
            PdfError::Truncated | PdfError::Malformed(_) => "malformed_pdf",
            PdfError::Unsupported(_) => "unsupported_pdf",
            PdfError::Encrypted => "encrypted_pdf",
            PdfError::TooLarge(_) => "pdf_too_large",
            PdfError::Certificate(_) => "certificate",
            PdfError::Cms(_) => "malformed_signature",
            PdfError::DigestMismatch => "digest_mismatch",
            PdfError::BadSignature => "bad_signature",
        }
    }
}

/// Signs `pdf` in one step: the update with the stamp, then the CMS by `key` (certified by
/// `cert`, which `chain` certifies) over it. Returns the signed document and where the stamp
/// went on the last page.
pub fn sign_pdf<S: signature::Signer<p256::ecdsa::Signature>>(
    pdf: &[u8],
    info: &SignatureInfo,
    appearance: &Appearance,
    placement: Placement,
    key: &S,
    cert: &Cert,
    chain: &[&Cert],
) -> Result<(Vec<u8>, [f64; 4]), PdfError> {
    let prepared = sign::prepare(pdf, info, appearance, placement)?;
    let rect = prepared.rect;
    let cms = cms::sign_detached(&prepared.digest(), key, cert, chain)?;
    Ok((prepared.finish(&cms)?, rect))
}
