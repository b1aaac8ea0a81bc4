//! The CMS SignedData of a PAdES signature (RFC 5652; ETSI EN 319 122-1 CAdES baseline B as
//! EN 319 142-1 profiles it): detached (no content), SHA-256, ECDSA P-256, the signer's
//! certificate and the CA's in `certificates`, and signed attributes `content-type`,
//! `message-digest` and `signing-certificate-v2`. No `signing-time`: PAdES puts the time in
//! the signature dictionary's `/M`.

use crate::pki::{ecdsa_sha256, Cert};
use crate::PdfError;
use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo, SignerInfos,
};
use const_oid::db::{rfc5911, rfc5912};
use const_oid::ObjectIdentifier;
use der::asn1::{OctetString, SetOfVec};
use der::{Any, Decode, Encode, Sequence};
use p256::ecdsa::Signature;
use signature::{Signer, Verifier};
use spki::AlgorithmIdentifierOwned;
use x509_cert::attr::Attribute;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::serial_number::SerialNumber;

/// ESSCertIDv2 (RFC 5035): the signer certificate's hash, SHA-256 by default.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
struct EssCertIdV2 {
    #[asn1(optional = "true")]
    hash_algorithm: Option<AlgorithmIdentifierOwned>,
    cert_hash: OctetString,
    #[asn1(optional = "true")]
    issuer_serial: Option<IssuerSerial>,
}

#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
struct IssuerSerial {
    issuer: Vec<GeneralName>,
    serial_number: SerialNumber,
}

#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
struct SigningCertificateV2 {
    certs: Vec<EssCertIdV2>,
}

fn sha256_alg() -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned {
        oid: rfc5912::ID_SHA_256,
        parameters: None,
    }
}

fn der_err(e: der::Error) -> PdfError {
    PdfError::Cms(e.to_string())
}

fn attribute<T: Encode>(oid: ObjectIdentifier, value: &T) -> Result<Attribute, PdfError> {
    let any = Any::from_der(&value.to_der().map_err(der_err)?).map_err(der_err)?;
    Ok(Attribute {
        oid,
        values: SetOfVec::try_from(vec![any]).map_err(der_err)?,
    })
}

/// The detached CMS signature of `digest` (the SHA-256 of the signed byte ranges) by `key`,
/// whose certificate is `cert`, carrying `chain` (the CA) as well.
pub fn sign_detached<S: Signer<Signature>>(
    digest: &[u8; 32],
    key: &S,
    cert: &Cert,
    chain: &[&Cert],
) -> Result<Vec<u8>, PdfError> {
    let tbs = &cert.cert.tbs_certificate;
    let ess = SigningCertificateV2 {
        certs: vec![EssCertIdV2 {
            hash_algorithm: None,
            cert_hash: OctetString::new(cert.sha256().to_vec()).map_err(der_err)?,
            issuer_serial: Some(IssuerSerial {
                issuer: vec![GeneralName::DirectoryName(tbs.issuer.clone())],
                serial_number: tbs.serial_number.clone(),
            }),
        }],
    };
    let signed_attrs = SetOfVec::try_from(vec![
        attribute(rfc5911::ID_CONTENT_TYPE, &rfc5911::ID_DATA)?,
        attribute(
            rfc5911::ID_MESSAGE_DIGEST,
            &OctetString::new(digest.to_vec()).map_err(der_err)?,
        )?,
        attribute(rfc5911::ID_AA_SIGNING_CERTIFICATE_V_2, &ess)?,
    ])
    .map_err(der_err)?;
    let to_sign = signed_attrs.to_der().map_err(der_err)?;
    let sig: Signature = key
        .try_sign(&to_sign)
        .map_err(|e| PdfError::Cms(e.to_string()))?;
    let signer_info = SignerInfo {
        version: CmsVersion::V1,
        sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
            issuer: tbs.issuer.clone(),
            serial_number: tbs.serial_number.clone(),
        }),
        digest_alg: sha256_alg(),
        signed_attrs: Some(signed_attrs),
        signature_algorithm: ecdsa_sha256(),
        signature: OctetString::new(sig.to_der().as_bytes().to_vec()).map_err(der_err)?,
        unsigned_attrs: None,
    };
    let certs = std::iter::once(cert)
        .chain(chain.iter().copied())
        .map(|c| CertificateChoices::Certificate(c.cert.clone()))
        .collect::<Vec<_>>();
    let signed = SignedData {
        version: CmsVersion::V1,
        digest_algorithms: SetOfVec::try_from(vec![sha256_alg()]).map_err(der_err)?,
        encap_content_info: EncapsulatedContentInfo {
            econtent_type: rfc5911::ID_DATA,
            econtent: None,
        },
        certificates: Some(CertificateSet(SetOfVec::try_from(certs).map_err(der_err)?)),
        crls: None,
        signer_infos: SignerInfos(SetOfVec::try_from(vec![signer_info]).map_err(der_err)?),
    };
    ContentInfo {
        content_type: rfc5911::ID_SIGNED_DATA,
        content: Any::encode_from(&signed).map_err(der_err)?,
    }
    .to_der()
    .map_err(der_err)
}

/// A CMS signature that verified over its digest.
#[derive(Debug, Clone)]
pub struct VerifiedCms {
    /// The signer's certificate (the one `signing-certificate-v2` names).
    pub signer: Cert,
    /// The other certificates it carries.
    pub others: Vec<Cert>,
    /// Whether `signing-certificate-v2` was present (PAdES baseline needs it).
    pub signing_certificate_v2: bool,
}

