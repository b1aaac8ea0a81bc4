// The browser wallet's protocols (wallet.mjs is the page), as pure functions with fetch, the
// clock and the holder key's signer injected, so that Node imports this module by path and
// tests them:
// - receiving the credential over OpenID4VCI 1.0, pre-authorized code flow (docs/api.md,
//   "Credential delivery"; as `qrid wallet receive`, crates/cli/src/vci.rs): the offer, the
//   issuer's metadata, the token, the nonce, the key proof JWT, the credential request;
// - logging in to a portal (docs/login.md, as `qrid wallet login`): the QL1: login request
//   opened and checked under the trust list, and the holder's signed answer;
// - signing a document (docs/signature-format.md, as `qrid wallet sign`): the signature's
//   protected header and the detached JWS.
// No DOM, except to find the URL of its one dependency, wallet-cbor.mjs (the error type, the
// byte helpers and the CBOR reader).

/**
 * The URL of a sibling module of the wallet. Every asset is served under a digest of its own
 * bytes (`/static/<digest>/<name>`, crates/web/src/assets.rs), so a relative import would name
 * the wrong digest and miss: in the page, #wallet gives each module's versioned URL in a data
 * attribute (`data-cbor`, …); elsewhere (Node) it is the file next to this one.
 */
function siblingUrl(key, file) {
  const root = typeof document !== 'undefined' ? document.getElementById('wallet') : null;
  const url = root ? root.dataset[key] : '';
  return url || new URL(file, import.meta.url).href;
}

const {
  WalletError,
  base64url,
  base64urlText,
  utf8,
  concatBytes,
  sameBytes,
  fromBase64url,
  sha256,
  decodeCbor,
  sigStructure,
} = await import(siblingUrl('cbor', './wallet-cbor.mjs'));

export const CONFIGURATION_ID = 'qrid_claim169';
export const PRE_AUTHORIZED_GRANT = 'urn:ietf:params:oauth:grant-type:pre-authorized_code';
export const PROOF_TYP = 'openid4vci-proof+jwt';
/** Longest offer link read: an offer by value is a few hundred characters. */
const MAX_LINK_CHARS = 8192;

const trimSlash = (s) => s.replace(/\/+$/, '');

// ----- the offer -----

/**
 * Reads a credential offer link: any link whose query has one `credential_offer` (the offer
 * by value, OpenID4VCI §4.1), e.g. `openid-credential-offer://?credential_offer=…` or
 * `https://…/wallet/offer?credential_offer=…`. The offer's `credential_issuer` must be
 * `origin` (this wallet talks to its own service only), it must offer `qrid_claim169`, and
 * hold a pre-authorized code.
 *
 * → { issuer, code, txCode: whether a PIN is asked, pinLength: its digits or null };
 * throws WalletError('offer_invalid').
 */
export function parseOffer(link, origin) {
  const invalid = () => new WalletError('offer_invalid');
  if (typeof link !== 'string' || typeof origin !== 'string') throw invalid();
  const text = link.trim();
  if (text.length === 0 || text.length > MAX_LINK_CHARS) throw invalid();
  const q = text.indexOf('?');
  if (q < 0) throw invalid();
  let query = text.slice(q + 1);
  const hash = query.indexOf('#');
  if (hash >= 0) query = query.slice(0, hash);
  const values = new URLSearchParams(query).getAll('credential_offer');
  if (values.length !== 1) throw invalid();
  let offer;
  try {
    offer = JSON.parse(values[0]);
  } catch {
    throw invalid();
  }
  if (!offer || typeof offer !== 'object' || Array.isArray(offer)) throw invalid();
  if (typeof offer.credential_issuer !== 'string') throw invalid();
  const issuer = trimSlash(offer.credential_issuer);
  if (issuer !== trimSlash(origin)) throw invalid();
  const ids = offer.credential_configuration_ids;
  if (!Array.isArray(ids) || !ids.includes(CONFIGURATION_ID)) throw invalid();
  const grant = offer.grants && typeof offer.grants === 'object' ? offer.grants[PRE_AUTHORIZED_GRANT] : null;
  if (!grant || typeof grant !== 'object') throw invalid();
  const code = grant['pre-authorized_code'];
  if (typeof code !== 'string' || code.length === 0) throw invalid();
  const tx = grant.tx_code;
  const txCode = tx !== undefined && tx !== null;
  const pinLength = txCode && Number.isSafeInteger(tx.length) && tx.length > 0 && tx.length <= 64 ? tx.length : null;
  return { issuer, code, txCode, pinLength };
}

