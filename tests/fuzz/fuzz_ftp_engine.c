// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target for the FTP engine.
 *
 * Input layout:
 *   byte 0      flags: bit 0 IPv6 control connection, bit 1 SYN seen on
 *               the command direction, bit 2 on the reply direction,
 *               bit 3 chaos (gaps, stale and fresh SYNs, jumps), bit 4
 *               replicated mid-stream (ftp_session_pickup() at the start),
 *               bit 5 escapes (below)
 *   bytes 1-4   command direction ISN, 5-8 reply direction ISN
 *   bytes 9-12  seed of the generator that splits and retransmits
 *   the rest    chunks of stream: 0xFE ends a chunk and sends the next
 *               one on the command direction, 0xFF on the reply direction;
 *               the first chunk is a command chunk. With bit 5 set, 0xFD
 *               takes the next byte into the chunk as it is: the only way
 *               for 0xFE and 0xFF (a Telnet IAC) to reach the engine.
 *
 * Every run checks invariants on each offer (abort() on violation). In
 * order (no chaos) the same chunks are also fed a second time, each chunk
 * cut into random pieces interleaved with retransmissions and partial
 * overlaps of earlier bytes: both runs must produce the same offers. And
 * in order, every segment is also fed a byte at a time to a copy of the
 * session (the byte machine alone, none of the engine's word-at-a-time
 * shortcuts): same events, offsets included, and the same state after.
 * Finally, in order and whole, a caller that takes only so many offers per
 * segment and says so (wants_offers()) must see what one that refuses the
 * rest sees: the same events, but for PORT/EPRT lines reported unparsed,
 * a run of them in a row as one event.
 */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ftp_engine.h"

#define HEADER_LEN	13
#define MAX_OFFERS	4096
#define FLAG_ESCAPES	0x20

/* One chunk of the input's stream: @len bytes for direction @dir. */
struct chunk {
	int dir;
	const u8 *p;
	u32 len;
};

struct chunks {
	int n;
	struct chunk *c;	/* at most one per byte after the header, +1 */
	u8 *bytes;		/* the chunks' bytes, escapes undone */
};

struct offer_log {
	int n;
	struct ftp_offer offers[MAX_OFFERS];
};

struct run {
	struct ftp_session s;
	enum ftp_family family;
	u32 seq[2];			/* next in-order sequence number */
	const u8 *stream[2];		/* each direction's bytes so far... */
	u32 stream_len[2];		/* ...in the input, as one run of chunks */
	const u8 *seg;
	u32 seg_len;
	/*
	 * Each accepted 227/229 used up a pending PASV/EPSV, set by a note.
	 * A flag would be too strict: a PASV noted while a 229 line is
	 * already mid-parse does not belong to that line.
	 */
	unsigned int pasv_notes;
	unsigned int passive_accepts;
	bool encrypted;
	struct offer_log *log;
};

static void die(const char *why)
{
	fprintf(stderr, "invariant violated: %s\n", why);
	abort();
}

static void check(bool ok, const char *why)
{
	if (!ok)
		die(why);
}

/* Parse "a,b,c,..." of exactly @count decimal numbers. */
static bool parse_numbers(const u8 *p, u32 len, unsigned int *out, int count)
{
	int field = 0;
	u32 i;

	out[0] = 0;
	for (i = 0; i < len; i++) {
		if (p[i] == ',') {
			if (++field >= count || i == 0 || p[i - 1] == ',')
				return false;
			out[field] = 0;
		} else if (p[i] >= '0' && p[i] <= '9') {
			out[field] = out[field] * 10 + (p[i] - '0');
			if (out[field] > 65535)
				return false;
		} else {
			return false;
		}
	}
	return field == count - 1 && len && p[len - 1] != ',';
}

/*
 * "<af><d><addr><d><port>". The address is compared when inet_pton() can
 * read it: the engine also takes forms it refuses, such as "00001::".
 */
