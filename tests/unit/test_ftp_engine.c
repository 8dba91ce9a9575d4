// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests for the FTP engine (module/ftp_engine.c), compiled in
 * userspace. Prints one "PASS: ftp_engine/<case>" or
 * "FAIL: ftp_engine/<case>: <why>" line per case; exits 1 if any failed.
 *
 * Most cases are scripts: a list of segments per direction, run through a
 * fresh session, whose offers are rendered as one string such as
 * "port accepted 10.0.0.1 1025 [10,0,0,1,4,1]" and compared with the
 * expectation. The bracketed part is the rewritable text the offer points
 * at, present only when text_in_segment is set.
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ftp_engine.h"

#define SUITE "ftp_engine"
#define OUT_MAX 8192

/* ---- reporting ---- */

static char fail_why[512];
static int failed_cases;

static void fail(int line, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (fail_why[0])
		return;		/* the first failure explains the case */
	n = snprintf(fail_why, sizeof(fail_why), "line %d: ", line);
	va_start(ap, fmt);
	vsnprintf(fail_why + n, sizeof(fail_why) - n, fmt, ap);
	va_end(ap);
}

#define CHECK(cond, ...) do { if (!(cond)) fail(__LINE__, __VA_ARGS__); } while (0)

#define CHECK_STR(got, want) \
	CHECK(strcmp((got), (want)) == 0, "got \"%s\", want \"%s\"", (got), (want))

/* ---- a session under test ---- */

struct rig {
	struct ftp_session s;
	u32 seq[2];
	const u8 *seg;		/* segment being parsed, for text checks */
	u32 seg_len;
	char out[OUT_MAX];	/* offers rendered */
	char bare[OUT_MAX];	/* the same without texts */
	int offers;
	struct ftp_offer last;	/* the latest offer */
	int notes[FTP_NOTE_COUNT];
	int bad_offsets;
	int budget;		/* offers wanted, with rig_budget_ops */
};

static void append(char *buf, const char *fmt, ...)
{
	size_t len = strlen(buf);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf + len, OUT_MAX - len, fmt, ap);
	va_end(ap);
}

static void render_offer(char *buf, const struct ftp_offer *o)
{
	char addr[INET6_ADDRSTRLEN];
	int af = o->family == FTP_FAMILY_IPV6 ? AF_INET6 : AF_INET;

	append(buf, "%s%s %s", buf[0] ? "; " : "",
	       ftp_offer_kind_name(o->kind), ftp_refusal_name(o->refusal));
	if (o->lines != 1)
		append(buf, " x%u", o->lines);
	if (o->refusal != FTP_ACCEPTED)
		return;
	if (o->kind == FTP_OFFER_229) {
		append(buf, " v%c %u", af == AF_INET6 ? '6' : '4', o->port);
		return;
	}
	inet_ntop(af, o->addr, addr, sizeof(addr));
	append(buf, " %s %u", addr, o->port);
}

/* Every accepted PORT/EPRT "opens a pinhole", as the helper's would. */
static bool on_offer(void *ctx, const struct ftp_offer *o)
{
	struct rig *r = ctx;
	bool opened = o->refusal == FTP_ACCEPTED &&
		      (o->kind == FTP_OFFER_PORT || o->kind == FTP_OFFER_EPRT);

	r->offers += o->lines;
	r->last = *o;
	render_offer(r->out, o);
	render_offer(r->bare, o);
	if (!o->text_in_segment)
		return opened;
	if (o->text_start > o->text_end || o->text_end > r->seg_len)
		r->bad_offsets++;
	else
		append(r->out, " [%.*s]", (int)(o->text_end - o->text_start),
		       (const char *)r->seg + o->text_start);
	return opened;
}

static void on_note(void *ctx, enum ftp_note note)
{
	struct rig *r = ctx;

	r->notes[note]++;
}

static const struct ftp_engine_ops rig_ops = {
	.offer = on_offer,
	.note = on_note,
};

static bool rig_wants_offers(void *ctx)
{
	const struct rig *r = ctx;

	return r->offers < r->budget;
}

/* A caller that takes r->budget offers and says so (wants_offers()). */
static const struct ftp_engine_ops rig_budget_ops = {
	.offer = on_offer,
	.note = on_note,
	.wants_offers = rig_wants_offers,
};

static void rig_init_nosyn(struct rig *r, enum ftp_family family,
			   u32 isn_cmd, u32 isn_reply)
{
	memset(r, 0, sizeof(*r));
	ftp_session_init(&r->s, family);
	r->seq[FTP_DIR_COMMAND] = isn_cmd + 1;
	r->seq[FTP_DIR_REPLY] = isn_reply + 1;
}

static void rig_init_isn(struct rig *r, enum ftp_family family,
			 u32 isn_cmd, u32 isn_reply)
{
	rig_init_nosyn(r, family, isn_cmd, isn_reply);
	ftp_stream_segment(&r->s, FTP_DIR_COMMAND, isn_cmd + 1, NULL, 0, true,
			   &rig_ops, r);
	ftp_stream_segment(&r->s, FTP_DIR_REPLY, isn_reply + 1, NULL, 0, true,
			   &rig_ops, r);
}

/* A session past its greeting, the first reply the engine waits for. */
static void rig_init(struct rig *r, enum ftp_family family)
{
	static const char greeting[] = "220 ready\r\n";

	rig_init_isn(r, family, 1000, 5000);
	ftp_stream_segment(&r->s, FTP_DIR_REPLY, r->seq[FTP_DIR_REPLY],
			   (const u8 *)greeting, sizeof(greeting) - 1, false,
			   &rig_ops, r);
	r->seq[FTP_DIR_REPLY] += sizeof(greeting) - 1;
}

/* A segment at an explicit sequence number; does not move the rig's seq. */
static void seg_at(struct rig *r, enum ftp_dir dir, u32 seq, const void *data,
		   size_t len)
{
	r->seg = data;
	r->seg_len = len;
	ftp_stream_segment(&r->s, dir, seq, data, len, false, &rig_ops, r);
}

static void seg_n(struct rig *r, enum ftp_dir dir, const void *data, size_t len)
{
	seg_at(r, dir, r->seq[dir], data, len);
	r->seq[dir] += len;
}

static void seg(struct rig *r, enum ftp_dir dir, const char *text)
{
	seg_n(r, dir, text, strlen(text));
}

static void cmd(struct rig *r, const char *text)
{
	seg(r, FTP_DIR_COMMAND, text);
}

static void reply(struct rig *r, const char *text)
{
	seg(r, FTP_DIR_REPLY, text);
}

/* ---- scripts ---- */

enum split_mode {
	SPLIT_NONE,		/* each step is one segment */
	SPLIT_AT,		/* step split_step is cut at byte split_at */
	SPLIT_BYTES,		/* every step one byte per segment */
	SPLIT_FEED_BYTES,	/* one segment, fed to the engine a byte at a time */
};

struct step {
	enum ftp_dir dir;
	const char *text;
};

#define C(t) { FTP_DIR_COMMAND, (t) }
#define R(t) { FTP_DIR_REPLY, (t) }
#define MAX_STEPS 12

struct script {
	const char *name;
	enum ftp_family family;
	struct step steps[MAX_STEPS];
	const char *want;	/* rendered offers with texts, unsplit */
};

static void step_feed_bytes(struct rig *r, enum ftp_dir dir, const char *text)
{
	u32 len = strlen(text), off, i;

	r->seg = (const u8 *)text;
	r->seg_len = len;
	off = ftp_stream_begin(&r->s, dir, r->seq[dir], len, false, &rig_ops, r);
	for (i = off; i < len; i++)
		ftp_stream_feed(&r->s, dir, (const u8 *)text + i, 1, i,
				&rig_ops, r);
	r->seq[dir] += len;
}

static void run_step(struct rig *r, const struct step *st, enum split_mode mode,
		     bool cut_here, size_t cut)
{
	size_t len = strlen(st->text), i;

	if (mode == SPLIT_FEED_BYTES) {
		step_feed_bytes(r, st->dir, st->text);
	} else if (mode == SPLIT_BYTES) {
		for (i = 0; i < len; i++)
			seg_n(r, st->dir, st->text + i, 1);
	} else if (cut_here && cut > 0 && cut < len) {
		seg_n(r, st->dir, st->text, cut);
		seg_n(r, st->dir, st->text + cut, len - cut);
	} else {
		seg(r, st->dir, st->text);
	}
}

static void run_script(struct rig *r, const struct script *sc,
		       enum split_mode mode, int split_step, size_t split_at)
{
	int i;

	rig_init(r, sc->family);
	for (i = 0; i < MAX_STEPS && sc->steps[i].text; i++)
		run_step(r, &sc->steps[i], mode, i == split_step, split_at);
}

