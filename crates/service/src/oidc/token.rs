//! The token request (RFC 6749 §4.1.3, OpenID Connect Core §3.1.3): client authentication
//! (client secrets and `private_key_jwt` assertions, RFC 7523) and the exchange of a code and
//! its PKCE verifier (RFC 7636) for an ID token and an access token.

use super::client::{AuthMethod, ClientSettings};
use super::oauth::{OAuthError, OAuthErrorCode};
use super::{params, random_b64, sha256_hex, ACR, TOKEN_TTL};
use crate::error::ServiceError;
use crate::passwords::{constant_time_eq, secret_digest};
use crate::Service;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD as B64URL};
use base64::Engine;
use qrid_store::{LoginTx, Redemption, StoreError};
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::HashMap;

const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// Furthest ahead a client assertion's `exp` may lie (plus the tolerated clock skew): an hour,
/// what authlib's `private_key_jwt` sets by default (other libraries set less). Its `jti` is
/// kept, and refused again, until the assertion can no longer be accepted.
pub const MAX_ASSERTION_LIFETIME: i64 = 3600;

/// A token request as the client sent it.
#[derive(Debug, Clone, Copy)]
pub struct TokenRequest<'a> {
    /// The form body (`application/x-www-form-urlencoded`), as text.
    pub form: &'a str,
    /// The credentials of HTTP Basic authentication, if the client used it: the base64 text
    /// after `Basic `.
    pub basic: Option<&'a str>,
}

/// The tokens of a redeemed code.
#[derive(Debug, Clone)]
pub struct Tokens {
    /// The access token for `/userinfo` (256 random bits; stored only as its SHA-256).
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds both tokens live ([`TOKEN_TTL`]).
    pub expires_in: i64,
    /// The signed ID token, in the client's registered algorithm, with its pairwise `sub`.
    pub id_token: String,
    /// The granted scopes, space-separated.
    pub scope: String,
}

/// Why a token request was not answered with tokens.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// Refused with an OAuth error (RFC 6749 §5.2): `invalid_client` for client
    /// authentication, else `invalid_request`, `unsupported_grant_type` or `invalid_grant`.
    #[error("{error}")]
    Refused {
        /// The error and its description.
        error: OAuthError,
        /// The client used HTTP Basic, or sent no authentication: the answer challenges it
        /// with Basic (RFC 6749 §5.2).
        basic_challenge: bool,
        /// A client was named and its credentials refused (not merely a malformed request):
        /// what a host counts for monitoring.
        client_refused: bool,
    },
    /// The service could not answer (the database, an ID token that could not be signed).
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl TokenError {
    pub(crate) fn oauth(code: OAuthErrorCode, description: impl Into<String>) -> TokenError {
        TokenError::Refused {
            error: OAuthError::new(code, description),
            basic_challenge: false,
            client_refused: false,
        }
    }
    pub(crate) fn grant(description: &str) -> TokenError {
        TokenError::oauth(OAuthErrorCode::InvalidGrant, description)
    }
    fn client(description: impl Into<String>, basic: bool) -> TokenError {
        TokenError::Refused {
            error: OAuthError::new(OAuthErrorCode::InvalidClient, description),
            basic_challenge: basic,
            client_refused: false,
        }
    }
}

impl From<StoreError> for TokenError {
    fn from(e: StoreError) -> Self {
        TokenError::Service(e.into())
    }
}

#[derive(Serialize)]
struct IdTokenClaims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    iat: i64,
    exp: i64,
    auth_time: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    nonce: Option<&'a str>,
    acr: &'static str,
    amr: [&'static str; 2],
}

fn percent_decode(s: &str) -> Option<String> {
    // RFC 6749 §2.3.1: id and secret are form-urlencoded before Basic encoding.
    serde_urlencoded::from_str::<Vec<(String, String)>>(&format!("x={s}"))
        .ok()
        .and_then(|v| v.into_iter().next())
        .map(|(_, v)| v)
}

