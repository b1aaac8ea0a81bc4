//! The wallet's answer to a login request (docs/login.md): the credential, the holder key's
//! signature over the request and the confirmation code, checked before the login is
//! accepted. Each refused answer counts against the transaction; the fifth makes it fail.

use super::MAX_LOGIN_FAILURES;
use crate::error::{Result, ServiceError};
use crate::passwords::constant_time_eq;
use crate::verification::Checked;
use crate::Service;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use base64::Engine;
use qrid_credential::{HolderKey, LoginRequest, Signature};
use qrid_store::{LoginStatus, LoginTx, StoreError};
use qrid_verifier::Verdict;

/// A wallet's answer to a login request, as sent.
#[derive(Debug, Clone)]
pub struct LoginAnswer {
    /// The transaction id (32 hexadecimal digits).
    pub tx: String,
    /// The credential payload (base45).
    pub credential: String,
    /// The holder key's signature, base64url.
    pub signature: String,
    /// The confirmation code the login page showed, as the citizen typed it into the wallet.
    pub code: String,
}

/// An accepted answer: the transaction is authenticated, and the waiting page's next poll
/// takes the code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginAccepted {
    /// The portal that asked for the login.
    pub client_id: String,
}

/// Why a login transaction refuses what was sent to it: the wallet's answer, or a waiting
/// page's poll. [`LoginRefusal::kind`] is the HTTP problem kind of the same name; the
/// `Display` text is the problem's detail.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoginRefusal {
    /// No such transaction.
    #[error("no such login transaction")]
    Unknown,
    /// The transaction has expired.
    #[error("the login transaction has expired")]
    Expired,
    /// The transaction failed after [`MAX_LOGIN_FAILURES`] refused answers.
    #[error("the login transaction failed after repeated refused answers")]
    Failed,
    /// The transaction was answered already.
    #[error("the login transaction has already been answered")]
    Used,
    /// The portal that asked was disabled while the login waited.
    #[error("the service that asked for this login is no longer allowed to log citizens in")]
    ClientDisabled,
    /// The confirmation code is not the one the login page shows.
    #[error("the confirmation code is not the one the login page shows")]
    CodeMismatch,
    /// The credential could not be checked, is not valid, or is not one this service issued;
    /// the text says which (with the verifier's kind, never the credential's content).
    #[error("{0}")]
    CredentialInvalid(String),
    /// The credential binds no holder key: it cannot log in.
    #[error("the credential is not bound to a holder key (no cnf); it cannot log in")]
    HolderKeyMissing,
    /// The holder signature is malformed or does not verify; the text says which.
    #[error("{0}")]
    HolderSignatureInvalid(&'static str),
    /// The waiting page's poll comes from another browser than the one that started the login.
    #[error("this login was started in another browser")]
    OtherBrowser,
}

impl LoginRefusal {
    /// The stable kind: the HTTP problem kind of the same name.
    pub fn kind(&self) -> &'static str {
        match self {
            LoginRefusal::Unknown => "login_unknown",
            LoginRefusal::Expired => "login_expired",
            LoginRefusal::Failed => "login_failed",
            LoginRefusal::Used => "login_used",
            LoginRefusal::ClientDisabled => "client_disabled",
            LoginRefusal::CodeMismatch => "login_code_mismatch",
            LoginRefusal::CredentialInvalid(_) => "credential_invalid",
            LoginRefusal::HolderKeyMissing => "holder_key_missing",
            LoginRefusal::HolderSignatureInvalid(_) => "holder_signature_invalid",
            LoginRefusal::OtherBrowser => "forbidden",
        }
    }
}

/// Checks the form of a login transaction id (32 hexadecimal digits) before anything is read:
/// any other is [`ServiceError::NotFound`], as an unknown one would be.
pub fn check_tx_id(tx: &str) -> Result<()> {
    if tx.len() == 32 && tx.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(())
    } else {
        Err(ServiceError::NotFound("login transaction"))
    }
}

/// Decodes the holder signature of a login answer: base64url (padding tolerated) of 64 bytes,
/// or [`LoginRefusal::HolderSignatureInvalid`]. Pure: outside input, fuzzed.
pub fn decode_holder_signature(text: &str) -> Result<Signature> {
    B64URL
        .decode(text.trim_end_matches('='))
        .ok()
        .and_then(|b| Signature::from_slice(&b).ok())
        .ok_or(ServiceError::Login(LoginRefusal::HolderSignatureInvalid(
            "the signature is not a base64url Ed25519 signature",
        )))
}

