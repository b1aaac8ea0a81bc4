//! Officials' PDF signatures (PAdES B-B; docs/signature-format.md "PDF signatures (PAdES)"):
//! the authority's CA, each official's P-256 key and certificate (one per signer credential,
//! revoked with it), signing a PDF with a visible QR stamp, the CRL, and the verification of
//! signed PDFs with this service's live status.

use crate::custody::{binding, Purpose};
use crate::error::{Result, ServiceError};
use crate::ids::ClientId;
use crate::signing::{OfficialClaims, SigningRefusal};
use crate::Service;
use anyhow::{bail, Context};
use p256::ecdsa::SigningKey as P256Key;
use p256::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use qrid_credential::docsig::DocumentRef;
use qrid_credential::{Stamp, Text};
use qrid_pdf::{pki, Appearance, Cert, CertStatus, PdfError, PdfVerdict, Placement, SignatureInfo};
use qrid_store::{
    CredentialStatus, NewSignature, OfficialCertificate, OfficialRecord, PadesSignature,
    SignerCredentialRecord,
};
use sha2::{Digest, Sha256};
use std::path::Path;
use zeroize::Zeroizing;

/// The CA's private key in the key directory (PKCS#8 PEM, mode 0600).
pub const CA_KEY_FILE: &str = "ca.key.pem";
/// The CA's certificate in the key directory (PEM), served at `/v1/pki/ca.pem`.
pub const CA_CERT_FILE: &str = "ca.pem";
/// Largest PDF signed or verified, bytes.
pub const MAX_PDF: usize = 32 << 20;
/// How long a CRL is good for: `nextUpdate` is this long after `thisUpdate`.
pub const CRL_LIFETIME: i64 = 3600;
const DEV_CA: &str = include_str!("../../../keys-dev/ca.pem");

/// The authority's certification authority: its key and self-signed certificate.
pub struct Authority {
    key: P256Key,
    cert: Cert,
}

impl std::fmt::Debug for Authority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Authority(serial {})", self.cert.serial_hex())
    }
}

impl Authority {
    /// Loads `ca.key.pem` and `ca.pem` from `dir`: the key must be the certificate's, a P-256
    /// CA. In production, refuses the development CA of keys-dev/ wherever it was copied to.
    pub fn load(dir: &Path, production: bool) -> anyhow::Result<Authority> {
        let read = |name: &str| -> anyhow::Result<Zeroizing<String>> {
            let path = dir.join(name);
            let meta = std::fs::metadata(&path).with_context(|| {
                format!(
                    "{} is missing; `qrid keygen --out {} --login-keys` adds the CA beside the other keys",
                    path.display(),
                    dir.display()
                )
            })?;
            if meta.len() > 64 * 1024 {
                bail!("{} is larger than 64 KiB", path.display());
            }
            Ok(Zeroizing::new(
                std::fs::read_to_string(&path)
                    .with_context(|| format!("cannot read {}", path.display()))?,
            ))
        };
        let key = P256Key::from_pkcs8_pem(&read(CA_KEY_FILE)?)
            .map_err(|e| anyhow::anyhow!("{CA_KEY_FILE}: not a P-256 private key: {e}"))?;
        let cert = Cert::from_pem(&read(CA_CERT_FILE)?)
            .map_err(|e| anyhow::anyhow!("{CA_CERT_FILE}: {e}"))?;
        if cert.public_key().ok().as_ref() != Some(key.verifying_key()) {
            bail!("{CA_CERT_FILE} is not the certificate of {CA_KEY_FILE}");
        }
        if production {
            let dev = Cert::from_pem(DEV_CA)
                .ok()
                .and_then(|c| c.public_key().ok());
            if dev.as_ref() == Some(key.verifying_key()) {
                bail!("production mode refuses the development CA (keys-dev/ca.key.pem)");
            }
        }
        Ok(Authority { key, cert })
    }

    /// The CA certificate.
    pub fn certificate(&self) -> &Cert {
        &self.cert
    }
}

/// Writes a new CA (a P-256 key and a self-signed certificate valid for 20 years, named after
/// `agency`) into `dir` unless one exists: a new CA would leave every certificate issued
/// unverifiable. Returns whether it wrote one.
pub fn generate_ca(
    dir: &Path,
    agency: &str,
    now: i64,
    write_private: &dyn Fn(&Path, &[u8]) -> anyhow::Result<()>,
) -> anyhow::Result<bool> {
    if dir.join(CA_KEY_FILE).exists() || dir.join(CA_CERT_FILE).exists() {
        return Ok(false);
    }
    let key = P256Key::random(&mut rand_core::OsRng);
    let mut serial = [0u8; 16];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut serial);
    let der = pki::ca_certificate(
        &key,
        key.verifying_key(),
        &pki::Subject {
            common_name: format!("{agency} CA"),
            title: None,
            organization: Some(agency.to_owned()),
            serial: None,
            country: Some("VN".into()),
        },
        &serial,
        now - 3600,
        now + 20 * 365 * 86_400,
    )?;
    let pem = key
        .to_pkcs8_pem(p256::pkcs8::LineEnding::LF)
        .map_err(|e| anyhow::anyhow!("CA key: {e}"))?;
    write_private(&dir.join(CA_KEY_FILE), pem.as_bytes())?;
    std::fs::write(dir.join(CA_CERT_FILE), pki::pem_encode("CERTIFICATE", &der))
        .context("cannot write ca.pem")?;
    Ok(true)
}

