//! OpenID Connect login state: clients, login transactions, authorization codes, access tokens
//! and client assertions. Its own file because these rows are consumed and pruned together.

use super::{BeginWrite, Pools, Store};
use crate::error::StoreError;
use crate::model::{
    ClientRecord, LoginOpened, LoginStatus, LoginTx, NewLoginTx, PendingLoginBounds, Redemption,
};

/// Seconds after its expiry that a login transaction which produced no code is kept (so the
/// waiting page's next poll still learns "expired"), then deleted by the next opening.
pub const LOGIN_PRUNE_GRACE: i64 = 300;

/// The PostgreSQL advisory lock key that serialises openings of login transactions.
const LOGIN_OPEN_LOCK: i64 = 0x0071_7269_646c_6f67; // "qridlog"

/// A row of `login_transactions`.
#[derive(sqlx::FromRow)]
struct LoginRow {
    id: String,
    client_id: String,
    redirect_uri: String,
    scope: String,
    state: Option<String>,
    nonce: Option<String>,
    code_challenge: String,
    browser_sha256: String,
    request_sha256: String,
    status: i64,
    failures: i64,
    citizen_id: Option<String>,
    credential_id: Option<String>,
    auth_time: Option<i64>,
    created_at: i64,
    expires_at: i64,
}
const LOGIN_COLUMNS: &str = "id, client_id, redirect_uri, scope, state, nonce, code_challenge, browser_sha256, request_sha256, status, failures, citizen_id, credential_id, auth_time, created_at, expires_at";

fn login_from_row(r: LoginRow) -> Result<LoginTx, StoreError> {
    Ok(LoginTx {
        status: LoginStatus::from_code(r.status).ok_or(StoreError::Corrupt("login status"))?,
        new: NewLoginTx {
            id: r.id,
            client_id: r.client_id,
            redirect_uri: r.redirect_uri,
            scope: r.scope,
            state: r.state,
            nonce: r.nonce,
            code_challenge: r.code_challenge,
            browser_sha256: r.browser_sha256,
            request_sha256: r.request_sha256,
            created_at: r.created_at,
            expires_at: r.expires_at,
        },
        failures: r.failures,
        citizen_id: r.citizen_id,
        credential_id: r.credential_id,
        auth_time: r.auth_time,
    })
}

/// A row of `clients`, as [`Store::client`] reads it.
#[derive(sqlx::FromRow)]
struct ClientRow {
    client_id: String,
    name: String,
    secret_sha256: Vec<u8>,
    settings: String,
    disabled: i64,
}

/// A row of `auth_codes`, as [`Store::code_login`] reads it.
#[derive(sqlx::FromRow)]
struct AuthCodeRow {
    tx_id: String,
    expires_at: i64,
    redeemed_at: Option<i64>,
}

impl Store {
    // ----- clients -----

