#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Active-mode download whose PORT command crosses two TCP segments.

usage: split_port.py --go FILE [--pause S] [--timeout S] HOST CLIENT_ADDR NAME

Sends "PORT h1,h2,h3,h4,p" in one segment and, --pause seconds later, the
rest of the line in a second one (TCP_NODELAY, so each send() is its own
segment). Prints "negotiated: <port> <reply>" once the server has answered, and
"control-retransmissions: N", the segments the control connection had to
send again (TCP_INFO tcpi_total_retrans),
waits for FILE to exist, then downloads NAME and prints
"received: <bytes> bytes sha256=<hex>". Exit 0 on success, 1 on failure.
"""
import argparse
import hashlib
import os
import socket
import struct
import sys
import time

# struct tcp_info: 8 bytes of u8 fields, then u32s; tcpi_total_retrans is
# the 24th of those.
TCPI_TOTAL_RETRANS = 8 + 23 * 4


class Control:
    def __init__(self, host, timeout):
        self.sock = socket.create_connection((host, 21), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.file = self.sock.makefile("rb")

    def reply(self):
        line = self.file.readline().decode("latin-1")
        if len(line) > 3 and line[3] == "-":
            code = line[:3] + " "
            while not line.startswith(code):
                line = self.file.readline().decode("latin-1")
        if not line:
            raise EOFError("control connection closed")
        return line.strip()

    def cmd(self, text, expect):
        self.sock.sendall(text.encode() + b"\r\n")
        got = self.reply()
        if not got.startswith(expect):
            raise OSError("%s: %s" % (text.split()[0], got))
        return got


def wait_for(path, timeout):
    deadline = time.monotonic() + timeout
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            raise TimeoutError("no " + path)
        time.sleep(0.05)


def split_port(ctl, listener, addr, pause):
    port = listener.getsockname()[1]
    line = "PORT %s,%d,%d\r\n" % (addr.replace(".", ","), port >> 8,
                                   port & 0xff)
    cut = line.index(",", line.index(",", 5) + 1) + 1   # after "h1,h2,"
    ctl.sock.sendall(line[:cut].encode())
    time.sleep(pause)
    ctl.sock.sendall(line[cut:].encode())
    got = ctl.reply()
    if not got.startswith("200"):
        raise OSError("PORT: " + got)
    print("negotiated:", port, got, flush=True)
    info = ctl.sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)
    retrans = struct.unpack_from("<I", info, TCPI_TOTAL_RETRANS)[0]
    print("control-retransmissions:", retrans, flush=True)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--go", required=True)
    p.add_argument("--pause", type=float, default=1.0)
    p.add_argument("--timeout", type=float, default=15)
    p.add_argument("host")
    p.add_argument("client_addr")
    p.add_argument("name")
    a = p.parse_args()
    try:
        ctl = Control(a.host, a.timeout)
        ctl.reply()
        if ctl.cmd("USER anonymous", ("230", "331")).startswith("331"):
            ctl.cmd("PASS pinhole@example.org", "230")
        ctl.cmd("TYPE I", "200")
        listener = socket.create_server((a.client_addr, 0))
        listener.settimeout(a.timeout)
        split_port(ctl, listener, a.client_addr, a.pause)
        wait_for(a.go, a.timeout)
        ctl.cmd("RETR " + a.name, "150")
        data, _ = listener.accept()
        digest, size = hashlib.sha256(), 0
        while chunk := data.recv(65536):
            digest.update(chunk)
            size += len(chunk)
        data.close()
        if not ctl.reply().startswith("226"):
            raise OSError("transfer not completed")
        ctl.cmd("QUIT", "221")
    except (OSError, EOFError, TimeoutError) as e:
        print("failed:", e, file=sys.stderr)
        return 1
    print("received: %d bytes sha256=%s" % (size, digest.hexdigest()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
