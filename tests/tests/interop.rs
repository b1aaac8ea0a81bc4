//! Interoperability with an independent MOSIP Claim 169 implementation: the PyPI package
//! `claim169` (`pip install claim169`).
//!
//! - Our payloads (the `full` and `minimal` vectors, COSE_Sign1 with tag 18 as MOSIP writes it)
//!   must verify with `claim169.decode_with_ed25519` and give back the same identity data,
//!   Vietnamese intact; a tampered one must not verify.
//! - Their credentials must verify with our verifier when their key is trusted: their encoder
//!   writes no `cti`, and with `encode_with_ed25519` no `kid` either; the verifier then tries
//!   the trusted keys, names the one that verified, and names the credential by the digest of
//!   its claims. The service (`POST /v1/verify`) answers the same.
//!
//! Without python3 and the module the tests fail (`python3 -m pip install claim169`; `.ci/run`
//! installs it): an interoperability test that skips proves nothing.

use qrid_credential::{open, Jwks, SigningKey};
use qrid_verifier::{Policy, StatusCache, TrustStore, Verdict, Verifier};
use serde_json::Value;
use sha2::{Digest, Sha256};
use signature::Signer;
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};

const DECODE: &str = r#"
import sys, json, claim169
qr, pk = sys.argv[1], bytes.fromhex(sys.argv[2])
try:
    r = claim169.decode_with_ed25519(qr, pk, validate_timestamps=False)
except Exception as e:
    print(json.dumps({"error": type(e).__name__}))
    sys.exit(0)
c = r.claim169
print(json.dumps({
    "status": r.verification_status, "id": c.id, "full_name": c.full_name,
    "date_of_birth": c.date_of_birth, "address": c.address, "gender": c.gender,
    "nationality": c.nationality, "key_id": (r.key_id or b"").hex(),
    "issuer": r.cwt_meta.issuer, "expires_at": r.cwt_meta.expires_at,
}))
"#;

/// Encodes one credential with a signer callback that asks the Rust side (over stdin/stdout)
/// for the Ed25519 signature, so no Python crypto library is needed; then one with the
/// package's own Ed25519 signer, which sets no kid.
const ENCODE: &str = r#"
import sys, claim169
iat, exp, kid, seed = int(sys.argv[1]), int(sys.argv[2]), bytes.fromhex(sys.argv[3]), bytes.fromhex(sys.argv[4])
def sign(alg, key_id, data):
    sys.stdout.write("SIGN " + bytes(data).hex() + "\n")
    sys.stdout.flush()
    return bytes.fromhex(sys.stdin.readline().strip())
c = claim169.Claim169Input(id="001099012345", full_name="Nguyễn Thị Minh Khai")
c.date_of_birth = "1990-01-15"
c.gender = 2
c.address = "Số 12 Phố Nguyễn Trãi, Quận Thanh Xuân, Hà Nội"
c.nationality = "VN"
m = claim169.CwtMetaInput(issuer="VN", expires_at=exp)
m.issued_at = iat
print("QR " + claim169.encode_with_signer(c, m, sign, "EdDSA", key_id=kid))
print("QR " + claim169.encode_with_ed25519(c, m, seed))
sys.stdout.flush()
"#;

/// Fails (never skips) when python3 with `claim169` is not at hand.
fn require_claim169() {
    let ok = Command::new("python3")
        .args(["-c", "import claim169"])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "the Claim 169 interoperability tests need python3 with the claim169 module: \
         python3 -m pip install claim169"
    );
}

fn load(name: &str) -> Value {
    let path: PathBuf = [env!("CARGO_MANIFEST_DIR"), "vectors", name]
        .iter()
        .collect();
    serde_json::from_str(&std::fs::read_to_string(path).expect("read vectors")).expect("json")
}

fn vector<'a>(file: &'a Value, name: &str) -> &'a Value {
    file["vectors"]
        .as_array()
        .and_then(|vs| vs.iter().find(|v| v["name"] == name))
        .unwrap_or_else(|| panic!("no vector {name}"))
}

fn issuer1() -> SigningKey {
    SigningKey::from_bytes(&Sha256::digest(b"qrid test vector issuer 1").into())
}

