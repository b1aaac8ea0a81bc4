// The offline browser verifier (crates/web/assets/js/qrid-verify.mjs) against the shared test
// vectors of tests/vectors/, plus hostile input of its own. Run from anywhere with Node 20:
//
//     node tests/js/vectors.mjs
//
// One line per case, a summary, exit status 1 on any mismatch. tests/tests/offline_verifier.rs
// runs it as part of `cargo test`.
//
// Valid vectors are rebuilt here from their input and metadata (deterministic CBOR, Ed25519
// from the seeds of keys.json, base45) and must reproduce claims_cbor_hex, cose_sign1_hex and
// the uncompressed payloads byte for byte; compressed ones are remade with node:zlib (whose
// bytes differ from libdeflate's) and must verify the same. Every payload must verify to
// expected_claims, with the expected key and status. Every invalid vector must get exactly its
// expected_kind. Hostile inputs must come back as verdicts (ok: false), never as exceptions or
// hangs.

import { verify, checkStatusList, classify } from '../../crates/web/assets/js/qrid-verify.mjs';
import { readFileSync } from 'node:fs';
import { createHash, webcrypto } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import zlib from 'node:zlib';

const subtle = webcrypto.subtle;
const load = (name) => JSON.parse(readFileSync(new URL(`../vectors/${name}`, import.meta.url), 'utf8'));
const KEYS = load('keys.json').keys;
const VALID = load('valid.json');
const INVALID = load('invalid.json');

// ----- reporting -----

const tally = {};
const failures = [];

function record(group, name, problems) {
  tally[group] ??= { pass: 0, total: 0 };
  tally[group].total++;
  if (problems.length === 0) {
    tally[group].pass++;
    console.log(`ok    ${group}/${name}`);
  } else {
    failures.push(`${group}/${name}`);
    console.log(`FAIL  ${group}/${name}: ${problems.join('; ')}`);
  }
}

const TIMEOUT_MS = 30_000;

/** Runs `f`, failing (not hanging) after TIMEOUT_MS and catching what it throws. */
async function bounded(f) {
  let timer;
  const timeout = new Promise((resolve) => {
    timer = setTimeout(() => resolve({ timedOut: true }), TIMEOUT_MS);
  });
  const started = performance.now();
  try {
    const result = await Promise.race([
      (async () => ({ value: await f() }))().catch((e) => ({ threw: e })),
      timeout,
    ]);
    return { ...result, ms: performance.now() - started };
  } finally {
    clearTimeout(timer);
  }
}

function show(v) {
  return JSON.stringify(v, (_, x) => (typeof x === 'bigint' ? `${x}n` : x instanceof Uint8Array ? `<${x.length} bytes>` : x));
}

// ----- bytes, base45, CBOR, COSE, Ed25519 (independent of the module under test) -----

const fromHex = (h) => Uint8Array.from(Buffer.from(h, 'hex'));
const toHex = (b) => Buffer.from(b).toString('hex');
const utf8 = (s) => new TextEncoder().encode(s);
const cat = (...parts) => Uint8Array.from(Buffer.concat(parts.map((p) => Buffer.from(p))));
const sha256 = (b) => new Uint8Array(createHash('sha256').update(b).digest());
const sha512 = (b) => new Uint8Array(createHash('sha512').update(b).digest());

const B45 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:';
function base45(bytes) {
  let s = '';
  for (let i = 0; i + 1 < bytes.length; i += 2) {
    const n = bytes[i] * 256 + bytes[i + 1];
    s += B45[n % 45] + B45[Math.floor(n / 45) % 45] + B45[Math.floor(n / 2025)];
  }
  if (bytes.length % 2) {
    const n = bytes[bytes.length - 1];
    s += B45[n % 45] + B45[Math.floor(n / 45)];
  }
  return s;
}
function unbase45(s) {
  const out = [];
  for (let i = 0; i < s.length; i += 3) {
    const g = [...s.slice(i, i + 3)].map((c) => B45.indexOf(c));
    if (g.length === 3) {
      const n = g[0] + g[1] * 45 + g[2] * 2025;
      out.push(n >> 8, n & 255);
    } else out.push(g[0] + g[1] * 45);
  }
  return Uint8Array.from(out);
}

function head(major, n) {
  n = BigInt(n);
  const m = major << 5;
  if (n < 24n) return [m | Number(n)];
  if (n < 0x100n) return [m | 24, Number(n)];
  if (n < 0x10000n) return [m | 25, ...Buffer.from(n.toString(16).padStart(4, '0'), 'hex')];
  if (n < 0x100000000n) return [m | 26, ...Buffer.from(n.toString(16).padStart(8, '0'), 'hex')];
  return [m | 27, ...Buffer.from(n.toString(16).padStart(16, '0'), 'hex')];
}

