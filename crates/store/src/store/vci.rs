//! What credential delivery to wallets keeps (OpenID4VCI, pre-authorized code flow): offers
//! and the steps that spend them, the nonce endpoint's c_nonces, and the live QR's replay
//! guard. Every secret is stored as a digest the service computed; every step that spends
//! something is one conditional UPDATE or DELETE, so that two nodes racing for it cannot both
//! win.

use super::{BeginWrite, Pools, Store};
use crate::error::StoreError;
use crate::model::{NewOffer, OfferRecord};

#[derive(sqlx::FromRow)]
struct OfferRow {
    id: String,
    pin_sha256: String,
    citizen_id: String,
    officer: String,
    profile: String,
    valid_days: i64,
    created_at: i64,
    expires_at: i64,
    pin_failures: i64,
    redeemed_at: Option<i64>,
    token_expires_at: Option<i64>,
    requested_at: Option<i64>,
    credential_id: Option<String>,
}

impl From<OfferRow> for OfferRecord {
    fn from(r: OfferRow) -> Self {
        OfferRecord {
            id: r.id,
            pin_sha256: r.pin_sha256,
            citizen_id: r.citizen_id,
            officer: r.officer,
            profile: r.profile,
            valid_days: r.valid_days,
            created_at: r.created_at,
            expires_at: r.expires_at,
            pin_failures: r.pin_failures,
            redeemed_at: r.redeemed_at,
            token_expires_at: r.token_expires_at,
            requested_at: r.requested_at,
            credential_id: r.credential_id,
        }
    }
}

const OFFER_COLUMNS: &str =
    "id, pin_sha256, citizen_id, officer, profile, valid_days, created_at, \
     expires_at, pin_failures, redeemed_at, token_expires_at, requested_at, credential_id";

