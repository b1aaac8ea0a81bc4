//! Writes the seed corpora of the fuzz targets into `fuzz/corpus/<target>/`: well-formed
//! inputs signed with the development key (so the fuzzers start behind the signature checks),
//! the test vectors, and a few near misses. `cargo run -p qrid-fuzzing --example seeds`; the
//! fuzzers grow the corpora from there (bench/fuzz.sh).

use qrid_credential::docsig::{DocumentRef, SignatureHeader};
use qrid_credential::{
    CitizenInput, Credential, HolderKey, IssuerKey, Kid, LoginRequest, Official, SignerCredential,
    Stamp, Status, StatusBits, StatusIndex, StatusList, StatusListToken, StatusRef, Text,
};
use std::path::{Path, PathBuf};

const NOW: i64 = qrid_fuzzing::NOW;
const CITIZEN: &str = r#"{"id_number":"001099012345","full_name":"Nguyễn Thị Minh Khai","date_of_birth":"1990-01-15","sex":"F","nationality":"VN","place_of_residence":"Số 12 Ngõ 34 Phố Nguyễn Trãi, Hà Nội"}"#;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn put(target: &str, name: &str, bytes: &[u8]) {
    let dir = root().join("fuzz/corpus").join(target);
    std::fs::create_dir_all(&dir).expect("create the corpus directory");
    std::fs::write(dir.join(format!("seed-{name}")), bytes).expect("write a seed");
}

