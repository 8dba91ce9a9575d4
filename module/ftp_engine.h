/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The FTP engine: a streaming parser and per-direction state machine for the
 * FTP control connection. Pure C with no kernel headers, so the very same
 * file is compiled into the module, the userspace unit tests and the fuzzer.
 *
 * It never buffers payload: a line split across any number of TCP segments
 * is recognised from the parser state alone, which lives in the 32 bytes
 * conntrack gives a helper per connection (struct ftp_session). It never
 * allocates and takes no lock: the caller serialises calls per session.
 *
 * The engine decides syntax and protocol context (is this a well-formed
 * PORT? was a PASV outstanding for this 227?). Policy (which ports, whose
 * addresses, which modes) belongs to the caller.
 */
#ifndef PINHOLE_FTP_ENGINE_H
#define PINHOLE_FTP_ENGINE_H

#ifdef __KERNEL__
#include <linux/types.h>
#else
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
#endif

/* Direction of a segment on the control connection. */
enum ftp_dir {
	FTP_DIR_COMMAND = 0,	/* client to server: the conntrack original direction */
	FTP_DIR_REPLY = 1,	/* server to client: the conntrack reply direction */
};

/* Address families, numbered as EPRT numbers them (RFC 2428). */
enum ftp_family {
	FTP_FAMILY_IPV4 = 1,
	FTP_FAMILY_IPV6 = 2,
};

/* The four lines that announce a data port. */
enum ftp_offer_kind {
	FTP_OFFER_PORT,		/* client command, active, RFC 959 */
	FTP_OFFER_EPRT,		/* client command, active, RFC 2428 */
	FTP_OFFER_227,		/* server reply to PASV, passive */
	FTP_OFFER_229,		/* server reply to EPSV, passive; no address */
	FTP_OFFER_KIND_COUNT,
};

/* Why the engine refused an announcing line. */
enum ftp_refusal {
	FTP_ACCEPTED = 0,
	FTP_REFUSED_MALFORMED,	/* field count, missing digits, trailing junk */
	FTP_REFUSED_OUT_OF_RANGE, /* octet > 255, port > 65535, port 0 */
	FTP_REFUSED_FAMILY,	/* PORT/227 on IPv6, EPRT family != control's */
	FTP_REFUSED_UNANSWERED,	/* 227/229 with no PASV/EPSV outstanding */
	FTP_REFUSED_UNPARSED,	/* PORT/EPRT the caller wanted no more of */
	FTP_REFUSAL_COUNT,
};

/* Things worth counting that are not offers. */
enum ftp_note {
	FTP_NOTE_PASV,		/* PASV command seen */
	FTP_NOTE_EPSV,		/* EPSV command seen */
	FTP_NOTE_ENCRYPTED,	/* 234 accepted AUTH: the session is now opaque */
	FTP_NOTE_RESYNC,	/* a gap in the stream: parsing resumes at next line */
	/*
	 * A 4xx/5xx answered the PORT/EPRT whose offer the caller opened a
	 * pinhole for (its offer callback returned true): withdraw it.
	 */
	FTP_NOTE_ACTIVE_REFUSED,
	/*
	 * A command the engine cannot place in its reply queue (more waiting
	 * commands than it counts, or a second PASV/EPSV/PORT/EPRT waiting):
	 * the reply that answers it is not trusted to (a 227/229 is refused).
	 */
	FTP_NOTE_UNCORRELATED,
	FTP_NOTE_COUNT,
};

/*
 * One announcing line, complete. addr is meaningful for every kind but
 * FTP_OFFER_229 (which names only a port: the data address is the server's).
 * For FTP_FAMILY_IPV4 the address is in addr[0..3], network byte order.
 *
 * text_start/text_end locate the rewritable text (for PORT and 227 the six
 * numbers "h1,h2,h3,h4,p1,p2"; for EPRT everything between the first and
 * last delimiter, "|1|a.b.c.d|port|" without the outer pair kept; for 229
 * the port digits) as offsets in the current segment; text_in_segment is
 * false when the line began in an earlier segment, in which case a NAT
 * rewrite is impossible and the offsets are meaningless. It is also false
 * for every refused offer (nothing to rewrite; addr and port are zero unless
 * addr_known: a port 0 names its address) and
 * when the text is longer than 62 bytes or is followed by more than 126
 * spaces and CRs before the LF (only zero padding does that).
 *
 * A refusal is reported at the byte that decides it, before the line
 * ends; an acceptance once the line is known to be complete (PORT/EPRT:
 * at the LF; 227/229: at the byte after the port). A line yields at most
 * one offer.
 */
struct ftp_offer {
	enum ftp_offer_kind kind;
	enum ftp_refusal refusal;
	enum ftp_family family;
	u8 addr[16];
	u16 port;
	bool addr_known;	/* addr (but 229) and port were parsed whole */
	bool in_multiline;	/* a 227/229 line inside another multi-line reply */
	bool text_in_segment;
	u32 text_start;
	u32 text_end;
	u32 lines;		/* 1, or a run of lines (see wants_offers()) */
};

