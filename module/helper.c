// SPDX-License-Identifier: GPL-2.0
/*
 * The conntrack helper: feeds each control segment to the FTP engine under
 * the connection's own lock, judges what it announces against the
 * namespace's policy, then - outside the lock - opens the pinholes it may.
 *
 * Locks. The stock helper linearises every FTP segment and parses it under
 * one spinlock shared by the whole system. We parse in place (fragment by
 * fragment in a non-linear skb) under the connection's own ct->lock, and
 * the whole per-session parser state is the 32-byte helper area. Only a
 * segment that announces a data port goes on to the global
 * nf_conntrack_expect_lock, once inside nf_ct_expect_related() and rarely a
 * second time (see expect.c); a NAT rewrite takes ct->lock again for
 * seqadj. Segments that announce nothing take no global lock at all.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/inet.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/netfilter.h>
#include <linux/skbuff.h>
#include <linux/tcp.h>
#include <net/netfilter/nf_conntrack.h>
#include <net/netfilter/nf_conntrack_expect.h>
#include <net/netfilter/nf_conntrack_helper.h>
#include <linux/netfilter/nfnetlink_conntrack.h>

#include "compat.h"
#include "pinhole.h"
#include "skb_walk.h"

static const enum pinhole_counter pinhole_line_counters[] = {
	[FTP_OFFER_PORT] = PINHOLE_CNT_lines_port,
	[FTP_OFFER_EPRT] = PINHOLE_CNT_lines_eprt,
	[FTP_OFFER_227] = PINHOLE_CNT_lines_227,
	[FTP_OFFER_229] = PINHOLE_CNT_lines_229,
};

static const enum pinhole_counter pinhole_note_counters[] = {
	[FTP_NOTE_PASV] = PINHOLE_CNT_lines_pasv,
	[FTP_NOTE_EPSV] = PINHOLE_CNT_lines_epsv,
	[FTP_NOTE_ENCRYPTED] = PINHOLE_CNT_refused_encrypted,
	[FTP_NOTE_RESYNC] = PINHOLE_CNT_resyncs,
	[FTP_NOTE_UNCORRELATED] = PINHOLE_CNT_uncorrelated,
};

static struct ftp_session *pinhole_session(struct nf_conn *ct)
{
	return nfct_help_data(ct);
}

/* Judge @offer against the policy and keep it for pinhole_act(). */
static enum pinhole_verdict pinhole_decide(struct pinhole_segment *seg,
					   const struct ftp_offer *offer,
					   bool replayed)
{
	struct pinhole_decision *decision = &seg->decisions[seg->count++];

	decision->offer = *offer;
	decision->replayed = replayed;
	decision->verdict = pinhole_judge(&seg->pn->policy, offer,
					  pinhole_announcer(seg),
					  pinhole_announcer_outside(seg),
					  nf_ct_l3num(seg->ct));
	return decision->verdict;
}

/*
 * True for a PORT/EPRT that will open a pinhole: the engine then watches
 * the reply to that command, and a refusal withdraws it (pinhole_act()).
 */
static bool pinhole_on_offer(void *ctx, const struct ftp_offer *offer)
{
	struct pinhole_segment *seg = ctx;

	pinhole_count_lines(seg->pn, pinhole_line_counters[offer->kind],
			    offer->lines);
	if (seg->count == PINHOLE_OFFERS_PER_SEGMENT) {
		pinhole_count_lines(seg->pn,
				    PINHOLE_CNT_refused_offers_per_segment,
				    offer->lines);
		seg->refused += offer->lines;
		return false;
	}
	if (pinhole_decide(seg, offer, false) != PINHOLE_OPEN) {
		seg->refused++;
		return false;
	}
	return pinhole_offer_is_active(offer);
}

static void pinhole_on_note(void *ctx, enum ftp_note note)
{
	struct pinhole_segment *seg = ctx;

	if (note == FTP_NOTE_ACTIVE_REFUSED)
		seg->withdraw_active = true;
	else
		pinhole_count(seg->pn, pinhole_note_counters[note]);
}

/*
 * Past PINHOLE_OFFERS_PER_SEGMENT every announcing line is refused
 * whatever it holds: the engine need not parse it (a segment of pipelined
 * PORT lines costs a word scan a line from there on).
 */
static bool pinhole_wants_offers(void *ctx)
{
	const struct pinhole_segment *seg = ctx;

	return seg->count < PINHOLE_OFFERS_PER_SEGMENT;
}

