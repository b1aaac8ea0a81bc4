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
//! - identity credentials (`credentials`) and signer credentials (`signer_credentials`) share
//!   the status lists and the one allocator, so their indices never collide;
//! - `audit_log`, `verifications` and `signatures` are append-only (database triggers refuse
//!   UPDATE/DELETE);
//! - secrets reach the store only hashed (passwords, session tokens) or sealed by the caller
//!   (TOTP secrets, signing keys), and never go into the audit log;
//! - a TOTP time step is accepted once per official, and only above the last one accepted;
//!   a signing session's document count only goes down, one use at a time.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod error;
mod model;
mod store;
/// Throw-away databases for tests; only with the `testing` feature, which production builds
/// never enable.
#[cfg(feature = "testing")]
#[doc(hidden)]
pub mod testing;

pub use error::{StoreError, Unavailable};
pub use model::{
    AccountKind, AccountSummary, AuditEntry, BatchOutcome, Census, CitizenRecord, ClientRecord,
    CredentialKind, CredentialRecord, CredentialStatus, IssuedRow, IssuerKeyRecord, KeyState,
    LoginOpened, LoginStatus, LoginTx, NewCitizen, NewCredential, NewLoginTx, NewOffer,
    NewOfficial, NewSignature, OfferRecord, OfficerRecord, OfficialCertificate, OfficialRecord,
    PadesSignature, PendingLoginBounds, RecordEntry, Redemption, Role, SignatureRecord,
    SignerCredentialRecord, StatusChange, StatusSlot, StoredPhoto, Verification, WebApp,
    WebSession,
};
pub use model::{KeyRotation, NewOfficialKey};
pub use store::{Backend, Store, StoreSettings, ACCOUNT_PAGE, LOGIN_PRUNE_GRACE, SEARCH_LIMIT};
pub use store::{DeskDocument, DeskFile, DeskFull, NewDeskDocument};
