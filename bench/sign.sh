#!/usr/bin/env bash
# Signing and signature-verification figures (issue 5), all measured in one run on this machine:
#  1. signing a 10 MiB document uploaded as multipart: the service's own time per request (its
#     access log's `micros`) and CPU time, beside SHA-256 of 10 MiB in-process (crates/server/
#     examples/sha256_rate.rs), beside a bare axum handler that receives (and hashes) the same
#     uploads (crates/server/examples/bare_hash.rs), and beside signing by digest (no upload);
#  2. the service's resident memory while 100 MiB uploads stream in, two at a time;
#  3. POST /v1/signatures/verify with a digest against POST /v1/verify under wrk.
# Usage: bench/sign.sh [SECONDS] [CONNECTIONS] [ROUNDS]   (defaults 15, 32, 3)
# Needs wrk, curl and python3.
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-15}
CONNS=${2:-32}
ROUNDS=${3:-3}
# Uploads per figure of part 1 (both use one signing session of at most 100 documents).
N=41
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
cargo build --release -q -p qrid-cli --bin qrid
cargo build --release -q -p qrid-server --example sha256_rate --example bare_hash
qrid=target/release/qrid
db="sqlite:$work/qrid.db"
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
QPORT=$(port)
U="http://127.0.0.1:$QPORT"
echo 'bench password 12345' | $qrid officer create --username bench --role issuer --database-url "$db" 2>/dev/null
client=$($qrid client create --name bench --database-url "$db" 2>/dev/null)
basic=$(python3 -c 'import base64,json,sys; c=json.loads(sys.argv[1]); print(base64.b64encode((c["client_id"]+":"+c["client_secret"]).encode()).decode())' "$client")
userpass=$(python3 -c 'import base64,sys; print(base64.b64decode(sys.argv[1]).decode())' "$basic")
official=$(echo 'official password 2026' | $qrid official create --username minh --full-name 'Nguyễn Văn Minh' \
  --title 'Chủ tịch' --agency 'UBND xã Đông Hội' --database-url "$db" --public-url "$U" 2>/dev/null)
secret=$(python3 -c 'import json,sys; u=json.loads(sys.argv[1])["otpauth_uri"]; print(u.split("secret=")[1].split("&")[0])' "$official")
totp() { # TOTP of step now + $1
  python3 - "$secret" "$1" <<'PY'
import base64, hmac, hashlib, struct, sys, time
key = base64.b32decode(sys.argv[1] + "=" * (-len(sys.argv[1]) % 8))
step = int(time.time()) // 30 + int(sys.argv[2])
h = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
o = h[19] & 15
print("%06d" % ((struct.unpack(">I", h[o:o + 4])[0] & 0x7fffffff) % 1000000))
PY
}
$qrid serve --listen 127.0.0.1:$QPORT --database-url "$db" 2>"$work/serve.log" &
qpid=$!; pids+=("$qpid")
for i in $(seq 100); do curl -sf "$U/healthz" >/dev/null && break; sleep 0.1; done
json() { python3 -c "import sys,json; print(json.load(sys.stdin)$1)"; }
# Codes of three different steps: the sign-in and two sessions (a code is accepted once).
tok=$(curl -sf -XPOST "$U/v1/officials/token" -H 'content-type: application/json' \
  -d "{\"username\":\"minh\",\"password\":\"official password 2026\",\"totp\":\"$(totp -1)\"}" | json '["access_token"]')
session() {
  curl -sf -XPOST "$U/v1/signing-sessions" -H "authorization: Bearer $tok" -H "x-totp: $(totp "$1")" \
    -H 'content-type: application/json' -d '{"documents":100,"minutes":60}' | json '["session"]'
}
s1=$(session 0); s2=$(session 1)

# 1. Signing a 10 MiB document. Besides each request's wall time in the service (which includes
#    waiting for curl to send the body), the service's CPU time (user + system, from
#    /proc/PID/stat) over all the requests, per request.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$qpid/stat"; }
head -c $((10 * 1024 * 1024)) /dev/urandom > "$work/doc10.bin"
cpu0=$(cpu_ticks)
for i in $(seq $N); do
  curl -sf -o /dev/null -XPOST "$U/v1/signatures" -H "authorization: Bearer $tok" -H "x-signing-session: $s1" \
    -F "document=@$work/doc10.bin;type=application/pdf;filename=doc10.pdf"
