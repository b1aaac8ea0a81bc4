//! What a relying party registers: redirect URIs, scopes, ID token algorithm, sector, token
//! endpoint authentication. Stored as JSON in `clients.settings`.

use serde::{Deserialize, Serialize};
use std::str::FromStr;

/// Scopes this provider knows (docs/login.md).
pub const SCOPES: [&str; 4] = ["openid", "profile", "address", "national_id"];
/// Most redirect URIs per client.
pub const MAX_REDIRECT_URIS: usize = 16;
/// Longest redirect URI.
pub const MAX_URI: usize = 512;

/// The ID token signing algorithm a client registered.
#[allow(clippy::upper_case_acronyms)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum IdTokenAlg {
    /// RSASSA-PKCS1-v1_5 with SHA-256: the one every OpenID provider must support.
    #[default]
    RS256,
    /// ECDSA P-256 with SHA-256.
    ES256,
    /// Ed25519.
    EdDSA,
}

impl IdTokenAlg {
    /// The jsonwebtoken algorithm.
    pub fn jwt(self) -> jsonwebtoken::Algorithm {
        match self {
            IdTokenAlg::RS256 => jsonwebtoken::Algorithm::RS256,
            IdTokenAlg::ES256 => jsonwebtoken::Algorithm::ES256,
            IdTokenAlg::EdDSA => jsonwebtoken::Algorithm::EdDSA,
        }
    }
}

impl FromStr for IdTokenAlg {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "RS256" => Ok(IdTokenAlg::RS256),
            "ES256" => Ok(IdTokenAlg::ES256),
            "EdDSA" => Ok(IdTokenAlg::EdDSA),
            _ => Err("ID token algorithm must be RS256, ES256 or EdDSA".into()),
        }
    }
}

/// How a client authenticates at the token endpoint; the registered one is the only one
/// accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum AuthMethod {
    /// HTTP Basic with client id and secret.
    #[default]
    ClientSecretBasic,
    /// Client id and secret in the form body.
    ClientSecretPost,
    /// A JWT signed with a key of the client's registered JWKS (RFC 7523).
    PrivateKeyJwt,
}

impl AuthMethod {
    /// The registration name.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthMethod::ClientSecretBasic => "client_secret_basic",
            AuthMethod::ClientSecretPost => "client_secret_post",
            AuthMethod::PrivateKeyJwt => "private_key_jwt",
        }
    }
}

impl FromStr for AuthMethod {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "client_secret_basic" => Ok(AuthMethod::ClientSecretBasic),
            "client_secret_post" => Ok(AuthMethod::ClientSecretPost),
            "private_key_jwt" => Ok(AuthMethod::PrivateKeyJwt),
            _ => Err("token endpoint auth method must be client_secret_basic, client_secret_post or private_key_jwt".into()),
        }
    }
}

/// A client's OpenID Connect registration. A client registered without redirect URIs (a
/// counter calling `/v1/verify`) cannot log anyone in.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ClientSettings {
    /// Exact-match redirect URIs.
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    /// Scopes the client may ask for.
    #[serde(default = "default_scopes")]
    pub scopes: Vec<String>,
    /// ID token algorithm.
    #[serde(default)]
    pub id_token_signed_response_alg: IdTokenAlg,
    /// Sector for pairwise subjects; the host of the first redirect URI when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sector: Option<String>,
    /// Token endpoint authentication.
    #[serde(default)]
    pub token_endpoint_auth_method: AuthMethod,
    /// Public keys for `private_key_jwt`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks: Option<jsonwebtoken::jwk::JwkSet>,
}

fn default_scopes() -> Vec<String> {
    vec!["openid".into(), "profile".into()]
}

