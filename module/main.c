// SPDX-License-Identifier: GPL-2.0
/*
 * nf_pinhole_ftp: a conntrack helper for FTP that opens exactly the data
 * connection each PORT, EPRT, 227 or 229 negotiates, and nothing else.
 *
 * Module parameters are the defaults a new network namespace starts with;
 * each namespace then has its own policy under net.netfilter.pinhole_ftp.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kernel.h>
#include <linux/module.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>

#include "pinhole.h"

static char *helper_name = PINHOLE_HELPER_NAME;
module_param(helper_name, charp, 0444);
MODULE_PARM_DESC(helper_name, "conntrack helper name: \"" PINHOLE_HELPER_NAME
		 "\" (default) or \"ftp\" to stand in for nf_conntrack_ftp");

static bool active = true;
module_param(active, bool, 0444);
MODULE_PARM_DESC(active, "default: open pinholes for PORT/EPRT");

static bool passive = true;
module_param(passive, bool, 0444);
MODULE_PARM_DESC(passive, "default: open pinholes for 227/229");

static bool allow_third_party;
module_param(allow_third_party, bool, 0444);
MODULE_PARM_DESC(allow_third_party,
		 "default: allow a data address other than the announcing peer's");

static char *active_ports = "1024-65535";
module_param(active_ports, charp, 0444);
MODULE_PARM_DESC(active_ports, "default: ports PORT/EPRT may announce, LO-HI");

static char *passive_ports = "1024-65535";
module_param(passive_ports, charp, 0444);
MODULE_PARM_DESC(passive_ports, "default: ports 227/229 may announce, LO-HI");

static int max_pinholes = 1;
module_param(max_pinholes, int, 0444);
MODULE_PARM_DESC(max_pinholes, "default: pinholes a session may hold open (1-64)");

static int timeout = 60;
module_param(timeout, int, 0444);
MODULE_PARM_DESC(timeout, "default: seconds an unused pinhole lives (1-3600)");

static bool enforce;
module_param(enforce, bool, 0444);
MODULE_PARM_DESC(enforce, "default: drop segments carrying a refused line");

static int log_level = PINHOLE_LOG_REFUSALS;
module_param_named(log, log_level, int, 0444);
MODULE_PARM_DESC(log, "default: kernel log lines, 0 none, 1 refusals, 2 refusals and pinholes opened");

struct pinhole_policy pinhole_default_policy;
static unsigned int pinhole_net_id __read_mostly;

struct pinhole_net *pinhole_net(const struct net *net)
{
	return net_generic(net, pinhole_net_id);
}

static int pinhole_param_error(const char *name)
{
	pr_err("invalid module parameter %s (see modinfo nf_pinhole_ftp)\n",
	       name);
	return -EINVAL;
}

static int pinhole_parse_params(struct pinhole_policy *policy)
{
	policy->active = active;
	policy->passive = passive;
	policy->allow_third_party = allow_third_party;
	policy->enforce = enforce;
	if (pinhole_parse_port_range(active_ports, &policy->active_ports))
		return pinhole_param_error("active_ports");
	if (pinhole_parse_port_range(passive_ports, &policy->passive_ports))
		return pinhole_param_error("passive_ports");
	if (max_pinholes < 1 || max_pinholes > PINHOLE_MAX_PINHOLES_LIMIT)
		return pinhole_param_error("max_pinholes");
	policy->max_pinholes = max_pinholes;
	if (timeout < 1 || timeout > PINHOLE_TIMEOUT_LIMIT)
		return pinhole_param_error("timeout");
	policy->timeout = timeout;
	if (log_level < PINHOLE_LOG_OFF || log_level > PINHOLE_LOG_OPENED)
		return pinhole_param_error("log");
	policy->log = log_level;
	return 0;
}

static int __net_init pinhole_net_init(struct net *net)
{
	struct pinhole_net *pn = pinhole_net(net);
	int ret;

	pn->policy = pinhole_default_policy;
	/* 10 lines per 5 s per namespace: one cannot silence another's */
	ratelimit_state_init(&pn->log_ratelimit, 5 * HZ, 10);
	ret = pinhole_stats_init(net, pn);
	if (ret)
		return ret;
	ret = pinhole_sysctl_init(net, pn);
	if (ret)
		goto err_sysctl;
	return 0;

err_sysctl:
	pinhole_stats_exit(net, pn);
	return ret;
}

static void __net_exit pinhole_net_exit(struct net *net)
{
	struct pinhole_net *pn = pinhole_net(net);

	pinhole_sysctl_exit(pn);
	pinhole_stats_exit(net, pn);
}

static struct pernet_operations pinhole_net_ops = {
	.init = pinhole_net_init,
	.exit = pinhole_net_exit,
	.id = &pinhole_net_id,
	.size = sizeof(struct pinhole_net),
};

static int __init pinhole_init(void)
{
	int ret;

	ret = pinhole_parse_params(&pinhole_default_policy);
	if (ret)
		return ret;
	ret = register_pernet_subsys(&pinhole_net_ops);
	if (ret)
		return ret;
	ret = pinhole_helpers_register(helper_name);
	if (ret)
		goto err_helpers;
	pr_info("helper \"%s\" registered\n", helper_name);
	return 0;

err_helpers:
	unregister_pernet_subsys(&pinhole_net_ops);
	return ret;
}

/*
 * Unregistering the helpers removes every pinhole and detaches the helper
 * from live sessions after an RCU grace period; no session owns memory of
 * ours (its state is inline in the conntrack), so nothing is left behind.
 */
static void __exit pinhole_exit(void)
{
	pinhole_helpers_unregister();
	unregister_pernet_subsys(&pinhole_net_ops);
}

module_init(pinhole_init);
module_exit(pinhole_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("FTP conntrack helper opening exact pinholes");
MODULE_ALIAS("nfct-helper-" PINHOLE_HELPER_NAME);
MODULE_VERSION(PINHOLE_VERSION);
