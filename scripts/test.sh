#!/usr/bin/env bash
# `npm test`: every test (unit and integration on the lab) in one ava run, then one plain
# closing line `N passed, N failed` that CI can count. The exit status is ava's.
set -uo pipefail
cd "$(dirname "$0")/.."
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# Integration test files take the lab with labUp() and give it back with labRelease(), so the
# lab boots once per run; whoever started it keeps it: a lab the run found (the demo's) is left up
# (reset to as-booted by the next labReset), a lab the run started ends with the run.
lab_dir=${LVSPLAY_LAB_DIR:-/run/lvsplay-lab}
lab_was_up=no
[ -e "$lab_dir/id_lab" ] && lab_was_up=yes
npx ava "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
if [ "$lab_was_up" = no ] && [ -e "$lab_dir/id_lab" ]; then
  bash test/lab/lab-down.sh >/dev/null 2>&1 || { echo "lab:down failed after the tests" >&2; status=1; }
fi
count() { grep -oE "^ *[0-9]+ $1" "$log" | tail -n 1 | grep -oE '[0-9]+' || echo 0; }
# ava prints its passed count only when nothing failed: count the passing lines instead
passed=$(grep -E '^ *✔' "$log" | grep -vc '\[expected fail\]' || true)
failed=$(( $(count 'tests? failed') + $(count 'uncaught exceptions?') + $(count 'unhandled rejections?') + $(count 'tests? timed out') ))
# a crash that printed no summary still fails the run
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
echo "$passed passed, $failed failed"
exit "$status"
