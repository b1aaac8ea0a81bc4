//! Shared service state: store, keys, caches, the verification recorder and metrics.

use crate::config::Config;
use crate::metrics::Metrics;
use anyhow::Result;
use qrid_credential::{Status, StatusBits, StatusIndex, StatusList, StatusListToken};
use qrid_service::SharedClock;
use qrid_store::{CredentialStatus, Store, Verification};
use qrid_verifier::{Policy, TrustStore, Verifier};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot, Semaphore};

/// How long a node trusts its in-memory copy of a status list before reading it again; changes
/// made on this node invalidate it at once.
pub const STATUS_CACHE_TTL: Duration = Duration::from_secs(5);
/// How long a published status list token may be cached by clients (Cache-Control max-age).
pub const STATUS_LIST_MAX_AGE: u64 = 60;

pub use qrid_service::issuance::{sign_credential, IssueTerms};
pub use qrid_service::keys::Keys;
use qrid_service::keys::{jwks_of, load_issuer_key, load_keys, new_verifier, KEY_REFRESH};

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

/// Everything a request handler needs.
pub struct AppState {
    /// Settings.
    pub config: Config,
    /// Persistence.
    pub store: Store,
    /// Keys.
    pub keys: RwLock<Arc<Keys>>,
    /// Verifies signatures, claims and time; status is checked against [`AppState::status_of`].
    pub verifier: RwLock<Arc<Verifier>>,
    status_lists: Mutex<ListCache>,
    /// Caps concurrent argon2 work.
    pub hash_permits: Semaphore,
    /// The image decodes' memory, one permit per MiB ([`Config::image_decode_memory`]): a decode
    /// holds what its image needs until its blocking work has ended.
    pub image_memory: Arc<Semaphore>,
    /// Failed officer logins, official sign-ins and TOTP codes, by typed key.
    pub lockouts: crate::lockout::Lockouts,
    /// Per-source limit of password logins (officers' and officials').
    pub login_limiter: crate::limit::SourceLimiter,
    /// Per-source limit of `/authorize`.
    pub authorize_limiter: crate::limit::SourceLimiter,
    recorder: mpsc::Sender<Verification>,
    /// ID token keys and the pairwise secret.
    pub oidc: crate::oidc::keys::OidcKeys,
    /// Seals and opens officials' signing keys and TOTP secrets.
    pub kek: crate::custody::Kek,
    /// Counters for /metrics.
    pub metrics: Metrics,
    /// Where every time the service writes or compares comes from.
    pub clock: SharedClock,
}

impl AppState {
    /// Loads keys (registering the key file's key as current if the database does not know it),
    /// and starts the verification recorder. Returns the state and the recorder, which writes
    /// what is queued when [`Recorder::finish`] is called.
    pub async fn new(config: Config, store: Store) -> Result<(Arc<AppState>, Recorder)> {
        AppState::with_clock(config, store, qrid_service::clock::system()).await
    }

    /// [`AppState::new`] on the given clock.
    pub async fn with_clock(
        config: Config,
        store: Store,
        clock: SharedClock,
    ) -> Result<(Arc<AppState>, Recorder)> {
        let keys = load_keys(&config, &store, clock.as_ref()).await?;
        let oidc = crate::oidc::keys::OidcKeys::load(&config.key_dir, config.production)?;
        let kek = crate::custody::Kek::load(&config.key_dir, config.production)?;
        let verifier = new_verifier(&config, keys.trust.clone());
        let (tx, rx) = mpsc::channel(100_000);
        let (stop, stopped) = oneshot::channel();
        let recorder = Recorder {
            task: tokio::spawn(record_loop(store.clone(), rx, stopped)),
            stop,
        };
        let login_limiter = crate::limit::SourceLimiter::new(config.login_limit);
        let authorize_limiter = crate::limit::SourceLimiter::new(config.authorize_limit);
        let state = Arc::new(AppState {
            hash_permits: Semaphore::new(config.max_concurrent_hashes),
            image_memory: Arc::new(Semaphore::new(
                usize::try_from(config.image_decode_memory >> 20).unwrap_or(usize::MAX),
            )),
            config,
            store,
            keys: RwLock::new(Arc::new(keys)),
            verifier: RwLock::new(Arc::new(verifier)),
            status_lists: Mutex::new(ListCache::default()),
            lockouts: crate::lockout::Lockouts::new(clock.clone()),
            login_limiter,
            authorize_limiter,
            recorder: tx,
            oidc,
            kek,
            metrics: Metrics::default(),
            clock,
        });
        Ok((state, recorder))
    }

