/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every difference between kernel versions lives here, so that the logic
 * never tests a version. The PINHOLE_HAVE_* symbols come from feature
 * probes in module/Kbuild that look for the API in the target's headers.
 *
 * Each probe names the upstream commit that changed the API. Debian's
 * 6.1.0-57 and 6.12.117 (generic and -rt) are compiled and booted here;
 * the other side of each probe is compiled by scripts/compat-probe-test.sh
 * against a copy of the 6.12 headers patched to reproduce the upstream
 * declaration exactly ("probe-tested" below).
 */
#ifndef PINHOLE_COMPAT_H
#define PINHOLE_COMPAT_H

#include <linux/sysctl.h>
#include <linux/timer.h>
#include <net/net_namespace.h>
#include <net/netfilter/nf_conntrack_core.h>
#include <net/netfilter/nf_conntrack_expect.h>
#include <net/netfilter/nf_conntrack_helper.h>
#include <net/netfilter/nf_nat_helper.h>

/*
 * 6.11 made the ctl_table passed to proc handlers const (78eb4ea25cd5
 * "sysctl: treewide: constify the ctl_table argument of proc_handlers").
 * Both sides compiled here: 6.1 without, 6.12 with.
 */
#ifdef PINHOLE_HAVE_CONST_CTL_HANDLER
#define pinhole_ctl_table const struct ctl_table
#else
#define pinhole_ctl_table struct ctl_table
#endif

/*
 * 6.6 added register_net_sysctl_sz() and turned register_net_sysctl() into
 * a macro taking ARRAY_SIZE() of its argument, which a table allocated per
 * namespace is not (95d4977876d6 "sysctl: Add size to
 * register_net_sysctl function", 6.6). Both sides compiled here: 6.1
 * without, 6.12 with.
 * @entries excludes the terminating empty entry.
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
 * del_timer() became timer_delete() in 6.2 (bb663f0f3c39 "timers: Rename
 * del_timer() to timer_delete()", backported to 5.15.y and 6.1.y: Debian's
 * 6.1.0-57 has both), and 6.15 removed the old name (8fa7292fee5c
 * "treewide: Switch/rename to timer_delete[_sync]()"). Probe-tested: the
 * 6.12 headers without timer_delete(), and without del_timer().
 */
static inline int pinhole_timer_delete(struct timer_list *timer)
{
#ifdef PINHOLE_HAVE_TIMER_DELETE
	return timer_delete(timer);
#else
	return del_timer(timer);
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
	if (pinhole_timer_delete(&exp->timeout)) {
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
	if (!pinhole_timer_delete(&exp->timeout))
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

/*
 * nf_nat_exp_find_port() arrived in 6.1 (c92c27171040 "netfilter: nat:
 * move repetitive nat port reserve loop to a helper", bounded to 128
 * attempts by adda60cc2bb0 "netfilter: nat: avoid long-running port range
 * loop"); 5.10, 5.15 and RHEL 9's 5.14 lack it. The fallback registers
 * @exp on @port or, when that is taken, on the ports after it: at most
 * PINHOLE_FIND_PORT_ATTEMPTS tries, each taking the global expectation
 * lock once, never a walk up to 65535 in softirq context (upstream tries
 * random ports after the first; the order does not matter here, the bound
 * does). 0 when no port was free or insertion failed otherwise.
 * Probe-tested: the 6.12 headers without the declaration.
 */
#ifndef PINHOLE_HAVE_NAT_EXP_FIND_PORT
#define PINHOLE_FIND_PORT_ATTEMPTS	128

static inline u16 nf_nat_exp_find_port(struct nf_conntrack_expect *exp,
				       u16 port)
{
	unsigned int attempts;
	int ret;

	for (attempts = 0; port && attempts < PINHOLE_FIND_PORT_ATTEMPTS;
	     attempts++, port++) {
		exp->tuple.dst.u.tcp.port = htons(port);
		ret = nf_ct_expect_related(exp, 0);
		if (!ret)
			return port;
		if (ret != -EBUSY)
			break;
	}
	return 0;
}
#endif

/*
 * Registering the helpers. Since net-next 6031487d4e27 ("netfilter:
 * nf_conntrack_helper: dynamically allocate struct nf_conntrack_helper",
 * mainline 7.2, backported to 7.1.y) nf_conntrack_helpers_register() takes
 * the helpers as templates: it registers a copy of each that it allocates
 * and returns the copies in its third argument, and unregistering takes
 * those. Before, the templates themselves were registered. @registered
 * receives what conntrack holds either way: what exp->helper and
 * help->helper are compared against. Probe-tested: the 6.12 headers with
 * that commit's declarations.
 */
static inline int pinhole_ct_helpers_register(struct nf_conntrack_helper *tmpl,
					      struct nf_conntrack_helper **registered,
					      unsigned int n)
{
#ifdef PINHOLE_HAVE_HELPERS_REGISTER_PTR
	return nf_conntrack_helpers_register(tmpl, n, registered);
#else
	unsigned int i;
	int ret;

	ret = nf_conntrack_helpers_register(tmpl, n);
	for (i = 0; !ret && i < n; i++)
		registered[i] = &tmpl[i];
	return ret;
#endif
}

/*
 * Unregister what pinhole_ct_helpers_register() registered, last first, as
 * nf_conntrack_helpers_unregister() does on either side of 6031487d4e27;
 * nf_conntrack_helper_unregister() takes the registered helper on both.
 * Unlike the new nf_conntrack_helpers_unregister(), @registered keeps its
 * pointers, for the caller's sweep of expectations left behind (compared,
 * never followed: after 6031487d4e27 they point to freed memory).
 */
static inline void pinhole_ct_helpers_unregister(struct nf_conntrack_helper *const *registered,
						 unsigned int n)
{
	while (n-- > 0)
		nf_conntrack_helper_unregister(registered[n]);
}

#endif /* PINHOLE_COMPAT_H */
