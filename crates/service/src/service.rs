//! [`Service`]: the running domain of one node, which every front door's operation goes through.

use crate::config::{Config, OwnStatusSlot};
use crate::custody::Kek;
use crate::error::ServiceError;
use crate::events::Events;
use crate::keys::{jwks_of, load_issuer_key, load_keys, new_verifier, Keys};
use crate::lockout::Lockouts;
use crate::oidc::keys::OidcKeys;
use crate::recorder::Recorder;
use crate::status::StatusLists;
use crate::SharedClock;
use anyhow::Result;
use qrid_credential::Status;
use qrid_store::{Store, Verification};
use qrid_verifier::{TrustStore, Verifier};
use std::sync::{Arc, RwLock};
use tokio::sync::{mpsc, Semaphore};

/// The most status lists the index names: 65,536 entries each, four billion credentials.
pub const MAX_PUBLISHED_LISTS: i64 = 65_536;

/// Photo decodes at once: two of at most 96 MiB each.
const PHOTO_DECODES: usize = 2;

/// One node's service: its settings, the store, the issuer's keys and verifier (swapped in
/// when another node rotates), the live status lists, the lockouts, the officials' key custody,
/// the OpenID provider's keys, the access record's queue, and the clock all of it reads.
///
/// Its operations (in [`crate::citizens`], [`crate::verification`], …) check the caller's role,
/// validate what they are given, and answer a [`ServiceError`]; they know nothing of HTTP.
pub struct Service {
    /// Settings.
    pub config: Config,
    /// Persistence.
    pub store: Store,
    keys: RwLock<Arc<Keys>>,
    verifier: RwLock<Arc<Verifier>>,
    status_lists: StatusLists,
    /// Caps concurrent argon2 work (password checks), so a burst of logins cannot take every
    /// core.
    pub hash_permits: Semaphore,
    /// Caps concurrent photo decodes (each bounded to 96 MiB; see photo.rs).
    photo_permits: Semaphore,
    /// Failed officer logins, official sign-ins and TOTP codes, by typed key.
    pub lockouts: Lockouts,
    recorder: mpsc::Sender<Verification>,
    /// ID token keys and the pairwise secret.
    pub oidc: OidcKeys,
    /// Seals and opens officials' signing keys and TOTP secrets.
    pub kek: Kek,
    /// The CA that certifies officials' PDF signing keys.
    pub(crate) authority: crate::pades::Authority,
    /// Where every time the service writes or compares comes from.
    pub clock: SharedClock,
    events: Arc<dyn Events>,
}

impl Service {
    /// Loads the keys (registering the key file's key as current if the database does not know
    /// it) and starts the access record's writer on the current tokio runtime, which writes
    /// what is queued when [`Recorder::finish`] is called. `events` hears what the host counts.
    pub async fn start(
        config: Config,
        store: Store,
        clock: SharedClock,
        events: Arc<dyn Events>,
    ) -> Result<(Service, Recorder)> {
        let folded = store.fold_missing_names().await?;
        if folded > 0 {
            tracing::info!(
                citizens = folded,
                "folded the names of citizens enrolled before the search existed"
            );
        }
        let keys = load_keys(&config, &store, clock.as_ref()).await?;
        let oidc = OidcKeys::load(&config.key_dir, config.production)?;
        let kek = Kek::load(&config.key_dir, config.production)?;
        let authority = crate::pades::Authority::load(&config.key_dir, config.production)?;
        let verifier = new_verifier(&config, keys.trust.clone());
        let (recorder_tx, recorder) = crate::recorder::start(store.clone());
        let service = Service {
            hash_permits: Semaphore::new(config.max_concurrent_hashes),
            photo_permits: Semaphore::new(PHOTO_DECODES),
            config,
            store,
            keys: RwLock::new(Arc::new(keys)),
            verifier: RwLock::new(Arc::new(verifier)),
            status_lists: StatusLists::default(),
            lockouts: Lockouts::new(clock.clone()),
            recorder: recorder_tx,
            oidc,
            kek,
            authority,
            clock,
            events,
        };
        Ok((service, recorder))
    }

    /// The host's receiver of events.
    /// The permits of concurrent photo decodes.
    pub(crate) fn photo_permits(&self) -> &Semaphore {
        &self.photo_permits
    }

    pub fn events(&self) -> &dyn Events {
        self.events.as_ref()
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

    /// The verifier of credentials against the current trust list.
    pub fn verifier(&self) -> Arc<Verifier> {
        self.verifier
            .read()
            .map(|v| v.clone())
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
        self.status_lists.clear();
        tracing::info!(keys = records.len(), "issuer keys reloaded");
        Ok(true)
    }

    /// Queues a verification for the citizen's access record (batched; never blocks the
    /// request for long: if the queue is full the request waits for room, so nothing is lost).
    pub async fn record(&self, v: Verification) {
        self.events.verification_queued();
        if self.recorder.send(v).await.is_err() {
            tracing::error!("verification recorder has stopped; a verification was not recorded");
        }
    }

    /// Forgets this node's copy of status list `n` after a change to one of its slots.
    pub fn invalidate_status_list(&self, n: i64) {
        self.status_lists.invalidate(n);
    }

    /// The live status of `slot` ([`StatusLists::status_of`]).
    pub async fn status_of(&self, slot: OwnStatusSlot) -> Result<Option<Status>, ServiceError> {
        Ok(self.status_lists.status_of(&self.store, slot).await?)
    }

    /// The numbers of the published status lists, for an offline verifier that keeps them
    /// all (at most 65,536).
    pub async fn status_list_numbers(&self) -> Result<Vec<i64>, ServiceError> {
        Ok(self.store.status_list_numbers(MAX_PUBLISHED_LISTS).await?)
    }

    /// The signed status list token of list `n` ([`StatusLists::token`]); `None` when there is
    /// no such list.
    pub async fn status_list_token(&self, n: i64) -> Result<Option<Arc<Vec<u8>>>, ServiceError> {
        self.status_lists
            .token(&self.store, &self.config, &self.keys(), n, self.now())
            .await
    }
}
