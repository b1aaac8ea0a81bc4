//! # qrid-store
//!
//! Persistence for the qrid service: one [`Store`] over SQLite (the embedded default) or
//! PostgreSQL (production), chosen by the database URL. Both dialects hold the same schema
//! (`migrations/sqlite`, `migrations/postgres`), applied at start-up, and pass the same test
//! suite (`tests/store.rs`).
//!
//! Invariants the store keeps, whatever the caller does:
//! - a status-list index is never handed out twice (`status_lists.next_index` only grows); it is
//!   allocated in the same transaction as the credential that uses it, except for pipelined
//!   bulk issuance (`reserve_slots`), where a crash can leave reserved indices unused, never
//!   reused;
//! - a citizen and the credentials issued with it in one call land together or not at all;
//! - `audit_log` and `verifications` are append-only (database triggers refuse UPDATE/DELETE).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod error;
mod model;
mod store;
#[doc(hidden)]
pub mod testing;

pub use error::StoreError;
pub use model::{
    AuditEntry, BatchOutcome, Census, CitizenRecord, ClientRecord, CredentialRecord,
    CredentialStatus, IssuedRow, IssuerKeyRecord, KeyState, LoginStatus, LoginTx, NewCitizen,
    NewCredential, NewLoginTx, OfficerRecord, Redemption, Role, StatusSlot, Verification,
};
pub use store::{Backend, Store};