/** Whether `url` is an absolute URL of the same origin as `issuer`. */
function sameOrigin(url, issuer) {
  if (typeof url !== 'string') return false;
  try {
    return new URL(url).origin === new URL(issuer).origin;
  } catch {
    return false;
  }
}

/**
 * Checks the issuer metadata (`/.well-known/openid-credential-issuer`) against the offer's
 * issuer: the same `credential_issuer`, EdDSA jwt proofs for qrid_claim169, endpoints on the
 * issuer's origin. → { credentialEndpoint, nonceEndpoint, authorizationServer }.
 */
export function readIssuerMetadata(meta, issuer) {
  const invalid = () => new WalletError('offer_invalid');
  if (!meta || typeof meta !== 'object') throw invalid();
  if (typeof meta.credential_issuer !== 'string' || trimSlash(meta.credential_issuer) !== issuer) throw invalid();
  const configs = meta.credential_configurations_supported;
  const config = configs && typeof configs === 'object' ? configs[CONFIGURATION_ID] : null;
  const algs = config && config.proof_types_supported && config.proof_types_supported.jwt
    ? config.proof_types_supported.jwt.proof_signing_alg_values_supported
    : null;
  if (!Array.isArray(algs) || !algs.includes('EdDSA')) throw invalid();
  const credentialEndpoint = meta.credential_endpoint;
  const nonceEndpoint = meta.nonce_endpoint;
  if (!sameOrigin(credentialEndpoint, issuer) || !sameOrigin(nonceEndpoint, issuer)) throw invalid();
  let authorizationServer = issuer;
  if (Array.isArray(meta.authorization_servers) && typeof meta.authorization_servers[0] === 'string') {
    authorizationServer = trimSlash(meta.authorization_servers[0]);
    if (!sameOrigin(authorizationServer, issuer)) throw invalid();
  }
  return { credentialEndpoint, nonceEndpoint, authorizationServer };
}

/** The token endpoint of the authorization server metadata, on the issuer's origin. */
export function readAuthorizationServerMetadata(meta, issuer) {
  if (!meta || typeof meta !== 'object' || !sameOrigin(meta.token_endpoint, issuer)) {
    throw new WalletError('offer_invalid');
  }
  return meta.token_endpoint;
}

// ----- HTTP -----

/**
 * Sends a request and reads its JSON answer. A request that does not get through, or a 5xx
 * without an OAuth error, is `network`; a refusal is `refused` with the server's
 * error_description (OAuth) or detail (problem+json).
 */
export async function callJson(fetchFn, url, init = {}) {
  let resp;
  try {
    resp = await fetchFn(url, { redirect: 'error', ...init });
  } catch {
    throw new WalletError('network');
  }
  let body = null;
  try {
    body = await resp.json();
  } catch {
    body = null;
  }
  const isObject = body !== null && typeof body === 'object' && !Array.isArray(body);
  if (!resp.ok) {
    const said = (k) => (isObject && typeof body[k] === 'string' && body[k] ? body[k] : null);
    const detail = said('error_description') || said('detail') || said('error') || said('title');
    if (!detail && resp.status >= 500) throw new WalletError('network', '', resp.status);
    throw new WalletError('refused', detail || String(resp.status), resp.status);
  }
  if (!isObject) throw new WalletError('refused', '', resp.status);
  return body;
}

/** Issuer metadata and authorization server metadata → the three endpoints. */
export async function discover(offer, fetchFn) {
  const meta = readIssuerMetadata(
    await callJson(fetchFn, `${offer.issuer}/.well-known/openid-credential-issuer`, { headers: { accept: 'application/json' } }),
    offer.issuer,
  );
  const tokenEndpoint = readAuthorizationServerMetadata(
    await callJson(fetchFn, `${meta.authorizationServer}/.well-known/oauth-authorization-server`, { headers: { accept: 'application/json' } }),
    offer.issuer,
  );
  return { tokenEndpoint, nonceEndpoint: meta.nonceEndpoint, credentialEndpoint: meta.credentialEndpoint };
}

