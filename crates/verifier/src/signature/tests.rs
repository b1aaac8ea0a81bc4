//! Unit tests of `signature.rs`, in a file of their own to keep that one readable.

use super::*;
use crate::{StatusCache, TrustStore};
use qrid_credential::docsig::SignatureHeader;
use qrid_credential::{CitizenInput, IssuerKey, Jwks, Official, SigningKey, StatusIndex};

const T: i64 = 1_764_662_400;

struct World {
    issuer: IssuerKey,
    official_key: SigningKey,
    official_cred: String,
    verifier: Verifier,
}

fn world() -> World {
    let issuer = IssuerKey::generate();
    let official_key = SigningKey::from_bytes(&[42; 32]);
    let official_cred = SignerCredential {
        issuer: "VN".into(),
        subject: "aabbccddeeff0011".into(),
        issued_at: T - 86_400,
        expires_at: T + 365 * 86_400,
        id: CredentialId([9; 8]),
        official: Official::new("Lê Văn Tám", "Chủ tịch", "UBND xã Tân Lập").unwrap(),
        key: official_key.verifying_key(),
        status: Some(
            StatusRef::new("https://id.example/v1/status-lists/1", StatusIndex(3)).unwrap(),
        ),
    }
    .sign(issuer.signing_key(), issuer.kid())
    .unwrap();
    let jwks = Jwks {
        keys: vec![issuer.jwk()],
    };
    let verifier = Verifier::new(
        TrustStore::from_jwks(&jwks).unwrap(),
        StatusCache::default(),
        Policy::default(),
    );
    World {
        issuer,
        official_key,
        official_cred,
        verifier,
    }
}

fn sign(key: &SigningKey, credential: &str, at: i64, digest: [u8; 32]) -> String {
    SignatureHeader {
        kid: Kid::thumbprint(&key.verifying_key()),
        signing_time: at,
        document: DocumentRef::new(digest, "đơn.pdf", "application/pdf").unwrap(),
        credential: credential.into(),
        signature_id: Some("0011223344556677".into()),
    }
    .sign(key)
    .unwrap()
}

fn kind(v: &SignatureVerdict) -> &'static str {
    match v {
        SignatureVerdict::Valid { .. } => "valid",
        SignatureVerdict::Invalid(f) => f.reason.kind(),
        SignatureVerdict::Indeterminate { reason, .. } => reason.kind(),
    }
}

fn judged(w: &World, jws: &str, status: SignerStatus, now: i64) -> SignatureVerdict {
    let check = w.verifier.examine_signature(jws, Some(&[1; 32])).unwrap();
    judge(check, status, now, &Policy::default())
}

#[test]
fn an_official_signature_verifies_and_names_the_signer() {
    let w = world();
    let jws = sign(&w.official_key, &w.official_cred, T, [1; 32]);
    let v = w
        .verifier
        .verify_signature(&jws, Some(&[1; 32]), T + 60)
        .unwrap();
    assert_eq!(kind(&v), "valid");
    let j = v.to_json();
    assert_eq!(j["signer"]["name"], "Lê Văn Tám");
    assert_eq!(j["signer"]["kind"], "official");
    assert_eq!(j["time_source"], "service");
    assert_eq!(j["document"]["matches"], true);
    assert_eq!(j["signer_credential"]["status_now"], "unchecked");
    // Without the document the signature still verifies; whether it matches is unknown.
    let v = w.verifier.verify_signature(&jws, None, T + 60).unwrap();
    assert_eq!(v.to_json()["document"]["matches"], Value::Null);
}