static const struct script scripts[] = {
	{ "port_v4", FTP_FAMILY_IPV4, { C("PORT 10,0,0,1,4,1\r\n") },
	  "port accepted 10.0.0.1 1025 [10,0,0,1,4,1]" },
	{ "port_v6_family", FTP_FAMILY_IPV6, { C("PORT 10,0,0,1,4,1\r\n") },
	  "port family" },
	{ "port_lowercase_lf", FTP_FAMILY_IPV4, { C("port 192,168,1,2,255,255\n") },
	  "port accepted 192.168.1.2 65535 [192,168,1,2,255,255]" },
	{ "port_mixed_case_spaces", FTP_FAMILY_IPV4,
	  { C("PoRt   10,0,0,1,4,1   \r\n") },
	  "port accepted 10.0.0.1 1025 [10,0,0,1,4,1]" },
	{ "port_after_other_lines", FTP_FAMILY_IPV4,
	  { C("USER anonymous\r\nPASS x@\r\nTYPE I\r\nPORT 10,0,0,1,4,1\r\nPORT 10,0,0,2,0,21\r\n") },
	  "port accepted 10.0.0.1 1025 [10,0,0,1,4,1]; port accepted 10.0.0.2 21 [10,0,0,2,0,21]" },
	{ "port_leading_zeros", FTP_FAMILY_IPV4,
	  { C("PORT 00000000000000000010,0,0,1,004,00000000000000000001\r\n") },
	  "port accepted 10.0.0.1 1025 [00000000000000000010,0,0,1,004,00000000000000000001]" },
	{ "eprt_v4_pipe", FTP_FAMILY_IPV4, { C("EPRT |1|132.235.1.2|6275|\r\n") },
	  "eprt accepted 132.235.1.2 6275 [1|132.235.1.2|6275]" },
	{ "eprt_v4_bang_lower", FTP_FAMILY_IPV4, { C("eprt !1!10.1.2.3!21!\n") },
	  "eprt accepted 10.1.2.3 21 [1!10.1.2.3!21]" },
	{ "eprt_v6_pipe", FTP_FAMILY_IPV6,
	  { C("EPRT |2|1080::8:800:200C:417A|5282|\r\n") },
	  "eprt accepted 1080::8:800:200c:417a 5282 [2|1080::8:800:200C:417A|5282]" },
	{ "eprt_v6_bang", FTP_FAMILY_IPV6, { C("EPRT !2!::1!2000!\r\n") },
	  "eprt accepted ::1 2000 [2!::1!2000]" },
	{ "eprt_v6_forms", FTP_FAMILY_IPV6,
	  { C("EPRT |2|fe80::1|1|\r\nEPRT |2|1::|2|\r\nEPRT |2|1:2:3:4:5:6:7:8|3|\r\n"
	      "EPRT |2|::|4|\r\nEPRT |2|1:2:3:4:5:6:7::|5|\r\nEPRT |2|::2:3:4:5:6:7:8|6|\r\n"
	      "EPRT |2|00001::FFFF|7|\r\n") },
	  "eprt accepted fe80::1 1 [2|fe80::1|1]; eprt accepted 1:: 2 [2|1::|2]; "
	  "eprt accepted 1:2:3:4:5:6:7:8 3 [2|1:2:3:4:5:6:7:8|3]; eprt accepted :: 4 [2|::|4]; "
	  "eprt accepted 1:2:3:4:5:6:7:0 5 [2|1:2:3:4:5:6:7::|5]; "
	  "eprt accepted 0:2:3:4:5:6:7:8 6 [2|::2:3:4:5:6:7:8|6]; "
	  "eprt accepted 1::ffff 7 [2|00001::FFFF|7]" },
	{ "eprt_v6_malformed", FTP_FAMILY_IPV6,
	  { C("EPRT |2|1:2:3:4:5:6:7:8:9|1|\r\nEPRT |2|1::2::3|1|\r\nEPRT |2|:::1|1|\r\n"
	      "EPRT |2|1:2:3:4:5:6:7::8|1|\r\nEPRT |2|1:2:3|1|\r\nEPRT |2|:1::|1|\r\n"
	      "EPRT |2|1:|1|\r\nEPRT |2|::ffff:1.2.3|1|\r\nEPRT |2|12345::|1|\r\n"
	      "EPRT |2||1|\r\nEPRT |2|g::|1|\r\n") },
	  "eprt malformed; eprt malformed; eprt malformed; eprt malformed; eprt malformed; "
	  "eprt malformed; eprt malformed; eprt malformed; eprt malformed; eprt malformed; "
	  "eprt malformed" },
	/* RFC 4291 2.2: the last 32 bits as a dotted quad */
	{ "eprt_v6_mixed_notation", FTP_FAMILY_IPV6,
	  { C("EPRT |2|::ffff:10.0.1.2|40000|\r\nEPRT |2|::1.2.3.4|40001|\r\n"
	      "EPRT |2|1:2:3:4:5:ffff:010.0.1.255|40002|\r\n"
	      "EPRT |2|2001:db8::7:192.0.2.33|40003|\r\n") },
	  "eprt accepted ::ffff:10.0.1.2 40000 [2|::ffff:10.0.1.2|40000]; "
	  "eprt accepted ::1.2.3.4 40001 [2|::1.2.3.4|40001]; "
	  "eprt accepted 1:2:3:4:5:ffff:a00:1ff 40002 [2|1:2:3:4:5:ffff:010.0.1.255|40002]; "
	  "eprt accepted 2001:db8::7:c000:221 40003 [2|2001:db8::7:192.0.2.33|40003]" },
	{ "eprt_v6_mixed_malformed", FTP_FAMILY_IPV6,
	  { C("EPRT |2|1.2.3.4|1|\r\nEPRT |2|::1.2.3.4.5|1|\r\nEPRT |2|::ff:a.2.3.4|1|\r\n"
	      "EPRT |2|1:2:3:4:5:6:7:1.2.3.4|1|\r\nEPRT |2|::1.2.3.|1|\r\n"
	      "EPRT |2|::1..3.4|1|\r\nEPRT |2|::1.2.3.4:5|1|\r\nEPRT |2|::1.2.3.256|1|\r\n"
	      "EPRT |2|::256.2.3.4|1|\r\nEPRT |2|1:2:3:4:5:6::1.2.3.4|1|\r\n") },
	  "eprt malformed; eprt malformed; eprt malformed; eprt malformed; eprt malformed; "
	  "eprt malformed; eprt malformed; eprt out_of_range; eprt malformed; eprt malformed" },
	{ "eprt_family_mismatch_v4", FTP_FAMILY_IPV4, { C("EPRT |2|::1|2000|\r\n") },
	  "eprt family" },
	{ "eprt_family_mismatch_v6", FTP_FAMILY_IPV6, { C("EPRT |1|1.2.3.4|2000|\r\n") },
	  "eprt family" },
	{ "eprt_malformed", FTP_FAMILY_IPV4,
	  { C("EPRT |3|1.2.3.4|2000|\r\nEPRT |1|1.2.3.4|2000\r\nEPRT |1!1.2.3.4!2000!\r\n"
	      "EPRT |1|1.2.3|2000|\r\nEPRT |1|1.2.3.4.5|2000|\r\nEPRT |1|1.2.3.4||\r\n"
	      "EPRT |1|1.2.3.4|2000|x\r\nEPRT |12|1.2.3.4|2000|\r\nEPRT\r\nEPRT \x7f" "1\x7f\r\n"
	      "EPRT |1|1..3.4|2000|\r\nEPRT |1|1.2.3.4|20 00|\r\n") },
	  "eprt malformed; eprt malformed; eprt malformed; eprt malformed; eprt malformed; "
	  "eprt malformed; eprt malformed; eprt malformed; eprt malformed; eprt malformed; "
	  "eprt malformed; eprt malformed" },
	{ "eprt_out_of_range", FTP_FAMILY_IPV4,
	  { C("EPRT |1|1.2.3.4|65536|\r\nEPRT |1|1.2.3.4|0|\r\nEPRT |1|1.2.3.256|21|\r\n"
	      "EPRT |1|1.2.3.4|99999999999999999999|\r\nEPRT |1|1.2.3.4|000000000000000065535|\r\n") },
	  "eprt out_of_range; eprt out_of_range; eprt out_of_range; eprt out_of_range; "
	  "eprt accepted 1.2.3.4 65535 [1|1.2.3.4|000000000000000065535]" },
	{ "eprt_trailing_spaces", FTP_FAMILY_IPV4, { C("EPRT   |1|1.2.3.4|21|   \r\n") },
	  "eprt accepted 1.2.3.4 21 [1|1.2.3.4|21]" },
	{ "port_refusals", FTP_FAMILY_IPV4,
	  { C("PORT 10,0,0,1,0,65558\r\nPORT 10,0,0,1,256,22\r\nPORT 10,0,0,1,0,0\r\n"
	      "PORT 10,0,0,256,4,1\r\nPORT 10,0,0,1,4,1,7\r\nPORT 10,0,0,1,4\r\n"
	      "PORT 10,0,0,1,4,1 x\r\nPORT 10,0,0,1,4,1x\r\nPORT 10,,0,1,4,1\r\n"
	      "PORT ,10,0,0,1,4,1\r\nPORT 10,0,0,1,4,\r\nPORT\r\nPORT \r\n"
	      "PORT 99999999999999999999,0,0,1,4,1\r\nPORT 10.0.0.1,4,1\r\n") },
	  "port out_of_range; port out_of_range; port out_of_range; port out_of_range; "
	  "port malformed; port malformed; port malformed; port malformed; port malformed; "
	  "port malformed; port malformed; port malformed; port malformed; port out_of_range; "
	  "port malformed" },
	/* whole lines with room after them: port_line() parses them at once */
	{ "port_whole_line_refusals", FTP_FAMILY_IPV4,
	  { C("PORT 10.0.0.1,4,1\r\nPORT 10;0;0;1;4;1\r\nPORT 10,0,0,1,4,1000\r\n"
	      "PORT 10,0,0,1,256,1\r\nPORT 10,0,0,1,4,1;\r\nPORT 10,0,0,1,4,0001\r\n"
	      "PORT 0010,0,0,1,4,1\r\nNOOP with room for the line before it\r\n") },
	  "port malformed; port malformed; port out_of_range; port out_of_range; "
	  "port malformed; port accepted 10.0.0.1 1025 [10,0,0,1,4,0001]; "
	  "port accepted 10.0.0.1 1025 [0010,0,0,1,4,1]" },
	{ "not_a_command", FTP_FAMILY_IPV4,
	  { C(" PORT 10,0,0,1,4,1\r\nPORTS 10,0,0,1,4,1\r\nXPORT 10,0,0,1,4,1\r\n"
	      "NOOP PORT 10,0,0,1,4,1\r\nPOR\r\nPASVX\r\nEPSVX\r\n") },
	  "" },
	{ "pasv_227", FTP_FAMILY_IPV4,
	  { C("PASV\r\n"), R("227 Entering Passive Mode (192,168,0,10,195,80).\r\n") },
	  "227 accepted 192.168.0.10 50000 [192,168,0,10,195,80]" },
	{ "pasv_227_no_parens", FTP_FAMILY_IPV4,
	  { C("pasv\n"), R("227 =10,0,0,1,4,1\n") },
	  "227 accepted 10.0.0.1 1025 [10,0,0,1,4,1]" },
	{ "pasv_227_text_after", FTP_FAMILY_IPV4,
	  { C("PASV\r\n"), R("227 ok 10,0,0,1,4,1) and 7,8,9\r\n") },
	  "227 accepted 10.0.0.1 1025 [10,0,0,1,4,1]" },
	{ "pasv_227_malformed", FTP_FAMILY_IPV4,
	  { C("PASV\r\n"), R("227 Entering Passive Mode (10,0,0,1,4)\r\n"),
	    C("PASV\r\n"), R("227 Entering Passive Mode\r\n"),
	    C("PASV\r\n"), R("227 (10,0,0,1,4,1,2)\r\n"),
	    C("PASV\r\n"), R("227 (10,0,0,1,4,65558)\r\n") },
	  "227 malformed; 227 malformed; 227 malformed; 227 out_of_range" },
	{ "pasv_227_v6_family", FTP_FAMILY_IPV6,
	  { C("PASV\r\n"), R("227 Entering Passive Mode (10,0,0,1,4,1)\r\n") },
	  "227 family" },
	{ "epsv_229_v4", FTP_FAMILY_IPV4,
	  { C("EPSV\r\n"), R("229 Entering Extended Passive Mode (|||6446|)\r\n") },
	  "229 accepted v4 6446 [6446]" },
	{ "epsv_229_v6_arg", FTP_FAMILY_IPV6,
	  { C("EPSV 2\r\n"), R("229 Entering Extended Passive Mode (!!!6446!)\r\n") },
	  "229 accepted v6 6446 [6446]" },
	{ "epsv_229_refusals", FTP_FAMILY_IPV4,
	  { C("EPSV\r\n"), R("229 (||6446|)\r\n"), C("EPSV\r\n"), R("229 (|||0|)\r\n"),
	    C("EPSV\r\n"), R("229 (|||65536|)\r\n"), C("EPSV\r\n"), R("229 (|||6446)\r\n"),
	    C("EPSV\r\n"), R("229 Entering Extended Passive Mode\r\n") },
	  "229 malformed; 229 out_of_range; 229 out_of_range; 229 malformed; 229 malformed" },
	{ "unanswered", FTP_FAMILY_IPV4,
	  { R("227 Entering Passive Mode (10,0,0,1,4,1)\r\n229 (|||6446|)\r\n"),
	    C("PASV\r\n"), R("227 (10,0,0,1,4,1)\r\n227 (10,0,0,1,4,1)\r\n") },
	  "227 unanswered; 229 unanswered; 227 accepted 10.0.0.1 1025 [10,0,0,1,4,1]; "
	  "227 unanswered" },
	{ "final_reply_consumes_pasv", FTP_FAMILY_IPV4,
	  { C("PASV\r\n"), R("500 no\r\n227 (10,0,0,1,4,1)\r\n") },
	  "227 unanswered" },
	{ "preliminary_keeps_pasv", FTP_FAMILY_IPV4,
	  { C("EPSV\r\n"), R("150 wait\r\n120-a\r\n120 b\r\n229 (|||6446|)\r\n") },
	  "229 accepted v4 6446 [6446]" },
	{ "multiline_227_inside", FTP_FAMILY_IPV4,
	  { C("PASV\r\n"),
	    R("230-Welcome\r\n227 Entering Passive Mode (10,0,0,1,4,1)\r\n"
	      "229 (|||6446|)\r\n230-still\r\n230\r\n230 done\r\n"),
	    R("227 (10,0,0,1,4,1)\r\n") },
	  "227 unanswered; 229 unanswered; 227 unanswered" },
	{ "multiline_announcements_refused", FTP_FAMILY_IPV4,
	  { C("PASV\r\n"),
	    R("220-a\r\n227 (10,0,0,1,4,1)\r\n229 (|||6446|)\r\n"
	      "22 x\r\n2279 x\r\n227x\r\n220 end\r\n"),
	    R("227 (10,0,0,1,4,1)\r\n") },
	  "227 unanswered; 229 unanswered; 227 unanswered" },
	{ "multiline_229_code_shares_digits", FTP_FAMILY_IPV4,
	  { C("EPSV\r\n"),
	    R("229-a\r\n227 (10,0,0,1,4,1)\r\n229 (|||6446|)\r\n") },
	  "227 unanswered" },
	{ "reply_codes_out_of_range", FTP_FAMILY_IPV4,
	  { C("PASV\r\n"), R("099 x\r\n600 x\r\n227 (10,0,0,1,4,1)\r\n") },
	  "227 accepted 10.0.0.1 1025 [10,0,0,1,4,1]" },
	{ "multiline_227_itself", FTP_FAMILY_IPV4,
	  { C("PASV\r\n"), R("227-Entering Passive Mode (10,0,0,1,4,1)\r\n"
			     "227 Entering Passive Mode (10,0,0,1,4,1)\r\n"),
	    C("PASV\r\n"), R("227 (10,0,0,1,4,2)\r\n") },
	  "227 accepted 10.0.0.1 1026 [10,0,0,1,4,2]" },
	{ "text_not_at_line_start", FTP_FAMILY_IPV4,
	  { C("PASV\r\n"), R("200 227 (10,0,0,1,4,1)\r\n"), C("PASV\r\n"),
	    R(" 227 (10,0,0,1,4,1)\r\n227 (10,0,0,1,4,1)\r\n") },
	  "227 accepted 10.0.0.1 1025 [10,0,0,1,4,1]" },
	{ "auth_tls", FTP_FAMILY_IPV4,
	  { C("AUTH TLS\r\n"), R("234 Proceed\r\n"),
	    C("PORT 10,0,0,1,4,1\r\nPASV\r\n"), R("227 (10,0,0,1,4,1)\r\n") },
	  "" },
	{ "auth_refused", FTP_FAMILY_IPV4,
	  { C("auth tls\r\n"), R("534 no\r\n"), C("PORT 10,0,0,1,4,1\r\n"),
	    R("200 ok\r\n"), C("PASV\r\n"), R("227 (10,0,0,1,4,2)\r\n") },
	  "port accepted 10.0.0.1 1025 [10,0,0,1,4,1]; "
	  "227 accepted 10.0.0.1 1026 [10,0,0,1,4,2]" },
	/* 234 answers AUTH and nothing else: TLS follows whatever it answers */
	{ "auth_234_late", FTP_FAMILY_IPV4,
	  { C("auth tls\r\n"), R("500 no\r\n234 late\r\n"), C("PORT 10,0,0,1,4,1\r\n") },
	  "" },
	{ "auth_tls_v6", FTP_FAMILY_IPV6,
	  { C("EPSV\r\nAUTH TLS\r\n"), R("229 (|||6446|)\r\n234 go\r\n"),
	    C("EPRT |2|::1|2000|\r\n") },
	  "229 accepted v6 6446 [6446]" },
	{ "auth_then_pasv_pipelined", FTP_FAMILY_IPV4,
	  { C("AUTH TLS\r\nPASV\r\n"), R("234 go\r\n227 (10,0,0,1,4,1)\r\n"),
	    C("PORT 10,0,0,1,4,1\r\n") },
	  "" },
	{ "epsv_all_answered", FTP_FAMILY_IPV6,
	  { C("EPSV ALL\r\n"), R("200 EPSV ALL ok\r\n229 (|||6446|)\r\n") },
	  "229 unanswered" },
	{ "no_auth_234", FTP_FAMILY_IPV4,
	  { R("234 huh\r\n"), C("EPRT |1|10.0.0.1|1025|\r\n") },
	  "" },
	/* ---- pipelining: each final reply answers the oldest command ---- */
	{ "pipelined_type_pasv", FTP_FAMILY_IPV4,
	  { C("TYPE I\r\nPASV\r\n"),
	    R("200 Type set\r\n227 Entering Passive Mode (10,0,0,1,4,1)\r\n") },
	  "227 accepted 10.0.0.1 1025 [10,0,0,1,4,1]" },
	{ "pipelined_lftp_passive", FTP_FAMILY_IPV4,
	  { C("TYPE I\r\nSIZE f\r\nMDTM f\r\nPASV\r\nRETR f\r\n"),
	    R("200 ok\r\n213 5\r\n213 20260101000000\r\n227 (10,0,0,1,4,1)\r\n"),
	    R("150 go\r\n226 done\r\n"), C("EPSV\r\nLIST\r\n"),
	    R("229 (|||6446|)\r\n150 go\r\n226 done\r\n") },
	  "227 accepted 10.0.0.1 1025 [10,0,0,1,4,1]; 229 accepted v4 6446 [6446]" },
	{ "pipelined_lftp_active", FTP_FAMILY_IPV4,
	  { C("SIZE f\r\nMDTM f\r\nPORT 10,0,0,2,4,1\r\nRETR f\r\n"),
	    R("213 5\r\n213 20260101000000\r\n200 PORT ok\r\n150 go\r\n226 done\r\n"),
	    C("TYPE A\r\nPASV\r\nLIST\r\n"), R("200 ok\r\n227 (10,0,0,1,4,2)\r\n") },
	  "port accepted 10.0.0.2 1025 [10,0,0,2,4,1]; "
	  "227 accepted 10.0.0.1 1026 [10,0,0,1,4,2]" },
	{ "pipelined_227_answers_type", FTP_FAMILY_IPV4,
	  { C("TYPE I\r\nPASV\r\n"), R("227 (10,0,0,1,4,1)\r\n200 ok\r\n") },
	  "227 unanswered" },
	{ "pipelined_pasv_refused", FTP_FAMILY_IPV4,
	  { C("TYPE I\r\nPASV\r\n"), R("200 ok\r\n425 no\r\n227 (10,0,0,1,4,1)\r\n") },
	  "227 unanswered" },
	{ "pipelined_preliminary_and_multiline", FTP_FAMILY_IPV4,
	  { C("RETR f\r\nFEAT\r\nPASV\r\n"),
	    R("150 go\r\n226 done\r\n211-Features:\r\n EPRT\r\n227 (10,0,0,1,4,9)\r\n"
	      "211 End\r\n227 (10,0,0,1,4,1)\r\n") },
	  "227 unanswered; 227 accepted 10.0.0.1 1025 [10,0,0,1,4,1]" },
	{ "pipelined_six_ahead", FTP_FAMILY_IPV4,
	  { C("NOOP\r\nNOOP\r\nNOOP\r\nNOOP\r\nNOOP\r\nNOOP\r\nPASV\r\n"),
	    R("200 a\r\n200 b\r\n200 c\r\n200 d\r\n200 e\r\n200 f\r\n"
	      "227 (10,0,0,1,4,1)\r\n") },
	  "227 accepted 10.0.0.1 1025 [10,0,0,1,4,1]" },
	{ "pipelined_beyond_count", FTP_FAMILY_IPV4,
	  { C("NOOP\r\nNOOP\r\nNOOP\r\nNOOP\r\nNOOP\r\nNOOP\r\nNOOP\r\nPASV\r\n"),
	    R("200 a\r\n200 b\r\n200 c\r\n200 d\r\n200 e\r\n200 f\r\n200 g\r\n"
	      "227 (10,0,0,1,4,1)\r\n"), C("PASV\r\n"), R("227 (10,0,0,1,4,2)\r\n") },
	  "227 unanswered; 227 accepted 10.0.0.1 1026 [10,0,0,1,4,2]" },
	{ "pipelined_second_pasv", FTP_FAMILY_IPV4,
	  { C("PASV\r\nPASV\r\n"), R("227 (10,0,0,1,4,1)\r\n227 (10,0,0,1,4,2)\r\n") },
	  "227 accepted 10.0.0.1 1025 [10,0,0,1,4,1]; 227 unanswered" },
	/* ---- Telnet IP/DM (RFC 959 4.1.3) and other IAC sequences ---- */
	{ "telnet_abort_then_pasv", FTP_FAMILY_IPV4,
	  { C("RETR f\r\n"), R("150 go\r\n"), C("\xff\xf4\xff\xf2" "ABOR\r\nPASV\r\n"),
	    R("426 aborted\r\n226 ABOR ok\r\n227 (10,0,0,1,4,1)\r\n") },
	  "227 accepted 10.0.0.1 1025 [10,0,0,1,4,1]" },
	{ "telnet_before_port", FTP_FAMILY_IPV4,
	  { C("\xff\xf4\xff\xf2PORT 10,0,0,2,4,1\r\n\xff\xfb\x01PORT 10,0,0,2,4,2\r\n"
	      "\xff\xffPORT 10,0,0,2,4,3\r\n\xff\xfe\xffPORT 10,0,0,2,4,4\r\n") },
	  "port accepted 10.0.0.2 1025 [10,0,0,2,4,1]; "
	  "port accepted 10.0.0.2 1026 [10,0,0,2,4,2]; "
	  "port accepted 10.0.0.2 1028 [10,0,0,2,4,4]" },
	{ "full_session", FTP_FAMILY_IPV4,
	  { R("220-FTP server ready\r\n220 go\r\n"), C("USER ftp\r\nPASS x\r\n"),
	    R("331 pw\r\n230 ok\r\n"), C("EPSV\r\n"),
	    R("229 Entering Extended Passive Mode (|||40000|)\r\n"),
	    C("PASV\r\n"), R("227 Entering Passive Mode (10,0,0,1,156,65)\r\n"),
	    C("PORT 10,0,0,2,156,66\r\nEPRT |1|10.0.0.2|40003|\r\nQUIT\r\n") },
	  "229 accepted v4 40000 [40000]; 227 accepted 10.0.0.1 40001 [10,0,0,1,156,65]; "
	  "port accepted 10.0.0.2 40002 [10,0,0,2,156,66]; "
	  "eprt accepted 10.0.0.2 40003 [1|10.0.0.2|40003]" },
	{ "accumulator_contention", FTP_FAMILY_IPV4,
	  { C("PASV\r\n"), C("PORT 10,0,0,1,"), R("227 (10,0,0,2,4,1)\r\n"),
	    C("4,1\r\n") },
	  "227 malformed; port accepted 10.0.0.1 1025" },
	/* reply codes taken four bytes at once: short, odd and LF-ended ones */
	{ "reply_code_edges", FTP_FAMILY_IPV4,
	  { C("PASV\r\n"), R("1\r\n22\n2x7 (1,2,3,4,5,6)\r\n150\n227\n"
			     "227 (1,2,3,4,5,6)\r\n") },
	  "227 malformed; 227 unanswered" },
};

