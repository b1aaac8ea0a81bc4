//! Signer credentials a verifier has already checked, so that the issuer's signature on one is
//! verified once, not once per document: a portal checking a day's applications signed by the
//! same officials pays one Ed25519 verification per signature instead of two.

use crate::signature::Signer;
use qrid_credential::{Kid, VerifyingKey};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// What checking a signer credential's issuer signature established: who, with which key,
/// certified by which issuer key. Depends only on the credential's text and the trust list,
/// never on the time or on status, which are judged per signature.
pub(crate) type Checked = Arc<(Signer, VerifyingKey, Kid)>;

/// Bounded: at most [`SignerCache::CAPACITY`] entries, each ~1 KiB, and only credentials that
/// verified get in (a caller cannot fill it with junk: every entry carries a real issuer
/// signature). Keyed by the SHA-256 of the credential's text, so an entry is found only for
/// exactly the text that was checked. It belongs to one [`crate::Verifier`], so a new trust
/// list (a key rotation makes a new verifier) starts with an empty cache.
#[derive(Default)]
pub(crate) struct SignerCache {
    map: Mutex<HashMap<[u8; 32], Checked>>,
}

impl SignerCache {
    /// Most signer credentials kept.
    pub(crate) const CAPACITY: usize = 4096;

    pub(crate) fn key(text: &str) -> [u8; 32] {
        Sha256::digest(text.as_bytes()).into()
    }

    pub(crate) fn get(&self, key: &[u8; 32]) -> Option<Checked> {
        // A poisoned lock only means another thread panicked mid-insert of an entry it had
        // verified; the map is still consistent. Either way, a miss is always safe.
        self.map.lock().ok()?.get(key).cloned()
    }

    pub(crate) fn insert(&self, key: [u8; 32], checked: Checked) {
        let Ok(mut map) = self.map.lock() else {
            return;
        };
        if map.len() >= Self::CAPACITY && !map.contains_key(&key) {
            // An arbitrary entry makes room: the cache only saves work, so which one goes
            // matters little, and a full scan to find the oldest would cost more than it saves.
            if let Some(old) = map.keys().next().copied() {
                map.remove(&old);
            }
        }
        map.insert(key, checked);
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.map.lock().map(|m| m.len()).unwrap_or(0)
    }
}
