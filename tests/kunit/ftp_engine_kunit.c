// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite "pinhole_ftp_engine": the FTP engine (module/ftp_engine.c)
 * compiled and run in kernel context. Run with scripts/kunit.sh.
 */
#include <kunit/test.h>
#include <linux/kernel.h>
#include <linux/string.h>
#include <linux/types.h>

#include "ftp_engine.h"

#define MAX_OFFERS 4

/* What the engine reported through its callbacks. */
struct recorder {
	unsigned int n_offers;	/* may exceed MAX_OFFERS; only the first are kept */
	struct ftp_offer offers[MAX_OFFERS];
	unsigned int notes[FTP_NOTE_COUNT];
};

static bool record_offer(void *ctx, const struct ftp_offer *offer)
{
	struct recorder *r = ctx;

	if (r->n_offers < MAX_OFFERS)
		r->offers[r->n_offers] = *offer;
	r->n_offers++;
	return false;
}

static void record_note(void *ctx, enum ftp_note note)
{
	struct recorder *r = ctx;

	if ((unsigned int)note < FTP_NOTE_COUNT)
		r->notes[note]++;
}

static const struct ftp_engine_ops recorder_ops = {
	.offer = record_offer,
	.note = record_note,
};

/* One control connection, both directions, as the helper would see it. */
struct conn {
	struct ftp_session session;
	struct recorder rec;
	u32 next_seq[2];
};

#define ISN_COMMAND 1000u
#define ISN_REPLY 2000000000u

static void conn_init_isn(struct conn *c, u32 reply_isn)
{
	memset(c, 0, sizeof(*c));
	ftp_session_init(&c->session, FTP_FAMILY_IPV4);
	c->next_seq[FTP_DIR_COMMAND] = ISN_COMMAND + 1;
	c->next_seq[FTP_DIR_REPLY] = reply_isn + 1;
	/* The handshake: a SYN per direction, seq + 1 and no payload. */
	ftp_stream_segment(&c->session, FTP_DIR_COMMAND, ISN_COMMAND + 1,
			   NULL, 0, true, &recorder_ops, &c->rec);
	ftp_stream_segment(&c->session, FTP_DIR_REPLY, reply_isn + 1,
			   NULL, 0, true, &recorder_ops, &c->rec);
}

/* Send @text as one in-order segment in direction @dir. */
static void conn_send(struct conn *c, enum ftp_dir dir, const char *text)
{
	u32 len = strlen(text);

	ftp_stream_segment(&c->session, dir, c->next_seq[dir],
			   (const u8 *)text, len, false, &recorder_ops, &c->rec);
	c->next_seq[dir] += len;
}

/* A session past the server's greeting, the first reply due. */
static void conn_init(struct conn *c)
{
	conn_init_isn(c, ISN_REPLY);
	conn_send(c, FTP_DIR_REPLY, "220 ready\r\n");
}

static void expect_ipv4(struct kunit *test, const struct ftp_offer *o,
			u8 a, u8 b, u8 c, u8 d)
{
	KUNIT_EXPECT_EQ(test, o->family, FTP_FAMILY_IPV4);
	KUNIT_EXPECT_EQ(test, o->addr[0], a);
	KUNIT_EXPECT_EQ(test, o->addr[1], b);
	KUNIT_EXPECT_EQ(test, o->addr[2], c);
	KUNIT_EXPECT_EQ(test, o->addr[3], d);
}

static void port_accepted(struct kunit *test)
{
	static const char line[] = "PORT 10,0,0,1,4,1\r\n";
	struct conn c;
	const struct ftp_offer *o = &c.rec.offers[0];

	conn_init(&c);
	conn_send(&c, FTP_DIR_COMMAND, line);

	KUNIT_ASSERT_EQ(test, c.rec.n_offers, 1u);
	KUNIT_EXPECT_EQ(test, o->kind, FTP_OFFER_PORT);
	KUNIT_EXPECT_EQ(test, o->refusal, FTP_ACCEPTED);
	expect_ipv4(test, o, 10, 0, 0, 1);
	KUNIT_EXPECT_EQ(test, o->port, 4 * 256 + 1);
	/* The rewritable text is "10,0,0,1,4,1". */
	KUNIT_EXPECT_TRUE(test, o->text_in_segment);
	KUNIT_EXPECT_EQ(test, o->text_start, (u32)strlen("PORT "));
	KUNIT_EXPECT_EQ(test, o->text_end, (u32)strlen("PORT 10,0,0,1,4,1"));
}