done
cpu1=$(cpu_ticks)
digest=$(sha256sum "$work/doc10.bin" | cut -d' ' -f1)
for i in $(seq $N); do
  curl -sf -o "$work/signed.json" -XPOST "$U/v1/signatures" -H "authorization: Bearer $tok" -H "x-signing-session: $s1" \
    -H 'content-type: application/json' -d "{\"digest\":\"$digest\",\"name\":\"doc10.pdf\",\"media_type\":\"application/pdf\"}"
done
cpu2=$(cpu_ticks)
# The same N uploads, sent the same way, to a bare axum handler that only hashes them.
BPORT=$(port)
target/release/examples/bare_hash 127.0.0.1:$BPORT 2>/dev/null &
bpid=$!; pids+=("$bpid")
for i in $(seq 100); do curl -sf -XPOST -d x "http://127.0.0.1:$BPORT/hash" >/dev/null && break; sleep 0.1; done
bare0=$(awk '{print $14 + $15}' "/proc/$bpid/stat")
for i in $(seq $N); do
  curl -sf -o /dev/null -XPOST "http://127.0.0.1:$BPORT/hash" -F "document=@$work/doc10.bin;type=application/pdf;filename=doc10.pdf"
done
bare1=$(awk '{print $14 + $15}' "/proc/$bpid/stat")
for i in $(seq $N); do
  curl -sf -o /dev/null -XPOST "http://127.0.0.1:$BPORT/drain" -F "document=@$work/doc10.bin;type=application/pdf;filename=doc10.pdf"
done
bare2=$(awk '{print $14 + $15}' "/proc/$bpid/stat")
kill "$bpid" 2>/dev/null || true
tick_ms=$(python3 -c "import os; print(1000 / os.sysconf('SC_CLK_TCK'))")
hash_ms=$(target/release/examples/sha256_rate 10 $N)

# 2. Memory while 100 MiB uploads stream, two at a time.
head -c $((100 * 1024 * 1024)) /dev/zero > "$work/doc100.bin"
rss_before=$(awk '/VmRSS/ {print $2}' "/proc/$qpid/status")
( while kill -0 "$qpid" 2>/dev/null; do awk '/VmRSS/ {print $2}' "/proc/$qpid/status"; sleep 0.05; done ) > "$work/rss.txt" &
sampler=$!; pids+=("$sampler")
started=$(date +%s.%N)
for i in $(seq 5); do
  uploads=()
  for j in 1 2; do
    curl -sf -o /dev/null -XPOST "$U/v1/signatures" -H "authorization: Bearer $tok" -H "x-signing-session: $s2" \
      -F "document=@$work/doc100.bin;type=application/octet-stream" &
    uploads+=("$!")
  done
  wait "${uploads[@]}"
done
ended=$(date +%s.%N)
kill "$sampler" 2>/dev/null || true
rss_after=$(awk '/VmRSS/ {print $2}' "/proc/$qpid/status")

# 3. Verification rates.
cid=$(curl -sf -XPOST "$U/v1/auth/token" -H 'content-type: application/json' \
  -d '{"username":"bench","password":"bench password 12345"}' | json '["access_token"]')
citizen=$(curl -sf -XPOST "$U/v1/citizens" -H "authorization: Bearer $cid" -H 'content-type: application/json' \
  --data-binary @docs/examples/citizen.json | json '["id"]')
payload=$(curl -sf -XPOST "$U/v1/citizens/$citizen/credentials" -H "authorization: Bearer $cid" | json '["payload"]')
jws=$(json '["jws"]' < "$work/signed.json")
sig_body="{\"signature\":\"$jws\",\"digest\":\"$digest\"}"
curl -sf -u "$userpass" -XPOST "$U/v1/signatures/verify" -H 'content-type: application/json' -d "$sig_body" | grep -q '"valid":true' \
  || { echo "the benchmark signature does not verify"; exit 1; }
export QRID_PAYLOAD="$payload" QRID_BASIC="$basic" QRID_SIG_BODY="$sig_body"
for r in $(seq "$ROUNDS"); do
  wrk -t2 -c"$CONNS" -d"${SECS}s" --latency -s bench/verify.lua "$U/v1/verify" > "$work/verify.$r.txt"
  wrk -t2 -c"$CONNS" -d"${SECS}s" --latency -s bench/verify_signature.lua "$U/v1/signatures/verify" > "$work/sigverify.$r.txt"
