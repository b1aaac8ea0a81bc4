#!/usr/bin/env bash
# PDF signing figures over HTTP (issue 19; docs/benchmarks.md "PDF signatures (issue 19)"),
# against the real `qrid serve` (release, SQLite in a temporary directory, the development keys
# of keys-dev/, a random port). Per round, a new official (so that each round has its own TOTP
# codes: one for the sign-in, one for a signing session of 100 documents) and then, for a small
# PDF (tests/vectors/pdf/simple.pdf, 956 bytes) and a 10 MiB PDF (20 pages of gray noise,
# bench/make_pdf.py), each as a batch of 20 sequential uploads with curl:
#   - `sha256sum` of the same file 20 times (the reference: a plain hash; wall and CPU), and
#     SHA-256 of 10 MiB in-process with the service's own `sha2` crate (crates/server/examples/
#     sha256_rate.rs, median of 21, as bench/sign.sh uses it);
#   - POST /v1/signatures/pdf with the session (PAdES B-B, the stamp drawn, the signed PDF back);
#   - POST /v1/signatures with the same file as multipart (the JWS document signature);
#   - POST /v1/signatures/verify with the signed PDF (client Basic auth).
# Each batch: its wall time (curl processes included), the service's CPU time over it (user +
# system from /proc/PID/stat, 10 ms ticks) and the service's own time per request (access log
# `micros`: headers in to response out, before the response body is sent).
# Usage: bash bench/sign_pdf.sh [ROUNDS]   (default 3)
# Needs: a Rust toolchain (builds target/release/qrid), curl, python3, sha256sum (coreutils).
# Cleans up: the server is killed and the temporary directory removed on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-3}
N=20
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
cargo build --release -q -p qrid-cli --bin qrid
cargo build --release -q -p qrid-server --example sha256_rate
qrid=target/release/qrid
db="sqlite:$work/qrid.db"
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
QPORT=$(port)
U="http://127.0.0.1:$QPORT"
json() { python3 -c "import sys,json; print(json.load(sys.stdin)$1)"; }

cp tests/vectors/pdf/simple.pdf "$work/small.pdf"
python3 bench/make_pdf.py "$work/big.pdf" 20 1024 512
echo "files: small.pdf $(stat -c %s "$work/small.pdf") bytes, big.pdf $(stat -c %s "$work/big.pdf") bytes"

client=$($qrid client create --name bench --database-url "$db" 2>/dev/null)
userpass=$(python3 -c 'import json,sys; c=json.loads(sys.argv[1]); print(c["client_id"]+":"+c["client_secret"])' "$client")
secrets=()
for r in $(seq "$ROUNDS"); do
  official=$(echo 'official password 2026' | $qrid official create --username "minh$r" --full-name 'Nguyễn Văn Minh' \
    --title 'Chủ tịch' --agency 'UBND xã Đông Hội' --database-url "$db" --public-url "$U" 2>/dev/null)
  secrets+=("$(python3 -c 'import json,sys; u=json.loads(sys.argv[1])["otpauth_uri"]; print(u.split("secret=")[1].split("&")[0])' "$official")")