static void pasv_227_accepted(struct kunit *test)
{
	struct conn c;
	const struct ftp_offer *o = &c.rec.offers[0];

	conn_init(&c);
	conn_send(&c, FTP_DIR_COMMAND, "PASV\r\n");
	KUNIT_EXPECT_EQ(test, c.rec.notes[FTP_NOTE_PASV], 1u);
	KUNIT_EXPECT_EQ(test, c.rec.n_offers, 0u);

	conn_send(&c, FTP_DIR_REPLY,
		  "227 Entering Passive Mode (192,168,1,2,195,80).\r\n");
	KUNIT_ASSERT_EQ(test, c.rec.n_offers, 1u);
	KUNIT_EXPECT_EQ(test, o->kind, FTP_OFFER_227);
	KUNIT_EXPECT_EQ(test, o->refusal, FTP_ACCEPTED);
	expect_ipv4(test, o, 192, 168, 1, 2);
	KUNIT_EXPECT_EQ(test, o->port, 195 * 256 + 80);
	KUNIT_EXPECT_TRUE(test, o->text_in_segment);
	KUNIT_EXPECT_EQ(test, o->text_start,
			(u32)strlen("227 Entering Passive Mode ("));
	KUNIT_EXPECT_EQ(test, o->text_end,
			(u32)strlen("227 Entering Passive Mode (192,168,1,2,195,80"));
}

static void unsolicited_227_refused(struct kunit *test)
{
	struct conn c;

	conn_init(&c);
	conn_send(&c, FTP_DIR_COMMAND, "USER anonymous\r\n");
	conn_send(&c, FTP_DIR_REPLY,
		  "227 Entering Passive Mode (192,168,1,2,195,80).\r\n");

	KUNIT_ASSERT_EQ(test, c.rec.n_offers, 1u);
	KUNIT_EXPECT_EQ(test, c.rec.offers[0].kind, FTP_OFFER_227);
	KUNIT_EXPECT_EQ(test, c.rec.offers[0].refusal, FTP_REFUSED_UNANSWERED);
}

static void port_split_across_segments(struct kunit *test)
{
	struct conn c;
	const struct ftp_offer *o = &c.rec.offers[0];

	conn_init(&c);
	conn_send(&c, FTP_DIR_COMMAND, "PORT 10,0,0");
	KUNIT_EXPECT_EQ(test, c.rec.n_offers, 0u);
	conn_send(&c, FTP_DIR_COMMAND, ",1,4,1\r\n");

	KUNIT_ASSERT_EQ(test, c.rec.n_offers, 1u);
	KUNIT_EXPECT_EQ(test, o->kind, FTP_OFFER_PORT);
	KUNIT_EXPECT_EQ(test, o->refusal, FTP_ACCEPTED);
	expect_ipv4(test, o, 10, 0, 0, 1);
	KUNIT_EXPECT_EQ(test, o->port, 4 * 256 + 1);
	/* The line began in the earlier segment: no rewrite possible. */
	KUNIT_EXPECT_FALSE(test, o->text_in_segment);
}

/* The same 227 fed one byte per ftp_stream_feed() call, in one segment. */
static void reply_fed_bytewise(struct kunit *test)
{
	static const char reply[] = "227 Entering Passive Mode (10,1,2,3,7,208)\r\n";
	const u32 len = sizeof(reply) - 1;
	struct conn c;
	u32 off;

	conn_init(&c);
	conn_send(&c, FTP_DIR_COMMAND, "PASV\r\n");
	off = ftp_stream_begin(&c.session, FTP_DIR_REPLY,
			       c.next_seq[FTP_DIR_REPLY], len, false,
			       &recorder_ops, &c.rec);
	KUNIT_ASSERT_EQ(test, off, 0u);
	for (; off < len; off++)
		ftp_stream_feed(&c.session, FTP_DIR_REPLY,
				(const u8 *)reply + off, 1, off,
				&recorder_ops, &c.rec);

	KUNIT_ASSERT_EQ(test, c.rec.n_offers, 1u);
	KUNIT_EXPECT_EQ(test, c.rec.offers[0].kind, FTP_OFFER_227);
	KUNIT_EXPECT_EQ(test, c.rec.offers[0].refusal, FTP_ACCEPTED);
	expect_ipv4(test, &c.rec.offers[0], 10, 1, 2, 3);
	KUNIT_EXPECT_EQ(test, c.rec.offers[0].port, 7 * 256 + 208);
}

