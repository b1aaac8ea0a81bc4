//! The append-only records: verifications (each citizen's access record) and the audit log. Its
//! own file because both are only ever appended to and read back by subject.

use super::{BeginWrite, Pools, Store, BULK_ROWS};
use crate::error::StoreError;
use crate::model::{AuditEntry, Verification};

/// A row of `verifications`, as [`Store::verifications_of`] reads it.
#[derive(sqlx::FromRow)]
struct VerificationRow {
    credential_id: Option<String>,
    client_id: String,
    at: i64,
    outcome: String,
}

/// A row of `audit_log`, as [`Store::audit_of`] reads it.
#[derive(sqlx::FromRow)]
struct AuditRow {
    at: i64,
    actor: String,
    action: String,
    subject: Option<String>,
    detail: String,
}

impl Store {
    /// Appends verifications in one transaction (the service batches them).
    pub async fn record_verifications(&self, items: &[Verification]) -> Result<(), StoreError> {
        if items.is_empty() {
            return Ok(());
        }
        writing!(self, |p| {
            let mut tx = p.begin_write().await?;
            for chunk in items.chunks(BULK_ROWS) {
                let mut q = sqlx::QueryBuilder::new(
                    "INSERT INTO verifications (credential_id, client_id, at, outcome) ",
                );
                q.push_values(chunk, |mut b, v| {
                    b.push_bind(v.credential_id.as_deref())
                        .push_bind(v.client_id.as_str())
                        .push_bind(v.at)
                        .push_bind(v.outcome.as_str());
                });
                q.build().execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(())
        })
    }

    /// Who checked a credential, newest first.
    pub async fn verifications_of(
        &self,
        credential_id: &str,
    ) -> Result<Vec<Verification>, StoreError> {
        let rows: Vec<VerificationRow> = reading!(self, |p| {
            sqlx::query_as("SELECT credential_id, client_id, at, outcome FROM verifications WHERE credential_id = $1 ORDER BY at DESC, id DESC")
                .bind(credential_id)
                .fetch_all(p)
                .await
        })?;
        Ok(rows
            .into_iter()
            .map(|r| Verification {
                credential_id: r.credential_id,
                client_id: r.client_id,
                at: r.at,
                outcome: r.outcome,
            })
            .collect())
    }

    /// Appends an audit entry.
    pub async fn audit(&self, e: &AuditEntry) -> Result<(), StoreError> {
        writing!(self, |p| {
            sqlx::query("INSERT INTO audit_log (at, actor, action, subject, detail) VALUES ($1, $2, $3, $4, $5)")
                .bind(e.at)
                .bind(&e.actor)
                .bind(&e.action)
                .bind(&e.subject)
                .bind(&e.detail)
                .execute(p)
                .await
                .map(|_| ())
        })?;
        Ok(())
    }

    /// Audit entries about a subject, oldest first.
    pub async fn audit_of(&self, subject: &str) -> Result<Vec<AuditEntry>, StoreError> {
        let rows: Vec<AuditRow> = reading!(self, |p| {
            sqlx::query_as("SELECT at, actor, action, subject, detail FROM audit_log WHERE subject = $1 ORDER BY id")
                .bind(subject)
                .fetch_all(p)
                .await
        })?;
        Ok(rows
            .into_iter()
            .map(|r| AuditEntry {
                at: r.at,
                actor: r.actor,
                action: r.action,
                subject: r.subject,
                detail: r.detail,
            })
            .collect())
    }

    /// Tries to change an audit entry; the database must refuse. Exposed for the test suite
    /// that proves append-only holds on both back ends; only with the `testing` feature, which
    /// production builds never enable.
    #[cfg(feature = "testing")]
    #[doc(hidden)]
    pub async fn try_tamper_audit(&self) -> Result<(), StoreError> {
        writing!(self, |p| sqlx::query("UPDATE audit_log SET actor = 'x'")
            .execute(p)
            .await
            .map(|_| ()))?;
        Ok(())
    }
}