static void test_script(const struct script *sc)
{
	static struct rig r;

	run_script(&r, sc, SPLIT_NONE, -1, 0);
	CHECK(r.bad_offsets == 0, "offsets outside the segment");
	CHECK_STR(r.out, sc->want);
}

/* Every split point of every step yields the same offers as unsplit. */
static void test_script_splits(const struct script *sc)
{
	static struct rig whole, part;
	int i;
	size_t k;

	run_script(&whole, sc, SPLIT_NONE, -1, 0);
	for (i = 0; i < MAX_STEPS && sc->steps[i].text; i++) {
		for (k = 1; k < strlen(sc->steps[i].text); k++) {
			run_script(&part, sc, SPLIT_AT, i, k);
			CHECK(strcmp(part.bare, whole.bare) == 0,
			      "step %d cut at %zu: \"%s\" vs \"%s\"", i, k,
			      part.bare, whole.bare);
			CHECK(part.bad_offsets == 0, "offsets outside the segment");
		}
	}
	run_script(&part, sc, SPLIT_BYTES, -1, 0);
	CHECK(strcmp(part.bare, whole.bare) == 0, "bytewise: \"%s\" vs \"%s\"",
	      part.bare, whole.bare);
	run_script(&part, sc, SPLIT_FEED_BYTES, -1, 0);
	CHECK(strcmp(part.out, whole.out) == 0, "bytewise feed: \"%s\" vs \"%s\"",
	      part.out, whole.out);
}

