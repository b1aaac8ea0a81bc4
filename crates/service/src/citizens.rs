//! Citizens and their credentials: enrolment, issuance, the lifecycle of a credential (revoke,
//! suspend, reinstate) and what an officer may read of them.

use crate::error::{Result, ServiceError};
use crate::ids::{CitizenId, CredentialId, Officer};
use crate::issuance::{sign_credential, sign_credential_with_face, IssueTerms};
use crate::Service;
use qrid_credential::{CitizenInput, HolderKey, Jwk};
use qrid_store::{
    CitizenRecord, CredentialRecord, CredentialStatus, NewCitizen, Role, StatusChange, StoreError,
    Verification,
};

/// Who may enrol, issue and change a credential's status.
pub const ISSUERS: &[Role] = &[Role::Issuer, Role::Admin];
/// Who may read citizens, credentials and access records.
pub const READERS: &[Role] = &[Role::Issuer, Role::Admin, Role::Auditor];

/// Validity, in days, that a credential may be issued for: a day to a hundred years.
pub const VALID_DAYS: std::ops::RangeInclusive<u32> = 1..=36_500;
/// The longest reason for a status change, in characters after trimming.
pub const MAX_REASON_CHARS: usize = 500;

/// What a credential carries of the citizen's face.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Profile {
    /// The SHA-256 of the enrolment photo only: for printed cards that show the photo beside
    /// the QR; a counter fetches the face from the service.
    #[default]
    Digest,
    /// The digest and a gray face thumbnail in the QR (Claim 169 keys 16 and 17), so that an
    /// offline counter sees the face too. Needs a stored photo.
    Photo,
}

impl Profile {
    /// The profile's name: `digest` or `photo`.
    pub fn as_str(self) -> &'static str {
        match self {
            Profile::Digest => "digest",
            Profile::Photo => "photo",
        }
    }

    /// The profile of a name [`Profile::as_str`] gives; `None` for any other text.
    pub fn parse(name: &str) -> Option<Profile> {
        match name {
            "digest" => Some(Profile::Digest),
            "photo" => Some(Profile::Photo),
            _ => None,
        }
    }
}

/// How a credential is issued: every field optional.
#[derive(Debug, Default)]
pub struct IssueOptions {
    /// The face profile; default [`Profile::Digest`].
    pub profile: Profile,
    /// Days of validity, [`VALID_DAYS`]; default the `credential_days` setting.
    pub valid_days: Option<u32>,
    /// The holder's (wallet's) public key, bound into the credential's `cnf` claim.
    pub holder_jwk: Option<Jwk>,
    /// The credential this one replaces: revoked in the same transaction, with the reason
    /// `replaced by <new id>` (the counter says "replaced"). It must be the same citizen's and
    /// not revoked already.
    pub replaces: Option<CredentialId>,
}

/// A citizen and their credentials, newest first.
#[derive(Debug)]
pub struct CitizenFile {
    /// The enrolment.
    pub citizen: CitizenRecord,
    /// Every credential issued to them, newest first.
    pub credentials: Vec<CredentialRecord>,
}

impl Service {
    /// Enrols a citizen (issuer or admin). Refuses claims that fail validation
    /// ([`ServiceError::BadClaims`]) and an id number enrolled already
    /// ([`StoreError::AlreadyEnrolled`], naming the citizen).
    pub async fn enrol(&self, by: &Officer, input: CitizenInput) -> Result<CitizenRecord> {
        by.require(ISSUERS)?;
        let citizen = input.to_citizen()?;
        let rec = self
            .store
            .insert_citizen(&NewCitizen { citizen }, &by.username, self.now())
            .await?;
        tracing::info!(citizen = %rec.id, officer = %by.username, "citizen enrolled");
        Ok(rec)
    }

    /// A citizen with their credentials (issuer, admin or auditor).
    pub async fn citizen(&self, by: &Officer, id: &CitizenId) -> Result<CitizenFile> {
        by.require(READERS)?;
        let citizen = self
            .store
            .get_citizen(id.as_str())
            .await?
            .ok_or(ServiceError::NotFound("citizen"))?;
        let credentials = self.store.credentials_of(id.as_str()).await?;
        Ok(CitizenFile {
            citizen,
            credentials,
        })
    }

    /// Issues a credential to an enrolled citizen (issuer or admin), signed with the current
    /// key on a fresh status slot, stored with an audit entry in one transaction. Refuses a
    /// validity outside [`VALID_DAYS`] and a holder key that is not a usable public key before
    /// anything is read; retries a status-list allocation that lost a race with another node
    /// three times, then answers the conflict.
    pub async fn issue(
        &self,
        by: &Officer,
        id: &CitizenId,
        options: IssueOptions,
    ) -> Result<CredentialRecord> {
        by.require(ISSUERS)?;
        self.issue_as(&by.username, id, options).await
    }

