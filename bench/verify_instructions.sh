#!/usr/bin/env bash
# Instructions per request (user space, valgrind's callgrind: repeatable whatever else the
# machine does) for POST /v1/verify, beside the bare axum handler of bench/http.sh that does one
# Ed25519 verification. Both run under callgrind for 20 s of wrk with 2 connections; qrid's
# figure leaves out the officer's argon2 sign-in (its start-up and the set-up requests stay in:
# a few per cent of the total).
# Usage: bench/verify_instructions.sh   (needs valgrind, wrk, curl)
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
WRAP_QRID="valgrind --tool=callgrind --callgrind-out-file=$work/cg.qrid"
WRAP_BARE="valgrind --tool=callgrind --callgrind-out-file=$work/cg.bare"
source bench/verify_setup.sh

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
