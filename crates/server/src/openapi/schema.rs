//! Schemas of the bodies the handlers write with `json!` or take as types of other crates
//! (which stay free of utoipa), and the error responses many operations share. Schema only:
//! nothing here is constructed, the handlers' own code writes the bodies, and docs/api.md says
//! what each member means.

// The types exist for their `ToSchema` and `IntoResponses` impls alone.
#![allow(dead_code)]

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, IntoResponses, ToSchema};

/// An RFC 9457 problem (`application/problem+json`). Some carry extension members besides
/// these: `citizen_id` on an enrolment's 409, the verdict's members on an invalid signature.
#[derive(ToSchema)]
#[schema(as = Problem)]
pub struct ProblemJson {
    /// `urn:qrid:problem:<kind>`, the kind stable (docs/api.md, Errors).
    #[schema(example = "urn:qrid:problem:forbidden")]
    r#type: String,
    /// The HTTP reason phrase.
    #[schema(example = "Forbidden")]
    title: String,
    /// The HTTP status.
    #[schema(example = 403)]
    status: u16,
    /// For people; never holds secrets.
    #[schema(example = "this needs the role issuer or admin")]
    detail: String,
}

/// An OAuth 2.0 error (RFC 6749 §5.2, RFC 6750 §3), as OAuth clients expect it.
#[derive(ToSchema)]
pub struct OAuthError {
    /// `invalid_request`, `invalid_client`, `invalid_grant`, `unsupported_grant_type`,
    /// `invalid_token`, `server_error`.
    error: String,
    /// For people.
    error_description: String,
}

// ----- officers, citizens, credentials -----

/// An officer's or official's bearer token.
#[derive(ToSchema)]
pub struct BearerToken {
    /// An HS256 JWT.
    access_token: String,
    /// Always `Bearer`.
    #[schema(example = "Bearer")]
    token_type: String,
    /// Seconds the token lasts (900).
    #[schema(example = 900)]
    expires_in: i64,
}

/// A citizen to enrol: the claims object of docs/examples/citizen.json (full rules:
/// docs/credential-format.md). Claims that fail validation answer 422 `bad_claims`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CitizenInput {
    /// Exactly 12 ASCII digits; unique among enrolled citizens.
    #[schema(example = "001099012345")]
    id_number: String,
    /// 1–80 characters after NFC and trimming.
    full_name: String,
    /// `YYYY-MM-DD`.
    #[schema(example = "1990-01-15")]
    date_of_birth: String,
    /// `M`, `F` or `X`.
    sex: Option<String>,
    /// ISO 3166-1 alpha-2, upper case.
    nationality: Option<String>,
    /// 1–120 characters.
    place_of_origin: Option<String>,
    /// 1–120 characters.
    place_of_residence: Option<String>,
    /// 64 hexadecimal digits.
    photo_sha256: Option<String>,
    /// Accepted and ignored.
    issue_date: Option<String>,
    /// Accepted and ignored.
    expiry_date: Option<String>,
}

/// An enrolled citizen: the validated claims, its id and enrolment time.
#[derive(Serialize, ToSchema)]
pub struct Citizen {
    /// The citizen's opaque id (16 hexadecimal digits).
    id: String,
    /// Unix seconds.
    created_at: i64,
    id_number: String,
    full_name: String,
    date_of_birth: String,
    sex: Option<String>,
    nationality: Option<String>,
    place_of_origin: Option<String>,
    place_of_residence: Option<String>,
    photo_sha256: Option<String>,
}

/// One published status list.
#[derive(Serialize, ToSchema)]
pub struct StatusListRef {
    /// Its number.
    n: i64,
    /// Where it is served.
    uri: String,
}

/// The index of the status lists.
#[derive(Serialize, ToSchema)]
pub struct StatusListIndex {
    lists: Vec<StatusListRef>,
}

/// The citizens a search found.
#[derive(Serialize, ToSchema)]
pub struct CitizenList {
    citizens: Vec<Citizen>,
}

/// A citizen with the credentials issued to them, newest first.
#[derive(Serialize, ToSchema)]
pub struct CitizenWithCredentials {
    #[serde(flatten)]
    citizen: Citizen,
    credentials: Vec<CredentialSummary>,
}

/// One credential of a citizen.
#[derive(Serialize, ToSchema)]
pub struct CredentialSummary {
    id: String,
    status: CredentialStatus,
    issued_at: i64,
    expires_at: i64,
}

