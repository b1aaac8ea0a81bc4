//! Login with a QR credential (docs/login.md), end to end: the real `qrid serve`, the real
//! `qrid wallet`, a real OpenID Connect relying-party library (`openidconnect`) and a
//! cookie-keeping HTTP client in the browser's place. Then every refusal the protocol promises.

use openidconnect::core::{
    CoreClient, CoreErrorResponseType, CoreGenderClaim, CoreJwsSigningAlgorithm,
    CoreProviderMetadata, CoreResponseType,
};
use openidconnect::{
    AdditionalClaims, AuthType, AuthenticationFlow, AuthorizationCode, ClientId, ClientSecret,
    CsrfToken, EndpointMaybeSet, EndpointNotSet, EndpointSet, IssuerUrl, Nonce,
    OAuth2TokenResponse, PkceCodeChallenge, RedirectUrl, RequestTokenError, Scope, TokenResponse,
};
use qrid_e2e::login::{
    dev_issuer_key, form, holder_signature, now, pkce_pair, post_response, query_param, random_key,
    random_token, response_body, save_trust_list, Authorize, LoginRequest, Wallet,
};
use qrid_e2e::service::{
    create_client, enrol, http, issue, issue_bound, token, Auth, Body, Service, World,
};
use qrid_e2e::CITIZEN_JSON as CITIZEN;
use qrid_store::Backend;
use reqwest::blocking::{Client as HttpClient, Response};
use reqwest::header::{HeaderMap, AUTHORIZATION, CONTENT_TYPE, LOCATION};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// The relying party's client type after discovery: authorization endpoint set, token and
/// userinfo endpoints as the provider metadata gave them.
type RpClient = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// The claims of the `national_id` scope, which the standard claims lack.
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize)]
struct NationalIdClaims {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    national_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    nationality: Option<String>,
}
impl AdditionalClaims for NationalIdClaims {}

const ID_NUMBER: &str = "001099012345";
const NAME: &str = "Nguyễn Thị Minh Khai";

// ----- the world of one test: a service, a citizen with a wallet, relying parties -----

/// How a relying party authenticates at `/token`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ClientAuth {
    Basic,
    Post,
    PrivateKeyJwt,
}

/// A registered relying party.
struct Rp {
    name: String,
    id: String,
    secret: String,
    redirect_uri: String,
    alg: CoreJwsSigningAlgorithm,
    auth: ClientAuth,
    /// Its own signing key, for private_key_jwt.
    key: Option<p256::SecretKey>,
}

struct RpSpec<'a> {
    name: &'a str,
    path: &'a str,
    alg: Option<&'a str>,
    sector: Option<&'a str>,
    auth: ClientAuth,
    scopes: &'a [&'a str],
}

/// The redirect URIs are never fetched in this file (the code comes from the status poll), so
/// they point at the discard port.
fn redirect_for(path: &str) -> String {
    format!("http://127.0.0.1:9/{path}/cb")
}

fn register(w: &World, spec: &RpSpec) -> Rp {
    let redirect_uri = redirect_for(spec.path);
    let mut args: Vec<String> = vec!["--redirect-uri".into(), redirect_uri.clone()];
    for s in spec.scopes {
        args.push("--scope".into());
        args.push((*s).into());
    }
    if let Some(alg) = spec.alg {
        args.push("--id-token-alg".into());
        args.push(alg.into());
    }
    if let Some(sector) = spec.sector {
        args.push("--sector".into());
        args.push(sector.into());
    }
    let mut key = None;
    match spec.auth {
        ClientAuth::Basic => {}
        ClientAuth::Post => {
            args.push("--token-auth-method".into());
            args.push("client_secret_post".into());
        }
        ClientAuth::PrivateKeyJwt => {
            let secret = p256::SecretKey::random(&mut rand_core::OsRng);
            let jwks_file = w.path(&format!("{}-jwks.json", spec.path));
            std::fs::write(&jwks_file, rp_jwks(&secret).to_string()).expect("write the RP JWKS");
            args.push("--token-auth-method".into());
            args.push("private_key_jwt".into());
            args.push("--jwks".into());
            args.push(jwks_file.to_string_lossy().into_owned());
            key = Some(secret);
        }
    }
    let arg_refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let (id, secret) = create_client(&w.db.url(), spec.name, &arg_refs);
    let alg = match spec.alg.unwrap_or("RS256") {
        "RS256" => CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
        "ES256" => CoreJwsSigningAlgorithm::EcdsaP256Sha256,
        "EdDSA" => CoreJwsSigningAlgorithm::EdDsa,
        other => panic!("no such algorithm in these tests: {other}"),
    };
    if spec.auth != ClientAuth::PrivateKeyJwt {
        assert!(!secret.is_empty(), "client {} got no secret", spec.name);
    }
    Rp {
        name: spec.name.to_owned(),
        id,
        secret,
        redirect_uri,
        alg,
        auth: spec.auth,
        key,
    }
}

const RP_KID: &str = "rp-key-1";

/// The relying party's public JWKS (P-256, ES256).
fn rp_jwks(key: &p256::SecretKey) -> Value {
    let mut jwk: Value =
        serde_json::from_str(&key.public_key().to_jwk_string()).expect("p256 writes a JWK");
    jwk["kid"] = RP_KID.into();
    jwk["alg"] = "ES256".into();
    jwk["use"] = "sig".into();
    json!({ "keys": [jwk] })
}

/// An RFC 7523 client assertion for private_key_jwt, signed with `key`.
fn client_assertion(client_id: &str, audience: &str, key: &p256::SecretKey) -> String {
    use p256::pkcs8::EncodePrivateKey;
    let pem = key
        .to_pkcs8_pem(p256::pkcs8::LineEnding::LF)
        .expect("PKCS#8 PEM of the RP key");
    let encoding =
        jsonwebtoken::EncodingKey::from_ec_pem(pem.as_bytes()).expect("jsonwebtoken reads it");
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
    header.kid = Some(RP_KID.into());
    let t = now();
    let claims = json!({
        "iss": client_id, "sub": client_id, "aud": audience,
        "iat": t, "exp": t + 60, "jti": random_token(16),
    });
    jsonwebtoken::encode(&header, &claims, &encoding).expect("sign the client assertion")
}

/// A service with one enrolled citizen whose wallet holds a credential bound to its key.
struct Fixture {
    w: World,
    s: Service,
    officer: String,
    citizen_id: String,
    wallet: Wallet,
    trust: PathBuf,
    credential: Value,
}

impl Fixture {
    /// `register` runs before the service starts (clients are made with the CLI).
    fn new<T>(backend: Backend, register: impl FnOnce(&World) -> T) -> (Fixture, T) {
        let w = World::new(backend);
        let registered = register(&w);
        let s = w.start();
        let officer = token(&s, "alice");
        let citizen_id = enrol(&s, &officer, CITIZEN);
        let trust = w.path("jwks.json");
        save_trust_list(&s, &trust);
        let wallet = Wallet::init(&w.path("wallet"));
        let credential = issue_bound(&s, &officer, &citizen_id, &wallet.jwk);
        wallet.must_import(&trust, str_of(&credential, "payload"));
        (
            Fixture {
                w,
                s,
                officer,
                citizen_id,
                wallet,
                trust,
                credential,
            },
            registered,
        )
    }

