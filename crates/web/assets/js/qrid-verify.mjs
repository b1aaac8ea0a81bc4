// qrid offline verifier: identity credentials (MOSIP Claim 169 in a CWT, COSE_Sign1 with
// Ed25519, zlib, base45) and IETF Token Status List tokens, as docs/credential-format.md
// specifies them and crates/verifier implements them. It answers every case of tests/vectors/
// with the verdict kind of the Rust verifier (tests/js/vectors.mjs checks that).
//
// It also reads and writes the wallet's live presentation (QP1:, crates/credential/src/
// presentation.rs): `verifyPresentation` checks one as the service's live check does
// (crates/service/src/live.rs), `makePresentation` makes the same bytes as the Rust
// `Presentation::sign` (tests/js/presentation.mjs checks both against the Rust crate).
//
// One ES module, no dependencies, no build step, no eval: it runs unchanged in a browser
// (<script type="module">, strict CSP) and in Node 20. Platform APIs used: WebCrypto
// (SHA-256, Ed25519), TextEncoder and TextDecoder (fatal). zlib streams are inflated by the
// small bounded inflater below rather than DecompressionStream: Node 20's DecompressionStream
// accepts bytes after the end of a zlib stream, which the Rust verifier refuses, and a stream
// that fails drops the output it had queued, so "too large" and "corrupt" could not be told
// apart the way the Rust verifier tells them apart.
//
// Hostile input is the normal case: every length is checked before anything is allocated for
// it, nesting, entry counts and output sizes are bounded, and every failure is a returned
// verdict `{ ok: false, kind, message }`, never an exception.

// ----- limits (docs/credential-format.md, "Limits") -----

const MAX_PAYLOAD_CHARS = 4296;
const MAX_DECOMPRESSED = 16 * 1024;
const MAX_DEPTH = 16;
const MAX_MAP_ENTRIES = 256;
const MAX_KID_LEN = 64;
const SHORT_KID_LEN = 4;
const MAX_KEYS_WITHOUT_KID = 16;
const MAX_TRUSTED_KEYS = 1000;
const MAX_JWKS_BYTES = 1024 * 1024;
const MAX_LIST_BYTES = 16 * 1024 * 1024;
const MAX_TOKEN_BYTES = MAX_LIST_BYTES + 4096;
const FULL_NAME_MAX = 80;
const PLACE_MAX = 120;
const ISSUER_MAX = 64;
const STATUS_URI_MAX = 256;
const STATUS_TYP = 'application/statuslist+cwt';
const DAY = 86400n;
const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;
const U64_MAX = 2n ** 64n - 1n;

const DEFAULT_POLICY = Object.freeze({ clock_skew: 300, max_status_age: 48 * 3600, require_status: false });

// ----- verdicts -----

/** A refusal with a stable kind; thrown inside, returned as `{ ok: false, kind, message }`. */
class Refusal {
  constructor(kind, message) {
    this.kind = kind;
    this.message = message;
  }
}

function refuse(kind, message) {
  throw new Refusal(kind, message);
}

function failure(e) {
  if (e instanceof Refusal) return { ok: false, kind: e.kind, message: e.message };
  // Not reachable by design; a verdict rather than an exception all the same.
  return { ok: false, kind: 'internal_error', message: `the verifier failed: ${e && e.message ? e.message : String(e)}` };
}

// ----- small helpers -----

const encoder = new TextEncoder();

function utf8Bytes(s) {
  return encoder.encode(s);
}

/** Strict UTF-8 (no BOM stripping): null if the bytes are not UTF-8. */
function utf8Text(bytes) {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return null;
  }
}

function hex(bytes) {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += (bytes[i] < 16 ? '0' : '') + bytes[i].toString(16);
  return s;
}

function concat(parts) {
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

function startsWithBytes(whole, prefix) {
  if (prefix.length > whole.length) return false;
  for (let i = 0; i < prefix.length; i++) if (whole[i] !== prefix[i]) return false;
  return true;
}

function clampI64(x) {
  return x > I64_MAX ? I64_MAX : x < I64_MIN ? I64_MIN : x;
}

/** A BigInt as a Number for output (exact for every realistic timestamp). */
function num(x) {
  return Number(x);
}

function asBytes(x) {
  if (x instanceof Uint8Array) return x;
  if (x instanceof ArrayBuffer) return new Uint8Array(x);
  if (ArrayBuffer.isView(x)) return new Uint8Array(x.buffer, x.byteOffset, x.byteLength);
  return null;
}

function toI64(value, what) {
  let v;
  if (typeof value === 'bigint') v = value;
  else if (typeof value === 'number' && Number.isSafeInteger(value)) v = BigInt(value);
  else refuse('invalid_argument', `${what} must be an integer`);
  if (v < I64_MIN || v > I64_MAX) refuse('invalid_argument', `${what} is out of range`);
  return v;
}

const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

function base64url(bytes) {
  let s = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    s += B64URL[n >> 18] + B64URL[(n >> 12) & 63] + B64URL[(n >> 6) & 63] + B64URL[n & 63];
  }
  if (bytes.length - i === 1) {
    const n = bytes[i] << 16;
    s += B64URL[n >> 18] + B64URL[(n >> 12) & 63];
  } else if (bytes.length - i === 2) {
    const n = (bytes[i] << 16) | (bytes[i + 1] << 8);
    s += B64URL[n >> 18] + B64URL[(n >> 12) & 63] + B64URL[(n >> 6) & 63];
  }
  return s;
}

/** base64url without padding, strictly (no '=', no stray trailing bits): null if malformed. */
function fromBase64url(s) {
  if (typeof s !== 'string' || s.length % 4 === 1 || s.length > 4 * 1024 * 1024) return null;
  const out = new Uint8Array(Math.floor((s.length * 3) / 4));
  let acc = 0;
  let bits = 0;
  let o = 0;
  for (let i = 0; i < s.length; i++) {
    const v = B64URL.indexOf(s[i]);
    if (v < 0) return null;
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
    acc &= (1 << bits) - 1;
  }
  if (acc !== 0) return null;
  return out.subarray(0, o);
}

// ----- WebCrypto -----

function subtle() {
  const s = globalThis.crypto && globalThis.crypto.subtle;
  if (!s) {
    refuse('unsupported_algorithm', 'WebCrypto is not available here (a browser offers it only to pages served over HTTPS or from localhost)');
  }
  return s;
}

async function sha256(bytes) {
  return new Uint8Array(await subtle().digest('SHA-256', bytes));
}

const keyCache = new Map();

async function ed25519Key(x) {
  const id = hex(x);
  const cached = keyCache.get(id);
  if (cached) return cached;
  let key;
  try {
    key = await subtle().importKey('raw', x, { name: 'Ed25519' }, false, ['verify']);
  } catch (e) {
    if (e instanceof Refusal) throw e;
    refuse('unsupported_algorithm', `this platform cannot verify Ed25519 signatures (${e && e.name ? e.name : 'import failed'})`);
  }
  if (keyCache.size >= 2048) keyCache.clear();
  keyCache.set(id, key);
  return key;
}

async function ed25519Verify(x, signature, message) {
  const key = await ed25519Key(x);
  try {
    return await subtle().verify({ name: 'Ed25519' }, key, signature, message);
  } catch (e) {
    refuse('unsupported_algorithm', `this platform cannot verify Ed25519 signatures (${e && e.name ? e.name : 'verify failed'})`);
  }
}

// ----- Edwards25519 point checks (what ed25519-dalek checks and WebCrypto does not) -----

const P = 2n ** 255n - 19n;
const ORDER_L = 2n ** 252n + 27742317777372353535851937790883648493n;

function modp(a) {
  const r = a % P;
  return r < 0n ? r + P : r;
}

function powp(base, exp) {
  let result = 1n;
  let b = modp(base);
  let e = exp;
  while (e > 0n) {
    if (e & 1n) result = (result * b) % P;
    b = (b * b) % P;
    e >>= 1n;
  }
  return result;
}

const CURVE_D = modp(-121665n * powp(121666n, P - 2n));

function leInt(bytes) {
  let v = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i]);
  return v;
}

/** The y coordinate of a compressed point, reduced as curve25519-dalek reduces it. */
function pointY(bytes) {
  const b = Uint8Array.from(bytes);
  b[31] &= 0x7f;
  return modp(leInt(b));
}

/** Whether 32 bytes decompress to a curve point (curve25519-dalek's `decompress`). */
function isPoint(bytes) {
  const y = pointY(bytes);
  const y2 = (y * y) % P;
  const u = modp(y2 - 1n);
  const v = modp(CURVE_D * y2 + 1n);
  const x2 = (u * powp(v, P - 2n)) % P;
  return x2 === 0n || powp(x2, (P - 1n) / 2n) === 1n;
}

// The y coordinates of the eight points of small order: 1 (identity), -1 (order 2), 0 (order
// 4) and ±y8 (order 8).
const Y8 = leInt(Uint8Array.from([
  0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10, 0x67, 0x0f,
  0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac, 0x03, 0x7a,
]));
const SMALL_ORDER_Y = [0n, 1n, P - 1n, Y8, P - Y8];

/** Whether a point (that decompresses) has small order: a weak key or a forged-looking R. */
function isSmallOrder(bytes) {
  return SMALL_ORDER_Y.includes(pointY(bytes));
}

// ----- base45 (RFC 9285) -----

const B45 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:';
const B45_VALUE = new Int16Array(256).fill(-1);
for (let i = 0; i < 45; i++) B45_VALUE[B45.charCodeAt(i)] = i;

/** RFC 9285 base45 of the UTF-8 bytes of a text, strictly (the Rust decoder's rules): refuses
 *  a length of 3k + 1, a character outside the alphabet and a group above 0xffff (or 0xff). */