/* ---- hand-written cases ---- */

static void test_notes(void)
{
	static struct rig r;

	rig_init(&r, FTP_FAMILY_IPV4);
	cmd(&r, "PASV\r\nEPSV\r\nEPSV ALL\r\nepsv 2\r\npasv\n");
	CHECK(r.notes[FTP_NOTE_PASV] == 2, "pasv notes %d", r.notes[FTP_NOTE_PASV]);
	CHECK(r.notes[FTP_NOTE_EPSV] == 3, "epsv notes %d", r.notes[FTP_NOTE_EPSV]);
	CHECK(r.notes[FTP_NOTE_RESYNC] == 0, "resync notes %d",
	      r.notes[FTP_NOTE_RESYNC]);
}

static void test_encrypted(void)
{
	static struct rig r;

	rig_init(&r, FTP_FAMILY_IPV4);
	cmd(&r, "AUTH TLS\r\n");
	CHECK(!ftp_session_encrypted(&r.s), "encrypted before 234");
	reply(&r, "234 AUTH TLS successful\r\n\x16\x03\x01garbage\n227 (1,2,3,4,5,6)\r\n");
	CHECK(ftp_session_encrypted(&r.s), "not encrypted after 234");
	cmd(&r, "PORT 10,0,0,1,4,1\r\nAUTH TLS\r\n");
	reply(&r, "234 again\r\n");
	CHECK(r.notes[FTP_NOTE_ENCRYPTED] == 1, "encrypted notes %d",
	      r.notes[FTP_NOTE_ENCRYPTED]);
	CHECK(r.offers == 0, "offers after encryption: %s", r.out);
}

static void test_retransmission(void)
{
	static struct rig r;
	const char *a = "PORT 10,0,0,1,4,1\r\n";
	const char *b = "PORT 10,0,0,2,4,2\r\n";
	char ab[64];
	u32 seq_a;

	rig_init(&r, FTP_FAMILY_IPV4);
	seq_a = r.seq[FTP_DIR_COMMAND];
	cmd(&r, a);
	seg_at(&r, FTP_DIR_COMMAND, seq_a, a, strlen(a));	/* exact copy */
	seg_at(&r, FTP_DIR_COMMAND, seq_a + 5, a + 5, strlen(a) - 5);
	snprintf(ab, sizeof(ab), "%s%s", a, b);
	seg_at(&r, FTP_DIR_COMMAND, seq_a, ab, strlen(ab));	/* overlap + new */
	r.seq[FTP_DIR_COMMAND] = seq_a + strlen(ab);
	seg_at(&r, FTP_DIR_COMMAND, seq_a, ab, strlen(ab));
	CHECK_STR(r.out, "port accepted 10.0.0.1 1025 [10,0,0,1,4,1]; "
		  "port accepted 10.0.0.2 1026 [10,0,0,2,4,2]");
	CHECK(r.notes[FTP_NOTE_RESYNC] == 0, "resync on retransmission");
}

/* A retransmission that covers half a line continues that line only. */
static void test_partial_overlap_midline(void)
{
	static struct rig r;
	const char *line = "PORT 10,0,0,1,4,1\r\nPORT 10,0,0,2,4,2\r\n";
	u32 base;

	rig_init(&r, FTP_FAMILY_IPV4);
	base = r.seq[FTP_DIR_COMMAND];
	seg_at(&r, FTP_DIR_COMMAND, base, line, 9);
	seg_at(&r, FTP_DIR_COMMAND, base + 3, line + 3, 12);
	seg_at(&r, FTP_DIR_COMMAND, base, line, strlen(line));
	CHECK_STR(r.bare, "port accepted 10.0.0.1 1025; port accepted 10.0.0.2 1026");
	CHECK(strstr(r.out, "[10,0,0,2,4,2]") != NULL,
	      "second line has no text in \"%s\"", r.out);
	CHECK(strstr(r.out, "[10,0,0,1,4,1]") == NULL,
	      "split line has text in \"%s\"", r.out);
}

static void test_gap_resync(void)
{
	static struct rig r;

	rig_init(&r, FTP_FAMILY_IPV4);
	cmd(&r, "NOOP\r\nPORT 10,0,0,");
	r.seq[FTP_DIR_COMMAND] += 100;	/* lost segment */
	cmd(&r, "1,4,1\r\nPORT 10,0,0,3,4,3\r\n");
	CHECK_STR(r.out, "port accepted 10.0.0.3 1027 [10,0,0,3,4,3]");
	CHECK(r.notes[FTP_NOTE_RESYNC] == 1, "resync notes %d",
	      r.notes[FTP_NOTE_RESYNC]);
	/* the lost bytes arriving late are stale now */
	seg_at(&r, FTP_DIR_COMMAND, r.seq[FTP_DIR_COMMAND] - 150,
	       "PORT 10,0,0,9,9,9\r\n", 19);
	CHECK(r.offers == 1, "stale bytes parsed: %s", r.out);
}

static void test_gap_keeps_multiline(void)
{
	static struct rig r;

	rig_init(&r, FTP_FAMILY_IPV4);
	cmd(&r, "PASV\r\n");
	reply(&r, "211-status\r\n");
	r.seq[FTP_DIR_REPLY] += 10;
	reply(&r, "x\r\n227 (10,0,0,1,4,1)\r\n211 end\r\n227 (10,0,0,1,4,1)\r\n");
	CHECK_STR(r.out, "227 unanswered; 227 unanswered");
}

static void test_no_syn(void)
{
	static struct rig r;

	rig_init_nosyn(&r, FTP_FAMILY_IPV4, 1000, 5000);
	cmd(&r, "PORT 10,0,0,1,4,1\r\nPORT 10,0,0,2,4,2\r\n");
	CHECK_STR(r.out, "port accepted 10.0.0.2 1026 [10,0,0,2,4,2]");
	CHECK(r.notes[FTP_NOTE_RESYNC] == 1, "resync notes %d",
	      r.notes[FTP_NOTE_RESYNC]);
}

static void test_stale_syn(void)
{
	static struct rig r;

	rig_init(&r, FTP_FAMILY_IPV4);
	cmd(&r, "PORT 10,0,0,1,4,1\r\n");
	ftp_stream_segment(&r.s, FTP_DIR_COMMAND, 1001, NULL, 0, true,
			   &rig_ops, &r);
	seg_at(&r, FTP_DIR_COMMAND, 1001, "PORT 10,0,0,1,4,1\r\n", 19);
	CHECK(r.offers == 1, "stale SYN rewound the stream: %s", r.out);
}

static void test_seq_wrap(void)
{
	static struct rig r;
	const char *line = "PORT 10,0,0,1,4,1\r\n";
	u32 base;

	rig_init_isn(&r, FTP_FAMILY_IPV4, 0xfffffff0u, 0xfffffffeu);
	base = r.seq[FTP_DIR_COMMAND];
	cmd(&r, "NOOP\r\nPORT 10,0,");	/* crosses 2^32 */
	cmd(&r, "0,1,4,1\r\n");
	seg_at(&r, FTP_DIR_COMMAND, base + 6, line, strlen(line));
	cmd(&r, line);
	reply(&r, "200 ok\r\n");
	CHECK(r.seq[FTP_DIR_COMMAND] < base, "test did not wrap");
	CHECK_STR(r.bare, "port accepted 10.0.0.1 1025; port accepted 10.0.0.1 1025");
	CHECK(r.notes[FTP_NOTE_RESYNC] == 0, "resync across the wrap");
}

static void test_text_offsets(void)
{
	static struct rig r;

	rig_init(&r, FTP_FAMILY_IPV4);
	cmd(&r, "NOOP\r\nPORT 1,2,3,4,5,6\r\n");
	CHECK_STR(r.out, "port accepted 1.2.3.4 1286 [1,2,3,4,5,6]");
	rig_init(&r, FTP_FAMILY_IPV4);
	cmd(&r, "PORT 1,2,3,4,5,6");
	cmd(&r, "\r\n");
	CHECK_STR(r.out, "port accepted 1.2.3.4 1286");
	rig_init(&r, FTP_FAMILY_IPV4);
	cmd(&r, "P");
	cmd(&r, "ORT 1,2,3,4,5,6\r\n");
	CHECK_STR(r.out, "port accepted 1.2.3.4 1286");
}

