//! The office's operations: officers' browser sessions, citizens' photos and search, and the
//! counter (verify a scanned QR, show the holder's face, read a document stamp).
//!
//! A session is a random token in an HttpOnly cookie; the database keeps its SHA-256 with the
//! account's token epoch, so a sign-out, a disabled account or a reset password ends it on every
//! node at the next request. It ends after [`OFFICE_IDLE`] without a request and
//! [`OFFICE_ABSOLUTE`] after sign-in, whatever happens.

use crate::error::{Result, ServiceError};
use crate::ids::{CitizenId, Officer};
use crate::photo::process_upload;
use crate::verification::Checked;
use crate::Service;
use base64::Engine;
use qrid_credential::{CitizenInput, PhotoDigest};
use qrid_store::{
    CitizenRecord, CredentialStatus, Role, SignatureRecord, StoredPhoto, Verification, WebApp,
    WebSession,
};
use qrid_verifier::{Reason, Verdict};
use sha2::{Digest, Sha256};

/// Seconds without a request after which an office session is over.
pub const OFFICE_IDLE: i64 = 30 * 60;
/// Seconds after sign-in after which an office session is over (a working day).
pub const OFFICE_ABSOLUTE: i64 = 10 * 60 * 60;
/// The last-seen time is written at most this often (seconds), not on every request.
const TOUCH_EVERY: i64 = 60;

/// Who may verify at a counter and see the holder's face.
pub const COUNTER: &[Role] = &[Role::Clerk, Role::Issuer, Role::Admin];

/// Why there is no session: the office shows the sign-in page with a sentence for each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SessionEnd {
    /// No session cookie, or one the database does not know (signed out, or never issued).
    #[error("you are not signed in")]
    Missing,
    /// Past its absolute lifetime.
    #[error("your session has expired; sign in again")]
    Expired,
    /// Unused for longer than the idle timeout.
    #[error("your session ended after a time without use; sign in again")]
    Idle,
    /// The account was disabled or its password reset since sign-in (its token epoch moved).
    #[error("your account was changed since you signed in; sign in again")]
    AccountChanged,
}

/// Why the counter shows no face.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FaceRefusal {
    /// The credential did not verify (the kind says why): no face is shown for it.
    #[error("the credential did not verify ({0}); no face is shown for it")]
    NotVerified(&'static str),
    /// The credential carries no photo digest to compare a stored photo with.
    #[error("the credential carries no photo digest")]
    NoDigest,
    /// The stored photo is not the one the credential was signed over (it was replaced since).
    #[error("the stored photo is not the one this credential was issued with")]
    DigestMismatch,
}

impl FaceRefusal {
    /// The stable kind.
    pub fn kind(&self) -> &'static str {
        match self {
            FaceRefusal::NotVerified(_) => "not_verified",
            FaceRefusal::NoDigest => "no_photo_digest",
            FaceRefusal::DigestMismatch => "photo_mismatch",
        }
    }
}

/// A session just opened: the cookie's token (shown once, never stored) and the anti-forgery
/// token every form of the session sends back.
pub struct OpenedSession {
    /// The cookie value.
    pub token: String,
    /// The session's anti-forgery token.
    pub csrf: String,
    /// Who signed in.
    pub officer: Officer,
    /// When the session ends at the latest, Unix seconds.
    pub expires_at: i64,
}

impl std::fmt::Debug for OpenedSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenedSession")
            .field("officer", &self.officer)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// A live session, as a request finds it.
#[derive(Debug, Clone)]
pub struct OfficeSession {
    /// Who is signed in, as the account is now.
    pub officer: Officer,
    /// The session's anti-forgery token.
    pub csrf: String,
    /// When the session ends at the latest, Unix seconds.
    pub expires_at: i64,
}

/// What the counter found for one scanned text.
#[derive(Debug)]
// A credential is the usual case, answered once per scan; boxing it saves nothing that matters.
#[allow(clippy::large_enum_variant)]
pub enum CounterCheck {
    /// A credential (or something that claimed to be one), with its verdict.
    Credential {
        /// The verdict.
        checked: Checked,
        /// For a credential revoked by the issue of a replacement: the replacement's id.
        replaced_by: Option<String>,
        /// Whether the service holds the photo this credential was signed over (a face can
        /// be fetched with [`Service::counter_face`]).
        face_on_file: bool,
        /// For a live QR (`QP1:`): how the presentation itself fared, once its credential
        /// verified ([`crate::live`]). A refused one means the card must not be accepted.
        live: Option<crate::live::LiveCheck>,
    },
    /// A document stamp (`QS1:`) whose signature this service recorded.
    Stamp {
        /// The record.
        record: SignatureRecord,
        /// The signer's name as the stamp certifies it.
        signer: String,
        /// Whether the signer credential is valid now.
        signer_valid: bool,
    },
    /// A login request (`QL1:`): for the citizen's wallet, not for a counter.
    LoginRequest,
}

