// SPDX-License-Identifier: GPL-2.0
/*
 * NAT. When the control connection is translated, a peer announces its
 * inside view of itself: the address and port in PORT, EPRT, 227 and 229
 * must become what the other peer can reach. The pinhole is registered for
 * that outside view, with nf_nat_follow_master() translating the data
 * connection the way its master is translated, and the announcing text in
 * the segment is rewritten; nf_nat_mangle_tcp_packet() keeps the TCP
 * sequence numbers consistent through seqadj.
 *
 * A line that cannot be rewritten - it began in an earlier segment, or a
 * second length change in one segment, which seqadj cannot express - is
 * left exactly as it is, gets no pinhole, and is counted.
 *
 * A rewritten segment that is lost is retransmitted with the original
 * text, and seqadj already shifts everything after it by the first
 * rewrite's length change: passed as it is, it would corrupt the stream
 * and hand the peer an inside address. pinhole_nat_replay() rewrites the
 * retransmission exactly as the first transmission was rewritten.
 */
#include <linux/inet.h>
#include <linux/kernel.h>
#include <linux/skbuff.h>
#include <net/netfilter/nf_conntrack_expect.h>
#include <net/netfilter/nf_conntrack_helper.h>
#include <net/netfilter/nf_nat.h>
#include <net/netfilter/nf_nat_helper.h>
#include <net/netfilter/nf_conntrack_ecache.h>
#include <net/netfilter/nf_conntrack_seqadj.h>

#include "compat.h"
#include "pinhole.h"

#define PINHOLE_NAT_TEXT_MAX	(sizeof("2||65535") + INET6_ADDRSTRLEN)

bool pinhole_nat_active(const struct nf_conn *ct)
{
	return ct->status & IPS_NAT_MASK;
}

/* The data connection is translated the way its master is. */
void pinhole_nat_expectfn(struct nf_conn *new, struct nf_conntrack_expect *exp)
{
	nf_nat_follow_master(new, exp);
}

/*
 * Which way a replicated pinhole's data connection runs, as
 * pinhole_nat_open() records it in exp->dir: opposite to its announcer,
 * the peer whose outside address the pinhole expects.
 */
static int pinhole_nat_adopted_dir(const struct nf_conn *ct,
				   const struct nf_conntrack_expect *exp)
{
	const union nf_inet_addr *client_outside =
		&ct->tuplehash[IP_CT_DIR_REPLY].tuple.dst.u3;
	const union nf_inet_addr *server_outside =
		&ct->tuplehash[IP_CT_DIR_ORIGINAL].tuple.dst.u3;

	if (nf_inet_addr_cmp(&exp->tuple.dst.u3, client_outside))
		return IP_CT_DIR_REPLY;
	if (nf_inet_addr_cmp(&exp->tuple.dst.u3, server_outside))
		return IP_CT_DIR_ORIGINAL;
	return -1;
}

/*
 * A firewall that took a translated session over (conntrackd, after a
 * failover) got its pinholes over ctnetlink without their translation:
 * conntrackd carries an expectation's NAT data and function, but
 * libnetfilter_conntrack (1.0.9) writes neither into the kernel. Such a
 * pinhole would admit the data connection untranslated, to the firewall's
 * own outside address. Give each the translation pinhole_nat_open() gives:
 * its master's, to the port it expects (the announced port, which pinhole
 * keeps whenever it is free on the outside: a port it had to change is
 * lost with the NAT data, and that data connection fails). Called at the
 * session's first segment on this firewall, before the peers can have
 * used a pinhole of its transfers: the data connection of a negotiated
 * transfer follows its RETR/STOR/LIST.
 */
void pinhole_nat_adopt(struct nf_conn *ct)
{
	struct nf_conn_help *help = nfct_help(ct);
	struct nf_conntrack_expect *exp;
	int dir;

	spin_lock_bh(&nf_conntrack_expect_lock);
	hlist_for_each_entry(exp, &help->expectations, lnode) {
		if (exp->expectfn || (exp->flags & NF_CT_EXPECT_PERMANENT) ||
		    !pinhole_helper_is_ours(rcu_access_pointer(exp->helper)))
			continue;
		dir = pinhole_nat_adopted_dir(ct, exp);
		if (dir < 0)
			continue;
		exp->saved_proto.tcp.port = exp->tuple.dst.u.tcp.port;
		exp->dir = dir;
		exp->expectfn = pinhole_nat_expectfn;
	}
	spin_unlock_bh(&nf_conntrack_expect_lock);
}