/** The token request of the pre-authorized code flow → the access token. */
export async function requestToken(tokenEndpoint, offer, pin, fetchFn) {
  const form = new URLSearchParams();
  form.set('grant_type', PRE_AUTHORIZED_GRANT);
  form.set('pre-authorized_code', offer.code);
  if (offer.txCode) form.set('tx_code', pin);
  const answer = await callJson(fetchFn, tokenEndpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: form.toString(),
  });
  if (typeof answer.access_token !== 'string' || !answer.access_token) throw new WalletError('refused');
  return answer.access_token;
}

/** A fresh c_nonce from the nonce endpoint. */
export async function requestNonce(nonceEndpoint, fetchFn) {
  const answer = await callJson(fetchFn, nonceEndpoint, { method: 'POST', headers: { accept: 'application/json' } });
  if (typeof answer.c_nonce !== 'string' || !answer.c_nonce) throw new WalletError('refused');
  return answer.c_nonce;
}

/** The credential request with one jwt proof → the credential's payload text. */
export async function requestCredential(credentialEndpoint, accessToken, proof, fetchFn) {
  const answer = await callJson(fetchFn, credentialEndpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', authorization: `Bearer ${accessToken}` },
    body: JSON.stringify({ credential_configuration_id: CONFIGURATION_ID, proofs: { jwt: [proof] } }),
  });
  const first = Array.isArray(answer.credentials) ? answer.credentials[0] : null;
  if (!first || typeof first.credential !== 'string' || !first.credential) throw new WalletError('refused');
  return first.credential;
}

// ----- the holder key and the key proof -----

/** A new holder key: Ed25519, the private key not extractable. */
export function newHolderKey() {
  return crypto.subtle.generateKey({ name: 'Ed25519' }, false, ['sign', 'verify']);
}

/** The raw 32 bytes of the holder's public key. */
export async function rawPublicKey(keyPair) {
  return new Uint8Array(await crypto.subtle.exportKey('raw', keyPair.publicKey));
}

/** bytes → the holder key's Ed25519 signature over them, as a Uint8Array. */
export function signerOf(keyPair) {
  return async (bytes) => new Uint8Array(await crypto.subtle.sign({ name: 'Ed25519' }, keyPair.privateKey, bytes));
}

/** The header and claims of a key proof (OpenID4VCI §8.2.1.1), exactly as the CLI writes them. */
export function proofParts(publicKeyRaw, aud, iat, nonce) {
  const x = publicKeyRaw instanceof Uint8Array ? publicKeyRaw : new Uint8Array(publicKeyRaw);
  if (x.length !== 32) throw new TypeError('an Ed25519 public key is 32 bytes');
  if (!Number.isSafeInteger(iat)) throw new TypeError('iat must be an integer');
  return {
    header: { alg: 'EdDSA', typ: PROOF_TYP, jwk: { kty: 'OKP', crv: 'Ed25519', x: base64url(x) } },
    claims: { aud, iat, nonce },
  };
}

/** The JWS signing input of a key proof: b64url(header) "." b64url(claims). */
export function proofSigningInput(publicKeyRaw, aud, iat, nonce) {
  const { header, claims } = proofParts(publicKeyRaw, aud, iat, nonce);
  return `${base64urlText(JSON.stringify(header))}.${base64urlText(JSON.stringify(claims))}`;
}

/** The key proof JWT, signed with `sign` (bytes → signature bytes). */
export async function makeProof(sign, publicKeyRaw, aud, iat, nonce) {
  const input = proofSigningInput(publicKeyRaw, aud, iat, nonce);
  const signature = await sign(new TextEncoder().encode(input));
  return `${input}.${base64url(signature)}`;
}

/**
 * Runs the flow for a parsed offer with the PIN, proving possession of `keyPair`; → the
 * credential's payload text, not yet checked. `session` (an object kept while the offer is on
 * screen) remembers the endpoints and, once the code is redeemed, the access token, so that a
 * retry after a refused credential request does not spend the code again. `now` gives Unix
 * seconds.
 */
export async function receive({ offer, pin, keyPair, fetch: fetchFn, now, session = {} }) {
  if (!session.endpoints) session.endpoints = await discover(offer, fetchFn);
  const ep = session.endpoints;
  if (!session.accessToken) session.accessToken = await requestToken(ep.tokenEndpoint, offer, pin, fetchFn);
  const nonce = await requestNonce(ep.nonceEndpoint, fetchFn);
  const proof = await makeProof(signerOf(keyPair), await rawPublicKey(keyPair), offer.issuer, now(), nonce);
  try {
    return await requestCredential(ep.credentialEndpoint, session.accessToken, proof, fetchFn);
  } catch (e) {
    // An ended or used token: the next try asks for a new one (the server says whether the
    // code still holds).
    if (e instanceof WalletError && e.status === 401) session.accessToken = null;
    throw e;
  }
}