    /// Another wallet for the same citizen, holding a new credential bound to its key.
    fn second_wallet(&self, name: &str) -> (Wallet, Value) {
        let wallet = Wallet::init(&self.w.path(name));
        let cred = issue_bound(&self.s, &self.officer, &self.citizen_id, &wallet.jwk);
        wallet.must_import(&self.trust, str_of(&cred, "payload"));
        (wallet, cred)
    }
}

fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("no text {key:?} in {v}"))
}

// ----- the browser's side: the login page and the status poll -----

/// A browser stand-in: keeps cookies, follows no redirects (the test looks at each).
fn browser() -> HttpClient {
    HttpClient::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .expect("an HTTP client")
}

/// The relying party's HTTP client for the library: no redirects, as the library advises.
fn rp_http() -> HttpClient {
    HttpClient::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .expect("an HTTP client")
}

struct Got {
    status: u16,
    headers: HeaderMap,
    body: String,
}

impl Got {
    fn of(r: Response) -> Got {
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let body = r.text().unwrap_or_default();
        Got {
            status,
            headers,
            body,
        }
    }
    fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }
    fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {} {}", self.status, self.body))
    }
}

fn get(client: &HttpClient, url: &str) -> Got {
    Got::of(
        client
            .get(url)
            .send()
            .unwrap_or_else(|e| panic!("GET {url}: {e}")),
    )
}

/// Opens `/authorize` like a browser and reads the login request off the page; checks what
/// docs/login.md promises about the page.
fn open_login_page(b: &HttpClient, url: &str) -> LoginRequest {
    let page = get(b, url);
    assert_eq!(page.status, 200, "GET {url}: {}", page.body);
    let ctype = page.header("content-type").unwrap_or_default();
    assert!(ctype.starts_with("text/html"), "{ctype}");
    let cookies: Vec<String> = page
        .headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok().map(str::to_owned))
        .collect();
    let cookie = cookies
        .iter()
        .find(|c| c.starts_with("qrid_login="))
        .unwrap_or_else(|| panic!("no qrid_login cookie: {cookies:?}"));
    let lower = cookie.to_ascii_lowercase();
    assert!(lower.contains("httponly"), "{cookie}");
    assert!(lower.contains("samesite=lax"), "{cookie}");
    assert!(lower.contains("path=/login/"), "{cookie}");
    let csp = page.header("content-security-policy").unwrap_or_default();
    assert!(csp.contains("frame-ancestors 'none'"), "CSP: {csp:?}");
    assert_eq!(
        page.header("x-frame-options")
            .map(|v| v.to_ascii_uppercase()),
        Some("DENY".into())
    );
    assert!(
        page.body.contains("<svg"),
        "no inline SVG QR:\n{}",
        page.body
    );
    // No inline script: every <script> has a src.
    for (i, _) in page.body.match_indices("<script") {
        let tag = &page.body[i..i + page.body[i..].find('>').unwrap_or(0)];
        assert!(tag.contains("src="), "inline script in the page: {tag}");
    }
    let r = LoginRequest::from_page(&page.body).unwrap_or_else(|e| panic!("{e}"));
    // The code is shown to the citizen, beside the QR, as two digits.
    assert!(
        page.body
            .contains(&format!("<strong id=\"confirm-code\">{}</strong>", r.code))
            && r.code.len() == 2
            && r.code.bytes().all(|b| b.is_ascii_digit()),
        "no two-digit confirmation code on the page:\n{}",
        page.body
    );
    r
}