/** Deterministic CBOR (RFC 8949 §4.2.1) of ints, strings, bytes, arrays and Maps. */
function cbor(v) {
  if (typeof v === 'number' || typeof v === 'bigint') {
    const n = BigInt(v);
    return Uint8Array.from(n >= 0n ? head(0, n) : head(1, -1n - n));
  }
  if (typeof v === 'string') {
    const b = utf8(v);
    return cat(head(3, b.length), b);
  }
  if (v instanceof Uint8Array) return cat(head(2, v.length), v);
  if (v && v.raw instanceof Uint8Array) return v.raw; // already encoded
  if (Array.isArray(v)) return cat(head(4, v.length), ...v.map(cbor));
  if (v instanceof Map) {
    const entries = [...v].map(([k, x]) => [cbor(k), cbor(x)]);
    entries.sort(([a], [b]) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    return cat(head(5, entries.length), ...entries.flat());
  }
  throw new Error(`cannot encode ${v}`);
}

const bstr = (b) => cat(head(2, b.length), b);
const sigStructure = (prot, payload) => cat([0x84, 0x6a], utf8('Signature1'), bstr(prot), [0x40], bstr(payload));
const cose = (prot, payload, sig, tagged = true) => cat(tagged ? [0xd2, 0x84] : [0x84], bstr(prot), [0xa0], bstr(payload), bstr(sig));

const signers = new Map();
async function signer(name) {
  if (!signers.has(name)) {
    const seed = fromHex(KEYS[name].seed_hex);
    const pkcs8 = cat(fromHex('302e020100300506032b657004220420'), seed);
    const key = await subtle.importKey('pkcs8', pkcs8, { name: 'Ed25519' }, true, ['sign']);
    signers.set(name, { seed, key, x: Buffer.from((await subtle.exportKey('jwk', key)).x, 'base64url') });
  }
  return signers.get(name);
}
const sign = async (name, message) => new Uint8Array(await subtle.sign({ name: 'Ed25519' }, (await signer(name)).key, message));

/** A credential protected header {1: -8, 4: kid}. */
const credentialHeader = (kid) => cbor(new Map([[1, -8], [4, kid]]));

/** A signed credential payload text over `claims` (bytes), signed by `name`. */
async function credentialPayload(claims, name = 'issuer1', opts = {}) {
  const prot = opts.protected ?? credentialHeader(fromHex(KEYS[name].short_kid_hex));
  const sig = await sign(name, sigStructure(prot, claims));
  return base45(cose(prot, claims, sig));
}

/** A signed status list token: {2: uri, [4: exp], 6: iat, 65533: {bits, lst}}. */
async function statusToken({ name = 'issuer1', uri, iat, exp, bits = 2, lst, typ = 'application/statuslist+cwt', extra = [] }) {
  const claims = new Map([[2, uri], [6, iat], [65533, new Map([['bits', bits], ['lst', lst]])], ...extra]);
  if (exp !== undefined) claims.set(4, exp);
  const prot = cbor(new Map([[1, -8], [4, fromHex(KEYS[name].kid_hex)], [16, typ]]));
  const payload = cbor(claims);
  return cose(prot, payload, await sign(name, sigStructure(prot, payload)));
}

const jwks = (names) => ({ keys: names.map((n) => KEYS[n].jwk) });
const ctxOf = (v) => ({
  now: v.now,
  trust: jwks(v.trust),
  statusLists: (v.status_lists ?? []).map((l) => fromHex(l.token_hex)),
  policy: v.policy ?? {},
});

// ----- 1. keys.json is what it says -----

for (const [name, k] of Object.entries(KEYS)) {
  const problems = [];
  const s = await signer(name);
  if (toHex(sha256(utf8(k.seed_label))) !== k.seed_hex) problems.push('seed is not SHA-256(seed_label)');
  if (toHex(s.x) !== k.public_key_hex) problems.push('public key');
  if (Buffer.from(s.x).toString('base64url') !== k.jwk.x) problems.push('jwk.x');
  const tp = sha256(utf8(`{"crv":"Ed25519","kty":"OKP","x":"${k.jwk.x}"}`));
  if (Buffer.from(tp).toString('base64url') !== k.kid || k.jwk.kid !== k.kid) problems.push('kid');
  if (toHex(tp) !== k.kid_hex || toHex(tp.subarray(0, 4)) !== k.short_kid_hex) problems.push('kid hex');
  record('keys', name, problems);
}

// ----- 2. valid vectors: rebuilt, then verified -----

const nfcTrim = (s) => s.trim().normalize('NFC');

function claimsOf(v) {
  const i = v.input;
  const m = v.metadata;
  const id = new Map([[1, i.id_number], [4, nfcTrim(i.full_name)], [8, i.date_of_birth.replaceAll('-', '')]]);
  if (i.sex) id.set(9, { M: 1, F: 2, X: 3 }[i.sex]);
  if (i.place_of_residence) id.set(10, nfcTrim(i.place_of_residence));
  if (i.nationality) id.set(13, i.nationality);
  if (i.place_of_origin) id.set(-1, nfcTrim(i.place_of_origin));
  if (i.photo_sha256) id.set(-2, fromHex(i.photo_sha256));
  const claims = new Map([[1, m.iss], [4, m.exp], [6, m.iat], [7, fromHex(m.cti)], [169, id]]);
  if (m.holder) {
    claims.set(8, new Map([[1, new Map([[1, 1], [-1, 6], [-2, fromHex(KEYS[m.holder].public_key_hex)]])]]));
  }
  if (m.status) claims.set(65535, new Map([['status_list', new Map([['idx', m.status.idx], ['uri', m.status.uri]])]]));
  return cbor(claims);
}

function checkVerdict(r, v, expectedKid, problems) {
  if (!r.ok) {
    problems.push(`expected valid, got ${r.kind}: ${r.message}`);
    return;
  }
  if (!isDeepStrictEqual(r.claims, v.expected_claims)) problems.push(`claims ${show(r.claims)} != ${show(v.expected_claims)}`);
  if (r.kid !== expectedKid) problems.push(`kid ${r.kid} != ${expectedKid}`);
  const expectedStatus = v.expected_status ?? (v.expected_claims.status_list && v.status_lists.length ? 'valid' : 'unchecked');
  if (r.status.state !== expectedStatus) problems.push(`status ${r.status.state} != ${expectedStatus}`);
  if (r.status.state === 'valid') {
    const token = checkedLists.get(v.status_lists[0].token_hex);
    if (r.status.age_seconds !== v.now - token.iat) problems.push(`status age ${r.status.age_seconds}`);
  } else if (r.status.age_seconds !== null) problems.push('unchecked status with an age');
}

const checkedLists = new Map();
for (const v of [...VALID.vectors, ...VALID.accepted, ...INVALID.vectors]) {
  for (const l of v.status_lists ?? []) {
    if (checkedLists.has(l.token_hex)) continue;
    const r = await checkStatusList(fromHex(l.token_hex), jwks(v.trust), v.now);
    record('status_lists', `${l.uri} (${v.name})`, r.ok && r.uri === l.uri ? [] : [show(r)]);
    checkedLists.set(l.token_hex, r);
  }
}

for (const v of VALID.vectors) {
  const problems = [];
  const claims = claimsOf(v);
  if (toHex(claims) !== v.claims_cbor_hex) problems.push('claims_cbor_hex not reproduced from input and metadata');
  const prot = credentialHeader(fromHex(KEYS[v.signing_key].short_kid_hex));
  const signed = cose(prot, claims, await sign(v.signing_key, sigStructure(prot, claims)));
  if (toHex(signed) !== v.cose_sign1_hex) problems.push('cose_sign1_hex not reproduced');
  const sent = unbase45(v.payload);
  if ((sent[0] === 0x78) !== v.compressed) problems.push('compressed flag');
  if (v.compressed) {
    if (toHex(zlib.inflateSync(sent)) !== v.cose_sign1_hex) problems.push('payload does not inflate to cose_sign1_hex');
    const ours = zlib.deflateSync(signed, { level: 9 });
    if (ours.length >= signed.length) problems.push('node:zlib does not shrink it');
    checkVerdict(await verify(base45(ours), ctxOf(v)), v, KEYS[v.signing_key].kid, problems);
  } else if (base45(signed) !== v.payload) problems.push('payload not reproduced');
  checkVerdict(await verify(v.payload, ctxOf(v)), v, KEYS[v.signing_key].kid, problems);
  // Scanners add line ends and tabs; they are trimmed.
  checkVerdict(await verify(`\t${v.payload}\r\n`, ctxOf(v)), v, KEYS[v.signing_key].kid, problems);
  if (classify(v.payload) !== 'credential') problems.push(`classify: ${classify(v.payload)}`);
  record('valid', v.name, problems);
}

// ----- 3. accepted vectors -----

for (const v of VALID.accepted) {
  const problems = [];
  const raw = unbase45(v.payload);
  const coseBytes = raw[0] === 0x78 ? new Uint8Array(zlib.inflateSync(raw)) : raw;
  if (v.name.startsWith('untagged_') && coseBytes[0] !== 0x84) problems.push('not untagged');
  if (v.claims_cbor_hex) {
    if (!toHex(coseBytes).includes(v.claims_cbor_hex)) problems.push('claims_cbor_hex is not the signed payload');
    const id = toHex(sha256(fromHex(v.claims_cbor_hex)).subarray(0, 8));
    if (v.expected_claims.credential_id !== id) problems.push('credential_id is not the digest of the claims');
  }
  checkVerdict(await verify(v.payload, ctxOf(v)), v, v.expected_kid, problems);
  if (classify(v.payload) !== 'credential') problems.push(`classify: ${classify(v.payload)}`);
  record('accepted', v.name, problems);
}

// ----- 4. invalid vectors -----

const WITH_CREDENTIAL = ['expired', 'not_yet_valid', 'revoked', 'suspended', 'stale_status_list', 'status_index_out_of_range', 'unknown_status'];

for (const v of INVALID.vectors) {
  const problems = [];
  const r = await verify(v.payload, ctxOf(v));
  if (r.ok) problems.push(`expected ${v.expected_kind}, got a valid verdict`);
  else if (r.kind !== v.expected_kind) problems.push(`expected ${v.expected_kind}, got ${r.kind}: ${r.message}`);
  else if (typeof r.message !== 'string' || r.message === '') problems.push('no message');
  if (!r.ok && WITH_CREDENTIAL.includes(r.kind) && !(r.claims && r.credential_id === r.claims.credential_id)) {
    problems.push('a refusal after the claims were read carries no claims');
  }
  if (!r.ok && ['revoked', 'suspended'].includes(r.kind) && r.status?.state !== r.kind) problems.push('no status');
  record('invalid', v.name, problems);
}

// ----- 5. hostile input of our own -----

/** `f` must return a refusal (of `kind`, if given) within the time limit, without throwing. */
async function hostile(name, f, kind) {
  const problems = [];
  const r = await bounded(f);
  if (r.timedOut) problems.push(`no answer within ${TIMEOUT_MS} ms`);
  else if (r.threw) problems.push(`threw ${r.threw && r.threw.stack ? r.threw.stack : r.threw}`);
  else if (!r.value || r.value.ok !== false) problems.push(`expected a refusal, got ${show(r.value)}`);
  else if (kind && r.value.kind !== kind) problems.push(`expected ${kind}, got ${r.value.kind}: ${r.value.message}`);
  else if (r.value.kind === 'internal_error') problems.push(`internal error: ${r.value.message}`);
  record('hostile', name, problems);
}

/** `f` must return a valid verdict, checked by `check`. */
async function accepted(name, f, check = () => []) {
  const r = await bounded(f);
  const problems = r.timedOut ? ['timed out'] : r.threw ? [`threw ${r.threw}`] : r.value.ok ? check(r.value) : [`refused: ${r.value.kind}: ${r.value.message}`];
  record('hostile', name, problems);
}

const NOW = 1763856000;
const MAX_LIST = 16 * 1024 * 1024;
const trusted = { now: NOW, trust: jwks(['issuer1', 'issuer2']) };
const full = VALID.vectors.find((v) => v.name === 'full');
const minimal = VALID.vectors.find((v) => v.name === 'minimal');
const fullCose = fromHex(full.cose_sign1_hex);
const minimalClaims = fromHex(minimal.claims_cbor_hex);
const z = (bytes) => new Uint8Array(zlib.deflateSync(bytes, { level: 9 }));
const zPayload = (bytes) => base45(z(bytes));

// zlib: bombs, limits, corruption, and what Node's own DecompressionStream would let through.
const bomb = zPayload(new Uint8Array(2 * 1024 * 1024));
await hostile(`zlib bomb: 2 MiB of zeros in ${bomb.length} characters`, () => verify(bomb, trusted), 'too_large');
await hostile('zlib: exactly 16384 bytes inflate (the limit), then they are not CBOR', () => verify(zPayload(new Uint8Array(16384)), trusted), 'cbor');
await hostile('zlib: 16385 bytes, one over the limit', () => verify(zPayload(new Uint8Array(16385)), trusted), 'too_large');
const goodZ = z(fullCose);
await accepted('zlib: the full credential compressed by node:zlib verifies', () => verify(base45(goodZ), { ...trusted, statusLists: [fromHex(full.status_lists[0].token_hex)] }));
await hostile('zlib: one byte after the end of the stream', () => verify(base45(cat(goodZ, [0])), trusted), 'decompression');
await hostile('zlib: Adler-32 trailer cut off', () => verify(base45(goodZ.subarray(0, goodZ.length - 4)), trusted), 'decompression');
const badAdler = Uint8Array.from(goodZ);
badAdler[badAdler.length - 1] ^= 1;
await hostile('zlib: wrong Adler-32', () => verify(base45(badAdler), trusted), 'decompression');
await hostile('zlib: a preset dictionary (FDICT)', () => verify(base45(cat([0x78, 0xbb], goodZ.subarray(2))), trusted), 'decompression');
await hostile('zlib: header only', () => verify(base45(Uint8Array.from([0x78, 0x9c])), trusted), 'decompression');
await hostile('zlib: reserved block type 3', () => verify(base45(Uint8Array.from([0x78, 0x9c, 0x07, 0x00])), trusted), 'decompression');
await hostile('zlib: stored block with a bad length complement', () => verify(base45(Uint8Array.from([0x78, 0x01, 0x01, 0x05, 0x00, 0x00, 0x00, 0x41])), trusted), 'decompression');
// A non-final block of zeros, flushed to a byte boundary, then a block of the reserved type 3.
const corruptAfter = (n) => cat([0x78, 0x01], zlib.deflateRawSync(new Uint8Array(n), { finishFlush: zlib.constants.Z_SYNC_FLUSH }), [0x07, 0, 0, 0, 0]);
await hostile('zlib: a corrupt block after 20000 bytes of output: too large first', () => verify(base45(corruptAfter(20000)), trusted), 'too_large');
await hostile('zlib: a corrupt block after 1000 bytes of output', () => verify(base45(corruptAfter(1000)), trusted), 'decompression');
const distanceTooFar = cat([0x78, 0x01], [0x03, 0x02, 0x00, 0x00], [0, 0, 0, 1]); // fixed block: a match of 3 at distance 1 with no output yet
await hostile('zlib: a match reaching before the start', () => verify(base45(distanceTooFar), trusted), 'decompression');

// CBOR: nesting, declared lengths, truncation, everywhere it is read.
const nested = (depth, inner = [0x00]) => cat(new Uint8Array(depth).fill(0x81), inner);
await hostile('CBOR: 10000 nested arrays (zlib, 16 KiB)', () => verify(zPayload(nested(10000)), trusted), 'cbor');
await hostile('CBOR: 17 nested arrays', () => verify(base45(nested(17)), trusted), 'cbor');
await hostile('CBOR: 10000 nested tags', () => verify(zPayload(cat(new Uint8Array(10000).fill(0xc6), [0])), trusted), 'cbor');
await hostile('CBOR: 5000 nested maps', () => verify(zPayload(cat(...new Array(5000).fill([0xa1, 0x00]), [0])), trusted), 'cbor');
for (const [what, bytes] of [
  ['array of 2^64-1 items', [0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00]],
  ['byte string of 2^64-1 bytes', [0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00]],
  ['text of 2^32-1 bytes', [0x7a, 0xff, 0xff, 0xff, 0xff, 0x41]],
  ['map of 2^32-1 entries', [0xba, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00]],
  ['tag 18 around a truncated array', [0xd2, 0x84, 0x43, 0xa1]],
  ['an empty payload', []],
]) {
  await hostile(`CBOR envelope: ${what}`, () => verify(base45(Uint8Array.from(bytes)), trusted), 'cbor');
}
const hugeProtected = Uint8Array.from([0x84, 0x4a, 0xbb, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0xa0, 0x40, 0x58, 0x40, ...new Uint8Array(64)]);
await hostile('CBOR protected header: a map of 2^64-1 entries', () => verify(base45(hugeProtected), trusted), 'cbor');
const deepProtected = cat([0x84], bstr(cat([0xa2, 0x01, 0x27, 0x18, 0x63], nested(40))), [0xa0, 0x40, 0x58, 0x40], new Uint8Array(64));
await hostile('CBOR protected header: nested 40 deep', () => verify(base45(deepProtected), trusted), 'cbor');
// Properly signed claims that are hostile: refused after the signature check.
const signedClaims = async (what, claims, kind = 'cbor') => hostile(`signed claims: ${what}`, async () => verify(await credentialPayload(claims), trusted), kind);
await signedClaims('nested 500 deep', cat([0xa1, 0x18, 0x63], nested(500)));
await signedClaims('a byte string of 2^32-1 bytes', Uint8Array.from([0xa1, 0x18, 0x63, 0x5a, 0xff, 0xff, 0xff, 0xff, 0x00]));
await signedClaims('a map of 2^32-1 entries', Uint8Array.from([0xba, 0xff, 0xff, 0xff, 0xff, 0x01]));
await signedClaims('257 entries', cbor(new Map(Array.from({ length: 257 }, (_, i) => [1000 + i, 0]))));
const idMap = new Map([[1, '000000000000'], [4, 'A'], [8, '19850730']]);
const claimsWith = (entries) => cbor(new Map([[1, 'VN'], [4, 2076624000], [6, 1761264000], [169, idMap], ...entries]));
await signedClaims('a text that is not UTF-8', claimsWith([[99, { raw: Uint8Array.from([0x61, 0xff]) }]]));
await signedClaims('a simple value ciborium does not know', claimsWith([[99, { raw: Uint8Array.from([0xf0]) }]]));
await signedClaims('a duplicate key written two ways (1 and 0x18 0x01)', cat([0xa5, 0x18, 0x01, 0x62, 0x56, 0x4e], claimsWith([]).subarray(1)));
await signedClaims('exp as a float', claimsWith([[4, { raw: Uint8Array.from([0xfb, 0x41, 0xde, 0xf1, 0xb1, 0x20, 0, 0, 0]) }]]), 'bad_claims');
await signedClaims('a name with a right-to-left override', claimsWith([[169, new Map([[1, '000000000000'], [4, 'A\u202eB'], [8, '19850730']])]]), 'bad_claims');
await signedClaims('a name of whitespace only (NEL, no-break space)', claimsWith([[169, new Map([[1, '000000000000'], [4, '\u0085\u00a0'], [8, '19850730']])]]), 'bad_claims');
await signedClaims('a name starting with a byte order mark', claimsWith([[169, new Map([[1, '000000000000'], [4, '\ufeffA'], [8, '19850730']])]]), 'bad_claims');
await signedClaims('a weak holder key', claimsWith([[8, new Map([[1, new Map([[1, 1], [-1, 6], [-2, cat([1], new Uint8Array(31))]])]])]]), 'bad_claims');
// What the Rust decoder reads in claims (they are taken as signed, not re-encoded): an
// indefinite-length name in chunks, and the name of Claim 169 (4) written as a long head.
await accepted('signed claims: a name in indefinite-length chunks, a key in a long head', async () => {
  const id = cat([0xa3, 0x01], cbor('000000000000'), [0x18, 0x04, 0x7f], cbor('Lê '), cbor('Văn'), [0xff, 0x08], cbor('19850730'));
  return verify(await credentialPayload(claimsWith([[169, { raw: id }]])), trusted);
}, (r) => (r.claims.full_name === 'Lê Văn' && r.claims.credential_id.length === 16 ? [] : [show(r.claims)]));
await accepted('signed claims: Claim 169 photo (16) and format (17) are shown', async () => {
  const photo = Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]);
  return verify(await credentialPayload(claimsWith([[169, new Map([...idMap, [16, photo], [17, 1]])]])), trusted);
}, (r) => (r.claims.photo instanceof Uint8Array && r.claims.photo.length === 7 && r.claims.photo_format === 1 ? [] : [show(r.claims)]));