function unbase45(input) {
  const n = input.length;
  if (n % 3 === 1) refuse('base45', `payload is not valid base45: length ${n} is not a valid base45 length`);
  const out = new Uint8Array(Math.floor(n / 3) * 2 + (n % 3 === 2 ? 1 : 0));
  let o = 0;
  let i = 0;
  for (; i + 3 <= n; i += 3) {
    const a = B45_VALUE[input[i]];
    const b = B45_VALUE[input[i + 1]];
    const c = B45_VALUE[input[i + 2]];
    if (a < 0 || b < 0 || c < 0) {
      refuse('base45', `payload is not valid base45: character at position ${i + (a < 0 ? 0 : b < 0 ? 1 : 2)} is outside the base45 alphabet`);
    }
    const v = a + b * 45 + c * 2025;
    if (v > 0xffff) refuse('base45', `payload is not valid base45: group at position ${i} encodes a value out of range`);
    out[o++] = v >> 8;
    out[o++] = v & 0xff;
  }
  if (n - i === 2) {
    const a = B45_VALUE[input[i]];
    const b = B45_VALUE[input[i + 1]];
    if (a < 0 || b < 0) refuse('base45', `payload is not valid base45: character at position ${i + (a < 0 ? 0 : 1)} is outside the base45 alphabet`);
    const v = a + b * 45;
    if (v > 0xff) refuse('base45', `payload is not valid base45: group at position ${i} encodes a value out of range`);
    out[o++] = v;
  }
  return out;
}

function base45Bytes(bytes) {
  let s = '';
  for (let i = 0; i + 1 < bytes.length; i += 2) {
    const n = bytes[i] * 256 + bytes[i + 1];
    s += B45[n % 45] + B45[Math.floor(n / 45) % 45] + B45[Math.floor(n / 2025)];
  }
  if (bytes.length % 2 === 1) {
    const n = bytes[bytes.length - 1];
    s += B45[n % 45] + B45[Math.floor(n / 45)];
  }
  return s;
}

/**
 * RFC 9285 base45 of bytes (the QR alphanumeric text of a credential or a presentation).
 * @param {Uint8Array} bytes
 * @returns {string | null} null when `bytes` is not a Uint8Array (or a view of an ArrayBuffer)
 */
export function base45Encode(bytes) {
  const b = asBytes(bytes);
  return b ? base45Bytes(b) : null;
}

/**
 * RFC 9285 base45 text to bytes, as strictly as the verifier reads a payload: no trimming, no
 * length of 3k + 1, no character outside the alphabet, no group above 0xffff.
 * @param {string | Uint8Array} text the text, or its UTF-8 bytes
 * @returns {Uint8Array | null} null when the text is not base45
 */
export function base45Decode(text) {
  try {
    const bytes = typeof text === 'string' ? utf8Bytes(text) : asBytes(text);
    return bytes ? unbase45(bytes) : null;
  } catch {
    return null;
  }
}

// ----- zlib (RFC 1950/1951), bounded -----
//
// The verdicts follow the Rust verifier's zlib (zlib-rs through flate2, into a buffer of
// `limit + 1` bytes): more than `limit` bytes of output is `too_large` as soon as the byte after
// the limit would be written, and stays so if the stream is cut short there; a corrupt stream
// (bad header, preset dictionary, bad block, bad code, a distance before the start, a wrong
// Adler-32) or a truncated one within the limit is `decompression`, and so are bytes after the
// end of the stream.

const LEN_BASE = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258];
const LEN_EXTRA = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0];
const DIST_BASE = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577];
const DIST_EXTRA = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13];
const CODE_LENGTH_ORDER = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];
const CODES = 0;
const LENS = 1;
const DISTS = 2;

const TRUNCATED = Symbol('truncated');
const FULL = Symbol('full');

class Corrupt {
  constructor(message) {
    this.message = message;
  }
}

/** A canonical Huffman code as zlib's inflate_table accepts it, or null if zlib refuses it. */
function huffman(lengths, type) {
  const count = new Uint16Array(16);
  for (let i = 0; i < lengths.length; i++) count[lengths[i]]++;
  let max = 15;
  while (max >= 1 && count[max] === 0) max--;
  const symbol = new Uint16Array(lengths.length);
  if (max === 0) return { count, symbol, max, type };
  let left = 1;
  for (let len = 1; len <= 15; len++) {
    left <<= 1;
    left -= count[len];
    if (left < 0) return null; // over-subscribed
  }
  if (left > 0 && (type === CODES || max !== 1)) return null; // incomplete
  const offs = new Uint16Array(16);
  for (let len = 1; len < 15; len++) offs[len + 1] = offs[len] + count[len];
  for (let i = 0; i < lengths.length; i++) if (lengths[i] !== 0) symbol[offs[lengths[i]]++] = i;
  return { count, symbol, max, type };
}

function fixedTables() {
  const lit = new Uint8Array(288);
  lit.fill(8, 0, 144);
  lit.fill(9, 144, 256);
  lit.fill(7, 256, 280);
  lit.fill(8, 280, 288);
  return { lit: huffman(lit, LENS), dist: huffman(new Uint8Array(32).fill(5), DISTS) };
}

let FIXED = null;

function adler32(bytes, n) {
  let a = 1;
  let b = 0;
  for (let i = 0; i < n; ) {
    const end = Math.min(n, i + 5552);
    for (; i < end; i++) {
      a += bytes[i];
      b += a;
    }
    a %= 65521;
    b %= 65521;
  }
  return ((b << 16) | a) >>> 0;
}

/** Inflates a zlib stream into at most `limit` bytes; refuses as the Rust verifier does. */
function inflateZlib(data, limit, what) {
  const cap = limit + 1;
  let out = new Uint8Array(Math.min(cap, 64 * 1024));
  let olen = 0;
  let pos = 0;
  let bitbuf = 0;
  let bitcnt = 0;

  const bits = (n) => {
    while (bitcnt < n) {
      if (pos >= data.length) throw TRUNCATED;
      bitbuf |= data[pos++] << bitcnt;
      bitcnt += 8;
    }
    const v = bitbuf & ((1 << n) - 1);
    bitbuf >>>= n;
    bitcnt -= n;
    return v;
  };
  const byteAlign = () => {
    bitbuf >>>= bitcnt & 7;
    bitcnt -= bitcnt & 7;
  };
  const room = (n) => {
    if (olen + n <= out.length) return;
    let size = out.length;
    while (size < olen + n) size *= 2;
    const bigger = new Uint8Array(Math.min(cap, size));
    bigger.set(out.subarray(0, olen));
    out = bigger;
  };
  // The bytes `distance` back, `length` times: the output repeats with that period, so a long
  // match is copied in runs that double.
  const copyMatch = (distance, length) => {
    const src = olen - distance;
    if (length < 32) {
      for (let i = 0; i < length; i++, olen++) out[olen] = out[olen - distance];
      return;
    }
    let left = length;
    while (left > 0) {
      const run = Math.min(left, olen - src);
      out.copyWithin(olen, src, src + run);
      olen += run;
      left -= run;
    }
  };
  const decode = (h) => {
    if (h.max === 0) {
      // zlib's table for an empty code: one bit, then an invalid code (a code-length code
      // reads it as length 0 and fails later, at the missing end-of-block code).
      bits(1);
      if (h.type === CODES) return 0;
      throw new Corrupt(h.type === DISTS ? 'invalid distance code' : 'invalid literal/length code');
    }
    let code = 0;
    let first = 0;
    let index = 0;
    for (let len = 1; len <= h.max; len++) {
      code |= bits(1);
      const c = h.count[len];
      if (code - c < first) return h.symbol[index + (code - first)];
      index += c;
      first += c;
      first <<= 1;
      code <<= 1;
    }
    throw new Corrupt(h.type === DISTS ? 'invalid distance code' : 'invalid literal/length code');
  };
  const codes = (lit, dist) => {
    for (;;) {
      const sym = decode(lit);
      if (sym < 256) {
        if (olen === cap) throw FULL;
        room(1);
        out[olen++] = sym;
      } else if (sym === 256) {
        return;
      } else {
        const li = sym - 257;
        if (li >= 29) throw new Corrupt('invalid literal/length code');
        let length = LEN_BASE[li] + bits(LEN_EXTRA[li]);
        const ds = decode(dist);
        if (ds >= 30) throw new Corrupt('invalid distance code');
        const distance = DIST_BASE[ds] + bits(DIST_EXTRA[ds]);
        if (olen === cap) throw FULL;
        if (distance > olen) throw new Corrupt('invalid distance too far back');
        if (length > cap - olen) {
          // What fits is written, then the byte after the limit is due.
          length = cap - olen;
          room(length);
          copyMatch(distance, length);
          throw FULL;
        }
        room(length);
        copyMatch(distance, length);
      }
    }
  };
  const dynamic = () => {
    const nlen = bits(5) + 257;
    const ndist = bits(5) + 1;
    const ncode = bits(4) + 4;
    if (nlen > 286 || ndist > 30) throw new Corrupt('too many length or distance symbols');
    const cl = new Uint8Array(19);
    for (let i = 0; i < ncode; i++) cl[CODE_LENGTH_ORDER[i]] = bits(3);
    const clcode = huffman(cl, CODES);
    if (!clcode) throw new Corrupt('invalid code lengths set');
    const lens = new Uint8Array(nlen + ndist);
    let have = 0;
    while (have < nlen + ndist) {
      const sym = decode(clcode);
      if (sym < 16) {
        lens[have++] = sym;
        continue;
      }
      let len = 0;
      let copy;
      if (sym === 16) {
        copy = 3 + bits(2);
        if (have === 0) throw new Corrupt('invalid bit length repeat');
        len = lens[have - 1];
      } else if (sym === 17) {
        copy = 3 + bits(3);
      } else {
        copy = 11 + bits(7);
      }
      if (have + copy > nlen + ndist) throw new Corrupt('invalid bit length repeat');
      lens.fill(len, have, have + copy);
      have += copy;
    }
    if (lens[256] === 0) throw new Corrupt('invalid code -- missing end-of-block');
    const lit = huffman(lens.subarray(0, nlen), LENS);
    if (!lit) throw new Corrupt('invalid literal/lengths set');
    const dist = huffman(lens.subarray(nlen), DISTS);
    if (!dist) throw new Corrupt('invalid distances set');
    return { lit, dist };
  };

  try {
    const cmf = bits(8);
    const flg = bits(8);
    if (((cmf << 8) + flg) % 31 !== 0) throw new Corrupt('incorrect header check');
    if ((cmf & 15) !== 8) throw new Corrupt('unknown compression method');
    if ((cmf >> 4) + 8 > 15) throw new Corrupt('invalid window size');
    if (flg & 0x20) {
      bits(16);
      bits(16);
      throw new Corrupt('a preset dictionary is required');
    }
    let last = 0;
    while (!last) {
      last = bits(1);
      const type = bits(2);
      if (type === 0) {
        byteAlign();
        const len = bits(16);
        const nlen = bits(16);
        if (len !== (~nlen & 0xffff)) throw new Corrupt('invalid stored block lengths');
        let done = 0;
        while (done < len) {
          if (olen === cap) throw FULL;
          if (pos >= data.length) throw TRUNCATED;
          const n = Math.min(len - done, data.length - pos, cap - olen);
          room(n);
          out.set(data.subarray(pos, pos + n), olen);
          olen += n;
          pos += n;
          done += n;
        }
      } else if (type === 1) {
        if (!FIXED) FIXED = fixedTables();
        codes(FIXED.lit, FIXED.dist);
      } else if (type === 2) {
        const t = dynamic();
        codes(t.lit, t.dist);
      } else {
        throw new Corrupt('invalid block type');
      }
    }
    byteAlign();
    const check = ((bits(8) << 24) | (bits(8) << 16) | (bits(8) << 8) | bits(8)) >>> 0;
    if (check !== adler32(out, olen)) throw new Corrupt('incorrect data check');
    if (olen > limit) throw FULL;
    if (pos !== data.length) throw new Corrupt('bytes after the end of the zlib stream');
    return out.subarray(0, olen);
  } catch (e) {
    if (e === FULL || (e === TRUNCATED && olen > limit)) {
      refuse('too_large', `${what} is larger than the limit of ${limit} bytes`);
    }
    if (e === TRUNCATED) refuse('decompression', 'zlib decompression failed: truncated zlib stream');
    if (e instanceof Corrupt) refuse('decompression', `zlib decompression failed: ${e.message}`);
    throw e;
  }
}

