//! What the login tests share (docs/login.md): the citizen's wallet through the real `qrid wallet`
//! commands, the login request (the `QL1:` QR text) decoded independently of the service, the
//! login response a wallet sends, and the login page's markup.

use crate::service::{http, Auth, Body, Service};
use crate::{parts, qrid};
use base64::Engine;
use ciborium::Value as Cbor;
use qrid_credential::{Jwks, SignedMessage, SigningKey};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use signature::Signer;
use std::path::{Path, PathBuf};

/// The prefix of a login request QR.
pub const REQUEST_PREFIX: &str = "QL1:";
/// The domain separator a holder signs before the request's digest.
pub const RESPONSE_CONTEXT: &[u8] = b"qrid-login-response-v1";

/// A citizen's wallet: a directory that `qrid wallet init` filled.
pub struct Wallet {
    /// The wallet directory.
    pub dir: PathBuf,
    /// The holder's public JWK, as `qrid wallet init` printed it.
    pub jwk: Value,
}

/// Exit code, stdout and stderr of one `qrid` run.
pub type Run = (i32, String, String);

impl Wallet {
    /// `qrid wallet init --dir DIR`: a new holder key.
    pub fn init(dir: &Path) -> Wallet {
        let d = dir.to_string_lossy().into_owned();
        let (code, out, err) = parts(&qrid(&["wallet", "init", "--dir", &d], None));
        assert_eq!(code, 0, "qrid wallet init failed: {err}");
        let jwk: Value = serde_json::from_str(out.trim()).unwrap_or_else(|e| {
            panic!("qrid wallet init printed no JWK ({e}): {out}");
        });
        assert_eq!(jwk["kty"], "OKP", "the holder key is Ed25519: {jwk}");
        assert_eq!(jwk["crv"], "Ed25519", "the holder key is Ed25519: {jwk}");
        assert!(
            jwk.get("d").is_none(),
            "wallet init printed the private key"
        );
        for f in ["holder.key.pem", "holder.jwk.json"] {
            assert!(dir.join(f).is_file(), "wallet init wrote no {f}");
        }
        Wallet {
            dir: dir.to_path_buf(),
            jwk,
        }
    }

    /// `qrid wallet COMMAND --dir W ARGS…`: (exit code, stdout, stderr).
    pub fn run(&self, command: &str, args: &[&str]) -> Run {
        let d = self.dir.to_string_lossy().into_owned();
        let mut all = vec!["wallet", command, "--dir", &d];
        all.extend_from_slice(args);
        parts(&qrid(&all, None))
    }

    /// `qrid wallet import --dir W --trust JWKS --payload P`.
    pub fn import(&self, trust: &Path, payload: &str) -> Run {
        let t = trust.to_string_lossy().into_owned();
        self.run("import", &["--trust", &t, "--payload", payload])
    }

    /// [`Wallet::import`] that must succeed.
    pub fn must_import(&self, trust: &Path, payload: &str) {
        let (code, out, err) = self.import(trust, payload);
        assert_eq!(code, 0, "qrid wallet import failed:\n{out}\n{err}");
        // The wallet holds the citizen's claims and the holder key: owner-only.
        use std::os::unix::fs::PermissionsExt;
        for entry in std::fs::read_dir(&self.dir).expect("read the wallet directory") {
            let path = entry.expect("a wallet entry").path();
            let mode = std::fs::metadata(&path).expect("stat").permissions().mode();
            let public = path.ends_with("holder.jwk.json") || path.ends_with("trust.jwks.json");
            assert!(
                public || mode & 0o077 == 0,
                "{} is readable by others: {mode:o}",
                path.display()
            );
        }
    }

    /// `qrid wallet login --dir W --request TEXT --code CODE --yes`.
    pub fn login_request(&self, request: &str, code: &str) -> Run {
        self.run("login", &["--request", request, "--code", code, "--yes"])
    }

    /// `qrid wallet login --dir W --image PNG --code CODE --yes`.
    pub fn login_image(&self, image: &Path, code: &str) -> Run {
        let i = image.to_string_lossy().into_owned();
        self.run("login", &["--image", &i, "--code", code, "--yes"])
    }

