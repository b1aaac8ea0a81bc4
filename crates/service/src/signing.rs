//! Officials' signatures: sign-in with password and TOTP, the sole-control check every signing
//! request passes (a fresh TOTP code, or a signing session opened with one), signing a
//! document's digest with the official's sealed key, the public signature records, and the
//! verification of a signature with this service's live status (docs/signature-format.md).

use crate::accounts::{new_jti, BearerToken, MAX_PASSWORD, MAX_USERNAME};
use crate::custody::{binding, Kek, Purpose};
use crate::error::{Result, ServiceError};
use crate::ids::{lookup_name_ok, ClientId, SignatureId};
use crate::lockout::{Locked, LockoutKey};
use crate::totp::{self, TotpError};
use crate::Service;
use base64::Engine;
use qrid_credential::docsig::{DocumentRef, SignatureHeader};
use qrid_credential::{Kid, SigningKey, Stamp, Text};
use qrid_store::{
    CredentialStatus, NewSignature, OfficialRecord, SignatureRecord, SignerCredentialRecord,
};
use qrid_verifier::{judge, SignatureVerdict, Signer, SignerStatus};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

/// The `iss` of official bearer tokens; officer routes (issuer `qrid-officer`) refuse them.
pub const OFFICIAL_TOKEN_ISSUER: &str = "qrid-official";
/// Lifetime of an official's bearer token, seconds.
pub const TOKEN_TTL: i64 = 15 * 60;
/// Most documents a signing session may cover.
pub const MAX_SESSION_DOCUMENTS: i64 = 100;
/// Longest signing session, minutes.
pub const MAX_SESSION_MINUTES: i64 = 60;
/// Longest TOTP code a sign-in looks at (a code is six digits; spaces around it are allowed).
pub const MAX_TOTP: usize = 16;
/// Longest signing session token looked up.
const MAX_SESSION_TOKEN: usize = 128;

