//! The live status lists: what every check of a credential this service issued reads, and what
//! `/v1/status-lists/{n}` publishes, from one node-local cache.

use crate::config::{Config, OwnStatusSlot};
use crate::keys::Keys;
use qrid_credential::{Status, StatusBits, StatusIndex, StatusList, StatusListToken};
use qrid_store::{CredentialStatus, Store, StoreError};
use qrid_verifier::Policy;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// How long a node trusts its in-memory copy of a status list before reading it again; changes
/// made on this node invalidate it at once.
pub const STATUS_CACHE_TTL: Duration = Duration::from_secs(5);
/// How long a published status list token may be cached by clients (Cache-Control max-age).
pub const STATUS_LIST_MAX_AGE: u64 = 60;

/// A status list as a node holds it in memory.
struct CachedList {
    list: Arc<StatusList>,
    token: Option<Arc<Vec<u8>>>,
    loaded: Instant,
}

/// The node's status lists, and a count of invalidations. A list read from the database is
/// cached only if no invalidation happened while it was being read: otherwise a read that
/// began before a revocation committed could be cached after the revocation's invalidation,
/// and this node would answer "valid" for up to [`STATUS_CACHE_TTL`] after its own 200.
#[derive(Default)]
struct ListCache {
    lists: HashMap<i64, CachedList>,
    generation: u64,
}

/// The node's cache of status lists. Guarantees: a change made through this node is seen by
/// its next read ([`StatusLists::invalidate`]); a change made on another node within
/// [`STATUS_CACHE_TTL`]; a token is only ever served beside the very list it was signed from.
/// The cache's age is measured on the monotonic clock: it is about freshness on this node,
/// not about the time written in credentials.
#[derive(Default)]
pub struct StatusLists {
    cache: Mutex<ListCache>,
}

impl StatusLists {
    fn lock(&self) -> MutexGuard<'_, ListCache> {
        self.cache.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Forgets the cached copy of list `n` after a status change on this node, and keeps any
    /// read already under way from caching what it read.
    pub fn invalidate(&self, n: i64) {
        let mut m = self.lock();
        m.lists.remove(&n);
        m.generation += 1;
    }

    /// Forgets every list (their tokens were signed with a key that is no longer current).
    pub fn clear(&self) {
        let mut m = self.lock();
        m.lists.clear();
        m.generation += 1;
    }

    async fn load(&self, store: &Store, n: i64) -> Result<Option<Arc<StatusList>>, StoreError> {
        let generation = {
            let m = self.lock();
            if let Some(c) = m
                .lists
                .get(&n)
                .filter(|c| c.loaded.elapsed() < STATUS_CACHE_TTL)
            {
                return Ok(Some(c.list.clone()));
            }
            m.generation
        };
        let Some((size, entries)) = store.status_list(n).await? else {
            return Ok(None);
        };
        let mut list = StatusList::new(StatusBits::Two, size as usize)
            .map_err(|_| StoreError::Corrupt("status list"))?;
        for (i, s) in entries {
            let status = match s {
                CredentialStatus::Valid => Status::Valid,
                CredentialStatus::Revoked => Status::Invalid,
                CredentialStatus::Suspended => Status::Suspended,
            };
            list.set(StatusIndex(i), status)
                .map_err(|_| StoreError::Corrupt("status index"))?;
        }
        let list = Arc::new(list);
        let mut m = self.lock();
        if m.generation == generation {
            m.lists.insert(
                n,
                CachedList {
                    list: list.clone(),
                    token: None,
                    loaded: Instant::now(),
                },
            );
        }
        Ok(Some(list))
    }

    /// The live status of `slot` (at most [`STATUS_CACHE_TTL`] old across nodes, immediate for
    /// changes made on this node); `None` for a slot of no list or beyond its list.
    pub async fn status_of(
        &self,
        store: &Store,
        slot: OwnStatusSlot,
    ) -> Result<Option<Status>, StoreError> {
        Ok(self
            .load(store, slot.list)
            .await?
            .and_then(|l| l.get(StatusIndex(slot.index))))
    }

    /// The signed Token Status List token of list `n`, signed at `now` with the current key
    /// and cached with the list; `None` when there is no such list.
    pub async fn token(
        &self,
        store: &Store,
        config: &Config,
        keys: &Keys,
        n: i64,
        now: i64,
    ) -> Result<Option<Arc<Vec<u8>>>, crate::ServiceError> {
        let Some(list) = self.load(store, n).await? else {
            return Ok(None);
        };
        if let Some(t) = self
            .lock()
            .lists
            .get(&n)
            .filter(|c| Arc::ptr_eq(&c.list, &list))
            .and_then(|c| c.token.clone())
        {
            return Ok(Some(t));
        }
        let token = StatusListToken {
            uri: config.status_list_uri(n),
            issued_at: now,
            // As long as offline verifiers keep a list by default, so that the issuer's limit
            // and theirs are one: a counter offline for a weekend still answers.
            expires_at: Some(now + Policy::default().max_status_age),
            ttl: Some(STATUS_LIST_MAX_AGE),
            list: (*list).clone(),
        };
        let bytes = Arc::new(
            token
                .sign(keys.current.signing_key(), keys.current.kid())
                .map_err(crate::ServiceError::internal)?,
        );
        // Only beside the very list it was signed from: a list reloaded meanwhile gets its own.
        if let Some(c) = self
            .lock()
            .lists
            .get_mut(&n)
            .filter(|c| Arc::ptr_eq(&c.list, &list))
        {
            c.token = Some(bytes.clone());
        }
        Ok(Some(bytes))
    }
}