/** Unix seconds now. */
export function nowSeconds() {
  return Math.floor(Date.now() / 1000);
}

// ----- the login request (QL1:, docs/login.md, crates/credential/src/login.rs) -----

export const LOGIN_PREFIX = 'QL1:';
export const LOGIN_TYP = 'qrid-login';
/** Longest login request text (MAX_LOGIN_REQUEST_CHARS: QR version 40, alphanumeric, L). */
export const MAX_LOGIN_REQUEST_CHARS = 4296;
/** Most scopes, and the longest text field (bytes), of a request (login.rs). */
export const LOGIN_MAX_SCOPES = 16;
export const LOGIN_MAX_FIELD = 512;
/** Seconds of clock difference tolerated on a request's expiry (the CLI's SKEW). */
export const LOGIN_SKEW = 60;
/** The domain label the holder's answer signs before the request's digest. */
export const LOGIN_RESPONSE_DOMAIN = 'qrid-login-response-v1\0';
const LOGIN_MAX_LINK_CHARS = 16384;
const COSE_MAX_KID = 64;
const SHORT_KID_LEN = 4;
const MAX_KEYS_WITHOUT_KID = 16;
/** The Ed25519 group order: a signature's s must be below it (verify_strict). */
const ED25519_ORDER = 2n ** 252n + 27742317777372353535851937790883648493n;

const loginInvalid = () => new WalletError('login_invalid');

/**
 * Opens a login request's text without checking its signature: `QL1:` + base45 of a
 * COSE_Sign1 (tagged or not) whose protected header says EdDSA and typ `qrid-login`, and
 * whose payload is the request's CBOR map (login.rs `from_cbor`: every field present, within
 * its limit, a 32-byte challenge, exp not before iat). `base45Decode` is the verifier's.
 *
 * → { protected, kid (bytes or null), payload (the signed bytes), signature, request: { tx,
 *   challenge, audience, responseUri, clientId, clientName, scopes, issuedAt, expiresAt } };
 * throws WalletError('login_invalid').
 */
export function openLoginRequest(text, base45Decode) {
  if (typeof text !== 'string' || typeof base45Decode !== 'function') throw loginInvalid();
  const t = text.trim();
  if (t.length > MAX_LOGIN_REQUEST_CHARS || !t.startsWith(LOGIN_PREFIX)) throw loginInvalid();
  const bytes = base45Decode(t.slice(LOGIN_PREFIX.length));
  if (!(bytes instanceof Uint8Array) || bytes.length === 0) throw loginInvalid();
  let msg = decodeCbor(bytes, { tag18: true });
  if (msg && msg.tag === 18) msg = msg.value;
  if (!Array.isArray(msg) || msg.length !== 4) throw loginInvalid();
  const [prot, unprot, payload, signature] = msg;
  if (!(prot instanceof Uint8Array) || !(unprot instanceof Map)) throw loginInvalid();
  if (!(payload instanceof Uint8Array) || !(signature instanceof Uint8Array)) throw loginInvalid();
  if (signature.length !== 64) throw loginInvalid();
  const header = prot.length ? decodeCbor(prot) : new Map();
  if (!(header instanceof Map)) throw loginInvalid();
  if (header.has(2) || unprot.has(2) || unprot.has(1)) throw loginInvalid();
  if (header.get(1) !== -8) throw loginInvalid();
  if (header.get(16) !== LOGIN_TYP) throw loginInvalid();
  const kid = header.has(4) ? header.get(4) : unprot.has(4) ? unprot.get(4) : null;
  if (kid !== null && (!(kid instanceof Uint8Array) || kid.length === 0 || kid.length > COSE_MAX_KID)) {
    throw loginInvalid();
  }
  const m = decodeCbor(payload);
  if (!(m instanceof Map)) throw loginInvalid();
  const field = (k) => {
    const v = m.get(k);
    if (typeof v !== 'string' || utf8(v).length > LOGIN_MAX_FIELD) throw loginInvalid();
    return v;
  };
  const time = (k) => {
    const v = m.get(k);
    if (!Number.isSafeInteger(v)) throw loginInvalid();
    return v;
  };
  const challenge = m.get('ch');
  if (!(challenge instanceof Uint8Array) || challenge.length !== 32) throw loginInvalid();
  const sc = m.get('sc');
  if (!Array.isArray(sc) || sc.length > LOGIN_MAX_SCOPES) throw loginInvalid();
  const scopes = sc.map((s) => {
    if (typeof s !== 'string' || utf8(s).length > LOGIN_MAX_FIELD) throw loginInvalid();
    return s;
  });
  const request = {
    tx: field('tx'),
    challenge,
    audience: field('aud'),
    responseUri: field('rsp'),
    clientId: field('cid'),
    clientName: field('cn'),
    scopes,
    issuedAt: time('iat'),
    expiresAt: time('exp'),
  };
  if (request.expiresAt < request.issuedAt) throw loginInvalid();
  return { protected: prot, kid, payload, signature, request };
}

