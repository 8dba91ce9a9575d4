#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""asyncio FTP load for make stress: N concurrent control sessions against
tests/stress/ftpd.py, each holding a pinhole (an announced, unused data
port) between transfers, and transferring now and then.

Session i: IPv4 when i is even, IPv6 when odd; announces by turns with
PASV/EPSV/PORT/EPRT (IPv6: EPSV/EPRT); every --nat-every'th session binds
the NAT source address (fw masquerades it). Before each transfer a session
announces afresh (so a pinhole lost to a flush or a fault costs at most
the transfer in flight), then holds a new pinhole. A failed transfer or a
lost control connection makes the session reconnect; so does SIGUSR1 (the
helper was reloaded: existing connections lost it for good).

Writes one JSON line per event to --log (kind xfer: t0, t1, ok, err,
session, family, cmd, nat; kind session: connect/lost/reconnect) and a
status line every 2 s to --status. Ends after --duration seconds, QUITs
every session and prints a JSON summary on stdout.

At most --connect-parallel sessions log in at once: a ramp that started
every login on schedule piled up hundreds of half-done dialogs when the
guest fell behind, and the generator's own event loop then stalled for up
to 15 s, long enough to time transfers out that nothing had hindered
(the first debug-kernel run, 2026-12-01). The status task measures the
loop: a 2 s tick that comes more than 1 s late is logged as kind stall
(t0, t1), so that the report can show the generator, not the firewall,
was not keeping up. Every timeout counts only the time the loop was
running (within()): a transfer timed out by the generator's own stall
would blame the firewall for the guest's starvation (a 9 s stall while
the netns phase started its servers, 2026-12-02).

A session that reconnected for SIGUSR1 transfers within 1-5 s rather
than after a whole interval: those transfers show that the reloaded
helper works (with 80-240 s intervals every session woke only to
reconnect, and no transfer completed for half a minute after a reload).

A NATed session in active mode sends a NOOP with --nat-pad bytes of
argument in the segment of its PORT/EPRT (one line, one reply: a
pipeline of short NOOPs cost the generator a third more CPU). fw's
rewrite then has to pull more than the segment's linear tailroom, an
allocation made under the module, which the stress faults phase fails (a
lone PORT line fits the tailroom a forwarded segment has, and no rewrite
failed in the first such run).
"""
import argparse
import asyncio
import collections
import json
import os
import random
import resource
import signal
import socket
import time

V4_CMDS = ("PASV", "EPSV", "PORT", "EPRT")
V6_CMDS = ("EPSV", "EPRT")


def payload(size):
    pat = bytes(range(256))
    return (pat * (size // 256 + 1))[:size]


class Load:
    def __init__(self, args):
        self.a = args
        self.t_start = time.time()
        self.stop = False
        self.gen = 0
        self.connected = 0
        self.holding = 0
        self.peak_connected = 0
        self.ok = 0
        self.failed = 0
        self.lost = 0
        self.connects = 0
        self.expected = payload(args.size)
        self.errors = collections.Counter()   # failed transfers by error
        self.logins = asyncio.Semaphore(args.connect_parallel)
        self.max_stall = 0.0
        self.log = open(args.log, "a", buffering=1)

    def event(self, **kw):
        kw["t"] = round(time.time(), 3)
        self.log.write(json.dumps(kw) + "\n")


class FtpError(Exception):
    pass


async def within(aw, timeout):
    """asyncio.wait_for(aw, timeout), where a step of the event loop that
    comes more than 0.5 s late counts as no time at all: the time the
    generator itself stood still is not the firewall's."""
    task = asyncio.ensure_future(aw)
    loop = asyncio.get_running_loop()
    left = timeout
    try:
        while left > 0:
            step = min(left, 1.0)
            t = loop.time()
            done, _ = await asyncio.wait({task}, timeout=step)
            if done:
                return task.result()
            late = loop.time() - t - step
            left -= step + (late if late <= 0.5 else 0.0)
        raise asyncio.TimeoutError()
    finally:
        if not task.done():
            task.cancel()