/// Why a signing request (or the sign-in and sessions before it) was refused. Each variant is
/// one problem kind of the HTTP API, [`SigningRefusal::kind`], answered with that kind's
/// status.
#[derive(Debug, thiserror::Error)]
pub enum SigningRefusal {
    /// A TOTP code that is malformed, wrong, or used already.
    #[error(transparent)]
    Totp(#[from] TotpError),
    /// Neither a fresh code nor a session: a bearer token alone signs nothing.
    #[error("{0}")]
    SoleControlRequired(&'static str),
    /// A signing session that is malformed, unknown, expired, used up or another's.
    #[error("{0}")]
    SigningSessionRefused(&'static str),
    /// A request naming another official's key.
    #[error("officials sign only with their own key")]
    NotYourKey,
    /// The official has no signer credential.
    #[error("this official has no signer credential")]
    NoSignerCredential,
    /// The signer credential is revoked.
    #[error("the official's signer credential is revoked: no new signatures")]
    SignerCredentialRevoked,
    /// The signer credential is suspended.
    #[error("the official's signer credential is suspended: no new signatures")]
    SignerCredentialSuspended,
    /// The signer credential has expired.
    #[error("the official's signer credential has expired")]
    SignerCredentialExpired,
    /// Neither the document nor its digest was sent.
    #[error("send a document part or the document's digest")]
    MissingDocument,
    /// The document has no name.
    #[error("the document needs a name")]
    MissingName,
    /// The document's name or media type is not acceptable.
    #[error("{0}")]
    InvalidDocument(String),
    /// A text the stamp would carry (the official's name, title, agency) is not acceptable.
    #[error("{0}")]
    InvalidText(String),
    /// A PDF that cannot be signed: not a PDF, malformed, encrypted, unsupported or too large
    /// (`kind` is the `qrid_pdf::PdfError` kind).
    #[error("{message}")]
    Pdf {
        /// `not_pdf`, `malformed_pdf`, `encrypted_pdf`, `unsupported_pdf` or `pdf_too_large`.
        kind: &'static str,
        /// What was wrong.
        message: String,
    },
}

impl SigningRefusal {
    /// The stable kind: the HTTP problem kind of the same name.
    pub fn kind(&self) -> &'static str {
        match self {
            SigningRefusal::Totp(e) => e.kind(),
            SigningRefusal::SoleControlRequired(_) => "sole_control_required",
            SigningRefusal::SigningSessionRefused(_) => "signing_session_refused",
            SigningRefusal::NotYourKey => "not_your_key",
            SigningRefusal::NoSignerCredential => "no_signer_credential",
            SigningRefusal::SignerCredentialRevoked => "signer_credential_revoked",
            SigningRefusal::SignerCredentialSuspended => "signer_credential_suspended",
            SigningRefusal::SignerCredentialExpired => "signer_credential_expired",
            SigningRefusal::MissingDocument => "missing_document",
            SigningRefusal::MissingName => "missing_name",
            SigningRefusal::InvalidDocument(_) => "invalid_document",
            SigningRefusal::InvalidText(_) => "invalid_input",
            SigningRefusal::Pdf { kind, .. } => kind,
        }
    }
}

impl From<SigningRefusal> for ServiceError {
    fn from(r: SigningRefusal) -> ServiceError {
        ServiceError::Signing(r)
    }
}

/// Claims of an official's bearer token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OfficialClaims {
    /// The official's id.
    pub sub: String,
    /// Always `official`.
    pub role: String,
    /// Username, for the audit trail.
    pub username: String,
    /// Issued at.
    pub iat: i64,
    /// Expiry.
    pub exp: i64,
    /// `qrid-official`.
    pub iss: String,
    /// Token id.
    pub jti: String,
    /// The official's token epoch when it was issued (see [`Service::current_official`]).
    #[serde(default)]
    pub epoch: i64,
}

/// How a request offers sole control, as its headers say: a signing session token, a TOTP
/// code, or nothing. `None` inside is a header that is not text.
#[derive(Debug, Clone, Copy)]
pub enum ControlProof<'a> {
    /// `X-Signing-Session`.
    Session(Option<&'a str>),
    /// `X-TOTP`.
    Totp(Option<&'a str>),
    /// Neither.
    Nothing,
}

/// How a signing request proved sole control.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SoleControl {
    /// A fresh TOTP code (`X-TOTP`).
    Totp,
    /// A signing session (`X-Signing-Session`), with the documents left after this one.
    Session {
        /// Documents the session may still sign.
        left: i64,
    },
}

/// A signing session just opened: the token is shown once, only its SHA-256 is stored.
#[derive(Debug)]
pub struct SigningSession {
    /// The session token (256 random bits, base64url).
    pub token: String,
    /// How many documents it may sign.
    pub documents: i64,
    /// When it ends, Unix seconds.
    pub expires_at: i64,
}

/// What a signing request says about its document (the server has read and hashed it).
#[derive(Debug, Default)]
pub struct DocumentToSign {
    /// The document's SHA-256.
    pub digest: Option<[u8; 32]>,
    /// Its name.
    pub name: Option<String>,
    /// Its media type (default `application/octet-stream`).
    pub media_type: Option<String>,
    /// The key the request names, if any: it must be the official's own.
    pub kid: Option<String>,
}

/// A signature just made and recorded.
#[derive(Debug)]
pub struct Signed {
    /// The record's id.
    pub id: String,
    /// The detached JWS.
    pub jws: String,
    /// The QR stamp's text, signed by the issuer.
    pub stamp: String,
    /// When it was signed, Unix seconds.
    pub signed_at: i64,
    /// Where the record is published.
    pub url: String,
    /// The document signed.
    pub document: DocumentRef,
    /// The official who signed.
    pub official: OfficialRecord,
    /// The signer credential the signature carries.
    pub signer_credential_id: String,
}

/// A signature record with what a reader of a stamp is shown beside it.
#[derive(Debug)]
pub struct SignatureFile {
    /// The record.
    pub record: SignatureRecord,
    /// The official who signed, if their row still exists.
    pub signer: Option<OfficialRecord>,
    /// The signer credential as it is now.
    pub signer_credential: Option<SignerCredentialRecord>,
}

/// Opens an official's sealed signing key; checks that it is the key the row says.
pub fn signing_key(kek: &Kek, o: &OfficialRecord) -> Result<SigningKey> {
    let bytes = kek
        .open(
            Purpose::SigningKey,
            &binding(&o.username, &o.kid),
            &o.key_sealed,
        )
        .map_err(|e| ServiceError::internal(format!("official {}: {}", o.id, e.kind())))?;
    let arr: Zeroizing<[u8; 32]> = Zeroizing::new(
        bytes
            .as_slice()
            .try_into()
            .map_err(|_| ServiceError::internal(format!("official {}: key length", o.id)))?,
    );
    let key = SigningKey::from_bytes(&arr);
    if key.verifying_key().to_bytes() != o.public_key {
        return Err(ServiceError::internal(format!(
            "official {}: sealed key is not the public key",
            o.id
        )));
    }
    Ok(key)
}

/// The SHA-256 (hex) under which a signing session token is stored.
pub fn session_digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn too_many(locked: Locked) -> ServiceError {
    ServiceError::TooManyAttempts {
        what: "too many failed attempts",
        retry_after: locked.secs(),
    }
}

/// Why a TOTP code was not accepted.
enum TotpRefusal {
    /// The official's codes are locked out after repeated failures.
    Locked(Locked),
    /// The code is malformed, wrong or used already.
    Code(TotpError),
    /// Something else failed (the sealed secret, the database).
    Failed(ServiceError),
}

/// The one answer of every refused sign-in, whichever part was wrong.
const SIGN_IN_REFUSED: ServiceError =
    ServiceError::Unauthorized("wrong username, password or code");

impl Service {
    /// Checks a TOTP code of official `o` and uses it up: right for the current step (±1),
    /// and of a step after the last one accepted. The attempt is counted under the official's
    /// [`LockoutKey::OfficialTotp`] before the code is looked at, and cleared when it is right.
    async fn check_totp(&self, o: &OfficialRecord, code: &str) -> Result<(), TotpRefusal> {
        let attempt = self
            .lockouts
            .begin(LockoutKey::OfficialTotp(o.id.clone()))
            .map_err(TotpRefusal::Locked)?;
        let secret = self
            .kek
            .open(
                Purpose::TotpSecret,
                &binding(&o.username, &o.kid),
                &o.totp_sealed,
            )
            .map_err(|e| {
                TotpRefusal::Failed(ServiceError::internal(format!(
                    "official {}: {}",
                    o.id,
                    e.kind()
                )))
            })?;
        let step =
            totp::matching_step(&secret, code.trim(), self.now()).map_err(TotpRefusal::Code)?;
        let fresh = self
            .store
            .accept_totp_step(&o.id, step)
            .await
            .map_err(|e| TotpRefusal::Failed(e.into()))?;
        if !fresh {
            return Err(TotpRefusal::Code(TotpError::Reused));
        }
        attempt.succeeded();
        Ok(())
    }

