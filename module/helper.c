// SPDX-License-Identifier: GPL-2.0
/*
 * The conntrack helper: feeds each control segment to the FTP engine under
 * the connection's own lock, judges what it announces against the
 * namespace's policy, then - outside the lock - opens the pinholes it may.
 *
 * There is no global lock here: the stock helper linearises every FTP
 * segment and then parses it under one spinlock shared by the whole system;
 * we parse in place (fragment by fragment in a non-linear skb), under
 * the connection's own lock, and the whole per-session parser state is the
 * 32-byte helper area.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/netfilter.h>
#include <linux/skbuff.h>
#include <linux/tcp.h>
#include <net/netfilter/nf_conntrack.h>
#include <net/netfilter/nf_conntrack_expect.h>
#include <net/netfilter/nf_conntrack_helper.h>
#include <linux/netfilter/nfnetlink_conntrack.h>

#include "pinhole.h"

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
					  &seg->ct->tuplehash[seg->dir].tuple.src.u3,
					  nf_ct_l3num(seg->ct));
	return decision->verdict;
}

static void pinhole_on_offer(void *ctx, const struct ftp_offer *offer)
{
	struct pinhole_segment *seg = ctx;

	pinhole_count(seg->pn, pinhole_line_counters[offer->kind]);
	if (seg->count == PINHOLE_OFFERS_PER_SEGMENT) {
		pinhole_count(seg->pn, PINHOLE_CNT_refused_limit_reached);
		seg->refused++;
		return;
	}
	if (pinhole_decide(seg, offer, false) != PINHOLE_OPEN)
		seg->refused++;
}

static void pinhole_on_note(void *ctx, enum ftp_note note)
{
	struct pinhole_segment *seg = ctx;

	pinhole_count(seg->pn, pinhole_note_counters[note]);
}

static const struct ftp_engine_ops pinhole_engine_ops = {
	.offer = pinhole_on_offer,
	.note = pinhole_on_note,
};

/*
 * Feed bytes [from, to) of the segment's payload to @session where they
 * lie: in the linear head, or fragment by fragment (a GSO segment from a
 * local sender carries up to 64 KB in page fragments) - never copied.
 */
static void pinhole_feed_skb(struct pinhole_segment *seg,
			     struct ftp_session *session,
			     const struct ftp_engine_ops *ops, u32 from, u32 to)
{
	struct sk_buff *skb = seg->skb;
	struct skb_seq_state walk;
	unsigned int consumed = 0, n;
	const u8 *data;

	if (skb_headlen(skb) >= seg->dataoff + to) {
		ftp_stream_feed(session, seg->stream,
				skb->data + seg->dataoff + from, to - from,
				from, ops, seg);
		return;
	}
	skb_prepare_seq_read(skb, seg->dataoff + from, seg->dataoff + to,
			     &walk);
	while ((n = skb_seq_read(consumed, &data, &walk)) != 0) {
		ftp_stream_feed(session, seg->stream, data, n, from + consumed,
				ops, seg);
		consumed += n;
	}
}

/*
 * A retransmission of a segment NAT rewrote must be rewritten the same way,
 * so on a NATed session the bytes the engine skipped as already parsed are
 * parsed again in a scratch copy of the session; only the accepted offers
 * are kept, for pinhole_nat_replay(). Nothing is counted twice.
 */
static void pinhole_on_replay_offer(void *ctx, const struct ftp_offer *offer)
{
	struct pinhole_segment *seg = ctx;

	if (offer->refusal != FTP_ACCEPTED || !offer->text_in_segment ||
	    seg->count == PINHOLE_OFFERS_PER_SEGMENT)
		return;
	pinhole_decide(seg, offer, true);
}

static void pinhole_on_replay_note(void *ctx, enum ftp_note note)
{
}

static const struct ftp_engine_ops pinhole_replay_ops = {
	.offer = pinhole_on_replay_offer,
	.note = pinhole_on_replay_note,
};

static void pinhole_replay(struct pinhole_segment *seg,
			   const struct ftp_session *session, u32 to)
{
	struct ftp_session scratch;

	lockdep_assert_held(&seg->ct->lock);
	ftp_session_replay(&scratch, session, seg->stream);
	pinhole_feed_skb(seg, &scratch, &pinhole_replay_ops, 0, to);
}

/*
 * Parse one segment. With enforce set, a segment carrying a refused line
 * is dropped, so the parser must forget it too: the retransmission will
 * then be judged (and dropped) again instead of passing as old data.
 */
static void pinhole_parse(struct pinhole_segment *seg,
			  const struct tcphdr *th, u32 len)
{
	struct ftp_session *session = pinhole_session(seg->ct);
	struct ftp_session before;
	u32 seq = ntohl(th->seq) + th->syn;
	u32 from;

	spin_lock_bh(&seg->ct->lock);
	if (!nf_ct_is_confirmed(seg->ct))
		ftp_session_init(session, nf_ct_l3num(seg->ct) == AF_INET ?
				 FTP_FAMILY_IPV4 : FTP_FAMILY_IPV6);
	before = *session;
	from = ftp_stream_begin(session, seg->stream, seq, len, th->syn,
				&pinhole_engine_ops, seg);
	if (from && !th->syn && pinhole_nat_active(seg->ct))
		pinhole_replay(seg, &before, min(from, len));
	if (from < len)
		pinhole_feed_skb(seg, session, &pinhole_engine_ops, from, len);
	if (seg->refused && READ_ONCE(seg->pn->policy.enforce))
		*session = before;
	spin_unlock_bh(&seg->ct->lock);
}