static void check_eprt_text(const struct ftp_offer *o, const u8 *t, u32 len)
{
	char addr[300];
	u8 bin[16];
	unsigned int port;
	u32 last;

	check(len >= 5 && t[0] == '0' + o->family, "EPRT text family");
	for (last = len - 1; last > 2 && t[last] != t[1]; last--)
		;
	check(last > 2, "EPRT text delimiters");
	check(parse_numbers(t + last + 1, len - last - 1, &port, 1) &&
	      port == o->port, "EPRT text port mismatch");
	if (last - 2 >= sizeof(addr))
		return;		/* zero padding beyond any text_len */
	memcpy(addr, t + 2, last - 2);
	addr[last - 2] = '\0';
	if (inet_pton(o->family == FTP_FAMILY_IPV6 ? AF_INET6 : AF_INET,
		      addr, bin) == 1)
		check(!memcmp(bin, o->addr, o->family == FTP_FAMILY_IPV6 ?
			      16 : 4), "EPRT text address mismatch");
}

/* The text an accepted offer points at must say what the offer says. */
static void check_text(const struct run *r, const struct ftp_offer *o)
{
	const u8 *t = r->seg + o->text_start;
	u32 len = o->text_end - o->text_start;
	unsigned int v[6];

	check(o->text_start <= o->text_end && o->text_end <= r->seg_len,
	      "text offsets outside the segment");
	if (o->kind == FTP_OFFER_PORT || o->kind == FTP_OFFER_227) {
		check(parse_numbers(t, len, v, 6), "PORT/227 text malformed");
		check(v[0] == o->addr[0] && v[1] == o->addr[1] &&
		      v[2] == o->addr[2] && v[3] == o->addr[3] &&
		      v[4] * 256 + v[5] == o->port, "PORT/227 text mismatch");
	} else if (o->kind == FTP_OFFER_229) {
		check(parse_numbers(t, len, v, 1) && v[0] == o->port,
		      "229 text mismatch");
	} else {
		check_eprt_text(o, t, len);
	}
}

static void check_accepted(struct run *r, const struct ftp_offer *o)
{
	static const u8 zero[16];

	check(o->port != 0, "accepted port 0");
	if (o->kind == FTP_OFFER_227 || o->kind == FTP_OFFER_229) {
		r->passive_accepts++;
		check(r->passive_accepts <= r->pasv_notes,
		      "accepted 227/229 without PASV/EPSV");
	}
	if (o->kind == FTP_OFFER_PORT || o->kind == FTP_OFFER_227)
		check(o->family == FTP_FAMILY_IPV4 &&
		      r->family == FTP_FAMILY_IPV4, "PORT/227 family");
	else
		check(o->family == r->family, "EPRT/229 family");
	if (o->kind == FTP_OFFER_229)
		check(!memcmp(o->addr, zero, 16), "229 with an address");
	if (o->family == FTP_FAMILY_IPV4)
		check(!memcmp(o->addr + 4, zero, 12), "IPv4 address tail");
	if (o->text_in_segment)
		check_text(r, o);
}

/* An accepted PORT/EPRT "opens a pinhole", so its reply is watched too. */
static bool on_offer(void *ctx, const struct ftp_offer *o)
{
	struct run *r = ctx;

	check(!r->encrypted, "offer after encryption");
	check((unsigned int)o->kind < FTP_OFFER_KIND_COUNT, "bad kind");
	check((unsigned int)o->refusal < FTP_REFUSAL_COUNT, "bad refusal");
	check(o->family == FTP_FAMILY_IPV4 || o->family == FTP_FAMILY_IPV6,
	      "bad family");
	check(ftp_offer_kind_name(o->kind)[0] != '?', "kind without name");
	check(ftp_refusal_name(o->refusal)[0] != '?', "refusal without name");
	if (o->refusal == FTP_ACCEPTED)
		check_accepted(r, o);
	else
		check(!o->text_in_segment, "refused offer with text");
	if (r->log->n < MAX_OFFERS)
		r->log->offers[r->log->n++] = *o;
	return o->refusal == FTP_ACCEPTED &&
	       (o->kind == FTP_OFFER_PORT || o->kind == FTP_OFFER_EPRT);
}

static void on_note(void *ctx, enum ftp_note note)
{
	struct run *r = ctx;

	check((unsigned int)note < FTP_NOTE_COUNT, "bad note");
	check(!r->encrypted, "note after encryption");
	if (note == FTP_NOTE_PASV || note == FTP_NOTE_EPSV)
		r->pasv_notes++;
	if (note == FTP_NOTE_ENCRYPTED)
		r->encrypted = true;
}

static const struct ftp_engine_ops ops = {
	.offer = on_offer,
	.note = on_note,
};

