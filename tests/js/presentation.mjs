// The offline verifier's live presentations (QP1:, crates/web/assets/js/qrid-verify.mjs)
// against presentations the Rust crate made (crates/credential/src/presentation.rs). Node 20,
// no dependencies:
//
//     node tests/js/presentation.mjs CASES.json
//
// tests/tests/offline_verifier.rs (the_browser_verifier_checks_live_presentations) writes
// CASES.json and runs this from the repository root. CASES.json:
//
//     {
//       "trust": <the issuers' JWKS>,
//       "now": <Unix seconds: the verifier's clock for every case>,
//       "cases": [{"name", "text", "expect_kind", "expect_ok"}, ...],
//       "make": {"credential": <QR text of a credential bound to the key of seed_hex>,
//                "seed_hex": <the holder's Ed25519 seed, 32 bytes>, "kid_hex": <its short kid>,
//                "now": <presented_at>, "nonce_hex": <8 bytes>, "expected": <the Rust text>}
//     }
//
// The cases are checked in order with one `seen` map, so that a case may be the replay of an
// earlier one. A case's outcome kind is what the counter shows: live_valid for an accepted
// presentation, valid for a credential that verified without a live check (never expected
// here), else the verdict's kind. Then `makePresentation` with the seed's key must give the
// Rust text byte for byte, and that text must verify. One line per check; exit status 1 on any
// mismatch.

import {
  verifyPresentation,
  makePresentation,
  holderKid,
  base45Encode,
  base45Decode,
  classify,
  verify,
} from '../../crates/web/assets/js/qrid-verify.mjs';
import { readFileSync } from 'node:fs';
import { webcrypto } from 'node:crypto';

const subtle = webcrypto.subtle;
const fromHex = (h) => Uint8Array.from(Buffer.from(h, 'hex'));
const toHex = (b) => Buffer.from(b).toString('hex');
const show = (v) =>
  JSON.stringify(v, (_, x) => (typeof x === 'bigint' ? `${x}n` : x instanceof Uint8Array ? `<${x.length} bytes>` : x));

const failures = [];
function record(name, problems) {
  if (problems.length === 0) {
    console.log(`ok    ${name}`);
  } else {
    failures.push(name);
    console.log(`FAIL  ${name}: ${problems.join('; ')}`);
  }
}

/** What the counter shows for a verdict. */
const outcome = (r) => (r.ok ? (r.live ? 'live_valid' : 'valid') : r.kind);

