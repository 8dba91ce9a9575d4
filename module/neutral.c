// SPDX-License-Identifier: GPL-2.0
/*
 * enforce=1: a refused line must not reach the other peer, and the session
 * must not hang. Dropping the segment (and every retransmission of it)
 * stalls the control connection until one end times out; instead the line
 * is neutralised in place, with a rewrite of the same length, so that the
 * other end answers or fails at once with its own error:
 *
 *   "PORT ..." / "EPRT ..."  ->  "XORT ..." / "XPRT ...": an unknown verb,
 *                                the server answers 500 (or 502), and the
 *                                client sees its PORT/EPRT fail;
 *   "227 ..." / "229 ..."    ->  "425 ...": can't open data connection,
 *                                the client sees its PASV/EPSV fail (and
 *                                may fall back to the other mode);
 *   "227 " inside another multi-line reply  ->  "227-": a text line.
 *
 * The same length needs no seqadj; the TCP checksum is updated word by
 * word. Only the line's first bytes are touched, so the line must begin in
 * this segment's new bytes (a retransmission of it is neutralised again,
 * see helper.c); a line that began in an earlier segment cannot be
 * neutralised and its segment is dropped as before.
 */
#include <linux/kernel.h>
#include <linux/skbuff.h>
#include <net/checksum.h>

#include "pinhole.h"

#define TELNET_WILL	251
#define TELNET_DONT	254
#define TELNET_IAC	255

/* A refused line this far past its start is not neutralised: not FTP. */
#define PINHOLE_NEUTRAL_SCAN_MAX	512

static const char *const pinhole_neutral_verbs[FTP_OFFER_KIND_COUNT] = {
	[FTP_OFFER_PORT] = "PORT",
	[FTP_OFFER_EPRT] = "EPRT",
	[FTP_OFFER_227] = "227 ",
	[FTP_OFFER_229] = "229 ",
};

/* Bytes of Telnet commands (RFC 854) at @line, before the FTP command. */
static unsigned int pinhole_neutral_telnet(const u8 *line, unsigned int len)
{
	unsigned int i = 0;

	while (i + 1 < len && line[i] == TELNET_IAC && line[i + 1] != TELNET_IAC)
		i += line[i + 1] >= TELNET_WILL && line[i + 1] <= TELNET_DONT ?
		     3 : 2;
	return i;
}

/*
 * The rewrite that neutralises a refused line of @kind whose first @len
 * bytes are @line (@inner: a 227/229 line inside another multi-line
 * reply). False when those bytes are not such a line: nothing is changed.
 * Pure, for KUnit.
 */
bool pinhole_neutral_plan(enum ftp_offer_kind kind, bool inner,
			  const u8 *line, unsigned int len,
			  struct pinhole_neutral *plan)
{
	bool active = kind == FTP_OFFER_PORT || kind == FTP_OFFER_EPRT;
	const char *verb = pinhole_neutral_verbs[kind];
	unsigned int at = active ? pinhole_neutral_telnet(line, len) : 0;
	unsigned int i;
	u8 c;

	if (at + 4 > len)
		return false;
	for (i = 0; i < 4; i++) {
		c = line[at + i];
		if (active && c >= 'a' && c <= 'z')
			c -= 'a' - 'A';
		if (c != verb[i])
			return false;
	}
	plan->off = at;
	plan->len = 1;
	if (active) {
		plan->text[0] = line[at] == verb[0] ? 'X' : 'x';
	} else if (inner) {
		plan->off = at + 3;
		plan->text[0] = '-';
	} else {
		plan->len = 3;
		memcpy(plan->text, "425", 3);
	}
	return true;
}

/* The line's first byte: after the last LF before @off, at or after @lo. */
static bool pinhole_neutral_line_start(const struct pinhole_segment *seg,
				       u32 off, u32 lo, bool clean, u32 *start)
{
	u32 p = off, stop = off > PINHOLE_NEUTRAL_SCAN_MAX ?
			    off - PINHOLE_NEUTRAL_SCAN_MAX : 0;
	const u8 *c;
	u8 buf;

	while (p > stop) {
		c = skb_header_pointer(seg->skb, seg->dataoff + p - 1, 1, &buf);
		if (!c)
			return false;
		if (*c == '\n')
			break;
		p--;
	}
	if (p == stop && (p || !clean))
		return false;	/* began in an earlier segment, or too long ago */
	*start = p;
	return p >= lo;
}

/*
 * Where and how to neutralise @decision's line in this segment. @lo is the
 * first byte the line may begin at (a line that began in bytes already
 * passed cannot be taken back); @clean says that the stream was at a line
 * start at offset 0.
 */
bool pinhole_neutral_locate(const struct pinhole_segment *seg,
			    struct pinhole_decision *decision, u32 lo,
			    bool clean)
{
	const struct ftp_offer *offer = &decision->offer;
	u8 buf[16];
	const u8 *line;
	u32 start, len;

	/* an accepted line is found from its text, a refused one where it failed */
	if (offer->refusal == FTP_ACCEPTED && !offer->text_in_segment)
		return false;
	if (!pinhole_neutral_line_start(seg, offer->text_start, lo, clean,
					&start))
		return false;
	len = min_t(u32, sizeof(buf), seg->skb->len - seg->dataoff - start);
	line = skb_header_pointer(seg->skb, seg->dataoff + start, len, buf);
	if (!line || !pinhole_neutral_plan(offer->kind, offer->in_multiline,
					   line, len, &decision->neutral))
		return false;
	decision->neutral.off += start;
	return true;
}

/*
 * Rewrite the planned bytes. The TCP checksum is a sum of 16-bit words
 * counted from the TCP header, so each byte is replaced inside the
 * aligned word that holds it.
 */
bool pinhole_neutralise(struct pinhole_segment *seg,
			const struct pinhole_neutral *plan)
{
	unsigned int hdr = seg->dataoff - seg->protoff;
	unsigned int i, at, word;
	struct tcphdr *th;
	__be16 old, new;
	u8 *p;

	if (skb_ensure_writable(seg->skb, seg->dataoff + plan->off +
				plan->len + 1))
		return false;
	th = (struct tcphdr *)(seg->skb->data + seg->protoff);
	for (i = 0; i < plan->len; i++) {
		at = hdr + plan->off + i;
		word = at & ~1u;
		p = (u8 *)th + word;
		memcpy(&old, p, 2);
		((u8 *)th)[at] = plan->text[i];
		memcpy(&new, p, 2);
		inet_proto_csum_replace2(&th->check, seg->skb, old, new, false);
	}
	return true;
}
