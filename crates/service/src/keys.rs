//! The issuer's keys: the signing key from the key directory, the published trust list from
//! the database, and the verifier that trusts it.

use crate::clock::Clock;
use crate::config::Config;
use anyhow::{bail, Context, Result};
use qrid_credential::{IssuerKey, Jwk, Jwks};
use qrid_store::Store;
use qrid_verifier::{Policy, StatusCache, TrustStore, Verifier};
use std::sync::Arc;

/// How often a node reads the published keys to pick up a rotation made elsewhere.
pub const KEY_REFRESH: std::time::Duration = std::time::Duration::from_secs(5);

/// The signing key and the published trust list.
pub struct Keys {
    /// Signs new credentials and status lists.
    pub current: Arc<IssuerKey>,
    /// Current and previous public keys, as published.
    pub jwks: Jwks,
    /// The same keys as a verifier trust store.
    pub trust: TrustStore,
}

/// Loads the key directory's issuer key (refusing the development key in production mode),
/// registers it as current if the database does not know it, and reads the published keys.
pub async fn load_keys(config: &Config, store: &Store, clock: &dyn Clock) -> Result<Keys> {
    let path = config.key_dir.join("issuer.key.pem");
    let current = load_issuer_key(&config.key_dir)?;
    let is_dev = current.kid().to_string() == crate::config::DEV_KID.trim();
    if is_dev && config.production {
        bail!("production mode refuses the development key ({}); run `qrid keygen` on the signing host", path.display());
    }
    if is_dev {
        tracing::warn!(kid = %current.kid(), "USING THE DEVELOPMENT KEY from keys-dev: credentials signed now prove nothing");
        eprintln!(
            "qrid: WARNING: signing with the DEVELOPMENT key in {} — not for real credentials",
            config.key_dir.display()
        );
    }
    register_key(store, &current, clock).await?;
    let jwks = jwks_of(&store.issuer_keys().await?)?;
    let trust = TrustStore::from_jwks(&jwks)?;
    Ok(Keys {
        current: Arc::new(current),
        jwks,
        trust,
    })
}

/// The published keys as a JWKS, from their stored rows.
pub fn jwks_of(records: &[qrid_store::IssuerKeyRecord]) -> Result<Jwks> {
    let mut jwks = Jwks::default();
    for r in records {
        let jwk: Jwk =
            serde_json::from_str(&r.jwk).with_context(|| format!("stored JWK of key {}", r.kid))?;
        jwks.keys.push(jwk);
    }
    Ok(jwks)
}

/// The verifier over `trust`, with the configured clock skew; live status is the service's
/// to check.
pub fn new_verifier(config: &Config, trust: TrustStore) -> Verifier {
    Verifier::new(
        trust,
        StatusCache::default(),
        Policy {
            clock_skew: config.clock_skew,
            require_status: false,
            ..Policy::default()
        },
    )
}

/// Makes `key` known to the database as the current key if it is not known yet, so that the
/// published JWKS holds it (the first start, or a key file replaced by `qrid key rotate`).
pub async fn register_key(store: &Store, key: &IssuerKey, clock: &dyn Clock) -> Result<()> {
    let kid = key.kid().to_string();
    if !store.issuer_keys().await?.iter().any(|k| k.kid == kid) {
        store
            .rotate_key(
                &kid,
                &serde_json::to_string(&key.jwk())?,
                None,
                "system",
                clock.now(),
            )
            .await?;
    }
    Ok(())
}

/// Loads `DIR/issuer.key.pem`.
pub fn load_issuer_key(dir: &std::path::Path) -> Result<IssuerKey> {
    let path = dir.join("issuer.key.pem");
    let meta = std::fs::metadata(&path)
        .with_context(|| format!("cannot read issuer key {}", path.display()))?;
    if meta.len() > 64 * 1024 {
        bail!("{} is too large to be a key", path.display());
    }
    let pem = zeroize::Zeroizing::new(
        std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read issuer key {}", path.display()))?,
    );
    IssuerKey::from_pkcs8_pem(&pem).with_context(|| format!("issuer key {}", path.display()))
}
