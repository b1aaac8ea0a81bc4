use crate::trust::KeyLookup;
use qrid_credential::{Error, StatusListToken};
use std::collections::HashMap;

/// A verified status list token and when this verifier received it.
#[derive(Debug, Clone)]
pub struct CachedStatusList {
    /// The token's contents, signature already checked.
    pub token: StatusListToken,
    /// Unix time at which it was added to the cache.
    pub received_at: i64,
}

/// Status lists by URI. Only lists whose signature verifies with a trusted key get in.
#[derive(Debug, Clone, Default)]
pub struct StatusCache {
    lists: HashMap<String, CachedStatusList>,
}

impl StatusCache {
    /// Verifies a status list token (COSE_Sign1, `application/statuslist+cwt`) with `keys` and
    /// caches it under its `sub` URI, replacing an older copy but never a newer one.
    pub fn insert_token<K: KeyLookup>(
        &mut self,
        bytes: &[u8],
        keys: &K,
        now: i64,
    ) -> Result<&CachedStatusList, Error> {
        let msg = StatusListToken::open(bytes)?;
        let candidates = keys.candidates(msg.kid());
        if candidates.is_empty() {
            return Err(Error::Key(
                "status list is signed by a key that is not in the trust list".into(),
            ));
        }
        if !candidates.iter().any(|k| msg.verify(&k.key).is_ok()) {
            return Err(Error::BadSignature);
        }
        let token = StatusListToken::from_claims(msg.payload())?;
        let uri = token.uri.clone();
        let entry = CachedStatusList {
            token,
            received_at: now,
        };
        match self.lists.get(&uri) {
            Some(existing) if existing.token.issued_at > entry.token.issued_at => {}
            _ => {
                self.lists.insert(uri.clone(), entry);
            }
        }
        self.lists
            .get(&uri)
            .ok_or(Error::StatusList("cache insert failed".into()))
    }

    /// The cached list for a URI.
    pub fn get(&self, uri: &str) -> Option<&CachedStatusList> {
        self.lists.get(uri)
    }

    /// Number of cached lists.
    pub fn len(&self) -> usize {
        self.lists.len()
    }

    /// Whether the cache is empty.
    pub fn is_empty(&self) -> bool {
        self.lists.is_empty()
    }
}
