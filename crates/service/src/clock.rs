//! The service's clock. Every expiry, token lifetime, TOTP step, lockout and timestamp the
//! service writes reads the time from a [`Clock`] it was given, never from the system directly
//! (clippy's `disallowed-methods` refuses `SystemTime::now` elsewhere), so that a test can put
//! the service at any instant and move it forward without sleeping.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

/// Wall-clock time. The formats carry whole Unix seconds ([`Clock::now`]); lockouts count in
/// milliseconds ([`Clock::now_millis`]), so that a one-second lock lasts a second.
pub trait Clock: Send + Sync + 'static {
    /// Milliseconds since 1970-01-01T00:00:00Z. A system clock set before 1970 reads as 0.
    fn now_millis(&self) -> i64;

    /// Whole seconds since 1970-01-01T00:00:00Z.
    fn now(&self) -> i64 {
        self.now_millis().div_euclid(1000)
    }
}

/// The operating system's clock: what the service runs on.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[allow(clippy::disallowed_methods)] // The one reading of the system clock.
    fn now_millis(&self) -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
            .unwrap_or(0)
    }
}

/// A clock that stands still until told to move: for tests of expiry, TOTP steps and lockouts.
/// Clones share one time (held in milliseconds).
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<AtomicI64>);

impl ManualClock {
    /// A clock reading `now` whole seconds.
    pub fn at(now: i64) -> ManualClock {
        ManualClock(Arc::new(AtomicI64::new(now.saturating_mul(1000))))
    }

    /// Moves the clock forward by `seconds` (backward for a negative number, as a system clock
    /// corrected by NTP may).
    pub fn advance(&self, seconds: i64) {
        self.advance_millis(seconds.saturating_mul(1000));
    }

    /// Moves the clock forward by `millis` milliseconds.
    pub fn advance_millis(&self, millis: i64) {
        self.0.fetch_add(millis, Ordering::SeqCst);
    }

    /// Sets the clock to `now` whole seconds.
    pub fn set(&self, now: i64) {
        self.0.store(now.saturating_mul(1000), Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_millis(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// The clock a service is given: shared by every part that reads the time.
pub type SharedClock = Arc<dyn Clock>;

/// The system clock, shared.
pub fn system() -> SharedClock {
    Arc::new(SystemClock)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_told_and_its_clones_follow() {
        let c = ManualClock::at(1_700_000_000);
        let shared: SharedClock = Arc::new(c.clone());
        assert_eq!(shared.now(), 1_700_000_000);
        c.advance(31);
        assert_eq!(shared.now(), 1_700_000_031);
        c.advance_millis(999);
        assert_eq!(shared.now(), 1_700_000_031);
        c.advance_millis(1);
        assert_eq!(shared.now(), 1_700_000_032);
        c.set(5);
        assert_eq!(shared.now(), 5);
    }

    #[test]
    fn the_system_clock_reads_after_this_code_was_written() {
        // 2026-01-01: a clock reading earlier is broken, not "now".
        assert!(SystemClock.now() > 1_767_225_600);
    }
}