/// A processed photo as the store keeps it.
fn stored_photo(p: crate::photo::Photo) -> StoredPhoto {
    StoredPhoto {
        sha256: hex::encode(p.sha256),
        media_type: "image/jpeg".into(),
        width: p.width,
        height: p.height,
        bytes: p.jpeg,
    }
}

fn random_token() -> String {
    let mut b = [0u8; 32];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut b);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

fn token_digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

impl Service {
    /// Signs an officer in to the office: checks the password as [`Service::officer_login`]
    /// does (same lockout, same single answer for a wrong username or password), then opens a
    /// session in the database.
    pub async fn office_sign_in(&self, username: &str, password: &str) -> Result<OpenedSession> {
        let record = self.check_officer_password(username, password).await?;
        let now = self.now();
        let token = random_token();
        let csrf = random_token();
        let expires_at = now + OFFICE_ABSOLUTE;
        self.store
            .create_web_session(
                &token_digest(&token),
                &WebSession {
                    app: WebApp::Office,
                    subject: record.username.clone(),
                    epoch: record.token_epoch,
                    csrf: csrf.clone(),
                    created_at: now,
                    last_seen: now,
                    expires_at,
                },
                now - OFFICE_IDLE,
            )
            .await?;
        self.store
            .audit(&qrid_store::AuditEntry {
                at: now,
                actor: record.username.clone(),
                action: "officer.login".into(),
                subject: Some(record.username.clone()),
                detail: r#"{"via":"office"}"#.into(),
            })
            .await?;
        Ok(OpenedSession {
            token,
            csrf,
            officer: Officer {
                username: record.username,
                role: record.role,
            },
            expires_at,
        })
    }

    /// The live session a cookie names, or [`ServiceError::Session`] saying why there is none.
    /// A session found over is deleted.
    pub async fn office_session(&self, token: &str) -> Result<OfficeSession> {
        if token.is_empty() || token.len() > 64 {
            return Err(ServiceError::Session(SessionEnd::Missing));
        }
        let digest = token_digest(token);
        let s = self
            .store
            .web_session(WebApp::Office, &digest)
            .await?
            .ok_or(ServiceError::Session(SessionEnd::Missing))?;
        let now = self.now();
        let ended = if now >= s.expires_at {
            Some(SessionEnd::Expired)
        } else if now - s.last_seen > OFFICE_IDLE {
            Some(SessionEnd::Idle)
        } else {
            match self.store.officer(&s.subject).await? {
                Some(o) if !o.disabled && o.token_epoch == s.epoch => {
                    if now - s.last_seen >= TOUCH_EVERY {
                        self.store.touch_web_session(&digest, now).await?;
                    }
                    return Ok(OfficeSession {
                        officer: Officer {
                            username: o.username,
                            role: o.role,
                        },
                        csrf: s.csrf,
                        expires_at: s.expires_at,
                    });
                }
                _ => Some(SessionEnd::AccountChanged),
            }
        };
        self.store.delete_web_session(&digest).await?;
        Err(ServiceError::Session(
            ended.unwrap_or(SessionEnd::AccountChanged),
        ))
    }

    /// Ends the session a cookie names, on every node. Ending one that is gone is no error.
    pub async fn office_sign_out(&self, token: &str) -> Result<()> {
        if token.is_empty() || token.len() > 64 {
            return Ok(());
        }
        Ok(self.store.delete_web_session(&token_digest(token)).await?)
    }

    // ----- citizens -----

    /// Enrols a citizen with their photo (issuer or admin): the photo is processed
    /// ([`crate::photo::process_upload`]) before anything is stored, and the claims'
    /// `photo_sha256` is the stored photo's digest, whatever the input said.
    pub async fn enrol_with_photo(
        &self,
        by: &Officer,
        input: CitizenInput,
        photo: Option<Vec<u8>>,
    ) -> Result<CitizenRecord> {
        by.require(crate::citizens::ISSUERS)?;
        let processed = match photo {
            Some(bytes) => Some(self.process_photo(bytes).await?),
            None => None,
        };
        let mut citizen = input.to_citizen()?;
        if let Some(p) = &processed {
            citizen.photo_sha256 = Some(PhotoDigest(p.sha256));
        }
        let stored = processed.map(stored_photo);
        let rec = self
            .store
            .insert_citizen_with_photo(
                &qrid_store::NewCitizen { citizen },
                stored.as_ref(),
                &by.username,
                self.now(),
            )
            .await?;
        tracing::info!(citizen = %rec.id, officer = %by.username, "citizen enrolled");
        Ok(rec)
    }