// Signatures: what ed25519-dalek's verify_strict refuses and a plain Ed25519 check may not.
const L = 2n ** 252n + 27742317777372353535851937790883648493n;
const le = (b) => b.reduceRight((acc, x) => (acc << 8n) | BigInt(x), 0n);
const toLe = (n) => Uint8Array.from({ length: 32 }, (_, i) => Number((n >> BigInt(8 * i)) & 0xffn));
{
  const prot = credentialHeader(fromHex(KEYS.issuer1.short_kid_hex));
  const sig = await sign('issuer1', sigStructure(prot, minimalClaims));
  const malleable = cat(sig.subarray(0, 32), toLe(le(sig.subarray(32)) + L));
  await hostile('signature: s + L (malleated)', () => verify(base45(cose(prot, minimalClaims, malleable)), trusted), 'bad_signature');
  // R = identity, s = k·a: satisfies [s]B = R + [k]A, which only a strict verifier refuses.
  const s = await signer('issuer1');
  const h = sha512(s.seed);
  const a = le(Uint8Array.from(h.subarray(0, 32), (x, i) => (i === 0 ? x & 248 : i === 31 ? (x & 127) | 64 : x)));
  const R = cat([1], new Uint8Array(31));
  const k = le(sha512(cat(R, s.x, sigStructure(prot, minimalClaims)))) % L;
  const forged = cat(R, toLe((k * a) % L));
  const pub = await subtle.importKey('raw', s.x, { name: 'Ed25519' }, false, ['verify']);
  const plain = await subtle.verify({ name: 'Ed25519' }, pub, forged, sigStructure(prot, minimalClaims));
  await hostile(`signature: R of small order (a plain Ed25519 check ${plain ? 'accepts' : 'refuses'} it)`, () => verify(base45(cose(prot, minimalClaims, forged)), trusted), 'bad_signature');
}