static const struct ftp_engine_ops pinhole_engine_ops = {
	.offer = pinhole_on_offer,
	.note = pinhole_on_note,
	.wants_offers = pinhole_wants_offers,
};

struct pinhole_feed {
	struct pinhole_segment *seg;
	struct ftp_session *session;
	const struct ftp_engine_ops *ops;
};

static void pinhole_feed_block(void *ctx, const u8 *data, u32 len, u32 off)
{
	const struct pinhole_feed *feed = ctx;

	ftp_stream_feed(feed->session, feed->seg->stream, data, len, off,
			feed->ops, feed->seg);
}

/* Feed bytes [from, to) of the segment's payload to @session. */
static void pinhole_feed_skb(struct pinhole_segment *seg,
			     struct ftp_session *session,
			     const struct ftp_engine_ops *ops, u32 from, u32 to)
{
	struct pinhole_feed feed = {
		.seg = seg, .session = session, .ops = ops,
	};

	pinhole_skb_walk(seg->skb, seg->dataoff, from, to, pinhole_feed_block,
			 &feed);
}

/*
 * A retransmission of a segment NAT rewrote must be rewritten the same way,
 * and with enforce set one whose refused line was neutralised must be
 * neutralised again: the bytes the engine skipped as already parsed are
 * parsed again in a scratch copy of the session. The accepted offers are
 * kept for pinhole_nat_replay(), with enforce the refused ones too, for
 * pinhole_neutralise(). Nothing is counted twice.
 */
static bool pinhole_on_replay_offer(void *ctx, const struct ftp_offer *offer)
{
	struct pinhole_segment *seg = ctx;

	if (seg->count == PINHOLE_OFFERS_PER_SEGMENT)
		return false;
	if (seg->enforce ||
	    (offer->refusal == FTP_ACCEPTED && offer->text_in_segment))
		pinhole_decide(seg, offer, true);
	return false;	/* the scratch copy tracks nothing */
}

static void pinhole_on_replay_note(void *ctx, enum ftp_note note)
{
}

static const struct ftp_engine_ops pinhole_replay_ops = {
	.offer = pinhole_on_replay_offer,
	.note = pinhole_on_replay_note,
	.wants_offers = pinhole_wants_offers,
};

static void pinhole_replay(struct pinhole_segment *seg,
			   const struct ftp_session *session, u32 to)
{
	struct ftp_session scratch;

	lockdep_assert_held(&seg->ct->lock);
	if (!ftp_session_replay(&scratch, session, seg->stream)) {
		seg->replay_refused = true;
		return;
	}
	pinhole_feed_skb(seg, &scratch, &pinhole_replay_ops, 0, to);
}

static enum ftp_family pinhole_family(const struct nf_conn *ct)
{
	return nf_ct_l3num(ct) == AF_INET ? FTP_FAMILY_IPV4 : FTP_FAMILY_IPV6;
}

/*
 * On a NATed session, remember whether this segment's announcement began
 * at a clean line start: only then can a retransmission of it be parsed
 * again from its first byte (see ftp_session_replay()).
 */
static void pinhole_note_announcement(struct pinhole_segment *seg,
				      struct ftp_session *session,
				      const struct ftp_session *before, u32 from)
{
	unsigned int i;

	for (i = 0; i < seg->count; i++) {
		if (seg->decisions[i].replayed ||
		    seg->decisions[i].verdict != PINHOLE_OPEN)
			continue;
		ftp_session_note_announcement(session, seg->stream, !from &&
				ftp_session_at_line_start(before, seg->stream));
		return;
	}
}

/*
 * enforce=1: locate every refused line of the segment for neutral.c. A new
 * line can only be neutralised if it begins in this segment's new bytes
 * (from @from on; at offset 0 only when @clean, the stream at a line start
 * there); a retransmitted one is located in the scratch parse's view,
 * which starts at a line start. False when one cannot be: the segment is
 * then dropped as it always was.
 */
static bool pinhole_neutral_locate_all(struct pinhole_segment *seg, u32 from,
				       bool clean)
{
	struct pinhole_decision *decision;
	unsigned int i, located = 0;

	for (i = 0; i < seg->count; i++) {
		decision = &seg->decisions[i];
		if (decision->verdict == PINHOLE_OPEN)
			continue;
		if (decision->replayed ?
		    !pinhole_neutral_locate(seg, decision, 0, true) :
		    !pinhole_neutral_locate(seg, decision, from, clean))
			return false;
		located += !decision->replayed;
	}
	/* lines beyond PINHOLE_OFFERS_PER_SEGMENT were refused undecided */
	return located == seg->refused;
}

