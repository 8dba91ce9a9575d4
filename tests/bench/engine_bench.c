// SPDX-License-Identifier: GPL-2.0
/*
 * Throughput of the pinhole FTP engine (module/ftp_engine.c) natively,
 * with no kernel around it: the module's parser alone, per line kind.
 *
 *   engine_bench [-m MB] [-s SEG] [-r ROUNDS] [-k KIND[,KIND...]] [-n]
 *
 * Kinds: reply (a long multi-line reply, "211-xxx...", server to client),
 * reply8 (the same with UTF-8 text, Cyrillic and Japanese: bytes above
 * 0x80, which the reply scan's first test lets through), noop ("NOOP"
 * commands), port (a "PORT" command per line: every line is an
 * announcement), port4 (the same, taken as the helper takes them:
 * four offers a segment, the rest refused unparsed), mixed (a whole FTP
 * session's commands and replies, both directions in turn), browse
 * (commands that announce nothing, as the guest bench's stream-mixed rows
 * send). Each kind moves MB megabytes
 * (default 64) in segments of SEG bytes (default 1448, a TCP segment on
 * Ethernet) through ftp_stream_segment(), as the module does for a linear
 * skb, ROUNDS times (default 5). One line per kind:
 *
 *   engine kind=K seg=S MB=M rounds=R MBps=best MBps_med=median
 *          MBps_min=worst MBps_max=best cyc_per_B=C cyc_per_B_med=Cm
 *          tsc_per_B=T memcpy_MBps=X lines=L offers=O check=ok
 *
 * MBps is megabytes per second of this thread's CPU time
 * (clock_gettime(CLOCK_THREAD_CPUTIME_ID), not wall time: a loaded machine
 * preempts us); cyc_per_B is the same CPU time in TSC cycles per byte, at
 * the TSC rate measured at start (rdtsc against CLOCK_MONOTONIC_RAW);
 * tsc_per_B the raw rdtsc difference per byte (wall clock, inflated by any
 * preemption). MBps, cyc_per_B and tsc_per_B are the best round; MBps_med
 * and cyc_per_B_med the median round, MBps_min..MBps_max the range over
 * the rounds. TSC cycles are not core cycles when the core runs at another
 * clock than the TSC's. memcpy_MBps copies each segment once, for scale:
 * what the stock helper's skb_linearize() costs per nonlinear segment, at
 * best. check=FAILED (and exit status 1) when the port corpus did not
 * yield one accepted offer per line: the engine must really have parsed.
 *
 * Honesty: tests/bench/Makefile builds ftp_engine.c with the kernel's
 * code-generation flags (no SSE, no jump tables, ...) and links the
 * kernel's string routines (kstring.c), never glibc's vectorised ones;
 * see there.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#define HAVE_TSC 1
#endif

#include "ftp_engine.h"
#include "kstring.h"

struct counts {
	unsigned long offers;
	unsigned long accepted;
	unsigned int seg_offers;	/* in the current segment */
	unsigned int budget;		/* offers wanted a segment; 0: all */
};

static bool on_offer(void *ctx, const struct ftp_offer *o)
{
	struct counts *c = ctx;

	c->offers += o->lines;
	c->seg_offers += o->lines;
	c->accepted += o->refusal == FTP_ACCEPTED;
	return false;	/* no pinhole: nothing for the reply queue to track */
}

/* As the helper's pinhole_wants_offers(), PINHOLE_OFFERS_PER_SEGMENT 4. */
static bool wants_offers(void *ctx)
{
	const struct counts *c = ctx;

	return !c->budget || c->seg_offers < c->budget;
}

static void on_note(void *ctx, enum ftp_note n)
{
	(void)ctx;
	(void)n;
}

static const struct ftp_engine_ops ops = {
	.offer = on_offer, .note = on_note, .wants_offers = wants_offers,
};

/* A session as a plausible client and server would hold it. */
static const char mixed_commands[] =
	"USER anonymous\r\n" "PASS guest@example.org\r\n" "SYST\r\n"
	"FEAT\r\n" "PWD\r\n" "TYPE I\r\n" "CWD /pub/debian/dists\r\n"
	"EPSV\r\n" "LIST -la\r\n" "SIZE Release\r\n" "MDTM Release\r\n"
	"PASV\r\n" "RETR Release\r\n" "NOOP\r\n"
	"PORT 192,0,2,2,156,64\r\n" "RETR Release.gpg\r\n"
	"EPRT |1|192.0.2.2|40001|\r\n" "NLST\r\n" "CDUP\r\n" "NOOP\r\n";