done

python3 - "$work" "$ROUNDS" "$hash_ms" "$rss_before" "$rss_after" "$started" "$ended" "$cpu0" "$cpu1" "$cpu2" "$tick_ms" "$bare0" "$bare1" "$N" "$bare2" <<'PY'
import json, re, statistics, sys
work, rounds, hash_ms = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
rss_before, rss_after = int(sys.argv[4]), int(sys.argv[5])
started, ended = float(sys.argv[6]), float(sys.argv[7])
cpu0, cpu1, cpu2, tick_ms = int(sys.argv[8]), int(sys.argv[9]), int(sys.argv[10]), float(sys.argv[11])
bare0, bare1, N, bare2 = int(sys.argv[12]), int(sys.argv[13]), int(sys.argv[14]), int(sys.argv[15])
upload, by_digest, big = [], [], []
n = 0
for line in open(f"{work}/serve.log", encoding="utf-8", errors="replace"):
    try:
        j = json.loads(line)
    except ValueError:
        continue
    f = j.get("fields", {})
    if f.get("path") == "/v1/signatures" and f.get("status") == 201:
        n += 1
        ms = f["micros"] / 1000
        (upload if n <= N else by_digest if n <= 2 * N else big).append(ms)
med = statistics.median
print(f"sign 10 MiB upload (server time) : median {med(upload):.2f} ms over {len(upload)}")
print(f"sign by digest (server time)     : median {med(by_digest):.2f} ms over {len(by_digest)}")
print(f"SHA-256 of 10 MiB in-process     : median {hash_ms:.2f} ms")
print(f"upload signing beyond hashing    : {med(upload) - hash_ms:.2f} ms of wall time in the service")
up_cpu, dig_cpu = (cpu1 - cpu0) * tick_ms / N, (cpu2 - cpu1) * tick_ms / N
print(f"service CPU per 10 MiB upload    : {up_cpu:.2f} ms (user + system; by digest {dig_cpu:.2f} ms); "
      f"beyond hashing {up_cpu - hash_ms:.2f} ms (target <= 5 ms)")
bare_cpu = (bare1 - bare0) * tick_ms / N
print(f"bare axum upload + SHA-256 CPU   : {bare_cpu:.2f} ms per 10 MiB upload (the same curl); "
      f"qrid signing beyond it {up_cpu - bare_cpu:.2f} ms (target <= 5 ms)")
print(f"bare axum upload, received only  : {(bare2 - bare1) * tick_ms / N:.2f} ms CPU per 10 MiB upload")
rss = [int(x) for x in open(f"{work}/rss.txt").read().split() if x.isdigit()]
print(f"10 x 100 MiB uploads, 2 at a time: {len(big)} signed in {ended - started:.1f} s; RSS before {rss_before/1024:.1f} MiB, "
      f"max during {max(rss)/1024:.1f} MiB, after {rss_after/1024:.1f} MiB")
def parse(path):
    t = open(path).read()
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
    m = re.search(r"\s99%\s+([\d.]+)(us|ms|s)\b", t)
    v, u = float(m.group(1)), m.group(2)
    p99 = v / 1000 if u == "us" else v * 1000 if u == "s" else v
    errs = re.search(r"Non-2xx or 3xx responses: (\d+)", t)
    return rps, p99, int(errs.group(1)) if errs else 0
res = {k: [parse(f"{work}/{k}.{r}.txt") for r in range(1, rounds + 1)] for k in ("verify", "sigverify")}
for k, label in (("verify", "POST /v1/verify"), ("sigverify", "POST /v1/signatures/verify")):
    rs = res[k]
    print(f"{label:27}: median {med(r[0] for r in rs):8.0f} req/s (rounds: {', '.join(f'{r[0]:.0f}' for r in rs)}); "
          f"p99 {med(r[1] for r in rs):.2f} ms; non-2xx {sum(r[2] for r in rs)}")
ratio = med(s[0] / v[0] for s, v in zip(res["sigverify"], res["verify"]))
print(f"ratio signatures/verify over verify (median of per-round ratios): {ratio:.0%} (target >= 50%)")
PY
