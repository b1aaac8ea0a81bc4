//! Officials: provisioning (a signing key and a TOTP secret generated here and sealed under the
//! KEK, a signer credential signed by the issuer), sign-in with password and TOTP, and the
//! sole-control check every signing request passes (a fresh TOTP code, or a signing session
//! opened with one).

use crate::auth::verify_password;
use crate::custody::{binding, Kek, Purpose};
use crate::lockout::{Locked, LockoutKey};
use crate::problem::{Problem, ProblemKind};
use crate::state::AppState;
use crate::totp;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use qrid_credential::SigningKey;
use qrid_store::{CredentialStatus, OfficialRecord};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use zeroize::Zeroizing;

/// The `iss` of official bearer tokens; officer routes (issuer `qrid-officer`) refuse them.
const TOKEN_ISSUER: &str = "qrid-official";
/// Lifetime of an official's bearer token, seconds.
pub const TOKEN_TTL: i64 = 15 * 60;
/// Most documents a signing session may cover.
pub const MAX_SESSION_DOCUMENTS: i64 = 100;
/// Longest signing session, minutes.
pub const MAX_SESSION_MINUTES: i64 = 60;

/// Opens an official's sealed signing key; checks that it is the key the row says.
pub fn signing_key(kek: &Kek, o: &OfficialRecord) -> Result<SigningKey, Problem> {
    let bytes = kek
        .open(
            Purpose::SigningKey,
            &binding(&o.username, &o.kid),
            &o.key_sealed,
        )
        .map_err(|e| Problem::internal(&format!("official {}: {}", o.id, e.kind())))?;
    let arr: Zeroizing<[u8; 32]> = Zeroizing::new(
        bytes
            .as_slice()
            .try_into()
            .map_err(|_| Problem::internal(&format!("official {}: key length", o.id)))?,
    );
    let key = SigningKey::from_bytes(&arr);
    if key.verifying_key().to_bytes() != o.public_key {
        return Err(Problem::internal(&format!(
            "official {}: sealed key is not the public key",
            o.id
        )));
    }
    Ok(key)
}

/// Claims of an official's bearer token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OfficialClaims {
    /// The official's id.
    pub sub: String,
    /// Always `official`.
    pub role: String,
    /// Username, for the audit trail.
    pub username: String,
    /// Issued at.
    pub iat: i64,
    /// Expiry.
    pub exp: i64,
    /// `qrid-official`.
    pub iss: String,
    /// Token id.
    pub jti: String,
    /// The official's token epoch when it was issued (see [`current`]).
    #[serde(default)]
    pub epoch: i64,
}

/// An authenticated official, from `Authorization: Bearer …` (a token of
/// `POST /v1/officials/token`).
pub struct OfficialAuth(pub OfficialClaims);

impl FromRequestParts<Arc<AppState>> for OfficialAuth {
    type Rejection = Problem;
    async fn from_request_parts(parts: &mut Parts, state: &Arc<AppState>) -> Result<Self, Problem> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or_else(|| {
                Problem::unauthorized(
                    "an official's bearer token is required (POST /v1/officials/token)",
                )
            })?;
        let claims: OfficialClaims = crate::auth::decode_bearer(
            state,
            token,
            TOKEN_ISSUER,
            "the token is not an official's valid token",
        )?;
        if claims.role != "official" {
            return Err(Problem::unauthorized("the token is not an official's"));
        }
        Ok(OfficialAuth(claims))
    }
}

fn too_many(locked: Locked) -> Problem {
    let secs = locked.secs();
    Problem::new(
        StatusCode::TOO_MANY_REQUESTS,
        ProblemKind::TooManyAttempts,
        format!("too many failed attempts; try again in {secs} s"),
    )
    .with_retry_after(secs)
}

/// Why a TOTP code was not accepted.
enum TotpRefusal {
    /// The official's codes are locked out after repeated failures.
    Locked(Locked),
    /// The code is malformed, wrong or used already.
    Code(totp::TotpError),
    /// Something else failed (the sealed secret, the database).
    Failed(Problem),
}