/* 64 KiB of reply text before the numbers, then an overlong command. */
static void test_long_lines(void)
{
	static struct rig r;
	static char big[70000];
	size_t n;

	rig_init(&r, FTP_FAMILY_IPV4);
	cmd(&r, "PASV\r\n");
	n = snprintf(big, sizeof(big), "227 ");
	memset(big + n, 'x', 65536);
	n += 65536;
	snprintf(big + n, sizeof(big) - n, "(10,0,0,1,4,1)\r\n");
	reply(&r, big);
	memset(big, 'A', 65536);
	snprintf(big + 65536, sizeof(big) - 65536,
		 "\r\nPORT 10,0,0,2,4,2%*s\r\n", 300, "");
	cmd(&r, big);
	CHECK_STR(r.out, "227 accepted 10.0.0.1 1025 [10,0,0,1,4,1]; "
		  "port accepted 10.0.0.2 1026");
}

static void test_names(void)
{
	CHECK_STR(ftp_offer_kind_name(FTP_OFFER_PORT), "port");
	CHECK_STR(ftp_offer_kind_name(FTP_OFFER_EPRT), "eprt");
	CHECK_STR(ftp_offer_kind_name(FTP_OFFER_227), "227");
	CHECK_STR(ftp_offer_kind_name(FTP_OFFER_229), "229");
	CHECK_STR(ftp_refusal_name(FTP_ACCEPTED), "accepted");
	CHECK_STR(ftp_refusal_name(FTP_REFUSED_MALFORMED), "malformed");
	CHECK_STR(ftp_refusal_name(FTP_REFUSED_OUT_OF_RANGE), "out_of_range");
	CHECK_STR(ftp_refusal_name(FTP_REFUSED_FAMILY), "family");
	CHECK_STR(ftp_refusal_name(FTP_REFUSED_UNANSWERED), "unanswered");
}

static void test_null_ops(void)
{
	struct ftp_session s;
	const char *t = "PASV\r\nPORT 1,2,3,4,5,6\r\n";

	ftp_session_init(&s, FTP_FAMILY_IPV4);
	ftp_stream_segment(&s, FTP_DIR_COMMAND, 1, NULL, 0, true, NULL, NULL);
	ftp_stream_segment(&s, FTP_DIR_COMMAND, 1, (const u8 *)t, strlen(t),
			   false, NULL, NULL);
	CHECK(!ftp_session_encrypted(&s), "encrypted");
}

/* Parse @text as a retransmission in a replay copy of the rig's session. */
static void replay(struct rig *r, enum ftp_dir dir, const char *text)
{
	struct ftp_session scratch, before = r->s;

	r->seg = (const u8 *)text;
	r->seg_len = strlen(text);
	ftp_session_replay(&scratch, &r->s, dir);
	ftp_stream_feed(&scratch, dir, (const u8 *)text, r->seg_len, 0,
			&rig_ops, r);
	CHECK(!memcmp(&before, &r->s, sizeof(before)), "replay changed the session");
}

/* A retransmitted PORT/227 is found again, with the same text offsets. */
static void test_replay_finds_offers_again(void)
{
	static struct rig r;
	const char *port = "NOOP\r\nPORT 10,0,0,1,4,1\r\n";
	const char *r227 = "227 Entering Passive Mode (10,0,0,2,4,2).\r\n";
	u32 seq_port, seq_227;

	rig_init(&r, FTP_FAMILY_IPV4);
	seq_port = r.seq[FTP_DIR_COMMAND];
	cmd(&r, port);
	reply(&r, "200 NOOP ok\r\n200 PORT ok\r\n");
	cmd(&r, "PASV\r\n");
	seq_227 = r.seq[FTP_DIR_REPLY];
	reply(&r, r227);
	seg_at(&r, FTP_DIR_COMMAND, seq_port, port, strlen(port));
	seg_at(&r, FTP_DIR_REPLY, seq_227, r227, strlen(r227));
	CHECK(r.offers == 2, "retransmissions parsed again: %s", r.out);
	replay(&r, FTP_DIR_COMMAND, port);
	replay(&r, FTP_DIR_REPLY, r227);
	CHECK_STR(r.out, "port accepted 10.0.0.1 1025 [10,0,0,1,4,1]; "
		  "227 accepted 10.0.0.2 1026 [10,0,0,2,4,2]; "
		  "port accepted 10.0.0.1 1025 [10,0,0,1,4,1]; "
		  "227 accepted 10.0.0.2 1026 [10,0,0,2,4,2]");
	CHECK(r.notes[FTP_NOTE_PASV] == 1, "replay counted a note");
}

/* The other direction holding the accumulator does not get in the way. */
static void test_replay_while_other_direction_parses(void)
{
	static struct rig r;

	rig_init(&r, FTP_FAMILY_IPV4);
	cmd(&r, "PASV\r\n");
	reply(&r, "227 Entering Passive Mode (10,0,0,2,");
	replay(&r, FTP_DIR_COMMAND, "EPRT |1|10.0.0.1|1025|\r\n");
	reply(&r, "4,2)\r\n");
	CHECK_STR(r.out, "eprt accepted 10.0.0.1 1025 [1|10.0.0.1|1025]; "
		  "227 accepted 10.0.0.2 1026");
}

/* Nothing is found again in an encrypted session or in other lines. */
static void test_replay_finds_nothing_else(void)
{
	static struct rig r;

	rig_init(&r, FTP_FAMILY_IPV4);
	replay(&r, FTP_DIR_COMMAND, "NOOP\r\nSTOR PORT 10,0,0,1,4,1\r\n");
	replay(&r, FTP_DIR_REPLY, "200-x\r\n227 (10,0,0,1,4,1)\r\n");
	CHECK(!strstr(r.out, "accepted"), "offers from other lines: %s", r.out);
	cmd(&r, "AUTH TLS\r\n");
	reply(&r, "234 go\r\n");
	replay(&r, FTP_DIR_COMMAND, "PORT 10,0,0,1,4,1\r\n");
	replay(&r, FTP_DIR_REPLY, "227 (10,0,0,1,4,1)\r\n");
	CHECK(!strstr(r.out, "accepted"), "offers in an encrypted session: %s",
	      r.out);
}


/* A session whose area came zeroed (ctnetlink) learns its family. */
static void test_zeroed_session_family(void)
{
	static struct rig r;

	memset(&r, 0, sizeof(r));
	r.seq[FTP_DIR_COMMAND] = 7001;
	ftp_session_set_family(&r.s, FTP_FAMILY_IPV6);
	cmd(&r, "NOOP\r\n");	/* the first segment resynchronises */
	cmd(&r, "EPRT |2|2001:db8::1|5000|\r\nPORT 10,0,0,1,4,1\r\n");
	CHECK_STR(r.bare, "eprt accepted 2001:db8::1 5000; port family");
	ftp_session_set_encrypted(&r.s);
	CHECK(ftp_session_encrypted(&r.s), "not opaque");
}

/* A session replicated mid-stream (conntrackd), armed for a pickup. */
static void rig_pickup(struct rig *r, enum ftp_family family)
{
	memset(r, 0, sizeof(*r));
	r->seq[FTP_DIR_COMMAND] = 0x7fff0001;
	r->seq[FTP_DIR_REPLY] = 0x12340001;
	ftp_session_set_family(&r->s, family);
	ftp_session_pickup(&r->s);
}

/*
 * The first line after a failover is parsed: a PASV and its 227, an EPSV
 * and its 229, a PORT, an EPRT; each pickup counted as a resync.
 */
static void test_pickup_first_line(void)
{
	static struct rig r;

	rig_pickup(&r, FTP_FAMILY_IPV4);
	cmd(&r, "PASV\r\n");
	reply(&r, "227 Entering Passive Mode (10,0,0,2,4,1)\r\n");
	CHECK_STR(r.bare, "227 accepted 10.0.0.2 1025");
	CHECK(r.notes[FTP_NOTE_RESYNC] == 2, "resyncs %d", r.notes[FTP_NOTE_RESYNC]);
	rig_pickup(&r, FTP_FAMILY_IPV6);
	cmd(&r, "EPSV\r\n");
	reply(&r, "229 Entering Extended Passive Mode (|||5000|)\r\n");
	CHECK_STR(r.bare, "229 accepted v6 5000");
	rig_pickup(&r, FTP_FAMILY_IPV4);
	cmd(&r, "PORT 10,0,0,1,4,1\r\n");
	CHECK_STR(r.bare, "port accepted 10.0.0.1 1025");
	rig_pickup(&r, FTP_FAMILY_IPV6);
	cmd(&r, "EPRT |2|2001:db8::1|5000|\r\n");
	CHECK_STR(r.bare, "eprt accepted 2001:db8::1 5000");
}

/*
 * The server speaks first after the failover (a reply the other firewall
 * never passed): it answers nothing, and the PASV that follows still draws
 * its 227. A 227 before any command answers nothing either.
 */
static void test_pickup_reply_first(void)
{
	static struct rig r;

	rig_pickup(&r, FTP_FAMILY_IPV4);
	reply(&r, "213 4096\r\n");
	cmd(&r, "PASV\r\n");
	reply(&r, "227 (10,0,0,2,4,1)\r\n");
	CHECK_STR(r.bare, "227 accepted 10.0.0.2 1025");
	rig_pickup(&r, FTP_FAMILY_IPV4);
	reply(&r, "227 (10,0,0,2,4,1)\r\n");
	CHECK_STR(r.bare, "227 unanswered");
}

/* An FTPS session picked up in its ciphertext goes opaque at once. */
static void test_pickup_tls_record(void)
{
	static const u8 record[] = { 0x17, 0x03, 0x03, 0x00, 0x05, 'P', 'A',
				     'S', 'V', '\n' };
	static struct rig r;

	rig_pickup(&r, FTP_FAMILY_IPV4);
	seg_n(&r, FTP_DIR_COMMAND, record, sizeof(record));
	CHECK(ftp_session_encrypted(&r.s), "a TLS record left the session parsed");
	CHECK(r.notes[FTP_NOTE_ENCRYPTED] == 1, "encrypted noted %d times",
	      r.notes[FTP_NOTE_ENCRYPTED]);
	cmd(&r, "PORT 10,0,0,1,4,1\r\n");
	reply(&r, "227 (10,0,0,2,4,1)\r\n");
	CHECK(r.offers == 0, "offers in an opaque session: %s", r.bare);
	/* a reply record first does the same */
	rig_pickup(&r, FTP_FAMILY_IPV4);
	seg_n(&r, FTP_DIR_REPLY, record, sizeof(record));
	CHECK(ftp_session_encrypted(&r.s), "a TLS reply record left it parsed");
}

/*
 * Only the first segment is a bet: a later gap waits for the next line as
 * ever, and a direction that was already parsing is not armed again.
 */
