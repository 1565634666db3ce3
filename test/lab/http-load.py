#!/usr/bin/env python3
"""The lab client's load: HTTP GETs in a loop to one URL until a stop file appears, then one JSON
line on stdout: requests, failures (with their first errors), the largest gap between two
successful answers, and how many answers each real server gave (the body is its name).

    http-load.py URL STOP_FILE [--keep-alive]

Without --keep-alive every request is a new TCP connection (what most LVS tests measure); with it
one connection is reused for as long as the server keeps it open, and a new one is opened only
when the server closed it after an answer (Connection: close), as any HTTP/1.1 client does. A
request that gets no complete answer is a failure: nothing is retried.
"""
import http.client
import json
import os
import sys
import time
from urllib.parse import urlsplit


def main() -> None:
    url, stop = sys.argv[1], sys.argv[2]
    keep_alive = '--keep-alive' in sys.argv[3:]
    parts = urlsplit(url)
    requests = failures = 0
    errors: list[str] = []
    servers: dict[str, int] = {}
    last_ok = time.monotonic()
    largest_gap = 0.0
    conn = None
    while not os.path.exists(stop):
        requests += 1
        try:
            if conn is None:
                conn = http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=5)
            conn.request('GET', parts.path or '/', headers={} if keep_alive else {'Connection': 'close'})
            response = conn.getresponse()
            body = response.read().decode(errors='replace').strip()
            if response.status != 200:
                raise RuntimeError(f'HTTP {response.status}')
            servers[body] = servers.get(body, 0) + 1
            now = time.monotonic()
            largest_gap = max(largest_gap, now - last_ok)
            last_ok = now
            if not keep_alive or response.will_close:
                conn.close()
                conn = None
        except Exception as err:  # every failure is counted and reported, never raised
            failures += 1
            if len(errors) < 10:
                errors.append(f'{time.strftime("%H:%M:%S")} {type(err).__name__}: {err}')
            if conn is not None:
                conn.close()
                conn = None
        time.sleep(0.02)
    print(json.dumps({'requests': requests, 'failures': failures, 'errors': errors,
                      'largest_gap_ms': round(largest_gap * 1000), 'servers': servers}))


main()