    /// Unix seconds now, on the service's clock.
    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    /// The current keys.
    pub fn keys(&self) -> Arc<Keys> {
        self.keys
            .read()
            .map(|k| k.clone())
            .unwrap_or_else(|p| p.into_inner().clone())
    }

    /// Reads the published keys from the database and, if they changed (a `qrid key rotate` on
    /// any host, or another node's first start), swaps in the new trust list and verifier; if
    /// the database names a current key this node does not sign with, and the key directory
    /// holds it (the rotation was made here or the file was distributed), signs with it from
    /// now on. Returns whether anything changed.
    pub async fn refresh_keys(&self) -> Result<bool> {
        let records = self.store.issuer_keys().await?;
        let loaded = self.keys();
        let same = records.len() == loaded.jwks.keys.len()
            && records
                .iter()
                .zip(&loaded.jwks.keys)
                .all(|(r, k)| r.kid == k.kid.to_string());
        if same {
            return Ok(false);
        }
        let jwks = jwks_of(&records)?;
        let trust = TrustStore::from_jwks(&jwks)?;
        let db_current = records
            .iter()
            .find(|r| r.state == qrid_store::KeyState::Current)
            .map(|r| r.kid.clone());
        let mut current = loaded.current.clone();
        if db_current.as_deref() != Some(current.kid().to_string().as_str()) {
            match load_issuer_key(&self.config.key_dir) {
                Ok(k) if Some(k.kid().to_string()) == db_current => {
                    tracing::info!(kid = %k.kid(), "signing with the new current key");
                    current = Arc::new(k);
                }
                _ => tracing::warn!(
                    current = db_current.as_deref().unwrap_or("none"),
                    signing = %current.kid(),
                    "the published current key is not in this node's key directory; still signing with the previous key (which stays trusted)"
                ),
            }
        }
        let verifier = new_verifier(&self.config, trust.clone());
        *self.keys.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(Keys {
            current,
            jwks,
            trust,
        });
        *self.verifier.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(verifier);
        // Status list tokens were signed with the old key: sign them anew.
        {
            let mut m = self.status_lists.lock().unwrap_or_else(|p| p.into_inner());
            m.lists.clear();
            m.generation += 1;
        }
        tracing::info!(keys = records.len(), "issuer keys reloaded");
        Ok(true)
    }

    /// The verifier.
    pub fn verifier(&self) -> Arc<Verifier> {
        self.verifier
            .read()
            .map(|v| v.clone())
            .unwrap_or_else(|p| p.into_inner().clone())
    }

    /// Queues a verification for the citizen's access record (batched; never blocks the
    /// request for long: if the queue is full the request waits for room, so nothing is lost).
    pub async fn record(&self, v: Verification) {
        self.metrics.recorder_queued.inc();
        if self.recorder.send(v).await.is_err() {
            tracing::error!("verification recorder has stopped; a verification was not recorded");
        }
    }

    /// Forgets the cached copy of a list after a status change on this node, and keeps any
    /// read already under way from caching what it read.
    pub fn invalidate_status_list(&self, list: i64) {
        let mut m = self.status_lists.lock().unwrap_or_else(|p| p.into_inner());
        m.lists.remove(&list);
        m.generation += 1;
    }

