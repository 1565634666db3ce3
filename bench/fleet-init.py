#!/usr/bin/python3
"""PID 1 of a fresh PID namespace for one measured command of the fleet benchmark (bench/fleet.ts).

    unshare --pid --fork --kill-child -- python3 bench/fleet-init.py REPORT.json -- CMD ARGS...

Why a helper, and why PID 1 of its own namespace:
- Ansible's SSH ControlMaster processes (ControlPersist) detach with daemon(3): they leave the
  command's process tree. In a PID namespace they are re-parented to this init, so the bench's
  /proc sampler still sees them (their RSS counts), wait4() here collects their CPU time, and none
  outlives the measurement: when the command exits, everything left in the namespace is ended.
- Node cannot call wait4(2): the CPU time (user + system) of every process of the tree, reaped
  here or by its own parent, comes from the rusage wait4 returns, exactly.
- The wall time is taken here, from just before the fork to the command's exit, so neither
  unshare's nor Python's start-up is in it.
The report (JSON) is written to REPORT.json; the exit status is the command's.
"""
import json
import os
import signal
import sys
import time


def main() -> int:
    if len(sys.argv) < 4 or sys.argv[2] != '--':
        print(f'usage: {sys.argv[0]} REPORT.json -- CMD ARGS...', file=sys.stderr)
        return 2
    report_path, argv = sys.argv[1], sys.argv[3:]
    cpu_user = cpu_sys = 0.0
    max_rss_kib = 0          # the largest single process (ru_maxrss of what wait4 returned)

    t0 = time.monotonic()
    child = os.fork()
    if child == 0:
        try:
            os.execvp(argv[0], argv)
        finally:
            os._exit(127)

    status = None
    wall_ms = None
    while status is None:
        pid, wstatus, ru = os.wait4(-1, 0)
        cpu_user += ru.ru_utime
        cpu_sys += ru.ru_stime
        max_rss_kib = max(max_rss_kib, ru.ru_maxrss)
        if pid == child:
            wall_ms = (time.monotonic() - t0) * 1000
            status = os.waitstatus_to_exitcode(wstatus)

    # The command is done: whatever it left (ControlMasters, a stray child) is ended and reaped,
    # so its CPU counts too. kill(-1) from a namespace's init reaches every process in it but init.
    leftovers = 0
    for sig, grace in ((signal.SIGTERM, 3.0), (signal.SIGKILL, 3.0)):
        try:
            os.kill(-1, sig)
        except ProcessLookupError:
            break
        deadline = time.monotonic() + grace
        done = False
        while time.monotonic() < deadline:
            try:
                pid, wstatus, ru = os.wait4(-1, os.WNOHANG)
            except ChildProcessError:
                done = True
                break
            if pid == 0:
                time.sleep(0.01)
                continue
            cpu_user += ru.ru_utime
            cpu_sys += ru.ru_stime
            max_rss_kib = max(max_rss_kib, ru.ru_maxrss)
            leftovers += 1
        if done:
            break

    with open(report_path, 'w') as f:
        json.dump({
            'status': status,
            'wallMs': wall_ms,
            'cpuUserMs': cpu_user * 1000,
            'cpuSysMs': cpu_sys * 1000,
            'maxRssKiB': max_rss_kib,
            'leftovers': leftovers,
        }, f)
    return status if status >= 0 else 128 - status


if __name__ == '__main__':
    sys.exit(main())
