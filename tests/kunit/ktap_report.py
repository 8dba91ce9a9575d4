#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""
Turn a UML KUnit console log (kunit.py exec --raw_output=all) into pinhole's
test protocol: one `PASS: kunit/<suite>/<case>` or `FAIL: kunit/<suite>/<case>:
<why>` line per test case. Exit status 1 if anything failed or did not run:
a failing or skipped case, a suite or case missing (crash, hang), no KTAP at
all, a suite declared in the given sources that never reported, or a
BUG/WARNING/Oops/panic on the console.

Usage: ktap_report.py RUN_LOG EXEC_EXIT_STATUS FILTER_GLOB [SOURCE.c ...]
"""
import fnmatch, re, sys

log, exec_rc, filt, sources = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4:]
lines = open(log, errors='replace').read().splitlines()

ts = re.compile(r'^\[\s*\d+\.\d+\]\s?')
res = re.compile(r'^(not ok|ok) (\d+)(?: -)? ?([^#]*?)\s*(?:#\s*(.*))?$')
crash = re.compile(r'Kernel panic|BUG:|Oops|general protection fault|WARNING:|UBSAN:|KASAN:|Segmentation fault')

out, failed = [], 0
def emit(ok, name, why=''):
    global failed
    if ok:
        out.append('PASS: kunit/%s' % name)
    else:
        failed += 1
        why = ' '.join(why.split())[:300] or 'failed'
        out.append('FAIL: kunit/%s: %s' % (name, why))

suite_plan = None          # top-level 1..N
suites_seen = []
cur = None                 # current suite: dict(name, plan, cases, diag)
def new_suite():
    return {'name': None, 'plan': None, 'cases': [], 'diag': [], 'param_fail': []}

started = False
console_bad = []
for raw in lines:
    line = ts.sub('', raw.rstrip())
    if crash.search(line):
        console_bad.append(line.strip())
    if not started:
        if re.search(r'\b(K?TAP) version \d+', line):
            started = True
            # keep whatever precedes "KTAP" as a prefix to strip
            prefix = line[:line.index('TAP version') - (1 if 'KTAP' in line else 0)]
            prefix = prefix if prefix.strip() else ''
        continue
    if prefix and line.startswith(prefix):
        line = line[len(prefix):]
    body = line.lstrip(' \t')
    ws = line[:len(line) - len(body)].replace('\t', '    ')
    depth = len(ws) // 4
    if not body or re.match(r'K?TAP version', body):
        continue
    m = re.match(r'^1\.\.(\d+)$', body)
    if m:
        if depth == 0:
            suite_plan = int(m.group(1))
        elif depth == 1:
            cur = cur or new_suite()
            cur['plan'] = int(m.group(1))
        continue
    m = re.match(r'^# Subtest: (\S+)', body)
    if m:
        if depth <= 1:
            if cur is not None and cur['name'] is not None:
                suites_seen.append(cur)   # it never reported; flagged below
                cur = None
            cur = cur or new_suite()
            cur['name'] = m.group(1)
        continue
    m = res.match(body)
    if m:
        ok = m.group(1) == 'ok'
        name = m.group(3).strip()
        directive = (m.group(4) or '').strip()
        skipped = directive.upper().startswith('SKIP')
        if depth == 0:
            s = cur or new_suite()
            s['name'] = s['name'] or name
            s['result'] = (ok, skipped, directive)
            suites_seen.append(s)
            cur = None
        elif depth == 1:
            cur = cur or new_suite()
            why = ''
            if skipped:
                why = 'skipped: ' + directive[4:].strip()
            elif not ok:
                why = '; '.join(cur['param_fail'][:3] + [d for d in cur['diag'] if d][:3])
            cur['cases'].append((name, ok and not skipped, why))
            cur['diag'], cur['param_fail'] = [], []
        else:
            if cur is not None and (not ok):
                cur['param_fail'].append('param "%s" failed' % name)
        continue
    if body.startswith('#'):
        if cur is not None and depth >= 1:
            d = body.lstrip('#').strip()
            if not re.match(r'^(\S+: )?pass:\d+ fail:\d+|^Totals|^(module|speed|file): ', d):
                cur['diag'].append(d)
        continue
    # free text: diagnostics of an expectation (Expected ..., which is ...)
    if cur is not None and depth >= 1:
        cur['diag'].append(body.strip())

if cur is not None and cur not in suites_seen:
    suites_seen.append(cur)

if not started:
    tail = ' | '.join(l.strip() for l in lines[-5:])
    emit(False, 'run', 'no KTAP output (kernel did not boot or crashed: %s)' % tail)

reported = set()
for s in suites_seen:
    sname = s['name'] or '?'
    reported.add(sname)
    for (c, ok, why) in s['cases']:
        emit(ok, '%s/%s' % (sname, c), why)
    if s['plan'] is not None and len(s['cases']) < s['plan']:
        for i in range(len(s['cases']) + 1, s['plan'] + 1):
            emit(False, '%s/case#%d' % (sname, i), 'no result (kernel crashed or hung?)')
    if 'result' not in s:
        emit(False, '%s' % sname, 'suite did not finish (kernel crashed or hung?)')
    else:
        ok, skipped, directive = s['result']
        if skipped and not s['cases']:
            emit(False, sname, 'suite skipped: ' + directive[4:].strip())
        elif not ok and all(x[1] for x in s['cases']):
            emit(False, sname, 'suite failed without a failing case (init/exit?)')

if started and suite_plan is not None and len(suites_seen) < suite_plan:
    emit(False, 'run', 'only %d of %d suites reported' % (len(suites_seen), suite_plan))

# Every suite declared in tests/kunit/*.c must have reported.
sglob = filt.split('.')[0] if filt else '*'
decl = re.compile(r'struct\s+kunit_suite\s+\w+\s*=\s*\{.*?\.name\s*=\s*"([^"]+)"', re.S)
for src in sources:
    try:
        text = open(src, errors='replace').read()
    except OSError:
        continue
    for sname in decl.findall(text):
        if fnmatch.fnmatchcase(sname, sglob) and sname not in reported:
            emit(False, sname, 'declared in %s but never ran' % src.split('/')[-1])

for l in dict.fromkeys(console_bad):
    emit(False, 'console', l)
npass = sum(1 for o in out if o.startswith('PASS'))
if started and npass == 0 and failed == 0:
    emit(False, 'run', 'no test case ran')
if exec_rc != 0 and failed == 0:
    emit(False, 'run', 'kunit.py exec exited %d' % exec_rc)

print('\n'.join(out))
print('kunit.sh: %d passed, %d failed' % (npass, failed), file=sys.stderr)
sys.exit(1 if failed else 0)
