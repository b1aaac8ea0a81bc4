//! IETF OAuth Token Status List (draft-ietf-oauth-status-list): the bit-packed list, its zlib
//! compression, and the signed status list token in its CWT form.

use crate::cbor::{self, as_i64, get_int, get_text};
use crate::cose::{self, SignedMessage};
use crate::credential::StatusIndex;
use crate::error::Error;
use crate::keys::Kid;
use crate::payload::{unzlib, zlib};
use ciborium::Value;
use ed25519_dalek::Signature;
use signature::Signer;

/// The `typ` of a status list token in CWT form.
pub const TYP: &str = "application/statuslist+cwt";
/// CWT claim key of `sub` (the list's URI).
const SUB: i64 = 2;
/// CWT claim key of `ttl`.
const TTL: i64 = 65534;
/// CWT claim key of `status_list`.
const STATUS_LIST: i64 = 65533;
/// Largest decompressed list accepted: 16 MiB, 134 million 1-bit entries.
pub const MAX_LIST_BYTES: usize = 16 * 1024 * 1024;
/// Largest signed token accepted.
pub const MAX_TOKEN_BYTES: usize = MAX_LIST_BYTES + 4096;

/// Bits per entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusBits {
    /// Valid or invalid.
    One = 1,
    /// Adds suspended.
    Two = 2,
    /// Application-specific values.
    Four = 4,
    /// Application-specific values.
    Eight = 8,
}

impl StatusBits {
    /// The width for a number of bits, if it is one the draft allows.
    pub fn from_u8(n: u8) -> Option<StatusBits> {
        match n {
            1 => Some(StatusBits::One),
            2 => Some(StatusBits::Two),
            4 => Some(StatusBits::Four),
            8 => Some(StatusBits::Eight),
            _ => None,
        }
    }
    fn n(self) -> usize {
        self as usize
    }
}

/// A credential's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// 0x00
    Valid,
    /// 0x01: revoked for good.
    Invalid,
    /// 0x02: temporarily invalid.
    Suspended,
    /// 0x03 and above: application-specific, treated as invalid by verifiers.
    Other(u8),
}

impl Status {
    /// The numeric value.
    pub fn value(self) -> u8 {
        match self {
            Status::Valid => 0,
            Status::Invalid => 1,
            Status::Suspended => 2,
            Status::Other(v) => v,
        }
    }
    fn from_value(v: u8) -> Status {
        match v {
            0 => Status::Valid,
            1 => Status::Invalid,
            2 => Status::Suspended,
            v => Status::Other(v),
        }
    }
}

/// A list of statuses, `bits` wide each; entry `i` lives in byte `i * bits / 8`, least
/// significant bits first, as the draft specifies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusList {
    bits: StatusBits,
    bytes: Vec<u8>,
}

impl StatusList {
    /// A list of at least `entries` entries, all valid. Refuses lists over [`MAX_LIST_BYTES`].
    pub fn new(bits: StatusBits, entries: usize) -> Result<StatusList, Error> {
        let len = entries
            .checked_mul(bits.n())
            .map(|b| b.div_ceil(8))
            .filter(|&b| b <= MAX_LIST_BYTES)
            .ok_or_else(|| Error::StatusList(format!("more than {MAX_LIST_BYTES} bytes")))?;
        Ok(StatusList {
            bits,
            bytes: vec![0; len],
        })
    }

    /// Bits per entry.
    pub fn bits(&self) -> StatusBits {
        self.bits
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.bytes.len() * 8 / self.bits.n()
    }

