#!/usr/bin/python3
"""A long-lived TCP connection through a VIP: an HTTP request whose header lines trickle in.

  trickle.py HOST STOPFILE
Connects to HOST:80, sends the request line and then one header line every 0.4 s until STOPFILE
exists, then ends the request and prints the answer's body (exit 0), or the error (exit 1). Run
from the client namespace while a director fails over: the same connection must carry on.
"""
import os
import socket
import sys
import time

host, stop = sys.argv[1], sys.argv[2]
try:
    sock = socket.create_connection((host, 80), timeout=10)
    sock.sendall(b"GET / HTTP/1.0\r\n")
    while not os.path.exists(stop):
        sock.sendall(b"X-Trickle: %d\r\n" % int(time.time() * 1000))
        time.sleep(0.4)
    sock.sendall(b"\r\n")
    answer = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            break
        answer += chunk
    print(answer.split(b"\r\n\r\n", 1)[-1].decode().strip())
except OSError as err:
    print(f"trickle: {err}", file=sys.stderr)
    sys.exit(1)