impl Store {
    /// Stores a new offer with its `offer.create` audit entry (actor: the officer).
    pub async fn insert_offer(&self, o: &NewOffer) -> Result<(), StoreError> {
        writing!(self, |p| {
            let mut tx = p.begin_write().await?;
            sqlx::query(
                "INSERT INTO credential_offers (id, code_sha256, pin_sha256, citizen_id, officer, profile, valid_days, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(&o.id)
            .bind(&o.code_sha256)
            .bind(&o.pin_sha256)
            .bind(&o.citizen_id)
            .bind(&o.officer)
            .bind(&o.profile)
            .bind(o.valid_days)
            .bind(o.created_at)
            .bind(o.expires_at)
            .execute(&mut *tx)
            .await?;
            let detail = serde_json::json!({"offer": &o.id, "profile": &o.profile}).to_string();
            sqlx::query("INSERT INTO audit_log (at, actor, action, subject, detail) VALUES ($1, $2, 'offer.create', $3, $4)")
                .bind(o.created_at)
                .bind(&o.officer)
                .bind(&o.citizen_id)
                .bind(detail)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(())
        })
    }

    /// The offer whose pre-authorized code has this digest, as stored.
    pub async fn offer_by_code(
        &self,
        code_sha256: &str,
    ) -> Result<Option<OfferRecord>, StoreError> {
        let sql = format!("SELECT {OFFER_COLUMNS} FROM credential_offers WHERE code_sha256 = $1");
        let row: Option<OfferRow> = reading!(self, |p| {
            sqlx::query_as(&sql)
                .bind(code_sha256)
                .fetch_optional(p)
                .await
        })?;
        Ok(row.map(Into::into))
    }

    /// The offer whose access token has this digest, as stored.
    pub async fn offer_by_token(
        &self,
        token_sha256: &str,
    ) -> Result<Option<OfferRecord>, StoreError> {
        let sql = format!("SELECT {OFFER_COLUMNS} FROM credential_offers WHERE token_sha256 = $1");
        let row: Option<OfferRow> = reading!(self, |p| {
            sqlx::query_as(&sql)
                .bind(token_sha256)
                .fetch_optional(p)
                .await
        })?;
        Ok(row.map(Into::into))
    }

    /// Counts a wrong PIN against an offer that is not redeemed yet; the count after it.
    pub async fn offer_pin_failed(&self, id: &str) -> Result<i64, StoreError> {
        writing!(self, |p| {
            let mut tx = p.begin_write().await?;
            sqlx::query("UPDATE credential_offers SET pin_failures = pin_failures + 1 WHERE id = $1 AND redeemed_at IS NULL")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            let (n,): (i64,) =
                sqlx::query_as("SELECT pin_failures FROM credential_offers WHERE id = $1")
                    .bind(id)
                    .fetch_one(&mut *tx)
                    .await?;
            tx.commit().await?;
            Ok(n)
        })
    }

    /// Redeems the offer's code for an access token: true if this call did, false if the code
    /// was redeemed already, expired at `now`, or spent by `max_failures` wrong PINs.
    pub async fn redeem_offer(
        &self,
        id: &str,
        token_sha256: &str,
        token_expires_at: i64,
        max_failures: i64,
        now: i64,
    ) -> Result<bool, StoreError> {
        writing!(self, |p| {
            let done = sqlx::query(
                "UPDATE credential_offers SET redeemed_at = $2, token_sha256 = $3, token_expires_at = $4 \
                 WHERE id = $1 AND redeemed_at IS NULL AND expires_at > $2 AND pin_failures < $5",
            )
            .bind(id)
            .bind(now)
            .bind(token_sha256)
            .bind(token_expires_at)
            .bind(max_failures)
            .execute(p)
            .await?
            .rows_affected();
            Ok(done == 1)
        })
    }

    /// Ends the access token of an offer whose code was presented again (RFC 6749 §4.1.2: a
    /// code used twice revokes what it gave). A credential already issued stays issued.
    pub async fn revoke_offer_token(&self, id: &str) -> Result<(), StoreError> {
        writing!(self, |p| {
            sqlx::query("UPDATE credential_offers SET token_expires_at = 0 WHERE id = $1")
                .bind(id)
                .execute(p)
                .await?;
            Ok(())
        })
    }

    /// Marks that the offer's token asked for its credential: true for the one request that
    /// may have it, false for any other (the token was used already, or ended at `now`).
    pub async fn claim_offer(&self, id: &str, now: i64) -> Result<bool, StoreError> {
        writing!(self, |p| {
            let done = sqlx::query(
                "UPDATE credential_offers SET requested_at = $2 \
                 WHERE id = $1 AND requested_at IS NULL AND token_expires_at > $2",
            )
            .bind(id)
            .bind(now)
            .execute(p)
            .await?
            .rows_affected();
            Ok(done == 1)
        })
    }

    /// Records the credential an offer delivered.
    pub async fn complete_offer(&self, id: &str, credential_id: &str) -> Result<(), StoreError> {
        writing!(self, |p| {
            sqlx::query("UPDATE credential_offers SET credential_id = $2 WHERE id = $1")
                .bind(id)
                .bind(credential_id)
                .execute(p)
                .await?;
            Ok(())
        })
    }

    /// The offers made for a citizen, newest first (at most `limit`).
    pub async fn offers_of(
        &self,
        citizen_id: &str,
        limit: i64,
    ) -> Result<Vec<OfferRecord>, StoreError> {
        let sql = format!(
            "SELECT {OFFER_COLUMNS} FROM credential_offers WHERE citizen_id = $1 ORDER BY created_at DESC, id LIMIT $2"
        );
        let rows: Vec<OfferRow> = reading!(self, |p| {
            sqlx::query_as(&sql)
                .bind(citizen_id)
                .bind(limit)
                .fetch_all(p)
                .await
        })?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    /// Stores a c_nonce's digest until `expires_at`, and deletes the nonces that ended by
    /// `now`, so that the table holds live nonces only.
    pub async fn insert_nonce(
        &self,
        nonce_sha256: &str,
        expires_at: i64,
        now: i64,
    ) -> Result<(), StoreError> {
        writing!(self, |p| {
            let mut tx = p.begin_write().await?;
            sqlx::query("DELETE FROM vci_nonces WHERE expires_at <= $1")
                .bind(now)
                .execute(&mut *tx)
                .await?;
            sqlx::query("INSERT INTO vci_nonces (nonce_sha256, expires_at) VALUES ($1, $2)")
                .bind(nonce_sha256)
                .bind(expires_at)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(())
        })
    }

    /// Uses up a c_nonce: true if it was live at `now` and this call took it.
    pub async fn take_nonce(&self, nonce_sha256: &str, now: i64) -> Result<bool, StoreError> {
        writing!(self, |p| {
            let done =
                sqlx::query("DELETE FROM vci_nonces WHERE nonce_sha256 = $1 AND expires_at > $2")
                    .bind(nonce_sha256)
                    .bind(now)
                    .execute(p)
                    .await?
                    .rows_affected();
            Ok(done == 1)
        })
    }

    /// Records a live presentation as seen until `expires_at`: true the first time, false if
    /// it was seen before (a replay). Deletes the records that ended by `now`.
    pub async fn see_presentation(
        &self,
        sha256: &str,
        expires_at: i64,
        now: i64,
    ) -> Result<bool, StoreError> {
        writing!(self, |p| {
            let mut tx = p.begin_write().await?;
            sqlx::query("DELETE FROM presentations_seen WHERE expires_at <= $1")
                .bind(now)
                .execute(&mut *tx)
                .await?;
            let done = sqlx::query(
                "INSERT INTO presentations_seen (sha256, expires_at) VALUES ($1, $2) ON CONFLICT (sha256) DO NOTHING",
            )
            .bind(sha256)
            .bind(expires_at)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            tx.commit().await?;
            Ok(done == 1)
        })
    }
}