/* xorshift32: the input's own seed decides every split. */
static u32 next_rand(u32 *state)
{
	u32 x = *state ? *state : 0x9e3779b9u;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	*state = x;
	return x;
}

static u32 read_u32(const u8 *p)
{
	return (u32)p[0] << 24 | (u32)p[1] << 16 | (u32)p[2] << 8 | p[3];
}

static void run_init(struct run *r, const u8 *data, struct offer_log *log)
{
	int dir;

	memset(r, 0, sizeof(*r));
	r->family = data[0] & 1 ? FTP_FAMILY_IPV6 : FTP_FAMILY_IPV4;
	r->log = log;
	log->n = 0;
	ftp_session_init(&r->s, r->family);
	check(!ftp_session_encrypted(&r->s), "encrypted at start");
	if (data[0] & 16)
		ftp_session_pickup(&r->s);
	for (dir = 0; dir < 2; dir++) {
		r->seq[dir] = read_u32(data + 1 + 4 * dir) + 1;
		if (data[0] & (2 << dir))
			ftp_stream_segment(&r->s, dir, r->seq[dir], NULL, 0,
					   true, &ops, r);
	}
}

/* What a replay reports must hold as much as what the stream reports. */
static bool on_replay_offer(void *ctx, const struct ftp_offer *o)
{
	struct run *r = ctx;

	check((unsigned int)o->kind < FTP_OFFER_KIND_COUNT, "replay: bad kind");
	check((unsigned int)o->refusal < FTP_REFUSAL_COUNT, "replay: bad refusal");
	if (o->refusal == FTP_ACCEPTED) {
		check(o->port != 0, "replay: accepted port 0");
		if (o->text_in_segment)
			check_text(r, o);
	}
	return false;
}

static void on_replay_note(void *ctx, enum ftp_note note)
{
	(void)ctx;
	check((unsigned int)note < FTP_NOTE_COUNT, "replay: bad note");
}

static const struct ftp_engine_ops replay_ops = {
	.offer = on_replay_offer,
	.note = on_replay_note,
};

/* Parse the segment again as a NATed session does a retransmission. */
static void replay_segment(struct run *r, int dir)
{
	struct ftp_session scratch, before = r->s;

	ftp_session_replay(&scratch, &r->s, dir);
	ftp_stream_feed(&scratch, dir, r->seg, r->seg_len, 0, &replay_ops, r);
	check(!memcmp(&before, &r->s, sizeof(before)),
	      "replay changed the live session");
}

/* Everything a feed reports, in order: offers (text offsets too), notes. */
struct event_log {
	int n;
	bool overflow;
	struct event {
		bool is_offer;
		enum ftp_note note;
		struct ftp_offer offer;
	} ev[256];
};

struct tee {
	struct run *r;		/* NULL: only log */
	struct event_log *log;
};

static void log_event(struct event_log *log, const struct event *e)
{
	if (log->n < (int)(sizeof(log->ev) / sizeof(log->ev[0])))
		log->ev[log->n++] = *e;
	else
		log->overflow = true;
}

static void log_offer(struct event_log *log, const struct ftp_offer *o)
{
	struct event e;

	memset(&e, 0, sizeof(e));
	e.is_offer = true;
	e.offer = *o;
	log_event(log, &e);
}

static void log_note(struct event_log *log, enum ftp_note note)
{
	struct event e;

	memset(&e, 0, sizeof(e));
	e.note = note;
	log_event(log, &e);
}

static bool tee_offer(void *ctx, const struct ftp_offer *o)
{
	struct tee *t = ctx;

	log_offer(t->log, o);
	if (t->r)
		return on_offer(t->r, o);
	return o->refusal == FTP_ACCEPTED &&
	       (o->kind == FTP_OFFER_PORT || o->kind == FTP_OFFER_EPRT);
}

static void tee_note(void *ctx, enum ftp_note note)
{
	struct tee *t = ctx;

	log_note(t->log, note);
	if (t->r)
		on_note(t->r, note);
}

static const struct ftp_engine_ops tee_ops = {
	.offer = tee_offer,
	.note = tee_note,
};

