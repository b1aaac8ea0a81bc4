//! Request-body bounds that also keep the answer readable.
//!
//! A body over its limit is refused from its declared `Content-Length` before any of it is
//! read: the service never asks for it (no `100 Continue`), so a client that waits for that
//! answer never sends the body, and none sits unread in the socket when the connection
//! closes. Unread bytes there make the kernel reset the connection, which can destroy the
//! 413 before the client reads it (seen in CI: curl reported the `100` and no final answer).
//!
//! A document upload refused part-way (`signing::read_document`: too long, or malformed while
//! streaming) is drained a little, so the same reset does not swallow the refusal of a small
//! overshoot; a large remainder is left unread.

use crate::problem::{too_large, Problem};
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;
use std::time::Duration;

/// How much of a refused body is read and discarded before the connection closes, bytes.
pub(crate) const DRAIN_LIMIT: u64 = 1024 * 1024;
/// How long draining a refused body may take.
const DRAIN_TIME: Duration = Duration::from_secs(2);

/// The body's declared length, when it declares one hyper accepted.
fn declared_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

/// Refuses, with `refusal`, a body whose declared length exceeds `limit`.
///
/// A body without `Content-Length` (chunked) passes; the reader must still bound it.
pub fn within(
    headers: &HeaderMap,
    limit: u64,
    refusal: impl FnOnce() -> Problem,
) -> Result<(), Problem> {
    match declared_length(headers) {
        Some(n) if n > limit => Err(refusal()),
        _ => Ok(()),
    }
}

/// Reads a whole body of at most `limit` bytes: a declared length over the limit is refused
/// before any of it is read, a longer body once it passes the limit (413 `body_too_large`).
pub async fn bytes_within(req: Request, limit: usize) -> Result<Bytes, Problem> {
    within(req.headers(), limit as u64, too_large)?;
    axum::body::to_bytes(req.into_body(), limit)
        .await
        .map_err(|_| too_large())
}

/// Middleware for a route whose extractors read a bounded body (`DefaultBodyLimit`): refuses
/// a declared length over the limit with 413 `body_too_large` before the body is touched.
pub async fn declared_within(State(limit): State<usize>, req: Request, next: Next) -> Response {
    match within(req.headers(), limit as u64, too_large) {
        Ok(()) => next.run(req).await,
        Err(p) => p.into_response(),
    }
}

/// Reads and discards what is left of a refused body: up to [`DRAIN_LIMIT`] bytes, for at
/// most two seconds. Past either bound the rest is left unread.
pub async fn drain(mut body: Body) {
    let read = async {
        let mut seen = 0u64;
        while let Some(Ok(frame)) = body.frame().await {
            if let Some(data) = frame.data_ref() {
                seen += data.len() as u64;
                if seen > DRAIN_LIMIT {
                    break;
                }
            }
        }
    };
    let _ = tokio::time::timeout(DRAIN_TIME, read).await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(len: Option<&str>) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Some(l) = len {
            h.insert(header::CONTENT_LENGTH, HeaderValue::from_str(l).unwrap());
        }
        h
    }

    #[test]
    fn a_declared_length_over_the_limit_is_refused() {
        assert!(within(&headers(Some("11")), 10, too_large).is_err());
        assert!(within(&headers(Some("10")), 10, too_large).is_ok());
        assert!(within(&headers(Some("0")), 10, too_large).is_ok());
        // Chunked bodies are bounded by their reader instead.
        assert!(within(&headers(None), 10, too_large).is_ok());
    }

    /// A body that never ends, counting the bytes it has handed out.
    struct Endless(std::sync::Arc<std::sync::atomic::AtomicU64>);

    impl axum::body::HttpBody for Endless {
        type Data = Bytes;
        type Error = std::io::Error;

        fn poll_frame(
            self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
            self.0
                .fetch_add(64 * 1024, std::sync::atomic::Ordering::Relaxed);
            std::task::Poll::Ready(Some(Ok(http_body::Frame::data(Bytes::from(vec![
                0u8;
                64 * 1024
            ])))))
        }
    }

    #[tokio::test]
    async fn drain_stops_at_its_byte_limit() {
        let given = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        drain(Body::new(Endless(given.clone()))).await;
        let n = given.load(std::sync::atomic::Ordering::Relaxed);
        assert!(n > DRAIN_LIMIT && n <= DRAIN_LIMIT + 64 * 1024, "{n}");
    }
}
