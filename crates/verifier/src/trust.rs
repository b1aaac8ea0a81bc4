use qrid_credential::{Error, Jwks, Kid, VerifyingKey};

/// A trusted issuer key, pinned to EdDSA (the only algorithm the format allows).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedKey {
    /// RFC 7638 thumbprint.
    pub kid: Kid,
    /// The public key.
    pub key: VerifyingKey,
}

/// Finds the keys a `kid` header may name. A server can back this with its database; the
/// offline verifier uses [`TrustStore`].
pub trait KeyLookup {
    /// The trusted keys that may have signed a message with this `kid` header (`None`: the
    /// message has none), as [`qrid_credential::candidates`] selects them: with a kid, every
    /// key whose thumbprint starts with it (normally one); without, every key of a list of at
    /// most [`qrid_credential::MAX_KEYS_WITHOUT_KID`].
    fn candidates(&self, kid: Option<&[u8]>) -> Vec<&TrustedKey>;
}

/// The trusted issuer keys, read from a JWKS.
#[derive(Debug, Clone, Default)]
pub struct TrustStore {
    keys: Vec<TrustedKey>,
}

/// Most keys a trust store holds; a national issuer rotates yearly, so this is decades.
pub const MAX_TRUSTED_KEYS: usize = 1000;

impl TrustStore {
    /// Reads every key of a JWKS. Refuses the whole set if any key is not an Ed25519 key pinned
    /// to EdDSA or has a `kid` that is not its thumbprint: a trust list with a broken entry is a
    /// configuration error, not something to half-accept.
    pub fn from_jwks(jwks: &Jwks) -> Result<TrustStore, Error> {
        if jwks.keys.len() > MAX_TRUSTED_KEYS {
            return Err(Error::Key(format!(
                "more than {MAX_TRUSTED_KEYS} keys in the trust list"
            )));
        }
        let keys = jwks
            .keys
            .iter()
            .map(|jwk| {
                Ok(TrustedKey {
                    kid: jwk.kid.clone(),
                    key: jwk.verifying_key()?,
                })
            })
            .collect::<Result<Vec<_>, Error>>()?;
        Ok(TrustStore { keys })
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether there are no keys.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Looks a key up by its full thumbprint.
    pub fn get(&self, kid: &Kid) -> Option<&TrustedKey> {
        self.keys.iter().find(|k| &k.kid == kid)
    }
}

impl KeyLookup for TrustStore {
    fn candidates(&self, kid: Option<&[u8]>) -> Vec<&TrustedKey> {
        qrid_credential::candidates(&self.keys, |k| &k.kid, kid)
    }
}
