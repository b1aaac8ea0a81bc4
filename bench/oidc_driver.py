#!/usr/bin/env python3
"""Drives whole OpenID Connect logins against a running `qrid serve`, for bench/oidc.sh.

It plays the three parties of docs/login.md over keep-alive HTTP/1.1 connections: the browser
(GET /authorize with its cookie, the status polls), the wallet (an Ed25519 holder key made here
with `cryptography`, which signs the login response in-process: no CLI start-up is counted) and
the portal (POST /token, GET /userinfo). Every request carries an `x-request-id` naming the login
and the step, which the service echoes into its JSON access log with `micros` (the time from the
request entering the service's middleware to the response leaving it); `report` adds those up.

  oidc_driver.py setup    URL OFFICER_USER OFFICER_PASSWORD OUT.json   citizen + holder-bound credential
  oidc_driver.py logins   URL STATE.json CLIENT.json N PREFIX          N sequential whole logins
  oidc_driver.py codes    URL STATE.json CLIENT.json N SECONDS OUT THREADS   codes for the /token load
  oidc_driver.py report   LOG PREFIX [PREFIX...]                       server time per login, per step
"""
import base64, hashlib, http.client, json, os, re, statistics, sys, threading, time, urllib.parse
import html as htmlmod

VERIFIER = "qrid-bench-pkce-verifier-0123456789-abcdefghijklmnop"  # 52 unreserved characters
CHALLENGE = base64.urlsafe_b64encode(hashlib.sha256(VERIFIER.encode()).digest()).decode().rstrip("=")
REDIRECT = "http://127.0.0.1:9/cb"
SCOPE = "openid profile national_id"
STEPS = ("authorize", "poll", "response", "status", "token", "userinfo")
# The server time of one login, as issue 4 counts it: what the service spends between the RP's
# redirect and the RP's userinfo call, without the citizen's thinking or the pending polls of
# the waiting page (reported separately: one per ~2 s of thinking).
LOGIN_STEPS = ("authorize", "response", "status", "token", "userinfo")


def b64u(b):
    return base64.urlsafe_b64encode(b).decode().rstrip("=")


class Conn:
    """One keep-alive connection; reconnects if the server closed it."""

    def __init__(self, url):
        u = urllib.parse.urlsplit(url)
        self.host, self.port = u.hostname, u.port
        self.c = http.client.HTTPConnection(self.host, self.port, timeout=30)

    def req(self, method, path, body=None, headers=None):
        h = dict(headers or {})
        for attempt in (0, 1):
            try:
                self.c.request(method, path, body=body, headers=h)
                r = self.c.getresponse()
                data = r.read()
                return r.status, r.headers, data
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                if attempt:
                    raise
                self.c.close()
                self.c = http.client.HTTPConnection(self.host, self.port, timeout=30)


def cbor_item_end(b, i):
    """Index just past the CBOR data item starting at b[i] (enough CBOR for a COSE_Sign1)."""
    ib = b[i]; major, info = ib >> 5, ib & 31; i += 1
    if info < 24:
        val = info
    elif info in (24, 25, 26, 27):
        n = 1 << (info - 24)
        val = int.from_bytes(b[i:i + n], "big"); i += n
    else:
        raise ValueError("indefinite lengths are not expected here")
    if major in (0, 1, 7):
        return i
    if major in (2, 3):
        return i + val
    if major == 4:
        for _ in range(val):
            i = cbor_item_end(b, i)
        return i
    if major == 5:
        for _ in range(2 * val):
            i = cbor_item_end(b, i)
        return i
    if major == 6:
        return cbor_item_end(b, i)
    raise ValueError("bad CBOR")


def cose_payload(msg):
    """The payload bytes of an untagged COSE_Sign1 [protected, unprotected, payload, signature]."""
    i = 0
    if msg[0] == 0xD2:  # tolerate the COSE_Sign1 tag 18
        i = 1
    if msg[i] != 0x84:
        raise ValueError("not a COSE_Sign1 array")
    i += 1
    i = cbor_item_end(msg, i)  # protected
    i = cbor_item_end(msg, i)  # unprotected
    ib = msg[i]; info = ib & 31; i += 1
    if info < 24:
        n = info
    else:
        k = 1 << (info - 24); n = int.from_bytes(msg[i:i + k], "big"); i += k
    return msg[i:i + n]


B45 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"


def base45_decode(s):
    out = bytearray()
    for j in range(0, len(s), 3):
        chunk = s[j:j + 3]
        v = sum(B45.index(c) * 45 ** k for k, c in enumerate(chunk))
        out += v.to_bytes(2 if len(chunk) == 3 else 1, "big")
    return bytes(out)