/// What a token request was answered with, by grant type.
#[derive(Debug)]
pub enum Granted {
    /// `authorization_code`: a portal's login ([`Service::oidc_token`]).
    Login(Tokens),
    /// The pre-authorized code of a credential offer: a wallet's access token for the
    /// credential endpoint ([`crate::vci`]).
    Offer(crate::vci::OfferToken),
}

impl Service {
    /// The token endpoint: a wallet's pre-authorized code (anonymous, OpenID4VCI §6) or a
    /// portal's authorization code ([`Service::oidc_token`]), by `grant_type`.
    pub async fn token(&self, req: TokenRequest<'_>) -> Result<Granted, TokenError> {
        let p =
            params(req.form).map_err(|e| TokenError::oauth(OAuthErrorCode::InvalidRequest, e))?;
        if p.get("grant_type").map(String::as_str) == Some(crate::vci::PRE_AUTHORIZED_GRANT) {
            return self.vci_token(&p).await.map(Granted::Offer);
        }
        self.oidc_token(req).await.map(Granted::Login)
    }

    /// Redeems an authorization code. The client authenticates by exactly one method, the one
    /// it registered (else `invalid_request` or `invalid_client`); the grant must be
    /// `authorization_code` (`unsupported_grant_type`); the code must be known, unexpired,
    /// unused, the client's, presented with the `redirect_uri` of its request and a PKCE
    /// verifier matching its S256 challenge (else `invalid_grant`). A code presented a second
    /// time revokes the tokens issued with it. Issues an access token and an ID token (with
    /// the client's pairwise `sub`, the `nonce` of the request, [`ACR`]), both for
    /// [`TOKEN_TTL`] seconds.
    pub async fn oidc_token(&self, req: TokenRequest<'_>) -> Result<Tokens, TokenError> {
        let p =
            params(req.form).map_err(|e| TokenError::oauth(OAuthErrorCode::InvalidRequest, e))?;
        let get = |k: &str| p.get(k).map(String::as_str);
        let (client_id, settings) = self.authenticate_oidc_client(req.basic, &p).await?;
        if get("grant_type") != Some("authorization_code") {
            return Err(TokenError::oauth(
                OAuthErrorCode::UnsupportedGrantType,
                "only authorization_code is supported",
            ));
        }
        let code = get("code")
            .ok_or_else(|| TokenError::oauth(OAuthErrorCode::InvalidRequest, "code is required"))?;
        if code.len() > 128 {
            return Err(TokenError::grant("the code is not valid"));
        }
        let code_hash = sha256_hex(code);
        let at = self.now();
        let t = redeemed(self.store.code_login(&code_hash, at).await?, &client_id)?;
        if t.new.client_id != client_id {
            return Err(TokenError::grant("the code was issued to another client"));
        }
        if get("redirect_uri") != Some(t.new.redirect_uri.as_str()) {
            return Err(TokenError::grant(
                "redirect_uri differs from the one of the authorization request",
            ));
        }
        let verifier = get("code_verifier")
            .ok_or_else(|| TokenError::grant("code_verifier is required (PKCE)"))?;
        if !(43..=128).contains(&verifier.len())
            || !verifier
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
        {
            return Err(TokenError::grant(
                "code_verifier must be 43 to 128 unreserved characters",
            ));
        }
        let computed = B64URL.encode(Sha256::digest(verifier.as_bytes()));
        if !constant_time_eq(computed.as_bytes(), t.new.code_challenge.as_bytes()) {
            return Err(TokenError::grant(
                "code_verifier does not match the code_challenge",
            ));
        }
        let access_token = random_b64(32);
        let t = redeemed(
            self.store
                .redeem_code(&code_hash, &sha256_hex(&access_token), at + TOKEN_TTL, at)
                .await?,
            &client_id,
        )?;
        let citizen_id = t
            .citizen_id
            .as_deref()
            .ok_or_else(|| ServiceError::internal("redeemed login without citizen"))?;
        let sector = settings.sector().unwrap_or_else(|| client_id.clone());
        let sub = self.oidc.pairwise_sub(&sector, citizen_id);
        let claims = IdTokenClaims {
            iss: &self.config.public_url,
            sub: &sub,
            aud: &client_id,
            iat: at,
            exp: at + TOKEN_TTL,
            auth_time: t.auth_time.unwrap_or(at),
            nonce: t.new.nonce.as_deref(),
            acr: ACR,
            amr: ["pop", "swk"],
        };
        let id_token = self
            .oidc
            .sign(settings.id_token_signed_response_alg, &claims)
            .map_err(ServiceError::internal)?;
        tracing::info!(event = "token", client_id = %client_id, "tokens issued");
        let LoginTx { new, .. } = *t;
        Ok(Tokens {
            access_token,
            token_type: "Bearer",
            expires_in: TOKEN_TTL,
            id_token,
            scope: new.scope,
        })
    }