class Session:
    def __init__(self, load, idx):
        self.L = load
        self.a = load.a
        self.idx = idx
        self.v6 = idx % 2 == 1
        self.nat = self.a.nat_every > 0 and (idx // 2) % self.a.nat_every == 0
        cmds = V6_CMDS if self.v6 else V4_CMDS
        self.cmd = cmds[(idx // 2) % len(cmds)]
        if self.v6:
            self.server = self.a.server6
            self.src = self.a.nat6 if self.nat else self.a.src6
        else:
            self.server = self.a.server4
            self.src = self.a.nat4 if self.nat else self.a.src4
        self.r = self.w = None
        self.listener = None    # active mode: our data listener
        self.accepted = None    # future of its connection
        self.pasv_port = None
        self.gen = 0
        self.holds = False
        self.counted = False
        self.lport = None

    def info(self):
        return dict(session=self.idx, family=6 if self.v6 else 4,
                    cmd=self.cmd, nat=self.nat)

    async def expect(self, *codes, timeout=None):
        timeout = timeout or self.a.ctrl_timeout
        while True:
            line = await within(self.r.readline(), timeout)
            if not line:
                raise FtpError("control connection closed")
            text = line.decode(errors="replace").rstrip()
            if len(text) >= 4 and text[3] == "-":
                continue
            if text[:3] in codes:
                return text
            raise FtpError("unexpected reply: " + text[:60])

    async def send(self, text):
        self.w.write((text + "\r\n").encode())
        await self.w.drain()

    async def connect(self):
        async with self.L.logins:
            await self.login()

    async def login(self):
        fam = socket.AF_INET6 if self.v6 else socket.AF_INET
        gen = self.L.gen
        self.r, self.w = await within(asyncio.open_connection(
            self.server, self.a.port, family=fam, local_addr=(self.src, 0)),
            self.a.ctrl_timeout)
        await self.expect("220")
        await self.send("USER anonymous")
        await self.expect("331", "230")
        await self.send("PASS stress@")
        await self.expect("230", "202")
        await self.send("TYPE I")
        await self.expect("200")
        self.gen = gen
        self.lport = self.w.get_extra_info("sockname")[1]
        self.counted = True
        self.L.connected += 1
        self.L.connects += 1
        self.L.peak_connected = max(self.L.peak_connected, self.L.connected)

    def close_listener(self):
        if self.listener is not None:
            self.listener.close()
            self.listener = None
        self.accepted = None

    def drop(self):
        self.close_listener()
        if self.holds:
            self.L.holding -= 1
            self.holds = False
        if self.w is not None:
            self.w.close()
            self.w = None
        if self.counted:
            self.counted = False
            self.L.connected -= 1

    async def announce(self):
        """Announce a data port: the firewall opens a pinhole for it."""
        self.close_listener()
        self.pasv_port = None
        if self.cmd in ("PASV", "EPSV"):
            await self.send(self.cmd)
            text = await self.expect("227", "229")
            if self.cmd == "PASV":
                f = text[text.index("(") + 1:text.index(")")].split(",")
                self.pasv_port = int(f[4]) * 256 + int(f[5])
            else:
                self.pasv_port = int(text.split("|")[3])
        else:
            fut = asyncio.get_running_loop().create_future()

            def accepted(reader, writer):
                if fut.done():
                    writer.close()
                else:
                    fut.set_result((reader, writer))
            fam = socket.AF_INET6 if self.v6 else socket.AF_INET
            self.listener = await asyncio.start_server(
                accepted, self.src, 0, family=fam, backlog=2)
            port = self.listener.sockets[0].getsockname()[1]
            self.accepted = fut
            if self.cmd == "PORT":
                h = self.src.replace(".", ",")
                line = "PORT %s,%d,%d" % (h, port >> 8, port & 255)
            else:
                line = "EPRT |%d|%s|%d|" % (2 if self.v6 else 1,
                                             self.src, port)
            if self.nat and self.a.nat_pad > 0:
                await self.send("NOOP %s\r\n%s" % ("x" * self.a.nat_pad,
                                                      line))
                await self.expect("200")
            else:
                await self.send(line)
            await self.expect("200")
        if not self.holds:
            self.L.holding += 1
            self.holds = True

    async def read_data(self, dr):
        got = bytearray()
        while True:
            chunk = await dr.read(65536)
            if not chunk:
                break
            got += chunk
        if bytes(got) != self.L.expected:
            raise FtpError("data mismatch: %d bytes" % len(got))

    async def transfer(self):
        await self.announce()
        await self.send("RETR data.bin")
        if self.pasv_port is not None:
            dr, dw = await within(asyncio.open_connection(
                self.server, self.pasv_port, local_addr=(self.src, 0)),
                self.a.xfer_timeout)
        else:
            dr, dw = await within(self.accepted, self.a.xfer_timeout)
            self.close_listener()
        try:
            await self.expect("150", "125")
            await within(self.read_data(dr), self.a.xfer_timeout)
        finally:
            dw.close()
        await self.expect("226", "250", timeout=self.a.xfer_timeout)
        # Hold a pinhole again until the next transfer.
        await self.announce()

    async def one_transfer(self):
        t0 = time.time()
        err = None
        try:
            await within(self.transfer(), self.a.xfer_timeout * 2)
        except (FtpError, OSError, asyncio.TimeoutError, ValueError,
                IndexError) as e:
            err = "%s: %s" % (type(e).__name__, str(e)[:80])
        ok = err is None
        if ok:
            self.L.ok += 1
        else:
            self.L.failed += 1
            self.L.errors[err[:48]] += 1
        self.L.event(kind="xfer", t0=round(t0, 3), t1=round(time.time(), 3),
                     ok=ok, err=err, **self.info())
        return ok

    async def run(self, delay):
        await asyncio.sleep(delay)
        soon = False    # reconnected after a reload: transfer soon
        while not self.L.stop:
            try:
                await self.connect()
                self.L.event(kind="session", what="connect",
                             lport=self.lport, src=self.src, **self.info())
                await self.announce()
            except (FtpError, OSError, asyncio.TimeoutError, ValueError,
                    IndexError) as e:
                self.drop()
                self.L.event(kind="session", what="connect-failed",
                             err=str(e)[:80], **self.info())
                await asyncio.sleep(random.uniform(1, 5))
                continue
            while not self.L.stop:
                lo, hi = (1, 5) if soon else self.a.interval
                soon = False
                await asyncio.sleep(random.uniform(lo, hi))
                if self.L.stop:
                    break
                if self.gen != self.L.gen:
                    self.L.event(kind="session", what="reconnect",
                                 **self.info())
                    soon = True
                    break
                if not await self.one_transfer():
                    break
            if self.L.stop and self.w is not None:
                try:
                    await asyncio.wait_for(self.send("QUIT"), 5)
                except (OSError, asyncio.TimeoutError):
                    pass
            self.drop()


async def status(load, tick=2.0):
    with open(load.a.status, "w", buffering=1) as f:
        while not load.stop:
            top = "; ".join("%dx %s" % (n, e) for e, n in
                            load.errors.most_common(2))
            f.write("t=%d connected=%d holding=%d ok=%d failed=%d "
                    "max_stall=%.1f%s\n" % (
                        time.time() - load.t_start, load.connected,
                        load.holding, load.ok, load.failed, load.max_stall,
                        " errors: " + top if top else ""))
            t0 = time.time()
            await asyncio.sleep(tick)
            late = time.time() - t0 - tick
            if late > 1.0:
                load.max_stall = max(load.max_stall, late)
                load.event(kind="stall", t0=round(t0 + tick, 3),
                           t1=round(time.time(), 3))


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--server4", required=True)
    ap.add_argument("--server6", required=True)
    ap.add_argument("--src4", required=True)
    ap.add_argument("--src6", required=True)
    ap.add_argument("--nat4", required=True)
    ap.add_argument("--nat6", required=True)
    ap.add_argument("--port", type=int, default=21)
    ap.add_argument("--nat-every", type=int, default=5)
    ap.add_argument("--nat-pad", type=int, default=1024,
                    help="bytes of NOOP argument before a NATed PORT/EPRT")
    ap.add_argument("--sessions", type=int, default=1000)
    ap.add_argument("--duration", type=float, default=300)
    ap.add_argument("--ramp", type=float, default=60)
    ap.add_argument("--interval", default="20-60")
    ap.add_argument("--size", type=int, default=4096)
    ap.add_argument("--xfer-timeout", type=float, default=20)
    ap.add_argument("--ctrl-timeout", type=float, default=30)
    ap.add_argument("--connect-parallel", type=int, default=16)
    ap.add_argument("--log", required=True)
    ap.add_argument("--status", required=True)
    ap.add_argument("--pidfile", help="write our pid here (for signals)")
    args = ap.parse_args()
    args.interval = tuple(float(x) for x in args.interval.split("-"))
    if args.sessions < 1 or args.duration <= 0 or args.connect_parallel < 1:
        ap.error("--sessions, --duration and --connect-parallel must be "
                 "positive")
    load = Load(args)
    loop = asyncio.get_running_loop()
    if args.pidfile:
        with open(args.pidfile, "w") as f:
            f.write("%d\n" % os.getpid())

    def bump():
        load.gen += 1
        load.event(kind="generation", gen=load.gen)
    loop.add_signal_handler(signal.SIGUSR1, bump)
    stopper = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stopper.set)
    sessions = [Session(load, i) for i in range(args.sessions)]
    tasks = [asyncio.create_task(s.run(args.ramp * i / args.sessions))
             for i, s in enumerate(sessions)]
    st = asyncio.create_task(status(load))
    try:
        await asyncio.wait_for(stopper.wait(), args.duration)
    except asyncio.TimeoutError:
        pass
    load.stop = True
    done, pending = await asyncio.wait(tasks, timeout=args.xfer_timeout * 3)
    for t in pending:
        t.cancel()
    st.cancel()
    print(json.dumps(dict(ok=load.ok, failed=load.failed,
                          connects=load.connects,
                          peak_connected=load.peak_connected,
                          unfinished=len(pending))), flush=True)


if __name__ == "__main__":
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (65536, 65536))
    except (ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    asyncio.run(main())
