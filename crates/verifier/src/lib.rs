//! # qrid-verifier
//!
//! The offline verifier that a counter app or a portal embeds. It holds a trust store (from a
//! JWKS), cached status lists with their age, and a policy (clock skew, how old a status list may
//! be), and turns a payload into a [`Verdict`].
//!
//! Two kinds of answer are kept apart:
//! - `Ok(Verdict::Invalid(..))`: the credential was checked and is not valid, with a [`Reason`]
//!   whose [`Reason::kind`] is stable (`bad_signature`, `expired`, `revoked`, …);
//! - `Err(VerifyError)`: the verifier could not check it (the status list it needs is missing).
//!
//! Time comes in as an argument, so expiry is deterministic in tests.
//!
//! ```
//! use qrid_credential::{CitizenInput, Credential, IssuerKey, Jwks};
//! use qrid_verifier::{Policy, StatusCache, TrustStore, Verdict, Verifier};
//!
//! let key = IssuerKey::generate();
//! let input = CitizenInput::from_json(r#"{"id_number":"001099012345",
//!     "full_name":"Trần Văn Bảo","date_of_birth":"1985-07-30"}"#).unwrap();
//! let now = 1_763_856_000;
//! let payload = Credential::from_input(&input, "VN", now, 365, None, None).unwrap()
//!     .sign(key.signing_key(), key.kid()).unwrap();
//!
//! let trust = TrustStore::from_jwks(&Jwks { keys: vec![key.jwk()] }).unwrap();
//! let verifier = Verifier::new(trust, StatusCache::default(), Policy::default());
//! assert!(matches!(verifier.verify(&payload, now).unwrap(), Verdict::Valid(_)));
//! match verifier.verify(&payload, now + 400 * 86_400).unwrap() {
//!     Verdict::Invalid(reason) => assert_eq!(reason.kind(), "expired"),
//!     Verdict::Valid(_) => unreachable!(),
//! }
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod signature;
mod signers;
mod status;
mod trust;
mod verdict;

pub use signature::{
    judge, SigReason, SignatureCheck, SignatureError, SignatureFailure, SignatureVerdict, Signer,
    SignerStatus, Standing,
};
pub use status::{CachedStatusList, StatusCache};
pub use trust::{KeyLookup, TrustStore, TrustedKey};
pub use verdict::{Reason, StatusOutcome, Verdict, Verified, VerifyError};

/// Format kinds that come from loading status lists and keys, signing, or parsing a document
/// signature: never from verifying a credential payload.
const NOT_FROM_VERIFY: [&str; 4] = [
    "bad_status_list",
    "signing_failed",
    "bad_key",
    "malformed_signature",
];

/// Every kind [`Verifier::verify`] can answer for a credential it cannot accept: the format
/// kinds of [`qrid_credential::Error`] that verification reaches, the other [`Reason`]s and
/// [`VerifyError`]. Built from the enums' own kind tables, so a new variant is in it.
pub fn verification_kinds() -> Vec<&'static str> {
    let format = qrid_credential::Error::KINDS
        .iter()
        .filter(|k| !NOT_FROM_VERIFY.contains(k));
    let reasons = Reason::OWN_KINDS.iter().filter(|k| **k != "format");
    let mut all: Vec<&'static str> = format
        .chain(reasons)
        .chain(VerifyError::KINDS)
        .copied()
        .collect();
    // `unknown_key` is both a format error and a reason.
    let mut seen = std::collections::HashSet::new();
    all.retain(|k| seen.insert(*k));
    all
}

use qrid_credential::{open, Credential, Status};

/// How strict to be about time and status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Seconds of clock difference tolerated between issuer and verifier, both ways.
    pub clock_skew: i64,
    /// Oldest status list (seconds since its `iat`) still trusted for a status answer.
    pub max_status_age: i64,
    /// Whether a credential that references a status list must have it checked; when false, a
    /// missing list gives status `unchecked` instead of an error.
    pub require_status: bool,
}

