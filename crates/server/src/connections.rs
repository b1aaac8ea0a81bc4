//! The service's connections: its own accept loop over hyper, so that every connection is
//! bounded in number and in time, and shutdown ends within a deadline.
//!
//! - **Limit.** At most [`ConnectionLimits::max_connections`] are open at once. The loop takes a
//!   permit before it accepts, so connections past the limit wait in the kernel's listen backlog
//!   instead of costing a descriptor: the process never runs out of them because of clients
//!   (accept failing with `EMFILE` took a node off the air before).
//! - **Header timeout.** A request head must arrive complete within
//!   [`ConnectionLimits::header_timeout`] of its first byte (for a connection's first request:
//!   of the connection's opening), otherwise the connection is closed. A client that sends half
//!   a head, or nothing, no longer holds a connection (or shutdown) forever.
//! - **Idle timeout.** A connection with no request in flight that receives nothing for
//!   [`ConnectionLimits::idle_timeout`] is closed. A request is in flight from its head until
//!   its response body has been written (or dropped).
//! - **Shutdown.** When the shutdown future completes, the loop stops accepting (the listener
//!   is closed), closes the connections that have nothing in flight or half-received, lets the
//!   others finish, answers with `Connection: close` on HTTP/1, and after
//!   [`ConnectionLimits::drain_timeout`] drops whatever is left, request handlers included.
//!
//! HTTP/1.1 only, as before (axum's `serve` here had no HTTP/2 either). Both timeouts are
//! enforced here rather than by hyper's `header_read_timeout`, which also runs during the wait
//! between keep-alive requests and so cannot tell an idle client from a slow one. Every request
//! carries the peer address as axum's `ConnectInfo<SocketAddr>`, as
//! `into_make_service_with_connect_info` would insert it.

use crate::config::ConnectionLimits;
use axum::body::{Body, Bytes};
use axum::extract::ConnectInfo;
use axum::http::{header, HeaderValue, Request, Response};
use axum::Router;
use http_body::{Frame, SizeHint};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;
use tokio::time::Instant;

/// How serving ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Drained {
    /// Connections open when shutdown began.
    pub open: usize,
    /// Connections still busy at the drain deadline, and dropped.
    pub dropped: usize,
}

/// Serves `router` on `listener` within `limits` until `shutdown` completes, then drains (see
/// the module documentation). Returns once every connection has ended or been dropped.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()>,
) -> Drained {
    // Connection tasks watch it: true once shutdown began.
    let (draining_tx, draining_rx) = watch::channel(false);
    let mut builder = http1::Builder::new();
    // Our watchdog enforces the header timeout (see the module documentation); hyper's own
    // would also need a timer and would close idle keep-alive connections at the same time.
    builder.header_read_timeout(None);
    let shared = Arc::new(Shared {
        builder,
        router,
        limits,
        draining: AtomicBool::new(false),
    });
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let mut conns = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            biased;
            () = &mut shutdown => break,
            Some(done) = conns.join_next() => reap(done),
            (stream, peer, permit) = accept(&listener, &permits) => {
                conns.spawn(connection(shared.clone(), stream, peer, permit, draining_rx.clone()));
            }
        }
    }
    // Refuse new connections from here on, including those waiting in the backlog.
    drop(listener);
    // Responses from now on say `Connection: close`; set before anyone is told, so that no
    // response produced after the announcement lacks it.
    shared.draining.store(true, Relaxed);
    draining_tx.send_replace(true);
    let open = conns.len();
    tracing::info!(
        open,
        drain_secs = limits.drain_timeout.as_secs(),
        "shutdown signal received; stopped accepting, finishing requests in flight"
    );
    let deadline = tokio::time::sleep(limits.drain_timeout);
    tokio::pin!(deadline);
    let dropped = loop {
        tokio::select! {
            biased;
            done = conns.join_next() => match done {
                Some(done) => reap(done),
                None => break 0,
            },
            () = &mut deadline => break conns.len(),
        }
    };
    if dropped > 0 {
        tracing::warn!(
            dropped,
            "drain deadline passed; dropping connections with requests still in flight"
        );
    }
    conns.shutdown().await;
    Drained { open, dropped }
}