/// Polls `/login/{tx}/status` until it is no longer pending.
fn poll(b: &HttpClient, s: &Service, tx: &str) -> Value {
    let url = format!("{}/login/{tx}/status", s.url);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let r = get(b, &url);
        assert_eq!(r.status, 200, "GET {url}: {}", r.body);
        let j = r.json();
        if j["status"] != "pending" {
            return j;
        }
        assert!(Instant::now() < deadline, "still pending after 20 s: {j}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Checks the login request as an independent wallet would, against what the RP asked.
fn check_request(
    req: &LoginRequest,
    s: &Service,
    trust: &std::path::Path,
    rp: &Rp,
    scopes: &[&str],
) {
    let jwks = std::fs::read(trust).expect("read the trust list");
    req.verify(&jwks)
        .unwrap_or_else(|e| panic!("the login request does not verify: {e}: {req:?}"));
    assert_eq!(req.message.typ(), Some("qrid-login"), "{req:?}");
    assert_eq!(req.text("aud"), s.url, "{req:?}");
    assert_eq!(req.text("rsp"), format!("{}/login/response", s.url));
    assert_eq!(req.text("cid"), rp.id);
    assert_eq!(req.text("cn"), rp.name);
    let mut asked = req.scopes();
    asked.sort();
    let mut wanted: Vec<&str> = scopes.to_vec();
    wanted.sort();
    assert_eq!(asked, wanted, "{req:?}");
    let tx = req.tx();
    assert!(
        tx.len() == 32 && tx.bytes().all(|c| c.is_ascii_hexdigit()),
        "tx is 32 hex digits: {tx}"
    );
    match req.field("ch") {
        Some(ciborium::Value::Bytes(b)) => assert_eq!(b.len(), 32, "challenge length"),
        other => panic!("ch is not bytes: {other:?}"),
    }
    let (iat, exp) = (req.int("iat"), req.int("exp"));
    let t = now();
    assert!(
        iat <= t + 5 && exp > t && exp - iat <= 300,
        "iat {iat} exp {exp} now {t}"
    );
}

/// What one browser login produced.
struct Code {
    code: String,
    request: LoginRequest,
}

/// The browser half of a login: open the page, let the wallet answer, poll until the code.
fn browser_login(f: &Fixture, wallet: &Wallet, url: &str, state: &str, redirect: &str) -> Code {
    let b = browser();
    let request = open_login_page(&b, url);
    // Only the browser with the cookie collects the code: a poll without it gets nothing.
    let stranger = get(
        &rp_http(),
        &format!("{}/login/{}/status", f.s.url, request.tx()),
    );
    assert_eq!(
        stranger.status, 403,
        "a poll without the cookie: {}",
        stranger.body
    );
    assert!(
        !stranger.body.contains("code="),
        "a poll without the cookie got the code: {} {}",
        stranger.status,
        stranger.body
    );
    let (code, out, err) = wallet.login_request(&request.text, &request.code);
    assert_eq!(code, 0, "qrid wallet login failed:\n{out}\n{err}");
    let done = poll(&b, &f.s, &request.tx());
    assert_eq!(done["status"], "complete", "{done}");
    let to = str_of(&done, "redirect_to");
    assert!(
        to.starts_with(&format!("{redirect}?")),
        "redirect_to {to} is not under {redirect}"
    );
    assert_eq!(query_param(to, "state").as_deref(), Some(state), "{to}");
    assert_eq!(query_param(to, "error"), None, "{to}");
    let code = query_param(to, "code").unwrap_or_else(|| panic!("no code in {to}"));
    // The stranger still gets no code once it is complete.
    let stranger = get(
        &rp_http(),
        &format!("{}/login/{}/status", f.s.url, request.tx()),
    );
    assert!(!stranger.body.contains(&code), "{}", stranger.body);
    Code { code, request }
}

// ----- the main flow, through the library -----

struct Outcome {
    sub: String,
    userinfo_raw: Value,
}

/// Discovery, authorization (PKCE, nonce, state), the wallet, the code exchange in the client's
/// registered authentication method, ID token validation and userinfo — through `openidconnect`.
fn library_login(f: &Fixture, meta: &CoreProviderMetadata, rp: &Rp, scopes: &[&str]) -> Outcome {
    let http_client = rp_http();
    // A private_key_jwt client authenticates with its key alone (the library would add HTTP
    // Basic if it were given a secret).
    let secret = (!rp.secret.is_empty() && rp.auth != ClientAuth::PrivateKeyJwt)
        .then(|| ClientSecret::new(rp.secret.clone()));
    let mut client: RpClient =
        CoreClient::from_provider_metadata(meta.clone(), ClientId::new(rp.id.clone()), secret)
            .set_redirect_uri(RedirectUrl::new(rp.redirect_uri.clone()).expect("redirect URL"));
    if rp.auth == ClientAuth::Post {
        client = client.set_auth_type(AuthType::RequestBody);
    }
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut req = client.authorize_url(
        AuthenticationFlow::<CoreResponseType>::AuthorizationCode,
        CsrfToken::new_random,
        Nonce::new_random,
    );
    for s in scopes.iter().filter(|s| **s != "openid") {
        req = req.add_scope(Scope::new((*s).to_owned()));
    }
    let (url, state, nonce) = req.set_pkce_challenge(challenge).url();
    let got = browser_login(f, &f.wallet, url.as_str(), state.secret(), &rp.redirect_uri);
    check_request(&got.request, &f.s, &f.trust, rp, scopes);

    let token_url = meta
        .token_endpoint()
        .expect("discovery names a token endpoint")
        .url()
        .to_string();
    // The registered method is enforced: the secret in the other place is refused first (a
    // refused client authentication does not use up the code).
    match rp.auth {
        ClientAuth::Basic => {}
        ClientAuth::Post => {
            let r = raw_token(
                &token_url,
                &[
                    ("grant_type", "authorization_code"),
                    ("code", &got.code),
                    ("redirect_uri", &rp.redirect_uri),
                    ("code_verifier", verifier.secret()),
                ],
                Some((&rp.id, &rp.secret)),
            );
            assert_oauth_error(
                &r,
                401,
                "invalid_client",
                "client_secret_basic for a _post client",
            );
        }
        ClientAuth::PrivateKeyJwt => {
            let forged = client_assertion(
                &rp.id,
                &token_url,
                &p256::SecretKey::random(&mut rand_core::OsRng),
            );
            let r = raw_token(
                &token_url,
                &[
                    ("grant_type", "authorization_code"),
                    ("code", &got.code),
                    ("redirect_uri", &rp.redirect_uri),
                    ("code_verifier", verifier.secret()),
                    ("client_id", &rp.id),
                    (
                        "client_assertion_type",
                        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                    ),
                    ("client_assertion", &forged),
                ],
                None,
            );
            assert_oauth_error(&r, 401, "invalid_client", "an assertion by another key");
        }
    }

    let mut exchange = client
        .exchange_code(AuthorizationCode::new(got.code.clone()))
        .expect("token endpoint")
        .set_pkce_verifier(verifier);
    if rp.auth == ClientAuth::PrivateKeyJwt {
        let key = rp.key.as_ref().expect("the RP key");
        exchange = exchange
            .add_extra_param(
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            )
            .add_extra_param(
                "client_assertion",
                client_assertion(&rp.id, &token_url, key),
            );
    }
    let tokens = exchange
        .request(&http_client)
        .unwrap_or_else(|e| panic!("code exchange for {} failed: {}", rp.name, token_error(&e)));
    assert_eq!(
        tokens.token_type(),
        &openidconnect::core::CoreTokenType::Bearer
    );
    let id_token = tokens.id_token().expect("an id_token");
    assert_eq!(
        id_token.signing_alg().expect("a signed ID token"),
        &rp.alg,
        "the ID token's algorithm is the one {} registered",
        rp.name
    );
    let verifier = client
        .id_token_verifier()
        .set_allowed_algs(vec![rp.alg.clone()]);
    let claims = id_token
        .claims(&verifier, &nonce)
        .unwrap_or_else(|e| panic!("ID token of {} refused: {}", rp.name, error_chain(&e)));
    assert_eq!(claims.issuer().as_str(), f.s.url);
    assert_eq!(
        claims
            .audiences()
            .iter()
            .map(|a| a.as_str())
            .collect::<Vec<_>>(),
        vec![rp.id.as_str()]
    );
    assert_eq!(
        claims.auth_context_ref().map(|a| a.as_str()),
        Some("urn:qrid:acr:holder-key")
    );
    let amr: Vec<&str> = claims
        .auth_method_refs()
        .map(|v| v.iter().map(|a| a.as_str()).collect())
        .unwrap_or_default();
    assert_eq!(amr, ["pop", "swk"]);
    assert!(claims.auth_time().is_some(), "no auth_time");
    let lifetime = claims.expiration() - claims.issue_time();
    assert!(
        lifetime.num_seconds() > 0 && lifetime.num_seconds() <= 600,
        "ID token lives {lifetime}"
    );
    let sub = claims.subject().clone();

    let info = client
        .user_info(tokens.access_token().clone(), Some(sub.clone()))
        .expect("a userinfo endpoint")
        .request::<NationalIdClaims, CoreGenderClaim, _>(&http_client)
        .unwrap_or_else(|e| panic!("userinfo for {} failed: {}", rp.name, userinfo_error(&e)));
    assert_eq!(info.subject(), &sub);
    let v = serde_json::to_value(&info).expect("claims serialise");
    if scopes.contains(&"profile") {
        assert_eq!(v["name"], NAME, "{v}");
        assert_eq!(v["birthdate"], "1990-01-15", "{v}");
        assert_eq!(v["gender"], "female", "{v}");
    }
    if scopes.contains(&"national_id") {
        assert_eq!(
            info.additional_claims().national_id.as_deref(),
            Some(ID_NUMBER)
        );
        assert_eq!(info.additional_claims().nationality.as_deref(), Some("VN"));
    }
    // The same answer seen raw, to check nothing unasked is in it.
    let raw = Got::of(
        http_client
            .get(
                meta.userinfo_endpoint()
                    .expect("discovery names userinfo")
                    .url()
                    .as_str(),
            )
            .bearer_auth(tokens.access_token().secret())
            .send()
            .expect("GET userinfo"),
    );
    assert_eq!(raw.status, 200, "{}", raw.body);
    Outcome {
        sub: sub.as_str().to_owned(),
        userinfo_raw: raw.json(),
    }
}

/// An error and its causes, one line.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(&format!(": {c}"));
        cur = c.source();
    }
    s
}

/// A token endpoint error with what the server said.
fn token_error<RE: std::error::Error + 'static>(
    e: &RequestTokenError<RE, openidconnect::StandardErrorResponse<CoreErrorResponseType>>,
) -> String {
    match e {
        RequestTokenError::ServerResponse(r) => format!("server said {}", json!(r)),
        RequestTokenError::Parse(err, body) => {
            format!(
                "unparsable answer ({err}): {}",
                String::from_utf8_lossy(body)
            )
        }
        other => error_chain(other),
    }
}

