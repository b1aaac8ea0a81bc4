//! The officials' signing desk (`/sign/`, docs/sign.md): an official signs in with password
//! and TOTP, puts PDFs on the desk, places the stamp, approves the whole batch with one TOTP
//! code (a signing session of as many documents as are waiting), and downloads each signed PDF.
//!
//! The desk is in the database, not in a node's memory: an upload acknowledged is on the desk
//! for [`DESK_RETENTION`] whichever node answers next. A desk holds at most
//! [`DESK_MAX_WAITING`] unsigned documents and [`DESK_MAX_BYTES`] in all. Browser sessions are
//! those of the office ([`crate::office`]), for the app `sign`, shorter: [`DESK_IDLE`] without
//! a request, [`DESK_ABSOLUTE`] in all; a disabled official, a reset password or TOTP, or a
//! rotated key (the token epoch moves) ends them.

use crate::accounts::new_jti;
use crate::error::{Result, ServiceError};
use crate::office::SessionEnd;
use crate::pades::{SignedPdf, MAX_PDF};
use crate::signing::{
    ControlProof, OfficialClaims, SigningRefusal, MAX_SESSION_DOCUMENTS, OFFICIAL_TOKEN_ISSUER,
};
use crate::Service;
use base64::Engine;
use qrid_credential::docsig::DocumentRef;
use qrid_pdf::sign::Placement;
use qrid_store::{
    CredentialStatus, DeskDocument, DeskFile, NewDeskDocument, SignatureRecord, WebApp, WebSession,
};
use sha2::{Digest, Sha256};

/// Seconds without a request after which a desk session is over.
pub const DESK_IDLE: i64 = 15 * 60;
/// Seconds after sign-in after which a desk session is over.
pub const DESK_ABSOLUTE: i64 = 8 * 60 * 60;
/// How long a document stays on the desk after upload, signed or not (seconds).
pub const DESK_RETENTION: i64 = 24 * 60 * 60;
/// Most unsigned documents on one desk (a batch).
pub const DESK_MAX_WAITING: i64 = 20;
/// Most bytes on one desk, uploads and signed files together.
pub const DESK_MAX_BYTES: i64 = 256 << 20;
/// How long the signing session of an approval lasts (minutes): long enough for a batch of
/// [`DESK_MAX_WAITING`] large files.
const APPROVAL_MINUTES: i64 = 10;
/// The last-seen time is written at most this often (seconds).
const TOUCH_EVERY: i64 = 60;
/// Longest document id looked up.
const MAX_ID: usize = 64;

/// Who is signed in at the desk: what the pages show of the official (no secret).
#[derive(Debug, Clone)]
pub struct DeskOfficial {
    /// The official's id.
    pub id: String,
    /// Username.
    pub username: String,
    /// Full name, as the stamp shows it.
    pub full_name: String,
    /// Title.
    pub title: String,
    /// Agency.
    pub agency: String,
}

/// A desk session just opened: the cookie's token (shown once, never stored) and the
/// anti-forgery token.
pub struct OpenedDesk {
    /// The cookie value.
    pub token: String,
    /// The session's anti-forgery token.
    pub csrf: String,
    /// Who signed in.
    pub official: DeskOfficial,
}

impl std::fmt::Debug for OpenedDesk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenedDesk")
            .field("official", &self.official.id)
            .finish_non_exhaustive()
    }
}

/// A live desk session, as a request finds it.
#[derive(Debug, Clone)]
pub struct DeskSession {
    /// Who, as the account is now.
    pub official: DeskOfficial,
    /// The session's anti-forgery token.
    pub csrf: String,
    /// What the signing operations take: the claims of this session (they end when it does,
    /// and the account's token epoch is checked at each operation).
    pub claims: OfficialClaims,
}

/// One document's outcome in an approval.
#[derive(Debug)]
pub enum Approved {
    /// Signed: the record.
    Signed {
        /// The desk document.
        document: String,
        /// The signature record's id.
        signature_id: String,
    },
    /// Not signed, and why (the stable kind and the sentence).
    Refused {
        /// The desk document.
        document: String,
        /// The problem kind.
        kind: &'static str,
        /// What was wrong.
        message: String,
    },
}

/// A signature of the official's history with its signer credential's status now.
#[derive(Debug)]
pub struct HistoryEntry {
    /// The record.
    pub record: SignatureRecord,
    /// The signer credential's status now (a signature made before a revocation stays valid).
    pub status_now: Option<CredentialStatus>,
}

fn random_token() -> String {
    let mut b = [0u8; 32];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut b);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

fn token_digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