/// A credential's status.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum CredentialStatus {
    Valid,
    Revoked,
    Suspended,
}

/// A holder's (wallet's) Ed25519 public key as a JWK, bound into the credential's `cnf`.
#[derive(Deserialize, ToSchema)]
pub struct HolderJwk {
    /// `OKP`.
    kty: String,
    /// `Ed25519`.
    crv: String,
    /// base64url, 32 bytes.
    x: String,
    /// Its RFC 7638 thumbprint.
    kid: String,
    /// `EdDSA` or `Ed25519`.
    alg: Option<String>,
    r#use: Option<String>,
}

/// A credential just issued.
#[derive(ToSchema)]
pub struct IssuedCredential {
    /// The credential's `cti` (16 hexadecimal digits).
    id: String,
    /// The QR text (base45).
    payload: String,
    issued_at: i64,
    expires_at: i64,
    status_list: i64,
    status_index: i64,
    /// `{public_url}/v1/status-lists/{status_list}`.
    status_uri: String,
}

/// A stored credential.
#[derive(ToSchema)]
pub struct CredentialRecord {
    id: String,
    citizen_id: String,
    /// The full thumbprint of the signing key.
    kid: String,
    status: CredentialStatus,
    /// `null` until the status first changes.
    status_reason: Option<String>,
    /// When the status last changed (Unix seconds); `null` while it never has.
    status_changed_at: Option<i64>,
    payload: String,
    issued_at: i64,
    expires_at: i64,
    status_list: i64,
    status_index: i64,
    /// Built from the current `public_url`.
    status_uri: String,
}

/// A credential's access record: the verifications that named it, newest first.
#[derive(ToSchema)]
pub struct AccessRecord {
    credential_id: String,
    verifications: Vec<VerificationRow>,
}

/// One verification.
#[derive(ToSchema)]
pub struct VerificationRow {
    credential_id: Option<String>,
    client_id: String,
    at: i64,
    /// `valid` or the verdict's error kind.
    outcome: String,
}

/// A credential's status after a change.
#[derive(ToSchema)]
pub struct StatusChanged {
    id: String,
    status: CredentialStatus,
    status_reason: Option<String>,
}

// ----- verification -----

/// An image to read QR codes from.
#[derive(ToSchema)]
pub struct VerifyImage {
    /// A PNG or JPEG (judged by its bytes), at most 40 megapixels.
    #[schema(value_type = String, format = Binary)]
    image: Vec<u8>,
}

/// What `/v1/verify` answers: one verdict, or for an image with several QR codes, a list.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub enum VerifyAnswer {
    One(Verdict),
    Several(Verdicts),
}

/// The verdicts of an image with several QR codes, in the order they were found.
#[derive(Serialize, ToSchema)]
pub struct Verdicts {
    verdicts: Vec<Verdict>,
}

/// A verdict on one credential (docs/api.md, The verdict). An invalid credential is a verdict
/// too (`valid: false`), not an error.
#[derive(Serialize, ToSchema)]
pub struct Verdict {
    valid: bool,
    /// `valid` or `unchecked` when valid; `revoked` or `suspended` on those errors.
    status: Option<String>,
    /// The identity data and `credential_id`, `issuer`, `issued_at`, `expires_at`,
    /// `status_list`, `holder_kid` (valid verdicts only).
    claims: Option<Value>,
    /// The thumbprint of the issuer key that verified the signature (valid verdicts only).
    kid: Option<String>,
    /// Why the credential is not valid.
    error: Option<VerdictError>,
    /// When the signature verified and the claims parsed before the failure.
    credential_id: Option<String>,
}

/// Why a credential is not valid.
#[derive(Serialize, ToSchema)]
pub struct VerdictError {
    /// A stable kind (`too_large`, `bad_signature`, `expired`, `revoked`, …).
    kind: String,
    /// For people.
    message: String,
}

// ----- publication and operations -----

/// A JSON Web Key Set (RFC 7517).
#[derive(ToSchema)]
pub struct JwkSet {
    /// The keys.
    keys: Vec<Value>,
}

/// The service's health.
#[derive(ToSchema)]
pub struct Health {
    /// `ok`.
    status: String,
    /// `sqlite` or `postgres`.
    database: String,
    writable: bool,
}

// ----- document signatures -----

/// An official's sign-in answer.
#[derive(ToSchema)]
pub struct OfficialToken {
    access_token: String,
    /// `Bearer`.
    token_type: String,
    /// Seconds (900).
    expires_in: i64,
    official: OfficialSummary,
}