/// A userinfo error with what the server said.
fn userinfo_error<RE: std::error::Error + 'static>(e: &openidconnect::UserInfoError<RE>) -> String {
    match e {
        openidconnect::UserInfoError::Response(status, body, msg) => {
            format!("{status} {msg}: {}", String::from_utf8_lossy(body))
        }
        other => error_chain(other),
    }
}

/// A discovery error with what the server said.
fn discovery_error<RE: std::error::Error + 'static>(
    e: &openidconnect::DiscoveryError<RE>,
) -> String {
    match e {
        openidconnect::DiscoveryError::Response(status, body, msg) => {
            format!("{status} {msg}: {}", String::from_utf8_lossy(body))
        }
        other => error_chain(other),
    }
}

/// A raw POST to the token endpoint, form-encoded, optionally with HTTP Basic.
fn raw_token(token_url: &str, params: &[(&str, &str)], basic: Option<(&str, &str)>) -> Got {
    let mut req = rp_http()
        .post(token_url)
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(form(params));
    if let Some((id, secret)) = basic {
        req = req.basic_auth(qrid_e2e::login::pct(id), Some(qrid_e2e::login::pct(secret)));
    }
    Got::of(req.send().expect("POST /token"))
}

/// An RFC 6749 §5.2 error: this status and `error`, JSON, not problem+json.
fn assert_oauth_error(r: &Got, status: u16, error: &str, what: &str) {
    assert_eq!(r.status, status, "{what}: {}", r.body);
    let j = r.json();
    assert_eq!(j["error"], error, "{what}: {j}");
    let ctype = r.header("content-type").unwrap_or_default();
    assert!(ctype.starts_with("application/json"), "{what}: {ctype}");
}

fn main_flow(backend: Backend) {
    let all = ["openid", "profile", "national_id"];
    let started = Instant::now();
    let (f, rps) = Fixture::new(backend, |w| {
        [
            RpSpec {
                name: "Cổng Dịch vụ công Quốc gia",
                path: "rs256",
                alg: None,
                sector: Some("dichvucong.example"),
                auth: ClientAuth::Basic,
                scopes: &all,
            },
            RpSpec {
                name: "Dịch vụ công, ES256",
                path: "es256",
                alg: Some("ES256"),
                sector: Some("dichvucong.example"),
                auth: ClientAuth::Basic,
                scopes: &all,
            },
            RpSpec {
                name: "Thuế điện tử",
                path: "eddsa",
                alg: Some("EdDSA"),
                sector: Some("thue.example"),
                auth: ClientAuth::Basic,
                scopes: &["openid", "profile"],
            },
            RpSpec {
                name: "Bảo hiểm xã hội",
                path: "post",
                alg: None,
                sector: None,
                auth: ClientAuth::Post,
                scopes: &all,
            },
            RpSpec {
                name: "Ngân hàng",
                path: "jwt",
                alg: Some("ES256"),
                sector: None,
                auth: ClientAuth::PrivateKeyJwt,
                scopes: &all,
            },
        ]
        .map(|spec| register(w, &spec))
    });
    eprintln!(
        "[{:>6.1} s] service, citizen, wallet and five clients ready",
        started.elapsed().as_secs_f64()
    );
    let issuer = IssuerUrl::new(f.s.url.clone()).expect("issuer URL");
    let meta = CoreProviderMetadata::discover(&issuer, &rp_http())
        .unwrap_or_else(|e| panic!("discovery failed: {}", discovery_error(&e)));
    assert_eq!(meta.issuer().as_str(), f.s.url);
    assert_eq!(
        meta.jwks_uri().url().as_str(),
        format!("{}/oidc/jwks.json", f.s.url)
    );
    let algs = meta.id_token_signing_alg_values_supported();
    for alg in [
        CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
        CoreJwsSigningAlgorithm::EcdsaP256Sha256,
        CoreJwsSigningAlgorithm::EdDsa,
    ] {
        assert!(algs.contains(&alg), "{alg:?} not in {algs:?}");
    }
    assert_eq!(
        meta.jwks().keys().len(),
        3,
        "one ID token key per algorithm"
    );

    let [rs256, es256, eddsa, post, jwt] = &rps;
    let t0 = Instant::now();
    let step = |what: &str| eprintln!("[{:>6.1} s] {what}", t0.elapsed().as_secs_f64());
    let a = library_login(&f, &meta, rs256, &all);
    step("RS256, client_secret_basic");
    let b = library_login(&f, &meta, es256, &all);
    step("ES256");
    let c = library_login(&f, &meta, eddsa, &["openid", "profile"]);
    step("EdDSA");
    let d = library_login(&f, &meta, post, &all);
    step("client_secret_post");
    let e = library_login(&f, &meta, jwt, &all);
    step("private_key_jwt");

    // Pairwise subjects: one per sector (default: the redirect URI's host).
    assert_eq!(a.sub, b.sub, "one sector, one sub");
    assert_ne!(a.sub, c.sub, "different sectors, different subs");
    assert_eq!(d.sub, e.sub, "both default to the sector 127.0.0.1");
    assert_ne!(a.sub, d.sub);
    assert_ne!(c.sub, d.sub);
    for o in [&a, &b, &c, &d, &e] {
        assert!(!o.sub.contains(ID_NUMBER) && !o.sub.contains(&f.citizen_id));
    }
    // Nothing the RP did not ask for.
    let keys = |v: &Value| -> Vec<String> {
        v.as_object()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default()
    };
    let mut asked = keys(&c.userinfo_raw);
    asked.sort();
    for k in &asked {
        assert!(
            ["sub", "name", "birthdate", "gender"].contains(&k.as_str()),
            "userinfo for openid profile has {k}: {}",
            c.userinfo_raw
        );
    }
    assert_eq!(a.userinfo_raw["national_id"], ID_NUMBER);
    assert_eq!(a.userinfo_raw["nationality"], "VN");
    assert!(
        a.userinfo_raw.get("address").is_none(),
        "{}",
        a.userinfo_raw
    );

    // The same citizen keeps the same sub with a re-issued credential in another wallet.
    let (other_wallet, _) = f.second_wallet("wallet2");
    let (verifier, challenge) = pkce_pair();
    let state = random_token(16);
    let url = Authorize {
        base: &f.s.url,
        client_id: &rs256.id,
        redirect_uri: &rs256.redirect_uri,
        scope: "openid",
        state: &state,
        nonce: "n-0S6_WzA2Mj",
        code_challenge: &challenge,
    }
    .url();
    let got = browser_login(&f, &other_wallet, &url, &state, &rs256.redirect_uri);
    let tokens = exchange_basic(&f.s, rs256, &got.code, &verifier);
    assert_eq!(tokens.status, 200, "{}", tokens.body);
    let id_token = str_of(&tokens.json(), "id_token").to_owned();
    let claims = jwt_claims(&id_token);
    assert_eq!(claims["sub"], a.sub.as_str(), "{claims}");
    assert_eq!(claims["nonce"], "n-0S6_WzA2Mj");

    // The citizen's access record names the portals the citizen logged in to.
    let cred_id = str_of(&f.credential, "id");
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let r = http(
            "GET",
            &format!("{}/v1/credentials/{cred_id}/verifications", f.s.url),
            Auth::Bearer(&f.officer),
            Body::None,
        );
        assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
        let j = r.json();
        let rows = j["verifications"].as_array().cloned().unwrap_or_default();
        let named = |rp: &Rp| {
            rows.iter()
                .any(|row| row["client_id"] == rp.id.as_str() && row.to_string().contains("login"))
        };
        if named(rs256) && named(jwt) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no login entries naming {} and {} in the access record: {j}",
            rs256.id,
            jwt.id
        );
        std::thread::sleep(Duration::from_millis(200));
    }

    let log = f.s.log();
    assert!(!log.contains("panicked"), "{log}");
    assert!(
        !log.contains(NAME) && !log.contains(ID_NUMBER),
        "PII in the log"
    );
    assert!(!log.contains(&got.code), "a code reached the log");
}