impl Service {
    /// Judges a wallet's answer. The transaction must exist ([`LoginRefusal::Unknown`]; a
    /// malformed id is [`ServiceError::NotFound`]), be pending ([`LoginRefusal::Used`],
    /// [`LoginRefusal::Failed`]) and unexpired ([`LoginRefusal::Expired`]); then, in this
    /// order, its portal must still be enabled, the confirmation code right, the credential
    /// valid on its live status and issued here, bound to a holder key whose signature over
    /// the login request verifies. Each refusal of these counts against the transaction (the
    /// [`MAX_LOGIN_FAILURES`]th fails it); a service failure does not. An accepted answer
    /// authenticates the transaction once (a concurrent second one is
    /// [`LoginRefusal::Used`]) and is written to the citizen's access record.
    pub async fn oidc_login_answer(&self, answer: &LoginAnswer) -> Result<LoginAccepted> {
        check_tx_id(&answer.tx)?;
        let t = self
            .store
            .login_tx(&answer.tx)
            .await?
            .ok_or(LoginRefusal::Unknown)?;
        let at = self.now();
        match t.status {
            LoginStatus::Pending if at > t.new.expires_at => {
                return Err(LoginRefusal::Expired.into())
            }
            LoginStatus::Pending => {}
            LoginStatus::Failed => return Err(LoginRefusal::Failed.into()),
            LoginStatus::Authenticated | LoginStatus::Complete => {
                return Err(LoginRefusal::Used.into())
            }
        }
        let (citizen_id, credential_id) = match self.check_answer(&t, answer, at).await {
            Ok(who) => who,
            Err(ServiceError::Login(refusal)) => {
                let failed = self.store.fail_login(&t.new.id, MAX_LOGIN_FAILURES).await?;
                tracing::info!(
                    event = "login_refused",
                    kind = refusal.kind(),
                    failed,
                    "wallet answer refused"
                );
                return Err(refusal.into());
            }
            Err(e) => return Err(e),
        };
        match self
            .store
            .authenticate_login(&t.new.id, &citizen_id, &credential_id, at)
            .await
        {
            Ok(()) => {}
            Err(StoreError::InvalidState(_)) => return Err(LoginRefusal::Used.into()),
            Err(e) => return Err(e.into()),
        }
        tracing::info!(event = "login", credential_id = %credential_id, client_id = %t.new.client_id, "wallet login accepted");
        Ok(LoginAccepted {
            client_id: t.new.client_id,
        })
    }

    /// The citizen and credential of an answer to pending transaction `t`, or why not.
    async fn check_answer(
        &self,
        t: &LoginTx,
        r: &LoginAnswer,
        at: i64,
    ) -> Result<(String, String)> {
        // A portal disabled while its login waited gets no citizen's consent: its token request
        // would be refused anyway, and the wallet should say so now, not after the citizen
        // agreed.
        if self.oidc_client(&t.new.client_id).await?.is_none() {
            return Err(LoginRefusal::ClientDisabled.into());
        }
        // First, and counted like any refused answer: five wrong codes fail the transaction.
        if !constant_time_eq(
            r.code.trim().as_bytes(),
            self.oidc_confirm_code(&t.new.id)?.as_bytes(),
        ) {
            return Err(LoginRefusal::CodeMismatch.into());
        }
        let v = match self.check_payload(&r.credential, at).await? {
            Checked::Verdict(Verdict::Valid(v)) => v,
            Checked::Verdict(Verdict::Invalid(reason)) => {
                return Err(LoginRefusal::CredentialInvalid(format!(
                    "the credential is not valid: {}",
                    reason.kind()
                ))
                .into())
            }
            Checked::Unchecked(e) => {
                return Err(LoginRefusal::CredentialInvalid(format!(
                    "the credential could not be checked: {}",
                    e.kind()
                ))
                .into())
            }
        };
        let Some(HolderKey(holder)) = v.credential.holder else {
            return Err(LoginRefusal::HolderKeyMissing.into());
        };
        let sig = decode_holder_signature(&r.signature)?;
        let digest: [u8; 32] = hex::decode(&t.new.request_sha256)
            .ok()
            .and_then(|d| d.try_into().ok())
            .ok_or_else(|| ServiceError::internal("stored request digest is malformed"))?;
        holder
            .verify_strict(&LoginRequest::response_message_for_digest(&digest), &sig)
            .map_err(|_| {
                LoginRefusal::HolderSignatureInvalid(
                    "the holder signature does not verify with the key bound in the credential",
                )
            })?;
        let credential_id = v.credential.id.to_string();
        let record = self
            .store
            .get_credential(&credential_id)
            .await?
            .ok_or_else(|| {
                LoginRefusal::CredentialInvalid(
                    "the credential is not one this service issued".to_owned(),
                )
            })?;
        Ok((record.citizen_id, credential_id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transaction_ids_are_32_hex_digits_and_anything_else_is_not_found() {
        assert!(check_tx_id("0123456789abcdef0123456789ABCDEF").is_ok());
        for bad in [
            "",
            "0123",
            "0123456789abcdef0123456789abcdeg",
            "../etc/passwd",
        ] {
            let e = check_tx_id(bad).expect_err(bad);
            assert_eq!(e.kind(), "not_found");
            assert_eq!(e.to_string(), "login transaction not found");
        }
    }

    #[test]
    fn a_holder_signature_is_64_bytes_of_base64url_padding_tolerated() {
        let sig = B64URL.encode([7u8; 64]);
        assert!(decode_holder_signature(&sig).is_ok());
        assert!(decode_holder_signature(&format!("{sig}==")).is_ok());
        for bad in ["", "not base64!", &B64URL.encode([7u8; 63])] {
            let e = decode_holder_signature(bad).expect_err("refused");
            assert_eq!(e.kind(), "holder_signature_invalid");
            assert_eq!(
                e.to_string(),
                "the signature is not a base64url Ed25519 signature"
            );
        }
    }
}
