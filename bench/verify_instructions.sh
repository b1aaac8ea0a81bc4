#!/usr/bin/env bash
# Instructions per request (user space, valgrind's callgrind: repeatable whatever else the
# machine does) for POST /v1/verify, beside the bare axum handler of bench/http.sh that does one
# Ed25519 verification. Both run under callgrind for 20 s of wrk with 2 connections; qrid's
# figure leaves out the officer's argon2 sign-in (its start-up and the set-up requests stay in:
# a few per cent of the total).
# Usage: bench/verify_instructions.sh   (needs valgrind, wrk, curl)
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-20}
CONNS=${2:-32}
ROUNDS=${3:-3}
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
cargo build --release -q -p qrid-cli --bin qrid
cargo build --release -q -p qrid-server --example bare_verify
qrid=target/release/qrid
db="sqlite:$work/qrid.db"
echo 'bench password 12345' | $qrid officer create --username bench --role issuer --database-url "$db" 2>/dev/null
client=$($qrid client create --name bench --database-url "$db" 2>/dev/null)
basic=$(python3 -c 'import base64,json,sys; c=json.loads(sys.argv[1]); print(base64.b64encode((c["client_id"]+":"+c["client_secret"]).encode()).decode())' "$client")

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
QPORT=$(port)
valgrind --tool=callgrind --callgrind-out-file="$work/cg.qrid" $qrid serve --listen 127.0.0.1:$QPORT --database-url "$db" 2>"$work/serve.log" &
qpid=$!; pids+=("$qpid")
BPORT=$(port)
valgrind --tool=callgrind --callgrind-out-file="$work/cg.bare" target/release/examples/bare_verify 127.0.0.1:$BPORT 2>/dev/null &
bpid=$!; pids+=("$bpid")
for i in $(seq 600); do curl -sf "http://127.0.0.1:$QPORT/healthz" >/dev/null && break; sleep 0.1; done
for i in $(seq 600); do curl -sf -XPOST -d x "http://127.0.0.1:$BPORT/verify" >/dev/null && break; sleep 0.1; done

U="http://127.0.0.1:$QPORT"
tok=$(curl -sf -XPOST "$U/v1/auth/token" -H 'content-type: application/json' \
  -d '{"username":"bench","password":"bench password 12345"}' | python3 -c 'import sys,json; print(json.load(sys.stdin)["access_token"])')
cid=$(curl -sf -XPOST "$U/v1/citizens" -H "authorization: Bearer $tok" -H 'content-type: application/json' \
  --data-binary @docs/examples/citizen.json | python3 -c 'import sys,json; print(json.load(sys.stdin)["id"])')
payload=$(curl -sf -XPOST "$U/v1/citizens/$cid/credentials" -H "authorization: Bearer $tok" \
  | python3 -c 'import sys,json; print(json.load(sys.stdin)["payload"])')
check=$(curl -sf -XPOST "$U/v1/verify" -u "$(python3 -c 'import base64,sys; print(base64.b64decode(sys.argv[1]).decode())' "$basic")" \
  -H 'content-type: application/json' -d "{\"payload\":\"$payload\"}")
echo "$check" | grep -q '"valid":true' || { echo "the benchmark credential does not verify: $check"; exit 1; }

export QRID_PAYLOAD="$payload" QRID_BASIC="$basic"
qn=$(wrk -t1 -c2 -d20s -s bench/verify.lua "$U/v1/verify" | awk '/requests in/ {print $1}')
bn=$(wrk -t1 -c2 -d20s -s bench/verify.lua "http://127.0.0.1:$BPORT/verify" | awk '/requests in/ {print $1}')
kill -TERM "$qpid" "$bpid"; wait "$qpid" "$bpid" 2>/dev/null || true
total() { callgrind_annotate --inclusive=yes "$1" 2>/dev/null | awk -v pat="$2" 'index($0, pat) {gsub(",", "", $1); print $1; exit}'; }
python3 - "$qn" "$bn" "$(total "$work/cg.qrid" "PROGRAM TOTALS")" "$(total "$work/cg.qrid" "argon2::Argon2::hash_password_into [")" \
  "$(total "$work/cg.qrid" "qrid_server::routes::verify::{{closure}} [")" "$(total "$work/cg.bare" "PROGRAM TOTALS")" <<'PY'
import sys
qn, bn, qtotal, argon, handler, btotal = (int(x or 0) for x in sys.argv[1:])
q = (qtotal - argon) / qn
b = btotal / bn
print(f"qrid POST /v1/verify : {q / 1000:.0f} k instructions/request over {qn} requests (handler alone {handler / qn / 1000:.0f} k)")
print(f"bare axum + 1 verify : {b / 1000:.0f} k instructions/request over {bn} requests")
print(f"ratio bare/qrid      : {b / q:.0%} (user space only; the kernel's TCP work is the same for both)")
PY
