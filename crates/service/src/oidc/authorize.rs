//! The authorization request (OpenID Connect Core §3.1.2, authorization code flow with PKCE):
//! which requests start a login, the signed login request the wallet scans, the login
//! transaction that waits for its answer, its confirmation code, and what the waiting page
//! learns when it polls.

use super::client::{self, ClientSettings};
use super::login::{check_tx_id, LoginRefusal};
use super::oauth::{with_query, OAuthErrorCode};
use super::{params, random_b64, sha256_hex, CODE_TTL, LOGIN_TTL};
use crate::error::{Result, ServiceError};
use crate::passwords::constant_time_eq;
use crate::Service;
use qrid_credential::LoginRequest;
use qrid_store::{LoginOpened, LoginStatus, NewLoginTx};
use sha2::{Digest, Sha256};
use std::collections::HashMap;

/// Longest query string an authorization request may have.
pub const MAX_QUERY: usize = 4096;
/// Longest `state` and `nonce`.
pub const MAX_PARAM: usize = 512;

/// What an authorization request comes to. Only a service failure (the database, signing) is
/// an error of [`Service::oidc_authorize`]; every refusal is one of these.
pub enum Authorization {
    /// A login transaction was opened: show its page.
    Login(LoginPage),
    /// Refused, and the portal may be told: send the browser to `location`, the client's
    /// registered `redirect_uri` with `error`, `error_description`, `iss` and `state` (RFC 6749
    /// §4.1.2.1, RFC 9207). [`OAuthErrorCode::TemporarilyUnavailable`] is the answer when too
    /// many logins wait for a wallet, and nothing was stored.
    Redirect {
        /// Where to send the browser.
        location: String,
        /// The `error` in it.
        error: OAuthErrorCode,
    },
    /// Refused before the client and its redirect URI were known good: it must not be sent
    /// anywhere, only shown to the person (the text says why, in their words).
    Shown(String),
}

/// The login page of an opened transaction: what it shows and what binds it to the browser.
pub struct LoginPage {
    /// The signed login request (what the QR code holds).
    pub request: String,
    /// The transaction id: 32 hexadecimal digits.
    pub tx: String,
    /// The confirmation code the citizen types into the wallet ([`Service::oidc_confirm_code`]).
    pub code: String,
    /// The portal's registered name.
    pub client_name: String,
    /// The scopes granted, in the order asked, each once.
    pub scopes: Vec<String>,
    /// Seconds the transaction waits for the wallet ([`LOGIN_TTL`]).
    pub ttl: i64,
    /// The browser's secret: only this browser may poll the transaction and take its code.
    /// Only its SHA-256 is stored; the front door hands it to the browser (a cookie).
    pub browser_secret: String,
}

/// Where a login transaction stands, as its waiting page learns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginState {
    /// Waiting for the wallet until `expires_at` (Unix seconds).
    Pending {
        /// When the transaction expires.
        expires_at: i64,
    },
    /// Not completed in time: back to the portal with `access_denied`.
    Expired {
        /// The portal's `redirect_uri` with the error.
        redirect_to: String,
    },
    /// Failed after repeated refused answers: back to the portal with `access_denied`.
    Failed {
        /// The portal's `redirect_uri` with the error.
        redirect_to: String,
    },
    /// Completed. `redirect_to` (the portal's `redirect_uri` with the code, `iss` and `state`)
    /// only for the one poll that took the code; every other poll learns only that it is done.
    Complete {
        /// Where to send the browser, for the poll that took the code.
        redirect_to: Option<String>,
    },
}