static bool same_event(const struct event *a, const struct event *b)
{
	const struct ftp_offer *x = &a->offer, *y = &b->offer;

	if (a->is_offer != b->is_offer)
		return false;
	if (!a->is_offer)
		return a->note == b->note;
	return x->kind == y->kind && x->refusal == y->refusal &&
	       x->family == y->family && x->port == y->port &&
	       !memcmp(x->addr, y->addr, sizeof(x->addr)) &&
	       x->addr_known == y->addr_known &&
	       x->text_in_segment == y->text_in_segment &&
	       x->text_start == y->text_start && x->text_end == y->text_end &&
	       x->lines == y->lines;
}

/*
 * The segment's bytes fed a byte at a time to a copy of the session: the
 * engine's word-at-a-time scanning and whole-line parsing never apply to a
 * single byte, so this is the byte machine alone. Both must report the very
 * same events and leave the very same state.
 */
static void feed_segment_checked(struct run *r, int dir, u32 off)
{
	static struct event_log whole, bytes;
	struct tee t_whole = { r, &whole }, t_bytes = { NULL, &bytes };
	struct ftp_session copy = r->s;
	u32 i;

	whole.n = bytes.n = 0;
	whole.overflow = bytes.overflow = false;
	ftp_stream_feed(&r->s, dir, r->seg + off, r->seg_len - off, off,
			&tee_ops, &t_whole);
	for (i = off; i < r->seg_len; i++)
		ftp_stream_feed(&copy, dir, r->seg + i, 1, i, &tee_ops,
				&t_bytes);
	check(!memcmp(&copy, &r->s, sizeof(copy)),
	      "byte-at-a-time feed: different state");
	check(whole.n == bytes.n && whole.overflow == bytes.overflow,
	      "byte-at-a-time feed: different number of events");
	for (i = 0; i < (u32)whole.n; i++)
		check(same_event(&whole.ev[i], &bytes.ev[i]),
		      "byte-at-a-time feed: different event");
}

/* Send stream bytes [from, to) of @dir as one segment at their own seq. */
static void send_range(struct run *r, int dir, u32 from, u32 to)
{
	u32 base = r->seq[dir] - r->stream_len[dir], off;

	r->seg = r->stream[dir] + from;
	r->seg_len = to - from;
	replay_segment(r, dir);
	off = ftp_stream_begin(&r->s, dir, base + from, r->seg_len, false,
			       &ops, r);
	if (off < r->seg_len)
		feed_segment_checked(r, dir, off);
	check(!r->encrypted || ftp_session_encrypted(&r->s),
	      "encryption noted but not reported");
}

/*
 * Deliver a chunk; when @rng is given, as random pieces mixed with copies
 * of bytes already sent, some overlapping the new ones.
 */
static void send_chunk(struct run *r, int dir, u32 len, u32 *rng)
{
	u32 start = r->stream_len[dir], pos = start, piece, back, rnd;

	r->stream_len[dir] += len;
	r->seq[dir] += len;
	if (!rng) {
		send_range(r, dir, start, start + len);
		return;
	}
	while (pos < start + len) {
		rnd = next_rand(rng);
		piece = 1 + rnd % (start + len - pos);
		if (rnd & 0x100)
			piece = 1 + (rnd >> 9) % 4;	/* favour tiny pieces */
		if (piece > start + len - pos)
			piece = start + len - pos;
		back = (rnd >> 16) % (pos + 1);
		if ((rnd & 0x600) == 0x600 && back)
			send_range(r, dir, pos - back, pos);	/* pure copy */
		if ((rnd & 0x1800) == 0x1800)
			send_range(r, dir, pos - back, pos + piece); /* overlap */
		else
			send_range(r, dir, pos, pos + piece);
		pos += piece;
	}
}

/* The stream of each direction is the concatenation of its chunks. */
static void feed_all(struct run *r, const struct chunks *in,
		     u8 *const bufs[2], u32 *rng)
{
	const struct chunk *c;

	r->stream[0] = bufs[0];
	r->stream[1] = bufs[1];
	for (c = in->c; c < in->c + in->n; c++) {
		memcpy(bufs[c->dir] + r->stream_len[c->dir], c->p, c->len);
		send_chunk(r, c->dir, c->len, rng);
	}
}

