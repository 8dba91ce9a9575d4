// SPDX-License-Identifier: GPL-2.0
/*
 * Command line: pinholectl [OPTIONS] COMMAND [ARGS...]. Options may come
 * before or after the command; "--" ends them.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "pinholectl.h"

static const struct {
	const char *name;
	enum command command;
	int min_args, max_args;		/* -1: unbounded */
} commands[] = {
	{ "show",	CMD_SHOW,	0, 0 },
	{ "list",	CMD_LIST,	0, 0 },
	{ "watch",	CMD_WATCH,	0, 0 },
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
		"  show                  FTP sessions, their pinholes and data connections\n"
		"  list                  open pinholes only\n"
		"  watch                 print pinhole events until interrupted\n"
		"  stats                 the module's counters\n"
		"  get [KEY...]          policy (all keys, or those named)\n"
		"  set KEY=VALUE...      change policy (validated first, all or nothing)\n"
		"  doctor                explain why FTP through this host may fail\n"
		"\n"
		"Options:\n"
		"  -j, --json            JSON output (watch: one document per line)\n"
		"  -n, --netns NAME      act in the network namespace NAME (ip netns)\n"
		"  -h, --help            this text\n"
		"  -V, --version         the version\n"
		"\n"
		"Policy keys: active passive allow_third_party enforce (0 or 1),\n"
		"  active_ports passive_ports (LO-HI, 1 <= LO <= HI <= 65535),\n"
		"  max_pinholes (1..64), timeout (1..3600 seconds).\n"
		"Exit status: 0 success, 1 failure (doctor: a problem found), 2 bad usage.\n"
		"See pinholectl(8).\n");
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

static bool option_value(const char *arg, const char *long_name,
			 const char *short_name)
{
	return strcmp(arg, long_name) == 0 ||
	       (short_name && strcmp(arg, short_name) == 0);
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
	if (commands[idx].max_args >= 0 &&
	    opts->nargs > commands[idx].max_args)
		return fail(err, errlen, "%s takes no arguments", name);
	return 0;
}

int args_parse(int argc, char **argv, struct options *opts,
	       char *err, size_t errlen)
{
	bool options_done = false;
	int cmd_idx = -1;
	int i;

	memset(opts, 0, sizeof(*opts));
	opts->args = calloc((size_t)argc, sizeof(*opts->args));
	if (!opts->args)
		return fail(err, errlen, "%s", "out of memory");

	for (i = 1; i < argc; i++) {
		const char *arg = argv[i];

		if (!options_done && arg[0] == '-' && arg[1] != '\0') {
			if (strcmp(arg, "--") == 0) {
				options_done = true;
			} else if (option_value(arg, "--json", "-j")) {
				opts->json = true;
			} else if (option_value(arg, "--help", "-h")) {
				opts->command = CMD_HELP;
				return 0;
			} else if (option_value(arg, "--version", "-V")) {
				opts->command = CMD_VERSION;
				return 0;
			} else if (option_value(arg, "--netns", "-n")) {
				if (i + 1 >= argc || argv[i + 1][0] == '\0')
					return fail(err, errlen,
						    "%s needs a namespace NAME (see ip netns list)",
						    arg);
				opts->netns = argv[++i];
			} else if (strncmp(arg, "--netns=", 8) == 0) {
				if (arg[8] == '\0')
					return fail(err, errlen, "%s",
						    "--netns needs a namespace NAME (see ip netns list)");
				opts->netns = arg + 8;
			} else {
				return fail(err, errlen,
					    "unknown option '%s' (see pinholectl --help)",
					    arg);
			}
			continue;
		}
		if (cmd_idx < 0) {
			cmd_idx = command_lookup(arg);
			if (cmd_idx < 0)
				return fail(err, errlen,
					    "unknown command '%s' (see pinholectl --help)",
					    arg);
			opts->command = commands[cmd_idx].command;
			continue;
		}
		opts->args[opts->nargs++] = argv[i];
	}
	if (cmd_idx < 0)
		return fail(err, errlen, "%s",
			    "no command given: try pinholectl show, or pinholectl --help");
	return check_arg_count(opts, cmd_idx, err, errlen);
}
