#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Minimal asyncio FTP server for make stress: thousands of idle control
sessions cost one coroutine each, where vsftpd forks and pyftpdlib stalls
under TCG.

Speaks just what tests/stress/ftpload.py uses: USER, PASS, TYPE, PASV,
EPSV, PORT, EPRT, RETR, NOOP, QUIT. Any path RETRieves SIZE bytes of a
fixed pattern. A passive listener lives until the next PASV/EPSV of its
session, or until the session ends: that is what keeps a pinhole open.

usage: ftpd.py --listen ADDR [--listen ADDR ...] [--port 21]
               [--pasv-ports LO-HI] [--size BYTES]
Prints "ready" on stdout once every listener is up.
"""
import argparse
import asyncio
import ipaddress
import itertools
import resource
import socket
import sys

DATA_TIMEOUT = 120


def payload(size):
    pat = bytes(range(256))
    return (pat * (size // 256 + 1))[:size]


class Session:
    def __init__(self, srv, reader, writer):
        self.srv = srv
        self.r = reader
        self.w = writer
        self.pasv = None        # asyncio.Server of the outstanding PASV
        self.pasv_conn = None   # future: (reader, writer) of its data conn
        self.active = None      # (host, port) of the outstanding PORT
        sock = writer.get_extra_info("socket")
        self.family = sock.family
        self.local = writer.get_extra_info("sockname")[0]

    async def reply(self, text):
        self.w.write((text + "\r\n").encode())
        await self.w.drain()

    def close_pasv(self):
        if self.pasv is not None:
            self.pasv.close()
            self.pasv = None
        if self.pasv_conn is not None and self.pasv_conn.done() \
                and not self.pasv_conn.cancelled() \
                and self.pasv_conn.exception() is None:
            self.pasv_conn.result()[1].close()
        self.pasv_conn = None

    async def open_pasv(self):
        self.close_pasv()
        self.active = None
        fut = asyncio.get_running_loop().create_future()

        def accepted(reader, writer):
            if fut.done():
                writer.close()
            else:
                fut.set_result((reader, writer))

        for _ in range(self.srv.pasv_span):
            port = next(self.srv.pasv_cycle)
            try:
                self.pasv = await asyncio.start_server(
                    accepted, self.local, port, family=self.family,
                    reuse_address=True, backlog=2)
            except OSError:
                continue
            self.pasv_conn = fut
            return port
        return None

    async def retr(self):
        data = self.srv.data
        if self.pasv_conn is not None:
            await self.reply("150 Opening data connection")
            conn = self.pasv_conn
            try:
                dr, dw = await asyncio.wait_for(conn, DATA_TIMEOUT)
            except (asyncio.TimeoutError, OSError):
                self.close_pasv()
                await self.reply("425 No data connection")
                return
            self.pasv_conn = None
            self.close_pasv()
        elif self.active is not None:
            await self.reply("150 Opening data connection")
            host, port = self.active
            self.active = None
            try:
                dr, dw = await asyncio.wait_for(
                    asyncio.open_connection(host, port), DATA_TIMEOUT)
            except (asyncio.TimeoutError, OSError):
                await self.reply("425 Cannot open data connection")
                return
        else:
            await self.reply("503 PORT or PASV first")
            return
        try:
            dw.write(data)
            await asyncio.wait_for(dw.drain(), DATA_TIMEOUT)
            dw.close()
            await asyncio.wait_for(dw.wait_closed(), DATA_TIMEOUT)
        except (asyncio.TimeoutError, OSError):
            await self.reply("426 Transfer aborted")
            return
        self.srv.transfers += 1
        await self.reply("226 Transfer complete")

    async def command(self, verb, arg):
        if verb == "USER":
            await self.reply("331 Password please")
        elif verb == "PASS":
            await self.reply("230 Logged in")
        elif verb == "TYPE":
            await self.reply("200 Type set")
        elif verb == "NOOP":
            await self.reply("200 NOOP ok")
        elif verb == "PASV":
            if self.family != socket.AF_INET:
                await self.reply("522 Use EPSV")
                return
            port = await self.open_pasv()
            if port is None:
                await self.reply("425 No passive port free")
                return
            h = self.local.replace(".", ",")
            await self.reply("227 Entering Passive Mode (%s,%d,%d)"
                             % (h, port >> 8, port & 255))
        elif verb == "EPSV":
            port = await self.open_pasv()
            if port is None:
                await self.reply("425 No passive port free")
                return
            await self.reply("229 Entering Extended Passive Mode (|||%d|)"
                             % port)
        elif verb == "PORT":
            try:
                f = [int(x) for x in arg.split(",")]
                if len(f) != 6 or any(not 0 <= x <= 255 for x in f):
                    raise ValueError
            except ValueError:
                await self.reply("501 Bad PORT")
                return
            self.close_pasv()
            self.active = (".".join(map(str, f[:4])), f[4] * 256 + f[5])
            await self.reply("200 PORT ok")
        elif verb == "EPRT":
            try:
                d = arg[0]
                _, _, host, port, _ = arg.split(d)
                ipaddress.ip_address(host)
                self.active = (host, int(port))
            except (ValueError, IndexError):
                await self.reply("501 Bad EPRT")
                return
            self.close_pasv()
            await self.reply("200 EPRT ok")
        elif verb == "RETR":
            await self.retr()
        elif verb == "QUIT":
            await self.reply("221 Bye")
            return False
        else:
            await self.reply("502 Not implemented")
        return True

    async def run(self):
        self.srv.sessions += 1
        try:
            await self.reply("220 pinhole stress ftpd")
            while True:
                line = await self.r.readline()
                if not line:
                    break
                text = line.decode(errors="replace").strip()
                verb, _, arg = text.partition(" ")
                if await self.command(verb.upper(), arg.strip()) is False:
                    break
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            self.srv.sessions -= 1
            self.close_pasv()
            self.w.close()


class Server:
    def __init__(self, args):
        lo, hi = (int(x) for x in args.pasv_ports.split("-"))
        self.pasv_cycle = itertools.cycle(range(lo, hi + 1))
        self.pasv_span = hi - lo + 1
        self.data = payload(args.size)
        self.sessions = 0
        self.transfers = 0

    async def handle(self, reader, writer):
        await Session(self, reader, writer).run()


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--listen", action="append", required=True)
    ap.add_argument("--port", type=int, default=21)
    ap.add_argument("--pasv-ports", default="40000-49999")
    ap.add_argument("--size", type=int, default=4096)
    args = ap.parse_args()
    srv = Server(args)
    servers = []
    for addr in args.listen:
        fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
        servers.append(await asyncio.start_server(
            srv.handle, addr, args.port, family=fam, reuse_address=True,
            backlog=1024))
    print("ready", flush=True)
    await asyncio.gather(*(s.serve_forever() for s in servers))


if __name__ == "__main__":
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (65536, 65536))
    except (ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
