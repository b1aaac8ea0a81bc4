//! Verifying document signatures (docs/signature-format.md): who signed, when, whether the
//! document matches, and whether the signer credential was valid when the document was signed
//! and is now.
//!
//! Three steps, so that a server can put its live status in the middle:
//! 1. [`Verifier::examine_signature`]: format, the signer credential's issuer signature, the
//!    binding of the signing key to it, the JWS signature, the document digest. No clock, no
//!    status.
//! 2. The signer credential's status: from the verifier's cached lists
//!    ([`Verifier::verify_signature`] does this) or, on the issuer's own service, from its
//!    database, with the time of the change ([`SignerStatus`]).
//! 3. [`judge`]: the signing time against the credential's validity and status.
//!
//! A signature made before its signer credential was revoked stays valid, and says so; one
//! made after is invalid. That needs two times to be trustworthy: the signing time (an
//! official's signature is made by the service, which sets `sigT`; a wallet's `sigT` is only
//! its holder's claim) and the revocation time (a status list does not carry it, so an offline
//! verifier that sees "revoked" answers `indeterminate` and the issuer's endpoint decides).

use crate::signers::{Checked, SignerCache};
use crate::{KeyLookup, Policy, Verifier, VerifyError};
use qrid_credential::docsig::{DocumentRef, DocumentSignature};
use qrid_credential::{
    open, Credential, CredentialId, Error, HolderKey, Jwk, Kid, SignerCredential, Status,
    StatusRef, VerifyingKey,
};
use serde_json::{json, Value};
use std::sync::Arc;
use thiserror::Error as ThisError;

/// Whose signature it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signer {
    /// An official, certified by a signer credential; the key is held by the issuing service.
    Official(SignerCredential),
    /// A citizen, with the holder key of their identity credential.
    Citizen(Credential),
}

impl Signer {
    /// The signer credential's id.
    pub fn credential_id(&self) -> CredentialId {
        match self {
            Signer::Official(c) => c.id,
            Signer::Citizen(c) => c.id,
        }
    }

    fn window(&self) -> (i64, i64) {
        match self {
            Signer::Official(c) => (c.issued_at, c.expires_at),
            Signer::Citizen(c) => (
                c.not_before.unwrap_or(c.issued_at).max(c.issued_at),
                c.expires_at,
            ),
        }
    }

    /// The signer credential's status reference.
    pub fn status(&self) -> Option<&StatusRef> {
        match self {
            Signer::Official(c) => c.status.as_ref(),
            Signer::Citizen(c) => c.status.as_ref(),
        }
    }

    /// Whether the signing time is the issuing service's (officials' keys never leave it)
    /// rather than the signer's own claim (a wallet).
    pub fn time_attested(&self) -> bool {
        matches!(self, Signer::Official(_))
    }
}

/// What a signature says, after its signatures and the document digest were checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureCheck {
    /// The signer, from the verified signer credential.
    pub signer: Signer,
    /// The signing key (the credential's `cnf`).
    pub signer_key: VerifyingKey,
    /// Thumbprint of the issuer key that certified the signer.
    pub issuer_kid: Kid,
    /// `sigT`, Unix seconds.
    pub signing_time: i64,
    /// The document as the signature names it.
    pub document: DocumentRef,
    /// Whether the given document (digest) is the signed one; `None` if none was given.
    pub document_matches: Option<bool>,
    /// The service's record id (`qsid`), for service-made signatures.
    pub signature_id: Option<String>,
}

/// The signer credential's status as the caller knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignerStatus {
    /// Valid now.
    Valid,
    /// No status could be had (no list cached, not required by the policy).
    Unchecked,
    /// Revoked, since the given time if known.
    Revoked {
        /// Unix seconds of the revocation, if known.
        since: Option<i64>,
    },
    /// Suspended, since the given time if known.
    Suspended {
        /// Unix seconds of the suspension, if known.
        since: Option<i64>,
    },
    /// A status value this verifier does not know.
    Other(u8),
}

