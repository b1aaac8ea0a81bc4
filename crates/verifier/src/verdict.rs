use qrid_credential::{Credential, CredentialId, Kid, Status};
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::Value;
use thiserror::Error;

/// The outcome of a check that could be carried out.
#[derive(Debug, Clone)]
// Valid is the common case on the hot path; boxing it would add an allocation per check to
// save a few hundred bytes of stack on the rare invalid one.
#[allow(clippy::large_enum_variant)]
pub enum Verdict {
    /// Signed by a trusted key, within its validity, not revoked or suspended.
    Valid(Verified),
    /// Checked and not valid.
    Invalid(Reason),
}

/// A valid credential and what it was checked with.
#[derive(Debug, Clone)]
pub struct Verified {
    /// The issuer key that signed it.
    pub kid: Kid,
    /// The verified claims.
    pub credential: Credential,
    /// What the status check found.
    pub status: StatusOutcome,
}

impl Verified {
    /// The last step of every credential check, whoever read the status: judges this
    /// credential (signature, claims and time already checked) by the status found at its
    /// index. `found` is `None` when the index lies past the end of the list. A valid status
    /// keeps the credential valid with `if_valid` as its outcome (a published list's age, or
    /// the issuer's live records); revoked, suspended and unknown values make it invalid.
    pub fn judge(self, found: Option<Status>, if_valid: StatusOutcome) -> Verdict {
        let credential = match found {
            Some(Status::Valid) => {
                return Verdict::Valid(Verified {
                    status: if_valid,
                    ..self
                })
            }
            _ => Box::new(self.credential),
        };
        Verdict::Invalid(match found {
            Some(Status::Invalid) => Reason::Revoked { credential },
            Some(Status::Suspended) => Reason::Suspended { credential },
            Some(Status::Other(value)) => Reason::UnknownStatus { value, credential },
            // A valid status returned above: only an index past the end is left.
            Some(Status::Valid) | None => Reason::StatusIndexOutOfRange { credential },
        })
    }
}

/// What the status check found for a valid credential. More ways of checking may be added,
/// so matches outside this crate need a catch-all arm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum StatusOutcome {
    /// The status list says valid; `list_age` is seconds since the list was issued.
    Valid {
        /// Seconds since the status list's `iat`.
        list_age: i64,
    },
    /// The issuer's own current status says valid: a service checking credentials it issued
    /// itself reads its live records rather than a published list, so there is no list age.
    Current,
    /// No status was checked: the credential has no status reference, or no list was at hand
    /// and the policy allows that.
    Unchecked,
}

/// Why a checked credential is not valid.
#[derive(Debug, Clone, Error)]
#[non_exhaustive]
pub enum Reason {
    /// A format failure (prefix, base45, zlib, size, CBOR, COSE, algorithm), a bad signature or
    /// bad claims: the kinds of [`qrid_credential::Error`].
    #[error(transparent)]
    Format(qrid_credential::Error),
    /// No trusted key has a thumbprint starting with the credential's `kid`.
    #[error("the credential's key is not in the trust list")]
    UnknownKey,
    /// `exp` has passed (beyond the allowed skew).
    #[error("the credential expired")]
    Expired {
        /// The credential.
        credential: Box<Credential>,
    },
    /// `iat` (or `nbf`) lies in the future (beyond the allowed skew).
    #[error("the credential is not valid yet")]
    NotYetValid {
        /// The credential.
        credential: Box<Credential>,
    },
    /// The status list says revoked.
    #[error("the credential has been revoked")]
    Revoked {
        /// The credential.
        credential: Box<Credential>,
    },
    /// The status list says suspended.
    #[error("the credential is suspended")]
    Suspended {
        /// The credential.
        credential: Box<Credential>,
    },
    /// The status list at hand is older than the policy allows, or past its own `exp`; the
    /// message says which of the two, so that nobody reads an expiry as an age limit.
    #[error("{}", stale_message(*age, *max_age, *expired))]
    StaleStatusList {
        /// Seconds since the list's `iat`.
        age: i64,
        /// The policy's limit.
        max_age: i64,
        /// The list is past its `exp` (the issuer's limit), whatever the policy allows.
        expired: bool,
        /// The credential.
        credential: Box<Credential>,
    },
    /// The credential's status index lies past the end of its list.
    #[error("the credential's status index is past the end of its status list")]
    StatusIndexOutOfRange {
        /// The credential.
        credential: Box<Credential>,
    },
    /// The status list holds an application-specific value this verifier does not know.
    #[error("the status list holds the unknown value {value}")]
    UnknownStatus {
        /// The value.
        value: u8,
        /// The credential.
        credential: Box<Credential>,
    },
}

// The kinds of the reasons of this crate; a format error answers its own kind (see `kind`).
qrid_credential::stable_kinds!(Reason, pub(crate) fn own_kind, const OWN_KINDS {
    Reason::Format(_) => "format",
    Reason::UnknownKey => "unknown_key",
    Reason::Expired { .. } => "expired",
    Reason::NotYetValid { .. } => "not_yet_valid",
    Reason::Revoked { .. } => "revoked",
    Reason::Suspended { .. } => "suspended",
    Reason::StaleStatusList { .. } => "stale_status_list",
    Reason::StatusIndexOutOfRange { .. } => "status_index_out_of_range",
    Reason::UnknownStatus { .. } => "unknown_status",
});

