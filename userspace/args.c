// SPDX-License-Identifier: GPL-2.0
/*
 * Command line: pinholectl [OPTIONS] COMMAND [ARGS...]. getopt_long():
 * short options combine (-jn fw), options may come before or after the
 * command, "--" ends them.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "pinholectl.h"

static const struct {
	const char *name;
	enum command command;
	int min_args, max_args;		/* -1: unbounded */
} commands[] = {
	{ "show",	CMD_SHOW,	0, 1 },
	{ "list",	CMD_SHOW,	0, 1 },	/* as in ip and nft */
	{ "monitor",	CMD_MONITOR,	0, 0 },
	{ "watch",	CMD_MONITOR,	0, 0 },	/* the old name */
	{ "stats",	CMD_STATS,	0, 0 },
	{ "get",	CMD_GET,	0, -1 },
	{ "set",	CMD_SET,	1, -1 },
	{ "doctor",	CMD_DOCTOR,	0, 0 },
	{ "help",	CMD_HELP,	0, 0 },
	{ "version",	CMD_VERSION,	0, 0 },
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

const char *command_name(enum command cmd)
{
	size_t i;

	for (i = 0; i < N_COMMANDS; i++)
		if (commands[i].command == cmd)
			return commands[i].name;
	return "?";
}

void usage_print(FILE *out)
{
	fprintf(out,
		"usage: pinholectl [OPTIONS] COMMAND [ARGS...]\n"
		"\n"
		"Commands:\n"
		"  show [sessions|pinholes]  FTP sessions with their pinholes and data\n"
		"                        connections, or the open pinholes only\n"
		"  list [sessions|pinholes]  the same as show\n"
		"  monitor               print pinhole events until interrupted (alias: watch)\n"
		"  stats                 the module's counters and gauges\n"
		"  get [KEY...]          policy (all keys, or those named)\n"
		"  set KEY=VALUE...      change policy (validated first, all or nothing)\n"
		"  doctor                explain why FTP through this host may fail\n"
		"\n"
		"Options:\n"
		"  -j, --json            JSON output (monitor: one document per line)\n"
		"      --format FORMAT   text, json, or (stats) openmetrics\n"
		"  -n, --netns NS        act in network namespace NS: a name under\n"
		"                        /run/netns, a path (/proc/PID/ns/net), or pid:PID\n"
		"      --since SECONDS   doctor: judge counters by their increase over\n"
		"                        this window (default %d; 0: rulesets only)\n"
		"  -h, --help            this text\n"
		"  -V, --version         the version of pinholectl and of the loaded module\n"
		"\n"
		"Policy keys: active passive allow_third_party enforce (0 or 1),\n"
		"  active_ports passive_ports (LO-HI, 1 <= LO <= HI <= 65535),\n"
		"  max_pinholes (1..64), timeout (1..3600 seconds).\n"
		"Exit status: 0 success, 1 failure (doctor: an error holds now),\n"
		"  2 bad usage. See pinholectl(8).\n", DOCTOR_SINCE_DEFAULT);
}

static int fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static int command_lookup(const char *name)
{
	size_t i;

	for (i = 0; i < N_COMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return (int)i;
	return -1;
}

static int check_arg_count(const struct options *opts, int idx,
			   char *err, size_t errlen)
{
	const char *name = commands[idx].name;

	if (opts->nargs < commands[idx].min_args) {
		if (opts->command == CMD_SET)
			return fail(err, errlen,
				    "%s needs at least one KEY=VALUE (see pinholectl get for the keys)",
				    name);
		return fail(err, errlen, "%s needs an argument", name);
	}
	if (commands[idx].max_args == 0 && opts->nargs > 0)
		return fail(err, errlen, "%s takes no arguments", name);
	if (commands[idx].max_args >= 0 &&
	    opts->nargs > commands[idx].max_args)
		return fail(err, errlen, "%s takes at most %d argument%s", name,
			    commands[idx].max_args,
			    commands[idx].max_args == 1 ? "" : "s");
	return 0;
}

enum { OPT_FORMAT = 256, OPT_SINCE };

static const struct option long_options[] = {
	{ "json",	no_argument,		NULL, 'j' },
	{ "netns",	required_argument,	NULL, 'n' },
	{ "help",	no_argument,		NULL, 'h' },
	{ "version",	no_argument,		NULL, 'V' },
	{ "format",	required_argument,	NULL, OPT_FORMAT },
	{ "since",	required_argument,	NULL, OPT_SINCE },
	{ NULL, 0, NULL, 0 },
};

static int parse_format(const char *s, struct options *opts, char *err,
			size_t errlen)
{
	if (strcmp(s, "text") == 0)
		opts->format = FORMAT_TEXT;
	else if (strcmp(s, "json") == 0)
		opts->format = FORMAT_JSON;
	else if (strcmp(s, "openmetrics") == 0)
		opts->format = FORMAT_OPENMETRICS;
	else
		return fail(err, errlen,
			    "unknown format '%s': expected text, json or openmetrics",
			    s);
	return 0;
}

static int parse_since(const char *s, struct options *opts, char *err,
		       size_t errlen)
{
	unsigned long v = 0;
	const char *p;

	for (p = s; *p >= '0' && *p <= '9' && v <= DOCTOR_SINCE_MAX; p++)
		v = v * 10 + (unsigned long)(*p - '0');
	if (p == s || *p || v > DOCTOR_SINCE_MAX)
		return fail(err, errlen,
			    "invalid --since '%s': expected seconds from 0 to %d",
			    s, DOCTOR_SINCE_MAX);
	opts->since = (unsigned int)v;
	return 0;
}

static int bad_option(int c, char **argv, char *err, size_t errlen)
{
	const char *arg = argv[optind - 1];

	if (c == ':')
		return fail(err, errlen, "option '%s' needs %s", arg,
			    optopt == 'n' || strncmp(arg, "--netns", 7) == 0 ?
			    "a namespace NAME, PATH or pid:PID (see ip netns list)" :
			    "a value");
	if (optopt && optopt < 256)
		return fail(err, errlen,
			    "unknown option '-%c' (see pinholectl --help)",
			    optopt);
	return fail(err, errlen, "unknown option '%s' (see pinholectl --help)",
		    arg);
}

static int parse_options(int argc, char **argv, struct options *opts,
			 bool *since_given, char *err, size_t errlen)
{
	bool json = false, format = false;
	int c;

	optind = 0;		/* glibc: start afresh (tests parse often) */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":jn:hV", long_options,
				NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'n':
			if (!optarg[0])
				return fail(err, errlen, "%s",
					    "--netns needs a namespace NAME, PATH or pid:PID (see ip netns list)");
			opts->netns = optarg;
			break;
		case 'h':
			opts->command = CMD_HELP;
			return 1;
		case 'V':
			opts->command = CMD_VERSION;
			return 1;
		case OPT_FORMAT:
			if (parse_format(optarg, opts, err, errlen))
				return -1;
			format = true;
			break;
		case OPT_SINCE:
			if (parse_since(optarg, opts, err, errlen))
				return -1;
			*since_given = true;
			break;
		default:
			return bad_option(c, argv, err, errlen);
		}
	}
	if (json && format && opts->format != FORMAT_JSON)
		return fail(err, errlen, "%s",
			    "--json and --format disagree: give one of them");
	if (json)
		opts->format = FORMAT_JSON;
	opts->json = opts->format == FORMAT_JSON;
	return 0;
}

