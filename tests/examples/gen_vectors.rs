//! Generates the shared test vectors in `tests/vectors/` (keys.json, valid.json, invalid.json).
//!
//! Run from the repository root:
//!
//! ```text
//! cargo run -p qrid-e2e --example gen_vectors
//! ```
//!
//! Everything is deterministic: keys come from fixed seeds, times and credential ids are fixed,
//! Ed25519 signatures are deterministic and the zlib output of the credential crate is too, so
//! running this again reproduces the same files byte for byte (unless the format changed, which
//! `cargo test -p qrid-e2e --test vectors` then reports).
//!
//! The malformed payloads are built here from raw CBOR bytes, and signed properly wherever the
//! case needs a good signature over bad content.

use ciborium::Value as Cbor;
use qrid_credential::{
    base45, payload, CitizenInput, Credential, CredentialId, HolderKey, Jwk, Kid, SigningKey,
    Status, StatusBits, StatusIndex, StatusList, StatusListToken, StatusRef, VerifyingKey,
};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use signature::Signer;
use std::path::PathBuf;

/// 2025-11-23T00:00:00Z: the verification time of most vectors.
const NOW: i64 = 1_763_856_000;
/// 30 days before NOW.
const IAT: i64 = NOW - 30 * 86_400;
/// Ten years after IAT.
const EXP: i64 = IAT + 3650 * 86_400;
const STATUS_URI: &str = "https://id.gov.vn/s/1";
const STALE_URI: &str = "https://id.gov.vn/s/2";
const EXPIRED_LIST_URI: &str = "https://id.gov.vn/s/3";

struct Key {
    name: &'static str,
    label: &'static str,
    role: &'static str,
    signing: SigningKey,
}

impl Key {
    fn new(name: &'static str, label: &'static str, role: &'static str) -> Key {
        let seed: [u8; 32] = Sha256::digest(label.as_bytes()).into();
        Key {
            name,
            label,
            role,
            signing: SigningKey::from_bytes(&seed),
        }
    }
    fn public(&self) -> VerifyingKey {
        self.signing.verifying_key()
    }
    fn kid(&self) -> Kid {
        Kid::thumbprint(&self.public())
    }
    fn json(&self) -> Value {
        let kid = self.kid();
        json!({
            "role": self.role,
            "seed_label": self.label,
            "seed_hex": hex::encode(self.signing.to_bytes()),
            "public_key_hex": hex::encode(self.public().as_bytes()),
            "jwk": Jwk::from_verifying_key(&self.public()),
            "kid": kid.to_string(),
            "kid_hex": hex::encode(kid.as_bytes()),
            "short_kid_hex": hex::encode(kid.short()),
        })
    }
}

struct Keys {
    issuer1: Key,
    issuer2: Key,
    other: Key,
    holder: Key,
}

impl Keys {
    fn get(&self, name: &str) -> &Key {
        [&self.issuer1, &self.issuer2, &self.other, &self.holder]
            .into_iter()
            .find(|k| k.name == name)
            .expect("known key name")
    }
}