class Login:
    """Whole logins of one citizen's wallet at one portal."""

    def __init__(self, url, state, client):
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
        from cryptography.hazmat.primitives import serialization
        self.url = url
        self.holder = serialization.load_pem_private_key(state["holder_pem"].encode(), None)
        assert isinstance(self.holder, Ed25519PrivateKey)
        self.payload = state["payload"]
        self.client = client
        self.basic = "Basic " + base64.b64encode(f'{client["client_id"]}:{client["client_secret"]}'.encode()).decode()
        self.browser, self.wallet, self.rp = Conn(url), Conn(url), Conn(url)
        q = urllib.parse.urlencode({
            "response_type": "code", "client_id": client["client_id"], "redirect_uri": REDIRECT,
            "scope": SCOPE, "state": "bench-state", "nonce": "bench-nonce",
            "code_challenge": CHALLENGE, "code_challenge_method": "S256"}, quote_via=urllib.parse.quote)
        self.authorize_path = "/authorize?" + q

    def until_code(self, rid, poll=True):
        """authorize, one pending poll, the wallet's answer, the completing poll: the code."""
        st, h, body = self.browser.req("GET", self.authorize_path, headers={"x-request-id": rid + "-authorize"})
        if st != 200:
            raise RuntimeError(f"/authorize answered {st}: {body[:300]!r}")
        page = body.decode()
        tx = re.search(r'data-tx="([0-9a-f]{32})"', page).group(1)
        request = htmlmod.unescape(re.search(r'data-request="([^"]+)"', page).group(1))
        confirm = re.search(r'data-code="([0-9]{2})"', page).group(1)
        cookie = h["set-cookie"].split(";", 1)[0]
        status_path = f"/login/{tx}/status"
        if poll:
            st, _, body = self.browser.req("GET", status_path, headers={"cookie": cookie, "x-request-id": rid + "-poll"})
            if st != 200 or json.loads(body)["status"] != "pending":
                raise RuntimeError(f"pending poll: {st} {body[:300]!r}")
        # The wallet: sign "qrid-login-response-v1" || 0 || SHA-256(request payload).
        assert request.startswith("QL1:")
        digest = hashlib.sha256(cose_payload(base45_decode(request[4:]))).digest()
        sig = self.holder.sign(b"qrid-login-response-v1\x00" + digest)
        answer = json.dumps({"tx": tx, "credential": self.payload, "signature": b64u(sig), "code": confirm})
        st, _, body = self.wallet.req("POST", "/login/response", body=answer,
                                      headers={"content-type": "application/json", "x-request-id": rid + "-response"})
        if st != 200:
            raise RuntimeError(f"/login/response answered {st}: {body[:300]!r}")
        st, _, body = self.browser.req("GET", status_path, headers={"cookie": cookie, "x-request-id": rid + "-status"})
        j = json.loads(body)
        if st != 200 or j.get("status") != "complete" or "redirect_to" not in j:
            raise RuntimeError(f"completing poll: {st} {body[:300]!r}")
        return urllib.parse.parse_qs(urllib.parse.urlsplit(j["redirect_to"]).query)["code"][0]

    def token_body(self, code):
        return urllib.parse.urlencode({"grant_type": "authorization_code", "code": code,
                                       "redirect_uri": REDIRECT, "code_verifier": VERIFIER})

    def whole(self, rid):
        code = self.until_code(rid)
        st, _, body = self.rp.req("POST", "/token", body=self.token_body(code), headers={
            "authorization": self.basic, "content-type": "application/x-www-form-urlencoded",
            "x-request-id": rid + "-token"})
        if st != 200:
            raise RuntimeError(f"/token answered {st}: {body[:300]!r}")
        at = json.loads(body)["access_token"]
        st, _, body = self.rp.req("GET", "/userinfo", headers={"authorization": "Bearer " + at, "x-request-id": rid + "-userinfo"})
        if st != 200 or "national_id" not in json.loads(body):
            raise RuntimeError(f"/userinfo answered {st}: {body[:300]!r}")