    /// Redeems a code issued to the service's own client (the citizen's page,
    /// [`crate::me::ME_CLIENT_ID`]) inside the service, as `/token` would for a portal: the
    /// code must be known, unused, unexpired, the page's, for `redirect_uri`, and match the
    /// PKCE `verifier`. The citizen it logged in; any refusal is one
    /// [`ServiceError::Unauthorized`], so that the page says only "start again".
    pub(crate) async fn redeem_own_code(
        &self,
        code: &str,
        redirect_uri: &str,
        verifier: &str,
    ) -> crate::error::Result<String> {
        let refused = || ServiceError::Unauthorized("the sign-in could not be completed");
        if code.len() > 128 || verifier.len() > 128 {
            return Err(refused());
        }
        let code_hash = sha256_hex(code);
        let at = self.now();
        let Redemption::Redeemed(t) = self.store.code_login(&code_hash, at).await? else {
            return Err(refused());
        };
        if t.new.client_id != crate::me::ME_CLIENT_ID || t.new.redirect_uri != redirect_uri {
            return Err(refused());
        }
        let computed = B64URL.encode(Sha256::digest(verifier.as_bytes()));
        if !constant_time_eq(computed.as_bytes(), t.new.code_challenge.as_bytes()) {
            return Err(refused());
        }
        let access = random_b64(32);
        let Redemption::Redeemed(t) = self
            .store
            .redeem_code(&code_hash, &sha256_hex(&access), at + TOKEN_TTL, at)
            .await?
        else {
            return Err(refused());
        };
        t.citizen_id
            .clone()
            .ok_or_else(|| ServiceError::internal("redeemed login without citizen"))
    }