    /// The TOTP check of sign-in for a signed-in official's signing request: a refused code
    /// says why (`totp_malformed`, `totp_invalid`, `totp_reused`), a locked one is
    /// [`ServiceError::TooManyAttempts`].
    async fn use_totp(&self, o: &OfficialRecord, code: &str) -> Result<()> {
        self.check_totp(o, code).await.map_err(|r| match r {
            TotpRefusal::Locked(l) => too_many(l),
            TotpRefusal::Code(e) => {
                tracing::info!(event = "totp_refused", official = %o.id, kind = e.kind(), "TOTP code refused");
                SigningRefusal::Totp(e).into()
            }
            TotpRefusal::Failed(e) => e,
        })
    }

    /// Password, then TOTP, then a bearer token. The sign-in is one attempt under the
    /// username's [`LockoutKey::OfficialPassword`], counted before the password is checked and
    /// cleared only when password and code are both right; the code is an attempt of its own
    /// under the official's [`LockoutKey::OfficialTotp`]. Every refusal is the same
    /// [`ServiceError::Unauthorized`] — unknown username, wrong password, right password with a
    /// wrong, reused or malformed code, or codes locked out — so an answer never tells that a
    /// password was right. Unknown usernames take as long as wrong passwords; only a
    /// locked-out username answers [`ServiceError::TooManyAttempts`].
    pub async fn official_sign_in(
        &self,
        username: &str,
        password: &str,
        code: &str,
    ) -> Result<(BearerToken, OfficialRecord)> {
        let official = self
            .check_official_sign_in(username, password, code)
            .await?;
        let iat = self.now();
        let exp = iat + TOKEN_TTL.min(self.config.token_ttl.max(60));
        let claims = OfficialClaims {
            sub: official.id.clone(),
            role: "official".into(),
            username: official.username.clone(),
            iat,
            exp,
            iss: OFFICIAL_TOKEN_ISSUER.into(),
            jti: new_jti(),
            epoch: official.token_epoch,
        };
        // Fails closed: a sign-in the audit table cannot show hands out no token.
        self.store
            .audit(&qrid_store::AuditEntry {
                at: iat,
                actor: format!("official:{}", official.username),
                action: "official.login".into(),
                subject: Some(official.id.clone()),
                detail: "{}".into(),
            })
            .await?;
        let token = self.encode_bearer(&claims)?;
        tracing::info!(official = %official.id, "official signed in");
        Ok((
            BearerToken {
                token,
                expires_at: exp,
            },
            official,
        ))
    }

