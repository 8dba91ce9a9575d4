// SPDX-License-Identifier: GPL-2.0
/*
 * pinholectl: see and steer the pinholes of nf_pinhole_ftp.
 * Exit status: 0 success, 1 failure (doctor: an error holds now), 2 bad
 * usage.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nftables/libnftables.h>

#include "pinholectl.h"

static int failure(const char *msg)
{
	fprintf(stderr, "pinholectl: %s\n", msg);
	return EXIT_FAIL;
}

static int bad_usage(const char *msg)
{
	fprintf(stderr, "pinholectl: %s\n", msg);
	fprintf(stderr, "Try 'pinholectl --help' for more information.\n");
	return EXIT_USAGE;
}

static int require_module(void)
{
	if (module_loaded())
		return 0;
	return failure(MODULE_NOT_LOADED_MSG);
}

static int json_done(int ret)
{
	return ret ? failure("cannot write JSON output (out of memory?)") :
		     EXIT_OK;
}

static int cmd_show(const struct options *opts)
{
	struct ph_snapshot snap;
	char err[ERRBUF_SIZE];
	int ret = 0;

	if (require_module())
		return EXIT_FAIL;
	if (ct_snapshot(&snap, helper_name(), err, sizeof(err)))
		return failure(err);
	if (opts->object == SHOW_SESSIONS && opts->json)
		ret = show_print_json(stdout, &snap);
	else if (opts->object == SHOW_SESSIONS)
		show_print_text(stdout, &snap);
	else if (opts->json)
		ret = list_print_json(stdout, &snap);
	else
		list_print_text(stdout, &snap);
	snapshot_free(&snap);
	return json_done(ret);
}

static int cmd_monitor(const struct options *opts)
{
	char err[ERRBUF_SIZE];

	if (require_module())
		return EXIT_FAIL;
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (ct_watch(helper_name(), opts->json, err, sizeof(err)))
		return failure(err);
	return EXIT_OK;
}

static int cmd_stats(const struct options *opts)
{
	char err[ERRBUF_SIZE], label[PATH_MAX];
	struct stats stats;

	if (stats_read(&stats, err, sizeof(err)))
		return failure(err);
	netns_label(label, sizeof(label), opts->netns);
	switch (opts->format) {
	case FORMAT_JSON:
		return json_done(stats_print_json(stdout, &stats, label));
	case FORMAT_OPENMETRICS:
		stats_print_openmetrics(stdout, &stats, label);
		break;
	case FORMAT_TEXT:
		stats_print_text(stdout, &stats);
		break;
	}
	return EXIT_OK;
}

static int check_keys(const struct options *opts)
{
	const struct policy_key *key;
	char err[ERRBUF_SIZE];
	int i;

	for (i = 0; i < opts->nargs; i++) {
		if (strchr(opts->args[i], '=')) {
			snprintf(err, sizeof(err),
				 "get takes KEY, not KEY=VALUE: '%s' (to change it: pinholectl set %s)",
				 opts->args[i], opts->args[i]);
			return bad_usage(err);
		}
		if (policy_key_lookup(opts->args[i], &key, err, sizeof(err)))
			return bad_usage(err);
	}
	return EXIT_OK;
}

static int print_policy_json(const struct policy_key *const *keys,
			     char (*values)[64], size_t n)
{
	json_t *doc = doc_new(), *policy = json_object();
	size_t i;

	if (!doc || !policy) {
		json_decref(doc);
		json_decref(policy);
		return -1;
	}
	for (i = 0; i < n; i++)
		jset(policy, keys[i]->name,
		     policy_value_json(keys[i], values[i]));
	json_object_set_new(doc, "policy", policy);
	return doc_print(stdout, doc);
}

static int cmd_get(const struct options *opts)
{
	const struct policy_key *keys[64];
	char values[64][64], err[ERRBUF_SIZE];
	size_t n = 0, i;

	if (check_keys(opts))
		return EXIT_USAGE;
	if (require_module())
		return EXIT_FAIL;
	/* All keys: those an older module lacks are left out. */
	if (opts->nargs == 0)
		for (i = 0; i < policy_key_count && n < 64; i++)
			if (policy_present(policy_key_at(i)))
				keys[n++] = policy_key_at(i);
	for (i = 0; i < (size_t)opts->nargs && n < 64; i++)
		keys[n++] = policy_key_find(opts->args[i]);
	for (i = 0; i < n; i++)
		if (policy_read(keys[i], values[i], sizeof(values[i]), err,
				sizeof(err)))
			return failure(err);
	if (opts->json)
		return json_done(print_policy_json(keys, values, n));
	for (i = 0; i < n; i++)
		printf("%s=%s\n", keys[i]->name, values[i]);
	return EXIT_OK;
}