// ----- CBOR: the deterministic-encoding check of the COSE envelope (cbor.rs) -----

function nonCanonical(what) {
  refuse('non_canonical', `CBOR is not in deterministic encoding: ${what}`);
}

function cborError(what) {
  refuse('cbor', `CBOR is not well-formed: ${what}`);
}

const tooDeep = () => cborError(`nested deeper than ${MAX_DEPTH} levels`);

const f32View = new DataView(new ArrayBuffer(8));

function f32FitsF16(bits) {
  f32View.setUint32(0, bits);
  const x = f32View.getFloat32(0);
  if (!Number.isFinite(x) || x === 0) return true;
  const exponent = ((bits >>> 23) & 0xff) - 127;
  const mantissa = bits & 0x7fffff;
  if (exponent >= -14 && exponent <= 15) return (mantissa & 0x1fff) === 0;
  if (exponent >= -24 && exponent <= -15) return (mantissa & ((1 << (-1 - exponent)) - 1)) === 0;
  return false;
}

class DetReader {
  constructor(bytes) {
    this.b = bytes;
    this.pos = 0;
  }

  take(n) {
    if (n > this.b.length - this.pos) cborError('truncated input');
    const start = this.pos;
    this.pos += Number(n);
    return start;
  }

  remaining() {
    return this.b.length - this.pos;
  }

  head() {
    const b = this.b;
    const first = b[this.take(1)];
    const major = first >> 5;
    const info = first & 31;
    let value;
    if (info < 24) value = info;
    else if (info === 24) value = b[this.take(1)];
    else if (info === 25) {
      const s = this.take(2);
      value = (b[s] << 8) | b[s + 1];
    } else if (info === 26) {
      const s = this.take(4);
      value = ((b[s] << 24) >>> 0) + (b[s + 1] << 16) + (b[s + 2] << 8) + b[s + 3];
    } else if (info === 27) {
      const s = this.take(8);
      value = 0n;
      for (let i = 0; i < 8; i++) value = (value << 8n) | BigInt(b[s + i]);
    } else if (info === 31) {
      if (major >= 2 && major <= 5) nonCanonical('indefinite length');
      cborError('a break or an indefinite length out of place');
    } else {
      cborError(`reserved additional information ${info}`);
    }
    let shortest;
    if (major === 7 && info === 24) shortest = value >= 32;
    else if (major === 7 && info >= 25 && info <= 27) shortest = true;
    else if (info === 24) shortest = value >= 24;
    else if (info === 25) shortest = value > 0xff;
    else if (info === 26) shortest = value > 0xffff;
    else if (info === 27) shortest = value > 0xffffffffn;
    else shortest = true;
    if (!shortest) nonCanonical('an integer or length not in its shortest form');
    return { major, info, value };
  }

  item(depth) {
    if (depth > MAX_DEPTH) tooDeep();
    const { major, info, value } = this.head();
    switch (major) {
      case 2:
      case 3:
        this.take(value);
        break;
      case 4:
        if (value > this.remaining()) cborError('truncated input');
        for (let i = 0; i < value; i++) this.item(depth + 1);
        break;
      case 5: {
        if (value > Math.floor(this.remaining() / 2)) cborError('truncated input');
        let previous = null;
        for (let i = 0; i < value; i++) {
          const start = this.pos;
          this.item(depth + 1);
          const key = this.b.subarray(start, this.pos);
          if (previous) {
            const c = compareBytes(previous, key);
            if (c === 0) cborError('duplicate map key');
            if (c > 0) nonCanonical('map keys not in deterministic order');
          }
          previous = key;
          this.item(depth + 1);
        }
        break;
      }
      case 6:
        this.item(depth + 1);
        break;
      case 7: {
        let shorter = false;
        if (info === 26) shorter = f32FitsF16(value);
        else if (info === 27) {
          f32View.setBigUint64(0, value);
          const x = f32View.getFloat64(0);
          shorter = Number.isNaN(x) || Math.fround(x) === x;
        }
        if (shorter) nonCanonical('a float not in its shortest form');
        break;
      }
      default:
        break;
    }
  }
}

function compareBytes(a, b) {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

function checkDeterministic(bytes) {
  const r = new DetReader(bytes);
  r.item(1);
  if (r.pos !== bytes.length) cborError('trailing bytes after the CBOR item');
}

// ----- CBOR: one item into a value tree, accepting what the Rust decoder (ciborium) accepts
// and refusing what it refuses, then the checks of cbor::decode (nesting, map size, duplicate
// keys). Every refusal here is `cbor`. -----
//
// Values: {k:'int', v:BigInt} {k:'bytes', v:Uint8Array} {k:'text', v:string}
// {k:'array', v:[...]} {k:'map', v:[[key, value], ...]} {k:'tag', tag:BigInt, v}
// {k:'bool', v} {k:'null'} {k:'float', v:Number}

const BREAK = Symbol('break');

function halfToNumber(h) {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 31) return mant ? NaN : sign * Infinity;
  return sign * (1024 + mant) * 2 ** (exp - 25);
}

class ValueReader {
  constructor(bytes) {
    this.b = bytes;
    this.pos = 0;
  }

  take(n) {
    if (n > this.b.length - this.pos) cborError('truncated input');
    const start = this.pos;
    this.pos += Number(n);
    return this.b.subarray(start, this.pos);
  }

  remaining() {
    return this.b.length - this.pos;
  }

  /** A head: {major, arg} with arg a BigInt, null for an indefinite length; BREAK. */
  head() {
    const first = this.take(1)[0];
    const major = first >> 5;
    const info = first & 31;
    if (info >= 28 && info <= 30) cborError(`reserved additional information ${info}`);
    if (info === 31) {
      if (major === 7) return BREAK;
      if (major >= 2 && major <= 5) return { major, info, arg: null };
      cborError('an indefinite length out of place');
    }
    let arg;
    if (info < 24) arg = BigInt(info);
    else {
      const n = info === 24 ? 1 : info === 25 ? 2 : info === 26 ? 4 : 8;
      const s = this.take(n);
      arg = 0n;
      for (let i = 0; i < n; i++) arg = (arg << 8n) | BigInt(s[i]);
    }
    return { major, info, arg };
  }

  /** The chunks of an indefinite-length string, as ciborium reads them (nested indefinite
   *  chunks of the same type included). */
  segments(major) {
    const parts = [];
    let nested = 1;
    for (;;) {
      const h = this.head();
      if (h === BREAK) {
        if (nested === 1) break;
        nested--;
        continue;
      }
      if (h.major !== major) cborError('a chunk of the wrong type in an indefinite-length string');
      if (h.arg === null) {
        nested++;
        continue;
      }
      const chunk = this.take(h.arg);
      if (major === 3) {
        const t = utf8Text(chunk);
        if (t === null) cborError('text is not UTF-8');
        parts.push(t);
      } else {
        parts.push(chunk);
      }
    }
    return major === 3 ? parts.join('') : concat(parts);
  }