/// Checks a TOTP code of official `o` and uses it up: right for the current step (±1), and
/// of a step after the last one accepted. The attempt is counted under the official's
/// [`LockoutKey::OfficialTotp`] before the code is looked at, and cleared when it is right.
async fn check_totp(state: &AppState, o: &OfficialRecord, code: &str) -> Result<(), TotpRefusal> {
    let attempt = state
        .lockouts
        .begin(LockoutKey::OfficialTotp(o.id.clone()))
        .map_err(TotpRefusal::Locked)?;
    let secret = state
        .kek
        .open(
            Purpose::TotpSecret,
            &binding(&o.username, &o.kid),
            &o.totp_sealed,
        )
        .map_err(|e| {
            TotpRefusal::Failed(Problem::internal(&format!(
                "official {}: {}",
                o.id,
                e.kind()
            )))
        })?;
    let step = totp::matching_step(&secret, code.trim(), state.now()).map_err(TotpRefusal::Code)?;
    let fresh = state
        .store
        .accept_totp_step(&o.id, step)
        .await
        .map_err(|e| TotpRefusal::Failed(e.into()))?;
    if !fresh {
        return Err(TotpRefusal::Code(totp::TotpError::Reused));
    }
    attempt.succeeded();
    Ok(())
}

/// The TOTP check of sign-in (right for the current step ±1, of a step after the last code
/// accepted, counted toward the lockout) for a signed-in official's signing request: a refused
/// code says why (`totp_malformed`, `totp_invalid`, `totp_reused`), a locked one answers 429.
pub async fn use_totp(state: &AppState, o: &OfficialRecord, code: &str) -> Result<(), Problem> {
    check_totp(state, o, code).await.map_err(|r| match r {
        TotpRefusal::Locked(l) => too_many(l),
        TotpRefusal::Code(e) => {
            tracing::info!(event = "totp_refused", official = %o.id, kind = e.kind(), "TOTP code refused");
            Problem::new(StatusCode::UNAUTHORIZED, ProblemKind::from(e), e.to_string())
        }
        TotpRefusal::Failed(p) => p,
    })
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignInRequest {
    username: String,
    password: String,
    /// The current six-digit TOTP code.
    totp: String,
}

/// The one answer of every refused sign-in, whichever part was wrong.
fn sign_in_refused() -> Problem {
    Problem::unauthorized("wrong username, password or code")
}

/// Password, then TOTP, then a bearer token. The sign-in is one attempt under the username's
/// [`LockoutKey::OfficialPassword`], counted before the password is checked and cleared only
/// when password and code are both right; the code is an attempt of its own under the
/// official's [`LockoutKey::OfficialTotp`]. Every refusal answers the same 401 — unknown
/// username, wrong password, right password with a wrong, reused or malformed code, or codes
/// locked out — so an answer never tells that a password was right. Unknown usernames take as
/// long as wrong passwords; only a locked-out username answers 429.
pub async fn sign_in(
    state: &Arc<AppState>,
    req: &SignInRequest,
) -> Result<(String, i64, OfficialRecord), Problem> {
    if req.username.len() > 64 || req.password.len() > 1024 || req.totp.len() > 16 {
        return Err(sign_in_refused());
    }
    let attempt = state
        .lockouts
        .begin(LockoutKey::OfficialPassword(req.username.clone()))
        .map_err(too_many)?;
    let refused = || {
        state.metrics.login_failures.inc();
        tracing::info!(event = "official_login_failed", "official sign-in failed");
        sign_in_refused()
    };
    let official = if crate::auth::lookup_name_ok(&req.username) {
        state.store.official_by_username(&req.username).await?
    } else {
        None
    };
    let hash = official.as_ref().map(|o| o.password_hash.clone());
    let ok = verify_password(state, hash, &req.password).await?;
    let official = match official {
        Some(o) if ok && !o.disabled => o,
        _ => return Err(refused()),
    };
    match check_totp(state, &official, &req.totp).await {
        Ok(()) => {}
        Err(TotpRefusal::Failed(p)) => return Err(p),
        Err(TotpRefusal::Locked(_) | TotpRefusal::Code(_)) => return Err(refused()),
    }
    attempt.succeeded();
    let iat = state.now();
    let exp = iat + TOKEN_TTL.min(state.config.token_ttl.max(60));
    let claims = OfficialClaims {
        sub: official.id.clone(),
        role: "official".into(),
        username: official.username.clone(),
        iat,
        exp,
        iss: TOKEN_ISSUER.into(),
        jti: crate::auth::new_jti(),
        epoch: official.token_epoch,
    };
    // Fails closed: a sign-in the audit table cannot show hands out no token.
    state
        .store
        .audit(&qrid_store::AuditEntry {
            at: iat,
            actor: format!("official:{}", official.username),
            action: "official.login".into(),
            subject: Some(official.id.clone()),
            detail: "{}".into(),
        })
        .await?;
    let token = crate::auth::encode_bearer(state, &claims)?;
    Ok((token, exp, official))
}

/// The signed-in official's row, refused if disabled since the token was made, or if the token
/// is of an earlier epoch (password or TOTP reset since, or disabled and enabled again).
pub async fn current(state: &AppState, claims: &OfficialClaims) -> Result<OfficialRecord, Problem> {
    match state.store.official(&claims.sub).await? {
        Some(o) if o.disabled => Err(Problem::forbidden("this official is disabled")),
        Some(o) if o.token_epoch != claims.epoch => Err(Problem::unauthorized(
            "the token is no longer valid: the account was changed; sign in again",
        )),
        Some(o) => Ok(o),
        None => Err(Problem::unauthorized("no such official")),
    }
}

/// The SHA-256 (hex) under which a signing session token is stored.
pub fn session_digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// How a signing request proved sole control.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SoleControl {
    /// A fresh TOTP code (`X-TOTP`).
    Totp,
    /// A signing session (`X-Signing-Session`), with the documents left after this one.
    Session {
        /// Documents the session may still sign.
        left: i64,
    },
}