/// The metadata that is not part of the claims input.
struct Meta {
    iss: &'static str,
    iat: i64,
    exp: i64,
    cti: &'static str,
    status: Option<(&'static str, u32)>,
    holder: Option<&'static str>,
}

impl Meta {
    fn basic(cti: &'static str) -> Meta {
        Meta {
            iss: "VN",
            iat: IAT,
            exp: EXP,
            cti,
            status: None,
            holder: None,
        }
    }
    fn json(&self) -> Value {
        json!({
            "iss": self.iss,
            "iat": self.iat,
            "exp": self.exp,
            "cti": self.cti,
            "status": self.status.map(|(uri, idx)| json!({"uri": uri, "idx": idx})),
            "holder": self.holder,
        })
    }
}

/// Builds a credential from claims input and metadata, the way the vectors test does.
fn credential(keys: &Keys, input: &Value, meta: &Meta) -> Credential {
    let input = CitizenInput::from_json(&input.to_string()).expect("claims input");
    let status = meta
        .status
        .map(|(uri, idx)| StatusRef::new(uri, StatusIndex(idx)).expect("status ref"));
    let holder = meta.holder.map(|h| HolderKey(keys.get(h).public()));
    let mut c =
        Credential::from_input(&input, meta.iss, meta.iat, 1, status, holder).expect("credential");
    c.issued_at = meta.iat;
    c.expires_at = meta.exp;
    c.id = meta.cti.parse::<CredentialId>().expect("cti");
    c
}

fn sign(key: &Key, c: &Credential) -> String {
    c.sign(&key.signing, &key.kid()).expect("sign")
}

// ---- raw CBOR and COSE, written by hand for the malformed cases ----

fn head(out: &mut Vec<u8>, major: u8, n: u64) {
    let m = major << 5;
    match n {
        0..=23 => out.push(m | n as u8),
        24..=0xFF => out.extend_from_slice(&[m | 24, n as u8]),
        0x100..=0xFFFF => {
            out.push(m | 25);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        _ => {
            out.push(m | 26);
            out.extend_from_slice(&(n as u32).to_be_bytes());
        }
    }
}

fn bstr(out: &mut Vec<u8>, b: &[u8]) {
    head(out, 2, b.len() as u64);
    out.extend_from_slice(b);
}

/// `{1: alg, 4: kid}` with the short kid, as our issuer writes it.
fn protected(alg: i64, kid: &[u8]) -> Vec<u8> {
    let mut p = vec![0xA2, 0x01];
    if alg < 0 {
        head(&mut p, 1, (-1 - alg) as u64);
    } else {
        head(&mut p, 0, alg as u64);
    }
    p.push(0x04);
    bstr(&mut p, kid);
    p
}

fn sig_structure(protected: &[u8], claims: &[u8]) -> Vec<u8> {
    let mut s = vec![0x84, 0x6A];
    s.extend_from_slice(b"Signature1");
    bstr(&mut s, protected);
    s.push(0x40);
    bstr(&mut s, claims);
    s
}

/// `[protected, unprotected, claims, signature]` with a real Ed25519 signature.
fn cose(key: &Key, protected: &[u8], unprotected: &[u8], claims: &[u8]) -> Vec<u8> {
    let sig = key
        .signing
        .sign(&sig_structure(protected, claims))
        .to_bytes();
    cose_with_sig(protected, unprotected, claims, &sig)
}

fn cose_with_sig(protected: &[u8], unprotected: &[u8], claims: &[u8], sig: &[u8]) -> Vec<u8> {
    let mut out = vec![0x84];
    bstr(&mut out, protected);
    out.extend_from_slice(unprotected);
    bstr(&mut out, claims);
    bstr(&mut out, sig);
    out
}

fn cbor_encode(v: &Cbor) -> Vec<u8> {
    let mut out = Vec::new();
    ciborium::ser::into_writer(v, &mut out).expect("encode");
    out
}

fn cbor_map(bytes: &[u8]) -> Vec<(Cbor, Cbor)> {
    match ciborium::de::from_reader(bytes).expect("decode") {
        Cbor::Map(m) => m,
        _ => panic!("not a map"),
    }
}

fn is_int(k: &Cbor, n: i64) -> bool {
    k.as_integer()
        .is_some_and(|i| i128::from(i) == i128::from(n))
}

/// Edits the Claim 169 map inside a claims map.
fn edit_169(claims: &mut [(Cbor, Cbor)], f: impl FnOnce(&mut Vec<(Cbor, Cbor)>)) {
    for (k, v) in claims.iter_mut() {
        if is_int(k, 169) {
            if let Cbor::Map(m) = v {
                f(m);
                return;
            }
        }
    }
    panic!("no claim 169");
}

fn set_int_key(m: &mut [(Cbor, Cbor)], key: i64, value: Cbor) {
    for (k, v) in m.iter_mut() {
        if is_int(k, key) {
            *v = value;
            return;
        }
    }
    panic!("no key {key}");
}

fn int(i: i64) -> Cbor {
    Cbor::Integer(i.into())
}

// ---- status lists ----

fn status_token(keys: &Keys, uri: &str, iat: i64, exp: Option<i64>) -> String {
    let mut list = StatusList::new(StatusBits::Two, 65_536).expect("list");
    list.set(StatusIndex(5), Status::Invalid).expect("set");
    list.set(StatusIndex(6), Status::Suspended).expect("set");
    list.set(StatusIndex(7), Status::Other(3)).expect("set");
    let token = StatusListToken {
        uri: uri.into(),
        issued_at: iat,
        expires_at: exp,
        ttl: Some(43_200),
        list,
    };
    hex::encode(
        token
            .sign(&keys.issuer1.signing, &keys.issuer1.kid())
            .expect("sign status list"),
    )
}

struct Lists {
    main: Value,
    stale: Value,
    expired: Value,
}

fn main() {
    let keys = Keys {
        issuer1: Key::new("issuer1", "qrid test vector issuer 1", "issuer"),
        issuer2: Key::new("issuer2", "qrid test vector issuer 2", "issuer"),
        other: Key::new(
            "other_issuer",
            "qrid test vector other issuer",
            "issuer not in any trust list of these vectors",
        ),
        holder: Key::new("holder", "qrid test vector holder 1", "holder (wallet) key"),
    };
    let dir: PathBuf = [env!("CARGO_MANIFEST_DIR"), "vectors"].iter().collect();
    std::fs::create_dir_all(&dir).expect("mkdir vectors");

    let lists = Lists {
        main: json!({"uri": STATUS_URI, "token_hex": status_token(&keys, STATUS_URI, NOW - 3600, None)}),
        stale: json!({"uri": STALE_URI, "token_hex": status_token(&keys, STALE_URI, NOW - 49 * 3600, None)}),
        expired: json!({"uri": EXPIRED_LIST_URI,
            "token_hex": status_token(&keys, EXPIRED_LIST_URI, NOW - 3600, Some(NOW - 600))}),
    };

    let keys_json = json!({
        "description": "Deterministic keys of the qrid test vectors. seed_hex = SHA-256(seed_label) \
            is the Ed25519 private key seed (RFC 8032); kid is the RFC 7638 JWK thumbprint \
            (base64url), short_kid_hex its first 4 bytes, which credentials carry as COSE kid. \
            Status list tokens carry the whole thumbprint. DEVELOPMENT AND TEST KEYS ONLY.",
        "keys": {
            "issuer1": keys.issuer1.json(),
            "issuer2": keys.issuer2.json(),
            "other_issuer": keys.other.json(),
            "holder": keys.holder.json(),
        }
    });
    write(&dir, "keys.json", &keys_json);

    let valid = valid_vectors(&keys, &lists);
    write(&dir, "valid.json", &valid);
    let invalid = invalid_vectors(&keys, &lists);
    write(&dir, "invalid.json", &invalid);
    eprintln!(
        "wrote {} valid and {} invalid vectors to {}",
        valid["vectors"].as_array().map_or(0, Vec::len),
        invalid["vectors"].as_array().map_or(0, Vec::len),
        dir.display()
    );
}

fn write(dir: &std::path::Path, name: &str, v: &Value) {
    let mut text = serde_json::to_string_pretty(v).expect("json");
    text.push('\n');
    std::fs::write(dir.join(name), text).expect("write vector file");
}

/// name, description, claims input, metadata, signing key, status lists, expected status.
type ValidCase = (
    &'static str,
    &'static str,
    Value,
    Meta,
    &'static str,
    Vec<Value>,
    &'static str,
);

fn valid_vectors(keys: &Keys, lists: &Lists) -> Value {
    let photo = hex::encode(Sha256::digest(b"qrid test vector photo 1"));
    let cases: Vec<ValidCase> = vec![
        (
            "full",
            "Every claim: Vietnamese diacritics, a two-line address, sex, nationality, place of \
             origin, photo digest and a status reference whose list says valid.",
            json!({
                "id_number": "001099012345",
                "full_name": "Nguyễn Thị Minh Khai",
                "date_of_birth": "1990-01-15",
                "sex": "F",
                "nationality": "VN",
                "place_of_origin": "Xã Đông Hội, Huyện Đông Anh, Thành phố Hà Nội",
                "place_of_residence": "Số 12 Ngõ 34 Phố Nguyễn Trãi\nPhường Thượng Đình, Quận Thanh Xuân, Hà Nội",
                "photo_sha256": photo,
            }),
            Meta {
                status: Some((STATUS_URI, 40_000)),
                ..Meta::basic("0123456789abcdef")
            },
            "issuer1",
            vec![lists.main.clone()],
            "valid",
        ),
        (
            "minimal",
            "Only the three required claims: id number, full name, date of birth.",
            json!({"id_number": "079085001234", "full_name": "Lê Văn Tám", "date_of_birth": "1985-07-30"}),
            Meta::basic("00000000000000a1"),
            "issuer1",
            vec![],
            "unchecked",
        ),
        (
            "photo",
            "Required claims plus the SHA-256 of the enrolment photo (private-use key -2).",
            json!({"id_number": "001200000017", "full_name": "Đỗ Quang Huy", "date_of_birth": "2000-12-31",
                   "photo_sha256": photo}),
            Meta::basic("00000000000000a2"),
            "issuer1",
            vec![],
            "unchecked",
        ),
        (
            "holder_key",
            "A holder (wallet) public key bound in cnf as an Ed25519 COSE_Key.",
            json!({"id_number": "048095000321", "full_name": "Hoàng Thị Lan", "date_of_birth": "1995-03-08",
                   "sex": "F", "nationality": "VN"}),
            Meta {
                holder: Some("holder"),
                ..Meta::basic("00000000000000a3")
            },
            "issuer1",
            vec![],
            "unchecked",
        ),
        (
            "nfd_input_second_issuer",
            "Input written in NFD with surrounding spaces is stored trimmed and in NFC; signed by \
             the second trusted issuer key; sex X; a status reference with no list at hand \
             (default policy: status unchecked).",
            json!({"id_number": "092080000999", "full_name": "  Tra\u{0302}\u{0300}n Va\u{0306}n Ba\u{0309}o ",
                   "date_of_birth": "1980-02-29", "sex": "X",
                   "place_of_residence": "Phường Ninh Kiều, Cần Thơ"}),
            Meta {
                status: Some((STATUS_URI, 8)),
                ..Meta::basic("00000000000000a4")
            },
            "issuer2",
            vec![],
            "unchecked",
        ),
        (
            "ascii_long_addresses",
            "ASCII (transliterated) claims with long addresses: compresses well.",
            json!({"id_number": "001099054321", "full_name": "Nguyen Van An", "date_of_birth": "1970-06-01",
                   "sex": "M", "nationality": "VN",
                   "place_of_origin": "Xa Dong Hoi, Huyen Dong Anh, Thanh pho Ha Noi, Viet Nam",
                   "place_of_residence": "So 12 Ngo 34 Pho Nguyen Trai, Phuong Thuong Dinh, Quan Thanh Xuan, Thanh pho Ha Noi"}),
            Meta::basic("00000000000000a5"),
            "issuer1",
            vec![],
            "unchecked",
        ),
    ];
    let mut out = Vec::new();
    let mut accepted = Vec::new();
    let mut seen_compressed = false;
    let mut seen_uncompressed = false;
    for (name, description, input, meta, signer, status_lists, expected_status) in cases {
        let c = credential(keys, &input, &meta);
        let p = sign(keys.get(signer), &c);
        let raw = base45::decode(&p).expect("own base45");
        let compressed = raw.first() == Some(&0x78);
        seen_compressed |= compressed;
        seen_uncompressed |= !compressed;
        let cose_bytes = payload::decode(&p).expect("own payload");
        out.push(json!({
            "name": name,
            "description": description,
            "input": input,
            "metadata": meta.json(),
            "signing_key": signer,
            "trust": ["issuer1", "issuer2"],
            "status_lists": status_lists,
            "now": NOW,
            "claims_cbor_hex": hex::encode(c.to_cbor()),
            "cose_sign1_hex": hex::encode(&cose_bytes),
            "compressed": compressed,
            "payload": p,
            "expected_claims": c.to_json(),
            "expected_status": expected_status,
        }));
        // The form qrid wrote before it tagged its COSE_Sign1: still read.
        let untagged = cose_bytes
            .strip_prefix(&[0xD2][..])
            .expect("qrid writes tag 18");
        accepted.push(json!({
            "name": format!("untagged_{name}"),
            "description": format!("The {name} vector as qrid wrote it before tagging: the same \
                COSE_Sign1 without tag 18."),
            "payload": payload::encode(untagged),
            "trust": ["issuer1", "issuer2"],
            "status_lists": out.last().map(|v| v["status_lists"].clone()),
            "now": NOW,
            "expected_claims": c.to_json(),
            "expected_kid": keys.get(signer).kid().to_string(),
        }));
    }
    accepted.push(claim169_without_kid_and_cti(keys));
    assert!(
        seen_compressed && seen_uncompressed,
        "the valid vectors must include a compressed and an uncompressed payload"
    );
    json!({
        "description": "Valid qrid credentials. Build each one from input (the claims JSON a person \
            writes, CitizenInput) and metadata (iss, iat, exp, cti hex, status {uri, idx} or null, \
            holder key name or null), sign it with signing_key from keys.json: the result must be \
            exactly payload. Verifying payload at now, trusting the keys in trust and the status \
            list tokens in status_lists, must give a valid verdict whose claims equal \
            expected_claims and whose status is expected_status. claims_cbor_hex and \
            cose_sign1_hex are the intermediate bytes; compressed says whether zlib was applied. \
            Compressed payloads are libdeflate level-9 zlib streams: another deflate encoder \
            (zlib itself) makes different, equally valid bytes, so an independent implementation \
            compares cose_sign1_hex and checks that its own payload verifies. \
            accepted: payloads qrid does not write but must verify the same way (the untagged \
            form of each vector, a Claim 169 credential without kid and cti as MOSIP's encoder \
            writes it): at now, trusting trust, the verdict is valid with expected_claims, \
            signed by the key expected_kid.",
        "vectors": out,
        "accepted": accepted,
    })
}

/// A credential as MOSIP's Claim 169 encoder writes it: tag 18, protected header `{1: -8}`
/// (no kid), claims without `cti`. Its credential id is the first 8 bytes of the SHA-256 of
/// its claims bytes.
fn claim169_without_kid_and_cti(keys: &Keys) -> Value {
    let input = json!({"id_number": "001099012345", "full_name": "Nguyễn Thị Minh Khai",
                       "date_of_birth": "1990-01-15", "sex": "F", "nationality": "VN"});
    let c = credential(keys, &input, &Meta::basic("0000000000000000"));
    let mut m = cbor_map(&c.to_cbor());
    m.retain(|(k, _)| !is_int(k, 7));
    let claims = cbor_encode(&Cbor::Map(m));
    let mut cose_bytes = vec![0xD2];
    cose_bytes.extend(cose(&keys.issuer2, &[0xA1, 0x01, 0x27], &[0xA0], &claims));
    let mut expected = c.to_json();
    expected["credential_id"] = CredentialId::of_claims(&claims).to_string().into();
    json!({
        "name": "claim169_no_kid_no_cti",
        "description": "As MOSIP's Claim 169 encoder writes it: tag 18, protected header {1: -8} \
            without kid, no cti. Every trusted key is tried (issuer2 signed it); the credential \
            id is the first 8 bytes of SHA-256 over the claims bytes (the COSE payload).",
        "payload": payload::encode(&cose_bytes),
        "trust": ["issuer1", "issuer2"],
        "status_lists": [],
        "now": NOW,
        "claims_cbor_hex": hex::encode(&claims),
        "expected_claims": expected,
        "expected_kid": keys.issuer2.kid().to_string(),
    })
}

#[allow(clippy::too_many_lines)]
fn invalid_vectors(keys: &Keys, lists: &Lists) -> Value {
    let i1 = &keys.issuer1;
    let kid1 = i1.kid().short();
    let base_input = json!({"id_number": "001099012345", "full_name": "Trần Văn Bảo",
                            "date_of_birth": "1985-07-30"});
    let base = credential(keys, &base_input, &Meta::basic("00000000000000b0"));
    let claims = base.to_cbor();
    let good = sign(i1, &base);
    let good_cose = payload::decode(&good).expect("own payload");
    let prot = protected(-8, &kid1);
    let b45 = |bytes: &[u8]| base45::encode(bytes);
    // Signs edited claims properly, COSE structure as our issuer writes it.
    let signed_claims = |m: Vec<(Cbor, Cbor)>| {
        payload::encode(&cose(i1, &prot, &[0xA0], &cbor_encode(&Cbor::Map(m))))
    };
    let with_status = |idx: u32, uri: &'static str, cti: &'static str| {
        sign(
            i1,
            &credential(
                keys,
                &base_input,
                &Meta {
                    status: Some((uri, idx)),
                    ..Meta::basic(cti)
                },
            ),
        )
    };

    let mut v: Vec<Value> = Vec::new();
    let mut case = |name: &str, description: &str, payload: String, kind: &str| {
        v.push(json!({
            "name": name,
            "description": description,
            "payload": payload,
            "now": NOW,
            "trust": ["issuer1", "issuer2"],
            "status_lists": [],
            "policy": {},
            "expected_kind": kind,
        }));
    };

    // --- transport ---
    case(
        "prefix_login_request",
        "A qrid login request QR (prefix QL1:) is not a credential.",
        "QL1:6BFOXN*TS0BI$ZD4N9".into(),
        "bad_prefix",
    );
    case(
        "prefix_eu_dcc",
        "An EU Digital COVID Certificate (prefix HC1:) in front of a valid credential.",
        format!("HC1:{good}"),
        "bad_prefix",
    );
    case(
        "prefix_signature_stamp",
        "A qrid signature stamp QR (prefix QS1:).",
        "QS1:6BF".into(),
        "bad_prefix",
    );
    case(
        "base45_bad_character",
        "Lower-case letters are outside the base45 alphabet.",
        good.to_ascii_lowercase(),
        "base45",
    );
    case(
        "base45_bad_length",
        "A valid credential with one extra character: length mod 3 == 1.",
        format!("{good}{}", "0".repeat(1 + good.len() % 3 / 2)),
        "base45",
    );
    case(
        "base45_overflow",
        "A three-character group decoding to more than 0xFFFF (GGW = 65536).",
        "GGW6BF".into(),
        "base45",
    );
    case(
        "base45_overflow_pair",
        "A final two-character group decoding to more than 0xFF (ZZ = 1610).",
        format!("{}ZZ", b45(&good_cose[..good_cose.len() & !1])),
        "base45",
    );
    case(
        "zlib_corrupt",
        "Starts with the zlib magic 0x78 0x9C, then an invalid deflate block.",
        b45(&[0x78, 0x9C, 0xFF, 0xFF, 0xFF, 0x00, 0x01]),
        "decompression",
    );
    {
        let mut z = base45::decode(&payload::encode(&claims_padding())).expect("b45");
        z.truncate(z.len() - 4);
        case(
            "zlib_truncated",
            "A zlib stream cut short (its Adler-32 trailer missing).",
            b45(&z),
            "decompression",
        );
    }
    case(
        "payload_too_long",
        "4299 characters: over the 4296-character limit (version 40-L alphanumeric capacity), \
         refused before decoding.",
        "0".repeat(4299),
        "too_large",
    );
    {
        let bomb = payload::encode(&vec![0u8; 1024 * 1024]);
        assert!(bomb.len() < 4296);
        case(
            "zlib_bomb",
            "A small zlib stream that inflates to 1 MiB of zeros: over the 16 KiB limit.",
            bomb,
            "too_large",
        );
    }

    // --- CBOR ---
    case(
        "cbor_garbage",
        "Bytes that are not CBOR (a lone break code).",
        b45(&[0xFF, 0x00, 0x01]),
        "cbor",
    );
    {
        let mut t = good_cose.clone();
        t.push(0x00);
        case(
            "cbor_trailing_bytes",
            "A valid COSE_Sign1 followed by one extra byte.",
            b45(&t),
            "cbor",
        );
    }
    {
        let mut deep = vec![0x81u8; 20];
        deep.push(0x00);
        case(
            "cbor_too_deep",
            "Arrays nested 20 deep: over the depth limit of 16.",
            b45(&deep),
            "cbor",
        );
    }
    case(
        "cbor_duplicate_key_header",
        "The unprotected header map has the key 99 twice.",
        b45(&cose(
            i1,
            &prot,
            &[0xA2, 0x18, 0x63, 0x01, 0x18, 0x63, 0x02],
            &claims,
        )),
        "cbor",
    );
    {
        let mut m = cbor_map(&claims);
        m.push((int(1), Cbor::Text("VN".into())));
        case(
            "cbor_duplicate_key_claims",
            "Properly signed claims with iss (key 1) twice: refused after the signature check.",
            signed_claims(m),
            "cbor",
        );
    }
    case(
        "cbor_truncated",
        "A valid COSE_Sign1 cut in the middle of the signature.",
        b45(&good_cose[..good_cose.len() - 10]),
        "cbor",
    );

    // --- COSE structure ---
    {
        let mut three = vec![0x83];
        bstr(&mut three, &prot);
        three.push(0xA0);
        bstr(&mut three, &claims);
        case(
            "cose_array_of_three",
            "[protected, unprotected, payload] without the signature.",
            b45(&three),
            "cose_structure",
        );
    }
    case(
        "cose_missing_kid_untrusted_signer",
        "Protected header {1: -8} only (no kid, which is allowed), signed by other_issuer: \
         every trusted key is tried and none verifies.",
        b45(&cose(&keys.other, &[0xA1, 0x01, 0x27], &[0xA0], &claims)),
        "bad_signature",
    );
    // --- deterministic encoding of the envelope (one credential, one text) ---
    {
        let body = &good_cose[2..]; // after the tag and the array head
        let mut indefinite = vec![0xD2, 0x9F];
        indefinite.extend_from_slice(body);
        indefinite.push(0xFF);
        case(
            "cose_indefinite_array",
            "The COSE_Sign1 array with an indefinite length (9f … ff) instead of 84.",
            b45(&indefinite),
            "non_canonical",
        );
        let mut long_tag = vec![0xD8, 0x12];
        long_tag.extend_from_slice(&good_cose[1..]);
        case(
            "cose_tag_long_form",
            "Tag 18 written in two bytes (d8 12) instead of d2.",
            b45(&long_tag),
            "non_canonical",
        );
        let sig = &good_cose[good_cose.len() - 64..];
        let mut long_len = good_cose[..good_cose.len() - 66].to_vec();
        long_len.extend_from_slice(&[0x59, 0x00, 0x40]);
        long_len.extend_from_slice(sig);
        case(
            "cose_signature_length_long_form",
            "The signature's length 64 written in three bytes (59 0040) instead of two (58 40).",
            b45(&long_len),
            "non_canonical",
        );
        case(
            "cose_unprotected_keys_unsorted",
            "Unprotected header {33: h'', 32: h''}: keys not in deterministic order.",
            b45(&cose(
                i1,
                &prot,
                &[0xA2, 0x18, 0x21, 0x40, 0x18, 0x20, 0x40],
                &claims,
            )),
            "non_canonical",
        );
    }
    {
        // protected {4: kid}, unprotected {1: -8}
        let mut p = vec![0xA1, 0x04];
        bstr(&mut p, &kid1);
        case(
            "cose_alg_unprotected",
            "The algorithm sits in the unprotected header (and so is not signed).",
            b45(&cose(i1, &p, &[0xA1, 0x01, 0x27], &claims)),
            "cose_structure",
        );
        case(
            "cose_alg_unprotected_too",
            "EdDSA in the protected header and again in the unprotected header.",
            b45(&cose(i1, &prot, &[0xA1, 0x01, 0x27], &claims)),
            "cose_structure",
        );
    }
    {
        // {1: -8, 2: [1], 4: kid}
        let mut p = vec![0xA3, 0x01, 0x27, 0x02, 0x81, 0x01, 0x04];
        bstr(&mut p, &kid1);
        case(
            "cose_crit_header",
            "A crit (2) header parameter: critical extensions are not supported.",
            b45(&cose(i1, &p, &[0xA0], &claims)),
            "cose_structure",
        );
    }
    {
        let mut p = vec![0xA3, 0x01, 0x27, 0x04];
        bstr(&mut p, &kid1);
        p.push(0x10);
        head(&mut p, 3, 26);
        p.extend_from_slice(b"application/statuslist+cwt");
        case(
            "cose_typ_status_list",
            "A status list token's typ in the protected header: not a credential.",
            b45(&cose(i1, &p, &[0xA0], &claims)),
            "cose_structure",
        );
    }
    {
        let mut tagged = vec![0xD8, 0x3D]; // tag 61 (CWT) instead of 18
        tagged.extend_from_slice(&good_cose);
        case(
            "cose_wrong_tag",
            "A COSE_Sign1 wrapped in CBOR tag 61 (CWT) rather than 18 or no tag.",
            b45(&tagged),
            "cose_structure",
        );
    }
    {
        let mut m = vec![0x84];
        bstr(&mut m, &prot);
        m.push(0xA0);
        m.push(0xF6); // payload null: detached
        bstr(&mut m, &[0u8; 64]);
        case(
            "cose_detached_payload",
            "payload nil (detached content) is not accepted.",
            b45(&m),
            "cose_structure",
        );
    }
    case(
        "alg_es256",
        "ES256 (-7) in the protected header: only EdDSA (-8) is allowed.",
        b45(&cose(i1, &protected(-7, &kid1), &[0xA0], &claims)),
        "algorithm_not_allowed",
    );
    case(
        "alg_none_like",
        "Algorithm 0 (reserved) in the protected header.",
        b45(&cose(i1, &protected(0, &kid1), &[0xA0], &claims)),
        "algorithm_not_allowed",
    );

    // --- keys and signatures ---
    case(
        "unknown_issuer",
        "Well formed and properly signed by other_issuer, which is not trusted.",
        sign(&keys.other, &base),
        "unknown_key",
    );
    {
        let mut c = case_vec(&mut v);
        c["name"] = "no_trusted_keys".into();
        c["description"] = "A good credential of issuer1 checked with an empty trust list.".into();
        c["payload"] = good.clone().into();
        c["trust"] = json!([]);
        c["expected_kind"] = "unknown_key".into();
        v.push(c);
    }
    let mut case = |name: &str, description: &str, payload: String, kind: &str| {
        v.push(json!({
            "name": name, "description": description, "payload": payload, "now": NOW,
            "trust": ["issuer1", "issuer2"], "status_lists": [], "policy": {}, "expected_kind": kind,
        }));
    };
    case(
        "kid_too_short",
        "A 3-byte kid: shorter than the 4-byte short kid, matches no key.",
        b45(&cose(i1, &protected(-8, &kid1[..3]), &[0xA0], &claims)),
        "unknown_key",
    );
    {
        // Same kid as issuer1, signature by other_issuer: the kid names a trusted key but the
        // signature is not by it.
        case(
            "signed_by_wrong_key",
            "kid of issuer1, but signed with other_issuer's key.",
            b45(&cose(&keys.other, &prot, &[0xA0], &claims)),
            "bad_signature",
        );
    }
    {
        let mut tampered = good_cose.clone();
        let at = find(&tampered, b"001099012345").expect("id in claims") + 11;
        tampered[at] = b'6'; // 001099012345 -> 001099012346: still a valid id number
        case(
            "claim_byte_changed",
            "One byte of the id number changed after signing (…345 -> …346).",
            payload::encode(&tampered),
            "bad_signature",
        );
    }
    {
        let sig = i1.signing.sign(&sig_structure(&prot, &claims)).to_bytes();
        case(
            "signature_truncated",
            "A 63-byte signature (last byte cut off).",
            b45(&cose_with_sig(&prot, &[0xA0], &claims, &sig[..63])),
            "bad_signature",
        );
        let mut flipped = sig;
        flipped[0] ^= 0x01;
        case(
            "signature_bit_flipped",
            "One bit of the signature flipped.",
            b45(&cose_with_sig(&prot, &[0xA0], &claims, &flipped)),
            "bad_signature",
        );
    }

    // --- claims (properly signed, wrong content) ---
    {
        let mut m = cbor_map(&claims);
        edit_169(&mut m, |id| {
            set_int_key(id, 1, Cbor::Text("00109901234".into()))
        });
        case(
            "id_eleven_digits",
            "An 11-digit id number, properly signed.",
            signed_claims(m),
            "bad_claims",
        );
    }
    {
        let mut m = cbor_map(&claims);
        m.retain(|(k, _)| !is_int(k, 4));
        case(
            "missing_exp",
            "No exp claim (4), properly signed.",
            signed_claims(m),
            "bad_claims",
        );
    }
    {
        let mut m = cbor_map(&claims);
        edit_169(&mut m, |id| id.push((int(9), int(7))));
        case(
            "gender_seven",
            "Claim 169 gender 7 (only 1, 2, 3 exist), properly signed.",
            signed_claims(m),
            "bad_claims",
        );
    }
    {
        let mut m = cbor_map(&claims);
        edit_169(&mut m, |id| {
            set_int_key(id, 8, Cbor::Text("19900230".into()))
        });
        case(
            "dob_february_30",
            "Date of birth 19900230, which does not exist; properly signed.",
            signed_claims(m),
            "bad_claims",
        );
    }
    {
        let mut m = cbor_map(&claims);
        m.retain(|(k, _)| !is_int(k, 169));
        case(
            "missing_claim_169",
            "No identity map (claim 169), properly signed.",
            signed_claims(m),
            "bad_claims",
        );
    }
    {
        let mut m = cbor_map(&claims);
        set_int_key(&mut m, 7, Cbor::Bytes(vec![1, 2, 3, 4]));
        case(
            "cti_four_bytes",
            "A 4-byte cti (must be 8), properly signed.",
            signed_claims(m),
            "bad_claims",
        );
    }
    {
        let mut m = cbor_map(&claims);
        edit_169(&mut m, |id| {
            set_int_key(id, 4, Cbor::Text("Tr\u{202E}ần Văn Bảo".into()))
        });
        case(
            "name_bidi_override",
            "A right-to-left override character (U+202E) inside the name, properly signed.",
            signed_claims(m),
            "bad_claims",
        );
    }
    {
        let mut m = cbor_map(&claims);
        edit_169(&mut m, |id| id.push((int(13), Cbor::Text("XX".into()))));
        case(
            "nationality_unassigned",
            "Nationality XX, not an assigned ISO 3166-1 code; properly signed.",
            signed_claims(m),
            "bad_claims",
        );
    }
    {
        let mut m = cbor_map(&claims);
        set_int_key(&mut m, 4, int(IAT));
        case(
            "exp_equals_iat",
            "exp equal to iat: an empty validity window; properly signed.",
            signed_claims(m),
            "bad_claims",
        );
    }

    // --- time ---
    case(
        "expired",
        "A good credential checked a day after its exp.",
        good.clone(),
        "expired",
    );
    let last = v.len() - 1;
    v[last]["now"] = (EXP + 86_400).into();
    v.push(json!({
        "name": "expired_no_skew",
        "description": "Checked at exactly exp with a clock skew of 0: exp is the first invalid second.",
        "payload": good, "now": EXP, "trust": ["issuer1"], "status_lists": [],
        "policy": {"clock_skew": 0}, "expected_kind": "expired",
    }));
    v.push(json!({
        "name": "not_yet_valid",
        "description": "Checked a day before its iat.",
        "payload": good, "now": IAT - 86_400, "trust": ["issuer1"], "status_lists": [],
        "policy": {}, "expected_kind": "not_yet_valid",
    }));
    {
        let mut m = cbor_map(&claims);
        // nbf goes between exp (4) and iat (6) in deterministic order.
        let pos = m.iter().position(|(k, _)| is_int(k, 6)).expect("iat");
        m.insert(pos, (int(5), int(NOW + 86_400)));
        v.push(json!({
            "name": "nbf_in_future",
            "description": "nbf a day after now, properly signed.",
            "payload": payload::encode(&cose(i1, &prot, &[0xA0], &cbor_encode(&Cbor::Map(m)))),
            "now": NOW, "trust": ["issuer1"], "status_lists": [], "policy": {},
            "expected_kind": "not_yet_valid",
        }));
    }

    // --- status ---
    let status_case = |name: &str,
                       description: &str,
                       payload: String,
                       list: &Value,
                       policy: Value,
                       kind: &str| {
        json!({
            "name": name, "description": description, "payload": payload, "now": NOW,
            "trust": ["issuer1", "issuer2"], "status_lists": [list], "policy": policy,
            "expected_kind": kind,
        })
    };
    v.push(status_case(
        "revoked",
        "Status index 5 holds 1 (invalid) in a 2-bit list an hour old.",
        with_status(5, STATUS_URI, "00000000000000c5"),
        &lists.main,
        json!({}),
        "revoked",
    ));
    v.push(status_case(
        "suspended",
        "Status index 6 holds 2 (suspended).",
        with_status(6, STATUS_URI, "00000000000000c6"),
        &lists.main,
        json!({}),
        "suspended",
    ));
    v.push(status_case(
        "unknown_status_value",
        "Status index 7 holds 3, an application-specific value this verifier does not know.",
        with_status(7, STATUS_URI, "00000000000000c7"),
        &lists.main,
        json!({}),
        "unknown_status",
    ));
    v.push(status_case(
        "status_index_out_of_range",
        "Status index 70000 in a list of 65536 entries.",
        with_status(70_000, STATUS_URI, "00000000000000c8"),
        &lists.main,
        json!({}),
        "status_index_out_of_range",
    ));
    v.push(status_case(
        "stale_status_list",
        "The status list at hand was issued 49 hours ago; the default policy allows 48.",
        with_status(1, STALE_URI, "00000000000000c9"),
        &lists.stale,
        json!({"require_status": true}),
        "stale_status_list",
    ));
    v.push(status_case(
        "stale_status_list_short_policy",
        "A one-hour-old list with a policy that allows 30 minutes.",
        with_status(1, STATUS_URI, "00000000000000ca"),
        &lists.main,
        json!({"max_status_age": 1800, "require_status": true}),
        "stale_status_list",
    ));
    v.push(status_case(
        "expired_status_list",
        "The status list token's exp passed 10 minutes ago.",
        with_status(1, EXPIRED_LIST_URI, "00000000000000cb"),
        &lists.expired,
        json!({"require_status": true}),
        "stale_status_list",
    ));
    v.push(json!({
        "name": "status_unavailable",
        "description": "No status list at hand and a policy that requires a status check: the \
            verifier cannot decide (an error, not an invalid verdict).",
        "payload": with_status(1, STATUS_URI, "00000000000000cc"), "now": NOW,
        "trust": ["issuer1"], "status_lists": [], "policy": {"require_status": true},
        "expected_kind": "status_unavailable",
    }));

    json!({
        "description": "Invalid qrid credentials. Verify payload at now, trusting the keys.json keys \
            named in trust, with the status list tokens of status_lists (hex of the signed COSE_Sign1, \
            inserted after checking them with the same trust list) and the policy overrides of \
            policy (clock_skew, max_status_age, require_status; defaults 300, 172800, false): the \
            verifier must answer with expected_kind.",
        "vectors": v,
    })
}

/// Copies the last case as a template for a hand-edited one.
fn case_vec(v: &mut [Value]) -> Value {
    v.last().cloned().expect("a previous case")
}

/// Compressible filler used to make a zlib stream.
fn claims_padding() -> Vec<u8> {
    b"qrid ".repeat(60)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}
