//! The claims a portal may read with an access token (OpenID Connect Core §5.3): those of the
//! scopes granted, under the client's pairwise `sub`.

use super::oauth::OAuthErrorCode;
use super::sha256_hex;
use crate::error::ServiceError;
use crate::Service;
use qrid_credential::Sex;
use qrid_store::StoreError;
use serde::Serialize;

/// Longest access token looked up: longer is no token of ours.
const MAX_TOKEN: usize = 128;

/// The claims released for an access token: `sub` always, the others by scope (`profile`:
/// `name`, `birthdate`, `gender`; `address`: `address`; `national_id`: `national_id`,
/// `nationality`), each only when the citizen's record has it. Serialised as the userinfo
/// response's JSON, absent claims left out.
#[derive(Clone, Default, Serialize)]
pub struct UserInfo {
    /// The pairwise subject of the citizen for the client's sector.
    pub sub: String,
    /// Full name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Date of birth, `YYYY-MM-DD`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub birthdate: Option<String>,
    /// `male`, `female` or `other`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gender: Option<&'static str>,
    /// The place of residence.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<Address>,
    /// The national identity number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub national_id: Option<String>,
    /// The nationality, a country code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nationality: Option<String>,
}

// Personal data: never written to a log by accident.
impl std::fmt::Debug for UserInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("UserInfo { .. }")
    }
}

/// An address claim (OpenID Connect Core §5.1.1): the formatted text alone.
#[derive(Clone, Serialize)]
pub struct Address {
    /// The full address.
    pub formatted: String,
}

/// Why a userinfo request was not answered with claims.
#[derive(Debug, thiserror::Error)]
pub enum UserinfoError {
    /// No usable access token: missing, over-long, unknown, expired or revoked (RFC 6750
    /// §3.1 `invalid_token`; [`UserinfoError::code`]). The text is the `error_description`.
    #[error("{0}")]
    InvalidToken(&'static str),
    /// The service could not answer, or the token's client is no longer registered
    /// ([`ServiceError::Unauthorized`]).
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl UserinfoError {
    /// The OAuth error code of a refused token; `None` for a service error.
    pub fn code(&self) -> Option<OAuthErrorCode> {
        match self {
            UserinfoError::InvalidToken(_) => Some(OAuthErrorCode::InvalidToken),
            UserinfoError::Service(_) => None,
        }
    }
}

impl From<StoreError> for UserinfoError {
    fn from(e: StoreError) -> Self {
        UserinfoError::Service(e.into())
    }
}

impl Service {
    /// The claims of `access_token` (the bearer token as sent, `None` when none was): refused
    /// as [`UserinfoError::InvalidToken`] when missing, over 128 characters, unknown, expired
    /// or revoked (revoking follows the credential's status and a replayed code), and as
    /// [`ServiceError::Unauthorized`] when its client has been disabled or removed since.
    pub async fn oidc_userinfo(
        &self,
        access_token: Option<&str>,
    ) -> Result<UserInfo, UserinfoError> {
        let Some(token) = access_token.filter(|t| t.len() <= MAX_TOKEN) else {
            return Err(UserinfoError::InvalidToken(
                "a Bearer access token is required",
            ));
        };
        let Some(t) = self
            .store
            .token_login(&sha256_hex(token.trim()), self.now())
            .await?
        else {
            return Err(UserinfoError::InvalidToken(
                "the access token is unknown, expired or revoked",
            ));
        };
        let citizen_id = t
            .citizen_id
            .as_deref()
            .ok_or_else(|| ServiceError::internal("token without citizen"))?;
        let record = self
            .store
            .get_citizen(citizen_id)
            .await?
            .ok_or_else(|| ServiceError::internal("token for an unknown citizen"))?;
        let (_, settings) =
            self.oidc_client(&t.new.client_id)
                .await?
                .ok_or(ServiceError::Unauthorized(
                    "the client is no longer registered",
                ))?;
        let sector = settings.sector().unwrap_or_else(|| t.new.client_id.clone());
        let c = &record.citizen;
        let mut out = UserInfo {
            sub: self.oidc.pairwise_sub(&sector, citizen_id),
            ..UserInfo::default()
        };
        for scope in t.new.scope.split(' ') {
            match scope {
                "profile" => {
                    out.name = Some(c.full_name.as_str().to_owned());
                    out.birthdate = Some(c.date_of_birth.to_string());
                    out.gender = c.sex.map(|sex| match sex {
                        Sex::Male => "male",
                        Sex::Female => "female",
                        Sex::Other => "other",
                    });
                }
                "address" => {
                    out.address = c.place_of_residence.as_ref().map(|a| Address {
                        formatted: a.as_str().to_owned(),
                    });
                }
                "national_id" => {
                    out.national_id = Some(c.id_number.to_string());
                    out.nationality = c.nationality.as_ref().map(|n| n.to_string());
                }
                _ => {}
            }
        }
        Ok(out)
    }
}