/**
 * The keys of a trust list (the issuers' JWKS kept with the credential) that a COSE kid may
 * name (keys.rs `candidates`: the whole thumbprint or a prefix of at least 4 bytes; without a
 * kid, a short list whole). Each key's kid must be its RFC 7638 thumbprint (`thumbprint`:
 * raw key → 32 bytes, the verifier's holderKid). The list was judged whole by the verifier
 * when it was stored (valid points, no weak keys). → [{ x, kid }].
 */
export async function trustCandidates(trust, kid, thumbprint) {
  const keys = trust && Array.isArray(trust.keys) ? trust.keys : [];
  const out = [];
  if (kid === null && keys.length > MAX_KEYS_WITHOUT_KID) return out;
  for (const jwk of keys.slice(0, 1000)) {
    if (!jwk || jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519') continue;
    if (typeof jwk.alg === 'string' && jwk.alg !== 'EdDSA' && jwk.alg !== 'Ed25519') continue;
    const x = fromBase64url(jwk.x);
    const id = fromBase64url(jwk.kid);
    if (!x || x.length !== 32 || !id || id.length !== 32) continue;
    if (kid !== null && (kid.length < SHORT_KID_LEN || !sameBytes(id.subarray(0, kid.length), kid))) continue;
    const thumb = await thumbprint(x);
    if (!thumb || !sameBytes(new Uint8Array(thumb), id)) continue;
    out.push({ x, kid: id });
  }
  return out;
}

/** Whether an Ed25519 signature's s (its last 32 bytes, little-endian) is below the group
 *  order, as verify_strict demands. */
function canonicalS(signature) {
  let s = 0n;
  for (let i = 63; i >= 32; i--) s = (s << 8n) | BigInt(signature[i]);
  return s < ED25519_ORDER;
}

/**
 * Checks a login request as `qrid wallet login` does, and more: it opens (openLoginRequest),
 * its issuer signature verifies under `trust`, its audience is this wallet's service
 * (`origin`), its response_uri is under the audience (`{aud}/…`) on that same origin, and it
 * has not expired (`now` Unix seconds, 60 s skew). `verifier` is the verifier module
 * (base45Decode, holderKid).
 *
 * → { request, payload } (payload: the signed bytes the answer binds to); throws
 * WalletError('login_invalid') or WalletError('login_expired').
 */
export async function verifyLoginRequest(text, { trust, now, origin, verifier }) {
  if (!verifier || typeof origin !== 'string' || !Number.isSafeInteger(now)) throw loginInvalid();
  const msg = openLoginRequest(text, verifier.base45Decode);
  const keys = await trustCandidates(trust, msg.kid, verifier.holderKid);
  if (keys.length === 0 || !canonicalS(msg.signature)) throw loginInvalid();
  const data = sigStructure(msg.protected, msg.payload);
  let verified = false;
  for (const k of keys) {
    let key;
    try {
      key = await crypto.subtle.importKey('raw', k.x, { name: 'Ed25519' }, false, ['verify']);
      verified = await crypto.subtle.verify({ name: 'Ed25519' }, key, msg.signature, data);
    } catch {
      verified = false;
    }
    if (verified) break;
  }
  if (!verified) throw loginInvalid();
  const r = msg.request;
  if (trimSlash(r.audience) !== trimSlash(origin)) throw loginInvalid();
  if (!r.responseUri.startsWith(`${r.audience}/`) || !sameOrigin(r.responseUri, origin)) throw loginInvalid();
  if (now > r.expiresAt + LOGIN_SKEW) throw new WalletError('login_expired');
  return { request: r, payload: msg.payload };
}

/** The bytes the holder key signs in answer (LoginRequest::response_message): the domain
 *  label `qrid-login-response-v1` and a zero byte, then SHA-256 of the signed payload. */
export async function loginResponseMessage(payload) {
  return concatBytes([utf8(LOGIN_RESPONSE_DOMAIN), await sha256(payload)]);
}

/** Whether a confirmation code is as the login page shows it: two digits. */
export function validLoginCode(code) {
  return typeof code === 'string' && /^[0-9]{2}$/.test(code);
}

/** The login response's body (docs/login.md): `{tx, credential, signature, code}`, the
 *  signature the holder's over loginResponseMessage(payload), base64url. */
export async function loginResponseBody({ verified, credential, code, sign }) {
  const signature = await sign(await loginResponseMessage(verified.payload));
  return { tx: verified.request.tx, credential, signature: base64url(signature), code };
}

/**
 * Answers a verified login request: signs, POSTs the body to its response_uri (on `origin`
 * only) and → the service's answer (`{status: "accepted", client_id}`). A refusal is
 * WalletError('refused') with the problem's detail; no answer is 'network'.
 */
export async function answerLogin({ verified, credential, code, sign, fetch: fetchFn, origin }) {
  if (!validLoginCode(code)) throw new WalletError('refused');
  if (!sameOrigin(verified.request.responseUri, origin)) throw loginInvalid();
  const body = await loginResponseBody({ verified, credential, code, sign });
  return callJson(fetchFn, verified.request.responseUri, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify(body),
    cache: 'no-store',
    credentials: 'omit',
  });
}

