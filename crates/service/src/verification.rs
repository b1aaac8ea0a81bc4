//! Verifying a credential at a counter or for a portal: the one check of every front door that
//! takes credentials this service issued, with the check written to the access record.

use crate::config::OwnStatusSlot;
use crate::error::Result;
use crate::ids::ClientId;
use crate::Service;
use qrid_store::Verification;
use qrid_verifier::{StatusOutcome, Verdict, Verified, VerifyError};
use serde::Serialize;

/// What one check found: a verdict, or why the credential could not be checked at all (not a
/// credential, a format error). Both are answers, not failures of the service; serialised
/// untagged, each as its own JSON.
#[derive(Debug, Serialize)]
#[serde(untagged)]
// Lives on the stack for one request; a verdict is the usual case, so boxing it would add an
// allocation to save the rare error a few hundred bytes.
#[allow(clippy::large_enum_variant)]
pub enum Checked {
    /// The credential was examined: valid, or invalid with a reason.
    Verdict(Verdict),
    /// The payload could not be examined.
    Unchecked(VerifyError),
}

impl Checked {
    /// Whether the credential is valid.
    pub fn is_valid(&self) -> bool {
        matches!(self, Checked::Verdict(v) if v.is_valid())
    }
}

impl Service {
    /// Verifies a QR payload for `client` (as the access record names it) and queues the check on the citizen's access record: examined by the
    /// verifier, then judged on the live status of its slot ([`Service::judge_live`]). Only a
    /// database that cannot be read makes it fail; every other outcome is a [`Checked`].
    pub async fn verify_for(&self, client: &ClientId, payload: &str) -> Result<Checked> {
        let at = self.now();
        let checked = self.check_payload(payload, at).await?;
        let (credential_id, outcome) = match &checked {
            Checked::Verdict(v) => (v.credential_id(), v.kind()),
            Checked::Unchecked(e) => (None, e.kind()),
        };
        self.record_check(client, at, credential_id.map(|c| c.to_string()), outcome)
            .await;
        Ok(checked)
    }

    /// Queues one check on the citizen's access record: who (`client`), when, which
    /// credential (when it could be read), with what outcome.
    pub(crate) async fn record_check(
        &self,
        client: &ClientId,
        at: i64,
        credential_id: Option<String>,
        outcome: &str,
    ) {
        self.record(Verification {
            credential_id,
            client_id: client.as_str().to_owned(),
            at,
            outcome: outcome.to_owned(),
        })
        .await;
    }

    /// Checks a credential payload at `at` as [`Service::verify_for`] does, without recording
    /// it (the login answer records a login of its own): examined by the verifier, then judged
    /// on its live status.
    pub async fn check_payload(&self, payload: &str, at: i64) -> Result<Checked> {
        Ok(match self.verifier().verify(payload, at) {
            Ok(Verdict::Valid(v)) => Checked::Verdict(self.judge_live(v).await?),
            Ok(invalid) => Checked::Verdict(invalid),
            Err(e) => Checked::Unchecked(e),
        })
    }

    /// The one credential check of every front door that takes credentials this service issued
    /// (`/v1/verify`, the login answer): the verifier has examined the payload (format,
    /// signature, claims, time) with no status list of its own, this service reads the live
    /// status of the credential's slot, and [`Verified::judge`] turns it into the verdict, as
    /// it does for a published list offline. A credential without a status reference of this
    /// service keeps its verdict.
    pub async fn judge_live(&self, v: Verified) -> Result<Verdict> {
        let Some(slot) = v.credential.status.as_ref().and_then(OwnStatusSlot::of) else {
            return Ok(Verdict::Valid(v));
        };
        let found = self.status_of(slot).await?;
        Ok(v.judge(found, StatusOutcome::Current))
    }
}