    /// Whether the list has no entries.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    fn locate(&self, index: StatusIndex) -> Option<(usize, u32)> {
        let bit = (index.0 as usize).checked_mul(self.bits.n())?;
        (bit / 8 < self.bytes.len()).then_some((bit / 8, (bit % 8) as u32))
    }

    /// The status at `index`, or `None` past the end of the list.
    pub fn get(&self, index: StatusIndex) -> Option<Status> {
        let (byte, shift) = self.locate(index)?;
        let mask = ((1u16 << self.bits.n()) - 1) as u8;
        Some(Status::from_value((self.bytes[byte] >> shift) & mask))
    }

    /// Sets the status at `index`; refuses indices past the end and values too wide for `bits`.
    pub fn set(&mut self, index: StatusIndex, status: Status) -> Result<(), Error> {
        let mask = ((1u16 << self.bits.n()) - 1) as u8;
        if status.value() > mask {
            return Err(Error::StatusList(format!(
                "status {} does not fit in {} bit(s)",
                status.value(),
                self.bits.n()
            )));
        }
        let (byte, shift) = self.locate(index).ok_or_else(|| {
            Error::StatusList(format!("index {index} is past the end of the list"))
        })?;
        self.bytes[byte] = (self.bytes[byte] & !(mask << shift)) | (status.value() << shift);
        Ok(())
    }

    /// The zlib-compressed bytes (`lst`).
    pub fn compressed(&self) -> Vec<u8> {
        zlib(&self.bytes).unwrap_or_else(|| {
            // Only if zlib refuses to finish: fall back to the streaming encoder.
            use std::io::Write;
            let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
            let _ = e.write_all(&self.bytes);
            e.finish().unwrap_or_default()
        })
    }

    /// Rebuilds a list from `lst`, refusing corrupt streams and lists over [`MAX_LIST_BYTES`].
    pub fn from_compressed(bits: StatusBits, lst: &[u8]) -> Result<StatusList, Error> {
        let bytes = unzlib(lst, MAX_LIST_BYTES, "decompressed status list")?;
        Ok(StatusList { bits, bytes })
    }
}

/// A status list with the metadata that its signed token carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusListToken {
    /// `sub`: the URI credentials reference.
    pub uri: String,
    /// `iat`, Unix seconds: verifiers measure the age of their copy from here.
    pub issued_at: i64,
    /// `exp`, Unix seconds, if the issuer bounds the token's use.
    pub expires_at: Option<i64>,
    /// `ttl` in seconds: how long a verifier may cache it before fetching a fresh one.
    pub ttl: Option<u64>,
    /// The list.
    pub list: StatusList,
}

impl StatusListToken {
    /// Signs the token; returns the untagged COSE_Sign1 bytes (media type
    /// `application/statuslist+cwt`).
    pub fn sign<S: Signer<Signature>>(&self, signer: &S, kid: &Kid) -> Result<Vec<u8>, Error> {
        let int = |i: i64| Value::Integer(i.into());
        let mut claims = vec![(int(SUB), Value::Text(self.uri.clone()))];
        if let Some(exp) = self.expires_at {
            claims.push((int(4), int(exp)));
        }
        claims.push((int(6), int(self.issued_at)));
        claims.push((
            int(STATUS_LIST),
            Value::Map(vec![
                (Value::Text("bits".into()), int(self.list.bits.n() as i64)),
                (
                    Value::Text("lst".into()),
                    Value::Bytes(self.list.compressed()),
                ),
            ]),
        ));
        if let Some(ttl) = self.ttl {
            claims.push((int(TTL), Value::Integer(ttl.into())));
        }
        // Deterministic order: 2, 4, 6 encode in one byte; 65533 < 65534 in three.
        let protected = cose::protected_header(kid.as_bytes(), Some(TYP));
        cose::sign(signer, &protected, &cbor::encode(&Value::Map(claims)))
    }

    /// Parses a token's COSE_Sign1; check the signature on the result before calling
    /// [`StatusListToken::from_claims`].
    pub fn open(bytes: &[u8]) -> Result<SignedMessage, Error> {
        if bytes.len() > MAX_TOKEN_BYTES {
            return Err(Error::TooLarge {
                what: "status list token",
                limit: MAX_TOKEN_BYTES,
            });
        }
        let msg = SignedMessage::parse(bytes)?;
        if msg.typ() != Some(TYP) {
            return Err(Error::CoseStructure(format!("typ must be {TYP}")));
        }
        Ok(msg)
    }

