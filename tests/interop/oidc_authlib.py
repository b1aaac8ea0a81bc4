#!/usr/bin/env python3
"""Interoperability: log in to qrid with Python's authlib as the relying party.

A portal written in another language, with a standard OpenID Connect client library, logs a
citizen in through `qrid serve`:

1. discovery (`/.well-known/openid-configuration`), checked with authlib's own metadata rules;
2. authlib's OAuth2Session builds the authorization URL (PKCE S256, state, nonce);
3. a requests.Session plays the browser (it keeps the login cookie): GET the URL, read the
   login request from the page (element id `login-request`, attributes `data-request` and
   `data-tx`);
4. the reference wallet answers it: `qrid wallet login --dir W --request REQ --code CODE --yes`;
5. the browser polls `/login/{tx}/status` until it gets `redirect_to`;
6. authlib's fetch_token redeems the code with the PKCE verifier and the registered client
   authentication (client_secret_basic, client_secret_post, or private_key_jwt with authlib's
   own defaults: an assertion that expires an hour after it is made);
7. the ID token is verified with authlib.jose against the provider's `jwks_uri`
   (algorithm, iss, aud, exp, nonce, acr, amr, auth_time);
8. userinfo with the access token.

It prints one JSON object summarising what it saw and exits 0; on any failure it prints the
reason on stderr and exits 1 (2 for a usage error).

Usage (every flag also reads an environment variable):

    python3 tests/interop/oidc_authlib.py --url URL --client-id ID --client-secret SECRET \
        --redirect-uri URI --wallet DIR --qrid PATH [--scope "openid profile"] \
        [--auth-method client_secret_basic|client_secret_post] [--alg RS256|ES256|EdDSA]
    (or, instead of --client-secret: --auth-method private_key_jwt --private-key PEM
        --private-key-kid KID, an ES256 key of the JWKS the client registered)

Needs: python3 -m pip install authlib requests
"""

import argparse
import html
import json
import os
import re
import subprocess
import sys
import time
import warnings
from urllib.parse import parse_qs, urlsplit

try:
    import requests
    import authlib.deprecate
    from authlib.integrations.requests_client import OAuth2Session
    from authlib.oauth2.rfc7523 import PrivateKeyJWT
    from authlib.common.security import generate_token

    # authlib.jose still works and is what most portals use today; its deprecation notice
    # (in favour of joserfc) is noise here.
    warnings.filterwarnings("ignore", category=authlib.deprecate.AuthlibDeprecationWarning)
    from authlib.jose import JsonWebKey, JsonWebToken
    from authlib.oidc.discovery import OpenIDProviderMetadata
except ImportError as e:  # pragma: no cover - reported to the Rust test
    print(f"oidc_authlib: missing Python package ({e}); run: python3 -m pip install authlib requests",
          file=sys.stderr)
    sys.exit(3)

ACR = "urn:qrid:acr:holder-key"
HTTP_TIMEOUT = 30