fn reap(done: Result<(), tokio::task::JoinError>) {
    if let Err(e) = done {
        if e.is_panic() {
            tracing::error!("a connection task panicked");
        }
    }
}

/// Takes a connection permit, then accepts. Errors that concern one connection (reset before
/// it was accepted) are skipped; others (out of descriptors or memory) are logged and retried
/// after a pause, so that the loop neither spins nor stops serving.
async fn accept(
    listener: &TcpListener,
    permits: &Arc<Semaphore>,
) -> (TcpStream, SocketAddr, OwnedSemaphorePermit) {
    loop {
        let Ok(permit) = permits.clone().acquire_owned().await else {
            // The semaphore is never closed; if it were, accept nothing more.
            return std::future::pending().await;
        };
        match listener.accept().await {
            Ok((stream, peer)) => return (stream, peer, permit),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::ConnectionAborted
                        | std::io::ErrorKind::ConnectionReset
                        | std::io::ErrorKind::ConnectionRefused
                ) => {}
            Err(e) => {
                drop(permit);
                tracing::error!(error = %e, "accepting a connection failed; retrying shortly");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// What every connection task shares.
struct Shared {
    builder: http1::Builder,
    router: Router,
    limits: ConnectionLimits,
    /// Shutdown began: HTTP/1 responses carry `Connection: close`.
    draining: AtomicBool,
}

/// Serves one connection until it ends, times out, or shutdown drops it. Holds its permit
/// until then.
async fn connection(
    shared: Arc<Shared>,
    stream: TcpStream,
    peer: SocketAddr,
    _permit: OwnedSemaphorePermit,
    mut draining_rx: watch::Receiver<bool>,
) {
    let activity = Arc::new(Activity::new());
    let io = TokioIo::new(TrackedIo {
        stream,
        activity: activity.clone(),
    });
    let service = ConnectionService {
        shared: shared.clone(),
        peer,
        activity: activity.clone(),
    };
    let conn = shared.builder.serve_connection(io, service);
    tokio::pin!(conn);
    let limits = shared.limits;
    // The watchdog looks at least this often: any deadline that a change of state (a request
    // ending, a byte arriving) brings is at least this far from the change, so none is missed.
    let tick = limits.header_timeout.min(limits.idle_timeout);
    let watchdog = tokio::time::sleep(tick);
    tokio::pin!(watchdog);
    let mut draining = false;
    loop {
        tokio::select! {
            done = conn.as_mut() => {
                if let Err(e) = done {
                    tracing::debug!(error = %e, "connection ended with an error");
                }
                return;
            }
            _ = draining_rx.wait_for(|d| *d), if !draining => {
                draining = true;
                if activity.untouched() {
                    // Nothing in flight, nothing half-received: nothing to finish.
                    return;
                }
                conn.as_mut().graceful_shutdown();
            }
            () = &mut watchdog => {
                let now = Instant::now();
                match activity.deadline(&limits) {
                    Some(d) if d <= now => {
                        tracing::debug!("connection closed by the header or idle timeout");
                        return;
                    }
                    Some(d) => watchdog.as_mut().reset(d.min(now + tick)),
                    None => watchdog.as_mut().reset(now + tick),
                }
            }
        }
    }
}

/// No time recorded (for [`Activity::first_byte`]).
const NONE: u64 = u64::MAX;

/// What the watchdog of one connection needs to know, updated by its reads and requests. The
/// response body that ends a request may be dropped on another thread, hence atomics. Times
/// are milliseconds since `opened`.
struct Activity {
    opened: Instant,
    /// Requests whose response body has not been written (or dropped) yet.
    in_flight: AtomicUsize,
    /// A request has begun on this connection.
    served: AtomicBool,
    /// When the last request ended.
    idle_since: AtomicU64,
    /// When the first byte since then arrived, or [`NONE`].
    first_byte: AtomicU64,
}

impl Activity {
    fn new() -> Activity {
        Activity {
            opened: Instant::now(),
            in_flight: AtomicUsize::new(0),
            served: AtomicBool::new(false),
            idle_since: AtomicU64::new(0),
            first_byte: AtomicU64::new(NONE),
        }
    }

    fn now(&self) -> u64 {
        u64::try_from(self.opened.elapsed().as_millis()).unwrap_or(NONE - 1)
    }

    fn at(&self, millis: u64) -> Instant {
        self.opened + Duration::from_millis(millis)
    }

    fn received(&self) {
        if self.first_byte.load(Relaxed) == NONE {
            self.first_byte.store(self.now(), Relaxed);
        }
    }

    fn begin(self: &Arc<Self>) -> InFlight {
        self.in_flight.fetch_add(1, Relaxed);
        self.served.store(true, Relaxed);
        InFlight(self.clone())
    }

    /// Nothing in flight and not a byte received since the last request ended (or ever).
    fn untouched(&self) -> bool {
        self.in_flight.load(Relaxed) == 0 && self.first_byte.load(Relaxed) == NONE
    }

    /// When the connection is to be closed if nothing happens meanwhile; `None` while a
    /// request is in flight.
    fn deadline(&self, limits: &ConnectionLimits) -> Option<Instant> {
        if self.in_flight.load(Relaxed) > 0 {
            return None;
        }
        if !self.served.load(Relaxed) {
            return Some(self.opened + limits.header_timeout);
        }
        match self.first_byte.load(Relaxed) {
            NONE => Some(self.at(self.idle_since.load(Relaxed)) + limits.idle_timeout),
            first => Some(self.at(first) + limits.header_timeout),
        }
    }
}

/// One request in flight on a connection, until dropped with its response body.
struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        if self.0.in_flight.fetch_sub(1, Relaxed) == 1 {
            self.0.first_byte.store(NONE, Relaxed);
            self.0.idle_since.store(self.0.now(), Relaxed);
        }
    }
}

/// The connection's socket, noting when bytes arrive.
struct TrackedIo {
    stream: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for TrackedIo {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let me = self.get_mut();
        let before = buf.filled().len();
        let read = Pin::new(&mut me.stream).poll_read(cx, buf);
        if buf.filled().len() > before {
            me.activity.received();
        }
        read
    }
}

impl AsyncWrite for TrackedIo {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}

/// The router as one connection's hyper service.
#[derive(Clone)]
struct ConnectionService {
    shared: Arc<Shared>,
    peer: SocketAddr,
    activity: Arc<Activity>,
}

impl hyper::service::Service<Request<Incoming>> for ConnectionService {
    type Response = Response<TrackedBody>;
    type Error = Infallible;
    type Future =
        Pin<Box<dyn Future<Output = Result<Response<TrackedBody>, Infallible>> + Send + 'static>>;

    fn call(&self, mut req: Request<Incoming>) -> Self::Future {
        req.extensions_mut().insert(ConnectInfo(self.peer));
        let in_flight = self.activity.begin();
        let shared = self.shared.clone();
        let response = tower::ServiceExt::oneshot(shared.router.clone(), req.map(Body::new));
        Box::pin(async move {
            let Ok(mut resp) = response.await;
            if shared.draining.load(Relaxed) {
                resp.headers_mut()
                    .insert(header::CONNECTION, HeaderValue::from_static("close"));
            }
            Ok(resp.map(|body| TrackedBody {
                body,
                _in_flight: in_flight,
            }))
        })
    }
}

/// A response body that keeps its request in flight until it has been written or dropped.
struct TrackedBody {
    body: Body,
    _in_flight: InFlight,
}

impl http_body::Body for TrackedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.get_mut().body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

#[cfg(test)]
mod tests {
    //! The accept loop in-process over loopback, with a router of test handlers and timeouts of
    //! a fraction of a second. Nothing here asserts a duration: each test waits for a behaviour
    //! (a close, an answer, an order of events) under a generous bound that only a hang exceeds.

    use super::*;
    use axum::routing::get;
    use std::sync::atomic::AtomicUsize;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::sync::{oneshot, Notify};

    /// Only a hang takes this long.
    const HANG: Duration = Duration::from_secs(30);

    #[derive(Default)]
    struct Probe {
        /// `/hold` handlers that have started.
        held: AtomicUsize,
        /// `/hold` handlers that have finished.
        done: AtomicUsize,
        /// `/hold` handlers dropped before finishing.
        cancelled: AtomicUsize,
        release: Notify,
        /// Releases `/hold-second` instead.
        release_second: Notify,
    }

    struct CancelGuard<'a>(&'a Probe, bool);
    impl Drop for CancelGuard<'_> {
        fn drop(&mut self) {
            if !self.1 {
                self.0.cancelled.fetch_add(1, Relaxed);
            }
        }
    }

    fn limits() -> ConnectionLimits {
        ConnectionLimits {
            header_timeout: Duration::from_secs(60),
            idle_timeout: Duration::from_secs(60),
            max_connections: 100,
            drain_timeout: Duration::from_secs(60),
        }
    }

    async fn hold(p: Arc<Probe>, second: bool) -> &'static str {
        let mut guard = CancelGuard(&p, false);
        // Created before `held` counts it, so that a release after that wakes it.
        let released = if second {
            p.release_second.notified()
        } else {
            p.release.notified()
        };
        p.held.fetch_add(1, Relaxed);
        released.await;
        guard.1 = true;
        p.done.fetch_add(1, Relaxed);
        "released"
    }

    /// `/` answers how many `/hold` handlers had finished, `/hold` waits for
    /// `Probe::release` (`/hold-second` for `release_second`), `/peer` answers the peer
    /// address it was given.
    fn router(probe: Arc<Probe>) -> Router {
        let (p1, p2, p3) = (probe.clone(), probe.clone(), probe);
        Router::new()
            .route(
                "/",
                get(move || {
                    let p = p1.clone();
                    async move { p.done.load(Relaxed).to_string() }
                }),
            )
            .route("/hold", get(move || hold(p2.clone(), false)))
            .route("/hold-second", get(move || hold(p3.clone(), true)))
            .route(
                "/peer",
                get(|ConnectInfo(peer): ConnectInfo<SocketAddr>| async move { peer.to_string() }),
            )
    }

    struct Server {
        addr: SocketAddr,
        probe: Arc<Probe>,
        stop: Option<oneshot::Sender<()>>,
        task: tokio::task::JoinHandle<Drained>,
    }

    impl Server {
        async fn start(limits: ConnectionLimits) -> Server {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let probe = Arc::new(Probe::default());
            let (stop, stopped) = oneshot::channel::<()>();
            let task = tokio::spawn(serve(listener, router(probe.clone()), limits, async {
                let _ = stopped.await;
            }));
            Server {
                addr,
                probe,
                stop: Some(stop),
                task,
            }
        }
        async fn connect(&self) -> TcpStream {
            TcpStream::connect(self.addr).await.unwrap()
        }
        fn shutdown(&mut self) {
            let _ = self.stop.take().unwrap().send(());
        }
        async fn drained(self) -> Drained {
            tokio::time::timeout(HANG, self.task)
                .await
                .expect("serve returned")
                .unwrap()
        }
        /// Waits until `n` `/hold` handlers run.
        async fn held(&self, n: usize) {
            tokio::time::timeout(HANG, async {
                while self.probe.held.load(Relaxed) < n {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            })
            .await
            .expect("the handlers started");
        }
    }

    fn get_request(path: &str, close: bool) -> String {
        let connection = if close { "connection: close\r\n" } else { "" };
        format!("GET {path} HTTP/1.1\r\nhost: test\r\n{connection}\r\n")
    }

    /// Reads one response (head and a Content-Length body): (head, body).
    async fn response(c: &mut TcpStream) -> (String, String) {
        let mut got = Vec::new();
        let mut buf = [0u8; 1024];
        tokio::time::timeout(HANG, async {
            loop {
                if let Some(i) = got.windows(4).position(|w| w == b"\r\n\r\n") {
                    let head = String::from_utf8_lossy(&got[..i]).to_lowercase();
                    let len: usize = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .map_or(0, |v| v.trim().parse().unwrap());
                    if got.len() >= i + 4 + len {
                        let body = String::from_utf8_lossy(&got[i + 4..i + 4 + len]).into_owned();
                        return (head, body);
                    }
                }
                let n = c.read(&mut buf).await.expect("read a response");
                assert!(n > 0, "closed before a whole response: {got:?}");
                got.extend_from_slice(&buf[..n]);
            }
        })
        .await
        .expect("a response")
    }

    /// Waits until the server closes `c` (end of stream or reset), with no response before.
    async fn closed(c: &mut TcpStream) {
        let mut buf = [0u8; 64];
        let r = tokio::time::timeout(HANG, c.read(&mut buf))
            .await
            .expect("the server closed the connection");
        match r {
            Ok(0) => {}
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
            Ok(n) => panic!("unexpected bytes: {:?}", String::from_utf8_lossy(&buf[..n])),
            Err(e) => panic!("read failed: {e}"),
        }
    }

    /// Returns once the server has accepted every connection made before: it accepts in order,
    /// and has answered one made after them (and closed it).
    async fn accepted(s: &Server) {
        let mut marker = s.connect().await;
        marker
            .write_all(get_request("/", true).as_bytes())
            .await
            .unwrap();
        response(&mut marker).await;
        closed(&mut marker).await;
    }

    #[tokio::test]
    async fn half_a_head_silence_and_a_slow_drip_are_closed_after_the_header_timeout() {
        let s = Server::start(ConnectionLimits {
            header_timeout: Duration::from_millis(300),
            ..limits()
        })
        .await;
        let mut half = s.connect().await;
        half.write_all(b"GET / HTTP/1.1\r\nhost: te").await.unwrap();
        let mut silent = s.connect().await;
        // A byte every 50 ms: each one arrives well within any read timeout, the whole head never.
        let mut drip = s.connect().await;
        let dripping = tokio::spawn(async move {
            for b in b"GET / HTTP/1.1\r\nx-slow: ".iter().cycle() {
                if drip.write_all(&[*b]).await.is_err() {
                    return drip;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            unreachable!()
        });
        closed(&mut half).await;
        closed(&mut silent).await;
        let mut drip = tokio::time::timeout(HANG, dripping)
            .await
            .expect("the drip was cut off")
            .unwrap();
        closed(&mut drip).await;
        // After its first request, a connection gets the header timeout again for each head.
        let mut kept = s.connect().await;
        kept.write_all(get_request("/", false).as_bytes())
            .await
            .unwrap();
        let (head, _) = response(&mut kept).await;
        assert!(head.starts_with("http/1.1 200"), "{head}");
        kept.write_all(b"GET / HTTP/1.1\r\n").await.unwrap();
        closed(&mut kept).await;
        // The service itself is unaffected.
        let mut fresh = s.connect().await;
        fresh
            .write_all(get_request("/", true).as_bytes())
            .await
            .unwrap();
        assert!(response(&mut fresh).await.0.starts_with("http/1.1 200"));
    }

    #[tokio::test]
    async fn an_idle_keep_alive_connection_is_closed_but_a_slow_request_is_not() {
        let mut s = Server::start(ConnectionLimits {
            idle_timeout: Duration::from_millis(300),
            ..limits()
        })
        .await;
        let mut idle = s.connect().await;
        idle.write_all(get_request("/", false).as_bytes())
            .await
            .unwrap();
        let (head, _) = response(&mut idle).await;
        assert!(!head.contains("connection: close"), "{head}");
        // A request in flight is not idle, however long it takes: the idle connection above
        // is closed while this one waits, and this one is answered afterwards.
        let mut slow = s.connect().await;
        slow.write_all(get_request("/hold", false).as_bytes())
            .await
            .unwrap();
        s.held(1).await;
        closed(&mut idle).await;
        s.probe.release.notify_waiters();
        let (head, body) = response(&mut slow).await;
        assert!(head.starts_with("http/1.1 200"), "{head}");
        assert_eq!(body, "released");
        closed(&mut slow).await;
        s.shutdown();
        assert_eq!(s.drained().await.dropped, 0);
    }

    #[tokio::test]
    async fn connections_past_the_limit_wait_until_one_closes() {
        let s = Server::start(ConnectionLimits {
            max_connections: 2,
            ..limits()
        })
        .await;
        let mut first = s.connect().await;
        let mut second = s.connect().await;
        first
            .write_all(get_request("/hold", true).as_bytes())
            .await
            .unwrap();
        second
            .write_all(get_request("/hold-second", false).as_bytes())
            .await
            .unwrap();
        s.held(2).await;
        // The third connection is made by the kernel, but the server does not accept it while
        // two are open: its request is handled only after a `/hold` has finished and its
        // connection closed. Served at once, it would answer 0.
        let mut third = s.connect().await;
        third
            .write_all(get_request("/", true).as_bytes())
            .await
            .unwrap();
        s.probe.release.notify_waiters();
        let (head, _) = response(&mut first).await;
        assert!(head.contains("connection: close"), "{head}");
        closed(&mut first).await;
        let (_, done) = response(&mut third).await;
        assert_eq!(
            done, "1",
            "the third connection was served before a slot was free"
        );
        s.probe.release_second.notify_waiters();
        assert_eq!(response(&mut second).await.1, "released");
    }

    #[tokio::test]
    async fn every_request_carries_its_peer_address() {
        let s = Server::start(limits()).await;
        let mut c = s.connect().await;
        c.write_all(get_request("/peer", true).as_bytes())
            .await
            .unwrap();
        let (_, body) = response(&mut c).await;
        assert_eq!(body, c.local_addr().unwrap().to_string());
    }

    #[tokio::test]
    async fn shutdown_closes_idle_connections_and_finishes_requests_with_connection_close() {
        let mut s = Server::start(limits()).await;
        let mut busy = s.connect().await;
        busy.write_all(get_request("/hold", false).as_bytes())
            .await
            .unwrap();
        s.held(1).await;
        let mut idle = s.connect().await;
        idle.write_all(get_request("/", false).as_bytes())
            .await
            .unwrap();
        response(&mut idle).await;
        let mut silent = s.connect().await;
        let mut half = s.connect().await;
        half.write_all(b"GET /peer HTTP/1.1\r\n").await.unwrap();
        accepted(&s).await;
        s.shutdown();
        // Nothing to finish on these two: closed at once, not at a timeout (both are 60 s).
        closed(&mut idle).await;
        closed(&mut silent).await;
        // A head that was on its way is still answered, with the news that the server closes.
        half.write_all(b"host: test\r\n\r\n").await.unwrap();
        let (head, _) = response(&mut half).await;
        assert!(head.starts_with("http/1.1 200"), "{head}");
        assert!(head.contains("connection: close"), "{head}");
        closed(&mut half).await;
        // New connections are refused.
        assert!(TcpStream::connect(s.addr).await.is_err());
        s.probe.release.notify_waiters();
        let (head, body) = response(&mut busy).await;
        assert!(head.contains("connection: close"), "{head}");
        assert_eq!(body, "released");
        closed(&mut busy).await;
        let probe = s.probe.clone();
        let drained = s.drained().await;
        assert_eq!(drained.dropped, 0);
        assert!(drained.open >= 4, "{drained:?}");
        assert_eq!(probe.cancelled.load(Relaxed), 0);
    }

    #[tokio::test]
    async fn the_drain_deadline_drops_what_is_still_in_flight() {
        let mut s = Server::start(ConnectionLimits {
            drain_timeout: Duration::from_millis(300),
            ..limits()
        })
        .await;
        let mut busy = s.connect().await;
        busy.write_all(get_request("/hold", false).as_bytes())
            .await
            .unwrap();
        s.held(1).await;
        let mut half = s.connect().await;
        half.write_all(b"GET / HTTP/1.1\r\n").await.unwrap();
        accepted(&s).await;
        s.shutdown();
        let probe = s.probe.clone();
        assert_eq!(s.drained().await.dropped, 2);
        // The handler was dropped, not left running, and neither client got an answer.
        assert_eq!(probe.cancelled.load(Relaxed), 1);
        closed(&mut busy).await;
        closed(&mut half).await;
    }
}