    /// The holder's private key, read from the wallet's PKCS#8 PEM file.
    pub fn holder_key(&self) -> SigningKey {
        let pem = std::fs::read_to_string(self.dir.join("holder.key.pem"))
            .expect("read the wallet's holder.key.pem");
        qrid_credential::IssuerKey::from_pkcs8_pem(&pem)
            .expect("holder.key.pem is a PKCS#8 PEM Ed25519 key")
            .signing_key()
            .clone()
    }
}

/// Saves the service's trust list (`/.well-known/jwks.json`) to `path`, as a wallet gets it.
pub fn save_trust_list(s: &Service, path: &Path) {
    let r = http(
        "GET",
        &format!("{}/.well-known/jwks.json", s.url),
        Auth::None,
        Body::None,
    );
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    std::fs::write(path, &r.body).expect("write the trust list");
}

/// A random Ed25519 key (another holder, or a forger).
pub fn random_key() -> SigningKey {
    SigningKey::generate(&mut rand_core::OsRng)
}

/// The public JWK of an Ed25519 key, as the issuance API takes it.
pub fn public_jwk(key: &SigningKey) -> Value {
    serde_json::to_value(qrid_credential::Jwk::from_verifying_key(
        &key.verifying_key(),
    ))
    .expect("a JWK serialises")
}

/// A login request QR text, decoded by the test (not by the service's code): base45, the
/// COSE_Sign1 and its CBOR payload.
#[derive(Clone)]
pub struct LoginRequest {
    /// The text, `QL1:…`.
    pub text: String,
    /// The COSE_Sign1 bytes.
    pub cose: Vec<u8>,
    /// The parsed message (signature unchecked).
    pub message: SignedMessage,
    /// The payload map.
    pub fields: Vec<(Cbor, Cbor)>,
    /// The confirmation code the login page showed beside the QR (empty when the request did
    /// not come from a page).
    pub code: String,
}

impl std::fmt::Debug for LoginRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginRequest")
            .field("text", &self.text)
            .field("kid", &self.message.kid().map(hex_string))
            .field("typ", &self.message.typ())
            .field("fields", &self.fields)
            .finish()
    }
}