impl Reason {
    /// The stable snake_case kind: a format error's own kind (`bad_signature`, `cbor`, …), or
    /// this reason's (`expired`, `revoked`, …).
    pub fn kind(&self) -> &'static str {
        match self {
            Reason::Format(e) => e.kind(),
            r => r.own_kind(),
        }
    }

    /// The credential, when the signature verified and the claims parsed before the failure.
    pub fn credential(&self) -> Option<&Credential> {
        match self {
            Reason::Format(_) | Reason::UnknownKey => None,
            Reason::Expired { credential }
            | Reason::NotYetValid { credential }
            | Reason::Revoked { credential }
            | Reason::Suspended { credential }
            | Reason::StaleStatusList { credential, .. }
            | Reason::StatusIndexOutOfRange { credential }
            | Reason::UnknownStatus { credential, .. } => Some(credential),
        }
    }
}

/// The verifier could not check the credential at all.
#[derive(Debug, Clone, Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// The credential references a status list that is not in the cache, and the policy
    /// requires a status check.
    #[error("no status list for {uri} is available")]
    StatusListUnavailable {
        /// The list's URI.
        uri: String,
    },
}

qrid_credential::stable_kinds!(VerifyError, pub fn kind, const KINDS {
    VerifyError::StatusListUnavailable { .. } => "status_unavailable",
});

impl Verdict {
    /// Whether the credential is valid.
    pub fn is_valid(&self) -> bool {
        matches!(self, Verdict::Valid(_))
    }

    /// The verdict JSON of `qrid verify` and `/v1/verify`:
    /// `{"valid":true,"kid":…,"claims":{…},"status":"valid|unchecked"}` (with
    /// `status_list_age` when a published list was checked) or
    /// `{"valid":false,"error":{"kind":…,"message":…}}` (with `credential_id` when known, and
    /// `status` when the status list is the reason). The tree of this type's [`Serialize`]
    /// output; a caller that only prints it can serialize straight to bytes instead.
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or_default()
    }

    /// The credential's id when its signature verified and its claims parsed: what a record of
    /// who checked whom keeps.
    pub fn credential_id(&self) -> Option<CredentialId> {
        match self {
            Verdict::Valid(v) => Some(v.credential.id),
            Verdict::Invalid(r) => r.credential().map(|c| c.id),
        }
    }

    /// `"valid"`, or the reason's stable kind.
    pub fn kind(&self) -> &'static str {
        match self {
            Verdict::Valid(_) => "valid",
            Verdict::Invalid(r) => r.kind(),
        }
    }
}

/// `{"kind", "message"}` of an invalid verdict or an error, the message written through
/// `Display` without a `String` in between.
struct ErrorJson<'a, E: std::fmt::Display>(&'static str, &'a E);

impl<E: std::fmt::Display> Serialize for ErrorJson<'_, E> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(2))?;
        m.serialize_entry("kind", self.0)?;
        m.serialize_entry("message", &Shown(self.1))?;
        m.end()
    }
}

struct Shown<'a, T: std::fmt::Display>(&'a T);

impl<T: std::fmt::Display> Serialize for Shown<'_, T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self.0)
    }
}

/// The JSON of [`Verdict::to_json`], keys in sorted order (the order a `Value` prints), so
/// bytes written straight from a verdict read the same as the tree's.
impl Serialize for Verdict {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        match self {
            Verdict::Valid(v) => {
                m.serialize_entry("claims", &v.credential)?;
                m.serialize_entry("kid", &Shown(&v.kid))?;
                let status = match v.status {
                    StatusOutcome::Valid { .. } | StatusOutcome::Current => "valid",
                    StatusOutcome::Unchecked => "unchecked",
                };
                m.serialize_entry("status", status)?;
                if let StatusOutcome::Valid { list_age } = v.status {
                    m.serialize_entry("status_list_age", &list_age)?;
                }
                m.serialize_entry("valid", &true)?;
            }
            Verdict::Invalid(reason) => {
                if let Some(c) = reason.credential() {
                    m.serialize_entry("credential_id", &Shown(&c.id))?;
                }
                m.serialize_entry("error", &ErrorJson(reason.kind(), reason))?;
                match reason {
                    Reason::Revoked { .. } => m.serialize_entry("status", "revoked")?,
                    Reason::Suspended { .. } => m.serialize_entry("status", "suspended")?,
                    _ => {}
                }
                m.serialize_entry("valid", &false)?;
            }
        }
        m.end()
    }
}

/// The same shape as an invalid verdict, so a caller prints one kind of line.
impl Serialize for VerifyError {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(2))?;
        m.serialize_entry("error", &ErrorJson(self.kind(), self))?;
        m.serialize_entry("valid", &false)?;
        m.end()
    }
}

impl VerifyError {
    /// The same shape as an invalid verdict, so a caller prints one kind of line.
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or_default()
    }
}

fn stale_message(age: i64, max_age: i64, expired: bool) -> String {
    if expired {
        format!("the status list has expired (its issuer set its exp; signed {age} s ago): fetch a fresh one")
    } else {
        format!(
            "the status list is {age} s old, more than the {max_age} s allowed: fetch a fresh one"
        )
    }
}
