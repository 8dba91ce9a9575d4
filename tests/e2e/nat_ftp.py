#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""FTP client for the NAT scenarios (tests/e2e/t_nat.sh).

    nat_ftp.py --host ADDR [--port N] --mode {pasv,epsv,port,eprt} --file NAME
               [--timeout S] [--split-pause S] [--source ADDR]
               [--data-port N] [--hold S] [--abandon] [--announce ADDR]

Logs in anonymously, sends exactly the command named by --mode and
downloads FILE, using the address the server's 227 names (unlike curl,
which ignores it). Prints, one per line:

    sent: <PORT/EPRT/PASV/EPSV command as sent>
    reply: <the server's reply to it>
    received: <bytes> bytes sha256=<hex>

With --split-pause (modes port and eprt only), the PORT/EPRT command goes
out in two TCP segments (TCP_NODELAY, two send() calls, a pause between
them): the first ends after the second comma (PORT) or second delimiter
(EPRT). Then it sends NOOP and prints "noop: <reply>"; if the PORT/EPRT was
accepted (2xx) it goes on and downloads through it, else it finishes with
an EPSV download on the same control connection ("after: ..." lines).

--port is the server's control port (default 21). --source binds the control connection (and so the PORT/EPRT listener) to
ADDR; --data-port makes the PORT/EPRT listener use port N instead of one the
kernel picks; --hold waits S seconds between the negotiation and RETR
("held: S" is printed once the negotiation is done); --abandon quits right
after the negotiation, never opening the data connection ("abandoned");
--announce names ADDR in the PORT/EPRT instead of the local address (a
client that knows the external address NAT gives it).

Exit status: 0 when every step worked, 1 otherwise (the reason on stderr).
"""

import argparse
import ftplib
import hashlib
import socket
import sys
import time


def say(*a):
    print(*a, flush=True)


def drain(data, timeout):
    data.settimeout(timeout)
    digest, size = hashlib.sha256(), 0
    while True:
        chunk = data.recv(65536)
        if not chunk:
            break
        digest.update(chunk)
        size += len(chunk)
    data.close()
    return size, digest.hexdigest()


def send_split(ftp, cmd, cut, pause):
    """Send cmd + CRLF in two segments, split at index cut; read the reply."""
    sock = ftp.sock
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    line = (cmd + "\r\n").encode("ascii")
    sock.sendall(line[:cut])
    time.sleep(pause)
    sock.sendall(line[cut:])
    return ftp.getmultiline()


def negotiate(ftp, mode, split_pause, data_port=0, announce=None):
    af = ftp.sock.family
    if mode in ("pasv", "epsv"):
        cmd = mode.upper()
        say("sent:", cmd)
        reply = ftp.sendcmd(cmd)
        say("reply:", reply)
        if mode == "pasv":
            host, port = ftplib.parse227(reply)
        else:
            host, port = ftplib.parse229(reply, ftp.sock.getpeername())
        return None, host, port, reply
    local = ftp.sock.getsockname()[0]
    lsock = socket.socket(af, socket.SOCK_STREAM)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind((local, data_port))
    lsock.listen(1)
    port = lsock.getsockname()[1]
    local = announce or local
    if mode == "port":
        if af != socket.AF_INET:
            raise SystemExit("nat_ftp.py: PORT needs IPv4")
        cmd = "PORT %s,%d,%d" % (local.replace(".", ","), port >> 8,
                                 port & 0xFF)
        cut = cmd.index(",", cmd.index(",") + 1) + 1  # "PORT h1,h2,"
    else:
        fam = 1 if af == socket.AF_INET else 2
        cmd = "EPRT |%d|%s|%d|" % (fam, local, port)
        cut = cmd.index("|", cmd.index("|") + 1) + 1  # "EPRT |f|"
    say("sent:", cmd)
    if split_pause is None:
        reply = ftp.sendcmd(cmd)
    else:
        say("split: %r + %r" % (cmd[:cut], cmd[cut:]))
        reply = send_split(ftp, cmd, cut, split_pause)
    say("reply:", reply)
    return lsock, local, port, reply


def retr(ftp, lsock, host, port, timeout, name):
    if lsock is None:
        data = socket.create_connection((host, port), timeout=timeout)
        resp = ftp.sendcmd("RETR " + name)
    else:
        lsock.settimeout(timeout)
        resp = ftp.sendcmd("RETR " + name)
        data, _ = lsock.accept()
        lsock.close()
    if not resp.startswith(("125", "150")):
        raise ftplib.error_reply(resp)
    size, hexd = drain(data, timeout)
    ftp.voidresp()
    return size, hexd


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--host", required=True)
    p.add_argument("--port", type=int, default=21)
    p.add_argument("--mode", required=True,
                   choices=("pasv", "epsv", "port", "eprt"))
    p.add_argument("--file", required=True)
    p.add_argument("--timeout", type=float, default=15)
    p.add_argument("--split-pause", type=float)
    p.add_argument("--source")
    p.add_argument("--data-port", type=int, default=0)
    p.add_argument("--hold", type=float)
    p.add_argument("--abandon", action="store_true")
    p.add_argument("--announce")
    args = p.parse_args()
    try:
        ftp = ftplib.FTP(timeout=args.timeout)
        ftp.connect(args.host, args.port, source_address=(args.source, 0)
                    if args.source else None)
        ftp.login()
        ftp.voidcmd("TYPE I")
        lsock, host, port, reply = negotiate(ftp, args.mode,
                                             args.split_pause, args.data_port,
                                             args.announce)
        if args.abandon:
            say("abandoned")
            ftp.quit()
            return 0
        if args.hold is not None:
            say("held: %g" % args.hold)
            time.sleep(args.hold)
        if args.split_pause is not None:
            ftp.putcmd("NOOP")
            noop = ftp.getmultiline()
            say("noop:", noop)
            if not noop.startswith("200"):
                raise ftplib.error_reply("NOOP: " + noop)
            if not reply.startswith("2"):
                lsock.close()
                lsock, host, port, _ = negotiate(ftp, "epsv", None)
                say("after: epsv")
        size, hexd = retr(ftp, lsock, host, port, args.timeout, args.file)
        say("received: %d bytes sha256=%s" % (size, hexd))
        ftp.quit()
    except (OSError, EOFError, ftplib.Error, ValueError) as e:
        print("nat_ftp.py: %s: %s" % (type(e).__name__, e), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