    async fn load_list(&self, n: i64) -> Result<Option<Arc<StatusList>>, qrid_store::StoreError> {
        let generation = {
            let m = self.status_lists.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(c) = m
                .lists
                .get(&n)
                .filter(|c| c.loaded.elapsed() < STATUS_CACHE_TTL)
            {
                return Ok(Some(c.list.clone()));
            }
            m.generation
        };
        let Some((size, entries)) = self.store.status_list(n).await? else {
            return Ok(None);
        };
        let mut list = StatusList::new(StatusBits::Two, size as usize)
            .map_err(|_| qrid_store::StoreError::Corrupt("status list"))?;
        for (i, s) in entries {
            let status = match s {
                CredentialStatus::Valid => Status::Valid,
                CredentialStatus::Revoked => Status::Invalid,
                CredentialStatus::Suspended => Status::Suspended,
            };
            list.set(StatusIndex(i), status)
                .map_err(|_| qrid_store::StoreError::Corrupt("status index"))?;
        }
        let list = Arc::new(list);
        let mut m = self.status_lists.lock().unwrap_or_else(|p| p.into_inner());
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

    /// The live status of an index in list `n` (at most [`STATUS_CACHE_TTL`] old across nodes,
    /// immediate for changes made on this node).
    pub async fn status_of(
        &self,
        slot: qrid_service::config::OwnStatusSlot,
    ) -> Result<Option<Status>, qrid_store::StoreError> {
        Ok(self
            .load_list(slot.list)
            .await?
            .and_then(|l| l.get(StatusIndex(slot.index))))
    }

    /// The signed status list token for list `n`, cached with the list.
    pub async fn status_list_token(
        &self,
        n: i64,
    ) -> Result<Option<Arc<Vec<u8>>>, crate::problem::Problem> {
        let Some(list) = self.load_list(n).await? else {
            return Ok(None);
        };
        if let Some(t) = self.status_lists.lock().ok().and_then(|m| {
            m.lists
                .get(&n)
                .filter(|c| Arc::ptr_eq(&c.list, &list))
                .and_then(|c| c.token.clone())
        }) {
            return Ok(Some(t));
        }
        let now = self.now();
        let token = StatusListToken {
            uri: self.config.status_list_uri(n),
            issued_at: now,
            // As long as offline verifiers keep a list by default, so that the issuer's limit
            // and theirs are one: a counter offline for a weekend still answers.
            expires_at: Some(now + Policy::default().max_status_age),
            ttl: Some(STATUS_LIST_MAX_AGE),
            list: (*list).clone(),
        };
        let keys = self.keys();
        let bytes = Arc::new(
            token
                .sign(keys.current.signing_key(), keys.current.kid())
                .map_err(|e| crate::problem::Problem::internal(&e))?,
        );
        // Only beside the very list it was signed from: a list reloaded meanwhile gets its own.
        if let Ok(mut m) = self.status_lists.lock() {
            if let Some(c) = m.lists.get_mut(&n).filter(|c| Arc::ptr_eq(&c.list, &list)) {
                c.token = Some(bytes.clone());
            }
        }
        Ok(Some(bytes))
    }
}

/// Refreshes the keys of `state` every [`KEY_REFRESH`] until the state is dropped. Holds only a
/// weak reference, so it never keeps the service (and its verification recorder) alive.
pub fn spawn_key_refresher(state: &Arc<AppState>) -> tokio::task::JoinHandle<()> {
    let weak = Arc::downgrade(state);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(KEY_REFRESH);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tick.tick().await;
        loop {
            tick.tick().await;
            let Some(state) = weak.upgrade() else { break };
            if let Err(e) = state.refresh_keys().await {
                tracing::warn!(error = %e, "reading the issuer keys failed; keeping the loaded ones");
            }
        }
    })
}

/// The task that writes queued verifications to the access record.
pub struct Recorder {
    task: tokio::task::JoinHandle<()>,
    stop: oneshot::Sender<()>,
}

impl Recorder {
    /// Closes the queue and returns once everything queued before has been written (or given
    /// up after the retries `flush` makes). It does not wait for the state's other holders to
    /// let go (a request dropped at the drain deadline may leave a task behind that still holds
    /// it); a verification queued after this is refused and logged, not kept in memory.
    pub async fn finish(self) {
        let _ = self.stop.send(());
        if let Err(e) = self.task.await {
            if e.is_panic() {
                tracing::error!("the verification recorder panicked");
            }
        }
    }
}

/// Writes queued verifications in batches: up to 1000 rows or every 200 ms, whichever first.
/// When told to stop (or when every sender is gone) it closes the queue, writes what is left
/// and returns, so a graceful shutdown loses nothing that was queued.
async fn record_loop(
    store: Store,
    mut rx: mpsc::Receiver<Verification>,
    mut stop: oneshot::Receiver<()>,
) {
    let mut batch = Vec::with_capacity(1000);
    let mut stopping = false;
    loop {
        let first = if stopping {
            rx.recv().await
        } else {
            tokio::select! {
                v = rx.recv() => v,
                _ = &mut stop => {
                    // Whatever is queued stays readable; nothing more gets in.
                    rx.close();
                    stopping = true;
                    continue;
                }
            }
        };
        let Some(first) = first else { break };
        batch.push(first);
        let deadline = tokio::time::sleep(Duration::from_millis(200));
        tokio::pin!(deadline);
        while batch.len() < 1000 {
            tokio::select! {
                v = rx.recv() => match v { Some(v) => batch.push(v), None => break },
                _ = &mut deadline => break,
            }
        }
        flush(&store, &mut batch).await;
    }
    flush(&store, &mut batch).await;
}

async fn flush(store: &Store, batch: &mut Vec<Verification>) {
    if batch.is_empty() {
        return;
    }
    for attempt in 0..5 {
        match store.record_verifications(batch).await {
            Ok(()) => {
                batch.clear();
                return;
            }
            Err(e) => {
                tracing::error!(error = %e, attempt, rows = batch.len(), "recording verifications failed; retrying");
                tokio::time::sleep(Duration::from_millis(200 << attempt)).await;
            }
        }
    }
    tracing::error!(
        rows = batch.len(),
        "verifications could not be recorded after 5 attempts"
    );
    batch.clear();
}
