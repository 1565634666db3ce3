#!/usr/bin/python3
"""The lab's UDP service: answer every datagram on :53 with this host's name.

Unlike `socat UDP-RECVFROM`, it replies FROM the address the datagram was sent TO (IP_PKTINFO).
Behind a DR or TUN director that address is the VIP, held on lo or tunl0; a reply from the
real server's own address would be dropped by the client as coming from the wrong peer.
"""
import socket
import struct
import sys

IP_PKTINFO = getattr(socket, "IP_PKTINFO", 8)  # Linux value; Python < 3.12 lacks the constant
name = (sys.argv[1] + "\n").encode()
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
sock.setsockopt(socket.IPPROTO_IP, IP_PKTINFO, 1)
sock.bind(("0.0.0.0", 53))
while True:
    _data, ancillary, _flags, peer = sock.recvmsg(2048, socket.CMSG_SPACE(12))
    for level, kind, payload in ancillary:
        if level == socket.IPPROTO_IP and kind == IP_PKTINFO:
            _ifindex, _spec_dst, dst = struct.unpack("I4s4s", payload[:12])
            # struct in_pktinfo: ifindex 0 lets the kernel route; ipi_spec_dst = the source to use
            reply = struct.pack("I4s4s", 0, dst, b"\0\0\0\0")
            sock.sendmsg([name], [(socket.IPPROTO_IP, IP_PKTINFO, reply)], 0, peer)
            break
    else:
        sock.sendto(name, peer)
