#!/usr/bin/env bash
# Login (OpenID Connect) figures: (a) POST /token requests per second under wrk, each request
# with its own fresh authorization code, for an RS256 and an EdDSA client; (b) the service's time
# for one whole login (authorize, wallet response, completing status poll, token, userinfo),
# summed from its JSON access log (`micros` per request). Beside them, in the same run: the bare
# axum handler of bench/http.sh under wrk, and the raw jsonwebtoken signing rate of the ID token
# keys (bench/oidc_ref). Rounds alternate so that the machine's noise hits all of them alike.
# Usage: bench/oidc.sh [LOGINS] [ROUNDS] [CODES] [CONNECTIONS]   (defaults 200, 3, 6000, 16)
# QRID_BENCH_KEEP=1 keeps the work directory (access log, database) and prints its path.
# Needs wrk, curl and python3 with `cryptography` (apt-get install wrk curl python3-cryptography).
set -euo pipefail
cd "$(dirname "$0")/.."
LOGINS=${1:-200}
ROUNDS=${2:-3}
CODES=${3:-6000}
CONNS=${4:-16}
GEN_SECS=25     # at most this long making codes, then at most WRK_SECS of load: codes live 60 s
WRK_SECS=30
GEN_THREADS=4
BARE_SECS=10
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; [ -n "${QRID_BENCH_KEEP:-}" ] || rm -rf "$work"; }
trap cleanup EXIT
python3 -c 'import cryptography' 2>/dev/null || { echo "needs python3-cryptography"; exit 1; }
cargo build --release -q -p qrid-cli --bin qrid
cargo build --release -q -p qrid-server --example bare_verify
cargo build --release -q --offline --manifest-path bench/oidc_ref/Cargo.toml --target-dir target/oidc-ref
qrid=target/release/qrid
drv="python3 bench/oidc_driver.py"
db="sqlite:$work/qrid.db"
echo 'bench password 12345' | $qrid officer create --username bench --role issuer --database-url "$db" 2>/dev/null
for alg in RS256 EdDSA; do
  $qrid client create --name "bench $alg" --redirect-uri http://127.0.0.1:9/cb --scope openid \
    --scope profile --scope national_id --id-token-alg $alg --token-auth-method client_secret_basic \
    --database-url "$db" 2>/dev/null > "$work/client-$alg.json"
done

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
QPORT=$(port)
$qrid serve --listen 127.0.0.1:$QPORT --database-url "$db" 2>"$work/serve.log" &
qpid=$!; pids+=("$qpid")
BPORT=$(port)
target/release/examples/bare_verify 127.0.0.1:$BPORT 2>/dev/null &
bpid=$!; pids+=("$bpid")
for i in $(seq 100); do curl -sf "http://127.0.0.1:$QPORT/healthz" >/dev/null && break; sleep 0.1; done
for i in $(seq 100); do curl -sf -XPOST -d x "http://127.0.0.1:$BPORT/verify" >/dev/null && break; sleep 0.1; done
U="http://127.0.0.1:$QPORT"
[ -n "${QRID_BENCH_KEEP:-}" ] && echo "work directory: $work"
$drv setup "$U" bench 'bench password 12345' "$work/state.json"

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo); $ROUNDS rounds, alternating"
echo "whole logins: $LOGINS sequential per client per round; /token: up to $CODES codes per run, wrk -t2 -c$CONNS"
export QRID_PAYLOAD=x QRID_BASIC=x QRID_WRK_THREADS=2
for r in $(seq "$ROUNDS"); do
  wrk -t2 -c32 -d${BARE_SECS}s --latency -s bench/verify.lua "http://127.0.0.1:$BPORT/verify" > "$work/bare.$r.txt"
  for alg in RS256 EdDSA; do
    python3 -c 'import sqlite3,sys; print(sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True).execute("SELECT count(*) FROM auth_codes").fetchone()[0])' "$work/qrid.db" > "$work/rows.$alg.$r.txt"
    $drv logins "$U" "$work/state.json" "$work/client-$alg.json" "$LOGINS" "r${r}${alg}L" 2>>"$work/driver.txt"
  done
  for alg in RS256 EdDSA; do
    read -r made took < <($drv codes "$U" "$work/state.json" "$work/client-$alg.json" "$CODES" $GEN_SECS "$work/codes.txt" $GEN_THREADS)
    echo "$made $took" > "$work/gen.$alg.$r.txt"
    secs=$(( made / 400 + 3 )); [ $secs -gt $WRK_SECS ] && secs=$WRK_SECS   # wrk waits out -d
    basic=$(python3 -c 'import base64,json,sys; c=json.load(open(sys.argv[1])); print(base64.b64encode((c["client_id"]+":"+c["client_secret"]).encode()).decode())' "$work/client-$alg.json")
    QRID_CODES="$work/codes.txt" QRID_BASIC="$basic" QRID_RID="r${r}${alg}T" \
      wrk -t2 -c"$CONNS" -d${secs}s --latency -s bench/token.lua "$U/token" > "$work/token.$alg.$r.txt"
  done
