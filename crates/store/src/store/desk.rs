//! The officials' signing desk: PDFs uploaded and waiting for approval, then signed and kept
//! for download. Every function takes the official's id and touches only their rows, so one
//! official never reads or changes another's documents, whatever id a request names.

use super::{BeginWrite, Pools, Store};
use crate::error::StoreError;

/// A PDF to put on an official's desk.
#[derive(Clone)]
pub struct NewDeskDocument {
    /// Random id (the service makes it).
    pub id: String,
    /// Whose desk.
    pub official_id: String,
    /// The file's name as uploaded (checked by the service).
    pub name: String,
    /// The PDF.
    pub bytes: Vec<u8>,
    /// SHA-256 of `bytes`, 64 lower-case hex digits.
    pub sha256: String,
    /// Pages in the document.
    pub pages: i64,
    /// The last page's width in points (where the stamp goes).
    pub page_width: i64,
    /// The last page's height in points.
    pub page_height: i64,
    /// Unix seconds.
    pub created_at: i64,
}

impl std::fmt::Debug for NewDeskDocument {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The name and content may be personal data: ids and sizes only.
        f.debug_struct("NewDeskDocument")
            .field("id", &self.id)
            .field("official_id", &self.official_id)
            .field("size", &self.bytes.len())
            .finish_non_exhaustive()
    }
}

/// A document on a desk, without its bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct DeskDocument {
    /// Its id.
    pub id: String,
    /// The file's name.
    pub name: String,
    /// SHA-256 of the uploaded file, hex.
    pub sha256: String,
    /// Bytes uploaded.
    pub size: i64,
    /// Pages.
    pub pages: i64,
    /// The last page's width in points.
    pub page_width: i64,
    /// The last page's height in points.
    pub page_height: i64,
    /// Where the stamp goes, in thousandths across and up of the room the last page leaves
    /// for it; `None` is the default, bottom right.
    pub place: Option<(i64, i64)>,
    /// The signature record, once signed.
    pub signature_id: Option<String>,
    /// Unix seconds.
    pub created_at: i64,
}

impl std::fmt::Debug for DeskDocument {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeskDocument")
            .field("id", &self.id)
            .field("size", &self.size)
            .field("signature_id", &self.signature_id)
            .finish_non_exhaustive()
    }
}

/// The desk already holds as many unsigned documents, or as many bytes, as it may: nothing was
/// stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeskFull;

#[derive(sqlx::FromRow)]
struct DeskRow {
    id: String,
    name: String,
    sha256: String,
    size: i64,
    pages: i64,
    page_width: i64,
    page_height: i64,
    place_x: Option<i64>,
    place_y: Option<i64>,
    signature_id: Option<String>,
    created_at: i64,
}

#[derive(sqlx::FromRow)]
struct FileRow {
    #[sqlx(flatten)]
    doc: DeskRow,
    file: Option<Vec<u8>>,
}

const COLUMNS: &str = "id, name, sha256, size, pages, page_width, page_height, place_x, place_y, signature_id, created_at";

fn from_row(r: DeskRow) -> DeskDocument {
    DeskDocument {
        id: r.id,
        name: r.name,
        sha256: r.sha256,
        size: r.size,
        pages: r.pages,
        page_width: r.page_width,
        page_height: r.page_height,
        place: r.place_x.zip(r.place_y),
        signature_id: r.signature_id,
        created_at: r.created_at,
    }
}

/// Which file of a desk document to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeskFile {
    /// The PDF as uploaded.
    Original,
    /// The signed PDF (none before approval).
    Signed,
}

