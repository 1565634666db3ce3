#!/usr/bin/env bash
# `npm run demo`: the whole product on the lab, from nothing. Installs the lab's packages and
# kernel if needed, boots it, bootstraps the LVS cluster test/lab/inventory.yml describes (live
# task list on a terminal), shows every kind of VIP answering, then runs again: 0 changed; then
# `lvsplay status` and a rolling restart of the web servers under a client's live traffic.
# Leaves the lab up to explore (test/lab/README.md); `npm run lab:down` ends it.
set -euo pipefail
cd "$(dirname "$0")/.."
lvsplay() { node dist/bundle/cli/main.js "$@"; }
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
client() { ip netns exec lvsplay-client "$@"; }

say "build"
npm run -s build
say "lab: install (Debian packages, kernel) and boot (2 director VMs, 5 real servers, 1 client)"
bash test/lab/install.sh
bash test/lab/lab-up.sh
say "check the inventory and playbook (nothing is touched when they are wrong)"
lvsplay validate -i test/lab/inventory.yml playbooks/bootstrap.yml
say "what would change (--check --diff), on a fresh lab"
lvsplay apply -i test/lab/inventory.yml playbooks/bootstrap.yml --check --detailed-exitcode --output plain | tail -n 12 || true
say "bootstrap"
lvsplay apply -i test/lab/inventory.yml playbooks/bootstrap.yml
say "traffic from the client namespace through every VIP"
for i in 1 2 3 4; do printf 'DR  tcp  192.0.2.10:80   -> %s\n' "$(client curl -s --max-time 5 http://192.0.2.10/)"; done
for i in 1 2; do printf 'DR  udp  192.0.2.11:53   -> %s\n' "$(echo hi | client socat -T 3 - UDP:192.0.2.11:53)"; done
printf 'TUN tcp  192.0.2.12:80   -> %s\n' "$(client curl -s --max-time 5 http://192.0.2.12/)"
for i in 1 2; do printf 'NAT tcp  192.0.2.13:8080 -> %s\n' "$(client curl -s --max-time 5 http://192.0.2.13:8080/)"; done
for _ in $(seq 30); do client curl -s --max-time 2 http://192.0.2.14/ >/dev/null && break; sleep 1; done
for i in 1 2; do printf 'ldirectord-checked 192.0.2.14:80 -> %s\n' "$(client curl -s --max-time 5 http://192.0.2.14/)"; done
say "run again: nothing to change, and it says so"
lvsplay apply -i test/lab/inventory.yml playbooks/bootstrap.yml
say "drift check for cron/CI (exit 0 = the cluster matches the inventory)"
lvsplay apply -i test/lab/inventory.yml playbooks/check.yml --check --detailed-exitcode --output plain | tail -n 9
say "what the directors are doing, against the inventory (read only; exit 3 if anything differs)"
lvsplay status -i test/lab/inventory.yml
say "a rolling restart under live traffic: each web server drained, restarted (down 2 s), gated, back"
tmp=$(mktemp -d)
client /usr/bin/python3 test/lab/http-load.py http://192.0.2.10/ "$tmp/stop" > "$tmp/load.json" &
load=$!
sleep 1
lvsplay apply -i test/lab/inventory.yml test/lab/rollout.yml -e "rollout=demo-$(date +%s)" || rc=$?
touch "$tmp/stop"
wait "$load"
python3 -c 'import json, sys; r = json.load(open(sys.argv[1])); print("client: %d requests through the VIP during the rollout, %d failed, largest gap between answers %d ms, answers %s" % (r["requests"], r["failures"], r["largest_gap_ms"], r["servers"])); sys.exit(1 if r["failures"] else 0)' "$tmp/load.json"
rm -rf "$tmp"
[ "${rc:-0}" = 0 ]
say "reboot the primary director for real (systemctl reboot in lb1's VM): it comes back serving, nothing run"
bash test/lab/lab-vm.sh reboot lb1
for _ in $(seq 60); do client curl -s --max-time 2 http://192.0.2.10/ >/dev/null && break; sleep 1; done
for i in 1 2; do printf 'after the reboot: DR tcp 192.0.2.10:80 -> %s\n' "$(client curl -s --max-time 5 http://192.0.2.10/)"; done
lvsplay apply -i test/lab/inventory.yml playbooks/check.yml --check --detailed-exitcode --output plain | tail -n 3
say "the lab is still up: see test/lab/README.md to log in; 'npm run lab:down' ends it"