// Trust lists.
const weakX = cat([1], new Uint8Array(31));
const weakJwk = { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(weakX).toString('base64url'), kid: Buffer.from(sha256(utf8(`{"crv":"Ed25519","kty":"OKP","x":"${Buffer.from(weakX).toString('base64url')}"}`))).toString('base64url') };
await hostile('trust: a weak (small-order) key', () => verify(minimal.payload, { ...trusted, trust: { keys: [KEYS.issuer1.jwk, weakJwk] } }), 'bad_key');
await hostile('trust: a kid that is not the thumbprint', () => verify(minimal.payload, { ...trusted, trust: { keys: [{ ...KEYS.issuer1.jwk, kid: KEYS.issuer2.kid }] } }), 'bad_key');
await hostile('trust: a key pinned to ES256', () => verify(minimal.payload, { ...trusted, trust: { keys: [{ ...KEYS.issuer1.jwk, alg: 'ES256' }] } }), 'bad_key');
await hostile('trust: x with padding', () => verify(minimal.payload, { ...trusted, trust: { keys: [{ ...KEYS.issuer1.jwk, x: `${KEYS.issuer1.jwk.x}=` }] } }), 'bad_key');
await hostile('trust: 1001 keys', () => verify(minimal.payload, { ...trusted, trust: { keys: new Array(1001).fill(KEYS.issuer1.jwk) } }), 'bad_key');
await hostile('trust: not a JWKS', () => verify(minimal.payload, { ...trusted, trust: 42 }), 'bad_key');
await hostile('trust: a JWKS text over 1 MiB', () => verify(minimal.payload, { ...trusted, trust: ' '.repeat(1024 * 1024 + 1) }), 'too_large');
await accepted('trust: the JWKS as JSON text', () => verify(minimal.payload, { ...trusted, trust: JSON.stringify(jwks(['issuer1'])) }));
const mosip = VALID.accepted.find((v) => v.name === 'claim169_no_kid_no_cti');
const extraKeys = [];
for (let i = 0; i < 15; i++) {
  const k = await subtle.generateKey({ name: 'Ed25519' }, true, ['sign', 'verify']);
  const x = (await subtle.exportKey('jwk', k.publicKey)).x;
  extraKeys.push({ kty: 'OKP', crv: 'Ed25519', x, kid: Buffer.from(sha256(utf8(`{"crv":"Ed25519","kty":"OKP","x":"${x}"}`))).toString('base64url'), alg: 'EdDSA', use: 'sig' });
}
await accepted('no kid: every key of a 16-key trust list is tried', () => verify(mosip.payload, { now: mosip.now, trust: { keys: [...extraKeys.slice(0, 14), ...jwks(mosip.trust).keys] } }), (r) => (r.kid === mosip.expected_kid ? [] : [r.kid]));
await hostile('no kid: a 17-key trust list is not searched', () => verify(mosip.payload, { now: mosip.now, trust: { keys: [...extraKeys, ...jwks(mosip.trust).keys] } }), 'unknown_key');