#[test]
fn a_signer_credential_is_checked_once_and_only_remembered_if_it_verified() {
    let w = world();
    let first = sign(&w.official_key, &w.official_cred, T, [1; 32]);
    let second = sign(&w.official_key, &w.official_cred, T + 5, [2; 32]);
    assert_eq!(
        kind(&judged(&w, &first, SignerStatus::Valid, T + 60)),
        "valid"
    );
    assert_eq!(w.verifier.signers.len(), 1);
    // The same credential under another document: found, and the JWS is still checked.
    let v = w
        .verifier
        .verify_signature(&second, Some(&[2; 32]), T + 60)
        .unwrap();
    assert_eq!(kind(&v), "valid");
    assert_eq!(v.to_json()["signing_time_unix"], T + 5);
    let thief = SigningKey::from_bytes(&[43; 32]);
    let forged = SignatureHeader {
        kid: Kid::thumbprint(&w.official_key.verifying_key()),
        signing_time: T,
        document: DocumentRef::new([1; 32], "đơn.pdf", "application/pdf").unwrap(),
        credential: w.official_cred.clone(),
        signature_id: None,
    }
    .sign(&thief)
    .unwrap();
    let v = w.verifier.verify_signature(&forged, None, T).unwrap();
    assert_eq!(kind(&v), "bad_signature");
    // A credential that fails its issuer check is not remembered.
    let rogue = IssuerKey::generate();
    let msg = SignerCredential::open(&w.official_cred).unwrap();
    let c = SignerCredential::from_cbor(msg.payload()).unwrap();
    let rogue_cred = c.sign(rogue.signing_key(), rogue.kid()).unwrap();
    let bad = sign(&w.official_key, &rogue_cred, T, [1; 32]);
    for _ in 0..2 {
        let v = w.verifier.verify_signature(&bad, None, T).unwrap();
        assert_eq!(kind(&v), "unknown_issuer_key");
    }
    assert_eq!(w.verifier.signers.len(), 1);
    // The cache is bounded.
    let cache = SignerCache::default();
    let checked = cache_entry(&w);
    for i in 0..SignerCache::CAPACITY + 10 {
        cache.insert(SignerCache::key(&i.to_string()), checked.clone());
    }
    assert_eq!(cache.len(), SignerCache::CAPACITY);
}

fn cache_entry(w: &World) -> Checked {
    let msg = SignerCredential::open(&w.official_cred).unwrap();
    let c = SignerCredential::from_cbor(msg.payload()).unwrap();
    let key = c.key;
    Arc::new((Signer::Official(c), key, w.issuer.kid().clone()))
}

#[test]
fn refusals_have_their_reasons() {
    let w = world();
    let jws = sign(&w.official_key, &w.official_cred, T, [1; 32]);
    let v = w
        .verifier
        .verify_signature(&jws, Some(&[2; 32]), T)
        .unwrap();
    assert_eq!(kind(&v), "digest_mismatch");
    assert_eq!(v.to_json()["signer"]["name"], "Lê Văn Tám");
    // Another key claiming the certified key's kid.
    let thief = SigningKey::from_bytes(&[43; 32]);
    let mut forged = SignatureHeader {
        kid: Kid::thumbprint(&w.official_key.verifying_key()),
        signing_time: T,
        document: DocumentRef::new([1; 32], "đơn.pdf", "application/pdf").unwrap(),
        credential: w.official_cred.clone(),
        signature_id: None,
    };
    let bad = forged.sign(&thief).unwrap();
    assert_eq!(
        kind(&w.verifier.verify_signature(&bad, None, T).unwrap()),
        "bad_signature"
    );
    forged.kid = Kid::thumbprint(&thief.verifying_key());
    let bad = forged.sign(&thief).unwrap();
    assert_eq!(
        kind(&w.verifier.verify_signature(&bad, None, T).unwrap()),
        "key_mismatch"
    );
    // A signer credential from an issuer nobody trusts.
    let rogue = IssuerKey::generate();
    let msg = SignerCredential::open(&w.official_cred).unwrap();
    let c = SignerCredential::from_cbor(msg.payload()).unwrap();
    let rogue_cred = c.sign(rogue.signing_key(), rogue.kid()).unwrap();
    let bad = sign(&w.official_key, &rogue_cred, T, [1; 32]);
    assert_eq!(
        kind(&w.verifier.verify_signature(&bad, None, T).unwrap()),
        "unknown_issuer_key"
    );
    assert_eq!(
        kind(&w.verifier.verify_signature("e30..AA", None, T).unwrap()),
        "malformed_signature"
    );
    // Time: in the future, before the credential, after it expired.
    let early = sign(&w.official_key, &w.official_cred, T - 2 * 86_400, [1; 32]);
    assert_eq!(
        kind(&judged(&w, &early, SignerStatus::Valid, T)),
        "signed_outside_validity"
    );
    let future = sign(&w.official_key, &w.official_cred, T + 3600, [1; 32]);
    assert_eq!(
        kind(&judged(&w, &future, SignerStatus::Valid, T)),
        "signing_time_in_future"
    );
}