impl ClientSettings {
    /// Checks the registration; the message says what is wrong.
    pub fn validate(&self) -> Result<(), String> {
        if self.redirect_uris.len() > MAX_REDIRECT_URIS {
            return Err(format!("at most {MAX_REDIRECT_URIS} redirect URIs"));
        }
        for uri in &self.redirect_uris {
            check_redirect_uri(uri)?;
        }
        for s in &self.scopes {
            if !SCOPES.contains(&s.as_str()) {
                return Err(format!("unknown scope {s:?}; known: {}", SCOPES.join(" ")));
            }
        }
        if !self.scopes.iter().any(|s| s == "openid") {
            return Err("the scopes must include openid".into());
        }
        if let Some(s) = &self.sector {
            if s.is_empty() || s.len() > 255 {
                return Err("the sector must be 1 to 255 characters".into());
            }
        }
        match (self.token_endpoint_auth_method, &self.jwks) {
            (AuthMethod::PrivateKeyJwt, None) => {
                return Err("private_key_jwt needs the client's JWKS".into())
            }
            (AuthMethod::PrivateKeyJwt, Some(set)) if set.keys.is_empty() => {
                return Err("the client's JWKS has no keys".into())
            }
            (AuthMethod::PrivateKeyJwt, Some(set)) => {
                for k in &set.keys {
                    jsonwebtoken::DecodingKey::from_jwk(k)
                        .map_err(|e| format!("a key of the client's JWKS is unusable: {e}"))?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// The pairwise sector: the registered one, or the host of the first redirect URI.
    pub fn sector(&self) -> Option<String> {
        self.sector
            .clone()
            .or_else(|| self.redirect_uris.first().and_then(|u| host_of(u)))
    }
}

/// Checks one redirect URI as a browser will read it (the WHATWG URL standard, which the
/// `url` crate implements): at most [`MAX_URI`] characters, written exactly as the standard
/// serialises it (so the string compared at `/authorize` is the one a browser navigates to),
/// an `https` URL with a host, or `http` on the loopback host (`127.0.0.1`, `[::1]`,
/// `localhost`); no user info, no fragment, no backslash, space or control character.
///
/// The same rule applies when a portal registers and when `/authorize` uses a registered URI,
/// so one registered before this rule existed is not honoured either.
pub fn check_redirect_uri(uri: &str) -> Result<(), String> {
    if uri.len() > MAX_URI {
        return Err(format!(
            "a redirect URI is longer than {MAX_URI} characters"
        ));
    }
    // Browsers read a backslash as a slash in http(s) URLs, so `http://evil.example\@127.0.0.1`
    // goes to evil.example; and they drop tabs and line breaks. Neither belongs in a URI that
    // has to mean one thing.
    if uri.contains('\\') {
        return Err("a redirect URI must not contain a backslash".into());
    }
    if uri.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("a redirect URI must not contain spaces or control characters".into());
    }
    let parsed = url::Url::parse(uri)
        .map_err(|_| "a redirect URI must be an absolute http(s) URL with a host".to_string())?;
    let loopback = match parsed.host() {
        Some(url::Host::Domain(d)) => d == "localhost",
        Some(url::Host::Ipv4(ip)) => ip == std::net::Ipv4Addr::LOCALHOST,
        Some(url::Host::Ipv6(ip)) => ip == std::net::Ipv6Addr::LOCALHOST,
        None => return Err("a redirect URI must be an absolute http(s) URL with a host".into()),
    };
    match parsed.scheme() {
        "https" => {}
        "http" if loopback => {}
        "http" => return Err(
            "a redirect URI must be https (plain http only on the loopback host, for development)"
                .into(),
        ),
        _ => return Err("a redirect URI must be an absolute http(s) URL with a host".into()),
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err("a redirect URI must not have user info (user@ or user:password@)".into());
    }
    if parsed.fragment().is_some() {
        return Err("a redirect URI must not have a fragment".into());
    }
    if parsed.as_str() != uri {
        return Err(format!(
            "a redirect URI must be written as browsers read it: {}",
            parsed.as_str()
        ));
    }
    Ok(())
}

/// The host of an absolute http(s) URL as the WHATWG URL standard reads it (IPv6 in
/// brackets), without port or user info.
pub fn host_of(uri: &str) -> Option<String> {
    let parsed = url::Url::parse(uri).ok()?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return None;
    }
    parsed.host_str().map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registration_rules() {
        let ok = ClientSettings {
            redirect_uris: vec!["https://portal.example/cb".into()],
            ..ClientSettings {
                scopes: default_scopes(),
                ..Default::default()
            }
        };
        ok.validate().unwrap();
        let mut local = ok.clone();
        local.redirect_uris = vec![
            "http://127.0.0.1:8000/cb".into(),
            "http://localhost/cb".into(),
        ];
        local.validate().unwrap();
        assert_eq!(ok.sector().as_deref(), Some("portal.example"));
        for bad in [
            "portal.example/cb",
            "ftp://x/cb",
            "https:///cb",
            "https://x/cb#frag",
            "https://x/c b",
            "http://portal.example/cb",
            "https://x/cb#",
        ] {
            let mut c = ok.clone();
            c.redirect_uris = vec![bad.into()];
            assert!(c.validate().is_err(), "{bad}");
        }
        let mut local6 = ok.clone();
        local6.redirect_uris = vec!["http://[::1]:8000/cb".into()];
        local6.validate().unwrap();
        let mut c = ok.clone();
        c.scopes = vec!["profile".into()];
        assert!(c.validate().is_err());
        c.scopes = vec!["openid".into(), "email".into()];
        assert!(c.validate().is_err());
        let mut c = ok.clone();
        c.token_endpoint_auth_method = AuthMethod::PrivateKeyJwt;
        assert!(c.validate().is_err());
        // Stored settings from before OpenID Connect ("{}") still parse.
        let legacy: ClientSettings = serde_json::from_str("{}").unwrap();
        assert!(legacy.redirect_uris.is_empty());
    }

    /// Each of these reaches a host other than the one it seems to name, or means different
    /// things to different parsers: a browser sends the code to evil.example for the first
    /// ones (WHATWG reads `\\` as `/`, and user info is not the host).
    #[test]
    fn redirect_uris_are_read_as_browsers_read_them() {
        for bad in [
            "http://evil.example\\@127.0.0.1/cb",
            "http://evil.example\\@localhost/cb",
            "https://evil.example\\@portal.example/cb",
            "http://127.0.0.1\\.evil.example/cb",
            "http://user@127.0.0.1/cb",
            "https://user:pw@portal.example/cb",
            "http://evil.example@127.0.0.1/cb",
            "https://portal.example/cb\\x",
            "http://127.0.0.2/cb",
            "http://0x7f.0.0.1/cb",
            "http://127.1/cb",
            "HTTPS://portal.example/cb",
            "https://Portal.Example/cb",
            "https://portal.example",
            "https://portal.example:443/cb",
            "https://portal.example/a/../cb",
            "https://portal.example/c\tb",
            "javascript://portal.example/cb",
        ] {
            assert!(check_redirect_uri(bad).is_err(), "{bad}");
        }
        for good in [
            "https://portal.example/cb",
            "https://portal.example:8443/cb?x=1",
            "http://127.0.0.1:9/cb",
            "http://localhost:9/cb?portal=thue",
            "http://[::1]/cb",
            "https://dichvucong.gov.vn/cb",
        ] {
            assert_eq!(check_redirect_uri(good), Ok(()), "{good}");
        }
        // Not written as a browser would: the message says how.
        let e = check_redirect_uri("https://Portal.example/cb").unwrap_err();
        assert!(e.contains("https://portal.example/cb"), "{e}");
    }

    #[test]
    fn hosts() {
        let host = |u| host_of(u);
        assert_eq!(
            host("https://a.example:8443/x?y").as_deref(),
            Some("a.example")
        );
        assert_eq!(host("http://127.0.0.1:9/cb").as_deref(), Some("127.0.0.1"));
        assert_eq!(host("http://u@h/cb").as_deref(), Some("h"));
        assert_eq!(host("http://[::1]:80/").as_deref(), Some("[::1]"));
        // As a browser reads it: the backslash ends the authority.
        assert_eq!(
            host("http://evil.example\\@127.0.0.1/cb").as_deref(),
            Some("evil.example")
        );
        assert_eq!(host("mailto:x"), None);
    }
}

/// A relying party just registered: its id, and the secret to show once (none for a client
/// that proves itself with its key).
pub struct Registered {
    /// `c_` and 16 hex digits, random.
    pub client_id: String,
    /// The client secret in the clear: shown once, stored only as its digest.
    pub secret: Option<zeroize::Zeroizing<String>>,
}

/// Why [`register`] stored nothing.
#[derive(Debug, thiserror::Error)]
pub enum RegisterError {
    /// The name is empty or longer than 200 characters.
    #[error("name must be 1 to 200 characters")]
    Name,
    /// The settings break a registration rule ([`ClientSettings::validate`]).
    #[error("{0}")]
    Settings(String),
    /// The store refused the write.
    #[error(transparent)]
    Store(#[from] qrid_store::StoreError),
}

/// Registers a relying party under a new random id. A client secret is generated unless the
/// client authenticates with `private_key_jwt`: then a secret would only be a second, weaker
/// credential, and none is made.
pub async fn register(
    store: &qrid_store::Store,
    clock: &dyn crate::Clock,
    name: &str,
    settings: &ClientSettings,
    actor: &str,
) -> Result<Registered, RegisterError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(RegisterError::Name);
    }
    settings.validate().map_err(RegisterError::Settings)?;
    let json =
        serde_json::to_string(settings).map_err(|e| RegisterError::Settings(e.to_string()))?;
    let mut id = [0u8; 8];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut id);
    let client_id = format!("c_{}", hex::encode(id));
    let (secret, digest) = crate::passwords::new_client_secret();
    store
        .create_client(&client_id, name, &digest, &json, actor, clock.now())
        .await?;
    let secret =
        (settings.token_endpoint_auth_method != AuthMethod::PrivateKeyJwt).then_some(secret);
    Ok(Registered { client_id, secret })
}
