//! Credential delivery to wallets: OpenID for Verifiable Credential Issuance 1.0, pre-authorized
//! code flow (docs/api.md, "Credential delivery").
//!
//! 1. An officer makes an [`Offer`] for a citizen ([`Service::create_offer`]): a QR holding the
//!    offer (issuer, configuration, a 256-bit pre-authorized code) and, shown apart from it, a
//!    six-digit PIN (`tx_code`). The offer lives [`OFFER_TTL`] seconds and is used once.
//! 2. The wallet redeems the code with the PIN at the token endpoint ([`Service::token`])
//!    for an access token of [`VCI_TOKEN_TTL`] seconds. [`MAX_PIN_FAILURES`] wrong PINs spend
//!    the offer; a code presented again ends the token it gave.
//! 3. It asks the nonce endpoint for a `c_nonce` ([`Service::vci_nonce`]), single use, and
//!    sends a key proof over it to the credential endpoint ([`Service::vci_credential`]), which
//!    issues the citizen's credential bound (`cnf`) to the key that signed the proof, once.
//!
//! Every secret (code, PIN, token, nonce) is stored only as a digest. The refusals are the
//! protocol's: OAuth errors from the token endpoint ([`TokenError`]), the credential
//! endpoint's error codes of OpenID4VCI §8.3.1.2 ([`CredentialRefusal`]).

use crate::citizens::{IssueOptions, Profile, ISSUERS, VALID_DAYS};
use crate::error::{Result, ServiceError};
use crate::oidc::{random_b64, sha256_hex, OAuthErrorCode, TokenError};
use crate::passwords::constant_time_eq;
use crate::{CitizenId, Officer, Service};
use qrid_credential::vci::{KeyProof, ProofError};
use qrid_credential::Jwk;
use qrid_store::{NewOffer, OfferRecord};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::fmt;

/// How long an offer's code can be redeemed: long enough for a citizen to open the wallet at
/// the counter, short enough that a photographed QR is soon worthless.
pub const OFFER_TTL: i64 = 600;
/// How long the access token of a redeemed offer lives.
pub const VCI_TOKEN_TTL: i64 = 300;
/// How long a `c_nonce` can be used.
pub const NONCE_TTL: i64 = 300;
/// Wrong PINs that spend an offer: a guesser has 5 chances in a million.
pub const MAX_PIN_FAILURES: i64 = 5;
/// Digits of the PIN (`tx_code`).
pub const PIN_DIGITS: usize = 6;
/// How far a proof's `iat` may lie from the issuer's clock, either way.
pub const PROOF_SKEW: i64 = 300;
/// The one credential configuration this issuer offers.
pub const CONFIGURATION_ID: &str = "qrid_claim169";
/// Its format identifier: the base45 text of docs/credential-format.md (a MOSIP Claim 169 QR
/// payload), not one of the formats of OpenID4VCI Appendix A.
pub const FORMAT: &str = "qrid_claim169";
/// The grant type of the pre-authorized code flow.
pub const PRE_AUTHORIZED_GRANT: &str = "urn:ietf:params:oauth:grant-type:pre-authorized_code";

/// A credential offer as made: what the QR holds and the PIN to tell the citizen.
pub struct Offer {
    /// The offer's public id (in logs, the audit record and the citizen's page).
    pub id: String,
    /// The credential offer object (OpenID4VCI §4.1.1).
    pub offer: Value,
    /// `openid-credential-offer://?credential_offer=…`: for any wallet app.
    pub offer_uri: String,
    /// The browser wallet's offer endpoint with the offer: a phone's camera opens it.
    pub wallet_url: String,
    /// The PIN, shown to the citizen apart from the QR.
    pub pin: String,
    /// Unix seconds from which the code is refused.
    pub expires_at: i64,
}

impl fmt::Debug for Offer {
    // The code and the PIN together deliver a citizen's credential: never in debug output.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Offer")
            .field("id", &self.id)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// The access token of a redeemed offer.
pub struct OfferToken {
    /// 256 random bits, base64url; stored only as its SHA-256.
    pub access_token: String,
    /// Seconds it lives ([`VCI_TOKEN_TTL`]).
    pub expires_in: i64,
}

impl fmt::Debug for OfferToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OfferToken")
            .field("expires_in", &self.expires_in)
            .finish_non_exhaustive()
    }
}

