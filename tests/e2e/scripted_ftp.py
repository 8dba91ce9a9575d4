#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""An FTP peer that follows a script, segment by segment.

    scripted_ftp.py client HOST PORT STEP...
    scripted_ftp.py server LISTEN PORT STEP...   (one connection, then exit)

Each STEP is one argument:

    send:TEXT       one send() of TEXT (\\r \\n \\t \\xHH escapes), TCP_NODELAY,
                    so that it leaves as one segment
    recv:REGEX      read until the bytes received so far (since the last
                    recv) match REGEX and the line the match ends in is
                    complete; every line received is printed as "< LINE"
    wait:FILE       wait until FILE exists (up to 150 s)
    touch:FILE      create FILE
    sleep:SECONDS   pause                           local       print
                                                    "local ADDR PORT"
    at:EPOCH        wait until the wall clock reaches EPOCH (float seconds):
                    two peers started apart act at the same instant
    get:MODE:NAME   (client) a download on this control connection: MODE
                    pasv or epsv (connect to the port the reply names) or
                    port or eprt (listen, announce, accept); then RETR NAME,
                    and print "received: N bytes sha256=HEX"

Steps run in order; --timeout bounds each wait. The default waits
(--timeout, --accept-timeout, wait:) are multiplied by the environment's
PINHOLE_TIMEOUT_SCALE. Exit 0 when every step
completed, 3 on a timeout, 1 on any other error (the reason on stderr).
A connection cut short is aborted with a RST, so that nothing of it is
retransmitted into a later test case.
"""

import argparse
import codecs
import hashlib
import os
import re
import socket
import struct
import sys
import time

# The e2e library's PINHOLE_TIMEOUT_SCALE (a debug kernel runs several
# times slower) stretches the default waits; an explicit --timeout is the
# caller's own.
SCALE = int(os.environ.get("PINHOLE_TIMEOUT_SCALE", "1") or "1")
WAIT_TIMEOUT = 150 * SCALE	# wait:FILE - the test drives it, however slowly


class Peer:
    def __init__(self, sock, timeout):
        self.sock = sock
        self.timeout = timeout
        self.buf = b""
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.settimeout(timeout)

    def send(self, text):
        data = codecs.escape_decode(text.encode())[0]
        self.sock.sendall(data)

    def recv(self, regex):
        """Bytes up to the end of the first match; the rest stays."""
        pattern = re.compile(b"(?:" + regex.encode() + rb")[^\n]*\n", re.M)
        deadline = time.monotonic() + self.timeout
        while not pattern.search(self.buf):
            if time.monotonic() > deadline:
                raise TimeoutError("no %r in %r" % (regex, self.buf))
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("connection closed; got %r" % self.buf)
            self.buf += chunk
        end = pattern.search(self.buf).end()
        got, self.buf = self.buf[:end], self.buf[end:]
        for line in got.decode("latin-1").splitlines():
            print("< " + line, flush=True)
        return got.decode("latin-1")

    def abort(self):
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                             struct.pack("ii", 1, 0))
        self.sock.close()


def wait_for(pred, timeout, what):
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            raise TimeoutError("no " + what)
        time.sleep(0.02)


def drain(conn, timeout):
    conn.settimeout(timeout)
    digest, size = hashlib.sha256(), 0
    while True:
        chunk = conn.recv(65536)
        if not chunk:
            return size, digest.hexdigest()
        digest.update(chunk)
        size += len(chunk)


def data_connect(peer, mode):
    """Negotiate; return a callable that yields the data socket."""
    ctl = peer.sock
    family, local = ctl.family, ctl.getsockname()[0]
    if mode in ("pasv", "epsv"):
        peer.send(mode.upper() + "\r\n")
        reply = peer.recv(r"^22[79] ")
        if mode == "pasv":
            nums = re.search(r"(\d+),(\d+),(\d+),(\d+),(\d+),(\d+)", reply)
            host = ".".join(nums.groups()[:4])
            port = int(nums.group(5)) * 256 + int(nums.group(6))
        else:
            host = ctl.getpeername()[0]
            port = int(re.search(r"\(\|\|\|(\d+)\|\)", reply).group(1))
        return lambda: socket.create_connection((host, port), peer.timeout)
    lsock = socket.socket(family, socket.SOCK_STREAM)
    lsock.bind((local, 0))
    lsock.listen(1)
    lsock.settimeout(peer.timeout)
    port = lsock.getsockname()[1]
    if mode == "port":
        peer.send("PORT %s,%d,%d\r\n" % (local.replace(".", ","),
                                         port >> 8, port & 0xff))
    else:
        af = 2 if family == socket.AF_INET6 else 1
        peer.send("EPRT |%d|%s|%d|\r\n" % (af, local, port))
    peer.recv(r"^200 ")
    return lambda: lsock.accept()[0]


def get(peer, mode, name):
    connect = data_connect(peer, mode)
    peer.send("RETR %s\r\n" % name)
    data = connect() if mode in ("pasv", "epsv") else None
    peer.recv(r"^150 ")
    if data is None:
        data = connect()
    size, digest = drain(data, peer.timeout)
    data.close()
    peer.recv(r"^226 ")
    print("received: %d bytes sha256=%s" % (size, digest), flush=True)


def step(peer, item):
    verb, _, arg = item.partition(":")
    if verb == "send":
        peer.send(arg)
    elif verb == "recv":
        peer.recv(arg)
    elif verb == "wait":
        wait_for(lambda: os.path.exists(arg), WAIT_TIMEOUT, arg)
    elif verb == "touch":
        open(arg, "w").close()
    elif verb == "sleep":
        time.sleep(float(arg))
    elif verb == "at":
        wait_for(lambda: time.time() >= float(arg), peer.timeout, "time")
    elif verb == "local":
        print("local %s %d" % peer.sock.getsockname()[:2], flush=True)
    elif verb == "get":
        mode, _, name = arg.partition(":")
        get(peer, mode, name)
    else:
        raise ValueError("unknown step " + item)


def connect(args):
    if args.role == "client":
        return socket.create_connection((args.host, args.port), args.timeout)
    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    srv = socket.socket(family, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((args.host, args.port))
    srv.listen(1)
    srv.settimeout(args.accept_timeout)
    conn, _ = srv.accept()
    srv.close()
    return conn


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--timeout", type=float, default=15 * SCALE)
    p.add_argument("--accept-timeout", type=float, default=120 * SCALE)
    p.add_argument("role", choices=("client", "server"))
    p.add_argument("host")
    p.add_argument("port", type=int)
    p.add_argument("steps", nargs="*")
    args = p.parse_args()
    peer = None
    try:
        peer = Peer(connect(args), args.timeout)
        for item in args.steps:
            step(peer, item)
        peer.sock.close()
        return 0
    except (TimeoutError, socket.timeout) as e:
        print("timeout: %s" % e, file=sys.stderr, flush=True)
        if peer:
            peer.abort()
        return 3
    except (OSError, EOFError, ValueError, AttributeError) as e:
        print("error: %s" % e, file=sys.stderr, flush=True)
        if peer:
            peer.abort()
        return 1


if __name__ == "__main__":
    sys.exit(main())