static void test_pickup_once(void)
{
	static struct rig r;

	rig_pickup(&r, FTP_FAMILY_IPV4);
	cmd(&r, "NOOP\r\n");
	r.seq[FTP_DIR_COMMAND] += 100;	/* a gap */
	cmd(&r, "PORT 10,0,0,1,4,1\r\nPORT 10,0,0,1,4,2\r\n");
	CHECK_STR(r.bare, "port accepted 10.0.0.1 1026");
	rig_init(&r, FTP_FAMILY_IPV4);
	cmd(&r, "STOR a");
	ftp_session_pickup(&r.s);
	cmd(&r, "PORT 10,0,0,1,4,1\r\n");
	CHECK(r.offers == 0, "the tail of a line parsed: %s", r.bare);
}

/* A port 0 refusal still names the address it parsed. */
static void test_refusal_names_address(void)
{
	static struct rig r;
	const struct ftp_offer *o;

	rig_init(&r, FTP_FAMILY_IPV4);
	cmd(&r, "PORT 10,0,0,7,0,0\r\n");
	o = &r.last;
	CHECK(o->refusal == FTP_REFUSED_OUT_OF_RANGE, "refusal %d", o->refusal);
	CHECK(o->addr_known && o->addr[3] == 7, "address not kept");
	cmd(&r, "PORT 10,0,0,300,0,0\r\n");
	CHECK(!r.last.addr_known, "a half-parsed line claims its address");
}

/*
 * A 227/229 refused inside another multi-line reply says so (enforce=1
 * neutralises it as a text line, not as a final reply); one refused as a
 * reply of its own does not.
 */
static void test_refusal_in_multiline(void)
{
	static struct rig r;

	rig_init(&r, FTP_FAMILY_IPV4);
	cmd(&r, "PASV\r\n");
	reply(&r, "230-a\r\n227 (10,0,0,1,4,1)\r\n");
	CHECK(r.last.refusal == FTP_REFUSED_UNANSWERED && r.last.in_multiline,
	      "inner 227: refusal %d, in_multiline %d", r.last.refusal,
	      r.last.in_multiline);
	reply(&r, "230 end\r\n227 (10,0,0,1,4,1)\r\n");
	CHECK(r.last.refusal == FTP_REFUSED_UNANSWERED && !r.last.in_multiline,
	      "top-level 227: refusal %d, in_multiline %d", r.last.refusal,
	      r.last.in_multiline);
}

/* After an announcement in a segment that began mid-line, no replay. */
static void test_replay_unsafe_after_unclean_start(void)
{
	static struct rig r;
	struct ftp_session scratch;
	const char *tail = "PORT 10,0,0,1,4,1\r\n";

	rig_init(&r, FTP_FAMILY_IPV4);
	CHECK(ftp_session_at_line_start(&r.s, FTP_DIR_COMMAND), "not at start");
	cmd(&r, "SITE x ");
	CHECK(!ftp_session_at_line_start(&r.s, FTP_DIR_COMMAND), "at start");
	ftp_session_note_announcement(&r.s, FTP_DIR_COMMAND, true);
	replay(&r, FTP_DIR_COMMAND, tail);
	CHECK(strstr(r.out, "accepted"), "clean start: nothing replayed");
	r.out[0] = '\0';
	ftp_session_note_announcement(&r.s, FTP_DIR_COMMAND, false);
	CHECK(!ftp_session_replay(&scratch, &r.s, FTP_DIR_COMMAND),
	      "an unsafe direction reported as replayable");
	CHECK(!ftp_session_replay(&scratch, &r.s, FTP_DIR_REPLY),
	      "the other direction reported as replayable (one bit holds both)");
	replay(&r, FTP_DIR_COMMAND, tail);
	replay(&r, FTP_DIR_REPLY, "227 (10,0,0,1,4,1)\r\n");
	CHECK_STR(r.out, "");
}

/* A 4xx/5xx answering an opened PORT/EPRT asks for its pinhole back. */
static void test_active_refused(void)
{
	static struct rig r;

	rig_init(&r, FTP_FAMILY_IPV4);
	cmd(&r, "PORT 10,0,0,2,4,1\r\n");
	reply(&r, "200 PORT ok\r\n");
	CHECK(r.notes[FTP_NOTE_ACTIVE_REFUSED] == 0, "200 withdrew the PORT");
	cmd(&r, "SIZE f\r\nPORT 10,0,0,2,4,2\r\nRETR f\r\n");
	reply(&r, "550 no such file\r\n");
	CHECK(r.notes[FTP_NOTE_ACTIVE_REFUSED] == 0, "the 550 to SIZE withdrew it");
	reply(&r, "500 Illegal PORT command\r\n");
	CHECK(r.notes[FTP_NOTE_ACTIVE_REFUSED] == 1, "500 to PORT: %d notes",
	      r.notes[FTP_NOTE_ACTIVE_REFUSED]);
	reply(&r, "425 no data connection\r\n");
	CHECK(r.notes[FTP_NOTE_ACTIVE_REFUSED] == 1, "the reply to RETR withdrew");
	cmd(&r, "PORT 10,0,0,2,4\r\n");	/* refused here: nothing to withdraw */
	reply(&r, "500 no\r\n");
	CHECK(r.notes[FTP_NOTE_ACTIVE_REFUSED] == 1, "a refused PORT withdrawn");

	rig_init(&r, FTP_FAMILY_IPV6);
	cmd(&r, "EPRT |2|::1|1025|\r\n");
	reply(&r, "522 Network protocol not supported, use (1)\r\n");
	CHECK(r.notes[FTP_NOTE_ACTIVE_REFUSED] == 1, "522 to EPRT not noted");
}

/* What the queue cannot hold is noted, once per overflow. */
static void test_uncorrelated(void)
{
	static struct rig r;

	rig_init(&r, FTP_FAMILY_IPV4);
	cmd(&r, "NOOP\r\nNOOP\r\nNOOP\r\nNOOP\r\nNOOP\r\nNOOP\r\nPASV\r\n");
	CHECK(r.notes[FTP_NOTE_UNCORRELATED] == 0, "six ahead noted");
	cmd(&r, "PASV\r\n");
	CHECK(r.notes[FTP_NOTE_UNCORRELATED] == 1, "second PASV not noted");
	rig_init(&r, FTP_FAMILY_IPV4);
	cmd(&r, "NOOP\r\nNOOP\r\nNOOP\r\nNOOP\r\nNOOP\r\nNOOP\r\nNOOP\r\nNOOP\r\nNOOP\r\n");
	CHECK(r.notes[FTP_NOTE_UNCORRELATED] == 1, "overflow noted %d times",
	      r.notes[FTP_NOTE_UNCORRELATED]);
}

/* The greeting is the first reply due, even to a client that does not wait. */
static void test_greeting_first(void)
{
	static struct rig r;

	rig_init_isn(&r, FTP_FAMILY_IPV4, 1000, 5000);
	cmd(&r, "USER ftp\r\nPASS x\r\nPASV\r\n");
	reply(&r, "220-hello\r\n220 ready\r\n331 pw\r\n230 in\r\n"
		  "227 (10,0,0,1,4,1)\r\n");
	CHECK_STR(r.out, "227 accepted 10.0.0.1 1025 [10,0,0,1,4,1]");
	/* after a gap nothing is known to wait: the next PASV is first */
	rig_init_nosyn(&r, FTP_FAMILY_IPV4, 1000, 5000);
	cmd(&r, "NOOP\r\n");
	reply(&r, "200 x\r\n");
	cmd(&r, "PASV\r\n");
	reply(&r, "227 (10,0,0,1,4,2)\r\n");
	CHECK_STR(r.out, "227 accepted 10.0.0.1 1026 [10,0,0,1,4,2]");
}

/*
 * Run @steps (NULL-terminated, alternating as given) whole and fed a byte
 * at a time: the engine's word-at-a-time scanning and whole-line parsing
 * never apply to a single byte, so the second run is the byte machine
 * alone. Both must report the same offers (texts too) and notes, and leave
 * the same state. Returns the whole run's offers in @whole.
 */
static void run_whole_and_bytes(struct rig *whole, const struct step *steps,
				int count)
{
	static struct rig bytes;
	int i;

	rig_init(whole, FTP_FAMILY_IPV4);
	rig_init(&bytes, FTP_FAMILY_IPV4);
	for (i = 0; i < count; i++) {
		seg(whole, steps[i].dir, steps[i].text);
		step_feed_bytes(&bytes, steps[i].dir, steps[i].text);
	}
	CHECK(strcmp(whole->out, bytes.out) == 0, "whole \"%s\", bytewise \"%s\"",
	      whole->out, bytes.out);
	CHECK(!memcmp(whole->notes, bytes.notes, sizeof(bytes.notes)),
	      "notes differ");
	CHECK(!memcmp(&whole->s, &bytes.s, sizeof(bytes.s)), "states differ");
	CHECK(whole->bad_offsets == 0, "offsets outside the segment");
}

/*
 * Lines are passed over a word at a time: wherever the words fall, every
 * command line must be counted (or the 227 below would answer the wrong
 * command) and every line that matters found. Each shift moves all the
 * lines against the words; some LFs end up as the last byte of a word.
 */
static void test_word_scan_alignment(void)
{
	static const char pad[] = "xxxxxxxxxxxxxxxxxxxxxxxx";
	static struct rig r;
	char cmds[512], replies[512];
	struct step steps[2] = { { FTP_DIR_COMMAND, cmds },
				 { FTP_DIR_REPLY, replies } };
	int shift;

	for (shift = 0; shift < (int)sizeof(pad); shift++) {
		/* six commands ahead of the PASV, one a Telnet IP + Synch */
		snprintf(cmds, sizeof(cmds),
			 "NOOP%.*s\r\nNOOP 012345678\r\nnoop\r\n"
			 "STAT 0123456789012345678901234\r\nAPPE x\r\n"
			 "\xff\xf4\xff\xf2" "ABOR\r\nPASV\r\n", shift, pad);
		/* a 227 line inside 211- answers nothing: refused */
		snprintf(replies, sizeof(replies),
			 "211-status%.*s\r\n211-x\r\n 227 (1,2,3,4,5,6)\r\n2\r\n"
			 "227 inner (1,2,3,4,5,6)\r\n211 end\r\n200 a\r\n"
			 "200 b\r\n150 c\r\n226 c\r\n226 d\r\n226 e\r\n"
			 "227 (10,0,0,1,4,1)\r\n", shift, pad);
		run_whole_and_bytes(&r, steps, 2);
		CHECK(strcmp(r.out, "227 unanswered; 227 accepted 10.0.0.1 1025 "
			     "[10,0,0,1,4,1]") == 0,
		      "shift %d: \"%s\"", shift, r.out);
	}
}

