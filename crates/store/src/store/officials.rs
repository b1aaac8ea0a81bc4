//! Officials and document signing: officials, their signer credentials, signing sessions and
//! the append-only signatures. Its own file because all of these hang off one official.

use super::credentials::CredentialRow;
use super::status_lists::allocate;
use super::{random_id, Backend, BeginWrite, Pools, Store};
use crate::error::StoreError;
use crate::model::{
    CredentialKind, CredentialStatus, KeyRotation, NewCredential, NewOfficial, NewOfficialKey,
    NewSignature, OfficialRecord, PadesSignature, SignatureRecord, SignerCredentialRecord,
    StatusChange, StatusSlot,
};

const SIGNER_CREDENTIAL_COLUMNS: &str =
    "id, official_id AS holder_id, kid, status_list, status_index, status, status_reason, status_changed_at, payload, issued_at, expires_at";

/// A row of `officials`.
#[derive(sqlx::FromRow)]
struct OfficialRow {
    id: String,
    username: String,
    full_name: String,
    title: String,
    agency: String,
    password_hash: String,
    totp_sealed: Vec<u8>,
    totp_last_step: i64,
    key_sealed: Vec<u8>,
    public_key: Vec<u8>,
    kid: String,
    disabled: i64,
    created_at: i64,
    token_epoch: i64,
}
const OFFICIAL_COLUMNS: &str = "id, username, full_name, title, agency, password_hash, totp_sealed, totp_last_step, key_sealed, public_key, kid, disabled, created_at, token_epoch";

fn official_from_row(r: OfficialRow) -> Result<OfficialRecord, StoreError> {
    Ok(OfficialRecord {
        public_key: r
            .public_key
            .as_slice()
            .try_into()
            .map_err(|_| StoreError::Corrupt("official public key"))?,
        id: r.id,
        username: r.username,
        full_name: r.full_name,
        title: r.title,
        agency: r.agency,
        password_hash: r.password_hash,
        totp_sealed: r.totp_sealed,
        totp_last_step: r.totp_last_step,
        key_sealed: r.key_sealed,
        kid: r.kid,
        disabled: r.disabled != 0,
        created_at: r.created_at,
        token_epoch: r.token_epoch,
    })
}

fn signer_credential_from_row(r: CredentialRow) -> Result<SignerCredentialRecord, StoreError> {
    Ok(SignerCredentialRecord {
        id: r.id,
        official_id: r.holder_id,
        kid: r.kid,
        status_list: r.status_list,
        status_index: r.status_index,
        status: CredentialStatus::from_code(r.status)
            .ok_or(StoreError::Corrupt("signer credential status"))?,
        status_reason: r.status_reason,
        status_changed_at: r.status_changed_at,
        payload: r.payload,
        issued_at: r.issued_at,
        expires_at: r.expires_at,
    })
}

/// A row of `signatures`.
#[derive(sqlx::FromRow)]
pub(super) struct SignatureRow {
    id: String,
    official_id: String,
    signer_credential_id: String,
    digest: String,
    document_name: String,
    media_type: String,
    signed_at: i64,
    jws: String,
    stamp: String,
    format: String,
    certificate_serial: Option<String>,
    signed_sha256: Option<String>,
}
pub(super) const SIGNATURE_COLUMNS: &str = "id, official_id, signer_credential_id, digest, document_name, media_type, signed_at, jws, stamp, format, certificate_serial, signed_sha256";

pub(super) fn signature_from_row(r: SignatureRow) -> SignatureRecord {
    let pades = match (r.format.as_str(), r.certificate_serial, r.signed_sha256) {
        ("pades", Some(certificate_serial), Some(signed_sha256)) => Some(PadesSignature {
            certificate_serial,
            signed_sha256,
        }),
        _ => None,
    };
    SignatureRecord {
        pades,
        id: r.id,
        official_id: r.official_id,
        signer_credential_id: r.signer_credential_id,
        digest: r.digest,
        document_name: r.document_name,
        media_type: r.media_type,
        signed_at: r.signed_at,
        jws: r.jws,
        stamp: r.stamp,
    }
}

/// Whether `s` is a SHA-256 digest in lowercase hex (the one spelling stored).
fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