/// The claims of a JWT, unverified (the library verified the ones that matter).
fn jwt_claims(jwt: &str) -> Value {
    use base64::Engine;
    let part = jwt
        .split('.')
        .nth(1)
        .unwrap_or_else(|| panic!("not a JWT: {jwt}"));
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .expect("base64url claims");
    serde_json::from_slice(&bytes).expect("JSON claims")
}

fn exchange_basic(s: &Service, rp: &Rp, code: &str, verifier: &str) -> Got {
    raw_token(
        &format!("{}/token", s.url),
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", &rp.redirect_uri),
            ("code_verifier", verifier),
        ],
        Some((&rp.id, &rp.secret)),
    )
}

#[test]
fn login_through_an_openid_connect_library_on_sqlite() {
    main_flow(Backend::Sqlite);
}

#[test]
fn login_through_an_openid_connect_library_on_postgres() {
    main_flow(Backend::Postgres);
}

// ----- refusals -----

fn one_rp(w: &World) -> Rp {
    register(
        w,
        &RpSpec {
            name: "Cổng Dịch vụ công",
            path: "rp",
            alg: None,
            sector: None,
            auth: ClientAuth::Basic,
            scopes: &["openid", "profile"],
        },
    )
}

/// A login page opened for `rp` (the browser keeps the cookie), with the RP's secrets.
struct Pending {
    browser: HttpClient,
    request: LoginRequest,
    state: String,
    verifier: String,
}

fn start_login(f: &Fixture, rp: &Rp) -> Pending {
    let (verifier, challenge) = pkce_pair();
    let state = random_token(16);
    let url = Authorize {
        base: &f.s.url,
        client_id: &rp.id,
        redirect_uri: &rp.redirect_uri,
        scope: "openid profile",
        state: &state,
        nonce: &random_token(16),
        code_challenge: &challenge,
    }
    .url();
    let browser = browser();
    let request = open_login_page(&browser, &url);
    Pending {
        browser,
        request,
        state,
        verifier,
    }
}

impl Pending {
    fn status(&self, s: &Service) -> Value {
        let r = get(
            &self.browser,
            &format!("{}/login/{}/status", s.url, self.request.tx()),
        );
        assert_eq!(r.status, 200, "{}", r.body);
        r.json()
    }
    /// A response signed with `key` for this request.
    fn response(&self, credential: &str, key: &qrid_credential::SigningKey) -> String {
        response_body(
            &self.request.tx(),
            credential,
            &holder_signature(key, self.request.payload()),
            &self.request.code,
        )
    }
}

/// Asserts a problem+json answer and returns it.
fn problem(r: &qrid_e2e::service::Resp, status: u16, kind: &str, what: &str) -> Value {
    let body = String::from_utf8_lossy(&r.body).into_owned();
    assert_eq!(r.status, status, "{what}: {body}");
    assert!(
        r.content_type.starts_with("application/problem+json"),
        "{what}: {} {body}",
        r.content_type
    );
    let j = r.json();
    assert_eq!(j["type"], format!("urn:qrid:problem:{kind}"), "{what}: {j}");
    j
}

#[test]
fn a_credential_without_a_holder_key_is_refused() {
    let (f, rp) = Fixture::new(Backend::Sqlite, one_rp);
    let unbound = issue(&f.s, &f.officer, &f.citizen_id);
    let payload = str_of(&unbound, "payload");
    // The wallet will not even take it.
    let other = Wallet::init(&f.w.path("w2"));
    let (code, out, err) = other.import(&f.trust, payload);
    assert_ne!(
        code, 0,
        "wallet import took a credential without cnf:\n{out}"
    );
    // A hand-made response with it: the service refuses it.
    let p = start_login(&f, &rp);
    let r = post_response(&p.request, &p.response(payload, &random_key()));
    problem(&r, 422, "holder_key_missing", "credential without cnf");
    assert_eq!(p.status(&f.s)["status"], "pending", "{err}");
}

/// Issue 15 item 14: a wallet answers a login only with the two-digit code of the login page,
/// so a QR relayed without its page cannot be answered; a wrong code is refused and counted.
#[test]
fn a_login_needs_the_code_shown_on_the_login_page() {
    let (f, rp) = Fixture::new(Backend::Sqlite, one_rp);
    let p = start_login(&f, &rp);
    let payload = str_of(&f.credential, "payload");
    let key = f.wallet.holder_key();
    // A well-signed answer with another code: refused, and the login waits on.
    let other = if p.request.code == "00" { "01" } else { "00" };
    let body = response_body(
        &p.request.tx(),
        payload,
        &holder_signature(&key, p.request.payload()),
        other,
    );
    problem(
        &post_response(&p.request, &body),
        422,
        "login_code_mismatch",
        "another code",
    );
    assert_eq!(p.status(&f.s)["status"], "pending");
    // Without a code the answer is not a login response at all.
    let body = json!({"tx": p.request.tx(), "credential": payload,
        "signature": holder_signature(&key, p.request.payload())})
    .to_string();
    problem(
        &post_response(&p.request, &body),
        422,
        "invalid_body",
        "no code",
    );
    // The wallet, given the QR alone, asks for the code; told to answer without asking, it
    // refuses to guess.
    let (code, out, err) = f
        .wallet
        .run("login", &["--request", &p.request.text, "--yes"]);
    assert_ne!(code, 0, "{out}\n{err}");
    assert!(err.contains("--code"), "{err}");
    // A wrong code typed into the wallet is refused by the service; the right one logs in.
    let (code, _, err) = f.wallet.login_request(&p.request.text, other);
    assert_ne!(code, 0, "{err}");
    assert!(err.contains("login_code_mismatch"), "{err}");
    let (code, out, err) = f.wallet.login_request(&p.request.text, &p.request.code);
    assert_eq!(code, 0, "{out}\n{err}");
    assert_eq!(p.status(&f.s)["status"], "complete");
    // Five wrong codes fail a transaction, as five refused answers of any kind do.
    let q = start_login(&f, &rp);
    let wrong = if q.request.code == "00" { "01" } else { "00" };
    for _ in 0..5 {
        let body = response_body(
            &q.request.tx(),
            payload,
            &holder_signature(&key, q.request.payload()),
            wrong,
        );
        let _ = post_response(&q.request, &body);
    }
    let body = response_body(
        &q.request.tx(),
        payload,
        &holder_signature(&key, q.request.payload()),
        &q.request.code,
    );
    problem(
        &post_response(&q.request, &body),
        409,
        "login_failed",
        "after five wrong codes",
    );
}

