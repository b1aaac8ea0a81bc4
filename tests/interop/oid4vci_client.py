#!/usr/bin/env python3
"""Interoperability: receive a qrid credential with an independent OpenID4VCI 1.0 wallet.

A wallet written from the OpenID for Verifiable Credential Issuance 1.0 specification (final,
2025), sharing no code with the service, takes a Credential Offer through the Pre-Authorized
Code Flow:

1. the Credential Offer (section 4.1): a URL of any scheme whose query holds exactly one of
   `credential_offer` (the JSON offer, URL-encoded) or `credential_offer_uri` (fetched with GET,
   https, application/json); the pre-authorized grant and its `tx_code` description are checked
   against the transaction code given;
2. the Credential Issuer Metadata (section 12.2), at the well-known path inserted between host
   and path of the Credential Issuer Identifier; `credential_issuer` must equal the offer's by
   simple string comparison; the offered configuration, its format, key binding and `jwt` proofs
   with an Ed25519 algorithm must be there;
3. the Authorization Server Metadata (RFC 8414 section 3; the issuer itself when it names no
   `authorization_servers`): `issuer`, `token_endpoint`, and
   `pre-authorized_grant_anonymous_access_supported` (section 12.3) since the wallet is anonymous;
4. the Token Request (section 6.1; RFC 6749 section 4.1.3 with the pre-authorized grant type, no
   client authentication) and its response (RFC 6749 section 5.1: Bearer, Cache-Control no-store);
5. the Nonce Request (section 7): POST with an empty body; `c_nonce`, Cache-Control no-store;
6. a key proof of type `jwt` (appendix F.1) signed with a fresh Ed25519 holder key: header
   typ `openid4vci-proof+jwt`, alg, jwk; payload aud, iat, nonce and no iss (anonymous access);
7. the Credential Request (section 8.2) with `proofs` and the Bearer access token, and the
   Credential Response (section 8.3): 200 and `credentials`;
8. the credential (a MOSIP Claim 169 QR payload, base45(zlib(COSE_Sign1(CWT)))) must verify with
   MOSIP's own `claim169` package under one Ed25519 key of the trusted JWKS;
9. independently of that package: base45 (RFC 9285), zlib, CBOR and COSE_Sign1 decoded here, the
   signature checked again with that trusted key, and the CWT `cnf` claim (8) must hold a COSE_Key
   (OKP, Ed25519) whose x is the holder key of step 6.

With --probe-errors it also sends requests the issuer must refuse and checks the refusals:
before the real Credential Request, proofs with an unknown nonce, a wrong audience, the wrong
typ, none at all, and an unknown credential configuration (section 8.3.1.2); after it, the
pre-authorized code again (single use: invalid_grant, RFC 6749 section 5.2) and the Credential
Endpoint without a token and with a forged one (RFC 6750 section 3).

It prints one JSON object summarising what it saw and exits 0; on any failure it prints the
step and the reason on stderr and exits 1 (2 for a usage error, 3 when a Python package is
missing). It never prints the transaction code, the pre-authorized code or the access token.

Plain http is accepted only for loopback hosts (a test server); everything else must be https.
Every network read is bounded: no redirects, a connect and a total deadline, a maximum body
size, no content coding.

Usage (every flag also reads an environment variable):

    python3 tests/interop/oid4vci_client.py --offer URL --tx-code PIN \
        [--key-out holder.pem] [--trust-jwks URL-or-file] \
        [--configuration-id qrid_claim169] [--format qrid_claim169] [--probe-errors] \
        [--timeout 30] [--ca-bundle PEM]

    environment: QRID_OFFER, QRID_TX_CODE, QRID_KEY_OUT, QRID_TRUST_JWKS,
    QRID_CREDENTIAL_CONFIGURATION, QRID_CREDENTIAL_FORMAT, QRID_PROBE_ERRORS (1/true/yes),
    QRID_HTTP_TIMEOUT, QRID_CA_BUNDLE

Needs: python3 -m pip install requests cryptography claim169 (cbor2 is not used: the CBOR
decoder below is deliberately independent and bounded)
"""

import argparse
import base64
import ipaddress
import json
import os
import re
import struct
import sys
import time
import zlib
from urllib.parse import parse_qs, urlsplit, urlunsplit

try:
    import requests
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (Ed25519PrivateKey,
                                                                   Ed25519PublicKey)
    import claim169
except ImportError as e:  # pragma: no cover - reported to the Rust test
    print(f"oid4vci_client: missing Python package ({e}); run: "
          "python3 -m pip install requests cryptography claim169", file=sys.stderr)
    sys.exit(3)

PRE_AUTHORIZED = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
PROOF_TYP = "openid4vci-proof+jwt"
MAX_BODY = 1 << 20            # bytes of any HTTP response body we read
MAX_DECOMPRESSED = 256 << 10  # bytes of an inflated credential
MAX_CREDENTIAL = 64 << 10     # characters of a base45 credential
# RFC 6749 section 5.2 and OpenID4VCI section 8.3.1.2: error_description characters.
ERROR_DESCRIPTION = re.compile(r"[\x20\x21\x23-\x5b\x5d-\x7e]*")


