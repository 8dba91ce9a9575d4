#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Many idle FTP control sessions for scripts/bench-guest.sh (asyncio, one
process per side, light enough for a 2-vCPU TCG guest).

server: listen on --bind:--port; per connection send a 220 greeting and
        answer USER (331), PASS (230), NOOP (200), QUIT (221, then close);
        anything else 502.
client: open --sessions control connections to --host:--port, at most
        --concurrency connecting at once; each logs in (220, USER/331,
        PASS/230) and then stays idle. Once all are logged in it writes
        "ready sessions=N secs=S" to --ready (S: first connect to last
        login) and waits for SIGUSR1. Then every session sends NOOP
        (expects 200) and QUIT (expects 221), then resets the connection
        (no TIME_WAIT left behind): a session the firewall lost in
        between fails this check. Prints "done ok=N failed=M" and exits
        non-zero unless all N passed. Fails at once (exit 1, "failed ..."
        in --ready) when a session cannot be opened within --timeout.
        With --wait-start it first writes "waiting" to --ready and opens
        nothing before SIGUSR2 (so that the caller can take a snapshot
        after the interpreter has started).
"""
import argparse
import asyncio
import resource
import signal
import socket
import struct
import sys
import time


def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    for want in (65536, hard):
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, want))
            return
        except (ValueError, OSError):
            continue


REPLIES = {b"USER": b"331 Password required.\r\n",
           b"PASS": b"230 Logged in.\r\n",
           b"NOOP": b"200 NOOP ok.\r\n"}


async def serve(reader, writer):
    try:
        writer.write(b"220 idle bench\r\n")
        await writer.drain()
        while True:
            line = await reader.readline()
            if not line:
                break
            verb = line.split(b" ", 1)[0].strip().upper()
            if verb == b"QUIT":
                writer.write(b"221 Bye.\r\n")
                await writer.drain()
                break
            writer.write(REPLIES.get(verb, b"502 Not implemented.\r\n"))
            await writer.drain()
    except OSError:
        pass
    finally:
        writer.close()


async def server(args):
    srv = await asyncio.start_server(serve, args.bind, args.port,
                                     backlog=4096, reuse_address=True)
    async with srv:
        await srv.serve_forever()


async def expect(reader, code, timeout):
    line = await asyncio.wait_for(reader.readline(), timeout)
    if not line.startswith(code):
        raise OSError("expected %s, got %r" % (code.decode(), line[:60]))


async def login(args, sem):
    async with sem:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(args.host, args.port), args.timeout)
        await expect(reader, b"220", args.timeout)
        writer.write(b"USER anonymous\r\n")
        await expect(reader, b"331", args.timeout)
        writer.write(b"PASS idle@example.org\r\n")
        await expect(reader, b"230", args.timeout)
        return reader, writer


async def finish(sess, timeout):
    reader, writer = sess
    try:
        writer.write(b"NOOP\r\n")
        await expect(reader, b"200", timeout)
        writer.write(b"QUIT\r\n")
        await expect(reader, b"221", timeout)
        return True
    except (OSError, asyncio.TimeoutError):
        return False
    finally:
        # A reset, not a FIN: no TIME_WAIT socket outlives the round to
        # blur the next one's slab snapshot.
        writer.get_extra_info("socket").setsockopt(
            socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.close()


def write_ready(path, text):
    with open(path, "w") as f:
        f.write(text + "\n")


async def client(args):
    sem = asyncio.Semaphore(args.concurrency)
    go = asyncio.Event()
    start = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGUSR1, go.set)
    loop.add_signal_handler(signal.SIGUSR2, start.set)
    if args.wait_start:
        write_ready(args.ready, "waiting")
        await start.wait()
    t0 = time.time()
    res = await asyncio.gather(*(login(args, sem) for _ in range(args.sessions)),
                               return_exceptions=True)
    secs = time.time() - t0
    sessions = [r for r in res if not isinstance(r, BaseException)]
    errors = [r for r in res if isinstance(r, BaseException)]
    if errors:
        write_ready(args.ready, "failed opened=%d of %d: %r" %
                    (len(sessions), args.sessions, errors[0]))
        for _, w in sessions:
            w.close()
        return 1
    write_ready(args.ready, "ready sessions=%d secs=%.3f" % (len(sessions), secs))
    await go.wait()
    sem = asyncio.Semaphore(args.concurrency)

    async def bounded(s):
        async with sem:
            return await finish(s, args.timeout)
    ok = await asyncio.gather(*(bounded(s) for s in sessions))
    print("done ok=%d failed=%d" % (sum(ok), len(ok) - sum(ok)), flush=True)
    return 0 if all(ok) else 1


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["server", "client"])
    p.add_argument("--bind", default="0.0.0.0")
    p.add_argument("--host", default="198.51.100.2")
    p.add_argument("--port", type=int, default=21)
    p.add_argument("--sessions", type=int, default=1000)
    p.add_argument("--concurrency", type=int, default=64)
    p.add_argument("--timeout", type=float, default=60)
    p.add_argument("--ready", default="/dev/null")
    p.add_argument("--wait-start", action="store_true")
    args = p.parse_args()
    raise_nofile()
    if args.mode == "server":
        asyncio.run(server(args))
        return 0
    return asyncio.run(client(args))


if __name__ == "__main__":
    sys.exit(main())