/* A 227 whose bytes straddle the 2^32 wrap of the reply sequence space. */
static void reply_across_seq_wrap(struct kunit *test)
{
	struct conn c;

	conn_init_isn(&c, 0xffffffefu);
	conn_send(&c, FTP_DIR_REPLY, "220 ready\r\n");
	conn_send(&c, FTP_DIR_COMMAND, "PASV\r\n");
	conn_send(&c, FTP_DIR_REPLY, "227 Entering Passive");
	conn_send(&c, FTP_DIR_REPLY, " Mode (10,9,8,7,4,0)\r\n");
	KUNIT_EXPECT_LT(test, c.next_seq[FTP_DIR_REPLY], 0xfffffff0u);

	KUNIT_ASSERT_EQ(test, c.rec.n_offers, 1u);
	KUNIT_EXPECT_EQ(test, c.rec.offers[0].kind, FTP_OFFER_227);
	KUNIT_EXPECT_EQ(test, c.rec.offers[0].refusal, FTP_ACCEPTED);
	expect_ipv4(test, &c.rec.offers[0], 10, 9, 8, 7);
	KUNIT_EXPECT_EQ(test, c.rec.offers[0].port, 4 * 256);
	KUNIT_EXPECT_EQ(test, c.rec.notes[FTP_NOTE_RESYNC], 0u);
}

static void epsv_229_accepted(struct kunit *test)
{
	static const char reply[] = "229 Entering Extended Passive Mode (|||6446|)\r\n";
	struct conn c;
	const struct ftp_offer *o = &c.rec.offers[0];

	conn_init(&c);
	conn_send(&c, FTP_DIR_COMMAND, "EPSV\r\n");
	KUNIT_EXPECT_EQ(test, c.rec.notes[FTP_NOTE_EPSV], 1u);
	conn_send(&c, FTP_DIR_REPLY, reply);

	KUNIT_ASSERT_EQ(test, c.rec.n_offers, 1u);
	KUNIT_EXPECT_EQ(test, o->kind, FTP_OFFER_229);
	KUNIT_EXPECT_EQ(test, o->refusal, FTP_ACCEPTED);
	KUNIT_EXPECT_EQ(test, o->port, 6446);
	/* The rewritable text is the port digits. */
	KUNIT_EXPECT_TRUE(test, o->text_in_segment);
	KUNIT_EXPECT_EQ(test, o->text_start, (u32)(strstr(reply, "6446") - reply));
	KUNIT_EXPECT_EQ(test, o->text_end, o->text_start + 4);
}

/* 0 * 256 + 65558 wraps to 22 in 16 bits: the stock helper's bug. */
static void port_wraparound_refused(struct kunit *test)
{
	struct conn c;

	conn_init(&c);
	conn_send(&c, FTP_DIR_COMMAND, "PORT 10,0,0,1,0,65558\r\n");

	KUNIT_ASSERT_EQ(test, c.rec.n_offers, 1u);
	KUNIT_EXPECT_EQ(test, c.rec.offers[0].kind, FTP_OFFER_PORT);
	KUNIT_EXPECT_EQ(test, c.rec.offers[0].refusal, FTP_REFUSED_OUT_OF_RANGE);
}

/* The session lives in the 32-byte conntrack helper area. */
/*
 * A retransmitted 227 is skipped by the stream but found again, with the
 * same text offsets, by a replay; the live session is left untouched.
 */
