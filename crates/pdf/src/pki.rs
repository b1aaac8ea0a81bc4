//! The authority's certification authority (RFC 5280): its self-signed certificate, the
//! certificates naming each official's PDF signing key, and the CRL that lists those revoked.
//! Every key here is ECDSA P-256 with SHA-256, the algorithm every PDF reader validates
//! (docs/signature-format.md says why not Ed25519). Keys sign through `signature::Signer`.

use crate::PdfError;
use const_oid::db::{rfc4519, rfc5280, rfc5912};
use const_oid::ObjectIdentifier;
use der::asn1::{BitString, GeneralizedTime, Ia5String, OctetString, PrintableString, UtcTime};
use der::{Any, Decode, Encode, Tag};
use p256::ecdsa::{Signature, VerifyingKey};
use sha2::{Digest, Sha256};
use signature::{Signer, Verifier};
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use std::time::Duration;
use x509_cert::attr::AttributeTypeAndValue;
use x509_cert::certificate::{Certificate, TbsCertificate, Version};
use x509_cert::crl::{CertificateList, RevokedCert, TbsCertList};
use x509_cert::ext::pkix::name::{DistributionPointName, GeneralName};
use x509_cert::ext::pkix::{
    crl::dp::DistributionPoint, AuthorityKeyIdentifier, BasicConstraints, CrlDistributionPoints,
    CrlNumber, KeyUsage, KeyUsages, SubjectKeyIdentifier,
};
use x509_cert::ext::Extension;
use x509_cert::name::{Name, RdnSequence, RelativeDistinguishedName};
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::{Time, Validity};

/// Who a certificate names. Texts are UTF-8 as given (the country is two letters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    /// `CN`: the official's or the authority's name.
    pub common_name: String,
    /// `title`.
    pub title: Option<String>,
    /// `O`: the agency.
    pub organization: Option<String>,
    /// `serialNumber`: the service's id of the official.
    pub serial: Option<String>,
    /// `C`.
    pub country: Option<String>,
}

/// ecdsa-with-SHA256, no parameters (RFC 5758).
pub(crate) fn ecdsa_sha256() -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned {
        oid: rfc5912::ECDSA_WITH_SHA_256,
        parameters: None,
    }
}

fn der_err(e: der::Error) -> PdfError {
    PdfError::Certificate(e.to_string())
}

fn utf8(oid: ObjectIdentifier, value: &str) -> Result<AttributeTypeAndValue, PdfError> {
    Ok(AttributeTypeAndValue {
        oid,
        value: Any::new(Tag::Utf8String, value.as_bytes()).map_err(der_err)?,
    })
}

fn printable(oid: ObjectIdentifier, value: &str) -> Result<AttributeTypeAndValue, PdfError> {
    let p = PrintableString::new(value).map_err(der_err)?;
    Ok(AttributeTypeAndValue {
        oid,
        value: Any::encode_from(&p).map_err(der_err)?,
    })
}

