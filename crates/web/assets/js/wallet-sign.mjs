// The wallet's document signing (docs/signature-format.md, as `qrid wallet sign`; wallet.mjs is
// the page, wallet-protocol.mjs the signature's format): the chosen file is hashed in the
// browser (it never leaves it) and its digest signed with the holder key, in a detached JWS
// offered for download. No imports: the page hands it what it uses.

/**
 * The signing screen of the page (#w-sign-section). `page` gives the page's helpers (`$`, msg,
 * say, clearError, showError, showSection, dbGet, keyParts, stopLive, stopScan), `lib` the
 * exports of wallet-cbor.mjs and wallet-protocol.mjs. → the screen's entry points.
 */
export function signScreen(page, lib) {
  const { $, msg, say, clearError, showError, showSection, dbGet, keyParts, stopLive, stopScan } = page;
  const {
    WalletError, verifyFailed, sha256, nowSeconds, documentName, documentMediaType, signDocument,
    MAX_DOCUMENT_BYTES, DEFAULT_MEDIA_TYPE,
  } = lib;
  const signFile = $('w-sign-file');
  const signResult = $('w-sign-result');
  const signDownload = $('w-sign-download');

  let signing = false;
  let signUrl = null; // the blob: URL of the signature offered for download

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

  return { resetSign, enterSign, onSign };
}
