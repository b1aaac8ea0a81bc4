//! Account administration: list, disable, enable and reset officers, clients and officials.
//! Every change is one transaction with its audit entry, and raises the account's token epoch
//! where it must end access already granted, so every node sees it on the next request.

use super::{Pools, Store};
use crate::error::StoreError;
use crate::model::{AccountKind, AccountSummary};

/// Most accounts one page of [`Store::list_accounts`] returns.
pub const ACCOUNT_PAGE: u32 = 500;

impl AccountKind {
    fn table(self) -> &'static str {
        match self {
            AccountKind::Officer => "officers",
            AccountKind::Client => "clients",
            AccountKind::Official => "officials",
        }
    }
    fn key(self) -> &'static str {
        match self {
            AccountKind::Client => "client_id",
            AccountKind::Officer | AccountKind::Official => "username",
        }
    }
    /// What the list shows beside the name: the role, the client's display name, the
    /// official's full name.
    fn detail(self) -> &'static str {
        match self {
            AccountKind::Officer => "role",
            AccountKind::Client => "name",
            AccountKind::Official => "full_name",
        }
    }
    /// Clients authenticate with their secret on every request and hold no token.
    fn has_epoch(self) -> bool {
        !matches!(self, AccountKind::Client)
    }
    fn noun(self) -> &'static str {
        match self {
            AccountKind::Officer => "officer",
            AccountKind::Client => "client",
            AccountKind::Official => "official",
        }
    }
}

/// One line of [`Store::list_accounts`]: the account's name and detail columns are selected as
/// `name` and `detail` whatever the kind.
#[derive(sqlx::FromRow)]
struct AccountRow {
    name: String,
    detail: String,
    disabled: i64,
    created_at: i64,
}

/// Ends an official's signing sessions (`$1`: the username), in the transaction of the change
/// that requires it.
const END_SESSIONS: &str = "DELETE FROM signing_sessions WHERE official_id IN (SELECT id FROM officials WHERE username = $1)";

/// One UPDATE of an account row by its name, with its audit entry and, if given, one more
/// statement on the same name (`$then`), in one transaction; `NotFound` if no such account.
macro_rules! update_account {
    ($store:expr, $kind:expr, $name:expr, $set:expr, $binds:expr, $then:expr, $action:expr, $actor:expr, $now:expr) => {{
        let kind: AccountKind = $kind;
        let sql = format!(
            "UPDATE {} SET {} WHERE {} = $1",
            kind.table(),
            $set,
            kind.key()
        );
        writing!($store, |p| {
            let mut tx = super::BeginWrite::begin_write(p).await?;
            let mut q = sqlx::query(&sql).bind($name);
            for b in $binds {
                q = q.bind(b);
            }
            let done = q.execute(&mut *tx).await?;
            if done.rows_affected() == 0 {
                return Err(StoreError::NotFound(kind.noun()));
            }
            let then: Option<&str> = $then;
            if let Some(sql) = then {
                sqlx::query(sql).bind($name).execute(&mut *tx).await?;
            }
            audit!(&mut *tx, $now, $actor, $action, $name);
            tx.commit().await?;
        });
        Ok::<(), StoreError>(())
    }};
}

macro_rules! audit {
    ($conn:expr, $now:expr, $actor:expr, $action:expr, $subject:expr) => {
        sqlx::query(
            "INSERT INTO audit_log (at, actor, action, subject, detail) VALUES ($1, $2, $3, $4, '{}')",
        )
        .bind($now)
        .bind($actor)
        .bind($action)
        .bind($subject)
        .execute($conn)
        .await?
    };
}

impl Store {
    /// One page of accounts of a kind, ordered by name, after `after` (exclusive) if given; at
    /// most [`ACCOUNT_PAGE`]. No secrets or hashes: name, detail, disabled, created.
    pub async fn list_accounts(
        &self,
        kind: AccountKind,
        after: Option<&str>,
    ) -> Result<Vec<AccountSummary>, StoreError> {
        let sql = format!(
            "SELECT {key} AS name, {detail} AS detail, disabled, created_at FROM {table} WHERE {key} > $1 ORDER BY {key} LIMIT {ACCOUNT_PAGE}",
            key = kind.key(),
            detail = kind.detail(),
            table = kind.table(),
        );
        let rows: Vec<AccountRow> = reading!(self, |p| sqlx::query_as(&sql)
            .bind(after.unwrap_or(""))
            .fetch_all(p)
            .await)?;
        Ok(rows
            .into_iter()
            .map(|r| AccountSummary {
                name: r.name,
                detail: r.detail,
                disabled: r.disabled != 0,
                created_at: r.created_at,
            })
            .collect())
    }

    /// Disables or enables an account. Disabling an officer or official also ends the tokens
    /// and signing sessions they hold; a disabled client is refused on its next request.
    pub async fn set_account_disabled(
        &self,
        kind: AccountKind,
        name: &str,
        disabled: bool,
        actor: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        let set = if kind.has_epoch() {
            "disabled = $2, token_epoch = token_epoch + 1"
        } else {
            "disabled = $2"
        };
        let action = format!(
            "{}.{}",
            kind.noun(),
            if disabled { "disable" } else { "enable" }
        );
        let then = (disabled && kind == AccountKind::Official).then_some(END_SESSIONS);
        update_account!(
            self,
            kind,
            name,
            set,
            [i64::from(disabled)],
            then,
            action,
            actor,
            now
        )
    }

    /// Replaces an officer's or official's password hash and ends the tokens and signing
    /// sessions issued before.
    pub async fn reset_password(
        &self,
        kind: AccountKind,
        name: &str,
        password_hash: &str,
        actor: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        if !kind.has_epoch() {
            return Err(StoreError::Invalid("clients have a secret, not a password"));
        }
        let action = format!("{}.reset_password", kind.noun());
        let then = (kind == AccountKind::Official).then_some(END_SESSIONS);
        update_account!(
            self,
            kind,
            name,
            "password_hash = $2, token_epoch = token_epoch + 1",
            [password_hash],
            then,
            action,
            actor,
            now
        )
    }

    /// Replaces a client's secret (its SHA-256); the old secret stops working at once.
    pub async fn reset_client_secret(
        &self,
        client_id: &str,
        secret_sha256: &[u8; 32],
        actor: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        update_account!(
            self,
            AccountKind::Client,
            client_id,
            "secret_sha256 = $2",
            [secret_sha256.to_vec()],
            None,
            "client.reset_secret",
            actor,
            now
        )
    }

    /// Re-enrols an official's TOTP: a new sealed secret, the replay counter reset, tokens and
    /// signing sessions ended (they were opened with codes of the old secret).
    pub async fn reset_official_totp(
        &self,
        username: &str,
        totp_sealed: &[u8],
        actor: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        update_account!(
            self,
            AccountKind::Official,
            username,
            "totp_sealed = $2, totp_last_step = 0, token_epoch = token_epoch + 1",
            [totp_sealed.to_vec()],
            Some(END_SESSIONS),
            "official.reset_totp",
            actor,
            now
        )
    }
}
