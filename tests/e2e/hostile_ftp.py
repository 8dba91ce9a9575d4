#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""A scriptable FTP peer for crafted, hostile control lines.

    hostile_ftp.py server [--listen ADDR] [--port 21] [--pasv LINE]
    hostile_ftp.py client --host ADDR [--port 21] [--timeout S]
                          [--hold FILE] LINE...

server: answers every control connection (any number, one thread each):
  220 on connect; USER 331; PASS 230; PASV the --pasv line (default: a 227
  naming the server's own address, port 40000); EPSV 229 port 40001;
  AUTH 234; QUIT 221 and close; anything else 200. Two commands steer it
  from the client side, so one server serves every crafted case:
    SITE SAY TEXT   reply TEXT (e.g. an unsolicited 227)
    SITE NEXT TEXT  reply TEXT to the next command instead of the default
  In TEXT, the two characters \\n separate several reply lines.

client: connects, prints "local ADDR PORT", reads the greeting, then
  for each LINE sends it and reads one (possibly multi-line) reply, printing "> LINE" and "< REPLY"
  or "< TIMEOUT" (and then resets the connection and stops: a dropped
  segment stalls the stream).
  With --hold FILE it then prints "holding" and keeps the connection open
  until FILE exists. Exit 0 when every line got a reply, 3 on a timeout,
  1 on a connection error.
"""
import argparse
import os
import re
import socket
import struct
import sys
import threading
import time


def send(conn, text):
    for line in text.split("\\n"):
        conn.sendall(line.encode() + b"\r\n")


def serve_one(conn, args):
    me = conn.getsockname()[0]
    if me.startswith("::ffff:"):
        me = me[7:]
    pending = None
    try:
        send(conn, "220 hostile FTP ready")
        f = conn.makefile("rb")
        for raw in f:
            line = raw.decode(errors="replace").rstrip("\r\n")
            verb = line.split(" ", 1)[0].upper()
            if verb == "SITE":
                parts = line.split(" ", 2)
                sub = parts[1].upper() if len(parts) > 1 else ""
                text = parts[2] if len(parts) > 2 else ""
                if sub == "SAY":
                    send(conn, text)
                    continue
                if sub == "NEXT":
                    pending = text
                    send(conn, "200 queued")
                    continue
            if pending is not None:
                send(conn, pending)
                pending = None
                continue
            if verb == "USER":
                send(conn, "331 any password")
            elif verb == "PASS":
                send(conn, "230 logged in")
            elif verb == "PASV":
                if args.pasv:
                    send(conn, args.pasv)
                elif ":" in me:
                    send(conn, "500 PASV on IPv6")
                else:
                    send(conn, "227 Entering Passive Mode (%s,156,64)"
                         % me.replace(".", ","))
            elif verb == "EPSV":
                send(conn, "229 Entering Extended Passive Mode (|||40001|)")
            elif verb == "AUTH":
                send(conn, "234 AUTH accepted")
            elif verb in ("XORT", "XPRT"):
                # what pinhole's enforce=1 makes of a refused PORT/EPRT
                send(conn, "500 Unknown command.")
            elif verb == "QUIT":
                send(conn, "221 bye")
                break
            else:
                send(conn, "200 ok")
    except OSError:
        pass
    finally:
        conn.close()


def server(args):
    fam = socket.AF_INET6 if ":" in args.listen else socket.AF_INET
    srv = socket.socket(fam, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if fam == socket.AF_INET6:
        srv.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    srv.bind((args.listen, args.port))
    srv.listen(16)
    while True:
        conn, _ = srv.accept()
        threading.Thread(target=serve_one, args=(conn, args),
                         daemon=True).start()


REPLY_END = re.compile(r"^(\d{3}) ")


def read_reply(f):
    """One reply, multi-line aware; None on timeout or EOF."""
    lines = []
    code = None
    while True:
        raw = f.readline()
        if not raw:
            return None
        line = raw.decode(errors="replace").rstrip("\r\n")
        lines.append(line)
        if code is None:
            m = re.match(r"^(\d{3})([ -])", line)
            if not m or m.group(2) == " ":
                return "\n".join(lines)
            code = m.group(1)
        elif line.startswith(code + " "):
            return "\n".join(lines)


def client(args):
    try:
        sock = socket.create_connection((args.host, args.port),
                                        timeout=args.timeout)
        print("local %s %d" % sock.getsockname()[:2], flush=True)
        f = sock.makefile("rb")
        greeting = read_reply(f)
        print("< " + str(greeting), flush=True)
        for line in args.lines:
            sock.sendall(line.encode() + b"\r\n")
            print("> " + line, flush=True)
            try:
                reply = read_reply(f)
            except socket.timeout:
                reply = None
            if reply is None:
                print("< TIMEOUT", flush=True)
                # Abort with a RST: no retransmission of the unanswered
                # line may reach a later test case.
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                struct.pack("ii", 1, 0))
                sock.close()
                return 3
            print("< " + reply.replace("\n", "\n< "), flush=True)
        if args.hold:
            print("holding", flush=True)
            deadline = time.monotonic() + 120
            while not os.path.exists(args.hold) and \
                    time.monotonic() < deadline:
                time.sleep(0.05)
        return 0
    except OSError as e:
        print("error: %s" % e, flush=True)
        return 1


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="role", required=True)
    s = sub.add_parser("server")
    s.add_argument("--listen", default="::")
    s.add_argument("--port", type=int, default=21)
    s.add_argument("--pasv")
    c = sub.add_parser("client")
    c.add_argument("--host", required=True)
    c.add_argument("--port", type=int, default=21)
    c.add_argument("--timeout", type=float, default=10)
    c.add_argument("--hold")
    c.add_argument("lines", nargs="*")
    args = p.parse_args()
    if args.role == "server":
        server(args)
        return 0
    return client(args)


if __name__ == "__main__":
    sys.exit(main())