/// The sole-control check of a signing request: `X-Signing-Session: <token>` uses one
/// document of a session of this official's; otherwise `X-TOTP: <code>` must be a fresh code.
/// A bearer token alone is refused.
pub async fn sole_control(
    state: &AppState,
    o: &OfficialRecord,
    headers: &HeaderMap,
) -> Result<SoleControl, Problem> {
    if let Some(v) = headers.get("x-signing-session") {
        let token = v.to_str().ok().filter(|t| t.len() <= 128).ok_or_else(|| {
            Problem::new(
                StatusCode::FORBIDDEN,
                ProblemKind::SigningSessionRefused,
                "malformed signing session token",
            )
        })?;
        return match state
            .store
            .use_signing_session(&session_digest(token), &o.id, state.now())
            .await?
        {
            Some(left) => Ok(SoleControl::Session { left }),
            None => Err(Problem::new(
                StatusCode::FORBIDDEN,
                ProblemKind::SigningSessionRefused,
                "the signing session is unknown, expired, used up, or not this official's",
            )),
        };
    }
    if let Some(v) = headers.get("x-totp") {
        let code = v.to_str().map_err(|_| {
            Problem::new(
                StatusCode::UNAUTHORIZED,
                ProblemKind::TotpMalformed,
                "a TOTP code is six digits",
            )
        })?;
        use_totp(state, o, code).await?;
        return Ok(SoleControl::Totp);
    }
    Err(Problem::new(
        StatusCode::UNAUTHORIZED,
        ProblemKind::SoleControlRequired,
        "signing needs a fresh TOTP code (X-TOTP) or a signing session (X-Signing-Session); a bearer token alone signs nothing",
    ))
}

/// The official's current signer credential, refused unless it is valid now.
pub async fn usable_signer_credential(
    state: &AppState,
    o: &OfficialRecord,
    at: i64,
) -> Result<qrid_store::SignerCredentialRecord, Problem> {
    let c = state
        .store
        .current_signer_credential(&o.id)
        .await?
        .ok_or_else(|| {
            Problem::new(
                StatusCode::FORBIDDEN,
                ProblemKind::NoSignerCredential,
                "this official has no signer credential",
            )
        })?;
    match c.status {
        CredentialStatus::Valid => {}
        CredentialStatus::Revoked => {
            return Err(Problem::new(
                StatusCode::FORBIDDEN,
                ProblemKind::SignerCredentialRevoked,
                "the official's signer credential is revoked: no new signatures",
            ))
        }
        CredentialStatus::Suspended => {
            return Err(Problem::new(
                StatusCode::FORBIDDEN,
                ProblemKind::SignerCredentialSuspended,
                "the official's signer credential is suspended: no new signatures",
            ))
        }
    }
    if c.expires_at <= at {
        return Err(Problem::new(
            StatusCode::FORBIDDEN,
            ProblemKind::SignerCredentialExpired,
            "the official's signer credential has expired",
        ));
    }
    Ok(c)
}