impl Service {
    /// Answers an authorization request (its raw query string). Until the client and redirect
    /// URI are known good (a registered, enabled client; a `redirect_uri` it registered, still
    /// a valid one), refusals are [`Authorization::Shown`]: an over-long query, a malformed or
    /// repeated parameter, an unknown client or redirect URI. After, they are
    /// [`Authorization::Redirect`]s: an over-long `state` or `nonce`, a request object, a
    /// `response_type` other than `code`, a `response_mode` other than `query`, `prompt=none`,
    /// no PKCE S256 challenge, a scope not registered or no `openid`, or too many logins
    /// waiting. Otherwise it signs a login request with the issuer's current key, opens the
    /// transaction (stored with the SHA-256 of the browser secret and of the request) and
    /// answers its page.
    pub async fn oidc_authorize(&self, query: &str) -> Result<Authorization> {
        if query.len() > MAX_QUERY {
            return Ok(Authorization::Shown(
                "The login request is too long.".to_owned(),
            ));
        }
        let p = match params(query) {
            Ok(p) => p,
            Err(e) => return Ok(Authorization::Shown(e)),
        };
        let get = |k: &str| p.get(k).map(String::as_str);
        let Some((c, settings)) = self.oidc_client(get("client_id").unwrap_or("")).await? else {
            return Ok(Authorization::Shown(
                "Unknown client: the portal that sent you here is not registered.".to_owned(),
            ));
        };
        // A URI registered before the registration rule was as strict as now is held to it too.
        let Some(redirect_uri) = get("redirect_uri").filter(|r| {
            settings.redirect_uris.iter().any(|u| u == r) && client::check_redirect_uri(r).is_ok()
        }) else {
            return Ok(Authorization::Shown(
                "The redirect URI is not one the portal registered.".to_owned(),
            ));
        };
        let st = get("state");
        let back = |error: OAuthErrorCode, description: &str| {
            let st = st.filter(|s| s.len() <= MAX_PARAM);
            Ok(Authorization::Redirect {
                location: self.error_redirect(redirect_uri, error, description, st),
                error,
            })
        };
        let (challenge, scopes) = match requested(&p, &settings) {
            Ok(r) => r,
            Err((error, description)) => return back(error, description),
        };

        let at = self.now();
        let mut tx_bytes = [0u8; 16];
        let mut ch = [0u8; 32];
        rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut tx_bytes);
        rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut ch);
        let tx = hex::encode(tx_bytes);
        let base = &self.config.public_url;
        let request = LoginRequest {
            tx: tx.clone(),
            challenge: ch,
            audience: base.clone(),
            response_uri: format!("{base}/login/response"),
            client_id: c.client_id.clone(),
            client_name: c.name.clone(),
            scopes: scopes.clone(),
            issued_at: at,
            expires_at: at + LOGIN_TTL,
        };
        let keys = self.keys();
        let text = request
            .sign(keys.current.signing_key(), keys.current.kid())
            .map_err(ServiceError::internal)?;
        let browser_secret = random_b64(32);
        let opened = self
            .store
            .create_login_tx(
                &NewLoginTx {
                    id: tx.clone(),
                    client_id: c.client_id.clone(),
                    redirect_uri: redirect_uri.to_owned(),
                    scope: scopes.join(" "),
                    state: st.map(str::to_owned),
                    nonce: get("nonce").map(str::to_owned),
                    code_challenge: challenge.to_owned(),
                    browser_sha256: sha256_hex(&browser_secret),
                    request_sha256: hex::encode(Sha256::digest(request.to_cbor())),
                    created_at: at,
                    expires_at: at + LOGIN_TTL,
                },
                self.config.pending_logins,
            )
            .await?;
        if opened != LoginOpened::Opened {
            // Too many logins wait for a wallet (this portal's, or all together): the portal
            // hears it the OAuth way (RFC 6749 §4.1.2.1) and nothing is stored.
            tracing::warn!(event = "pending_logins_full", client = %c.client_id, per_client = opened == LoginOpened::ClientAtLimit, "login refused: too many pending");
            return back(
                OAuthErrorCode::TemporarilyUnavailable,
                "too many logins are waiting for a wallet; try again in a minute",
            );
        }
        let code = self.oidc_confirm_code(&tx)?;
        Ok(Authorization::Login(LoginPage {
            request: text,
            tx,
            code,
            client_name: c.name,
            scopes,
            ttl: LOGIN_TTL,
            browser_secret,
        }))
    }

    /// The confirmation code of login transaction `tx`: two digits the login page shows and
    /// the citizen types into the wallet, so that a wallet answers only a login its holder is
    /// looking at (a QR relayed alone, without the page, cannot be answered). Derived, not
    /// stored: HMAC-SHA-256 under the token secret, which every node shares, so any node
    /// checks it.
    pub fn oidc_confirm_code(&self, tx: &str) -> Result<String> {
        use hmac::{Hmac, Mac};
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(self.config.token_secret.expose())
            .map_err(ServiceError::internal)?;
        mac.update(b"qrid-login-code\0");
        mac.update(tx.as_bytes());
        let d = mac.finalize().into_bytes();
        Ok(format!(
            "{:02}",
            u32::from_be_bytes([d[0], d[1], d[2], d[3]]) % 100
        ))
    }

    /// Where login transaction `tx` stands, for the browser holding `browser_secret` (the
    /// secret [`Service::oidc_authorize`] handed out; empty when the browser sent none). The
    /// first poll after the wallet's answer was accepted issues the authorization code (valid
    /// [`CODE_TTL`] seconds, stored as its SHA-256) and is the only one told where to go with
    /// it. Refuses a `tx` that is not 32 hexadecimal digits or not a transaction
    /// ([`ServiceError::NotFound`]) and another browser ([`LoginRefusal::OtherBrowser`]).
    pub async fn oidc_login_status(&self, tx: &str, browser_secret: &str) -> Result<LoginState> {
        check_tx_id(tx)?;
        let t = self
            .store
            .login_tx(tx)
            .await?
            .ok_or(ServiceError::NotFound("login transaction"))?;
        if !constant_time_eq(
            sha256_hex(browser_secret).as_bytes(),
            t.new.browser_sha256.as_bytes(),
        ) {
            return Err(ServiceError::Login(LoginRefusal::OtherBrowser));
        }
        let denied = |why: &str| {
            self.error_redirect(
                &t.new.redirect_uri,
                OAuthErrorCode::AccessDenied,
                why,
                t.new.state.as_deref(),
            )
        };
        let at = self.now();
        Ok(match t.status {
            LoginStatus::Pending if at > t.new.expires_at => LoginState::Expired {
                redirect_to: denied("the login was not completed in time"),
            },
            LoginStatus::Pending => LoginState::Pending {
                expires_at: t.new.expires_at,
            },
            LoginStatus::Failed => LoginState::Failed {
                redirect_to: denied("the wallet's answers were refused"),
            },
            LoginStatus::Complete => LoginState::Complete { redirect_to: None },
            LoginStatus::Authenticated => {
                let code = random_b64(32);
                let issued = self
                    .store
                    .complete_login(tx, &t.new.browser_sha256, &sha256_hex(&code), at + CODE_TTL)
                    .await?;
                if !issued {
                    // Another poll of this browser won the race and took the code.
                    LoginState::Complete { redirect_to: None }
                } else {
                    let mut p = vec![
                        ("code", code.as_str()),
                        ("iss", self.config.public_url.as_str()),
                    ];
                    if let Some(s) = t.new.state.as_deref() {
                        p.push(("state", s));
                    }
                    LoginState::Complete {
                        redirect_to: Some(with_query(&t.new.redirect_uri, &p)),
                    }
                }
            }
        })
    }

    /// `redirect_uri` with an OAuth error, this provider as `iss` (RFC 9207) and the request's
    /// `state`.
    fn error_redirect(
        &self,
        redirect_uri: &str,
        error: OAuthErrorCode,
        description: &str,
        st: Option<&str>,
    ) -> String {
        let mut p = vec![
            ("error", error.as_str()),
            ("error_description", description),
            ("iss", self.config.public_url.as_str()),
        ];
        if let Some(s) = st {
            p.push(("state", s));
        }
        with_query(redirect_uri, &p)
    }
}

