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
// ES modules, no build step; this one is the page (storage, the card, receiving, the live QR,
// the wiring). wallet-cbor.mjs holds the error type, the byte helpers and the CBOR reader,
// wallet-protocol.mjs the protocols as pure functions (fetch and the key injected) that Node
// imports and tests, wallet-login.mjs and wallet-sign.mjs the login and the signing screens.
// In the page too: the offline verifier (qrid-verify.mjs, imported from #wallet's
// data-verifier), the QR generator (qrcode-generator, a classic script that defines the global
// `qrcode`) and the QR reader (jsQR, likewise the global `jsQR`). Every text shown comes from
// the page (#w-messages), in its language; nothing is written with innerHTML and nothing is
// styled inline (the page's CSP allows neither). The PIN, the pre-authorized code and the
// access token are never logged and never stored. Node may import this module (it re-exports
// the protocol's names): the page's part runs only in a document that has #wallet.

/** Seconds between two live QR codes (PRESENTATION_REFRESH of crates/credential). */
export const REFRESH_SECONDS = 15;

const DB_NAME = 'qrid-wallet';
const STORE = 'items';

// ----- the wallet's other modules -----

/** A sibling module's URL: in the page the versioned one #wallet gives in `data-<key>` (each
 *  asset has a digest of its own, so a relative URL would miss), in Node the file beside this. */
function siblingUrl(key, file) {
  const root = typeof document !== 'undefined' ? document.getElementById('wallet') : null;
  const url = root ? root.dataset[key] : '';
  return url || new URL(file, import.meta.url).href;
}

/** The other modules; null in a page that cannot load them (offline, not cached yet). */
const modules = await Promise.all([
  import(siblingUrl('cbor', './wallet-cbor.mjs')),
  import(siblingUrl('protocol', './wallet-protocol.mjs')),
  import(siblingUrl('login', './wallet-login.mjs')),
  import(siblingUrl('sign', './wallet-sign.mjs')),
]).catch((e) => {
  if (typeof document === 'undefined') throw e;
  return null;
});
const [cbor, protocol, { loginScreens }, { signScreen }] = modules || [{}, {}, {}, {}];
const { verifyFailed } = cbor;

// What this module exported before the split, from the modules that now hold it.
export const { WalletError, base64url, fromBase64url, sha256, decodeCbor, sigStructure } = cbor;
export const {
  CONFIGURATION_ID, PRE_AUTHORIZED_GRANT, PROOF_TYP, parseOffer, readIssuerMetadata, readAuthorizationServerMetadata,
  callJson, discover, requestToken, requestNonce, requestCredential, newHolderKey, rawPublicKey, signerOf, proofParts,
  proofSigningInput, makeProof, receive, nowSeconds, LOGIN_PREFIX, LOGIN_TYP, MAX_LOGIN_REQUEST_CHARS,
  LOGIN_MAX_SCOPES, LOGIN_MAX_FIELD, LOGIN_SKEW, LOGIN_RESPONSE_DOMAIN, openLoginRequest, trustCandidates,
  verifyLoginRequest, loginResponseMessage, validLoginCode, loginResponseBody, answerLogin, parseLoginLink,
  MAX_DOCUMENT_BYTES, DOCUMENT_NAME_MAX, MEDIA_TYPE_MAX, CREDENTIAL_MAX, MAX_JWS_CHARS, SIGD_BY_URI_HASH,
  documentName, documentMediaType, formatUtc, signatureHeaderJson, signDocument,
} = protocol;

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
  if (!modules) {
    // As when the verifier does not load: the service cannot be reached.
    const li = root.querySelector('#w-messages li[data-key="network"]');
    const error = document.getElementById('w-error');
    error.textContent = li ? li.textContent.trim() : 'network';
    error.setAttribute('data-key', 'network');
    error.hidden = false;
    return;
  }
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
  let resumeScan = false; // the camera stopped because the page was hidden

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
    login.stopScan();
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
    login.stopScan();
    login.dropPending();
    signing.resetSign();
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

  // ----- logging in (wallet-login.mjs) and signing (wallet-sign.mjs) -----

  /** Back to the card: as it is when it was shown already, else from storage. */
  async function backToCard() {
    if (cardShown) {
      showSection('w-card');
      return;
    }
    await showStored();
  }

  const lib = { ...cbor, ...protocol };
  const login = loginScreens({ $, msg, lookup, say, clearError, showError, showSection, dbGet, verifier, stopLive, backToCard }, lib);
  const signing = signScreen({ $, msg, say, clearError, showError, showSection, dbGet, keyParts, stopLive, stopScan: login.stopScan }, lib);

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
    $('w-login').addEventListener('click', login.enterLogin);
    $('w-scan-stop').addEventListener('click', () => {
      login.stopScan();
      clearError();
      backToCard().catch(() => {});
    });
    $('w-login-paste').addEventListener('submit', login.onLoginPaste);
    $('w-login-form').addEventListener('submit', (e) => {
      login.onLoginApprove(e).catch(() => {});
    });
    $('w-login-decline').addEventListener('click', () => {
      login.onLoginDecline().catch(() => {});
    });
    $('w-sign').addEventListener('click', signing.enterSign);
    $('w-sign-form').addEventListener('submit', (e) => {
      signing.onSign(e).catch(() => {});
    });
    $('w-sign-back').addEventListener('click', () => {
      signing.resetSign();
      clearError();
      backToCard().catch(() => {});
    });
    document.addEventListener('visibilitychange', () => {
      if (document.hidden) {
        stopLive(true);
        // The camera is off while the wallet is not on screen, and comes back with it.
        resumeScan = login.scanning();
        login.stopScan();
      } else if (resumeScan) {
        resumeScan = false;
        if (!$('w-login-scan').hidden) login.startScan();
      }
    });
    window.addEventListener('pagehide', () => {
      stopLive(true);
      login.stopScan();
    });
    window.addEventListener('hashchange', () => {
      if (!db) return;
      const link = login.takeLoginLink();
      if (!link) return;
      stopLive(false);
      login.stopScan();
      login.openLogin(link.text, link.code, 'link').catch(() => {});
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
    const link = login.takeLoginLink();
    if (link) {
      await login.openLogin(link.text, link.code, 'link');
      return;
    }
    await showStored();
  }

  start().catch(() => {
    showError('network');
  });
}
