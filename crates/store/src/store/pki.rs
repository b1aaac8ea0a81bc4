//! The certificates of officials' PDF signing keys, the CRL's entries, and the PDF signature
//! records found by the signed file's digest.

use super::officials::{signature_from_row, SignatureRow, SIGNATURE_COLUMNS};
use super::{BeginWrite, Pools, Store};
use crate::error::StoreError;
use crate::model::{OfficialCertificate, SignatureRecord};

#[derive(sqlx::FromRow)]
struct CertificateRow {
    serial: String,
    official_id: String,
    signer_credential_id: String,
    key_sealed: Vec<u8>,
    certificate: Vec<u8>,
    not_before: i64,
    not_after: i64,
    created_at: i64,
}

const CERTIFICATE_COLUMNS: &str =
    "serial, official_id, signer_credential_id, key_sealed, certificate, not_before, not_after, created_at";

fn from_row(r: CertificateRow) -> OfficialCertificate {
    OfficialCertificate {
        serial: r.serial,
        official_id: r.official_id,
        signer_credential_id: r.signer_credential_id,
        key_sealed: r.key_sealed,
        certificate: r.certificate,
        not_before: r.not_before,
        not_after: r.not_after,
        created_at: r.created_at,
    }
}

impl Store {
    /// Stores an official's certificate and audits `certificate.issue` (detail: the serial).
    /// A second certificate for the same signer credential is `Conflict("certificate")`: the
    /// caller reads the first one back.
    pub async fn insert_official_certificate(
        &self,
        c: &OfficialCertificate,
        actor: &str,
    ) -> Result<(), StoreError> {
        writing!(self, |p| {
            let mut tx = p.begin_write().await?;
            let owner: Option<(String,)> =
                sqlx::query_as("SELECT official_id FROM signer_credentials WHERE id = $1")
                    .bind(&c.signer_credential_id)
                    .fetch_optional(&mut *tx)
                    .await?;
            match owner {
                None => return Err(StoreError::NotFound("signer credential")),
                Some((o,)) if o != c.official_id => {
                    return Err(StoreError::InvalidState(
                        "signer credential certifies another official",
                    ))
                }
                Some(_) => {}
            }
            sqlx::query(&format!(
                "INSERT INTO official_certificates ({CERTIFICATE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
            ))
            .bind(&c.serial)
            .bind(&c.official_id)
            .bind(&c.signer_credential_id)
            .bind(&c.key_sealed)
            .bind(&c.certificate)
            .bind(c.not_before)
            .bind(c.not_after)
            .bind(c.created_at)
            .execute(&mut *tx)
            .await
            .map_err(|e| match StoreError::from(e) {
                StoreError::Conflict(_) => StoreError::Conflict("certificate"),
                other => other,
            })?;
            let detail =
                serde_json::json!({"serial": c.serial, "official_id": c.official_id}).to_string();
            sqlx::query("INSERT INTO audit_log (at, actor, action, subject, detail) VALUES ($1, $2, 'certificate.issue', $3, $4)")
                .bind(c.created_at)
                .bind(actor)
                .bind(&c.signer_credential_id)
                .bind(detail)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(())
        })
    }

    /// The certificate issued for a signer credential, if any.
    pub async fn certificate_of_signer_credential(
        &self,
        signer_credential_id: &str,
    ) -> Result<Option<OfficialCertificate>, StoreError> {
        let sql = format!(
            "SELECT {CERTIFICATE_COLUMNS} FROM official_certificates WHERE signer_credential_id = $1"
        );
        let row: Option<CertificateRow> = reading!(self, |p| sqlx::query_as(&sql)
            .bind(signer_credential_id)
            .fetch_optional(p)
            .await)?;
        Ok(row.map(from_row))
    }

    /// A certificate by serial (hex).
    pub async fn official_certificate(
        &self,
        serial: &str,
    ) -> Result<Option<OfficialCertificate>, StoreError> {
        let sql =
            format!("SELECT {CERTIFICATE_COLUMNS} FROM official_certificates WHERE serial = $1");
        let row: Option<CertificateRow> = reading!(self, |p| sqlx::query_as(&sql)
            .bind(serial)
            .fetch_optional(p)
            .await)?;
        Ok(row.map(from_row))
    }

    /// An official's certificates, newest first.
    pub async fn certificates_of(
        &self,
        official_id: &str,
    ) -> Result<Vec<OfficialCertificate>, StoreError> {
        let sql = format!(
            "SELECT {CERTIFICATE_COLUMNS} FROM official_certificates WHERE official_id = $1 ORDER BY created_at DESC, serial"
        );
        let rows: Vec<CertificateRow> = reading!(self, |p| sqlx::query_as(&sql)
            .bind(official_id)
            .fetch_all(p)
            .await)?;
        Ok(rows.into_iter().map(from_row).collect())
    }

    /// The CRL's entries: every certificate whose signer credential is revoked or suspended
    /// now, with the time that status began, by serial.
    pub async fn revoked_certificates(&self) -> Result<Vec<(String, i64)>, StoreError> {
        let rows: Vec<(String, Option<i64>, i64)> = reading!(self, |p| sqlx::query_as(
            "SELECT c.serial, s.status_changed_at, c.created_at FROM official_certificates c \
             JOIN signer_credentials s ON s.id = c.signer_credential_id \
             WHERE s.status <> 0 ORDER BY c.serial"
        )
        .fetch_all(p)
        .await)?;
        Ok(rows
            .into_iter()
            .map(|(serial, at, created)| (serial, at.unwrap_or(created)))
            .collect())
    }

    /// The PDF signature records whose signed file has this SHA-256 (hex).
    pub async fn signatures_by_signed_sha256(
        &self,
        sha256: &str,
    ) -> Result<Vec<SignatureRecord>, StoreError> {
        let sql = format!("SELECT {SIGNATURE_COLUMNS} FROM signatures WHERE signed_sha256 = $1 ORDER BY signed_at");
        let rows: Vec<SignatureRow> = reading!(self, |p| sqlx::query_as(&sql)
            .bind(sha256)
            .fetch_all(p)
            .await)?;
        Ok(rows.into_iter().map(signature_from_row).collect())
    }
}
