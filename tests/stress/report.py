#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Verdicts and the table of make stress, from the files
tests/stress/stress.sh leaves in its work directory:

  load.log     ftpload.py's JSON events (transfers, sessions, stalls)
  windows      "START END NAME": a disruption ran from START to END
  deleted      "T SRC SPORT": conntrack -D removed that master at T
  facts        "key value" lines measured by stress.sh

A transfer is excused when it overlaps the window of a disruption that
touches every session (EXCUSE_ALL; widened by --grace seconds after its
end, for the TCP retransmissions it caused), or when its session's master
was deleted while it ran or just before it (the session's first transfer
that ended after the deletion). The other windows (a few masters deleted,
namespaces churned beside the load) excuse nothing. Every other transfer
must have succeeded.

usage: report.py WORKDIR --sessions N --grace S
Prints PASS:/FAIL: stress/... lines and the table; exit status 1 when a
verdict failed.
"""
import argparse
import collections
import json
import os
import sys

# Disruptions that change what every session may do: policy flips, the
# expectation table flushed or full, the helper detached, allocations
# failed at random.
EXCUSE_ALL = ("sysctl", "flush", "reload", "expect-full", "faults")


def read_lines(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [l.split() for l in f if l.strip()]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("work")
    ap.add_argument("--sessions", type=int, required=True)
    ap.add_argument("--grace", type=float, required=True)
    a = ap.parse_args()
    w = a.work

    xfers, connects, stalls = [], [], []
    with open(os.path.join(w, "load.log")) as f:
        for line in f:
            e = json.loads(line)
            if e["kind"] == "xfer":
                xfers.append(e)
            elif e["kind"] == "session" and e["what"] == "connect":
                connects.append(e)
            elif e["kind"] == "stall":
                stalls.append((e["t0"], e["t1"]))
    windows = [(float(s), float(e), n)
               for s, e, n in read_lines(os.path.join(w, "windows"))]
    deleted = [(float(t), src, int(p))
               for t, src, p in read_lines(os.path.join(w, "deleted"))]
    facts = {l[0]: " ".join(l[1:])
             for l in read_lines(os.path.join(w, "facts"))}

    # Which session owned which (src, lport) from when: deletions name
    # the master by its original source.
    owner = {}
    for c in connects:
        owner.setdefault((c["src"], c["lport"]), []).append(
            (c["t"], c["session"]))
    excused_after = collections.defaultdict(list)   # session -> times
    for t, src, port in deleted:
        # The session that held (src, port) last before the deletion.
        held = [(t_conn, sess) for t_conn, sess in owner.get((src, port), [])
                if t_conn <= t]
        if held:
            excused_after[max(held)[1]].append(t)

    def stalled_during(x):
        # Seconds the load generator itself stood still during x: a
        # diagnosis printed with a failure, never an excuse for one.
        return sum(max(0.0, min(e, x["t1"]) - max(s, x["t0"]))
                   for s, e in stalls)

    def window_of(x):
        for s, e, n in windows:
            if n in EXCUSE_ALL and x["t0"] <= e + a.grace and x["t1"] >= s:
                return n
        return None

    def during(x):
        # The window a failure fell in, when it excuses nothing: a
        # diagnosis printed with it.
        for s, e, n in windows:
            if x["t0"] <= e + a.grace and x["t1"] >= s:
                return ", during %s" % n
        return ""

    calm_ok = calm_fail = exc_ok = exc_fail = 0
    fails = []
    by_window = collections.Counter()
    nat_ok = collections.Counter()
    kinds_ok = collections.Counter()
    first_after = {}   # (session, deletion time) consumed
    for x in sorted(xfers, key=lambda x: x["t0"]):
        n = window_of(x)
        if n is None:
            for t in excused_after.get(x["session"], []):
                if x["t1"] >= t and (x["session"], t) not in first_after:
                    first_after[(x["session"], t)] = True
                    n = "deleted-master"
                    break
        if n is None:
            if x["ok"]:
                calm_ok += 1
                kinds_ok[(x["family"], x["cmd"])] += 1
                if x["nat"]:
                    nat_ok[(x["family"], x["cmd"])] += 1
            else:
                calm_fail += 1
                fails.append(x)
        else:
            if x["ok"]:
                exc_ok += 1
            else:
                exc_fail += 1
                by_window[n] += 1

    failed = 0

    def verdict(ok, case, why):
        nonlocal failed
        if ok:
            print("PASS: stress/%s" % case)
        else:
            print("FAIL: stress/%s: %s" % (case, why))
            failed += 1

    def number(name, kind=int):
        # A fact the run could not record ("": e.g. the load generator
        # was killed before it wrote its summary) is None, not a crash.
        try:
            return kind(float(facts.get(name, "")))
        except ValueError:
            return None

    t_start = number("t_start", float) or 0.0
    t_end = number("t_end", float) or 0.0
    peak_conn = number("peak_connected")
    verdict(peak_conn is not None, "load-summary",
            "ftpload.py left no summary (killed before it wrote one: "
            "see load.err); its peak of connected sessions is unknown")
    peak_conn = peak_conn or 0
    verdict(peak_conn >= a.sessions, "sessions",
            "only %d of %d sessions were connected at once"
            % (peak_conn, a.sessions))
    peak_exp = number("peak_expectations") or 0
    verdict(peak_exp >= a.sessions * 9 // 10, "pinholes",
            "peak %d expectations on fw for %d sessions"
            % (peak_exp, a.sessions))
    verdict(calm_fail == 0, "transfers",
            "%d transfers failed that no disruption excuses, e.g. %s"
            % (calm_fail, "; ".join(
                "%.0f s session %d v%d %s%s: %s (generator stalled %.0f s "
                "of it%s)" % (
                    x["t0"] - t_start, x["session"],
                    x["family"], x["cmd"], " nat" if x["nat"] else "",
                    x["err"], stalled_during(x), during(x))
                for x in fails[:3])))
    verdict(calm_ok >= a.sessions, "transfers-count",
            "only %d transfers that no disruption excuses (want >= %d)"
            % (calm_ok, a.sessions))
    # Throughout: every gap between disruptions saw transfers complete.
    ok_times = sorted(x["t1"] for x in xfers if x["ok"])
    starved = []
    bounds = sorted((s, e) for s, e, _ in windows)
    for (s1, e1), (s2, _) in zip(bounds, bounds[1:]):
        lo, hi = e1 + a.grace, s2
        if hi - lo > 10 and not any(lo <= t <= hi for t in ok_times):
            starved.append("%.0f-%.0f" % (lo, hi))
    verdict(not starved and ok_times, "throughout",
            "no transfer completed between disruptions in %s" % starved)
    want = {(4, c) for c in ("PASV", "EPSV", "PORT", "EPRT")} | \
        {(6, c) for c in ("EPSV", "EPRT")}
    missing = sorted(want - set(kinds_ok))
    verdict(not missing, "modes", "no successful transfer for %s" % missing)
    nat_missing = sorted(want - set(nat_ok))
    verdict(not nat_missing, "nat",
            "no successful NATed transfer for %s" % nat_missing)
    # Negative control: with the helper detached, data connections of
    # this firewall must fail (else a success proves nothing).
    if any(n == "reload" for _, _, n in windows):
        verdict(by_window["reload"] > 0, "control-helper-detached",
                "no transfer failed while the helper was detached")
    else:
        # PINHOLE_STRESS_ONLY left the reload out: no negative control.
        print("SKIP: stress/control-helper-detached: no reload disruption ran")

    print()
    print("%-34s %s" % ("stress", "value"))
    rows = [
        ("sessions (peak concurrent)", peak_conn),
        ("control connections opened", len(connects)),
        ("transfers ok / failed", "%d / %d" % (calm_ok + exc_ok,
                                               calm_fail + exc_fail)),
        ("  not excused ok / failed", "%d / %d" % (calm_ok, calm_fail)),
        ("  excused failures by disruption", dict(by_window) or "-"),
        ("peak expectations (fw)", peak_exp),
        ("disruptions", len(windows)),
        ("masters deleted (conntrack -D)", len(deleted)),
        ("load generator stalls > 1 s", "%d, longest %.1f s, %.0f s in all"
         % (len(stalls), max((e - s for s, e in stalls), default=0.0),
            sum(e - s for s, e in stalls))),
    ]
    for k in sorted(facts):
        if k.startswith("show_"):
            rows.append((k[5:].replace("_", " "), facts[k]))
    rows.append(("duration", "%.0f s" % (t_end - t_start)))
    for k, v in rows:
        print("%-34s %s" % (k, v))
    print()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