done
totp() { # TOTP of secret $1 at step now + $2
  python3 - "$1" "$2" <<'PY'
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
curl -sf "$U/healthz" >/dev/null || { echo "qrid serve did not start"; cat "$work/serve.log"; exit 1; }

cpu_ticks() { awk '{print $14 + $15}' "/proc/$qpid/stat"; }
now() { date +%s.%N; }
results="$work/results.tsv"
# One batch: kind size round wall_s service_cpu_ticks [children_cpu_s]
record() { printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >> "$results"; }

sign_pdf() { # file name → signed PDF in $3
  curl -sf -o "$3" -XPOST "$U/v1/signatures/pdf?name=$2" -H "authorization: Bearer $tok" \
    -H "x-signing-session: $session" -H 'content-type: application/pdf' --data-binary "@$1"
}
sign_jws() {
  curl -sf -o /dev/null -XPOST "$U/v1/signatures" -H "authorization: Bearer $tok" -H "x-signing-session: $session" \
    -F "document=@$1;type=application/pdf;filename=$2"
}
verify_pdf() {
  curl -sf -o "$work/verdict.json" -u "$userpass" -XPOST "$U/v1/signatures/verify" \
    -H 'content-type: application/pdf' --data-binary "@$1"
}

for r in $(seq "$ROUNDS"); do
  secret=${secrets[$((r - 1))]}
  tok=$(curl -sf -XPOST "$U/v1/officials/token" -H 'content-type: application/json' \
    -d "{\"username\":\"minh$r\",\"password\":\"official password 2026\",\"totp\":\"$(totp "$secret" -1)\"}" | json '["access_token"]')
  session=$(curl -sf -XPOST "$U/v1/signing-sessions" -H "authorization: Bearer $tok" -H "x-totp: $(totp "$secret" 0)" \
    -H 'content-type: application/json' -d '{"documents":100,"minutes":60}' | json '["session"]')
  # Warm-up, not timed: the official's first PDF signature issues their certificate.
  sign_pdf "$work/small.pdf" warm.pdf "$work/warm.signed.pdf"
  sign_jws "$work/small.pdf" warm.pdf
  for size in small big; do
    f="$work/$size.pdf"
    # The reference: a plain hash of the same file, 20 times.
    read -r wall cpu < <(python3 - "$f" "$N" <<'PY'
import resource, subprocess, sys, time
f, n = sys.argv[1], int(sys.argv[2])
r0, t0 = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
for _ in range(n):
    subprocess.run(["sha256sum", f], stdout=subprocess.DEVNULL, check=True)
t1, r1 = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
print(t1 - t0, (r1.ru_utime + r1.ru_stime) - (r0.ru_utime + r0.ru_stime))
PY
)
    record sha256sum "$size" "$r" "$wall" 0 "$cpu"
    t0=$(now); c0=$(cpu_ticks)
    for i in $(seq $N); do sign_pdf "$f" "doc-$i.pdf" "$work/$size.signed.pdf"; done
    t1=$(now); c1=$(cpu_ticks)
    record pades "$size" "$r" "$(python3 -c "print($t1 - $t0)")" $((c1 - c0)) 0
    head -c 5 "$work/$size.signed.pdf" | grep -q '%PDF-' || { echo "no signed PDF came back"; exit 1; }
    t0=$(now); c0=$(cpu_ticks)
    for i in $(seq $N); do sign_jws "$f" "doc-$i.pdf"; done
    t1=$(now); c1=$(cpu_ticks)
    record jws "$size" "$r" "$(python3 -c "print($t1 - $t0)")" $((c1 - c0)) 0
    t0=$(now); c0=$(cpu_ticks)
    for i in $(seq $N); do verify_pdf "$work/$size.signed.pdf"; done
    t1=$(now); c1=$(cpu_ticks)
    record verify "$size" "$r" "$(python3 -c "print($t1 - $t0)")" $((c1 - c0)) 0
    grep -q '"valid":true' "$work/verdict.json" || { echo "the signed PDF does not verify"; cat "$work/verdict.json"; exit 1; }
  done
done

hash_ms=$(target/release/examples/sha256_rate 10 21)

python3 - "$work" "$N" "$ROUNDS" "$hash_ms" <<'PY'
import json, os, statistics, sys
work, N, rounds, hash_ms = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
tick = 1000 / os.sysconf("SC_CLK_TCK")
med = statistics.median
rows = [l.rstrip("\n").split("\t") for l in open(f"{work}/results.tsv")]
res = {}
for kind, size, r, wall, ticks, child in rows:
    res.setdefault((kind, size), []).append((float(wall), int(ticks) * tick / N, float(child) * 1000 / N))
# The service's own time per request, in the order the script sends them: per round a warm-up
# PDF and JWS, then per size 20 PDFs, 20 JWS uploads, 20 verifications.
micros = {"/v1/signatures/pdf": [], "/v1/signatures": [], "/v1/signatures/verify": []}
for line in open(f"{work}/serve.log", encoding="utf-8", errors="replace"):
    try:
        f = json.loads(line).get("fields", {})
    except ValueError:
        continue
    if f.get("path") in micros and f.get("status") in (200, 201):
        micros[f["path"]].append(f["micros"] / 1000)
def per_size(path, warm):
    out = {"small": [], "big": []}
    xs = micros[path]
    per_round = warm + 2 * N
    for r in range(rounds):
        chunk = xs[r * per_round + warm:(r + 1) * per_round]
        out["small"] += chunk[:N]
        out["big"] += chunk[N:2 * N]
    return out
svc = {"pades": per_size("/v1/signatures/pdf", 1), "jws": per_size("/v1/signatures", 1),
       "verify": per_size("/v1/signatures/verify", 0)}
print(f"{rounds} rounds of batches of {N} sequential curl requests; medians over the rounds")
for size in ("small", "big"):
    print(f"-- {size} PDF")
    for kind in ("sha256sum", "pades", "jws", "verify"):
        rs = res[(kind, size)]
        walls = ", ".join(f"{w:.3f}" for w, _, _ in rs)
        line = f"  {kind:9} batch of {N}: wall {med(w for w, _, _ in rs):7.3f} s (rounds {walls}); per document {med(w for w, _, _ in rs) / N * 1000:7.2f} ms"
        if kind == "sha256sum":
            line += f"; CPU {med(c for _, _, c in rs):.2f} ms per file (user + system)"
        else:
            line += f"; service CPU {med(c for _, c, _ in rs):.2f} ms per document; service time median {med(svc[kind][size]):.2f} ms"
        print(line)
    w = {k: med(x[0] for x in res[(k, size)]) for k in ("sha256sum", "pades", "jws", "verify")}
    cpu = {k: med(x[1] for x in res[(k, size)]) for k in ("pades", "jws", "verify")}
    hash_cpu = med(x[2] for x in res[("sha256sum", size)])
    print(f"  ratios, wall of the batch: PAdES / JWS {w['pades'] / w['jws']:.2f}; PAdES / sha256sum {w['pades'] / w['sha256sum']:.2f}; verify / sha256sum {w['verify'] / w['sha256sum']:.2f}")
    print(f"  ratios, CPU per document: PAdES / JWS {cpu['pades'] / cpu['jws']:.2f}; PAdES / sha256sum {cpu['pades'] / hash_cpu:.2f}; verify / sha256sum {cpu['verify'] / hash_cpu:.2f}")
    if size == "big":
        print(f"  SHA-256 of 10 MiB in-process (sha2, the service's crate): {hash_ms:.2f} ms; service CPU per 10 MiB PDF over it: "
              f"PAdES {cpu['pades'] / hash_ms:.1f}x, JWS {cpu['jws'] / hash_ms:.1f}x, verify {cpu['verify'] / hash_ms:.1f}x")
PY
