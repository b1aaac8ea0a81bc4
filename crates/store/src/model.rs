use qrid_credential::Citizen;
use serde::Serialize;
use std::fmt;
use std::str::FromStr;

/// An officer's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Manages officers, clients and keys; may also issue.
    Admin,
    /// Enrols citizens, issues and changes credential status.
    Issuer,
    /// Reads records and the audit log.
    Auditor,
    /// A counter clerk: verifies credentials at a counter and sees the holder's face, nothing
    /// else.
    Clerk,
}

impl Role {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Issuer => "issuer",
            Role::Auditor => "auditor",
            Role::Clerk => "clerk",
        }
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Role, String> {
        match s {
            "admin" => Ok(Role::Admin),
            "issuer" => Ok(Role::Issuer),
            "auditor" => Ok(Role::Auditor),
            "clerk" => Ok(Role::Clerk),
            _ => Err("role must be admin, issuer, auditor or clerk".into()),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A credential's status as the issuer records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CredentialStatus {
    /// 0
    Valid,
    /// 1: for good.
    Revoked,
    /// 2: until reinstated.
    Suspended,
}

impl CredentialStatus {
    /// The value stored and published in the status list.
    pub fn code(self) -> i64 {
        match self {
            CredentialStatus::Valid => 0,
            CredentialStatus::Revoked => 1,
            CredentialStatus::Suspended => 2,
        }
    }
    pub(crate) fn from_code(c: i64) -> Option<Self> {
        match c {
            0 => Some(CredentialStatus::Valid),
            1 => Some(CredentialStatus::Revoked),
            2 => Some(CredentialStatus::Suspended),
            _ => None,
        }
    }
}

/// A citizen to enrol.
#[derive(Debug, Clone)]
pub struct NewCitizen {
    /// The validated claims.
    pub citizen: Citizen,
}

/// A stored citizen.
#[derive(Debug, Clone)]
pub struct CitizenRecord {
    /// Opaque id (16 hex digits), used in URLs and logs instead of the id number.
    pub id: String,
    /// The claims.
    pub citizen: Citizen,
    /// Unix seconds.
    pub created_at: i64,
}

/// Where a new credential's status lives: list number and index, allocated by the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusSlot {
    /// The list number (`/v1/status-lists/{list}`).
    pub list: i64,
    /// The index in that list.
    pub index: u32,
}

/// A signed credential, ready to store.
#[derive(Debug, Clone)]
pub struct NewCredential {
    /// The cti, hex.
    pub id: String,
    /// The signing key's thumbprint.
    pub kid: String,
    /// The QR payload.
    pub payload: String,
    /// Unix seconds.
    pub issued_at: i64,
    /// Unix seconds.
    pub expires_at: i64,
}

/// A stored credential.
#[derive(Debug, Clone, Serialize)]
pub struct CredentialRecord {
    /// The cti, hex.
    pub id: String,
    /// The citizen it was issued to.
    pub citizen_id: String,
    /// The signing key's thumbprint.
    pub kid: String,
    /// Status list number.
    pub status_list: i64,
    /// Index in the status list.
    pub status_index: i64,
    /// Current status.
    pub status: CredentialStatus,
    /// Why the status last changed.
    pub status_reason: Option<String>,
    /// When the status last changed (Unix seconds); `None` while it never has.
    pub status_changed_at: Option<i64>,
    /// The QR payload.
    pub payload: String,
    /// Unix seconds.
    pub issued_at: i64,
    /// Unix seconds.
    pub expires_at: i64,
}

/// One citizen of a bulk issuance, signed and ready to store.
#[derive(Debug, Clone)]
pub struct IssuedRow {
    /// The citizen to enrol.
    pub citizen: NewCitizen,
    /// The slot its credential references.
    pub slot: StatusSlot,
    /// The credential, signed with `slot`.
    pub credential: NewCredential,
}

/// What a batch enrolment did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BatchOutcome {
    /// Citizens enrolled and issued a credential.
    pub issued: usize,
    /// Citizens skipped because their id number was already enrolled.
    pub skipped: usize,
}

/// How many citizens and credentials the database holds, and how many citizens break the
/// "one credential each" rule of a bulk issuance (read in one statement, so the figures agree).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Census {
    /// Enrolled citizens.
    pub citizens: i64,
    /// Issued credentials, whatever their status.
    pub credentials: i64,
    /// Citizens without any credential.
    pub citizens_without_credential: i64,
    /// Citizens with more than one credential.
    pub citizens_with_several: i64,
}

