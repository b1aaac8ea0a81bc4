//! Per-source rate limits: a token bucket per client address, for the routes an anonymous
//! client can make the service work for (password logins, `/authorize`).
//!
//! The address is the TCP peer (axum's `ConnectInfo`), IPv6 by its /64 (one subscriber's
//! allocation), IPv4-mapped IPv6 as IPv4. The table holds at most [`MAX_SOURCES`] addresses, so
//! the limiter is not itself a memory hole: when it is full of addresses still refilling,
//! further addresses share one overflow bucket, so even a source with more addresses than
//! that is held to one source's rate beyond them.

use crate::config::SourceRate;
use crate::problem::{Problem, ProblemKind};
use crate::state::AppState;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Addresses tracked at most by one limiter.
pub const MAX_SOURCES: usize = 100_000;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl Bucket {
    fn full(burst: f64, now: Instant) -> Bucket {
        Bucket {
            tokens: burst,
            at: now,
        }
    }
    /// Refills to `now`, then takes one token if there is one; else the wait until there is.
    fn take(&mut self, rate: &SourceRate, now: Instant) -> Result<(), Duration> {
        let per_sec = f64::from(rate.per_minute) / 60.0;
        let burst = f64::from(rate.burst);
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        self.tokens = (self.tokens + elapsed * per_sec).min(burst);
        self.at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - self.tokens) / per_sec))
        }
    }
    /// Whether it would be full at `now` (so forgetting it changes nothing).
    fn refilled(&self, rate: &SourceRate, now: Instant) -> bool {
        let per_sec = f64::from(rate.per_minute) / 60.0;
        self.tokens + now.saturating_duration_since(self.at).as_secs_f64() * per_sec
            >= f64::from(rate.burst)
    }
}

/// Where a request comes from, as the limiter counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Source {
    /// An address (IPv6 cut to its /64).
    Ip(IpAddr),
    /// The connection's address is not known (the router was served without `ConnectInfo`):
    /// all such requests share one bucket.
    Unknown,
}

impl Source {
    /// The source of a peer address.
    pub fn of(ip: IpAddr) -> Source {
        match ip {
            IpAddr::V4(v4) => Source::Ip(IpAddr::V4(v4)),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => Source::Ip(IpAddr::V4(v4)),
                None => {
                    let prefix = u128::from(v6) & !((1u128 << 64) - 1);
                    Source::Ip(IpAddr::V6(Ipv6Addr::from(prefix)))
                }
            },
        }
    }
}

#[derive(Debug)]
struct Table {
    buckets: HashMap<Source, Bucket>,
    overflow: Bucket,
    last_sweep: Instant,
}

/// One per-source limit.
#[derive(Debug)]
pub struct SourceLimiter {
    rate: SourceRate,
    table: Mutex<Table>,
}

impl SourceLimiter {
    /// A limiter with this rate (`per_minute` 0: every request passes).
    pub fn new(rate: SourceRate) -> SourceLimiter {
        let now = Instant::now();
        SourceLimiter {
            rate,
            table: Mutex::new(Table {
                buckets: HashMap::new(),
                overflow: Bucket::full(f64::from(rate.burst), now),
                last_sweep: now,
            }),
        }
    }

    /// Takes one request of `source`'s allowance, or says how long until it has one.
    pub fn check(&self, source: Source) -> Result<(), Duration> {
        self.check_at(source, Instant::now())
    }

    fn check_at(&self, source: Source, now: Instant) -> Result<(), Duration> {
        if self.rate.per_minute == 0 {
            return Ok(());
        }
        let rate = self.rate;
        let mut t = self.table.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(b) = t.buckets.get_mut(&source) {
            return b.take(&rate, now);
        }
        // At most one sweep a second: a table full of live buckets must not cost a scan per
        // request.
        if t.buckets.len() >= MAX_SOURCES
            && now.duration_since(t.last_sweep) >= Duration::from_secs(1)
        {
            t.last_sweep = now;
            t.buckets.retain(|_, b| !b.refilled(&rate, now));
        }
        if t.buckets.len() >= MAX_SOURCES {
            return t.overflow.take(&rate, now);
        }
        let mut b = Bucket::full(f64::from(rate.burst), now);
        let r = b.take(&rate, now);
        t.buckets.insert(source, b);
        r
    }