    /// Authenticates the client of a token request by exactly one method, which must be the
    /// one it registered: its id and settings.
    async fn authenticate_oidc_client(
        &self,
        basic: Option<&str>,
        p: &HashMap<String, String>,
    ) -> Result<(String, ClientSettings), TokenError> {
        let post = p.get("client_secret");
        let assertion = p.get("client_assertion");
        let used = [basic.is_some(), post.is_some(), assertion.is_some()]
            .iter()
            .filter(|b| **b)
            .count();
        if used > 1 {
            return Err(TokenError::oauth(
                OAuthErrorCode::InvalidRequest,
                "use exactly one client authentication method",
            ));
        }
        let (method, client_id, secret) = if let Some(b64) = basic {
            let malformed = || TokenError::client("malformed Basic credentials", true);
            let text = STANDARD
                .decode(b64.trim())
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(malformed)?;
            let (id, secret) = text.split_once(':').ok_or_else(malformed)?;
            let id = percent_decode(id).ok_or_else(malformed)?;
            let secret = percent_decode(secret).ok_or_else(malformed)?;
            (AuthMethod::ClientSecretBasic, id, Some(secret))
        } else if let Some(secret) = post {
            let id = p
                .get("client_id")
                .cloned()
                .ok_or_else(|| TokenError::client("client_id is required", false))?;
            (AuthMethod::ClientSecretPost, id, Some(secret.clone()))
        } else if let Some(jwt) = assertion {
            if p.get("client_assertion_type").map(String::as_str) != Some(ASSERTION_TYPE) {
                return Err(TokenError::oauth(
                    OAuthErrorCode::InvalidRequest,
                    "client_assertion_type must be jwt-bearer",
                ));
            }
            // Only to learn which client claims to be speaking; the signature is checked below
            // with that client's registered keys before anything else is believed.
            let claims: Value = (jwt.len() <= 8192)
                .then(|| jwt.split('.').nth(1))
                .flatten()
                .and_then(|c| B64URL.decode(c).ok())
                .and_then(|b| serde_json::from_slice(&b).ok())
                .ok_or_else(|| TokenError::client("the client assertion is not a JWT", false))?;
            let id = claims["iss"].as_str().unwrap_or("").to_owned();
            if p.get("client_id").is_some_and(|c| *c != id) {
                return Err(TokenError::client(
                    "client_id differs from the assertion's issuer",
                    false,
                ));
            }
            (AuthMethod::PrivateKeyJwt, id, None)
        } else {
            return Err(TokenError::client(
                "client authentication is required",
                true,
            ));
        };
        // No lockout: client secrets and keys are 256-bit random values nobody can guess by
        // trying, and a lockout keyed by the public client id would let anyone block a portal's
        // logins. Failures are logged and marked for monitoring.
        let fail = |why: &str| {
            tracing::info!(event = "client_auth_failed", client_id = %client_id, "token endpoint client authentication failed");
            TokenError::Refused {
                error: OAuthError::new(OAuthErrorCode::InvalidClient, why),
                basic_challenge: method == AuthMethod::ClientSecretBasic,
                client_refused: true,
            }
        };
        let Some((c, settings)) = self.oidc_client(&client_id).await? else {
            return Err(fail("client authentication failed"));
        };
        if settings.token_endpoint_auth_method != method {
            return Err(fail(
                "this client registered another token endpoint authentication method",
            ));
        }
        match (method, secret) {
            (AuthMethod::PrivateKeyJwt, _) => {
                let jwt = assertion.map(String::as_str).unwrap_or("");
                self.check_assertion(&client_id, &settings, jwt)
                    .await
                    .map_err(&fail)?;
            }
            (_, Some(secret)) => {
                if !constant_time_eq(&secret_digest(&secret), &c.secret_sha256) {
                    return Err(fail("client authentication failed"));
                }
            }
            (_, None) => return Err(fail("client authentication failed")),
        }
        Ok((client_id, settings))
    }