async function main() {
  const file = process.argv[2];
  if (!file) throw new Error('usage: node tests/js/presentation.mjs CASES.json');
  const spec = JSON.parse(readFileSync(file, 'utf8'));
  if (!Array.isArray(spec.cases) || spec.cases.length === 0) throw new Error(`${file}: no cases`);
  const ctx = { now: spec.now, trust: spec.trust, seen: new Map() };

  // ----- 1. each case, in order, with one seen map -----

  for (const c of spec.cases) {
    const problems = [];
    let r;
    try {
      r = await verifyPresentation(c.text, ctx);
    } catch (e) {
      record(c.name, [`threw ${e && e.stack ? e.stack : e}`]);
      continue;
    }
    if (!r || typeof r !== 'object') {
      record(c.name, [`not a verdict: ${show(r)}`]);
      continue;
    }
    const kind = outcome(r);
    if (r.ok !== c.expect_ok) problems.push(`ok is ${r.ok}, expected ${c.expect_ok}`);
    if (c.expect_kind !== undefined && c.expect_kind !== null && kind !== c.expect_kind) {
      problems.push(`kind ${kind}, expected ${c.expect_kind}`);
    }
    if (!r.ok && (typeof r.message !== 'string' || r.message === '')) problems.push('a refusal without a message');
    if (r.kind === 'internal_error') problems.push(`internal error: ${r.message}`);
    if (r.live) {
      // A live check was made: the credential verified, so its claims are there, and the
      // live kind is the verdict's.
      if (!r.claims || typeof r.claims.credential_id !== 'string') problems.push('a live verdict without the claims');
      if (r.live.kind !== (r.ok ? 'valid' : r.kind)) problems.push(`live.kind ${r.live.kind} for kind ${kind}`);
      if (!Number.isSafeInteger(r.live.presented_at)) problems.push(`live.presented_at ${show(r.live.presented_at)}`);
      if (!r.ok && r.credential_id !== r.claims.credential_id) problems.push('a live refusal without credential_id');
    } else if (kind.startsWith('presentation_') && kind !== 'presentation_malformed') {
      problems.push(`${kind} without live`);
    }
    if (typeof c.text === 'string' && c.text.trim().startsWith('QP1:') && classify(c.text) !== 'presentation') {
      problems.push(`classify: ${classify(c.text)}`);
    }
    if (problems.length) problems.push(`verdict ${show({ ...r, claims: r.claims ? '…' : undefined })}`);
    record(`case ${c.name}`, problems);
  }

  // ----- 2. makePresentation reproduces the Rust text -----

  const m = spec.make;
  if (!m) throw new Error(`${file}: no "make"`);
  {
    const problems = [];
    const seed = fromHex(m.seed_hex);
    const pkcs8 = Uint8Array.from([...fromHex('302e020100300506032b657004220420'), ...seed]);
    const key = await subtle.importKey('pkcs8', pkcs8, { name: 'Ed25519' }, true, ['sign']);
    const x = Uint8Array.from(Buffer.from((await subtle.exportKey('jwk', key)).x, 'base64url'));
    const sign = async (bytes) => new Uint8Array(await subtle.sign({ name: 'Ed25519' }, key, bytes));
    const kid = await holderKid(x);
    if (!(kid instanceof Uint8Array) || kid.length !== 32) problems.push(`holderKid gave ${show(kid)}`);
    else if (m.kid_hex && toHex(kid.subarray(0, 4)) !== m.kid_hex) problems.push(`short kid ${toHex(kid.subarray(0, 4))} != ${m.kid_hex}`);
    const opts = { sign, kid: kid.subarray(0, 4), now: m.now, nonce: fromHex(m.nonce_hex) };
    const made = await makePresentation(m.credential, opts);
    if (typeof made !== 'string') problems.push(`refused: ${show(made)}`);
    else if (made !== m.expected) {
      const at = [...made].findIndex((ch, i) => ch !== m.expected[i]);
      problems.push(`differs from the Rust text at character ${at} (lengths ${made.length} and ${m.expected.length})`);
      const ours = base45Decode(made.slice(4));
      const theirs = base45Decode(m.expected.slice(4));
      if (ours && theirs) problems.push(`JS  ${toHex(ours)}`, `Rust ${toHex(theirs)}`);
    }
    // The whole thumbprint, a BigInt time and an ArrayBuffer signature give the same text.
    const again = await makePresentation(m.credential, {
      ...opts,
      kid,
      now: BigInt(m.now),
      sign: async (bytes) => subtle.sign({ name: 'Ed25519' }, key, bytes),
    });
    if (again !== made) problems.push(`with the 32-byte kid, a BigInt time: ${show(again)}`);
    record('makePresentation gives the Rust text byte for byte', problems);

    // What it made verifies (at its own time, with a seen map of its own), once.
    const seen = new Map();
    const first = await verifyPresentation(made, { now: m.now, trust: spec.trust, seen });
    const second = await verifyPresentation(made, { now: m.now + 1, trust: spec.trust, seen });
    record('the presentation made here verifies, then is a replay', [
      ...(outcome(first) === 'live_valid' ? [] : [`first: ${show(first)}`]),
      ...(outcome(second) === 'presentation_replayed' ? [] : [`second: ${show(second)}`]),
      ...(seen.size === 1 ? [] : [`seen holds ${seen.size}`]),
    ]);
    // A minute later it is stale (which is checked before the seen map).
    const later = await verifyPresentation(made, { now: m.now + 61, trust: spec.trust, seen });
    record('a minute later the same presentation is stale', [
      ...(outcome(later) === 'presentation_stale' ? [] : [`later: ${show(later)}`]),
    ]);
    const pruned = new Map([['old', m.now - 1]]);
    await verifyPresentation(made, { now: m.now, trust: spec.trust, seen: pruned });
    record('seen: what is past is forgotten, what is accepted remembered until presented_at + 60', [
      ...(!pruned.has('old') ? [] : ['the past entry is still there']),
      ...([...pruned.values()].every((u) => u === m.now + 60) && pruned.size === 1 ? [] : [show([...pruned])]),
    ]);

    // Refusals of makePresentation are verdicts.
    const refusals = [
      ['a credential that is not base45', () => makePresentation('abc', opts), 'base45'],
      ['a 7-byte nonce', () => makePresentation(m.credential, { ...opts, nonce: new Uint8Array(7) }), 'invalid_argument'],
      ['a 5-byte kid', () => makePresentation(m.credential, { ...opts, kid: new Uint8Array(5) }), 'invalid_argument'],
      ['a time that is not an integer', () => makePresentation(m.credential, { ...opts, now: 1.5 }), 'invalid_argument'],
      ['no signer', () => makePresentation(m.credential, { ...opts, sign: undefined }), 'invalid_argument'],
      ['a signer that fails', () => makePresentation(m.credential, { ...opts, sign: async () => { throw new Error('no key'); } }), 'signing_failed'],
      ['a short signature', () => makePresentation(m.credential, { ...opts, sign: async () => new Uint8Array(63) }), 'signing_failed'],
    ];
    for (const [what, f, kind] of refusals) {
      let r;
      try {
        r = await f();
      } catch (e) {
        r = { threw: String(e) };
      }
      record(`makePresentation refuses ${what}`, r && r.ok === false && r.kind === kind ? [] : [show(r)]);
    }
  }

  // ----- 3. hostile presentation text, other kinds, codecs -----

  {
    const good = m.expected;
    const hostile = [
      ['not a string', 42, 'invalid_argument'],
      ['no seen map', good, 'invalid_argument', { seen: undefined }],
      ['a credential text', m.credential, 'presentation_malformed'],
      ['the prefix alone', 'QP1:', 'cbor'],
      ['bad base45', 'QP1:abc', 'base45'],
      ['cut short', good.slice(0, good.length - 3), null],
      ['too long', `QP1:${'0'.repeat(4293)}`, 'too_large'],
      ['a stamp prefix', good.replace('QP1:', 'QS1:'), 'presentation_malformed'],
    ];
    for (const [what, text, kind, extra] of hostile) {
      let r;
      try {
        r = await verifyPresentation(text, { ...ctx, seen: new Map(), ...(extra || {}) });
      } catch (e) {
        r = { threw: String(e) };
      }
      const fine = r && r.ok === false && r.kind !== 'internal_error' && (kind === null || r.kind === kind);
      record(`hostile: ${what}`, fine ? [] : [`expected ${kind ?? 'a refusal'}, got ${show(r)}`]);
    }
    // Every single-bit change of the presentation's bytes: refused, never thrown.
    const bytes = base45Decode(good.slice(4));
    const problems = [];
    const kinds = new Set();
    for (let i = 0; i < bytes.length; i++) {
      const changed = Uint8Array.from(bytes);
      changed[i] ^= 1 << (i % 8);
      let r;
      try {
        r = await verifyPresentation(`QP1:${base45Encode(changed)}`, { now: m.now, trust: spec.trust, seen: new Map() });
      } catch (e) {
        r = { threw: String(e) };
      }
      if (!r || r.ok !== false || r.kind === 'internal_error') problems.push(`byte ${i}: ${show(r)}`);
      else kinds.add(r.kind);
    }
    record(`hostile: every one of ${bytes.length} bytes changed: refused (${[...kinds].sort().join(', ')})`, problems.slice(0, 5));

    const other = await verify(good, { now: spec.now, trust: spec.trust });
    record('verify refuses a presentation as another kind of QR', other.ok === false && other.kind === 'bad_prefix' ? [] : [show(other)]);
    const codec = [];
    for (let n = 0; n < 40; n++) {
      const b = Uint8Array.from({ length: n }, (_, i) => (i * 97 + n * 13) & 0xff);
      const back = base45Decode(base45Encode(b));
      if (!back || toHex(back) !== toHex(b)) codec.push(`length ${n}`);
    }
    if (base45Encode(Uint8Array.from([0x41, 0x42])) !== 'BB8') codec.push('RFC 9285 example "AB"');
    if (base45Decode('GGW') !== null || base45Decode(':::') !== null || base45Decode('BB8A') !== null) codec.push('strictness');
    const ab = base45Decode('BB8');
    if (!ab || toHex(ab) !== '4142') codec.push('base45Decode("BB8")');
    if (base45Encode('not bytes') !== null) codec.push('base45Encode of a string');
    record('base45Encode and base45Decode', codec);
  }
}

try {
  await main();
} catch (e) {
  console.log(`FAIL  ${e && e.stack ? e.stack : e}`);
  process.exit(1);
}
if (failures.length) {
  console.log(`\n${failures.length} FAILED:\n  ${failures.join('\n  ')}`);
  process.exit(1);
}
console.log('\nall passed');