impl Default for Policy {
    /// 5 minutes of skew; status lists up to 48 hours old, so a counter can stay offline for a
    /// weekend; status not required.
    fn default() -> Self {
        Policy {
            clock_skew: 300,
            max_status_age: 48 * 3600,
            require_status: false,
        }
    }
}

/// Verifies credentials against a key lookup, a status cache and a policy.
///
/// The key lookup is taken to stay the same for the verifier's life: signer credentials of
/// document signatures that it has verified are remembered (bounded, by the SHA-256 of their
/// text) so that the issuer's signature on each is checked once. To change the trusted keys,
/// make a new verifier.
pub struct Verifier<K: KeyLookup = TrustStore> {
    keys: K,
    status: StatusCache,
    policy: Policy,
    signers: signers::SignerCache,
}

impl<K: KeyLookup> Verifier<K> {
    /// A verifier over these keys, cached status lists and policy.
    pub fn new(keys: K, status: StatusCache, policy: Policy) -> Self {
        Verifier {
            keys,
            status,
            policy,
            signers: signers::SignerCache::default(),
        }
    }

    /// The status cache, to add or refresh lists.
    pub fn status_mut(&mut self) -> &mut StatusCache {
        &mut self.status
    }

    /// The policy it verifies under.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The key lookup.
    pub fn keys(&self) -> &K {
        &self.keys
    }