fn python_decode(payload: &str, public_key_hex: &str) -> Value {
    let out = Command::new("python3")
        .args(["-c", DECODE, payload, public_key_hex])
        .output()
        .expect("run python3");
    assert!(
        out.status.success(),
        "python failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("python printed JSON")
}

#[test]
fn claim169_reads_our_credentials() {
    require_claim169();
    let keys = load("keys.json");
    let pk = keys["keys"]["issuer1"]["public_key_hex"]
        .as_str()
        .expect("pk");
    let valid = load("valid.json");
    for name in ["full", "minimal"] {
        let v = vector(&valid, name);
        let claims = &v["expected_claims"];
        let got = python_decode(v["payload"].as_str().expect("payload"), pk);
        println!("claim169 decoded {name}: {got}");
        assert_eq!(got["status"], "verified", "{name}: {got}");
        assert_eq!(got["id"], claims["id_number"], "{name}");
        assert_eq!(got["full_name"], claims["full_name"], "{name}");
        // Claim 169 dates are YYYYMMDD; our JSON shows YYYY-MM-DD.
        let dob = claims["date_of_birth"]
            .as_str()
            .expect("dob")
            .replace('-', "");
        assert_eq!(got["date_of_birth"], dob.as_str(), "{name}");
        assert_eq!(got["address"], claims["place_of_residence"], "{name}");
        assert_eq!(got["nationality"], claims["nationality"], "{name}");
        assert_eq!(got["issuer"], claims["issuer"], "{name}");
        assert_eq!(got["expires_at"], claims["expires_at"], "{name}");
        assert_eq!(
            got["key_id"], keys["keys"]["issuer1"]["short_kid_hex"],
            "{name}: kid"
        );
    }
    let full = &vector(&valid, "full")["expected_claims"];
    assert_eq!(full["full_name"], "Nguyễn Thị Minh Khai");
    assert_eq!(full["sex"], "F");

    // Their check is real: a byte changed after signing must not verify there either.
    let invalid = load("invalid.json");
    let tampered = vector(&invalid, "claim_byte_changed");
    let got = python_decode(tampered["payload"].as_str().expect("payload"), pk);
    assert_ne!(
        got["status"], "verified",
        "tampered payload verified: {got}"
    );
    // And another key does not verify ours.
    let other = keys["keys"]["other_issuer"]["public_key_hex"]
        .as_str()
        .expect("pk");
    let got = python_decode(
        vector(&valid, "minimal")["payload"].as_str().unwrap(),
        other,
    );
    assert_ne!(got["status"], "verified", "wrong key verified: {got}");
}

#[test]
fn qrid_reads_claim169_credentials() {
    require_claim169();
    let key = issuer1();
    let kid = qrid_credential::Kid::thumbprint(&key.verifying_key());
    let (iat, exp) = (1_763_856_000i64, 1_900_000_000i64);
    let mut child = Command::new("python3")
        .args([
            "-c",
            ENCODE,
            &iat.to_string(),
            &exp.to_string(),
            &hex::encode(kid.short()),
            &hex::encode(key.to_bytes()),
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run python3");
    let mut stdin = child.stdin.take().expect("stdin");
    let stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut payloads = Vec::new();
    for line in stdout.lines() {
        let line = line.expect("python output");
        if let Some(data) = line.strip_prefix("SIGN ") {
            let sig = key.sign(&hex::decode(data).expect("hex")).to_bytes();
            writeln!(stdin, "{}", hex::encode(sig)).expect("answer python");
            stdin.flush().expect("flush");
        } else if let Some(qr) = line.strip_prefix("QR ") {
            payloads.push(qr.to_owned());
        }
    }
    drop(stdin);
    let out = child.wait_with_output().expect("python");
    assert!(
        out.status.success(),
        "python failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(payloads.len(), 2, "expected two payloads from python");

    // Their key among others: without a kid, the verifier has to find it.
    let others = [b"another trusted issuer".as_slice(), b"and one more"].map(|label| {
        qrid_credential::Jwk::from_verifying_key(
            &SigningKey::from_bytes(&Sha256::digest(label).into()).verifying_key(),
        )
    });
    let mut keys = others.to_vec();
    keys.push(qrid_credential::Jwk::from_verifying_key(
        &key.verifying_key(),
    ));
    let verifier = Verifier::new(
        TrustStore::from_jwks(&Jwks { keys }).expect("trust"),
        StatusCache::default(),
        Policy::default(),
    );

    for (what, payload) in [("with kid", &payloads[0]), ("without kid", &payloads[1])] {
        let msg = open(payload).expect("their payload opens with qrid_credential::open");
        assert_eq!(
            msg.kid().is_some(),
            what == "with kid",
            "{what}: kid header as their encoder was asked"
        );
        msg.verify(&key.verifying_key())
            .expect("their signature verifies with our code");
        // Their COSE_Sign1 is tagged (18), and their claims carry no cti.
        let cose = qrid_credential::payload::decode(payload).expect("decode");
        assert_eq!(cose[0], 0xD2, "{what}: tag 18");
        match verifier.verify(payload, iat) {
            Ok(Verdict::Valid(ok)) => {
                println!(
                    "claim169 payload {what}: valid, {}",
                    ok.credential.to_json()
                );
                assert_eq!(
                    ok.kid, kid,
                    "{what}: the verdict names the key that verified"
                );
                let c = &ok.credential;
                assert_eq!(c.citizen.full_name.as_str(), "Nguyễn Thị Minh Khai");
                assert_eq!(c.citizen.id_number.as_str(), "001099012345");
                assert_eq!(c.issuer, "VN");
                assert_eq!((c.issued_at, c.expires_at), (iat, exp));
                assert_eq!(
                    c.id,
                    qrid_credential::CredentialId::of_claims(msg.payload()),
                    "{what}: without cti the id is the digest of the claims"
                );
            }
            Ok(Verdict::Invalid(r)) => panic!("{what}: refused as {}: {r}", r.kind()),
            Err(e) => panic!("{what}: {e}"),
        }
    }
}

/// The service verifies a Claim 169 credential that MOSIP's encoder signed (no kid, no cti)
/// with a key it trusts, names that key and the credential (by the digest of its claims) in
/// the verdict, and records the check in the access record under that id. The key is the
/// development issuer key, whose JWK the service publishes; on SQLite and PostgreSQL.
#[test]
fn the_service_verifies_claim169_credentials_without_kid_or_cti() {
    require_claim169();
    let pem = std::fs::read_to_string(qrid_e2e::repo_root().join("keys-dev/issuer.key.pem"))
        .expect("the development issuer key");
    let issuer = qrid_credential::IssuerKey::from_pkcs8_pem(&pem).expect("a PKCS#8 key");
    let now = qrid_e2e::login::now();
    let out = Command::new("python3")
        .args([
            "-c",
            ENCODE_NO_KID,
            &now.to_string(),
            &(now + 3600).to_string(),
            &hex::encode(issuer.signing_key().to_bytes()),
        ])
        .output()
        .expect("run python3");
    assert!(
        out.status.success(),
        "python failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let payload = String::from_utf8(out.stdout).expect("UTF-8");
    let payload = payload.trim();
    let msg = open(payload).expect("opens");
    assert!(
        msg.kid().is_none(),
        "MOSIP's encode_with_ed25519 writes no kid"
    );
    let id = qrid_credential::CredentialId::of_claims(msg.payload()).to_string();

    for backend in [qrid_store::Backend::Sqlite, qrid_store::Backend::Postgres] {
        let w = qrid_e2e::service::World::new(backend);
        let s = w.start();
        let v = qrid_e2e::service::verify_payload(&w, &s, payload);
        assert_eq!(v["valid"], true, "{backend:?}: {v}");
        assert_eq!(
            v["kid"],
            issuer.kid().to_string().as_str(),
            "{backend:?}: {v}"
        );
        assert_eq!(
            v["claims"]["credential_id"],
            id.as_str(),
            "{backend:?}: {v}"
        );
        assert_eq!(
            v["claims"]["full_name"], "Nguyễn Thị Minh Khai",
            "{backend:?}"
        );
        // Shutting down flushes the access record.
        assert_eq!(
            s.stop(),
            0,
            "{backend:?}: qrid serve did not shut down cleanly"
        );
        let record = w.db.verifications_of(&id);
        assert_eq!(
            record.len(),
            1,
            "{backend:?}: one check recorded under {id}"
        );
        assert_eq!(record[0].client_id, w.client_id, "{backend:?}");
        assert_eq!(record[0].outcome, "valid", "{backend:?}");
    }
}

/// MOSIP's own Ed25519 signer (`encode_with_ed25519`): no kid, no cti, COSE tag 18.
const ENCODE_NO_KID: &str = r#"
import sys, claim169
iat, exp, seed = int(sys.argv[1]), int(sys.argv[2]), bytes.fromhex(sys.argv[3])
c = claim169.Claim169Input(id="001099012345", full_name="Nguyễn Thị Minh Khai")
c.date_of_birth = "1990-01-15"
c.gender = 2
m = claim169.CwtMetaInput(issuer="VN", expires_at=exp)
m.issued_at = iat
print(claim169.encode_with_ed25519(c, m, seed))
"#;
