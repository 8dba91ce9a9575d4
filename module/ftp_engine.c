// SPDX-License-Identifier: GPL-2.0
/*
 * The FTP engine: see ftp_engine.h for the contract.
 *
 * Each direction of the control connection runs a byte-at-a-time state
 * machine. Its state is one small number that encodes the position in the
 * keyword trie ("P", "PO", "POR", ...) or in an argument's grammar, so a
 * line split anywhere across any number of segments is parsed exactly like
 * the unsplit line, with no payload buffered.
 *
 * Only one announcing line at a time can be mid-address: both PORT/EPRT
 * (client) and 227/229 (server) share one accumulator for the address,
 * port, delimiter and text length. Legitimate FTP never interleaves an
 * announcement in each direction; if it happens, the second line is refused
 * as malformed, which is the safe side.
 *
 * A refusal is reported as soon as it is certain (first problem wins), and
 * the rest of the line is skipped; an acceptance is reported when the line
 * is known to be complete and clean. Either way a line yields at most one
 * offer, and bytes are parsed at most once, so retransmissions cannot
 * produce a second offer.
 */
#ifdef __KERNEL__
#include <linux/types.h>
#include <linux/string.h>
#include <linux/kernel.h>
#else
#include <stdint.h>
#include <string.h>
typedef int32_t s32;
typedef uint64_t u64;
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define unlikely(x) __builtin_expect(!!(x), 0)
#ifndef __always_inline	/* glibc's sys/cdefs.h has one */
#define __always_inline inline __attribute__((__always_inline__))
#endif
#define noinline __attribute__((__noinline__))
#endif

#include "ftp_engine.h"

/* Parser states shared by both directions; 0 is what ftp_session_init() leaves. */
enum {
	ST_UNSYNCED,		/* no SYN seen: the first segment is a gap */
	ST_PICKUP,		/* replicated mid-stream: see ftp_session_pickup() */
	ST_ENCRYPTED,		/* AUTH accepted: nothing more is parsed */
	ST_SKIP,		/* discard up to and including the next LF */
	ST_LINE_START,
	ST_PICKED,		/* a pickup's first byte comes next: TLS or a line */
	ST_FIRST_DIRECTIONAL,
};

/* Client to server. States from C_ACC_FIRST on own the shared accumulator. */
enum {
	C_P = ST_FIRST_DIRECTIONAL, C_PO, C_POR, C_PA, C_PAS,
	C_E, C_EP, C_EPR, C_EPS,
	C_PORT_KW, C_EPRT_KW, C_PASV_KW, C_EPSV_KW,
	C_PASV_REST, C_EPSV_REST,
	C_IAC,			/* a Telnet IAC before the command (RFC 854) */
	C_IAC_OPT,		/* IAC WILL/WONT/DO/DONT: the option byte next */
	C_ACTIVE_OPENED,	/* a PORT/EPRT whose pinhole was opened, at its LF */
	C_PORT_SP, C_EPRT_SP,
	C_PORT_NUM_START, C_PORT_NUM, C_PORT_TAIL,
	C_EPRT_AF, C_EPRT_AF1, C_EPRT_AF2,
	C_EPRT_V4_START, C_EPRT_V4_NUM,
	C_EPRT_V6_START, C_EPRT_V6_LEAD, C_EPRT_V6_GROUP, C_EPRT_V6_COLON,
	C_EPRT_V6_DC, C_EPRT_V6_DC_GROUP, C_EPRT_V6_DC_COLON,
	C_EPRT_V6_V4_START, C_EPRT_V6_V4_NUM,	/* "::ffff:a.b.c.d" */
	C_EPRT_PORT_START, C_EPRT_PORT, C_EPRT_TAIL,
	C_STATE_COUNT,
	C_ACC_FIRST = C_PORT_NUM_START,
};

/* Server to client. States from R_ACC_FIRST on own the shared accumulator. */
enum {
	R_D1 = ST_FIRST_DIRECTIONAL, R_D2, R_D3,
	/*
	 * Inside "NNN-". A line start is matched against the reply's own code
	 * (M*: "NNN " ends the reply) and against "227 "/"229 " (A*: such a
	 * line answers nothing and is refused), or both at once (B*).
	 */
	R_ML_SKIP, R_ML_LS, R_ML_M1, R_ML_M2, R_ML_M3,
	R_ML_A1, R_ML_A2, R_ML_A3_227, R_ML_A3_229, R_ML_B1, R_ML_B2,
	R_227_SCAN, R_229_SCAN,
	R_227_NUM_START, R_227_NUM,
	R_229_D1, R_229_D2, R_229_D3, R_229_PORT_START, R_229_PORT,
	R_STATE_COUNT,
	R_ACC_FIRST = R_227_NUM_START,
};

#define CMD_STATE_BITS		6
#define REPLY_STATE_BITS	5
#define TEXT_LEN_BITS		6
/*
 * text_len value when offsets cannot be given: the line began in an earlier
 * segment, or its text reached 63 bytes (the longest real one, an EPRT of
 * a full-length IPv6 address, is 47) and no longer fits the counter.
 */
#define TEXT_UNKNOWN	((1u << TEXT_LEN_BITS) - 1)
#define TRAIL_MAX	127	/* largest count the 7-bit delim field holds */

/*
 * Which command draws which reply (RFC 959 4.2: every command draws exactly
 * one final reply, 2xx-5xx; 1xx replies are preliminary). Commands are
 * answered in order, so a reply is the answer to the oldest command still
 * waiting. At most one waiting command is tracked by kind: a PASV/EPSV
 * (only its answer may be a 227/229) or a PORT/EPRT that opened a pinhole
 * (an answer of 4xx/5xx withdraws it). q_n counts differently by q_kind:
 *
 *   Q_NONE     q_n commands are waiting (the greeting counts as one);
 *   otherwise  q_n commands ahead of the tracked one are still waiting.
 *
 * Commands sent after the tracked one are not counted: once it is answered
 * the queue looks empty, and their replies, arriving to an empty queue,
 * answer nothing. Every way the count can go wrong - a gap, more waiting
 * commands than Q_MAX, a second command worth tracking while one is - is
 * noted (FTP_NOTE_UNCORRELATED or FTP_NOTE_RESYNC) and errs on the safe
 * side: a 227/229 is refused, or a rejected PORT's pinhole is left to time
 * out. A 227/229 is still accepted only while a PASV/EPSV of the session
 * is counted as waiting and nothing is counted ahead of it.
 */
enum { Q_NONE, Q_PASSIVE, Q_ACTIVE };
#define Q_MAX		7

/*
 * The whole per-connection state. addr, port, delim, text_len, field and
 * dcolon form the shared accumulator; the direction whose state is in its
 * *_ACC_FIRST range owns them. After the last field of a PORT/EPRT, delim
 * is reused to count the trailing bytes before the LF.
 */
struct ftp_state {
	u32 next_seq[2];	/* per direction: next sequence number expected */
	u8 addr[16];		/* address being parsed, network byte order */
	u16 port;		/* port being parsed (PORT/227: in addr[4..5]) */
	u16 cmd_state:CMD_STATE_BITS;
	u16 reply_state:REPLY_STATE_BITS;
	u16 q_n:3;		/* see Q_NONE */
	u16 cmd_cont:1;		/* current command line began in an earlier segment */
	u16 reply_cont:1;	/* same for the current reply line */
	u32 q_kind:2;		/* Q_*: the waiting command tracked, if any */
	u32 replay_unsafe:1;	/* see ftp_session_note_announcement() */
	u32 family_v6:1;	/* control connection is IPv6 */
	u32 reply_code:9;	/* current reply's code - 100, built digit by digit */
	u32 delim:7;		/* EPRT/229 delimiter; trailing byte count after */
	u32 text_len:TEXT_LEN_BITS; /* bytes of rewritable text so far, or TEXT_UNKNOWN */
	u32 field:3;		/* index of the number or IPv6 group being parsed */
	u32 dcolon:3;		/* groups before "::" */
} __attribute__((aligned(8)));

_Static_assert(sizeof(struct ftp_state) <= sizeof(struct ftp_session),
	       "ftp_state must fit the 32-byte conntrack helper area");
_Static_assert(__alignof__(struct ftp_state) <= __alignof__(struct ftp_session),
	       "ftp_state alignment must not exceed ftp_session's");
_Static_assert(C_STATE_COUNT <= (1 << CMD_STATE_BITS), "command states overflow");
_Static_assert(R_STATE_COUNT <= (1 << REPLY_STATE_BITS), "reply states overflow");

/* One call's worth of context, so helpers need a single argument. */
struct ftp_run {
	struct ftp_state *st;
	enum ftp_dir dir;
	const struct ftp_engine_ops *ops;
	void *ctx;
	u32 off;		/* segment offset of the byte being parsed */
};

static struct ftp_state *state_of(struct ftp_session *s)
{
	return (struct ftp_state *)s->opaque;
}

static unsigned int dir_state(const struct ftp_state *st, enum ftp_dir dir)
{
	return dir == FTP_DIR_COMMAND ? st->cmd_state : st->reply_state;
}

static unsigned int run_state(const struct ftp_run *r)
{
	return dir_state(r->st, r->dir);
}

static void set_state(struct ftp_run *r, unsigned int state)
{
	if (r->dir == FTP_DIR_COMMAND)
		r->st->cmd_state = state;
	else
		r->st->reply_state = state;
}

static bool run_cont(const struct ftp_run *r)
{
	return r->dir == FTP_DIR_COMMAND ? r->st->cmd_cont : r->st->reply_cont;
}

static void set_cont(struct ftp_run *r, bool cont)
{
	if (r->dir == FTP_DIR_COMMAND)
		r->st->cmd_cont = cont;
	else
		r->st->reply_cont = cont;
}

static bool holds_acc(const struct ftp_state *st, enum ftp_dir dir)
{
	unsigned int first = dir == FTP_DIR_COMMAND ? C_ACC_FIRST : R_ACC_FIRST;

	return dir_state(st, dir) >= first;
}

static bool in_multiline(const struct ftp_run *r)
{
	unsigned int state = run_state(r);

	return r->dir == FTP_DIR_REPLY && state >= R_ML_SKIP && state <= R_ML_B2;
}

static bool at_line_start(const struct ftp_run *r)
{
	unsigned int state = run_state(r);

	return state == ST_LINE_START ||
	       (r->dir == FTP_DIR_REPLY && state == R_ML_LS);
}

static enum ftp_family control_family(const struct ftp_state *st)
{
	return st->family_v6 ? FTP_FAMILY_IPV6 : FTP_FAMILY_IPV4;
}

static bool is_digit(u8 c)
{
	return c >= '0' && c <= '9';
}