/* EPRT keeps the delimiter the client chose: the byte before the text. */
static bool pinhole_eprt_delimiter(const struct pinhole_segment *seg,
				   const struct ftp_offer *offer, char *delim)
{
	const char *p;

	if (!offer->text_start)
		return false;
	p = skb_header_pointer(seg->skb, seg->dataoff + offer->text_start - 1,
			       1, delim);
	if (!p)
		return false;
	*delim = *p;
	return true;
}

static int pinhole_nat_format(const struct pinhole_segment *seg,
			      const struct ftp_offer *offer, char *text,
			      const union nf_inet_addr *addr, u16 port)
{
	const u8 *ip = (const u8 *)&addr->ip;
	char d;

	switch (offer->kind) {
	case FTP_OFFER_PORT:
	case FTP_OFFER_227:
		return snprintf(text, PINHOLE_NAT_TEXT_MAX, "%u,%u,%u,%u,%u,%u",
				ip[0], ip[1], ip[2], ip[3], port >> 8,
				port & 0xff);
	case FTP_OFFER_EPRT:
		if (!pinhole_eprt_delimiter(seg, offer, &d))
			return -EINVAL;
		if (nf_ct_l3num(seg->ct) == AF_INET)
			return snprintf(text, PINHOLE_NAT_TEXT_MAX,
					"1%c%pI4%c%u", d, &addr->ip, d, port);
		return snprintf(text, PINHOLE_NAT_TEXT_MAX, "2%c%pI6c%c%u",
				d, &addr->in6, d, port);
	case FTP_OFFER_229:
		return snprintf(text, PINHOLE_NAT_TEXT_MAX, "%u", port);
	default:
		return -EINVAL;
	}
}

/*
 * Did seqadj record a length change at this segment's first byte, i.e. is
 * this (a retransmission of) the segment NAT rewrote last? Takes ct->lock.
 */
static bool pinhole_nat_change_at(const struct pinhole_segment *seg,
				  s32 *delta)
{
	struct nf_conn_seqadj *seqadj = nfct_seqadj(seg->ct);
	const struct tcphdr *th;
	struct nf_ct_seqadj *way;
	struct tcphdr _th;
	bool at;

	th = skb_header_pointer(seg->skb, seg->protoff, sizeof(_th), &_th);
	if (!seqadj || !th)
		return false;
	spin_lock_bh(&seg->ct->lock);
	way = &seqadj->seq[seg->dir];
	at = way->correction_pos == ntohl(th->seq);
	*delta = way->offset_after - way->offset_before;
	spin_unlock_bh(&seg->ct->lock);
	return at;
}

bool pinhole_nat_rewritten_at(const struct pinhole_segment *seg)
{
	s32 delta;

	return pinhole_nat_change_at(seg, &delta) && delta;
}

/*
 * A length change is only repeated where seqadj recorded that very change
 * at this segment's first byte; elsewhere the rewrite would shift the
 * stream a second time.
 */
static bool pinhole_nat_seqadj_at(const struct pinhole_segment *seg, s32 delta)
{
	s32 recorded;

	if (!delta)
		return true;
	return pinhole_nat_change_at(seg, &recorded) && recorded == delta;
}

/*
 * Replace the offer's text in the segment. A retransmission (@again) may
 * only repeat the length change seqadj recorded at its first byte.
 */
static bool pinhole_nat_rewrite(struct pinhole_segment *seg,
				const struct ftp_offer *offer,
				const union nf_inet_addr *addr, u16 port, bool again)
{
	u32 old_len = offer->text_end - offer->text_start;
	char text[PINHOLE_NAT_TEXT_MAX];
	int len;

	if (!offer->text_in_segment || seg->rewritten)
		return false;
	len = pinhole_nat_format(seg, offer, text, addr, port);
	if (len <= 0 || len >= sizeof(text))
		return false;
	if (again && !pinhole_nat_seqadj_at(seg, len - old_len))
		return false;
	if (!nf_nat_mangle_tcp_packet(seg->skb, seg->ct, seg->ctinfo,
				      seg->protoff, offer->text_start,
				      old_len, text, len))
		return false;
	/*
	 * The kernel raises no conntrack event for the sequence adjustment
	 * just recorded. conntrackd replicates a session on its events: a
	 * backup firewall that never learnt the adjustment would shift
	 * every later byte of the session after a failover.
	 */
	if (len != old_len)
		nf_conntrack_event_cache(IPCT_SEQADJ, seg->ct);
	seg->rewritten = true;
	return true;
}