/// Why a signature is not valid, or cannot be decided. [`SigReason::kind`] is stable.
#[derive(Debug, Clone, PartialEq, Eq, ThisError)]
#[non_exhaustive]
pub enum SigReason {
    /// The JWS is malformed (parts, header members, algorithm, critical parameters).
    #[error("{0}")]
    Format(Error),
    /// The signer credential in `qsc` is malformed, not signed by a trusted issuer key, or
    /// its claims are broken.
    #[error("signer credential: {0}")]
    SignerCredential(Error),
    /// The signer credential is an identity credential without a holder key: nobody can sign
    /// with it.
    #[error("the identity credential binds no holder key")]
    NoHolderKey,
    /// The JWS `kid` is not the thumbprint of the key the signer credential certifies.
    #[error("the signature's kid is not the signer credential's key")]
    KeyMismatch,
    /// The JWS signature does not verify with the certified key (an edited header, say).
    #[error("signature does not verify with the signer's key")]
    BadSignature,
    /// The document is not the one that was signed.
    #[error("the document's SHA-256 digest is not the signed one")]
    DigestMismatch,
    /// The signing time lies in the future.
    #[error("the signing time lies in the future")]
    SigningTimeInFuture,
    /// The signer credential was not yet or no longer valid at the signing time.
    #[error("the signer credential was not valid at the signing time")]
    SignedOutsideValidity,
    /// The signer credential was revoked or suspended at or before the signing time.
    #[error("the signer credential was {status} before the document was signed")]
    RevokedBeforeSigning {
        /// `revoked` or `suspended`.
        status: &'static str,
    },
    /// The signer credential is revoked or suspended now and the time of that is unknown
    /// here (status lists do not carry it): ask the issuer's verify endpoint.
    #[error("the signer credential is {status} now; when is unknown here")]
    RevocationTimeUnknown {
        /// `revoked` or `suspended`.
        status: &'static str,
    },
    /// The signer credential was revoked after the signing time the wallet claims, and a
    /// wallet's signing time proves nothing about when it signed.
    #[error("the signer credential was {status} after the claimed signing time, which only the signer asserts")]
    SigningTimeUnproven {
        /// `revoked` or `suspended`.
        status: &'static str,
    },
    /// The status list has a value this verifier does not know.
    #[error("unknown status value {0}")]
    UnknownStatus(u8),
}

qrid_credential::stable_kinds!(SigReason, pub fn kind, const KINDS {
    SigReason::Format(e) if e.kind() == "too_large" => "too_large",
    SigReason::Format(_) => "malformed_signature",
    SigReason::SignerCredential(Error::UnknownKey) => "unknown_issuer_key",
    SigReason::SignerCredential(_) => "bad_signer_credential",
    SigReason::NoHolderKey => "no_holder_key",
    SigReason::KeyMismatch => "key_mismatch",
    SigReason::BadSignature => "bad_signature",
    SigReason::DigestMismatch => "digest_mismatch",
    SigReason::SigningTimeInFuture => "signing_time_in_future",
    SigReason::SignedOutsideValidity => "signed_outside_validity",
    SigReason::RevokedBeforeSigning { .. } => "revoked_before_signing",
    SigReason::RevocationTimeUnknown { .. } => "revocation_time_unknown",
    SigReason::SigningTimeUnproven { .. } => "signing_time_unproven",
    SigReason::UnknownStatus(_) => "unknown_status",
});

/// A checked signature that is not valid, with what was learned before the failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureFailure {
    /// Why.
    pub reason: SigReason,
    /// The signature's content, once its signatures verified (a digest mismatch still names
    /// the signer).
    pub check: Option<Box<SignatureCheck>>,
}

impl From<SigReason> for SignatureFailure {
    fn from(reason: SigReason) -> Self {
        SignatureFailure {
            reason,
            check: None,
        }
    }
}

/// How the signer credential stands now, for a valid signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// Valid now, per a status list (or the issuer's records).
    Valid,
    /// No status was checked.
    Unchecked,
    /// Expired since the signing time.
    Expired,
    /// Revoked after the signing time.
    RevokedSince(i64),
    /// Suspended after the signing time.
    SuspendedSince(i64),
}

