//! Citizens and their identity credentials: enrolment, issuance (one at a time and in bulk),
//! lookups and status changes. Its own file because a citizen and its credentials change together.

use super::status_lists::allocate;
use super::{random_id, Backend, BeginWrite, Pools, Store, BULK_ROWS};
use crate::error::StoreError;
use crate::model::{
    BatchOutcome, Census, CitizenRecord, CredentialKind, CredentialRecord, CredentialStatus,
    IssuedRow, NewCitizen, NewCredential, StatusChange, StatusSlot,
};
use qrid_credential::{fold_name, Citizen, CitizenInput};

pub(super) fn citizen_from_json(json: &str) -> Result<Citizen, StoreError> {
    CitizenInput::from_json(json)
        .and_then(|i| i.to_citizen())
        .map_err(|_| StoreError::Corrupt("citizen claims"))
}

pub(super) fn citizen_to_json(c: &Citizen) -> String {
    serde_json::to_string(c).unwrap_or_default()
}

/// A row of `credentials` or `signer_credentials`: the same columns but the holder's, which
/// both column lists select as `holder_id` (a citizen's id or an official's).
#[derive(sqlx::FromRow)]
pub(super) struct CredentialRow {
    pub(super) id: String,
    pub(super) holder_id: String,
    pub(super) kid: String,
    pub(super) status_list: i64,
    pub(super) status_index: i64,
    pub(super) status: i64,
    pub(super) status_reason: Option<String>,
    pub(super) status_changed_at: Option<i64>,
    pub(super) payload: String,
    pub(super) issued_at: i64,
    pub(super) expires_at: i64,
}
const CREDENTIAL_COLUMNS: &str =
    "id, citizen_id AS holder_id, kid, status_list, status_index, status, status_reason, status_changed_at, payload, issued_at, expires_at";

fn credential_from_row(r: CredentialRow) -> Result<CredentialRecord, StoreError> {
    Ok(CredentialRecord {
        id: r.id,
        citizen_id: r.holder_id,
        kid: r.kid,
        status_list: r.status_list,
        status_index: r.status_index,
        status: CredentialStatus::from_code(r.status)
            .ok_or(StoreError::Corrupt("credential status"))?,
        status_reason: r.status_reason,
        status_changed_at: r.status_changed_at,
        payload: r.payload,
        issued_at: r.issued_at,
        expires_at: r.expires_at,
    })
}

/// A row of `citizens`.
#[derive(sqlx::FromRow)]
pub(super) struct CitizenRow {
    pub(super) id: String,
    pub(super) claims: String,
    pub(super) created_at: i64,
}

impl CitizenRow {
    /// The record, its claims validated again as they are read.
    pub(super) fn into_record(self) -> Result<CitizenRecord, StoreError> {
        Ok(CitizenRecord {
            id: self.id,
            citizen: citizen_from_json(&self.claims)?,
            created_at: self.created_at,
        })
    }
}

/// The counts of [`Store::census`].
#[derive(sqlx::FromRow)]
struct CensusRow {
    citizens: i64,
    credentials: i64,
    citizens_without_credential: i64,
    citizens_with_several: i64,
}

/// What [`Store::set_status`] reads of a credential of either kind before changing it; the
/// holder (`citizen_id` or `official_id`) is selected as `holder_id`.
#[derive(sqlx::FromRow)]
struct StatusRow {
    holder_id: String,
    status_list: i64,
    status_index: i64,
    status: i64,
}

impl Store {
    // ----- citizens -----

    /// Enrols a citizen; [`StoreError::AlreadyEnrolled`] with the existing citizen's id if the
    /// id number is already enrolled.
    pub async fn insert_citizen(
        &self,
        c: &NewCitizen,
        actor: &str,
        now: i64,
    ) -> Result<CitizenRecord, StoreError> {
        self.insert_citizen_with_photo(c, None, actor, now).await
    }