  value(depth) {
    const h = this.head();
    if (h === BREAK) cborError('a break out of place');
    const { major, info, arg } = h;
    switch (major) {
      case 0:
        return { k: 'int', v: arg };
      case 1:
        return { k: 'int', v: -1n - arg };
      case 2:
        return { k: 'bytes', v: arg === null ? this.segments(2) : this.take(arg) };
      case 3: {
        if (arg === null) return { k: 'text', v: this.segments(3) };
        const t = utf8Text(this.take(arg));
        if (t === null) cborError('text is not UTF-8');
        return { k: 'text', v: t };
      }
      case 4: {
        if (depth > MAX_DEPTH) tooDeep();
        const items = [];
        if (arg === null) {
          for (;;) {
            if (this.peekBreak()) break;
            items.push(this.value(depth + 1));
          }
        } else {
          if (arg > BigInt(this.remaining())) cborError('truncated input');
          for (let i = 0n; i < arg; i++) items.push(this.value(depth + 1));
        }
        return { k: 'array', v: items };
      }
      case 5: {
        if (depth > MAX_DEPTH) tooDeep();
        const entries = [];
        if (arg !== null && arg > BigInt(MAX_MAP_ENTRIES)) {
          if (arg > BigInt(Math.floor(this.remaining() / 2))) cborError('truncated input');
          cborError(`map with more than ${MAX_MAP_ENTRIES} entries`);
        }
        const count = arg === null ? Infinity : Number(arg);
        for (let i = 0; i < count; i++) {
          if (arg === null && this.peekBreak()) break;
          if (entries.length >= MAX_MAP_ENTRIES) cborError(`map with more than ${MAX_MAP_ENTRIES} entries`);
          const key = this.value(depth + 1);
          const val = this.value(depth + 1);
          entries.push([key, val]);
        }
        checkUniqueKeys(entries);
        return { k: 'map', v: entries };
      }
      case 6:
        return this.tagged(arg, depth);
      default:
        return this.simple(info, arg);
    }
  }

  peekBreak() {
    if (this.pos >= this.b.length) cborError('truncated input');
    if (this.b[this.pos] === 0xff) {
      this.pos++;
      return true;
    }
    return false;
  }

  tagged(tag, depth) {
    // Tags 2 and 3 (bignums) with a definite byte string of at most 16 bytes are integers.
    if ((tag === 2n || tag === 3n) && this.pos < this.b.length) {
      const save = this.pos;
      const h = this.head();
      if (h !== BREAK && h.major === 2 && h.arg !== null && h.arg <= 16n) {
        const raw = leInt(Uint8Array.from(this.take(h.arg)).reverse());
        // Too large for an integer, it stays a tag, which counts as a level of nesting.
        if (raw > U64_MAX && depth > MAX_DEPTH) tooDeep();
        if (tag === 2n) {
          if (raw <= U64_MAX) return { k: 'int', v: raw };
          return { k: 'tag', tag, v: { k: 'bytes', v: bigEndian(raw) } };
        }
        if (raw >= 2n ** 127n) cborError('integer too large');
        if (raw <= U64_MAX) return { k: 'int', v: -1n - raw };
        return { k: 'tag', tag, v: { k: 'bytes', v: bigEndian(raw) } };
      }
      this.pos = save;
    }
    if (depth > MAX_DEPTH) tooDeep();
    return { k: 'tag', tag, v: this.value(depth + 1) };
  }

  simple(info, arg) {
    if (info === 25) return { k: 'float', v: halfToNumber(Number(arg)) };
    if (info === 26) {
      f32View.setUint32(0, Number(arg));
      return { k: 'float', v: f32View.getFloat32(0) };
    }
    if (info === 27) {
      f32View.setBigUint64(0, arg);
      return { k: 'float', v: f32View.getFloat64(0) };
    }
    const n = Number(arg);
    if (n === 20) return { k: 'bool', v: false };
    if (n === 21) return { k: 'bool', v: true };
    if (n === 22 || n === 23) return { k: 'null' };
    cborError(`the unknown simple value ${n}`);
  }
}

function bigEndian(x) {
  const out = [];
  while (x > 0n) {
    out.unshift(Number(x & 0xffn));
    x >>= 8n;
  }
  return Uint8Array.from(out);
}

/** A string that two values share exactly when the Rust decoder's values are equal; null for
 *  a value holding a NaN, which equals nothing. */
function fingerprint(v) {
  switch (v.k) {
    case 'int':
      return `i${v.v};`;
    case 'bytes': {
      let s = `b${v.v.length}:`;
      for (let i = 0; i < v.v.length; i += 4096) s += String.fromCharCode.apply(null, v.v.subarray(i, i + 4096));
      return s;
    }
    case 'text':
      return `t${v.v.length}:${v.v}`;
    case 'array': {
      let s = `a${v.v.length}:`;
      for (const item of v.v) {
        const f = fingerprint(item);
        if (f === null) return null;
        s += f;
      }
      return s;
    }
    case 'map': {
      let s = `m${v.v.length}:`;
      for (const [key, val] of v.v) {
        const fk = fingerprint(key);
        const fv = fingerprint(val);
        if (fk === null || fv === null) return null;
        s += fk + fv;
      }
      return s;
    }
    case 'tag': {
      const f = fingerprint(v.v);
      return f === null ? null : `g${v.tag};${f}`;
    }
    case 'bool':
      return v.v ? 'T' : 'F';
    case 'null':
      return 'N';
    case 'float':
      return Number.isNaN(v.v) ? null : `f${v.v === 0 ? 0 : v.v};`;
    default:
      return null;
  }
}

function checkUniqueKeys(entries) {
  const seen = new Set();
  for (const [key] of entries) {
    const f = fingerprint(key);
    if (f === null) continue;
    if (seen.has(f)) cborError('duplicate map key');
    seen.add(f);
  }
}

/** cbor::decode: exactly one item, no trailing bytes, nesting, map size and duplicate keys
 *  checked. */
function cborDecode(bytes) {
  const r = new ValueReader(bytes);
  const v = r.value(1);
  if (r.pos !== bytes.length) cborError('trailing bytes after the CBOR item');
  return v;
}

function getInt(map, key) {
  const k = BigInt(key);
  for (const [mk, mv] of map) if (mk.k === 'int' && mk.v === k) return mv;
  return undefined;
}

function getText(map, key) {
  for (const [mk, mv] of map) if (mk.k === 'text' && mk.v === key) return mv;
  return undefined;
}

function asI64(v) {
  return v && v.k === 'int' && v.v >= I64_MIN && v.v <= I64_MAX ? v.v : null;
}

// ----- COSE_Sign1 (cose.rs) -----

function coseStructure(what) {
  refuse('cose_structure', `not a valid COSE_Sign1 structure: ${what}`);
}

/** SignedMessage::parse: a COSE_Sign1, tagged (18) or not, in deterministic encoding. */
function parseSign1(bytes) {
  checkDeterministic(bytes);
  let value = cborDecode(bytes);
  if (value.k === 'tag') {
    if (value.tag !== 18n) coseStructure(`unexpected CBOR tag ${value.tag}`);
    value = value.v;
  }
  if (value.k !== 'array') coseStructure('not an array');
  if (value.v.length !== 4) coseStructure('not an array of four items');
  const [protectedV, unprotectedV, payloadV, signatureV] = value.v;
  if (protectedV.k !== 'bytes') coseStructure('protected header is not a byte string');
  if (unprotectedV.k !== 'map') coseStructure('unprotected header is not a map');
  if (payloadV.k !== 'bytes') coseStructure('payload is absent or not a byte string');
  if (signatureV.k !== 'bytes') coseStructure('signature is not a byte string');
  let prot = [];
  if (protectedV.v.length > 0) {
    const p = cborDecode(protectedV.v);
    if (p.k !== 'map') coseStructure('protected header is not a map');
    prot = p.v;
  }
  const unprot = unprotectedV.v;
  if (getInt(prot, 2) !== undefined || getInt(unprot, 2) !== undefined) {
    coseStructure('critical header parameters are not supported');
  }
  if (getInt(unprot, 1) !== undefined) coseStructure('algorithm must be in the protected header');
  const algV = getInt(prot, 1);
  if (algV === undefined) coseStructure('protected header has no algorithm');
  const alg = asI64(algV);
  if (alg === null) coseStructure('algorithm is not an integer');
  if (alg !== -8n) refuse('algorithm_not_allowed', `algorithm ${alg} is not allowed; only EdDSA (-8) is accepted`);
  let kidV = getInt(prot, 4);
  if (kidV === undefined) kidV = getInt(unprot, 4);
  let kid = null;
  if (kidV !== undefined) {
    if (kidV.k !== 'bytes' || kidV.v.length === 0 || kidV.v.length > MAX_KID_LEN) {
      coseStructure('kid is not a byte string of 1 to 64 bytes');
    }
    kid = kidV.v;
  }
  const typV = getInt(prot, 16);
  let typ = null;
  if (typV !== undefined) {
    if (typV.k !== 'text') coseStructure('typ is not a text string');
    typ = typV.v;
  }
  if (signatureV.v.length !== 64) refuse('bad_signature', 'signature does not verify');
  return { protected: protectedV.v, kid, typ, payload: payloadV.v, signature: signatureV.v };
}