static int cmd_set(const struct options *opts)
{
	const struct policy_key *key;
	char err[ERRBUF_SIZE];
	const char *value;
	int i;

	/* All or nothing: every assignment is checked before any write. */
	for (i = 0; i < opts->nargs; i++)
		if (policy_parse_assignment(opts->args[i], &key, &value, err,
					    sizeof(err)))
			return bad_usage(err);
	if (require_module())
		return EXIT_FAIL;
	for (i = 0; i < opts->nargs; i++) {
		policy_parse_assignment(opts->args[i], &key, &value, err,
					sizeof(err));
		if (policy_write(key, value, err, sizeof(err)))
			return failure(err);
		printf("%s=%s\n", key->name, value);
	}
	return EXIT_OK;
}

/*
 * The nftables ruleset as JSON, read in-process through libnftables (the
 * library nft is built on), as `nft -j list ruleset` prints it. NULL when
 * nftables cannot be read (no permission, no nf_tables).
 */
static char *nft_ruleset_json(void)
{
	struct nft_ctx *nft = nft_ctx_new(NFT_CTX_DEFAULT);
	const char *out;
	char *copy = NULL;

	if (!nft)
		return NULL;
	nft_ctx_output_set_flags(nft, NFT_CTX_OUTPUT_JSON);
	if (nft_ctx_buffer_output(nft) || nft_ctx_buffer_error(nft))
		goto out;
	if (nft_run_cmd_from_buffer(nft, "list ruleset") != 0)
		goto out;
	out = nft_ctx_get_output_buffer(nft);
	/* An empty ruleset prints nothing: that is {"nftables": []}. */
	copy = strdup(out && out[0] ? out : "{\"nftables\": []}");
out:
	nft_ctx_free(nft);
	return copy;
}

/*
 * A ruleset source: the file named by env (tests; an empty value skips the
 * source), else the live one; NULL when unavailable.
 */
static char *ruleset_source(const char *env, const char *const argv[])
{
	const char *file = getenv(env);

	if (file)
		return file[0] ? read_file(file, 1 << 24) : NULL;
	if (!argv)
		return nft_ruleset_json();
	return run_command(argv, 1 << 24);
}

static void read_policy(const char *name, char *buf, size_t len,
			const char **out)
{
	char err[ERRBUF_SIZE];

	if (policy_read(policy_key_find(name), buf, len, err, sizeof(err)) == 0)
		*out = buf;
}

struct doctor_data {
	struct doctor_input in;
	struct module_install install;
	struct stats before, after;
	char active[16], passive[16];
	unsigned int listen[256];
};

/* Two readings of the counters, since seconds apart. */
static void read_window(struct doctor_data *d, unsigned int since)
{
	char err[ERRBUF_SIZE];

	d->in.since = since;
	if (since == 0 || stats_read(&d->before, err, sizeof(err)))
		return;
	sleep(since);
	if (stats_read(&d->after, err, sizeof(err)))
		return;
	d->in.before = &d->before;
	d->in.after = &d->after;
}