    /// Verifies one payload at Unix time `now`.
    ///
    /// The steps, in order (docs/credential-format.md): format (prefix, size, base45, zlib,
    /// CBOR, COSE_Sign1, algorithm), key lookup by `kid` prefix, Ed25519 signature (strict),
    /// claims, validity window with skew, status.
    pub fn verify(&self, payload: &str, now: i64) -> Result<Verdict, VerifyError> {
        let msg = match open(payload) {
            Ok(m) => m,
            Err(e) => return Ok(Verdict::Invalid(Reason::Format(e))),
        };
        let candidates = self.keys.candidates(msg.kid());
        if candidates.is_empty() {
            return Ok(Verdict::Invalid(Reason::UnknownKey));
        }
        let Some(key) = candidates.into_iter().find(|k| msg.verify(&k.key).is_ok()) else {
            return Ok(Verdict::Invalid(Reason::Format(
                qrid_credential::Error::BadSignature,
            )));
        };
        let credential = match Credential::from_cbor(msg.payload()) {
            Ok(c) => c,
            Err(e) => return Ok(Verdict::Invalid(Reason::Format(e))),
        };
        let skew = self.policy.clock_skew;
        let starts = credential
            .not_before
            .unwrap_or(credential.issued_at)
            .max(credential.issued_at);
        if starts > now.saturating_add(skew) {
            return Ok(Verdict::Invalid(Reason::NotYetValid {
                credential: Box::new(credential),
            }));
        }
        if credential.expires_at <= now.saturating_sub(skew) {
            return Ok(Verdict::Invalid(Reason::Expired {
                credential: Box::new(credential),
            }));
        }
        let examined = Verified {
            kid: key.kid.clone(),
            credential,
            status: StatusOutcome::Unchecked,
        };
        let Some(reference) = &examined.credential.status else {
            return Ok(Verdict::Valid(examined));
        };
        let Some(list) = self.status.get(&reference.uri) else {
            if self.policy.require_status {
                return Err(VerifyError::StatusListUnavailable {
                    uri: reference.uri.clone(),
                });
            }
            return Ok(Verdict::Valid(examined));
        };
        let found = list.token.list.get(reference.index);
        let age = now.saturating_sub(list.token.issued_at);
        let expired = list
            .token
            .expires_at
            .is_some_and(|exp| exp <= now.saturating_sub(skew));
        // Revocation is final: an old list that says revoked is still right.
        if (age > self.policy.max_status_age || expired) && found != Some(Status::Invalid) {
            if self.policy.require_status {
                return Ok(Verdict::Invalid(Reason::StaleStatusList {
                    age,
                    max_age: self.policy.max_status_age,
                    expired,
                    credential: Box::new(examined.credential),
                }));
            }
            // Not required: an old list is no worse than none at all.
            return Ok(Verdict::Valid(examined));
        }
        Ok(examined.judge(found, StatusOutcome::Valid { list_age: age }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use qrid_credential::{
        CitizenInput, IssuerKey, Jwks, StatusBits, StatusIndex, StatusList, StatusListToken,
        StatusRef,
    };

    const NOW: i64 = 1_763_856_000;

    fn issue(key: &IssuerKey, status: Option<StatusRef>) -> String {
        let input = CitizenInput::from_json(
            r#"{"id_number":"000000000042","full_name":"Võ Thị Sáu","date_of_birth":"1933-01-01"}"#,
        )
        .unwrap();
        Credential::from_input(&input, "VN", NOW, 30, status, None)
            .unwrap()
            .sign(key.signing_key(), key.kid())
            .unwrap()
    }

    fn verifier(keys: &[&IssuerKey], policy: Policy) -> Verifier {
        let jwks = Jwks {
            keys: keys.iter().map(|k| k.jwk()).collect(),
        };
        Verifier::new(
            TrustStore::from_jwks(&jwks).unwrap(),
            StatusCache::default(),
            policy,
        )
    }

    fn kind(v: Result<Verdict, VerifyError>) -> &'static str {
        match v {
            Ok(Verdict::Valid(_)) => "valid",
            Ok(Verdict::Invalid(r)) => r.kind(),
            Err(e) => e.kind(),
        }
    }

    #[test]
    fn time_window_honours_skew() {
        let key = IssuerKey::generate();
        let p = issue(&key, None);
        let v = verifier(&[&key], Policy::default());
        assert_eq!(kind(v.verify(&p, NOW)), "valid");
        assert_eq!(kind(v.verify(&p, NOW - 299)), "valid");
        assert_eq!(kind(v.verify(&p, NOW - 301)), "not_yet_valid");
        let exp = NOW + 30 * 86_400;
        assert_eq!(kind(v.verify(&p, exp + 299)), "valid");
        assert_eq!(kind(v.verify(&p, exp + 300)), "expired");
    }

    #[test]
    fn unknown_key_and_wrong_key_with_same_prefix() {
        let a = IssuerKey::generate();
        let b = IssuerKey::generate();
        let p = issue(&a, None);
        assert_eq!(
            kind(verifier(&[&b], Policy::default()).verify(&p, NOW)),
            "unknown_key"
        );
        // Several candidates: the one whose signature verifies wins, whatever the order.
        assert_eq!(
            kind(verifier(&[&b, &a], Policy::default()).verify(&p, NOW)),
            "valid"
        );
    }

    /// `18([{1: -8}, {}, claims, signature])`: a credential as MOSIP's encoder signs it when
    /// it is given no kid.
    fn without_kid(key: &IssuerKey) -> String {
        use ::signature::Signer;
        let claims = Credential::from_input(
            &CitizenInput::from_json(
                r#"{"id_number":"000000000042","full_name":"Võ Thị Sáu","date_of_birth":"1933-01-01"}"#,
            )
            .unwrap(),
            "VN",
            NOW,
            30,
            None,
            None,
        )
        .unwrap()
        .to_cbor();
        let bstr = |out: &mut Vec<u8>, b: &[u8]| {
            match b.len() {
                n @ 0..=23 => out.push(0x40 | n as u8),
                n @ 24..=255 => out.extend([0x58, n as u8]),
                n => out.extend([0x59, (n >> 8) as u8, n as u8]),
            }
            out.extend_from_slice(b);
        };
        let protected = [0xA1, 0x01, 0x27];
        let mut to_sign = vec![0x84, 0x6A];
        to_sign.extend_from_slice(b"Signature1");
        bstr(&mut to_sign, &protected);
        to_sign.push(0x40);
        bstr(&mut to_sign, &claims);
        let signature = key.signing_key().sign(&to_sign).to_bytes();
        let mut cose = vec![0xD2, 0x84];
        bstr(&mut cose, &protected);
        cose.push(0xA0);
        bstr(&mut cose, &claims);
        bstr(&mut cose, &signature);
        qrid_credential::payload::encode(&cose)
    }

    #[test]
    fn without_kid_every_trusted_key_is_tried_within_the_bound() {
        let keys: Vec<IssuerKey> = (0..=qrid_credential::MAX_KEYS_WITHOUT_KID)
            .map(|_| IssuerKey::generate())
            .collect();
        let signer = &keys[qrid_credential::MAX_KEYS_WITHOUT_KID - 1];
        let p = without_kid(signer);
        let all: Vec<&IssuerKey> = keys.iter().collect();
        let within = &all[..qrid_credential::MAX_KEYS_WITHOUT_KID];
        // Found among as many keys as the bound allows, and the verdict names it.
        match verifier(within, Policy::default()).verify(&p, NOW).unwrap() {
            Verdict::Valid(v) => assert_eq!(&v.kid, signer.kid()),
            Verdict::Invalid(r) => panic!("{r}"),
        }
        // Not among the trusted keys: no signature verifies.
        assert_eq!(
            kind(verifier(&within[..3], Policy::default()).verify(&p, NOW)),
            "bad_signature"
        );
        // A longer trust list is not searched without a kid ...
        assert_eq!(
            kind(verifier(&all, Policy::default()).verify(&p, NOW)),
            "unknown_key"
        );
        // ... while a credential with a kid is found in it as before.
        assert_eq!(
            kind(verifier(&all, Policy::default()).verify(&issue(signer, None), NOW)),
            "valid"
        );
    }

    /// A 2-bit status list of 16 at `uri`, issued at `iat` and signed by `key`: index 1
    /// revoked, 2 suspended, 3 holding the application value 3.
    fn signed_list(key: &IssuerKey, uri: &str, iat: i64) -> Vec<u8> {
        let mut list = StatusList::new(StatusBits::Two, 16).unwrap();
        list.set(StatusIndex(1), Status::Invalid).unwrap();
        list.set(StatusIndex(2), Status::Suspended).unwrap();
        list.set(StatusIndex(3), Status::Other(3)).unwrap();
        let token = StatusListToken {
            uri: uri.into(),
            issued_at: iat,
            expires_at: None,
            ttl: None,
            list,
        };
        token.sign(key.signing_key(), key.kid()).unwrap()
    }

    #[test]
    fn status_checks() {
        let key = IssuerKey::generate();
        let uri = "https://id.example/s/9";
        let p = |i| issue(&key, Some(StatusRef::new(uri, StatusIndex(i)).unwrap()));
        let signed = signed_list(&key, uri, NOW);

        let mut v = verifier(
            &[&key],
            Policy {
                require_status: true,
                ..Policy::default()
            },
        );
        assert_eq!(kind(v.verify(&p(0), NOW)), "status_unavailable");
        v.status_mut()
            .insert_token(
                &signed,
                &TrustStore::from_jwks(&Jwks {
                    keys: vec![key.jwk()],
                })
                .unwrap(),
                NOW,
            )
            .unwrap();
        assert_eq!(kind(v.verify(&p(0), NOW)), "valid");
        assert_eq!(kind(v.verify(&p(1), NOW)), "revoked");
        assert_eq!(kind(v.verify(&p(2), NOW)), "suspended");
        assert_eq!(kind(v.verify(&p(3), NOW)), "unknown_status");
        assert_eq!(kind(v.verify(&p(100), NOW)), "status_index_out_of_range");
        assert_eq!(
            kind(v.verify(&p(0), NOW + 48 * 3600 + 1)),
            "stale_status_list"
        );
        match v.verify(&p(0), NOW + 48 * 3600 + 1).unwrap() {
            Verdict::Invalid(r) => assert!(
                r.to_string().contains("more than the 172800 s allowed"),
                "{r}"
            ),
            Verdict::Valid(_) => panic!("a list older than the policy passed"),
        }
        // A list past its own exp is refused as expired, not as "too old" against a limit it
        // is within.
        let short = StatusListToken {
            uri: uri.into(),
            issued_at: NOW,
            expires_at: Some(NOW + 24 * 3600),
            ttl: None,
            list: StatusList::new(StatusBits::Two, 16).unwrap(),
        }
        .sign(key.signing_key(), key.kid())
        .unwrap();
        let trust = TrustStore::from_jwks(&Jwks {
            keys: vec![key.jwk()],
        })
        .unwrap();
        let mut v = verifier(
            &[&key],
            Policy {
                require_status: true,
                ..Policy::default()
            },
        );
        v.status_mut().insert_token(&short, &trust, NOW).unwrap();
        match v.verify(&p(0), NOW + 25 * 3600).unwrap() {
            Verdict::Invalid(r) => {
                assert_eq!(r.kind(), "stale_status_list");
                let msg = r.to_string();
                assert!(
                    msg.contains("has expired") && !msg.contains("more than"),
                    "{msg}"
                );
            }
            Verdict::Valid(_) => panic!("an expired list passed"),
        }
        // Without require_status a missing list leaves the status unchecked.
        let relaxed = verifier(&[&key], Policy::default());
        match relaxed.verify(&p(1), NOW).unwrap() {
            Verdict::Valid(v) => assert_eq!(v.status, StatusOutcome::Unchecked),
            Verdict::Invalid(r) => panic!("{r}"),
        }
    }

    #[test]
    fn status_cache_refuses_foreign_lists_and_keeps_the_newest() {
        let key = IssuerKey::generate();
        let other = IssuerKey::generate();
        let trust = TrustStore::from_jwks(&Jwks {
            keys: vec![key.jwk()],
        })
        .unwrap();
        let make = |k: &IssuerKey, iat| {
            StatusListToken {
                uri: "u".into(),
                issued_at: iat,
                expires_at: None,
                ttl: None,
                list: StatusList::new(StatusBits::One, 8).unwrap(),
            }
            .sign(k.signing_key(), k.kid())
            .unwrap()
        };
        let mut cache = StatusCache::default();
        assert!(cache.insert_token(&make(&other, NOW), &trust, NOW).is_err());
        let mut tampered = make(&key, NOW);
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        assert_eq!(
            cache
                .insert_token(&tampered, &trust, NOW)
                .unwrap_err()
                .kind(),
            "bad_signature"
        );
        cache.insert_token(&make(&key, NOW), &trust, NOW).unwrap();
        cache
            .insert_token(&make(&key, NOW - 100), &trust, NOW)
            .unwrap();
        assert_eq!(cache.get("u").unwrap().token.issued_at, NOW);
    }

    #[test]
    fn verdict_json_shapes() {
        let key = IssuerKey::generate();
        let v = verifier(&[&key], Policy::default());
        let ok = v.verify(&issue(&key, None), NOW).unwrap().to_json();
        assert_eq!(ok["valid"], true);
        assert_eq!(ok["claims"]["full_name"], "Võ Thị Sáu");
        assert_eq!(ok["status"], "unchecked");
        assert_eq!(ok["kid"], key.kid().to_string());
        let bad = v.verify("HC1:XYZ", NOW).unwrap().to_json();
        assert_eq!(bad["valid"], false);
        assert_eq!(bad["error"]["kind"], "bad_prefix");
    }

    /// The verdict tree as it was built before `Verdict` had its own `Serialize`.
    fn tree(v: &Verdict) -> serde_json::Value {
        use serde_json::json;
        match v {
            Verdict::Valid(v) => {
                let mut out = json!({
                    "valid": true,
                    "kid": v.kid.to_string(),
                    "claims": v.credential.to_json(),
                    "status": match v.status {
                        StatusOutcome::Unchecked => "unchecked",
                        _ => "valid",
                    },
                });
                if let StatusOutcome::Valid { list_age } = v.status {
                    out["status_list_age"] = list_age.into();
                }
                out
            }
            Verdict::Invalid(reason) => {
                let mut out = json!({
                    "valid": false,
                    "error": {"kind": reason.kind(), "message": reason.to_string()},
                });
                if let Some(c) = reason.credential() {
                    out["credential_id"] = c.id.to_string().into();
                }
                match reason {
                    Reason::Revoked { .. } => out["status"] = "revoked".into(),
                    Reason::Suspended { .. } => out["status"] = "suspended".into(),
                    _ => {}
                }
                out
            }
        }
    }

    #[test]
    fn verdicts_serialize_straight_to_the_bytes_of_their_tree() {
        let key = IssuerKey::generate();
        let other = IssuerKey::generate();
        let uri = "https://id.example/s/9";
        let p = |i| issue(&key, Some(StatusRef::new(uri, StatusIndex(i)).unwrap()));
        let signed = signed_list(&key, uri, NOW - 40);
        let trust = TrustStore::from_jwks(&Jwks {
            keys: vec![key.jwk()],
        })
        .unwrap();
        let mut v = verifier(&[&key], Policy::default());
        v.status_mut().insert_token(&signed, &trust, NOW).unwrap();
        let mut verdicts = vec![
            v.verify(&p(0), NOW).unwrap(),
            v.verify(&p(1), NOW).unwrap(),
            v.verify(&p(2), NOW).unwrap(),
            v.verify(&p(100), NOW).unwrap(),
            v.verify(&issue(&key, None), NOW).unwrap(),
            v.verify(&issue(&key, None), NOW + 31 * 86_400).unwrap(),
            v.verify(&issue(&other, None), NOW).unwrap(),
            v.verify("HC1:XYZ", NOW).unwrap(),
            v.verify("not a credential", NOW).unwrap(),
        ];
        if let Verdict::Valid(mut current) = v.verify(&p(0), NOW).unwrap() {
            current.status = StatusOutcome::Current;
            verdicts.push(Verdict::Valid(current));
        }
        let kinds: Vec<_> = verdicts.iter().map(Verdict::kind).collect();
        assert_eq!(
            kinds,
            [
                "valid",
                "revoked",
                "suspended",
                "status_index_out_of_range",
                "valid",
                "expired",
                "unknown_key",
                "bad_prefix",
                "base45",
                "valid"
            ]
        );
        for verdict in &verdicts {
            assert_eq!(
                serde_json::to_string(verdict).unwrap(),
                tree(verdict).to_string()
            );
            assert_eq!(verdict.to_json(), tree(verdict));
        }
        assert_eq!(verdicts[0].to_json()["status_list_age"], 40);
        assert_eq!(verdicts[9].to_json()["status"], "valid");
        assert!(verdicts[9].to_json().get("status_list_age").is_none());
        assert_eq!(
            verdicts[1].credential_id().map(|c| c.to_string()),
            verdicts[1].to_json()["credential_id"]
                .as_str()
                .map(str::to_owned)
        );
        assert_eq!(verdicts[7].credential_id(), None);
        let e = VerifyError::StatusListUnavailable { uri: uri.into() };
        assert_eq!(
            serde_json::to_string(&e).unwrap(),
            serde_json::json!({"valid": false, "error": {"kind": e.kind(), "message": e.to_string()}})
                .to_string()
        );
    }
}
