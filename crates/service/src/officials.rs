//! Officials' provisioning: a signing key and a TOTP secret generated here and sealed under the
//! key-encryption key, bound to the official's username and key id.

use crate::custody::{binding, CustodyError, Kek, Purpose};
use crate::passwords::hash_password;
use crate::totp;
use qrid_credential::{Kid, Official, SigningKey};
use qrid_store::{KeyRotation, NewOfficial, NewOfficialKey, OfficialRecord};
use zeroize::Zeroizing;

/// A new official's row, ready for `Store::create_official`, and the TOTP enrolment URI that
/// is shown once.
pub struct Provisioned {
    /// The row: password hash, sealed key and sealed TOTP secret, public key, kid.
    pub official: NewOfficial,
    /// `otpauth://…` holding the TOTP secret: show it once, never store or log it.
    pub otpauth_uri: Zeroizing<String>,
}

/// Generates an official's signing key and TOTP secret and seals both under `kek`; hashes the
/// password with argon2id (slow: call off the async runtime). The private key exists in the
/// clear only in this function's memory, and is zeroised when it returns.
pub fn provision(
    kek: &Kek,
    username: &str,
    official: &Official,
    password: &str,
    totp_issuer: &str,
) -> Result<Provisioned, String> {
    let password_hash = hash_password(password)?;
    let key = SigningKey::generate(&mut rand_core::OsRng);
    let public = key.verifying_key();
    let kid = Kid::thumbprint(&public).to_string();
    let bound = binding(username, &kid);
    let secret = totp::generate_secret();
    let key_bytes = Zeroizing::new(key.to_bytes());
    Ok(Provisioned {
        official: NewOfficial {
            username: username.to_owned(),
            full_name: official.name.as_str().to_owned(),
            title: official.title.as_str().to_owned(),
            agency: official.agency.as_str().to_owned(),
            password_hash,
            totp_sealed: kek.seal(Purpose::TotpSecret, &bound, &secret),
            key_sealed: kek.seal(Purpose::SigningKey, &bound, key_bytes.as_ref()),
            public_key: public.to_bytes(),
            kid,
        },
        otpauth_uri: totp::otpauth_uri(totp_issuer, username, &secret),
    })
}

/// A new TOTP secret for an existing official (re-enrolment after a lost phone), sealed under
/// `kek` and bound to the official's username and key as [`provision`] binds it; with the
/// otpauth:// URI to show once.
pub fn new_totp(
    kek: &Kek,
    username: &str,
    kid: &str,
    totp_issuer: &str,
) -> (Vec<u8>, Zeroizing<String>) {
    let secret = totp::generate_secret();
    let sealed = kek.seal(Purpose::TotpSecret, &binding(username, kid), &secret);
    (sealed, totp::otpauth_uri(totp_issuer, username, &secret))
}

/// Why [`create`] stored nothing.
#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    /// An official with this username exists already.
    #[error("an official named {0} exists already")]
    UsernameTaken(String),
    /// The store refused the write.
    #[error(transparent)]
    Store(#[from] qrid_store::StoreError),
    /// The issuer key could not be registered as current.
    #[error("cannot register the issuer key: {0}")]
    IssuerKey(String),
}

/// Stores a provisioned official with a signer credential on the next free status slot,
/// signed by `issuer_key` for `valid_days` from the clock's now, and registers that key first
/// if the database does not know it. One transaction: either both rows exist or neither.
pub async fn create(
    store: &qrid_store::Store,
    config: &crate::Config,
    clock: &dyn crate::Clock,
    issuer_key: &qrid_credential::IssuerKey,
    official: &NewOfficial,
    valid_days: u32,
    actor: &str,
) -> Result<(OfficialRecord, qrid_store::SignerCredentialRecord), CreateError> {
    crate::keys::register_key(store, issuer_key, clock)
        .await
        .map_err(|e| CreateError::IssuerKey(e.to_string()))?;
    let at = clock.now();
    let public_url = config.public_url.trim_end_matches('/');
    let terms = crate::issuance::IssueTerms {
        issuer: &config.issuer,
        public_url,
        issued_at: at,
        valid_days,
    };
    store
        .create_official(official, config.status_list_size, actor, at, |id, slot| {
            crate::issuance::sign_signer_credential(issuer_key, terms, id, official, slot)
        })
        .await
        .map_err(|e| match e {
            qrid_store::StoreError::Conflict(_) => {
                CreateError::UsernameTaken(official.username.clone())
            }
            e => CreateError::Store(e),
        })
}