/// An official as their signatures name them.
#[derive(ToSchema)]
pub struct OfficialSummary {
    id: String,
    name: String,
    title: String,
    agency: String,
    /// The thumbprint of the official's signing key.
    kid: String,
}

/// A signing session just opened.
#[derive(ToSchema)]
pub struct SigningSession {
    /// The token to send as `X-Signing-Session`.
    session: String,
    documents: i64,
    expires_at: i64,
}

/// A document's digest to sign (`application/json`).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignDigest {
    /// The document's SHA-256, 64 hexadecimal digits.
    digest: String,
    /// The document's name.
    name: String,
    /// `type/subtype`; default `application/octet-stream`.
    media_type: Option<String>,
    /// If sent, must be the official's own key.
    kid: Option<String>,
}

/// A document to sign (`multipart/form-data`), hashed as it streams.
#[derive(ToSchema)]
pub struct SignUpload {
    /// At most 100 MiB; its file name and content type name it unless `name` and
    /// `media_type` say otherwise.
    #[schema(value_type = String, format = Binary)]
    document: Vec<u8>,
    name: Option<String>,
    media_type: Option<String>,
    kid: Option<String>,
}

/// A document signed.
#[derive(ToSchema)]
pub struct SignatureCreated {
    id: String,
    signed_at: i64,
    /// The detached JWS.
    jws: String,
    /// The QR stamp's text (`QS1:…`).
    stamp: String,
    url: String,
    stamp_png: String,
    stamp_svg: String,
    document: DocumentInfo,
    signer: SignerInfo,
    signer_credential_id: String,
    /// With a signing session only.
    session_documents_left: Option<i64>,
}

/// The signed document.
#[derive(ToSchema)]
pub struct DocumentInfo {
    name: String,
    media_type: String,
    /// SHA-256, hexadecimal.
    sha256: String,
    /// Bytes, for uploads only.
    size: Option<u64>,
}

/// Who signed.
#[derive(ToSchema)]
pub struct SignerInfo {
    name: String,
    title: String,
    agency: String,
    kid: String,
}

/// A signature record: what a QR stamp points to.
#[derive(ToSchema)]
pub struct SignatureRecord {
    id: String,
    signed_at: i64,
    url: String,
    document: DocumentInfo,
    signer_credential_id: String,
    jws: String,
    stamp: String,
    stamp_png: String,
    stamp_svg: String,
    /// On `GET /v1/signatures/{id}`.
    signer: Option<SignerInfo>,
    /// On `GET /v1/signatures/{id}`: the signer credential's status now.
    signer_credential: Option<SignerCredential>,
}

/// A signer credential's status.
#[derive(ToSchema)]
pub struct SignerCredential {
    id: String,
    status: CredentialStatus,
    status_changed_at: Option<i64>,
    expires_at: i64,
}

/// A page of an official's signatures, newest first.
#[derive(ToSchema)]
pub struct SignatureList {
    signatures: Vec<SignatureRecord>,
    /// Pass as `before` for the next page; `null` on the last.
    next_before: Option<i64>,
}

/// A signature to verify (`application/json`).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifySignatureJson {
    /// The detached JWS.
    signature: String,
    /// The document's SHA-256 (64 hexadecimal digits); without it the document is not compared.
    digest: Option<String>,
}

/// A signature to verify with its document (`multipart/form-data`).
#[derive(ToSchema)]
pub struct VerifySignatureUpload {
    /// The detached JWS.
    signature: String,
    /// At most 100 MiB, hashed as it streams; without it the document is not compared.
    #[schema(value_type = Option<String>, format = Binary)]
    document: Option<Vec<u8>>,
}

// ----- OpenID Connect -----

/// A login's state, as the login page polls it.
#[derive(ToSchema)]
pub struct LoginState {
    /// `pending`, `complete`, `expired` or `failed`.
    status: String,
    /// While pending.
    expires_at: Option<i64>,
    /// Where to send the browser: the portal, with a code (first poll after the wallet's
    /// answer) or `error=access_denied`.
    redirect_to: Option<String>,
}

/// A wallet's answer accepted.
#[derive(ToSchema)]
pub struct LoginAccepted {
    /// `accepted`.
    status: String,
    client_id: String,
}