// Status lists.
const listUri = 'https://id.example/s/hostile';
const listBomb = await statusToken({ uri: listUri, iat: NOW, lst: z(new Uint8Array(MAX_LIST + 1)) });
await hostile(`status list: a bomb (16 MiB + 1 in ${listBomb.length} bytes)`, () => checkStatusList(listBomb, jwks(['issuer1']), NOW), 'too_large');
await hostile('status list: a token over 16 MiB + 4096 bytes', () => checkStatusList(new Uint8Array(16 * 1024 * 1024 + 4097), jwks(['issuer1']), NOW), 'too_large');
const goodList = await statusToken({ uri: listUri, iat: NOW - 60, lst: z(Uint8Array.from([0b00_10_01_00])) });
await accepted('status list: a small token signed here', () => checkStatusList(goodList, jwks(['issuer1']), NOW), (r) => (r.uri === listUri && r.bits === 2 && r.entries === 4 && r.age_seconds === 60 ? [] : [show(r)]));
const tampered = Uint8Array.from(goodList);
tampered[tampered.length - 1] ^= 1;
await hostile('status list: tampered', () => checkStatusList(tampered, jwks(['issuer1']), NOW), 'bad_signature');
await hostile('status list: signed by an untrusted key', () => checkStatusList(goodList, jwks(['issuer2']), NOW), 'bad_key');
await hostile('status list: a credential is not a status list', () => checkStatusList(fullCose, jwks(['issuer1']), NOW), 'cose_structure');
await hostile('status list: bits 3', async () => checkStatusList(await statusToken({ uri: listUri, iat: NOW, bits: 3, lst: z(new Uint8Array(1)) }), jwks(['issuer1']), NOW), 'bad_status_list');
await hostile('status list: bytes after the zlib stream of lst', async () => checkStatusList(await statusToken({ uri: listUri, iat: NOW, lst: cat(z(new Uint8Array(1)), [0]) }), jwks(['issuer1']), NOW), 'decompression');
await hostile('status list: claims nested 100 deep', async () => checkStatusList(await statusToken({ uri: listUri, iat: NOW, lst: z(new Uint8Array(1)), extra: [[99, JSON.parse('['.repeat(100) + ']'.repeat(100))]] }), jwks(['issuer1']), NOW), 'cbor');
await hostile('status list: not bytes at all', () => checkStatusList('d284', jwks(['issuer1']), NOW), 'invalid_argument');
{
  const claims = claimsWith([[65535, new Map([['status_list', new Map([['idx', 2], ['uri', listUri]])]])]]);
  const payload = await credentialPayload(claims);
  const older = await statusToken({ uri: listUri, iat: NOW - 120, lst: z(new Uint8Array(1)) });
  const junk = ['not bytes', null, new Uint8Array(0), tampered, listBomb];
  const withLists = (statusLists) => () => verify(payload, { ...trusted, statusLists });
  await hostile('status: junk lists are skipped, a newer list given later replaces an older one', withLists([...junk, older, goodList]), 'suspended');
  await hostile('status: an older list given later does not replace a newer one', withLists([goodList, older]), 'suspended');
  await accepted('status: the older list alone says valid, with its age', withLists([older]), (r) => (r.status.state === 'valid' && r.status.age_seconds === 120 ? [] : [show(r.status)]));
  await accepted('status: junk lists alone leave the status unchecked', withLists(junk), (r) => (r.status.state === 'unchecked' ? [] : [show(r.status)]));
}

