//! # qrid-service
//!
//! The qrid domain, under every front door: the HTTP server and the `qrid` command both call
//! it, and it knows nothing of HTTP (no axum, hyper or tower; checked by
//! tests/tests/boundaries.rs). It owns the service's configuration, the issuer's keys and
//! issuance, officials' provisioning and the custody of their secrets, TOTP, password hashing,
//! lockouts, and the OpenID provider's keys and client registrations. Time comes from the
//! [`clock::Clock`] it is given.
//!
//! A running node is a [`Service`]; its operations take validated ids ([`ids`]) and the
//! authenticated caller ([`Officer`]), check the caller's role, and answer one typed error,
//! [`ServiceError`], which the server maps to problem+json in one place.
//!
//! docs/design.md ("Architecture: a newcomer's map") draws who calls whom.
#![forbid(unsafe_code)]

pub mod accounts;
pub mod admin;
pub mod citizens;
pub mod clock;
pub mod config;
pub mod custody;
pub mod desk;
pub mod error;
pub mod events;
pub mod ids;
pub mod issuance;
pub mod keys;
pub mod live;
pub mod lockout;
pub mod me;
pub mod office;
pub mod officials;
pub mod oidc;
pub mod pades;
pub mod passwords;
pub mod photo;
pub mod recorder;
mod service;
pub mod signing;
pub mod status;
pub mod totp;
pub mod vci;
pub mod verification;

pub use clock::{Clock, ManualClock, SharedClock, SystemClock};
pub use config::{Config, Settings};
pub use error::ServiceError;
pub use ids::{CitizenId, ClientId, CredentialId, Officer, SignatureId};
pub use recorder::Recorder;
pub use service::Service;
