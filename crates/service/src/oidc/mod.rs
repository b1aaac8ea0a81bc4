//! The OpenID provider's domain: the relying parties' registrations and the ID token keys.

pub mod client;
pub mod keys;
