//! What the service tells its host as it works, for counters a front door cannot see from the
//! answers alone (a password hashed, a check queued for the access record). The HTTP server
//! counts them as metrics; the CLI ignores them.

/// Receives the service's events. Every method does nothing by default, so a host implements
/// only what it counts; each is called on the request's task and must not block.
pub trait Events: Send + Sync {
    /// An argon2 password check ran (a sign-in's password, right or wrong, or the dummy hash
    /// of an unknown name); a sign-in refused before hashing (locked out) sends nothing.
    fn password_checked(&self) {}
    /// A verification was queued for the access record.
    fn verification_queued(&self) {}
}

/// The host that counts nothing.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoEvents;

impl Events for NoEvents {}
