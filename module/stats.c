// SPDX-License-Identifier: GPL-2.0
/*
 * Counters, per network namespace and per CPU so the packet path never
 * shares a cache line, summed when /proc/net/pinhole_ftp is read; then the
 * gauges, counted at that moment by walking the conntrack and expectation
 * tables of the namespace (nothing in the packet path keeps them).
 */
#include <linux/percpu.h>
#include <linux/proc_fs.h>
#include <linux/seq_file.h>
#include <net/netfilter/nf_conntrack_helper.h>

#include "pinhole.h"

static const char *const pinhole_counter_names[] = {
#define PINHOLE_COUNTER_NAME(name, desc) #name,
	PINHOLE_COUNTERS(PINHOLE_COUNTER_NAME)
#undef PINHOLE_COUNTER_NAME
};

static u64 pinhole_counter_sum(const struct pinhole_net *pn,
			       enum pinhole_counter counter)
{
	u64 sum = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		sum += per_cpu_ptr(pn->counters, cpu)->count[counter];
	return sum;
}

/* Counts, never deletes: nf_ct_iterate_cleanup_net() kills only on true. */
static int pinhole_count_session(struct nf_conn *ct, void *data)
{
	const struct nf_conn_help *help = nfct_help(ct);
	unsigned int *sessions = data;

	if (help && pinhole_is_control(ct) &&
	    pinhole_helper_is_ours(rcu_access_pointer(help->helper)))
		(*sessions)++;
	return 0;
}

static unsigned int pinhole_sessions_open(struct net *net)
{
	unsigned int sessions = 0;
	struct nf_ct_iter_data walk = {
		.net = net,
		.data = &sessions,
	};

	nf_ct_iterate_cleanup_net(pinhole_count_session, &walk);
	return sessions;
}

static int pinhole_stats_show(struct seq_file *seq, void *v)
{
	struct net *net = seq_file_single_net(seq);
	const struct pinhole_net *pn = pinhole_net(net);
	int i;

	for (i = 0; i < PINHOLE_CNT_MAX; i++)
		seq_printf(seq, "%s %llu\n", pinhole_counter_names[i],
			   pinhole_counter_sum(pn, i));
	seq_printf(seq, "sessions_open %u\n", pinhole_sessions_open(net));
	seq_printf(seq, "pinholes_open %u\n", pinhole_expect_count(net));
	return 0;
}

int pinhole_stats_init(struct net *net, struct pinhole_net *pn)
{
	pn->counters = alloc_percpu(struct pinhole_counters);
	if (!pn->counters)
		return -ENOMEM;
	if (!proc_create_net_single(PINHOLE_PROC_NAME, 0444, net->proc_net,
				    pinhole_stats_show, NULL))
		goto err_proc;
	return 0;

err_proc:
	free_percpu(pn->counters);
	return -ENOMEM;
}

void pinhole_stats_exit(struct net *net, struct pinhole_net *pn)
{
	remove_proc_entry(PINHOLE_PROC_NAME, net->proc_net);
	free_percpu(pn->counters);
}