    /// The checks of [`Service::official_sign_in`] (password, then TOTP, under their lockouts,
    /// with the one answer for every refusal), shared by the signing desk's browser sign-in.
    pub(crate) async fn check_official_sign_in(
        &self,
        username: &str,
        password: &str,
        code: &str,
    ) -> Result<OfficialRecord> {
        if username.len() > MAX_USERNAME || password.len() > MAX_PASSWORD || code.len() > MAX_TOTP {
            return Err(SIGN_IN_REFUSED);
        }
        let attempt = self
            .lockouts
            .begin(LockoutKey::OfficialPassword(username.to_owned()))
            .map_err(too_many)?;
        let refused = || {
            tracing::info!(event = "official_login_failed", "official sign-in failed");
            SIGN_IN_REFUSED
        };
        let official = if lookup_name_ok(username) {
            self.store.official_by_username(username).await?
        } else {
            None
        };
        let hash = official.as_ref().map(|o| o.password_hash.clone());
        let ok = self.verify_password(hash, password).await?;
        let official = match official {
            Some(o) if ok && !o.disabled => o,
            _ => return Err(refused()),
        };
        match self.check_totp(&official, code).await {
            Ok(()) => {}
            Err(TotpRefusal::Failed(e)) => return Err(e),
            Err(TotpRefusal::Locked(_) | TotpRefusal::Code(_)) => return Err(refused()),
        }
        attempt.succeeded();
        Ok(official)
    }

    /// The claims of an official's bearer token, checked (signature, issuer, expiry on the
    /// service's clock, role).
    pub fn official_claims(&self, token: &str) -> Result<OfficialClaims> {
        let claims: OfficialClaims = self.decode_bearer(
            token,
            OFFICIAL_TOKEN_ISSUER,
            "the token is not an official's valid token",
        )?;
        if claims.role != "official" {
            return Err(ServiceError::Unauthorized("the token is not an official's"));
        }
        Ok(claims)
    }

    /// The signed-in official's row, refused if disabled since the token was made, or if the
    /// token is of an earlier epoch (password or TOTP reset since, or disabled and enabled
    /// again).
    pub async fn current_official(&self, claims: &OfficialClaims) -> Result<OfficialRecord> {
        match self.store.official(&claims.sub).await? {
            Some(o) if o.disabled => Err(ServiceError::OfficialDisabled),
            Some(o) if o.token_epoch != claims.epoch => Err(ServiceError::Unauthorized(
                "the token is no longer valid: the account was changed; sign in again",
            )),
            Some(o) => Ok(o),
            None => Err(ServiceError::Unauthorized("no such official")),
        }
    }

