//! Shared state of the HTTP front door: the service, and what belongs to HTTP alone.

use crate::config::Config;
use crate::metrics::Metrics;
use anyhow::Result;
use qrid_service::keys::KEY_REFRESH;
use qrid_service::{Service, SharedClock};
use qrid_store::Store;
use std::sync::Arc;
use tokio::sync::Semaphore;

pub use qrid_service::Recorder;

/// Everything a request handler needs: the node's [`Service`] (every domain operation; the
/// state dereferences to it) and what belongs to HTTP alone: per-source rate limits, the
/// memory for reading uploaded images, and the metrics.
pub struct AppState {
    /// The domain.
    pub service: Service,
    /// The image decodes' memory, one permit per MiB ([`Config::image_decode_memory`]): a decode
    /// holds what its image needs until its blocking work has ended.
    pub image_memory: Arc<Semaphore>,
    /// Per-source limit of password logins (officers' and officials').
    pub login_limiter: crate::limit::SourceLimiter,
    /// Per-source limit of `/authorize`.
    pub authorize_limiter: crate::limit::SourceLimiter,
    /// Counters for /metrics (the service's events among them).
    pub metrics: Arc<Metrics>,
}

impl std::ops::Deref for AppState {
    type Target = Service;
    fn deref(&self) -> &Service {
        &self.service
    }
}

impl qrid_web::Host for AppState {
    fn service(&self) -> &Service {
        &self.service
    }
}

impl AppState {
    /// Starts the service ([`Service::start`]: keys, custody, the access record's writer) on
    /// the system clock. Returns the state and the recorder, which writes what is queued when
    /// [`Recorder::finish`] is called.
    pub async fn new(config: Config, store: Store) -> Result<(Arc<AppState>, Recorder)> {
        AppState::with_clock(config, store, qrid_service::clock::system()).await
    }

    /// [`AppState::new`] on the given clock.
    pub async fn with_clock(
        config: Config,
        store: Store,
        clock: SharedClock,
    ) -> Result<(Arc<AppState>, Recorder)> {
        let login_limiter = crate::limit::SourceLimiter::new(config.login_limit);
        let authorize_limiter = crate::limit::SourceLimiter::new(config.authorize_limit);
        let image_memory = Arc::new(Semaphore::new(
            usize::try_from(config.image_decode_memory >> 20).unwrap_or(usize::MAX),
        ));
        let metrics = Arc::new(Metrics::default());
        let (service, recorder) = Service::start(config, store, clock, metrics.clone()).await?;
        let state = Arc::new(AppState {
            service,
            image_memory,
            login_limiter,
            authorize_limiter,
            metrics,
        });
        Ok((state, recorder))
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
