//! Status lists: allocating slots, which identity and signer credentials share, and reading a
//! list. Its own file because this one allocator is what keeps an index from being reused.

use super::{Backend, BeginWrite, Pools, Store};
use crate::error::StoreError;
use crate::model::{CredentialStatus, StatusSlot};

/// The newest row of `status_lists`, as `allocate!` reads it.
#[derive(sqlx::FromRow)]
pub(super) struct StatusListRow {
    pub(super) id: i64,
    pub(super) size: i64,
    pub(super) next_index: i64,
}

impl Store {
    /// Spends `count` status-list slots in a transaction of their own and returns them.
    ///
    /// Unlike [`Store::enrol_and_issue`], the slots are committed before any credential uses
    /// them, so that signing can proceed while the previous batch is written. A crash between
    /// this and [`Store::insert_issued`] leaves the slots unused: never handed out again, and
    /// referenced by no credential, which costs a few bits of a status list and nothing else.
    pub async fn reserve_slots(
        &self,
        count: usize,
        list_size: u32,
        now: i64,
    ) -> Result<Vec<StatusSlot>, StoreError> {
        let backend = self.backend();
        writing!(self, |p| {
            let mut tx = p.begin_write().await?;
            let slots = allocate!(backend, &mut tx, count, list_size, now)?;
            tx.commit().await?;
            Ok(slots)
        })
    }

    /// The numbers of every status list, in order (at most `limit`).
    pub async fn status_list_numbers(&self, limit: i64) -> Result<Vec<i64>, StoreError> {
        let rows: Vec<(i64,)> = reading!(self, |p| sqlx::query_as(
            "SELECT id FROM status_lists ORDER BY id LIMIT $1"
        )
        .bind(limit)
        .fetch_all(p)
        .await)?;
        Ok(rows.into_iter().map(|(n,)| n).collect())
    }

    /// A status list's size and every entry that is not valid, identity and signer credentials
    /// alike (they share the lists); `None` if the list does not exist.
    pub async fn status_list(
        &self,
        list: i64,
    ) -> Result<Option<(u32, Vec<(u32, CredentialStatus)>)>, StoreError> {
        let size: Option<(i64,)> = reading!(self, |p| sqlx::query_as(
            "SELECT size FROM status_lists WHERE id = $1"
        )
        .bind(list)
        .fetch_optional(p)
        .await)?;
        let Some((size,)) = size else { return Ok(None) };
        let rows: Vec<(i64, i64)> = reading!(self, |p| {
            sqlx::query_as(
                "SELECT status_index, status FROM credentials WHERE status_list = $1 AND status <> 0 \
                 UNION ALL \
                 SELECT status_index, status FROM signer_credentials WHERE status_list = $1 AND status <> 0",
            )
                .bind(list)
                .fetch_all(p)
                .await
        })?;
        let entries = rows
            .into_iter()
            .map(|(i, s)| {
                Ok((
                    u32::try_from(i).map_err(|_| StoreError::Corrupt("status index"))?,
                    CredentialStatus::from_code(s)
                        .ok_or(StoreError::Corrupt("credential status"))?,
                ))
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(Some((
            u32::try_from(size).map_err(|_| StoreError::Corrupt("status list size"))?,
            entries,
        )))
    }
}

/// Allocates `count` status slots inside the caller's transaction, opening new lists of
/// `list_size` entries when the newest one is full. A macro because the transaction type
/// differs per back end.
macro_rules! allocate {
    ($backend:expr, $tx:expr, $count:expr, $list_size:expr, $now:expr) => {{
        let mut slots: Vec<StatusSlot> = Vec::with_capacity($count);
        let mut remaining: i64 = $count as i64;
        let lock = if $backend == Backend::Postgres { " FOR UPDATE" } else { "" };
        let select = format!("SELECT id, size, next_index FROM status_lists ORDER BY id DESC LIMIT 1{lock}");
        let mut failure: Option<StoreError> = None;
        while remaining > 0 {
            let newest: Option<$crate::store::status_lists::StatusListRow> = match sqlx::query_as(&select).fetch_optional(&mut **$tx).await {
                Ok(r) => r,
                Err(e) => {
                    failure = Some(e.into());
                    break;
                }
            };
            let (list, size, next) = match newest {
                Some(r) if r.next_index < r.size => (r.id, r.size, r.next_index),
                other => {
                    let id = other.map_or(1, |r| r.id + 1);
                    let size = i64::from($list_size);
                    if let Err(e) = sqlx::query("INSERT INTO status_lists (id, size, next_index, created_at) VALUES ($1, $2, 0, $3)")
                        .bind(id)
                        .bind(size)
                        .bind($now)
                        .execute(&mut **$tx)
                        .await
                    {
                        failure = Some(e.into());
                        break;
                    }
                    (id, size, 0)
                }
            };
            let take = remaining.min(size - next);
            match sqlx::query("UPDATE status_lists SET next_index = next_index + $1 WHERE id = $2 AND next_index = $3")
                .bind(take)
                .bind(list)
                .bind(next)
                .execute(&mut **$tx)
                .await
            {
                Ok(r) if r.rows_affected() == 1 => {}
                Ok(_) => {
                    failure = Some(StoreError::Conflict("status list allocation"));
                    break;
                }
                Err(e) => {
                    failure = Some(e.into());
                    break;
                }
            }
            for i in next..next + take {
                match u32::try_from(i) {
                    Ok(index) => slots.push(StatusSlot { list, index }),
                    Err(_) => failure = Some(StoreError::InvalidState("status index beyond 32 bits")),
                }
            }
            remaining -= take;
        }
        match failure {
            Some(e) => Err::<Vec<StatusSlot>, StoreError>(e),
            None => Ok(slots),
        }
    }};
}
pub(super) use allocate;
