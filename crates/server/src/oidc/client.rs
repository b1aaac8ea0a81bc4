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
            if uri.len() > MAX_URI {
                return Err(format!(
                    "a redirect URI is longer than {MAX_URI} characters"
                ));
            }
            if host_of(uri).is_none() {
                return Err("a redirect URI must be an absolute http(s) URL with a host".into());
            }
            if uri.starts_with("http://")
                && !matches!(host_of(uri), Some("127.0.0.1" | "localhost" | "[::1]"))
            {
                return Err("a redirect URI must be https (plain http only on the loopback host, for development)".into());
            }
            if uri.contains('#') {
                return Err("a redirect URI must not have a fragment".into());
            }
            if uri.chars().any(|c| c.is_whitespace() || c.is_control()) {
                return Err("a redirect URI must not contain spaces or control characters".into());
            }
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
        self.sector.clone().or_else(|| {
            self.redirect_uris
                .first()
                .and_then(|u| host_of(u))
                .map(str::to_owned)
        })
    }
}

/// The host of an absolute http(s) URL, without port or user info.
pub fn host_of(uri: &str) -> Option<&str> {
    let rest = uri
        .strip_prefix("https://")
        .or_else(|| uri.strip_prefix("http://"))?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let authority = authority.rsplit('@').next()?;
    let host = if authority.starts_with('[') {
        authority.split_inclusive(']').next()?
    } else {
        authority.split(':').next()?
    };
    (!host.is_empty()).then_some(host)
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
        ] {
            let mut c = ok.clone();
            c.redirect_uris = vec![bad.into()];
            assert!(c.validate().is_err(), "{bad}");
        }
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

    #[test]
    fn hosts() {
        assert_eq!(host_of("https://a.example:8443/x?y"), Some("a.example"));
        assert_eq!(host_of("http://127.0.0.1:9/cb"), Some("127.0.0.1"));
        assert_eq!(host_of("http://u@h/cb"), Some("h"));
        assert_eq!(host_of("http://[::1]:80/"), Some("[::1]"));
        assert_eq!(host_of("mailto:x"), None);
    }
}
