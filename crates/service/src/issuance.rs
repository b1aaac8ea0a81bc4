//! Issuance: building and signing citizens' and officials' credentials on their status slots.

use qrid_credential::{
    Citizen, Credential, CredentialId, HolderKey, IssuerKey, Official, SignerCredential,
    StatusIndex, StatusRef,
};
use qrid_store::{NewCredential, NewOfficial, StatusSlot};

/// The longest payload of a photo credential: QR version 25 at error correction M holds 1,451
/// alphanumeric characters (the payload is base45, all alphanumeric), 117 × 117 modules, the
/// largest symbol a counter's camera reads off a card at arm's length (docs/credential-format.md).
pub const PHOTO_PROFILE_MAX_CHARS: usize = 1451;

/// Default validity of a signer credential, days.
pub const SIGNER_DAYS: u32 = 730;

/// The terms every credential of one issuance shares.
#[derive(Debug, Clone, Copy)]
pub struct IssueTerms<'a> {
    /// The `iss` claim.
    pub issuer: &'a str,
    /// The service's public URL: the status reference names its list there.
    pub public_url: &'a str,
    /// `iat`, Unix seconds.
    pub issued_at: i64,
    /// Days until `exp`.
    pub valid_days: u32,
}

/// Builds and signs the credential of `citizen` on status slot `slot`, as the issuance API and
/// `qrid bulk-issue` both store it. The error is a message for `StoreError::Rejected`.
pub fn sign_credential(
    key: &IssuerKey,
    terms: IssueTerms<'_>,
    citizen: Citizen,
    slot: StatusSlot,
    holder: Option<HolderKey>,
) -> Result<NewCredential, String> {
    let status = terms.status_ref(slot)?;
    let cred = Credential {
        issuer: terms.issuer.to_owned(),
        issued_at: terms.issued_at,
        expires_at: terms.expires_at(),
        not_before: None,
        id: CredentialId::random(),
        citizen,
        status: Some(status),
        holder,
    };
    let payload = cred
        .sign(key.signing_key(), key.kid())
        .map_err(|e| e.to_string())?;
    Ok(stored(
        key,
        &cred.id,
        payload,
        cred.issued_at,
        cred.expires_at,
    ))
}

/// [`sign_credential`] with the citizen's face in it (the photo profile): the thumbnail is
/// encoded at the best quality of [`crate::photo::THUMB_QUALITIES`] whose whole credential
/// fits [`PHOTO_PROFILE_MAX_CHARS`]; if even the lowest does not fit (very long claims), the
/// credential is refused rather than printed in a QR code that counters cannot read.
pub fn sign_credential_with_face(
    key: &IssuerKey,
    terms: IssueTerms<'_>,
    mut citizen: Citizen,
    slot: StatusSlot,
    holder: Option<HolderKey>,
    face: &image::GrayImage,
) -> Result<NewCredential, String> {
    for q in crate::photo::THUMB_QUALITIES {
        let bytes = crate::photo::encode_thumbnail(face, q).map_err(|e| e.to_string())?;
        citizen.face = Some(qrid_credential::FacePhoto {
            format: Some(qrid_credential::PhotoFormat::Jpeg),
            bytes,
        });
        let signed = sign_credential(key, terms, citizen.clone(), slot, holder)?;
        if signed.payload.len() <= PHOTO_PROFILE_MAX_CHARS {
            return Ok(signed);
        }
    }
    Err(format!(
        "the face photo does not fit a QR code of {PHOTO_PROFILE_MAX_CHARS} characters with these claims; issue the photo-digest profile"
    ))
}

/// Signs the signer credential of official `official_id` (whose details and key are in `o`)
/// on status slot `slot`, as `Store::create_official` and `certify_official` store it.
pub fn sign_signer_credential(
    key: &IssuerKey,
    terms: IssueTerms<'_>,
    official_id: &str,
    o: &NewOfficial,
    slot: StatusSlot,
) -> Result<NewCredential, String> {
    let status = terms.status_ref(slot)?;
    let cred = SignerCredential {
        issuer: terms.issuer.to_owned(),
        subject: official_id.to_owned(),
        issued_at: terms.issued_at,
        expires_at: terms.expires_at(),
        id: CredentialId::random(),
        official: Official::new(&o.full_name, &o.title, &o.agency).map_err(|e| e.to_string())?,
        key: qrid_credential::VerifyingKey::from_bytes(&o.public_key).map_err(|e| e.to_string())?,
        status: Some(status),
    };
    let payload = cred
        .sign(key.signing_key(), key.kid())
        .map_err(|e| e.to_string())?;
    Ok(stored(
        key,
        &cred.id,
        payload,
        cred.issued_at,
        cred.expires_at,
    ))
}

impl IssueTerms<'_> {
    /// `exp`: [`IssueTerms::valid_days`] after `iat`.
    fn expires_at(&self) -> i64 {
        self.issued_at + i64::from(self.valid_days) * 86_400
    }

    /// The status reference of `slot`, naming its list at the service's public URL.
    fn status_ref(&self, slot: StatusSlot) -> Result<StatusRef, String> {
        StatusRef::new(
            &crate::config::status_list_uri(self.public_url, slot.list),
            StatusIndex(slot.index),
        )
        .map_err(|e| e.to_string())
    }
}

/// The row the store keeps of a credential signed by `key`.
fn stored(
    key: &IssuerKey,
    id: &CredentialId,
    payload: String,
    issued_at: i64,
    expires_at: i64,
) -> NewCredential {
    NewCredential {
        id: id.to_string(),
        kid: key.kid().to_string(),
        payload,
        issued_at,
        expires_at,
    }
}

/// The database steps of bulk issuance (`qrid bulk-issue`), for a pipeline that signs on every
/// core between them: filter a batch to the citizens not enrolled yet, reserve their status
/// slots, then store the signed batch. A slot reserved and never stored stays unused, never
/// reused, so a run that dies between the steps costs slots, not correctness; a re-run issues
/// only what was not stored.
#[derive(Clone)]
pub struct BulkIssuance {
    store: qrid_store::Store,
    list_size: u32,
}

impl BulkIssuance {
    /// Bulk issuance into `store`, with status lists of `list_size` entries (the service's
    /// `status_list_size`, so that the API and bulk runs fill the same lists).
    pub fn new(store: qrid_store::Store, list_size: u32) -> BulkIssuance {
        BulkIssuance { store, list_size }
    }

    /// The citizens of `batch` whose id number is not enrolled yet, in their order.
    pub async fn not_enrolled(
        &self,
        batch: Vec<qrid_store::NewCitizen>,
    ) -> crate::error::Result<Vec<qrid_store::NewCitizen>> {
        Ok(self.store.not_enrolled(batch).await?)
    }

    /// `count` fresh status slots, committed at `at` before anything is signed on them.
    pub async fn reserve_slots(
        &self,
        count: usize,
        at: i64,
    ) -> crate::error::Result<Vec<StatusSlot>> {
        Ok(self.store.reserve_slots(count, self.list_size, at).await?)
    }

    /// Stores a signed batch (citizens, credentials, audit) in one transaction, all or
    /// nothing, under `actor` at `at`; answers how many credentials were stored.
    pub async fn store_batch(
        &self,
        rows: &[qrid_store::IssuedRow],
        actor: &str,
        at: i64,
    ) -> crate::error::Result<usize> {
        Ok(self.store.insert_issued(rows, actor, at).await?)
    }
}