static const char mixed_replies[] =
	"220 (vsFTPd 3.0.3)\r\n" "331 Please specify the password.\r\n"
	"230 Login successful.\r\n" "215 UNIX Type: L8\r\n"
	"211-Features:\r\n EPRT\r\n EPSV\r\n MDTM\r\n PASV\r\n REST STREAM\r\n"
	" SIZE\r\n TVFS\r\n UTF8\r\n211 End\r\n"
	"257 \"/\" is the current directory\r\n"
	"200 Switching to Binary mode.\r\n"
	"250 Directory successfully changed.\r\n"
	"229 Entering Extended Passive Mode (|||40002|)\r\n"
	"150 Here comes the directory listing.\r\n" "226 Directory send OK.\r\n"
	"213 151234\r\n" "213 20260101120000\r\n"
	"227 Entering Passive Mode (198,51,100,2,156,67).\r\n"
	"150 Opening BINARY mode data connection for Release (151234 bytes).\r\n"
	"226 Transfer complete.\r\n" "200 NOOP ok.\r\n"
	"200 PORT command successful. Consider using PASV.\r\n"
	"150 Opening BINARY mode data connection for Release.gpg (1234 bytes).\r\n"
	"226 Transfer complete.\r\n" "200 EPRT command successful.\r\n"
	"150 Here comes the directory listing.\r\n" "226 Directory send OK.\r\n"
	"250 Directory successfully changed.\r\n" "200 NOOP ok.\r\n";

/* Commands that announce nothing, 4 of 16 starting with A, P or T. */
static const char browse_commands[] =
	"TYPE I\r\n" "CWD /pub/debian/dists/bookworm\r\n" "PWD\r\n"
	"SIZE Release\r\n" "MDTM Release\r\n" "NOOP\r\n" "STAT\r\n"
	"OPTS UTF8 ON\r\n" "ALLO 1048576\r\n" "MODE S\r\n" "STRU F\r\n"
	"ACCT none\r\n" "CDUP\r\n" "SYST\r\n" "FEAT\r\n" "HELP SITE\r\n";

static const struct kind {
	const char *name;
	const char *text[2];	/* indexed by enum ftp_dir; NULL: silent */
	bool every_line_offers;
	unsigned int budget;	/* offers taken a segment (0: all) */
} kinds[] = {
	{ "reply", { NULL, "211-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\r\n" }, false, 0 },
	{ "reply8", { NULL, "211-\xd0\x9a\xd0\xb0\xd1\x82\xd0\xb0\xd0\xbb\xd0\xbe\xd0\xb3 "
			    "\xd1\x84\xd0\xb0\xd0\xb9\xd0\xbb\xd0\xbe\xd0\xb2 "
			    "\xe3\x83\x87\xe3\x83\xbc\xe3\x82\xbf "
			    "\xe3\x83\x95\xe3\x82\xa1\xe3\x82\xa4\xe3\x83\xab "
			    "\xd0\xbf\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82\r\n" }, false, 0 },
	{ "noop", { "NOOP\r\n", NULL }, false, 0 },
	{ "port", { "PORT 192,0,2,2,156,64\r\n", NULL }, true, 0 },
	{ "port4", { "PORT 192,0,2,2,156,64\r\n", NULL }, true, 4 },
	{ "mixed", { mixed_commands, mixed_replies }, false, 0 },
	/* ftpstream.py's "mixed" kind: the guest's stream-mixed rows */
	{ "browse", { browse_commands, NULL }, false, 0 },
};

/*
 * One direction's stream: its text repeated in a ring long enough that a
 * segment starting anywhere in the first @usable bytes fits; @usable is a
 * whole number of texts, so the stream stays continuous across the wrap.
 */
struct ring {
	unsigned char *buf;
	size_t len, usable;
	size_t lf;		/* LFs in one text */
	size_t text_len;
};

static int ring_init(struct ring *r, const char *text, size_t seg)
{
	size_t l = strlen(text), i;

	r->text_len = l;
	r->lf = 0;
	for (i = 0; i < l; i++)
		r->lf += text[i] == '\n';
	r->usable = ((1u << 20) / l + 1) * l;
	r->len = r->usable + seg;
	r->buf = malloc(r->len);
	if (!r->buf)
		return -ENOMEM;
	for (i = 0; i < r->len; i++)
		r->buf[i] = text[i % l];
	return 0;
}

