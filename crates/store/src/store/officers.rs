//! Officers: the staff accounts that enrol citizens and manage credentials. Its own file because
//! officers are an aggregate of their own; their administration is in `accounts`.

use super::{random_id, BeginWrite, Pools, Store};
use crate::error::StoreError;
use crate::model::{OfficerRecord, Role};

/// A row of `officers`, as [`Store::officer`] reads it.
#[derive(sqlx::FromRow)]
struct OfficerRow {
    id: String,
    username: String,
    password_hash: String,
    role: String,
    disabled: i64,
    token_epoch: i64,
}

impl Store {
    /// Creates an officer; `Conflict` if the username exists.
    pub async fn create_officer(
        &self,
        username: &str,
        password_hash: &str,
        role: Role,
        actor: &str,
        now: i64,
    ) -> Result<OfficerRecord, StoreError> {
        let id = random_id();
        writing!(self, |p| {
            let mut tx = p.begin_write().await?;
            sqlx::query("INSERT INTO officers (id, username, password_hash, role, created_at) VALUES ($1, $2, $3, $4, $5)")
                .bind(&id)
                .bind(username)
                .bind(password_hash)
                .bind(role.as_str())
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(|e| match StoreError::from(e) {
                    StoreError::Conflict(_) => StoreError::Conflict("officer with this username"),
                    other => other,
                })?;
            let detail = serde_json::json!({"role": role}).to_string();
            sqlx::query("INSERT INTO audit_log (at, actor, action, subject, detail) VALUES ($1, $2, 'officer.create', $3, $4)")
                .bind(now)
                .bind(actor)
                .bind(username)
                .bind(detail)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok::<_, StoreError>(())
        })?;
        Ok(OfficerRecord {
            id,
            username: username.to_owned(),
            password_hash: password_hash.to_owned(),
            role,
            disabled: false,
            token_epoch: 0,
        })
    }

    /// An officer by username.
    pub async fn officer(&self, username: &str) -> Result<Option<OfficerRecord>, StoreError> {
        let row: Option<OfficerRow> = reading!(self, |p| {
            sqlx::query_as("SELECT id, username, password_hash, role, disabled, token_epoch FROM officers WHERE username = $1")
                .bind(username)
                .fetch_optional(p)
                .await
        })?;
        row.map(|r| {
            Ok(OfficerRecord {
                role: r
                    .role
                    .parse()
                    .map_err(|_| StoreError::Corrupt("officer role"))?,
                id: r.id,
                username: r.username,
                password_hash: r.password_hash,
                disabled: r.disabled != 0,
                token_epoch: r.token_epoch,
            })
        })
        .transpose()
    }
}