    /// [`Store::insert_citizen`] and, in the same transaction, the citizen's photo (whose
    /// digest the caller has put in the claims): both are stored, or neither.
    pub async fn insert_citizen_with_photo(
        &self,
        c: &NewCitizen,
        photo: Option<&crate::model::StoredPhoto>,
        actor: &str,
        now: i64,
    ) -> Result<CitizenRecord, StoreError> {
        let id = random_id();
        let json = citizen_to_json(&c.citizen);
        writing!(self, |p| {
            let mut tx = p.begin_write().await?;
            let inserted = sqlx::query(
                "INSERT INTO citizens (id, id_number, claims, created_at, name_folded) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(&id)
            .bind(c.citizen.id_number.as_str())
            .bind(&json)
            .bind(now)
            .bind(fold_name(c.citizen.full_name.as_str()))
            .execute(&mut *tx)
            .await
            .map_err(StoreError::from);
            if let Err(StoreError::Conflict(_)) = inserted {
                // The failed statement ends the transaction on PostgreSQL: look up the existing
                // citizen outside it.
                tx.rollback().await?;
                let existing: Option<(String,)> =
                    sqlx::query_as("SELECT id FROM citizens WHERE id_number = $1")
                        .bind(c.citizen.id_number.as_str())
                        .fetch_optional(p)
                        .await?;
                return Err(match existing {
                    Some((id,)) => StoreError::AlreadyEnrolled(id),
                    None => StoreError::Conflict("citizen with this id number"),
                });
            }
            inserted?;
            sqlx::query("INSERT INTO audit_log (at, actor, action, subject, detail) VALUES ($1, $2, 'citizen.enrol', $3, '{}')")
                .bind(now)
                .bind(actor)
                .bind(&id)
                .execute(&mut *tx)
                .await?;
            if let Some(photo) = photo {
                super::office::insert_photo!(&mut tx, &id, photo, actor, now)?;
            }
            tx.commit().await?;
            Ok::<_, StoreError>(())
        })?;
        Ok(CitizenRecord {
            id,
            citizen: c.citizen.clone(),
            created_at: now,
        })
    }

    /// A citizen by opaque id.
    pub async fn get_citizen(&self, id: &str) -> Result<Option<CitizenRecord>, StoreError> {
        let row: Option<CitizenRow> = reading!(self, |p| {
            sqlx::query_as("SELECT id, claims, created_at FROM citizens WHERE id = $1")
                .bind(id)
                .fetch_optional(p)
                .await
        })?;
        row.map(CitizenRow::into_record).transpose()
    }

    // ----- credentials -----

    /// Issues a credential to an enrolled citizen: allocates a status slot, calls `sign` with it,
    /// stores the result and an audit entry, all in one transaction. If `sign` fails nothing is
    /// written and the slot is not consumed.
    pub async fn issue_credential<F>(
        &self,
        citizen_id: &str,
        list_size: u32,
        actor: &str,
        now: i64,
        sign: F,
    ) -> Result<CredentialRecord, StoreError>
    where
        F: FnOnce(StatusSlot) -> Result<NewCredential, String>,
    {
        self.issue_credential_replacing(citizen_id, list_size, actor, now, None, sign)
            .await
            .map(|(record, _)| record)
    }

    /// [`Store::issue_credential`], and with `replaces`, the same transaction revokes that credential with the reason
    /// `replaced by <new id>` (status history and audit entry included): it must be the same
    /// citizen's and valid or suspended, else `InvalidState` (or `NotFound`) and nothing is
    /// written. The [`StatusChange`] returned beside the new credential is the old one's.
    pub async fn issue_credential_replacing<F>(
        &self,
        citizen_id: &str,
        list_size: u32,
        actor: &str,
        now: i64,
        replaces: Option<&str>,
        sign: F,
    ) -> Result<(CredentialRecord, Option<StatusChange>), StoreError>
    where
        F: FnOnce(StatusSlot) -> Result<NewCredential, String>,
    {
        let backend = self.backend();
        writing!(self, |p| {
            let mut tx = p.begin_write().await?;
            let exists: Option<(String,)> = sqlx::query_as("SELECT id FROM citizens WHERE id = $1")
                .bind(citizen_id)
                .fetch_optional(&mut *tx)
                .await?;
            if exists.is_none() {
                return Err(StoreError::NotFound("citizen"));
            }
            let slot = allocate!(backend, &mut tx, 1, list_size, now)?
                .into_iter()
                .next()
                .ok_or(StoreError::InvalidState("no status slot allocated"))?;
            let cred = sign(slot).map_err(StoreError::Rejected)?;
            insert_credential!(&mut tx, &cred, citizen_id, slot, actor, now)?;
            let replaced = match replaces {
                None => None,
                Some(old) => {
                    let row: Option<StatusRow> = sqlx::query_as(
                        "SELECT citizen_id AS holder_id, status_list, status_index, status FROM credentials WHERE id = $1",
                    )
                    .bind(old)
                    .fetch_optional(&mut *tx)
                    .await?;
                    let row = row
                        .filter(|r| r.holder_id == citizen_id)
                        .ok_or(StoreError::NotFound("credential to replace"))?;
                    let from = CredentialStatus::from_code(row.status)
                        .ok_or(StoreError::Corrupt("credential status"))?;
                    if from == CredentialStatus::Revoked {
                        return Err(StoreError::InvalidState(
                            "the credential to replace is revoked already",
                        ));
                    }
                    let reason = format!("replaced by {}", cred.id);
                    let changed = sqlx::query(
                        "UPDATE credentials SET status = 1, status_reason = $1, status_changed_at = $2 WHERE id = $3 AND status = $4",
                    )
                    .bind(&reason)
                    .bind(now)
                    .bind(old)
                    .bind(row.status)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                    if changed != 1 {
                        return Err(StoreError::InvalidState(
                            "credential status changed concurrently",
                        ));
                    }
                    sqlx::query(
                        "INSERT INTO status_history (credential_id, at, status) VALUES ($1, $2, 1)",
                    )
                    .bind(old)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                    let detail = serde_json::json!({"reason": &reason, "from": from,
                        "to": CredentialStatus::Revoked, "kind": CredentialKind::Identity})
                    .to_string();
                    sqlx::query("INSERT INTO audit_log (at, actor, action, subject, detail) VALUES ($1, $2, 'credential.revoke', $3, $4)")
                        .bind(now)
                        .bind(actor)
                        .bind(old)
                        .bind(detail)
                        .execute(&mut *tx)
                        .await?;
                    Some(StatusChange {
                        id: old.to_owned(),
                        kind: CredentialKind::Identity,
                        holder_id: row.holder_id,
                        status_list: row.status_list,
                        status_index: row.status_index,
                        previous: from,
                        status: CredentialStatus::Revoked,
                        status_reason: Some(reason),
                        status_changed_at: now,
                    })
                }
            };
            tx.commit().await?;
            Ok((
                CredentialRecord {
                    id: cred.id,
                    citizen_id: citizen_id.to_owned(),
                    kid: cred.kid,
                    status_list: slot.list,
                    status_index: i64::from(slot.index),
                    status: CredentialStatus::Valid,
                    status_reason: None,
                    status_changed_at: None,
                    payload: cred.payload,
                    issued_at: cred.issued_at,
                    expires_at: cred.expires_at,
                },
                replaced,
            ))
        })
    }

    /// Enrols citizens and issues each one credential, in one transaction: citizens whose id
    /// number is already enrolled are skipped (so a re-run after a crash issues only the rest),
    /// the others get slots, `sign` signs them all (it may use every core), and everything is
    /// stored together or not at all.
    pub async fn enrol_and_issue<F>(
        &self,
        citizens: Vec<NewCitizen>,
        list_size: u32,
        actor: &str,
        now: i64,
        sign: F,
    ) -> Result<BatchOutcome, StoreError>
    where
        F: FnOnce(&[(NewCitizen, StatusSlot)]) -> Result<Vec<NewCredential>, String>,
    {
        let backend = self.backend();
        let total = citizens.len();
        writing!(self, |p| {
            let mut tx = p.begin_write().await?;
            let fresh = not_enrolled!(&mut *tx, citizens)?;
            let slots = allocate!(backend, &mut tx, fresh.len(), list_size, now)?;
            let work: Vec<(NewCitizen, StatusSlot)> = fresh.into_iter().zip(slots).collect();
            let creds = sign(&work).map_err(StoreError::Rejected)?;
            if creds.len() != work.len() {
                return Err(StoreError::Rejected(
                    "signer returned the wrong number of credentials".into(),
                ));
            }
            let rows: Vec<IssuedRow> = work
                .into_iter()
                .zip(creds)
                .map(|((citizen, slot), credential)| IssuedRow {
                    citizen,
                    slot,
                    credential,
                })
                .collect();
            insert_issued_rows!(&mut tx, &rows, actor, now)?;
            tx.commit().await?;
            Ok(BatchOutcome {
                issued: rows.len(),
                skipped: total - rows.len(),
            })
        })
    }

    /// The citizens of `citizens` whose id number is not enrolled yet, first occurrence only, in
    /// order. The first step of pipelined bulk issuance: [`Store::not_enrolled`], then
    /// [`Store::reserve_slots`], sign, then [`Store::insert_issued`].
    pub async fn not_enrolled(
        &self,
        citizens: Vec<NewCitizen>,
    ) -> Result<Vec<NewCitizen>, StoreError> {
        reading!(self, |p| {
            let mut conn = p.acquire().await?;
            not_enrolled!(&mut *conn, citizens)
        })
    }

    /// Stores citizens with their signed credentials (on slots from [`Store::reserve_slots`])
    /// and the audit entries, all in one transaction. `Conflict` (and nothing stored) if one of
    /// the id numbers was enrolled since [`Store::not_enrolled`] looked.
    pub async fn insert_issued(
        &self,
        rows: &[IssuedRow],
        actor: &str,
        now: i64,
    ) -> Result<usize, StoreError> {
        writing!(self, |p| {
            let mut tx = p.begin_write().await?;
            insert_issued_rows!(&mut tx, rows, actor, now)?;
            tx.commit().await?;
            Ok(rows.len())
        })
    }

    /// Counts citizens and credentials (a full scan: for operators and checks, not requests).
    pub async fn census(&self) -> Result<Census, StoreError> {
        let sql = "SELECT \
            (SELECT COUNT(*) FROM citizens) AS citizens, \
            (SELECT COUNT(*) FROM credentials) AS credentials, \
            (SELECT COUNT(*) FROM citizens c WHERE NOT EXISTS \
                (SELECT 1 FROM credentials r WHERE r.citizen_id = c.id)) AS citizens_without_credential, \
            (SELECT COUNT(*) FROM (SELECT citizen_id FROM credentials \
                GROUP BY citizen_id HAVING COUNT(*) > 1) s) AS citizens_with_several";
        let r: CensusRow = reading!(self, |p| sqlx::query_as(sql).fetch_one(p).await)?;
        Ok(Census {
            citizens: r.citizens,
            credentials: r.credentials,
            citizens_without_credential: r.citizens_without_credential,
            citizens_with_several: r.citizens_with_several,
        })
    }

    /// A credential by id.
    pub async fn get_credential(&self, id: &str) -> Result<Option<CredentialRecord>, StoreError> {
        let sql = format!("SELECT {CREDENTIAL_COLUMNS} FROM credentials WHERE id = $1");
        let row: Option<CredentialRow> = reading!(self, |p| sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(p)
            .await)?;
        row.map(credential_from_row).transpose()
    }

    /// A citizen's credentials, newest first.
    pub async fn credentials_of(
        &self,
        citizen_id: &str,
    ) -> Result<Vec<CredentialRecord>, StoreError> {
        let sql = format!("SELECT {CREDENTIAL_COLUMNS} FROM credentials WHERE citizen_id = $1 ORDER BY issued_at DESC, id");
        let rows: Vec<CredentialRow> = reading!(self, |p| sqlx::query_as(&sql)
            .bind(citizen_id)
            .fetch_all(p)
            .await)?;
        rows.into_iter().map(credential_from_row).collect()
    }

    /// Changes the status of a credential of either kind (an identity credential in
    /// `credentials`, else a signer credential in `signer_credentials`) with a reason, audited
    /// in the same transaction (`credential.revoke`, `credential.suspend`,
    /// `credential.reinstate` for both kinds; the detail names the kind).
    ///
    /// Allowed: valid → revoked or suspended; suspended → valid (reinstate) or revoked.
    /// Revoked is final. `NotFound` if neither table holds the id; `InvalidState` for a
    /// transition not allowed, or if another change of the same credential won a race.
    /// The time of the change is recorded as `status_changed_at`.
    pub async fn set_status(
        &self,
        id: &str,
        to: CredentialStatus,
        reason: &str,
        actor: &str,
        now: i64,
    ) -> Result<StatusChange, StoreError> {
        let action = match to {
            CredentialStatus::Valid => "credential.reinstate",
            CredentialStatus::Revoked => "credential.revoke",
            CredentialStatus::Suspended => "credential.suspend",
        };
        writing!(self, |p| {
            let mut tx = p.begin_write().await?;
            let identity: Option<StatusRow> = sqlx::query_as(
                "SELECT citizen_id AS holder_id, status_list, status_index, status FROM credentials WHERE id = $1",
            )
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
            let (kind, table, row) = match identity {
                Some(row) => (CredentialKind::Identity, "credentials", row),
                None => {
                    let signer: Option<StatusRow> = sqlx::query_as(
                        "SELECT official_id AS holder_id, status_list, status_index, status FROM signer_credentials WHERE id = $1",
                    )
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await?;
                    match signer {
                        Some(row) => (CredentialKind::Signer, "signer_credentials", row),
                        None => return Err(StoreError::NotFound("credential")),
                    }
                }
            };
            let StatusRow {
                holder_id,
                status_list,
                status_index,
                status: code,
            } = row;
            let from = CredentialStatus::from_code(code)
                .ok_or(StoreError::Corrupt("credential status"))?;
            use CredentialStatus::*;
            match (from, to) {
                (Valid, Revoked | Suspended) | (Suspended, Valid | Revoked) => {}
                (Revoked, _) => {
                    return Err(StoreError::InvalidState("credential is revoked for good"))
                }
                (Valid, Valid) => {
                    return Err(StoreError::InvalidState("credential is already valid"))
                }
                (Suspended, Suspended) => {
                    return Err(StoreError::InvalidState("credential is already suspended"))
                }
            }
            // `AND status = $5`: of two changes racing from the same status, one applies.
            let changed = sqlx::query(&format!(
                "UPDATE {table} SET status = $1, status_reason = $2, status_changed_at = $3 WHERE id = $4 AND status = $5"
            ))
            .bind(to.code())
            .bind(reason)
            .bind(now)
            .bind(id)
            .bind(code)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if changed != 1 {
                return Err(StoreError::InvalidState(
                    "credential status changed concurrently",
                ));
            }
            sqlx::query(
                "INSERT INTO status_history (credential_id, at, status) VALUES ($1, $2, $3)",
            )
            .bind(id)
            .bind(now)
            .bind(to.code())
            .execute(&mut *tx)
            .await?;
            let detail =
                serde_json::json!({"reason": reason, "from": from, "to": to, "kind": kind})
                    .to_string();
            sqlx::query("INSERT INTO audit_log (at, actor, action, subject, detail) VALUES ($1, $2, $3, $4, $5)")
                .bind(now)
                .bind(actor)
                .bind(action)
                .bind(id)
                .bind(detail)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(StatusChange {
                id: id.to_owned(),
                kind,
                holder_id,
                status_list,
                status_index,
                previous: from,
                status: to,
                status_reason: Some(reason.to_owned()),
                status_changed_at: now,
            })
        })
    }

    /// Every status change of a credential (identity or signer), oldest first: `(at, status)`.
    /// Empty if it never changed. Changes made before the history was kept (migration 0004)
    /// are represented by the latest one only.
    pub async fn status_history(
        &self,
        credential_id: &str,
    ) -> Result<Vec<(i64, CredentialStatus)>, StoreError> {
        let rows: Vec<(i64, i64)> = reading!(self, |p| {
            sqlx::query_as(
            "SELECT at, status FROM status_history WHERE credential_id = $1 ORDER BY at, seq LIMIT 10000"
        )
        .bind(credential_id)
        .fetch_all(p)
        .await
        })?;
        rows.into_iter()
            .map(|(at, s)| {
                Ok((
                    at,
                    CredentialStatus::from_code(s)
                        .ok_or(StoreError::Corrupt("credential status"))?,
                ))
            })
            .collect()
    }
}

/// Filters a batch down to citizens not enrolled yet (and not repeated in the batch), with
/// one `IN (…)` query per 500 id numbers on the given connection or transaction.
macro_rules! not_enrolled {
    ($conn:expr, $citizens:expr) => {{
        let citizens: Vec<NewCitizen> = $citizens;
        let mut fresh = Vec::with_capacity(citizens.len());
        let mut seen = std::collections::HashSet::with_capacity(citizens.len());
        let mut failure: Option<StoreError> = None;
        for chunk in citizens.chunks(500) {
            let placeholders: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let sql = format!(
                "SELECT id_number FROM citizens WHERE id_number IN ({})",
                placeholders.join(",")
            );
            let mut q = sqlx::query_as::<_, (String,)>(&sql);
            for c in chunk {
                q = q.bind(c.citizen.id_number.as_str());
            }
            let existing: std::collections::HashSet<String> = match q.fetch_all($conn).await {
                Ok(rows) => rows.into_iter().map(|(s,)| s).collect(),
                Err(e) => {
                    failure = Some(e.into());
                    break;
                }
            };
            for c in chunk {
                let n = c.citizen.id_number.as_str();
                // Duplicates inside one batch count as already enrolled too.
                if !existing.contains(n) && seen.insert(n.to_owned()) {
                    fresh.push(c.clone());
                }
            }
        }
        match failure {
            Some(e) => Err(e),
            None => Ok(fresh),
        }
    }};
}
use not_enrolled;

/// Multi-row INSERTs of citizens, credentials and audit entries: one statement per table per
/// [`BULK_ROWS`] rows instead of three per citizen, which is what lets a million citizens go in
/// at signing speed.
macro_rules! insert_issued_rows {
    ($tx:expr, $rows:expr, $actor:expr, $now:expr) => {{
        let rows: &[IssuedRow] = $rows;
        let actor: &str = $actor;
        let now: i64 = $now;
        let ids: Vec<String> = rows.iter().map(|_| random_id()).collect();
        let res = async {
            for (chunk, ids) in rows.chunks(BULK_ROWS).zip(ids.chunks(BULK_ROWS)) {
                let pairs: Vec<(&String, &IssuedRow)> = ids.iter().zip(chunk).collect();
                let mut q = sqlx::QueryBuilder::new(
                    "INSERT INTO citizens (id, id_number, claims, created_at, name_folded) ",
                );
                q.push_values(&pairs, |mut b, (id, r)| {
                    b.push_bind(id.as_str())
                        .push_bind(r.citizen.citizen.id_number.as_str())
                        .push_bind(citizen_to_json(&r.citizen.citizen))
                        .push_bind(now)
                        .push_bind(fold_name(r.citizen.citizen.full_name.as_str()));
                });
                q.build().execute(&mut **$tx).await?;
                let mut q = sqlx::QueryBuilder::new(
                    "INSERT INTO credentials (id, citizen_id, kid, status_list, status_index, payload, issued_at, expires_at) ",
                );
                q.push_values(&pairs, |mut b, (id, r)| {
                    b.push_bind(r.credential.id.as_str())
                        .push_bind(id.as_str())
                        .push_bind(r.credential.kid.as_str())
                        .push_bind(r.slot.list)
                        .push_bind(i64::from(r.slot.index))
                        .push_bind(r.credential.payload.as_str())
                        .push_bind(r.credential.issued_at)
                        .push_bind(r.credential.expires_at);
                });
                q.build().execute(&mut **$tx).await?;
                let mut q = sqlx::QueryBuilder::new(
                    "INSERT INTO audit_log (at, actor, action, subject, detail) ",
                );
                q.push_values(&pairs, |mut b, (_, r)| {
                    b.push_bind(now)
                        .push_bind(actor)
                        .push_bind("credential.issue")
                        .push_bind(r.credential.id.as_str())
                        .push_bind(format!(
                            r#"{{"status_list":{},"status_index":{},"kid":"{}"}}"#,
                            r.slot.list, r.slot.index, r.credential.kid
                        ));
                });
                q.build().execute(&mut **$tx).await?;
            }
            Ok::<(), sqlx::Error>(())
        }
        .await;
        res.map_err(StoreError::from)
    }};
}
use insert_issued_rows;

macro_rules! insert_credential {
    ($tx:expr, $cred:expr, $citizen_id:expr, $slot:expr, $actor:expr, $now:expr) => {{
        let cred: &NewCredential = $cred;
        let slot: StatusSlot = $slot;
        let res = async {
            sqlx::query(
                "INSERT INTO credentials (id, citizen_id, kid, status_list, status_index, payload, issued_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(&cred.id)
            .bind($citizen_id)
            .bind(&cred.kid)
            .bind(slot.list)
            .bind(i64::from(slot.index))
            .bind(&cred.payload)
            .bind(cred.issued_at)
            .bind(cred.expires_at)
            .execute(&mut **$tx)
            .await?;
            let detail = format!(r#"{{"status_list":{},"status_index":{},"kid":"{}"}}"#, slot.list, slot.index, cred.kid);
            sqlx::query("INSERT INTO audit_log (at, actor, action, subject, detail) VALUES ($1, $2, 'credential.issue', $3, $4)")
                .bind($now)
                .bind($actor)
                .bind(&cred.id)
                .bind(detail)
                .execute(&mut **$tx)
                .await?;
            Ok::<(), sqlx::Error>(())
        }
        .await;
        res.map_err(StoreError::from)
    }};
}
use insert_credential;