impl Standing {
    fn as_str(self) -> &'static str {
        match self {
            Standing::Valid => "valid",
            Standing::Unchecked => "unchecked",
            Standing::Expired => "expired",
            Standing::RevokedSince(_) => "revoked",
            Standing::SuspendedSince(_) => "suspended",
        }
    }
}

/// The answer about a signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignatureVerdict {
    /// Valid: made by the named signer with a credential valid at the signing time.
    Valid {
        /// What the signature says.
        check: Box<SignatureCheck>,
        /// The signer credential now.
        now: Standing,
    },
    /// Checked and not valid.
    Invalid(SignatureFailure),
    /// Checked, but whether it is valid depends on what this verifier cannot know.
    Indeterminate {
        /// What is missing.
        reason: SigReason,
        /// What the signature says.
        check: Box<SignatureCheck>,
    },
}

/// The verifier could not check the signature at all.
#[derive(Debug, Clone, ThisError)]
#[non_exhaustive]
pub enum SignatureError {
    /// The status list needed is not cached and the policy requires a status check.
    #[error(transparent)]
    Status(#[from] VerifyError),
}

impl<K: KeyLookup> Verifier<K> {
    /// Step 1: parses the JWS, verifies the signer credential against the trusted issuer keys,
    /// checks that the JWS `kid` is the certified key, verifies the JWS, and compares
    /// `document_digest` (SHA-256 of the document) when given.
    pub fn examine_signature(
        &self,
        jws: &str,
        document_digest: Option<&[u8; 32]>,
    ) -> Result<SignatureCheck, SignatureFailure> {
        let sig = DocumentSignature::parse(jws).map_err(SigReason::Format)?;
        let header = sig.header();
        let key = SignerCache::key(&header.credential);
        let checked = match self.signers.get(&key) {
            Some(c) => c,
            None => {
                let c: Checked = Arc::new(self.signer_of(&header.credential)?);
                self.signers.insert(key, c.clone());
                c
            }
        };
        let (signer, signer_key, issuer_kid) = (checked.0.clone(), checked.1, checked.2.clone());
        if Kid::thumbprint(&signer_key) != header.kid {
            return Err(SigReason::KeyMismatch.into());
        }
        sig.verify(&signer_key)
            .map_err(|_| SigReason::BadSignature)?;
        let document_matches = document_digest.map(|d| {
            // Digests are public; no need for a constant-time comparison.
            *d == header.document.digest
        });
        let check = SignatureCheck {
            signer,
            signer_key,
            issuer_kid,
            signing_time: header.signing_time,
            document: header.document.clone(),
            document_matches,
            signature_id: header.signature_id.clone(),
        };
        if document_matches == Some(false) {
            return Err(SignatureFailure {
                reason: SigReason::DigestMismatch,
                check: Some(Box::new(check)),
            });
        }
        Ok(check)
    }

    fn signer_of(&self, text: &str) -> Result<(Signer, VerifyingKey, Kid), SigReason> {
        let bad = SigReason::SignerCredential;
        // An official's signer credential says so in its typ; anything else must be an
        // identity credential.
        let (msg, official) = match SignerCredential::open(text) {
            Ok(m) => (m, true),
            Err(_) => (open(text).map_err(bad)?, false),
        };
        let candidates = self.keys.candidates(msg.kid());
        if candidates.is_empty() {
            return Err(bad(Error::UnknownKey));
        }
        let issuer = candidates
            .into_iter()
            .find(|k| msg.verify(&k.key).is_ok())
            .ok_or(bad(Error::BadSignature))?;
        if official {
            let c = SignerCredential::from_cbor(msg.payload()).map_err(bad)?;
            let key = c.key;
            Ok((Signer::Official(c), key, issuer.kid.clone()))
        } else {
            let c = Credential::from_cbor(msg.payload()).map_err(bad)?;
            let Some(HolderKey(key)) = c.holder else {
                return Err(SigReason::NoHolderKey);
            };
            Ok((Signer::Citizen(c), key, issuer.kid.clone()))
        }
    }

