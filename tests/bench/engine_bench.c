// SPDX-License-Identifier: GPL-2.0
/*
 * Userspace throughput of the pinhole FTP engine (module/ftp_engine.c),
 * natively, with no kernel around it: feeds MB megabytes of one line kind
 * in segments of SEG bytes through ftp_stream_segment() and reports MB/s
 * of process CPU time (CPU time, not wall time: robust on a loaded host).
 * For scale it also reports a memcpy of each segment (what the stock
 * helper's skb_linearize() costs per nonlinear segment, at best).
 *
 *   engine_bench [MB [SEG]]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ftp_engine.h"

static unsigned long offers;

static bool on_offer(void *ctx, const struct ftp_offer *o)
{
	(void)ctx; (void)o;
	offers++;
	return false;
}

static void on_note(void *ctx, enum ftp_note n)
{
	(void)ctx; (void)n;
}

static const struct ftp_engine_ops ops = { .offer = on_offer, .note = on_note };

static double cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static unsigned char *fill(const char *line, size_t size)
{
	unsigned char *b = malloc(size);
	size_t l = strlen(line), i;

	for (i = 0; i < size; i++)
		b[i] = line[i % l];
	return b;
}

int main(int argc, char **argv)
{
	size_t mb = argc > 1 ? strtoul(argv[1], NULL, 0) : 256;
	size_t seg = argc > 2 ? strtoul(argv[2], NULL, 0) : 1448;
	static const struct { const char *name, *line; enum ftp_dir dir; } kinds[] = {
		{ "reply211", "211-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\r\n", FTP_DIR_REPLY },
		{ "noop", "NOOP\r\n", FTP_DIR_COMMAND },
		{ "port", "PORT 192,0,2,2,156,64\r\n", FTP_DIR_COMMAND },
	};
	size_t total = mb << 20, k, off;
	/* a buffer a whole number of lines longer than one segment */
	size_t blen = 1 << 20;
	unsigned char *dst = malloc(seg);
	volatile unsigned char sink = 0;

	for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		size_t l = strlen(kinds[k].line);
		size_t usable = blen - blen % l - seg - l;

		usable -= usable % l;	/* wrap on a line boundary */
		unsigned char *buf = fill(kinds[k].line, blen);
		struct ftp_session s;
		double t0, t1, t2;
		unsigned int seq = 1;

		ftp_session_init(&s, FTP_FAMILY_IPV4);
		offers = 0;
		t0 = cpu_now();
		for (off = 0; off < total; off += seg) {
			ftp_stream_segment(&s, kinds[k].dir, seq,
					   buf + (seq - 1) % usable, seg, false, &ops, NULL);
			seq += seg;
		}
		t1 = cpu_now();
		for (off = 0; off < total; off += seg) {
			memcpy(dst, buf + off % usable, seg);
			sink ^= dst[seg - 1];
		}
		t2 = cpu_now();
		printf("engine kind=%s seg=%zu MB=%zu engine_MBps=%.1f memcpy_MBps=%.1f offers=%lu\n",
		       kinds[k].name, seg, mb, mb / (t1 - t0), mb / (t2 - t1), offers);
		free(buf);
	}
	free(dst);
	return 0;
}
