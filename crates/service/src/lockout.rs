//! Lockouts after failed authentication: officer passwords, official passwords and officials'
//! TOTP codes, each counted under a typed [`LockoutKey`], in the memory of one node.
//!
//! An attempt is counted when it **starts** ([`Lockouts::begin`]), under the lock, before the
//! password or code is looked at, and forgotten only when it succeeds ([`Attempt::succeeded`]).
//! So however many guesses arrive at once, at most [`FREE_FAILURES`] of them are checked before
//! the key locks, and an attempt that ends any other way (a wrong password, a database error, a
//! dropped connection) stays counted.

use crate::clock::{self, SharedClock};
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

/// Milliseconds of the service's clock ([`crate::clock::Clock::now_millis`]).
type Millis = i64;

fn millis(d: Duration) -> Millis {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// Attempts a key may start before it locks: the fifth starts the lock (1 s), each later one
/// doubles it.
pub const FREE_FAILURES: u32 = 5;
/// Longest lockout.
pub const MAX_LOCKOUT: Duration = Duration::from_secs(15 * 60);
/// Keys kept at most; past it, keys neither locked nor recently tried are forgotten first, and
/// when every key is locked, attempts on new keys are refused for a second.
const MAX_KEYS: usize = 100_000;
/// A key with no attempt for this long and not locked is forgotten when room is needed.
const IDLE: Duration = MAX_LOCKOUT;

/// What a lockout counts failures of. Each kind of credential is its own namespace: no
/// username (a string the caller chooses) can name another kind's key, so an officer login as
/// `totp:<official id>` counts against an officer of that name, never against the official.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum LockoutKey {
    /// An officer's password, by the username tried.
    OfficerPassword(String),
    /// An official's sign-in (password and code together), by the username tried.
    OfficialPassword(String),
    /// An official's TOTP codes (sign-in and signing requests), by official id.
    OfficialTotp(String),
}

/// The key is locked out for this long still.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Locked(pub Duration);

impl Locked {
    /// Whole seconds to wait, at least 1 (for `Retry-After`).
    pub fn secs(&self) -> u64 {
        (self.0.as_secs() + u64::from(self.0.subsec_nanos() > 0)).max(1)
    }
}

#[derive(Debug)]
struct Entry {
    /// Attempts started since the last success, including those still being checked.
    attempts: u32,
    locked_until: Option<Millis>,
    last: Millis,
}

/// The lockout table of a node, on the service's clock.
pub struct Lockouts {
    map: Mutex<HashMap<LockoutKey, Entry>>,
    clock: SharedClock,
}

impl Default for Lockouts {
    /// On the system clock.
    fn default() -> Lockouts {
        Lockouts::new(clock::system())
    }
}

/// How long `until` is still ahead of `now`, if it is.
fn remaining(until: Option<Millis>, now: Millis) -> Option<Duration> {
    let left = until?.checked_sub(now)?;
    (left > 0).then(|| Duration::from_millis(u64::try_from(left).unwrap_or(u64::MAX)))
}

fn backoff(attempts: u32) -> Duration {
    Duration::from_secs(1u64 << (attempts - FREE_FAILURES).min(10)).min(MAX_LOCKOUT)
}

impl Lockouts {
    /// An empty table whose locks run on `clock`.
    pub fn new(clock: SharedClock) -> Lockouts {
        Lockouts {
            map: Mutex::new(HashMap::new()),
            clock,
        }
    }

    fn table(&self) -> MutexGuard<'_, HashMap<LockoutKey, Entry>> {
        // A panic elsewhere while holding the lock leaves counts that are still counts.
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Starts an attempt on `key`: refused while the key is locked; otherwise counted at once,
    /// and from the [`FREE_FAILURES`]th attempt on the key locks for 2^(attempts − 5) s
    /// (at most [`MAX_LOCKOUT`]) from now, so concurrent attempts after it are refused while it
    /// is checked. Drop the [`Attempt`] to leave it counted as a failure, or call
    /// [`Attempt::succeeded`].
    pub fn begin(&self, key: LockoutKey) -> Result<Attempt<'_>, Locked> {
        let now = self.clock.now_millis();
        let mut m = self.table();
        if let Some(wait) = remaining(m.get(&key).and_then(|e| e.locked_until), now) {
            return Err(Locked(wait));
        }
        if m.len() >= MAX_KEYS && !m.contains_key(&key) {
            make_room(&mut m, now);
            if m.len() >= MAX_KEYS {
                // Every key is locked: a flood of that size is refused rather than let through
                // unchecked or allowed to grow the table.
                return Err(Locked(Duration::from_secs(1)));
            }
        }
        let e = m.entry(key.clone()).or_insert(Entry {
            attempts: 0,
            locked_until: None,
            last: now,
        });
        e.attempts = e.attempts.saturating_add(1);
        e.last = now;
        if e.attempts >= FREE_FAILURES {
            e.locked_until = Some(now.saturating_add(millis(backoff(e.attempts))));
        }
        Ok(Attempt {
            lockouts: self,
            key: Some(key),
        })
    }

    /// How long `key` is still locked, if it is.
    pub fn locked_for(&self, key: &LockoutKey) -> Option<Locked> {
        let now = self.clock.now_millis();
        remaining(self.table().get(key).and_then(|e| e.locked_until), now).map(Locked)
    }

    /// Keys held (for tests of the bound).
    pub fn len(&self) -> usize {
        self.table().len()
    }

    /// Whether no key is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Forgets keys that are neither locked nor tried within [`IDLE`]; if every key is busy, forgets
