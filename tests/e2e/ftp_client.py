#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Download one file over FTP with an explicit data-port negotiation.

    ftp_client.py --host ADDR --mode {pasv,epsv,port,eprt} --file NAME
                  --out PATH [--timeout S] [--hook CMD --hook-out PATH]

Unlike ftplib's own helpers this always sends exactly the command named by
--mode (PORT and EPRT for either family where the family allows it), and it
can pause between the negotiation and the data connection to run --hook (a
shell command, environment FTP_MODE, FTP_DATA_HOST, FTP_DATA_PORT) so that a
test can look at the firewall's expectations at that very moment.
Exit status: 0 on success, 1 on an FTP or network error, 2 on bad usage.
The negotiating command and an error are traced on stderr as curl's
--trace-time does: "HH:MM:SS.micro > EPRT", "HH:MM:SS.micro < 500 ...".
"""

import argparse
import ftplib
import os
import socket
import subprocess
import sys
import time


def trace(line):
    now = time.time()
    print("%s.%06d %s" % (time.strftime("%H:%M:%S", time.localtime(now)),
                          int(now % 1 * 1e6), line), file=sys.stderr,
          flush=True)


def negotiate(ftp, mode, timeout):
    """Send the mode's command; return (listener or None, host, port)."""
    af = ftp.sock.family
    if mode == "pasv":
        host, port = ftplib.parse227(ftp.sendcmd("PASV"))
        return None, host, port
    if mode == "epsv":
        host, port = ftplib.parse229(ftp.sendcmd("EPSV"),
                                     ftp.sock.getpeername())
        return None, host, port
    local = ftp.sock.getsockname()[0]
    lsock = socket.socket(af, socket.SOCK_STREAM)
    lsock.bind((local, 0))
    lsock.listen(1)
    lsock.settimeout(timeout)
    port = lsock.getsockname()[1]
    if mode == "port":
        if af != socket.AF_INET:
            raise SystemExit("ftp_client.py: PORT needs IPv4")
        ftp.sendcmd("PORT %s,%d,%d" % (local.replace(".", ","),
                                        port >> 8, port & 0xFF))
    else:
        fam = 1 if af == socket.AF_INET else 2
        ftp.sendcmd("EPRT |%d|%s|%d|" % (fam, local, port))
    return lsock, local, port


def run_hook(args, host, port):
    env = dict(os.environ, FTP_MODE=args.mode, FTP_DATA_HOST=str(host),
               FTP_DATA_PORT=str(port))
    with open(args.hook_out, "w") as out:
        subprocess.run(["/bin/bash", "-c", args.hook], stdout=out,
                       stderr=subprocess.STDOUT, env=env,
                       timeout=args.timeout, check=False)


def download(args):
    ftp = ftplib.FTP(timeout=args.timeout)
    ftp.connect(args.host, 21)
    ftp.login()
    ftp.voidcmd("TYPE I")
    trace("> " + args.mode.upper())
    lsock, host, port = negotiate(ftp, args.mode, args.timeout)
    if args.hook:
        run_hook(args, host, port)
    if lsock is None:
        data = socket.create_connection((host, port), timeout=args.timeout)
        resp = ftp.sendcmd("RETR " + args.file)
    else:
        resp = ftp.sendcmd("RETR " + args.file)
        data, _ = lsock.accept()
        lsock.close()
    if not resp.startswith(("125", "150")):
        raise ftplib.error_reply(resp)
    data.settimeout(args.timeout)
    with open(args.out, "wb") as out:
        while True:
            chunk = data.recv(65536)
            if not chunk:
                break
            out.write(chunk)
    data.close()
    ftp.voidresp()
    ftp.quit()


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--host", required=True)
    p.add_argument("--mode", required=True,
                   choices=("pasv", "epsv", "port", "eprt"))
    p.add_argument("--file", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--timeout", type=float, default=15)
    p.add_argument("--hook")
    p.add_argument("--hook-out", default=os.devnull)
    args = p.parse_args()
    try:
        download(args)
    except (OSError, EOFError, ftplib.Error, subprocess.SubprocessError) as e:
        trace("< %s" % e)
        print("ftp_client.py: %s: %s" % (type(e).__name__, e), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