let seed = 0x9e3779b9;
const rand = () => {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) / 2 ** 32;
};
// The inflater against node:zlib: varied lists in every block type and strategy come back
// byte for byte (status lists are the large zlib streams a verifier reads).
{
  const varied = new Uint8Array(1 << 20);
  for (let i = 0; i < varied.length; ) {
    const run = 1 + Math.floor(rand() * 300);
    const kind = rand();
    for (let j = 0; j < run && i < varied.length; j++, i++) varied[i] = kind < 0.5 ? 0 : kind < 0.8 ? (i * 7) & 0x55 : Math.floor(rand() * 256);
  }
  const { Z_FIXED, Z_HUFFMAN_ONLY, Z_RLE, Z_FILTERED, Z_DEFAULT_STRATEGY } = zlib.constants;
  for (const [what, options] of [
    ['level 9', { level: 9 }],
    ['level 1', { level: 1 }],
    ['level 0 (stored blocks)', { level: 0 }],
    ['fixed Huffman codes', { level: 6, strategy: Z_FIXED }],
    ['Huffman only', { level: 6, strategy: Z_HUFFMAN_ONLY }],
    ['run-length', { level: 6, strategy: Z_RLE }],
    ['filtered, small window', { level: 9, strategy: Z_FILTERED, windowBits: 9 }],
    ['default, 1 KiB memory', { level: 5, strategy: Z_DEFAULT_STRATEGY, memLevel: 1 }],
  ]) {
    const lst = new Uint8Array(zlib.deflateSync(varied, options));
    await accepted(`inflate: a varied 1 MiB list, ${what} (${lst.length} bytes)`, async () => checkStatusList(await statusToken({ uri: listUri, iat: NOW, bits: 8, lst }), jwks(['issuer1']), NOW), (r) => (Buffer.compare(Buffer.from(r.list), Buffer.from(varied)) === 0 ? [] : ['the list differs from what was compressed']));
  }
}