#[test]
fn a_holder_signature_by_another_key_is_refused() {
    let (f, rp) = Fixture::new(Backend::Sqlite, one_rp);
    let p = start_login(&f, &rp);
    let payload = str_of(&f.credential, "payload");
    let r = post_response(&p.request, &p.response(payload, &random_key()));
    problem(&r, 422, "holder_signature_invalid", "signed by another key");
    // The right key over another transaction's request is no better.
    let q = start_login(&f, &rp);
    let body = response_body(
        &p.request.tx(),
        payload,
        &holder_signature(&f.wallet.holder_key(), q.request.payload()),
        &p.request.code,
    );
    let r = post_response(&p.request, &body);
    problem(
        &r,
        422,
        "holder_signature_invalid",
        "signature over another request",
    );
    // An unknown transaction.
    let body = response_body(
        &"0".repeat(32),
        payload,
        &holder_signature(&f.wallet.holder_key(), p.request.payload()),
        &p.request.code,
    );
    problem(
        &post_response(&p.request, &body),
        404,
        "login_unknown",
        "unknown tx",
    );
    assert_eq!(p.status(&f.s)["status"], "pending");
    // The real wallet still gets in after those refusals.
    let (code, out, err) = f.wallet.login_request(&p.request.text, &p.request.code);
    assert_eq!(code, 0, "{out}\n{err}");
    assert_eq!(p.status(&f.s)["status"], "complete");
}