/// the unlocked ones. Locked keys are never forgotten, so filling the table cannot unlock anyone.
fn make_room(m: &mut HashMap<LockoutKey, Entry>, now: Millis) {
    let locked = |e: &Entry| e.locked_until.is_some_and(|u| u > now);
    m.retain(|_, e| locked(e) || now.saturating_sub(e.last) < millis(IDLE));
    if m.len() >= MAX_KEYS {
        m.retain(|_, e| locked(e));
    }
}

/// One counted attempt. Dropping it leaves it counted and (from the fifth attempt on) re-arms
/// the lock from the moment the attempt ended, so a slow check does not shorten the lockout.
#[must_use = "drop it on failure, or call succeeded()"]
pub struct Attempt<'a> {
    lockouts: &'a Lockouts,
    key: Option<LockoutKey>,
}

impl Attempt<'_> {
    /// The credential was right: the key's count is cleared.
    pub fn succeeded(mut self) {
        if let Some(key) = self.key.take() {
            self.lockouts.table().remove(&key);
        }
    }
}

impl Drop for Attempt<'_> {
    fn drop(&mut self) {
        let Some(key) = self.key.take() else { return };
        let now = self.lockouts.clock.now_millis();
        if let Some(e) = self.lockouts.table().get_mut(&key) {
            if e.attempts >= FREE_FAILURES {
                let until = now.saturating_add(millis(backoff(e.attempts)));
                e.locked_until = Some(e.locked_until.map_or(until, |u| u.max(until)));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn concurrent_attempts_beyond_the_free_ones_are_refused_before_any_is_checked() {
        let l = Arc::new(Lockouts::default());
        let barrier = Arc::new(std::sync::Barrier::new(64));
        // 64 threads start at once and hold their attempt (as a slow hash would) until all
        // have tried.
        let started = Arc::new(std::sync::atomic::AtomicU32::new(0));
        let handles: Vec<_> = (0..64)
            .map(|_| {
                let (l, b, started) = (l.clone(), barrier.clone(), started.clone());
                std::thread::spawn(move || {
                    b.wait();
                    let a = l.begin(LockoutKey::OfficerPassword("alice".into()));
                    if a.is_ok() {
                        started.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    }
                    b.wait();
                    drop(a);
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        assert_eq!(
            started.load(std::sync::atomic::Ordering::SeqCst),
            FREE_FAILURES
        );
        let wait = l
            .locked_for(&LockoutKey::OfficerPassword("alice".into()))
            .expect("locked");
        assert_eq!(wait.secs(), 1);
    }

    #[test]
    fn success_clears_and_a_right_answer_while_locked_is_not_checked() {
        let l = Lockouts::default();
        let key = || LockoutKey::OfficerPassword("alice".into());
        for _ in 0..4 {
            drop(l.begin(key()).unwrap());
        }
        assert_eq!(l.locked_for(&key()), None);
        // The fifth starts the lock; it is still checked, and it succeeds.
        l.begin(key()).unwrap().succeeded();
        assert_eq!(l.locked_for(&key()), None);
        assert!(l.is_empty());
        for _ in 0..5 {
            drop(l.begin(key()).unwrap());
        }
        assert!(l.begin(key()).is_err());
    }

    #[test]
    fn a_lock_runs_out_on_the_clock_and_doubles_with_each_failure() {
        let clock = clock::ManualClock::at(1_700_000_000);
        let l = Lockouts::new(Arc::new(clock.clone()));
        let key = || LockoutKey::OfficialTotp("0123".into());
        for _ in 0..5 {
            drop(l.begin(key()).unwrap());
        }
        assert_eq!(l.locked_for(&key()), Some(Locked(Duration::from_secs(1))));
        clock.advance_millis(999);
        assert_eq!(l.begin(key()).err().map(|l| l.secs()), Some(1));
        clock.advance_millis(1);
        assert_eq!(l.locked_for(&key()), None);
        // The sixth failure locks for 2 s, the seventh for 4 s.
        drop(l.begin(key()).unwrap());
        assert_eq!(l.locked_for(&key()).map(|l| l.secs()), Some(2));
        clock.advance(2);
        drop(l.begin(key()).unwrap());
        assert_eq!(l.locked_for(&key()).map(|l| l.secs()), Some(4));
        clock.advance(4);
        l.begin(key()).unwrap().succeeded();
        assert!(l.is_empty());
    }

    #[test]
    fn namespaces_do_not_meet() {
        let l = Lockouts::default();
        for _ in 0..10 {
            let _ = l.begin(LockoutKey::OfficerPassword("totp:0123".into()));
            let _ = l.begin(LockoutKey::OfficialPassword("0123".into()));
        }
        assert!(l.begin(LockoutKey::OfficialTotp("0123".into())).is_ok());
        assert!(l
            .locked_for(&LockoutKey::OfficerPassword("totp:0123".into()))
            .is_some());
    }

    #[test]
    fn a_full_table_forgets_idle_keys_never_locked_ones() {
        let l = Lockouts::default();
        for _ in 0..5 {
            drop(
                l.begin(LockoutKey::OfficerPassword("target".into()))
                    .unwrap(),
            );
        }
        for i in 0..MAX_KEYS + 10 {
            drop(
                l.begin(LockoutKey::OfficerPassword(format!("u{i}")))
                    .unwrap(),
            );
        }
        assert!(l.len() <= MAX_KEYS);
        assert!(l
            .locked_for(&LockoutKey::OfficerPassword("target".into()))
            .is_some());
    }
}
