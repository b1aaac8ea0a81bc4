// The browser wallet's foundation (wallet.mjs is the page): its error type, the byte and
// base64url helpers, and a small strict CBOR reader with the COSE Sig_structure, for the login
// requests of wallet-protocol.mjs. No imports and no DOM: Node imports it by path to test it.

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
export function verifyFailed(kind) {
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

/** base64url of a text's UTF-8. */
export function base64urlText(text) {
  return base64url(new TextEncoder().encode(text));
}

// ----- small byte helpers -----

/** A text's UTF-8 bytes. */
export const utf8 = (text) => new TextEncoder().encode(text);

/** The bytes of `parts`, one after the other. */
export function concatBytes(parts) {
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

/** Whether two byte arrays are equal. */
export function sameBytes(a, b) {
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

// ----- CBOR (login requests: docs/login.md, crates/credential/src/login.rs) -----

const CBOR_MAX_DEPTH = 4;
const CBOR_MAX_ITEMS = 64;

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
export function cborHead(major, n) {
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