fn main() {
    let pem = std::fs::read_to_string(root().join("keys-dev/issuer.key.pem")).expect("dev key");
    let key = IssuerKey::from_pkcs8_pem(&pem).expect("the dev key parses");
    let holder = IssuerKey::generate();
    let uri = "http://127.0.0.1:8080/v1/status-lists/1";
    let input = CitizenInput::from_json(CITIZEN).expect("citizen");

    // payload
    let plain = Credential::from_input(&input, "VN", NOW - 86_400, 3650, None, None).unwrap();
    let with_status = Credential::from_input(
        &input,
        "VN",
        NOW - 86_400,
        3650,
        Some(StatusRef::new(uri, StatusIndex(7)).unwrap()),
        Some(HolderKey(holder.signing_key().verifying_key())),
    )
    .unwrap();
    let mut payloads = Vec::new();
    for (name, c) in [("plain", &plain), ("status-holder", &with_status)] {
        let text = c.sign(key.signing_key(), key.kid()).unwrap();
        put("payload", name, text.as_bytes());
        payloads.push(text);
    }
    put("payload", "empty", b"");
    put("payload", "login-prefix", b"QL1:6BFOXN*TS0BI$ZD4N9");
    put("payload", "base45-odd", b"6BFOXN*TS0BI$ZD4N9A");
    for file in ["valid.json", "invalid.json"] {
        let text = std::fs::read_to_string(root().join("tests/vectors").join(file)).unwrap();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        for (i, case) in v["vectors"].as_array().unwrap().iter().enumerate() {
            if let Some(p) = case["payload"].as_str() {
                put("payload", &format!("{file}-{i}"), p.as_bytes());
            }
            for k in ["cose_sign1_hex", "claims_cbor_hex"] {
                if let Some(h) = case[k].as_str() {
                    let bytes: Vec<u8> = (0..h.len() / 2)
                        .filter_map(|j| u8::from_str_radix(&h[2 * j..2 * j + 2], 16).ok())
                        .collect();
                    put("payload", &format!("{file}-{i}-{k}"), &bytes);
                }
            }
            for (j, s) in case["status_lists"]
                .as_array()
                .into_iter()
                .flatten()
                .enumerate()
            {
                if let Some(h) = s["token_hex"].as_str() {
                    let bytes: Vec<u8> = (0..h.len() / 2)
                        .filter_map(|j| u8::from_str_radix(&h[2 * j..2 * j + 2], 16).ok())
                        .collect();
                    put("status_list", &format!("{file}-{i}-{j}"), &bytes);
                }
            }
        }
    }

    // status_list
    for (name, bits, n, exp) in [
        ("one-bit", StatusBits::One, 16usize, None),
        ("two-bit", StatusBits::Two, 1000, Some(NOW + 86_400)),
        ("large", StatusBits::One, 65_536, Some(NOW + 172_800)),
    ] {
        let mut list = StatusList::new(bits, n).unwrap();
        list.set(StatusIndex(3), Status::Invalid).unwrap();
        if bits == StatusBits::Two {
            list.set(StatusIndex(5), Status::Suspended).unwrap();
        }
        let token = StatusListToken {
            uri: uri.into(),
            issued_at: NOW - 60,
            expires_at: exp,
            ttl: Some(60),
            list,
        };
        put(
            "status_list",
            name,
            &token.sign(key.signing_key(), key.kid()).unwrap(),
        );
    }

    // multipart: the first byte is the frame size less one
    let part = |name: &str, extra: &str, body: &str| {
        format!("--qridFuzzBoundary\r\nContent-Disposition: form-data; name=\"{name}\"{extra}\r\n\r\n{body}\r\n")
    };
    let bodies = [
        ("one", format!("{}--qridFuzzBoundary--\r\n", part("document", "; filename=\"a.pdf\"\r\nContent-Type: application/pdf", "%PDF-1.7 hello"))),
        ("two", format!("{}{}--qridFuzzBoundary--\r\n", part("name", "", "quyet-dinh.pdf"), part("document", "; filename=\"q.pdf\"", "data\r\n--not-the-boundary"))),
        ("preamble", format!("preamble text\r\n{}--qridFuzzBoundary--\r\nepilogue", part("a", "", "b"))),
        ("truncated", part("document", "", "no closing boundary")),
        ("bad-header", "--qridFuzzBoundary\r\nContent-Disposition attachment\r\n\r\nx\r\n--qridFuzzBoundary--\r\n".to_owned()),
        ("content-type", "multipart/form-data; boundary=\"qridFuzzBoundary\"".to_owned()),
    ];
    for (name, body) in bodies {
        for frame in [0u8, 6, 255] {
            let mut bytes = vec![frame];
            bytes.extend_from_slice(body.as_bytes());
            put("multipart", &format!("{name}-{frame}"), &bytes);
        }
    }

    // image
    let png = qrid_qr::render(&payloads[0], qrid_qr::Ecc::L, 2, qrid_qr::Format::Png).unwrap();
    put("image", "credential-qr.png", &png);
    let small = qrid_qr::render(
        "6BFOXN*TS0BI$ZD4N9",
        qrid_qr::Ecc::M,
        1,
        qrid_qr::Format::Png,
    )
    .unwrap();
    put("image", "small-qr.png", &small);
    put("image", "png-signature-only", b"\x89PNG\r\n\x1a\n");
    put(
        "image",
        "jpeg-soi-only",
        b"\xff\xd8\xff\xe0\x00\x10JFIF\x00",
    );
    let mut truncated = png.clone();
    truncated.truncate(png.len() / 2);
    put("image", "truncated.png", &truncated);

    // login
    let request = LoginRequest {
        tx: "0123456789abcdef0123456789abcdef".into(),
        challenge: [7; 32],
        audience: "http://127.0.0.1:8080".into(),
        response_uri: "http://127.0.0.1:8080/login/response".into(),
        client_id: "c_0123456789abcdef".into(),
        client_name: "Cổng dịch vụ công".into(),
        scopes: vec!["openid".into(), "profile".into()],
        issued_at: NOW - 10,
        expires_at: NOW + 290,
    };
    put(
        "login",
        "request",
        request
            .sign(key.signing_key(), key.kid())
            .unwrap()
            .as_bytes(),
    );
    let response = serde_json::json!({
        "tx": request.tx, "credential": payloads[1], "signature": "A".repeat(86), "code": "07",
    });
    put("login", "response", response.to_string().as_bytes());
    put(
        "login",
        "response-bad-tx",
        br#"{"tx":"zz","credential":"","signature":""}"#,
    );
    put("login", "response-extra", br#"{"tx":"0123456789abcdef0123456789abcdef","credential":"x","signature":"AA==","more":1}"#);
    put("login", "not-json", b"{\"tx\": [1, 2,");

    // jws
    let official_key = IssuerKey::generate();
    let signer = SignerCredential {
        issuer: "VN".into(),
        subject: "0123456789abcdef".into(),
        issued_at: NOW - 86_400,
        expires_at: NOW + 365 * 86_400,
        id: qrid_credential::CredentialId::random(),
        official: Official::new("Nguyễn Văn Minh", "Chủ tịch", "UBND xã Đông Hội").unwrap(),
        key: official_key.signing_key().verifying_key(),
        status: Some(StatusRef::new(uri, StatusIndex(9)).unwrap()),
    };
    let signer_text = signer.sign(key.signing_key(), key.kid()).unwrap();
    let header = SignatureHeader {
        kid: Kid::thumbprint(&official_key.signing_key().verifying_key()),
        signing_time: NOW - 5,
        document: DocumentRef::new([1; 32], "quyet-dinh.pdf", "application/pdf").unwrap(),
        credential: signer_text,
        signature_id: Some("0123456789abcdef".into()),
    };
    let jws = header.sign(official_key.signing_key()).unwrap();
    put("jws", "official", jws.as_bytes());
    let stamp = Stamp {
        signature_id: "0123456789abcdef".into(),
        url: "http://127.0.0.1:8080/v1/signatures/0123456789abcdef".into(),
        digest: [1; 32],
        signed_at: NOW - 5,
        signer: Text::new("n", "Nguyễn Văn Minh", 300, false).unwrap(),
        role: Some((
            Text::new("ti", "Chủ tịch", 300, false).unwrap(),
            Text::new("ag", "UBND xã Đông Hội", 300, false).unwrap(),
        )),
        document_name: Text::new("d", "quyet-dinh.pdf", 300, false).unwrap(),
    };
    put(
        "jws",
        "stamp",
        stamp.sign(key.signing_key(), key.kid()).unwrap().as_bytes(),
    );
    put("jws", "two-dots", b"eyJhbGciOiJFZERTQSJ9..AAAA");
    put("jws", "empty", b"");
    put("jws", "stamp-prefix", b"QS1:");
    // wallet: key proofs (OpenID4VCI) and live presentations (QP1:) of the bound credential.
    let proof = qrid_credential::vci::sign_proof(
        holder.signing_key(),
        &holder.verifying_key(),
        "http://127.0.0.1:8080",
        NOW,
        "c-nonce-0123456789",
    )
    .unwrap();
    put("wallet", "proof", proof.as_bytes());
    let other = IssuerKey::generate();
    let mut parts: Vec<&str> = proof.split('.').collect();
    let foreign = qrid_credential::vci::sign_proof(
        other.signing_key(),
        &other.verifying_key(),
        "http://127.0.0.1:8080",
        NOW,
        "c-nonce-0123456789",
    )
    .unwrap();
    let foreign_sig = foreign.rsplit('.').next().unwrap().to_owned();
    parts[2] = &foreign_sig;
    put(
        "wallet",
        "proof-other-signature",
        parts.join(".").as_bytes(),
    );
    put("wallet", "proof-two-parts", b"eyJhbGciOiJFZERTQSJ9.e30");
    let bound = &payloads[1];
    for (name, at, signer) in [
        ("fresh", NOW, &holder),
        ("stale", NOW - 3600, &holder),
        ("other-holder", NOW, &other),
    ] {
        let p = qrid_credential::Presentation {
            credential: bound.clone(),
            presented_at: at,
            nonce: [9; 8],
        };
        put(
            "wallet",
            &format!("presentation-{name}"),
            p.sign(signer.signing_key(), signer.kid())
                .unwrap()
                .as_bytes(),
        );
    }
    let unbound = qrid_credential::Presentation {
        credential: payloads[0].clone(),
        presented_at: NOW,
        nonce: [1; 8],
    };
    put(
        "wallet",
        "presentation-unbound",
        unbound
            .sign(holder.signing_key(), holder.kid())
            .unwrap()
            .as_bytes(),
    );
    put("wallet", "presentation-prefix", b"QP1:");
    println!(
        "seeds written under {}",
        root().join("fuzz/corpus").display()
    );
}
