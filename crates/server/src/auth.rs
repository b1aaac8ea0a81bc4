//! Officer authentication (argon2id passwords, short-lived HS256 bearer tokens, throttling) and
//! client authentication (HTTP Basic with a random secret stored as its SHA-256).

use crate::lockout::LockoutKey;
use crate::problem::{Problem, ProblemKind};
use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use qrid_service::passwords::{constant_time_eq, dummy_hash, password_matches, secret_digest};
use qrid_store::Role;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

const TOKEN_ISSUER: &str = "qrid-officer";

/// Claims of an officer bearer token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OfficerClaims {
    /// Username.
    pub sub: String,
    /// Role.
    pub role: String,
    /// Issued at.
    pub iat: i64,
    /// Expiry.
    pub exp: i64,
    /// Issuer of the token.
    pub iss: String,
    /// Token id.
    pub jti: String,
    /// The officer's token epoch when it was issued: a token of an earlier epoch (the officer
    /// was disabled or their password reset since) is refused on every node.
    #[serde(default)]
    pub epoch: i64,
}

impl OfficerClaims {
    /// The role, parsed.
    pub fn role(&self) -> Option<Role> {
        self.role.parse().ok()
    }
    /// Refuses unless the officer has one of `roles`.
    pub fn require(&self, roles: &[Role]) -> Result<(), Problem> {
        match self.role() {
            Some(r) if roles.contains(&r) => Ok(()),
            _ => Err(Problem::forbidden(format!(
                "this needs the role {}",
                roles
                    .iter()
                    .map(|r| r.as_str())
                    .collect::<Vec<_>>()
                    .join(" or ")
            ))),
        }
    }
}

/// Checks a username and password and returns a bearer token, or a problem (401, or 429 while
/// the username is locked out after repeated failures). The attempt is counted before the
/// password is checked (see lockout.rs), so concurrent guesses cannot outrun the lockout.
pub async fn login(
    state: &Arc<AppState>,
    username: &str,
    password: &str,
) -> Result<(String, i64), Problem> {
    let attempt = state
        .lockouts
        .begin(LockoutKey::OfficerPassword(username.to_owned()))
        .map_err(|locked| {
            let secs = locked.secs();
            Problem::new(
                StatusCode::TOO_MANY_REQUESTS,
                ProblemKind::TooManyAttempts,
                format!("too many failed logins for this username; try again in {secs} s"),
            )
            .with_retry_after(secs)
        })?;
    let officer = if lookup_name_ok(username) {
        state.store.officer(username).await?
    } else {
        None
    };
    let hash = officer
        .as_ref()
        .filter(|o| !o.disabled)
        .map(|o| o.password_hash.clone());
    let ok = verify_password(state, hash, password).await?;
    let officer = match officer {
        Some(o) if ok && !o.disabled => o,
        _ => {
            // Dropping the attempt leaves it counted.
            drop(attempt);
            state.metrics.login_failures.inc();
            tracing::info!(event = "login_failed", "officer login failed");
            return Err(Problem::unauthorized("wrong username or password"));
        }
    };
    attempt.succeeded();
    let iat = state.now();
    let exp = iat + state.config.token_ttl;
    let claims = OfficerClaims {
        sub: officer.username.clone(),
        role: officer.role.as_str().into(),
        iat,
        exp,
        iss: TOKEN_ISSUER.into(),
        jti: new_jti(),
        epoch: officer.token_epoch,
    };
    // Fails closed: a login the audit table cannot show hands out no token.
    state
        .store
        .audit(&qrid_store::AuditEntry {
            at: iat,
            actor: officer.username.clone(),
            action: "officer.login".into(),
            subject: Some(officer.username),
            detail: "{}".into(),
        })
        .await?;
    let token = encode_bearer(state, &claims)?;
    Ok((token, exp))
}

/// Whether a name taken from a request (a username, a client id) may be looked up at all:
/// PostgreSQL refuses text holding a NUL byte with an error, not "no such row", so a name with a
/// control character (or empty, or absurdly long) is treated as unknown before the database is
/// asked, on both databases alike.
pub(crate) fn lookup_name_ok(name: &str) -> bool {
    !name.is_empty() && name.len() <= 256 && !name.chars().any(char::is_control)
}

/// Checks `password` against an argon2id `hash` on a blocking thread, at most
/// `max_concurrent_hashes` at once. `None` (no such user) is checked against a dummy hash, so
/// that it takes as long as a wrong password.
pub(crate) async fn verify_password(
    state: &AppState,
    hash: Option<String>,
    password: &str,
) -> Result<bool, Problem> {
    let known = hash.is_some();
    let hash = hash.unwrap_or_else(|| dummy_hash().to_owned());
    let password = zeroize::Zeroizing::new(password.to_owned());
    let permit = state
        .hash_permits
        .acquire()
        .await
        .map_err(|e| Problem::internal(&e))?;
    state.metrics.password_checks.inc();
    let ok = tokio::task::spawn_blocking(move || password_matches(&hash, &password))
        .await
        .map_err(|e| Problem::internal(&e))?;
    drop(permit);
    Ok(ok && known)
}