/*
 * Parse one segment. With enforce set, a refused line is neutralised in
 * place (neutral.c); a segment that must be dropped instead is forgotten
 * by the parser too: its retransmission will then be judged (and dropped)
 * again instead of passing as old data.
 * A session created over ctnetlink (conntrackd after a failover) arrives
 * confirmed with a zeroed area: it learns its family here and
 * resynchronises at the next line start.
 */
static void pinhole_parse(struct pinhole_segment *seg,
			  const struct tcphdr *th, u32 len)
{
	struct ftp_session *session = pinhole_session(seg->ct);
	bool nat = pinhole_nat_active(seg->ct);
	struct ftp_session before;
	u32 seq = ntohl(th->seq) + th->syn;
	u32 from;

	spin_lock_bh(&seg->ct->lock);
	if (!nf_ct_is_confirmed(seg->ct))
		ftp_session_init(session, pinhole_family(seg->ct));
	else
		ftp_session_set_family(session, pinhole_family(seg->ct));
	if (nat && ftp_session_pickup_pending(session, seg->stream))
		pinhole_nat_adopt(seg->ct);
	before = *session;
	from = ftp_stream_begin(session, seg->stream, seq, len, th->syn,
				&pinhole_engine_ops, seg);
	if (from && !th->syn && (nat || seg->enforce))
		pinhole_replay(seg, &before, min(from, len));
	if (from < len)
		pinhole_feed_skb(seg, session, &pinhole_engine_ops, from, len);
	seg->drop = seg->enforce && (pinhole_test_behaviour(enforce_drops) ?
			seg->refused : !pinhole_neutral_locate_all(seg, from,
			!from && ftp_session_at_line_start(&before, seg->stream)));
	if (seg->drop)
		*session = before;
	else if (nat)
		pinhole_note_announcement(seg, session, &before, from);
	spin_unlock_bh(&seg->ct->lock);
}

/* The data address: announced, or for 229 the announcing server's own. */
static void pinhole_data_addr(const struct pinhole_segment *seg,
			      const struct ftp_offer *offer,
			      union nf_inet_addr *daddr)
{
	memset(daddr, 0, sizeof(*daddr));
	if (offer->kind == FTP_OFFER_229)
		*daddr = seg->ct->tuplehash[seg->dir].tuple.src.u3;
	else if (offer->family == FTP_FAMILY_IPV4)
		memcpy(&daddr->ip, offer->addr, 4);
	else
		memcpy(daddr->ip6, offer->addr, 16);
}

/* "ADDRESS port PORT" as offered, if the line was parsed that far. */
static void pinhole_offered(const struct pinhole_segment *seg,
			    const struct ftp_offer *offer, char *buf, size_t len)
{
	union nf_inet_addr daddr;
	bool v4 = offer->kind == FTP_OFFER_229 ?
		  nf_ct_l3num(seg->ct) == AF_INET :
		  offer->family == FTP_FAMILY_IPV4;

	if (!offer->addr_known) {
		strscpy(buf, "(line not parsed to its end)", len);
		return;
	}
	pinhole_data_addr(seg, offer, &daddr);
	if (v4)
		snprintf(buf, len, "%pI4 port %u", &daddr.ip, offer->port);
	else
		snprintf(buf, len, "%pI6c port %u", &daddr.in6, offer->port);
}

/* May this namespace log a line of @level now? */
static bool pinhole_log_now(struct pinhole_net *pn, enum pinhole_log level)
{
	return READ_ONCE(pn->policy.log) >= level &&
	       __ratelimit(&pn->log_ratelimit);
}

/*
 * One line: "<what> <kind> <offered> (<why>) in session <a> -> <b>
 * (netns <inode>)", the namespace as `ip netns identify` or
 * /proc/PID/ns/net name it.
 */
static void pinhole_log(const struct pinhole_segment *seg,
			const struct ftp_offer *offer, const char *what,
			const char *why)
{
	const struct nf_conntrack_tuple *t =
		&seg->ct->tuplehash[IP_CT_DIR_ORIGINAL].tuple;
	char offered[INET6_ADDRSTRLEN + sizeof(" port 65535")];
	unsigned int netns = nf_ct_net(seg->ct)->ns.inum;

	pinhole_offered(seg, offer, offered, sizeof(offered));
	if (nf_ct_l3num(seg->ct) == AF_INET)
		pr_info("%s %s %s (%s) in session %pI4:%u -> %pI4:%u (netns %u)\n",
			what, ftp_offer_kind_name(offer->kind), offered, why,
			&t->src.u3.ip, ntohs(t->src.u.tcp.port),
			&t->dst.u3.ip, ntohs(t->dst.u.tcp.port), netns);
	else
		pr_info("%s %s %s (%s) in session [%pI6c]:%u -> [%pI6c]:%u (netns %u)\n",
			what, ftp_offer_kind_name(offer->kind), offered, why,
			t->src.u3.ip6, ntohs(t->src.u.tcp.port),
			t->dst.u3.ip6, ntohs(t->dst.u.tcp.port), netns);
}