/*
 * offer() returns true when the caller opened a pinhole for an accepted
 * PORT/EPRT: only then is the reply to that command watched for a refusal
 * (FTP_NOTE_ACTIVE_REFUSED). Its value is ignored for anything else.
 *
 * wants_offers(), if set, is asked at the start of a PORT/EPRT line. False:
 * the caller would refuse its offer whatever it held (it takes only so many
 * per segment), so the line is not parsed if its LF is in the same buffer.
 * The answer must hold until the next offer() call: the lines of the same
 * kind that follow in a row, whole in the buffer, are not parsed either,
 * and their offers come as one, refused FTP_REFUSED_UNPARSED with their
 * kind, family and count (lines) only, at the first line's offset and
 * before any note that ending them brings. The session ends in the state
 * refused lines leave, and each line costs a word scan to its LF.
 */
struct ftp_engine_ops {
	bool (*offer)(void *ctx, const struct ftp_offer *offer);
	void (*note)(void *ctx, enum ftp_note note);
	bool (*wants_offers)(void *ctx);
};

/*
 * Per-connection state, both directions. Opaque to callers; its layout is
 * private to ftp_engine.c. It must fit the conntrack helper area.
 */
struct ftp_session {
	u8 opaque[32];
} __attribute__((aligned(8)));

void ftp_session_init(struct ftp_session *s, enum ftp_family control_family);

/*
 * The control connection's family, for a session whose state did not come
 * from ftp_session_init() (a conntrack created over ctnetlink arrives with
 * a zeroed area). Idempotent; touches nothing else.
 */
void ftp_session_set_family(struct ftp_session *s,
			    enum ftp_family control_family);

/* True once a 234 reply to AUTH made the session opaque to us. */
bool ftp_session_encrypted(const struct ftp_session *s);

/* Make the session opaque, as a 234 to AUTH does (learnt elsewhere). */
void ftp_session_set_encrypted(struct ftp_session *s);

/*
 * The session was created in the middle of its stream by state replication
 * (conntrackd committing it after a failover), not from its SYN: in each
 * direction not seen yet, take the first byte of the first segment as a
 * line start, as the stock helper's SEQ_PICKUP does, instead of waiting for
 * the next LF. It is a bet on the other firewall having passed whole lines
 * last (FTP peers send a command or a reply per write), made once per
 * direction and counted as a resync. A first byte that starts a TLS record
 * makes the session opaque (conntrackd does not carry that it was).
 * Directions already parsing are left alone.
 */
void ftp_session_pickup(struct ftp_session *s);

/* Does @dir still wait for the first segment of a pickup? */
bool ftp_session_pickup_pending(const struct ftp_session *s, enum ftp_dir dir);

/* Is @dir at the start of a line, outside any multi-line reply? */
bool ftp_session_at_line_start(const struct ftp_session *s, enum ftp_dir dir);

/*
 * A segment of @dir carried an announcement a NAT rewrite may change;
 * @clean_start says whether that segment's first byte began a line outside
 * a multi-line reply. Once one did not, ftp_session_replay() never parses
 * a retransmission again, in either direction (one bit holds it for both):
 * it could not know the context the original bytes were parsed in.
 */
void ftp_session_note_announcement(struct ftp_session *s, enum ftp_dir dir,
				   bool clean_start);

/*
 * Start a TCP segment of @len payload bytes with sequence number @seq (of
 * its first payload byte; for a SYN pass seq+1 and len 0 with @syn set).
 * Returns the offset of the first byte not seen before: retransmitted bytes
 * are skipped, a gap makes the engine resynchronise at the next line start.
 * The caller then passes bytes [returned offset, len) to ftp_stream_feed(),
 * in as many chunks as it likes, in order; all of them.
 */
u32 ftp_stream_begin(struct ftp_session *s, enum ftp_dir dir, u32 seq,
		     u32 len, bool syn,
		     const struct ftp_engine_ops *ops, void *ctx);

/* Parse @n bytes that sit at offset @off of the current segment. */
void ftp_stream_feed(struct ftp_session *s, enum ftp_dir dir,
		     const u8 *data, u32 n, u32 off,
		     const struct ftp_engine_ops *ops, void *ctx);

/* Both of the above for a segment held in one buffer. */
void ftp_stream_segment(struct ftp_session *s, enum ftp_dir dir, u32 seq,
			const u8 *data, u32 len, bool syn,
			const struct ftp_engine_ops *ops, void *ctx);

/*
 * Bytes ftp_stream_begin() skipped as retransmitted were parsed once and
 * are not parsed again in @s. A NATed session must still rewrite an
 * announcing line it rewrote the first time, so it parses them again in
 * @scratch, a copy of @s made ready by this function: @dir at a line start
 * (the retransmission's first byte), the other direction idle, for replies
 * a PASV/EPSV taken as the command answered. Feed @scratch with
 * ftp_stream_feed() from offset 0 and discard it; @s is not touched. An
 * encrypted session stays opaque, and so does a session that
 * ftp_session_note_announcement() marked unsafe: then it returns false
 * (true otherwise).
 */
bool ftp_session_replay(struct ftp_session *scratch,
			const struct ftp_session *s, enum ftp_dir dir);

const char *ftp_offer_kind_name(enum ftp_offer_kind kind);
const char *ftp_refusal_name(enum ftp_refusal refusal);

#endif /* PINHOLE_FTP_ENGINE_H */
