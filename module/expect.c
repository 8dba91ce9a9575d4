// SPDX-License-Identifier: GPL-2.0
/*
 * Opening a pinhole: one conntrack expectation for exactly the negotiated
 * data connection, from the other peer (any source port) to the announced
 * address and port, living at most the namespace's timeout, and never more
 * of them per session than its max_pinholes.
 */
#include <linux/kernel.h>
#include <net/netfilter/nf_conntrack_core.h>
#include <net/netfilter/nf_conntrack_expect.h>
#include <net/netfilter/nf_conntrack_helper.h>

#include "compat.h"
#include "pinhole.h"

/* The newest expectation is at the head of the master's list. */
static struct nf_conntrack_expect *pinhole_oldest(struct nf_conn_help *help)
{
	struct nf_conntrack_expect *exp, *oldest = NULL;

	lockdep_assert_held(&nf_conntrack_expect_lock);
	hlist_for_each_entry(exp, &help->expectations, lnode)
		oldest = exp;
	return oldest;
}

/*
 * A later PORT or PASV supersedes an earlier one (RFC 959), so when the
 * session is full its oldest pinhole is closed to make room, as the stock
 * helper does; the counter records that the limit was reached. Every
 * iteration unlinks one expectation or stops, so this always terminates.
 */
static void pinhole_make_room(struct nf_conn *ct, int max_pinholes,
			      struct pinhole_net *pn)
{
	struct nf_conn_help *help = nfct_help(ct);
	struct nf_conntrack_expect *oldest;
	unsigned int evicted = 0;

	spin_lock_bh(&nf_conntrack_expect_lock);
	while (help->expecting[NF_CT_EXPECT_CLASS_DEFAULT] >= max_pinholes) {
		oldest = pinhole_oldest(help);
		if (!oldest || !pinhole_expect_unlink(oldest))
			break;
		evicted++;
	}
	spin_unlock_bh(&nf_conntrack_expect_lock);
	while (evicted--)
		pinhole_count(pn, PINHOLE_CNT_refused_limit_reached);
}

/* The helper's expect policy holds the module default; apply the netns'. */
static void pinhole_set_timeout(struct nf_conntrack_expect *exp, int seconds)
{
	spin_lock_bh(&nf_conntrack_expect_lock);
	pinhole_expect_set_timeout(exp, seconds);
	spin_unlock_bh(&nf_conntrack_expect_lock);
}

/*
 * @dir is the direction of the announcing line: the data connection comes
 * from the other peer, the source of the opposite direction's tuple.
 */
struct nf_conntrack_expect *pinhole_expect_prepare(struct nf_conn *ct,
		enum ip_conntrack_dir dir, const union nf_inet_addr *daddr,
		u16 port, struct pinhole_net *pn)
{
	struct nf_conntrack_expect *exp;
	__be16 dport = htons(port);

	exp = nf_ct_expect_alloc(ct);
	if (!exp) {
		pinhole_count(pn, PINHOLE_CNT_alloc_failures);
		return NULL;
	}
	nf_ct_expect_init(exp, NF_CT_EXPECT_CLASS_DEFAULT, nf_ct_l3num(ct),
			  &ct->tuplehash[!dir].tuple.src.u3, daddr,
			  IPPROTO_TCP, NULL, &dport);
	return exp;
}

/* Bookkeeping once @exp is in the table (ret 0) or was refused by it. */
void pinhole_expect_inserted(struct nf_conntrack_expect *exp, int ret,
			     const struct pinhole_policy *policy,
			     struct pinhole_net *pn)
{
	if (ret) {
		pinhole_count(pn, PINHOLE_CNT_alloc_failures);
		return;
	}
	pinhole_set_timeout(exp, READ_ONCE(policy->timeout));
	pinhole_count(pn, PINHOLE_CNT_pinholes_opened);
}

void pinhole_expect_make_room(struct nf_conn *ct,
			      const struct pinhole_policy *policy,
			      struct pinhole_net *pn)
{
	pinhole_make_room(ct, READ_ONCE(policy->max_pinholes), pn);
}

/*
 * Take an inserted expectation out again, now: nf_ct_unexpect_related()
 * would leave it counted against the session until garbage collection on
 * kernels whose expectations have no timer.
 */
void pinhole_expect_remove(struct nf_conntrack_expect *exp)
{
	spin_lock_bh(&nf_conntrack_expect_lock);
	pinhole_expect_unlink(exp);
	spin_unlock_bh(&nf_conntrack_expect_lock);
}

/*
 * A host that announces its own port again has no use left for an unused
 * pinhole an earlier session opened to exactly that port from exactly the
 * same peer: the port was free to be announced again (a client that gave
 * up after PASV, with a server whose passive range is small, meets this
 * within seconds). That pinhole is superseded instead of refusing the new
 * one. Anything else - another mask, class or zone - still clashes.
 */
static bool pinhole_supersede(struct nf_conn *ct,
			      const struct nf_conntrack_expect *exp,
			      struct pinhole_net *pn)
{
	struct nf_conntrack_expect *old;
	bool stale;

	old = nf_ct_expect_find_get(nf_ct_net(ct), nf_ct_zone(ct), &exp->tuple);
	if (!old)
		return false;
	spin_lock_bh(&nf_conntrack_expect_lock);
	stale = old->master != ct && old->class == exp->class &&
		nf_ct_tuple_equal(&old->tuple, &exp->tuple) &&
		nf_ct_tuple_mask_equal(&old->mask, &exp->mask);
	if (stale)
		pinhole_expect_expire(old);
	spin_unlock_bh(&nf_conntrack_expect_lock);
	nf_ct_expect_put(old);
	if (stale)
		pinhole_count(pn, PINHOLE_CNT_pinholes_superseded);
	return stale;
}

/* @own: @daddr is the announcer's own address (not a third party's). */
int pinhole_open(struct nf_conn *ct, enum ip_conntrack_dir dir,
		 const union nf_inet_addr *daddr, u16 port, bool own,
		 const struct pinhole_policy *policy, struct pinhole_net *pn)
{
	struct nf_conntrack_expect *exp;
	int ret;

	exp = pinhole_expect_prepare(ct, dir, daddr, port, pn);
	if (!exp)
		return -ENOMEM;
	pinhole_expect_make_room(ct, policy, pn);
	ret = nf_ct_expect_related(exp, 0);
	if (ret == -EBUSY && own && pinhole_supersede(ct, exp, pn))
		ret = nf_ct_expect_related(exp, 0);
	pinhole_expect_inserted(exp, ret, policy, pn);
	nf_ct_expect_put(exp);
	return ret;
}