/* Chaos: jumps forward and back, fresh and stale SYNs. Invariants only. */
static void feed_chaos(struct run *r, const struct chunks *in, u32 *rng)
{
	const struct chunk *c;
	int dir;
	u32 rnd;

	for (c = in->c; c < in->c + in->n; c++) {
		dir = c->dir;
		rnd = next_rand(rng);
		if ((rnd & 7) == 0)
			r->seq[dir] += rnd >> 8;		/* anywhere */
		else if ((rnd & 7) == 1)
			r->seq[dir] -= (rnd >> 8) % 64;		/* back */
		if ((rnd & 0x78) == 0x08)
			ftp_stream_segment(&r->s, dir, r->seq[dir], NULL, 0,
					   true, &ops, r);
		r->seg = c->p;
		r->seg_len = c->len;
		ftp_stream_segment(&r->s, dir, r->seq[dir], r->seg, c->len,
				   (rnd & 0x780) == 0x080, &ops, r);
		r->seq[dir] += c->len;
	}
}

static bool same_offer(const struct ftp_offer *a, const struct ftp_offer *b)
{
	return a->kind == b->kind && a->refusal == b->refusal &&
	       a->family == b->family && a->port == b->port &&
	       !memcmp(a->addr, b->addr, sizeof(a->addr));
}

static void compare_logs(const struct offer_log *a, const struct offer_log *b)
{
	int i;

	check(a->n == b->n, "split run: different number of offers");
	for (i = 0; i < a->n; i++)
		check(same_offer(&a->offers[i], &b->offers[i]),
		      "split run: different offer");
}

/*
 * A caller that takes @budget offers per segment (as the helper takes
 * PINHOLE_OFFERS_PER_SEGMENT) and refuses the rest. With @ask it says so
 * through wants_offers(), and the engine may skip parsing those lines.
 */
struct budget_run {
	struct ftp_session s;
	struct event_log log;
	bool beyond[sizeof(((struct event_log *)0)->ev) /
		    sizeof(((struct event_log *)0)->ev[0])];	/* ev[i] past the budget */
	unsigned int budget, seen;
	bool ask;
};

static bool budget_offer(void *ctx, const struct ftp_offer *o)
{
	struct budget_run *b = ctx;
	bool past = b->seen >= b->budget;

	check(b->ask || o->refusal != FTP_REFUSED_UNPARSED,
	      "unparsed offer to a caller that did not ask");
	check(o->lines == 1 || (o->refusal == FTP_REFUSED_UNPARSED && o->lines),
	      "an offer for other than one line that is not an unparsed run");
	b->seen += o->lines;
	if (b->log.n < (int)(sizeof(b->beyond) / sizeof(b->beyond[0])))
		b->beyond[b->log.n] = past;
	log_offer(&b->log, o);
	return !past && o->refusal == FTP_ACCEPTED &&
	       (o->kind == FTP_OFFER_PORT || o->kind == FTP_OFFER_EPRT);
}

static void budget_note(void *ctx, enum ftp_note note)
{
	struct budget_run *b = ctx;

	log_note(&b->log, note);
}

static bool budget_wants(void *ctx)
{
	const struct budget_run *b = ctx;

	return b->seen < b->budget;
}

static const struct ftp_engine_ops budget_ops = {
	.offer = budget_offer,
	.note = budget_note,
	.wants_offers = budget_wants,
};

static const struct ftp_engine_ops budget_silent_ops = {
	.offer = budget_offer,
	.note = budget_note,
};

static void budget_init(struct budget_run *b, const u8 *data, bool ask)
{
	enum ftp_family family = data[0] & 1 ? FTP_FAMILY_IPV6 : FTP_FAMILY_IPV4;
	const struct ftp_engine_ops *o = ask ? &budget_ops : &budget_silent_ops;
	int dir;

	memset(b, 0, sizeof(*b));
	b->ask = ask;
	b->budget = data[12] % 4;
	ftp_session_init(&b->s, family);
	if (data[0] & 16)
		ftp_session_pickup(&b->s);
	for (dir = 0; dir < 2; dir++)
		if (data[0] & (2 << dir))
			ftp_stream_segment(&b->s, dir, read_u32(data + 1 + 4 * dir) + 1,
					   NULL, 0, true, o, b);
}

