#!/usr/bin/env bash
# The lab's web services of one namespace real server: busybox httpd on :80 and udp-name.py on
# :53, both answering the host's name. Starts each one whose recorded PID ($LAB_DIR/pids/NAME.httpd,
# NAME.udp) is not running, and records the new PID (lab:down ends it). Must run inside the host's
# network, mount and UTS namespaces: ns-host.sh runs it at lab:up, reset.sh (via nsenter) when a
# test has stopped one.
#   ns-web.sh NAME
set -euo pipefail
. "$(dirname "$0")/common.sh"
NAME=$1
H="$LAB_DIR/hosts/$NAME"
P="$LAB_DIR/pids"
running() { [ -f "$P/$NAME.$1" ] && pid_alive "$(cat "$P/$NAME.$1")"; }

if ! running httpd; then
  setsid busybox httpd -f -p 80 -h "$H/www" </dev/null >>"$H/httpd.log" 2>&1 &
  echo $! > "$P/$NAME.httpd"
  echo "$NAME: httpd started"
fi
if ! running udp; then
  setsid /usr/bin/python3 "$LAB_SRC/udp-name.py" "$NAME" </dev/null >>"$H/udp.log" 2>&1 &
  echo $! > "$P/$NAME.udp"
  echo "$NAME: udp-name started"
fi
