#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""One FTP control connection across a firewall failover (tests/e2e/t_ha.sh).

    ha_ftp.py --host ADDR --mode {pasv,epsv,port,eprt} --file NAME
              --sync DIR [--when {paused,inflight,idle}] [--second]
              [--resync-line CMD] [--timeout S] [--rcvbuf BYTES]
              [--wait S] [--tls]

Logs in, then transfer 1: negotiates the data port with exactly the command
named by --mode and stops at the point --when names, writing DIR/stopped
and waiting for DIR/go (the test fails the firewalls over meanwhile):
  paused    after the server accepted the negotiation, before the data
            connection opens (it then opens through the new firewall)
  inflight  after the first block of the file arrived (the rest crosses the
            new firewall); the data socket's receive buffer is small
            (--rcvbuf) so that most of the file is still to come
  idle      before transfer 1 (logged in, TYPE I answered): its
            negotiation is then the first line through the new firewall
With --tls instead: AUTH TLS and login, stop, then NOOP and PASV on the
encrypted control connection (tls-noop:, tls-pasv: lines), no transfer.
With --second, on the same control connection afterwards: --resync-line
(default NOOP; "" for none) and transfer 2, which must open a new pinhole
on the new firewall; before its data connection it writes DIR/stopped2 and
waits for DIR/go2.

Prints one line per fact, for the test to read:
  negotiated1: PORT-or-HOST PORT      the data port of transfer 1
  connected1: EPOCH                   when its data connection was up
  received1: N bytes sha256=HEX
  data-failed1: WHY                   its data connection failed; then
  control-after: REPLY | dead (WHY)   NOOP on the control connection
  negotiated2 / connected2 / received2  the same for transfer 2
Exit status: 0 on success, 1 on an FTP or network error, 2 on bad usage.
"""

import argparse
import ftplib
import hashlib
import os
import socket
import sys
import time

from ftp_client import negotiate  # exactly the command --mode names


def wait_file(path, timeout):
    deadline = time.monotonic() + timeout
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            raise TimeoutError("nobody created " + path)
        time.sleep(0.02)


def stop(args, name):
    open(os.path.join(args.sync, name), "w").close()


def data_connect(ftp, args, lsock, host, port):
    """Open the data connection and send RETR; return the data socket."""
    if lsock is None:
        data = socket.socket(ftp.sock.family, socket.SOCK_STREAM)
        if args.rcvbuf:
            data.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, args.rcvbuf)
        data.settimeout(args.timeout)
        data.connect((host, port))
        resp = ftp.sendcmd("RETR " + args.file)
    else:
        if args.rcvbuf:
            lsock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, args.rcvbuf)
        resp = ftp.sendcmd("RETR " + args.file)
        data, _ = lsock.accept()
        lsock.close()
    if not resp.startswith(("125", "150")):
        raise ftplib.error_reply(resp)
    data.settimeout(args.timeout)
    return data


def control_after(ftp):
    """After a failed data connection: is the control connection alive?"""
    try:
        print("control-after: %s" % ftp.sendcmd("NOOP"), flush=True)
    except (OSError, EOFError, ftplib.Error) as e:
        print("control-after: dead (%s: %s)" % (type(e).__name__, e),
              flush=True)


def transfer(ftp, args, n, stop_at):
    lsock, host, port = negotiate(ftp, args.mode, args.timeout)
    print("negotiated%d: %s %d" % (n, host, port), flush=True)
    if stop_at == "paused":
        stop(args, "stopped" if n == 1 else "stopped2")
        wait_file(os.path.join(args.sync, "go" if n == 1 else "go2"),
                  args.wait)
    try:
        data = data_connect(ftp, args, lsock, host, port)
    except (OSError, ftplib.Error) as e:
        print("data-failed%d: %s: %s" % (n, type(e).__name__, e), flush=True)
        control_after(ftp)
        raise
    print("connected%d: %.3f" % (n, time.time()), flush=True)
    digest = hashlib.sha256()
    total = 0
    while True:
        chunk = data.recv(4096 if stop_at == "inflight" else 65536)
        if not chunk:
            break
        digest.update(chunk)
        total += len(chunk)
        if stop_at == "inflight":
            stop_at = None
            stop(args, "stopped")
            wait_file(os.path.join(args.sync, "go"), args.wait)
    data.close()
    ftp.voidresp()
    print("received%d: %d bytes sha256=%s" % (n, total, digest.hexdigest()),
          flush=True)


def run_tls(args):
    """AUTH TLS, stop, then NOOP and PASV over the encrypted connection."""
    ftp = ftplib.FTP_TLS(timeout=args.timeout)
    ftp.connect(args.host, 21)
    ftp.login()
    print("tls: %s" % ftp.sock.version(), flush=True)
    stop(args, "stopped")
    wait_file(os.path.join(args.sync, "go"), args.wait)
    print("tls-noop: %s" % ftp.sendcmd("NOOP"), flush=True)
    print("tls-pasv: %s" % ftp.sendcmd("PASV"), flush=True)
    ftp.quit()


def run(args):
    if args.tls:
        run_tls(args)
        return
    ftp = ftplib.FTP(timeout=args.timeout)
    ftp.connect(args.host, 21)
    ftp.login()
    ftp.voidcmd("TYPE I")
    if args.when == "idle":
        stop(args, "stopped")
        wait_file(os.path.join(args.sync, "go"), args.wait)
    transfer(ftp, args, 1, args.when)
    if args.second:
        if args.resync_line:
            print("resync: %s" % ftp.sendcmd(args.resync_line), flush=True)
        transfer(ftp, args, 2, "paused")
    ftp.quit()


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--host", required=True)
    p.add_argument("--mode", required=True,
                   choices=("pasv", "epsv", "port", "eprt"))
    p.add_argument("--file", required=True)
    p.add_argument("--sync", required=True)
    p.add_argument("--when", choices=("paused", "inflight", "idle"), default="paused")
    p.add_argument("--second", action="store_true")
    p.add_argument("--resync-line", default="NOOP")
    p.add_argument("--timeout", type=float, default=30)
    p.add_argument("--rcvbuf", type=int, default=0)
    p.add_argument("--tls", action="store_true",
                   help="AUTH TLS; stop once logged in, then NOOP and PASV")
    p.add_argument("--wait", type=float, default=300,
                   help="longest wait for DIR/go (the failover)")
    args = p.parse_args()
    try:
        run(args)
    except (OSError, EOFError, ftplib.Error) as e:
        print("ha_ftp.py: %s: %s" % (type(e).__name__, e), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
