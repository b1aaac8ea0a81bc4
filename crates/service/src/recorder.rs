//! The access record's writer: verifications are queued by the requests that made them and
//! written in batches by one task, so a burst of checks costs the database one insert per
//! batch, and a graceful stop loses nothing that was queued.

use qrid_store::{Store, Verification};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// How many verifications may wait to be written before a request waits for room.
pub const QUEUE: usize = 100_000;

/// Starts the writer on the current tokio runtime. The sender queues a verification; the
/// [`Recorder`] stops the writer.
pub fn start(store: Store) -> (mpsc::Sender<Verification>, Recorder) {
    let (tx, rx) = mpsc::channel(QUEUE);
    let (stop, stopped) = oneshot::channel();
    let recorder = Recorder {
        task: tokio::spawn(record_loop(store, rx, stopped)),
        stop,
    };
    (tx, recorder)
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