impl Store {
    /// Creates an official and issues the first signer credential for their key, in one
    /// transaction: inserts the official (a fresh random id; `Conflict("official")` if the
    /// username exists), allocates a status slot from the lists shared with identity
    /// credentials (an index is never reused), calls `certify` with the new official's id and
    /// the slot, stores the signer credential, and audits `official.create` (detail: the
    /// username only, never a secret) and `signer_credential.issue`. If `certify` fails,
    /// nothing is written and no slot is consumed.
    pub async fn create_official<F>(
        &self,
        o: &NewOfficial,
        list_size: u32,
        actor: &str,
        now: i64,
        certify: F,
    ) -> Result<(OfficialRecord, SignerCredentialRecord), StoreError>
    where
        F: FnOnce(&str, StatusSlot) -> Result<NewCredential, String>,
    {
        if o.username.trim().is_empty() {
            return Err(StoreError::Invalid("official username is empty"));
        }
        if o.kid.is_empty() {
            return Err(StoreError::Invalid("official key thumbprint is empty"));
        }
        if o.totp_sealed.is_empty() || o.key_sealed.is_empty() {
            return Err(StoreError::Invalid("official secrets must be sealed"));
        }
        let id = random_id();
        let backend = self.backend();
        let credential = writing!(self, |p| {
            let mut tx = p.begin_write().await?;
            sqlx::query(
                "INSERT INTO officials (id, username, full_name, title, agency, password_hash, totp_sealed, key_sealed, public_key, kid, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            )
            .bind(&id)
            .bind(&o.username)
            .bind(&o.full_name)
            .bind(&o.title)
            .bind(&o.agency)
            .bind(&o.password_hash)
            .bind(&o.totp_sealed)
            .bind(&o.key_sealed)
            .bind(&o.public_key[..])
            .bind(&o.kid)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(|e| match StoreError::from(e) {
                StoreError::Conflict(_) => StoreError::Conflict("official"),
                other => other,
            })?;
            let detail = serde_json::json!({"username": o.username}).to_string();
            sqlx::query("INSERT INTO audit_log (at, actor, action, subject, detail) VALUES ($1, $2, 'official.create', $3, $4)")
                .bind(now)
                .bind(actor)
                .bind(&id)
                .bind(detail)
                .execute(&mut *tx)
                .await?;
            let credential = certify_in_tx!(backend, &mut tx, &id, list_size, actor, now, certify)?;
            tx.commit().await?;
            Ok::<_, StoreError>(credential)
        })?;
        let official = OfficialRecord {
            id,
            username: o.username.clone(),
            full_name: o.full_name.clone(),
            title: o.title.clone(),
            agency: o.agency.clone(),
            password_hash: o.password_hash.clone(),
            totp_sealed: o.totp_sealed.clone(),
            totp_last_step: 0,
            key_sealed: o.key_sealed.clone(),
            public_key: o.public_key,
            kid: o.kid.clone(),
            disabled: false,
            created_at: now,
            token_epoch: 0,
        };
        Ok((official, credential))
    }

    /// Issues a further signer credential to an existing official (after a revocation, say),
    /// with the same rules as [`Store::create_official`]: one transaction, a fresh slot,
    /// nothing written and no slot consumed if `certify` fails, audited
    /// `signer_credential.issue`. `NotFound` for an unknown official, `InvalidState` for a
    /// disabled one. Whether the official's other signer credentials are still valid is the
    /// caller's business; [`Store::current_signer_credential`] returns the newest.
    pub async fn certify_official<F>(
        &self,
        official_id: &str,
        list_size: u32,
        actor: &str,
        now: i64,
        certify: F,
    ) -> Result<SignerCredentialRecord, StoreError>
    where
        F: FnOnce(&str, StatusSlot) -> Result<NewCredential, String>,
    {
        let backend = self.backend();
        writing!(self, |p| {
            let mut tx = p.begin_write().await?;
            let official: Option<(i64,)> =
                sqlx::query_as("SELECT disabled FROM officials WHERE id = $1")
                    .bind(official_id)
                    .fetch_optional(&mut *tx)
                    .await?;
            match official {
                None => return Err(StoreError::NotFound("official")),
                Some((disabled,)) if disabled != 0 => {
                    return Err(StoreError::InvalidState("official is disabled"))
                }
                Some(_) => {}
            }
            let credential = certify_in_tx!(
                backend,
                &mut tx,
                official_id,
                list_size,
                actor,
                now,
                certify
            )?;
            tx.commit().await?;
            Ok(credential)
        })
    }

    /// Rotates an official's signing key, in one transaction: the official's row gets the new
    /// sealed key, public key, kid and re-sealed TOTP secret (the replay counter is kept: a code
    /// used before is still used) and a new token epoch, iff it still holds the kid and sealed
    /// TOTP secret the caller read (`key.replaces_*`); the official's signing sessions end; a
    /// signer credential for the new key is issued on a fresh status slot as
    /// [`Store::certify_official`] issues one; every other signer credential of the official
    /// that is valid or suspended is revoked (reason `key rotated: replaced by <new id>`, with
    /// its status history and `credential.revoke` audit entry); and `official.rotate_key` is
    /// audited (subject the official id; detail the kids and credential ids, never a secret).
    ///
    /// A disabled official may be rotated, and stays disabled. Refused, with nothing written
    /// and no slot consumed: `Invalid` for an empty kid or secret, or a kid equal to the one it
    /// replaces; `NotFound("official")` for an unknown id; `InvalidState` if the official's key
    /// or TOTP secret changed since the caller read them; `Rejected` if `certify` fails.
    pub async fn rotate_official_key<F>(
        &self,
        official_id: &str,
        key: &NewOfficialKey,
        list_size: u32,
        actor: &str,
        now: i64,
        certify: F,
    ) -> Result<KeyRotation, StoreError>
    where
        F: FnOnce(&str, StatusSlot) -> Result<NewCredential, String>,
    {
        if key.kid.is_empty() || key.replaces_kid.is_empty() {
            return Err(StoreError::Invalid("official key thumbprint is empty"));
        }
        if key.kid == key.replaces_kid {
            return Err(StoreError::Invalid("a rotated key must be a new key"));
        }
        if key.totp_sealed.is_empty() || key.key_sealed.is_empty() {
            return Err(StoreError::Invalid("official secrets must be sealed"));
        }
        let backend = self.backend();
        let official_sql = format!("SELECT {OFFICIAL_COLUMNS} FROM officials WHERE id = $1");
        writing!(self, |p| {
            let mut tx = p.begin_write().await?;
            let changed = sqlx::query(
                "UPDATE officials SET key_sealed = $2, public_key = $3, kid = $4, totp_sealed = $5, \
                 token_epoch = token_epoch + 1 WHERE id = $1 AND kid = $6 AND totp_sealed = $7",
            )
            .bind(official_id)
            .bind(&key.key_sealed)
            .bind(&key.public_key[..])
            .bind(&key.kid)
            .bind(&key.totp_sealed)
            .bind(&key.replaces_kid)
            .bind(&key.replaces_totp_sealed)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if changed != 1 {
                let exists: Option<(String,)> =
                    sqlx::query_as("SELECT id FROM officials WHERE id = $1")
                        .bind(official_id)
                        .fetch_optional(&mut *tx)
                        .await?;
                return Err(match exists {
                    None => StoreError::NotFound("official"),
                    Some(_) => StoreError::InvalidState(
                        "the official's key or TOTP secret changed concurrently",
                    ),
                });
            }
            sqlx::query("DELETE FROM signing_sessions WHERE official_id = $1")
                .bind(official_id)
                .execute(&mut *tx)
                .await?;
            let credential = certify_in_tx!(
                backend,
                &mut tx,
                official_id,
                list_size,
                actor,
                now,
                certify
            )?;
            let reason = format!("key rotated: replaced by {}", credential.id);
            let old: Vec<(String, i64, i64, i64)> = sqlx::query_as(
                "SELECT id, status_list, status_index, status FROM signer_credentials \
                 WHERE official_id = $1 AND id <> $2 AND status <> $3 ORDER BY issued_at, id",
            )
            .bind(official_id)
            .bind(&credential.id)
            .bind(CredentialStatus::Revoked.code())
            .fetch_all(&mut *tx)
            .await?;
            let mut revoked = Vec::with_capacity(old.len());
            for (id, status_list, status_index, code) in old {
                let from = CredentialStatus::from_code(code)
                    .ok_or(StoreError::Corrupt("signer credential status"))?;
                let to = CredentialStatus::Revoked;
                sqlx::query(
                    "UPDATE signer_credentials SET status = $1, status_reason = $2, status_changed_at = $3 \
                     WHERE id = $4 AND status = $5",
                )
                .bind(to.code())
                .bind(&reason)
                .bind(now)
                .bind(&id)
                .bind(code)
                .execute(&mut *tx)
                .await?;
                sqlx::query(
                    "INSERT INTO status_history (credential_id, at, status) VALUES ($1, $2, $3)",
                )
                .bind(&id)
                .bind(now)
                .bind(to.code())
                .execute(&mut *tx)
                .await?;
                let detail = serde_json::json!({"reason": &reason, "from": from, "to": to,
                    "kind": CredentialKind::Signer})
                .to_string();
                sqlx::query("INSERT INTO audit_log (at, actor, action, subject, detail) VALUES ($1, $2, 'credential.revoke', $3, $4)")
                    .bind(now)
                    .bind(actor)
                    .bind(&id)
                    .bind(detail)
                    .execute(&mut *tx)
                    .await?;
                revoked.push(StatusChange {
                    id,
                    kind: CredentialKind::Signer,
                    holder_id: official_id.to_owned(),
                    status_list,
                    status_index,
                    previous: from,
                    status: to,
                    status_reason: Some(reason.clone()),
                    status_changed_at: now,
                });
            }
            let detail = serde_json::json!({
                "previous_kid": key.replaces_kid,
                "kid": key.kid,
                "signer_credential_id": credential.id,
                "revoked": revoked.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
            })
            .to_string();
            sqlx::query("INSERT INTO audit_log (at, actor, action, subject, detail) VALUES ($1, $2, 'official.rotate_key', $3, $4)")
                .bind(now)
                .bind(actor)
                .bind(official_id)
                .bind(detail)
                .execute(&mut *tx)
                .await?;
            let row: OfficialRow = sqlx::query_as(&official_sql)
                .bind(official_id)
                .fetch_one(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(KeyRotation {
                official: official_from_row(row)?,
                previous_kid: key.replaces_kid.clone(),
                signer_credential: credential,
                revoked,
            })
        })
    }

    /// An official by username.
    pub async fn official_by_username(
        &self,
        username: &str,
    ) -> Result<Option<OfficialRecord>, StoreError> {
        let sql = format!("SELECT {OFFICIAL_COLUMNS} FROM officials WHERE username = $1");
        let row: Option<OfficialRow> = reading!(self, |p| sqlx::query_as(&sql)
            .bind(username)
            .fetch_optional(p)
            .await)?;
        row.map(official_from_row).transpose()
    }

    /// An official by id.
    pub async fn official(&self, id: &str) -> Result<Option<OfficialRecord>, StoreError> {
        let sql = format!("SELECT {OFFICIAL_COLUMNS} FROM officials WHERE id = $1");
        let row: Option<OfficialRow> = reading!(self, |p| sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(p)
            .await)?;
        row.map(official_from_row).transpose()
    }

    /// Records TOTP time step `step` as used by the official, iff it is greater than every
    /// step accepted before: `true` if accepted. One conditional UPDATE, so of concurrent
    /// requests with the same code exactly one wins, and a code of an older step is refused
    /// once a newer one was accepted. `false` also for an unknown official. The caller checks
    /// the code itself first.
    pub async fn accept_totp_step(&self, official_id: &str, step: i64) -> Result<bool, StoreError> {
        let done = writing!(self, |p| sqlx::query(
            "UPDATE officials SET totp_last_step = $2 WHERE id = $1 AND totp_last_step < $2"
        )
        .bind(official_id)
        .bind(step)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(done == 1)
    }

    /// The official's newest signer credential (by `issued_at`; of those issued in the same
    /// second, one not revoked first, then by id), whatever its status: the caller decides what
    /// a revoked or suspended one means. (A key rotated in the second its credential was issued
    /// leaves two of that second, the old one revoked: the new one is the current one.)
    pub async fn current_signer_credential(
        &self,
        official_id: &str,
    ) -> Result<Option<SignerCredentialRecord>, StoreError> {
        let sql = format!(
            "SELECT {SIGNER_CREDENTIAL_COLUMNS} FROM signer_credentials WHERE official_id = $1 \
             ORDER BY issued_at DESC, CASE WHEN status = 1 THEN 1 ELSE 0 END, id DESC LIMIT 1"
        );
        let row: Option<CredentialRow> = reading!(self, |p| sqlx::query_as(&sql)
            .bind(official_id)
            .fetch_optional(p)
            .await)?;
        row.map(signer_credential_from_row).transpose()
    }

    /// A signer credential by id (with `status_changed_at`, to tell whether a revocation came
    /// before or after a signature).
    pub async fn signer_credential(
        &self,
        id: &str,
    ) -> Result<Option<SignerCredentialRecord>, StoreError> {
        let sql =
            format!("SELECT {SIGNER_CREDENTIAL_COLUMNS} FROM signer_credentials WHERE id = $1");
        let row: Option<CredentialRow> = reading!(self, |p| sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(p)
            .await)?;
        row.map(signer_credential_from_row).transpose()
    }

    /// Opens a signing session: the official may sign up to `documents` documents with the
    /// session token whose SHA-256 (lowercase hex) is `token_sha256` until `expires_at`. The
    /// token itself is never stored, and neither it nor its digest goes into the audit entry
    /// (`signing_session.open`, subject the official id). Sessions expired more than a day ago
    /// are pruned here. `Invalid` for a malformed digest, fewer than one document or an
    /// expiry not after `now`; `NotFound` for an unknown official; `InvalidState` for a
    /// disabled one; `Conflict` if the digest is in use.
    pub async fn open_signing_session(
        &self,
        token_sha256: &str,
        official_id: &str,
        documents: i64,
        expires_at: i64,
        now: i64,
    ) -> Result<(), StoreError> {
        if !is_sha256_hex(token_sha256) {
            return Err(StoreError::Invalid(
                "session token digest must be 64 lowercase hex digits",
            ));
        }
        if documents < 1 {
            return Err(StoreError::Invalid(
                "a signing session allows at least one document",
            ));
        }
        if expires_at <= now {
            return Err(StoreError::Invalid("a signing session must expire later"));
        }
        writing!(self, |p| {
            let mut tx = p.begin_write().await?;
            sqlx::query("DELETE FROM signing_sessions WHERE expires_at < $1")
                .bind(now - 86_400)
                .execute(&mut *tx)
                .await?;
            let official: Option<(String, i64)> =
                sqlx::query_as("SELECT username, disabled FROM officials WHERE id = $1")
                    .bind(official_id)
                    .fetch_optional(&mut *tx)
                    .await?;
            let username = match official {
                None => return Err(StoreError::NotFound("official")),
                Some((_, disabled)) if disabled != 0 => {
                    return Err(StoreError::InvalidState("official is disabled"))
                }
                Some((username, _)) => username,
            };
            sqlx::query("INSERT INTO signing_sessions (token_sha256, official_id, documents_left, expires_at, created_at) VALUES ($1, $2, $3, $4, $5)")
                .bind(token_sha256)
                .bind(official_id)
                .bind(documents)
                .bind(expires_at)
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(|e| match StoreError::from(e) {
                    StoreError::Conflict(_) => StoreError::Conflict("signing session"),
                    other => other,
                })?;
            let detail =
                serde_json::json!({"documents": documents, "expires_at": expires_at}).to_string();
            sqlx::query("INSERT INTO audit_log (at, actor, action, subject, detail) VALUES ($1, $2, 'signing_session.open', $3, $4)")
                .bind(now)
                .bind(username)
                .bind(official_id)
                .bind(detail)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(())
        })
    }

    /// Uses one document of a signing session: atomically decrements its count iff the session
    /// belongs to `official_id`, has documents left, `expires_at > now` and the official is not
    /// disabled. Returns the documents left after this use, `None` if refused (unknown token,
    /// another official's, used up, expired).
    pub async fn use_signing_session(
        &self,
        token_sha256: &str,
        official_id: &str,
        now: i64,
    ) -> Result<Option<i64>, StoreError> {
        let row: Option<(i64,)> = writing!(self, |p| {
            sqlx::query_as(
            "UPDATE signing_sessions SET documents_left = documents_left - 1 \
             WHERE token_sha256 = $1 AND official_id = $2 AND documents_left > 0 AND expires_at > $3 \
             AND EXISTS (SELECT 1 FROM officials WHERE id = $2 AND disabled = 0) \
             RETURNING documents_left"
        )
        .bind(token_sha256)
        .bind(official_id)
        .bind(now)
        .fetch_optional(p)
        .await
        })?;
        Ok(row.map(|(n,)| n))
    }

    /// Records a signature and its audit entry (`signature.create`, subject the signature id,
    /// detail the official, digest and signer credential) in one transaction. `Invalid` for a
    /// digest that is not lowercase SHA-256 hex or an empty id; `NotFound` if the signer
    /// credential does not exist; `InvalidState` if it certifies another official; `Conflict`
    /// if the id is taken. Signatures are never changed or deleted afterwards.
    pub async fn record_signature(
        &self,
        s: &NewSignature,
        actor: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        if s.id.is_empty() {
            return Err(StoreError::Invalid("signature id is empty"));
        }
        if !is_sha256_hex(&s.digest)
            || s.pades
                .as_ref()
                .is_some_and(|p| !is_sha256_hex(&p.signed_sha256))
        {
            return Err(StoreError::Invalid(
                "document digest must be 64 lowercase hex digits",
            ));
        }
        writing!(self, |p| {
            let mut tx = p.begin_write().await?;
            let owner: Option<(String,)> =
                sqlx::query_as("SELECT official_id FROM signer_credentials WHERE id = $1")
                    .bind(&s.signer_credential_id)
                    .fetch_optional(&mut *tx)
                    .await?;
            match owner {
                None => return Err(StoreError::NotFound("signer credential")),
                Some((owner,)) if owner != s.official_id => {
                    return Err(StoreError::InvalidState(
                        "signer credential certifies another official",
                    ))
                }
                Some(_) => {}
            }
            sqlx::query(&format!(
                "INSERT INTO signatures ({SIGNATURE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
            ))
            .bind(&s.id)
            .bind(&s.official_id)
            .bind(&s.signer_credential_id)
            .bind(&s.digest)
            .bind(&s.document_name)
            .bind(&s.media_type)
            .bind(s.signed_at)
            .bind(&s.jws)
            .bind(&s.stamp)
            .bind(if s.pades.is_some() { "pades" } else { "jws" })
            .bind(s.pades.as_ref().map(|p| p.certificate_serial.as_str()))
            .bind(s.pades.as_ref().map(|p| p.signed_sha256.as_str()))
            .execute(&mut *tx)
            .await
            .map_err(|e| match StoreError::from(e) {
                StoreError::Conflict(_) => StoreError::Conflict("signature"),
                other => other,
            })?;
            let detail = serde_json::json!({
                "official_id": s.official_id,
                "digest": s.digest,
                "signer_credential_id": s.signer_credential_id,
            })
            .to_string();
            sqlx::query("INSERT INTO audit_log (at, actor, action, subject, detail) VALUES ($1, $2, 'signature.create', $3, $4)")
                .bind(now)
                .bind(actor)
                .bind(&s.id)
                .bind(detail)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(())
        })
    }

    /// A signature by id.
    pub async fn signature(&self, id: &str) -> Result<Option<SignatureRecord>, StoreError> {
        let sql = format!("SELECT {SIGNATURE_COLUMNS} FROM signatures WHERE id = $1");
        let row: Option<SignatureRow> = reading!(self, |p| sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(p)
            .await)?;
        Ok(row.map(signature_from_row))
    }

    /// An official's signatures, newest first (by `signed_at`, then id), at most `limit`
    /// (clamped to 1..=1000), only those signed strictly before `before` if given. To page,
    /// pass the last `signed_at` seen; signatures sharing that second with the last one seen
    /// are then skipped, so a caller that needs every one of them asks for a larger page.
    pub async fn signatures_of(
        &self,
        official_id: &str,
        limit: i64,
        before: Option<i64>,
    ) -> Result<Vec<SignatureRecord>, StoreError> {
        let sql = format!(
            "SELECT {SIGNATURE_COLUMNS} FROM signatures WHERE official_id = $1 AND signed_at < $2 \
             ORDER BY signed_at DESC, id DESC LIMIT $3"
        );
        let rows: Vec<SignatureRow> = reading!(self, |p| sqlx::query_as(&sql)
            .bind(official_id)
            .bind(before.unwrap_or(i64::MAX))
            .bind(limit.clamp(1, 1000))
            .fetch_all(p)
            .await)?;
        Ok(rows.into_iter().map(signature_from_row).collect())
    }

    /// Tries to change or delete a signature; the database must refuse. Exposed for the test
    /// suite that proves append-only holds on both back ends; only with the `testing` feature,
    /// which production builds never enable.
    #[cfg(feature = "testing")]
    #[doc(hidden)]
    pub async fn try_tamper_signature(&self, id: &str, delete: bool) -> Result<(), StoreError> {
        let sql = if delete {
            "DELETE FROM signatures WHERE id = $1"
        } else {
            "UPDATE signatures SET digest = 'ff' WHERE id = $1"
        };
        writing!(self, |p| sqlx::query(sql)
            .bind(id)
            .execute(p)
            .await
            .map(|_| ()))?;
        Ok(())
    }
}

/// Inside the caller's transaction: allocates a status slot, has `certify` sign a signer
/// credential for official `$official_id` on it, stores it and audits
/// `signer_credential.issue`. Evaluates to `Result<SignerCredentialRecord, StoreError>`; on an
/// error the caller drops the transaction, which gives the slot back.
macro_rules! certify_in_tx {
    ($backend:expr, $tx:expr, $official_id:expr, $list_size:expr, $actor:expr, $now:expr, $certify:expr) => {{
        let official_id: &str = $official_id;
        let actor: &str = $actor;
        let now: i64 = $now;
        let res: Result<SignerCredentialRecord, StoreError> = async {
            let slot = allocate!($backend, $tx, 1, $list_size, now)?
                .into_iter()
                .next()
                .ok_or(StoreError::InvalidState("no status slot allocated"))?;
            let cred: NewCredential = ($certify)(official_id, slot).map_err(StoreError::Rejected)?;
            // set_status looks an id up in credentials first: one id names one credential.
            let taken: Option<(String,)> = sqlx::query_as("SELECT id FROM credentials WHERE id = $1")
                .bind(&cred.id)
                .fetch_optional(&mut **$tx)
                .await?;
            if taken.is_some() {
                return Err(StoreError::Conflict("credential with this id"));
            }
            sqlx::query(
                "INSERT INTO signer_credentials (id, official_id, kid, status_list, status_index, payload, issued_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(&cred.id)
            .bind(official_id)
            .bind(&cred.kid)
            .bind(slot.list)
            .bind(i64::from(slot.index))
            .bind(&cred.payload)
            .bind(cred.issued_at)
            .bind(cred.expires_at)
            .execute(&mut **$tx)
            .await
            .map_err(|e| match StoreError::from(e) {
                StoreError::Conflict(_) => StoreError::Conflict("credential with this id"),
                other => other,
            })?;
            let detail = serde_json::json!({
                "official_id": official_id,
                "status_list": slot.list,
                "status_index": slot.index,
                "kid": cred.kid,
            })
            .to_string();
            sqlx::query("INSERT INTO audit_log (at, actor, action, subject, detail) VALUES ($1, $2, 'signer_credential.issue', $3, $4)")
                .bind(now)
                .bind(actor)
                .bind(&cred.id)
                .bind(detail)
                .execute(&mut **$tx)
                .await?;
            Ok(SignerCredentialRecord {
                id: cred.id,
                official_id: official_id.to_owned(),
                kid: cred.kid,
                status_list: slot.list,
                status_index: i64::from(slot.index),
                status: CredentialStatus::Valid,
                status_reason: None,
                status_changed_at: None,
                payload: cred.payload,
                issued_at: cred.issued_at,
                expires_at: cred.expires_at,
            })
        }
        .await;
        res
    }};
}
use certify_in_tx;
