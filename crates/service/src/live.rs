//! The live QR at a counter (docs/credential-format.md, "The live QR"): the credential inside
//! is verified as any other, then the presentation itself: signed by the key the credential
//! is bound to, made within the last [`PRESENTATION_MAX_AGE`] seconds, and not seen before.
//!
//! [`PRESENTATION_MAX_AGE`]: qrid_credential::PRESENTATION_MAX_AGE

use crate::error::{Result, ServiceError};
use crate::verification::Checked;
use crate::{ClientId, Service};
use qrid_credential::{HolderKey, Presentation, PRESENTATION_AHEAD};
use qrid_verifier::Verdict;
use sha2::{Digest, Sha256};

/// How the presentation itself fared, once its credential verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LiveCheck {
    /// Signed by the credential's holder key, fresh, and seen for the first time.
    Accepted {
        /// When the wallet made it (its clock).
        presented_at: i64,
    },
    /// The credential is bound to no holder key: nobody can present it live.
    Unbound,
    /// Not signed by the key the credential is bound to: someone else's wallet, or a forgery.
    WrongHolder,
    /// Made too long ago (a photo or a screenshot), or too far ahead of the counter's clock.
    Stale {
        /// When it claims to have been made.
        presented_at: i64,
    },
    /// Shown at a counter before: a copy.
    Replayed,
}

impl LiveCheck {
    /// The stable name of the outcome, as the access record keeps it.
    pub fn kind(self) -> &'static str {
        match self {
            LiveCheck::Accepted { .. } => "valid",
            LiveCheck::Unbound => "presentation_unbound",
            LiveCheck::WrongHolder => "presentation_wrong_holder",
            LiveCheck::Stale { .. } => "presentation_stale",
            LiveCheck::Replayed => "presentation_replayed",
        }
    }

    /// Whether the presentation was accepted.
    pub fn is_accepted(self) -> bool {
        matches!(self, LiveCheck::Accepted { .. })
    }
}

impl Service {
    /// Checks a live presentation (`QP1:`) for `client` and records the check on the
    /// citizen's access record with the outcome of both (a valid credential in a refused
    /// presentation is recorded as the presentation's refusal). The [`LiveCheck`] is `None`
    /// when the credential itself did not verify: its verdict says why. Refuses text that is
    /// not a well-formed presentation as [`ServiceError::InvalidRequest`].
    pub async fn check_presentation(
        &self,
        client: &ClientId,
        text: &str,
    ) -> Result<(Checked, Option<LiveCheck>)> {
        let opened = Presentation::open(text)
            .map_err(|e| ServiceError::InvalidRequest(format!("the live QR is not valid: {e}")))?;
        let at = self.now();
        let checked = self
            .check_payload(&opened.presentation.credential, at)
            .await?;
        let live = match &checked {
            Checked::Verdict(Verdict::Valid(ok)) => Some(match &ok.credential.holder {
                None => LiveCheck::Unbound,
                Some(HolderKey(k)) if opened.verify_holder(k).is_err() => LiveCheck::WrongHolder,
                Some(_) if !opened.is_fresh(at) => LiveCheck::Stale {
                    presented_at: opened.presentation.presented_at,
                },
                Some(_) => {
                    let digest = hex::encode(Sha256::digest(text.trim().as_bytes()));
                    let until = opened.remember_until() + PRESENTATION_AHEAD;
                    if self.store.see_presentation(&digest, until, at).await? {
                        LiveCheck::Accepted {
                            presented_at: opened.presentation.presented_at,
                        }
                    } else {
                        LiveCheck::Replayed
                    }
                }
            }),
            _ => None,
        };
        let (credential_id, outcome) = match (&checked, live) {
            (Checked::Verdict(v), Some(l)) => (v.credential_id(), l.kind()),
            (Checked::Verdict(v), None) => (v.credential_id(), v.kind()),
            (Checked::Unchecked(e), _) => (None, e.kind()),
        };
        self.record_check(client, at, credential_id.map(|c| c.to_string()), outcome)
            .await;
        if let Some(l) = live.filter(|l| !l.is_accepted()) {
            tracing::warn!(client = %client.as_str(), outcome = l.kind(), "live presentation refused");
        }
        Ok((checked, live))
    }
}