function cborHead(major, n) {
  const m = major << 5;
  if (n < 24) return [m | n];
  if (n < 0x100) return [m | 24, n];
  if (n < 0x10000) return [m | 25, n >> 8, n & 0xff];
  return [m | 26, (n >>> 24) & 0xff, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
}

function sigStructure(protectedBytes, payload) {
  return concat([
    Uint8Array.from([0x84, 0x6a]),
    utf8Bytes('Signature1'),
    Uint8Array.from(cborHead(2, protectedBytes.length)),
    protectedBytes,
    Uint8Array.from([0x40]),
    Uint8Array.from(cborHead(2, payload.length)),
    payload,
  ]);
}

/** The trusted keys a kid may name (keys.rs `candidates`). */
function candidates(trust, kid) {
  if (kid) return trust.filter((k) => kid.length >= SHORT_KID_LEN && startsWithBytes(k.kid, kid));
  return trust.length <= MAX_KEYS_WITHOUT_KID ? trust.slice() : [];
}

/** The first candidate whose key verifies the message, with verify_strict's rules: s below
 *  the group order, R a point not of small order (the keys were checked when loaded). */
async function firstVerifying(msg, keys) {
  const sig = msg.signature;
  const s = leInt(sig.subarray(32, 64));
  const r = sig.subarray(0, 32);
  if (s >= ORDER_L || !isPoint(r) || isSmallOrder(r)) return null;
  const data = sigStructure(msg.protected, msg.payload);
  for (const key of keys) {
    if (await ed25519Verify(key.x, sig, data)) return key;
  }
  return null;
}

// ----- trust list (JWKS) -----

const trustCache = new Map();

/** TrustStore::from_jwks: every key an Ed25519 OKP key pinned to EdDSA, a valid point of large
 *  order, whose kid is its RFC 7638 thumbprint; otherwise the whole list is refused. */
async function loadTrust(jwks) {
  if (jwks === undefined || jwks === null) jwks = { keys: [] };
  let text;
  if (typeof jwks === 'string' || asBytes(jwks)) {
    const bytes = typeof jwks === 'string' ? null : asBytes(jwks);
    const size = bytes ? bytes.length : jwks.length;
    if (size > MAX_JWKS_BYTES) refuse('too_large', `JWKS document is larger than the limit of ${MAX_JWKS_BYTES} bytes`);
    text = bytes ? utf8Text(bytes) : jwks;
    if (text === null) refuse('bad_key', 'invalid key: JWKS: not UTF-8');
    try {
      jwks = JSON.parse(text);
    } catch {
      refuse('bad_key', 'invalid key: JWKS: not JSON');
    }
  } else {
    try {
      text = JSON.stringify(jwks);
    } catch {
      refuse('bad_key', 'invalid key: JWKS: not a JSON object');
    }
  }
  const cached = trustCache.get(text);
  if (cached) return cached;
  if (!jwks || typeof jwks !== 'object' || !Array.isArray(jwks.keys)) {
    refuse('bad_key', 'invalid key: JWKS: missing field `keys`');
  }
  const parsed = [];
  for (const jwk of jwks.keys) {
    if (!jwk || typeof jwk !== 'object' || Array.isArray(jwk)) refuse('bad_key', 'invalid key: JWKS: a key is not an object');
    for (const field of ['kty', 'crv', 'x', 'kid']) {
      if (typeof jwk[field] !== 'string') refuse('bad_key', `invalid key: JWKS: missing or invalid field \`${field}\``);
    }
    for (const field of ['alg', 'use']) {
      if (jwk[field] !== undefined && jwk[field] !== null && typeof jwk[field] !== 'string') {
        refuse('bad_key', `invalid key: JWKS: invalid field \`${field}\``);
      }
    }
    const kid = fromBase64url(jwk.kid);
    if (!kid) refuse('bad_key', 'invalid key: kid is not base64url');
    if (kid.length !== 32) refuse('bad_key', 'invalid key: kid is not a 32-byte SHA-256 thumbprint');
    parsed.push({ jwk, kid });
  }
  if (parsed.length > MAX_TRUSTED_KEYS) refuse('bad_key', `invalid key: more than ${MAX_TRUSTED_KEYS} keys in the trust list`);
  const keys = [];
  for (const { jwk, kid } of parsed) {
    const name = base64url(kid);
    if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519') refuse('bad_key', `invalid key: key ${name} is not an Ed25519 OKP key`);
    if (typeof jwk.alg === 'string' && jwk.alg !== 'EdDSA' && jwk.alg !== 'Ed25519') {
      refuse('bad_key', `invalid key: key ${name} is pinned to algorithm ${jwk.alg}`);
    }
    const x = fromBase64url(jwk.x);
    if (!x || x.length !== 32) refuse('bad_key', `invalid key: key ${name} has a malformed x`);
    if (!isPoint(x)) refuse('bad_key', `invalid key: key ${name} is not a valid Ed25519 point`);
    if (isSmallOrder(x)) refuse('bad_key', `invalid key: key ${name} is a weak (small-order) key`);
    if (!sameBytes(await thumbprint(x), kid)) refuse('bad_key', `invalid key: key ${name} has a kid that is not its thumbprint`);
    keys.push({ kid, name, x });
  }
  if (trustCache.size >= 8) trustCache.clear();
  trustCache.set(text, keys);
  return keys;
}

/** RFC 7638 thumbprint of an Ed25519 public key. */
async function thumbprint(x) {
  return sha256(utf8Bytes(`{"crv":"Ed25519","kty":"OKP","x":"${base64url(x)}"}`));
}

// ----- claims (credential.rs, claims.rs, date.rs) -----

function badClaims(what) {
  refuse('bad_claims', `invalid claims: ${what}`);
}

const ISO_3166_ALPHA2 = new Set(
  ('AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ ' +
    'CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR ' +
    'GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO ' +
    'JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR ' +
    'MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO ' +
    'RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV ' +
    'TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW').split(' '),
);

const WHITE_SPACE_EDGES = /^\p{White_Space}+|\p{White_Space}+$/gu;
const CONTROL = /\p{Cc}/u;

function isForbidden(cp, multiline) {
  if (cp === 0x0a) return !multiline;
  return (
    CONTROL.test(String.fromCodePoint(cp)) ||
    cp === 0x061c ||
    cp === 0x200e ||
    cp === 0x200f ||
    (cp >= 0x202a && cp <= 0x202e) ||
    (cp >= 0x2066 && cp <= 0x2069) ||
    cp === 0xfeff
  );
}

/** Text::new: trimmed, NFC, 1..max scalar values, no control or bidirectional marks. */
function claimText(field, raw, max, multiline) {
  if (utf8Bytes(raw).length > max * 12) badClaims(`${field} is longer than ${max} characters`);
  const nfc = raw.replace(WHITE_SPACE_EDGES, '').normalize('NFC');
  if (nfc === '') badClaims(`${field}: must not be empty`);
  let count = 0;
  for (const c of nfc) {
    count++;
    if (isForbidden(c.codePointAt(0), multiline)) badClaims(`${field}: contains a control or bidirectional-override character`);
  }
  if (count > max) badClaims(`${field} is longer than ${max} characters`);
  return nfc;
}

function textClaim(v, field) {
  if (v === undefined) badClaims(`${field} is required`);
  if (v.k !== 'text') badClaims(`${field} must be a text string`);
  return v.v;
}

function intClaim(v, field) {
  if (v === undefined) badClaims(`${field} is required`);
  const i = asI64(v);
  if (i === null) badClaims(`${field} must be an integer`);
  return i;
}

function isDigits(s) {
  return /^[0-9]+$/.test(s);
}

function daysFromCivil(y, m, d) {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const mp = (m + 9) % 12;
  const doy = Math.floor((153 * mp + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function makeDate(year, month, day) {
  if (year < 1800 || year > 9999 || month < 1 || month > 12 || day === 0) return null;
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const dim = month === 2 ? (leap ? 29 : 28) : [4, 6, 9, 11].includes(month) ? 30 : 31;
  return day <= dim ? { year, month, day } : null;
}

/** Date::parse_compact (YYYYMMDD), else Date::parse_iso (YYYY-MM-DD). */
function parseDate(s) {
  if (s.length === 8 && isDigits(s)) return makeDate(+s.slice(0, 4), +s.slice(4, 6), +s.slice(6, 8));
  if (s.length === 10 && s[4] === '-' && s[7] === '-') {
    const y = s.slice(0, 4);
    const m = s.slice(5, 7);
    const d = s.slice(8, 10);
    if (isDigits(y) && isDigits(m) && isDigits(d)) return makeDate(+y, +m, +d);
  }
  return null;
}

const pad = (n, w) => String(n).padStart(w, '0');

function parseStatusRef(v) {
  const wrong = 'status must be {"status_list": {"idx": uint, "uri": text}}';
  if (!v || v.k !== 'map') badClaims(wrong);
  const inner = getText(v.v, 'status_list');
  if (!inner || inner.k !== 'map') badClaims(wrong);
  const idxV = getText(inner.v, 'idx');
  if (!idxV || idxV.k !== 'int' || idxV.v < 0n || idxV.v > 0xffffffffn) {
    badClaims('status.idx: must be an unsigned 32-bit integer');
  }
  const uri = textClaim(getText(inner.v, 'uri'), 'status.uri');
  if (uri.length === 0 || uri.length > STATUS_URI_MAX || !/^[\x21-\x7e]+$/.test(uri)) {
    badClaims('status.uri: must be 1 to 256 printable ASCII characters without spaces');
  }
  return { idx: Number(idxV.v), uri };
}

/** `cnf` (RFC 8747): the holder's Ed25519 COSE_Key; its thumbprint (base64url) and its x. */
async function parseCnf(v) {
  const bad = () => badClaims('cnf: must hold an Ed25519 COSE_Key (kty 1, crv 6, x)');
  if (!v || v.k !== 'map') bad();
  const key = getInt(v.v, 1);
  if (!key || key.k !== 'map') bad();
  if (asI64(getInt(key.v, 1)) !== 1n || asI64(getInt(key.v, -1)) !== 6n) bad();
  const x = getInt(key.v, -2);
  if (!x || x.k !== 'bytes' || x.v.length !== 32) bad();
  if (!isPoint(x.v) || isSmallOrder(x.v)) bad();
  return { kid: base64url(await thumbprint(x.v)), x: Uint8Array.from(x.v) };
}

/** Credential::from_cbor: the CWT claims, every rule of the claims tables. */
async function parseCredential(bytes) {
  const top = cborDecode(bytes);
  if (top.k !== 'map') badClaims('claims must be a CBOR map');
  const claims = top.v;
  const issuer = textClaim(getInt(claims, 1), 'iss');
  const expiresAt = intClaim(getInt(claims, 4), 'exp');
  const issuedAt = intClaim(getInt(claims, 6), 'iat');
  const nbfV = getInt(claims, 5);
  const notBefore = nbfV === undefined ? null : intClaim(nbfV, 'nbf');
  const ctiV = getInt(claims, 7);
  let id;
  if (ctiV === undefined) id = hex((await sha256(bytes)).subarray(0, 8));
  else if (ctiV.k !== 'bytes') badClaims('cti must be a byte string');
  else if (ctiV.v.length !== 8) badClaims('cti: must be 8 bytes');
  else id = hex(ctiV.v);
  const cnfV = getInt(claims, 8);
  const holder = cnfV === undefined ? null : await parseCnf(cnfV);
  const holderKid = holder ? holder.kid : null;
  const statusV = getInt(claims, 65535);
  const status = statusV === undefined ? null : parseStatusRef(statusV);
  const idV = getInt(claims, 169);
  if (!idV || idV.k !== 'map') badClaims('169 must be a map of identity data');
  const m = idV.v;

  const idNumber = textClaim(getInt(m, 1), 'id_number');
  if (!(idNumber.length === 12 && /^[0-9]{12}$/.test(idNumber))) badClaims('id_number: must be exactly 12 digits');
  const fullName = claimText('full_name', textClaim(getInt(m, 4), 'full_name'), FULL_NAME_MAX, false);
  const dob = parseDate(textClaim(getInt(m, 8), 'date_of_birth'));
  if (!dob) badClaims('date_of_birth: must be a real date YYYYMMDD');
  let sex = null;
  const sexV = getInt(m, 9);
  if (sexV !== undefined) {
    const code = asI64(sexV);
    sex = code === 1n ? 'M' : code === 2n ? 'F' : code === 3n ? 'X' : null;
    if (!sex) badClaims('sex: gender must be 1, 2 or 3');
  }
  let nationality = null;
  const natV = getInt(m, 13);
  if (natV !== undefined) {
    nationality = textClaim(natV, 'nationality');
    if (!ISO_3166_ALPHA2.has(nationality)) badClaims('nationality: must be an assigned ISO 3166-1 alpha-2 code in upper case');
  }
  let photoDigest = null;
  const photoV = getInt(m, -2);
  if (photoV !== undefined) {
    if (photoV.k !== 'bytes') badClaims('photo_sha256 must be a byte string');
    if (photoV.v.length !== 32) badClaims('photo_sha256: must be 32 bytes');
    photoDigest = hex(photoV.v);
  }
  const optText = (key, field) => {
    const v = getInt(m, key);
    return v === undefined ? null : claimText(field, textClaim(v, field), PLACE_MAX, true);
  };
  const placeOfOrigin = optText(-1, 'place_of_origin');
  const placeOfResidence = optText(10, 'place_of_residence');

  // Credential::validate
  if (utf8Bytes(issuer).length === 0 || utf8Bytes(issuer).length > ISSUER_MAX || CONTROL.test(issuer)) {
    badClaims('iss: must be 1 to 64 bytes without control characters');
  }
  if (expiresAt <= issuedAt) badClaims('exp: must be after iat');
  if (BigInt(daysFromCivil(dob.year, dob.month, dob.day)) * DAY > issuedAt) badClaims('date_of_birth: is after the issue date');

  // The claims JSON of the Rust verifier (Credential's Serialize), keys in the same order.
  const json = {
    credential_id: id,
    date_of_birth: `${pad(dob.year, 4)}-${pad(dob.month, 2)}-${pad(dob.day, 2)}`,
    expires_at: num(expiresAt),
    full_name: fullName,
  };
  if (holderKid) json.holder_kid = holderKid;
  json.id_number = idNumber;
  json.issued_at = num(issuedAt);
  json.issuer = issuer;
  if (nationality) json.nationality = nationality;
  if (photoDigest) json.photo_sha256 = photoDigest;
  if (placeOfOrigin !== null) json.place_of_origin = placeOfOrigin;
  if (placeOfResidence !== null) json.place_of_residence = placeOfResidence;
  if (sex) json.sex = sex;
  if (status) json.status_list = { idx: status.idx, uri: status.uri };
  // Claim 169 photo (16) and its format (17), as the Rust verifier reads them
  // (credential.rs, parse_citizen): the photo a byte string of at most 2048 bytes; its format,
  // read only beside a photo, 1 (JPEG), 2 (JPEG 2000), 3 (AVIF) or 4 (WebP).
  const photo = getInt(m, 16);
  if (photo !== undefined) {
    if (photo.k !== 'bytes') badClaims('photo must be a byte string');
    if (photo.v.length > 2048) badClaims('photo: longer than 2048 bytes');
    json.photo = Uint8Array.from(photo.v);
    const photoFormat = getInt(m, 17);
    if (photoFormat !== undefined) {
      if (photoFormat.k !== 'int' || photoFormat.v < 1n || photoFormat.v > 4n) {
        badClaims('photo_format must be 1 (JPEG), 2 (JPEG 2000), 3 (AVIF) or 4 (WebP)');
      }
      json.photo_format = Number(photoFormat.v);
    }
  }
  return { json, id, issuedAt, expiresAt, notBefore, status, holderX: holder ? holder.x : null };
}

// ----- status list tokens (statuslist.rs, verifier status.rs) -----

function badStatusList(what) {
  refuse('bad_status_list', `invalid status list: ${what}`);
}

/** StatusListToken::open: size, COSE_Sign1, typ. */
function openStatusToken(bytes) {
  if (bytes.length > MAX_TOKEN_BYTES) {
    refuse('too_large', `status list token is larger than the limit of ${MAX_TOKEN_BYTES} bytes`);
  }
  const msg = parseSign1(bytes);
  if (msg.typ !== STATUS_TYP) coseStructure(`typ must be ${STATUS_TYP}`);
  return msg;
}

/** The claims map of a token, read before or after its signature. */
function statusClaims(payload) {
  const top = cborDecode(payload);
  if (top.k !== 'map') badStatusList('claims are not a map');
  return top.v;
}

/** StatusListToken::from_claims, after the signature. */
function readStatusClaims(claims) {
  const sub = getInt(claims, 2);
  if (!sub || sub.k !== 'text') badStatusList('sub (the list URI) is missing');
  const iat = asI64(getInt(claims, 6));
  if (iat === null) badStatusList('iat is missing');
  const expV = getInt(claims, 4);
  let exp = null;
  if (expV !== undefined) {
    exp = asI64(expV);
    if (exp === null) badStatusList('exp is not an integer');
  }
  const ttlV = getInt(claims, 65534);
  let ttl = null;
  if (ttlV !== undefined) {
    if (ttlV.k !== 'int' || ttlV.v < 0n || ttlV.v > U64_MAX) badStatusList('ttl is not an unsigned integer');
    ttl = ttlV.v;
  }
  const sl = getInt(claims, 65533);
  if (!sl || sl.k !== 'map') badStatusList('status_list is missing');
  const bitsV = asI64(getText(sl.v, 'bits'));
  if (bitsV === null || ![1n, 2n, 4n, 8n].includes(bitsV)) badStatusList('bits must be 1, 2, 4 or 8');
  const lst = getText(sl.v, 'lst');
  if (!lst || lst.k !== 'bytes') badStatusList('lst is missing');
  const list = inflateZlib(lst.v, MAX_LIST_BYTES, 'decompressed status list');
  return { uri: sub.v, iat, exp, ttl, bits: Number(bitsV), list };
}

/** StatusCache::insert_token's checks, in its order. */
async function checkToken(trust, msg) {
  const keys = candidates(trust, msg.kid);
  if (keys.length === 0) refuse('bad_key', 'invalid key: status list is signed by a key that is not in the trust list');
  const key = await firstVerifying(msg, keys);
  if (!key) refuse('bad_signature', 'signature does not verify');
  return { ...readStatusClaims(statusClaims(msg.payload)), kid: key.name };
}

/** The value at `index`, or null past the end of the list. */
function statusAt(token, index) {
  const bit = index * token.bits;
  const byte = Math.floor(bit / 8);
  if (byte >= token.list.length) return null;
  return (token.list[byte] >> (bit % 8)) & ((1 << token.bits) - 1);
}

/** The list a verifier holds for `uri`: of the tokens given, those that a status cache would
 *  take (signed by a trusted key, well formed) with that sub; the newest, the later on a tie. */
async function listFor(uri, tokens, trust) {
  let best = null;
  for (const t of tokens) {
    const bytes = asBytes(t);
    if (!bytes) continue;
    try {
      const own = Uint8Array.from(bytes);
      const msg = openStatusToken(own);
      // Only the tokens for this URI matter: their sub is read first, to skip the others
      // without a signature check or an inflate.
      const sub = getInt(statusClaims(msg.payload), 2);
      if (!sub || sub.k !== 'text' || sub.v !== uri) continue;
      const token = await checkToken(trust, msg);
      if (!best || best.iat <= token.iat) best = token;
    } catch (e) {
      if (e instanceof Refusal && e.kind !== 'unsupported_algorithm') continue;
      throw e;
    }
  }
  return best;
}

// ----- payload text (payload.rs) -----

const OTHER_PREFIXES = ['QL1:', 'QS1:', 'QP1:', 'HC1:'];

function trimScannerNoise(text) {
  let s = 0;
  let e = text.length;
  const noise = (c) => c === 13 || c === 10 || c === 9;
  while (s < e && noise(text.charCodeAt(s))) s++;
  while (e > s && noise(text.charCodeAt(e - 1))) e--;
  return text.slice(s, e);
}

/** payload::decode: trimmed text to COSE bytes. */
function decodePayload(text) {
  const trimmed = trimScannerNoise(text);
  // A UTF-16 unit is at least one UTF-8 byte: a string this long is too long whatever it holds.
  if (trimmed.length > MAX_PAYLOAD_CHARS) refuse('too_large', `payload text is larger than the limit of ${MAX_PAYLOAD_CHARS} bytes`);
  const bytes = utf8Bytes(trimmed);
  if (bytes.length > MAX_PAYLOAD_CHARS) refuse('too_large', `payload text is larger than the limit of ${MAX_PAYLOAD_CHARS} bytes`);
  const prefix = OTHER_PREFIXES.find((p) => trimmed.startsWith(p));
  if (prefix) refuse('bad_prefix', `payload has the prefix "${prefix}" of another kind of QR code, not an identity credential`);
  const raw = unbase45(bytes);
  return raw[0] === 0x78 ? inflateZlib(raw, MAX_DECOMPRESSED, 'decompressed credential') : raw;
}

function policyOf(ctx) {
  const given = (ctx && ctx.policy) || {};
  const p = { ...DEFAULT_POLICY };
  for (const k of Object.keys(DEFAULT_POLICY)) if (given[k] !== undefined && given[k] !== null) p[k] = given[k];
  return {
    clockSkew: toI64(p.clock_skew, 'policy.clock_skew'),
    maxStatusAge: toI64(p.max_status_age, 'policy.max_status_age'),
    requireStatus: p.require_status === true,
  };
}

// ----- the API -----

/**
 * Verifies one credential payload (the QR text) offline.
 *
 * ctx = { now: Unix seconds (default: the clock), trust: the issuers' JWKS ({keys: [...]},
 * as /.well-known/jwks.json serves it), statusLists: [Uint8Array] signed status list tokens,
 * policy: { clock_skew = 300, max_status_age = 172800, require_status = false } }.
 *
 * Valid: { ok: true, claims, kid, status: { state: 'valid' | 'unchecked', age_seconds } }
 * ('unchecked': no status reference, or no usable list and a policy that allows that;
 * age_seconds is now − the list's iat, or null).
 * Not valid: { ok: false, kind, message }, plus claims, kid and credential_id when the
 * signature verified and the claims were read (expired, not_yet_valid, revoked, suspended,
 * stale_status_list, status_index_out_of_range, unknown_status), and for revoked and
 * suspended status: { state, age_seconds }.
 */
export async function verify(payload, ctx = {}) {
  try {
    return await verifyInner(payload, ctx || {});
  } catch (e) {
    return failure(e);
  }
}

/** The verdict of `verify`; `out.holderX` is set to the credential's `cnf` key (32 bytes, or
 *  null when it has none) once its signature verified and its claims were read. */
async function verifyInner(payload, ctx, out = {}) {
  if (typeof payload !== 'string') refuse('invalid_argument', 'the payload must be a string');
  const now = ctx.now === undefined || ctx.now === null ? BigInt(Math.floor(Date.now() / 1000)) : toI64(ctx.now, 'now');
  const policy = policyOf(ctx);
  const tokens = Array.isArray(ctx.statusLists) ? ctx.statusLists : [];
  const trust = await loadTrust(ctx.trust);

  const msg = parseSign1(decodePayload(payload));
  if (msg.typ !== null && msg.typ !== 'application/cwt' && msg.typ !== 'cwt') {
    coseStructure('typ header says this is not a credential');
  }
  const keys = candidates(trust, msg.kid);
  if (keys.length === 0) refuse('unknown_key', "the credential's key is not in the trust list");
  const key = await firstVerifying(msg, keys);
  if (!key) refuse('bad_signature', 'signature does not verify');
  const credential = await parseCredential(msg.payload);
  out.holderX = credential.holderX;

  const known = (kind, message, extra = {}) => ({
    ok: false,
    kind,
    message,
    credential_id: credential.id,
    kid: key.name,
    claims: credential.json,
    ...extra,
  });
  const skew = policy.clockSkew;
  let starts = credential.issuedAt;
  if (credential.notBefore !== null && credential.notBefore > starts) starts = credential.notBefore;
  if (starts > clampI64(now + skew)) return known('not_yet_valid', 'the credential is not valid yet');
  if (credential.expiresAt <= clampI64(now - skew)) return known('expired', 'the credential expired');

  const valid = (status) => ({ ok: true, claims: credential.json, kid: key.name, status });
  const unchecked = { state: 'unchecked', age_seconds: null };
  const ref = credential.status;
  if (!ref) return valid(unchecked);
  const list = await listFor(ref.uri, tokens, trust);
  if (!list) {
    if (policy.requireStatus) refuse('status_unavailable', `no status list for ${ref.uri} is available`);
    return valid(unchecked);
  }
  const found = statusAt(list, ref.idx);
  const age = clampI64(now - list.iat);
  const expired = list.exp !== null && list.exp <= clampI64(now - skew);
  // Revocation is final: an old list that says revoked is still right.
  if ((age > policy.maxStatusAge || expired) && found !== 1) {
    if (policy.requireStatus) {
      return known(
        'stale_status_list',
        expired
          ? `the status list has expired (its issuer set its exp; signed ${age} s ago): fetch a fresh one`
          : `the status list is ${age} s old, more than the ${policy.maxStatusAge} s allowed: fetch a fresh one`,
      );
    }
    return valid(unchecked);
  }
  const ageSeconds = num(age);
  if (found === 0) return valid({ state: 'valid', age_seconds: ageSeconds });
  if (found === 1) return known('revoked', 'the credential has been revoked', { status: { state: 'revoked', age_seconds: ageSeconds } });
  if (found === 2) return known('suspended', 'the credential is suspended', { status: { state: 'suspended', age_seconds: ageSeconds } });
  if (found === null) return known('status_index_out_of_range', "the credential's status index is past the end of its status list");
  return known('unknown_status', `the status list holds the unknown value ${found}`);
}

/**
 * Checks a signed status list token (COSE_Sign1, typ application/statuslist+cwt) against the
 * trust list, as a verifier does before it caches one: size, structure, a trusted key, the
 * signature, the claims and the list itself.
 *
 * { ok: true, uri, iat, exp, ttl, bits, entries, list, kid, age_seconds } (exp, ttl null when
 * absent; list: the decompressed bytes; age_seconds: now − iat) or { ok: false, kind, message }.
 */
export async function checkStatusList(tokenBytes, trust, now) {
  try {
    const bytes = asBytes(tokenBytes);
    if (!bytes) refuse('invalid_argument', 'the token must be a Uint8Array');
    const at = now === undefined || now === null ? BigInt(Math.floor(Date.now() / 1000)) : toI64(now, 'now');
    const keys = await loadTrust(trust);
    const own = Uint8Array.from(bytes);
    const token = await checkToken(keys, openStatusToken(own));
    return {
      ok: true,
      uri: token.uri,
      iat: num(token.iat),
      exp: token.exp === null ? null : num(token.exp),
      ttl: token.ttl === null ? null : num(token.ttl),
      bits: token.bits,
      entries: Math.floor((token.list.length * 8) / token.bits),
      list: token.list,
      kid: token.kid,
      age_seconds: num(clampI64(at - token.iat)),
    };
  } catch (e) {
    return failure(e);
  }
}

// ----- live presentations (presentation.rs, service live.rs) -----
//
// QP1: base45( 18([ protected {1: -8, 4: holder short kid, 16: "qrid-presentation"}, {},
//                   {1: credential bytes (its QR text, base45-decoded), 2: presented_at,
//                    3: nonce (8 bytes)},
//                   Ed25519 signature by the holder key (the credential's cnf) ]) )

const PRESENTATION_PREFIX = 'QP1:';
const PRESENTATION_TYP = 'qrid-presentation';
const MAX_PRESENTATION_CHARS = 4296;
const PRESENTATION_NONCE_LEN = 8;
/** Seconds after `presented_at` from which a presentation is stale. */
const PRESENTATION_MAX_AGE = 45n;
/** Seconds `presented_at` may lie ahead of the verifier's clock (a phone's clock runs fast). */
const PRESENTATION_AHEAD = 15n;

function presentationMalformed(what) {
  refuse('presentation_malformed', `not a valid live presentation: ${what}`);
}

/** A CBOR integer (major type 0 or 1) of a BigInt in the i64 range, in its shortest form. */
function cborInt(v) {
  const major = v < 0n ? 1 : 0;
  const n = v < 0n ? -1n - v : v;
  if (n <= 0xffffffffn) return Uint8Array.from(cborHead(major, Number(n)));
  const out = new Uint8Array(9);
  out[0] = (major << 5) | 27;
  for (let i = 0; i < 8; i++) out[8 - i] = Number((n >> BigInt(8 * i)) & 0xffn);
  return out;
}

function cborBytes(bytes) {
  return concat([Uint8Array.from(cborHead(2, bytes.length)), bytes]);
}

/** Presentation::open: at most 4296 bytes, the QP1: prefix, a COSE_Sign1 in deterministic
 *  encoding with EdDSA and typ qrid-presentation, whose payload is exactly {1: bstr, 2: int,
 *  3: bstr of 8}. The holder signature is not checked here. */
function openPresentation(text) {
  if (text.length > MAX_PRESENTATION_CHARS) {
    refuse('too_large', `presentation text is larger than the limit of ${MAX_PRESENTATION_CHARS} bytes`);
  }
  const bytes = utf8Bytes(text);
  if (bytes.length > MAX_PRESENTATION_CHARS) {
    refuse('too_large', `presentation text is larger than the limit of ${MAX_PRESENTATION_CHARS} bytes`);
  }
  if (!text.startsWith(PRESENTATION_PREFIX)) presentationMalformed(`a live presentation starts with ${PRESENTATION_PREFIX}`);
  let msg;
  try {
    msg = parseSign1(unbase45(bytes.subarray(PRESENTATION_PREFIX.length)));
  } catch (e) {
    // parseSign1 says bad_signature for a signature that is not 64 bytes: here that is a
    // malformed presentation, not a holder signature that failed.
    if (e instanceof Refusal && e.kind === 'bad_signature') presentationMalformed('the signature is not 64 bytes');
    throw e;
  }
  if (msg.typ !== PRESENTATION_TYP) presentationMalformed('typ header says this is not a live presentation');
  checkDeterministic(msg.payload);
  const top = cborDecode(msg.payload);
  if (top.k !== 'map') presentationMalformed('presentation is not a map');
  if (top.v.length !== 3) presentationMalformed('presentation has other members than 1, 2 and 3');
  const credential = getInt(top.v, 1);
  if (!credential || credential.k !== 'bytes') presentationMalformed('presentation has no credential');
  const presentedAt = asI64(getInt(top.v, 2));
  if (presentedAt === null) presentationMalformed('presentation has no time');
  const nonce = getInt(top.v, 3);
  if (!nonce || nonce.k !== 'bytes') presentationMalformed('presentation has no nonce');
  if (nonce.v.length !== PRESENTATION_NONCE_LEN) presentationMalformed(`nonce is not ${PRESENTATION_NONCE_LEN} bytes`);
  return { msg, credential: credential.v, presentedAt };
}

/**
 * The RFC 7638 thumbprint of an Ed25519 public key: SHA-256 over
 * `{"crv":"Ed25519","kty":"OKP","x":"<base64url>"}`. Its first 4 bytes are the short kid a
 * presentation carries (`makePresentation`'s `kid`).
 * @param {Uint8Array} x the 32-byte public key
 * @returns {Promise<Uint8Array | null>} 32 bytes; null when `x` is not 32 bytes or WebCrypto
 *   is not available
 */
export async function holderKid(x) {
  try {
    const b = asBytes(x);
    if (!b || b.length !== 32) return null;
    return await thumbprint(Uint8Array.from(b));
  } catch {
    return null;
  }
}

/**
 * Makes a wallet's live presentation of a credential: the same text, byte for byte, as the
 * Rust `Presentation { credential, presented_at: now, nonce }.sign(holder, kid)` with the same
 * key (Ed25519 signatures are deterministic).
 *
 * opts = { sign: async (bytes: Uint8Array) => Uint8Array (or ArrayBuffer) of 64 bytes, the
 * holder key's Ed25519 signature over `bytes` (e.g. WebCrypto's subtle.sign); kid: the short
 * kid, the first 4 bytes of `holderKid(x)` (the whole 32-byte thumbprint is taken too, and
 * shortened as the Rust code shortens it); now: Unix seconds (integer Number or BigInt); nonce:
 * 8 random bytes }.
 *
 * The credential text is read as the Rust code reads it: base45, untrimmed.
 * @param {string} credentialText the credential's QR text
 * @returns {Promise<string | {ok: false, kind: string, message: string}>} "QP1:…", or a
 *   refusal (invalid_argument, too_large, base45, signing_failed)
 */
export async function makePresentation(credentialText, opts = {}) {
  try {
    return await makePresentationInner(credentialText, opts || {});
  } catch (e) {
    return failure(e);
  }
}

async function makePresentationInner(credentialText, { sign, kid, now, nonce } = {}) {
  if (typeof credentialText !== 'string') refuse('invalid_argument', 'the credential must be its QR text (a string)');
  if (credentialText.length > MAX_PAYLOAD_CHARS) {
    refuse('too_large', `the credential text is larger than the limit of ${MAX_PAYLOAD_CHARS} bytes`);
  }
  if (typeof sign !== 'function') refuse('invalid_argument', 'sign must be a function that signs bytes with the holder key');
  const kidBytes = asBytes(kid);
  if (!kidBytes || (kidBytes.length !== SHORT_KID_LEN && kidBytes.length !== 32)) {
    refuse('invalid_argument', `kid must be the ${SHORT_KID_LEN}-byte short kid (or the 32-byte thumbprint) of the holder key`);
  }
  const shortKid = Uint8Array.from(kidBytes.subarray(0, SHORT_KID_LEN));
  const presentedAt = toI64(now, 'now');
  const nonceBytes = asBytes(nonce);
  if (!nonceBytes || nonceBytes.length !== PRESENTATION_NONCE_LEN) {
    refuse('invalid_argument', `nonce must be ${PRESENTATION_NONCE_LEN} bytes`);
  }
  const credential = unbase45(utf8Bytes(credentialText));
  // cose::protected_header(kid, Some(typ)): {1: -8, 4: kid, 16: typ}, in that order.
  const protectedBytes = concat([
    Uint8Array.from([0xa3, 0x01, 0x27, 0x04]),
    cborBytes(shortKid),
    Uint8Array.from([0x10, ...cborHead(3, PRESENTATION_TYP.length)]),
    utf8Bytes(PRESENTATION_TYP),
  ]);
  const payload = concat([
    Uint8Array.from([0xa3, 0x01]),
    cborBytes(credential),
    Uint8Array.from([0x02]),
    cborInt(presentedAt),
    Uint8Array.from([0x03]),
    cborBytes(Uint8Array.from(nonceBytes)),
  ]);
  let signature;
  try {
    signature = asBytes(await sign(sigStructure(protectedBytes, payload)));
  } catch (e) {
    refuse('signing_failed', `the holder key could not sign: ${e && e.message ? e.message : String(e)}`);
  }
  if (!signature || signature.length !== 64) refuse('signing_failed', 'the holder key did not give a 64-byte Ed25519 signature');
  // cose::sign: 18([protected, {}, payload, signature]).
  const message = concat([
    Uint8Array.from([0xd2, 0x84]),
    cborBytes(protectedBytes),
    Uint8Array.from([0xa0]),
    cborBytes(payload),
    cborBytes(Uint8Array.from(signature)),
  ]);
  return PRESENTATION_PREFIX + base45Bytes(message);
}

/**
 * Checks a wallet's live presentation (QP1:) offline, as the service's live check does: the
 * credential inside is verified as `verify` verifies it, and its verdict is the answer when it
 * is not valid. A valid credential's presentation must then be signed by the credential's
 * holder key (`cnf`; none: presentation_unbound; another: presentation_wrong_holder), made
 * within the last 45 s and not more than 15 s ahead of `now` (presentation_stale), and not seen
 * before (presentation_replayed).
 *
 * ctx = `verify`'s ctx plus seen: a Map of the presentations accepted before (SHA-256 hex of
 * the trimmed text → Unix seconds until which it is remembered, presented_at + 60). It is
 * required, pruned of what is past, and an accepted presentation is added to it.
 *
 * Accepted: `verify`'s valid verdict plus live: { kind: 'valid', presented_at }.
 * Refused after the credential verified: that verdict with ok: false, kind and message of the
 * presentation's refusal, credential_id, and live: { kind, presented_at }.
 * Credential not valid: its own verdict (as `verify` returns it), without live.
 * Text that is not a presentation: { ok: false, kind, message } with kind too_large, base45,
 * cbor, non_canonical, cose_structure, algorithm_not_allowed or presentation_malformed.
 */
export async function verifyPresentation(text, ctx = {}) {
  try {
    return await verifyPresentationInner(text, ctx || {});
  } catch (e) {
    return failure(e);
  }
}

async function verifyPresentationInner(text, ctx) {
  if (typeof text !== 'string') refuse('invalid_argument', 'the presentation must be a string');
  const seen = ctx.seen;
  if (!(seen instanceof Map)) refuse('invalid_argument', 'ctx.seen must be a Map of the presentations seen before');
  const now = ctx.now === undefined || ctx.now === null ? BigInt(Math.floor(Date.now() / 1000)) : toI64(ctx.now, 'now');
  // As the counter reads it: the text trimmed, then opened (a base45 text never ends with a
  // space, and the prefix begins it).
  const trimmed = text.trim();
  const presentation = openPresentation(trimmed);
  const inner = {};
  const verdict = await verifyInner(base45Bytes(presentation.credential), { ...ctx, now }, inner);
  if (!verdict.ok) return verdict;

  const at = presentation.presentedAt;
  const live = (kind) => ({ kind, presented_at: num(at) });
  const refused = (kind, message) => ({
    ...verdict,
    ok: false,
    kind,
    message,
    credential_id: verdict.claims.credential_id,
    live: live(kind),
  });
  if (!inner.holderX) {
    return refused('presentation_unbound', 'the credential is bound to no holder key: it cannot be presented live');
  }
  if (!(await firstVerifying(presentation.msg, [{ x: inner.holderX }]))) {
    return refused('presentation_wrong_holder', "the presentation is not signed by the credential's holder key");
  }
  if (!(at > clampI64(now - PRESENTATION_MAX_AGE) && at <= clampI64(now + PRESENTATION_AHEAD))) {
    return refused(
      'presentation_stale',
      at <= now
        ? `the presentation was made ${clampI64(now - at)} s ago, more than the ${PRESENTATION_MAX_AGE} s allowed`
        : `the presentation was made ${clampI64(at - now)} s ahead of this clock, more than the ${PRESENTATION_AHEAD} s allowed`,
    );
  }
  // The store's see_presentation: forget what is past, then remember this one or refuse it.
  const nowSeconds = num(now);
  for (const [key, until] of seen) {
    if (!((typeof until === 'number' || typeof until === 'bigint') && Number(until) > nowSeconds)) seen.delete(key);
  }
  const digest = hex(await sha256(utf8Bytes(trimmed)));
  if (seen.has(digest)) return refused('presentation_replayed', 'this presentation was shown before: it is a copy');
  seen.set(digest, num(clampI64(at + PRESENTATION_MAX_AGE + PRESENTATION_AHEAD)));
  return { ...verdict, live: live('valid') };
}

/**
 * What a scanned QR text is: 'login_request' (QL1:), 'signature_stamp' (QS1:), 'presentation'
 * (QP1:, a wallet's live QR: check it with `verifyPresentation`), 'credential'
 * (base45 text whose decoded first byte is a zlib header, tag 18 or an untagged COSE array:
 * third character F, Q or G), or 'other' (an EU DCC, HC1:, and anything else).
 */
export function classify(text) {
  if (typeof text !== 'string') return 'other';
  const trimmed = text.trim();
  if (trimmed.startsWith('QL1:')) return 'login_request';
  if (trimmed.startsWith('QS1:')) return 'signature_stamp';
  if (trimmed.startsWith(PRESENTATION_PREFIX)) return 'presentation';
  const t = trimScannerNoise(text);
  if (t.startsWith('HC1:')) return 'other';
  if (t.length < 3 || t.length > MAX_PAYLOAD_CHARS || t.length % 3 === 1) return 'other';
  for (let i = 0; i < t.length; i++) {
    const c = t.charCodeAt(i);
    if (c > 255 || B45_VALUE[c] < 0) return 'other';
  }
  return 'FQG'.includes(t[2]) ? 'credential' : 'other';
}