    /// The sole-control check of a signing request: a session token uses one document of a
    /// session of this official's; otherwise a TOTP code must be fresh. Nothing else will do.
    async fn sole_control(
        &self,
        o: &OfficialRecord,
        proof: ControlProof<'_>,
    ) -> Result<SoleControl> {
        match proof {
            ControlProof::Session(token) => {
                let token = token.filter(|t| t.len() <= MAX_SESSION_TOKEN).ok_or(
                    SigningRefusal::SigningSessionRefused("malformed signing session token"),
                )?;
                match self
                    .store
                    .use_signing_session(&session_digest(token), &o.id, self.now())
                    .await?
                {
                    Some(left) => Ok(SoleControl::Session { left }),
                    None => Err(SigningRefusal::SigningSessionRefused(
                        "the signing session is unknown, expired, used up, or not this official's",
                    )
                    .into()),
                }
            }
            ControlProof::Totp(code) => {
                let code = code.ok_or(SigningRefusal::Totp(TotpError::Malformed))?;
                self.use_totp(o, code).await?;
                Ok(SoleControl::Totp)
            }
            ControlProof::Nothing => Err(SigningRefusal::SoleControlRequired(
                "signing needs a fresh TOTP code (X-TOTP) or a signing session (X-Signing-Session); a bearer token alone signs nothing",
            )
            .into()),
        }
    }