/*
 * Inside a multi-line reply each LF's next line is judged where it is
 * (skip_multiline_reply()). Pads of every length move the lines against
 * the words and the scan's own start and end: a line that matters falls
 * on the first byte the loop takes over from skip_word(), and a line cut
 * by the segment's end on each of the last bytes (its "22" and the next
 * segment's "7 " are a 227), also after UTF-8 text, whose bytes above
 * 0x80 pass the loop's first test. Bytes below 0x0b and a 0x0b right
 * after one (a tab, 0x01, an LF) are flagged as LFs may be, and bytes
 * 0x80..0x8a before a bare LF pass the first test: only the LFs among
 * them begin lines, and a "227 " after a 0x0b is text.
 */
static void test_word_scan_multiline_lines(void)
{
	static const char pad[] = "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx";
	static struct rig r;
	char body[512];
	struct step steps[5] = { { FTP_DIR_COMMAND, "STAT\r\n" },
				 { FTP_DIR_REPLY, body },
				 { FTP_DIR_REPLY, "7 (1,2,3,4,5,6)\r\n211 end\r\n" },
				 { FTP_DIR_COMMAND, "PASV\r\n" },
				 { FTP_DIR_REPLY, "227 (10,0,0,1,4,1)\r\n" } };
	int shift;

	for (shift = 0; shift < (int)sizeof(pad); shift++) {
		snprintf(body, sizeof(body),
			 "211-status\r\n %.*s\r\n229 inner (|||1025|)\r\n"
			 "x%.*s\r\n\x0b" "227 (1,2,3,4,5,6)\r\n"
			 "\t%.*s\x01\x0b\x8a\x85\n227 (1,2,3,4,5,7)\r\n"
			 "\xd0\x9f\xd1\x80%.*s\xd0\xb8\r\n22",
			 shift, pad, shift, pad, shift, pad, shift, pad);
		run_whole_and_bytes(&r, steps, 5);
		CHECK(strcmp(r.out, "229 unanswered; 227 unanswered; "
			     "227 unanswered; 227 accepted "
			     "10.0.0.1 1025 [10,0,0,1,4,1]") == 0,
		      "shift %d: \"%s\"", shift, r.out);
	}
}

/*
 * Long runs of lines of no interest, longer than one call of the word scan
 * covers: 2000 pipelined NOOPs overflow the reply queue (noted once), and
 * a long multi-line reply hides a 227 at its end.
 */
static void test_word_scan_long_runs(void)
{
	static char cmds[2000 * 6 + 16], replies[300 * 40 + 128];
	static struct rig r;
	struct step steps[3] = { { FTP_DIR_COMMAND, cmds },
				 { FTP_DIR_REPLY, replies },
				 { FTP_DIR_COMMAND, "PASV\r\n" } };
	int i;

	cmds[0] = replies[0] = '\0';
	for (i = 0; i < 2000; i++)
		strcat(cmds, "NOOP\r\n");
	strcat(replies, "211-start\r\n");
	for (i = 0; i < 300; i++)
		strcat(replies, "211-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\r\n");
	strcat(replies, "227 (1,2,3,4,5,6)\r\n211 end\r\n");
	run_whole_and_bytes(&r, steps, 3);
	CHECK_STR(r.out, "227 unanswered");
	CHECK(r.notes[FTP_NOTE_UNCORRELATED] == 1, "overflow noted %d times",
	      r.notes[FTP_NOTE_UNCORRELATED]);
}

/*
 * Inside a multi-line reply, only lines with a space fourth can matter, and
 * the word scan tests that byte three places on, where the pair of words
 * it holds may not reach: the end line at every offset in the pair, after
 * enough body lines ("211-" and "227-", which end nothing) for the scan's
 * quiet loop to be running, must still be seen.
 */
static void test_word_scan_multiline_end(void)
{
	static const char pad[] = "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx";
	static struct rig r;
	char replies[512];
	struct step steps[2] = { { FTP_DIR_COMMAND, "STAT\r\nPASV\r\n" },
				 { FTP_DIR_REPLY, replies } };
	int shift;

	for (shift = 0; shift < (int)sizeof(pad); shift++) {
		snprintf(replies, sizeof(replies),
			 "211-status\r\n211-body line one\r\n227-x\r\n"
			 "211-body line two, longer than a pair\r\n211-%.*s\r\n"
			 "211 end\r\n227 (10,0,0,1,4,1)\r\n", shift, pad);
		run_whole_and_bytes(&r, steps, 2);
		CHECK(strcmp(r.out, "227 accepted 10.0.0.1 1025 "
			     "[10,0,0,1,4,1]") == 0,
		      "shift %d: \"%s\"", shift, r.out);
	}
}

/*
 * Replies pass over pairs of words without an LF in a loop of their own;
 * a pair begun by a line (an LF ended the pair before) is not one of them,
 * though it has no LF. Lines that matter, each longer than a pair, begun
 * at every offset of the pair after lines passed over whole: a 227 after
 * lines that begin with no digit; the end of a multi-line reply after its
 * body, and a 227 after it. Without that exception, both are missed.
 */
static void test_word_scan_long_lines(void)
{
	static const char pad[] = "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx";
	static struct rig r;
	char replies[1024];
	struct step single[2] = { { FTP_DIR_COMMAND, "NOOP\r\nPASV\r\n" },
				  { FTP_DIR_REPLY, replies } };
	struct step multi[2] = { { FTP_DIR_COMMAND, "STAT\r\nPASV\r\n" },
				 { FTP_DIR_REPLY, replies } };
	int shift;

	for (shift = 0; shift < (int)sizeof(pad); shift++) {
		/* lines that begin with no digit are passed over whole */
		snprintf(replies, sizeof(replies),
			 "200 ok\r\n x line of no interest, longer than a pair%.*s\r\n"
			 " y line of no interest, longer than a pair\r\n"
			 "227 Entering Passive Mode (10,0,0,1,4,1)\r\n",
			 shift, pad);
		run_whole_and_bytes(&r, single, 2);
		CHECK(strcmp(r.out, "227 accepted 10.0.0.1 1025 [10,0,0,1,4,1]") == 0,
		      "single, shift %d: \"%s\"", shift, r.out);
		/* the body lines are passed over from the first one's start */
		snprintf(replies, sizeof(replies),
			 "211-status\r\n"
			 "211-body line of no interest, longer than a pair%.*s\r\n"
			 "211-another body line of no interest\r\n"
			 "211 end of the status, longer than a pair of words\r\n"
			 "227 Entering Passive Mode (10,0,0,2,4,2)\r\n",
			 shift, pad);
		run_whole_and_bytes(&r, multi, 2);
		CHECK(strcmp(r.out, "227 accepted 10.0.0.2 1026 [10,0,0,2,4,2]") == 0,
		      "multi-line, shift %d: \"%s\"", shift, r.out);
	}
}

/*
 * @head, a pad of every length from 0 to 32, then @tail, after the command
 * segment @before (if any): fed whole and a byte at a time, the same; the
 * PORT and the EPRT in them accepted, the PASV seen once.
 */
static void commands_at_every_shift(const char *before, const char *head,
				    const char *tail)
{
	static const char pad[] = "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx";
	static struct rig r;
	char cmds[1024];
	struct step steps[2] = { { FTP_DIR_COMMAND, before },
				 { FTP_DIR_COMMAND, cmds } };
	int shift;

	for (shift = 0; shift < (int)sizeof(pad); shift++) {
		snprintf(cmds, sizeof(cmds), "%s%.*s%s", head, shift, pad, tail);
		if (before)
			run_whole_and_bytes(&r, steps, 2);
		else
			run_whole_and_bytes(&r, steps + 1, 1);
		CHECK(strcmp(r.out, "port accepted 10.0.0.1 1025 [10,0,0,1,4,1]; "
			     "eprt accepted 10.0.0.2 21 [1|10.0.0.2|21]") == 0,
		      "shift %d: \"%s\"", shift, r.out);
		CHECK(r.notes[FTP_NOTE_PASV] == 1, "shift %d: PASV seen %d times",
		      shift, r.notes[FTP_NOTE_PASV]);
	}
}

/*
 * Commands that the word scan's first look lets through but its closer one
 * drops (TYPE, ALLO, ACCT: the first look is b & 0x4a == 0x40), next to
 * those it must keep: PORT after a Telnet IP + Synch, a lower-case EPRT,
 * PASV, at every offset of the pair of words, after enough NOOPs for the
 * scan's quiet loop to be running.
 */
static void test_word_scan_command_candidates(void)
{
	commands_at_every_shift(NULL,
		"NOOP\r\nNOOP\r\nNOOP\r\nNOOP\r\nNOOP",
		"\r\nTYPE I\r\nACCT x\r\nALLO 1\r\ntype a\r\n"
		"\xff\xf4\xff\xf2PORT 10,0,0,1,4,1\r\nNOOP\r\nNOOP\r\n"
		"NOOP\r\nNOOP\r\nNOOP\r\nTYPE A\r\n"
		"eprt |1|10.0.0.2|21|\r\nallo 2\r\nNOOP\r\nPASV\r\n");
}

/*
 * Once the reply queue is full, commands are passed over without counting
 * their lines (skip_uncounted_commands()): wherever the words fall, every
 * line that matters must still be found, a Telnet IAC among them, and
 * nothing else. Lines that start with a byte above 0x7f other than IAC
 * (UTF-8 lead bytes, some of which pass the scan's first test and some
 * not) begin nothing, "PORT" after one included.
 */
static void test_word_scan_uncounted_commands(void)
{
	commands_at_every_shift(
		"NOOP\r\nNOOP\r\nNOOP\r\nNOOP\r\nNOOP\r\nNOOP\r\nNOOP\r\n"
		"NOOP\r\n",
		"NOOP",
		"\r\nNOOP\r\n\xd0\x9fORT 10,0,0,7,4,1\r\n\xc0PORT 10,0,0,8,4,1\r\n"
		"\xc3\xa4\r\nNOOP\r\nNOOP\r\nNOOP\r\nNOOP\r\nNOOP\r\nNOOP\r\n"
		"\xff\xf4\xff\xf2PORT 10,0,0,1,4,1\r\nNOOP\r\nNOOP\r\nNOOP\r\n"
		"NOOP\r\nNOOP\r\nTYPE I\r\nPWD\r\nallo 1\r\nST\xc3\xa4T\r\n"
		"NOOP\r\nNOOP\r\nNOOP\r\neprt |1|10.0.0.2|21|\r\nNOOP\r\n"
		"NOOP\r\nNOOP\r\nNOOP\r\nNOOP\r\npasv\r\nNOOP\r\nNOOP\r\n"
		"NOOP\r\n");
}

/*
 * A Telnet command cut by a segment's end (IAC last, its command byte
 * next) leaves a line start that continues a line of the earlier segment.
 * Passing over uncounted commands must still end that continuation at the
 * first LF: the PORT after it lies whole in the segment, and its text can
 * be rewritten. Found by the fuzzer's byte-at-a-time differential.
 */
