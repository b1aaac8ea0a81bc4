// The citizen's browser wallet (/wallet/): receives the identity credential over OpenID4VCI
// 1.0, pre-authorized code flow (docs/api.md, "Credential delivery"; the same protocol as
// `qrid wallet receive`, crates/cli/src/vci.rs), keeps it in this browser, and shows it at a
// counter as a live QR (QP1:, docs/credential-format.md) that it signs anew every 15 s with
// a holder key that never leaves the browser. With the same key it logs the citizen in to a
// portal (docs/login.md, as `qrid wallet login`: the login QR read by the camera, pasted, or
// handed over by the same-phone link `/wallet/#login=…&code=…`, checked under the stored trust
// list, answered on consent) and signs documents (docs/signature-format.md, as `qrid wallet
// sign`: a detached JWS over the file's SHA-256, the file never leaves the browser).
//
// Storage: IndexedDB `qrid-wallet`, object store `items`: `holder` (an Ed25519 CryptoKeyPair
// whose private key is not extractable), `credential` (the payload text) and `trust` (the
// issuers' JWKS fetched when the credential was received, to check it offline later).
//
// One ES module, no build step. Its dependencies are in the page: the offline verifier
// (qrid-verify.mjs, imported from #wallet's data-verifier), the QR generator
// (qrcode-generator, a classic script that defines the global `qrcode`) and the QR reader
// (jsQR, a classic script that defines the global `jsQR`). Every text shown
// comes from the page (#w-messages), in its language; nothing is written with innerHTML and
// nothing is styled inline (the page's CSP allows neither). The PIN, the pre-authorized code
// and the access token are never logged and never stored.
//
// The protocol steps are exported as pure functions (fetch and the key injected), so that
// Node can import this module and test them: the page's part below runs only in a document
// that has #wallet.

export const CONFIGURATION_ID = 'qrid_claim169';
export const PRE_AUTHORIZED_GRANT = 'urn:ietf:params:oauth:grant-type:pre-authorized_code';
export const PROOF_TYP = 'openid4vci-proof+jwt';
/** Seconds between two live QR codes (PRESENTATION_REFRESH of crates/credential). */
export const REFRESH_SECONDS = 15;
/** The camera's frames are read every 120 ms (as the counter reads them), scaled to at most
 *  1280 px on their longer side. */
const SCAN_EVERY_MS = 120;
const SCAN_MAX_SIDE = 1280;
/** Longest offer link read: an offer by value is a few hundred characters. */
const MAX_LINK_CHARS = 8192;

const DB_NAME = 'qrid-wallet';
const STORE = 'items';

/** A failure the page shows as one of its messages (`key`), with an optional detail (a
 *  server's error_description, shown after the `refused` text). */
export class WalletError extends Error {
  constructor(key, detail = '', status = 0) {
    super(key);
    this.name = 'WalletError';
    this.key = key;
    this.detail = detail;
    this.status = status;
    /** For verify_failed: the verifier's refusal kind (shown as #w-error's data-kind). */
    this.kind = '';
  }
}

/** verify_failed, with the verifier's kind. */
function verifyFailed(kind) {
  const e = new WalletError('verify_failed');
  e.kind = kind || '';
  return e;
}

// ----- encoding -----

