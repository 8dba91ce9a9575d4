// SPDX-License-Identifier: GPL-2.0
/*
 * The counters and gauges of /proc/net/pinhole_ftp: "name value" lines.
 * Names the module appends later are printed too, in the order the kernel
 * gives, as counters unless this file lists them as gauges.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "pinholectl.h"

const char *const counter_names[COUNTER_MAX] = {
#define COUNTER_NAME(name, desc) #name,
	PINHOLE_COUNTERS(COUNTER_NAME)
#undef COUNTER_NAME
};

const char *const counter_descriptions[COUNTER_MAX] = {
#define COUNTER_DESC(name, desc) desc,
	PINHOLE_COUNTERS(COUNTER_DESC)
#undef COUNTER_DESC
};

/* The gauges pinhole exports or will export; pinhole_abi.h stays as is. */
static const struct {
	const char *name, *description;
} gauge_list[] = {
	{ "sessions_open", "FTP control sessions with the helper attached now" },
	{ "pinholes_open", "pinhole-ftp expectations open now" },
};

bool stat_is_gauge(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(gauge_list) / sizeof(gauge_list[0]); i++)
		if (strcmp(gauge_list[i].name, name) == 0)
			return true;
	return false;
}

const char *stat_description(const char *name)
{
	size_t i;

	for (i = 0; i < COUNTER_MAX; i++)
		if (strcmp(counter_names[i], name) == 0)
			return counter_descriptions[i];
	for (i = 0; i < sizeof(gauge_list) / sizeof(gauge_list[0]); i++)
		if (strcmp(gauge_list[i].name, name) == 0)
			return gauge_list[i].description;
	return NULL;
}

static bool valid_name(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n >= STAT_NAME_MAX)
		return false;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return false;
	return true;
}

static int parse_line(const char *line, size_t len, struct stat_entry *e)
{
	const char *space = memchr(line, ' ', len);
	const char *p;
	unsigned long long v = 0;

	if (!space || !valid_name(line, (size_t)(space - line)))
		return -1;
	p = space + 1;
	if (p == line + len)
		return -1;
	for (; p < line + len; p++) {
		unsigned int digit = (unsigned int)(*p - '0');

		if (*p < '0' || *p > '9')
			return -1;
		if (v > (ULLONG_MAX - digit) / 10)
			return -1;
		v = v * 10 + digit;
	}
	memcpy(e->name, line, (size_t)(space - line));
	e->name[space - line] = '\0';
	e->value = v;
	return 0;
}

int stats_parse(const char *text, struct stats *stats,
		char *err, size_t errlen)
{
	const char *line = text;
	unsigned int lineno = 0;

	stats->count = 0;
	while (*line) {
		size_t len = strcspn(line, "\n");

		lineno++;
		if (len > 0) {
			if (stats->count == STATS_MAX) {
				snprintf(err, errlen,
					 "more than %d counters: upgrade pinholectl",
					 STATS_MAX);
				return -1;
			}
			if (parse_line(line, len, &stats->entry[stats->count])) {
				snprintf(err, errlen,
					 "line %u is not \"name value\": '%.*s'",
					 lineno, (int)(len > 80 ? 80 : len), line);
				return -1;
			}
			stats->count++;
		}
		line += len;
		if (*line == '\n')
			line++;
	}
	return 0;
}

bool stats_has(const struct stats *stats, const char *name)
{
	size_t i;

	for (i = 0; i < stats->count; i++)
		if (strcmp(stats->entry[i].name, name) == 0)
			return true;
	return false;
}

unsigned long long stats_value(const struct stats *stats, const char *name)
{
	size_t i;

	for (i = 0; i < stats->count; i++)
		if (strcmp(stats->entry[i].name, name) == 0)
			return stats->entry[i].value;
	return 0;
}

unsigned long long stats_delta(const struct stats *before,
			       const struct stats *after, const char *name)
{
	unsigned long long a = stats_value(before, name);
	unsigned long long b = stats_value(after, name);

	/* A counter never falls; when it did the module was reloaded. */
	return b > a ? b - a : 0;
}

int stats_read(struct stats *stats, char *err, size_t errlen)
{
	char path[PATH_MAX], why[ERRBUF_SIZE];
	char *text;
	int ret;

	path_proc(path, sizeof(path), "net/" PINHOLE_PROC_NAME);
	text = read_file(path, 1 << 16);
	if (!text) {
		if (errno == ENOENT && !module_loaded())
			snprintf(err, errlen, "%s", MODULE_NOT_LOADED_MSG);
		else if (errno == ENOENT)
			snprintf(err, errlen,
				 "cannot read %s: no such file (is the module loaded in this namespace?)",
				 path);
		else
			snprintf(err, errlen, "cannot read %s: %s", path,
				 strerror(errno));
		return -1;
	}
	ret = stats_parse(text, stats, why, sizeof(why));
	if (ret)
		snprintf(err, errlen, "%s: %s", path, why);
	free(text);
	return ret;
}

void stats_print_text(FILE *out, const struct stats *stats)
{
	size_t i;

	for (i = 0; i < stats->count; i++)
		fprintf(out, "%s=%llu\n", stats->entry[i].name,
			stats->entry[i].value);
}

static json_t *stat_value_json(unsigned long long v)
{
	/* jansson's integers are signed 64-bit: a u64 beyond that is a string */
	if (v > (unsigned long long)LLONG_MAX) {
		char buf[32];

		snprintf(buf, sizeof(buf), "%llu", v);
		return json_string(buf);
	}
	return json_integer((json_int_t)v);
}

int stats_print_json(FILE *out, const struct stats *stats, const char *netns)
{
	json_t *doc = doc_new(), *counters = json_object();
	json_t *gauges = json_object();
	size_t i;

	if (!doc || !counters || !gauges) {
		json_decref(doc);
		json_decref(counters);
		json_decref(gauges);
		return -1;
	}
	jset(doc, "netns", json_string(netns));
	for (i = 0; i < stats->count; i++)
		jset(stat_is_gauge(stats->entry[i].name) ? gauges : counters,
		     stats->entry[i].name,
		     stat_value_json(stats->entry[i].value));
	json_object_set_new(doc, "counters", counters);
	json_object_set_new(doc, "gauges", gauges);
	return doc_print(out, doc);
}

/* HELP text: backslash and newline escaped (OpenMetrics also escapes "). */
static void om_escape(FILE *out, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\\\", out);
		else if (*s == '\n')
			fputs("\\n", out);
		else if (*s == '"')
			fputs("\\\"", out);
		else
			fputc(*s, out);
	}
}

void stats_print_openmetrics(FILE *out, const struct stats *stats,
			     const char *netns)
{
	const struct stat_entry *e;
	const char *desc;
	bool gauge;
	size_t i;

	for (i = 0; i < stats->count; i++) {
		e = &stats->entry[i];
		gauge = stat_is_gauge(e->name);
		desc = stat_description(e->name);
		fprintf(out, "# HELP pinhole_ftp_%s ", e->name);
		if (desc)
			om_escape(out, desc);
		else
			fprintf(out, "%s (no description in pinholectl %s)",
				e->name, PINHOLECTL_VERSION);
		fprintf(out, "\n# TYPE pinhole_ftp_%s %s\n", e->name,
			gauge ? "gauge" : "counter");
		fprintf(out, "pinhole_ftp_%s%s{netns=\"", e->name,
			gauge ? "" : "_total");
		om_escape(out, netns);
		fprintf(out, "\"} %llu\n", e->value);
	}
	fprintf(out, "# EOF\n");
}
