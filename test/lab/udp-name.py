#!/usr/bin/python3
"""The lab's UDP service: answer every datagram on :53 with this host's name; a DNS query gets a
DNS answer (type A: the address it was sent to), so keepalived's DNS_CHECK can check it for real.

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


def dns_answer(query, address):
    """The response to a one-question DNS query (type A: `address`), or None if it is not one."""
    if len(query) < 12:
        return None
    ident, flags, qdcount = struct.unpack("!HHH", query[:6])
    if flags & 0x8000 or (flags >> 11) & 0xF or qdcount != 1:
        return None
    end = 12
    while end < len(query) and query[end] != 0:
        end += 1 + query[end]
    if end + 5 > len(query):
        return None
    question = query[12:end + 5]
    qtype = struct.unpack("!H", query[end + 1:end + 3])[0]
    answers = b""
    if qtype == 1:  # A: a pointer to the question's name, IN, TTL 0, the address
        answers = struct.pack("!HHHIH", 0xC00C, 1, 1, 0, 4) + address
    header = struct.pack("!HHHHHH", ident, 0x8400 | (flags & 0x0100), 1, 1 if answers else 0, 0, 0)
    return header + question + answers


while True:
    data, ancillary, _flags, peer = sock.recvmsg(2048, socket.CMSG_SPACE(12))
    for level, kind, payload in ancillary:
        if level == socket.IPPROTO_IP and kind == IP_PKTINFO:
            _ifindex, _spec_dst, dst = struct.unpack("I4s4s", payload[:12])
            # struct in_pktinfo: ifindex 0 lets the kernel route; ipi_spec_dst = the source to use
            reply = struct.pack("I4s4s", 0, dst, b"\0\0\0\0")
            sock.sendmsg([dns_answer(data, dst) or name], [(socket.IPPROTO_IP, IP_PKTINFO, reply)], 0, peer)
            break
    else:
        sock.sendto(dns_answer(data, b"\0\0\0\0") or name, peer)