fn view(o: &qrid_store::OfficialRecord) -> DeskOfficial {
    DeskOfficial {
        id: o.id.clone(),
        username: o.username.clone(),
        full_name: o.full_name.clone(),
        title: o.title.clone(),
        agency: o.agency.clone(),
    }
}

/// A desk document id as looked up: short and of the id alphabet, else not found.
fn document_id(id: &str) -> Result<&str> {
    if id.is_empty()
        || id.len() > MAX_ID
        || !id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(ServiceError::NotFound("document"));
    }
    Ok(id)
}

/// A file name as uploaded, reduced to its last path part (browsers may send a path) and
/// trimmed; the stamp and the record carry it, so [`DocumentRef`]'s rules apply.
fn upload_name(name: &str) -> String {
    name.rsplit(['/', '\\'])
        .next()
        .unwrap_or_default()
        .trim()
        .to_owned()
}

impl Service {
    /// Signs an official in at the desk with password and TOTP code, with exactly the checks,
    /// lockouts and single refusal of [`Service::official_sign_in`], and opens a browser
    /// session of the app `sign`.
    pub async fn desk_sign_in(
        &self,
        username: &str,
        password: &str,
        code: &str,
    ) -> Result<OpenedDesk> {
        let o = self
            .check_official_sign_in(username, password, code)
            .await?;
        let now = self.now();
        let token = random_token();
        let csrf = random_token();
        self.store
            .create_web_session(
                &token_digest(&token),
                &WebSession {
                    app: WebApp::Sign,
                    subject: o.id.clone(),
                    epoch: o.token_epoch,
                    csrf: csrf.clone(),
                    created_at: now,
                    last_seen: now,
                    expires_at: now + DESK_ABSOLUTE,
                },
                now - DESK_IDLE.max(crate::office::OFFICE_IDLE),
            )
            .await?;
        // Fails closed: a sign-in the audit table cannot show opens no session that lasts.
        self.store
            .audit(&qrid_store::AuditEntry {
                at: now,
                actor: format!("official:{}", o.username),
                action: "official.login".into(),
                subject: Some(o.id.clone()),
                detail: r#"{"via":"sign"}"#.into(),
            })
            .await?;
        tracing::info!(official = %o.id, "official signed in at the desk");
        Ok(OpenedDesk {
            token,
            csrf,
            official: view(&o),
        })
    }

    /// The live desk session a cookie names, or [`ServiceError::Session`] saying why there is
    /// none. A session found over is deleted.
    pub async fn desk_session(&self, token: &str) -> Result<DeskSession> {
        if token.is_empty() || token.len() > 64 {
            return Err(ServiceError::Session(SessionEnd::Missing));
        }
        let digest = token_digest(token);
        let s = self
            .store
            .web_session(WebApp::Sign, &digest)
            .await?
            .ok_or(ServiceError::Session(SessionEnd::Missing))?;
        let now = self.now();
        let ended = if now >= s.expires_at {
            SessionEnd::Expired
        } else if now - s.last_seen > DESK_IDLE {
            SessionEnd::Idle
        } else {
            match self.store.official(&s.subject).await? {
                Some(o) if !o.disabled && o.token_epoch == s.epoch => {
                    if now - s.last_seen >= TOUCH_EVERY {
                        self.store.touch_web_session(&digest, now).await?;
                    }
                    let claims = OfficialClaims {
                        sub: o.id.clone(),
                        role: "official".into(),
                        username: o.username.clone(),
                        iat: s.created_at,
                        exp: s.expires_at,
                        iss: OFFICIAL_TOKEN_ISSUER.into(),
                        jti: new_jti(),
                        epoch: o.token_epoch,
                    };
                    return Ok(DeskSession {
                        official: view(&o),
                        csrf: s.csrf,
                        claims,
                    });
                }
                _ => SessionEnd::AccountChanged,
            }
        };
        self.store.delete_web_session(&digest).await?;
        Err(ServiceError::Session(ended))
    }

    /// Ends the desk session a cookie names. Ending one that is gone is no error.
    pub async fn desk_sign_out(&self, token: &str) -> Result<()> {
        if token.is_empty() || token.len() > 64 {
            return Ok(());
        }
        Ok(self.store.delete_web_session(&token_digest(token)).await?)
    }