#[test]
fn revocation_after_signing_keeps_the_signature_valid() {
    let w = world();
    let jws = sign(&w.official_key, &w.official_cred, T, [1; 32]);
    let later = T + 100;
    let v = judged(
        &w,
        &jws,
        SignerStatus::Revoked {
            since: Some(T + 50),
        },
        later,
    );
    assert_eq!(kind(&v), "valid");
    assert_eq!(v.to_json()["signer_credential"]["status_now"], "revoked");
    assert_eq!(v.to_json()["signer_credential"]["changed_at"], T + 50);
    let v = judged(&w, &jws, SignerStatus::Revoked { since: Some(T) }, later);
    assert_eq!(kind(&v), "revoked_before_signing");
    assert_eq!(v.to_json()["signer_credential"]["valid_at_signing"], false);
    let v = judged(&w, &jws, SignerStatus::Revoked { since: None }, later);
    assert_eq!(kind(&v), "revocation_time_unknown");
    assert_eq!(v.to_json()["outcome"], "indeterminate");
    let v = judged(
        &w,
        &jws,
        SignerStatus::Suspended {
            since: Some(T - 10),
        },
        later,
    );
    assert_eq!(kind(&v), "revoked_before_signing");
    // Expired since: still valid, and says so.
    let v = judged(&w, &jws, SignerStatus::Valid, T + 400 * 86_400);
    assert_eq!(kind(&v), "valid");
    assert_eq!(v.to_json()["signer_credential"]["status_now"], "expired");
}

#[test]
fn a_citizen_signs_with_the_holder_key() {
    let w = world();
    let holder = SigningKey::from_bytes(&[77; 32]);
    let input = CitizenInput::from_json(
        r#"{"id_number":"001099012345","full_name":"Nguyễn Thị Minh Khai","date_of_birth":"1990-01-15"}"#,
    )
    .unwrap();
    let cred = Credential::from_input(
        &input,
        "VN",
        T - 86_400,
        365,
        None,
        Some(HolderKey(holder.verifying_key())),
    )
    .unwrap()
    .sign(w.issuer.signing_key(), w.issuer.kid())
    .unwrap();
    let jws = sign(&holder, &cred, T, [1; 32]);
    let v = w
        .verifier
        .verify_signature(&jws, Some(&[1; 32]), T)
        .unwrap();
    assert_eq!(kind(&v), "valid");
    let j = v.to_json();
    assert_eq!(j["signer"]["kind"], "citizen");
    assert_eq!(j["signer"]["name"], "Nguyễn Thị Minh Khai");
    assert_eq!(j["time_source"], "signer");
    // A wallet's claimed time cannot outweigh a revocation.
    let v = judged(
        &w,
        &jws,
        SignerStatus::Revoked {
            since: Some(T + 50),
        },
        T + 100,
    );
    assert_eq!(kind(&v), "signing_time_unproven");
    // A credential without a holder key cannot sign.
    let plain = Credential::from_input(&input, "VN", T - 86_400, 365, None, None)
        .unwrap()
        .sign(w.issuer.signing_key(), w.issuer.kid())
        .unwrap();
    let jws = sign(&holder, &plain, T, [1; 32]);
    assert_eq!(
        kind(&w.verifier.verify_signature(&jws, None, T).unwrap()),
        "no_holder_key"
    );
}
