/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every difference between kernel versions lives here, so that the logic
 * never tests a version. The PINHOLE_HAVE_* symbols come from feature
 * probes in module/Kbuild that look for the API in the target's headers.
 */
#ifndef PINHOLE_COMPAT_H
#define PINHOLE_COMPAT_H

#include <linux/sysctl.h>
#include <linux/timer.h>
#include <net/net_namespace.h>
#include <net/netfilter/nf_conntrack_core.h>
#include <net/netfilter/nf_conntrack_expect.h>

/* 6.11 made the ctl_table passed to proc handlers const. */
#ifdef PINHOLE_HAVE_CONST_CTL_HANDLER
#define pinhole_ctl_table const struct ctl_table
#else
#define pinhole_ctl_table struct ctl_table
#endif

/*
 * 6.6 added register_net_sysctl_sz() and turned register_net_sysctl() into
 * a macro taking ARRAY_SIZE() of its argument, which a table allocated per
 * namespace is not. @entries excludes the terminating empty entry.
 */
static inline struct ctl_table_header *
pinhole_register_net_sysctl(struct net *net, const char *path,
			    struct ctl_table *table, size_t entries)
{
#ifdef PINHOLE_HAVE_REGISTER_NET_SYSCTL_SZ
	return register_net_sysctl_sz(net, path, table, entries);
#else
	return register_net_sysctl(net, path, table);
#endif
}

/*
 * An expectation's lifetime. Older kernels run a timer per expectation
 * (insertion sets its expiry outright, ctnetlink re-arms it); newer ones,
 * and Debian's 6.1 and 6.12 stable kernels, keep a jiffies32 deadline that
 * nf_ct_expect_alloc() sets to "now" and insertion advances by the helper
 * policy's timeout, and that garbage collection checks.
 */

/*
 * Before insertion, no lock: aim @exp's deadline at @seconds from now when
 * insertion will add @policy_seconds. Returns the deadline aimed at, for
 * pinhole_expect_timeout_is(); 0 where a timer makes this impossible.
 */
static inline u32 pinhole_expect_preset_timeout(struct nf_conntrack_expect *exp,
						unsigned int seconds,
						unsigned int policy_seconds)
{
#ifdef PINHOLE_HAVE_EXPECT_TIMER
	return 0;
#else
	u32 now = nfct_time_stamp;

	exp->timeout = now + (seconds - policy_seconds) * HZ;
	return now + seconds * HZ;
#endif
}

/* After insertion: did the preset deadline survive it? Lockless read. */
static inline bool pinhole_expect_timeout_is(const struct nf_conntrack_expect *exp,
					     u32 deadline)
{
#ifdef PINHOLE_HAVE_EXPECT_TIMER
	return false;
#else
	return deadline && READ_ONCE(exp->timeout) == deadline;
#endif
}

/* Change an inserted expectation's lifetime. */
static inline void pinhole_expect_set_timeout(struct nf_conntrack_expect *exp,
					      unsigned int seconds)
{
	lockdep_assert_held(&nf_conntrack_expect_lock);
#ifdef PINHOLE_HAVE_EXPECT_TIMER
	if (del_timer(&exp->timeout)) {
		exp->timeout.expires = jiffies + seconds * HZ;
		add_timer(&exp->timeout);
	}
#else
	WRITE_ONCE(exp->timeout, nfct_time_stamp + seconds * HZ);
#endif
}

/* Past its lifetime but still linked (garbage collection has not run)? */
static inline bool pinhole_expect_expired(const struct nf_conntrack_expect *exp)
{
	lockdep_assert_held(&nf_conntrack_expect_lock);
#ifdef PINHOLE_HAVE_EXPECT_TIMER
	return !timer_pending(&exp->timeout);
#else
	return nf_ct_exp_is_expired(exp);
#endif
}

/*
 * Unlink @exp, which the caller found on its master's list under
 * nf_conntrack_expect_lock, dropping the tables' reference; false when it
 * is already on its way out (its timer fired). nf_ct_unexpect_related() is
 * no substitute: where expectations have no timer it only marks them dead
 * and leaves them counted until garbage collection runs. Neither is
 * nf_ct_unlink_expect() on an expectation that may be unlinked already:
 * without a timer nothing guards a second hlist_del_rcu().
 */
static inline bool pinhole_expect_unlink(struct nf_conntrack_expect *exp)
{
	lockdep_assert_held(&nf_conntrack_expect_lock);
#ifdef PINHOLE_HAVE_EXPECT_TIMER
	if (!del_timer(&exp->timeout))
		return false;
	nf_ct_unlink_expect(exp);
	nf_ct_expect_put(exp);
#else
	nf_ct_unlink_expect(exp);
#endif
	return true;
}

/*
 * End @exp's life now. The caller holds nf_conntrack_expect_lock and a
 * reference; @exp may already be unlinked. With a timer it is unlinked at
 * once if still pending; without one it expires, and the insertion check
 * that meets it next (the one that clashed with it) unlinks it.
 */
static inline void pinhole_expect_expire(struct nf_conntrack_expect *exp)
{
	lockdep_assert_held(&nf_conntrack_expect_lock);
#ifdef PINHOLE_HAVE_EXPECT_TIMER
	pinhole_expect_unlink(exp);
#else
	WRITE_ONCE(exp->timeout, nfct_time_stamp);
#endif
}

#endif /* PINHOLE_COMPAT_H */