/// The PKCE challenge and the scopes (in the order asked, each once) of an authorization
/// request whose client is known good, or the OAuth error to send back.
fn requested<'a>(
    p: &'a HashMap<String, String>,
    settings: &ClientSettings,
) -> std::result::Result<(&'a str, Vec<String>), (OAuthErrorCode, &'static str)> {
    use OAuthErrorCode as E;
    let get = |k: &str| p.get(k).map(String::as_str);
    if get("state").is_some_and(|s| s.len() > MAX_PARAM)
        || get("nonce").is_some_and(|s| s.len() > MAX_PARAM)
    {
        return Err((
            E::InvalidRequest,
            "state and nonce are limited to 512 characters",
        ));
    }
    if get("request").is_some() || get("request_uri").is_some() {
        return Err((E::RequestNotSupported, "request objects are not supported"));
    }
    if get("response_type") != Some("code") {
        return Err((
            E::UnsupportedResponseType,
            "only response_type=code is supported",
        ));
    }
    if get("response_mode").is_some_and(|m| m != "query") {
        return Err((E::InvalidRequest, "only response_mode=query is supported"));
    }
    if get("prompt").is_some_and(|p| p.split(' ').any(|v| v == "none")) {
        return Err((E::LoginRequired, "a login always needs the wallet"));
    }
    let Some(challenge) = get("code_challenge") else {
        return Err((
            E::InvalidRequest,
            "PKCE is required: code_challenge with S256",
        ));
    };
    if get("code_challenge_method") != Some("S256") {
        return Err((E::InvalidRequest, "code_challenge_method must be S256"));
    }
    if challenge.len() != 43
        || !challenge
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err((
            E::InvalidRequest,
            "code_challenge must be a base64url SHA-256 (43 characters)",
        ));
    }
    let mut scopes: Vec<String> = Vec::new();
    for s in get("scope")
        .unwrap_or("")
        .split(' ')
        .filter(|s| !s.is_empty())
    {
        if !settings.scopes.iter().any(|r| r == s) {
            return Err((
                E::InvalidScope,
                "a scope asked for is not registered for this client",
            ));
        }
        if !scopes.iter().any(|x| x == s) {
            scopes.push(s.to_owned());
        }
    }
    if !scopes.iter().any(|s| s == "openid") {
        return Err((E::InvalidScope, "the openid scope is required"));
    }
    Ok((challenge, scopes))
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    fn ask(query: &str) -> std::result::Result<(String, Vec<String>), OAuthErrorCode> {
        let settings = ClientSettings {
            scopes: vec!["openid".into(), "profile".into()],
            ..ClientSettings::default()
        };
        let p = params(query).expect("well-formed parameters");
        requested(&p, &settings)
            .map(|(c, s)| (c.to_owned(), s))
            .map_err(|(code, _)| code)
    }

    #[test]
    fn a_request_needs_code_pkce_s256_and_openid_among_registered_scopes() {
        let good = format!(
            "response_type=code&code_challenge={CHALLENGE}&code_challenge_method=S256&scope=profile+openid+profile"
        );
        assert_eq!(
            ask(&good),
            Ok((
                CHALLENGE.to_owned(),
                vec!["profile".into(), "openid".into()]
            ))
        );
        use OAuthErrorCode as E;
        for (query, code) in [
            (format!("{good}&request=x"), E::RequestNotSupported),
            (
                good.replace("response_type=code", "response_type=token"),
                E::UnsupportedResponseType,
            ),
            (format!("{good}&response_mode=fragment"), E::InvalidRequest),
            (format!("{good}&prompt=login+none"), E::LoginRequired),
            (good.replace("S256", "plain"), E::InvalidRequest),
            (good.replace(CHALLENGE, "short"), E::InvalidRequest),
            (
                good.replace("scope=profile+openid+profile", "scope=openid+address"),
                E::InvalidScope,
            ),
            (
                good.replace("scope=profile+openid+profile", "scope=profile"),
                E::InvalidScope,
            ),
            (
                format!("{good}&nonce={}", "n".repeat(MAX_PARAM + 1)),
                E::InvalidRequest,
            ),
        ] {
            assert_eq!(ask(&query).map(|_| ()), Err(code), "{query}");
        }
    }

    #[test]
    fn parameters_are_given_once() {
        assert_eq!(
            params("a=1&a=2").expect_err("repeated"),
            "parameter a appears more than once"
        );
    }
}
