#!/usr/bin/env bash
# Whole-process figures for `qrid issue --claims -` and `qrid verify` over N citizens, each
# beside raw ed25519-dalek signing / strict verification on all cores, measured in the same run.
# Usage: bench/cli.sh [N] [RUNS]     (defaults 100000 and 5; needs hyperfine: apt-get install hyperfine)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-100000}
RUNS=${2:-5}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cargo build --release -q -p qrid-cli --bin qrid --example raw_ed25519
qrid=target/release/qrid
python3 bench/gen_citizens.py "$N" > "$work/citizens.jsonl"
$qrid issue --key keys-dev/issuer.key.pem --claims - --status-uri https://id.gov.vn/s/1 --status-index 0 \
  < "$work/citizens.jsonl" > "$work/payloads.txt"
echo "machine: $(nproc) cores; N=$N; runs=$RUNS"
echo "payload chars: median $(awk '{print length($0)}' "$work/payloads.txt" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')"
hyperfine --runs "$RUNS" --warmup 1 --export-json "$work/h.json" \
  -n issue "$qrid issue --key keys-dev/issuer.key.pem --claims - --status-uri https://id.gov.vn/s/1 --status-index 0 < $work/citizens.jsonl > /dev/null" \
  -n verify "$qrid verify --trust keys-dev/jwks.json < $work/payloads.txt > /dev/null" \
  -n raw "target/release/examples/raw_ed25519 $N > $work/raw.json" >/dev/null
raw_runs=()
for i in $(seq "$RUNS"); do raw_runs+=("$(target/release/examples/raw_ed25519 "$N")"); done
printf '%s\n' "${raw_runs[@]}" > "$work/raw_all.json"
python3 - "$work/h.json" "$work/raw_all.json" "$N" <<'PY'
import json, statistics, sys
h = json.load(open(sys.argv[1]))
raw = [json.loads(l) for l in open(sys.argv[2])]
n = int(sys.argv[3])
med = {r["command"]: statistics.median(r["times"]) for r in h["results"]}
sign = statistics.median(r["sign_per_s"] for r in raw)
ver = statistics.median(r["verify_strict_per_s"] for r in raw)
issue_rate = n / med["issue"]
verify_rate = n / med["verify"]
print(f"qrid issue  : {issue_rate:9.0f} credentials/s (median {med['issue']:.3f} s for {n})")
print(f"raw sign    : {sign:9.0f} signatures/s (ed25519-dalek, all cores, in-process)")
print(f"  ratio     : {issue_rate / sign:.0%} of raw signing (target >= 50%)")
print(f"qrid verify : {verify_rate:9.0f} credentials/s (median {med['verify']:.3f} s for {n})")
print(f"raw verify  : {ver:9.0f} verifications/s (verify_strict, all cores, in-process)")
print(f"  ratio     : {verify_rate / ver:.0%} of raw verification (target >= 80%)")
PY
