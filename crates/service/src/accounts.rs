//! Officers and clients: who may act. Officers sign in with an argon2id password (throttled by
//! the lockouts) for a short-lived HS256 bearer token; registered clients present a random
//! secret, stored as its SHA-256.

use crate::error::{Result, ServiceError};
use crate::ids::{lookup_name_ok, ClientId, Officer};
use crate::lockout::LockoutKey;
use crate::passwords::{constant_time_eq, dummy_hash, password_matches, secret_digest};
use crate::Service;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

/// The `iss` of officers' bearer tokens (officials' tokens have their own, so neither passes
/// for the other).
pub const OFFICER_TOKEN_ISSUER: &str = "qrid-officer";

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

/// A bearer token handed out at sign-in.
#[derive(Debug)]
pub struct BearerToken {
    /// The token.
    pub token: String,
    /// Its expiry, Unix seconds.
    pub expires_at: i64,
}

/// The longest username and password a sign-in looks at: anything longer is a wrong
/// username or password, refused before any hashing.
pub const MAX_USERNAME: usize = 64;
/// See [`MAX_USERNAME`].
pub const MAX_PASSWORD: usize = 1024;

impl Service {
    /// The enabled officer whose username and password these are, or the refusals of
    /// [`Service::officer_login`]: the one password check of every officer sign-in (the API's
    /// bearer token and the office's session).
    pub(crate) async fn check_officer_password(
        &self,
        username: &str,
        password: &str,
    ) -> Result<qrid_store::OfficerRecord> {
        const WRONG: ServiceError = ServiceError::Unauthorized("wrong username or password");
        if username.len() > MAX_USERNAME || password.len() > MAX_PASSWORD {
            return Err(WRONG);
        }
        let attempt = self
            .lockouts
            .begin(LockoutKey::OfficerPassword(username.to_owned()))
            .map_err(|locked| ServiceError::TooManyAttempts {
                what: "too many failed logins for this username",
                retry_after: locked.secs(),
            })?;
        let officer = if lookup_name_ok(username) {
            self.store.officer(username).await?
        } else {
            None
        };
        let hash = officer
            .as_ref()
            .filter(|o| !o.disabled)
            .map(|o| o.password_hash.clone());
        let ok = self.verify_password(hash, password).await?;
        let officer = match officer {
            Some(o) if ok && !o.disabled => o,
            _ => {
                // Dropping the attempt leaves it counted.
                drop(attempt);
                tracing::info!(event = "login_failed", "officer login failed");
                return Err(WRONG);
            }
        };
        attempt.succeeded();
        Ok(officer)
    }

    /// Signs an officer in: a bearer token for `token_ttl` seconds, or
    /// [`ServiceError::Unauthorized`] for a wrong username or password (one answer for both),
    /// or [`ServiceError::TooManyAttempts`] while the username is locked out after repeated
    /// failures. The attempt is counted before the password is checked (see lockout.rs), so
    /// concurrent guesses cannot outrun the lockout; an unknown username costs the same hash.
    /// A sign-in the audit table cannot show hands out no token.
    pub async fn officer_login(&self, username: &str, password: &str) -> Result<BearerToken> {
        let officer = self.check_officer_password(username, password).await?;
        let iat = self.now();
        let exp = iat + self.config.token_ttl;
        let claims = OfficerClaims {
            sub: officer.username.clone(),
            role: officer.role.as_str().into(),
            iat,
            exp,
            iss: OFFICER_TOKEN_ISSUER.into(),
            jti: new_jti(),
            epoch: officer.token_epoch,
        };
        self.store
            .audit(&qrid_store::AuditEntry {
                at: iat,
                actor: officer.username.clone(),
                action: "officer.login".into(),
                subject: Some(officer.username),
                detail: "{}".into(),
            })
            .await?;
        Ok(BearerToken {
            token: self.encode_bearer(&claims)?,
            expires_at: exp,
        })
    }

