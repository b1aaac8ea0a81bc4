//! What the citizen's own page reads: their access record across all their credentials (with
//! the names of the portals and counters), and the built-in client the page signs citizens in
//! with.

use super::{Pools, Store};
use crate::error::StoreError;
use crate::model::RecordEntry;

#[derive(sqlx::FromRow)]
struct RecordRow {
    credential_id: Option<String>,
    client_id: String,
    client_name: Option<String>,
    at: i64,
    outcome: String,
    detail: Option<String>,
}

impl Store {
    /// Every check, login and face fetch of any of the citizen's credentials, newest first,
    /// at most `limit`.
    pub async fn record_of_citizen(
        &self,
        citizen_id: &str,
        limit: i64,
    ) -> Result<Vec<RecordEntry>, StoreError> {
        let rows: Vec<RecordRow> = reading!(self, |p| {
            sqlx::query_as(
                "SELECT v.credential_id, v.client_id, c.name AS client_name, v.at, v.outcome, v.detail \
                 FROM verifications v JOIN credentials k ON k.id = v.credential_id \
                 LEFT JOIN clients c ON c.client_id = v.client_id \
                 WHERE k.citizen_id = $1 ORDER BY v.at DESC, v.id DESC LIMIT $2",
            )
            .bind(citizen_id)
            .bind(limit)
            .fetch_all(p)
            .await
        })?;
        Ok(rows
            .into_iter()
            .map(|r| RecordEntry {
                credential_id: r.credential_id,
                client_id: r.client_id,
                client_name: r.client_name,
                at: r.at,
                outcome: r.outcome,
                detail: r.detail,
            })
            .collect())
    }

    /// Creates the service's own client `client_id` (the citizen's page), or brings its name
    /// and settings up to date (the public URL in its redirect URI may have changed). Its
    /// secret is random and kept by nobody: the page redeems its codes inside the service.
    pub async fn upsert_builtin_client(
        &self,
        client_id: &str,
        name: &str,
        settings: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        let mut secret = [0u8; 32];
        rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut secret);
        writing!(self, |p| {
            sqlx::query(
                "INSERT INTO clients (client_id, name, secret_sha256, settings, created_at) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (client_id) DO UPDATE SET name = excluded.name, settings = excluded.settings, disabled = 0",
            )
            .bind(client_id)
            .bind(name)
            .bind(secret.as_slice())
            .bind(settings)
            .bind(now)
            .execute(p)
            .await?;
            Ok(())
        })
    }
}