static void pinhole_log_refusal(const struct pinhole_segment *seg,
				const struct pinhole_decision *decision)
{
	if (pinhole_log_now(seg->pn, PINHOLE_LOG_REFUSALS))
		pinhole_log(seg, &decision->offer, "refused",
			    pinhole_verdict_name(decision->verdict));
}

static void pinhole_log_opened(const struct pinhole_segment *seg,
			       const struct ftp_offer *offer)
{
	if (pinhole_log_now(seg->pn, PINHOLE_LOG_OPENED))
		pinhole_log(seg, offer, "opened",
			    pinhole_offer_is_active(offer) ? "active" : "passive");
}

/*
 * A third-party address (allowed by policy) is neither the announcer's
 * inside view of itself nor its outside one, so NAT has nothing to
 * translate there.
 */
static bool pinhole_open_offer(struct pinhole_segment *seg,
			       const struct ftp_offer *offer)
{
	struct nf_conn *ct = seg->ct;
	union nf_inet_addr daddr;
	bool own = pinhole_offer_is_own(seg, offer);

	if (own && pinhole_nat_active(ct))
		return pinhole_nat_open(seg, offer);
	pinhole_data_addr(seg, offer, &daddr);
	return !pinhole_open(ct, seg->dir, &daddr, offer->port, own,
			     &seg->pn->policy, seg->pn);
}

/*
 * enforce=1: neutralise every refused line, before anything else rewrites
 * the segment (a NAT rewrite may change its length, and the offsets are
 * the original segment's). A line that cannot be rewritten after all
 * (no memory to make the skb writable) drops the segment.
 */
static void pinhole_neutralise_segment(struct pinhole_segment *seg)
{
	const struct pinhole_decision *decision;
	unsigned int i;

	for (i = 0; i < seg->count; i++) {
		decision = &seg->decisions[i];
		if (decision->verdict == PINHOLE_OPEN)
			continue;
		if (!pinhole_neutralise(seg, &decision->neutral)) {
			seg->drop = true;
			return;
		}
		pinhole_count(seg->pn, decision->replayed ?
			      PINHOLE_CNT_neutralised_again :
			      PINHOLE_CNT_neutralised);
	}
}

/*
 * How many of the segment's new pinholes its later ones would evict before
 * the segment leaves the helper: once the session holds max_pinholes, each
 * announcement closes the oldest (RFC 959: a later PORT or PASV supersedes
 * an earlier one), so the first ones of a segment announcing more than
 * that never serve. They are counted as the eviction would count them,
 * without an insertion and an eviction each under the global expectation
 * lock. Not under NAT, where every announcing line is rewritten to the
 * port of its own pinhole.
 */
static unsigned int pinhole_superseded_in_segment(const struct pinhole_segment *seg)
{
	unsigned int i, fresh = 0, max;

	if (pinhole_nat_active(seg->ct))
		return 0;
	for (i = 0; i < seg->count; i++)
		fresh += seg->decisions[i].verdict == PINHOLE_OPEN &&
			 !seg->decisions[i].replayed;
	max = READ_ONCE(seg->pn->policy.max_pinholes);
	return fresh > max ? fresh - max : 0;
}

/*
 * Act on what the segment announced. A segment about to be dropped
 * (enforce, a refused line that could not be neutralised) only has its
 * refusals counted: it opens nothing and is not rewritten, so it moves no
 * seqadj either.
 */