    /// Opens a signing session of `documents` documents (1 to [`MAX_SESSION_DOCUMENTS`])
    /// for `minutes` minutes (1 to [`MAX_SESSION_MINUTES`]), proved with a fresh TOTP code:
    /// a session is never opened with another session.
    pub async fn open_signing_session(
        &self,
        claims: &OfficialClaims,
        proof: ControlProof<'_>,
        documents: i64,
        minutes: i64,
    ) -> Result<SigningSession> {
        if !(1..=MAX_SESSION_DOCUMENTS).contains(&documents)
            || !(1..=MAX_SESSION_MINUTES).contains(&minutes)
        {
            return Err(ServiceError::InvalidRequest(format!(
                "documents must be 1 to {MAX_SESSION_DOCUMENTS} and minutes 1 to {MAX_SESSION_MINUTES}"
            )));
        }
        let o = self.current_official(claims).await?;
        if matches!(proof, ControlProof::Session(_)) {
            return Err(SigningRefusal::SoleControlRequired(
                "a signing session is opened with a fresh TOTP code (X-TOTP)",
            )
            .into());
        }
        self.sole_control(&o, proof).await?;
        let mut raw = [0u8; 32];
        rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut raw);
        let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw);
        let at = self.now();
        let expires_at = at + minutes * 60;
        self.store
            .open_signing_session(&session_digest(&token), &o.id, documents, expires_at, at)
            .await?;
        tracing::info!(official = %o.id, documents, "signing session opened");
        Ok(SigningSession {
            token,
            documents,
            expires_at,
        })
    }

    /// The first half of a signing request, before its document is read: the official is
    /// current and proves sole control, so that nobody uploads 100 MiB on a stolen bearer
    /// token alone.
    pub async fn begin_signing(
        &self,
        claims: &OfficialClaims,
        proof: ControlProof<'_>,
    ) -> Result<SoleControl> {
        let o = self.current_official(claims).await?;
        self.sole_control(&o, proof).await
    }

    /// Signs `doc` with the official's key and records it, after [`Service::begin_signing`].
    /// The account is read again first (an upload may take minutes: an official disabled or
    /// reset meanwhile signs nothing); the key named must be the official's own; the signer
    /// credential must be valid now. The JWS carries the signer credential; the stamp is signed
    /// by the issuer and names the record.
    pub async fn sign_document(
        &self,
        claims: &OfficialClaims,
        doc: DocumentToSign,
    ) -> Result<Signed> {
        let o = self.current_official(claims).await?;
        if let Some(kid) = &doc.kid {
            if kid.trim() != o.kid {
                tracing::warn!(official = %o.id, "signing with another official's key refused");
                return Err(SigningRefusal::NotYourKey.into());
            }
        }
        let digest = doc.digest.ok_or(SigningRefusal::MissingDocument)?;
        let name = doc
            .name
            .as_deref()
            .filter(|n| !n.trim().is_empty())
            .ok_or(SigningRefusal::MissingName)?;
        let media_type = doc
            .media_type
            .as_deref()
            .unwrap_or("application/octet-stream");
        let document = DocumentRef::new(digest, name, media_type)
            .map_err(|e| SigningRefusal::InvalidDocument(e.to_string()))?;
        let at = self.now();
        let signer_credential = self.usable_signer_credential(&o, at).await?;
        let key = signing_key(&self.kek, &o)?;
        let kid = Kid::thumbprint(&key.verifying_key());
        let id = qrid_credential::CredentialId::random().to_string();
        let jws = SignatureHeader {
            kid,
            signing_time: at,
            document: document.clone(),
            credential: signer_credential.payload.clone(),
            signature_id: Some(id.clone()),
        }
        .sign(&key)
        .map_err(ServiceError::internal)?;
        drop(key);
        let url = self.signature_url(&id);
        let issuer = self.keys();
        let text = |field: &'static str, value: &str| {
            Text::new(field, value, 300, false)
                .map_err(|e| ServiceError::from(SigningRefusal::InvalidText(e.to_string())))
        };
        let stamp = Stamp {
            signature_id: id.clone(),
            url: url.clone(),
            digest,
            signed_at: at,
            signer: text("name", &o.full_name)?,
            role: Some((text("title", &o.title)?, text("agency", &o.agency)?)),
            document_name: document.name.clone(),
        }
        .sign(issuer.current.signing_key(), issuer.current.kid())
        .map_err(ServiceError::internal)?;
        let record = NewSignature {
            id: id.clone(),
            official_id: o.id.clone(),
            signer_credential_id: signer_credential.id.clone(),
            digest: document.digest_hex(),
            document_name: document.name.as_str().to_owned(),
            media_type: document.media_type.clone(),
            signed_at: at,
            jws: jws.clone(),
            stamp: stamp.clone(),
            pades: None,
        };
        self.store
            .record_signature(&record, &format!("official:{}", o.username), at)
            .await?;
        tracing::info!(signature = %id, official = %o.id, "document signed");
        Ok(Signed {
            id,
            jws,
            stamp,
            signed_at: at,
            url,
            document,
            official: o,
            signer_credential_id: signer_credential.id,
        })
    }

    /// Where signature record `id` is published.
    pub fn signature_url(&self, id: &str) -> String {
        format!("{}/v1/signatures/{id}", self.config.public_url)
    }

    /// The official's current signer credential, refused unless it is valid at `at`.
    pub(crate) async fn usable_signer_credential(
        &self,
        o: &OfficialRecord,
        at: i64,
    ) -> Result<SignerCredentialRecord> {
        let c = self
            .store
            .current_signer_credential(&o.id)
            .await?
            .ok_or(SigningRefusal::NoSignerCredential)?;
        match c.status {
            CredentialStatus::Valid => {}
            CredentialStatus::Revoked => return Err(SigningRefusal::SignerCredentialRevoked.into()),
            CredentialStatus::Suspended => {
                return Err(SigningRefusal::SignerCredentialSuspended.into())
            }
        }
        if c.expires_at <= at {
            return Err(SigningRefusal::SignerCredentialExpired.into());
        }
        Ok(c)
    }

    /// A signature record (public, as the stamp on paper is).
    pub async fn signature(&self, id: &SignatureId) -> Result<SignatureRecord> {
        self.store
            .signature(id.as_str())
            .await?
            .ok_or(ServiceError::NotFound("signature"))
    }

    /// A signature record with its signer and the signer credential's status now: what a
    /// stamp's reader is shown.
    pub async fn signature_file(&self, id: &SignatureId) -> Result<SignatureFile> {
        let record = self.signature(id).await?;
        let signer = self.store.official(&record.official_id).await?;
        let signer_credential = self
            .store
            .signer_credential(&record.signer_credential_id)
            .await?;
        Ok(SignatureFile {
            record,
            signer,
            signer_credential,
        })
    }

    /// The signed-in official's own signatures, newest first: `limit` of them, made before
    /// `before` if given.
    pub async fn my_signatures(
        &self,
        claims: &OfficialClaims,
        limit: i64,
        before: Option<i64>,
    ) -> Result<Vec<SignatureRecord>> {
        let o = self.current_official(claims).await?;
        Ok(self.store.signatures_of(&o.id, limit, before).await?)
    }

    /// Verifies a detached JWS signature for `client` (over the document's digest, if given)
    /// with this service's live status of the signer credential and the time of any
    /// revocation: a signature made before its signer credential was revoked is valid, one
    /// made after is not.
    pub async fn verify_signature(
        &self,
        client: &ClientId,
        jws: &str,
        digest: Option<&[u8; 32]>,
    ) -> Result<SignatureVerdict> {
        let verifier = self.verifier();
        let at = self.now();
        // A citizen's signature is made with their identity credential's holder key: its
        // check goes on their access record, as a check of that credential does.
        let mut citizen_credential = None;
        let verdict = match verifier.examine_signature(jws, digest) {
            Ok(check) => {
                if let Signer::Citizen(c) = &check.signer {
                    citizen_credential = Some(c.id.to_string());
                }
                let status = self
                    .signer_status(&check.signer, check.signing_time)
                    .await?;
                judge(check, status, at, verifier.policy())
            }
            Err(f) => SignatureVerdict::Invalid(f),
        };
        let kind = match &verdict {
            SignatureVerdict::Invalid(f) => f.reason.kind(),
            SignatureVerdict::Indeterminate { reason, .. } => reason.kind(),
            _ => "valid",
        };
        if let Some(id) = citizen_credential {
            self.record_check(client, at, Some(id), &format!("signature_{kind}"))
                .await;
        }
        tracing::info!(client = %client, outcome = kind, "signature verified");
        Ok(verdict)
    }

    /// The signer credential's status as it bears on a signature made at `signing_time`: if
    /// the credential was revoked or suspended at that time (by its status history), that
    /// status and the time it began, whatever happened since (a reinstatement does not make a
    /// signature made while suspended valid); otherwise its live status from this service's
    /// lists, with the time of its latest change.
    async fn signer_status(&self, signer: &Signer, signing_time: i64) -> Result<SignerStatus> {
        let Some(slot) = signer.status().and_then(crate::config::OwnStatusSlot::of) else {
            return Ok(SignerStatus::Unchecked);
        };
        let status = self.status_of(slot).await?;
        let history = self
            .store
            .status_history(&signer.credential_id().to_string())
            .await?;
        if let Some(&(at, in_force)) = history
            .iter()
            .take_while(|(at, _)| *at <= signing_time)
            .last()
        {
            match in_force {
                CredentialStatus::Revoked => return Ok(SignerStatus::Revoked { since: Some(at) }),
                CredentialStatus::Suspended => {
                    return Ok(SignerStatus::Suspended { since: Some(at) })
                }
                CredentialStatus::Valid => {}
            }
        }
        let since = history.last().map(|&(at, _)| at);
        Ok(match status {
            Some(qrid_credential::Status::Valid) => SignerStatus::Valid,
            Some(qrid_credential::Status::Invalid) => SignerStatus::Revoked { since },
            Some(qrid_credential::Status::Suspended) => SignerStatus::Suspended { since },
            Some(qrid_credential::Status::Other(v)) => SignerStatus::Other(v),
            None => SignerStatus::Other(u8::MAX),
        })
    }
}
