//! The one error of the service's operations.
//!
//! Every operation a front door calls answers `Result<_, ServiceError>`; the HTTP server turns
//! it into problem+json in one place (its `From<ServiceError> for Problem`), the CLI prints it.
//! [`ServiceError::kind`] is the stable name of what went wrong, the same word as the HTTP
//! API's problem kind (checked by the server's tests), so that the two front doors never
//! disagree about what a refusal is called.

use qrid_store::StoreError;

/// What a service operation refused, or why it could not be done. The `Display` text is for
/// the person asking: it never holds secrets or personal data (an internal cause is logged by
/// the front door, not shown).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServiceError {
    /// The thing asked for does not exist (or its id is not an id of ours).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The caller is known but their role does not allow the operation.
    #[error("this needs the role {0}")]
    Forbidden(String),
    /// The caller could not be authenticated; the text says what to fix, never which part of
    /// a username and password was wrong.
    #[error("{0}")]
    Unauthorized(&'static str),
    /// Too many failed attempts for this account or code: try again after `retry_after` s.
    #[error("{what}; try again in {retry_after} s")]
    TooManyAttempts {
        /// What was attempted too often, for the person asking.
        what: &'static str,
        /// Seconds until the lockout ends.
        retry_after: u64,
    },
    /// A value of the request is out of its range (`valid_days`, a reason's length, …).
    #[error("{0}")]
    InvalidRequest(String),
    /// A citizen's claims fail validation.
    #[error(transparent)]
    BadClaims(#[from] qrid_credential::ClaimError),
    /// A holder (wallet) key that is not a usable public key.
    #[error("{0}")]
    BadHolderKey(String),
    /// The store refused or failed: not found, a conflict, a state that does not allow the
    /// change, or the database unavailable. The front door maps each of its kinds.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A login transaction refused the wallet's answer or a waiting page's poll
    /// ([`LoginRefusal::kind`] names which).
    ///
    /// [`LoginRefusal::kind`]: crate::oidc::LoginRefusal::kind
    #[error(transparent)]
    Login(#[from] crate::oidc::LoginRefusal),
    /// A signing request, or the sign-in or session before it, was refused
    /// ([`SigningRefusal::kind`] names which).
    ///
    /// [`SigningRefusal::kind`]: crate::signing::SigningRefusal::kind
    #[error(transparent)]
    Signing(crate::signing::SigningRefusal),
    /// There is no live browser session (the web apps show the sign-in page with its reason).
    #[error(transparent)]
    Session(#[from] crate::office::SessionEnd),
    /// An uploaded photo was refused ([`PhotoRefusal::kind`] names why).
    ///
    /// [`PhotoRefusal::kind`]: crate::photo::PhotoRefusal::kind
    #[error(transparent)]
    Photo(#[from] crate::photo::PhotoRefusal),
    /// The counter shows no face for this credential ([`FaceRefusal::kind`] names why).
    ///
    /// [`FaceRefusal::kind`]: crate::office::FaceRefusal::kind
    #[error(transparent)]
    Face(#[from] crate::office::FaceRefusal),
    /// The official's account is disabled.
    #[error("this official is disabled")]
    OfficialDisabled,
    /// The official's signing desk holds as many documents waiting, or as many bytes, as it
    /// may ([`crate::desk`]): sign or remove some first.
    #[error("the desk is full: sign or remove documents first")]
    DeskFull,
    /// Something that should not happen (a signing failure, a worker gone); the cause is for
    /// the log, never for the client.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ServiceError {
    /// The stable kind: the HTTP problem kind of the same name (`not_found`, `forbidden`, …).
    /// A store error answers with its own kind's HTTP name.
    pub fn kind(&self) -> &'static str {
        match self {
            ServiceError::NotFound(_) => "not_found",
            ServiceError::Forbidden(_) => "forbidden",
            ServiceError::Unauthorized(_) => "unauthorized",
            ServiceError::TooManyAttempts { .. } => "too_many_attempts",
            ServiceError::InvalidRequest(_) => "invalid_body",
            ServiceError::BadClaims(_) => "bad_claims",
            ServiceError::BadHolderKey(_) => "bad_holder_key",
            ServiceError::Store(e) => match e {
                StoreError::NotFound(_) => "not_found",
                StoreError::Conflict(_) | StoreError::AlreadyEnrolled(_) => "conflict",
                StoreError::InvalidState(_) => "invalid_state",
                StoreError::Invalid(_) => "invalid_input",
                StoreError::Unavailable(_) => "database_unavailable",
                _ => "internal",
            },
            ServiceError::Login(r) => r.kind(),
            ServiceError::Signing(r) => r.kind(),
            ServiceError::Session(_) => "unauthorized",
            ServiceError::Photo(r) => r.kind(),
            ServiceError::Face(r) => r.kind(),
            ServiceError::OfficialDisabled => "forbidden",
            ServiceError::DeskFull => "desk_full",
            ServiceError::Internal(_) => "internal",
        }
    }

    /// An internal error from any displayable cause.
    pub fn internal(cause: impl std::fmt::Display) -> ServiceError {
        ServiceError::Internal(cause.to_string())
    }
}

/// A service operation's result.
pub type Result<T, E = ServiceError> = std::result::Result<T, E>;