static void pinhole_act(struct pinhole_segment *seg, bool dropping)
{
	const struct pinhole_decision *decision;
	unsigned int i, superseded;

	superseded = dropping ? 0 : pinhole_superseded_in_segment(seg);
	for (i = 0; i < seg->count; i++) {
		decision = &seg->decisions[i];
		if (decision->verdict != PINHOLE_OPEN) {
			if (decision->replayed)
				continue;
			pinhole_count(seg->pn,
				      pinhole_verdict_counter(decision->verdict));
			pinhole_log_refusal(seg, decision);
		} else if (dropping) {
			continue;
		} else if (decision->replayed) {
			if (pinhole_nat_active(seg->ct) &&
			    decision->offer.text_in_segment)
				pinhole_nat_replay(seg, &decision->offer);
		} else if (superseded) {
			superseded--;
			pinhole_count(seg->pn, PINHOLE_CNT_refused_limit_reached);
		} else if (pinhole_open_offer(seg, &decision->offer)) {
			pinhole_log_opened(seg, &decision->offer);
		}
	}
	if (seg->withdraw_active && !dropping &&
	    pinhole_withdraw_active(seg->ct))
		pinhole_count(seg->pn, PINHOLE_CNT_pinholes_withdrawn);
}

/*
 * Only the control connection's own segments are FTP. An ICMP error that
 * conntrack relates to it (IP_CT_RELATED) reaches the helper too, with
 * protoff at the ICMP header and quoted, forgeable bytes behind it: never
 * parse those. IP_CT_NEW is the client's SYN (and its retransmissions).
 */
static bool pinhole_ctinfo_parsed(enum ip_conntrack_info ctinfo)
{
	return ctinfo == IP_CT_NEW || ctinfo == IP_CT_ESTABLISHED ||
	       ctinfo == IP_CT_ESTABLISHED_REPLY;
}

static int pinhole_help(struct sk_buff *skb, unsigned int protoff,
			struct nf_conn *ct, enum ip_conntrack_info ctinfo)
{
	struct pinhole_segment seg = {
		.skb = skb,
		.protoff = protoff,
		.ctinfo = ctinfo,
		.ct = ct,
		.dir = CTINFO2DIR(ctinfo),
		.stream = CTINFO2DIR(ctinfo) == IP_CT_DIR_ORIGINAL ?
			  FTP_DIR_COMMAND : FTP_DIR_REPLY,
		.pn = pinhole_net(nf_ct_net(ct)),
	};
	const struct tcphdr *th;
	struct tcphdr _th;
	unsigned int dataoff;

	if (!pinhole_ctinfo_parsed(ctinfo) || !pinhole_is_control(ct))
		return NF_ACCEPT;
	th = skb_header_pointer(skb, protoff, sizeof(_th), &_th);
	if (!th)
		return NF_ACCEPT;
	dataoff = protoff + th->doff * 4;
	if (dataoff > skb->len || (dataoff == skb->len && !th->syn))
		return NF_ACCEPT;
	seg.dataoff = dataoff;
	seg.enforce = READ_ONCE(seg.pn->policy.enforce);
	pinhole_parse(&seg, th, skb->len - dataoff);
	if (seg.enforce && !seg.drop)
		pinhole_neutralise_segment(&seg);
	pinhole_act(&seg, seg.drop);
	if (seg.replay_refused && pinhole_nat_rewritten_at(&seg))
		pinhole_count(seg.pn, PINHOLE_CNT_nat_unrewritable);
	if (seg.drop) {
		pinhole_count(seg.pn, PINHOLE_CNT_dropped);
		return NF_DROP;
	}
	return NF_ACCEPT;
}

/*
 * Exported over ctnetlink as CTA_HELP_INFO for pinholectl. The packet path
 * changes the area under ct->lock; take it here too, as the TCP tracker's
 * own to_nlattr does in the same call chain.
 */
static int pinhole_to_nlattr(struct sk_buff *skb, const struct nf_conn *ct)
{
	struct nf_conn *locked = (struct nf_conn *)ct;
	struct pinhole_ct_info info = {
		.version = PINHOLE_CT_INFO_VERSION,
	};

	spin_lock_bh(&locked->lock);
	if (ftp_session_encrypted(nfct_help_data(ct)))
		info.flags |= PINHOLE_CT_ENCRYPTED;
	spin_unlock_bh(&locked->lock);
	return nla_put(skb, CTA_HELP_INFO, sizeof(info), &info);
}

/*
 * A conntrack created or updated over ctnetlink (conntrackd replaying the
 * active firewall's table). What the area needs from outside is only what
 * the stream cannot tell: the family, that the session went opaque (a
 * pinhole_ct_info with PINHOLE_CT_ENCRYPTED, from our own to_nlattr; or a
 * TLS record first, see ftp_session_pickup()) and that the stream is picked
 * up in the middle. A live parser is never reset: an update must not make
 * it forget.
 */
