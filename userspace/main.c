// SPDX-License-Identifier: GPL-2.0
/*
 * pinholectl: see and steer the pinholes of nf_pinhole_ftp.
 * Exit status: 0 success, 1 failure (doctor: a problem found), 2 bad usage.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

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

static int cmd_snapshot(const struct options *opts)
{
	struct ph_snapshot snap;
	char err[ERRBUF_SIZE];

	if (require_module())
		return EXIT_FAIL;
	if (ct_snapshot(&snap, helper_name(), err, sizeof(err)))
		return failure(err);
	if (opts->command == CMD_SHOW && opts->json)
		show_print_json(stdout, &snap);
	else if (opts->command == CMD_SHOW)
		show_print_text(stdout, &snap);
	else if (opts->json)
		list_print_json(stdout, &snap);
	else
		list_print_text(stdout, &snap);
	snapshot_free(&snap);
	return EXIT_OK;
}

static int cmd_watch(const struct options *opts)
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
	char err[ERRBUF_SIZE];
	struct stats stats;

	if (stats_read(&stats, err, sizeof(err)))
		return failure(err);
	if (opts->json)
		stats_print_json(stdout, &stats);
	else
		stats_print_text(stdout, &stats);
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

static int cmd_get(const struct options *opts)
{
	const struct policy_key *keys[64];
	char values[64][64], err[ERRBUF_SIZE];
	struct json_writer w;
	size_t n = 0, i;

	if (check_keys(opts))
		return EXIT_USAGE;
	if (require_module())
		return EXIT_FAIL;
	if (opts->nargs == 0)
		for (i = 0; i < policy_key_count; i++)
			keys[n++] = &policy_keys[i];
	for (i = 0; i < (size_t)opts->nargs && n < 64; i++)
		keys[n++] = policy_key_find(opts->args[i]);
	for (i = 0; i < n; i++)
		if (policy_read(keys[i], values[i], sizeof(values[i]), err,
				sizeof(err)))
			return failure(err);
	if (!opts->json) {
		for (i = 0; i < n; i++)
			printf("%s=%s\n", keys[i]->name, values[i]);
		return EXIT_OK;
	}
	jw_init(&w, stdout);
	jw_document_begin(&w, true);
	jw_object_begin(&w, NULL);
	jw_object_begin(&w, "policy");
	for (i = 0; i < n; i++)
		policy_print_value(&w, keys[i], values[i]);
	jw_object_end(&w);
	jw_object_end(&w);
	jw_document_end(&w);
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
 * A ruleset source: the file named by env (tests; an empty value skips the
 * source), else the command's output; NULL when unavailable.
 */
static char *ruleset_source(const char *env, const char *const argv[])
{
	const char *file = getenv(env);

	if (file)
		return file[0] ? read_file(file, 1 << 24) : NULL;
	return run_command(argv, 1 << 24);
}

static int cmd_doctor(const struct options *opts)
{
	static const char *const nft[] = { "nft", "-j", "list", "ruleset", NULL };
	static const char *const ipt[] = { "iptables-save", NULL };
	static const char *const ip6t[] = { "ip6tables-save", NULL };
	const struct policy_key *active = policy_key_find("active");
	const struct policy_key *passive = policy_key_find("passive");
	char err[ERRBUF_SIZE], active_v[16], passive_v[16];
	struct doctor_input in = { 0 };
	struct doctor_report *report;
	struct stats stats;
	int status;

	report = malloc(sizeof(*report));
	if (!report)
		return failure("out of memory");
	in.module_loaded = module_loaded();
	in.helper = helper_name();
	in.nft_json = ruleset_source("PINHOLECTL_NFT_JSON_FILE", nft);
	in.iptables_save = ruleset_source("PINHOLECTL_IPTABLES_SAVE_FILE", ipt);
	in.ip6tables_save = ruleset_source("PINHOLECTL_IP6TABLES_SAVE_FILE",
					   ip6t);
	if (stats_read(&stats, err, sizeof(err)) == 0)
		in.stats = &stats;
	if (policy_read(active, active_v, sizeof(active_v), err,
			sizeof(err)) == 0 &&
	    policy_read(passive, passive_v, sizeof(passive_v), err,
			sizeof(err)) == 0) {
		in.policy_active = active_v;
		in.policy_passive = passive_v;
	}
	doctor_analyse(&in, report);
	if (opts->json)
		doctor_print_json(stdout, report);
	else
		doctor_print_text(stdout, report);
	free((char *)in.nft_json);
	free((char *)in.iptables_save);
	free((char *)in.ip6tables_save);
	status = report->count ? EXIT_FAIL : EXIT_OK;
	free(report);
	return status;
}

static int dispatch(const struct options *opts)
{
	switch (opts->command) {
	case CMD_SHOW:
	case CMD_LIST:
		return cmd_snapshot(opts);
	case CMD_WATCH:
		return cmd_watch(opts);
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
		printf("pinholectl %s (json_schema_version %d)\n",
		       PINHOLECTL_VERSION, PINHOLECTL_JSON_SCHEMA_VERSION);
		return EXIT_OK;
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