done
target/oidc-ref/release/oidc-ref keys-dev 2 > "$work/raw.txt"
sleep 1  # the access log is written by its own thread
python3 - "$work" "$ROUNDS" "$LOGINS" <<'PY'
import json, re, statistics as st, subprocess, sys
work, rounds, logins = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
sys.path.insert(0, "bench"); from oidc_driver import pct, STEPS, LOGIN_STEPS
med = st.median
def bare(r):
    t = open(f"{work}/bare.{r}.txt").read()
    return float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
def tok(alg, r):
    t = open(f"{work}/token.{alg}.{r}.txt").read()
    m = re.search(r"TOKENS ok=(\d+) failed=(\d+) seconds=([\d.]+) rate=([\d.]+) p50_ms=([\d.]+) p99_ms=([\d.]+)", t)
    return dict(ok=int(m[1]), failed=int(m[2]), secs=float(m[3]), rate=float(m[4]), p50=float(m[5]), p99=float(m[6]))
prefixes = [f"r{r}{a}{k}" for r in range(1, rounds + 1) for a in ("RS256", "EdDSA") for k in "LT"]
rep = json.loads(subprocess.check_output([sys.executable, "bench/oidc_driver.py", "report", f"{work}/serve.log", *prefixes]))
B = [bare(r) for r in range(1, rounds + 1)]
print(f"{'bare axum + 1 Ed25519 verify':32}: median {med(B):7.0f} req/s (rounds: {', '.join(f'{b:.0f}' for b in B)}); wrk -c32")
for line in open(f"{work}/raw.txt"):
    print(line.rstrip())
print()
print("(a) POST /token, one fresh code per request, client_secret_basic:")
for alg in ("RS256", "EdDSA"):
    T = [tok(alg, r) for r in range(1, rounds + 1)]
    G = [open(f"{work}/gen.{alg}.{r}.txt").read().split() for r in range(1, rounds + 1)]
    srv = [x for r in range(1, rounds + 1) for x in rep[f"r{r}{alg}T"]["steps"]["token"]]
    ratio = med(t["rate"] / b for t, b in zip(T, B))
    raw2 = float(re.search(rf"raw {alg} id_token sign: .*?([\d.]+)/s on \d+ threads", open(f"{work}/raw.txt").read()).group(1))
    print(f"  {alg:5} id_token: median {med(t['rate'] for t in T):7.0f} tokens/s (rounds: {', '.join('%.0f' % t['rate'] for t in T)}); "
          f"{med(t['rate'] for t in T) / raw2:.0%} of raw {alg} signing on all cores, {ratio:.0%} of bare; wrk p50 {med([t['p50'] for t in T]):.2f} ms, p99 {med(t['p99'] for t in T):.2f} ms; "
          f"server time per /token median {med(srv)/1000:.2f} ms, p95 {pct(srv, .95)/1000:.2f} ms; failed {sum(t['failed'] for t in T)}")
    print(f"        codes per run {', '.join(g[0] for g in G)} made in {', '.join(g[1] for g in G)} s "
          f"({med(int(g[0]) / float(g[1]) for g in G):.0f} logins up to the code per second, 4 browsers at once)")
print()
print(f"(b) server time of one whole login ({' + '.join(LOGIN_STEPS)}), {logins} sequential logins per client per round:")
for alg in ("RS256", "EdDSA"):
    per_round = [rep[f"r{r}{alg}L"] for r in range(1, rounds + 1)]
    whole = [x for p in per_round for x in p["whole"]]
    print(f"  {alg:5} id_token: median {med(med(p['whole']) for p in per_round)/1000:.2f} ms per login "
          f"(round medians: {', '.join('%.2f' % (med(p['whole'])/1000) for p in per_round)}); p95 {pct(whole, .95)/1000:.2f} ms; "
          f"max {max(whole)/1000:.2f} ms; n={len(whole)} (target < 20 ms)")
    steps = {k: [x for p in per_round for x in p["steps"][k]] for k in STEPS}
    print("        per step, median / p95 ms: " + "; ".join(
        f"{k} {med(v)/1000:.2f} / {pct(v, .95)/1000:.2f}" for k, v in steps.items() if v)
        + "   (poll = one pending poll, not counted)")
runs = [(r, a) for r in range(1, rounds + 1) for a in ("RS256", "EdDSA")]
print("  by run (round, alg, rows in auth_codes and in access_tokens before it): whole login / authorize median ms:")
print("    " + "; ".join(f"r{r} {a} {open(f'{work}/rows.{a}.{r}.txt').read().strip()} rows: "
      + "%.2f / %.2f" % (med(rep[f'r{r}{a}L']['whole']) / 1000, med(rep[f'r{r}{a}L']['steps']['authorize']) / 1000) for r, a in runs))
A = []
import sqlite3
d = sqlite3.connect(f"file:{work}/qrid.db?mode=ro", uri=True)
rows = {t: d.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("login_transactions", "auth_codes", "access_tokens")}
print("  rows at the end: "
      + ", ".join(f"{t} {n}" for t, n in rows.items()))
print("  driver's view (client, network and Python included), last run: " + open(f"{work}/driver.txt").read().splitlines()[-1])
PY
