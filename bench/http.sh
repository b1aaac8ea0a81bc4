#!/usr/bin/env bash
# HTTP figures for POST /v1/verify under wrk, beside a bare axum handler that does one Ed25519
# verification per request, both measured in the same run on this machine; and the service's
# memory (peak RSS) under that load.
# Usage: bench/http.sh [SECONDS] [CONNECTIONS] [ROUNDS]   (defaults 20, 32, 3)
# Needs wrk and curl (apt-get install wrk curl).
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-20}
CONNS=${2:-32}
ROUNDS=${3:-3}
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
source bench/verify_setup.sh

echo "machine: $(nproc) cores; wrk -t2 -c$CONNS -d${SECS}s; $ROUNDS rounds, alternating; payload ${#payload} chars"
export QRID_PAYLOAD="$payload" QRID_BASIC="$basic"
run() { # name url
  wrk -t2 -c"$CONNS" -d"${SECS}s" --latency -s bench/verify.lua "$2" > "$work/$1.$r.txt"
}
peak=0
for r in $(seq "$ROUNDS"); do
  run bare "http://127.0.0.1:$BPORT/verify"
  # Sample the service's resident memory while it is under load.
  ( while kill -0 "$qpid" 2>/dev/null; do awk '/VmRSS/ {print $2}' "/proc/$qpid/status"; sleep 0.2; done ) > "$work/rss.$r.txt" &
  sampler=$!
  run qrid "$U/v1/verify"
  kill "$sampler" 2>/dev/null || true
done
hwm=$(awk '/VmHWM/ {print $2}' "/proc/$qpid/status")
python3 - "$work" "$ROUNDS" "$hwm" <<'PY'
import re, statistics, sys, glob
work, rounds, hwm = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def parse(path):
    t = open(path).read()
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
    def ms(label):
        m = re.search(r"\s" + label + r"\s+([\d.]+)(us|ms|s)\b", t)
        v, u = float(m.group(1)), m.group(2)
        return v / 1000 if u == "us" else v * 1000 if u == "s" else v
    errs = re.search(r"Non-2xx or 3xx responses: (\d+)", t)
    sock = re.search(r"Socket errors: (.*)", t)
    return rps, ms("50%"), ms("99%"), int(errs.group(1)) if errs else 0, sock.group(1) if sock else ""
res = {n: [parse(f"{work}/{n}.{r}.txt") for r in range(1, rounds + 1)] for n in ("bare", "qrid")}
for n, label in (("bare", "bare axum + 1 Ed25519 verify"), ("qrid", "qrid POST /v1/verify")):
    rs = res[n]
    print(f"{label:30}: median {statistics.median(r[0] for r in rs):8.0f} req/s  "
          f"(rounds: {', '.join(f'{r[0]:.0f}' for r in rs)}); p50 {statistics.median(r[1] for r in rs):.2f} ms, "
          f"p99 {statistics.median(r[2] for r in rs):.2f} ms; non-2xx {sum(r[3] for r in rs)}"
          + (f"; socket errors {rs[0][4]}" if rs[0][4] else ""))
ratio = statistics.median(q[0] / b[0] for q, b in zip(res["qrid"], res["bare"]))
print(f"ratio qrid/bare (median of per-round ratios): {ratio:.0%} (target >= 75%)")
rss = [int(x) for f in glob.glob(f"{work}/rss.*.txt") for x in open(f).read().split() if x.isdigit()]
print(f"qrid resident memory under load: max sampled {max(rss)/1024:.1f} MiB, peak (VmHWM) {hwm/1024:.1f} MiB (target < 150 MiB)")
PY
