// SPDX-License-Identifier: GPL-2.0
/*
 * The counters of /proc/net/pinhole_ftp: "name value" lines. Names the
 * module appends later are printed too, in the order the kernel gives.
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

void stats_print_json(FILE *out, const struct stats *stats)
{
	struct json_writer w;
	size_t i;

	jw_init(&w, out);
	jw_document_begin(&w, true);
	jw_object_begin(&w, NULL);
	jw_object_begin(&w, "counters");
	for (i = 0; i < stats->count; i++)
		jw_uint(&w, stats->entry[i].name, stats->entry[i].value);
	jw_object_end(&w);
	jw_object_end(&w);
	jw_document_end(&w);
}
