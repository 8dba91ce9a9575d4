// SPDX-License-Identifier: GPL-2.0
/*
 * Policy knobs under net.netfilter.pinhole_ftp, one table per network
 * namespace pointing at that namespace's struct pinhole_policy. A write
 * that does not parse or is out of bounds fails with EINVAL and changes
 * nothing; readers in the packet path use READ_ONCE().
 */
#include <linux/kernel.h>
#include <linux/slab.h>
#include <linux/sysctl.h>

#include "compat.h"
#include "pinhole.h"

static int pinhole_one = 1;
static int pinhole_log_max = PINHOLE_LOG_OPENED;
static int pinhole_max_pinholes = PINHOLE_MAX_PINHOLES_LIMIT;
static int pinhole_max_timeout = PINHOLE_TIMEOUT_LIMIT;

#define PORT_RANGE_TEXT_MAX	32

/* Reads and writes "LO-HI"; the u32 behind it is swapped in one store. */
static int pinhole_port_range_handler(pinhole_ctl_table *table, int write,
				      void *buffer, size_t *lenp,
				      loff_t *ppos)
{
	char text[PORT_RANGE_TEXT_MAX] = "";
	struct ctl_table shadow = {
		.data = text,
		.maxlen = sizeof(text),
	};
	u32 *range = table->data;
	u16 lo, hi;
	u32 parsed;
	int ret;

	if (!write) {
		pinhole_port_range_unpack(READ_ONCE(*range), &lo, &hi);
		snprintf(text, sizeof(text), "%u-%u", lo, hi);
		return proc_dostring(&shadow, write, buffer, lenp, ppos);
	}
	ret = proc_dostring(&shadow, write, buffer, lenp, ppos);
	if (ret)
		return ret;
	if (pinhole_parse_port_range(text, &parsed))
		return -EINVAL;
	WRITE_ONCE(*range, parsed);
	return 0;
}

#define PINHOLE_BOOL(field) {						\
	.procname = #field, .maxlen = sizeof(int), .mode = 0644,	\
	.proc_handler = proc_dointvec_minmax,				\
	.extra1 = SYSCTL_ZERO, .extra2 = SYSCTL_ONE,			\
}
#define PINHOLE_INT(field, min, max) {					\
	.procname = #field, .maxlen = sizeof(int), .mode = 0644,	\
	.proc_handler = proc_dointvec_minmax,				\
	.extra1 = (min), .extra2 = (max),				\
}
#define PINHOLE_RANGE(field) {						\
	.procname = #field, .maxlen = sizeof(u32), .mode = 0644,	\
	.proc_handler = pinhole_port_range_handler,			\
}

/* Same order as PINHOLE_SYSCTLS() in pinhole_abi.h. */
static const struct ctl_table pinhole_sysctl_template[] = {
	PINHOLE_BOOL(active),
	PINHOLE_BOOL(passive),
	PINHOLE_BOOL(allow_third_party),
	PINHOLE_RANGE(active_ports),
	PINHOLE_RANGE(passive_ports),
	PINHOLE_INT(max_pinholes, &pinhole_one, &pinhole_max_pinholes),
	PINHOLE_INT(timeout, &pinhole_one, &pinhole_max_timeout),
	PINHOLE_BOOL(enforce),
	PINHOLE_INT(log, SYSCTL_ZERO, &pinhole_log_max),
	{ }
};

static void pinhole_sysctl_bind(struct ctl_table *table,
				struct pinhole_policy *policy)
{
	void *data[] = {
		&policy->active, &policy->passive, &policy->allow_third_party,
		&policy->active_ports, &policy->passive_ports,
		&policy->max_pinholes, &policy->timeout, &policy->enforce,
		&policy->log,
	};
	int i;

	BUILD_BUG_ON(ARRAY_SIZE(data) !=
		     ARRAY_SIZE(pinhole_sysctl_template) - 1);
	for (i = 0; i < ARRAY_SIZE(data); i++)
		table[i].data = data[i];
}

int pinhole_sysctl_init(struct net *net, struct pinhole_net *pn)
{
	pn->sysctl_table = kmemdup(pinhole_sysctl_template,
				   sizeof(pinhole_sysctl_template),
				   GFP_KERNEL);
	if (!pn->sysctl_table)
		return -ENOMEM;
	pinhole_sysctl_bind(pn->sysctl_table, &pn->policy);
	pn->sysctl = pinhole_register_net_sysctl(net, PINHOLE_SYSCTL_DIR,
			pn->sysctl_table,
			ARRAY_SIZE(pinhole_sysctl_template) - 1);
	if (!pn->sysctl)
		goto err_register;
	return 0;

err_register:
	kfree(pn->sysctl_table);
	return -ENOMEM;
}

void pinhole_sysctl_exit(struct pinhole_net *pn)
{
	unregister_net_sysctl_table(pn->sysctl);
	kfree(pn->sysctl_table);
}
