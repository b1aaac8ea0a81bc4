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
#        FUZZ_WORKERS=N: N fuzzer processes per target at once, each with RUNS/N executions
#          (or N seconds), sharing the corpus; the line adds up all of them.
#        FUZZ_SANITIZER=none: no AddressSanitizer (about twice the executions a second; the
#          RSS limit still holds). Default: address.
# Each worker's libFuzzer log is kept as fuzz/logs/<target>-<worker>.log (not committed) until
# the next run of that target, so a count can be checked after the run.
# Needs: cargo install cargo-fuzz; libFuzzer's nightly flags are enabled on the stable
# toolchain with RUSTC_BOOTSTRAP=1 (no nightly toolchain can be fetched here).
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
RUNS=${1:-10000000}
shift || true
TARGETS=("$@")
if [ ${#TARGETS[@]} -eq 0 ]; then
  TARGETS=(payload status_list multipart image login jws wallet pdf)
fi
WORKERS=${FUZZ_WORKERS:-1}
SANITIZER=${FUZZ_SANITIZER:-address}
export RUSTC_BOOTSTRAP=1
cargo fuzz build --release -s "$SANITIZER"
for t in "${TARGETS[@]}"; do
  mkdir -p "corpus/$t" "artifacts/$t"
  start=$(date +%s)
  # -malloc_limit_mb: one allocation over 64 MiB is reported as an over-allocation (the
  #  parsers' own limits are far below; with AddressSanitizer's allocator hooks only).
  # -rss_limit_mb: a process over 2 GiB is reported as out of memory. Not lower: under
  #  AddressSanitizer the resident size grows with shadow memory and the allocator's caches
  #  over millions of inputs (512 MiB was reached after 4.1 M payload inputs with 29 MB live).
  # -timeout: one input taking longer is reported as a hang.
  # -max_len: the largest input tried (the image target's real inputs are larger, but the
  #  parsers' limits are reached by headers, not by size).
  if [ -n "${FUZZ_SECONDS:-}" ]; then bound=(-max_total_time="$FUZZ_SECONDS"); else bound=(-runs="$((RUNS / WORKERS))"); fi
  logs=() pids=()
  for w in $(seq 1 "$WORKERS"); do
    mkdir -p logs
    log="logs/$t-$w.log"
    logs+=("$log")
    cargo fuzz run --release -s "$SANITIZER" "$t" "corpus/$t" -- \
      "${bound[@]}" -malloc_limit_mb=64 -rss_limit_mb=2048 -timeout=10 -max_len=65536 -seed="$((start + w))" \
      -print_final_stats=1 -artifact_prefix="artifacts/$t/" > "$log" 2>&1 &
    pids+=($!)
  done
  outcome=ok
  for i in "${!pids[@]}"; do
    wait "${pids[$i]}" || outcome="FAILED (see fuzz/artifacts/$t/ and fuzz/${logs[$i]})"
  done
  secs=$(( $(date +%s) - start ))
  execs=0
  for log in "${logs[@]}"; do
    n=$(awk '/stat::number_of_executed_units/ {print $2}' "$log" | tail -1)
    execs=$(( execs + ${n:-0} ))
  done
  corpus=$(ls "corpus/$t" | wc -l)
  rate=$(( execs / (secs > 0 ? secs : 1) ))
  echo "$t: ${execs} executions in ${secs} s (${rate}/s; ${WORKERS} worker(s), sanitizer ${SANITIZER}), corpus ${corpus} files, ${outcome}"
done