    /// Stores a new photo for a citizen (issuer or admin) and makes its digest their
    /// `photo_sha256`: credentials issued from now on carry it; those issued before keep the
    /// old digest, and the counter shows them no face.
    pub async fn set_photo(
        &self,
        by: &Officer,
        id: &CitizenId,
        bytes: Vec<u8>,
    ) -> Result<CitizenRecord> {
        by.require(crate::citizens::ISSUERS)?;
        let p = self.process_photo(bytes).await?;
        self.store_photo(by, id.as_str(), p).await
    }

    /// A citizen's stored photo (issuer, admin or auditor).
    pub async fn photo(&self, by: &Officer, id: &CitizenId) -> Result<StoredPhoto> {
        by.require(crate::citizens::READERS)?;
        self.store
            .citizen_photo(id.as_str())
            .await?
            .ok_or(ServiceError::NotFound("photo"))
    }

    async fn process_photo(&self, bytes: Vec<u8>) -> Result<crate::photo::Photo> {
        let _permit = self
            .photo_permits()
            .acquire()
            .await
            .map_err(ServiceError::internal)?;
        tokio::task::spawn_blocking(move || process_upload(&bytes))
            .await
            .map_err(ServiceError::internal)?
            .map_err(ServiceError::Photo)
    }

    async fn store_photo(
        &self,
        by: &Officer,
        citizen_id: &str,
        p: crate::photo::Photo,
    ) -> Result<CitizenRecord> {
        let digest = p.sha256;
        Ok(self
            .store
            .set_citizen_photo(
                citizen_id,
                &stored_photo(p),
                digest,
                &by.username,
                self.now(),
            )
            .await?)
    }

    /// Finds citizens (issuer, admin or auditor): by id number when the query is one (exact),
    /// else by name, diacritics and case ignored, as a prefix of the full name
    /// ([`qrid_credential::fold_name`]), at most [`qrid_store::SEARCH_LIMIT`].
    pub async fn find_citizens(&self, by: &Officer, query: &str) -> Result<Vec<CitizenRecord>> {
        by.require(crate::citizens::READERS)?;
        let q = query.trim();
        if q.chars().count() > 200 {
            return Err(ServiceError::InvalidRequest(
                "a search is at most 200 characters".into(),
            ));
        }
        // Digits are an id number, whatever their count (a wrong one finds nobody).
        if !q.is_empty() && q.bytes().all(|b| b.is_ascii_digit()) {
            return Ok(self
                .store
                .citizen_by_id_number(q)
                .await?
                .into_iter()
                .collect());
        }
        Ok(self.store.citizens_by_name(q).await?)
    }

    // ----- the counter -----