static void retransmitted_227_replayed(struct kunit *test)
{
	static const char line[] = "227 Entering Passive Mode (10,0,0,2,4,2).\r\n";
	struct ftp_session scratch, before;
	struct conn c;
	u32 seq;

	conn_init(&c);
	conn_send(&c, FTP_DIR_COMMAND, "PASV\r\n");
	seq = c.next_seq[FTP_DIR_REPLY];
	conn_send(&c, FTP_DIR_REPLY, line);
	KUNIT_ASSERT_EQ(test, c.rec.n_offers, 1u);
	ftp_stream_segment(&c.session, FTP_DIR_REPLY, seq, (const u8 *)line,
			   strlen(line), false, &recorder_ops, &c.rec);
	KUNIT_ASSERT_EQ(test, c.rec.n_offers, 1u);

	before = c.session;
	ftp_session_replay(&scratch, &c.session, FTP_DIR_REPLY);
	ftp_stream_feed(&scratch, FTP_DIR_REPLY, (const u8 *)line,
			strlen(line), 0, &recorder_ops, &c.rec);
	KUNIT_ASSERT_EQ(test, c.rec.n_offers, 2u);
	KUNIT_EXPECT_EQ(test, c.rec.offers[1].refusal, FTP_ACCEPTED);
	KUNIT_EXPECT_EQ(test, c.rec.offers[1].port, 4 * 256 + 2);
	KUNIT_EXPECT_EQ(test, c.rec.offers[1].text_start,
			c.rec.offers[0].text_start);
	KUNIT_EXPECT_EQ(test, c.rec.offers[1].text_end,
			c.rec.offers[0].text_end);
	KUNIT_EXPECT_EQ(test, memcmp(&before, &c.session, sizeof(before)), 0);
}

/*
 * The engine passes over lines a word at a time, in its own C (the same
 * here as in userspace): wherever the words fall, every command line is
 * counted (or the last 227 would answer the wrong command), a 227 inside
 * a multi-line reply is found, and an ordinary PORT line, parsed whole,
 * gets the offsets the byte machine gives it.
 */
static void word_scan_alignment(struct kunit *test)
{
	static const char pad[] = "xxxxxxxxxxxxxxxx";
	const struct ftp_offer *o;
	char cmds[128];
	struct conn c;
	u32 start;
	int shift;

	for (shift = 0; shift < (int)sizeof(pad); shift++) {
		conn_init(&c);
		snprintf(cmds, sizeof(cmds), "NOOP%.*s\r\nNOOP 012345678\r\n"
			 "noop\r\nPORT 10,0,0,1,4,1\r\nPASV\r\n", shift, pad);
		conn_send(&c, FTP_DIR_COMMAND, cmds);
		conn_send(&c, FTP_DIR_REPLY, "211-a\r\n211-b\r\n"
			  "227 (1,2,3,4,5,6)\r\n211 end\r\n200 b\r\n200 c\r\n"
			  "200 d\r\n227 (10,0,0,2,4,2)\r\n");
		KUNIT_ASSERT_EQ(test, c.rec.n_offers, 3u);
		o = &c.rec.offers[0];
		start = strstr(cmds, "10,0") - cmds;
		KUNIT_EXPECT_EQ(test, o->refusal, FTP_ACCEPTED);
		KUNIT_EXPECT_TRUE(test, o->text_in_segment);
		KUNIT_EXPECT_EQ(test, o->text_start, start);
		KUNIT_EXPECT_EQ(test, o->text_end, start + 12);
		KUNIT_EXPECT_EQ(test, c.rec.offers[1].refusal,
				FTP_REFUSED_UNANSWERED);
		KUNIT_EXPECT_EQ(test, c.rec.offers[2].refusal, FTP_ACCEPTED);
		KUNIT_EXPECT_EQ(test, c.rec.offers[2].port, 4 * 256 + 2);
	}
}

static void session_fits_helper_area(struct kunit *test)
{
	KUNIT_EXPECT_LE(test, sizeof(struct ftp_session), (size_t)32);
}

static struct kunit_case pinhole_ftp_engine_cases[] = {
	KUNIT_CASE(port_accepted),
	KUNIT_CASE(pasv_227_accepted),
	KUNIT_CASE(unsolicited_227_refused),
	KUNIT_CASE(port_split_across_segments),
	KUNIT_CASE(reply_fed_bytewise),
	KUNIT_CASE(reply_across_seq_wrap),
	KUNIT_CASE(epsv_229_accepted),
	KUNIT_CASE(port_wraparound_refused),
	KUNIT_CASE(retransmitted_227_replayed),
	KUNIT_CASE(word_scan_alignment),
	KUNIT_CASE(session_fits_helper_area),
	{}
};

static struct kunit_suite pinhole_ftp_engine_suite = {
	.name = "pinhole_ftp_engine",
	.test_cases = pinhole_ftp_engine_cases,
};

kunit_test_suite(pinhole_ftp_engine_suite);

MODULE_LICENSE("GPL");
