#!/usr/bin/env bash
# `npm test`: every test, the unit tests first, then the integration tests on the lab (two ava
# runs: run beside the lab, the unit files took the CPU its emulated VMs need, and stretched the
# lab's timings), then one plain closing line `N passed, N failed` that CI can count. The exit
# status is the first failing run's, else 0. With arguments, one ava run of those files.
set -uo pipefail
cd "$(dirname "$0")/.."
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
# Integration test files take the lab with labUp() and give it back with labRelease(), so the
# lab boots once per run; whoever started it keeps it: a lab the run found (the demo's) is left up
# (reset to as-booted by the next labReset), a lab the run started ends with the run.
lab_dir=${LVSPLAY_LAB_DIR:-/run/lvsplay-lab}
lab_was_up=no
[ -e "$lab_dir/id_lab" ] && lab_was_up=yes
status=0
runs=0
run_ava() {
  runs=$((runs + 1))
  npx ava "$@" 2>&1 | tee "$logs/$runs"
  local run_status=${PIPESTATUS[0]}
  if [ "$status" -eq 0 ]; then status=$run_status; fi
}
if [ $# -gt 0 ]; then
  run_ava "$@"
else
  run_ava 'dist/test/unit/**/*.test.js'
  run_ava 'dist/test/integration/**/*.test.js'
fi
if [ "$lab_was_up" = no ] && [ -e "$lab_dir/id_lab" ]; then
  bash test/lab/lab-down.sh >/dev/null 2>&1 || { echo "lab:down failed after the tests" >&2; status=1; }
fi
# a count from each run's summary (its last such line), summed over the runs
count() {
  local n=0 log
  for log in "$logs"/*; do n=$(( n + $(grep -oE "^ *[0-9]+ $1" "$log" | tail -n 1 | grep -oE '[0-9]+' || echo 0) )); done
  echo "$n"
}
# ava prints its passed count only when nothing failed: count the passing lines instead
passed=$(cat "$logs"/* | grep -E '^ *✔' | grep -vc '\[expected fail\]' || true)
failed=$(( $(count 'tests? failed') + $(count 'uncaught exceptions?') + $(count 'unhandled rejections?') + $(count 'tests? timed out') ))
# a crash that printed no summary still fails the run
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
echo "$passed passed, $failed failed"
exit "$status"