/* Each chunk one segment, in order, to both callers. */
static void budget_feed(struct budget_run *b, const u8 *data,
			const struct chunks *in)
{
	const struct ftp_engine_ops *o = b->ask ? &budget_ops : &budget_silent_ops;
	u32 seq[2] = { read_u32(data + 1) + 1, read_u32(data + 5) + 1 };
	const struct chunk *c;

	for (c = in->c; c < in->c + in->n; c++) {
		b->seen = 0;
		ftp_stream_segment(&b->s, c->dir, seq[c->dir], c->p, c->len,
				   false, o, b);
		seq[c->dir] += c->len;
	}
}

/*
 * The asked run's unparsed offer for @lines lines stands for the refused
 * run's next @lines offers: refused PORT/EPRT lines of its kind past the
 * budget, with no note between them.
 */
static void check_unparsed_run(const struct budget_run *asked, int i,
			       const struct budget_run *refused, int j)
{
	const struct ftp_offer *a = &asked->log.ev[i].offer, *r;
	int end = j + (int)a->lines;

	check(a->kind == FTP_OFFER_PORT || a->kind == FTP_OFFER_EPRT,
	      "budget: unparsed offer for other than PORT/EPRT");
	check(asked->beyond[i], "budget: unparsed offer within the budget");
	for (; j < end && j < refused->log.n; j++) {
		r = &refused->log.ev[j].offer;
		check(refused->log.ev[j].is_offer && refused->beyond[j] &&
		      r->kind == a->kind,
		      "budget: unparsed offer that was not a refused PORT/EPRT");
	}
}

static void check_budget(const u8 *data, const struct chunks *in)
{
	static struct budget_run asked, refused;
	const struct event *a;
	int i, j;

	budget_init(&asked, data, true);
	budget_init(&refused, data, false);
	budget_feed(&asked, data, in);
	budget_feed(&refused, data, in);
	for (i = j = 0; i < asked.log.n && j < refused.log.n; i++) {
		a = &asked.log.ev[i];
		if (a->is_offer && a->offer.refusal == FTP_REFUSED_UNPARSED) {
			check_unparsed_run(&asked, i, &refused, j);
			j += a->offer.lines;
			continue;
		}
		check(same_event(a, &refused.log.ev[j++]),
		      "budget: different event");
	}
	if (!asked.log.overflow && !refused.log.overflow)
		check(i == asked.log.n && j == refused.log.n,
		      "budget: different number of events");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * Cut the input after the header into chunks at each 0xFE/0xFF, undoing
 * 0xFD escapes when the flags ask for them.
 */
static void split_input(const u8 *data, size_t size, struct chunks *in)
{
	bool escapes = data[0] & FLAG_ESCAPES;
	u8 *out = in->bytes, *start = out;
	int dir = FTP_DIR_COMMAND;
	size_t i;

	in->n = 0;
	for (i = HEADER_LEN;; i++) {
		if (escapes && i + 1 < size && data[i] == 0xfd) {
			*out++ = data[++i];
			continue;
		}
		if (i < size && data[i] < 0xfe) {
			*out++ = data[i];
			continue;
		}
		in->c[in->n++] = (struct chunk){ dir, start, out - start };
		if (i >= size)
			break;
		dir = data[i] == 0xfe ? FTP_DIR_COMMAND : FTP_DIR_REPLY;
		start = out;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct offer_log whole, split;
	static struct run r;
	struct chunks in;
	u8 *bufs[2];
	u32 rng;

	if (size < HEADER_LEN)
		return 0;
	bufs[0] = malloc(size);
	bufs[1] = malloc(size);
	in.bytes = malloc(size);
	in.c = calloc(size - HEADER_LEN + 1, sizeof(*in.c));
	if (!bufs[0] || !bufs[1] || !in.bytes || !in.c)
		abort();
	split_input(data, size, &in);
	rng = read_u32(data + 9);
	run_init(&r, data, &whole);
	if (data[0] & 8) {
		feed_chaos(&r, &in, &rng);
	} else {
		feed_all(&r, &in, bufs, NULL);
		run_init(&r, data, &split);
		feed_all(&r, &in, bufs, &rng);
		compare_logs(&whole, &split);
		check_budget(data, &in);
	}
#ifdef FUZZ_DEBUG
	fprintf(stderr, "offers: %d\n", whole.n);
#endif
	free(in.c);
	free(in.bytes);
	free(bufs[0]);
	free(bufs[1]);
	return 0;
}
