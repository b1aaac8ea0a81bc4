//! Issuer keys: rotation and the set of keys published. Its own file because the keys are an
//! aggregate of their own, changed only by operators.

use super::{BeginWrite, Pools, Store};
use crate::error::StoreError;
use crate::model::{IssuerKeyRecord, KeyState};

/// A row of `issuer_keys`.
#[derive(sqlx::FromRow)]
struct IssuerKeyRow {
    kid: String,
    jwk: String,
    state: String,
    created_at: i64,
}

impl Store {
    /// Records a new current key; the old current one becomes previous (still published).
    ///
    /// With `replaces`, the change applies only if that kid is the current key when the
    /// transaction runs: of two rotations racing from the same key, one wins and the other gets
    /// `InvalidState` and writes nothing. `None` (first start) replaces whatever is current.
    pub async fn rotate_key(
        &self,
        kid: &str,
        jwk: &str,
        replaces: Option<&str>,
        actor: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        writing!(self, |p| {
            let mut tx = p.begin_write().await?;
            let demoted = sqlx::query(
                "UPDATE issuer_keys SET state = 'previous' WHERE state = 'current' AND ($1 IS NULL OR kid = $1)",
            )
            .bind(replaces)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if replaces.is_some() && demoted != 1 {
                return Err(StoreError::InvalidState(
                    "the key to replace is no longer the current key (another rotation won)",
                ));
            }
            sqlx::query("INSERT INTO issuer_keys (kid, jwk, state, created_at) VALUES ($1, $2, 'current', $3)")
                .bind(kid)
                .bind(jwk)
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(|e| match StoreError::from(e) {
                    StoreError::Conflict(_) => StoreError::Conflict("issuer key"),
                    other => other,
                })?;
            sqlx::query("INSERT INTO audit_log (at, actor, action, subject, detail) VALUES ($1, $2, 'key.rotate', $3, '{}')")
                .bind(now)
                .bind(actor)
                .bind(kid)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(())
        })
    }

    /// Every key not retired, current first.
    pub async fn issuer_keys(&self) -> Result<Vec<IssuerKeyRecord>, StoreError> {
        let rows: Vec<IssuerKeyRow> = reading!(self, |p| {
            sqlx::query_as(
                "SELECT kid, jwk, state, created_at FROM issuer_keys WHERE state <> 'retired' \
                 ORDER BY CASE state WHEN 'current' THEN 0 ELSE 1 END, created_at DESC",
            )
            .fetch_all(p)
            .await
        })?;
        rows.into_iter()
            .map(|r| {
                Ok(IssuerKeyRecord {
                    state: KeyState::parse(&r.state).ok_or(StoreError::Corrupt("key state"))?,
                    kid: r.kid,
                    jwk: r.jwk,
                    created_at: r.created_at,
                })
            })
            .collect()
    }
}