/* LFs in the first @bytes bytes of the stream. */
static size_t ring_lines(const struct ring *r, size_t bytes)
{
	size_t n = bytes / r->text_len * r->lf, i;

	for (i = 0; i < bytes % r->text_len; i++)
		n += r->buf[i] == '\n';
	return n;
}

static double clock_s(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t tsc(void)
{
#ifdef HAVE_TSC
	return __rdtsc();
#else
	return 0;
#endif
}

/* TSC ticks per second: the median of three 0.1 s spins. */
static double tsc_hz(void)
{
#ifdef HAVE_TSC
	double hz[3], t0, t1, x;
	uint64_t c0, c1;
	int i, j;

	for (i = 0; i < 3; i++) {
		t0 = clock_s(CLOCK_MONOTONIC_RAW);
		c0 = tsc();
		do
			t1 = clock_s(CLOCK_MONOTONIC_RAW);
		while (t1 - t0 < 0.1);
		c1 = tsc();
		hz[i] = (c1 - c0) / (t1 - t0);
	}
	for (i = 1; i < 3; i++)
		for (j = i; j > 0 && hz[j - 1] > hz[j]; j--) {
			x = hz[j];
			hz[j] = hz[j - 1];
			hz[j - 1] = x;
		}
	return hz[1];
#else
	return 0;
#endif
}

struct round {
	double cpu_s;
	uint64_t ticks;
};

/* One round: @total bytes in @seg-byte segments, directions in turn. */
static size_t run_round(const struct ring *rings, const struct kind *k,
			size_t total, size_t seg, struct counts *c,
			struct round *out)
{
	struct ftp_session s;
	unsigned int seq[2] = { 1, 1 };
	size_t done = 0;
	double cpu0;
	uint64_t t0;
	int d;

	ftp_session_init(&s, FTP_FAMILY_IPV4);
	c->budget = k->budget;
	for (d = 0; d < 2; d++)	/* the SYNs: both directions in sync */
		if (k->text[d])
			ftp_stream_begin(&s, d, 1, 0, true, &ops, c);
	cpu0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
	t0 = tsc();
	while (done < total) {
		for (d = 0; d < 2; d++) {
			if (!k->text[d])
				continue;
			c->seg_offers = 0;
			ftp_stream_segment(&s, d, seq[d],
					   rings[d].buf + (seq[d] - 1) % rings[d].usable,
					   seg, false, &ops, c);
			seq[d] += seg;
			done += seg;
		}
	}
	out->ticks = tsc() - t0;
	out->cpu_s = clock_s(CLOCK_THREAD_CPUTIME_ID) - cpu0;
	return done;
}

static bool no_memcpy;	/* -n */

/* The same segments copied once each: memcpy for scale (best round). */
static double memcpy_mbps(const struct ring *rings, const struct kind *k,
			  size_t total, size_t seg, int rounds)
{
	unsigned char *dst = malloc(seg);
	volatile unsigned char sink = 0;
	double best = 0, t;
	size_t off, done;
	int r, d;

	if (!dst || no_memcpy) {
		free(dst);
		return 0;
	}
	for (r = 0; r < rounds; r++) {
		t = clock_s(CLOCK_THREAD_CPUTIME_ID);
		for (off = 0, done = 0; done < total; off += seg)
			for (d = 0; d < 2; d++) {
				if (!k->text[d])
					continue;
				memcpy(dst, rings[d].buf + off % rings[d].usable, seg);
				sink ^= dst[seg - 1];
				done += seg;
			}
		t = clock_s(CLOCK_THREAD_CPUTIME_ID) - t;
		if (t > 0 && done / 1048576.0 / t > best)
			best = done / 1048576.0 / t;
	}
	free(dst);
	return best;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The median of @n sorted values. */
static double median(const double *v, int n)
{
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int bench_kind(const struct kind *k, size_t mb, size_t seg, int rounds,
		      double hz)
{
	struct ring rings[2] = { { 0 }, { 0 } };
	struct round rd;
	struct counts c;
	double mbps[64], cpu[64], mb_done = 0;
	uint64_t best_ticks = UINT64_MAX;
	size_t done = 0, lines = 0;
	int r, d, bad = 0;

	for (d = 0; d < 2; d++)
		if (k->text[d] && ring_init(&rings[d], k->text[d], seg))
			return -1;
	for (r = 0; r < rounds; r++) {
		memset(&c, 0, sizeof(c));
		done = run_round(rings, k, mb << 20, seg, &c, &rd);
		mb_done = done / 1048576.0;
		mbps[r] = rd.cpu_s > 0 ? mb_done / rd.cpu_s : 0;
		cpu[r] = rd.cpu_s;
		if (rd.ticks < best_ticks)
			best_ticks = rd.ticks;
	}
	/* each direction moved done / directions bytes */
	for (d = 0; d < 2; d++)
		if (k->text[d])
			lines += ring_lines(&rings[d], done / (k->text[0] && k->text[1] ? 2 : 1));
	if (k->every_line_offers &&
	    (c.offers != lines || (!k->budget && c.accepted != lines)))
		bad = 1;
	qsort(mbps, rounds, sizeof(mbps[0]), cmp_double);
	qsort(cpu, rounds, sizeof(cpu[0]), cmp_double);
	printf("engine kind=%s seg=%zu MB=%.0f rounds=%d MBps=%.1f MBps_med=%.1f "
	       "MBps_min=%.1f MBps_max=%.1f cyc_per_B=%.3f cyc_per_B_med=%.3f "
	       "tsc_per_B=%.3f memcpy_MBps=%.1f lines=%zu offers=%lu accepted=%lu check=%s\n",
	       k->name, seg, mb_done, rounds, mbps[rounds - 1], median(mbps, rounds),
	       mbps[0], mbps[rounds - 1], cpu[0] * hz / done,
	       median(cpu, rounds) * hz / done, (double)best_ticks / done,
	       memcpy_mbps(rings, k, mb << 20, seg, rounds), lines, c.offers,
	       c.accepted, bad ? "FAILED:not-one-accepted-offer-per-line" : "ok");
	fflush(stdout);
	for (d = 0; d < 2; d++)
		free(rings[d].buf);
	return bad;
}

static int usage(const char *prog)
{
	fprintf(stderr, "usage: %s [-m MB] [-s SEG] [-r ROUNDS] [-k KIND[,KIND...]] [-n]\n"
		"-n: no memcpy pass (memcpy_MBps=0), for counting the engine alone\n"
		"kinds: reply reply8 noop port port4 mixed browse (default: all)\n", prog);
	return 2;
}

static bool wanted(const char *list, const char *name)
{
	size_t l = strlen(name);
	const char *p = list;

	if (!list)
		return true;
	while ((p = strstr(p, name))) {
		if ((p == list || p[-1] == ',') && (p[l] == ',' || p[l] == '\0'))
			return true;
		p += l;
	}
	return false;
}

int main(int argc, char **argv)
{
	size_t mb = 64, seg = 1448, i;
	int rounds = 5, opt, bad = 0, ran = 0;
	const char *only = NULL;
	double hz;

	while ((opt = getopt(argc, argv, "m:s:r:k:n")) != -1) {
		switch (opt) {
		case 'n': no_memcpy = true; break;
		case 'm': mb = strtoul(optarg, NULL, 0); break;
		case 's': seg = strtoul(optarg, NULL, 0); break;
		case 'r': rounds = atoi(optarg); break;
		case 'k': only = optarg; break;
		default: return usage(argv[0]);
		}
	}
	if (optind != argc || !mb || seg < 1 || seg > 65535 || rounds < 1 || rounds > 64)
		return usage(argv[0]);
	hz = tsc_hz();
	printf("# engine_bench: module/ftp_engine.c with the kernel's code-generation flags; %s; "
	       "TSC %.1f MHz (rdtsc measured against CLOCK_MONOTONIC_RAW); "
	       "MBps from thread CPU time (CLOCK_THREAD_CPUTIME_ID), cyc_per_B = that time at the TSC rate\n",
	       kstring_describe(), hz / 1e6);
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		if (!wanted(only, kinds[i].name))
			continue;
		ran++;
		if (bench_kind(&kinds[i], mb, seg, rounds, hz))
			bad++;
	}
	if (!ran)
		return usage(argv[0]);
	return bad ? 1 : 0;
}
