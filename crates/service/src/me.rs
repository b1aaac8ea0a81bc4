//! The citizen's own page (`/me/`): signed in with their wallet through the service's own
//! OpenID login (the page is a client of the provider like any portal, redeeming its codes
//! inside the service), it shows the citizen their credentials, their access record (every
//! check, login and face fetch, by whom), the portals they shared claims with, and lets them
//! report a card lost: suspended at once, reinstated only at an office.
//!
//! Sessions are browser sessions of the app `me` ([`WebApp::Me`]), shorter than the office's:
//! [`ME_IDLE`] without a request, [`ME_ABSOLUTE`] in all.

use crate::error::{Result, ServiceError};
use crate::ids::{CitizenId, CredentialId};
use crate::oidc::client::{AuthMethod, ClientSettings, IdTokenAlg};
use crate::oidc::random_b64;
use crate::Service;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use base64::Engine;
use qrid_store::{
    CitizenRecord, CredentialRecord, CredentialStatus, RecordEntry, WebApp, WebSession,
};
use sha2::{Digest, Sha256};

/// The client id of the citizen's page: not hex, so no registered client can have it.
pub const ME_CLIENT_ID: &str = "qrid-me";
/// Seconds without a request after which a citizen's session is over.
pub const ME_IDLE: i64 = 15 * 60;
/// Seconds after sign-in after which it is over whatever happens.
pub const ME_ABSOLUTE: i64 = 60 * 60;
/// The most access-record entries the page shows.
pub const ME_RECORD_LIMIT: i64 = 200;
/// The reason a suspension by the holder is recorded with.
pub const LOST_REASON: &str = "reported lost by the holder";

/// A sign-in started: where to send the browser, and what the page keeps (in a short cookie)
/// to finish it.
pub struct MeSignIn {
    /// The provider's `/authorize` URL for the page's own client.
    pub authorize_url: String,
    /// The `state` the callback must bring back.
    pub state: String,
    /// The PKCE verifier of the request.
    pub verifier: String,
}

/// A citizen's session as a request finds it.
#[derive(Debug, Clone)]
pub struct MeSession {
    /// Who is signed in.
    pub citizen: CitizenId,
    /// The session's anti-forgery token.
    pub csrf: String,
}

/// A session just opened: the cookie's token (never stored) and its CSRF token.
pub struct MeOpened {
    /// The cookie value.
    pub token: String,
    /// The anti-forgery token.
    pub csrf: String,
}

/// What the citizen's page shows.
#[derive(Debug)]
pub struct MeFile {
    /// The citizen as enrolled.
    pub citizen: CitizenRecord,
    /// Their credentials, newest first.
    pub credentials: Vec<CredentialRecord>,
    /// Their access record, newest first.
    pub record: Vec<RecordEntry>,
}

fn token_digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

impl Service {
    fn me_redirect_uri(&self) -> String {
        format!("{}/me/callback", self.config.public_url)
    }

    /// Starts a citizen's sign-in: makes sure the page's own client is registered with this
    /// node's public URL, and gives the authorization request (PKCE S256, `state`, `nonce`)
    /// the browser is sent to.
    pub async fn me_begin(&self) -> Result<MeSignIn> {
        let settings = ClientSettings {
            redirect_uris: vec![self.me_redirect_uri()],
            scopes: vec!["openid".into()],
            id_token_signed_response_alg: IdTokenAlg::default(),
            sector: None,
            token_endpoint_auth_method: AuthMethod::default(),
            jwks: None,
        };
        let json = serde_json::to_string(&settings).map_err(ServiceError::internal)?;
        self.store
            .upsert_builtin_client(
                ME_CLIENT_ID,
                "Trang của tôi / My page (qrid)",
                &json,
                self.now(),
            )
            .await?;
        let state = random_b64(16);
        let verifier = random_b64(32);
        let challenge = B64URL.encode(Sha256::digest(verifier.as_bytes()));
        let query = serde_urlencoded::to_string([
            ("response_type", "code"),
            ("client_id", ME_CLIENT_ID),
            ("redirect_uri", self.me_redirect_uri().as_str()),
            ("scope", "openid"),
            ("state", state.as_str()),
            ("nonce", random_b64(16).as_str()),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
        ])
        .map_err(ServiceError::internal)?;
        Ok(MeSignIn {
            authorize_url: format!("/authorize?{query}"),
            state,
            verifier,
        })
    }

