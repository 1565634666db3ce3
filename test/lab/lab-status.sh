#!/usr/bin/env bash
# lab:status — one line per host: name, up/down, how it runs, its address and its ssh port.
# Exit 0 when every host answers ssh, 1 otherwise.
set -uo pipefail
. "$(dirname "$0")/common.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
while read -r name kind addr mac port; do
  (
    st=down
    if [ -f "$LAB_DIR/id_lab" ] && ssh_name "$name" "$port" 15; then
      st=up
    fi
    where=$([ "$kind" = vm ] && echo "qemu VM" || echo "netns $(ns_name "$name")")
    printf '%-7s %-5s %-20s %-11s ssh 127.0.0.1:%s\n' "$name" "$st" "$where" "$addr" "$port" > "$tmp/$name"
  ) &
done < <(lab_hosts)
wait
rc=0
while read -r name _; do cat "$tmp/$name"; grep -q ' up ' "$tmp/$name" || rc=1; done < <(lab_hosts)
exit $rc