    /// The officer an officer bearer token names, as the account is now on whichever node
    /// changed it: a disabled officer, a reset password or a changed role ends the tokens
    /// already handed out.
    pub async fn authenticate_officer(&self, token: &str) -> Result<Officer> {
        let claims: OfficerClaims =
            self.decode_bearer(token, OFFICER_TOKEN_ISSUER, "the token is not valid")?;
        match self.store.officer(&claims.sub).await? {
            Some(o)
                if !o.disabled
                    && o.token_epoch == claims.epoch
                    && o.role.as_str() == claims.role =>
            {
                Ok(Officer {
                    username: o.username,
                    role: o.role,
                })
            }
            _ => Err(ServiceError::Unauthorized(
                "the token is no longer valid: the account was disabled or changed; sign in again",
            )),
        }
    }

    /// The registered, enabled client whose id and secret these are, or
    /// [`ServiceError::Unauthorized`] (one answer for every reason). Read on every call, not
    /// cached: a disabled client or a reset secret is refused at once on every node (one
    /// indexed read, against the SHA-256 that authentication needs anyway).
    pub async fn authenticate_client(&self, id: &str, secret: &str) -> Result<ClientId> {
        const REFUSED: ServiceError =
            ServiceError::Unauthorized("registered client credentials (HTTP Basic) are required");
        let digest = secret_digest(secret);
        if !lookup_name_ok(id) {
            return Err(REFUSED);
        }
        let Some(c) = self.store.client(id).await? else {
            return Err(REFUSED);
        };
        if c.disabled {
            return Err(REFUSED);
        }
        let stored: [u8; 32] = c.secret_sha256.as_slice().try_into().map_err(|_| REFUSED)?;
        if !constant_time_eq(&stored, &digest) {
            return Err(REFUSED);
        }
        Ok(ClientId::authenticated(c.client_id))
    }

    /// Checks `password` against an argon2id `hash` on a blocking thread, at most
    /// `max_concurrent_hashes` at once. `None` (no such user) is checked against a dummy hash,
    /// so that it takes as long as a wrong password.
    pub async fn verify_password(&self, hash: Option<String>, password: &str) -> Result<bool> {
        let known = hash.is_some();
        let hash = hash.unwrap_or_else(|| dummy_hash().to_owned());
        let password = zeroize::Zeroizing::new(password.to_owned());
        let permit = self
            .hash_permits
            .acquire()
            .await
            .map_err(ServiceError::internal)?;
        self.events().password_checked();
        let ok = tokio::task::spawn_blocking(move || password_matches(&hash, &password))
            .await
            .map_err(ServiceError::internal)?;
        drop(permit);
        Ok(ok && known)
    }

    /// Signs bearer-token claims with the service's HS256 token secret
    /// ([`Service::decode_bearer`] checks them).
    pub fn encode_bearer<T: Serialize>(&self, claims: &T) -> Result<String> {
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            claims,
            &EncodingKey::from_secret(self.config.token_secret.expose()),
        )
        .map_err(ServiceError::internal)
    }

    /// Decodes and checks one of this service's HS256 bearer tokens of issuer `issuer`. An
    /// expired token says so; any other failure gets `invalid`, never the decoder's own words.
    /// Expiry is judged on the service's clock (5 s of leeway), not on the decoder's reading
    /// of the system's.
    pub fn decode_bearer<T: serde::de::DeserializeOwned>(
        &self,
        token: &str,
        issuer: &str,
        invalid: &'static str,
    ) -> Result<T> {
        const LEEWAY: i64 = 5;
        let mut v = Validation::new(Algorithm::HS256);
        v.set_issuer(&[issuer]);
        v.validate_exp = false;
        v.set_required_spec_claims(&["exp", "iat", "iss", "sub"]);
        let claims = jsonwebtoken::decode::<serde_json::Value>(
            token,
            &DecodingKey::from_secret(self.config.token_secret.expose()),
            &v,
        )
        .map_err(|_| ServiceError::Unauthorized(invalid))?
        .claims;
        let exp = claims["exp"]
            .as_i64()
            .ok_or(ServiceError::Unauthorized(invalid))?;
        if exp.saturating_add(LEEWAY) < self.now() {
            return Err(ServiceError::Unauthorized("the token has expired"));
        }
        serde_json::from_value(claims).map_err(|_| ServiceError::Unauthorized(invalid))
    }
}

/// A random token id (96 bits, hex).
pub fn new_jti() -> String {
    let mut jti = [0u8; 12];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut jti);
    hex::encode(jti)
}