// Payload text and arguments.
await hostile('payload: ten million characters', () => verify('A'.repeat(10_000_000), trusted), 'too_large');
await hostile('payload: 1500 two-byte characters (3000 bytes, under 4296 characters, but not base45)', () => verify('é'.repeat(1500), trusted), 'base45');
await hostile('payload: 2200 two-byte characters (over 4296 bytes)', () => verify('é'.repeat(2200), trusted), 'too_large');
await hostile('payload: a lone surrogate', () => verify('\ud800AB', trusted), 'base45');
await hostile('payload: not a string', () => verify(fromHex('00'), trusted), 'invalid_argument');
await hostile('context: now is not a number', () => verify(minimal.payload, { ...trusted, now: 'today' }), 'invalid_argument');
await hostile('context: a policy skew that is not an integer', () => verify(minimal.payload, { ...trusted, policy: { clock_skew: 0.5 } }), 'invalid_argument');

// Random input: bytes, bytes behind each first byte a reader branches on, text, and every
// single-byte change of a valid credential.
const randomBytes = (n) => Uint8Array.from({ length: n }, () => Math.floor(rand() * 256));
{
  const problems = [];
  let runs = 0;
  const started = performance.now();
  for (let i = 0; i < 400; i++) {
    const body = randomBytes(Math.floor(rand() * 600));
    const prefixes = [[], [0x78, 0x9c], [0x78, 0xda], [0xd2, 0x84], [0x84], [0xd2, 0x84, 0x49, 0xa2, 0x01, 0x27, 0x04, 0x44]];
    for (const p of prefixes) {
      const r = await bounded(() => verify(base45(cat(p, body)), trusted));
      runs++;
      if (r.timedOut || r.threw || r.value.ok !== false || r.value.kind === 'internal_error') problems.push(`${toHex(cat(p, body)).slice(0, 40)}…: ${show(r)}`);
    }
    const text = String.fromCharCode(...Array.from({ length: Math.floor(rand() * 100) }, () => Math.floor(rand() * 0x10000)));
    const r = await bounded(() => verify(text, trusted));
    runs++;
    if (r.timedOut || r.threw || r.value.ok !== false || r.value.kind === 'internal_error') problems.push(`text: ${show(r)}`);
    const token = await bounded(() => checkStatusList(cat([0xd2, 0x84], body), jwks(['issuer1']), NOW));
    runs++;
    if (token.timedOut || token.threw || token.value.ok !== false || token.value.kind === 'internal_error') problems.push(`token: ${show(token)}`);
  }
  record('hostile', `random input: ${runs} payloads and tokens refused in ${Math.round(performance.now() - started)} ms`, problems.slice(0, 5));
}
{
  const problems = [];
  const kinds = new Set();
  for (let i = 0; i < fullCose.length; i++) {
    const changed = Uint8Array.from(fullCose);
    changed[i] ^= 1 << Math.floor(rand() * 8);
    const r = await bounded(() => verify(base45(changed), { ...trusted, statusLists: [fromHex(full.status_lists[0].token_hex)] }));
    if (r.timedOut || r.threw || r.value.ok !== false || r.value.kind === 'internal_error') problems.push(`byte ${i}: ${show(r)}`);
    else kinds.add(r.value.kind);
  }
  record('hostile', `every one of ${fullCose.length} bytes of a credential changed: refused (${[...kinds].sort().join(', ')})`, problems.slice(0, 5));
}

// classify.
{
  const problems = [];
  for (const [text, kind] of [
    ['QL1:ABC', 'login_request'],
    [' QS1:6BF', 'signature_stamp'],
    ['HC1:NCFOXN', 'other'],
    [minimal.payload, 'credential'],
    [`${full.payload}\n`, 'credential'],
    ['https://example.com/', 'other'],
    ['', 'other'],
    [42, 'other'],
  ]) {
    if (classify(text) !== kind) problems.push(`${show(text).slice(0, 20)}: ${classify(text)} != ${kind}`);
  }
  record('hostile', 'classify', problems);
}

// ----- summary -----

console.log('');
for (const [group, { pass, total }] of Object.entries(tally)) console.log(`${group}: ${pass}/${total} passed`);
if (failures.length) {
  console.log(`\n${failures.length} FAILED:\n  ${failures.join('\n  ')}`);
  process.exit(1);
}
console.log('\nall passed');