    /// Steps 1 to 3 offline: examines the signature, takes the signer credential's status
    /// from the cached lists (`Err` only when the policy requires a list that is missing),
    /// and judges at `now`.
    pub fn verify_signature(
        &self,
        jws: &str,
        document_digest: Option<&[u8; 32]>,
        now: i64,
    ) -> Result<SignatureVerdict, SignatureError> {
        let check = match self.examine_signature(jws, document_digest) {
            Ok(c) => c,
            Err(f) => return Ok(SignatureVerdict::Invalid(f)),
        };
        let status = match check.signer.status() {
            None => SignerStatus::Unchecked,
            Some(r) => match self.status.get(&r.uri) {
                None if self.policy.require_status => {
                    return Err(VerifyError::StatusListUnavailable { uri: r.uri.clone() }.into())
                }
                None => SignerStatus::Unchecked,
                Some(list) => {
                    // The freshness rule of identity credentials: too old, or past its exp.
                    let stale =
                        now.saturating_sub(list.token.issued_at) > self.policy.max_status_age
                            || list.token.expires_at.is_some_and(|exp| {
                                exp <= now.saturating_sub(self.policy.clock_skew)
                            });
                    match list.token.list.get(r.index) {
                        Some(Status::Invalid) => SignerStatus::Revoked { since: None },
                        Some(Status::Suspended) => SignerStatus::Suspended { since: None },
                        _ if stale && self.policy.require_status => {
                            return Err(
                                VerifyError::StatusListUnavailable { uri: r.uri.clone() }.into()
                            )
                        }
                        _ if stale => SignerStatus::Unchecked,
                        Some(Status::Valid) => SignerStatus::Valid,
                        Some(Status::Other(v)) => SignerStatus::Other(v),
                        None => SignerStatus::Other(u8::MAX),
                    }
                }
            },
        };
        Ok(judge(check, status, now, &self.policy))
    }
}

/// Step 3: the signing time against the signer credential's validity window and status.
pub fn judge(
    check: SignatureCheck,
    status: SignerStatus,
    now: i64,
    policy: &Policy,
) -> SignatureVerdict {
    let skew = policy.clock_skew;
    let t = check.signing_time;
    let invalid = |reason, check| {
        SignatureVerdict::Invalid(SignatureFailure {
            reason,
            check: Some(Box::new(check)),
        })
    };
    if t > now.saturating_add(skew) {
        return invalid(SigReason::SigningTimeInFuture, check);
    }
    let (starts, expires) = check.signer.window();
    if starts > t.saturating_add(skew) || expires <= t.saturating_sub(skew) {
        return invalid(SigReason::SignedOutsideValidity, check);
    }
    let withdrawn = |since: Option<i64>, name: &'static str| match since {
        None => Err(SigReason::RevocationTimeUnknown { status: name }),
        Some(at) if at <= t => Err(SigReason::RevokedBeforeSigning { status: name }),
        Some(_) if !check.signer.time_attested() => {
            Err(SigReason::SigningTimeUnproven { status: name })
        }
        Some(at) => Ok(at),
    };
    let now_standing = match status {
        SignerStatus::Valid if expires <= now.saturating_sub(skew) => Standing::Expired,
        SignerStatus::Valid => Standing::Valid,
        SignerStatus::Unchecked => Standing::Unchecked,
        SignerStatus::Other(v) => return invalid(SigReason::UnknownStatus(v), check),
        SignerStatus::Revoked { since } | SignerStatus::Suspended { since } => {
            let name = if matches!(status, SignerStatus::Revoked { .. }) {
                "revoked"
            } else {
                "suspended"
            };
            match withdrawn(since, name) {
                Ok(at) if name == "revoked" => Standing::RevokedSince(at),
                Ok(at) => Standing::SuspendedSince(at),
                Err(reason @ SigReason::RevokedBeforeSigning { .. }) => {
                    return invalid(reason, check)
                }
                Err(reason) => {
                    return SignatureVerdict::Indeterminate {
                        reason,
                        check: Box::new(check),
                    }
                }
            }
        }
    };
    SignatureVerdict::Valid {
        check: Box::new(check),
        now: now_standing,
    }
}