/// A PDF just signed and recorded.
#[derive(Debug)]
pub struct SignedPdf {
    /// The record's id.
    pub id: String,
    /// The signed document.
    pub pdf: Vec<u8>,
    /// The stamp's text (in the QR on the page).
    pub stamp: String,
    /// Signing time, Unix seconds.
    pub signed_at: i64,
    /// Where the record is published.
    pub url: String,
    /// The document's name.
    pub name: String,
    /// SHA-256 of the document as uploaded.
    pub original_sha256: [u8; 32],
    /// SHA-256 of the signed document.
    pub signed_sha256: [u8; 32],
    /// The certificate's serial.
    pub certificate_serial: String,
    /// Where the stamp went on the last page, points.
    pub rect: [f64; 4],
}

fn pdf_refusal(e: PdfError) -> ServiceError {
    SigningRefusal::Pdf {
        kind: e.kind(),
        message: e.to_string(),
    }
    .into()
}

/// `YYYY-MM-DD hh:mm UTC` of Unix seconds.
fn utc(at: i64) -> String {
    let d = qrid_pdf::sign::pdf_date(at);
    format!(
        "{}-{}-{} {}:{} UTC",
        &d[2..6],
        &d[6..8],
        &d[8..10],
        &d[10..12],
        &d[12..14]
    )
}

impl Service {
    /// The CA.
    pub fn authority(&self) -> &Authority {
        &self.authority
    }