static void doctor_gather(struct doctor_data *d, unsigned int since)
{
	static const char *const ipt[] = { "iptables-save", NULL };
	static const char *const ip6t[] = { "ip6tables-save", NULL };
	struct doctor_input *in = &d->in;

	in->module_loaded = module_loaded();
	if (!in->module_loaded) {
		module_install_lookup(&d->install);
		in->install = &d->install;
	}
	in->helper = helper_name();
	in->nft_json = ruleset_source("PINHOLECTL_NFT_JSON_FILE", NULL);
	in->iptables_save = ruleset_source("PINHOLECTL_IPTABLES_SAVE_FILE",
					   ipt);
	in->ip6tables_save = ruleset_source("PINHOLECTL_IP6TABLES_SAVE_FILE",
					    ip6t);
	read_policy("active", d->active, sizeof(d->active),
		    &in->policy_active);
	read_policy("passive", d->passive, sizeof(d->passive),
		    &in->policy_passive);
	in->nlisten = listening_ports(NULL, 0, d->listen,
				      sizeof(d->listen) / sizeof(d->listen[0]));
	in->listen = d->listen;
	if (in->module_loaded)
		read_window(d, since);
}

static int cmd_doctor(const struct options *opts)
{
	struct doctor_report *report = malloc(sizeof(*report));
	struct doctor_data *d = calloc(1, sizeof(*d));
	int status = EXIT_FAIL;

	if (!report || !d) {
		free(report);
		free(d);
		return failure("out of memory");
	}
	doctor_gather(d, opts->since);
	doctor_analyse(&d->in, report);
	if (opts->json) {
		if (doctor_print_json(stdout, report, d->in.since) == 0)
			status = doctor_status(report);
		else
			failure("cannot write JSON output (out of memory?)");
	} else {
		doctor_print_text(stdout, report);
		status = doctor_status(report);
	}
	free((char *)d->in.nft_json);
	free((char *)d->in.iptables_save);
	free((char *)d->in.ip6tables_save);
	free(d);
	free(report);
	return status;
}

static int cmd_version(void)
{
	char version[64];

	printf("pinholectl %s (json_schema_version %d)\n", PINHOLECTL_VERSION,
	       PINHOLECTL_JSON_SCHEMA_VERSION);
	if (module_version(version, sizeof(version)) == 0)
		printf("module: %s %s\n", PINHOLE_MODULE_NAME, version);
	else if (module_loaded())
		printf("module: %s loaded, version unknown\n",
		       PINHOLE_MODULE_NAME);
	else
		printf("module: not loaded\n");
	return EXIT_OK;
}

static int dispatch(const struct options *opts)
{
	switch (opts->command) {
	case CMD_SHOW:
		return cmd_show(opts);
	case CMD_MONITOR:
		return cmd_monitor(opts);
	case CMD_STATS:
		return cmd_stats(opts);
	case CMD_GET:
		return cmd_get(opts);
	case CMD_SET:
		return cmd_set(opts);
	case CMD_DOCTOR:
		return cmd_doctor(opts);
	case CMD_HELP:
		usage_print(stdout);
		return EXIT_OK;
	case CMD_VERSION:
		return cmd_version();
	case CMD_NONE:
		break;
	}
	return bad_usage("no command given");
}

int main(int argc, char **argv)
{
	char err[ERRBUF_SIZE];
	struct options opts;
	int ret;

	if (args_parse(argc, argv, &opts, err, sizeof(err))) {
		free(opts.args);
		return bad_usage(err);
	}
	if (opts.netns && opts.command != CMD_HELP &&
	    opts.command != CMD_VERSION &&
	    enter_netns(opts.netns, err, sizeof(err))) {
		free(opts.args);
		return failure(err);
	}
	ret = dispatch(&opts);
	free(opts.args);
	if (fflush(stdout) || ferror(stdout)) {
		fprintf(stderr, "pinholectl: cannot write output: %s\n",
			strerror(errno));
		return EXIT_FAIL;
	}
	return ret;
}
