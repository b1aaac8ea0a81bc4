// The wallet's login to a portal (docs/login.md, as `qrid wallet login`; wallet.mjs is the
// page, wallet-protocol.mjs the protocol): the login QR read by the rear camera (jsQR, a classic
// script in the page that defines the global `jsQR`), pasted, or handed over by the same-phone
// link `/wallet/#login=…&code=…`; checked under the stored trust list; who asks for what shown;
// answered with the holder key on consent. No imports: the page hands it what it uses.

/** The camera's frames are read every 120 ms (as the counter reads them), scaled to at most
 *  1280 px on their longer side. */
const SCAN_EVERY_MS = 120;
const SCAN_MAX_SIDE = 1280;

/**
 * The login screens of the page (#w-login-scan, #w-login-confirm). `page` gives the page's
 * helpers (`$`, msg, lookup, say, clearError, showError, showSection, dbGet, verifier,
 * stopLive, backToCard), `lib` the exports of wallet-cbor.mjs and wallet-protocol.mjs.
 * → the screens' entry points, for the page's buttons and its start.
 */
export function loginScreens(page, lib) {
  const { $, msg, lookup, say, clearError, showError, showSection, dbGet, verifier, stopLive, backToCard } = page;
  const {
    WalletError, verifyFailed, verifyLoginRequest, answerLogin, validLoginCode, parseLoginLink, signerOf, nowSeconds,
    LOGIN_PREFIX, LOGIN_SKEW,
  } = lib;
  const camera = $('w-camera');
  const loginText = $('w-login-text');
  const loginCode = $('w-login-code');
  const loginWho = $('w-login-who');

  let scan = null; // the running camera: { stream, timer, canvas, ctx }
  let refusedText = null; // a login request refused already: the camera does not read it again
  let opening = false; // a login request is being checked
  let pendingLogin = null; // the login request on screen: { verified, credential }
  let loggingIn = false;

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

  return {
    startScan,
    stopScan,
    /** Whether the camera runs. */
    scanning: () => scan !== null,
    enterLogin,
    openLogin,
    onLoginPaste,
    onLoginApprove,
    onLoginDecline,
    takeLoginLink,
    /** Forgets the login request on screen. */
    dropPending: () => {
      pendingLogin = null;
    },
  };
}