static int parse_object(struct options *opts, char *err, size_t errlen)
{
	const char *what;

	if (opts->command != CMD_SHOW || opts->nargs == 0)
		return 0;
	what = opts->args[0];
	if (strcmp(what, "sessions") == 0 || strcmp(what, "session") == 0)
		opts->object = SHOW_SESSIONS;
	else if (strcmp(what, "pinholes") == 0 || strcmp(what, "pinhole") == 0)
		opts->object = SHOW_PINHOLES;
	else
		return fail(err, errlen,
			    "unknown object '%s': expected sessions or pinholes",
			    what);
	opts->nargs = 0;
	return 0;
}

static int check_combination(const struct options *opts, bool since_given,
			     char *err, size_t errlen)
{
	if (since_given && opts->command != CMD_DOCTOR)
		return fail(err, errlen, "%s",
			    "--since applies to doctor only");
	if (opts->format == FORMAT_OPENMETRICS && opts->command != CMD_STATS)
		return fail(err, errlen, "%s",
			    "--format openmetrics applies to stats only");
	return 0;
}

int args_parse(int argc, char **argv, struct options *opts,
	       char *err, size_t errlen)
{
	bool since_given = false;
	int cmd_idx, i, ret;

	memset(opts, 0, sizeof(*opts));
	opts->since = DOCTOR_SINCE_DEFAULT;
	opts->args = calloc((size_t)argc + 1, sizeof(*opts->args));
	if (!opts->args)
		return fail(err, errlen, "%s", "out of memory");
	ret = parse_options(argc, argv, opts, &since_given, err, errlen);
	if (ret)
		return ret < 0 ? -1 : 0;
	if (optind >= argc)
		return fail(err, errlen, "%s",
			    "no command given: try pinholectl show, or pinholectl --help");
	cmd_idx = command_lookup(argv[optind]);
	if (cmd_idx < 0)
		return fail(err, errlen,
			    "unknown command '%s' (see pinholectl --help)",
			    argv[optind]);
	opts->command = commands[cmd_idx].command;
	for (i = optind + 1; i < argc; i++)
		opts->args[opts->nargs++] = argv[i];
	if (check_arg_count(opts, cmd_idx, err, errlen) ||
	    parse_object(opts, err, errlen))
		return -1;
	return check_combination(opts, since_given, err, errlen);
}