    /// [`Service::issue`] without the role check, for an actor whose right to issue was
    /// checked earlier (the officer who made a credential offer, when a wallet redeems it).
    pub(crate) async fn issue_as(
        &self,
        actor: &str,
        id: &CitizenId,
        options: IssueOptions,
    ) -> Result<CredentialRecord> {
        let days = options.valid_days.unwrap_or(self.config.credential_days);
        if !VALID_DAYS.contains(&days) {
            return Err(ServiceError::InvalidRequest(
                "valid_days must be 1 to 36500".into(),
            ));
        }
        let holder = options
            .holder_jwk
            .map(|j| j.verifying_key().map(HolderKey))
            .transpose()
            .map_err(|e| ServiceError::BadHolderKey(e.to_string()))?;
        let citizen = self
            .store
            .get_citizen(id.as_str())
            .await?
            .ok_or(ServiceError::NotFound("citizen"))?
            .citizen;
        let face = match options.profile {
            Profile::Digest => None,
            Profile::Photo => {
                let photo = self
                    .store
                    .citizen_photo(id.as_str())
                    .await?
                    .filter(|p| {
                        citizen.photo_sha256.map(|d| hex::encode(d.0)).as_ref() == Some(&p.sha256)
                    })
                    .ok_or_else(|| {
                        ServiceError::InvalidRequest(
                            "the photo profile needs the citizen's photo on file".into(),
                        )
                    })?;
                let pixels = tokio::task::spawn_blocking(move || {
                    crate::photo::thumbnail_pixels(&photo.bytes)
                })
                .await
                .map_err(ServiceError::internal)?
                .map_err(ServiceError::Photo)?;
                Some(pixels)
            }
        };
        let keys = self.keys();
        let terms = IssueTerms {
            issuer: &self.config.issuer,
            public_url: &self.config.public_url,
            issued_at: self.now(),
            valid_days: days,
        };
        if let Some(face) = &face {
            // Whether the face fits at all, tried on the largest slot numbers before the
            // transaction, so that claims too long for the photo profile are the caller's
            // error, not a failed issuance.
            let widest = qrid_store::StatusSlot {
                list: i64::from(u32::MAX),
                index: u32::MAX,
            };
            sign_credential_with_face(&keys.current, terms, citizen.clone(), widest, holder, face)
                .map_err(ServiceError::InvalidRequest)?;
        }
        let mut attempt = 0;
        let (rec, replaced) = loop {
            let citizen = citizen.clone();
            let r = self
                .store
                .issue_credential_replacing(
                    id.as_str(),
                    self.config.status_list_size,
                    actor,
                    terms.issued_at,
                    options.replaces.as_ref().map(CredentialId::as_str),
                    |slot| match &face {
                        None => sign_credential(&keys.current, terms, citizen, slot, holder),
                        Some(face) => sign_credential_with_face(
                            &keys.current,
                            terms,
                            citizen,
                            slot,
                            holder,
                            face,
                        ),
                    },
                )
                .await;
            match r {
                // Two nodes racing to open a new status list: one retries.
                Err(StoreError::Conflict(_)) if attempt < 3 => attempt += 1,
                other => break other?,
            }
        };
        if let Some(old) = replaced {
            self.invalidate_status_list(old.status_list);
            tracing::info!(credential = %old.id, officer = %actor, "credential revoked: replaced");
        }
        tracing::info!(credential = %rec.id, citizen = %id, officer = %actor, "credential issued");
        Ok(rec)
    }

    /// A stored credential (issuer, admin or auditor).
    pub async fn credential(&self, by: &Officer, id: &CredentialId) -> Result<CredentialRecord> {
        by.require(READERS)?;
        self.stored_credential(id).await
    }

    /// A stored credential's payload, to be shown as a QR code (issuer or admin: a QR is a
    /// copy of the credential, which an auditor has no business printing).
    pub async fn credential_for_print(
        &self,
        by: &Officer,
        id: &CredentialId,
    ) -> Result<CredentialRecord> {
        by.require(ISSUERS)?;
        self.stored_credential(id).await
    }

    async fn stored_credential(&self, id: &CredentialId) -> Result<CredentialRecord> {
        self.store
            .get_credential(id.as_str())
            .await?
            .ok_or(ServiceError::NotFound("credential"))
    }

    /// A credential's access record: who verified it and when, newest first (issuer, admin or
    /// auditor). Refuses a credential that does not exist rather than answer an empty record.
    pub async fn access_record(
        &self,
        by: &Officer,
        id: &CredentialId,
    ) -> Result<Vec<Verification>> {
        by.require(READERS)?;
        self.stored_credential(id).await?;
        Ok(self.store.verifications_of(id.as_str()).await?)
    }

    /// Changes a credential's status (issuer or admin) with a reason of 1 to
    /// [`MAX_REASON_CHARS`] characters (stored trimmed). The store allows valid → revoked or
    /// suspended, suspended → valid or revoked; anything else is `InvalidState`. This node's
    /// copy of the credential's status list is dropped at once, so its next verification
    /// sees the change.
    pub async fn change_status(
        &self,
        by: &Officer,
        id: &CredentialId,
        to: CredentialStatus,
        reason: &str,
    ) -> Result<StatusChange> {
        by.require(ISSUERS)?;
        let reason = reason.trim();
        if reason.is_empty() || reason.chars().count() > MAX_REASON_CHARS {
            return Err(ServiceError::InvalidRequest(
                "reason must be 1 to 500 characters".into(),
            ));
        }
        let rec = self
            .store
            .set_status(id.as_str(), to, reason, &by.username, self.now())
            .await?;
        self.invalidate_status_list(rec.status_list);
        tracing::info!(credential = %rec.id, officer = %by.username, status = ?to, "credential status changed");
        Ok(rec)
    }
}