static int pinhole_from_nlattr(struct nlattr *attr, struct nf_conn *ct)
{
	const struct pinhole_ct_info *info = attr ? nla_data(attr) : NULL;
	struct ftp_session *session = nfct_help_data(ct);

	if (info && (nla_len(attr) < sizeof(*info) ||
		     info->version != PINHOLE_CT_INFO_VERSION))
		return -EINVAL;
	spin_lock_bh(&ct->lock);
	ftp_session_set_family(session, pinhole_family(ct));
	if (info && (info->flags & PINHOLE_CT_ENCRYPTED))
		ftp_session_set_encrypted(session);
	else
		ftp_session_pickup(session);
	spin_unlock_bh(&ct->lock);
	return 0;
}

static struct nf_conntrack_expect_policy pinhole_expect_policy = {
	.max_expected = PINHOLE_MAX_PINHOLES_LIMIT,
	.name = "ftp-data",
};

static struct nf_conntrack_helper pinhole_helpers[2] __read_mostly;
/* What conntrack holds: the above, or its copies of them (compat.h). */
static struct nf_conntrack_helper *pinhole_registered[2] __read_mostly;

static void pinhole_helper_init(struct nf_conntrack_helper *helper,
				u16 l3num, const char *name)
{
	/*
	 * Port 0: helpers are attached explicitly by the ruleset since 6.0,
	 * so the tuple serves only to detect clashes, and 0 never clashes
	 * with the stock helper's port 21.
	 */
	nf_ct_helper_init(helper, l3num, IPPROTO_TCP, name, 0, 0, 0,
			  &pinhole_expect_policy, 0, pinhole_help, NULL,
			  THIS_MODULE);
	helper->to_nlattr = pinhole_to_nlattr;
	helper->from_nlattr = pinhole_from_nlattr;
}

unsigned int pinhole_policy_timeout(void)
{
	return pinhole_expect_policy.timeout;
}

bool pinhole_helper_is_ours(const struct nf_conntrack_helper *helper)
{
	return helper && (helper == pinhole_registered[0] ||
			  helper == pinhole_registered[1]);
}

/*
 * @name travels with every replicated session: conntrackd (1.4.7) drops a
 * synced entry whose helper name is longer than 11 characters as
 * malformed (NTA_HELPER_NAME's limit is NFCT_HELPER_NAME_MAX, 16, with its
 * 4-byte header and the NUL), and the backup firewall then has no session.
 * PINHOLE_HELPER_NAME, "pinhole-ftp", is exactly 11: never lengthen it.
 */
int pinhole_helpers_register(const char *name)
{
	int ret;

	NF_CT_HELPER_BUILD_BUG_ON(sizeof(struct ftp_session));
	pinhole_expect_policy.timeout = pinhole_default_policy.timeout;
	pinhole_helper_init(&pinhole_helpers[0], AF_INET, name);
	pinhole_helper_init(&pinhole_helpers[1], AF_INET6, name);
	ret = pinhole_ct_helpers_register(pinhole_helpers, pinhole_registered,
					  ARRAY_SIZE(pinhole_helpers));
	if (ret == -EBUSY)
		pr_err("a conntrack helper named \"%s\" is already registered%s\n",
		       name, strcmp(name, "ftp") ? "" :
		       ": unload the stock one first (modprobe -r nf_nat_ftp nf_conntrack_ftp) or load with helper_name=" PINHOLE_HELPER_NAME);
	return ret;
}

/* An expectation that points into this module: its helper or expectfn. */
static bool pinhole_expect_left_behind(struct nf_conntrack_expect *exp,
				       void *data)
{
	return pinhole_helper_is_ours(rcu_access_pointer(exp->helper)) ||
	       pinhole_expect_has_our_fn(exp);
}

/*
 * nf_conntrack_helper_unregister() sweeps the helper's expectations and
 * only then detaches it from every session; in between, segments of live
 * sessions still reach pinhole_help() and can insert pinholes that name
 * the helper (exp->helper) and our expectfn. Under load one survives, and
 * the next /proc/net/nf_conntrack_expect read or data connection follows
 * a pointer into the unloaded module (found by make stress on 6.1.192).
 * Once unregistering returns, no session has the helper and no help() is
 * running: sweep again, and wait for readers that already hold one of
 * those expectations before the module's text goes away.
 */
void pinhole_helpers_unregister(void)
{
	pinhole_ct_helpers_unregister(pinhole_registered,
				      ARRAY_SIZE(pinhole_registered));
	nf_ct_expect_iterate_destroy(pinhole_expect_left_behind, NULL);
	synchronize_rcu();
}
