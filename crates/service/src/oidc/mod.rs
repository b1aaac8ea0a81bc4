//! The OpenID provider's domain: the relying parties' registrations, the ID token keys, and
//! the rules of the login protocol (docs/login.md, docs/portal-guide.md): the authorization
//! request and its login transaction ([`authorize`]), the wallet's answer ([`login`]), the
//! token request with client authentication ([`token`]) and the release of claims
//! ([`userinfo`]).
//!
//! Every secret the flow hands out (browser secret, code, access token) is 256 random bits and
//! stored only as its SHA-256, so a database dump logs nobody in.
//!
//! Refusals of the wallet's side are [`ServiceError::Login`] ([`LoginRefusal`]); the OAuth
//! errors the portal is told of (a redirect from `/authorize`, RFC 6749 JSON from `/token`, a
//! bearer error from `/userinfo`) are typed outcomes of their own ([`Authorization`],
//! [`TokenError`], [`UserinfoError`]) that a front door renders, with the codes of
//! [`OAuthErrorCode`].

pub mod authorize;
pub mod client;
pub mod keys;
pub mod login;
pub mod oauth;
pub mod token;
pub mod userinfo;

pub use authorize::{Authorization, LoginPage, LoginState};
pub use login::{check_tx_id, decode_holder_signature, LoginAccepted, LoginAnswer, LoginRefusal};
pub use oauth::{OAuthError, OAuthErrorCode};
pub use token::{Granted, TokenError, TokenRequest, Tokens, MAX_ASSERTION_LIFETIME};
pub use userinfo::{Address, UserInfo, UserinfoError};

use crate::error::{Result, ServiceError};
use crate::Service;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use base64::Engine;
use client::ClientSettings;
use qrid_store::ClientRecord;
use sha2::{Digest, Sha256};
use std::collections::HashMap;

/// How long the QR page waits for the wallet.
pub const LOGIN_TTL: i64 = 300;
/// How long a code lives.
pub const CODE_TTL: i64 = 60;
/// Access and ID token lifetime.
pub const TOKEN_TTL: i64 = 600;
/// Refused wallet answers before a transaction fails.
pub const MAX_LOGIN_FAILURES: i64 = 5;
/// The ACR and AMR of a login by wallet (docs/login.md).
pub const ACR: &str = "urn:qrid:acr:holder-key";

/// `n` random bytes from the operating system, base64url.
pub(crate) fn random_b64(n: usize) -> String {
    let mut b = vec![0u8; n];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut b);
    B64URL.encode(b)
}

/// What is stored of a secret handed out: its SHA-256, hex.
pub(crate) fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

/// Parameters of a form or query: each at most once (RFC 6749 §3.1). The error is the text
/// for the person or client that sent them.
fn params(raw: &str) -> std::result::Result<HashMap<String, String>, String> {
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(raw).map_err(|_| "malformed parameters".to_owned())?;
    let mut map = HashMap::new();
    for (k, v) in pairs {
        if map.insert(k.clone(), v).is_some() {
            return Err(format!("parameter {k} appears more than once"));
        }
    }
    Ok(map)
}

impl Service {
    /// A registered, enabled client and its parsed settings; `None` for an id that is not one
    /// (malformed, unknown or disabled), so that the callers answer each the same way.
    /// Settings that do not parse are an internal error: registration validated them.
    pub(crate) async fn oidc_client(
        &self,
        client_id: &str,
    ) -> Result<Option<(ClientRecord, ClientSettings)>> {
        if client_id.len() > 64 || !crate::ids::lookup_name_ok(client_id) {
            return Ok(None);
        }
        let Some(c) = self.store.client(client_id).await? else {
            return Ok(None);
        };
        if c.disabled {
            return Ok(None);
        }
        let settings: ClientSettings = serde_json::from_str(&c.settings)
            .map_err(|_| ServiceError::internal("stored client settings do not parse"))?;
        Ok(Some((c, settings)))
    }
}