fn check_json(c: &SignatureCheck) -> Value {
    let signer = match &c.signer {
        Signer::Official(s) => json!({
            "kind": "official",
            "name": s.official.name.as_str(),
            "title": s.official.title.as_str(),
            "agency": s.official.agency.as_str(),
            "official_id": s.subject,
        }),
        Signer::Citizen(s) => json!({
            "kind": "citizen",
            "name": s.citizen.full_name.as_str(),
            "claims": s.to_json(),
        }),
    };
    let (starts, expires) = c.signer.window();
    let mut out = json!({
        "signer": signer,
        "signer_jwk": Jwk::from_verifying_key(&c.signer_key),
        "signing_time": qrid_credential::format_utc(c.signing_time),
        "signing_time_unix": c.signing_time,
        "time_source": if c.signer.time_attested() { "service" } else { "signer" },
        "document": {
            "name": c.document.name.as_str(),
            "media_type": c.document.media_type,
            "sha256": c.document.digest_hex(),
            "matches": c.document_matches,
        },
        "signer_credential": {
            "id": c.signer.credential_id().to_string(),
            "issuer_kid": c.issuer_kid.to_string(),
            "valid_from": starts,
            "expires_at": expires,
        },
    });
    if let Some(id) = &c.signature_id {
        out["signature_id"] = id.clone().into();
    }
    out
}

impl SignatureVerdict {
    /// Whether the signature is valid.
    pub fn is_valid(&self) -> bool {
        matches!(self, SignatureVerdict::Valid { .. })
    }

    /// The verdict JSON of `qrid verify-signature` and `POST /v1/signatures/verify`:
    /// `{"valid", "outcome": "valid|invalid|indeterminate", "signer", "signer_jwk",
    /// "signing_time", "time_source", "document", "signer_credential": {…, "valid_at_signing",
    /// "status_now", "changed_at"}, "error": {"kind", "message"}}`.
    pub fn to_json(&self) -> Value {
        match self {
            SignatureVerdict::Valid { check, now } => {
                let mut out = check_json(check);
                out["valid"] = true.into();
                out["outcome"] = "valid".into();
                let sc = &mut out["signer_credential"];
                sc["valid_at_signing"] = true.into();
                sc["status_now"] = now.as_str().into();
                if let Standing::RevokedSince(at) | Standing::SuspendedSince(at) = now {
                    sc["changed_at"] = (*at).into();
                }
                out
            }
            SignatureVerdict::Invalid(f) => {
                let mut out = f
                    .check
                    .as_deref()
                    .map(check_json)
                    .unwrap_or_else(|| json!({}));
                out["valid"] = false.into();
                out["outcome"] = "invalid".into();
                out["error"] = json!({"kind": f.reason.kind(), "message": f.reason.to_string()});
                if f.check.is_some() {
                    let at_signing = !matches!(
                        f.reason,
                        SigReason::SignedOutsideValidity | SigReason::RevokedBeforeSigning { .. }
                    );
                    out["signer_credential"]["valid_at_signing"] = at_signing.into();
                }
                out
            }
            SignatureVerdict::Indeterminate { reason, check } => {
                let mut out = check_json(check);
                out["valid"] = false.into();
                out["outcome"] = "indeterminate".into();
                out["error"] = json!({"kind": reason.kind(), "message": reason.to_string()});
                let status = match reason {
                    SigReason::RevocationTimeUnknown { status }
                    | SigReason::SigningTimeUnproven { status }
                    | SigReason::RevokedBeforeSigning { status } => *status,
                    _ => "unknown",
                };
                out["signer_credential"]["status_now"] = status.into();
                out
            }
        }
    }
}

impl SignatureError {
    /// The stable snake_case kind.
    pub fn kind(&self) -> &'static str {
        match self {
            SignatureError::Status(e) => e.kind(),
        }
    }

    /// The same shape as an invalid verdict.
    pub fn to_json(&self) -> Value {
        json!({"valid": false, "outcome": "error", "error": {"kind": self.kind(), "message": self.to_string()}})
    }
}

#[cfg(test)]
mod tests;
