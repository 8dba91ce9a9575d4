// SPDX-License-Identifier: GPL-2.0
/*
 * Opening a pinhole: one conntrack expectation for exactly the negotiated
 * data connection, from the other peer (any source port) to the announced
 * address and port, living at most the namespace's timeout, and never more
 * of them per session than its max_pinholes.
 *
 * Locks. nf_conntrack_expect_lock is global, and the kernel's API takes it
 * inside nf_ct_expect_related(): that is once per announcement. We take it
 * a second time only when there is something to do under it - the session
 * went over max_pinholes, the kernel could not be given the lifetime in
 * advance (timer-based expectations), a stale pinhole of another session
 * holds the port, or a NAT rewrite failed and the pinhole is withdrawn.
 */
#include <linux/kernel.h>
#include <net/netfilter/nf_conntrack_core.h>
#include <net/netfilter/nf_conntrack_expect.h>
#include <net/netfilter/nf_conntrack_helper.h>

#include "compat.h"
#include "pinhole.h"

/*
 * The expectfn of every pinhole without NAT. The data connection needs
 * nothing done to it; the function marks the expectation as pinhole's own,
 * which ctnetlink cannot forge (it only sets expectfns registered by name).
 */
void pinhole_expectfn(struct nf_conn *new, struct nf_conntrack_expect *exp)
{
}

/* Does @exp call into this module when its data connection arrives? */
bool pinhole_expect_has_our_fn(const struct nf_conntrack_expect *exp)
{
	return exp->expectfn == pinhole_expectfn ||
	       exp->expectfn == pinhole_nat_expectfn;
}

static bool pinhole_expect_is_ours(const struct nf_conntrack_expect *exp)
{
	return pinhole_expect_has_our_fn(exp) &&
	       !(exp->flags & (NF_CT_EXPECT_PERMANENT | NF_CT_EXPECT_USERSPACE));
}

/* The newest expectation is at the head of the master's list. */
static struct nf_conntrack_expect *pinhole_oldest(struct nf_conn_help *help)
{
	struct nf_conntrack_expect *exp, *oldest = NULL;

	lockdep_assert_held(&nf_conntrack_expect_lock);
	hlist_for_each_entry(exp, &help->expectations, lnode)
		oldest = exp;
	return oldest;
}

static bool pinhole_expect_linked(struct nf_conn_help *help,
				  const struct nf_conntrack_expect *exp)
{
	struct nf_conntrack_expect *i;

	lockdep_assert_held(&nf_conntrack_expect_lock);
	hlist_for_each_entry(i, &help->expectations, lnode)
		if (i == exp)
			return true;
	return false;
}

/*
 * A later PORT or PASV supersedes an earlier one (RFC 959), so a session
 * over its limit loses its oldest pinholes. Each is counted in
 * refused_limit_reached unless it had expired anyway. Every iteration
 * unlinks one expectation or stops, so this always terminates.
 */
static unsigned int pinhole_trim(struct nf_conn_help *help,
				 unsigned int max_pinholes)
{
	struct nf_conntrack_expect *oldest;
	unsigned int evicted = 0;
	bool live;

	lockdep_assert_held(&nf_conntrack_expect_lock);
	while (help->expecting[NF_CT_EXPECT_CLASS_DEFAULT] > max_pinholes) {
		oldest = pinhole_oldest(help);
		if (!oldest)
			break;
		live = !pinhole_expect_expired(oldest);
		if (!pinhole_expect_unlink(oldest))
			break;
		evicted += live;
	}
	return evicted;
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
	exp->expectfn = pinhole_expectfn;
	return exp;
}

/*
 * Give @exp the namespace's lifetime before it is inserted, where the
 * kernel allows; pinhole_expect_inserted() finishes the job.
 */
u32 pinhole_expect_preset(struct nf_conntrack_expect *exp,
			  const struct pinhole_policy *policy)
{
	return pinhole_expect_preset_timeout(exp, READ_ONCE(policy->timeout),
					     pinhole_policy_timeout());
}

/*
 * Bookkeeping once @exp is in the table (ret 0) or was refused by it. The
 * session is brought back within max_pinholes after the insertion, under
 * the same lock that sets a lifetime the preset could not, so that two
 * announcements racing on two CPUs (one per direction) can never leave it
 * above the limit: each checks after its own insertion.
 */
void pinhole_expect_inserted(struct nf_conntrack_expect *exp, int ret,
			     u32 deadline, const struct pinhole_policy *policy,
			     struct pinhole_net *pn)
{
	struct nf_conn_help *help = nfct_help(exp->master);
	unsigned int max = READ_ONCE(policy->max_pinholes), evicted = 0;
	bool timed = pinhole_expect_timeout_is(exp, deadline);

