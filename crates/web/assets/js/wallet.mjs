// The citizen's browser wallet (/wallet/): receives the identity credential over OpenID4VCI
// 1.0, pre-authorized code flow (docs/api.md, "Credential delivery"; the same protocol as
// `qrid wallet receive`, crates/cli/src/vci.rs), keeps it in this browser, and shows it at a
// counter as a live QR (QP1:, docs/credential-format.md) that it signs anew every 15 s with
// a holder key that never leaves the browser.
//
// Storage: IndexedDB `qrid-wallet`, object store `items`: `holder` (an Ed25519 CryptoKeyPair
// whose private key is not extractable), `credential` (the payload text) and `trust` (the
// issuers' JWKS fetched when the credential was received, to check it offline later).
//
// One ES module, no build step. Its dependencies are in the page: the offline verifier
// (qrid-verify.mjs, imported from #wallet's data-verifier) and the QR generator
// (qrcode-generator, a classic script that defines the global `qrcode`). Every text shown
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
  const SECTIONS = ['w-unsupported', 'w-empty', 'w-receive', 'w-card', 'w-live'];
  const status = $('w-status');
  const error = $('w-error');
  const pinInput = $('w-pin');
  const linkInput = $('w-offer-link');
  const qrBox = $('w-qr');
  const countdown = $('w-countdown');

  let db = null;
  let spareKey = null; // a key made at start (the Ed25519 check), used if none is stored
  let verifierModule = null;
  let offer = null; // the offer on screen
  let session = null; // its endpoints and access token, in memory only
  let receiving = false;
  let presenter = null; // a promise of { credential, sign, kid } for the live QR
  let live = null; // the running live QR: { refresh, tick, nextAt, wakeLock }
  let shown = 0;

  // ----- texts -----

  function msg(key) {
    const li = root.querySelector(`#w-messages li[data-key="${key}"]`);
    return li ? li.textContent.trim() : key;
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
    document.addEventListener('visibilitychange', () => {
      if (document.hidden) stopLive(true);
    });
    window.addEventListener('pagehide', () => stopLive(true));

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
    await showStored();
  }

  start().catch(() => {
    showError('network');
  });
}