/**
 * The same-phone link's fragment: `#login=<percent-encoded QL1 text>&code=<2 digits>` (the
 * login page's "open the wallet on this phone", crates/server/src/oidc/page.rs). Read with
 * decodeURIComponent, not as a form: a base45 `+` is a plus, not a space.
 * → { text, code ('' when absent or not two digits) } or null when there is no login.
 */
export function parseLoginLink(hash) {
  if (typeof hash !== 'string') return null;
  const h = hash.startsWith('#') ? hash.slice(1) : hash;
  if (h.length === 0 || h.length > LOGIN_MAX_LINK_CHARS) return null;
  let text = null;
  let code = '';
  for (const part of h.split('&')) {
    const eq = part.indexOf('=');
    const name = eq < 0 ? part : part.slice(0, eq);
    let value;
    try {
      value = eq < 0 ? '' : decodeURIComponent(part.slice(eq + 1));
    } catch {
      value = null;
    }
    if (name === 'login') {
      if (text !== null) return null; // given twice: which one?
      text = value === null ? '' : value;
    } else if (name === 'code' && value !== null && validLoginCode(value)) {
      code = value;
    }
  }
  return text === null ? null : { text, code };
}

// ----- document signatures (docs/signature-format.md, crates/credential/src/docsig.rs) -----

/** Largest document signed (the service's limit for documents, docs/api.md). */
export const MAX_DOCUMENT_BYTES = 100 * 1024 * 1024;
/** docsig.rs limits: the name in Unicode scalar values, the media type, the signer
 *  credential (`qsc`) and the whole JWS in characters. */