#[test]
fn a_revoked_credential_is_refused() {
    let (f, rp) = Fixture::new(Backend::Sqlite, one_rp);
    let id = str_of(&f.credential, "id");
    let r = http(
        "POST",
        &format!("{}/v1/credentials/{id}/revoke", f.s.url),
        Auth::Bearer(&f.officer),
        Body::Json(r#"{"reason":"phone stolen"}"#),
    );
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let p = start_login(&f, &rp);
    let (code, out, err) = f.wallet.login_request(&p.request.text, &p.request.code);
    assert_ne!(
        code, 0,
        "the wallet's login with a revoked credential succeeded:\n{out}"
    );
    assert!(err.contains("credential_invalid"), "{err}");
    let r = post_response(
        &p.request,
        &p.response(str_of(&f.credential, "payload"), &f.wallet.holder_key()),
    );
    let j = problem(&r, 422, "credential_invalid", "revoked credential");
    assert!(j.to_string().contains("revoked"), "the reason kind: {j}");
    assert_eq!(p.status(&f.s)["status"], "pending");
}

#[test]
fn an_expired_credential_is_refused() {
    let (f, rp) = Fixture::new(Backend::Sqlite, one_rp);
    // The wallet's own credential, re-signed by the issuer key with a validity that has ended.
    let msg = qrid_credential::open(str_of(&f.credential, "payload")).expect("open the credential");
    let mut cred =
        qrid_credential::Credential::from_cbor(msg.payload()).expect("decode the credential");
    assert!(cred.holder.is_some(), "the issued credential has a cnf");
    let t = now();
    cred.issued_at = t - 30 * 86_400;
    cred.expires_at = t - 86_400;
    let key = dev_issuer_key();
    let expired = cred
        .sign(key.signing_key(), key.kid())
        .expect("sign the expired credential");
    let p = start_login(&f, &rp);
    let r = post_response(&p.request, &p.response(&expired, &f.wallet.holder_key()));
    let j = problem(&r, 422, "credential_invalid", "expired credential");
    assert!(j.to_string().contains("expired"), "the reason kind: {j}");
    // The same credential re-signed within its validity is accepted: the refusal was the date.
    cred.issued_at = t - 86_400;
    cred.expires_at = t + 86_400;
    let fresh = cred.sign(key.signing_key(), key.kid()).expect("sign");
    let r = post_response(&p.request, &p.response(&fresh, &f.wallet.holder_key()));
    assert!(
        r.status < 300,
        "a valid re-signed credential was refused: {} {}",
        r.status,
        String::from_utf8_lossy(&r.body)
    );
    assert_eq!(p.status(&f.s)["status"], "complete");
}

#[test]
fn a_presentation_is_accepted_once() {
    let (f, rp) = Fixture::new(Backend::Sqlite, one_rp);
    let p = start_login(&f, &rp);
    let (code, out, err) = f.wallet.login_request(&p.request.text, &p.request.code);
    assert_eq!(code, 0, "{out}\n{err}");
    // The wallet scans the same QR again; and the same answer is replayed by hand.
    let (code, out, err) = f.wallet.login_request(&p.request.text, &p.request.code);
    assert_ne!(code, 0, "a second presentation was accepted:\n{out}");
    assert!(err.contains("login_used"), "{err}");
    let r = post_response(
        &p.request,
        &p.response(str_of(&f.credential, "payload"), &f.wallet.holder_key()),
    );
    problem(&r, 409, "login_used", "replayed presentation");
    // The first acceptance stands.
    let done = p.status(&f.s);
    assert_eq!(done["status"], "complete", "{done}");
    // And the code comes once: the next poll does not mint another.
    let again = p.status(&f.s);
    let first = query_param(str_of(&done, "redirect_to"), "code");
    let second = again["redirect_to"]
        .as_str()
        .and_then(|u| query_param(u, "code"));
    assert!(
        second.is_none() || second == first,
        "a second code for one login: {done} then {again}"
    );
}

#[test]
fn five_refused_responses_fail_the_transaction() {
    let (f, rp) = Fixture::new(Backend::Sqlite, one_rp);
    let p = start_login(&f, &rp);
    let payload = str_of(&f.credential, "payload");
    for i in 1..=5 {
        let r = post_response(&p.request, &p.response(payload, &random_key()));
        let j = r.json();
        if i < 5 {
            problem(&r, 422, "holder_signature_invalid", &format!("refusal {i}"));
        } else {
            assert!(
                j["type"] == "urn:qrid:problem:holder_signature_invalid"
                    || j["type"] == "urn:qrid:problem:login_failed",
                "refusal 5: {j}"
            );
        }
    }
    // Now even the right answer is too late.
    let (code, out, err) = f.wallet.login_request(&p.request.text, &p.request.code);
    assert_ne!(code, 0, "a failed transaction accepted a response:\n{out}");
    assert!(err.contains("login_failed"), "{err}");
    let r = post_response(&p.request, &p.response(payload, &f.wallet.holder_key()));
    problem(&r, 409, "login_failed", "after five refusals");
    let st = p.status(&f.s);
    assert_eq!(st["status"], "failed", "{st}");
    let to = str_of(&st, "redirect_to");
    assert!(to.starts_with(&format!("{}?", rp.redirect_uri)), "{to}");
    assert_eq!(query_param(to, "error").as_deref(), Some("access_denied"));
    assert_eq!(query_param(to, "state").as_deref(), Some(p.state.as_str()));
    assert_eq!(query_param(to, "code"), None);
    // Every refused answer is counted: five wrong signatures, then the wallet's and the
    // direct post's answers to a failed transaction.
    let metrics = get(&browser(), &format!("{}/metrics", f.s.url)).body;
    for line in ["qrid_wallet_refusals_total 7", "qrid_wallet_logins_total 0"] {
        assert!(metrics.lines().any(|l| l == line), "{line}: {metrics}");
    }
}

/// A portal disabled while its login waits for the wallet gets no answer: the wallet's
/// response is refused with `client_disabled`, and once it is enabled again a fresh login works.
#[test]
fn a_portal_disabled_during_a_login_gets_no_answer() {
    let (f, rp) = Fixture::new(Backend::Sqlite, one_rp);
    let p = start_login(&f, &rp);
    let admin = |verb: &str| {
        let (code, _, err) = qrid_e2e::parts(&qrid_e2e::qrid(
            &["client", verb, &rp.id, "--database-url", &f.w.db.url()],
            None,
        ));
        assert_eq!(code, 0, "client {verb}: {err}");
    };
    admin("disable");
    let payload = str_of(&f.credential, "payload");
    let r = post_response(&p.request, &p.response(payload, &f.wallet.holder_key()));
    problem(&r, 403, "client_disabled", "answer to a disabled portal");
    admin("enable");
    let p = start_login(&f, &rp);
    assert!(!complete(&f, &p).is_empty());
}

/// A completed login: the code, from the browser's poll.
fn complete(f: &Fixture, p: &Pending) -> String {
    let (code, out, err) = f.wallet.login_request(&p.request.text, &p.request.code);
    assert_eq!(code, 0, "{out}\n{err}");
    let done = p.status(&f.s);
    assert_eq!(done["status"], "complete", "{done}");
    let to = str_of(&done, "redirect_to");
    assert_eq!(query_param(to, "state").as_deref(), Some(p.state.as_str()));
    query_param(to, "code").unwrap_or_else(|| panic!("no code in {to}"))
}

fn userinfo(s: &Service, access_token: &str) -> Got {
    Got::of(
        rp_http()
            .get(format!("{}/userinfo", s.url))
            .header(AUTHORIZATION, format!("Bearer {access_token}"))
            .send()
            .expect("GET /userinfo"),
    )
}

#[test]
fn a_code_is_single_use_and_its_replay_revokes_the_tokens() {
    let (f, rp) = Fixture::new(Backend::Sqlite, one_rp);
    let p = start_login(&f, &rp);
    let code = complete(&f, &p);
    let first = exchange_basic(&f.s, &rp, &code, &p.verifier);
    assert_eq!(first.status, 200, "{}", first.body);
    let tokens = first.json();
    assert_eq!(tokens["token_type"], "Bearer", "{tokens}");
    let access = str_of(&tokens, "access_token").to_owned();
    let info = userinfo(&f.s, &access);
    assert_eq!(info.status, 200, "{}", info.body);
    assert_eq!(info.json()["name"], NAME);

    let second = exchange_basic(&f.s, &rp, &code, &p.verifier);
    assert_oauth_error(&second, 400, "invalid_grant", "the code a second time");
    let info = userinfo(&f.s, &access);
    assert_eq!(
        info.status, 401,
        "the access token of a replayed code still works: {}",
        info.body
    );
    assert!(
        info.header("www-authenticate")
            .is_some_and(|v| v.starts_with("Bearer")),
        "{:?}",
        info.headers
    );
}

/// A revocation reaches the sessions the credential opened: its access tokens stop working at
/// /userinfo, and a login answered just before it yields no tokens.
fn revocation_ends_sessions(backend: Backend) {
    let (f, rp) = Fixture::new(backend, one_rp);
    let p = start_login(&f, &rp);
    let code = complete(&f, &p);
    let tokens = exchange_basic(&f.s, &rp, &code, &p.verifier);
    assert_eq!(tokens.status, 200, "{}", tokens.body);
    let access = str_of(&tokens.json(), "access_token").to_owned();
    assert_eq!(userinfo(&f.s, &access).status, 200);
    // A second login, answered but not yet redeemed.
    let pending = start_login(&f, &rp);
    let unredeemed = complete(&f, &pending);

    let id = str_of(&f.credential, "id");
    let r = http(
        "POST",
        &format!("{}/v1/credentials/{id}/suspend", f.s.url),
        Auth::Bearer(&f.officer),
        Body::Json(r#"{"reason":"phone lost"}"#),
    );
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let info = userinfo(&f.s, &access);
    assert_eq!(
        info.status, 401,
        "a suspended credential's token still works: {}",
        info.body
    );
    let late = exchange_basic(&f.s, &rp, &unredeemed, &pending.verifier);
    assert_oauth_error(
        &late,
        400,
        "invalid_grant",
        "a code of a suspended credential",
    );
}

#[test]
fn revocation_ends_the_sessions_of_the_credential_on_sqlite() {
    revocation_ends_sessions(Backend::Sqlite);
}

#[test]
fn revocation_ends_the_sessions_of_the_credential_on_postgres() {
    revocation_ends_sessions(Backend::Postgres);
}

#[test]
fn a_wrong_pkce_verifier_is_invalid_grant() {
    let (f, rp) = Fixture::new(Backend::Sqlite, one_rp);
    let p = start_login(&f, &rp);
    let code = complete(&f, &p);
    let (other_verifier, _) = pkce_pair();
    let r = exchange_basic(&f.s, &rp, &code, &other_verifier);
    assert_oauth_error(&r, 400, "invalid_grant", "a wrong code_verifier");
    // No verifier at all is no better (a new login: the code above may be spent).
    let p = start_login(&f, &rp);
    let code = complete(&f, &p);
    let r = raw_token(
        &format!("{}/token", f.s.url),
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", &rp.redirect_uri),
        ],
        Some((&rp.id, &rp.secret)),
    );
    assert!(r.status == 400, "no code_verifier: {} {}", r.status, r.body);
    let e = r.json();
    assert!(
        e["error"] == "invalid_grant" || e["error"] == "invalid_request",
        "no code_verifier: {e}"
    );
    // A wrong client secret is invalid_client (401).
    let r = exchange_basic(
        &f.s,
        &Rp {
            secret: "not the secret".into(),
            name: rp.name.clone(),
            id: rp.id.clone(),
            redirect_uri: rp.redirect_uri.clone(),
            alg: rp.alg.clone(),
            auth: rp.auth,
            key: None,
        },
        &code,
        &p.verifier,
    );
    assert_oauth_error(&r, 401, "invalid_client", "a wrong client secret");
}

#[test]
fn authorize_refuses_what_the_client_did_not_register() {
    let (f, rp) = Fixture::new(Backend::Sqlite, one_rp);
    let (_, challenge) = pkce_pair();
    let state = random_token(16);
    let a = Authorize {
        base: &f.s.url,
        client_id: &rp.id,
        redirect_uri: &rp.redirect_uri,
        scope: "openid profile",
        state: &state,
        nonce: "n",
        code_challenge: &challenge,
    };
    // The redirect URI one character off, and an unknown client: a 400 page, no redirect.
    let mut off = rp.redirect_uri.clone();
    off.pop();
    off.push('x');
    for (what, url) in [
        (
            "redirect_uri one character off",
            a.url_with(&[("redirect_uri", &off)]),
        ),
        (
            "redirect_uri with a trailing slash",
            a.url_with(&[("redirect_uri", &format!("{}/", rp.redirect_uri))]),
        ),
        (
            "unknown client",
            a.url_with(&[("client_id", "no-such-client")]),
        ),
        ("no redirect_uri", a.url_with(&[("redirect_uri", "")])),
        ("a repeated parameter", format!("{}&state=again", a.url())),
    ] {
        let r = get(&browser(), &url);
        assert_eq!(r.status, 400, "{what}: {} {}", r.status, r.body);
        assert!(
            r.header("location").is_none(),
            "{what}: redirected to {:?}",
            r.header("location")
        );
        assert!(
            r.headers.get(LOCATION).is_none() && !r.body.contains("code="),
            "{what}"
        );
        assert!(
            r.headers.get("set-cookie").is_none(),
            "{what}: a login transaction was opened"
        );
    }
    // Anything else: back to the (trusted) redirect URI with an error and the state.
    for (what, url, error) in [
        (
            "no PKCE",
            a.url_with(&[("code_challenge", ""), ("code_challenge_method", "")]),
            "invalid_request",
        ),
        (
            "plain PKCE",
            a.url_with(&[("code_challenge_method", "plain")]),
            "invalid_request",
        ),
        (
            "implicit flow",
            a.url_with(&[("response_type", "token")]),
            "unsupported_response_type",
        ),
        (
            "scope not registered",
            a.url_with(&[("scope", "openid national_id")]),
            "invalid_scope",
        ),
    ] {
        let r = get(&browser(), &url);
        assert!(
            (300..400).contains(&r.status),
            "{what}: {} {}",
            r.status,
            r.body
        );
        let to = r
            .header("location")
            .unwrap_or_else(|| panic!("{what}: no Location"));
        assert!(
            to.starts_with(&format!("{}?", rp.redirect_uri)),
            "{what}: {to}"
        );
        assert_eq!(
            query_param(&to, "error").as_deref(),
            Some(error),
            "{what}: {to}"
        );
        assert_eq!(
            query_param(&to, "state").as_deref(),
            Some(state.as_str()),
            "{what}: {to}"
        );
        assert!(query_param(&to, "code").is_none(), "{what}: {to}");
    }
    // No openid scope: an error redirect too.
    let r = get(&browser(), &a.url_with(&[("scope", "profile")]));
    let to = r.header("location").unwrap_or_default();
    assert!(
        (300..400).contains(&r.status) && query_param(&to, "error").is_some(),
        "no openid scope: {} {to} {}",
        r.status,
        r.body
    );
}

/// Each `/authorize` stores a login transaction: how many may wait for a wallet is bounded
/// per client and in total, and a call past a bound stores nothing and sends the browser back
/// to the portal with `temporarily_unavailable`.
fn pending_logins_are_bounded(backend: Backend) {
    let w = World::new(backend);
    let spec = |name, path| RpSpec {
        name,
        path,
        alg: None,
        sector: None,
        auth: ClientAuth::Basic,
        scopes: &["openid"],
    };
    let a = register(&w, &spec("Portal A", "a"));
    let b = register(&w, &spec("Portal B", "b"));
    let s = w.start_with(&[
        ("QRID_MAX_PENDING_LOGINS_PER_CLIENT", "3"),
        ("QRID_MAX_PENDING_LOGINS", "5"),
    ]);
    let (_, challenge) = pkce_pair();
    let url = |rp: &Rp| {
        Authorize {
            base: &s.url,
            client_id: &rp.id,
            redirect_uri: &rp.redirect_uri,
            scope: "openid",
            state: "st-1",
            nonce: "n",
            code_challenge: &challenge,
        }
        .url()
    };
    let refused = |rp: &Rp| {
        let r = get(&browser(), &url(rp));
        assert_eq!(r.status, 303, "{}", r.body);
        let to = r.header("location").expect("a redirect");
        assert!(to.starts_with(&rp.redirect_uri), "{to}");
        assert_eq!(
            query_param(&to, "error").as_deref(),
            Some("temporarily_unavailable"),
            "{to}"
        );
        assert_eq!(query_param(&to, "state").as_deref(), Some("st-1"));
    };
    for _ in 0..3 {
        open_login_page(&browser(), &url(&a));
    }
    refused(&a);
    // Another portal is not held up by the first one's bound, up to the total.
    for _ in 0..2 {
        open_login_page(&browser(), &url(&b));
    }
    refused(&b);
    refused(&a);
    let metrics = get(&browser(), &format!("{}/metrics", s.url));
    assert!(
        metrics
            .body
            .lines()
            .any(|l| l == "qrid_pending_logins_refused_total 3"),
        "{}",
        metrics.body
    );
}

#[test]
fn pending_logins_are_bounded_on_sqlite() {
    pending_logins_are_bounded(Backend::Sqlite);
}

#[test]
fn pending_logins_are_bounded_on_postgres() {
    pending_logins_are_bounded(Backend::Postgres);
}

#[test]
fn the_wallet_refuses_a_login_request_that_does_not_verify() {
    let (f, rp) = Fixture::new(Backend::Sqlite, one_rp);
    let p = start_login(&f, &rp);
    let genuine = &p.request;
    // 1. One character flipped (in the signature, near the end, so the text still decodes).
    let mut chars: Vec<char> = genuine.text.chars().collect();
    let i = chars.len() - 10;
    chars[i] = if chars[i] == 'A' { 'B' } else { 'A' };
    let flipped: String = chars.into_iter().collect();
    // 2. The same request signed by another key.
    let forged = genuine.resigned_by(&random_key());
    // 3. The issuer's key (the public development key) but expired, and with the wrong typ.
    let key = dev_issuer_key();
    let t = now();
    let expired = genuine.with_fields(
        &[
            ("iat", ciborium::Value::Integer((t - 600).into())),
            ("exp", ciborium::Value::Integer((t - 300).into())),
        ],
        key.signing_key(),
    );
    let wrong_typ = qrid_e2e::login::sign_request(
        &qrid_e2e::login::protected_header(
            genuine
                .message
                .kid()
                .expect("a login request names its key"),
            Some("application/cwt"),
        ),
        genuine.payload(),
        key.signing_key(),
    );
    // Sanity: the untouched request re-signed with the issuer key still verifies.
    let resigned = genuine.resigned_by(key.signing_key());
    let jwks = std::fs::read(&f.trust).expect("trust list");
    LoginRequest::parse(&resigned)
        .and_then(|r| r.verify(&jwks))
        .expect("the re-signed request verifies");
    for (what, text) in [
        ("one character flipped", flipped),
        ("signed by another key", forged),
        ("expired", expired),
        ("typ is not qrid-login", wrong_typ),
    ] {
        let (code, out, err) = f.wallet.login_request(&text, &genuine.code);
        assert_ne!(code, 0, "{what}: the wallet accepted it:\n{out}\n{err}");
        if what == "expired" {
            assert!(err.contains("expired"), "{what}: {err}");
        } else {
            assert!(err.contains("login_request_invalid"), "{what}: {err}");
        }
        assert!(!err.contains("panicked"), "{what}: {err}");
    }
    // The wallet sent nothing: the transaction is still open for the genuine request.
    assert_eq!(p.status(&f.s)["status"], "pending");
    let (code, out, err) = f.wallet.login_request(&genuine.text, &genuine.code);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        out.contains(&rp.name) || err.contains(&rp.name),
        "the wallet shows who asks: {out}\n{err}"
    );
    assert_eq!(p.status(&f.s)["status"], "complete");
}