/// A code to redeem (`application/x-www-form-urlencoded`, each parameter once), with exactly
/// one client authentication: HTTP Basic, `client_id` and `client_secret`, or
/// `client_assertion_type` and `client_assertion` (`private_key_jwt`).
#[derive(ToSchema)]
pub struct TokenForm {
    /// `authorization_code`.
    grant_type: String,
    code: String,
    /// The one of the authorization request.
    redirect_uri: String,
    /// PKCE, 43–128 characters.
    code_verifier: String,
    client_id: Option<String>,
    client_secret: Option<String>,
    /// `urn:ietf:params:oauth:client-assertion-type:jwt-bearer`.
    client_assertion_type: Option<String>,
    client_assertion: Option<String>,
}

/// The tokens of a redeemed code.
#[derive(ToSchema)]
pub struct OidcTokens {
    /// Opaque, for `/userinfo` only; 10 minutes.
    access_token: String,
    /// `Bearer`.
    token_type: String,
    /// 600.
    expires_in: i64,
    /// Signed with the algorithm the client registered.
    id_token: String,
    scope: String,
}

/// The claims of the granted scopes, under the client's pairwise `sub`.
#[derive(ToSchema)]
pub struct UserInfo {
    sub: String,
    /// `profile`.
    name: Option<String>,
    /// `profile`.
    birthdate: Option<String>,
    /// `profile`: `male`, `female` or `other`.
    gender: Option<String>,
    /// `address`: `{"formatted": …}`.
    address: Option<Value>,
    /// `national_id`.
    national_id: Option<String>,
    /// `national_id`.
    nationality: Option<String>,
}

// ----- shared error responses -----

/// What an officer's bearer token and role may be refused with.
#[derive(IntoResponses)]
pub enum OfficerErrors {
    /// `unauthorized`: no, malformed, expired or no longer valid officer token.
    #[response(status = 401, content_type = "application/problem+json")]
    Unauthorized(ProblemJson),
    /// `forbidden`: the officer's role may not do this.
    #[response(status = 403, content_type = "application/problem+json")]
    Forbidden(ProblemJson),
}

/// What a JSON body may be refused with before its shape is looked at.
#[derive(IntoResponses)]
pub enum JsonErrors {
    /// `malformed_json`: the body is not JSON.
    #[response(status = 400, content_type = "application/problem+json")]
    Malformed(ProblemJson),
    /// `body_too_large`: over 64 KiB.
    #[response(status = 413, content_type = "application/problem+json")]
    TooLarge(ProblemJson),
    /// `unsupported_media_type`: not `Content-Type: application/json`.
    #[response(status = 415, content_type = "application/problem+json")]
    MediaType(ProblemJson),
}

/// What an operation that reads or writes the database may fail with.
#[derive(IntoResponses)]
pub enum ServerErrors {
    /// `internal`: anything unexpected; the cause is in the service log under the request id.
    #[response(status = 500, content_type = "application/problem+json")]
    Internal(ProblemJson),
    /// `database_unavailable` (nothing was changed; `Retry-After: 5`) or `timeout`.
    #[response(
        status = 503,
        content_type = "application/problem+json",
        headers(("Retry-After" = u64, description = "Seconds to wait"))
    )]
    Unavailable(ProblemJson),
}

// ----- parameters -----

/// A citizen's, credential's or signature's id.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub struct Id {
    /// 16 hexadecimal digits; any other string answers 404 `not_found`.
    id: String,
}

/// A credential's QR image.
#[derive(Serialize, ToSchema)]
pub enum QrFile {
    #[serde(rename = "qr.png")]
    Png,
    #[serde(rename = "qr.svg")]
    Svg,
}

/// A signature's QR stamp.
#[derive(Serialize, ToSchema)]
pub enum StampFile {
    #[serde(rename = "stamp.png")]
    Png,
    #[serde(rename = "stamp.svg")]
    Svg,
}

/// The portal's authorization request (each parameter once, the query at most 4096
/// characters; docs/portal-guide.md).
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuthorizeQuery {
    /// `code`.
    response_type: String,
    client_id: String,
    /// Exactly one the client registered.
    redirect_uri: String,
    /// With `openid`.
    scope: String,
    /// At most 512 characters.
    state: Option<String>,
    /// At most 512 characters.
    nonce: Option<String>,
    /// PKCE: base64url of a SHA-256, 43 characters.
    code_challenge: String,
    /// `S256`.
    code_challenge_method: String,
    /// `query`.
    response_mode: Option<String>,
    /// `none` answers `login_required`.
    prompt: Option<String>,
}
