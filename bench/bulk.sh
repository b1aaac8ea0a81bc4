#!/usr/bin/env bash
# `qrid bulk-issue` of N citizens into a fresh SQLite file and a fresh PostgreSQL database,
# beside raw ed25519-dalek signing on all cores measured in the same run; with the peak memory
# of each run.
# Usage: bench/bulk.sh [N] [POSTGRES_ADMIN_URL]
#        (defaults 1000000 and postgres://postgres@127.0.0.1:5432/test; needs psql)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000000}
PG=${2:-postgres://postgres@127.0.0.1:5432/test}
work=$(mktemp -d)
pgdb="qrid_bench_$$"
cleanup() { psql -q "$PG" -c "DROP DATABASE IF EXISTS $pgdb WITH (FORCE)" >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT
cargo build --release -q -p qrid-cli --bin qrid --example raw_ed25519
qrid=target/release/qrid
python3 bench/gen_citizens.py "$N" > "$work/citizens.jsonl"
echo "machine: $(nproc) cores; N=$N citizens (JSON lines, $(du -h "$work/citizens.jsonl" | cut -f1))"
raw=$(target/release/examples/raw_ed25519 200000)
run() { # label url
  /usr/bin/time -f "%e %M" -o "$work/time" \
    $qrid bulk-issue --database-url "$2" --input "$work/citizens.jsonl" --quiet 2> "$work/err" || { cat "$work/err"; exit 1; }
  read -r secs kb < "$work/time"
  summary=$(grep -o '[0-9]* issued, [0-9]* already enrolled' "$work/err" | head -1)
  python3 -c "import sys; n,s,kb=int(sys.argv[1]),float(sys.argv[2]),int(sys.argv[3]); print(f'{sys.argv[4]:11}: {n/s:8.0f} credentials/s ({s:.1f} s; {sys.argv[5]}); peak RSS {kb/1024:.0f} MiB')" \
    "$N" "$secs" "$kb" "$1" "$summary"
}
run "SQLite" "sqlite:$work/bulk.db"
echo "  database file: $(du -h "$work/bulk.db" | cut -f1)"
psql -q "$PG" -c "CREATE DATABASE $pgdb" >/dev/null
run "PostgreSQL" "${PG%/*}/$pgdb"
# A second run over the same input: everyone is already enrolled, nothing is issued twice.
/usr/bin/time -f "%e" -o "$work/time" $qrid bulk-issue --database-url "sqlite:$work/bulk.db" --input "$work/citizens.jsonl" --quiet 2> "$work/err2"
echo "rerun      : $(grep -o '[0-9]* issued, [0-9]* already enrolled' "$work/err2" | head -1) in $(cat "$work/time") s"
python3 -c "import json,sys; r=json.loads(sys.argv[1]); print(f\"raw sign   : {r['sign_per_s']:8.0f} signatures/s (ed25519-dalek, {r['threads']} threads, in-process)\")" "$raw"