class Failure(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failure(what)


class Context:
    """What the run did (steps), what it noticed (warnings), and what it must never print."""

    def __init__(self):
        self.steps = []
        self.warnings = []
        self.secrets = []
        self.current = "arguments"

    def at(self, step):
        self.current = step

    def done(self, text):
        self.steps.append(f"{self.current}: {text}")

    def warn(self, text):
        self.warnings.append(f"{self.current}: {text}")

    def secret(self, value):
        if isinstance(value, str) and len(value) >= 4:  # shorter ones would mangle ordinary text
            self.secrets.append(value)

    def scrub(self, text):
        for s in sorted(self.secrets, key=len, reverse=True):
            text = text.replace(s, "[redacted]")
        return text


# --- URLs -----------------------------------------------------------------------------------

def is_loopback(host):
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_url(url, what, *, identifier=False):
    """An absolute https URL (http only on a loopback host, for a test server)."""
    check(isinstance(url, str) and url, f"{what} is not a non-empty string: {url!r}")
    check(len(url) <= 2048 and not any(c.isspace() for c in url), f"{what} is not a URL: {url[:100]!r}")
    p = urlsplit(url)
    check(p.scheme == "https" or (p.scheme == "http" and is_loopback(p.hostname)),
          f"{what} must use https: {url}")
    check(p.hostname, f"{what} has no host: {url}")
    check(p.username is None and p.password is None, f"{what} carries user information: {url}")
    check("#" not in url, f"{what} has a fragment: {url}")
    if identifier:  # section 12.2.1: scheme, host, optional port and path; no query, no fragment
        check("?" not in url, f"{what} has a query component: {url}")
    return p


def well_known(identifier, suffix):
    """RFC 8414 section 3 / OpenID4VCI section 12.2.2: insert the well-known path between the
    host and the path of the identifier, after removing a terminating "/"."""
    p = urlsplit(identifier)
    return urlunsplit((p.scheme, p.netloc, "/.well-known/" + suffix + p.path.rstrip("/"), "", ""))


# --- HTTP, bounded --------------------------------------------------------------------------

class Reply:
    def __init__(self, method, url, status, headers, body):
        self.method, self.url, self.status, self.headers, self.body = method, url, status, headers, body

    def media_type(self):
        return self.headers.get("Content-Type", "").split(";")[0].strip().lower()

    def cache_directives(self):
        return {d.strip().split("=")[0].lower() for d in self.headers.get("Cache-Control", "").split(",")}


class Http:
    def __init__(self, ctx, timeout, ca_bundle):
        self.ctx = ctx
        self.timeout = timeout
        self.session = requests.Session()
        self.session.trust_env = False  # no proxies, no .netrc credentials from the environment
        self.session.headers.update({"User-Agent": "qrid-interop-oid4vci-wallet/1",
                                     "Accept-Encoding": "identity"})
        self.verify = ca_bundle or True

    def request(self, method, url, *, what, headers=None, data=None, json_body=None):
        deadline = time.monotonic() + self.timeout
        try:
            r = self.session.request(method, url, headers=headers, data=data, json=json_body,
                                     timeout=(min(10.0, self.timeout), self.timeout),
                                     allow_redirects=False, stream=True, verify=self.verify)
        except requests.RequestException as e:
            raise Failure(f"{what}: {method} {url}: {type(e).__name__}: {e}")
        try:
            coding = r.headers.get("Content-Encoding", "identity").strip().lower()
            check(coding in ("", "identity"), f"{what}: unrequested Content-Encoding {coding!r}")
            length = r.headers.get("Content-Length", "")
            check(not (length.isdigit() and int(length) > MAX_BODY),
                  f"{what}: body of {length} bytes exceeds {MAX_BODY}")
            body = bytearray()
            read1 = getattr(r.raw, "read1", None)
            while True:
                chunk = (read1(65536, decode_content=False) if read1
                         else r.raw.read(4096, decode_content=False))
                if not chunk:
                    break
                body += chunk
                check(len(body) <= MAX_BODY, f"{what}: body exceeds {MAX_BODY} bytes")
                check(time.monotonic() <= deadline, f"{what}: no complete answer within {self.timeout} s")
        except requests.RequestException as e:
            raise Failure(f"{what}: reading {url}: {type(e).__name__}: {e}")
        except Exception as e:  # urllib3 errors surface as their own types
            if isinstance(e, Failure):
                raise
            raise Failure(f"{what}: reading {url}: {type(e).__name__}: {e}")
        finally:
            r.close()
        check(not 300 <= r.status_code < 400,
              f"{what}: {method} {url} answered a redirect {r.status_code} to "
              f"{r.headers.get('Location', '')!r}; a wallet does not follow it")
        return Reply(method, url, r.status_code, r.headers, bytes(body))


def _unique_members(pairs):
    obj = {}
    for k, v in pairs:
        if k in obj:
            raise ValueError(f"duplicate member {k!r}")
        obj[k] = v
    return obj


def parse_json(raw, what, *, echo=True):
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise Failure(f"{what}: not UTF-8")
    try:
        return json.loads(raw, object_pairs_hook=_unique_members)
    except (ValueError, RecursionError) as e:
        raise Failure(f"{what}: not JSON ({e})" + (f": {raw[:200]!r}" if echo else ""))


def json_object(reply, what, *, media=("application/json",)):
    check(reply.media_type() in media,
          f"{what}: Content-Type {reply.headers.get('Content-Type')!r}, expected {' or '.join(media)}")
    doc = parse_json(reply.body, what)
    check(isinstance(doc, dict), f"{what}: the JSON is not an object")
    return doc


def describe(reply):
    """A failed response, as the wallet saw it (error, error_description, WWW-Authenticate)."""
    out = f"HTTP {reply.status}"
    try:
        doc = parse_json(reply.body, "error") if reply.body else None
    except Failure:
        doc = None
    if isinstance(doc, dict) and "error" in doc:
        out += f" error={doc.get('error')!r}"
        if "error_description" in doc:
            out += f" error_description={doc.get('error_description')!r}"
    elif reply.body:
        out += f" body={reply.body[:300]!r}"
    if reply.headers.get("WWW-Authenticate"):
        out += f" WWW-Authenticate={reply.headers['WWW-Authenticate']!r}"
    return out


def error_object(reply, what):
    """An OAuth-style error body: JSON object, `error` an ASCII code, `error_description` in
    the character set of RFC 6749 section 5.2 / OpenID4VCI section 8.3.1.2."""
    doc = json_object(reply, what)
    err = doc.get("error")
    check(isinstance(err, str) and re.fullmatch(r"[\x20\x21\x23-\x5b\x5d-\x7e]+", err),
          f"{what}: `error` is not an ASCII error code: {err!r}")
    if "error_description" in doc:
        d = doc["error_description"]
        check(isinstance(d, str) and ERROR_DESCRIPTION.fullmatch(d),
              f"{what}: error_description has characters outside %x20-21 / %x23-5B / %x5D-7E: {d!r}")
    return doc


# --- encodings ------------------------------------------------------------------------------

def b64u(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64u_decode(s, what):
    check(isinstance(s, str) and re.fullmatch(r"[A-Za-z0-9_-]*", s) and len(s) % 4 != 1,
          f"{what} is not base64url without padding")
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


BASE45 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
BASE45_VALUE = {c: i for i, c in enumerate(BASE45)}


def base45_decode(text):
    """RFC 9285 section 4.2: groups of three characters c d e give c + d*45 + e*45^2 as two
    bytes (at most 65535); a final pair gives one byte (at most 255); a single one is invalid."""
    check(isinstance(text, str), "base45: not a string")
    check(len(text) % 3 != 1, f"base45: invalid length {len(text)}")
    out = bytearray()
    for i in range(0, len(text), 3):
        group = text[i:i + 3]
        try:
            values = [BASE45_VALUE[c] for c in group]
        except KeyError as e:
            raise Failure(f"base45: character {e.args[0]!r} is not in the alphabet")
        n = sum(v * 45 ** k for k, v in enumerate(values))
        if len(group) == 3:
            check(n <= 0xFFFF, f"base45: group {group!r} exceeds 65535")
            out += bytes((n >> 8, n & 0xFF))
        else:
            check(n <= 0xFF, f"base45: final pair {group!r} exceeds 255")
            out.append(n)
    return bytes(out)


def is_zlib(data):
    """RFC 1950: CM = 8 (deflate), CINFO <= 7, and CMF*256 + FLG a multiple of 31."""
    return (len(data) >= 2 and data[0] & 0x0F == 8 and data[0] >> 4 <= 7
            and (data[0] << 8 | data[1]) % 31 == 0)


def inflate(data):
    d = zlib.decompressobj()
    try:
        out = d.decompress(data, MAX_DECOMPRESSED)
    except zlib.error as e:
        raise Failure(f"zlib: {e}")
    check(not d.unconsumed_tail, f"zlib: more than {MAX_DECOMPRESSED} bytes when inflated")
    check(d.eof, "zlib: the stream is truncated")
    check(not d.unused_data, "zlib: bytes after the end of the stream")
    return out


class Tag:
    def __init__(self, tag, value):
        self.tag, self.value = tag, value

    def __repr__(self):
        return f"Tag({self.tag}, {self.value!r})"


UNDEFINED = object()
_BREAK = object()


class Cbor:
    """A minimal, bounded CBOR (RFC 8949) decoder: integers, byte and text strings (also
    indefinite-length), arrays, maps (keys: integers, text or bytes; no duplicates), tags,
    false/true/null/undefined and floats. No trailing bytes; depth and item count bounded."""

    MAX_DEPTH = 24
    MAX_ITEMS = 20000

    def __init__(self, data):
        self.data, self.pos, self.items = data, 0, 0

    @classmethod
    def decode(cls, data):
        check(isinstance(data, (bytes, bytearray)), "CBOR: not bytes")
        dec = cls(bytes(data))
        value = dec.item(0)
        check(value is not _BREAK, "CBOR: unexpected break")
        check(dec.pos == len(dec.data), f"CBOR: {len(dec.data) - dec.pos} bytes after the item")
        return value

    def take(self, n):
        check(n <= len(self.data) - self.pos, "CBOR: truncated")
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def argument(self, info):
        if info < 24:
            return info
        if info in (24, 25, 26, 27):
            return int.from_bytes(self.take(1 << (info - 24)), "big")
        check(info == 31, f"CBOR: reserved additional information {info}")
        return None  # indefinite length

    def item(self, depth):
        check(depth <= self.MAX_DEPTH, "CBOR: nested too deeply")
        self.items += 1
        check(self.items <= self.MAX_ITEMS, "CBOR: too many items")
        initial = self.take(1)[0]
        major, info = initial >> 5, initial & 0x1F
        if major == 7:
            return self.simple(info)
        n = self.argument(info)
        if major == 0:
            check(n is not None, "CBOR: indefinite integer")
            return n
        if major == 1:
            check(n is not None, "CBOR: indefinite integer")
            return -1 - n
        if major in (2, 3):
            if n is None:
                parts = []
                while True:
                    check(self.pos < len(self.data), "CBOR: truncated indefinite string")
                    if self.data[self.pos] == 0xFF:
                        self.pos += 1
                        break
                    check(self.data[self.pos] >> 5 == major and self.data[self.pos] & 0x1F != 31,
                          "CBOR: bad chunk in an indefinite-length string")
                    parts.append(self.item(depth + 1))
                raw = b"".join(p if isinstance(p, bytes) else p.encode("utf-8") for p in parts)
            else:
                raw = self.take(n)
            if major == 2:
                return raw
            try:
                return raw.decode("utf-8")
            except UnicodeDecodeError:
                raise Failure("CBOR: text string is not UTF-8")
        if major == 4:
            out = []
            if n is None:
                while (v := self.item(depth + 1)) is not _BREAK:
                    out.append(v)
            else:
                check(n <= len(self.data) - self.pos, "CBOR: array longer than the input")
                for _ in range(n):
                    v = self.item(depth + 1)
                    check(v is not _BREAK, "CBOR: unexpected break")
                    out.append(v)
            return out
        if major == 5:
            out = {}
            count = 0
            check(n is None or 2 * n <= len(self.data) - self.pos, "CBOR: map longer than the input")
            while n is None or count < n:
                k = self.item(depth + 1)
                if k is _BREAK and n is None:
                    break
                check(k is not _BREAK, "CBOR: unexpected break")
                check(isinstance(k, (int, str, bytes)) and not isinstance(k, bool),
                      f"CBOR: unsupported map key {k!r}")
                check(k not in out, f"CBOR: duplicate map key {k!r}")
                v = self.item(depth + 1)
                check(v is not _BREAK, "CBOR: unexpected break")
                out[k] = v
                count += 1
            return out
        # major 6
        check(n is not None, "CBOR: indefinite tag")
        v = self.item(depth + 1)
        check(v is not _BREAK, "CBOR: unexpected break")
        return Tag(n, v)

    def simple(self, info):
        if info == 20:
            return False
        if info == 21:
            return True
        if info == 22:
            return None
        if info == 23:
            return UNDEFINED
        if info == 25:
            return struct.unpack(">e", self.take(2))[0]
        if info == 26:
            return struct.unpack(">f", self.take(4))[0]
        if info == 27:
            return struct.unpack(">d", self.take(8))[0]
        if info == 31:
            return _BREAK
        raise Failure(f"CBOR: unsupported simple value {info}")


def cbor_head(major, n):
    if n < 24:
        return bytes([major << 5 | n])
    for info, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if n < 1 << (8 * size):
            return bytes([major << 5 | info]) + n.to_bytes(size, "big")
    raise ValueError("too large")


def sig_structure1(protected, payload):
    """RFC 9052 section 4.4: ["Signature1", body_protected, external_aad (empty), payload]."""
    context = b"Signature1"
    return (cbor_head(4, 4) + cbor_head(3, len(context)) + context
            + cbor_head(2, len(protected)) + protected + cbor_head(2, 0)
            + cbor_head(2, len(payload)) + payload)


# --- the protocol ---------------------------------------------------------------------------

def read_offer(http, ctx, offer_url):
    """Section 4.1: exactly one of credential_offer / credential_offer_uri."""
    ctx.at("offer")
    check(isinstance(offer_url, str) and len(offer_url) <= 64 << 10, "the offer URL is too long")
    p = urlsplit(offer_url)
    check(p.scheme, "the offer is not a URL (no scheme)")
    q = parse_qs(p.query, keep_blank_values=True)
    by_value, by_reference = "credential_offer" in q, "credential_offer_uri" in q
    check(by_value != by_reference,
          "the offer URL must carry exactly one of credential_offer and credential_offer_uri, "
          f"it has {sorted(k for k in q if k.startswith('credential_offer'))}")
    if by_value:
        values = q["credential_offer"]
        check(len(values) == 1, "credential_offer is repeated")
        offer = parse_json(values[0], "credential_offer", echo=False)  # it holds the code
        how = "by value"
    else:
        values = q["credential_offer_uri"]
        check(len(values) == 1, "credential_offer_uri is repeated")
        uri = values[0]
        check_url(uri, "credential_offer_uri")
        r = http.request("GET", uri, what="credential_offer_uri", headers={"Accept": "application/json"})
        check(r.status == 200, f"GET credential_offer_uri: {describe(r)}")
        check(r.media_type() == "application/json",
              f"the offer behind credential_offer_uri has Content-Type {r.headers.get('Content-Type')!r}")
        offer = parse_json(r.body, "the offer behind credential_offer_uri", echo=False)
        how = "by reference"
    check(isinstance(offer, dict), "the Credential Offer is not a JSON object")
    return offer, how


def check_offer(ctx, offer, how, tx_code, configuration_id):
    """Section 4.1.1 and the transaction code the End-User typed."""
    issuer = offer.get("credential_issuer")
    check_url(issuer, "the offer's credential_issuer", identifier=True)
    ids = offer.get("credential_configuration_ids")
    check(isinstance(ids, list) and ids and all(isinstance(i, str) for i in ids),
          f"credential_configuration_ids is not a non-empty array of strings: {ids!r}")
    check(len(set(ids)) == len(ids), f"credential_configuration_ids repeats a value: {ids}")
    check(configuration_id in ids, f"the offer does not offer {configuration_id!r}: {ids}")
    grants = offer.get("grants")
    check(isinstance(grants, dict), "the offer has no grants object (a Pre-Authorized Code Flow needs one)")
    grant = grants.get(PRE_AUTHORIZED)
    check(isinstance(grant, dict), f"the offer's grants lack {PRE_AUTHORIZED}: {sorted(grants)}")
    code = grant.get("pre-authorized_code")
    check(isinstance(code, str) and code, "pre-authorized_code is not a non-empty string")
    ctx.secret(code)
    check("tx_code" in grant,
          "the offer asks for no Transaction Code (no tx_code object), yet one was given; "
          "section 6.3: sending one is invalid_request")
    tx = grant["tx_code"]
    check(isinstance(tx, dict), f"tx_code is not an object: {tx!r}")
    mode = tx.get("input_mode", "numeric")
    check(mode in ("numeric", "text"), f"tx_code.input_mode {mode!r} is neither numeric nor text")
    if "length" in tx:
        check(isinstance(tx["length"], int) and not isinstance(tx["length"], bool) and tx["length"] > 0,
              f"tx_code.length is not a positive integer: {tx['length']!r}")
        check(len(tx_code) == tx["length"],
              f"the Transaction Code given has {len(tx_code)} characters, the offer says {tx['length']}")
    if mode == "numeric":
        check(re.fullmatch(r"[0-9]+", tx_code), "the offer wants a numeric Transaction Code; the one given is not")
    if "description" in tx:
        check(isinstance(tx["description"], str) and len(tx["description"]) <= 300,
              "tx_code.description is not a string of at most 300 characters")
    hint = grant.get("authorization_server")
    check(hint is None or isinstance(hint, str), "the grant's authorization_server is not a string")
    ctx.done(f"{how}; credential_issuer {issuer}; offers {ids}; pre-authorized grant with tx_code "
             f"(input_mode {mode}, length {tx.get('length', 'unspecified')})")
    return issuer, code, hint


def read_issuer_metadata(http, ctx, issuer, configuration_id, fmt):
    """Section 12.2."""
    ctx.at("issuer metadata")
    url = well_known(issuer, "openid-credential-issuer")
    r = http.request("GET", url, what="issuer metadata", headers={"Accept": "application/json"})
    check(r.status == 200, f"GET {url}: {describe(r)}")
    meta = json_object(r, f"GET {url}")
    check(meta.get("credential_issuer") == issuer,
          f"credential_issuer {meta.get('credential_issuer')!r} is not the identifier {issuer!r} "
          "the metadata was fetched for (section 12.2.4: the data MUST NOT be used)")
    check_url(meta.get("credential_endpoint"), "credential_endpoint")
    if "nonce_endpoint" in meta:
        check_url(meta["nonce_endpoint"], "nonce_endpoint")
    for name in ("deferred_credential_endpoint", "notification_endpoint"):
        if name in meta:
            check_url(meta[name], name)
    for name in ("credential_request_encryption", "credential_response_encryption"):
        enc = meta.get(name)
        if enc is not None:
            check(isinstance(enc, dict) and isinstance(enc.get("encryption_required"), bool),
                  f"{name} lacks the boolean encryption_required")
            check(not enc["encryption_required"],
                  f"{name}.encryption_required is true; this wallet does not encrypt")
    batch = meta.get("batch_credential_issuance")
    if batch is not None:
        size = batch.get("batch_size") if isinstance(batch, dict) else None
        check(isinstance(size, int) and not isinstance(size, bool) and size >= 2,
              f"batch_credential_issuance.batch_size must be an integer >= 2: {size!r}")
    configs = meta.get("credential_configurations_supported")
    check(isinstance(configs, dict) and configs, "credential_configurations_supported is not a non-empty object")
    config = configs.get(configuration_id)
    check(isinstance(config, dict), f"the offered configuration {configuration_id!r} is not in the metadata "
          f"({sorted(configs)})")
    check(config.get("format") == fmt, f"{configuration_id}.format is {config.get('format')!r}, expected {fmt!r}")
    binding = config.get("cryptographic_binding_methods_supported")
    proofs = config.get("proof_types_supported")
    check(binding is not None, f"{configuration_id} requires no key binding "
          "(no cryptographic_binding_methods_supported), but this test checks the binding")
    check(isinstance(binding, list) and binding and all(isinstance(b, str) for b in binding),
          "cryptographic_binding_methods_supported is not a non-empty array of strings")
    check(set(binding) & {"jwk", "cose_key"}, f"no binding method this wallet can use (jwk, cose_key): {binding}")
    check(isinstance(proofs, dict) and proofs,
          "proof_types_supported MUST be present when cryptographic_binding_methods_supported is")
    jwt = proofs.get("jwt")
    check(isinstance(jwt, dict), f"no jwt proof type in proof_types_supported: {sorted(proofs)}")
    algs = jwt.get("proof_signing_alg_values_supported")
    check(isinstance(algs, list) and algs and all(isinstance(a, str) for a in algs),
          "proof_types_supported.jwt.proof_signing_alg_values_supported is not a non-empty array of strings")
    # EdDSA (RFC 8037) or its fully specified name Ed25519 (RFC 9864); case sensitive.
    alg = next((a for a in ("EdDSA", "Ed25519") if a in algs), None)
    check(alg, f"the jwt proof type accepts no Ed25519 algorithm: {algs}")
    check("key_attestations_required" not in jwt, "the issuer requires key attestations; this wallet has none")
    ctx.done(f"{url}; {configuration_id}: format {fmt}, binding {binding}, jwt proofs with {alg}; "
             f"nonce endpoint {'yes' if 'nonce_endpoint' in meta else 'no'}")
    if urlsplit(issuer).scheme == "http":
        ctx.done("note: plain http accepted because the host is loopback (a test server; "
                 "sections 12.2.1 and 12.2.4 require https)")
    return meta, binding, alg


def read_as_metadata(http, ctx, meta, issuer, hint):
    """Section 12.2.4 (authorization_servers), RFC 8414 section 3, section 12.3."""
    ctx.at("authorization server metadata")
    servers = meta.get("authorization_servers")
    if servers is None:
        check(hint is None, "the offer names an authorization_server although the metadata has no "
              "authorization_servers (section 4.1.1: it MUST NOT be used otherwise)")
        candidates = [issuer]
    else:
        check(isinstance(servers, list) and servers and all(isinstance(s, str) for s in servers),
              "authorization_servers is not a non-empty array of strings")
        if hint is not None:
            check(len(servers) > 1, "the offer names an authorization_server although authorization_servers "
                  "has a single entry (section 4.1.1: it MUST NOT be used otherwise)")
            check(hint in servers, f"the offer's authorization_server {hint!r} is not in {servers}")
            candidates = [hint]
        else:
            candidates = servers
    last = None
    for as_id in candidates:
        check_url(as_id, "authorization server identifier", identifier=True)
        url = well_known(as_id, "oauth-authorization-server")
        r = http.request("GET", url, what="authorization server metadata", headers={"Accept": "application/json"})
        check(r.status == 200, f"GET {url}: {describe(r)}")
        asm = json_object(r, f"GET {url}")
        check(asm.get("issuer") == as_id,
              f"issuer {asm.get('issuer')!r} is not {as_id!r} (RFC 8414 section 3.3)")
        grants = asm.get("grant_types_supported")
        if grants is not None:
            check(isinstance(grants, list), "grant_types_supported is not an array")
            if PRE_AUTHORIZED not in grants:
                last = f"{as_id} does not list {PRE_AUTHORIZED} in grant_types_supported: {grants}"
                continue
        check_url(asm.get("token_endpoint"), "token_endpoint")
        anonymous = asm.get("pre-authorized_grant_anonymous_access_supported")
        check(anonymous is True,
              f"pre-authorized_grant_anonymous_access_supported is {anonymous!r}, not true: "
              "this wallet has no client_id (section 12.3; the default is false)")
        if grants is None:
            ctx.warn("no grant_types_supported: RFC 8414 section 2 then means "
                     "[\"authorization_code\", \"implicit\"], which excludes the pre-authorized grant")
        ctx.done(f"{url}; token_endpoint {asm['token_endpoint']}; anonymous pre-authorized access")
        return asm
    raise Failure(last or "no authorization server")


def token_request(http, ctx, token_endpoint, code, tx_code, *, what="token request"):
    form = {"grant_type": PRE_AUTHORIZED, "pre-authorized_code": code, "tx_code": tx_code}
    return http.request("POST", token_endpoint, what=what, data=form, headers={"Accept": "application/json"})


def get_token(http, ctx, token_endpoint, code, tx_code, configuration_id):
    """Section 6; RFC 6749 sections 4.1.3, 5.1 and 5.2."""
    ctx.at("token")
    r = token_request(http, ctx, token_endpoint, code, tx_code)
    if r.status != 200:
        raise Failure(f"POST {token_endpoint}: {describe(r)}")
    check("no-store" in r.cache_directives(),
          f"the Token Response has Cache-Control {r.headers.get('Cache-Control')!r}, without no-store "
          "(RFC 6749 section 5.1)")
    if "no-cache" not in r.headers.get("Pragma", "").lower():
        ctx.warn("no `Pragma: no-cache` on the Token Response (RFC 6749 section 5.1 asks for it)")
    doc = json_object(r, "the Token Response")
    token = doc.get("access_token")
    check(isinstance(token, str) and token and re.fullmatch(r"[\x20-\x7e]+", token),
          "access_token is not a non-empty string of visible ASCII")
    ctx.secret(token)
    check(isinstance(doc.get("token_type"), str) and doc["token_type"].lower() == "bearer",
          f"token_type is {doc.get('token_type')!r}, not Bearer (compared case-insensitively)")
    expires = doc.get("expires_in")
    if expires is None:
        ctx.warn("no expires_in (RFC 6749 section 5.1 recommends it)")
    else:
        check(isinstance(expires, int) and not isinstance(expires, bool) and expires > 0,
              f"expires_in is not a positive integer: {expires!r}")
        if expires > 300:
            ctx.warn(f"expires_in {expires} s: a Bearer token living over 5 minutes is long-lived, which "
                     "section 13 (Protecting the Access Token) forbids unless sender-constrained")
    ctx.secret(doc.get("refresh_token"))
    identifier = None
    details = doc.get("authorization_details")
    if details is not None:  # section 6.2: then the Credential Request uses credential_identifier
        check(isinstance(details, list) and details, "authorization_details is not a non-empty array")
        for d in details:
            if (isinstance(d, dict) and d.get("type") == "openid_credential"
                    and d.get("credential_configuration_id") == configuration_id):
                ids = d.get("credential_identifiers")
                check(isinstance(ids, list) and ids and all(isinstance(i, str) for i in ids),
                      "credential_identifiers is not a non-empty array of strings")
                identifier = ids[0]
        check(identifier, f"authorization_details has no openid_credential entry for {configuration_id}")
    ctx.done(f"token_type {doc['token_type']}, expires_in {expires}"
             + (f", credential_identifier {identifier}" if identifier else ""))
    return token, identifier, {"token_type": doc["token_type"], "expires_in": expires}


def get_nonce(http, ctx, nonce_endpoint, *, quiet=False):
    """Section 7: an unauthenticated POST with an empty body."""
    r = http.request("POST", nonce_endpoint, what="nonce request", data=b"",
                     headers={"Accept": "application/json"})
    check(200 <= r.status < 300, f"POST {nonce_endpoint}: {describe(r)}")
    check("no-store" in r.cache_directives(),
          f"the Nonce Response has Cache-Control {r.headers.get('Cache-Control')!r}, without no-store (section 7.2)")
    doc = json_object(r, "the Nonce Response")
    nonce = doc.get("c_nonce")
    check(isinstance(nonce, str) and nonce, f"c_nonce is not a non-empty string: {nonce!r}")
    if not quiet:
        ctx.done(f"HTTP {r.status}, a c_nonce of {len(nonce)} characters, Cache-Control no-store")
    return nonce


def make_proof(key, x, alg, aud, nonce, *, typ=PROOF_TYP):
    """Appendix F.1: header alg, typ, jwk; payload aud, iat, nonce; no iss (anonymous access)."""
    header = {"alg": alg, "typ": typ, "jwk": {"kty": "OKP", "crv": "Ed25519", "x": x}}
    payload = {"aud": aud, "iat": int(time.time())}
    if nonce is not None:
        payload["nonce"] = nonce
    signing_input = (b64u(json.dumps(header, separators=(",", ":")).encode())
                     + "." + b64u(json.dumps(payload, separators=(",", ":")).encode()))
    return signing_input + "." + b64u(key.sign(signing_input.encode("ascii")))


def credential_request(http, endpoint, token, body, *, what="credential request"):
    headers = {"Accept": "application/json"}
    if token is not None:
        headers["Authorization"] = "Bearer " + token
    return http.request("POST", endpoint, what=what, json_body=body, headers=headers)


def request_body(configuration_id, identifier, proofs):
    body = ({"credential_identifier": identifier} if identifier
            else {"credential_configuration_id": configuration_id})
    if proofs is not None:
        body["proofs"] = proofs
    return body


def get_credential(http, ctx, endpoint, token, body):
    """Sections 8.2 and 8.3."""
    r = credential_request(http, endpoint, token, body)
    check(r.status != 202, "the issuer deferred issuance (HTTP 202, transaction_id); this wallet does not poll")
    if r.status != 200:
        raise Failure(f"POST {endpoint}: {describe(r)}")
    doc = json_object(r, "the Credential Response")
    check("transaction_id" not in doc and "interval" not in doc,
          "transaction_id or interval in a 200 Credential Response with credentials")
    creds = doc.get("credentials")
    check(isinstance(creds, list) and creds, "credentials is not a non-empty array")
    check(len(creds) <= 1, f"{len(creds)} credentials for one key proof (section 8.3: one per key at most)")
    entry = creds[0]
    check(isinstance(entry, dict), "an element of credentials is not an object")
    cred = entry.get("credential")
    check(isinstance(cred, str) and cred, f"credential is not a non-empty string: {type(cred).__name__}")
    check(len(cred) <= MAX_CREDENTIAL, f"the credential has {len(cred)} characters")
    if "notification_id" in doc:
        check(isinstance(doc["notification_id"], str), "notification_id is not a string")
    ctx.done(f"HTTP 200, one credential of {len(cred)} characters")
    return cred


def load_trust(http, ctx, source):
    ctx.at("trust keys")
    if source.startswith(("https://", "http://")):
        check_url(source, "the trust JWKS URL")
        r = http.request("GET", source, what="trust JWKS",
                         headers={"Accept": "application/jwk-set+json, application/json"})
        check(r.status == 200, f"GET {source}: {describe(r)}")
        doc = json_object(r, f"GET {source}", media=("application/json", "application/jwk-set+json"))
    else:
        try:
            check(os.path.getsize(source) <= MAX_BODY, f"{source} is larger than {MAX_BODY} bytes")
            with open(source, "rb") as f:
                doc = parse_json(f.read(MAX_BODY + 1), source)
        except OSError as e:
            raise Failure(f"reading {source}: {e}")
    check(isinstance(doc, dict) and isinstance(doc.get("keys"), list), "the trust JWKS has no keys array")
    keys = []
    for k in doc["keys"]:
        if not (isinstance(k, dict) and k.get("kty") == "OKP" and k.get("crv") == "Ed25519"):
            continue
        check("d" not in k, f"the trust JWKS publishes a PRIVATE Ed25519 key (kid {k.get('kid')!r})")
        if k.get("use", "sig") != "sig":
            continue
        x = b64u_decode(k.get("x"), f"x of trust key {k.get('kid')!r}")
        check(len(x) == 32, f"trust key {k.get('kid')!r}: x is {len(x)} bytes, not 32")
        keys.append((k.get("kid"), k["x"], x))
    check(keys, f"no Ed25519 signing key in the trust JWKS {source}")
    ctx.done(f"{len(keys)} Ed25519 key(s) from {source}")
    return keys


def verify_with_claim169(ctx, credential, trust):
    """MOSIP's own decoder must verify the credential under one trusted key."""
    ctx.at("claim169")
    rejected = []
    for kid, x, pk in trust:
        try:
            r = claim169.decode_with_ed25519(credential, pk, validate_timestamps=True,
                                             clock_skew_tolerance_seconds=300,
                                             max_decompressed_bytes=MAX_DECOMPRESSED)
        except claim169.SignatureError:
            rejected.append(kid or x)
            continue
        except Exception as e:  # Base45DecodeError, DecompressError, CoseParseError, CwtParseError, ...
            raise Failure(f"claim169 cannot read the credential: {type(e).__name__}: {e}")
        check(r.is_verified(), f"claim169 verification status {r.verification_status!r} under key {kid or x}")
        c, m = r.claim169, r.cwt_meta
        ctx.done(f"verified by claim169 under trust key {kid or x} (algorithm {r.algorithm})")
        return (kid, x, pk), {"id": c.id, "full_name": c.full_name, "date_of_birth": c.date_of_birth}, \
            {"issuer": m.issuer, "issued_at": m.issued_at, "expires_at": m.expires_at}
    raise Failure(f"the credential verifies under none of the trusted keys ({rejected})")


def check_binding(ctx, credential, holder_x, trust_key, claim):
    """Independently of claim169: base45, zlib, COSE_Sign1, CWT cnf (RFC 8747) = the holder key."""
    ctx.at("binding")
    raw = base45_decode(credential)
    compressed = is_zlib(raw)
    if compressed:
        raw = inflate(raw)
    obj = Cbor.decode(raw)
    tags = []
    while isinstance(obj, Tag):
        check(obj.tag in (61, 18) and obj.tag not in tags, f"unexpected CBOR tag {obj.tag} around the COSE_Sign1")
        tags.append(obj.tag)
        obj = obj.value
    check(isinstance(obj, list) and len(obj) == 4, "the credential is not a COSE_Sign1 (an array of four)")
    protected, unprotected, payload, signature = obj
    check(isinstance(protected, bytes) and isinstance(unprotected, dict)
          and isinstance(payload, bytes) and isinstance(signature, bytes),
          "COSE_Sign1 members are not [bstr, map, bstr, bstr] (a detached payload is not expected)")
    headers = Cbor.decode(protected) if protected else {}
    check(isinstance(headers, dict), "the protected header is not a map")
    alg = headers.get(1, unprotected.get(1))
    check(alg in (-8, -19), f"COSE alg {alg!r} is not EdDSA (-8) or Ed25519 (-19)")
    check(len(signature) == 64, f"the signature is {len(signature)} bytes, not 64")
    kid, x, pk = trust_key
    try:
        Ed25519PublicKey.from_public_bytes(pk).verify(signature, sig_structure1(protected, payload))
    except InvalidSignature:
        raise Failure(f"the COSE_Sign1 signature does not verify under trust key {kid or x} "
                      "(checked here, independently of claim169)")
    claims = Cbor.decode(payload)
    check(isinstance(claims, dict), "the CWT claims set is not a map")
    check(isinstance(claims.get(169), dict), "the CWT has no Claim 169 map")
    ours = claims[169]
    check(ours.get(1) == claim["id"] and ours.get(4) == claim["full_name"],
          "the Claim 169 id / fullName read here differ from claim169's")
    cnf = claims.get(8)
    check(isinstance(cnf, dict), "the CWT has no cnf claim (8): the credential is not key-bound")
    cose_key = cnf.get(1)
    check(isinstance(cose_key, dict), f"cnf holds no COSE_Key (member 1): members {sorted(map(str, cnf))}")
    check(cose_key.get(1) == 1, f"cnf COSE_Key kty {cose_key.get(1)!r} is not OKP (1)")
    check(cose_key.get(-1) == 6, f"cnf COSE_Key crv {cose_key.get(-1)!r} is not Ed25519 (6)")
    bound_x = cose_key.get(-2)
    check(isinstance(bound_x, bytes) and len(bound_x) == 32, "cnf COSE_Key x is not 32 bytes")
    check(bound_x == holder_x, f"the credential is bound to {b64u(bound_x)}, not to the holder key {b64u(holder_x)}")
    ctx.done(f"base45{' + zlib' if compressed else ''} + COSE_Sign1 (tags {tags or 'none'}, alg {alg}) "
             "verified here; cnf COSE_Key (OKP, Ed25519) x equals the holder key")
    return True


# --- refusals the issuer owes (opt-in) ------------------------------------------------------

def expect_error(r, what, status, codes, *, bearer=False):
    check(r.status == status, f"{what}: expected HTTP {status} {'/'.join(codes)}, got {describe(r)}")
    if bearer:  # RFC 6750 section 3: the challenge is in WWW-Authenticate
        challenge = r.headers.get("WWW-Authenticate", "")
        check(challenge.split(" ")[0].lower() == "bearer",
              f"{what}: 401 without a `WWW-Authenticate: Bearer` challenge ({challenge!r})")
    if codes:
        doc = error_object(r, what)
        check(doc["error"] in codes, f"{what}: error {doc['error']!r}, expected {' or '.join(codes)}")


def probe_before(http, ctx, meta, issuer, token, configuration_id, identifier, key, x, alg):
    ctx.at("probes")
    endpoint, nonce_endpoint = meta["credential_endpoint"], meta.get("nonce_endpoint")
    fresh = (lambda: get_nonce(http, ctx, nonce_endpoint, quiet=True)) if nonce_endpoint else (lambda: None)
    done = []
    if nonce_endpoint:
        proof = make_proof(key, x, alg, issuer, "not-a-nonce-" + b64u(os.urandom(12)))
        r = credential_request(http, endpoint, token, request_body(configuration_id, identifier, {"jwt": [proof]}),
                               what="probe: unknown nonce")
        expect_error(r, "a proof with a nonce the issuer never gave", 400, ["invalid_nonce"])
        done.append("unknown nonce -> invalid_nonce")
        proof = make_proof(key, x, alg, issuer, None)
        r = credential_request(http, endpoint, token, request_body(configuration_id, identifier, {"jwt": [proof]}),
                               what="probe: no nonce")
        expect_error(r, "a proof without the nonce claim", 400, ["invalid_proof"])
        done.append("no nonce -> invalid_proof")
    proof = make_proof(key, x, alg, issuer + "/not-the-issuer", fresh())
    r = credential_request(http, endpoint, token, request_body(configuration_id, identifier, {"jwt": [proof]}),
                           what="probe: wrong aud")
    expect_error(r, "a proof for another audience", 400, ["invalid_proof"])
    done.append("wrong aud -> invalid_proof")
    proof = make_proof(key, x, alg, issuer, fresh(), typ="JWT")
    r = credential_request(http, endpoint, token, request_body(configuration_id, identifier, {"jwt": [proof]}),
                           what="probe: typ JWT")
    expect_error(r, "a proof typed JWT", 400, ["invalid_proof"])
    done.append("typ JWT -> invalid_proof")
    r = credential_request(http, endpoint, token, request_body(configuration_id, identifier, None),
                           what="probe: no proofs")
    expect_error(r, "a request without proofs", 400, ["invalid_proof"])
    done.append("no proofs -> invalid_proof")
    if not identifier:
        proof = make_proof(key, x, alg, issuer, fresh())
        r = credential_request(http, endpoint, token,
                               {"credential_configuration_id": "no-such-configuration-" + b64u(os.urandom(6)),
                                "proofs": {"jwt": [proof]}}, what="probe: unknown configuration")
        expect_error(r, "an unknown credential configuration", 400, ["unknown_credential_configuration"])
        done.append("unknown configuration -> unknown_credential_configuration")
    ctx.done("; ".join(done))
    return done


def probe_after(http, ctx, meta, token_endpoint, code, tx_code, configuration_id):
    ctx.at("probes")
    done = []
    r = token_request(http, ctx, token_endpoint, code, tx_code, what="probe: pre-authorized code again")
    expect_error(r, "the pre-authorized code a second time (single use, section 4.1.1)", 400, ["invalid_grant"])
    done.append("pre-authorized code replayed -> invalid_grant")
    endpoint = meta["credential_endpoint"]
    body = {"credential_configuration_id": configuration_id, "proofs": {"jwt": ["e30.e30.AA"]}}
    r = credential_request(http, endpoint, None, body, what="probe: no token")
    expect_error(r, "a Credential Request without an access token", 401, [], bearer=True)
    if 'error="' in r.headers.get("WWW-Authenticate", ""):
        ctx.warn("an error code in the challenge of a request without any token "
                 "(RFC 6750 section 3.1: SHOULD NOT)")
    done.append("no token -> 401 Bearer")
    r = credential_request(http, endpoint, "forged-" + b64u(os.urandom(24)), body, what="probe: forged token")
    expect_error(r, "a Credential Request with a forged access token", 401, [], bearer=True)
    challenge = r.headers.get("WWW-Authenticate", "")
    if 'error="invalid_token"' not in challenge:
        ctx.warn(f"401 for a forged token without error=\"invalid_token\" in WWW-Authenticate ({challenge!r}; "
                 "RFC 6750 section 3)")
    if r.body and r.media_type() == "application/json":
        doc = error_object(r, "the 401 body")
        check(doc["error"] == "invalid_token", f"the 401 body says {doc['error']!r}, not invalid_token")
    done.append("forged token -> 401 Bearer invalid_token")
    ctx.done("; ".join(done))
    return done


# --- main -----------------------------------------------------------------------------------

def arguments():
    p = argparse.ArgumentParser(description="receive a qrid credential as an independent OpenID4VCI 1.0 wallet")
    env = os.environ.get
    p.add_argument("--offer", default=env("QRID_OFFER"), help="the Credential Offer URL (any scheme)")
    p.add_argument("--tx-code", default=env("QRID_TX_CODE"), help="the Transaction Code (PIN) sent out of band")
    p.add_argument("--key-out", default=env("QRID_KEY_OUT"), help="write the holder's Ed25519 key here (PKCS#8 PEM)")
    p.add_argument("--trust-jwks", default=env("QRID_TRUST_JWKS"),
                   help="URL or file of the JWKS whose Ed25519 keys may sign the credential "
                        "(default: {credential_issuer}/.well-known/jwks.json)")
    p.add_argument("--configuration-id", default=env("QRID_CREDENTIAL_CONFIGURATION", "qrid_claim169"))
    p.add_argument("--format", default=env("QRID_CREDENTIAL_FORMAT", "qrid_claim169"),
                   help="the format the configuration must declare")
    p.add_argument("--probe-errors", action="store_true",
                   default=env("QRID_PROBE_ERRORS", "").lower() in ("1", "true", "yes"),
                   help="also send requests the issuer must refuse, and check the refusals")
    p.add_argument("--timeout", type=float, default=float(env("QRID_HTTP_TIMEOUT", "30")),
                   help="seconds allowed for each HTTP exchange")
    p.add_argument("--ca-bundle", default=env("QRID_CA_BUNDLE"), help="CA certificates (PEM) for https")
    a = p.parse_args()
    missing = [n for n in ("offer", "tx_code") if not getattr(a, n)]
    if missing:
        p.error("missing: " + ", ".join("--" + m.replace("_", "-") for m in missing))
    if not 0 < a.timeout <= 600:
        p.error("--timeout must be in (0, 600]")
    return a


def run(a, ctx):
    ctx.secret(a.tx_code)
    http = Http(ctx, a.timeout, a.ca_bundle)
    out = {}

    offer, how = read_offer(http, ctx, a.offer)
    issuer, code, hint = check_offer(ctx, offer, how, a.tx_code, a.configuration_id)
    out["credential_issuer"] = issuer
    out["credential_configuration_id"] = a.configuration_id

    meta, binding, alg = read_issuer_metadata(http, ctx, issuer, a.configuration_id, a.format)
    asm = read_as_metadata(http, ctx, meta, issuer, hint)

    token, identifier, out["token"] = get_token(http, ctx, asm["token_endpoint"], code, a.tx_code,
                                                a.configuration_id)

    ctx.at("holder key")
    key = Ed25519PrivateKey.generate()
    holder_x = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    x = b64u(holder_x)
    if a.key_out:
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
        try:
            fd = os.open(a.key_out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(pem)
        except OSError as e:
            raise Failure(f"writing {a.key_out}: {e}")
    ctx.done(f"fresh Ed25519 key, x {x}" + (f", saved to {a.key_out}" if a.key_out else ""))

    if a.probe_errors:
        out["probes"] = probe_before(http, ctx, meta, issuer, token, a.configuration_id, identifier, key, x, alg)

    nonce = None
    if "nonce_endpoint" in meta:
        ctx.at("nonce")
        nonce = get_nonce(http, ctx, meta["nonce_endpoint"])

    ctx.at("proof")
    proof = make_proof(key, x, alg, issuer, nonce)
    ctx.done(f"jwt proof: typ {PROOF_TYP}, alg {alg}, jwk; aud {issuer}, iat, "
             + ("nonce" if nonce is not None else "no nonce (the issuer has no Nonce Endpoint)") + ", no iss")

    ctx.at("credential")
    body = request_body(a.configuration_id, identifier, {"jwt": [proof]})
    credential = get_credential(http, ctx, meta["credential_endpoint"], token, body)
    out["credential"] = credential
    out["holder_x"] = x

    source = a.trust_jwks or issuer.rstrip("/") + "/.well-known/jwks.json"
    trust = load_trust(http, ctx, source)
    trust_key, out["claim169"], out["cwt"] = verify_with_claim169(ctx, credential, trust)
    out["trust_key"] = {"kid": trust_key[0], "x": trust_key[1]}
    out["bound"] = check_binding(ctx, credential, holder_x, trust_key, out["claim169"])
    if "jwk" in binding and "cose_key" not in binding:
        ctx.warn("the credential binds a COSE_Key (cnf) but the metadata advertises only `jwk` as the "
                 "cryptographic binding method; section 12.2.4 names that representation `cose_key`")

    if a.probe_errors:
        out["probes"] += probe_after(http, ctx, meta, asm["token_endpoint"], code, a.tx_code, a.configuration_id)

    out["steps"] = ctx.steps
    out["warnings"] = ctx.warnings
    return out


def main():
    a = arguments()
    ctx = Context()
    try:
        summary = run(a, ctx)
    except Failure as e:
        print(ctx.scrub(f"oid4vci_client: FAILED at step '{ctx.current}': {e}"), file=sys.stderr)
        return 1
    except Exception as e:  # any library error is a failure, reported with its step
        print(ctx.scrub(f"oid4vci_client: FAILED at step '{ctx.current}': {type(e).__name__}: {e}"),
              file=sys.stderr)
        return 1
    print(json.dumps(summary, ensure_ascii=False, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