/// A stored officer.
#[derive(Clone)]
pub struct OfficerRecord {
    /// Opaque id.
    pub id: String,
    /// Login name.
    pub username: String,
    /// PHC-format argon2id hash.
    pub password_hash: String,
    /// Role.
    pub role: Role,
    /// Disabled officers cannot log in.
    pub disabled: bool,
    /// Raised when the officer's access must end at once (disabled, password reset): a token
    /// issued in another epoch is refused.
    pub token_epoch: i64,
}

impl fmt::Debug for OfficerRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "OfficerRecord({}, {})", self.username, self.role)
    }
}

/// A registered client (portal service or counter).
#[derive(Clone)]
pub struct ClientRecord {
    /// Public id.
    pub client_id: String,
    /// Display name.
    pub name: String,
    /// SHA-256 of the secret; the secret itself is never stored.
    pub secret_sha256: Vec<u8>,
    /// JSON settings (redirect URIs, scopes, … for later features).
    pub settings: String,
    /// Disabled clients are refused.
    pub disabled: bool,
}

impl fmt::Debug for ClientRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ClientRecord({})", self.client_id)
    }
}

/// Lifecycle of an issuer key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyState {
    /// Signs new credentials.
    Current,
    /// Signed earlier credentials; published so they keep verifying.
    Previous,
    /// No longer published.
    Retired,
}

impl KeyState {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyState::Current => "current",
            KeyState::Previous => "previous",
            KeyState::Retired => "retired",
        }
    }
    pub(crate) fn parse(s: &str) -> Option<Self> {
        match s {
            "current" => Some(KeyState::Current),
            "previous" => Some(KeyState::Previous),
            "retired" => Some(KeyState::Retired),
            _ => None,
        }
    }
}

/// A published issuer key.
#[derive(Debug, Clone)]
pub struct IssuerKeyRecord {
    /// Thumbprint.
    pub kid: String,
    /// Public JWK, JSON.
    pub jwk: String,
    /// State.
    pub state: KeyState,
    /// Unix seconds.
    pub created_at: i64,
}

/// One verification, for a citizen's access record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verification {
    /// The credential checked, when the payload got far enough to name one.
    pub credential_id: Option<String>,
    /// Who checked.
    pub client_id: String,
    /// Unix seconds.
    pub at: i64,
    /// `valid` or the error kind.
    pub outcome: String,
}

/// One audit log entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    /// Unix seconds.
    pub at: i64,
    /// Officer username, client id or `system`.
    pub actor: String,
    /// What was done (`issue`, `revoke`, `officer.create`, …).
    pub action: String,
    /// The id of the thing acted on (credential id, citizen id), never personal data.
    pub subject: Option<String>,
    /// JSON details without personal data.
    pub detail: String,
}

/// Where a login transaction stands (docs/login.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginStatus {
    /// Waiting for the wallet.
    Pending,
    /// The wallet's answer was accepted; the browser has not collected the code yet.
    Authenticated,
    /// The code went to the browser.
    Complete,
    /// Too many refused answers.
    Failed,
}

impl LoginStatus {
    pub(crate) fn from_code(c: i64) -> Option<LoginStatus> {
        Some(match c {
            0 => LoginStatus::Pending,
            1 => LoginStatus::Authenticated,
            2 => LoginStatus::Complete,
            3 => LoginStatus::Failed,
            _ => return None,
        })
    }
}

/// A new login transaction, as `/authorize` opens it.
#[derive(Debug, Clone)]
pub struct NewLoginTx {
    /// Random id (hex).
    pub id: String,
    /// The client that asked.
    pub client_id: String,
    /// The registered redirect URI it asked with.
    pub redirect_uri: String,
    /// Space-separated scopes granted.
    pub scope: String,
    /// The client's `state`.
    pub state: Option<String>,
    /// The client's `nonce`.
    pub nonce: Option<String>,
    /// PKCE S256 challenge.
    pub code_challenge: String,
    /// SHA-256 (hex) of the browser-binding cookie.
    pub browser_sha256: String,
    /// SHA-256 (hex) of the signed login request payload.
    pub request_sha256: String,
    /// Opened at.
    pub created_at: i64,
    /// Closes at.
    pub expires_at: i64,
}

/// Bounds on login transactions still waiting for the wallet (pending and unexpired), checked
/// by `Store::create_login_tx` together with the insert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PendingLoginBounds {
    /// Most pending transactions of one client.
    pub per_client: i64,
    /// Most pending transactions of all clients together.
    pub total: i64,
}

