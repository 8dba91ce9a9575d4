#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Download one file over FTP, pausing between negotiating the data port
and using it, so that a test or a demo can look at the pinhole while it is
open.

usage: ftp-step.py [--mode pasv|epsv|port|eprt] [--wait-file PATH |
                    --pause SECONDS] [--timeout S] HOST FILE

Prints "negotiated: <reply or command>" once the data port is agreed, then
waits until PATH exists (or SECONDS pass), then transfers and prints
"received: <bytes> bytes sha256=<hex>". Exit 0 on success, 1 on failure.
"""
import argparse
import ftplib
import hashlib
import os
import socket
import sys
import time


def wait(args):
    if args.wait_file:
        deadline = time.monotonic() + args.timeout
        while not os.path.exists(args.wait_file):
            if time.monotonic() > deadline:
                raise TimeoutError("no " + args.wait_file)
            time.sleep(0.05)
    elif args.pause:
        time.sleep(args.pause)


def passive(ftp, args):
    if args.mode == "epsv":
        reply = ftp.sendcmd("EPSV")
        port = ftplib.parse229(reply, ftp.sock.getpeername())[1]
        host = ftp.sock.getpeername()[0]
    else:
        reply = ftp.sendcmd("PASV")
        host, port = ftplib.parse227(reply)
    print("negotiated:", reply, flush=True)
    wait(args)
    data = socket.create_connection((host, port), timeout=args.timeout)
    ftp.sendcmd("RETR " + args.file)
    return data


def active(ftp, args):
    listener = socket.create_server((ftp.sock.getsockname()[0], 0),
                                    family=ftp.sock.family)
    host, port = listener.getsockname()[:2]
    if args.mode == "eprt":
        fam = 2 if ftp.sock.family == socket.AF_INET6 else 1
        cmd = "EPRT |%d|%s|%d|" % (fam, host, port)
    else:
        cmd = "PORT %s,%d,%d" % (host.replace(".", ","), port >> 8,
                                 port & 0xff)
    ftp.sendcmd(cmd)
    print("negotiated:", cmd, flush=True)
    wait(args)
    ftp.sendcmd("RETR " + args.file)
    listener.settimeout(args.timeout)
    data, _ = listener.accept()
    listener.close()
    return data


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--mode", default="pasv",
                   choices=("pasv", "epsv", "port", "eprt"))
    p.add_argument("--wait-file")
    p.add_argument("--pause", type=float, default=0)
    p.add_argument("--timeout", type=float, default=15)
    p.add_argument("--user", default="anonymous")
    p.add_argument("host")
    p.add_argument("file")
    args = p.parse_args()
    try:
        ftp = ftplib.FTP(timeout=args.timeout)
        ftp.connect(args.host, 21)
        ftp.login(args.user, "pinhole@example.org")
        ftp.voidcmd("TYPE I")
        setup = active if args.mode in ("port", "eprt") else passive
        data = setup(ftp, args)
        data.settimeout(args.timeout)
        digest, size = hashlib.sha256(), 0
        while chunk := data.recv(65536):
            digest.update(chunk)
            size += len(chunk)
        data.close()
        ftp.voidresp()
        ftp.quit()
    except (OSError, ftplib.Error, EOFError, TimeoutError) as e:
        print("failed:", e, file=sys.stderr)
        return 1
    print("received: %d bytes sha256=%s" % (size, digest.hexdigest()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
