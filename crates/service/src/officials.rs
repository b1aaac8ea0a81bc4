//! Officials' provisioning: a signing key and a TOTP secret generated here and sealed under the
//! key-encryption key, bound to the official's username and key id.

use crate::custody::{binding, Kek, Purpose};
use crate::passwords::hash_password;
use crate::totp;
use qrid_credential::{Kid, Official, SigningKey};
use qrid_store::NewOfficial;
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
) -> Result<
    (
        qrid_store::OfficialRecord,
        qrid_store::SignerCredentialRecord,
    ),
    CreateError,
> {
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