/// What `Store::create_login_tx` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub enum LoginOpened {
    /// The transaction is stored.
    Opened,
    /// Nothing stored: this client already has [`PendingLoginBounds::per_client`] pending.
    ClientAtLimit,
    /// Nothing stored: all clients together have [`PendingLoginBounds::total`] pending.
    AllAtLimit,
}

/// A login transaction as stored.
#[derive(Debug, Clone)]
pub struct LoginTx {
    /// What `/authorize` recorded.
    pub new: NewLoginTx,
    /// Where it stands.
    pub status: LoginStatus,
    /// Refused wallet answers so far.
    pub failures: i64,
    /// Who logged in, once authenticated.
    pub citizen_id: Option<String>,
    /// With which credential.
    pub credential_id: Option<String>,
    /// When the wallet's answer was accepted.
    pub auth_time: Option<i64>,
}

/// What redeeming an authorization code found.
#[derive(Debug, Clone)]
pub enum Redemption {
    /// First use: the token was stored; here is the login.
    Redeemed(Box<LoginTx>),
    /// The code was used before: every token issued from it is now revoked.
    Replayed,
    /// No such code, or it has expired.
    Unknown,
}

/// An official to create. The store never sees a plaintext secret: the caller hashes the
/// password and seals (encrypts) the TOTP secret and the signing key before calling.
#[derive(Clone)]
pub struct NewOfficial {
    /// Login name (unique).
    pub username: String,
    /// Full name, as shown on signatures.
    pub full_name: String,
    /// Title (position).
    pub title: String,
    /// Agency the official signs for.
    pub agency: String,
    /// argon2id PHC string.
    pub password_hash: String,
    /// The TOTP secret, encrypted by the caller under a key-encryption key.
    pub totp_sealed: Vec<u8>,
    /// The Ed25519 signing key, encrypted by the caller under a key-encryption key.
    pub key_sealed: Vec<u8>,
    /// The Ed25519 public key.
    pub public_key: [u8; 32],
    /// RFC 7638 thumbprint of `public_key`.
    pub kid: String,
}

impl fmt::Debug for NewOfficial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NewOfficial({}, {})", self.username, self.kid)
    }
}

/// A stored official (someone who signs documents with a key the service holds).
#[derive(Clone)]
pub struct OfficialRecord {
    /// Opaque id (16 hex digits).
    pub id: String,
    /// Login name.
    pub username: String,
    /// Full name.
    pub full_name: String,
    /// Title (position).
    pub title: String,
    /// Agency.
    pub agency: String,
    /// argon2id PHC string.
    pub password_hash: String,
    /// The sealed TOTP secret.
    pub totp_sealed: Vec<u8>,
    /// The highest TOTP time step accepted so far (0: none).
    pub totp_last_step: i64,
    /// The sealed Ed25519 signing key.
    pub key_sealed: Vec<u8>,
    /// The Ed25519 public key.
    pub public_key: [u8; 32],
    /// RFC 7638 thumbprint of `public_key`.
    pub kid: String,
    /// Raised when the official's access must end at once (disabled, password or TOTP reset):
    /// a token issued in another epoch is refused.
    pub token_epoch: i64,
    /// Disabled officials cannot open signing sessions.
    pub disabled: bool,
    /// Unix seconds.
    pub created_at: i64,
}

impl fmt::Debug for OfficialRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "OfficialRecord({}, {})", self.id, self.username)
    }
}

/// An official's new signing key, for [`crate::Store::rotate_official_key`]: sealed by the
/// caller, as [`NewOfficial`]'s are, with the TOTP secret re-sealed to the new key's binding.
/// It replaces the key and sealed TOTP secret the caller read (`replaces_*`), and nothing
/// else: if the official's row changed since, the rotation is refused.
#[derive(Clone)]
pub struct NewOfficialKey {
    /// The kid the caller read and rotates away from.
    pub replaces_kid: String,
    /// The sealed TOTP secret the caller read and re-sealed.
    pub replaces_totp_sealed: Vec<u8>,
    /// The new Ed25519 signing key, sealed and bound to the username and `kid`.
    pub key_sealed: Vec<u8>,
    /// The new Ed25519 public key.
    pub public_key: [u8; 32],
    /// RFC 7638 thumbprint of `public_key`.
    pub kid: String,
    /// The same TOTP secret, sealed and bound to the username and `kid`.
    pub totp_sealed: Vec<u8>,
}