/*
 * Does the announced address differ from the announcer's outside one?
 * Not when NAT leaves addresses alone, nor when the announcer knows its
 * outside address and announced that (a server's pasv_address behind a
 * port-forward, a client behind SNAT). A 229 names no address.
 */
static bool pinhole_nat_translates(const struct pinhole_segment *seg,
				   const struct ftp_offer *offer)
{
	return offer->kind != FTP_OFFER_229 &&
	       !pinhole_offer_names_peer(offer, pinhole_announcer_outside(seg),
					 nf_ct_l3num(seg->ct));
}

static bool pinhole_nat_rewritable(const struct pinhole_segment *seg,
				   const struct ftp_offer *offer)
{
	return offer->text_in_segment && !seg->rewritten;
}

/* True when a pinhole is open for @offer. */
bool pinhole_nat_open(struct pinhole_segment *seg,
		      const struct ftp_offer *offer)
{
	const union nf_inet_addr *outside =
		&seg->ct->tuplehash[!seg->dir].tuple.dst.u3;
	const struct pinhole_policy *policy = &seg->pn->policy;
	/* otherwise only a changed port needs rewriting */
	bool translates = pinhole_nat_translates(seg, offer);
	struct nf_conntrack_expect *exp;
	u32 deadline;
	u16 port;

	if (translates && !pinhole_nat_rewritable(seg, offer))
		goto unrewritable;
	exp = pinhole_expect_prepare(seg->ct, seg->dir, outside, offer->port,
				     seg->pn);
	if (!exp)
		return false;
	exp->saved_proto.tcp.port = htons(offer->port);
	exp->dir = !seg->dir;
	exp->expectfn = pinhole_nat_expectfn;
	deadline = pinhole_expect_preset(exp, policy);
	port = nf_nat_exp_find_port(exp, offer->port);
	pinhole_expect_inserted(exp, port ? 0 : -EBUSY, deadline, policy,
				seg->pn);
	if (port && (translates || port != offer->port) &&
	    !pinhole_nat_rewrite(seg, offer, outside, port, false)) {
		pinhole_expect_remove(exp);
		nf_ct_expect_put(exp);
		goto unrewritable;
	}
	nf_ct_expect_put(exp);
	return port;

unrewritable:
	pinhole_count(seg->pn, PINHOLE_CNT_nat_unrewritable);
	return false;
}

/*
 * The port the first transmission announced: its pinhole's, if it is still
 * waiting; else the offered one, which nf_nat_exp_find_port() tries first.
 */
static u16 pinhole_nat_replay_port(const struct pinhole_segment *seg,
				   const struct ftp_offer *offer)
{
	struct nf_conn_help *help = nfct_help(seg->ct);
	struct nf_conntrack_expect *exp;
	u16 port = offer->port;

	if (!help)
		return port;
	spin_lock_bh(&nf_conntrack_expect_lock);
	hlist_for_each_entry(exp, &help->expectations, lnode) {
		if (exp->dir != !seg->dir ||
		    ntohs(exp->saved_proto.tcp.port) != offer->port)
			continue;
		port = ntohs(exp->tuple.dst.u.tcp.port);
		break;
	}
	spin_unlock_bh(&nf_conntrack_expect_lock);
	return port;
}

void pinhole_nat_replay(struct pinhole_segment *seg,
			const struct ftp_offer *offer)
{
	const union nf_inet_addr *outside =
		&seg->ct->tuplehash[!seg->dir].tuple.dst.u3;
	bool translates = pinhole_nat_translates(seg, offer);
	u16 port;

	if (!pinhole_offer_is_own(seg, offer))
		return;
	port = pinhole_nat_replay_port(seg, offer);
	if (!translates && port == offer->port)
		return;		/* the first transmission passed unchanged */
	if (!pinhole_nat_rewrite(seg, offer, outside, port, true)) {
		pinhole_count(seg->pn, PINHOLE_CNT_nat_unrewritable);
		return;
	}
	pinhole_count(seg->pn, PINHOLE_CNT_nat_rewritten_again);
}