    /// Addresses held.
    pub fn len(&self) -> usize {
        self.table
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .buckets
            .len()
    }

    /// Whether no address is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Which limit a route counts against.
#[derive(Debug, Clone, Copy)]
pub enum Limit {
    /// Officer login and official sign-in: password guesses, one allowance for both.
    Password,
    /// `GET /authorize`: each call opens a login transaction.
    Authorize,
}

/// Middleware: refuses a request over its source's allowance with 429 `rate_limited` and a
/// `Retry-After`, before the handler reads anything.
pub async fn per_source(
    State((state, limit)): State<(Arc<AppState>, Limit)>,
    req: Request,
    next: Next,
) -> Response {
    let source = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(Source::Unknown, |c| Source::of(c.0.ip()));
    let limiter = match limit {
        Limit::Password => &state.login_limiter,
        Limit::Authorize => &state.authorize_limiter,
    };
    match limiter.check(source) {
        Ok(()) => next.run(req).await,
        Err(wait) => {
            state.metrics.rate_limited.inc();
            let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            Problem::new(
                StatusCode::TOO_MANY_REQUESTS,
                ProblemKind::RateLimited,
                format!(
                    "too many requests from this address; try again in {} s",
                    secs.max(1)
                ),
            )
            .with_retry_after(secs.max(1))
            .into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> Source {
        Source::of(s.parse().unwrap())
    }

    #[test]
    fn a_source_gets_its_burst_then_its_rate() {
        let l = SourceLimiter::new(SourceRate {
            per_minute: 60,
            burst: 3,
        });
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(l.check_at(ip("192.0.2.1"), t0).is_ok());
        }
        let wait = l.check_at(ip("192.0.2.1"), t0).unwrap_err();
        assert!(wait > Duration::from_millis(900) && wait <= Duration::from_secs(1));
        // Another address is not affected.
        assert!(l.check_at(ip("192.0.2.2"), t0).is_ok());
        // One a second comes back.
        let t1 = t0 + Duration::from_secs(1);
        assert!(l.check_at(ip("192.0.2.1"), t1).is_ok());
        assert!(l.check_at(ip("192.0.2.1"), t1).is_err());
    }

    #[test]
    fn ipv6_counts_by_64_and_mapped_ipv4_as_ipv4() {
        assert_eq!(ip("2001:db8:1:2:aaaa::1"), ip("2001:db8:1:2:ffff::9"));
        assert_ne!(ip("2001:db8:1:2::1"), ip("2001:db8:1:3::1"));
        assert_eq!(ip("::ffff:192.0.2.7"), ip("192.0.2.7"));
    }

    #[test]
    fn the_table_is_bounded_and_beyond_it_sources_share_one_bucket() {
        let l = SourceLimiter::new(SourceRate {
            per_minute: 1,
            burst: 2,
        });
        let t0 = Instant::now();
        for i in 0..MAX_SOURCES as u32 {
            assert!(l.check_at(Source::of(IpAddr::V4(i.into())), t0).is_ok());
        }
        assert_eq!(l.len(), MAX_SOURCES);
        // New addresses while every bucket is still refilling: one shared allowance.
        let fresh = |i: u32| Source::of(IpAddr::V4((u32::MAX - i).into()));
        assert!(l.check_at(fresh(0), t0).is_ok());
        assert!(l.check_at(fresh(1), t0).is_ok());
        assert!(l.check_at(fresh(2), t0).is_err());
        assert_eq!(l.len(), MAX_SOURCES);
        // Once the buckets have refilled they are forgotten and new addresses get their own.
        let later = t0 + Duration::from_secs(3600);
        assert!(l.check_at(fresh(3), later).is_ok());
        assert_eq!(l.len(), 1);
    }

    #[test]
    fn rate_zero_is_off() {
        let l = SourceLimiter::new(SourceRate {
            per_minute: 0,
            burst: 1,
        });
        for _ in 0..100 {
            assert!(l.check(Source::Unknown).is_ok());
        }
        assert!(l.is_empty());
    }
}