    /// Puts an uploaded PDF on the official's desk. The file is read first (bounded, as
    /// signing reads it), so what is on the desk is a PDF this service can sign: not a PDF,
    /// malformed, encrypted, unsupported or over [`MAX_PDF`] is refused with its kind, and so is
    /// a name the stamp cannot carry. A desk already holding [`DESK_MAX_WAITING`] unsigned
    /// documents or [`DESK_MAX_BYTES`] refuses more (`desk_full`).
    pub async fn desk_upload(
        &self,
        claims: &OfficialClaims,
        name: &str,
        pdf: Vec<u8>,
    ) -> Result<DeskDocument> {
        let o = self.current_official(claims).await?;
        if pdf.len() > MAX_PDF {
            return Err(SigningRefusal::Pdf {
                kind: "pdf_too_large",
                message: format!("the PDF is over the {} MiB limit", MAX_PDF >> 20),
            }
            .into());
        }
        let name = upload_name(name);
        if name.is_empty() {
            return Err(SigningRefusal::MissingName.into());
        }
        let sha256: [u8; 32] = Sha256::digest(&pdf).into();
        DocumentRef::new(sha256, &name, "application/pdf")
            .map_err(|e| SigningRefusal::InvalidDocument(e.to_string()))?;
        let (pdf, page) = tokio::task::spawn_blocking(move || {
            let page = qrid_pdf::last_page(&pdf);
            (pdf, page)
        })
        .await
        .map_err(ServiceError::internal)?;
        let page = page.map_err(|e| SigningRefusal::Pdf {
            kind: e.kind(),
            message: e.to_string(),
        })?;
        let [x0, y0, x1, y1] = page.media_box;
        let now = self.now();
        let doc = NewDeskDocument {
            id: qrid_credential::CredentialId::random().to_string(),
            official_id: o.id.clone(),
            name,
            sha256: hex::encode(sha256),
            pages: i64::try_from(page.pages).unwrap_or(i64::MAX),
            // Points, rounded: only for showing the page's shape.
            page_width: (x1 - x0).abs().round().clamp(1.0, 1e6) as i64,
            page_height: (y1 - y0).abs().round().clamp(1.0, 1e6) as i64,
            bytes: pdf,
            created_at: now,
        };
        match self
            .store
            .insert_desk_document(&doc, now - DESK_RETENTION, DESK_MAX_WAITING, DESK_MAX_BYTES)
            .await?
        {
            Ok(()) => {}
            Err(qrid_store::DeskFull) => return Err(ServiceError::DeskFull),
        }
        tracing::info!(official = %o.id, document = %doc.id, "PDF put on the desk");
        Ok(DeskDocument {
            id: doc.id,
            name: doc.name,
            sha256: doc.sha256,
            size: i64::try_from(doc.bytes.len()).unwrap_or(i64::MAX),
            pages: doc.pages,
            page_width: doc.page_width,
            page_height: doc.page_height,
            place: None,
            signature_id: None,
            created_at: now,
        })
    }

    /// The official's desk, oldest first: what waits for approval and what was signed, for
    /// [`DESK_RETENTION`] after upload.
    pub async fn desk(&self, claims: &OfficialClaims) -> Result<Vec<DeskDocument>> {
        let o = self.current_official(claims).await?;
        Ok(self
            .store
            .desk_documents(&o.id, self.now() - DESK_RETENTION)
            .await?)
    }

    /// One desk document with its file (the upload, or the signed PDF once approved); not
    /// found if it is not this official's, is gone, or (signed) is not signed yet.
    pub async fn desk_file(
        &self,
        claims: &OfficialClaims,
        id: &str,
        which: DeskFile,
    ) -> Result<(DeskDocument, Vec<u8>)> {
        let o = self.current_official(claims).await?;
        let found = self.store.desk_file(&o.id, document_id(id)?, which).await?;
        match found {
            Some((d, bytes)) if d.created_at >= self.now() - DESK_RETENTION => Ok((d, bytes)),
            _ => Err(ServiceError::NotFound("document")),
        }
    }

    /// Sets where an unsigned document's stamp goes: thousandths across and up of the room
    /// the last page leaves for it (0 to 1000 each), or `None` for the default, bottom right.
    pub async fn desk_place(
        &self,
        claims: &OfficialClaims,
        id: &str,
        place: Option<(i64, i64)>,
    ) -> Result<()> {
        let o = self.current_official(claims).await?;
        if place.is_some_and(|(x, y)| !(0..=1000).contains(&x) || !(0..=1000).contains(&y)) {
            return Err(ServiceError::InvalidRequest(
                "the stamp's place is 0 to 1000 across and up".into(),
            ));
        }
        if self
            .store
            .set_desk_place(&o.id, document_id(id)?, place)
            .await?
        {
            Ok(())
        } else {
            Err(ServiceError::NotFound("unsigned document"))
        }
    }

    /// Takes a document off the desk (`Some(id)`), or every signed one (`None`).
    pub async fn desk_remove(&self, claims: &OfficialClaims, id: Option<&str>) -> Result<u64> {
        let o = self.current_official(claims).await?;
        let id = id.map(document_id).transpose()?;
        Ok(self.store.remove_desk_documents(&o.id, id).await?)
    }