/// Checks a detached CMS signature over content whose SHA-256 is `digest`: one signer,
/// SHA-256 and ECDSA P-256, signed attributes with the content type `data`, the message
/// digest, and the signer's certificate among those carried (matched by issuer and serial,
/// and by `signing-certificate-v2`'s hash when present).
pub fn verify_detached(cms_der: &[u8], digest: &[u8; 32]) -> Result<VerifiedCms, PdfError> {
    // /Contents is zero-padded: the DER value ends before the padding.
    let ci = ContentInfo::from_der(trim_der(cms_der)?).map_err(der_err)?;
    if ci.content_type != rfc5911::ID_SIGNED_DATA {
        return Err(PdfError::Cms("not a SignedData".into()));
    }
    let sd: SignedData = ci.content.decode_as().map_err(der_err)?;
    let infos: Vec<&SignerInfo> = sd.signer_infos.0.iter().collect();
    let [si] = infos.as_slice() else {
        return Err(PdfError::Cms("not exactly one signer".into()));
    };
    if si.digest_alg.oid != rfc5912::ID_SHA_256 {
        return Err(PdfError::Cms("the digest algorithm is not SHA-256".into()));
    }
    if si.signature_algorithm.oid != rfc5912::ECDSA_WITH_SHA_256
        && si.signature_algorithm.oid != rfc5912::ID_EC_PUBLIC_KEY
    {
        return Err(PdfError::Cms(
            "the signature algorithm is not ECDSA with SHA-256".into(),
        ));
    }
    let certs: Vec<Cert> = sd
        .certificates
        .iter()
        .flat_map(|s| s.0.iter())
        .filter_map(|c| match c {
            CertificateChoices::Certificate(c) => {
                c.to_der().ok().and_then(|d| Cert::from_der(&d).ok())
            }
            _ => None,
        })
        .collect();
    let SignerIdentifier::IssuerAndSerialNumber(ias) = &si.sid else {
        return Err(PdfError::Cms(
            "the signer is not named by issuer and serial".into(),
        ));
    };
    let signer = certs
        .iter()
        .find(|c| {
            c.cert.tbs_certificate.issuer == ias.issuer
                && c.cert.tbs_certificate.serial_number == ias.serial_number
        })
        .cloned()
        .ok_or_else(|| PdfError::Cms("the signer's certificate is not in the signature".into()))?;
    let attrs = si
        .signed_attrs
        .as_ref()
        .ok_or_else(|| PdfError::Cms("no signed attributes".into()))?;
    let value = |oid: ObjectIdentifier| -> Option<&Any> {
        attrs
            .iter()
            .find(|a| a.oid == oid)
            .and_then(|a| a.values.iter().next())
    };
    let content_type: ObjectIdentifier = value(rfc5911::ID_CONTENT_TYPE)
        .ok_or_else(|| PdfError::Cms("no content-type attribute".into()))?
        .decode_as()
        .map_err(der_err)?;
    if content_type != rfc5911::ID_DATA {
        return Err(PdfError::Cms("the content type is not data".into()));
    }
    let md: OctetString = value(rfc5911::ID_MESSAGE_DIGEST)
        .ok_or_else(|| PdfError::Cms("no message-digest attribute".into()))?
        .decode_as()
        .map_err(der_err)?;
    if md.as_bytes() != digest {
        return Err(PdfError::DigestMismatch);
    }
    let mut v2 = false;
    if let Some(any) = value(rfc5911::ID_AA_SIGNING_CERTIFICATE_V_2) {
        let sc: SigningCertificateV2 = any.decode_as().map_err(der_err)?;
        let first = sc
            .certs
            .first()
            .ok_or_else(|| PdfError::Cms("signing-certificate-v2 names no certificate".into()))?;
        if first
            .hash_algorithm
            .as_ref()
            .is_some_and(|a| a.oid != rfc5912::ID_SHA_256)
            || first.cert_hash.as_bytes() != signer.sha256()
        {
            return Err(PdfError::Cms(
                "signing-certificate-v2 does not name the signer's certificate".into(),
            ));
        }
        v2 = true;
    }
    let signed = attrs.to_der().map_err(der_err)?;
    let sig = Signature::from_der(si.signature.as_bytes())
        .map_err(|_| PdfError::Cms("the signature value is not an ECDSA signature".into()))?;
    signer
        .public_key()?
        .verify(&signed, &sig)
        .map_err(|_| PdfError::BadSignature)?;
    let serial = signer.serial_hex();
    Ok(VerifiedCms {
        others: certs
            .into_iter()
            .filter(|c| c.serial_hex() != serial)
            .collect(),
        signer,
        signing_certificate_v2: v2,
    })
}

/// The DER value at the start of `bytes` (its declared length), without trailing padding.
fn trim_der(bytes: &[u8]) -> Result<&[u8], PdfError> {
    let bad = || PdfError::Cms("the signature is not DER".into());
    if bytes.len() < 2 || bytes[0] != 0x30 {
        return Err(bad());
    }
    let (len, head) = match bytes[1] {
        l if l < 0x80 => (usize::from(l), 2),
        0x81..=0x84 => {
            let n = usize::from(bytes[1] & 0x7f);
            let b = bytes.get(2..2 + n).ok_or_else(bad)?;
            (
                b.iter().fold(0usize, |a, &x| a << 8 | usize::from(x)),
                2 + n,
            )
        }
        _ => return Err(bad()),
    };
    bytes
        .get(..head.checked_add(len).ok_or_else(bad)?)
        .ok_or_else(bad)
}