    /// Finishes a sign-in: redeems the code the provider sent back (it must be the page's,
    /// unused, unexpired, and match the PKCE verifier), and opens the citizen's session.
    /// Refuses anything else as [`ServiceError::Unauthorized`].
    pub async fn me_sign_in(&self, code: &str, verifier: &str) -> Result<MeOpened> {
        let citizen = self
            .redeem_own_code(code, &self.me_redirect_uri(), verifier)
            .await?;
        let now = self.now();
        let token = random_b64(32);
        let csrf = random_b64(32);
        self.store
            .create_web_session(
                &token_digest(&token),
                &WebSession {
                    app: WebApp::Me,
                    subject: citizen.clone(),
                    epoch: 0,
                    csrf: csrf.clone(),
                    created_at: now,
                    last_seen: now,
                    expires_at: now + ME_ABSOLUTE,
                },
                now - ME_IDLE,
            )
            .await?;
        tracing::info!(citizen = %citizen, "citizen signed in to their page");
        Ok(MeOpened { token, csrf })
    }

    /// The live session a cookie names; [`ServiceError::Session`] when there is none (missing,
    /// idle, expired: it is then deleted).
    pub async fn me_session(&self, token: &str) -> Result<MeSession> {
        use crate::office::SessionEnd;
        if token.is_empty() || token.len() > 64 {
            return Err(ServiceError::Session(SessionEnd::Missing));
        }
        let digest = token_digest(token);
        let s = self
            .store
            .web_session(WebApp::Me, &digest)
            .await?
            .ok_or(ServiceError::Session(SessionEnd::Missing))?;
        let now = self.now();
        let ended = if now >= s.expires_at {
            SessionEnd::Expired
        } else if now - s.last_seen > ME_IDLE {
            SessionEnd::Idle
        } else {
            if now - s.last_seen >= 60 {
                self.store.touch_web_session(&digest, now).await?;
            }
            return Ok(MeSession {
                citizen: CitizenId::parse(&s.subject)
                    .map_err(|_| ServiceError::internal("a citizen session names no citizen"))?,
                csrf: s.csrf,
            });
        };
        self.store.delete_web_session(&digest).await?;
        Err(ServiceError::Session(ended))
    }

    /// Ends a citizen's session on every node.
    pub async fn me_sign_out(&self, token: &str) -> Result<()> {
        if token.is_empty() || token.len() > 64 {
            return Ok(());
        }
        Ok(self.store.delete_web_session(&token_digest(token)).await?)
    }

    /// The signed-in citizen's own file: enrolment, credentials, access record. Nothing of
    /// another citizen can be asked for: the citizen is the session's.
    pub async fn me_file(&self, me: &MeSession) -> Result<MeFile> {
        let citizen = self
            .store
            .get_citizen(me.citizen.as_str())
            .await?
            .ok_or(ServiceError::NotFound("citizen"))?;
        let credentials = self.store.credentials_of(me.citizen.as_str()).await?;
        let record = self
            .store
            .record_of_citizen(me.citizen.as_str(), ME_RECORD_LIMIT)
            .await?;
        Ok(MeFile {
            citizen,
            credentials,
            record,
        })
    }

    /// "My card is lost": suspends one of the signed-in citizen's own valid credentials at
    /// once, with [`LOST_REASON`], in their name (`citizen:<id>` on the audit record). Only an
    /// office can reinstate it. Another citizen's credential, or one that is not valid, is
    /// [`ServiceError::NotFound`] / refused alike: the page reveals nothing of others.
    pub async fn me_report_lost(
        &self,
        me: &MeSession,
        id: &CredentialId,
    ) -> Result<qrid_store::StatusChange> {
        let rec = self
            .store
            .get_credential(id.as_str())
            .await?
            .filter(|c| c.citizen_id == me.citizen.as_str())
            .ok_or(ServiceError::NotFound("credential"))?;
        if rec.status != CredentialStatus::Valid {
            return Err(ServiceError::InvalidRequest(
                "only a valid credential can be reported lost".into(),
            ));
        }
        let actor = format!("citizen:{}", me.citizen);
        let change = self
            .store
            .set_status(
                id.as_str(),
                CredentialStatus::Suspended,
                LOST_REASON,
                &actor,
                self.now(),
            )
            .await?;
        self.invalidate_status_list(change.status_list);
        tracing::warn!(credential = %change.id, citizen = %me.citizen, "credential reported lost by its holder: suspended");
        Ok(change)
    }
}