impl Subject {
    /// The X.501 name: `C`, `O`, `title`, `CN`, `serialNumber`, one attribute per RDN.
    pub fn to_name(&self) -> Result<Name, PdfError> {
        let mut rdns = Vec::new();
        if let Some(c) = &self.country {
            rdns.push(printable(rfc4519::C, c)?);
        }
        if let Some(o) = &self.organization {
            rdns.push(utf8(rfc4519::O, o)?);
        }
        if let Some(t) = &self.title {
            rdns.push(utf8(rfc4519::TITLE, t)?);
        }
        rdns.push(utf8(rfc4519::CN, &self.common_name)?);
        if let Some(s) = &self.serial {
            rdns.push(printable(rfc4519::SERIAL_NUMBER, s)?);
        }
        let seq = rdns
            .into_iter()
            .map(|a| {
                der::asn1::SetOfVec::try_from(vec![a])
                    .map(RelativeDistinguishedName)
                    .map_err(der_err)
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(RdnSequence(seq))
    }

    /// Reads the attributes back from a name (UTF8String or PrintableString values).
    pub fn from_name(name: &Name) -> Subject {
        let mut s = Subject {
            common_name: String::new(),
            title: None,
            organization: None,
            serial: None,
            country: None,
        };
        for atv in name.0.iter().flat_map(|rdn| rdn.0.iter()) {
            let Ok(text) = std::str::from_utf8(atv.value.value()) else {
                continue;
            };
            let text = text.to_owned();
            match atv.oid {
                o if o == rfc4519::CN => s.common_name = text,
                o if o == rfc4519::TITLE => s.title = Some(text),
                o if o == rfc4519::O => s.organization = Some(text),
                o if o == rfc4519::SERIAL_NUMBER => s.serial = Some(text),
                o if o == rfc4519::C => s.country = Some(text),
                _ => {}
            }
        }
        s
    }
}

/// An X.509 time: UTCTime through 2049, GeneralizedTime after (RFC 5280 §4.1.2.5).
fn x509_time(unix: i64) -> Result<Time, PdfError> {
    let d = Duration::from_secs(
        u64::try_from(unix).map_err(|_| PdfError::Certificate("a time before 1970".into()))?,
    );
    Ok(if unix < 2_524_608_000 {
        Time::UtcTime(UtcTime::from_unix_duration(d).map_err(der_err)?)
    } else {
        Time::GeneralTime(GeneralizedTime::from_unix_duration(d).map_err(der_err)?)
    })
}

/// Unix seconds of an X.509 time.
pub fn unix_time(t: &Time) -> i64 {
    t.to_unix_duration().as_secs() as i64
}

fn extension<T: Encode>(
    oid: ObjectIdentifier,
    critical: bool,
    value: &T,
) -> Result<Extension, PdfError> {
    Ok(Extension {
        extn_id: oid,
        critical,
        extn_value: OctetString::new(value.to_der().map_err(der_err)?).map_err(der_err)?,
    })
}

/// The SubjectPublicKeyInfo of a P-256 key.
pub fn spki_of(key: &VerifyingKey) -> Result<SubjectPublicKeyInfoOwned, PdfError> {
    use p256::pkcs8::EncodePublicKey;
    let doc = key
        .to_public_key_der()
        .map_err(|e| PdfError::Certificate(e.to_string()))?;
    SubjectPublicKeyInfoOwned::from_der(doc.as_bytes()).map_err(der_err)
}

/// The key identifier of RFC 5280 §4.2.1.2 method 1 is SHA-1; SHA-256 truncated to 20 bytes
/// is as unique and needs no SHA-1 here (RFC 7093 §2 method 1).
fn key_id(key: &VerifyingKey) -> Vec<u8> {
    let point = key.to_encoded_point(false);
    Sha256::digest(point.as_bytes())[..20].to_vec()
}

/// A certificate's serial number from random bytes: positive, at most 20 bytes.
pub fn serial_number(bytes: &[u8]) -> Result<SerialNumber, PdfError> {
    let mut b = bytes.iter().copied().take(19).collect::<Vec<u8>>();
    if b.is_empty() {
        return Err(PdfError::Certificate("an empty serial number".into()));
    }
    // Positive and without a leading zero byte, whatever the random bytes were.
    b[0] = (b[0] & 0x7f) | 0x40;
    SerialNumber::new(&b).map_err(der_err)
}

fn sign_tbs<S: Signer<Signature>, T: Encode>(
    key: &S,
    tbs: &T,
) -> Result<(Vec<u8>, BitString), PdfError> {
    let bytes = tbs.to_der().map_err(der_err)?;
    let sig: Signature = key
        .try_sign(&bytes)
        .map_err(|e| PdfError::Certificate(e.to_string()))?;
    let der = sig.to_der();
    Ok((
        bytes,
        BitString::from_bytes(der.as_bytes()).map_err(der_err)?,
    ))
}

/// The authority's self-signed CA certificate (basicConstraints CA, path length 0: it
/// certifies officials' keys only; keyCertSign and cRLSign).
pub fn ca_certificate<S: Signer<Signature>>(
    key: &S,
    public: &VerifyingKey,
    subject: &Subject,
    serial: &[u8],
    not_before: i64,
    not_after: i64,
) -> Result<Vec<u8>, PdfError> {
    let name = subject.to_name()?;
    let ski = key_id(public);
    let extensions = vec![
        extension(
            rfc5280::ID_CE_BASIC_CONSTRAINTS,
            true,
            &BasicConstraints {
                ca: true,
                path_len_constraint: Some(0),
            },
        )?,
        extension(
            rfc5280::ID_CE_KEY_USAGE,
            true,
            &KeyUsage(KeyUsages::KeyCertSign | KeyUsages::CRLSign),
        )?,
        extension(
            rfc5280::ID_CE_SUBJECT_KEY_IDENTIFIER,
            false,
            &SubjectKeyIdentifier(OctetString::new(ski).map_err(der_err)?),
        )?,
    ];
    let tbs = TbsCertificate {
        version: Version::V3,
        serial_number: serial_number(serial)?,
        signature: ecdsa_sha256(),
        issuer: name.clone(),
        validity: Validity {
            not_before: x509_time(not_before)?,
            not_after: x509_time(not_after)?,
        },
        subject: name,
        subject_public_key_info: spki_of(public)?,
        issuer_unique_id: None,
        subject_unique_id: None,
        extensions: Some(extensions),
    };
    finish(key, tbs)
}

fn finish<S: Signer<Signature>>(key: &S, tbs: TbsCertificate) -> Result<Vec<u8>, PdfError> {
    let (_, signature) = sign_tbs(key, &tbs)?;
    Certificate {
        tbs_certificate: tbs,
        signature_algorithm: ecdsa_sha256(),
        signature,
    }
    .to_der()
    .map_err(der_err)
}

/// A certificate read from DER, with what qrid needs of it.
#[derive(Debug, Clone)]
pub struct Cert {
    /// The DER bytes.
    pub der: Vec<u8>,
    /// The parsed certificate.
    pub cert: Certificate,
}

impl Cert {
    /// Parses a DER certificate; refuses anything but a P-256 key.
    pub fn from_der(der: &[u8]) -> Result<Cert, PdfError> {
        let cert = Certificate::from_der(der).map_err(der_err)?;
        let c = Cert {
            der: der.to_vec(),
            cert,
        };
        c.public_key()?;
        Ok(c)
    }

    /// Parses the first `CERTIFICATE` block of a PEM text.
    pub fn from_pem(pem: &str) -> Result<Cert, PdfError> {
        Cert::from_der(&pem_decode(pem, "CERTIFICATE")?)
    }

    /// The certificate as PEM text.
    pub fn to_pem(&self) -> String {
        pem_encode("CERTIFICATE", &self.der)
    }

    /// The subject key (P-256).
    pub fn public_key(&self) -> Result<VerifyingKey, PdfError> {
        let spki = &self.cert.tbs_certificate.subject_public_key_info;
        VerifyingKey::from_sec1_bytes(spki.subject_public_key.raw_bytes())
            .map_err(|_| PdfError::Certificate("the certificate's key is not P-256".into()))
    }

    /// The serial number, hexadecimal.
    pub fn serial_hex(&self) -> String {
        hex::encode(self.cert.tbs_certificate.serial_number.as_bytes())
    }

    /// Who it names.
    pub fn subject(&self) -> Subject {
        Subject::from_name(&self.cert.tbs_certificate.subject)
    }

    /// Validity, Unix seconds `(not_before, not_after)`.
    pub fn validity(&self) -> (i64, i64) {
        let v = &self.cert.tbs_certificate.validity;
        (unix_time(&v.not_before), unix_time(&v.not_after))
    }

    /// The subject key identifier: the certificate's own extension when it has one (chain
    /// builders match a child's authority key identifier against it), else this crate's.
    pub fn key_identifier(&self) -> Result<Vec<u8>, PdfError> {
        let ext = self
            .cert
            .tbs_certificate
            .extensions
            .iter()
            .flatten()
            .find(|e| e.extn_id == rfc5280::ID_CE_SUBJECT_KEY_IDENTIFIER);
        match ext {
            Some(e) => Ok(SubjectKeyIdentifier::from_der(e.extn_value.as_bytes())
                .map_err(der_err)?
                .0
                .as_bytes()
                .to_vec()),
            None => Ok(key_id(&self.public_key()?)),
        }
    }

    /// SHA-256 of the DER.
    pub fn sha256(&self) -> [u8; 32] {
        Sha256::digest(&self.der).into()
    }

    /// Whether `issuer`'s key signed this certificate and names it as issuer.
    pub fn is_signed_by(&self, issuer: &Cert) -> bool {
        if self.cert.tbs_certificate.issuer != issuer.cert.tbs_certificate.subject
            || self.cert.signature_algorithm.oid != rfc5912::ECDSA_WITH_SHA_256
        {
            return false;
        }
        let (Ok(tbs), Ok(key), Some(sig)) = (
            self.cert.tbs_certificate.to_der(),
            issuer.public_key(),
            self.cert.signature.as_bytes(),
        ) else {
            return false;
        };
        Signature::from_der(sig).is_ok_and(|s| key.verify(&tbs, &s).is_ok())
    }
}

/// A certificate for an official's PDF signing key, issued by the CA: digitalSignature and
/// nonRepudiation (contentCommitment), both critical; the CRL's address; the keys'
/// identifiers.
#[allow(clippy::too_many_arguments)]
pub fn official_certificate<S: Signer<Signature>>(
    ca_key: &S,
    ca: &Cert,
    subject_key: &VerifyingKey,
    subject: &Subject,
    serial: &[u8],
    not_before: i64,
    not_after: i64,
    crl_url: &str,
) -> Result<Vec<u8>, PdfError> {
    let ca_key_id = ca.key_identifier()?;
    let uri = Ia5String::new(crl_url).map_err(der_err)?;
    let extensions = vec![
        extension(
            rfc5280::ID_CE_KEY_USAGE,
            true,
            &KeyUsage(KeyUsages::DigitalSignature | KeyUsages::NonRepudiation),
        )?,
        extension(
            rfc5280::ID_CE_BASIC_CONSTRAINTS,
            true,
            &BasicConstraints {
                ca: false,
                path_len_constraint: None,
            },
        )?,
        extension(
            rfc5280::ID_CE_SUBJECT_KEY_IDENTIFIER,
            false,
            &SubjectKeyIdentifier(OctetString::new(key_id(subject_key)).map_err(der_err)?),
        )?,
        extension(
            rfc5280::ID_CE_AUTHORITY_KEY_IDENTIFIER,
            false,
            &AuthorityKeyIdentifier {
                key_identifier: Some(OctetString::new(ca_key_id).map_err(der_err)?),
                authority_cert_issuer: None,
                authority_cert_serial_number: None,
            },
        )?,
        extension(
            rfc5280::ID_CE_CRL_DISTRIBUTION_POINTS,
            false,
            &CrlDistributionPoints(vec![DistributionPoint {
                distribution_point: Some(DistributionPointName::FullName(vec![
                    GeneralName::UniformResourceIdentifier(uri),
                ])),
                reasons: None,
                crl_issuer: None,
            }]),
        )?,
    ];
    let tbs = TbsCertificate {
        version: Version::V3,
        serial_number: serial_number(serial)?,
        signature: ecdsa_sha256(),
        issuer: ca.cert.tbs_certificate.subject.clone(),
        validity: Validity {
            not_before: x509_time(not_before)?,
            not_after: x509_time(not_after)?,
        },
        subject: subject.to_name()?,
        subject_public_key_info: spki_of(subject_key)?,
        issuer_unique_id: None,
        subject_unique_id: None,
        extensions: Some(extensions),
    };
    finish(ca_key, tbs)
}

/// A certificate the CRL lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revocation {
    /// Its serial number's bytes (as [`Cert::serial_hex`] gives them, decoded).
    pub serial: Vec<u8>,
    /// When it was revoked, Unix seconds.
    pub at: i64,
}

/// The CA's CRL (v2, RFC 5280 §5): the revoked certificates, `thisUpdate` and `nextUpdate`,
/// a CRL number and the CA's key identifier.
pub fn crl<S: Signer<Signature>>(
    ca_key: &S,
    ca: &Cert,
    revoked: &[Revocation],
    this_update: i64,
    next_update: i64,
    number: u64,
) -> Result<Vec<u8>, PdfError> {
    let entries = revoked
        .iter()
        .map(|r| {
            Ok(RevokedCert {
                serial_number: SerialNumber::new(&r.serial).map_err(der_err)?,
                revocation_date: x509_time(r.at)?,
                crl_entry_extensions: None,
            })
        })
        .collect::<Result<Vec<_>, PdfError>>()?;
    let tbs = TbsCertList {
        version: Version::V2,
        signature: ecdsa_sha256(),
        issuer: ca.cert.tbs_certificate.subject.clone(),
        this_update: x509_time(this_update)?,
        next_update: Some(x509_time(next_update)?),
        revoked_certificates: (!entries.is_empty()).then_some(entries),
        crl_extensions: Some(vec![
            extension(
                rfc5280::ID_CE_AUTHORITY_KEY_IDENTIFIER,
                false,
                &AuthorityKeyIdentifier {
                    key_identifier: Some(
                        OctetString::new(key_id(&ca.public_key()?)).map_err(der_err)?,
                    ),
                    authority_cert_issuer: None,
                    authority_cert_serial_number: None,
                },
            )?,
            extension(
                rfc5280::ID_CE_CRL_NUMBER,
                false,
                &CrlNumber(der::asn1::Uint::new(&number.to_be_bytes()).map_err(der_err)?),
            )?,
        ]),
    };
    let (_, signature) = sign_tbs(ca_key, &tbs)?;
    CertificateList {
        tbs_cert_list: tbs,
        signature_algorithm: ecdsa_sha256(),
        signature,
    }
    .to_der()
    .map_err(der_err)
}

/// A CRL read from DER and checked against its CA.
#[derive(Debug, Clone)]
pub struct Crl {
    /// The revoked serial numbers (hex) with their revocation times.
    pub revoked: Vec<(String, i64)>,
    /// `thisUpdate`, Unix seconds.
    pub this_update: i64,
    /// `nextUpdate`, Unix seconds.
    pub next_update: Option<i64>,
}

impl Crl {
    /// Parses a DER CRL and checks that `ca` signed it.
    pub fn from_der(der: &[u8], ca: &Cert) -> Result<Crl, PdfError> {
        let list = CertificateList::from_der(der).map_err(der_err)?;
        let tbs = list.tbs_cert_list.to_der().map_err(der_err)?;
        let signed = list.tbs_cert_list.issuer == ca.cert.tbs_certificate.subject
            && list
                .signature
                .as_bytes()
                .and_then(|s| Signature::from_der(s).ok())
                .is_some_and(|s| ca.public_key().is_ok_and(|k| k.verify(&tbs, &s).is_ok()));
        if !signed {
            return Err(PdfError::Certificate(
                "the CRL is not signed by the CA".into(),
            ));
        }
        let t = &list.tbs_cert_list;
        Ok(Crl {
            revoked: t
                .revoked_certificates
                .iter()
                .flatten()
                .map(|r| {
                    (
                        hex::encode(r.serial_number.as_bytes()),
                        unix_time(&r.revocation_date),
                    )
                })
                .collect(),
            this_update: unix_time(&t.this_update),
            next_update: t.next_update.as_ref().map(unix_time),
        })
    }

    /// When the certificate of serial `serial_hex` was revoked, if the CRL lists it.
    pub fn revoked_at(&self, serial_hex: &str) -> Option<i64> {
        self.revoked
            .iter()
            .find(|(s, _)| s == serial_hex)
            .map(|&(_, at)| at)
    }
}

/// PEM text (RFC 7468) of DER bytes.
pub fn pem_encode(label: &str, der: &[u8]) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// The DER bytes of the first PEM block labelled `label`.
pub fn pem_decode(pem: &str, label: &str) -> Result<Vec<u8>, PdfError> {
    use base64::Engine;
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = pem
        .find(&begin)
        .ok_or_else(|| PdfError::Certificate(format!("no {label} PEM block")))?
        + begin.len();
    let stop = pem[start..]
        .find(&end)
        .ok_or_else(|| PdfError::Certificate(format!("an unterminated {label} PEM block")))?
        + start;
    let body: String = pem[start..stop]
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(body)
        .map_err(|_| PdfError::Certificate("bad PEM base64".into()))
}