export const DOCUMENT_NAME_MAX = 255;
export const MEDIA_TYPE_MAX = 255;
export const CREDENTIAL_MAX = 4296;
export const MAX_JWS_CHARS = 16 * 1024;
export const SIGD_BY_URI_HASH = 'http://uri.etsi.org/19182/ObjectIdByURIHash';
/** The media type of a file the browser gives none. */
export const DEFAULT_MEDIA_TYPE = 'application/octet-stream';
const WHITE_SPACE_EDGES = /^\p{White_Space}+|\p{White_Space}+$/gu;
// Text::new: control characters (Cc) and the bidirectional overrides and marks.
const FORBIDDEN_IN_NAME = /[\p{Cc}\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069\uFEFF]/u;
const MEDIA_TOKEN = /^[a-z0-9!#$&^_.+-]+$/;

/**
 * A document name as docsig.rs `DocumentRef::new` keeps it (through `Text::new`): trimmed,
 * NFC, 1 to 255 characters, no control or bidirectional-override characters, no `/` or `\`.
 * → the name to sign, or null when the Rust side would refuse it.
 */
export function documentName(raw) {
  if (typeof raw !== 'string' || raw.length > DOCUMENT_NAME_MAX * 12) return null;
  // A lone surrogate has no UTF-8 spelling.
  if (/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(raw)) return null;
  const name = raw.replace(WHITE_SPACE_EDGES, '').normalize('NFC');
  if (name.length === 0 || [...name].length > DOCUMENT_NAME_MAX) return null;
  if (FORBIDDEN_IN_NAME.test(name) || /[/\\]/.test(name)) return null;
  return name;
}

/** A media type as DocumentRef::new keeps it: trimmed, lower-cased, `type/subtype` of RFC
 *  6838 token characters, at most 255. → the type, or null. */
export function documentMediaType(raw) {
  if (typeof raw !== 'string') return null;
  const t = raw.trim().replace(/[A-Z]/g, (c) => c.toLowerCase());
  if (t.length > MEDIA_TYPE_MAX) return null;
  const slash = t.indexOf('/');
  if (slash < 0) return null;
  return MEDIA_TOKEN.test(t.slice(0, slash)) && MEDIA_TOKEN.test(t.slice(slash + 1)) ? t : null;
}

/** Unix seconds → `YYYY-MM-DDThh:mm:ssZ` (date.rs format_utc), for the years 1800 to 9999. */
export function formatUtc(secs) {
  if (!Number.isSafeInteger(secs)) throw new TypeError('a time is an integer');
  const d = new Date(secs * 1000);
  const year = d.getUTCFullYear();
  if (!(year >= 1800 && year <= 9999)) throw new RangeError('signing time outside the years 1800 to 9999');
  return `${d.toISOString().slice(0, 19)}Z`;
}

/**
 * The protected header of a wallet's document signature, as the JSON text SignatureHeader::to_json
 * writes (the same members in the same order; no `qsid`, which only the service sets):
 * `{"alg":"EdDSA","typ":"jose","kid":…,"sigT":…,"crit":["sigT","sigD"],"sigD":{"mId":…,
 * "pars":[name],"hashM":"S256","hashV":[digest],"ctys":[media type]},"qsc":…}`.
 * `thumbprint` is the holder key's 32-byte RFC 7638 thumbprint, `digest` the document's
 * SHA-256, `signingTime` Unix seconds. Throws WalletError('refused') for a name, a media type
 * or a credential docsig.rs would refuse.
 */
export function signatureHeaderJson({ thumbprint, signingTime, name, mediaType, digest, credential }) {
  const n = documentName(name);
  const t = documentMediaType(mediaType);
  if (n === null || t === null) throw new WalletError('refused', n === null ? 'sigD.pars' : 'sigD.ctys');
  if (typeof credential !== 'string' || credential.length === 0 || utf8(credential).length > CREDENTIAL_MAX) {
    throw new WalletError('refused', 'qsc');
  }
  const thumb = thumbprint instanceof Uint8Array ? thumbprint : new Uint8Array(thumbprint || []);
  const dig = digest instanceof Uint8Array ? digest : new Uint8Array(digest || []);
  if (thumb.length !== 32 || dig.length !== 32) throw new TypeError('a thumbprint and a digest are 32 bytes');
  return JSON.stringify({
    alg: 'EdDSA',
    typ: 'jose',
    kid: base64url(thumb),
    sigT: formatUtc(signingTime),
    crit: ['sigT', 'sigD'],
    sigD: {
      mId: SIGD_BY_URI_HASH,
      pars: [n],
      hashM: 'S256',
      hashV: [base64url(dig)],
      ctys: [t],
    },
    qsc: credential,
  });
}

/** The detached JWS of a document: `BASE64URL(header) "." "" "." BASE64URL(signature over
 *  BASE64URL(header) ".")`, signed with `sign` (bytes → Ed25519 signature bytes). */
export async function signDocument({ sign, ...fields }) {
  const input = `${base64urlText(signatureHeaderJson(fields))}.`;
  const signature = await sign(utf8(input));
  const jws = `${input}.${base64url(signature)}`;
  if (jws.length > MAX_JWS_CHARS) throw new WalletError('refused', 'JWS > 16 KiB');
  return jws;
}