/// Why the credential endpoint refused a request: the error codes of OpenID4VCI §8.3.1.2 and
/// RFC 6750's `invalid_token`.
#[derive(Debug, thiserror::Error)]
pub enum CredentialRefusal {
    /// No bearer token at all (HTTP 401 with a bare `Bearer` challenge: RFC 6750 §3.1 wants
    /// no error code then).
    #[error("a bearer access token is required")]
    NoToken,
    /// A bearer token that is unknown, ended or used already (HTTP 401).
    #[error("{0}")]
    InvalidToken(&'static str),
    /// The body is not a credential request of this issuer: not JSON, more than one proof, a
    /// `credential_identifier` (this issuer hands none out).
    #[error("{0}")]
    InvalidRequest(String),
    /// A `credential_configuration_id` the issuer does not offer.
    #[error("the issuer offers only the credential configuration {CONFIGURATION_ID}")]
    UnknownConfiguration,
    /// The key proof is missing, malformed, not signed by the key it presents, for another
    /// audience, made too long ago (or ahead), or without a nonce.
    #[error("{0}")]
    InvalidProof(String),
    /// The proof's nonce is not a live `c_nonce` of this issuer: unknown, used or expired.
    #[error(
        "the proof's nonce is not a c_nonce of this issuer, or was used or expired: get a new one"
    )]
    InvalidNonce,
    /// The service could not issue (the database; a citizen whose claims no longer fit).
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl CredentialRefusal {
    /// The wire error code.
    pub fn code(&self) -> &'static str {
        match self {
            CredentialRefusal::NoToken | CredentialRefusal::InvalidToken(_) => "invalid_token",
            CredentialRefusal::InvalidRequest(_) => "invalid_credential_request",
            CredentialRefusal::UnknownConfiguration => "unknown_credential_configuration",
            CredentialRefusal::InvalidProof(_) => "invalid_proof",
            CredentialRefusal::InvalidNonce => "invalid_nonce",
            CredentialRefusal::Service(_) => "server_error",
        }
    }
}

impl From<qrid_store::StoreError> for CredentialRefusal {
    fn from(e: qrid_store::StoreError) -> Self {
        CredentialRefusal::Service(e.into())
    }
}

impl From<ProofError> for CredentialRefusal {
    fn from(e: ProofError) -> Self {
        CredentialRefusal::InvalidProof(e.to_string())
    }
}

/// A PIN of [`PIN_DIGITS`] uniform digits from the operating system's generator.
fn random_pin() -> String {
    let mut out = String::with_capacity(PIN_DIGITS);
    while out.len() < PIN_DIGITS {
        let mut b = [0u8; 1];
        rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut b);
        // 250 = 25 × 10: rejecting 250..=255 keeps every digit equally likely.
        if b[0] < 250 {
            out.push(char::from(b'0' + b[0] % 10));
        }
    }
    out
}

fn pin_digest(code: &str, pin: &str) -> String {
    sha256_hex(&format!("{code}:{pin}"))
}

impl Service {
    /// The credential issuer identifier (OpenID4VCI §12.2.1): the service's public URL.
    pub fn credential_issuer(&self) -> &str {
        &self.config.public_url
    }

