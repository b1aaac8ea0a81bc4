//! What the web apps keep: browser sessions, citizens' photos, and the citizen search by id
//! number or folded name. Its own file because these rows serve the pages, not the credential
//! lifecycle.

use super::credentials::{citizen_from_json, CitizenRow};
use super::{Backend, BeginWrite, Pools, Store};
use crate::error::StoreError;
use crate::model::{CitizenRecord, StoredPhoto, WebApp, WebSession};
use qrid_credential::{fold_name, Citizen};

/// The most citizens one search answers: a search is for finding one person, not listing.
pub const SEARCH_LIMIT: i64 = 50;

/// Rows the start-up backfill of folded names reads at a time.
const FOLD_BATCH: i64 = 1000;

#[derive(sqlx::FromRow)]
struct SessionRow {
    subject: String,
    epoch: i64,
    csrf: String,
    created_at: i64,
    last_seen: i64,
    expires_at: i64,
}

#[derive(sqlx::FromRow)]
struct PhotoRow {
    sha256: String,
    media_type: String,
    width: i64,
    height: i64,
    bytes: Vec<u8>,
}

/// Stores a citizen's photo row and its `citizen.photo` audit entry inside the caller's
/// transaction (enrolment with a photo, a new photo). A macro because the transaction type
/// differs per back end.
macro_rules! insert_photo {
    ($tx:expr, $citizen_id:expr, $photo:expr, $actor:expr, $now:expr) => {{
        let photo: &crate::model::StoredPhoto = $photo;
        let citizen_id: &str = $citizen_id;
        let res = async {
            sqlx::query(
                "INSERT INTO citizen_photos (citizen_id, sha256, media_type, width, height, bytes, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(citizen_id)
            .bind(&photo.sha256)
            .bind(&photo.media_type)
            .bind(i64::from(photo.width))
            .bind(i64::from(photo.height))
            .bind(photo.bytes.as_slice())
            .bind($now)
            .execute(&mut **$tx)
            .await?;
            let detail = serde_json::json!({"sha256": &photo.sha256}).to_string();
            sqlx::query("INSERT INTO audit_log (at, actor, action, subject, detail) VALUES ($1, $2, 'citizen.photo', $3, $4)")
                .bind($now)
                .bind($actor)
                .bind(citizen_id)
                .bind(detail)
                .execute(&mut **$tx)
                .await?;
            Ok::<(), sqlx::Error>(())
        }
        .await;
        res.map_err(StoreError::from)
    }};
}
pub(super) use insert_photo;

impl Store {
    // ----- sessions -----

    /// Stores a new session under the SHA-256 of its token, and deletes every session of any
    /// app that is over (`expires_at` or `last_seen` before `idle_before`), so that the table
    /// holds live sessions only.
    pub async fn create_web_session(
        &self,
        token_sha256: &[u8; 32],
        session: &WebSession,
        idle_before: i64,
    ) -> Result<(), StoreError> {
        writing!(self, |p| {
            let mut tx = p.begin_write().await?;
            sqlx::query("DELETE FROM web_sessions WHERE expires_at <= $1 OR last_seen < $2")
                .bind(session.created_at)
                .bind(idle_before)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "INSERT INTO web_sessions (token_sha256, app, subject, epoch, csrf, created_at, last_seen, expires_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(token_sha256.as_slice())
            .bind(session.app.as_str())
            .bind(&session.subject)
            .bind(session.epoch)
            .bind(&session.csrf)
            .bind(session.created_at)
            .bind(session.last_seen)
            .bind(session.expires_at)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(())
        })
    }

    /// The session of `app` stored under this token digest, as stored (the caller judges its
    /// timeouts).
    pub async fn web_session(
        &self,
        app: WebApp,
        token_sha256: &[u8; 32],
    ) -> Result<Option<WebSession>, StoreError> {
        let row: Option<SessionRow> = reading!(self, |p| {
            sqlx::query_as("SELECT subject, epoch, csrf, created_at, last_seen, expires_at FROM web_sessions WHERE token_sha256 = $1 AND app = $2")
                .bind(token_sha256.as_slice())
                .bind(app.as_str())
                .fetch_optional(p)
                .await
        })?;
        Ok(row.map(|r| WebSession {
            app,
            subject: r.subject,
            epoch: r.epoch,
            csrf: r.csrf,
            created_at: r.created_at,
            last_seen: r.last_seen,
            expires_at: r.expires_at,
        }))
    }

    /// Records that the session was used at `now`.
    pub async fn touch_web_session(
        &self,
        token_sha256: &[u8; 32],
        now: i64,
    ) -> Result<(), StoreError> {
        writing!(self, |p| {
            sqlx::query(
                "UPDATE web_sessions SET last_seen = $1 WHERE token_sha256 = $2 AND last_seen < $1",
            )
            .bind(now)
            .bind(token_sha256.as_slice())
            .execute(p)
            .await?;
            Ok(())
        })
    }

    /// Ends a session (sign-out, or a session found over). Ending one that is gone is no error.
    pub async fn delete_web_session(&self, token_sha256: &[u8; 32]) -> Result<(), StoreError> {
        writing!(self, |p| {
            sqlx::query("DELETE FROM web_sessions WHERE token_sha256 = $1")
                .bind(token_sha256.as_slice())
                .execute(p)
                .await?;
            Ok(())
        })
    }

    // ----- photos -----

    /// Stores a citizen's photo (replacing the one before) and sets the `photo_sha256` of their
    /// claims to its digest, with an audit entry, in one transaction. `NotFound` if there is no
    /// such citizen. Returns the citizen as now stored.
    pub async fn set_citizen_photo(
        &self,
        citizen_id: &str,
        photo: &StoredPhoto,
        photo_sha256: [u8; 32],
        actor: &str,
        now: i64,
    ) -> Result<CitizenRecord, StoreError> {
        writing!(self, |p| {
            let mut tx = p.begin_write().await?;
            let row: Option<CitizenRow> =
                sqlx::query_as("SELECT id, claims, created_at FROM citizens WHERE id = $1")
                    .bind(citizen_id)
                    .fetch_optional(&mut *tx)
                    .await?;
            let row = row.ok_or(StoreError::NotFound("citizen"))?;
            let mut citizen: Citizen = citizen_from_json(&row.claims)?;
            citizen.photo_sha256 = Some(qrid_credential::PhotoDigest(photo_sha256));
            sqlx::query("UPDATE citizens SET claims = $1 WHERE id = $2")
                .bind(super::credentials::citizen_to_json(&citizen))
                .bind(citizen_id)
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM citizen_photos WHERE citizen_id = $1")
                .bind(citizen_id)
                .execute(&mut *tx)
                .await?;
            insert_photo!(&mut tx, citizen_id, photo, actor, now)?;
            tx.commit().await?;
            Ok(CitizenRecord {
                id: row.id,
                citizen,
                created_at: row.created_at,
            })
        })
    }

    /// A citizen's stored photo, if any.
    pub async fn citizen_photo(&self, citizen_id: &str) -> Result<Option<StoredPhoto>, StoreError> {
        let row: Option<PhotoRow> = reading!(self, |p| {
            sqlx::query_as("SELECT sha256, media_type, width, height, bytes FROM citizen_photos WHERE citizen_id = $1")
                .bind(citizen_id)
                .fetch_optional(p)
                .await
        })?;
        row.map(|r| {
            Ok(StoredPhoto {
                sha256: r.sha256,
                media_type: r.media_type,
                width: u32::try_from(r.width).map_err(|_| StoreError::Corrupt("photo width"))?,
                height: u32::try_from(r.height).map_err(|_| StoreError::Corrupt("photo height"))?,
                bytes: r.bytes,
            })
        })
        .transpose()
    }

    // ----- search -----

    /// The citizen enrolled with this id number, if any.
    pub async fn citizen_by_id_number(
        &self,
        id_number: &str,
    ) -> Result<Option<CitizenRecord>, StoreError> {
        let row: Option<CitizenRow> = reading!(self, |p| {
            sqlx::query_as("SELECT id, claims, created_at FROM citizens WHERE id_number = $1")
                .bind(id_number)
                .fetch_optional(p)
                .await
        })?;
        row.map(CitizenRow::into_record).transpose()
    }

    /// Citizens whose folded full name starts with `query` folded ([`fold_name`]): at most
    /// [`SEARCH_LIMIT`], by folded name then id. An empty folded query finds nobody.
    pub async fn citizens_by_name(&self, query: &str) -> Result<Vec<CitizenRecord>, StoreError> {
        let folded = fold_name(query);
        if folded.is_empty() {
            return Ok(Vec::new());
        }
        // The folded text holds only [a-z0-9 ], so it needs no LIKE escaping. SQLite compares
        // text bytewise, so a range is an indexed prefix match there; PostgreSQL's index is
        // text_pattern_ops, which LIKE 'prefix%' uses.
        let sql = match self.backend() {
            Backend::Sqlite => {
                "SELECT id, claims, created_at FROM citizens \
                 WHERE name_folded >= $1 AND name_folded < $1 || '~' \
                 ORDER BY name_folded, id LIMIT $2"
            }
            Backend::Postgres => {
                "SELECT id, claims, created_at FROM citizens \
                 WHERE name_folded LIKE $1 || '%' ORDER BY name_folded, id LIMIT $2"
            }
        };
        let rows: Vec<CitizenRow> = reading!(self, |p| {
            sqlx::query_as(sql)
                .bind(&folded)
                .bind(SEARCH_LIMIT)
                .fetch_all(p)
                .await
        })?;
        rows.into_iter().map(CitizenRow::into_record).collect()
    }

    /// Fills in the folded name of citizens enrolled before it was kept (migration 0006), a
    /// batch at a time; returns how many rows it filled. Idempotent, and safe beside other
    /// nodes doing the same.
    pub async fn fold_missing_names(&self) -> Result<u64, StoreError> {
        let mut filled = 0;
        loop {
            let rows: Vec<(String, String)> = reading!(self, |p| {
                sqlx::query_as(
                    "SELECT id, claims FROM citizens WHERE name_folded IS NULL ORDER BY id LIMIT $1",
                )
                .bind(FOLD_BATCH)
                .fetch_all(p)
                .await
            })?;
            if rows.is_empty() {
                return Ok(filled);
            }
            writing!(self, |p| {
                let mut tx = p.begin_write().await?;
                for (id, claims) in &rows {
                    let name = citizen_from_json(claims)?.full_name;
                    sqlx::query("UPDATE citizens SET name_folded = $1 WHERE id = $2 AND name_folded IS NULL")
                        .bind(fold_name(name.as_str()))
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                Ok::<_, StoreError>(())
            })?;
            filled += rows.len() as u64;
        }
    }
}