    /// Signs every unsigned document on the desk with one TOTP code: the code opens a signing
    /// session of exactly that many documents ([`Service::open_signing_session`]; a wrong,
    /// malformed or reused code is refused and nothing is signed), and each document is
    /// signed through it ([`Service::sign_pdf`]) at its place. A document that cannot be
    /// signed is answered [`Approved::Refused`] and stays on the desk; the others are signed.
    pub async fn desk_approve(&self, claims: &OfficialClaims, code: &str) -> Result<Vec<Approved>> {
        let o = self.current_official(claims).await?;
        let waiting: Vec<DeskDocument> = self
            .store
            .desk_documents(&o.id, self.now() - DESK_RETENTION)
            .await?
            .into_iter()
            .filter(|d| d.signature_id.is_none())
            .collect();
        if waiting.is_empty() {
            return Err(ServiceError::InvalidRequest(
                "there is nothing waiting to be signed".into(),
            ));
        }
        let n = i64::try_from(waiting.len())
            .unwrap_or(i64::MAX)
            .min(MAX_SESSION_DOCUMENTS);
        // The signer credential first: a revoked official gets one clear refusal and the
        // code is not used up for nothing.
        self.usable_signer_credential(&o, self.now()).await?;
        let session = self
            .open_signing_session(claims, ControlProof::Totp(Some(code)), n, APPROVAL_MINUTES)
            .await?;
        let mut out = Vec::with_capacity(waiting.len());
        for d in waiting.into_iter().take(usize::try_from(n).unwrap_or(0)) {
            match self.desk_sign_one(claims, &o.id, &d, &session.token).await {
                Ok(signed) => out.push(Approved::Signed {
                    document: d.id,
                    signature_id: signed.id,
                }),
                Err(e) => {
                    tracing::info!(official = %o.id, document = %d.id, kind = e.kind(), "desk document not signed");
                    out.push(Approved::Refused {
                        document: d.id,
                        kind: e.kind(),
                        message: e.to_string(),
                    })
                }
            }
        }
        Ok(out)
    }

    async fn desk_sign_one(
        &self,
        claims: &OfficialClaims,
        official_id: &str,
        d: &DeskDocument,
        session: &str,
    ) -> Result<SignedPdf> {
        let (_, bytes) = self
            .store
            .desk_file(official_id, &d.id, DeskFile::Original)
            .await?
            .ok_or(ServiceError::NotFound("document"))?;
        self.begin_signing(claims, ControlProof::Session(Some(session)))
            .await?;
        let placement = match d.place {
            None => Placement::BottomRight,
            Some((x, y)) => Placement::At {
                x: x as f64 / 1000.0,
                y: y as f64 / 1000.0,
            },
        };
        let signed = self.sign_pdf(claims, bytes, &d.name, placement).await?;
        if !self
            .store
            .set_desk_signed(official_id, &d.id, &signed.id, &signed.pdf)
            .await?
        {
            // Removed from the desk while it was being signed: the signature stands (it is
            // recorded) but there is nowhere to keep the file.
            tracing::warn!(document = %d.id, signature = %signed.id, "desk document gone while signing");
        }
        Ok(signed)
    }

    /// The official's signatures, newest first (`limit`, before `before`), each with its
    /// signer credential's status now.
    pub async fn desk_history(
        &self,
        claims: &OfficialClaims,
        limit: i64,
        before: Option<i64>,
    ) -> Result<Vec<HistoryEntry>> {
        let records = self.my_signatures(claims, limit, before).await?;
        let mut statuses: std::collections::HashMap<String, Option<CredentialStatus>> =
            std::collections::HashMap::new();
        let mut out = Vec::with_capacity(records.len());
        for record in records {
            let status_now = match statuses.get(&record.signer_credential_id) {
                Some(s) => *s,
                None => {
                    let s = self
                        .store
                        .signer_credential(&record.signer_credential_id)
                        .await?
                        .map(|c| c.status);
                    statuses.insert(record.signer_credential_id.clone(), s);
                    s
                }
            };
            out.push(HistoryEntry { record, status_now });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upload_names_lose_their_path() {
        assert_eq!(
            upload_name("C:\\Users\\a\\quyết định.pdf"),
            "quyết định.pdf"
        );
        assert_eq!(upload_name("/tmp/x/a.pdf "), "a.pdf");
        assert_eq!(upload_name("a.pdf"), "a.pdf");
        assert_eq!(upload_name("dir/"), "");
    }

    #[test]
    fn document_ids_are_bounded_and_plain() {
        assert!(document_id("abc-DEF_123").is_ok());
        assert!(document_id("").is_err());
        assert!(document_id("../etc").is_err());
        assert!(document_id(&"a".repeat(65)).is_err());
    }
}
