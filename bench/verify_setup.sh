# Sourced by bench/http.sh and bench/verify_instructions.sh, which set `work` (a scratch
# directory) and `pids` (processes to stop on exit) first, and may set WRAP_QRID / WRAP_BARE
# (a command to run the service / the bare handler under, such as valgrind). Builds both,
# starts `qrid serve` on a fresh SQLite file and the bare axum + Ed25519 handler on free ports,
# issues one credential and checks it verifies. Sets qrid, db, basic, QPORT, BPORT, U, qpid,
# bpid, payload.
cargo build --release -q -p qrid-cli --bin qrid
cargo build --release -q -p qrid-server --example bare_verify
qrid=target/release/qrid
db="sqlite:$work/qrid.db"
echo 'bench password 12345' | $qrid officer create --username bench --role issuer --database-url "$db" 2>/dev/null
client=$($qrid client create --name bench --database-url "$db" 2>/dev/null)
basic=$(python3 -c 'import base64,json,sys; c=json.loads(sys.argv[1]); print(base64.b64encode((c["client_id"]+":"+c["client_secret"]).encode()).decode())' "$client")

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
QPORT=$(port)
${WRAP_QRID:-} $qrid serve --listen 127.0.0.1:$QPORT --database-url "$db" 2>"$work/serve.log" &
qpid=$!; pids+=("$qpid")
BPORT=$(port)
${WRAP_BARE:-} target/release/examples/bare_verify 127.0.0.1:$BPORT 2>/dev/null &
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