    /// Reads the claims of a token whose signature has been verified.
    pub fn from_claims(payload: &[u8]) -> Result<StatusListToken, Error> {
        let bad = |m: &str| Error::StatusList(m.to_owned());
        let Value::Map(claims) = cbor::decode(payload)? else {
            return Err(bad("claims are not a map"));
        };
        let uri = get_int(&claims, SUB)
            .and_then(Value::as_text)
            .ok_or_else(|| bad("sub (the list URI) is missing"))?
            .to_owned();
        let issued_at = get_int(&claims, 6)
            .and_then(as_i64)
            .ok_or_else(|| bad("iat is missing"))?;
        let expires_at = get_int(&claims, 4)
            .map(|v| as_i64(v).ok_or_else(|| bad("exp is not an integer")))
            .transpose()?;
        let ttl = get_int(&claims, TTL)
            .map(|v| {
                v.as_integer()
                    .and_then(|i| u64::try_from(i).ok())
                    .ok_or_else(|| bad("ttl is not an unsigned integer"))
            })
            .transpose()?;
        let Some(Value::Map(sl)) = get_int(&claims, STATUS_LIST) else {
            return Err(bad("status_list is missing"));
        };
        let bits = get_text(sl, "bits")
            .and_then(as_i64)
            .and_then(|b| u8::try_from(b).ok())
            .and_then(StatusBits::from_u8)
            .ok_or_else(|| bad("bits must be 1, 2, 4 or 8"))?;
        let Some(Value::Bytes(lst)) = get_text(sl, "lst") else {
            return Err(bad("lst is missing"));
        };
        Ok(StatusListToken {
            uri,
            issued_at,
            expires_at,
            ttl,
            list: StatusList::from_compressed(bits, lst)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::SigningKey;
    use proptest::prelude::*;

    #[test]
    fn draft_example_one_bit() {
        // The draft's 1-bit example: statuses at 0,3,4,5,7,8,9,13,15 set -> bytes b9 a3.
        let mut l = StatusList::new(StatusBits::One, 16).unwrap();
        for i in [0, 3, 4, 5, 7, 8, 9, 13, 15] {
            l.set(StatusIndex(i), Status::Invalid).unwrap();
        }
        assert_eq!(l.bytes, [0xB9, 0xA3]);
    }

    #[test]
    fn draft_example_two_bits() {
        // The draft's 2-bit example: [1,2,0,3,0,1,0,1,1,2,3,3] -> c9 44 f9.
        let mut l = StatusList::new(StatusBits::Two, 12).unwrap();
        for (i, v) in [1u8, 2, 0, 3, 0, 1, 0, 1, 1, 2, 3, 3]
            .into_iter()
            .enumerate()
        {
            l.set(StatusIndex(i as u32), Status::from_value(v)).unwrap();
        }
        assert_eq!(l.bytes, [0xC9, 0x44, 0xF9]);
        assert_eq!(l.get(StatusIndex(1)), Some(Status::Suspended));
        assert_eq!(l.get(StatusIndex(12)), None);
    }

    #[test]
    fn refusals() {
        let mut l = StatusList::new(StatusBits::One, 8).unwrap();
        assert!(l.set(StatusIndex(0), Status::Suspended).is_err());
        assert!(l.set(StatusIndex(8), Status::Invalid).is_err());
        assert!(l.get(StatusIndex(u32::MAX)).is_none());
        assert!(StatusList::new(StatusBits::Eight, MAX_LIST_BYTES + 1).is_err());
        let bomb = zlib(&vec![0u8; MAX_LIST_BYTES + 1]).unwrap();
        assert_eq!(
            StatusList::from_compressed(StatusBits::One, &bomb)
                .unwrap_err()
                .kind(),
            "too_large"
        );
    }

    #[test]
    fn token_round_trip() {
        let key = SigningKey::from_bytes(&[9u8; 32]);
        let kid = Kid::thumbprint(&key.verifying_key());
        let mut list = StatusList::new(StatusBits::Two, 1000).unwrap();
        list.set(StatusIndex(7), Status::Invalid).unwrap();
        list.set(StatusIndex(999), Status::Suspended).unwrap();
        let token = StatusListToken {
            uri: "https://id.example/s/1".into(),
            issued_at: 1_700_000_000,
            expires_at: None,
            ttl: Some(3600),
            list,
        };
        let bytes = token.sign(&key, &kid).unwrap();
        let msg = StatusListToken::open(&bytes).unwrap();
        msg.verify(&key.verifying_key()).unwrap();
        assert_eq!(StatusListToken::from_claims(msg.payload()).unwrap(), token);
    }

    proptest! {
        #[test]
        fn set_get_compress_round_trip(bits in prop::sample::select(vec![1u8, 2, 4, 8]),
                                       sets in proptest::collection::vec((0u32..5000, any::<u8>()), 0..64)) {
            let bits = StatusBits::from_u8(bits).unwrap();
            let mut l = StatusList::new(bits, 5000).unwrap();
            let mut model = vec![0u8; 5000];
            let mask = ((1u16 << bits.n()) - 1) as u8;
            for (i, v) in sets {
                let v = v & mask;
                l.set(StatusIndex(i), Status::from_value(v)).unwrap();
                model[i as usize] = v;
            }
            let back = StatusList::from_compressed(bits, &l.compressed()).unwrap();
            for (i, v) in model.iter().enumerate() {
                prop_assert_eq!(back.get(StatusIndex(i as u32)).map(Status::value), Some(*v));
            }
        }
    }
}
