#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""FTP-control-channel-shaped bulk traffic for scripts/bench-guest.sh.

server: listen on PORT; per connection, either send SIZE bytes of FTP
        reply lines and close (--dir down), or drain what the client sends
        and answer "221 Bye" at its EOF (--dir up). With --log FILE, each
        accepted connection appends "accept <epoch seconds> <busy ns>" to
        FILE: when the stream began, after its client's process start, and
        the CPU time the kernel had been busy by then (cpu_busy_ns()).
gen:    write SIZE bytes of the line kind to stdout (for a socat client)
client: open PARALLEL connections at once (one process each), move SIZE
        bytes on each; print one line:
        bytes=<total> secs=<first connect .. last close> streams=<n>

Line kinds (--kind):
  reply211  "211-xxxx...\r\n" (76 bytes), a long multi-line reply
  noop      "NOOP\r\n" (6 bytes), many short commands
  port      "PORT a,b,c,d,156,64\r\n": every line announces a data port
            (the client's own address; --addr)
  mixed     the commands of a browsing session that announce nothing
            (TYPE, CWD, PWD, SIZE, MDTM, NOOP, STAT, ...): lines of every
            length, some starting with a letter the parser must look at
            twice (P, E, A)
"""
import argparse
import os
import socket
import sys
import threading
import time

CHUNK = 1 << 20


def payload(kind, addr):
    if kind == "reply211":
        line = b"211-" + b"x" * 70 + b"\r\n"
    elif kind == "noop":
        line = b"NOOP\r\n"
    elif kind == "port":
        line = ("PORT %s,156,64\r\n" % addr.replace(".", ",")).encode()
    elif kind == "mixed":
        line = (b"TYPE I\r\nCWD /pub/debian/dists/bookworm\r\nPWD\r\n"
                b"SIZE Release\r\nMDTM Release\r\nNOOP\r\nSTAT\r\n"
                b"OPTS UTF8 ON\r\nALLO 1048576\r\nMODE S\r\nSTRU F\r\n"
                b"ACCT none\r\nCDUP\r\nSYST\r\nFEAT\r\nHELP SITE\r\n")
    else:
        raise SystemExit("unknown kind " + kind)
    return (line * (CHUNK // len(line) + 1))[:CHUNK - CHUNK % len(line)]


def send_size(sock, buf, size):
    left = size
    mv = memoryview(buf)
    while left > 0:
        n = min(left, len(buf))
        sock.sendall(mv[:n])
        left -= n


def send_size_fd(f, buf, size):
    left = size
    while left > 0:
        n = min(left, len(buf))
        f.write(buf[:n])
        left -= n


def drain(sock):
    total = 0
    b = bytearray(CHUNK)
    while True:
        n = sock.recv_into(b)
        if n == 0:
            return total
        total += n


def serve_one(conn, args, buf):
    try:
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
        if args.dir == "down":
            conn.sendall(b"220 bench\r\n")
            send_size(conn, buf, args.size)
            conn.sendall(b"211 End\r\n")
            conn.shutdown(socket.SHUT_WR)
            drain(conn)
        else:
            conn.sendall(b"220 bench\r\n")
            drain(conn)
            conn.sendall(b"221 Bye\r\n")
            conn.shutdown(socket.SHUT_WR)
    except OSError as e:
        print("server: %s" % e, file=sys.stderr)
    finally:
        conn.close()


def cpu_busy_ns():
    """Nanoseconds the CPUs have not been idle, all CPUs summed, exactly:
    /proc/timer_list's clock ("now at") per CPU less each CPU's idle and
    iowait time, which NO_HZ measures at idle entry and exit (/proc/stat's
    busy fields are sampled at the tick instead). -1 when unreadable."""
    now = cpus = idle = 0
    try:
        with open("/proc/timer_list") as f:
            for line in f:
                w = line.split()
                if line.startswith("now at"):
                    now = int(w[2])
                elif w[:1] == ["cpu:"]:
                    cpus += 1
                elif w[:1] in ([".idle_sleeptime"], [".iowait_sleeptime:"]):
                    idle += int(w[-2])
    except (OSError, ValueError, IndexError):
        return -1
    return now * cpus - idle if now and cpus else -1


def server(args):
    buf = payload(args.kind, args.addr)
    log = None
    if args.log:
        log = os.open(args.log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((args.bind, args.port))
    s.listen(64)
    while True:
        conn, _ = s.accept()
        if log is not None:
            os.write(log, ("accept %.6f %d\n" % (time.time(), cpu_busy_ns())).encode())
        threading.Thread(target=serve_one, args=(conn, args, buf),
                         daemon=True).start()


def client_one(args, buf, w):
    s = socket.create_connection((args.host, args.port), timeout=args.timeout)
    t0 = time.time()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    if args.dir == "down":
        n = drain(s)
    else:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
        send_size(s, buf, args.size)
        s.shutdown(socket.SHUT_WR)
        n = args.size + drain(s)
    t1 = time.time()
    s.close()
    os.write(w, ("%d %.6f %.6f\n" % (n, t0, t1)).encode())


def client(args):
    buf = payload(args.kind, args.addr)
    r, w = os.pipe()
    pids = []
    for _ in range(args.parallel):
        pid = os.fork()
        if pid == 0:
            os.close(r)
            rc = 0
            try:
                client_one(args, buf, w)
            except Exception as e:  # noqa: BLE001 - report and fail
                print("client: %s" % e, file=sys.stderr)
                rc = 1
            os._exit(rc)
        pids.append(pid)
    os.close(w)
    bad = 0
    for pid in pids:
        _, st = os.waitpid(pid, 0)
        bad += st != 0
    data = b""
    while True:
        d = os.read(r, 4096)
        if not d:
            break
        data += d
    rows = [line.split() for line in data.decode().splitlines()]
    if bad or len(rows) != args.parallel:
        print("client: %d of %d streams failed" % (bad, args.parallel),
              file=sys.stderr)
        return 1
    total = sum(int(x[0]) for x in rows)
    secs = max(float(x[2]) for x in rows) - min(float(x[1]) for x in rows)
    print("bytes=%d secs=%.6f streams=%d" % (total, secs, len(rows)))
    return 0


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["server", "client", "gen"])
    p.add_argument("--host", default="198.51.100.2")
    p.add_argument("--port", type=int, default=21)
    p.add_argument("--bind", default="0.0.0.0", help="server address")
    p.add_argument("--size", type=int, default=32 << 20)
    p.add_argument("--dir", choices=["down", "up"], default="down")
    p.add_argument("--kind", default="reply211")
    p.add_argument("--addr", default="192.0.2.2")
    p.add_argument("--parallel", type=int, default=1)
    p.add_argument("--timeout", type=float, default=120)
    p.add_argument("--log", help="server: append accept times here")
    args = p.parse_args()
    if args.mode == "server":
        server(args)
        return 0
    if args.mode == "gen":
        buf = payload(args.kind, args.addr)
        send_size_fd(sys.stdout.buffer, buf, args.size)
        return 0
    return client(args)


if __name__ == "__main__":
    sys.exit(main())