static void pinhole_log_refusal(const struct pinhole_segment *seg,
				const struct pinhole_decision *decision)
{
	const struct nf_conntrack_tuple *t =
		&seg->ct->tuplehash[IP_CT_DIR_ORIGINAL].tuple;
	const struct ftp_offer *o = &decision->offer;

	if (!net_ratelimit())
		return;
	if (nf_ct_l3num(seg->ct) == AF_INET)
		pr_info("refused %s %pI4 port %u (%s) in session %pI4:%u -> %pI4:%u\n",
			ftp_offer_kind_name(o->kind), o->addr, o->port,
			pinhole_verdict_name(decision->verdict),
			&t->src.u3.ip, ntohs(t->src.u.tcp.port),
			&t->dst.u3.ip, ntohs(t->dst.u.tcp.port));
	else
		pr_info("refused %s %pI6c port %u (%s) in session [%pI6c]:%u -> [%pI6c]:%u\n",
			ftp_offer_kind_name(o->kind), o->addr, o->port,
			pinhole_verdict_name(decision->verdict),
			t->src.u3.ip6, ntohs(t->src.u.tcp.port),
			t->dst.u3.ip6, ntohs(t->dst.u.tcp.port));
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

/*
 * A third-party address (allowed by policy) is not the announcer's inside
 * view of itself, so NAT has nothing to translate there.
 */
static void pinhole_open_offer(struct pinhole_segment *seg,
			       const struct ftp_offer *offer)
{
	struct nf_conn *ct = seg->ct;
	union nf_inet_addr daddr;
	bool own = pinhole_offer_names_peer(offer,
				&ct->tuplehash[seg->dir].tuple.src.u3,
				nf_ct_l3num(ct));

	if (own && pinhole_nat_active(ct)) {
		pinhole_nat_open(seg, offer);
		return;
	}
	pinhole_data_addr(seg, offer, &daddr);
	pinhole_open(ct, seg->dir, &daddr, offer->port, own, &seg->pn->policy,
		     seg->pn);
}

static void pinhole_act(struct pinhole_segment *seg)
{
	const struct pinhole_decision *decision;
	unsigned int i;

	for (i = 0; i < seg->count; i++) {
		decision = &seg->decisions[i];
		if (decision->replayed) {
			if (decision->verdict == PINHOLE_OPEN)
				pinhole_nat_replay(seg, &decision->offer);
			continue;
		}
		if (decision->verdict == PINHOLE_OPEN) {
			pinhole_open_offer(seg, &decision->offer);
			continue;
		}
		pinhole_count(seg->pn,
			      pinhole_verdict_counter(decision->verdict));
		pinhole_log_refusal(seg, decision);
	}
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

	th = skb_header_pointer(skb, protoff, sizeof(_th), &_th);
	if (!th)
		return NF_ACCEPT;
	dataoff = protoff + th->doff * 4;
	if (dataoff > skb->len || (dataoff == skb->len && !th->syn))
		return NF_ACCEPT;
	seg.dataoff = dataoff;
	pinhole_parse(&seg, th, skb->len - dataoff);
	pinhole_act(&seg);
	if (seg.refused && READ_ONCE(seg.pn->policy.enforce)) {
		pinhole_count(seg.pn, PINHOLE_CNT_dropped);
		return NF_DROP;
	}
	return NF_ACCEPT;
}

/* Exported over ctnetlink as CTA_HELP_INFO for pinholectl. */
static int pinhole_to_nlattr(struct sk_buff *skb, const struct nf_conn *ct)
{
	const struct ftp_session *session = nfct_help_data(ct);
	struct pinhole_ct_info info = {
		.version = PINHOLE_CT_INFO_VERSION,
	};

	if (ftp_session_encrypted(session))
		info.flags |= PINHOLE_CT_ENCRYPTED;
	return nla_put(skb, CTA_HELP_INFO, sizeof(info), &info);
}

static struct nf_conntrack_expect_policy pinhole_expect_policy = {
	.max_expected = PINHOLE_MAX_PINHOLES_LIMIT,
	.name = "ftp-data",
};

static struct nf_conntrack_helper pinhole_helpers[2] __read_mostly;

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
}

int pinhole_helpers_register(const char *name)
{
	int ret;

	NF_CT_HELPER_BUILD_BUG_ON(sizeof(struct ftp_session));
	pinhole_expect_policy.timeout = pinhole_default_policy.timeout;
	pinhole_helper_init(&pinhole_helpers[0], AF_INET, name);
	pinhole_helper_init(&pinhole_helpers[1], AF_INET6, name);
	ret = nf_conntrack_helpers_register(pinhole_helpers,
					    ARRAY_SIZE(pinhole_helpers));
	if (ret == -EBUSY)
		pr_err("a conntrack helper named \"%s\" is already registered%s\n",
		       name, strcmp(name, "ftp") ? "" :
		       ": unload the stock one first (modprobe -r nf_nat_ftp nf_conntrack_ftp) or load with helper_name=" PINHOLE_HELPER_NAME);
	return ret;
}

void pinhole_helpers_unregister(void)
{
	nf_conntrack_helpers_unregister(pinhole_helpers,
					ARRAY_SIZE(pinhole_helpers));
}