/* Value of a hex digit, or -1. */
static int hex_value(u8 c)
{
	if (is_digit(c))
		return c - '0';
	c |= 0x20;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static u8 upper(u8 c)
{
	return c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c;
}

/* RFC 2428: a delimiter is any printable ASCII character but space. */
static bool is_delimiter_char(u8 c)
{
	return c >= 33 && c <= 126;
}

static void note(struct ftp_run *r, enum ftp_note what)
{
	if (r->ops && r->ops->note)
		r->ops->note(r->ctx, what);
}

/* True when the caller opened a pinhole for the offer. */
static bool deliver(struct ftp_run *r, const struct ftp_offer *offer)
{
	return r->ops && r->ops->offer && r->ops->offer(r->ctx, offer);
}

/*
 * A refused line's offer. Nothing of a refused line is worth rewriting, so
 * no text offsets are given, and it names no address.
 */
static void refused_offer(const struct ftp_run *r, struct ftp_offer *offer,
			  enum ftp_offer_kind kind, enum ftp_refusal why,
			  enum ftp_family family)
{
	memset(offer, 0, sizeof(*offer));
	offer->kind = kind;
	offer->refusal = why;
	offer->family = family;
	offer->in_multiline = in_multiline(r);
	offer->text_start = r->off;
	offer->text_end = r->off;
	offer->lines = 1;
}

/*
 * Report a refused line and skip the rest of it. The address is named only
 * when the whole line was parsed (@parsed: a port 0).
 */
static void refuse_line(struct ftp_run *r, enum ftp_offer_kind kind,
			enum ftp_refusal why, enum ftp_family family,
			bool parsed)
{
	struct ftp_offer offer;

	refused_offer(r, &offer, kind, why, family);
	offer.addr_known = parsed;
	if (parsed && kind != FTP_OFFER_229)
		memcpy(offer.addr, r->st->addr,
		       family == FTP_FAMILY_IPV6 ? 16 : 4);
	deliver(r, &offer);
	set_state(r, ST_SKIP);
}

static void refuse(struct ftp_run *r, enum ftp_offer_kind kind,
		   enum ftp_refusal why, enum ftp_family family)
{
	refuse_line(r, kind, why, family, false);
}

/* PORT and 227 can only name IPv4; EPRT and 229 follow the control's. */
static enum ftp_family kind_family(const struct ftp_state *st,
				   enum ftp_offer_kind kind)
{
	if (kind == FTP_OFFER_PORT || kind == FTP_OFFER_227)
		return FTP_FAMILY_IPV4;
	return control_family(st);
}

static void refuse_malformed(struct ftp_run *r, enum ftp_offer_kind kind)
{
	refuse(r, kind, FTP_REFUSED_MALFORMED, kind_family(r->st, kind));
}

static void refuse_range(struct ftp_run *r, enum ftp_offer_kind kind)
{
	refuse(r, kind, FTP_REFUSED_OUT_OF_RANGE, kind_family(r->st, kind));
}

/* Report the line held in the accumulator, whose text ends at @text_end. */
static void offer_accept(struct ftp_run *r, enum ftp_offer_kind kind,
			 enum ftp_family family, u16 port, u32 text_end)
{
	const struct ftp_state *st = r->st;
	struct ftp_offer offer = {
		.kind = kind, .family = family, .port = port,
		.addr_known = true, .lines = 1,
	};

	if (!port) {
		refuse_line(r, kind, FTP_REFUSED_OUT_OF_RANGE, family, true);
		return;
	}
	if (kind != FTP_OFFER_229)
		memcpy(offer.addr, st->addr,
		       family == FTP_FAMILY_IPV6 ? 16 : 4);
	if (st->text_len != TEXT_UNKNOWN && text_end >= st->text_len) {
		offer.text_in_segment = true;
		offer.text_start = text_end - st->text_len;
		offer.text_end = text_end;
	}
	/* a PORT/EPRT is accepted at its LF: line_end() tracks it next */
	if (deliver(r, &offer) && r->dir == FTP_DIR_COMMAND)
		set_state(r, C_ACTIVE_OPENED);
	else
		set_state(r, ST_SKIP);
}

/*
 * Take the shared accumulator for this direction's line. Fails while the
 * other direction is mid-address.
 */
static bool acc_claim(struct ftp_run *r)
{
	struct ftp_state *st = r->st;
	enum ftp_dir other = r->dir == FTP_DIR_COMMAND ? FTP_DIR_REPLY :
							 FTP_DIR_COMMAND;

	if (holds_acc(st, other))
		return false;
	memset(st->addr, 0, sizeof(st->addr));
	st->port = 0;
	st->delim = 0;
	st->field = 0;
	st->dcolon = 0;
	st->text_len = run_cont(r) ? TEXT_UNKNOWN : 0;
	return true;
}

static void count_text(struct ftp_state *st)
{
	if (st->text_len != TEXT_UNKNOWN)
		st->text_len++;
}

/* One more trailing byte after the last field of a PORT/EPRT. */
static void count_trailing(struct ftp_state *st)
{
	if (st->delim == TRAIL_MAX)
		st->text_len = TEXT_UNKNOWN;
	else
		st->delim++;
}

/* Add a decimal digit to address byte @i; false once it passes 255. */
static bool octet_digit(struct ftp_state *st, unsigned int i, u8 c)
{
	unsigned int v = st->addr[i] * 10u + (c - '0');

	if (v > 255)
		return false;
	st->addr[i] = v;
	return true;
}

/* Add a decimal digit to the port; false once it passes 65535. */
static bool port_digit(struct ftp_state *st, u8 c)
{
	u32 v = st->port * 10u + (c - '0');

	if (v > 65535)
		return false;
	st->port = v;
	return true;
}

/* ---- "h1,h2,h3,h4,p1,p2", shared by PORT and 227 ---- */

enum six_step {
	SIX_DIGIT,		/* a digit was added */
	SIX_COMMA,		/* a comma started the next number */
	SIX_END,		/* the sixth number ended just before this byte */
	SIX_MALFORMED,
	SIX_RANGE,
};

static enum six_step six_numbers_step(struct ftp_state *st, bool in_number,
				      u8 c)
{
	if (is_digit(c))
		return octet_digit(st, st->field, c) ? SIX_DIGIT : SIX_RANGE;
	if (!in_number)
		return SIX_MALFORMED;	/* empty field */
	if (c == ',') {
		if (st->field == 5)
			return SIX_MALFORMED;	/* a seventh number */
		st->field++;
		return SIX_COMMA;
	}
	return st->field == 5 ? SIX_END : SIX_MALFORMED;
}

/* Move p1,p2 out of addr[4..5] into the port. */
static u16 six_numbers_port(struct ftp_state *st)
{
	u16 port = st->addr[4] << 8 | st->addr[5];

	st->addr[4] = 0;
	st->addr[5] = 0;
	return port;
}

/* ---- which reply answers which command (see Q_NONE) ---- */

static void queue_reset(struct ftp_state *st, unsigned int waiting)
{
	st->q_kind = Q_NONE;
	st->q_n = waiting;
}

/* A command line ended: @kind is Q_PASSIVE, Q_ACTIVE or Q_NONE (any other). */
static void queue_command(struct ftp_run *r, unsigned int kind)
{
	struct ftp_state *st = r->st;

	if (st->q_kind != Q_NONE) {
		/* after the tracked command: not counted (see Q_NONE) */
		if (kind != Q_NONE)
			note(r, FTP_NOTE_UNCORRELATED);
		return;
	}
	if (kind != Q_NONE && st->q_n < Q_MAX) {
		st->q_kind = kind;	/* q_n becomes its position */
		return;
	}
	/* Q_MAX means "Q_MAX or more": the count is no longer exact */
	if (kind != Q_NONE || st->q_n == Q_MAX - 1)
		note(r, FTP_NOTE_UNCORRELATED);
	if (st->q_n < Q_MAX)
		st->q_n++;
}

/*
 * Does a command of no interest change the queue? Not once it is full, nor
 * after a tracked command (see Q_NONE).
 */
static bool queue_counts_commands(const struct ftp_state *st)
{
	return st->q_kind == Q_NONE && st->q_n < Q_MAX;
}

/*
 * @lines command lines of no interest ended: queue_command(r, Q_NONE) as
 * many times, at once.
 */
static void queue_commands(struct ftp_run *r, u32 lines)
{
	struct ftp_state *st = r->st;

	if (!queue_counts_commands(st))
		return;
	if (lines < (u32)(Q_MAX - st->q_n)) {
		st->q_n += lines;
		return;
	}
	note(r, FTP_NOTE_UNCORRELATED);	/* as the count passed Q_MAX - 1 */
	st->q_n = Q_MAX;
}

/* A final reply: returns the tracked kind it answers, or Q_NONE. */
static unsigned int queue_answer(struct ftp_state *st)
{
	unsigned int kind = st->q_kind;

	if (kind != Q_NONE && st->q_n == 0) {
		st->q_kind = Q_NONE;
		return kind;
	}
	if (st->q_n)
		st->q_n--;	/* to an empty queue it answers nothing */
	return Q_NONE;
}

/* ---- client commands ---- */

#define TELNET_WILL	251
#define TELNET_DONT	254
#define TELNET_IAC	255

struct keyword_step {
	u8 from;
	u8 ch;
	u8 to;
};

/* The trie of PORT, PASV, EPRT, EPSV. */
static const struct keyword_step keyword_steps[] = {
	{ ST_LINE_START, 'P', C_P }, { C_P, 'O', C_PO }, { C_PO, 'R', C_POR },
	{ C_POR, 'T', C_PORT_KW }, { C_P, 'A', C_PA }, { C_PA, 'S', C_PAS },
	{ C_PAS, 'V', C_PASV_KW },
	{ ST_LINE_START, 'E', C_E }, { C_E, 'P', C_EP }, { C_EP, 'R', C_EPR },
	{ C_EPR, 'T', C_EPRT_KW }, { C_EP, 'S', C_EPS },
	{ C_EPS, 'V', C_EPSV_KW },
};

static void command_keyword(struct ftp_run *r, u8 c)
{
	unsigned int state = run_state(r);
	size_t i;

	if (state == ST_LINE_START && c == TELNET_IAC) {
		set_state(r, C_IAC);
		return;
	}
	c = upper(c);
	for (i = 0; i < ARRAY_SIZE(keyword_steps); i++) {
		if (keyword_steps[i].from == state && keyword_steps[i].ch == c) {
			set_state(r, keyword_steps[i].to);
			return;
		}
	}
	set_state(r, ST_SKIP);	/* some other command */
}

struct keyword_end {
	u8 state;		/* the keyword was just completed */
	u8 on_space;		/* state after a space */
	bool takes_argument;	/* CR or LF right away is malformed */
	u8 kind;		/* offer kind to refuse with */
};

static const struct keyword_end keyword_ends[] = {
	{ C_PORT_KW, C_PORT_SP, true, FTP_OFFER_PORT },
	{ C_EPRT_KW, C_EPRT_SP, true, FTP_OFFER_EPRT },
	{ C_PASV_KW, C_PASV_REST, false, 0 },
	{ C_EPSV_KW, C_EPSV_REST, false, 0 },
};

/* A PASV/EPSV line is complete; line_end() queues it. */
static void command_line_complete(struct ftp_run *r, unsigned int state)
{
	if (state == C_PASV_KW || state == C_PASV_REST)
		note(r, FTP_NOTE_PASV);
	else
		note(r, FTP_NOTE_EPSV);
}

/* The byte right after a complete keyword decides whether it is one. */
static void command_keyword_end(struct ftp_run *r, u8 c)
{
	unsigned int state = run_state(r);
	const struct keyword_end *end = keyword_ends;

	while (end < keyword_ends + ARRAY_SIZE(keyword_ends) - 1 &&
	       end->state != state)
		end++;
	if (c == ' ' || (c == '\r' && !end->takes_argument)) {
		set_state(r, end->on_space);
	} else if (c == '\r' || c == '\n') {
		if (end->takes_argument)
			refuse_malformed(r, end->kind);
		else
			command_line_complete(r, state);
	} else {
		set_state(r, ST_SKIP);	/* e.g. "PORTS": another command */
	}
}

static void command_rest(struct ftp_run *r, u8 c)
{
	if (c == '\n')
		command_line_complete(r, run_state(r));
}


/*
 * After the last field of a PORT/EPRT only spaces and CR may precede the LF.
 * They are counted so that the text end can be found from the LF's offset.
 */
static void command_tail_byte(struct ftp_run *r, u8 c, enum ftp_offer_kind kind,
			      unsigned int tail_state)
{
	struct ftp_state *st = r->st;
	u16 port;

	if (c == ' ' || c == '\r') {
		count_trailing(st);
		set_state(r, tail_state);
	} else if (c == '\n') {
		port = kind == FTP_OFFER_PORT ? six_numbers_port(st) : st->port;
		offer_accept(r, kind, kind_family(st, kind), port,
			     r->off - st->delim);
	} else {
		refuse_malformed(r, kind);
	}
}

static void port_number_byte(struct ftp_run *r, u8 c)
{
	struct ftp_state *st = r->st;

	switch (six_numbers_step(st, run_state(r) == C_PORT_NUM, c)) {
	case SIX_DIGIT:
		set_state(r, C_PORT_NUM);
		count_text(st);
		break;
	case SIX_COMMA:
		set_state(r, C_PORT_NUM_START);
		count_text(st);
		break;
	case SIX_END:
		command_tail_byte(r, c, FTP_OFFER_PORT, C_PORT_TAIL);
		break;
	case SIX_RANGE:
		refuse_range(r, FTP_OFFER_PORT);
		break;
	default:
		refuse_malformed(r, FTP_OFFER_PORT);
	}
}

/* Bytes six_numbers_scan() may read: "255,255,255,255,255,255" */
#define SIX_NUMBERS_MAX	23

/*
 * A number of one to three digits, at most 255, at @q: the byte after it,
 * or NULL. Reads q[0] to q[2] whatever they hold, so a digit costs a load,
 * a subtraction and a compare. A fourth digit (a leading zero, which the
 * byte machine takes) is the byte after: no comma and no end of line, so
 * six_numbers_scan() or port_line() turns the line away and the byte
 * machine parses it.
 */
static __always_inline const u8 *octet_scan(const u8 *q, u8 *v)
{
	unsigned int d0 = q[0] - '0', d1 = q[1] - '0', d2 = q[2] - '0', x;

	if (d0 > 9)
		return NULL;
	if (d1 > 9) {
		*v = d0;
		return q + 1;
	}
	if (d2 > 9) {
		*v = d0 * 10 + d1;
		return q + 2;
	}
	x = d0 * 100 + d1 * 10 + d2;
	if (x > 255)
		return NULL;
	*v = x;
	return q + 3;
}

/*
 * "h1,h2,h3,h4,p1,p2" at data[p], for port_line(): the offset of the byte
 * after the sixth number, or 0 unless there are six numbers of one to
 * three digits and at most 255 each. SIX_NUMBERS_MAX bytes from data[p]
 * must be in the buffer.
 */
static u32 six_numbers_scan(const u8 *data, u32 p, u8 num[6])
{
	const u8 *q = data + p;
	unsigned int field;

	for (field = 0;; field++, q++) {
		q = octet_scan(q, &num[field]);
		if (!q)
			return 0;
		if (field == 5)
			return q - data;
		if (*q != ',')
			return 0;
	}
}

/*
 * The state and the offer the byte machine leaves for a clean PORT line
 * whose LF is at r->off, up to the LF (which line_end() then ends):
 * @text_len bytes of numbers, then @trailing spaces and CRs. port_line()
 * has checked that the accumulator is free. The fields share words:
 * written one after the other, they are stored at once.
 */
static void port_line_accept(struct ftp_run *r, const u8 num[6],
			     u32 text_len, u32 trailing)
{
	struct ftp_state *st = r->st;

	/* all of acc_claim()'s work, each field written once */
	memcpy(st->addr, num, 4);
	memset(st->addr + 4, 0, sizeof(st->addr) - 4);
	st->port = 0;
	st->delim = trailing;
	st->text_len = text_len;
	st->field = 5;
	st->dcolon = 0;
	set_state(r, C_PORT_TAIL);
	offer_accept(r, FTP_OFFER_PORT, FTP_FAMILY_IPV4, num[4] << 8 | num[5],
		     r->off - trailing);
}

/* First byte of the PORT argument, after the spaces. */
static void port_arg_start(struct ftp_run *r, u8 c)
{
	if (c == ' ')
		return;
	if (r->st->family_v6) {
		refuse(r, FTP_OFFER_PORT, FTP_REFUSED_FAMILY, FTP_FAMILY_IPV4);
		return;
	}
	if (!is_digit(c) || !acc_claim(r)) {
		refuse_malformed(r, FTP_OFFER_PORT);
		return;
	}
	set_state(r, C_PORT_NUM_START);
	port_number_byte(r, c);
}

/* The first non-space byte after "EPRT" is the delimiter. */
static void eprt_arg_start(struct ftp_run *r, u8 c)
{
	if (c == ' ')
		return;
	if (!is_delimiter_char(c) || !acc_claim(r)) {
		refuse_malformed(r, FTP_OFFER_EPRT);
		return;
	}
	r->st->delim = c;
	set_state(r, C_EPRT_AF);
}

static void eprt_family_byte(struct ftp_run *r, u8 c)
{
	enum ftp_family af;

	if (c == r->st->delim || (c != '1' && c != '2')) {
		refuse_malformed(r, FTP_OFFER_EPRT);
		return;
	}
	af = c == '1' ? FTP_FAMILY_IPV4 : FTP_FAMILY_IPV6;
	if (af != control_family(r->st)) {
		refuse(r, FTP_OFFER_EPRT, FTP_REFUSED_FAMILY, af);
		return;
	}
	set_state(r, af == FTP_FAMILY_IPV4 ? C_EPRT_AF1 : C_EPRT_AF2);
}

static void eprt_after_family(struct ftp_run *r, u8 c)
{
	unsigned int state = run_state(r);

	if (c != r->st->delim)
		refuse_malformed(r, FTP_OFFER_EPRT);
	else
		set_state(r, state == C_EPRT_AF1 ? C_EPRT_V4_START : C_EPRT_V6_START);
}

/* Dotted quad; a byte equal to the delimiter is always the delimiter. */
static void eprt_v4_byte(struct ftp_run *r, u8 c)
{
	struct ftp_state *st = r->st;
	bool in_number = run_state(r) == C_EPRT_V4_NUM;

	if (c == st->delim) {
		if (in_number && st->field == 3)
			set_state(r, C_EPRT_PORT_START);
		else
			refuse_malformed(r, FTP_OFFER_EPRT);
	} else if (c == '.' && in_number && st->field < 3) {
		st->field++;
		set_state(r, C_EPRT_V4_START);
	} else if (!is_digit(c)) {
		refuse_malformed(r, FTP_OFFER_EPRT);
	} else if (!octet_digit(st, st->field, c)) {
		refuse_range(r, FTP_OFFER_EPRT);
	} else {
		set_state(r, C_EPRT_V4_NUM);
	}
}

/*
 * IPv6 text: groups are accumulated in place at their index; after "::"
 * they land right after the groups before it and are moved to the end of
 * the address once the delimiter shows how many there were.
 */
static void v6_group_digit(struct ftp_run *r, int digit, unsigned int next)
{
	u8 *group = r->st->addr + 2 * r->st->field;
	unsigned int value = group[0] << 8 | group[1];

	if (value > 0x0fff) {
		refuse_malformed(r, FTP_OFFER_EPRT);
		return;
	}
	value = value << 4 | digit;
	group[0] = value >> 8;
	group[1] = value & 0xff;
	set_state(r, next);
}

/*
 * Move the @after groups typed after "::" to end at byte @end (16, or 12
 * before an embedded IPv4 address); zero the gap. Out of line in every
 * build (the kernel's FORTIFY_SOURCE memset() makes it so there alone):
 * engine_bench's object must have the module's functions.
 */
static noinline void v6_expand(struct ftp_state *st, unsigned int after,
			       unsigned int end)
{
	unsigned int from = st->dcolon * 2;
	unsigned int to = end - after * 2;
	unsigned int i;

	for (i = after * 2; i-- > 0;)
		st->addr[to + i] = st->addr[from + i];
	memset(st->addr + from, 0, to - from);
}

static void eprt_v6_hex(struct ftp_run *r, unsigned int state, int digit)
{
	switch (state) {
	case C_EPRT_V6_START:
	case C_EPRT_V6_GROUP:
	case C_EPRT_V6_COLON:
		v6_group_digit(r, digit, C_EPRT_V6_GROUP);
		break;
	case C_EPRT_V6_DC:
		/* "::" must stand for at least one group */
		if (r->st->field == 7)
			refuse_malformed(r, FTP_OFFER_EPRT);
		else
			v6_group_digit(r, digit, C_EPRT_V6_DC_GROUP);
		break;
	case C_EPRT_V6_DC_GROUP:
	case C_EPRT_V6_DC_COLON:
		v6_group_digit(r, digit, C_EPRT_V6_DC_GROUP);
		break;
	default:
		refuse_malformed(r, FTP_OFFER_EPRT);
	}
}

static void eprt_v6_colon(struct ftp_run *r, unsigned int state)
{
	struct ftp_state *st = r->st;

	if (state == C_EPRT_V6_START) {
		set_state(r, C_EPRT_V6_LEAD);
	} else if (state == C_EPRT_V6_LEAD || state == C_EPRT_V6_COLON) {
		st->dcolon = st->field;
		set_state(r, C_EPRT_V6_DC);
	} else if (state == C_EPRT_V6_GROUP && st->field < 7) {
		st->field++;
		set_state(r, C_EPRT_V6_COLON);
	} else if (state == C_EPRT_V6_DC_GROUP && st->field < 6) {
		st->field++;
		set_state(r, C_EPRT_V6_DC_COLON);
	} else {
		refuse_malformed(r, FTP_OFFER_EPRT);	/* 9 groups, ":::" */
	}
}

static void eprt_v6_delimiter(struct ftp_run *r, unsigned int state)
{
	struct ftp_state *st = r->st;

	if (state == C_EPRT_V6_GROUP && st->field == 7) {
		set_state(r, C_EPRT_PORT_START);
	} else if (state == C_EPRT_V6_DC) {
		v6_expand(st, 0, 16);
		set_state(r, C_EPRT_PORT_START);
	} else if (state == C_EPRT_V6_DC_GROUP) {
		v6_expand(st, st->field + 1 - st->dcolon, 16);
		set_state(r, C_EPRT_PORT_START);
	} else if (state == C_EPRT_V6_V4_NUM && st->field == 3) {
		set_state(r, C_EPRT_PORT_START);
	} else {
		refuse_malformed(r, FTP_OFFER_EPRT);
	}
}

/*
 * The group just typed held up to three decimal digits, read as hex: its
 * value in decimal, or -1 (a hex letter, or above 255).
 */
static int v6_group_as_octet(const u8 *group)
{
	unsigned int v = group[0] << 8 | group[1];
	unsigned int d2 = v >> 8 & 0xf, d1 = v >> 4 & 0xf, d0 = v & 0xf;

	if (v > 0xfff || d2 > 9 || d1 > 9 || d0 > 9 ||
	    d2 * 100 + d1 * 10 + d0 > 255)
		return -1;
	return d2 * 100 + d1 * 10 + d0;
}

/*
 * RFC 4291 2.2: the last 32 bits may be written as a dotted quad. At its
 * first dot the group just typed was its first octet: the groups after
 * "::" go where they belong before it (the quad is always last), and the
 * remaining octets then fill addr[13..15], counted in field.
 */
static void eprt_v6_dot(struct ftp_run *r, unsigned int state)
{
	struct ftp_state *st = r->st;
	u8 *group = st->addr + 2 * st->field;
	int octet = v6_group_as_octet(group);
	bool dc = state == C_EPRT_V6_DC_GROUP;

	if (state == C_EPRT_V6_V4_NUM && st->field < 3) {
		st->field++;
		set_state(r, C_EPRT_V6_V4_START);
		return;
	}
	if (octet < 0 || (state != C_EPRT_V6_GROUP && !dc) ||
	    (dc ? st->field > 5 : st->field != 6)) {
		refuse_malformed(r, FTP_OFFER_EPRT);
		return;
	}
	group[0] = 0;
	group[1] = 0;
	if (dc)
		v6_expand(st, st->field - st->dcolon, 12);
	st->addr[12] = octet;
	st->field = 1;
	set_state(r, C_EPRT_V6_V4_START);
}

/* An octet of the embedded IPv4 address after the first. */
static void eprt_v6_v4_digit(struct ftp_run *r, u8 c)
{
	if (!is_digit(c))
		refuse_malformed(r, FTP_OFFER_EPRT);
	else if (!octet_digit(r->st, 12 + r->st->field, c))
		refuse_range(r, FTP_OFFER_EPRT);
	else
		set_state(r, C_EPRT_V6_V4_NUM);
}

static void eprt_v6_byte(struct ftp_run *r, u8 c)
{
	unsigned int state = run_state(r);
	int digit = hex_value(c);

	if (c == r->st->delim)
		eprt_v6_delimiter(r, state);
	else if (c == '.')
		eprt_v6_dot(r, state);
	else if (state >= C_EPRT_V6_V4_START)
		eprt_v6_v4_digit(r, c);
	else if (c == ':')
		eprt_v6_colon(r, state);
	else if (digit >= 0)
		eprt_v6_hex(r, state, digit);
	else
		refuse_malformed(r, FTP_OFFER_EPRT);
}

static void eprt_port_byte(struct ftp_run *r, u8 c)
{
	if (c == r->st->delim || !is_digit(c))
		refuse_malformed(r, FTP_OFFER_EPRT);
	else if (!port_digit(r->st, c))
		refuse_range(r, FTP_OFFER_EPRT);
	else
		set_state(r, C_EPRT_PORT);
}

/* The final delimiter: from here on st->delim counts trailing bytes. */
static void eprt_port_end(struct ftp_run *r)
{
	if (!r->st->port) {
		refuse_range(r, FTP_OFFER_EPRT);
		return;
	}
	r->st->delim = 1;
	set_state(r, C_EPRT_TAIL);
}

/* The EPRT argument after its first delimiter. */
static void eprt_byte(struct ftp_run *r, u8 c)
{
	struct ftp_state *st = r->st;
	unsigned int state = run_state(r);

	if (state == C_EPRT_TAIL) {
		command_tail_byte(r, c, FTP_OFFER_EPRT, C_EPRT_TAIL);
		return;
	}
	if (state == C_EPRT_PORT && c == st->delim) {
		eprt_port_end(r);
		return;
	}
	count_text(st);
	if (state == C_EPRT_AF)
		eprt_family_byte(r, c);
	else if (state == C_EPRT_AF1 || state == C_EPRT_AF2)
		eprt_after_family(r, c);
	else if (state == C_EPRT_V4_START || state == C_EPRT_V4_NUM)
		eprt_v4_byte(r, c);
	else if (state >= C_EPRT_V6_START && state <= C_EPRT_V6_V4_NUM)
		eprt_v6_byte(r, c);
	else
		eprt_port_byte(r, c);
}

/*
 * RFC 959 4.1.3: a client sends Telnet IP and Synch (IAC IP, IAC DM) before
 * ABOR. Telnet commands never start an FTP command: they are passed over
 * and the line starts after them. IAC IAC is a literal 0xFF, which begins
 * no command we care about.
 */
static void telnet_byte(struct ftp_run *r, u8 c)
{
	if (run_state(r) == C_IAC_OPT)
		set_state(r, ST_LINE_START);
	else if (c == TELNET_IAC)
		set_state(r, ST_SKIP);
	else if (c >= TELNET_WILL && c <= TELNET_DONT)
		set_state(r, C_IAC_OPT);
	else
		set_state(r, ST_LINE_START);
}

static void command_byte(struct ftp_run *r, u8 c)
{
	unsigned int state = run_state(r);

	if (state < ST_LINE_START || state == C_ACTIVE_OPENED)
		return;
	if (state <= C_EPS)
		command_keyword(r, c);
	else if (state <= C_EPSV_KW)
		command_keyword_end(r, c);
	else if (state <= C_EPSV_REST)
		command_rest(r, c);
	else if (state <= C_IAC_OPT)
		telnet_byte(r, c);
	else if (state == C_PORT_SP)
		port_arg_start(r, c);
	else if (state == C_EPRT_SP)
		eprt_arg_start(r, c);
	else if (state <= C_PORT_NUM)
		port_number_byte(r, c);
	else if (state == C_PORT_TAIL)
		command_tail_byte(r, c, FTP_OFFER_PORT, C_PORT_TAIL);
	else
		eprt_byte(r, c);
}

/* ---- server replies ---- */

static void become_encrypted(struct ftp_run *r)
{
	struct ftp_state *st = r->st;

	st->cmd_state = ST_ENCRYPTED;
	st->reply_state = ST_ENCRYPTED;
	queue_reset(st, 0);
	note(r, FTP_NOTE_ENCRYPTED);
}

/*
 * Three digits at the start of a line, kept as the code minus 100 so that
 * every reply code (100-599) fits nine bits: a first digit outside 1-5
 * cannot begin one.
 */
static void reply_code_digit(struct ftp_run *r, u8 c)
{
	struct ftp_state *st = r->st;
	unsigned int state = run_state(r);

	if (!is_digit(c) || (state == ST_LINE_START && (c < '1' || c > '5'))) {
		set_state(r, ST_SKIP);
		return;
	}
	st->reply_code = state == ST_LINE_START ? c - '1' :
			 st->reply_code * 10 + (c - '0');
	set_state(r, state == ST_LINE_START ? R_D1 : state + 1);
}

static unsigned int reply_code(const struct ftp_state *st)
{
	return st->reply_code + 100;
}

/* A 227/229 line: only an answer to PASV/EPSV can announce a port. */
static void reply_announce_start(struct ftp_run *r, unsigned int code,
				 bool answered, u8 c)
{
	enum ftp_offer_kind kind = code == 227 ? FTP_OFFER_227 : FTP_OFFER_229;
	enum ftp_family family = code == 227 ? FTP_FAMILY_IPV4 :
					       control_family(r->st);

	if (!answered)
		refuse(r, kind, FTP_REFUSED_UNANSWERED, family);
	else if (kind == FTP_OFFER_227 && r->st->family_v6)
		refuse(r, kind, FTP_REFUSED_FAMILY, family);
	else if (c != ' ')
		refuse(r, kind, FTP_REFUSED_MALFORMED, family);
	else
		set_state(r, kind == FTP_OFFER_227 ? R_227_SCAN : R_229_SCAN);
}

/*
 * The byte after the code. A final reply (2xx-5xx), multi-line or not,
 * answers the oldest waiting command. A 4xx/5xx that answers a PORT/EPRT
 * whose pinhole was opened withdraws it. A 234 is the answer to AUTH
 * (RFC 2228) and to nothing else: whatever it answers, TLS follows, so it
 * makes the session opaque even when no AUTH was seen waiting.
 */
static void reply_code_complete(struct ftp_run *r, u8 c)
{
	unsigned int code = reply_code(r->st);
	unsigned int answered = Q_NONE;

	if (c != ' ' && c != '-' && c != '\r' && c != '\n') {
		set_state(r, ST_SKIP);	/* not a reply line */
		return;
	}
	if (code == 234) {
		become_encrypted(r);
		return;
	}
	if (code >= 200)
		answered = queue_answer(r->st);
	if (answered == Q_ACTIVE && code >= 400)
		note(r, FTP_NOTE_ACTIVE_REFUSED);
	if (c == '-')
		set_state(r, R_ML_SKIP);
	else if (code == 227 || code == 229)
		reply_announce_start(r, code, answered == Q_PASSIVE, c);
	else
		set_state(r, ST_SKIP);
}

/* Digit @pos (0-2) of the open multi-line reply's code, as text. */
static u8 multiline_code_digit(const struct ftp_state *st, unsigned int pos)
{
	unsigned int code = reply_code(st);

	return '0' + (pos == 0 ? code / 100 : pos == 1 ? code / 10 % 10 :
		      code % 10);
}

/*
 * A "227 " or "229 " line inside another reply answers nothing: refuse it,
 * counted like any unanswered one, and stay inside the multi-line reply.
 */
static void multiline_refuse(struct ftp_run *r, enum ftp_offer_kind kind)
{
	refuse(r, kind, FTP_REFUSED_UNANSWERED, kind_family(r->st, kind));
	set_state(r, R_ML_SKIP);
}

/* Position 2 when both the code and "22" matched so far. */
static unsigned int multiline_both_third(const struct ftp_state *st, u8 c)
{
	if (c == multiline_code_digit(st, 2))
		return R_ML_M3;	/* ending the reply takes precedence */
	if (c == '7')
		return R_ML_A3_227;
	return c == '9' ? R_ML_A3_229 : R_ML_SKIP;
}

/* Inside "NNN-": only a line starting "NNN " ends the reply. */
static unsigned int multiline_next(const struct ftp_state *st,
				   unsigned int state, u8 c)
{
	bool code0 = c == multiline_code_digit(st, 0);
	bool code1 = c == multiline_code_digit(st, 1);

	switch (state) {
	case R_ML_LS:
		if (c == '2')
			return code0 ? R_ML_B1 : R_ML_A1;
		return code0 ? R_ML_M1 : R_ML_SKIP;
	case R_ML_M1:
		return code1 ? R_ML_M2 : R_ML_SKIP;
	case R_ML_M2:
		return c == multiline_code_digit(st, 2) ? R_ML_M3 : R_ML_SKIP;
	case R_ML_A1:
		return c == '2' ? R_ML_A2 : R_ML_SKIP;
	case R_ML_A2:
		return c == '7' ? R_ML_A3_227 :
		       c == '9' ? R_ML_A3_229 : R_ML_SKIP;
	case R_ML_B1:
		if (c == '2')
			return code1 ? R_ML_B2 : R_ML_A2;
		return code1 ? R_ML_M2 : R_ML_SKIP;
	default: /* R_ML_B2 */
		return multiline_both_third(st, c);
	}
}

static void reply_multiline_byte(struct ftp_run *r, u8 c)
{
	unsigned int state = run_state(r);

	if (state == R_ML_M3)
		set_state(r, c == ' ' ? ST_SKIP : R_ML_SKIP);
	else if (state != R_ML_A3_227 && state != R_ML_A3_229)
		set_state(r, multiline_next(r->st, state, c));
	else if (c == ' ')
		multiline_refuse(r, state == R_ML_A3_227 ? FTP_OFFER_227 :
							   FTP_OFFER_229);
	else
		set_state(r, R_ML_SKIP);
}

static void reply_227_number_byte(struct ftp_run *r, u8 c)
{
	struct ftp_state *st = r->st;

	switch (six_numbers_step(st, run_state(r) == R_227_NUM, c)) {
	case SIX_DIGIT:
		set_state(r, R_227_NUM);
		count_text(st);
		break;
	case SIX_COMMA:
		set_state(r, R_227_NUM_START);
		count_text(st);
		break;
	case SIX_END:	/* whatever follows the numbers is ignored */
		offer_accept(r, FTP_OFFER_227, FTP_FAMILY_IPV4,
			     six_numbers_port(st), r->off);
		break;
	case SIX_RANGE:
		refuse_range(r, FTP_OFFER_227);
		break;
	default:
		refuse_malformed(r, FTP_OFFER_227);
	}
}

/* RFC 1123 4.1.2.6: the numbers start at the first digit of the text. */
static void reply_227_scan(struct ftp_run *r, u8 c)
{
	if (c == '\n') {
		refuse_malformed(r, FTP_OFFER_227);
	} else if (is_digit(c)) {
		if (!acc_claim(r)) {
			refuse_malformed(r, FTP_OFFER_227);
			return;
		}
		set_state(r, R_227_NUM_START);
		reply_227_number_byte(r, c);
	}
}

/* RFC 2428: "(" then <d><d><d><port><d>. */
static void reply_229_scan(struct ftp_run *r, u8 c)
{
	if (c == '\n') {
		refuse_malformed(r, FTP_OFFER_229);
	} else if (c == '(') {
		if (acc_claim(r))
			set_state(r, R_229_D1);
		else
			refuse_malformed(r, FTP_OFFER_229);
	}
}

static void reply_229_byte(struct ftp_run *r, u8 c)
{
	struct ftp_state *st = r->st;
	unsigned int state = run_state(r);

	if (state == R_229_D1 && is_delimiter_char(c)) {
		st->delim = c;
		set_state(r, R_229_D2);
	} else if ((state == R_229_D2 || state == R_229_D3) && c == st->delim) {
		set_state(r, state + 1);
	} else if (state == R_229_PORT && c == st->delim) {
		offer_accept(r, FTP_OFFER_229, control_family(st), st->port,
			     r->off);
	} else if (state < R_229_PORT_START || c == st->delim || !is_digit(c)) {
		refuse_malformed(r, FTP_OFFER_229);
	} else if (!port_digit(st, c)) {
		refuse_range(r, FTP_OFFER_229);
	} else {
		count_text(st);
		set_state(r, R_229_PORT);
	}
}

static void reply_byte(struct ftp_run *r, u8 c)
{
	unsigned int state = run_state(r);

	if (state < ST_LINE_START || state == R_ML_SKIP)
		return;
	if (state <= R_D2)
		reply_code_digit(r, c);
	else if (state == R_D3)
		reply_code_complete(r, c);
	else if (state <= R_ML_B2)
		reply_multiline_byte(r, c);
	else if (state == R_227_SCAN)
		reply_227_scan(r, c);
	else if (state == R_229_SCAN)
		reply_229_scan(r, c);
	else if (state <= R_227_NUM)
		reply_227_number_byte(r, c);
	else
		reply_229_byte(r, c);
}

/* ---- the stream ---- */

/* The kind a command line that ends in @state has in the queue. */
static unsigned int command_kind(unsigned int state)
{
	switch (state) {
	case C_PASV_KW:
	case C_PASV_REST:
	case C_EPSV_KW:
	case C_EPSV_REST:
		return Q_PASSIVE;
	case C_ACTIVE_OPENED:
		return Q_ACTIVE;
	default:
		return Q_NONE;
	}
}

/* An LF: every command line, parsed or skipped, is one command. */
static void line_end(struct ftp_run *r)
{
	unsigned int state = run_state(r);

	if (state == ST_ENCRYPTED)
		return;
	if (r->dir == FTP_DIR_COMMAND)
		queue_command(r, command_kind(state));
	set_state(r, in_multiline(r) ? R_ML_LS : ST_LINE_START);
	set_cont(r, false);
}

static void parse_byte(struct ftp_run *r, u8 c)
{
	if (r->dir == FTP_DIR_COMMAND)
		command_byte(r, c);
	else
		reply_byte(r, c);
	if (c == '\n')
		line_end(r);
}

/*
 * A gap: what was missed may have held anything, so wait for a new line.
 * Commands or replies were missed too: the queue starts again empty.
 */
static void stream_resync(struct ftp_run *r, u32 seq, u32 len)
{
	r->st->next_seq[r->dir] = seq + len;
	queue_reset(r->st, 0);
	set_state(r, in_multiline(r) ? R_ML_SKIP : ST_SKIP);
	set_cont(r, true);
	note(r, FTP_NOTE_RESYNC);
}

/* Has this direction's stream position been learnt yet? */
static bool dir_unsynced(const struct ftp_state *st, enum ftp_dir dir)
{
	unsigned int state = dir_state(st, dir);

	return state == ST_UNSYNCED || state == ST_PICKUP;
}

/*
 * The first segment of a direction armed by ftp_session_pickup(): its first
 * byte is taken as a line start (stream_resync() would wait for the next
 * LF, and miss the PASV that is most often the first line after a
 * failover). The commands counted by the other direction since its own
 * pickup are the ones these replies answer: keep them.
 */
static void stream_pickup(struct ftp_run *r, u32 seq, u32 len)
{
	enum ftp_dir other = r->dir == FTP_DIR_COMMAND ? FTP_DIR_REPLY :
							 FTP_DIR_COMMAND;

	r->st->next_seq[r->dir] = seq + len;
	if (dir_unsynced(r->st, other))
		queue_reset(r->st, 0);
	set_state(r, ST_PICKED);
	set_cont(r, false);
	note(r, FTP_NOTE_RESYNC);
}

/*
 * What a picked-up stream begins with. An FTPS session that went opaque on
 * the other firewall is TLS records here: a record starts with its content
 * type, 20-23 (RFC 8446 5.1), a control character no FTP line starts with.
 */
static void stream_picked(struct ftp_run *r, u8 first)
{
	if (first >= 20 && first <= 23) {
		become_encrypted(r);
		return;
	}
	set_state(r, ST_LINE_START);
}

static u32 stream_syn(struct ftp_run *r, u32 seq, u32 len)
{
	struct ftp_state *st = r->st;

	/* a stale SYN must not rewind the stream over bytes already parsed */
	if (!dir_unsynced(st, r->dir) &&
	    (s32)(seq - st->next_seq[r->dir]) < 0)
		return len;
	/* the client's SYN: the server's greeting is the first reply due */
	if (r->dir == FTP_DIR_COMMAND && dir_unsynced(st, r->dir))
		queue_reset(st, 1);
	st->next_seq[r->dir] = seq + len;
	set_state(r, ST_LINE_START);
	set_cont(r, false);
	return 0;
}

/* In-order bytes follow; remember whether they continue an earlier line. */
static void stream_continue(struct ftp_run *r)
{
	if (at_line_start(r))
		return;
	set_cont(r, true);
	if (holds_acc(r->st, r->dir))
		r->st->text_len = TEXT_UNKNOWN;
}

void ftp_session_init(struct ftp_session *s, enum ftp_family control_family)
{
	struct ftp_state *st = state_of(s);

	memset(s, 0, sizeof(*s));
	st->family_v6 = control_family == FTP_FAMILY_IPV6;
}

void ftp_session_set_family(struct ftp_session *s,
			    enum ftp_family control_family)
{
	state_of(s)->family_v6 = control_family == FTP_FAMILY_IPV6;
}

void ftp_session_pickup(struct ftp_session *s)
{
	struct ftp_state *st = state_of(s);

	if (st->cmd_state == ST_UNSYNCED)
		st->cmd_state = ST_PICKUP;
	if (st->reply_state == ST_UNSYNCED)
		st->reply_state = ST_PICKUP;
}

bool ftp_session_pickup_pending(const struct ftp_session *s, enum ftp_dir dir)
{
	const struct ftp_state *st = (const struct ftp_state *)s->opaque;

	return dir_state(st, dir) == ST_PICKUP;
}

void ftp_session_set_encrypted(struct ftp_session *s)
{
	struct ftp_run r = { .st = state_of(s) };

	become_encrypted(&r);
}

bool ftp_session_at_line_start(const struct ftp_session *s, enum ftp_dir dir)
{
	const struct ftp_state *st = (const struct ftp_state *)s->opaque;

	return dir_state(st, dir) == ST_LINE_START;
}

void ftp_session_note_announcement(struct ftp_session *s, enum ftp_dir dir,
				   bool clean_start)
{
	struct ftp_state *st = state_of(s);

	(void)dir;	/* one bit for both directions: the state is full */
	if (!clean_start)
		st->replay_unsafe = 1;
}

/*
 * The scratch copy a retransmission is parsed in: this direction at a line
 * start, the other one holding nothing (so the accumulator is free) and,
 * for replies, a PASV/EPSV outstanding (the first transmission's 227/229
 * answered one, or it would not have been rewritten). A direction whose
 * announcing segment did not begin at a clean line start stays opaque:
 * parsing its retransmission from a line start could find an announcement
 * in text that was not one (a 227 inside a multi-line reply, the tail of a
 * longer line), and rewrite it.
 */
bool ftp_session_replay(struct ftp_session *scratch,
			const struct ftp_session *s, enum ftp_dir dir)
{
	struct ftp_run r = { .st = state_of(scratch), .dir = dir };
	struct ftp_run other = {
		.st = r.st,
		.dir = dir == FTP_DIR_COMMAND ? FTP_DIR_REPLY : FTP_DIR_COMMAND,
	};

	*scratch = *s;
	if (run_state(&r) == ST_ENCRYPTED)
		return true;
	if (r.st->replay_unsafe) {
		set_state(&r, ST_ENCRYPTED);
		return false;
	}
	set_state(&r, ST_LINE_START);
	set_cont(&r, false);
	set_state(&other, ST_SKIP);
	queue_reset(r.st, 0);
	if (dir == FTP_DIR_REPLY)
		r.st->q_kind = Q_PASSIVE;
	return true;
}

bool ftp_session_encrypted(const struct ftp_session *s)
{
	const struct ftp_state *st = (const struct ftp_state *)s->opaque;

	return st->cmd_state == ST_ENCRYPTED;
}

u32 ftp_stream_begin(struct ftp_session *s, enum ftp_dir dir, u32 seq,
		     u32 len, bool syn,
		     const struct ftp_engine_ops *ops, void *ctx)
{
	struct ftp_run r = { .st = state_of(s), .dir = dir, .ops = ops, .ctx = ctx };
	unsigned int state = run_state(&r);
	u32 behind;

	if (state == ST_ENCRYPTED)
		return len;
	if (syn)
		return stream_syn(&r, seq, len);
	/*
	 * A bare ACK carries no byte of the stream: it must not start a
	 * pickup either, or where the pickup begins (and which commands the
	 * reply queue counts) would depend on ACKs. The module never feeds
	 * one; the fuzzer's whole-versus-split run found the difference.
	 */
	if (!len)
		return 0;
	if (state == ST_UNSYNCED) {
		stream_resync(&r, seq, len);
		return 0;
	}
	if (state == ST_PICKUP) {
		stream_pickup(&r, seq, len);
		return 0;
	}
	behind = r.st->next_seq[dir] - seq;
	if ((s32)behind < 0) {
		stream_resync(&r, seq, len);
		return 0;
	}
	if (behind >= len)
		return len;	/* all retransmitted */
	r.st->next_seq[dir] = seq + len;
	stream_continue(&r);
	return behind;
}

/* Is the rest of this line, up to its LF, of no interest? */
static bool skipping(const struct ftp_run *r)
{
	unsigned int state = run_state(r);

	if (r->dir == FTP_DIR_COMMAND)
		return state == ST_SKIP || state == C_ACTIVE_OPENED;
	return state == ST_SKIP || state == R_ML_SKIP;
}

/*
 * ---- a word at a time ----
 *
 * Most bytes cannot matter: the rest of a line already known to be of no
 * interest, and whole lines whose first bytes rule them out (pipelined
 * NOOPs, the body of a multi-line reply). They are passed over eight bytes
 * at a time with the classic SWAR tricks, in plain C that compiles the same
 * into the module and the userspace builds: no memchr(), which in the
 * kernel is lib/string.c's byte loop. A word is loaded with a builtin
 * memcpy (an unaligned load where that is cheap) and put in little-endian
 * order, so that byte k of the stream is bits 8k..8k+7 whatever the CPU's
 * byte order. Nothing is read past the buffer: a tail of fewer than eight
 * bytes is assembled one byte at a time.
 */
#define WORD_BYTES	8
#define REPEAT(c)	(0x0101010101010101ull * (u8)(c))
#define LOW_BITS	REPEAT(0x7f)
#define TEXT4(a, b, c, d) \
	((u32)(a) | (u32)(b) << 8 | (u32)(c) << 16 | (u32)(d) << 24)

static __always_inline u64 load_word(const u8 *p)
{
	u64 x;

	/*
	 * The builtin: the kernel's FORTIFY_SOURCE memcpy() wrapper made this
	 * an out-of-line call per word in the module, though not in the
	 * userspace builds.
	 */
	__builtin_memcpy(&x, p, sizeof(x));
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	x = __builtin_bswap64(x);
#endif
	return x;
}

/* The @len (< WORD_BYTES) bytes at @p as load_word() orders them, 0 above. */
static u64 load_tail(const u8 *p, u32 len)
{
	u64 x = 0;

	while (len--)
		x = x << 8 | p[len];
	return x;
}

/* Four bytes, the first lowest, as TEXT4() spells them: one load. */
static __always_inline u32 load_text4(const u8 *p)
{
	u32 x;

	__builtin_memcpy(&x, p, sizeof(x));
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	x = __builtin_bswap32(x);
#endif
	return x;
}

/*
 * 0x80 in each byte of @x that is zero, 0 in the others. Exact: no byte's
 * sum carries into the next, whereas the shorter (x - 0x01..) & ~x also
 * flags bytes above a zero one (its borrow).
 */
static __always_inline u64 zero_bytes(u64 x)
{
	return ~(((x & LOW_BITS) + LOW_BITS) | x | LOW_BITS);
}

static __always_inline u64 bytes_equal(u64 x, u8 c)
{
	return zero_bytes(x ^ REPEAT(c));
}

/* The bytes below byte @k, all ones: flags in them survive the mask. */
static __always_inline u64 bytes_below(u32 k)
{
	return k >= WORD_BYTES ? ~0ull : (1ull << 8 * k) - 1;
}

/* How many bytes of @flags (each 0x80 or 0) are flagged. */
static __always_inline u32 flag_count(u64 flags)
{
	return (flags >> 7) * REPEAT(1) >> 56;
}

/* Index of the first flagged byte of @flags, which has one. */
static __always_inline u32 first_flag(u64 flags)
{
	return __builtin_ctzll(flags) / 8;
}

/* Offset of the first LF in data[i, n), or @n. */
static u32 find_lf(const u8 *data, u32 i, u32 n)
{
	u64 lf;

	for (; n - i >= WORD_BYTES; i += WORD_BYTES) {
		lf = bytes_equal(load_word(data + i), '\n');
		if (lf)
			return i + first_flag(lf);
	}
	for (; i < n; i++)
		if (data[i] == '\n')
			return i;
	return n;
}

/* Outside a multi-line reply: a digit 0-7 (a code begins 1-5). */
#define REPLY_START_MASK	REPEAT(0xf8)
#define REPLY_START_WANT	REPEAT('0')

/*
 * The bytes that may begin a line worth parsing, as a superset (see
 * start_candidates()). For replies, a byte b is a candidate when b & mask
 * equals want, or (two) equals want2. Inside a multi-line reply, the line
 * "end" would end it.
 */
struct line_filter {
	bool command, multiline, two;
	bool uncounted;		/* commands: the line count is not needed */
	u64 mask, want, want2;
	u32 end;
};

static void line_filter_init(const struct ftp_run *r, struct line_filter *f)
{
	const struct ftp_state *st = r->st;
	u8 first;

	f->command = r->dir == FTP_DIR_COMMAND;
	/*
	 * lines_skipped() would not queue the lines. It still clears cont at
	 * the first LF, and cont can be set at a line start: a Telnet command
	 * begun in an earlier segment leaves one (telnet_byte()). Such a line
	 * is rare; it takes the counted loop.
	 */
	f->uncounted = f->command && !queue_counts_commands(st) &&
		       !run_cont(r);
	f->multiline = !f->command && run_state(r) == R_ML_LS;
	f->two = false;
	f->mask = REPLY_START_MASK;
	f->want = REPLY_START_WANT;
	f->want2 = 0;
	f->end = 0;
	if (!f->multiline)
		return;
	/* the reply's own code (it may end) or 2 (a 227/229 answering nothing) */
	first = multiline_code_digit(st, 0);
	f->mask = ~0ull;
	f->want = REPEAT('2');
	f->two = first != '2';
	f->want2 = REPEAT(first);
	f->end = TEXT4(first, multiline_code_digit(st, 1),
		       multiline_code_digit(st, 2), ' ');
}

/*
 * Bit 7 of each byte of @x that is zero, and perhaps of some bytes right
 * above one (the borrow of the subtraction), set; the other bits are
 * noise. Cheaper than zero_bytes(), where a false alarm costs only a
 * closer look and the result is masked by line start flags (bit 7 only).
 */
static __always_inline u64 maybe_zero_bits(u64 x)
{
	return (x - REPEAT(1)) & ~x;
}

/*
 * Bit 7 of each byte that may begin a line worth parsing; the other bits
 * are noise, for the caller's mask of line starts to clear. Commands:
 * b & 0x4a == 0x40 lets P and E through in either case (PORT, PASV, EPRT,
 * EPSV), and with them A, D, Q, T, U, @ and `; a byte's own top bit lets a
 * Telnet IAC through. The masked byte is at most 0x4a, so adding 0x7f
 * carries into no other byte and leaves bit 7 clear only where it was 0.
 * One compare a word: testing for P and E alone here takes two and cost
 * NOOPs 19% more instructions; command_pe() does that only for the words
 * that have a candidate.
 */
static __always_inline u64 start_candidates_as(const struct line_filter *f,
					       u64 x, bool command)
{
	if (command)
		return x | ~(((x & REPEAT(0x4a)) ^ REPEAT(0x40)) + LOW_BITS);
	if (!f->two)
		return maybe_zero_bits((x & f->mask) ^ f->want);
	return maybe_zero_bits(x ^ f->want) | maybe_zero_bits(x ^ f->want2);
}

static u64 start_candidates(const struct line_filter *f, u64 x)
{
	return start_candidates_as(f, x, f->command);
}

/* Do the four bytes a command line starts with name PORT/PASV/EPRT/EPSV? */
static __always_inline bool command_head_may_matter(u32 head)
{
	/*
	 * Their third letters are R and S, in either case: of the other
	 * commands that pass start_candidates() with them (PWD, PROT, TYPE,
	 * ALLO, ACCT, APPE, USER, QUIT, ...) only PASS and PBSZ have one, so
	 * one test turns most of them away.
	 */
	if ((head & TEXT4(0, 0, 0xde, 0)) != TEXT4(0, 0, 'R', 0))
		return false;
	head |= TEXT4(0x20, 0x20, 0x20, 0x20);	/* lower case letters */
	return head == TEXT4('p', 'o', 'r', 't') ||
	       head == TEXT4('p', 'a', 's', 'v') ||
	       head == TEXT4('e', 'p', 'r', 't') ||
	       head == TEXT4('e', 'p', 's', 'v');
}

/*
 * Is the line that starts at @q, inside "NNN-" ("end" is "NNN "), worth
 * parsing? Only "NNN ", "227 " and "229 " do anything there; with fewer
 * than four bytes before @stop, the byte machine decides.
 */
static __always_inline bool multiline_start_matters(const u8 *q,
						    const u8 *stop, u32 end)
{
	u32 head;

	if (stop - q < 4)
		return true;
	head = load_text4(q);
	return head == end || head == TEXT4('2', '2', '7', ' ') ||
	       head == TEXT4('2', '2', '9', ' ');
}

/*
 * A candidate line starts at data[pos]: must the byte machine parse it? Not
 * when it would pass over the line without a side effect. Inside "NNN-",
 * only "NNN ", "227 " and "229 " lines do anything. Too few bytes to tell:
 * let the byte machine decide.
 */
static __always_inline bool line_may_matter(const struct ftp_run *r,
					    const struct line_filter *f,
					    const u8 *data, u32 pos, u32 n)
{
	if (r->dir == FTP_DIR_REPLY && f->multiline)
		return multiline_start_matters(data + pos, data + n, f->end);
	if (r->dir == FTP_DIR_REPLY)
		return data[pos] >= '1' && data[pos] <= '5';
	if (data[pos] == TELNET_IAC || n - pos < 4)
		return true;
	return command_head_may_matter(load_text4(data + pos));
}

/*
 * The first of the line starts flagged in @cand, in the word at data[i],
 * that is worth parsing, or WORD_BYTES.
 */
static __always_inline u32 first_start(const struct ftp_run *r,
				       const struct line_filter *f,
				       const u8 *data, u32 i, u32 n, u64 cand)
{
	u32 k;

	for (; cand; cand &= cand - 1) {
		k = first_flag(cand);
		if (line_may_matter(r, f, data, i + k, n))
			return k;
	}
	return WORD_BYTES;
}

/*
 * @lines lines were passed over whole, as the byte machine would have:
 * each command among them is counted, each line end clears the
 * continuation mark. Unless @at_line_start, a line begun after them is
 * skipped too.
 */
static void lines_skipped(struct ftp_run *r, u32 lines, bool at_line_start)
{
	if (lines) {
		if (r->dir == FTP_DIR_COMMAND)
			queue_commands(r, lines);
		set_cont(r, false);
	}
	if (!at_line_start)
		set_state(r, run_state(r) == R_ML_LS ? R_ML_SKIP : ST_SKIP);
}

/* Where skip_lines() is: the lines it passed, the line starts it is at. */
struct line_skip {
	struct line_filter f;
	u32 lines;
	u64 starts;	/* the bytes of the next word that begin a line */
	bool found;	/* skip_quiet_words() stopped at a line start */
};

/*
 * skip_quiet_words() counts LFs per byte lane; a lane gains at most two a
 * turn, so after QUIET_TURNS turns each lane is at most 254.
 */
#define QUIET_TURNS	127

/* The sum of the eight byte lanes of @lanes. */
static __always_inline u32 lane_sum(u64 lanes)
{
	const u64 low = 0x00ff00ff00ff00ffull;

	lanes = (lanes & low) + (lanes >> 8 & low);	/* four 16-bit lanes */
	return lanes * 0x0001000100010001ull >> 48;
}

/*
 * The first line start worth parsing in the two words at data[i], whose
 * candidate line starts are @c0 and @c1 and whose LFs are @lf0 and @lf1,
 * or 2 * WORD_BYTES; the LFs before it are added to @lanes, the per-byte
 * line count of skip_quiet_words(). Out of its loop: most of its turns
 * never come here, and keep their registers.
 */
static noinline u32 quiet_pair_start(const struct ftp_run *r,
				     const struct line_filter *f,
				     const u8 *data, u32 i, u32 n, u64 c0,
				     u64 c1, u64 lf0, u64 lf1, u64 *lanes)
{
	u32 k = c0 ? first_start(r, f, data, i, n, c0) : WORD_BYTES;

	if (k < WORD_BYTES) {
		*lanes += (lf0 & bytes_below(k)) >> 7;
		return k;
	}
	*lanes += lf0 >> 7;
	k = c1 ? first_start(r, f, data, i + WORD_BYTES, n, c1) : WORD_BYTES;
	*lanes += (lf1 & bytes_below(k)) >> 7;
	return WORD_BYTES + k;
}

/*
 * A closer look at command candidates before the call that judges them:
 * bit 7 of each byte that is P or E in either case (PORT, PASV, EPRT, EPSV)
 * or has its own top bit set (a Telnet IAC). TYPE, ALLO and ACCT pass
 * start_candidates() and fail here, where a call would cost far more under
 * an emulated CPU (a guest under TCG) than the two compares.
 */
static __always_inline u64 command_pe(u64 x)
{
	u64 m = x & REPEAT(0x5f);	/* no case bit, no top bit: <= 0x5f */

	return x | ~(((m ^ REPEAT('P')) + LOW_BITS) &
		     ((m ^ REPEAT('E')) + LOW_BITS));
}

/* Has either word an LF? Exact: the borrow only flags too many bytes. */
static __always_inline bool pair_has_lf(u64 x0, u64 x1)
{
	return (maybe_zero_bits(x0 ^ REPEAT('\n')) |
		maybe_zero_bits(x1 ^ REPEAT('\n'))) & ~LOW_BITS;
}

/*
 * The common case of skip_lines(), two words a turn while two are left,
 * for commands while the reply queue counts them and for replies outside
 * a multi-line one: most words begin no line, and most candidate line
 * starts are not worth parsing either (commands that begin with the same
 * letters as PORT), judged without leaving the loop. Returns the offset of
 * the first line start worth parsing, with ls->found set, or where it
 * stopped (fewer than two words left, or QUIET_TURNS turns). Inlined once
 * per direction, so that the command loop's candidate test is all
 * constants.
 */
static __always_inline u32 skip_quiet_words_as(const struct ftp_run *r,
						struct line_skip *ls,
						const u8 *data, u32 i, u32 n,
						bool command)
{
	struct line_filter f = ls->f;
	u64 x0, x1, lf0, lf1, s0, s1, c0, c1, lanes = 0, starts = ls->starts;
	u32 turns = n - i > 2 * WORD_BYTES * QUIET_TURNS ? QUIET_TURNS :
		    (n - i) / (2 * WORD_BYTES), k;
	const u8 *p = data + i;

	/* the filter's constants as constants (line_filter_init() set them) */
	f.multiline = false;
	if (!command) {
		f.two = false;
		f.mask = REPLY_START_MASK;
		f.want = REPLY_START_WANT;
	}
	/*
	 * In locals: ls could alias data for all the compiler knows. A
	 * pointer and a count of turns: fewer values live in the loop.
	 */
	for (; turns; turns--, p += 2 * WORD_BYTES) {
		x0 = load_word(p);
		x1 = load_word(p + WORD_BYTES);
		/*
		 * Replies: most pairs of a reply's text hold no LF and begin no
		 * line. Passed over in a loop of their own, on whether the pair
		 * has an LF at all, which maybe_zero_bits() tells exactly in
		 * fewer instructions than bytes_equal() needs to say where.
		 * Commands are shorter lines, mostly with an LF a pair: the
		 * test would only add to them.
		 */
		if (!command && !starts) {
			while (!pair_has_lf(x0, x1)) {
				p += 2 * WORD_BYTES;
				if (!--turns)
					goto out;
				x0 = load_word(p);
				x1 = load_word(p + WORD_BYTES);
			}
		}
		lf0 = bytes_equal(x0, '\n');
		lf1 = bytes_equal(x1, '\n');
		s0 = starts | lf0 << 8;
		s1 = lf0 >> 56 | lf1 << 8;
		starts = lf1 >> 56;
		/* most turns of long lines begin no line: no candidates needed */
		if (s0 | s1) {
			c0 = s0 & start_candidates_as(&f, x0, command);
			c1 = s1 & start_candidates_as(&f, x1, command);
			if (command && unlikely(c0 | c1)) {
				c0 &= command_pe(x0);
				c1 &= command_pe(x1);
			}
			if (unlikely(c0 | c1)) {
				u64 counted = lanes;	/* lanes stays in a register */

				k = quiet_pair_start(r, &f, data, p - data, n,
						     c0, c1, lf0, lf1, &counted);
				lanes = counted;
				if (k < 2 * WORD_BYTES) {
					ls->found = true;
					p += k;
					break;
				}
				continue;
			}
		}
		lanes += (lf0 >> 7) + (lf1 >> 7);
	}
out:
	ls->lines += lane_sum(lanes);
	ls->starts = starts;
	return p - data;
}

/*
 * The first line start worth parsing in the pair of command words at @p,
 * or 2 * WORD_BYTES, from the pair's flags of maybe_zero_bits() over the
 * candidate test (bit 7 of each byte that may follow an LF and pass it;
 * the pair holds no byte above 0x7f). Here those flags are exact: a
 * borrow flags the byte above a zero one only if that byte is 1, which
 * takes an 0x0b byte (or an LF) before a byte that passes the test, and a
 * byte that passes is neither. Each flag is judged where it is: its four
 * bytes must name PORT/PASV/EPRT/EPSV, as line_may_matter() asks; too few
 * bytes left, and the byte machine decides. Cheaper than exact masks and
 * command_pe() for both words, then a call, for a pair that has a TYPE,
 * ALLO or PWD; inlined, as the loop keeps its constants in registers all
 * the same.
 */
static __always_inline u32 uncounted_pair_start(const u8 *p, const u8 *end,
						u64 c0, u64 c1)
{
	const u8 *pos;

	/* a flag in the first word has its four bytes in the pair */
	for (; c0; c0 &= c0 - 1) {
		pos = p + first_flag(c0);
		if (command_head_may_matter(load_text4(pos)))
			return pos - p;
	}
	for (; c1; c1 &= c1 - 1) {
		pos = p + WORD_BYTES + first_flag(c1);
		if (end - pos < 4 || command_head_may_matter(load_text4(pos)))
			return pos - p;
	}
	return 2 * WORD_BYTES;
}

/*
 * Zero where a byte of the word at @p follows an LF and passes
 * start_candidates() (b & 0x4a == 0x40); bit 7 set where the byte or the
 * one before it is above 0x7f. The bytes before are a second load one
 * byte back, not the word shifted with the last byte of the one before:
 * no value is carried from turn to turn.
 */
static __always_inline u64 uncounted_zero_lanes(const u8 *p)
{
	return (load_word(p - 1) ^ REPEAT('\n')) |
	       ((load_word(p) & REPEAT(0xca)) ^ REPEAT(0x40));
}

/*
 * skip_quiet_words() for commands when no line count is needed
 * (line_filter.uncounted: the reply queue takes no more), so LFs need not
 * be found on their own: a line start worth a look is a zero lane of
 * uncounted_zero_lanes(). data[i - 1] is in the buffer: skip_lines() has
 * passed two words before it calls here. A pair is first asked only
 * whether t - 1 has a bit 7 (a zero lane always borrows into it), then
 * its zero lanes are taken by maybe_zero_bits(), exact here (see
 * uncounted_pair_start()). A Telnet IAC fails the first test wherever it
 * is ((0xff & 0xca) ^ 0x40 is 0x8a, and t - 1 keeps bit 7 even with a
 * borrow), and a pair whose t has a bit 7 (a byte above 0x7f in it, or
 * just before it) stops the loop: skip_lines() takes it a word at a time
 * (skip_word()), then comes back. A byte above 0x7f that leaves t 0x80
 * (0xc0 after an LF) may pass the first test and go unlooked at: no such
 * byte begins a command line that matters, as line_may_matter() judges it
 * too. ls->lines is left as it is.
 */
static u32 skip_uncounted_commands(struct line_skip *ls, const u8 *data,
				   u32 i, u32 n)
{
	u64 t0, t1;
	u32 turns = n - i > 2 * WORD_BYTES * QUIET_TURNS ? QUIET_TURNS :
		    (n - i) / (2 * WORD_BYTES), k;
	const u8 *p = data + i;

	for (; turns; turns--, p += 2 * WORD_BYTES) {
		t0 = uncounted_zero_lanes(p);
		t1 = uncounted_zero_lanes(p + WORD_BYTES);
		/* cheap, and only flags too many (above a flag) */
		if (!(((t0 - REPEAT(1)) | (t1 - REPEAT(1))) & ~LOW_BITS))
			continue;
		if (unlikely((t0 | t1) & ~LOW_BITS))
			break;	/* to skip_word(), with ls->starts for p */
		k = uncounted_pair_start(p, data + n,
					 maybe_zero_bits(t0) & ~LOW_BITS,
					 maybe_zero_bits(t1) & ~LOW_BITS);
		if (k < 2 * WORD_BYTES) {
			ls->found = true;
			p += k;
			break;
		}
	}
	ls->starts = p[-1] == '\n' ? 0x80 : 0;
	return p - data;
}

/*
 * Bit 7 of each byte of @x below 0x0b (LF and the control bytes under it)
 * or above 0x8a set, and perhaps of a byte right above one of those (the
 * borrow); the other bits are noise. A superset of the LFs of @x in one
 * subtraction, where asking for LFs alone takes an XOR before it: reply
 * text has no byte below 0x0b but its LFs, and ASCII none above 0x8a.
 */
static __always_inline u64 lf_or_odd_bits(u64 x)
{
	return x - REPEAT('\n' + 1);
}

/*
 * The LFs of the word at @word, from its lf_or_odd_bits() @a: with the
 * bytes above 0x8a masked out, the flags are its bytes below 0x0b and a
 * 0x0b right after one, which the byte test tells apart. Each LF ends a
 * line of the reply's body; the line it begins is judged where it starts.
 */
static __always_inline bool multiline_word_lfs(const u8 *word, u64 a,
					       const u8 *stop, u32 end,
					       u32 *lines, const u8 **at)
{
	u64 m = a & ~load_word(word) & ~LOW_BITS;
	const u8 *q;

	for (; m; m &= m - 1) {
		q = word + first_flag(m);
		if (*q != '\n')
			continue;
		++*lines;
		if (multiline_start_matters(++q, stop, end)) {
			*at = q;
			return true;
		}
	}
	return false;
}

/*
 * skip_quiet_words() inside a multi-line reply, where a line is long and
 * its start rarely matters: four words are asked at once whether they may
 * hold an LF (lf_or_odd_bits()), the words of a turn that may are searched
 * exactly, and each LF's next line is judged on its first four bytes where
 * it is. No mask of line starts is built: the LF pair of an ordinary body
 * line cost 75 instructions that way, about half of its line's. A line
 * start at data[i] (ls->starts) is judged first. Every line an LF of the
 * turns begins is judged, also where it begins past them, so none is left
 * for skip_word() (ls->starts is 0).
 */
static u32 skip_multiline_reply(struct line_skip *ls, const u8 *data, u32 i,
				u32 n)
{
	const u8 *p = data + i, *stop = data + n, *at;
	const u32 end = ls->f.end;
	u32 turns = (n - i) / (4 * WORD_BYTES), lines = 0;
	u64 a0, a1, a2, a3;

	if (ls->starts && multiline_start_matters(p, stop, end))
		goto found;
	for (; turns; turns--, p += 4 * WORD_BYTES) {
		a0 = lf_or_odd_bits(load_word(p));
		a1 = lf_or_odd_bits(load_word(p + WORD_BYTES));
		a2 = lf_or_odd_bits(load_word(p + 2 * WORD_BYTES));
		a3 = lf_or_odd_bits(load_word(p + 3 * WORD_BYTES));
		if (!((a0 | a1 | a2 | a3) & ~LOW_BITS))
			continue;
		if (multiline_word_lfs(p, a0, stop, end, &lines, &at) ||
		    multiline_word_lfs(p + WORD_BYTES, a1, stop, end, &lines,
				       &at) ||
		    multiline_word_lfs(p + 2 * WORD_BYTES, a2, stop, end,
				       &lines, &at) ||
		    multiline_word_lfs(p + 3 * WORD_BYTES, a3, stop, end,
				       &lines, &at)) {
			p = at;
			goto found;
		}
	}
	ls->starts = 0;	/* the line an LF at p[-1] began was judged */
	ls->lines += lines;
	return p - data;
found:
	ls->found = true;
	ls->lines += lines;
	return p - data;
}

static u32 skip_quiet_words(const struct ftp_run *r, struct line_skip *ls,
			    const u8 *data, u32 i, u32 n)
{
	if (ls->f.uncounted)
		return skip_uncounted_commands(ls, data, i, n);
	if (ls->f.command)
		return skip_quiet_words_as(r, ls, data, i, n, true);
	if (ls->f.multiline)
		return skip_multiline_reply(ls, data, i, n);
	return skip_quiet_words_as(r, ls, data, i, n, false);
}

/*
 * One word of skip_lines(), or the fewer bytes left at its end: returns
 * the index in it of the first line start worth parsing, or WORD_BYTES.
 */
static u32 skip_word(struct ftp_run *r, struct line_skip *ls, const u8 *data,
		     u32 i, u32 n)
{
	u64 x, lf, cand, valid = ~0ull;
	u32 k;

	if (n - i >= WORD_BYTES) {
		x = load_word(data + i);
	} else {
		x = load_tail(data + i, n - i);
		valid = bytes_below(n - i);
	}
	lf = bytes_equal(x, '\n');
	cand = (ls->starts | lf << 8) & valid & start_candidates(&ls->f, x);
	k = cand ? first_start(r, &ls->f, data, i, n, cand) : WORD_BYTES;
	ls->lines += flag_count(lf & bytes_below(k));
	ls->starts = lf >> 56;
	return k;
}

/*
 * From a line start at data[i] (ST_LINE_START, or R_ML_LS), pass over
 * whole lines that cannot matter: the LFs of a word end lines, the byte
 * after each LF begins one, and start_candidates() then line_may_matter()
 * judge those. Returns the offset of the first line start worth parsing,
 * its state untouched, or @n.
 */
static u32 skip_lines(struct ftp_run *r, const u8 *data, u32 i, u32 n)
{
	struct line_skip ls = { .starts = 0x80 };	/* data[i] begins a line */
	u32 k, words;

	line_filter_init(r, &ls.f);
	while (i < n) {
		/* the two words skip_quiet_words() stopped at, or the tail */
		for (words = 0; words < 2 && i < n; words++, i += WORD_BYTES) {
			k = skip_word(r, &ls, data, i, n);
			if (k < WORD_BYTES) {
				lines_skipped(r, ls.lines, true);
				return i + k;
			}
		}
		if (i < n)
			i = skip_quiet_words(r, &ls, data, i, n);
		if (ls.found) {
			lines_skipped(r, ls.lines, true);
			return i;
		}
	}
	lines_skipped(r, ls.lines, data[n - 1] == '\n');
	return n;
}

/* The rest of a line of no interest, then its LF. Returns the next offset. */
static u32 skip_rest_of_line(struct ftp_run *r, const u8 *data, u32 i, u32 n)
{
	i = find_lf(data, i, n);
	if (i == n)
		return n;	/* still skipping */
	line_end(r);
	return i + 1;
}

/* "PORT " or "EPRT " (any case) at data[i]: its kind, else KIND_COUNT. */
static enum ftp_offer_kind offer_command_at(const u8 *data, u32 i, u32 n)
{
	u32 head;

	if (n - i < 5 || data[i + 4] != ' ')
		return FTP_OFFER_KIND_COUNT;
	head = load_text4(data + i) | TEXT4(0x20, 0x20, 0x20, 0x20);
	if (head == TEXT4('p', 'o', 'r', 't'))
		return FTP_OFFER_PORT;
	if (head == TEXT4('e', 'p', 'r', 't'))
		return FTP_OFFER_EPRT;
	return FTP_OFFER_KIND_COUNT;
}

/*
 * A whole ordinary "PORT h1,h2,h3,h4,p1,p2" line at data[i] (the caller
 * has seen its "PORT "), up to its LF, parsed in one go: the byte
 * machine's PORT states cost a dispatch per byte. Only a line the byte
 * machine would accept (or refuse for port 0) with nothing unusual about
 * it is taken; it ends in the very state and with the very offer the byte
 * machine gives it. Anything else - a
 * malformed or out-of-range line, an IPv6 control connection, a line
 * begun in an earlier segment or cut by this one's end, a long text, the
 * accumulator busy - is left to the byte machine (returns 0).
 */
static u32 port_line(struct ftp_run *r, const u8 *data, u32 i, u32 n)
{
	u8 num[6];
	u32 p, text, lf;

	if (r->dir != FTP_DIR_COMMAND || n - i < 16 || run_cont(r) ||
	    r->st->family_v6 || holds_acc(r->st, FTP_DIR_REPLY))
		return 0;
	for (text = i + 5; text < n && data[text] == ' '; text++)
		;
	if (n - text < SIX_NUMBERS_MAX)
		return 0;
	p = six_numbers_scan(data, text, num);
	if (!p || p - text >= TEXT_UNKNOWN)
		return 0;
	for (lf = p; lf < n && (data[lf] == ' ' || data[lf] == '\r'); lf++)
		;
	if (lf == n || data[lf] != '\n' || lf - p >= TRAIL_MAX)
		return 0;
	r->off += lf - i;
	port_line_accept(r, num, p - text, lf - p);
	line_end(r);
	return lf + 1;
}

/*
 * Command lines the reply queue can take before one brings a note
 * (queue_command()): a run of unparsed lines stops at that line, so its
 * offer still comes before the note, as line by line it would.
 */
static u32 lines_before_note(const struct ftp_state *st)
{
	if (!queue_counts_commands(st))
		return ~(u32)0;
	return Q_MAX - st->q_n;
}

/*
 * The end of a run of PORT/EPRT lines of one kind (the first at data[i],
 * checked by the caller): the offset after the last one's LF within @n,
 * at most @most lines; their count in *@lines (0: the first line is cut).
 * One loop over words and line heads, with its constants set up once
 * for the run: a call of find_lf() a line cost more than the search. A
 * word is asked only lf_or_odd_bits(), one subtraction: its lowest flag
 * is its first LF unless a byte below 0x0b or above 0x8a comes first
 * (a tab, a NUL, UTF-8), and then the line is searched a byte at a time.
 */
static noinline u32 offer_run_end(const u8 *data, u32 i, u32 n, u32 most,
				  u32 *lines)
{
	const u32 head = load_text4(data + i) | TEXT4(0x20, 0x20, 0x20, 0x20);
	const u8 *p = data + i + 5, *end = data + n, *next = data + i;
	/* the last places a word, and a line's "PORT ", can be loaded */
	const u8 *last_word = n >= WORD_BYTES ? end - WORD_BYTES : data;
	const u8 *last_head = n >= 5 ? end - 5 : data;
	u32 count = 0;
	u64 lf;

	for (;;) {
		/* each line's head holds no LF: the search starts after it */
		for (lf = 0; p <= last_word; p += WORD_BYTES) {
			lf = lf_or_odd_bits(load_word(p)) & ~LOW_BITS;
			if (lf)
				break;
		}
		/* the lowest flag is a byte below 0x0b or above 0x8a */
		if (lf && p[first_flag(lf)] == '\n') {
			p += first_flag(lf);
		} else {
			while (p < end && *p != '\n')
				p++;
			if (p == end)
				break;
		}
		next = ++p;
		if (++count >= most || p > last_head || p[4] != ' ' ||
		    (load_text4(p) | TEXT4(0x20, 0x20, 0x20, 0x20)) != head)
			break;
		p += 5;
	}
	*lines = count;
	return next - data;
}

/*
 * The one offer of @lines unparsed PORT/EPRT lines. Out of line: the
 * offer on its stack is zeroed at every call, which the parsed lines'
 * path should not pay for.
 */
static noinline void refuse_unparsed(struct ftp_run *r,
				     enum ftp_offer_kind kind, u32 lines)
{
	struct ftp_offer offer;

	refused_offer(r, &offer, kind, FTP_REFUSED_UNPARSED,
		      kind_family(r->st, kind));
	offer.lines = lines;
	deliver(r, &offer);
	set_state(r, ST_SKIP);
}

/*
 * PORT/EPRT lines from data[i] on that the caller will refuse whatever
 * they hold (ops->wants_offers()): reported unparsed, as many of one kind
 * in a row as there are, and skipped up to the last one's LF, which must
 * be in this buffer - a line cut by the buffer's end is parsed, since its
 * offer may fall in a later segment. The byte machine reports exactly one
 * offer for such a line too ("PORT " or "EPRT " begins an argument
 * whatever follows), so only their content is lost. r->off is data[i]'s.
 * Returns the offset after the last LF, or 0 to parse the line.
 */
static u32 unwanted_offer_lines(struct ftp_run *r, const u8 *data, u32 i,
				u32 n, enum ftp_offer_kind kind)
{
	u32 start = i, lines;

	if (r->dir != FTP_DIR_COMMAND || !r->ops || !r->ops->wants_offers ||
	    r->ops->wants_offers(r->ctx))
		return 0;
	i = offer_run_end(data, i, n, lines_before_note(r->st), &lines);
	if (!lines)
		return 0;
	refuse_unparsed(r, kind, lines);
	queue_commands(r, lines - 1);
	r->off += i - 1 - start;	/* at the last LF */
	line_end(r);
	r->off++;
	return i;
}

/*
 * A command line at data[i]: a PORT/EPRT taken at once, unparsed or (PORT)
 * parsed whole, where it can be. Returns the offset after it, or 0.
 */
static u32 offer_command_line(struct ftp_run *r, const u8 *data, u32 i,
			      u32 n)
{
	enum ftp_offer_kind kind = offer_command_at(data, i, n);
	u32 next;

	if (kind == FTP_OFFER_KIND_COUNT)
		return 0;
	next = unwanted_offer_lines(r, data, i, n, kind);
	if (!next && kind == FTP_OFFER_PORT)
		next = port_line(r, data, i, n);
	return next;
}

/*
 * The code of a reply line at data[i] and the byte after it, taken at once
 * as reply_code_digit() would take the digits and parse_byte() the fourth
 * byte; r->off is data[i]'s. Returns the offset after them, or 0 when the
 * line does not begin with a code, or its four bytes are not all here.
 */
static u32 reply_code_line(struct ftp_run *r, const u8 *data, u32 i, u32 n)
{
	const u8 *code = data + i;

	if (r->dir != FTP_DIR_REPLY || run_state(r) != ST_LINE_START ||
	    n - i < 4 || code[0] < '1' || code[0] > '5' ||
	    !is_digit(code[1]) || !is_digit(code[2]))
		return 0;
	r->st->reply_code = (code[0] - '1') * 100 + (code[1] - '0') * 10 +
			    (code[2] - '0');
	set_state(r, R_D3);
	r->off += 3;
	parse_byte(r, code[3]);
	return i + 4;
}

/*
 * A 227's text before its first digit and a 229's before its "(" change
 * nothing but at an LF (reply_227_scan(), reply_229_scan()): pass over
 * them in one loop, not a dispatch a byte. Returns where the machine
 * takes over again, or @n.
 */
static u32 skip_announce_text(const struct ftp_run *r, const u8 *data,
			      u32 i, u32 n)
{
	unsigned int state = run_state(r);

	if (r->dir != FTP_DIR_REPLY)
		return i;
	if (state == R_229_SCAN) {
		while (i < n && data[i] != '(' && data[i] != '\n')
			i++;
	} else if (state == R_227_SCAN) {
		while (i < n && !is_digit(data[i]) && data[i] != '\n')
			i++;
	}
	return i;
}

/*
 * Most bytes are passed over a word at a time (see above); only bytes that
 * may matter reach parse_byte(), an ordinary PORT line is parsed whole, a
 * reply code at once, a 227/229's text before its numbers in one loop, and
 * a PORT/EPRT line the caller will refuse not at all.
 */
void ftp_stream_feed(struct ftp_session *s, enum ftp_dir dir,
		     const u8 *data, u32 n, u32 off,
		     const struct ftp_engine_ops *ops, void *ctx)
{
	struct ftp_run r = { .st = state_of(s), .dir = dir, .ops = ops, .ctx = ctx };
	u32 i = 0, next;

	if (n && run_state(&r) == ST_PICKED)
		stream_picked(&r, data[0]);
	while (i < n) {
		if (run_state(&r) <= ST_ENCRYPTED)
			return;	/* unsynced or opaque: nothing to parse */
		if (skipping(&r)) {
			i = skip_rest_of_line(&r, data, i, n);
			continue;
		}
		if (at_line_start(&r)) {
			r.off = off + i;
			if (dir == FTP_DIR_REPLY) {
				next = reply_code_line(&r, data, i, n);
			} else {
				next = offer_command_line(&r, data, i, n);
			}
			if (!next)
				next = skip_lines(&r, data, i, n);
			if (next != i) {
				i = next;
				continue;
			}
		}
		i = skip_announce_text(&r, data, i, n);
		if (i == n)
			break;
		r.off = off + i;
		parse_byte(&r, data[i]);
		i++;
	}
}

void ftp_stream_segment(struct ftp_session *s, enum ftp_dir dir, u32 seq,
			const u8 *data, u32 len, bool syn,
			const struct ftp_engine_ops *ops, void *ctx)
{
	u32 off = ftp_stream_begin(s, dir, seq, len, syn, ops, ctx);

	if (off < len)
		ftp_stream_feed(s, dir, data + off, len - off, off, ops, ctx);
}

const char *ftp_offer_kind_name(enum ftp_offer_kind kind)
{
	static const char *const names[FTP_OFFER_KIND_COUNT] = {
		[FTP_OFFER_PORT] = "port",
		[FTP_OFFER_EPRT] = "eprt",
		[FTP_OFFER_227] = "227",
		[FTP_OFFER_229] = "229",
	};

	return (unsigned int)kind < FTP_OFFER_KIND_COUNT ? names[kind] : "?";
}

const char *ftp_refusal_name(enum ftp_refusal refusal)
{
	static const char *const names[FTP_REFUSAL_COUNT] = {
		[FTP_ACCEPTED] = "accepted",
		[FTP_REFUSED_MALFORMED] = "malformed",
		[FTP_REFUSED_OUT_OF_RANGE] = "out_of_range",
		[FTP_REFUSED_FAMILY] = "family",
		[FTP_REFUSED_UNANSWERED] = "unanswered",
		[FTP_REFUSED_UNPARSED] = "unparsed",
	};

	return (unsigned int)refusal < FTP_REFUSAL_COUNT ? names[refusal] : "?";
}