    /// Makes a credential offer for an enrolled citizen (issuer or admin): the credential the
    /// wallet redeems it for has `profile`'s face and `valid_days` (default the
    /// `credential_days` setting), and is issued in this officer's name. Refuses a validity
    /// outside [`VALID_DAYS`], an unknown citizen, and the photo profile for a citizen without
    /// a photo on file.
    pub async fn create_offer(
        &self,
        by: &Officer,
        citizen: &CitizenId,
        profile: Profile,
        valid_days: Option<u32>,
    ) -> Result<Offer> {
        by.require(ISSUERS)?;
        let days = valid_days.unwrap_or(self.config.credential_days);
        if !VALID_DAYS.contains(&days) {
            return Err(ServiceError::InvalidRequest(
                "valid_days must be 1 to 36500".into(),
            ));
        }
        self.store
            .get_citizen(citizen.as_str())
            .await?
            .ok_or(ServiceError::NotFound("citizen"))?;
        if profile == Profile::Photo && self.store.citizen_photo(citizen.as_str()).await?.is_none()
        {
            return Err(ServiceError::InvalidRequest(
                "the photo profile needs the citizen's photo on file".into(),
            ));
        }
        let code = random_b64(32);
        let pin = random_pin();
        let now = self.now();
        let mut id = [0u8; 8];
        rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut id);
        let id = hex::encode(id);
        self.store
            .insert_offer(&NewOffer {
                id: id.clone(),
                code_sha256: sha256_hex(&code),
                pin_sha256: pin_digest(&code, &pin),
                citizen_id: citizen.as_str().to_owned(),
                officer: by.username.clone(),
                profile: profile.as_str().to_owned(),
                valid_days: i64::from(days),
                created_at: now,
                expires_at: now + OFFER_TTL,
            })
            .await?;
        let issuer = self.credential_issuer();
        let offer = json!({
            "credential_issuer": issuer,
            "credential_configuration_ids": [CONFIGURATION_ID],
            "grants": {PRE_AUTHORIZED_GRANT: {
                "pre-authorized_code": code,
                "tx_code": {"input_mode": "numeric", "length": PIN_DIGITS,
                    "description": "Mã PIN cán bộ đọc cho bạn / The PIN the officer tells you"},
            }},
        });
        let query = serde_urlencoded::to_string([("credential_offer", offer.to_string())])
            .map_err(ServiceError::internal)?;
        tracing::info!(offer = %id, citizen = %citizen, officer = %by.username, "credential offer made");
        Ok(Offer {
            id,
            offer_uri: format!("openid-credential-offer://?{query}"),
            wallet_url: format!("{issuer}/wallet/offer?{query}"),
            offer,
            pin,
            expires_at: now + OFFER_TTL,
        })
    }

    /// The token request of the pre-authorized code flow (OpenID4VCI §6.1), its parameters
    /// already parsed. Refuses with `invalid_request` a missing code or PIN, and with
    /// `invalid_grant` an unknown, expired or used code (a used one also ends the token it
    /// gave) and a wrong PIN (the [`MAX_PIN_FAILURES`]th spends the offer).
    pub(crate) async fn vci_token(
        &self,
        p: &HashMap<String, String>,
    ) -> std::result::Result<OfferToken, TokenError> {
        let code = p.get("pre-authorized_code").ok_or_else(|| {
            TokenError::oauth(
                OAuthErrorCode::InvalidRequest,
                "pre-authorized_code is required",
            )
        })?;
        let pin = p.get("tx_code").ok_or_else(|| {
            TokenError::oauth(
                OAuthErrorCode::InvalidRequest,
                "tx_code is required: the PIN given with the offer",
            )
        })?;
        if code.len() > 128 || pin.len() > 64 {
            return Err(TokenError::grant("the pre-authorized code is not valid"));
        }
        let now = self.now();
        let offer = self
            .store
            .offer_by_code(&sha256_hex(code))
            .await?
            .ok_or_else(|| TokenError::grant("the pre-authorized code is not valid"))?;
        if offer.redeemed_at.is_some() {
            self.store.revoke_offer_token(&offer.id).await?;
            tracing::warn!(offer = %offer.id, "credential offer code presented again; its token is ended");
            return Err(TokenError::grant(
                "the pre-authorized code was used already",
            ));
        }
        if offer.expires_at <= now {
            return Err(TokenError::grant("the pre-authorized code has expired"));
        }
        if offer.pin_failures >= MAX_PIN_FAILURES {
            return Err(TokenError::grant(
                "too many wrong PINs: ask the office for a new offer",
            ));
        }
        if !constant_time_eq(
            pin_digest(code, pin).as_bytes(),
            offer.pin_sha256.as_bytes(),
        ) {
            let n = self.store.offer_pin_failed(&offer.id).await?;
            tracing::warn!(offer = %offer.id, failures = n, "wrong PIN for a credential offer");
            return Err(TokenError::grant(if n >= MAX_PIN_FAILURES {
                "the PIN is wrong; the offer is spent: ask the office for a new one"
            } else {
                "the PIN (tx_code) is wrong"
            }));
        }
        let access_token = random_b64(32);
        let redeemed = self
            .store
            .redeem_offer(
                &offer.id,
                &sha256_hex(&access_token),
                now + VCI_TOKEN_TTL,
                MAX_PIN_FAILURES,
                now,
            )
            .await?;
        if !redeemed {
            // Another request redeemed it between the read and now.
            return Err(TokenError::grant(
                "the pre-authorized code was used already",
            ));
        }
        tracing::info!(offer = %offer.id, "credential offer redeemed");
        Ok(OfferToken {
            access_token,
            expires_in: VCI_TOKEN_TTL,
        })
    }

    /// A fresh `c_nonce` (OpenID4VCI §7), good for one proof within [`NONCE_TTL`] seconds.
    pub async fn vci_nonce(&self) -> Result<String> {
        let nonce = random_b64(32);
        let now = self.now();
        self.store
            .insert_nonce(&sha256_hex(&nonce), now + NONCE_TTL, now)
            .await?;
        Ok(nonce)
    }

    /// The credential request (OpenID4VCI §8): `bearer` is the access token of a redeemed
    /// offer, `body` the JSON request. Issues the offer's credential bound to the key that
    /// signed the one `jwt` proof, and answers its payload text. The refusals are
    /// [`CredentialRefusal`]'s, checked in this order: the token, the request, the proof's
    /// form and signature, its audience and time, its nonce (which is then used up), and that
    /// the token has not had its credential already.
    pub async fn vci_credential(
        &self,
        bearer: Option<&str>,
        body: &[u8],
    ) -> std::result::Result<String, CredentialRefusal> {
        let token = bearer.ok_or(CredentialRefusal::NoToken)?;
        if token.len() > 128 {
            return Err(CredentialRefusal::InvalidToken(
                "the access token is unknown",
            ));
        }
        let now = self.now();
        let offer = self
            .store
            .offer_by_token(&sha256_hex(token))
            .await?
            .filter(|o| o.token_expires_at.is_some_and(|e| e > now))
            .ok_or(CredentialRefusal::InvalidToken(
                "the access token is unknown, expired or ended",
            ))?;
        let proof = proof_of_request(body)?;
        let proof = KeyProof::verify(&proof)?;
        if proof.aud != self.credential_issuer() {
            return Err(CredentialRefusal::InvalidProof(
                "the proof's aud is not this credential issuer".into(),
            ));
        }
        if (proof.iat - now).abs() > PROOF_SKEW {
            return Err(CredentialRefusal::InvalidProof(format!(
                "the proof's iat is more than {PROOF_SKEW} s from the issuer's clock"
            )));
        }
        let nonce = proof.nonce.as_deref().ok_or_else(|| {
            CredentialRefusal::InvalidProof("the proof has no nonce: get a c_nonce first".into())
        })?;
        if !self.store.take_nonce(&sha256_hex(nonce), now).await? {
            return Err(CredentialRefusal::InvalidNonce);
        }
        if !self.store.claim_offer(&offer.id, now).await? {
            return Err(CredentialRefusal::InvalidToken(
                "this access token has had its credential already",
            ));
        }
        let rec = self.deliver(&offer, &proof.holder).await?;
        self.store.complete_offer(&offer.id, &rec.id).await?;
        tracing::info!(offer = %offer.id, credential = %rec.id, "credential delivered to a wallet");
        Ok(rec.payload)
    }

    async fn deliver(
        &self,
        offer: &OfferRecord,
        holder: &qrid_credential::VerifyingKey,
    ) -> Result<qrid_store::CredentialRecord> {
        let profile = Profile::parse(&offer.profile)
            .ok_or_else(|| ServiceError::internal("stored offer with an unknown profile"))?;
        let citizen = CitizenId::parse(&offer.citizen_id)
            .map_err(|_| ServiceError::internal("stored offer with a malformed citizen id"))?;
        let options = IssueOptions {
            profile,
            valid_days: u32::try_from(offer.valid_days).ok(),
            holder_jwk: Some(Jwk::from_verifying_key(holder)),
            replaces: None,
        };
        self.issue_as(&offer.officer, &citizen, options).await
    }
}

