#!/usr/bin/env bash
# Runs every fuzz target (fuzz/, cargo-fuzz with libFuzzer) for a number of executions, from its
# corpus under fuzz/corpus/<target>/, with a per-input time limit (a hang) and a memory limit
# (an over-allocation); any crash, hang or out-of-memory stops that target with its artifact
# under fuzz/artifacts/<target>/. Prints one line per target: executions, seconds, exec/s,
# corpus size, outcome. New corpus entries stay in fuzz/corpus/ (minimise with
# `cargo fuzz cmin <target>` before committing).
#
# Usage: bench/fuzz.sh [RUNS] [TARGET…]   (RUNS default 10000000; all targets by default)
#        FUZZ_SECONDS=N bench/fuzz.sh 0 [TARGET…]   (each target for N seconds instead)
# Needs: cargo install cargo-fuzz; libFuzzer's nightly flags are enabled on the stable
# toolchain with RUSTC_BOOTSTRAP=1 (no nightly toolchain can be fetched here).
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
RUNS=${1:-10000000}
shift || true
TARGETS=("$@")
if [ ${#TARGETS[@]} -eq 0 ]; then
  TARGETS=(payload status_list multipart image login jws)
fi
export RUSTC_BOOTSTRAP=1
cargo fuzz build --release
for t in "${TARGETS[@]}"; do
  mkdir -p "corpus/$t" "artifacts/$t"
  log=$(mktemp)
  start=$(date +%s)
  # -rss_limit_mb: an input that makes the process exceed it is reported as an OOM crash.
  # -timeout: one input taking longer is reported as a hang.
  # -max_len: the largest input tried (the image target's real inputs are larger, but the
  #  parsers' limits are reached by headers, not by size).
  if [ -n "${FUZZ_SECONDS:-}" ]; then bound=(-max_total_time="$FUZZ_SECONDS"); else bound=(-runs="$RUNS"); fi
  if cargo fuzz run --release "$t" "corpus/$t" -- \
      "${bound[@]}" -rss_limit_mb=512 -timeout=10 -max_len=65536 \
      -print_final_stats=1 -artifact_prefix="artifacts/$t/" > "$log" 2>&1; then
    outcome=ok
  else
    outcome="FAILED (see fuzz/artifacts/$t/ and $log)"
  fi
  secs=$(( $(date +%s) - start ))
  execs=$(awk '/stat::number_of_executed_units/ {print $2}' "$log" | tail -1)
  corpus=$(ls "corpus/$t" | wc -l)
  rate=$(( ${execs:-0} / (secs > 0 ? secs : 1) ))
  echo "$t: ${execs:-?} executions in ${secs} s (${rate}/s), corpus ${corpus} files, ${outcome}"
  [ "$outcome" = ok ] && rm -f "$log"
done
