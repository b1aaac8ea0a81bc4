//! The verdict on a signed PDF, the same for the service (`POST /v1/signatures/verify`, with
//! its live status) and the CLI (`qrid verify-signature`, with a CRL or none): every
//! signature examined and judged, the document valid only when each of them is.

use crate::verify::{examine, judge, signatures, CertStatus, Embedded, Examined, SigFailure};
use crate::{Cert, PdfError};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// One signature, examined; its status is looked up by the caller.
#[derive(Debug, Clone)]
pub struct Found {
    /// The signature dictionary.
    pub embedded: Embedded,
    /// Its bytes, CMS and chain, checked.
    pub examined: Result<Examined, SigFailure>,
}

/// Reads and examines every signature of `pdf` against `ca`.
pub fn examine_all(pdf: &[u8], ca: &Cert) -> Result<Vec<Found>, PdfError> {
    let all = signatures(pdf)?;
    Ok(all
        .iter()
        .map(|e| Found {
            embedded: e.clone(),
            examined: examine(pdf, &all, e, ca),
        })
        .collect())
}

/// One signature's verdict.
#[derive(Debug, Clone)]
pub struct Judged {
    /// What was found.
    pub found: Found,
    /// The certificate's status used.
    pub status: CertStatus,
    /// Valid, or why not.
    pub result: Result<(), SigFailure>,
    /// The service's record of it (`{"id", "url", …}`), when the caller knows one.
    pub record: Option<Value>,
}

/// The verdict on a document.
#[derive(Debug, Clone)]
pub struct PdfVerdict {
    /// SHA-256 of the whole file as given.
    pub sha256: [u8; 32],
    /// Each signature, in the order of the revisions.
    pub signatures: Vec<Judged>,
    /// Why the document could not be read at all.
    pub error: Option<PdfError>,
}

impl PdfVerdict {
    /// Judges each found signature with its status at `now`.
    pub fn new(
        pdf: &[u8],
        found: Vec<(Found, CertStatus, Option<Value>)>,
        now: i64,
        skew: i64,
    ) -> PdfVerdict {
        PdfVerdict {
            sha256: Sha256::digest(pdf).into(),
            signatures: found
                .into_iter()
                .map(|(found, status, record)| {
                    let result = found
                        .examined
                        .as_ref()
                        .map_err(Clone::clone)
                        .and_then(|e| judge(e, status, now, skew));
                    Judged {
                        found,
                        status,
                        result,
                        record,
                    }
                })
                .collect(),
            error: None,
        }
    }

    /// The verdict on a document that could not be read.
    pub fn unreadable(pdf: &[u8], error: PdfError) -> PdfVerdict {
        PdfVerdict {
            sha256: Sha256::digest(pdf).into(),
            signatures: Vec::new(),
            error: Some(error),
        }
    }

    /// Valid: readable, signed, and every signature valid.
    pub fn is_valid(&self) -> bool {
        self.error.is_none()
            && !self.signatures.is_empty()
            && self.signatures.iter().all(|s| s.result.is_ok())
    }

    /// The kind of the first reason it is not valid: the document's, else the first failed
    /// signature's, else `no_signature`.
    pub fn failure_kind(&self) -> Option<&'static str> {
        if let Some(e) = &self.error {
            return Some(e.kind());
        }
        if self.signatures.is_empty() {
            return Some("no_signature");
        }
        self.signatures
            .iter()
            .find_map(|s| s.result.as_ref().err().map(SigFailure::kind))
    }

    /// The message of that reason.
    pub fn failure_message(&self) -> Option<String> {
        if let Some(e) = &self.error {
            return Some(e.to_string());
        }
        if self.signatures.is_empty() {
            return Some("the PDF has no signature".into());
        }
        self.signatures
            .iter()
            .find_map(|s| s.result.as_ref().err().map(ToString::to_string))
    }

    /// Whether anything was changed after the newest signature (no signature covers the end
    /// of the file).
    pub fn modified_after_signing(&self) -> bool {
        !self.signatures.is_empty()
            && !self
                .signatures
                .iter()
                .any(|s| s.found.examined.as_ref().is_ok_and(|e| e.covers_whole_file))
    }

    /// The verdict JSON (docs/signature-format.md "Verifying a signed PDF").
    pub fn to_json(&self) -> Value {
        let valid = self.is_valid();
        let mut v = json!({
            "valid": valid,
            "outcome": if valid { "valid" } else { "invalid" },
            "format": "pades",
            "document": {
                "sha256": hex::encode(self.sha256),
                "signatures": self.signatures.len(),
                "modified_after_signing": self.modified_after_signing(),
            },
            "signatures": self.signatures.iter().map(signature_json).collect::<Vec<_>>(),
        });
        if let (Some(kind), Some(message)) = (self.failure_kind(), self.failure_message()) {
            v["error"] = json!({"kind": kind, "message": message});
        }
        v
    }
}

fn signature_json(s: &Judged) -> Value {
    let mut v = json!({
        "field": s.found.embedded.field,
        "valid": s.result.is_ok(),
        "outcome": if s.result.is_ok() { "valid" } else { "invalid" },
        "sub_filter": s.found.embedded.sub_filter,
        "signing_time": s.found.embedded.signing_time,
        "time_source": "service",
    });
    if let Ok(e) = &s.found.examined {
        let (nb, na) = e.certificate.validity();
        v["level"] = e.level.map(|l| format!("PAdES-{l}")).into();
        v["signer"] = json!({
            "name": e.signer.common_name,
            "title": e.signer.title,
            "agency": e.signer.organization,
            "official_id": e.signer.serial,
        });
        v["covers_whole_file"] = e.covers_whole_file.into();
        v["revision_sha256"] = hex::encode(e.revision_sha256).into();
        let mut cert = json!({
            "serial": e.certificate.serial_hex(),
            "sha256": hex::encode(e.certificate.sha256()),
            "not_before": nb,
            "not_after": na,
            "valid_at_signing": e.signing_time >= nb && e.signing_time <= na
                && !matches!(s.status, CertStatus::Revoked(at) if at <= e.signing_time),
            "status_now": s.status.as_str(),
        });
        if let CertStatus::Revoked(at) = s.status {
            cert["changed_at"] = at.into();
        }
        v["certificate"] = cert;
    }
    if let Some(r) = &s.record {
        v["record"] = r.clone();
    }
    if let Err(f) = &s.result {
        v["error"] = json!({"kind": f.kind(), "message": f.to_string()});
    }
    v
}