static void test_word_scan_uncounted_after_cut_iac(void)
{
	commands_at_every_shift(
		"NOOP\r\nNOOP\r\nNOOP\r\nNOOP\r\nNOOP\r\nNOOP\r\nNOOP\r\n"
		"NOOP\r\n\xff",
		"\xf4NOOP 0123456789abcdef",
		"\r\nNOOP\r\nNOOP\r\nNOOP\r\nNOOP\r\nNOOP\r\nNOOP\r\n"
		"PORT 10,0,0,1,4,1\r\nNOOP\r\nNOOP\r\nNOOP\r\nNOOP\r\n"
		"eprt |1|10.0.0.2|21|\r\nNOOP\r\nNOOP\r\nPASV\r\nNOOP\r\n");
}

/*
 * The same pass at a segment's end: a PASV cut after "PA" (or "P", "PAS")
 * has too few bytes to judge, so the byte machine must take it, wherever
 * it falls in the last pair of words the pass reads.
 */
static void test_word_scan_uncounted_cut_head(void)
{
	static const char pad[] = "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx";
	static const char *const cuts[][2] = {
		{ "P", "ASV\r\n" }, { "PA", "SV\r\n" }, { "PAS", "V\r\n" },
	};
	static struct rig r;
	char cmds[256];
	struct step steps[3] = {
		{ FTP_DIR_COMMAND, "NOOP\r\nNOOP\r\nNOOP\r\nNOOP\r\nNOOP\r\n"
				   "NOOP\r\nNOOP\r\nNOOP\r\n" },
		{ FTP_DIR_COMMAND, cmds },
	};
	size_t c;
	int shift;

	for (c = 0; c < sizeof(cuts) / sizeof(cuts[0]); c++) {
		steps[2].dir = FTP_DIR_COMMAND;
		steps[2].text = cuts[c][1];
		for (shift = 0; shift < (int)sizeof(pad); shift++) {
			snprintf(cmds, sizeof(cmds),
				 "NOOP\r\nNOOP\r\nNOOP %.*s\r\nNOOP\r\nNOOP\r\n%s",
				 shift, pad, cuts[c][0]);
			run_whole_and_bytes(&r, steps, 3);
			CHECK(r.notes[FTP_NOTE_PASV] == 1,
			      "cut \"%s\", shift %d: PASV seen %d times",
			      cuts[c][0], shift, r.notes[FTP_NOTE_PASV]);
		}
	}
}

static void cmd_budget(struct rig *r, const char *text)
{
	r->seg = (const u8 *)text;
	r->seg_len = strlen(text);
	ftp_stream_segment(&r->s, FTP_DIR_COMMAND, r->seq[FTP_DIR_COMMAND],
			   r->seg, r->seg_len, false, &rig_budget_ops, r);
	r->seq[FTP_DIR_COMMAND] += r->seg_len;
}

/*
 * A caller that wants no more offers gets PORT/EPRT lines unparsed, kind
 * only, and every line after them is still seen; a line cut by the end of
 * the buffer is parsed (its offer comes in the next segment), and so is
 * "PORTS", which is no PORT.
 */
static void test_unwanted_offers_unparsed(void)
{
	static struct rig r;

	rig_init(&r, FTP_FAMILY_IPV4);
	r.budget = 1;
	cmd_budget(&r, "PORT 10,0,0,1,4,1\r\nport 10,0,0,1,4,2\r\n"
		   "EPRT |1|10.0.0.1|1026|\r\nPORTS x\r\nPORT junk\r\n"
		   "PASV\r\nPORT 10,0,0,1,4,3");
	cmd_budget(&r, "\r\nEPRT |1|10.0.0.1|1028|\r\n");
	CHECK_STR(r.out, "port accepted 10.0.0.1 1025 [10,0,0,1,4,1]; "
		  "port unparsed; eprt unparsed; port unparsed; "
		  "port accepted 10.0.0.1 1027; eprt unparsed");
	CHECK(r.notes[FTP_NOTE_PASV] == 1, "PASV noted %d times",
	      r.notes[FTP_NOTE_PASV]);
	CHECK(r.last.family == FTP_FAMILY_IPV4 && !r.last.addr_known &&
	      !r.last.text_in_segment, "unparsed offer holds more than its kind");
}

/* As on_note(), and the reply queue's notes told in order among offers. */
static void on_note_in_order(void *ctx, enum ftp_note note)
{
	struct rig *r = ctx;

	r->notes[note]++;
	if (note == FTP_NOTE_UNCORRELATED)
		append(r->out, "%suncorrelated", r->out[0] ? "; " : "");
}

static const struct ftp_engine_ops rig_budget_ordered_ops = {
	.offer = on_offer,
	.note = on_note_in_order,
	.wants_offers = rig_wants_offers,
};

/*
 * Unwanted lines of one kind in a row come as one offer with their count,
 * and a run ends at the line that fills the reply queue, so its offer
 * still comes before the note that line brings (as line by line it
 * would): 2 NOOPs leave room for 5 lines of the 7 the queue counts.
 * "PORTS 1" is no PORT: it ends a run of them.
 */
static void test_unwanted_offer_runs(void)
{
	static const char text[] =
		"NOOP\r\nnoop\r\nPORT 1,2,3,4,5,6\r\nPORT a\r\nport \r\n"
		"PORT 1\r\nPORT 2\r\nPORT 3\r\nPORT 4\r\nPORTS 1\r\nEPRT x\r\n"
		"eprt |2|::1|1|\r\nPORT 5\r\nPORT z";
	static struct rig r;

	rig_init(&r, FTP_FAMILY_IPV4);
	r.seg = (const u8 *)text;
	r.seg_len = sizeof(text) - 1;
	ftp_stream_segment(&r.s, FTP_DIR_COMMAND, r.seq[FTP_DIR_COMMAND],
			   r.seg, r.seg_len, false, &rig_budget_ordered_ops, &r);
	CHECK_STR(r.out, "port unparsed x5; uncorrelated; port unparsed x2; "
		  "eprt unparsed x2; port unparsed; port malformed");
	CHECK(r.offers == 11, "offers count %d lines", r.offers);
	CHECK(r.last.text_start == r.seg_len - 1,
	      "the cut line's refusal at offset %u", r.last.text_start);
}

/*
 * offer_run_end() asks a word only for bytes below 0x0b or above 0x8a: a
 * tab, a control byte, UTF-8 or a 0x0b after an LF in a run of unwanted
 * lines must not end a line early. The run is moved across the word
 * boundaries by a NOOP line of 0 to 15 spaces, and ends with the buffer
 * (a heap copy of its exact size, for the sanitizers) after a last line
 * of 0 to 8 letters more, so that its LF falls at each place of a word.
 */
static void test_unwanted_offer_runs_odd_bytes(void)
{
	static const char run[] =
		"PORT a\tb\r\nPORT \xc3\xa9\xe2\x82\xac\r\nPORT \x01\x8a\x8b\x0b\r\n"
		"PORT 1,2,3,4,5,6\r\n\x0bNOOP\r\nPORT q\r\nPORT w";
	static struct rig r;
	char text[sizeof(run) + 32];
	unsigned int pad;
	size_t len;
	u8 *buf;

	for (pad = 0; pad < 16; pad++) {
		len = snprintf(text, sizeof(text), "NOOP%*s\r\n%s%.*s\r\n", pad,
			       "", run, pad % 9, "xxxxxxxx");
		buf = malloc(len);
		if (!buf) {
			CHECK(0, "out of memory");
			return;
		}
		memcpy(buf, text, len);
		rig_init(&r, FTP_FAMILY_IPV4);
		ftp_stream_segment(&r.s, FTP_DIR_COMMAND,
				   r.seq[FTP_DIR_COMMAND], buf, len, false,
				   &rig_budget_ordered_ops, &r);
		free(buf);
		CHECK_STR(r.out, "port unparsed x4; port unparsed; uncorrelated; "
			  "port unparsed");
		CHECK(r.offers == 6, "pad %u: offers count %d lines", pad,
		      r.offers);
	}
}

/* ---- runner ---- */

static void report(const char *name)
{
	if (fail_why[0]) {
		printf("FAIL: %s/%s: %s\n", SUITE, name, fail_why);
		failed_cases++;
	} else {
		printf("PASS: %s/%s\n", SUITE, name);
	}
	fail_why[0] = '\0';
}

static const struct {
	const char *name;
	void (*fn)(void);
} cases[] = {
	{ "notes", test_notes },
	{ "auth_234_encrypts", test_encrypted },
	{ "retransmission_no_duplicate", test_retransmission },
	{ "partial_overlap_midline", test_partial_overlap_midline },
	{ "gap_resync", test_gap_resync },
	{ "gap_keeps_multiline", test_gap_keeps_multiline },
	{ "no_syn_first_line_skipped", test_no_syn },
	{ "stale_syn_ignored", test_stale_syn },
	{ "seq_wraparound", test_seq_wrap },
	{ "text_offsets", test_text_offsets },
	{ "long_lines", test_long_lines },
	{ "names", test_names },
	{ "null_ops", test_null_ops },
	{ "replay_finds_offers_again", test_replay_finds_offers_again },
	{ "replay_other_direction_busy", test_replay_while_other_direction_parses },
	{ "replay_finds_nothing_else", test_replay_finds_nothing_else },
	{ "zeroed_session_family", test_zeroed_session_family },
	{ "pickup_first_line", test_pickup_first_line },
	{ "pickup_reply_first", test_pickup_reply_first },
	{ "pickup_tls_record", test_pickup_tls_record },
	{ "pickup_once", test_pickup_once },
	{ "refusal_names_address", test_refusal_names_address },
	{ "refusal_in_multiline", test_refusal_in_multiline },
	{ "replay_unsafe_after_unclean_start", test_replay_unsafe_after_unclean_start },
	{ "active_refused_withdraws", test_active_refused },
	{ "uncorrelated_noted", test_uncorrelated },
	{ "greeting_first", test_greeting_first },
	{ "word_scan_alignment", test_word_scan_alignment },
	{ "word_scan_multiline_lines", test_word_scan_multiline_lines },
	{ "word_scan_long_runs", test_word_scan_long_runs },
	{ "word_scan_multiline_end", test_word_scan_multiline_end },
	{ "word_scan_long_lines", test_word_scan_long_lines },
	{ "word_scan_command_candidates", test_word_scan_command_candidates },
	{ "word_scan_uncounted_commands", test_word_scan_uncounted_commands },
	{ "word_scan_uncounted_after_cut_iac",
	  test_word_scan_uncounted_after_cut_iac },
	{ "word_scan_uncounted_cut_head", test_word_scan_uncounted_cut_head },
	{ "unwanted_offers_unparsed", test_unwanted_offers_unparsed },
	{ "unwanted_offer_runs", test_unwanted_offer_runs },
	{ "unwanted_offer_runs_odd_bytes", test_unwanted_offer_runs_odd_bytes },
};

int main(void)
{
	char name[128];
	size_t i;

	for (i = 0; i < sizeof(scripts) / sizeof(scripts[0]); i++) {
		test_script(&scripts[i]);
		report(scripts[i].name);
		test_script_splits(&scripts[i]);
		snprintf(name, sizeof(name), "%s_split", scripts[i].name);
		report(name);
	}
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cases[i].fn();
		report(cases[i].name);
	}
	return failed_cases ? 1 : 0;
}
