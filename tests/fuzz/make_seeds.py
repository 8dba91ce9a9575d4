#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
#
# Writes the seed corpus (corpus/*) in the input layout documented at the
# top of fuzz_ftp_engine.c. Run it again after changing that layout.
import os
import struct
import sys

CMD, REPLY = 0xFE, 0xFF


def seed(flags, isn_cmd, isn_reply, rng, chunks):
    out = bytearray([flags]) + struct.pack(">III", isn_cmd, isn_reply, rng)
    for i, (direction, text) in enumerate(chunks):
        if i or direction != CMD:
            out.append(direction)
        for b in text.encode("latin-1"):
            if b >= ESC_BYTE:
                if not flags & ESC:
                    raise ValueError("byte 0x%02x needs the ESC flag" % b)
                out.append(ESC_BYTE)
            out.append(b)
    return bytes(out)


SYN = 2 | 4
V6, CHAOS, PICKUP, ESC = 1, 8, 16, 32
ESC_BYTE = 0xFD     # with ESC: the next byte is stream, not a separator

SEEDS = {
    "session_v4": (SYN, 1000, 5000, 1, [
        (REPLY, "220-Welcome\r\n220 ready\r\n"),
        (CMD, "USER anonymous\r\nPASS x@\r\n"),
        (REPLY, "331 pw\r\n230 ok\r\n"),
        (CMD, "PASV\r\n"),
        (REPLY, "227 Entering Passive Mode (192,168,0,10,195,80).\r\n"),
        (CMD, "EPSV\r\n"),
        (REPLY, "229 Entering Extended Passive Mode (|||6446|)\r\n"),
        (CMD, "PORT 10,0,0,2,4,1\r\nEPRT |1|10.0.0.2|1026|\r\n"),
        (REPLY, "200 ok\r\n200 ok\r\n"),
        (CMD, "QUIT\r\n"),
    ]),
    "session_v6": (SYN | V6, 0xfffffff0, 7, 2, [
        (REPLY, "220 ready\r\n"),
        (CMD, "EPSV 2\r\n"),
        (REPLY, "229 Entering Extended Passive Mode (!!!40000!)\r\n"),
        (CMD, "EPRT |2|fe80::1|5282|\r\nEPRT |2|1080::8:800:200C:417A|21|\r\n"),
        (CMD, "EPRT |2|1:2:3:4:5:6:7:8|1|\r\nEPRT |2|::|2|\r\neprt !2!::1!3!\n"),
        (CMD, "PORT 10,0,0,1,4,1\r\nPASV\r\n"),
        (REPLY, "227 Entering Passive Mode (10,0,0,1,4,1)\r\n"),
    ]),
    "auth_tls": (SYN, 77, 99, 3, [
        (CMD, "AUTH TLS\r\n"),
        (REPLY, "234 Proceed with negotiation.\r\n\x16\x03\x01\x02\x00\x01"),
        (CMD, "\x16\x03\x01PORT 10,0,0,1,4,1\r\n"),
    ]),
    "pickup_failover": (PICKUP, 0x7fff0000, 0x12340000, 5, [
        (CMD, "PASV\r\n"),
        (REPLY, "227 Entering Passive Mode (10,0,0,2,4,1)\r\n"),
        (CMD, "PORT 10,0,0,1,4,1\r\nEPRT |1|10.0.0.1|1026|\r\n"),
        (REPLY, "200 ok\r\n200 ok\r\n"),
    ]),
    "pickup_tls": (PICKUP | V6, 5, 6, 6, [
        (REPLY, "\x17\x03\x03\x00\x20229 (|||6446|)\r\n"),
        (CMD, "EPSV\r\n"),
        (REPLY, "229 (|||6446|)\r\n"),
    ]),
    "multiline": (SYN, 1, 2, 4, [
        (CMD, "PASV\r\n"),
        (REPLY, "230-Welcome\r\n227 Entering Passive Mode (10,0,0,1,4,1)\r\n"
                "230\r\n230 done\r\n"),
        (CMD, "PASV\r\n"),
        (REPLY, "150 wait\r\n227-x\r\n227 (10,0,0,1,4,1)\r\n"),
        (CMD, "EPSV\r\n"),
        (REPLY, "229 (|||6446|)\r\n"),
    ]),
    "refusals": (SYN, 5, 6, 5, [
        (CMD, "PORT 10,0,0,1,0,65558\r\nPORT 10,0,0,1,256,22\r\n"
              "PORT 10,0,0,1,0,0\r\nPORT 10,0,0,1,4,1,7\r\nPORT 10,0,0,1,4\r\n"
              "PORT 10,0,0,1,4,1 x\r\nPORT 10,,0,1,4,1\r\n"
              "PORT 00000000000000000001,0,0,1,4,1\r\n"
              "EPRT |3|1.2.3.4|5|\r\nEPRT |1|1.2.3.4|65536|\r\n"
              "EPRT |2|::1|5|\r\nEPRT |1!1.2.3.4!5!\r\n"),
        (REPLY, "227 (10,0,0,1,4,1)\r\n229 (|||1|)\r\n"),
        (CMD, "EPSV ALL\r\n"),
        (REPLY, "200 ok\r\n229 (|||1|)\r\n"),
    ]),
    "contention": (SYN, 9, 10, 6, [
        (CMD, "PASV\r\n"), (CMD, "PORT 10,0,0,"),
        (REPLY, "227 (10,0,0,2,4,1)\r\n"), (CMD, "1,4,1\r\n"),
    ]),
    "no_syn": (0, 100, 200, 7, [
        (CMD, "NOOP\r\nPORT 10,0,0,1,4,1\r\n"),
        (REPLY, "200 ok\r\n"),
        (CMD, "PASV\r\n"),
        (REPLY, "227 =10,0,0,1,4,1\r\n"),
    ]),
    # long runs of lines the engine passes over a word at a time
    "pipelined": (SYN, 11, 12, 9, [
        (REPLY, "220 ready\r\n"),
        (CMD, "NOOP\r\n" * 40 + "noop 012345678\r\n" * 5 +
              "ABOR\r\nPORT 10,0,0,1,4,1\r\nPASV\r\n"),
        (REPLY, "211-status\r\n" + "211-" + "x" * 40 + "\r\n" * 1 +
                (" " + "y" * 30 + "\r\n") * 20 + "227 (1,2,3,4,5,6)\r\n"
                "211 end\r\n" + "200 ok\r\n" * 4 + "150\n226 x\r\n" * 2 +
                "227 Entering Passive Mode (10,0,0,2,4,2)\r\n"),
    ]),
    # Telnet: IAC IP IAC DM before ABOR (RFC 959's Synch), an option
    # negotiation, a doubled IAC, among commands the engine skips a word
    # at a time and lines it must read
    "telnet_iac": (SYN | ESC, 13, 14, 10, [
        (REPLY, "220 ready\r\n"),
        (CMD, "RETR f\r\n"), (REPLY, "150 go\r\n"),
        (CMD, "\xff\xf4\xff\xf2ABOR\r\nPASV\r\n"),
        (REPLY, "426 aborted\r\n226 ok\r\n227 (10,0,0,2,4,1)\r\n"),
        (CMD, "NOOP\r\n" * 12 + "\xff\xf4\xff\xf2PORT 10,0,0,2,4,1\r\n"
              "\xff\xfb\x01PORT 10,0,0,2,4,2\r\n\xff\xffPORT 10,0,0,2,4,3\r\n"
              "\xff\xfe\xffPORT 10,0,0,2,4,4\r\n" + "NOOP\r\n" * 12),
        (REPLY, "200 ok\r\n" * 4 + "\xff\xf1200 ok\r\n" * 24),
    ]),
    "chaos": (SYN | CHAOS, 0x7ffffff0, 0xfffffffa, 8, [
        (CMD, "PASV\r\n"), (REPLY, "227 (10,0,0,1,4,1)\r\n"),
        (CMD, "PORT 10,0,0,1,4,1\r\n"), (CMD, "PORT 10,0,0,1,4,1\r\n"),
        (REPLY, "229 (|||6446|)\r\n"), (CMD, "EPRT |1|1.2.3.4|5|\r\n"),
    ]),
}


def main():
    outdir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "corpus")
    os.makedirs(outdir, exist_ok=True)
    for name, (flags, isn_c, isn_r, rng, chunks) in SEEDS.items():
        with open(os.path.join(outdir, name), "wb") as f:
            f.write(seed(flags, isn_c, isn_r, rng, chunks))


if __name__ == "__main__":
    main()