impl fmt::Debug for NewOfficialKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NewOfficialKey({} → {})", self.replaces_kid, self.kid)
    }
}

/// What [`crate::Store::rotate_official_key`] did.
#[derive(Debug, Clone)]
pub struct KeyRotation {
    /// The official's row after the rotation (new key, same TOTP secret, a new token epoch).
    pub official: OfficialRecord,
    /// The kid of the key rotated away from.
    pub previous_kid: String,
    /// The new signer credential, certifying the new key.
    pub signer_credential: SignerCredentialRecord,
    /// The official's signer credentials the rotation revoked (every one that was valid or
    /// suspended), whose status lists' cached copies are now stale.
    pub revoked: Vec<StatusChange>,
}

/// A stored signer credential: the issuer's certification of an official's key. Its status
/// lives in the same status lists as identity credentials.
#[derive(Debug, Clone, Serialize)]
pub struct SignerCredentialRecord {
    /// The cti, hex.
    pub id: String,
    /// The official it certifies.
    pub official_id: String,
    /// The issuer key's thumbprint.
    pub kid: String,
    /// Status list number.
    pub status_list: i64,
    /// Index in the status list.
    pub status_index: i64,
    /// Current status.
    pub status: CredentialStatus,
    /// Why the status last changed.
    pub status_reason: Option<String>,
    /// When the status last changed (Unix seconds); `None` while it never has. A signature
    /// made before a revocation's time stays attributable; one made after it does not.
    pub status_changed_at: Option<i64>,
    /// The signed credential.
    pub payload: String,
    /// Unix seconds.
    pub issued_at: i64,
    /// Unix seconds.
    pub expires_at: i64,
}

/// Which table a credential lives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CredentialKind {
    /// A citizen's identity credential (`credentials`).
    Identity,
    /// An official's signer credential (`signer_credentials`).
    Signer,
}

/// What [`crate::Store::set_status`] changed, for either kind of credential.
#[derive(Debug, Clone, Serialize)]
pub struct StatusChange {
    /// The credential's id (cti, hex).
    pub id: String,
    /// Identity or signer credential.
    pub kind: CredentialKind,
    /// The citizen id (identity) or official id (signer) it was issued to.
    pub holder_id: String,
    /// Status list number (whose cached copies are now stale).
    pub status_list: i64,
    /// Index in the status list.
    pub status_index: i64,
    /// The status before the change.
    pub previous: CredentialStatus,
    /// The new status.
    pub status: CredentialStatus,
    /// The reason given.
    pub status_reason: Option<String>,
    /// When it changed (Unix seconds).
    pub status_changed_at: i64,
}

/// A signature to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSignature {
    /// Opaque id (chosen by the caller; unique).
    pub id: String,
    /// The official who signed.
    pub official_id: String,
    /// The signer credential that certified the key at signing time.
    pub signer_credential_id: String,
    /// SHA-256 of the document, 64 lowercase hex digits.
    pub digest: String,
    /// The document's name, as given.
    pub document_name: String,
    /// The document's media type.
    pub media_type: String,
    /// Unix seconds.
    pub signed_at: i64,
    /// The detached JWS.
    pub jws: String,
    /// The QR stamp payload for the printed copy.
    pub stamp: String,
    /// For a signed PDF (then `jws` is empty): its certificate and the signed file's digest.
    pub pades: Option<PadesSignature>,
}

/// What a PDF signature's record holds besides a JWS record's members.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PadesSignature {
    /// Serial (hex) of the official's certificate that signed.
    pub certificate_serial: String,
    /// SHA-256 of the signed PDF, 64 lowercase hex digits.
    pub signed_sha256: String,
}

/// The X.509 certificate of an official's PDF signing key, for one signer credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfficialCertificate {
    /// Serial, hex.
    pub serial: String,
    /// The official.
    pub official_id: String,
    /// The signer credential it goes with (revoked together).
    pub signer_credential_id: String,
    /// The P-256 private key, sealed under the KEK.
    pub key_sealed: Vec<u8>,
    /// The certificate, DER.
    pub certificate: Vec<u8>,
    /// Validity, Unix seconds.
    pub not_before: i64,
    /// Validity, Unix seconds.
    pub not_after: i64,
    /// When it was issued.
    pub created_at: i64,
}

/// A stored signature (signatures are never changed or deleted).
pub type SignatureRecord = NewSignature;