impl Store {
    /// Puts a PDF on an official's desk, after deleting their documents uploaded before
    /// `purge_before`. Refused with [`DeskFull`] (nothing stored) if the desk would then hold
    /// more than `max_documents` unsigned documents or `max_bytes` bytes in all.
    pub async fn insert_desk_document(
        &self,
        doc: &NewDeskDocument,
        purge_before: i64,
        max_documents: i64,
        max_bytes: i64,
    ) -> Result<Result<(), DeskFull>, StoreError> {
        let size = i64::try_from(doc.bytes.len()).map_err(|_| StoreError::Invalid("size"))?;
        writing!(self, |p| {
            let mut tx = p.begin_write().await?;
            sqlx::query("DELETE FROM desk_documents WHERE official_id = $1 AND created_at < $2")
                .bind(&doc.official_id)
                .bind(purge_before)
                .execute(&mut *tx)
                .await?;
            let (unsigned, bytes): (i64, i64) = sqlx::query_as(
                // PostgreSQL sums BIGINT into NUMERIC: cast back.
                "SELECT CAST(COALESCE(SUM(CASE WHEN signature_id IS NULL THEN 1 ELSE 0 END), 0) AS BIGINT), \
                 CAST(COALESCE(SUM(size + COALESCE(LENGTH(signed), 0)), 0) AS BIGINT) \
                 FROM desk_documents WHERE official_id = $1",
            )
            .bind(&doc.official_id)
            .fetch_one(&mut *tx)
            .await?;
            if unsigned >= max_documents || bytes.saturating_add(size) > max_bytes {
                return Ok(Err(DeskFull));
            }
            let (seq,): (i64,) = sqlx::query_as(
                "SELECT CAST(COALESCE(MAX(seq), 0) + 1 AS BIGINT) FROM desk_documents WHERE official_id = $1",
            )
            .bind(&doc.official_id)
            .fetch_one(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO desk_documents (id, official_id, seq, name, bytes, sha256, size, pages, page_width, page_height, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            )
            .bind(&doc.id)
            .bind(&doc.official_id)
            .bind(seq)
            .bind(&doc.name)
            .bind(&doc.bytes)
            .bind(&doc.sha256)
            .bind(size)
            .bind(doc.pages)
            .bind(doc.page_width)
            .bind(doc.page_height)
            .bind(doc.created_at)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(Ok(()))
        })
    }

    /// An official's desk in the order of upload, uploaded at or after `since`.
    pub async fn desk_documents(
        &self,
        official_id: &str,
        since: i64,
    ) -> Result<Vec<DeskDocument>, StoreError> {
        let rows: Vec<DeskRow> = reading!(self, |p| {
            sqlx::query_as(&format!(
                "SELECT {COLUMNS} FROM desk_documents WHERE official_id = $1 AND created_at >= $2 \
                 ORDER BY seq, id"
            ))
            .bind(official_id)
            .bind(since)
            .fetch_all(p)
            .await
        })?;
        Ok(rows.into_iter().map(from_row).collect())
    }

    /// One of an official's desk documents with the file asked for; `None` if they have no
    /// such document (or, for [`DeskFile::Signed`], it is not signed yet).
    pub async fn desk_file(
        &self,
        official_id: &str,
        id: &str,
        which: DeskFile,
    ) -> Result<Option<(DeskDocument, Vec<u8>)>, StoreError> {
        let column = match which {
            DeskFile::Original => "bytes",
            DeskFile::Signed => "signed",
        };
        let row: Option<FileRow> = reading!(self, |p| {
            sqlx::query_as(&format!(
                "SELECT {COLUMNS}, {column} AS file FROM desk_documents WHERE official_id = $1 AND id = $2"
            ))
            .bind(official_id)
            .bind(id)
            .fetch_optional(p)
            .await
        })?;
        Ok(row.and_then(|r| r.file.map(|f| (from_row(r.doc), f))))
    }

    /// Sets where an unsigned desk document's stamp goes (`None`: the default). False if the
    /// official has no such unsigned document.
    pub async fn set_desk_place(
        &self,
        official_id: &str,
        id: &str,
        place: Option<(i64, i64)>,
    ) -> Result<bool, StoreError> {
        if place.is_some_and(|(x, y)| !(0..=1000).contains(&x) || !(0..=1000).contains(&y)) {
            return Err(StoreError::Invalid("a stamp place is 0 to 1000 each way"));
        }
        writing!(self, |p| {
            let r = sqlx::query(
                "UPDATE desk_documents SET place_x = $1, place_y = $2 \
                 WHERE official_id = $3 AND id = $4 AND signature_id IS NULL",
            )
            .bind(place.map(|p| p.0))
            .bind(place.map(|p| p.1))
            .bind(official_id)
            .bind(id)
            .execute(p)
            .await?;
            Ok(r.rows_affected() == 1)
        })
    }

    /// Keeps the signed PDF of a desk document and the record that signed it. False if the
    /// official has no such unsigned document (signed meanwhile, or removed).
    pub async fn set_desk_signed(
        &self,
        official_id: &str,
        id: &str,
        signature_id: &str,
        signed: &[u8],
    ) -> Result<bool, StoreError> {
        writing!(self, |p| {
            let r = sqlx::query(
                "UPDATE desk_documents SET signature_id = $1, signed = $2 \
                 WHERE official_id = $3 AND id = $4 AND signature_id IS NULL",
            )
            .bind(signature_id)
            .bind(signed)
            .bind(official_id)
            .bind(id)
            .execute(p)
            .await?;
            Ok(r.rows_affected() == 1)
        })
    }

    /// Takes documents off an official's desk: the one named, or (`id` = `None`) every signed
    /// one. Returns how many went.
    pub async fn remove_desk_documents(
        &self,
        official_id: &str,
        id: Option<&str>,
    ) -> Result<u64, StoreError> {
        writing!(self, |p| {
            let r = match id {
                Some(id) => {
                    sqlx::query("DELETE FROM desk_documents WHERE official_id = $1 AND id = $2")
                        .bind(official_id)
                        .bind(id)
                        .execute(p)
                        .await?
                }
                None => {
                    sqlx::query(
                        "DELETE FROM desk_documents WHERE official_id = $1 AND signature_id IS NOT NULL",
                    )
                    .bind(official_id)
                    .execute(p)
                    .await?
                }
            };
            Ok(r.rows_affected())
        })
    }
}