/** base64url without padding. */
export function base64url(bytes) {
  const b = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  let bin = '';
  for (let i = 0; i < b.length; i++) bin += String.fromCharCode(b[i]);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function base64urlText(text) {
  return base64url(new TextEncoder().encode(text));
}

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

// ----- the live QR -----

/** The QR code of a presentation's text (alphanumeric mode, level M, the smallest version). */
export function qrCodeOf(text, qrcodeFn = globalThis.qrcode) {
  if (typeof qrcodeFn !== 'function') throw new Error('the QR generator is not loaded');
  const q = qrcodeFn(0, 'M');
  q.addData(text, 'Alphanumeric');
  q.make();
  return q;
}

/** The path data of a QR code's dark modules, one run of a row per subpath, in module units
 *  offset by the quiet zone. */
export function qrPathData(q, quiet = 4) {
  const n = q.getModuleCount();
  const parts = [];
  for (let r = 0; r < n; r++) {
    let c = 0;
    while (c < n) {
      if (!q.isDark(r, c)) {
        c++;
        continue;
      }
      let end = c + 1;
      while (end < n && q.isDark(r, end)) end++;
      parts.push(`M${c + quiet} ${r + quiet}h${end - c}v1h-${end - c}z`);
      c = end;
    }
  }
  return parts.join('');
}

/** The QR code as an SVG element built with DOM methods: a white square with a quiet zone of
 *  4 modules and one path for the dark modules; its size comes from the page's CSS. */
export function qrSvg(doc, q) {
  const NS = 'http://www.w3.org/2000/svg';
  const size = q.getModuleCount() + 8;
  const svg = doc.createElementNS(NS, 'svg');
  svg.setAttribute('viewBox', `0 0 ${size} ${size}`);
  svg.setAttribute('shape-rendering', 'crispEdges');
  svg.setAttribute('class', 'qr');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  const bg = doc.createElementNS(NS, 'rect');
  bg.setAttribute('width', String(size));
  bg.setAttribute('height', String(size));
  bg.setAttribute('fill', '#fff');
  const path = doc.createElementNS(NS, 'path');
  path.setAttribute('d', qrPathData(q, 4));
  path.setAttribute('fill', '#000');
  svg.append(bg, path);
  return svg;
}

/** Unix seconds now. */
export function nowSeconds() {
  return Math.floor(Date.now() / 1000);
}

// ----- small byte helpers -----

const utf8 = (text) => new TextEncoder().encode(text);

function concatBytes(parts) {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function sameBytes(a, b) {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** base64url without padding, strictly (the alphabet only, no '=', no stray bits): the bytes,
 *  or null. */
export function fromBase64url(text) {
  if (typeof text !== 'string' || text.length % 4 === 1 || text.length > 65536) return null;
  if (!/^[A-Za-z0-9_-]*$/.test(text)) return null;
  let bin;
  try {
    bin = atob(text.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (text.length % 4)) % 4));
  } catch {
    return null;
  }
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  // Stray bits in the last character: another spelling of the same bytes, refused.
  return base64url(out) === text ? out : null;
}

/** SHA-256 of bytes, as a Uint8Array. */
export async function sha256(bytes) {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
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
const CBOR_MAX_DEPTH = 4;
const CBOR_MAX_ITEMS = 64;
/** The Ed25519 group order: a signature's s must be below it (verify_strict). */
const ED25519_ORDER = 2n ** 252n + 27742317777372353535851937790883648493n;

const loginInvalid = () => new WalletError('login_invalid');

/**
 * A small strict CBOR reader (RFC 8949), enough for a login request and its COSE_Sign1:
 * unsigned and negative integers (Numbers; beyond 2^53 refused), byte strings (Uint8Array
 * views of the input), UTF-8 text (fatal), arrays, maps (a Map of integer or text keys, no
 * duplicates), and tag 18 at the top only. Definite lengths and shortest heads only; nesting,
 * entry counts and lengths are checked before anything is read. Anything else, or bytes left
 * over, throws WalletError('login_invalid').
 */
export function decodeCbor(bytes, { tag18 = false } = {}) {
  const b = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  let pos = 0;
  const text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  function head() {
    if (pos >= b.length) throw loginInvalid();
    const first = b[pos++];
    const major = first >> 5;
    const ai = first & 31;
    let n;
    if (ai < 24) {
      n = ai;
    } else if (ai <= 27) {
      const len = 1 << (ai - 24);
      if (pos + len > b.length) throw loginInvalid();
      let big = 0n;
      for (let i = 0; i < len; i++) big = (big << 8n) | BigInt(b[pos + i]);
      pos += len;
      // Shortest form only (deterministic encoding, as cose.rs reads it).
      const min = [24n, 0x100n, 0x10000n, 0x100000000n][ai - 24];
      if (big < min) throw loginInvalid();
      if (big > BigInt(Number.MAX_SAFE_INTEGER)) throw loginInvalid();
      n = Number(big);
    } else {
      throw loginInvalid(); // indefinite lengths, reserved values
    }
    return { major, n };
  }
  function item(depth) {
    if (depth > CBOR_MAX_DEPTH) throw loginInvalid();
    const { major, n } = head();
    switch (major) {
      case 0:
        return n;
      case 1:
        return -1 - n;
      case 2:
      case 3: {
        if (n > b.length - pos) throw loginInvalid();
        const v = b.subarray(pos, pos + n);
        pos += n;
        if (major === 2) return v;
        try {
          return text.decode(v);
        } catch {
          throw loginInvalid();
        }
      }
      case 4: {
        if (n > CBOR_MAX_ITEMS || n > b.length - pos) throw loginInvalid();
        const out = [];
        for (let i = 0; i < n; i++) out.push(item(depth + 1));
        return out;
      }
      case 5: {
        if (n > CBOR_MAX_ITEMS || 2 * n > b.length - pos) throw loginInvalid();
        const out = new Map();
        for (let i = 0; i < n; i++) {
          const k = item(depth + 1);
          if (typeof k !== 'number' && typeof k !== 'string') throw loginInvalid();
          if (out.has(k)) throw loginInvalid();
          out.set(k, item(depth + 1));
        }
        return out;
      }
      case 6:
        if (!tag18 || depth !== 0 || n !== 18) throw loginInvalid();
        return { tag: 18, value: item(depth + 1) };
      default:
        throw loginInvalid(); // floats and simple values: not in a login request
    }
  }
  const value = item(0);
  if (pos !== b.length) throw loginInvalid();
  return value;
}

/** A CBOR head in its shortest form (lengths up to 2^32 - 1). */
function cborHead(major, n) {
  const m = major << 5;
  if (n < 24) return Uint8Array.of(m | n);
  if (n < 0x100) return Uint8Array.of(m | 24, n);
  if (n < 0x10000) return Uint8Array.of(m | 25, n >> 8, n & 0xff);
  return Uint8Array.of(m | 26, (n >>> 24) & 0xff, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff);
}

/** COSE `Sig_structure = ["Signature1", protected, h'', payload]` (cose.rs sig_structure). */
export function sigStructure(protectedBytes, payload) {
  return concatBytes([
    Uint8Array.of(0x84, 0x6a),
    utf8('Signature1'),
    cborHead(2, protectedBytes.length),
    protectedBytes,
    Uint8Array.of(0x40),
    cborHead(2, payload.length),
    payload,
  ]);
}

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
const DEFAULT_MEDIA_TYPE = 'application/octet-stream';
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

// ----- the page -----

if (typeof document !== 'undefined' && typeof window !== 'undefined') {
  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', () => page());
  } else {
    page();
  }
}

function page() {
  const root = document.getElementById('wallet');
  if (!root) return;
  const $ = (id) => document.getElementById(id);
  const SECTIONS = [
    'w-unsupported', 'w-empty', 'w-receive', 'w-card', 'w-live', 'w-login-scan', 'w-login-confirm', 'w-sign-section',
  ];
  const status = $('w-status');
  const error = $('w-error');
  const pinInput = $('w-pin');
  const linkInput = $('w-offer-link');
  const qrBox = $('w-qr');
  const countdown = $('w-countdown');
  const camera = $('w-camera');
  const loginText = $('w-login-text');
  const loginCode = $('w-login-code');
  const loginWho = $('w-login-who');
  const signFile = $('w-sign-file');
  const signResult = $('w-sign-result');
  const signDownload = $('w-sign-download');

  let db = null;
  let spareKey = null; // a key made at start (the Ed25519 check), used if none is stored
  let verifierModule = null;
  let offer = null; // the offer on screen
  let session = null; // its endpoints and access token, in memory only
  let receiving = false;
  let presenter = null; // a promise of { credential, sign, kid } for the live QR
  let live = null; // the running live QR: { refresh, tick, nextAt, wakeLock }
  let shown = 0;
  let cardShown = false; // the card was filled from storage since the page opened
  let scan = null; // the running camera: { stream, timer, canvas, ctx }
  let resumeScan = false; // the camera stopped because the page was hidden
  let refusedText = null; // a login request refused already: the camera does not read it again
  let opening = false; // a login request is being checked
  let pendingLogin = null; // the login request on screen: { verified, credential }
  let loggingIn = false;
  let signing = false;
  let signUrl = null; // the blob: URL of the signature offered for download

  // ----- texts -----

  function msg(key) {
    const li = root.querySelector(`#w-messages li[data-key="${key}"]`);
    return li ? li.textContent.trim() : key;
  }

  /** The text of a message whose key comes from outside (a scope's name), or null: compared,
   *  never put in a selector. */
  function lookup(key) {
    for (const li of root.querySelectorAll('#w-messages li[data-key]')) {
      if (li.getAttribute('data-key') === key) return li.textContent.trim();
    }
    return null;
  }

  function showSection(id) {
    for (const s of SECTIONS) {
      const el = $(s);
      if (el) el.hidden = s !== id;
    }
  }

  function say(key) {
    status.textContent = key ? msg(key) : '';
  }

  function clearError() {
    error.textContent = '';
    error.hidden = true;
    error.removeAttribute('data-key');
    error.removeAttribute('data-kind');
  }

  function showError(e, kind) {
    const key = e instanceof WalletError ? e.key : typeof e === 'string' ? e : 'network';
    let text = msg(key);
    if (key === 'refused' && e.detail) text = `${text.replace(/\s*$/, ' ')}${e.detail}`;
    error.textContent = text;
    error.setAttribute('data-key', key);
    const k = kind || (e instanceof WalletError ? e.kind : '');
    if (k) error.setAttribute('data-kind', k);
    error.hidden = false;
  }

  function unsupported() {
    stopLive(false);
    stopScan();
    say('');
    showSection('w-unsupported');
    const el = $('w-unsupported');
    if (el && !el.textContent.trim()) el.textContent = msg('unsupported');
  }

  // ----- IndexedDB -----

  function openDb() {
    return new Promise((resolve, reject) => {
      let req;
      try {
        req = indexedDB.open(DB_NAME, 1);
      } catch (e) {
        reject(e);
        return;
      }
      req.onupgradeneeded = () => {
        if (!req.result.objectStoreNames.contains(STORE)) req.result.createObjectStore(STORE);
      };
      req.onsuccess = () => {
        const d = req.result;
        d.onversionchange = () => d.close();
        resolve(d);
      };
      req.onerror = () => reject(req.error);
    });
  }

  /** One transaction over the store: `work(store)` issues the requests; resolves with the
   *  result of the last request it returns, once the transaction has committed. */
  function tx(mode, work) {
    return new Promise((resolve, reject) => {
      let t;
      try {
        t = db.transaction(STORE, mode);
        const req = work(t.objectStore(STORE));
        t.oncomplete = () => resolve(req ? req.result : undefined);
      } catch (e) {
        reject(e);
        return;
      }
      t.onerror = () => reject(t.error);
      t.onabort = () => reject(t.error || new Error('aborted'));
    });
  }

  const dbGet = (key) => tx('readonly', (s) => s.get(key));

  // ----- the verifier -----

  function verifier() {
    if (!verifierModule) {
      // Not loaded (offline before the service worker cached it): a network failure.
      verifierModule = import(root.dataset.verifier).catch(() => {
        verifierModule = null;
        throw new WalletError('network');
      });
    }
    return verifierModule;
  }

  /** The holder key's short kid and signer, made once. */
  async function keyParts(keyPair) {
    const v = await verifier();
    const raw = await rawPublicKey(keyPair);
    const got = await v.holderKid(raw);
    if (!got || got.length !== 32) throw new WalletError('unsupported');
    const thumb = new Uint8Array(got);
    return { raw, thumb, kid: thumb.slice(0, 4), sign: signerOf(keyPair) };
  }

  /** One live presentation's text; makePresentation answers a refusal object (never throws)
   *  when it cannot make one. */
  async function present(v, p) {
    const nonce = crypto.getRandomValues(new Uint8Array(8));
    const text = await v.makePresentation(p.credential, { sign: p.sign, kid: p.kid, now: nowSeconds(), nonce });
    if (typeof text !== 'string') {
      throw verifyFailed(text && text.kind);
    }
    return text;
  }

  /** The checks before a credential is kept: it verifies under the trust list, it is bound to
   *  this wallet's key, and a live QR made with that key is accepted. → the verdict. */
  async function selfCheck(credential, keyPair, trust) {
    const v = await verifier();
    const now = nowSeconds();
    const r = await v.verify(credential, { now, trust });
    if (!r || !r.ok) throw verifyFailed(r && r.kind);
    const parts = await keyParts(keyPair);
    if (r.claims && r.claims.holder_kid !== base64url(parts.thumb)) {
      throw verifyFailed('not_bound');
    }
    const text = await present(v, { credential, sign: parts.sign, kid: parts.kid });
    const p = await v.verifyPresentation(text, { now: nowSeconds(), trust, seen: new Map() });
    if (!p || !p.ok || !p.live || p.live.kind !== 'valid') {
      throw verifyFailed(p && p.kind);
    }
    return r;
  }

  // ----- the card -----

  function fillCard(claims) {
    const c = claims || {};
    $('w-name').textContent = c.full_name || '';
    $('w-id-number').textContent = c.id_number || '';
    $('w-dob').textContent = c.date_of_birth || '';
    $('w-expiry').textContent = Number.isSafeInteger(c.expires_at)
      ? new Date(c.expires_at * 1000).toISOString().slice(0, 10)
      : '';
  }

  /** A fresh trust list (the issuers' JWKS) from the service; throws network or refused. */
  async function fetchTrust() {
    return callJson(fetch.bind(window), root.dataset.trustUrl, { headers: { accept: 'application/json' } });
  }

  /** Shows the stored credential, checked under the stored trust list (offline); a trust
   *  list that no longer knows the issuer's key is fetched again when the service answers.
   *  Shows the empty wallet when nothing is stored. */
  async function showStored(verdict) {
    const credential = await dbGet('credential');
    if (typeof credential !== 'string') {
      showSection('w-empty');
      return;
    }
    let r = verdict;
    if (!r) {
      let v;
      try {
        v = await verifier();
      } catch (e) {
        fillCard(null);
        showError(e);
        showSection('w-card');
        cardShown = true;
        return;
      }
      const trust = await dbGet('trust');
      r = await v.verify(credential, { now: nowSeconds(), trust });
      if (!r.ok && (r.kind === 'unknown_key' || r.kind === 'bad_key')) {
        try {
          const fresh = await fetchTrust();
          const again = await v.verify(credential, { now: nowSeconds(), trust: fresh });
          if (again.ok) {
            await tx('readwrite', (s) => s.put(fresh, 'trust'));
            r = again;
          }
        } catch {
          // offline: keep the first verdict
        }
      }
    }
    fillCard(r.claims);
    if (!r.ok) showError('verify_failed', r.kind);
    showSection('w-card');
    cardShown = true;
    presenterFor().catch(() => {});
  }

  // ----- receiving -----

  function enterReceive(parsed) {
    offer = parsed;
    session = {};
    stopLive(false);
    pinInput.value = '';
    if (parsed.pinLength) pinInput.maxLength = parsed.pinLength;
    showSection('w-receive');
    pinInput.focus();
    // The metadata now, while the citizen types the PIN; the PIN's submit tries again if
    // this fails.
    const mine = session;
    discover(parsed, fetch.bind(window))
      .then((ep) => {
        if (!mine.endpoints) mine.endpoints = ep;
      })
      .catch((e) => {
        if (session === mine && !receiving) showError(e);
      });
  }

  /** The stored holder key, or the spare one (stored now, so a retry reuses it). */
  async function holderKey() {
    const stored = await dbGet('holder');
    if (stored && stored.privateKey && stored.publicKey) return stored;
    const key = spareKey || (await newHolderKey());
    try {
      await tx('readwrite', (s) => s.put(key, 'holder'));
    } catch {
      throw new WalletError('unsupported');
    }
    spareKey = null;
    return key;
  }

  async function onPin(event) {
    event.preventDefault();
    if (receiving || !offer) return;
    receiving = true;
    const button = $('w-pin-form').querySelector('button');
    if (button) button.disabled = true;
    clearError();
    say('receiving');
    const pin = pinInput.value.trim();
    try {
      const keyPair = await holderKey();
      const credential = await receive({ offer, pin, keyPair, fetch: fetch.bind(window), now: nowSeconds, session });
      let trust;
      try {
        trust = await fetchTrust();
      } catch (e) {
        throw e instanceof WalletError && e.key === 'network' ? e : new WalletError('verify_failed');
      }
      const verdict = await selfCheck(credential, keyPair, trust);
      await tx('readwrite', (s) => {
        s.put(trust, 'trust');
        return s.put(credential, 'credential');
      });
      presenter = null;
      offer = null;
      session = null;
      pinInput.value = '';
      history.replaceState(null, '', '/wallet/');
      say('received');
      await showStored(verdict);
    } catch (e) {
      say('');
      pinInput.value = '';
      if (e instanceof WalletError && e.key === 'unsupported') {
        unsupported();
      } else {
        showError(e instanceof WalletError ? e : verifyFailed(''));
        pinInput.focus();
      }
    } finally {
      receiving = false;
      if (button) button.disabled = false;
    }
  }

  function onOfferLink(event) {
    event.preventDefault();
    clearError();
    say('');
    try {
      const parsed = parseOffer(linkInput.value, location.origin);
      linkInput.value = '';
      enterReceive(parsed);
    } catch (e) {
      showError(e instanceof WalletError ? e : new WalletError('offer_invalid'));
      linkInput.focus();
    }
  }

  // ----- the live QR -----

  /** The stored credential and the holder key's signer and short kid, read once (and made
   *  ahead when the card is shown, so the first live QR does not wait for them). */
  function presenterFor() {
    if (!presenter) {
      const made = (async () => {
        const [credential, keyPair] = await Promise.all([dbGet('credential'), dbGet('holder')]);
        if (typeof credential !== 'string' || !keyPair) throw verifyFailed('');
        const parts = await keyParts(keyPair);
        return { credential, sign: parts.sign, kid: parts.kid };
      })();
      presenter = made;
      made.catch(() => {
        if (presenter === made) presenter = null;
      });
    }
    return presenter;
  }

  function updateCountdown() {
    if (!live) return;
    const s = Math.max(0, Math.ceil((live.nextAt - performance.now()) / 1000));
    countdown.textContent = msg('countdown').split('{s}').join(String(s));
  }

  async function showOne(run) {
    const started = performance.now();
    run.nextAt = started + REFRESH_SECONDS * 1000;
    run.refresh = setTimeout(() => showOne(run), REFRESH_SECONDS * 1000);
    updateCountdown();
    try {
      const p = await presenterFor();
      const v = await verifier();
      const text = await present(v, p);
      if (live !== run) return;
      const svg = qrSvg(document, qrCodeOf(text));
      qrBox.replaceChildren(svg);
      shown += 1;
      qrBox.setAttribute('data-made-ms', (performance.now() - started).toFixed(1));
      qrBox.setAttribute('data-count', String(shown));
    } catch (e) {
      if (live !== run) return;
      stopLive(true);
      showError(e instanceof WalletError ? e : verifyFailed(''));
    }
  }

  function startLive() {
    if (live) return;
    clearError();
    say('');
    const run = { refresh: null, tick: null, nextAt: 0, wakeLock: null };
    live = run;
    showSection('w-live');
    run.tick = setInterval(updateCountdown, 1000);
    // Keep the screen on while the counter scans (where the browser allows it).
    if (navigator.wakeLock && navigator.wakeLock.request) {
      navigator.wakeLock.request('screen').then((l) => {
        if (live === run) run.wakeLock = l;
        else l.release().catch(() => {});
      }).catch(() => {});
    }
    const hide = $('w-hide');
    if (hide) hide.focus();
    showOne(run);
  }

  /** Stops the live QR and takes it off the screen; back to the card when `toCard`. */
  function stopLive(toCard) {
    const run = live;
    if (!run) return;
    live = null;
    clearTimeout(run.refresh);
    clearInterval(run.tick);
    if (run.wakeLock) run.wakeLock.release().catch(() => {});
    qrBox.replaceChildren();
    countdown.textContent = '';
    if (toCard) {
      showSection('w-card');
      const show = $('w-show');
      if (show) show.focus();
    }
  }

  async function forget() {
    if (!window.confirm(msg('forget_confirm'))) return;
    stopLive(false);
    stopScan();
    pendingLogin = null;
    resetSign();
    cardShown = false;
    try {
      await tx('readwrite', (s) => s.clear());
    } catch {
      // nothing more to do: the next load shows what is left
    }
    presenter = null;
    fillCard(null);
    clearError();
    say('forgotten');
    showSection('w-empty');
    try {
      spareKey = await newHolderKey();
    } catch {
      spareKey = null;
    }
  }


  // ----- logging in to a portal (docs/login.md) -----

  /** Back to the card: as it is when it was shown already, else from storage. */
  async function backToCard() {
    if (cardShown) {
      showSection('w-card');
      return;
    }
    await showStored();
  }

  /** Starts the rear camera into #w-camera and looks for a login QR every 120 ms (as the
   *  counter does), in frames scaled to at most 1280 px. Without a camera (or jsQR), says so:
   *  the paste form still works. */
  function startScan() {
    if (scan) return;
    const run = { stream: null, timer: null, canvas: null, ctx: null };
    scan = run;
    const failed = () => {
      if (scan !== run) return;
      stopScan();
      showError('camera_unavailable');
    };
    const media = navigator.mediaDevices;
    if (!media || typeof media.getUserMedia !== 'function' || typeof globalThis.jsQR !== 'function') {
      failed();
      return;
    }
    media
      .getUserMedia({ video: { facingMode: 'environment' }, audio: false })
      .then(async (stream) => {
        if (scan !== run) {
          for (const t of stream.getTracks()) t.stop();
          return;
        }
        run.stream = stream;
        camera.srcObject = stream;
        await camera.play();
        if (scan !== run) return;
        run.canvas = document.createElement('canvas');
        run.ctx = run.canvas.getContext('2d', { willReadFrequently: true });
        if (!run.ctx) throw new Error('no canvas');
        scanTick(run);
      })
      .catch(failed);
  }

  function scanTick(run) {
    run.timer = null;
    if (scan !== run) return;
    const w = camera.videoWidth;
    const h = camera.videoHeight;
    if (w && h && !opening) {
      const k = Math.min(1, SCAN_MAX_SIDE / Math.max(w, h));
      const cw = Math.max(1, Math.round(w * k));
      const ch = Math.max(1, Math.round(h * k));
      let text = '';
      try {
        run.canvas.width = cw;
        run.canvas.height = ch;
        run.ctx.drawImage(camera, 0, 0, cw, ch);
        const img = run.ctx.getImageData(0, 0, cw, ch);
        const found = globalThis.jsQR(img.data, cw, ch, { inversionAttempts: 'dontInvert' });
        text = found && typeof found.data === 'string' ? found.data.trim() : '';
      } catch {
        text = '';
      }
      if (text.startsWith(LOGIN_PREFIX) && text !== refusedText) {
        openLogin(text, '', 'scan').catch(() => {});
      }
    }
    run.timer = setTimeout(() => scanTick(run), SCAN_EVERY_MS);
  }

  /** Stops the camera (every track) and empties the video. */
  function stopScan() {
    const run = scan;
    if (!run) return;
    scan = null;
    clearTimeout(run.timer);
    if (run.stream) for (const t of run.stream.getTracks()) t.stop();
    if (camera) {
      camera.pause();
      camera.srcObject = null;
    }
    if (run.canvas) {
      run.canvas.width = 0;
      run.canvas.height = 0;
    }
  }

  function enterLogin() {
    stopLive(false);
    clearError();
    say('');
    pendingLogin = null;
    refusedText = null;
    loginText.value = '';
    showSection('w-login-scan');
    startScan();
  }

  /**
   * Checks a login request (from the camera, the paste form or the same-phone link) against
   * the stored trust list and shows who asks for what; `code` prefills the confirmation code
   * (the same-phone link carries it). Refused: the message, and the camera looks on.
   */
  async function openLogin(text, code, from) {
    if (opening) return;
    opening = true;
    try {
      const credential = await dbGet('credential');
      if (typeof credential !== 'string') {
        stopScan();
        pendingLogin = null;
        clearError();
        showSection('w-empty');
        return;
      }
      const v = await verifier();
      const trust = await dbGet('trust');
      const verified = await verifyLoginRequest(text, { trust, now: nowSeconds(), origin: location.origin, verifier: v });
      // The citizen went back meanwhile: nothing to show.
      if (from === 'scan' && !scan) return;
      stopScan();
      showLogin(verified, credential, code);
    } catch (e) {
      const err = e instanceof WalletError ? e : new WalletError('login_invalid');
      if (from === 'link') await backToCard();
      say('');
      showError(err);
      if (from === 'scan') refusedText = text;
      if (from === 'paste') loginText.focus();
    } finally {
      opening = false;
    }
  }

  function showLogin(verified, credential, code) {
    const r = verified.request;
    pendingLogin = { verified, credential };
    clearError();
    say('');
    const client = `${r.clientName} (${r.clientId})`;
    loginWho.textContent = msg('login_asks').replace(/\{client\}|\{service\}/g, (m) => (m === '{client}' ? client : r.audience));
    loginWho.setAttribute('data-client', r.clientId);
    const items = r.scopes.map((scope) => {
      const li = document.createElement('li');
      const known = lookup(`scope_${scope}`);
      li.textContent = known === null ? scope : known;
      li.setAttribute('data-scope', scope);
      return li;
    });
    $('w-login-scopes').replaceChildren(...items);
    loginCode.value = validLoginCode(code) ? code : '';
    showSection('w-login-confirm');
    if (loginCode.value) $('w-login-approve').focus();
    else loginCode.focus();
  }

  function onLoginPaste(event) {
    event.preventDefault();
    const text = loginText.value.trim();
    if (!text) {
      loginText.focus();
      return;
    }
    clearError();
    openLogin(text, '', 'paste').catch(() => {});
  }

  /** The consent: signs the answer with the holder key and sends it with the code. */
  async function onLoginApprove(event) {
    event.preventDefault();
    const p = pendingLogin;
    if (!p || loggingIn) return;
    const code = loginCode.value.trim();
    if (!validLoginCode(code)) {
      loginCode.focus();
      return;
    }
    const button = $('w-login-approve');
    if (nowSeconds() > p.verified.request.expiresAt + LOGIN_SKEW) {
      pendingLogin = null;
      await backToCard();
      showError('login_expired');
      return;
    }
    loggingIn = true;
    if (button) button.disabled = true;
    clearError();
    say('');
    try {
      const keyPair = await dbGet('holder');
      if (!keyPair || !keyPair.privateKey) throw verifyFailed('');
      await answerLogin({
        verified: p.verified,
        credential: p.credential,
        code,
        sign: signerOf(keyPair),
        fetch: fetch.bind(window),
        origin: location.origin,
      });
      if (pendingLogin === p) pendingLogin = null;
      loginCode.value = '';
      await backToCard();
      say('login_sent');
    } catch (e) {
      showError(e instanceof WalletError ? e : new WalletError('network'));
      loginCode.value = '';
      loginCode.focus();
    } finally {
      loggingIn = false;
      if (button) button.disabled = false;
    }
  }

  async function onLoginDecline() {
    if (loggingIn) return;
    pendingLogin = null;
    loginCode.value = '';
    clearError();
    await backToCard();
    say('login_declined');
  }

  /** The same-phone link (`/wallet/#login=…&code=…`): the fragment is read, then cleared from
   *  the address (it never reached a server, and a reload must not answer it again). */
  function takeLoginLink() {
    const link = parseLoginLink(location.hash);
    if (!link) return null;
    history.replaceState(null, '', location.pathname + location.search);
    return link;
  }

  // ----- signing a document (docs/signature-format.md) -----

  function resetSign() {
    if (signUrl) {
      URL.revokeObjectURL(signUrl);
      signUrl = null;
    }
    signDownload.hidden = true;
    signDownload.removeAttribute('href');
    signDownload.removeAttribute('download');
    signResult.textContent = '';
    signResult.removeAttribute('data-jws');
  }

  function enterSign() {
    stopLive(false);
    stopScan();
    clearError();
    say('');
    resetSign();
    showSection('w-sign-section');
    signFile.focus();
  }

  /** Hashes the chosen file here (it never leaves the browser) and signs its digest with the
   *  holder key, in a detached JWS offered for download as `<name>.sig`. */
  async function onSign(event) {
    event.preventDefault();
    if (signing) return;
    const file = signFile.files && signFile.files[0];
    if (!file) {
      signFile.focus();
      return;
    }
    const button = $('w-sign-button');
    signing = true;
    if (button) button.disabled = true;
    clearError();
    say('');
    resetSign();
    try {
      if (file.size > MAX_DOCUMENT_BYTES) throw new WalletError('refused', '> 100 MiB');
      const name = documentName(file.name);
      if (name === null) throw new WalletError('refused', JSON.stringify(file.name));
      const mediaType = file.type ? documentMediaType(file.type) : DEFAULT_MEDIA_TYPE;
      if (mediaType === null) throw new WalletError('refused', JSON.stringify(file.type));
      const [credential, keyPair] = await Promise.all([dbGet('credential'), dbGet('holder')]);
      if (typeof credential !== 'string' || !keyPair || !keyPair.privateKey) throw verifyFailed('');
      const parts = await keyParts(keyPair);
      let digest;
      try {
        digest = await sha256(await file.arrayBuffer());
      } catch {
        throw new WalletError('refused', JSON.stringify(file.name));
      }
      const jws = await signDocument({
        sign: parts.sign,
        thumbprint: parts.thumb,
        signingTime: nowSeconds(),
        name,
        mediaType,
        digest,
        credential,
      });
      signUrl = URL.createObjectURL(new Blob([`${jws}\n`], { type: 'application/jose' }));
      signDownload.href = signUrl;
      signDownload.download = `${name}.sig`;
      signDownload.hidden = false;
      signResult.textContent = msg('sign_done').replace(/\{name\}/g, () => name);
      signResult.setAttribute('data-jws', jws);
      signDownload.focus();
    } catch (e) {
      showError(e instanceof WalletError ? e : new WalletError('refused'));
    } finally {
      signing = false;
      if (button) button.disabled = false;
    }
  }

  // ----- start -----

  async function start() {
    if (navigator.serviceWorker && root.dataset.sw) {
      navigator.serviceWorker.register(root.dataset.sw, { scope: '/wallet/' }).catch(() => {});
    }
    $('w-offer-form').addEventListener('submit', onOfferLink);
    $('w-pin-form').addEventListener('submit', onPin);
    $('w-show').addEventListener('click', startLive);
    $('w-hide').addEventListener('click', () => stopLive(true));
    $('w-forget').addEventListener('click', () => {
      forget().catch(() => {});
    });
    $('w-login').addEventListener('click', enterLogin);
    $('w-scan-stop').addEventListener('click', () => {
      stopScan();
      clearError();
      backToCard().catch(() => {});
    });
    $('w-login-paste').addEventListener('submit', onLoginPaste);
    $('w-login-form').addEventListener('submit', (e) => {
      onLoginApprove(e).catch(() => {});
    });
    $('w-login-decline').addEventListener('click', () => {
      onLoginDecline().catch(() => {});
    });
    $('w-sign').addEventListener('click', enterSign);
    $('w-sign-form').addEventListener('submit', (e) => {
      onSign(e).catch(() => {});
    });
    $('w-sign-back').addEventListener('click', () => {
      resetSign();
      clearError();
      backToCard().catch(() => {});
    });
    document.addEventListener('visibilitychange', () => {
      if (document.hidden) {
        stopLive(true);
        // The camera is off while the wallet is not on screen, and comes back with it.
        resumeScan = !!scan;
        stopScan();
      } else if (resumeScan) {
        resumeScan = false;
        if (!$('w-login-scan').hidden) startScan();
      }
    });
    window.addEventListener('pagehide', () => {
      stopLive(true);
      stopScan();
    });
    window.addEventListener('hashchange', () => {
      if (!db) return;
      const link = takeLoginLink();
      if (!link) return;
      stopLive(false);
      stopScan();
      openLogin(link.text, link.code, 'link').catch(() => {});
    });

    if (!globalThis.indexedDB || !globalThis.crypto || !crypto.subtle) {
      unsupported();
      return;
    }
    try {
      db = await openDb();
    } catch {
      unsupported();
      return;
    }
    let stored = null;
    try {
      stored = await dbGet('holder');
    } catch {
      unsupported();
      return;
    }
    if (!stored) {
      try {
        spareKey = await newHolderKey();
      } catch {
        unsupported();
        return;
      }
    }

    if (new URLSearchParams(location.search).has('credential_offer')) {
      try {
        enterReceive(parseOffer(location.href, location.origin));
        return;
      } catch (e) {
        showError(e);
      }
    }
    const link = takeLoginLink();
    if (link) {
      await openLogin(link.text, link.code, 'link');
      return;
    }
    await showStored();
  }

  start().catch(() => {
    showError('network');
  });
}