def setup(url, user, password, out):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives import serialization
    c = Conn(url)
    st, _, b = c.req("POST", "/v1/auth/token", body=json.dumps({"username": user, "password": password}),
                     headers={"content-type": "application/json"})
    assert st == 200, b
    auth = {"authorization": "Bearer " + json.loads(b)["access_token"], "content-type": "application/json"}
    citizen = json.load(open("docs/examples/citizen.json"))
    citizen["id_number"] = "%012d" % (int.from_bytes(os.urandom(5), "big") % 10 ** 12)  # rerunnable
    st, _, b = c.req("POST", "/v1/citizens", body=json.dumps(citizen), headers=auth)
    assert st in (200, 201), b
    cid = json.loads(b)["id"]
    key = Ed25519PrivateKey.generate()
    x = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    thumb = b64u(hashlib.sha256(('{"crv":"Ed25519","kty":"OKP","x":"%s"}' % b64u(x)).encode()).digest())
    jwk = {"kty": "OKP", "crv": "Ed25519", "x": b64u(x), "kid": thumb, "alg": "EdDSA", "use": "sig"}
    st, _, b = c.req("POST", f"/v1/citizens/{cid}/credentials", body=json.dumps({"holder_jwk": jwk}), headers=auth)
    assert st in (200, 201), b
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    json.dump({"payload": json.loads(b)["payload"], "holder_pem": pem}, open(out, "w"))


def logins(url, state, client, n, prefix):
    lg = Login(url, json.load(open(state)), json.load(open(client)))
    lg.whole(prefix + "warm")  # connections open, caches warm; not counted
    t0 = time.perf_counter()
    for i in range(n):
        lg.whole(f"{prefix}{i}")
    dt = time.perf_counter() - t0
    print(f"{n} sequential logins in {dt:.2f} s: {1000 * dt / n:.2f} ms each as the driver sees it "
          f"(client, network and Python included)", file=sys.stderr)


def codes(url, state, client, n, seconds, out, threads):
    """Up to n codes in at most `seconds`, from `threads` browsers at once; one code a line."""
    st, cl = json.load(open(state)), json.load(open(client))
    got, lock, stop = [], threading.Lock(), time.monotonic() + seconds
    errors = []

    def work(k):
        try:
            lg = Login(url, st, cl)
            i = 0
            while time.monotonic() < stop:
                with lock:
                    if len(got) >= n:
                        return
                code = lg.until_code(f"gen{k}x{i}", poll=False)
                i += 1
                with lock:
                    got.append(code)
        except Exception as e:  # reported below
            errors.append(repr(e))

    t0 = time.perf_counter()
    ts = [threading.Thread(target=work, args=(k,)) for k in range(threads)]
    for t in ts: t.start()
    for t in ts: t.join()
    dt = time.perf_counter() - t0
    if errors:
        sys.exit("code generation failed: " + errors[0])
    with open(out, "w") as f:
        for c in got[:n]:
            f.write(urllib.parse.urlencode({"grant_type": "authorization_code", "code": c,
                                            "redirect_uri": REDIRECT, "code_verifier": VERIFIER}) + "\n")
    print(f"{min(len(got), n)} {dt:.2f}")


def report(log, prefixes):
    """Server micros per step and per login, from the JSON access log."""
    rows = {}
    pat = re.compile(r"^(.*?)(\d+|warm)-(" + "|".join(STEPS) + r")$")
    for line in open(log, errors="replace"):
        if '"micros"' not in line:
            continue
        try:
            j = json.loads(line)
        except ValueError:
            continue
        f = j.get("fields", j)
        rid = f.get("request_id") or j.get("span", {}).get("request_id")
        if not rid or "micros" not in f:
            continue
        m = pat.match(rid)
        if not m or m.group(2) == "warm" or m.group(1) not in prefixes:
            continue
        if int(f.get("status", 0)) >= 400:
            if m.group(3) == "token" and m.group(1).endswith("T"):
                continue  # the /token load's last request per wrk thread: a dummy code, 400
            sys.exit(f"request {rid} failed with {f.get('status')}")
        rows.setdefault(m.group(1), {}).setdefault(int(m.group(2)), {})[m.group(3)] = int(f["micros"])
    out = {}
    for p in prefixes:
        per = rows.get(p, {})
        whole = [sum(s[k] for k in LOGIN_STEPS) for s in per.values() if all(k in s for k in LOGIN_STEPS)]
        if not per:
            sys.exit(f"no request with prefix {p} in {log}")
        steps = {k: [s[k] for s in per.values() if k in s] for k in STEPS}
        out[p] = {"n": len(whole), "whole": whole, "steps": steps}
    json.dump(out, sys.stdout)


def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))]


if __name__ == "__main__":
    a = sys.argv[1:]
    if not a:
        sys.exit(__doc__)
    cmd = a[0]
    if cmd == "setup":
        setup(a[1], a[2], a[3], a[4])
    elif cmd == "logins":
        logins(a[1], a[2], a[3], int(a[4]), a[5])
    elif cmd == "codes":
        codes(a[1], a[2], a[3], int(a[4]), float(a[5]), a[6], int(a[7]))
    elif cmd == "report":
        report(a[1], a[2:])
    else:
        sys.exit(__doc__)