/// The one `jwt` proof of a credential request body.
fn proof_of_request(body: &[u8]) -> std::result::Result<String, CredentialRefusal> {
    let bad = |m: &str| CredentialRefusal::InvalidRequest(m.to_owned());
    let Ok(Value::Object(req)) = serde_json::from_slice::<Value>(body) else {
        return Err(bad("the body must be a JSON object"));
    };
    if req.contains_key("credential_identifier") {
        return Err(bad(
            "this issuer hands out no credential identifiers: use credential_configuration_id",
        ));
    }
    match req.get("credential_configuration_id") {
        Some(Value::String(id)) if id == CONFIGURATION_ID => {}
        Some(Value::String(_)) => return Err(CredentialRefusal::UnknownConfiguration),
        _ => return Err(bad("credential_configuration_id is required")),
    }
    if req.contains_key("proof") {
        return Err(bad("send the proof in proofs (OpenID4VCI 1.0), not proof"));
    }
    if req.contains_key("credential_response_encryption") {
        return Err(bad("this issuer does not encrypt credential responses"));
    }
    let Some(Value::Object(proofs)) = req.get("proofs") else {
        return Err(CredentialRefusal::InvalidProof(
            "proofs is required: one jwt key proof".into(),
        ));
    };
    if proofs.len() != 1 {
        return Err(bad("proofs must hold exactly one proof type, jwt"));
    }
    match proofs.get("jwt") {
        Some(Value::Array(list)) => match list.as_slice() {
            [Value::String(jwt)] => Ok(jwt.clone()),
            [_] => Err(bad("a jwt proof is a string")),
            _ => Err(bad(
                "exactly one jwt proof: this issuer issues one credential",
            )),
        },
        _ => Err(bad("the proof type must be jwt")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_are_six_digits_and_spread() {
        let pins: Vec<String> = (0..200).map(|_| random_pin()).collect();
        assert!(pins
            .iter()
            .all(|p| p.len() == PIN_DIGITS && p.bytes().all(|b| b.is_ascii_digit())));
        let firsts: std::collections::HashSet<u8> = pins.iter().map(|p| p.as_bytes()[0]).collect();
        assert_eq!(firsts.len(), 10, "every digit appears first in 200 PINs");
    }

    #[test]
    fn requests_are_read_strictly() {
        let kind = |b: &str| match proof_of_request(b.as_bytes()) {
            Ok(_) => "ok",
            Err(e) => e.code(),
        };
        let ok = r#"{"credential_configuration_id":"qrid_claim169","proofs":{"jwt":["a.b.c"]}}"#;
        assert_eq!(kind(ok), "ok");
        assert_eq!(kind("[]"), "invalid_credential_request");
        assert_eq!(
            kind(r#"{"proofs":{"jwt":["x"]}}"#),
            "invalid_credential_request"
        );
        assert_eq!(
            kind(r#"{"credential_configuration_id":"mdl","proofs":{"jwt":["x"]}}"#),
            "unknown_credential_configuration"
        );
        assert_eq!(
            kind(
                r#"{"credential_configuration_id":"qrid_claim169","proof":{"proof_type":"jwt","jwt":"x"}}"#
            ),
            "invalid_credential_request"
        );
        assert_eq!(
            kind(r#"{"credential_configuration_id":"qrid_claim169","proofs":{"jwt":["x","y"]}}"#),
            "invalid_credential_request"
        );
        assert_eq!(
            kind(r#"{"credential_configuration_id":"qrid_claim169","proofs":{"ldp_vp":["x"]}}"#),
            "invalid_credential_request"
        );
        assert_eq!(
            kind(
                r#"{"credential_identifier":"a","credential_configuration_id":"qrid_claim169","proofs":{"jwt":["x"]}}"#
            ),
            "invalid_credential_request"
        );
    }
}