/// The kinds of account an administrator manages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountKind {
    /// Staff who enrol, issue and audit (`officers`).
    Officer,
    /// Registered clients: counters and portals (`clients`).
    Client,
    /// Officials who sign documents (`officials`).
    Official,
}

/// One account as an administrator lists it: no secret, hash or key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccountSummary {
    /// Username, or the client id.
    pub name: String,
    /// The officer's role, the client's display name or the official's full name.
    pub detail: String,
    /// Refused at sign-in and on every request.
    pub disabled: bool,
    /// Unix seconds.
    pub created_at: i64,
}

/// Which web app a browser session belongs to: a session of one is no session of another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebApp {
    /// The office: officers (`/office/`).
    Office,
    /// The citizens' own page (`/me/`).
    Me,
    /// The officials' signing desk (`/sign/`); the subject is the official's id.
    Sign,
}

impl WebApp {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            WebApp::Office => "office",
            WebApp::Me => "me",
            WebApp::Sign => "sign",
        }
    }
}

/// A browser session as stored: the cookie's token is never stored, only its SHA-256.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebSession {
    /// The app it is a session of.
    pub app: WebApp,
    /// Who signed in (an officer's username).
    pub subject: String,
    /// The account's token epoch at sign-in.
    pub epoch: i64,
    /// The session's anti-forgery token, which every form and script sends back.
    pub csrf: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds of the last request seen (updated at most once a minute).
    pub last_seen: i64,
    /// Unix seconds after which the session is over whatever happens.
    pub expires_at: i64,
}

/// A citizen's stored photo, as the service re-encoded it.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredPhoto {
    /// SHA-256 of `bytes`, 64 lower-case hex digits.
    pub sha256: String,
    /// `image/jpeg`.
    pub media_type: String,
    /// Pixels.
    pub width: u32,
    /// Pixels.
    pub height: u32,
    /// The image file.
    pub bytes: Vec<u8>,
}

impl fmt::Debug for StoredPhoto {
    // A face is personal data: debug output shows its digest and size, never its bytes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredPhoto")
            .field("sha256", &self.sha256)
            .field("media_type", &self.media_type)
            .field("width", &self.width)
            .field("height", &self.height)
            .field("bytes", &self.bytes.len())
            .finish()
    }
}

/// A credential offer to store (OpenID4VCI pre-authorized code flow): only digests of its
/// secrets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOffer {
    /// The offer's public id (random; logged and audited in place of the code).
    pub id: String,
    /// SHA-256 (hex) of the pre-authorized code.
    pub code_sha256: String,
    /// SHA-256 (hex) of the code, a colon and the PIN.
    pub pin_sha256: String,
    /// The citizen whose credential it delivers.
    pub citizen_id: String,
    /// The officer who made it (the issuance's actor).
    pub officer: String,
    /// `digest` or `photo`.
    pub profile: String,
    /// The credential's days of validity.
    pub valid_days: i64,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds from which the code is refused.
    pub expires_at: i64,
}

/// A stored credential offer and how far it has been spent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfferRecord {
    /// The offer's public id.
    pub id: String,
    /// SHA-256 (hex) of the code, a colon and the PIN.
    pub pin_sha256: String,
    /// The citizen.
    pub citizen_id: String,
    /// The officer who made it.
    pub officer: String,
    /// `digest` or `photo`.
    pub profile: String,
    /// The credential's days of validity.
    pub valid_days: i64,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds from which the code is refused.
    pub expires_at: i64,
    /// Wrong PINs so far.
    pub pin_failures: i64,
    /// When the code was redeemed for a token.
    pub redeemed_at: Option<i64>,
    /// When that token ends (0 once revoked).
    pub token_expires_at: Option<i64>,
    /// When the token asked for the credential.
    pub requested_at: Option<i64>,
    /// The credential delivered.
    pub credential_id: Option<String>,
}

/// One entry of a citizen's access record as their own page shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordEntry {
    /// The credential checked.
    pub credential_id: Option<String>,
    /// Who: a registered client's id, or `office:<username>` for an office counter.
    pub client_id: String,
    /// The registered client's name, if it is one.
    pub client_name: Option<String>,
    /// Unix seconds.
    pub at: i64,
    /// `valid`, a refusal's kind, `login`, `face_shown`, …
    pub outcome: String,
    /// For a login: the scopes shared.
    pub detail: Option<String>,
}