class Failure(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failure(what)


def arguments():
    p = argparse.ArgumentParser(description="log in to qrid with authlib as the relying party")
    env = os.environ.get
    p.add_argument("--url", default=env("QRID_URL"), help="the service (its public URL)")
    p.add_argument("--client-id", default=env("QRID_CLIENT_ID"))
    p.add_argument("--client-secret", default=env("QRID_CLIENT_SECRET"))
    p.add_argument("--redirect-uri", default=env("QRID_REDIRECT_URI"))
    p.add_argument("--wallet", default=env("QRID_WALLET"), help="the wallet directory")
    p.add_argument("--qrid", default=env("QRID_BIN", "qrid"), help="the qrid binary")
    p.add_argument("--scope", default=env("QRID_SCOPE", "openid profile"))
    p.add_argument("--auth-method", default=env("QRID_AUTH_METHOD", "client_secret_basic"),
                   choices=["client_secret_basic", "client_secret_post", "private_key_jwt"])
    p.add_argument("--private-key", default=env("QRID_PRIVATE_KEY"),
                   help="PKCS#8 PEM file of the client's P-256 key, for private_key_jwt")
    p.add_argument("--private-key-kid", default=env("QRID_PRIVATE_KEY_KID"),
                   help="the kid of that key in the client's registered JWKS")
    p.add_argument("--alg", default=env("QRID_ID_TOKEN_ALG"),
                   help="the ID token algorithm the client registered (checked when given)")
    a = p.parse_args()
    credential = (("private_key", "private_key_kid") if a.auth_method == "private_key_jwt"
                  else ("client_secret",))
    missing = [n for n in ("url", "client_id", "redirect_uri", "wallet") + credential
               if not getattr(a, n)]
    if missing:
        p.error("missing: " + ", ".join("--" + m.replace("_", "-") for m in missing))
    a.url = a.url.rstrip("/")
    return a


def get_json(http, url, **kw):
    r = http.get(url, timeout=HTTP_TIMEOUT, **kw)
    check(r.status_code == 200, f"GET {url}: {r.status_code} {r.text[:500]}")
    return r.json()


def login_request_of(page):
    """The login request and transaction id from the QR page."""
    m = re.search(r"<[^>]*\bid=\"login-request\"[^>]*>", page)
    check(m, "the login page has no element with id login-request")
    tag = m.group(0)
    attrs = {k: html.unescape(v) for k, v in re.findall(r"([\w-]+)=\"([^\"]*)\"", tag)}
    check("data-request" in attrs and "data-tx" in attrs and "data-code" in attrs,
          f"login-request lacks data-request, data-tx or data-code: {tag[:300]}")
    return attrs["data-request"], attrs["data-tx"], attrs["data-code"]


def run(a):
    summary = {}
    browser = requests.Session()

    # 1. Discovery, held to authlib's reading of RFC 8414 and OpenID Connect Discovery.
    meta = OpenIDProviderMetadata(get_json(browser, a.url + "/.well-known/openid-configuration"))
    meta.validate()
    check(meta["issuer"] == a.url, f"issuer {meta['issuer']!r} is not {a.url!r}")
    check("S256" in meta.get("code_challenge_methods_supported", []), "no S256 in discovery")
    summary["issuer"] = meta["issuer"]

    # 2. The authorization URL, by authlib.
    if a.auth_method == "private_key_jwt":
        # authlib signs private_key_jwt with a key object (a PEM string it reads as RSA).
        from joserfc.jwk import ECKey
        with open(a.private_key) as f:
            secret = ECKey.import_key(f.read())
    else:
        secret = a.client_secret
    rp = OAuth2Session(
        client_id=a.client_id,
        client_secret=secret,
        scope=a.scope,
        redirect_uri=a.redirect_uri,
        code_challenge_method="S256",
        token_endpoint_auth_method=a.auth_method,
    )
    if a.auth_method == "private_key_jwt":
        # authlib's defaults, as a portal would use them: no expiry override (authlib makes
        # the assertion expire an hour after it is made), a fresh jti, aud = token endpoint.
        rp.register_client_auth_method(PrivateKeyJWT(
            meta["token_endpoint"], headers={"kid": a.private_key_kid}, alg="ES256"))
    code_verifier = generate_token(64)
    nonce = generate_token(24)
    auth_url, state = rp.create_authorization_url(
        meta["authorization_endpoint"], code_verifier=code_verifier, nonce=nonce)
    q = parse_qs(urlsplit(auth_url).query)
    check(q.get("code_challenge_method") == ["S256"] and "code_challenge" in q,
          f"authlib built no S256 challenge: {auth_url}")

    # 3. The browser opens it and gets the QR page and the login cookie.
    r = browser.get(auth_url, timeout=HTTP_TIMEOUT, allow_redirects=False)
    check(r.status_code == 200, f"GET /authorize: {r.status_code} {r.headers.get('location', '')} {r.text[:500]}")
    check(r.headers.get("content-type", "").startswith("text/html"), "the login page is not HTML")
    check("qrid_login" in r.cookies, "no qrid_login cookie on the login page")
    request, tx, code = login_request_of(r.text)
    check(request.startswith("QL1:"), f"the login request does not start with QL1: {request[:20]}")
    status_url = f"{a.url}/login/{tx}/status"
    first = get_json(browser, status_url)
    check(first.get("status") == "pending", f"before the wallet answered: {first}")

    # 4. The citizen's wallet answers.
    w = subprocess.run([a.qrid, "wallet", "login", "--dir", a.wallet, "--request", request,
                        "--code", code, "--yes"],
                       capture_output=True, text=True, timeout=120)
    check(w.returncode == 0, f"qrid wallet login exited {w.returncode}: {w.stderr.strip()}")

    # 5. The browser's next poll gets where to go.
    deadline = time.monotonic() + 30
    while True:
        s = get_json(browser, status_url)
        if s.get("redirect_to"):
            break
        check(s.get("status") == "pending", f"login status: {s}")
        check(time.monotonic() < deadline, "no redirect_to within 30 s")
        time.sleep(0.2)
    check(s["status"] == "complete", f"login ended {s}")
    redirect_to = s["redirect_to"]
    sep = "&" if "?" in a.redirect_uri else "?"
    check(redirect_to.startswith(a.redirect_uri + sep), f"redirect_to {redirect_to} is not the redirect URI")
    back = parse_qs(urlsplit(redirect_to).query)
    for k in parse_qs(urlsplit(a.redirect_uri).query):
        back.pop(k, None)  # the portal's own query parameters, kept as registered
    check(back.get("state") == [state], f"state came back as {back.get('state')}, sent {state}")
    # RFC 9207: the issuer identifies itself on the redirect.
    check(back.get("iss") == [meta["issuer"]], f"iss on the redirect is {back.get('iss')}")
    summary["redirect_params"] = sorted(back)

    # 6. The code for tokens, by authlib (it checks the state again).
    token = rp.fetch_token(meta["token_endpoint"], authorization_response=redirect_to,
                           code_verifier=code_verifier, state=state)
    check(token.get("token_type", "").lower() == "bearer", f"token_type {token.get('token_type')}")
    check("id_token" in token and "access_token" in token, f"token response keys {sorted(token)}")
    summary["token"] = {"token_type": token["token_type"], "expires_in": token.get("expires_in"),
                        "scope": token.get("scope")}

    # 7. The ID token, verified by authlib.jose with the provider's keys.
    jwks = JsonWebKey.import_key_set(get_json(browser, meta["jwks_uri"]))
    header = json.loads(_b64url(token["id_token"].split(".")[0]))
    algs = meta["id_token_signing_alg_values_supported"]
    check(header.get("alg") in algs, f"ID token alg {header.get('alg')} not in discovery {algs}")
    if a.alg:
        check(header["alg"] == a.alg, f"ID token alg {header['alg']}, registered {a.alg}")
    # Only the header's algorithm is accepted: no downgrade to another one.
    claims = JsonWebToken([header["alg"]]).decode(
        token["id_token"], jwks,
        claims_options={
            "iss": {"essential": True, "value": meta["issuer"]},
            "aud": {"essential": True, "value": a.client_id},
            "sub": {"essential": True},
            "exp": {"essential": True},
            "iat": {"essential": True},
            "nonce": {"essential": True, "value": nonce},
            "acr": {"essential": True, "value": ACR},
        })
    claims.validate(leeway=60)
    check(claims.header["alg"] == header["alg"], "verified header differs")
    check(claims.get("amr") == ["pop", "swk"], f"amr {claims.get('amr')}")
    check(isinstance(claims.get("auth_time"), int) and claims["auth_time"] <= claims["iat"],
          f"auth_time {claims.get('auth_time')} iat {claims.get('iat')}")
    summary["id_token"] = {"alg": header["alg"], "kid": header.get("kid"), "verified": True,
                           "claims": dict(claims)}

    # 8. userinfo with the access token; its sub is the ID token's.
    info = rp.get(meta["userinfo_endpoint"], timeout=HTTP_TIMEOUT)
    check(info.status_code == 200, f"userinfo: {info.status_code} {info.text[:300]}")
    userinfo = info.json()
    check(userinfo.get("sub") == claims["sub"], "userinfo sub differs from the ID token's")
    summary["userinfo"] = userinfo
    return summary


def _b64url(s):
    import base64
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def main():
    a = arguments()
    try:
        summary = run(a)
    except Failure as e:
        print(f"oidc_authlib: FAILED: {e}", file=sys.stderr)
        return 1
    except Exception as e:  # any library error (bad signature, claim, HTTP error) is a failure
        print(f"oidc_authlib: FAILED: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    print(json.dumps(summary, ensure_ascii=False, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
