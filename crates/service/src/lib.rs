//! # qrid-service
//!
//! The qrid domain, under every front door: the HTTP server and the `qrid` command both call
//! it, and it knows nothing of HTTP (no axum, hyper or tower; checked by
//! tests/tests/boundaries.rs). It owns the service's configuration, the issuer's keys and
//! issuance, officials' provisioning and the custody of their secrets, TOTP, password hashing,
//! lockouts, and the OpenID provider's keys and client registrations. Time comes from the
//! [`clock::Clock`] it is given.
//!
//! docs/design.md ("Architecture: a newcomer's map") draws who calls whom.
#![forbid(unsafe_code)]

pub mod clock;
pub mod config;
pub mod custody;
pub mod issuance;
pub mod keys;
pub mod lockout;
pub mod officials;
pub mod oidc;
pub mod passwords;
pub mod totp;

pub use clock::{Clock, ManualClock, SharedClock, SystemClock};
pub use config::{Config, Settings};