    /// Registers a client with the SHA-256 of its secret.
    pub async fn create_client(
        &self,
        client_id: &str,
        name: &str,
        secret_sha256: &[u8],
        settings: &str,
        actor: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        writing!(self, |p| {
            let mut tx = p.begin_write().await?;
            sqlx::query("INSERT INTO clients (client_id, name, secret_sha256, settings, created_at) VALUES ($1, $2, $3, $4, $5)")
                .bind(client_id)
                .bind(name)
                .bind(secret_sha256)
                .bind(settings)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            sqlx::query("INSERT INTO audit_log (at, actor, action, subject, detail) VALUES ($1, $2, 'client.create', $3, '{}')")
                .bind(now)
                .bind(actor)
                .bind(client_id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(())
        })
    }

    /// A client by id.
    pub async fn client(&self, client_id: &str) -> Result<Option<ClientRecord>, StoreError> {
        let row: Option<ClientRow> = reading!(self, |p| {
            sqlx::query_as("SELECT client_id, name, secret_sha256, settings, disabled FROM clients WHERE client_id = $1")
                .bind(client_id)
                .fetch_optional(p)
                .await
        })?;
        Ok(row.map(|r| ClientRecord {
            client_id: r.client_id,
            name: r.name,
            secret_sha256: r.secret_sha256,
            settings: r.settings,
            disabled: r.disabled != 0,
        }))
    }

    // ----- login (OpenID Connect) -----

    /// Opens a login transaction, unless that would put more than `bounds` login transactions
    /// in the pending state (waiting for the wallet, unexpired): then nothing is written and the
    /// answer says which bound was reached. The count and the insert are one transaction,
    /// serialised with every other opening (SQLite's one writer; a transaction-scoped advisory
    /// lock on PostgreSQL), so concurrent openings on any number of nodes cannot pass a bound.
    ///
    /// Also prunes: transactions that never produced a code are deleted
    /// [`LOGIN_PRUNE_GRACE`] seconds after they expire (the grace lets a waiting page still
    /// learn that its login expired); completed ones, whose codes and tokens it deletes
    /// first, a day after.
    pub async fn create_login_tx(
        &self,
        t: &NewLoginTx,
        bounds: PendingLoginBounds,
    ) -> Result<LoginOpened, StoreError> {
        let postgres = matches!(self.pools, Pools::Postgres(_));
        writing!(self, |p| {
            let now = t.created_at;
            let horizon = now - 86_400;
            let mut tx = p.begin_write().await?;
            if postgres {
                // Serialises openings across nodes: without it two transactions could each
                // count one below the bound and both insert.
                sqlx::query("SELECT pg_advisory_xact_lock($1)")
                    .bind(LOGIN_OPEN_LOCK)
                    .execute(&mut *tx)
                    .await?;
            }
            // Never completed: no code or token refers to them.
            sqlx::query("DELETE FROM login_transactions WHERE status <> 2 AND expires_at < $1")
                .bind(now - LOGIN_PRUNE_GRACE)
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM access_tokens WHERE tx_id IN (SELECT id FROM login_transactions WHERE expires_at < $1)")
                .bind(horizon)
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM auth_codes WHERE tx_id IN (SELECT id FROM login_transactions WHERE expires_at < $1)")
                .bind(horizon)
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM login_transactions WHERE expires_at < $1")
                .bind(horizon)
                .execute(&mut *tx)
                .await?;
            let (mine, all): (i64, i64) = sqlx::query_as(
                "SELECT COALESCE(SUM(CASE WHEN client_id = $1 THEN 1 ELSE 0 END), 0), COUNT(*) \
                 FROM login_transactions WHERE status = 0 AND expires_at >= $2",
            )
            .bind(&t.client_id)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
            if mine >= bounds.per_client {
                tx.commit().await?;
                return Ok(LoginOpened::ClientAtLimit);
            }
            if all >= bounds.total {
                tx.commit().await?;
                return Ok(LoginOpened::AllAtLimit);
            }
            sqlx::query("INSERT INTO login_transactions (id, client_id, redirect_uri, scope, state, nonce, code_challenge, browser_sha256, request_sha256, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)")
                .bind(&t.id)
                .bind(&t.client_id)
                .bind(&t.redirect_uri)
                .bind(&t.scope)
                .bind(&t.state)
                .bind(&t.nonce)
                .bind(&t.code_challenge)
                .bind(&t.browser_sha256)
                .bind(&t.request_sha256)
                .bind(t.created_at)
                .bind(t.expires_at)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(LoginOpened::Opened)
        })
    }

    /// A login transaction by id.
    pub async fn login_tx(&self, id: &str) -> Result<Option<LoginTx>, StoreError> {
        let row: Option<LoginRow> = reading!(self, |p| {
            sqlx::query_as(&format!(
                "SELECT {LOGIN_COLUMNS} FROM login_transactions WHERE id = $1"
            ))
            .bind(id)
            .fetch_optional(p)
            .await
        })?;
        row.map(login_from_row).transpose()
    }

    /// Marks a pending, unexpired transaction authenticated by `citizen_id` with
    /// `credential_id`, and records the login in the citizen's access record, together.
    /// `InvalidState` if the transaction was not pending or has expired: each wallet answer
    /// is accepted once.
    pub async fn authenticate_login(
        &self,
        id: &str,
        citizen_id: &str,
        credential_id: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        writing!(self, |p| {
            let mut tx = p.begin_write().await?;
            let client: Option<(String, String)> = sqlx::query_as("UPDATE login_transactions SET status = 1, citizen_id = $2, credential_id = $3, auth_time = $4 WHERE id = $1 AND status = 0 AND expires_at >= $4 RETURNING client_id, scope")
                .bind(id)
                .bind(citizen_id)
                .bind(credential_id)
                .bind(now)
                .fetch_optional(&mut *tx)
                .await?;
            let Some((client_id, scope)) = client else {
                return Err(StoreError::InvalidState("login transaction is not open"));
            };
            // The scopes the citizen approved stay on their record (the transaction itself is
            // pruned a day after it ends).
            sqlx::query("INSERT INTO verifications (credential_id, client_id, at, outcome, detail) VALUES ($1, $2, $3, 'login', $4)")
                .bind(credential_id)
                .bind(client_id)
                .bind(now)
                .bind(scope)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(())
        })
    }

    /// Counts a refused wallet answer; at `max` the transaction fails. Returns whether it has
    /// failed.
    pub async fn fail_login(&self, id: &str, max: i64) -> Result<bool, StoreError> {
        let row: Option<(i64,)> = writing!(self, |p| {
            sqlx::query_as("UPDATE login_transactions SET failures = failures + 1, status = CASE WHEN failures + 1 >= $2 AND status = 0 THEN 3 ELSE status END WHERE id = $1 RETURNING status")
                .bind(id)
                .bind(max)
                .fetch_optional(p)
                .await
        })?;
        Ok(row.is_some_and(|(s,)| s == 3))
    }

    /// Turns an authenticated transaction into an authorization code, for the browser that
    /// opened it (`browser_sha256`). `false` if the transaction is not authenticated or the
    /// browser is another one; nothing is written then.
    pub async fn complete_login(
        &self,
        id: &str,
        browser_sha256: &str,
        code_sha256: &str,
        code_expires_at: i64,
    ) -> Result<bool, StoreError> {
        writing!(self, |p| {
            let mut tx = p.begin_write().await?;
            let done = sqlx::query("UPDATE login_transactions SET status = 2 WHERE id = $1 AND status = 1 AND browser_sha256 = $2")
                .bind(id)
                .bind(browser_sha256)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if done != 1 {
                return Ok(false);
            }
            sqlx::query(
                "INSERT INTO auth_codes (code_sha256, tx_id, expires_at) VALUES ($1, $2, $3)",
            )
            .bind(code_sha256)
            .bind(id)
            .bind(code_expires_at)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(true)
        })
    }

    /// The login behind an unredeemed, unexpired code, without redeeming it (so the caller can
    /// check client, redirect URI and PKCE first). A code used before counts as a replay: its
    /// tokens are revoked here.
    pub async fn code_login(&self, code_sha256: &str, now: i64) -> Result<Redemption, StoreError> {
        let row: Option<AuthCodeRow> = reading!(self, |p| {
            sqlx::query_as(
                "SELECT tx_id, expires_at, redeemed_at FROM auth_codes WHERE code_sha256 = $1",
            )
            .bind(code_sha256)
            .fetch_optional(p)
            .await
        })?;
        match row {
            None => Ok(Redemption::Unknown),
            Some(AuthCodeRow {
                redeemed_at: Some(_),
                ..
            }) => {
                self.revoke_tokens_of(code_sha256).await?;
                Ok(Redemption::Replayed)
            }
            Some(AuthCodeRow {
                expires_at,
                redeemed_at: None,
                ..
            }) if expires_at < now => Ok(Redemption::Unknown),
            Some(AuthCodeRow {
                tx_id,
                redeemed_at: None,
                ..
            }) => match self.login_tx(&tx_id).await? {
                Some(t) => Ok(Redemption::Redeemed(Box::new(t))),
                None => Err(StoreError::Corrupt("authorization code")),
            },
        }
    }

    /// Redeems a code and stores the access token issued for it, together. `Replayed` if
    /// another redemption won the race (its tokens are revoked), `Unknown` if expired or if the
    /// credential the citizen logged in with is no longer valid (revoked or suspended).
    pub async fn redeem_code(
        &self,
        code_sha256: &str,
        token_sha256: &str,
        token_expires_at: i64,
        now: i64,
    ) -> Result<Redemption, StoreError> {
        let won: Option<String> = writing!(self, |p| {
            async {
            let mut tx = p.begin_write().await?;
            // A code answered just before a revocation of the login's credential yields nothing.
            let row: Option<(String,)> = sqlx::query_as(
                "UPDATE auth_codes SET redeemed_at = $2 \
                 WHERE code_sha256 = $1 AND redeemed_at IS NULL AND expires_at >= $2 \
                 AND EXISTS (SELECT 1 FROM login_transactions l JOIN credentials c ON c.id = l.credential_id \
                             WHERE l.id = auth_codes.tx_id AND c.status = 0) \
                 RETURNING tx_id",
            )
                .bind(code_sha256)
                .bind(now)
                .fetch_optional(&mut *tx)
                .await?;
            let Some((tx_id,)) = row else {
                return Ok::<_, StoreError>(None);
            };
            sqlx::query("INSERT INTO access_tokens (token_sha256, code_sha256, tx_id, expires_at) VALUES ($1, $2, $3, $4)")
                .bind(token_sha256)
                .bind(code_sha256)
                .bind(&tx_id)
                .bind(token_expires_at)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(Some(tx_id))
            }
            .await
        })?;
        match won {
            Some(tx_id) => match self.login_tx(&tx_id).await? {
                Some(t) => Ok(Redemption::Redeemed(Box::new(t))),
                None => Err(StoreError::Corrupt("authorization code")),
            },
            None => self.code_login(code_sha256, now).await.map(|r| match r {
                Redemption::Redeemed(_) => Redemption::Unknown,
                other => other,
            }),
        }
    }

    async fn revoke_tokens_of(&self, code_sha256: &str) -> Result<(), StoreError> {
        writing!(self, |p| {
            sqlx::query("UPDATE access_tokens SET revoked = 1 WHERE code_sha256 = $1")
                .bind(code_sha256)
                .execute(p)
                .await
                .map(|_| ())
        })?;
        Ok(())
    }

    /// The login behind a live access token: unexpired, unrevoked, and issued for a login whose
    /// credential is still valid.
    pub async fn token_login(
        &self,
        token_sha256: &str,
        now: i64,
    ) -> Result<Option<LoginTx>, StoreError> {
        let row: Option<(String,)> = reading!(self, |p| {
            // Only while the credential the citizen logged in with is valid: a revocation or
            // suspension ends the sessions it opened.
            sqlx::query_as(
                "SELECT a.tx_id FROM access_tokens a \
                 JOIN login_transactions l ON l.id = a.tx_id \
                 JOIN credentials c ON c.id = l.credential_id \
                 WHERE a.token_sha256 = $1 AND a.revoked = 0 AND a.expires_at >= $2 AND c.status = 0",
            )
                .bind(token_sha256)
                .bind(now)
                .fetch_optional(p)
                .await
        })?;
        match row {
            Some((tx_id,)) => self.login_tx(&tx_id).await,
            None => Ok(None),
        }
    }

    /// Records a client assertion's `jti`; `false` if it was seen before (a replay). The `jti`
    /// is refused through `expires_at` (the last second the caller would accept the assertion)
    /// and forgotten after it.
    pub async fn use_client_assertion(
        &self,
        client_id: &str,
        jti: &str,
        expires_at: i64,
        now: i64,
    ) -> Result<bool, StoreError> {
        writing!(self, |p| {
            let mut tx = p.begin_write().await?;
            sqlx::query("DELETE FROM client_assertions WHERE expires_at < $1")
                .bind(now)
                .execute(&mut *tx)
                .await?;
            let r = sqlx::query(
                "INSERT INTO client_assertions (client_id, jti, expires_at) VALUES ($1, $2, $3)",
            )
            .bind(client_id)
            .bind(jti)
            .bind(expires_at)
            .execute(&mut *tx)
            .await;
            match r.map_err(StoreError::from) {
                Ok(_) => {
                    tx.commit().await?;
                    Ok(true)
                }
                Err(StoreError::Conflict(_)) => Ok(false),
                Err(e) => Err(e),
            }
        })
    }
}