    /// The official's certificate for signer credential `sc`, issued now if it has none (a
    /// fresh P-256 key, sealed under the KEK, bound to the username and the serial; the
    /// certificate's validity is the signer credential's).
    async fn certificate_for(
        &self,
        o: &OfficialRecord,
        sc: &SignerCredentialRecord,
    ) -> Result<(OfficialCertificate, Cert)> {
        if let Some(c) = self.store.certificate_of_signer_credential(&sc.id).await? {
            let cert = Cert::from_der(&c.certificate).map_err(ServiceError::internal)?;
            return Ok((c, cert));
        }
        let key = P256Key::random(&mut rand_core::OsRng);
        let mut serial = [0u8; 16];
        rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut serial);
        let der = pki::official_certificate(
            &self.authority.key,
            &self.authority.cert,
            key.verifying_key(),
            &pki::Subject {
                common_name: o.full_name.clone(),
                title: Some(o.title.clone()),
                organization: Some(o.agency.clone()),
                serial: Some(o.id.clone()),
                country: Some("VN".into()),
            },
            &serial,
            sc.issued_at,
            sc.expires_at,
            &format!("{}/v1/pki/crl", self.config.public_url),
        )
        .map_err(ServiceError::internal)?;
        let cert = Cert::from_der(&der).map_err(ServiceError::internal)?;
        let secret = Zeroizing::new(key.to_bytes().to_vec());
        let record = OfficialCertificate {
            serial: cert.serial_hex(),
            official_id: o.id.clone(),
            signer_credential_id: sc.id.clone(),
            key_sealed: self.kek.seal(
                Purpose::PdfKey,
                &binding(&o.username, &cert.serial_hex()),
                &secret,
            ),
            certificate: der,
            not_before: sc.issued_at,
            not_after: sc.expires_at,
            created_at: self.now(),
        };
        match self
            .store
            .insert_official_certificate(&record, &format!("official:{}", o.username))
            .await
        {
            Ok(()) => {
                tracing::info!(official = %o.id, serial = %record.serial, "certificate issued");
                Ok((record, cert))
            }
            // Two first signatures at once: the other one's certificate stands.
            Err(qrid_store::StoreError::Conflict(_)) => {
                let c = self
                    .store
                    .certificate_of_signer_credential(&sc.id)
                    .await?
                    .ok_or_else(|| ServiceError::internal("certificate lost after a conflict"))?;
                let cert = Cert::from_der(&c.certificate).map_err(ServiceError::internal)?;
                Ok((c, cert))
            }
            Err(e) => Err(e.into()),
        }
    }

    fn pdf_key(&self, o: &OfficialRecord, c: &OfficialCertificate, cert: &Cert) -> Result<P256Key> {
        let bytes = self
            .kek
            .open(
                Purpose::PdfKey,
                &binding(&o.username, &c.serial),
                &c.key_sealed,
            )
            .map_err(|e| ServiceError::internal(format!("official {}: {}", o.id, e.kind())))?;
        let key = P256Key::from_slice(&bytes)
            .map_err(|_| ServiceError::internal(format!("official {}: PDF key", o.id)))?;
        if cert.public_key().ok().as_ref() != Some(key.verifying_key()) {
            return Err(ServiceError::internal(format!(
                "official {}: sealed PDF key is not the certificate's",
                o.id
            )));
        }
        Ok(key)
    }

    /// Signs `pdf` (named `name`) for the signed-in official, after
    /// [`Service::begin_signing`] proved sole control: a PAdES B-B signature by the official's
    /// certified P-256 key, with the QR stamp, their name, title, agency and the signing time
    /// drawn at `placement` on the last page; recorded like a JWS signature. Refuses what
    /// [`Service::sign_document`] refuses, and documents that are not PDFs this service can
    /// sign (`not_pdf`, `malformed_pdf`, `encrypted_pdf`, `unsupported_pdf`, `pdf_too_large`),
    /// with nothing signed or recorded.
    pub async fn sign_pdf(
        &self,
        claims: &OfficialClaims,
        pdf: Vec<u8>,
        name: &str,
        placement: Placement,
    ) -> Result<SignedPdf> {
        if pdf.len() > MAX_PDF {
            return Err(pdf_refusal(PdfError::TooLarge("over the 32 MiB limit")));
        }
        let o = self.current_official(claims).await?;
        let original_sha256: [u8; 32] = Sha256::digest(&pdf).into();
        if name.trim().is_empty() {
            return Err(SigningRefusal::MissingName.into());
        }
        let document = DocumentRef::new(original_sha256, name, "application/pdf")
            .map_err(|e| SigningRefusal::InvalidDocument(e.to_string()))?;
        let at = self.now();
        let sc = self.usable_signer_credential(&o, at).await?;
        // The document is read before a certificate is issued or anything recorded.
        let pdf = tokio::task::spawn_blocking(move || qrid_pdf::last_page(&pdf).map(|_| pdf))
            .await
            .map_err(ServiceError::internal)?
            .map_err(pdf_refusal)?;
        let (cert_record, cert) = self.certificate_for(&o, &sc).await?;
        let key = self.pdf_key(&o, &cert_record, &cert)?;
        let id = qrid_credential::CredentialId::random().to_string();
        let url = self.signature_url(&id);
        let text = |field: &'static str, value: &str| {
            Text::new(field, value, 300, false)
                .map_err(|e| ServiceError::from(SigningRefusal::InvalidText(e.to_string())))
        };
        let issuer = self.keys();
        let stamp = Stamp {
            signature_id: id.clone(),
            url: url.clone(),
            digest: original_sha256,
            signed_at: at,
            signer: text("name", &o.full_name)?,
            role: Some((text("title", &o.title)?, text("agency", &o.agency)?)),
            document_name: document.name.clone(),
        }
        .sign(issuer.current.signing_key(), issuer.current.kid())
        .map_err(ServiceError::internal)?;
        let symbol =
            qrid_qr::Symbol::encode(&stamp, qrid_qr::Ecc::M).map_err(ServiceError::internal)?;
        let n = symbol.modules();
        let appearance = Appearance {
            qr: (0..n)
                .map(|y| (0..n).map(|x| symbol.is_dark(x, y)).collect())
                .collect(),
            lines: vec![
                o.full_name.clone(),
                o.title.clone(),
                o.agency.clone(),
                format!("Ky so / Signed: {}", utc(at)),
                format!("Ma ho so / Record: {id}"),
                "Quet ma QR de kiem tra / Scan the QR to check".into(),
            ],
        };
        let info = SignatureInfo {
            field_name: format!("qrid-{id}"),
            signing_time: at,
            signer_name: o.full_name.clone(),
            reason: Some("Ký số / Digitally signed".into()),
            location: None,
        };
        let chain = self.authority.cert.clone();
        let (signed, rect) = tokio::task::spawn_blocking(move || {
            qrid_pdf::sign_pdf(&pdf, &info, &appearance, placement, &key, &cert, &[&chain])
        })
        .await
        .map_err(ServiceError::internal)?
        .map_err(pdf_refusal)?;
        let signed_sha256: [u8; 32] = Sha256::digest(&signed).into();
        let record = NewSignature {
            id: id.clone(),
            official_id: o.id.clone(),
            signer_credential_id: sc.id.clone(),
            digest: document.digest_hex(),
            document_name: document.name.as_str().to_owned(),
            media_type: document.media_type.clone(),
            signed_at: at,
            jws: String::new(),
            stamp: stamp.clone(),
            pades: Some(PadesSignature {
                certificate_serial: cert_record.serial.clone(),
                signed_sha256: hex::encode(signed_sha256),
            }),
        };
        self.store
            .record_signature(&record, &format!("official:{}", o.username), at)
            .await?;
        tracing::info!(signature = %id, official = %o.id, "PDF signed");
        Ok(SignedPdf {
            id,
            pdf: signed,
            stamp,
            signed_at: at,
            url,
            name: document.name.as_str().to_owned(),
            original_sha256,
            signed_sha256,
            certificate_serial: cert_record.serial,
            rect,
        })
    }

    /// The CA's CRL now (DER): every official certificate whose signer credential is revoked
    /// or suspended, with the time that began; `nextUpdate` [`CRL_LIFETIME`] later; the CRL
    /// number is the issuing second, so later lists have larger numbers.
    pub async fn crl(&self) -> Result<Vec<u8>> {
        let now = self.now();
        let revoked = self
            .store
            .revoked_certificates()
            .await?
            .into_iter()
            .filter_map(|(serial, at)| {
                hex::decode(serial)
                    .ok()
                    .map(|serial| pki::Revocation { serial, at })
            })
            .collect::<Vec<_>>();
        pki::crl(
            &self.authority.key,
            &self.authority.cert,
            &revoked,
            now,
            now + CRL_LIFETIME,
            u64::try_from(now).unwrap_or_default(),
        )
        .map_err(ServiceError::internal)
    }

    /// Verifies a signed PDF for `client` with this service's live status: each signature's
    /// bytes, CMS and chain to the CA, its time inside the certificate's validity, and the
    /// signer credential's status at the signing time (revoked before → invalid; revoked
    /// after → valid, `status_now: revoked`). Certificates this service did not issue are
    /// `untrusted_certificate`.
    pub async fn verify_pdf(&self, client: &ClientId, pdf: Vec<u8>) -> Result<PdfVerdict> {
        let ca = self.authority.cert.clone();
        let (pdf, examined) = tokio::task::spawn_blocking(move || {
            let r = qrid_pdf::report::examine_all(&pdf, &ca);
            (pdf, r)
        })
        .await
        .map_err(ServiceError::internal)?;
        let now = self.now();
        let verdict = match examined {
            Err(e) => PdfVerdict::unreadable(&pdf, e),
            Ok(found) => {
                let mut judged = Vec::with_capacity(found.len());
                for f in found {
                    let (status, record) = match &f.examined {
                        Ok(e) => (
                            self.certificate_status(&e.certificate.serial_hex(), e.signing_time)
                                .await?,
                            self.record_of_revision(&e.revision_sha256).await?,
                        ),
                        Err(_) => (CertStatus::Unknown, None),
                    };
                    judged.push((f, status, record));
                }
                PdfVerdict::new(&pdf, judged, now, self.config.clock_skew)
            }
        };
        tracing::info!(client = %client, outcome = verdict.failure_kind().unwrap_or("valid"), "PDF signature verified");
        Ok(verdict)
    }

    /// A certificate's status as it bears on a signature made at `signing_time`, from its
    /// signer credential's status history, as for JWS signatures.
    async fn certificate_status(&self, serial: &str, signing_time: i64) -> Result<CertStatus> {
        let Some(c) = self.store.official_certificate(serial).await? else {
            return Ok(CertStatus::Unknown);
        };
        let history = self.store.status_history(&c.signer_credential_id).await?;
        if let Some(&(at, in_force)) = history
            .iter()
            .take_while(|(at, _)| *at <= signing_time)
            .last()
        {
            if in_force != CredentialStatus::Valid {
                return Ok(CertStatus::Revoked(at));
            }
        }
        let Some(sc) = self
            .store
            .signer_credential(&c.signer_credential_id)
            .await?
        else {
            return Ok(CertStatus::Unknown);
        };
        Ok(match sc.status {
            CredentialStatus::Valid => CertStatus::Good,
            _ => CertStatus::Revoked(sc.status_changed_at.unwrap_or(signing_time + 1)),
        })
    }

    async fn record_of_revision(&self, sha256: &[u8; 32]) -> Result<Option<serde_json::Value>> {
        let records = self
            .store
            .signatures_by_signed_sha256(&hex::encode(sha256))
            .await?;
        Ok(records.first().map(|r| {
            serde_json::json!({
                "id": r.id,
                "url": self.signature_url(&r.id),
                "document_name": r.document_name,
                "original_sha256": r.digest,
            })
        }))
    }
}