/// A random token id (96 bits, hex).
pub(crate) fn new_jti() -> String {
    let mut jti = [0u8; 12];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut jti);
    hex::encode(jti)
}

/// Signs bearer-token claims with the service's HS256 token secret ([`decode_bearer`] checks them).
pub(crate) fn encode_bearer<T: Serialize>(state: &AppState, claims: &T) -> Result<String, Problem> {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(state.config.token_secret.expose()),
    )
    .map_err(|e| Problem::internal(&e))
}

/// Decodes and checks one of this service's HS256 bearer tokens of issuer `issuer` (officers'
/// and officials' tokens have different issuers, so neither passes for the other). An expired
/// token says so; any other failure gets `invalid`, never the decoder's own words. Expiry is
/// judged on the service's clock (5 s of leeway), not on the decoder's reading of the system's.
pub(crate) fn decode_bearer<T: serde::de::DeserializeOwned>(
    state: &AppState,
    token: &str,
    issuer: &str,
    invalid: &str,
) -> Result<T, Problem> {
    const LEEWAY: i64 = 5;
    let mut v = Validation::new(Algorithm::HS256);
    v.set_issuer(&[issuer]);
    v.validate_exp = false;
    v.set_required_spec_claims(&["exp", "iat", "iss", "sub"]);
    let claims = jsonwebtoken::decode::<serde_json::Value>(
        token,
        &DecodingKey::from_secret(state.config.token_secret.expose()),
        &v,
    )
    .map_err(|_| Problem::unauthorized(invalid))?
    .claims;
    let exp = claims["exp"]
        .as_i64()
        .ok_or_else(|| Problem::unauthorized(invalid))?;
    if exp.saturating_add(LEEWAY) < state.now() {
        return Err(Problem::unauthorized("the token has expired"));
    }
    serde_json::from_value(claims).map_err(|_| Problem::unauthorized(invalid))
}

/// An authenticated officer, extracted from `Authorization: Bearer …`.
pub struct Officer(pub OfficerClaims);

impl FromRequestParts<Arc<AppState>> for Officer {
    type Rejection = Problem;
    async fn from_request_parts(parts: &mut Parts, state: &Arc<AppState>) -> Result<Self, Problem> {
        let value = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| Problem::unauthorized("an officer bearer token is required"))?;
        let token = value
            .strip_prefix("Bearer ")
            .ok_or_else(|| Problem::unauthorized("use Authorization: Bearer <token>"))?;
        let claims: OfficerClaims =
            decode_bearer(state, token, TOKEN_ISSUER, "the token is not valid")?;
        // The account as it is now, on whichever node changed it: a disabled officer, a reset
        // password or a changed role ends the tokens already handed out.
        match state.store.officer(&claims.sub).await? {
            Some(o)
                if !o.disabled
                    && o.token_epoch == claims.epoch
                    && o.role.as_str() == claims.role =>
            {
                Ok(Officer(claims))
            }
            _ => Err(Problem::unauthorized(
                "the token is no longer valid: the account was disabled or changed; sign in again",
            )),
        }
    }
}

/// A registered client, authenticated with HTTP Basic (`client_id:client_secret`).
pub struct Client(pub String);

impl FromRequestParts<Arc<AppState>> for Client {
    type Rejection = Problem;
    async fn from_request_parts(parts: &mut Parts, state: &Arc<AppState>) -> Result<Self, Problem> {
        let unauthorized = || {
            Problem::new(
                StatusCode::UNAUTHORIZED,
                ProblemKind::Unauthorized,
                "registered client credentials (HTTP Basic) are required",
            )
            .with_challenge("Basic realm=\"qrid\", charset=\"UTF-8\"")
        };
        let value = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(unauthorized)?;
        let b64 = value.strip_prefix("Basic ").ok_or_else(unauthorized)?;
        if b64.len() > 1024 {
            return Err(unauthorized());
        }
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .map_err(|_| unauthorized())?;
        let text = String::from_utf8(decoded).map_err(|_| unauthorized())?;
        let (id, secret) = text.split_once(':').ok_or_else(unauthorized)?;
        let digest = secret_digest(secret);
        // Read on every request, not cached: a disabled client or a reset secret is refused
        // at once on every node (one indexed read, against the SHA-256 that authentication
        // needs anyway).
        if !lookup_name_ok(id) {
            return Err(unauthorized());
        }
        let Some(c) = state.store.client(id).await? else {
            return Err(unauthorized());
        };
        if c.disabled {
            return Err(unauthorized());
        }
        let stored: [u8; 32] = c
            .secret_sha256
            .as_slice()
            .try_into()
            .map_err(|_| unauthorized())?;
        if !constant_time_eq(&stored, &digest) {
            return Err(unauthorized());
        }
        Ok(Client(id.to_owned()))
    }
}