    /// Checks a scanned text at a counter (clerk, issuer or admin). A credential is verified
    /// and the check goes on the citizen's access record under `office:<username>`; a stamp
    /// is verified against the issuer's keys and its record read; a login request is named.
    pub async fn counter_check(&self, by: &Officer, text: &str) -> Result<CounterCheck> {
        by.require(COUNTER)?;
        let text = text.trim();
        if text.starts_with(qrid_credential::payload::prefix::SIGNATURE_STAMP) {
            let stamp = qrid_credential::Stamp::verify(text, &self.keys().jwks).map_err(|e| {
                ServiceError::InvalidRequest(format!("the stamp is not valid: {e}"))
            })?;
            let id = crate::ids::SignatureId::parse(&stamp.signature_id)?;
            let file = self.signature_file(&id).await?;
            let signer_valid = file
                .signer_credential
                .as_ref()
                .is_some_and(|c| c.status == CredentialStatus::Valid);
            return Ok(CounterCheck::Stamp {
                record: file.record,
                signer: stamp.signer.as_str().to_owned(),
                signer_valid,
            });
        }
        if text.starts_with(qrid_credential::payload::prefix::LOGIN_REQUEST) {
            return Ok(CounterCheck::LoginRequest);
        }
        let (checked, live) = if text.starts_with(qrid_credential::payload::prefix::PRESENTATION) {
            self.check_presentation(&by.counter_client(), text).await?
        } else {
            (self.verify_for(&by.counter_client(), text).await?, None)
        };
        let mut replaced_by = None;
        let mut face_on_file = false;
        if let Checked::Verdict(v) = &checked {
            if let Some(id) = v.credential_id() {
                let id = id.to_string();
                if matches!(v, Verdict::Invalid(Reason::Revoked { .. })) {
                    // "Replaced" only when the reason names a credential of the same citizen
                    // (the reason the issue of a replacement writes), not any reason an
                    // officer typed that starts alike.
                    if let Some(old) = self.store.get_credential(&id).await? {
                        let named = old
                            .status_reason
                            .as_deref()
                            .and_then(|r| r.strip_prefix("replaced by "))
                            .map(str::to_owned);
                        if let Some(new_id) = named {
                            let same_citizen = self
                                .store
                                .get_credential(&new_id)
                                .await?
                                .is_some_and(|n| n.citizen_id == old.citizen_id);
                            replaced_by = same_citizen.then_some(new_id);
                        }
                    }
                }
                if let Verdict::Valid(ok) = v {
                    face_on_file = match (
                        ok.credential.citizen.photo_sha256,
                        self.store.get_credential(&id).await?,
                    ) {
                        (Some(d), Some(rec)) => self
                            .store
                            .citizen_photo(&rec.citizen_id)
                            .await?
                            .is_some_and(|p| p.sha256 == hex::encode(d.0)),
                        _ => false,
                    };
                }
            }
        }
        Ok(CounterCheck::Credential {
            checked,
            replaced_by,
            face_on_file,
            live,
        })
    }

    /// The face of a credential's holder, for the counter (clerk, issuer or admin): only for a
    /// credential that verifies now, and only when the stored photo's SHA-256 equals the digest
    /// the credential was signed over. The fetch goes on the citizen's access record
    /// (`face_shown`) before the photo is returned.
    pub async fn counter_face(&self, by: &Officer, payload: &str) -> Result<StoredPhoto> {
        by.require(COUNTER)?;
        let at = self.now();
        let payload = payload.trim();
        // A live QR's face is its credential's: the presentation was judged by the check.
        let inner;
        let payload = if payload.starts_with(qrid_credential::payload::prefix::PRESENTATION) {
            inner = qrid_credential::Presentation::open(payload)
                .map_err(|e| {
                    ServiceError::InvalidRequest(format!("the live QR is not valid: {e}"))
                })?
                .presentation
                .credential;
            inner.as_str()
        } else {
            payload
        };
        let checked = self.check_payload(payload, at).await?;
        let verified = match checked {
            Checked::Verdict(Verdict::Valid(v)) => v,
            Checked::Verdict(v) => {
                return Err(ServiceError::Face(FaceRefusal::NotVerified(v.kind())))
            }
            Checked::Unchecked(e) => {
                return Err(ServiceError::Face(FaceRefusal::NotVerified(e.kind())))
            }
        };
        let digest = verified
            .credential
            .citizen
            .photo_sha256
            .ok_or(ServiceError::Face(FaceRefusal::NoDigest))?;
        let id = verified.credential.id.to_string();
        let rec = self
            .store
            .get_credential(&id)
            .await?
            .ok_or(ServiceError::NotFound("credential"))?;
        let photo = self
            .store
            .citizen_photo(&rec.citizen_id)
            .await?
            .ok_or(ServiceError::NotFound("photo"))?;
        if photo.sha256 != hex::encode(digest.0) {
            return Err(ServiceError::Face(FaceRefusal::DigestMismatch));
        }
        // Written now, not queued: the record must hold the fetch before the face is shown.
        self.store
            .record_verifications(&[Verification {
                credential_id: Some(id),
                client_id: by.counter_client().as_str().to_owned(),
                at,
                outcome: "face_shown".into(),
            }])
            .await?;
        Ok(photo)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_only_their_digest_is_kept() {
        let (a, b) = (random_token(), random_token());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert_ne!(token_digest(&a), token_digest(&b));
        assert_eq!(token_digest(&a), token_digest(&a.clone()));
    }

    #[test]
    fn refusals_have_stable_kinds() {
        assert_eq!(FaceRefusal::NotVerified("revoked").kind(), "not_verified");
        assert_eq!(FaceRefusal::NoDigest.kind(), "no_photo_digest");
        assert_eq!(FaceRefusal::DigestMismatch.kind(), "photo_mismatch");
        assert_eq!(
            crate::photo::PhotoRefusal::NotAnImage.kind(),
            "unsupported_image"
        );
    }
}