	if (ret) {
		pinhole_count(pn, PINHOLE_CNT_alloc_failures);
		return;
	}
	pinhole_count(pn, PINHOLE_CNT_pinholes_opened);
	if (timed && READ_ONCE(help->expecting[NF_CT_EXPECT_CLASS_DEFAULT]) <= max)
		return;
	spin_lock_bh(&nf_conntrack_expect_lock);
	if (!timed && pinhole_expect_linked(help, exp))
		pinhole_expect_set_timeout(exp, READ_ONCE(policy->timeout));
	evicted = pinhole_trim(help, max);
	spin_unlock_bh(&nf_conntrack_expect_lock);
	while (evicted--)
		pinhole_count(pn, PINHOLE_CNT_refused_limit_reached);
}

/*
 * Take an inserted expectation out again, now, if it is still there: in
 * the meantime it may have been used, evicted by the other direction,
 * flushed over ctnetlink, or removed with its master.
 */
void pinhole_expect_remove(struct nf_conntrack_expect *exp)
{
	struct nf_conn_help *help = nfct_help(exp->master);

	pinhole_test_window(remove);
	spin_lock_bh(&nf_conntrack_expect_lock);
	if (pinhole_expect_linked(help, exp))
		pinhole_expect_unlink(exp);
	spin_unlock_bh(&nf_conntrack_expect_lock);
}

/*
 * A host that announces its own port again has no use left for an unused
 * pinhole an earlier session opened to exactly that port from exactly the
 * same peer: the port was free to be announced again (a client that gave
 * up after PASV, with a server whose passive range is small, meets this
 * within seconds). That pinhole is superseded instead of refusing the new
 * one - only if it is pinhole's own: never another helper's, one created
 * over ctnetlink, or a permanent one. Anything else - another mask, class
 * or zone - still clashes.
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
	stale = pinhole_expect_is_ours(old) && old->master != ct &&
		old->class == exp->class &&
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

/*
 * The server answered 4xx/5xx to the PORT/EPRT whose pinhole is @ct's
 * newest active one (an active pinhole expects the server, the source of
 * the reply direction, and list order is newest first). Nobody will use
 * it, and the client chose it: withdraw it now rather than at the timeout.
 * False when it is gone already (used, evicted, flushed).
 */
bool pinhole_withdraw_active(struct nf_conn *ct)
{
	const union nf_inet_addr *server = &ct->tuplehash[IP_CT_DIR_REPLY].tuple.src.u3;
	struct nf_conn_help *help = nfct_help(ct);
	struct nf_conntrack_expect *exp;
	bool withdrawn = false;

	spin_lock_bh(&nf_conntrack_expect_lock);
	hlist_for_each_entry(exp, &help->expectations, lnode) {
		if (!pinhole_expect_is_ours(exp) ||
		    !nf_inet_addr_cmp(&exp->tuple.src.u3, server))
			continue;
		withdrawn = pinhole_expect_unlink(exp);
		break;
	}
	spin_unlock_bh(&nf_conntrack_expect_lock);
	return withdrawn;
}

/*
 * The pinholes of @net waiting for their data connection, for the
 * pinholes_open gauge: a walk of the expectation table when it is read.
 */
unsigned int pinhole_expect_count(const struct net *net)
{
	struct nf_conntrack_expect *exp;
	unsigned int i, count = 0;

	rcu_read_lock();
	for (i = 0; i < nf_ct_expect_hsize; i++)
		hlist_for_each_entry_rcu(exp, &nf_ct_expect_hash[i], hnode)
			count += net_eq(nf_ct_exp_net(exp), net) &&
				 pinhole_expect_is_ours(exp);
	rcu_read_unlock();
	return count;
}

/* @own: @daddr is the announcer's own address (not a third party's). */
int pinhole_open(struct nf_conn *ct, enum ip_conntrack_dir dir,
		 const union nf_inet_addr *daddr, u16 port, bool own,
		 const struct pinhole_policy *policy, struct pinhole_net *pn)
{
	struct nf_conntrack_expect *exp;
	u32 deadline;
	int ret;

	exp = pinhole_expect_prepare(ct, dir, daddr, port, pn);
	if (!exp)
		return -ENOMEM;
	deadline = pinhole_expect_preset(exp, policy);
	pinhole_test_window(insert);
	ret = nf_ct_expect_related(exp, 0);
	if (ret == -EBUSY && own && pinhole_supersede(ct, exp, pn))
		ret = nf_ct_expect_related(exp, 0);
	pinhole_expect_inserted(exp, ret, deadline, policy, pn);
	nf_ct_expect_put(exp);
	return ret;
}