fn hex_string(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

impl LoginRequest {
    /// Decodes `QL1:` + base45 + COSE_Sign1 + CBOR map. Says what was wrong otherwise.
    pub fn parse(text: &str) -> Result<LoginRequest, String> {
        let b45 = text
            .strip_prefix(REQUEST_PREFIX)
            .ok_or_else(|| format!("no {REQUEST_PREFIX} prefix: {text:?}"))?;
        let cose = qrid_credential::base45::decode(b45).map_err(|e| format!("base45: {e:?}"))?;
        let message = SignedMessage::parse(&cose).map_err(|e| format!("COSE_Sign1: {e}"))?;
        let map: Cbor = ciborium::de::from_reader(message.payload())
            .map_err(|e| format!("payload CBOR: {e}"))?;
        let Cbor::Map(fields) = map else {
            return Err("the payload is not a CBOR map".into());
        };
        Ok(LoginRequest {
            text: text.to_owned(),
            cose,
            message,
            fields,
            code: String::new(),
        })
    }

    /// The request as a login page shows it: the QR text of `#login-request`'s `data-request`
    /// and the confirmation code of its `data-code`.
    pub fn from_page(html: &str) -> Result<LoginRequest, String> {
        let text = attribute_of_id(html, "login-request", "data-request")
            .ok_or_else(|| format!("no data-request on #login-request:\n{html}"))?;
        let code = attribute_of_id(html, "login-request", "data-code")
            .ok_or_else(|| format!("no data-code on #login-request:\n{html}"))?;
        let mut r = LoginRequest::parse(&text)?;
        r.code = code;
        Ok(r)
    }

    /// The signed payload bytes.
    pub fn payload(&self) -> &[u8] {
        self.message.payload()
    }

    /// A payload field by its text key.
    pub fn field(&self, key: &str) -> Option<&Cbor> {
        self.fields
            .iter()
            .find(|(k, _)| k.as_text() == Some(key))
            .map(|(_, v)| v)
    }

    /// A text field; panics with the request when it is missing or not text.
    pub fn text(&self, key: &str) -> String {
        self.field(key)
            .and_then(Cbor::as_text)
            .unwrap_or_else(|| panic!("login request has no text {key:?}: {:?}", self.fields))
            .to_owned()
    }

    /// An integer field; panics when it is missing or not an integer.
    pub fn int(&self, key: &str) -> i64 {
        self.field(key)
            .and_then(Cbor::as_integer)
            .and_then(|i| i64::try_from(i).ok())
            .unwrap_or_else(|| panic!("login request has no integer {key:?}: {:?}", self.fields))
    }

    /// The transaction id.
    pub fn tx(&self) -> String {
        self.text("tx")
    }

    /// The scopes asked for.
    pub fn scopes(&self) -> Vec<String> {
        match self.field("sc") {
            Some(Cbor::Array(a)) => a
                .iter()
                .filter_map(|v| v.as_text().map(str::to_owned))
                .collect(),
            other => panic!("login request sc is not an array of text: {other:?}"),
        }
    }

    /// Checks the issuer's signature under a trust list (the key whose thumbprint starts with
    /// the message's kid).
    pub fn verify(&self, jwks_json: &[u8]) -> Result<(), String> {
        let jwks = Jwks::from_json(jwks_json).map_err(|e| format!("trust list: {e}"))?;
        let jwk = jwks
            .keys
            .iter()
            .find(|k| self.message.kid().is_some_and(|kid| k.kid.matches(kid)))
            .ok_or_else(|| {
                format!(
                    "no key in the trust list for kid {:?}",
                    self.message.kid().map(hex_string)
                )
            })?;
        let key = jwk.verifying_key().map_err(|e| format!("JWK: {e}"))?;
        self.message
            .verify(&key)
            .map_err(|e| format!("signature: {e}"))
    }

    /// The COSE_Sign1's protected header bytes, as the service wrote them.
    pub fn protected(&self) -> Vec<u8> {
        let cose = match ciborium::de::from_reader::<Cbor, _>(self.cose.as_slice()) {
            // COSE_Sign1 is written with its tag (18), as MOSIP writes it.
            Ok(Cbor::Tag(18, inner)) => Ok(*inner),
            other => other,
        };
        match cose {
            Ok(Cbor::Array(items)) => match items.first() {
                Some(Cbor::Bytes(p)) => p.clone(),
                other => panic!("the request's protected header is not bytes: {other:?}"),
            },
            other => panic!("the request's COSE is not an array: {other:?}"),
        }
    }

    /// The same request (same protected header and payload) signed by another key: what a
    /// forger without the issuer key can make.
    pub fn resigned_by(&self, key: &SigningKey) -> String {
        sign_request(&self.protected(), self.payload(), key)
    }

    /// This request's payload with some fields replaced (or added), signed by `key` under this
    /// request's protected header.
    pub fn with_fields(&self, changes: &[(&str, Cbor)], key: &SigningKey) -> String {
        let mut fields = self.fields.clone();
        for (name, value) in changes {
            match fields.iter_mut().find(|(k, _)| k.as_text() == Some(name)) {
                Some((_, v)) => *v = value.clone(),
                None => fields.push((Cbor::Text((*name).to_owned()), value.clone())),
            }
        }
        let mut payload = Vec::new();
        ciborium::ser::into_writer(&Cbor::Map(fields), &mut payload).expect("CBOR encodes");
        sign_request(&self.protected(), &payload, key)
    }
}

/// A COSE protected header `{1: -8, 4: kid}` plus `16: typ` when given.
pub fn protected_header(kid: &[u8], typ: Option<&str>) -> Vec<u8> {
    let mut map = vec![
        (Cbor::Integer(1.into()), Cbor::Integer((-8).into())),
        (Cbor::Integer(4.into()), Cbor::Bytes(kid.to_vec())),
    ];
    if let Some(t) = typ {
        map.push((Cbor::Integer(16.into()), Cbor::Text(t.to_owned())));
    }
    let mut out = Vec::new();
    ciborium::ser::into_writer(&Cbor::Map(map), &mut out).expect("CBOR encodes");
    out
}

/// `QL1:` + base45 of an untagged COSE_Sign1 over `payload` with this protected header, signed
/// by `key` (the issuer's, or a forger's).
pub fn sign_request(protected: &[u8], payload: &[u8], key: &SigningKey) -> String {
    let sig_structure = Cbor::Array(vec![
        Cbor::Text("Signature1".into()),
        Cbor::Bytes(protected.to_vec()),
        Cbor::Bytes(Vec::new()),
        Cbor::Bytes(payload.to_vec()),
    ]);
    let mut tbs = Vec::new();
    ciborium::ser::into_writer(&sig_structure, &mut tbs).expect("CBOR encodes");
    let sig = key.sign(&tbs);
    let cose = Cbor::Array(vec![
        Cbor::Bytes(protected.to_vec()),
        Cbor::Map(Vec::new()),
        Cbor::Bytes(payload.to_vec()),
        Cbor::Bytes(sig.to_bytes().to_vec()),
    ]);
    let mut bytes = Vec::new();
    ciborium::ser::into_writer(&cose, &mut bytes).expect("CBOR encodes");
    format!(
        "{REQUEST_PREFIX}{}",
        qrid_credential::base45::encode(&bytes)
    )
}

/// The development issuer key (keys-dev/), which the test services sign with.
pub fn dev_issuer_key() -> qrid_credential::IssuerKey {
    let pem = std::fs::read_to_string(crate::repo_root().join("keys-dev/issuer.key.pem"))
        .expect("read keys-dev/issuer.key.pem");
    qrid_credential::IssuerKey::from_pkcs8_pem(&pem).expect("the development key parses")
}

/// Unix seconds now, on the system clock the real binary under test runs on (the one place in
/// the tests that reads it).
#[allow(clippy::disallowed_methods)]
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// A random URL-safe string of `n` random bytes (state, nonce, PKCE verifier).
pub fn random_token(n: usize) -> String {
    let mut b = vec![0u8; n];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut b);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

/// A PKCE pair (RFC 7636, S256): (verifier, challenge).
pub fn pkce_pair() -> (String, String) {
    let verifier = random_token(32);
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
pub fn pct(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A query string or form body from pairs, each part percent-encoded.
pub fn form(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", pct(k), pct(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// The query parameters of a URL (`+` as space, percent-decoded), in order.
pub fn query_pairs(url: &str) -> Vec<(String, String)> {
    let query = url.split_once('?').map_or("", |(_, q)| q);
    let query = query.split('#').next().unwrap_or("");
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (pct_decode(k), pct_decode(v))
        })
        .collect()
}

/// One query parameter of a URL.
pub fn query_param(url: &str, name: &str) -> Option<String> {
    query_pairs(url)
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

fn pct_decode(s: &str) -> String {
    let hex = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => match (hex(b[i + 1]), hex(b[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h << 4 | l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The `/authorize` URL a relying party sends the browser to (docs/login.md, step 1).
pub struct Authorize<'a> {
    /// The service's URL.
    pub base: &'a str,
    /// The client id.
    pub client_id: &'a str,
    /// The redirect URI.
    pub redirect_uri: &'a str,
    /// Space-separated scopes.
    pub scope: &'a str,
    /// The RP's state.
    pub state: &'a str,
    /// The RP's nonce.
    pub nonce: &'a str,
    /// The PKCE challenge (S256).
    pub code_challenge: &'a str,
}

impl Authorize<'_> {
    /// The URL, with `response_type=code` and `code_challenge_method=S256`.
    pub fn url(&self) -> String {
        self.url_with(&[])
    }

    /// The URL with parameters replaced (an empty value drops the parameter).
    pub fn url_with(&self, changes: &[(&str, &str)]) -> String {
        let mut pairs = vec![
            ("response_type", "code"),
            ("client_id", self.client_id),
            ("redirect_uri", self.redirect_uri),
            ("scope", self.scope),
            ("state", self.state),
            ("nonce", self.nonce),
            ("code_challenge", self.code_challenge),
            ("code_challenge_method", "S256"),
        ];
        for (k, v) in changes {
            pairs.retain(|(name, _)| name != k);
            if !v.is_empty() {
                pairs.push((k, v));
            }
        }
        format!("{}/authorize?{}", self.base, form(&pairs))
    }
}

/// The holder's signature of docs/login.md, base64url without padding:
/// Ed25519 over `"qrid-login-response-v1" || 0x00 || SHA-256(request payload)`.
pub fn holder_signature(key: &SigningKey, request_payload: &[u8]) -> String {
    let mut msg = RESPONSE_CONTEXT.to_vec();
    msg.push(0);
    msg.extend_from_slice(&Sha256::digest(request_payload));
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(key.sign(&msg).to_bytes())
}

/// The login response body a wallet POSTs to the request's `rsp`, with the page's
/// confirmation code.
pub fn response_body(tx: &str, credential: &str, signature: &str, code: &str) -> String {
    json!({"tx": tx, "credential": credential, "signature": signature, "code": code}).to_string()
}

/// POSTs a login response (JSON) to the request's `rsp`, as a wallet does.
pub fn post_response(request: &LoginRequest, body: &str) -> crate::service::Resp {
    http("POST", &request.text("rsp"), Auth::None, Body::Json(body))
}

/// The value of attribute `attr` of the element whose `id` is `id`, HTML entities decoded.
pub fn attribute_of_id(html: &str, id: &str, attr: &str) -> Option<String> {
    let mut from = 0;
    while let Some(at) = html[from..].find('<') {
        let start = from + at;
        let end = start + html[start..].find('>')?;
        let tag = &html[start..end];
        from = end;
        if attribute(tag, "id").as_deref() == Some(id) {
            return attribute(tag, attr);
        }
    }
    None
}

/// An attribute of one start tag (`<div a="x" b='y'`), entities decoded.
fn attribute(tag: &str, name: &str) -> Option<String> {
    let mut rest = tag;
    loop {
        let i = rest.find(name)?;
        let before = rest[..i].chars().last();
        let after = &rest[i + name.len()..];
        rest = after;
        if !before.is_some_and(char::is_whitespace) {
            continue;
        }
        let after = after.trim_start();
        let Some(after) = after.strip_prefix('=') else {
            continue;
        };
        let after = after.trim_start();
        let quote = after.chars().next()?;
        if quote != '"' && quote != '\'' {
            let v: String = after.chars().take_while(|c| !c.is_whitespace()).collect();
            return Some(unescape(&v));
        }
        let body = &after[1..];
        let close = body.find(quote)?;
        return Some(unescape(&body[..close]));
    }
}

/// Decodes the HTML character references a server may use in an attribute.
pub fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let Some(semi) = rest.find(';') else { break };
        let entity = &rest[1..semi];
        let ch = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            e if e.starts_with("#x") || e.starts_with("#X") => u32::from_str_radix(&e[2..], 16)
                .ok()
                .and_then(char::from_u32),
            e if e.starts_with('#') => e[1..].parse().ok().and_then(char::from_u32),
            _ => None,
        };
        match ch {
            Some(c) => {
                out.push(c);
                rest = &rest[semi + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_attribute_of_an_element() {
        let html =
            r#"<p id="x">a</p><div data-request="QL1:AB&amp;C" class=q id="login-request"></div>"#;
        assert_eq!(
            attribute_of_id(html, "login-request", "data-request").as_deref(),
            Some("QL1:AB&C")
        );
        assert_eq!(attribute_of_id(html, "nope", "data-request"), None);
        assert_eq!(unescape("a&#32;b&#x25;c&bogus;"), "a b%c&bogus;");
    }
}