/// A new signing key for official `o`, sealed under `kek` (Purpose::SigningKey) and bound to
/// their username and the new kid, with their TOTP secret opened under the old binding and
/// sealed under the new one: the official keeps their authenticator. The private key and the
/// TOTP secret exist in the clear only in this function's memory, zeroised when it returns.
/// Refused only if the sealed TOTP secret does not open (another KEK, altered bytes).
pub fn new_key(kek: &Kek, o: &OfficialRecord) -> Result<NewOfficialKey, CustodyError> {
    let secret = kek.open(
        Purpose::TotpSecret,
        &binding(&o.username, &o.kid),
        &o.totp_sealed,
    )?;
    let key = SigningKey::generate(&mut rand_core::OsRng);
    let public = key.verifying_key();
    let kid = Kid::thumbprint(&public).to_string();
    let bound = binding(&o.username, &kid);
    let key_bytes = Zeroizing::new(key.to_bytes());
    Ok(NewOfficialKey {
        replaces_kid: o.kid.clone(),
        replaces_totp_sealed: o.totp_sealed.clone(),
        key_sealed: kek.seal(Purpose::SigningKey, &bound, key_bytes.as_ref()),
        public_key: public.to_bytes(),
        totp_sealed: kek.seal(Purpose::TotpSecret, &bound, &secret),
        kid,
    })
}

/// Why [`rotate_key`] changed nothing. As a [`crate::ServiceError`] (its `From`), each has a
/// stable kind: `not_found`, the store's kinds (`invalid_state` for a concurrent change of the
/// official, `database_unavailable`, …), and `internal` for a secret that does not open or an
/// issuer key that cannot be registered.
#[derive(Debug, thiserror::Error)]
pub enum RotateError {
    /// No official has this username.
    #[error("official not found")]
    NotFound,
    /// The official's sealed TOTP secret does not open under this KEK (official id, cause).
    #[error("official {0}: the sealed TOTP secret cannot be opened: {1}")]
    Custody(String, CustodyError),
    /// The issuer key could not be registered as current.
    #[error("cannot register the issuer key: {0}")]
    IssuerKey(String),
    /// The store refused the write (a concurrent change of the official is `InvalidState`).
    #[error(transparent)]
    Store(#[from] qrid_store::StoreError),
}

impl From<RotateError> for crate::ServiceError {
    fn from(e: RotateError) -> crate::ServiceError {
        match e {
            RotateError::NotFound => crate::ServiceError::NotFound("official"),
            RotateError::Store(e) => crate::ServiceError::Store(e),
            e @ (RotateError::Custody(..) | RotateError::IssuerKey(_)) => {
                crate::ServiceError::internal(e)
            }
        }
    }
}

/// Rotates the signing key of the official named `username`, in one store transaction
/// ([`qrid_store::Store::rotate_official_key`]): a new key from [`new_key`] (same TOTP
/// secret), a new signer credential for it signed by `issuer_key` on a fresh status slot,
/// valid for [`crate::issuance::SIGNER_DAYS`] from the clock's now (registering that key
/// first if the database does not know it, as [`create`] does), the official's other signer
/// credentials revoked (so their PDF certificates go on the CRL, and signatures made before
/// stay valid at their signing time), their tokens and signing sessions ended, audited
/// `official.rotate_key` under `actor`. The caller drops its cached copies of the revoked
/// credentials' status lists.
pub async fn rotate_key(
    store: &qrid_store::Store,
    config: &crate::Config,
    clock: &dyn crate::Clock,
    kek: &Kek,
    issuer_key: &qrid_credential::IssuerKey,
    username: &str,
    actor: &str,
) -> Result<KeyRotation, RotateError> {
    let o = store
        .official_by_username(username)
        .await?
        .ok_or(RotateError::NotFound)?;
    let key = new_key(kek, &o).map_err(|e| RotateError::Custody(o.id.clone(), e))?;
    crate::keys::register_key(store, issuer_key, clock)
        .await
        .map_err(|e| RotateError::IssuerKey(e.to_string()))?;
    let at = clock.now();
    let public_url = config.public_url.trim_end_matches('/');
    let terms = crate::issuance::IssueTerms {
        issuer: &config.issuer,
        public_url,
        issued_at: at,
        valid_days: crate::issuance::SIGNER_DAYS,
    };
    // What the signer credential certifies: the official as they are, with the new key.
    let certified = NewOfficial {
        username: o.username.clone(),
        full_name: o.full_name.clone(),
        title: o.title.clone(),
        agency: o.agency.clone(),
        password_hash: o.password_hash.clone(),
        totp_sealed: key.totp_sealed.clone(),
        key_sealed: key.key_sealed.clone(),
        public_key: key.public_key,
        kid: key.kid.clone(),
    };
    let rotation = store
        .rotate_official_key(
            &o.id,
            &key,
            config.status_list_size,
            actor,
            at,
            |id, slot| {
                crate::issuance::sign_signer_credential(issuer_key, terms, id, &certified, slot)
            },
        )
        .await?;
    tracing::info!(
        official = %o.id,
        kid = %rotation.official.kid,
        previous_kid = %rotation.previous_kid,
        signer_credential = %rotation.signer_credential.id,
        revoked = rotation.revoked.len(),
        "official key rotated"
    );
    Ok(rotation)
}