    /// Checks a `private_key_jwt` client assertion: an allowed algorithm, a registered key,
    /// its signature, issuer and subject the client, audience this provider (or its token
    /// endpoint), unexpired on the service's clock and not too far ahead, and a `jti` never
    /// used before (kept until the assertion could no longer be accepted).
    async fn check_assertion(
        &self,
        client_id: &str,
        settings: &ClientSettings,
        jwt: &str,
    ) -> Result<(), &'static str> {
        use jsonwebtoken::Algorithm;
        let header = jsonwebtoken::decode_header(jwt)
            .map_err(|_| "the client assertion header does not parse")?;
        if !matches!(
            header.alg,
            Algorithm::RS256 | Algorithm::PS256 | Algorithm::ES256 | Algorithm::EdDSA
        ) {
            return Err("the client assertion's algorithm is not allowed");
        }
        let set = settings
            .jwks
            .as_ref()
            .ok_or("the client has no registered keys")?;
        let jwk = match &header.kid {
            Some(kid) => set.find(kid),
            None if set.keys.len() == 1 => set.keys.first(),
            None => None,
        }
        .ok_or("no registered key matches the client assertion")?;
        let key = jsonwebtoken::DecodingKey::from_jwk(jwk)
            .map_err(|_| "the registered key is unusable")?;
        let base = &self.config.public_url;
        let mut v = jsonwebtoken::Validation::new(header.alg);
        v.set_issuer(&[client_id]);
        v.sub = Some(client_id.to_owned());
        v.set_audience(&[format!("{base}/token"), base.clone()]);
        v.set_required_spec_claims(&["exp", "iss", "sub", "aud"]);
        let leeway = self.config.clock_skew.clamp(0, 60);
        // Expiry is judged below on the service's clock (assertion_kept_until), not on the
        // decoder's reading of the system's.
        v.validate_exp = false;
        let data = jsonwebtoken::decode::<Value>(jwt, &key, &v)
            .map_err(|_| "the client assertion does not verify")?;
        let exp = data.claims["exp"]
            .as_i64()
            .ok_or("the client assertion's exp is not a number")?;
        let at = self.now();
        let keep_until = assertion_kept_until(exp, at, leeway)?;
        let jti = data.claims["jti"]
            .as_str()
            .filter(|j| !j.is_empty() && j.len() <= 256)
            .ok_or("the client assertion needs a jti")?;
        match self
            .store
            .use_client_assertion(client_id, jti, keep_until, at)
            .await
        {
            Ok(true) => Ok(()),
            Ok(false) => Err("the client assertion was used before"),
            Err(_) => Err("the client assertion could not be recorded"),
        }
    }
}

/// The login behind a code, or the `invalid_grant` that says why there is none.
fn redeemed(r: Redemption, client_id: &str) -> Result<Box<LoginTx>, TokenError> {
    match r {
        Redemption::Redeemed(t) => Ok(t),
        Redemption::Replayed => {
            tracing::warn!(event = "code_replayed", client_id = %client_id, "an authorization code was presented again; its tokens are revoked");
            Err(TokenError::grant(
                "the code has already been used; the tokens issued with it are revoked",
            ))
        }
        Redemption::Unknown => Err(TokenError::grant("the code is unknown or has expired")),
    }
}

/// Until when the `jti` of a client assertion that expires at `exp` must be kept, checked at
/// `now` with `leeway` seconds of tolerated clock skew: the assertion is accepted up to
/// `leeway` after `exp`, so its `jti` is kept that long too (a row dropped at `exp` would let
/// the same assertion in once more). Refuses an `exp` over [`MAX_ASSERTION_LIFETIME`] (+
/// leeway) ahead.
fn assertion_kept_until(exp: i64, now: i64, leeway: i64) -> Result<i64, &'static str> {
    if exp.saturating_add(leeway) < now {
        return Err("the client assertion has expired");
    }
    if exp > now.saturating_add(MAX_ASSERTION_LIFETIME + leeway) {
        return Err("the client assertion must expire within an hour");
    }
    Ok(exp.saturating_add(leeway))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_assertions_live_as_long_as_libraries_make_them_and_their_jti_as_long() {
        let now = 1_800_000_000;
        // authlib's private_key_jwt default: exp an hour after iat, with a client clock a
        // little ahead of ours.
        assert_eq!(assertion_kept_until(now + 3600, now, 60), Ok(now + 3660));
        assert_eq!(assertion_kept_until(now + 3660, now, 60), Ok(now + 3720));
        assert!(assertion_kept_until(now + 3661, now, 60).is_err());
        assert!(assertion_kept_until(now + 3601, now, 0).is_err());
        // The jti outlives exp by the leeway, the time the JWT check still accepts it.
        assert_eq!(assertion_kept_until(now - 30, now, 60), Ok(now + 30));
        assert_eq!(assertion_kept_until(now - 60, now, 60), Ok(now));
        assert!(assertion_kept_until(now - 61, now, 60).is_err());
    }

    #[test]
    fn basic_credentials_are_form_decoded() {
        assert_eq!(percent_decode("a%3Ab+c").as_deref(), Some("a:b c"));
        assert_eq!(percent_decode("plain").as_deref(), Some("plain"));
    }
}
