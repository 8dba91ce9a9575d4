// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of pinholectl's pure parts: argument parsing, policy
 * validation, counter parsing, the JSON writer and parser, the ruleset
 * and counter diagnosis, and session/pinhole formatting. No kernel, no
 * netlink. One "PASS: pinholectl/<case>" or "FAIL: ..." line per case.
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "pinholectl.h"

static int failures;
static const char *current;
static char first_failure[512];

static void case_begin(const char *name)
{
	current = name;
	first_failure[0] = '\0';
}

static void case_end(void)
{
	if (first_failure[0]) {
		printf("FAIL: pinholectl/%s: %s\n", current, first_failure);
		failures++;
	} else {
		printf("PASS: pinholectl/%s\n", current);
	}
}

static void expect_fmt(bool ok, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void expect_fmt(bool ok, int line, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (ok || first_failure[0])
		return;
	n = snprintf(first_failure, sizeof(first_failure), "line %d: ", line);
	va_start(ap, fmt);
	vsnprintf(first_failure + n, sizeof(first_failure) - (size_t)n, fmt,
		  ap);
	va_end(ap);
}

#define EXPECT(cond, ...) expect_fmt((cond), __LINE__, __VA_ARGS__)

/* ---- args ---- */

static int parse(struct options *o, char *err, const char *a0, ...)
{
	char *argv[16] = { "pinholectl" };
	const char *a;
	va_list ap;
	int argc = 1, ret;

	va_start(ap, a0);
	for (a = a0; a && argc < 15; a = va_arg(ap, const char *))
		argv[argc++] = (char *)a;
	va_end(ap);
	argv[argc] = NULL;
	ret = args_parse(argc, argv, o, err, ERRBUF_SIZE);
	free(o->args);
	o->args = NULL;
	return ret;
}

static void test_args(void)
{
	char err[ERRBUF_SIZE];
	struct options o;

	case_begin("args-no-command");
	EXPECT(parse(&o, err, NULL) == -1, "no command accepted");
	EXPECT(strstr(err, "no command") != NULL, "message: %s", err);
	case_end();

	case_begin("args-unknown-command");
	EXPECT(parse(&o, err, "frobnicate", NULL) == -1, "accepted");
	EXPECT(strstr(err, "frobnicate") != NULL, "message: %s", err);
	case_end();

	case_begin("args-unknown-option");
	EXPECT(parse(&o, err, "--bogus", "show", NULL) == -1, "accepted");
	EXPECT(strstr(err, "--bogus") != NULL, "message: %s", err);
	case_end();

	case_begin("args-show-json-anywhere");
	EXPECT(parse(&o, err, "show", "--json", NULL) == 0, "%s", err);
	EXPECT(o.command == CMD_SHOW && o.json, "not show --json");
	EXPECT(parse(&o, err, "-j", "list", NULL) == 0, "%s", err);
	EXPECT(o.command == CMD_SHOW && o.json &&
	       o.object == SHOW_SESSIONS, "not list -j");
	case_end();

	case_begin("args-show-list-objects");
	EXPECT(parse(&o, err, "list", "pinholes", NULL) == 0, "%s", err);
	EXPECT(o.command == CMD_SHOW && o.object == SHOW_PINHOLES &&
	       o.nargs == 0, "list pinholes");
	EXPECT(parse(&o, err, "show", "sessions", NULL) == 0 &&
	       o.object == SHOW_SESSIONS, "show sessions");
	EXPECT(parse(&o, err, "show", "frob", NULL) == -1 &&
	       strstr(err, "sessions or pinholes"), "show frob: %s", err);
	EXPECT(parse(&o, err, "show", "pinholes", "x", NULL) == -1,
	       "two objects");
	case_end();

	case_begin("args-monitor-watch");
	EXPECT(parse(&o, err, "monitor", NULL) == 0 &&
	       o.command == CMD_MONITOR, "monitor");
	EXPECT(parse(&o, err, "watch", "-j", NULL) == 0 &&
	       o.command == CMD_MONITOR && o.json, "watch alias");
	case_end();

	case_begin("args-combined-short");
	EXPECT(parse(&o, err, "-jn", "fw", "stats", NULL) == 0, "%s", err);
	EXPECT(o.json && o.netns && strcmp(o.netns, "fw") == 0, "-jn fw");
	EXPECT(parse(&o, err, "stats", "-jnfw", NULL) == 0 && o.json &&
	       o.netns && strcmp(o.netns, "fw") == 0, "-jnfw");
	EXPECT(parse(&o, err, "-jx", "stats", NULL) == -1 &&
	       strstr(err, "'-x'"), "-jx: %s", err);
	case_end();

	case_begin("args-format-since");
	EXPECT(parse(&o, err, "stats", "--format", "openmetrics", NULL) == 0 &&
	       o.format == FORMAT_OPENMETRICS && !o.json, "openmetrics");
	EXPECT(parse(&o, err, "stats", "--format=json", NULL) == 0 && o.json,
	       "format=json");
	EXPECT(parse(&o, err, "show", "--format", "openmetrics", NULL) == -1,
	       "openmetrics for show");
	EXPECT(parse(&o, err, "stats", "--format", "xml", NULL) == -1 &&
	       strstr(err, "xml"), "xml: %s", err);
	EXPECT(parse(&o, err, "-j", "stats", "--format", "openmetrics",
		     NULL) == -1, "-j with openmetrics");
	EXPECT(parse(&o, err, "doctor", NULL) == 0 &&
	       o.since == DOCTOR_SINCE_DEFAULT, "default since");
	EXPECT(parse(&o, err, "doctor", "--since", "0", NULL) == 0 &&
	       o.since == 0, "since 0");
	EXPECT(parse(&o, err, "doctor", "--since=3601", NULL) == -1 &&
	       parse(&o, err, "doctor", "--since", "5s", NULL) == -1 &&
	       parse(&o, err, "doctor", "--since", "", NULL) == -1,
	       "bad since accepted");
	EXPECT(parse(&o, err, "stats", "--since", "3", NULL) == -1 &&
	       strstr(err, "doctor only"), "since for stats");
	case_end();

	case_begin("args-netns");
	EXPECT(parse(&o, err, "--netns", "fw", "stats", NULL) == 0, "%s", err);
	EXPECT(o.netns && strcmp(o.netns, "fw") == 0, "netns not fw");
	EXPECT(parse(&o, err, "--netns=fw2", "stats", NULL) == 0, "%s", err);
	EXPECT(o.netns && strcmp(o.netns, "fw2") == 0, "netns not fw2");
	EXPECT(parse(&o, err, "stats", "--netns", NULL) == -1,
	       "--netns without a name accepted");
	EXPECT(parse(&o, err, "-n", "pid:1", "stats", NULL) == 0 &&
	       strcmp(o.netns, "pid:1") == 0, "pid:1");
	EXPECT(parse(&o, err, "--netns=", "stats", NULL) == -1,
	       "empty --netns= accepted");
	case_end();

	case_begin("args-extra-arguments");
	EXPECT(parse(&o, err, "show", "extra", NULL) == -1, "show extra");
	EXPECT(parse(&o, err, "stats", "x", NULL) == -1, "stats x");
	EXPECT(parse(&o, err, "doctor", "x", NULL) == -1, "doctor x");
	case_end();

	case_begin("args-set-needs-assignment");
	EXPECT(parse(&o, err, "set", NULL) == -1, "bare set accepted");
	EXPECT(strstr(err, "KEY=VALUE") != NULL, "message: %s", err);
	EXPECT(parse(&o, err, "set", "timeout=5", "active=1", NULL) == 0,
	       "%s", err);
	EXPECT(o.command == CMD_SET && o.nargs == 2, "nargs %d", o.nargs);
	case_end();

	case_begin("args-get-keys");
	EXPECT(parse(&o, err, "get", NULL) == 0 && o.nargs == 0, "get");
	EXPECT(parse(&o, err, "get", "timeout", "enforce", NULL) == 0 &&
	       o.nargs == 2, "get two keys");
	case_end();

	case_begin("args-help-version");
	EXPECT(parse(&o, err, "--help", NULL) == 0 && o.command == CMD_HELP,
	       "--help");
	EXPECT(parse(&o, err, "show", "-h", NULL) == 0 &&
	       o.command == CMD_HELP, "show -h");
	EXPECT(parse(&o, err, "-V", NULL) == 0 && o.command == CMD_VERSION,
	       "-V");
	case_end();

	case_begin("args-double-dash");
	EXPECT(parse(&o, err, "get", "--", "--json", NULL) == 0 &&
	       !o.json && o.nargs == 1, "-- did not end options");
	case_end();
}

/* ---- policy ---- */

static bool valid(const char *key, const char *value)
{
	char err[ERRBUF_SIZE];

	return policy_validate(policy_key_find(key), value, err,
			       sizeof(err)) == 0;
}

static void test_policy(void)
{
	static const char *const bools[] = {
		"active", "passive", "allow_third_party", "enforce",
	};
	static const char *const ranges[] = { "active_ports", "passive_ports" };
#define ABI_NAME(key) #key,
	static const char *const abi[] = { PINHOLE_SYSCTLS(ABI_NAME) };
#undef ABI_NAME
	const struct policy_key *key;
	char err[ERRBUF_SIZE];
	const char *value;
	size_t i;

	case_begin("policy-keys-match-abi");
	EXPECT(policy_key_count == sizeof(abi) / sizeof(abi[0]),
	       "count %zu", policy_key_count);
	for (i = 0; i < policy_key_count; i++)
		EXPECT(strcmp(policy_key_at(i)->name, abi[i]) == 0 &&
		       policy_key_at(i)->kind != POLICY_GENERIC,
		       "key %zu: %s vs %s", i, policy_key_at(i)->name, abi[i]);
	case_end();

	for (i = 0; i < 4; i++) {
		char name[64];

		snprintf(name, sizeof(name), "policy-bool-%s", bools[i]);
		case_begin(name);
		EXPECT(valid(bools[i], "0") && valid(bools[i], "1"), "0/1");
		EXPECT(!valid(bools[i], "2"), "2 accepted");
		EXPECT(!valid(bools[i], "-1"), "-1 accepted");
		EXPECT(!valid(bools[i], ""), "empty accepted");
		EXPECT(!valid(bools[i], "yes"), "yes accepted");
		EXPECT(!valid(bools[i], "1 "), "trailing space accepted");
		policy_validate(policy_key_find(bools[i]), "7", err,
				sizeof(err));
		EXPECT(strstr(err, "0 or 1") != NULL, "message: %s", err);
		case_end();
	}

	case_begin("policy-max_pinholes-bounds");
	EXPECT(valid("max_pinholes", "1") && valid("max_pinholes", "64"),
	       "1/64");
	EXPECT(!valid("max_pinholes", "0") && !valid("max_pinholes", "65"),
	       "0/65 accepted");
	EXPECT(!valid("max_pinholes", "+5") && !valid("max_pinholes", "5x"),
	       "malformed accepted");
	policy_validate(policy_key_find("max_pinholes"), "0", err, sizeof(err));
	EXPECT(strstr(err, "1 to 64") != NULL, "message: %s", err);
	case_end();

	case_begin("policy-timeout-bounds");
	EXPECT(valid("timeout", "1") && valid("timeout", "3600"), "1/3600");
	EXPECT(!valid("timeout", "0") && !valid("timeout", "3601"),
	       "0/3601 accepted");
	EXPECT(!valid("timeout", "99999999999999999999"), "huge accepted");
	policy_validate(policy_key_find("timeout"), "0", err, sizeof(err));
	EXPECT(strstr(err, "1 to 3600") && strstr(err, "seconds"),
	       "message: %s", err);
	case_end();

	for (i = 0; i < 2; i++) {
		char name[64];

		snprintf(name, sizeof(name), "policy-range-%s", ranges[i]);
		case_begin(name);
		EXPECT(valid(ranges[i], "1024-65535"), "1024-65535");
		EXPECT(valid(ranges[i], "1-1"), "1-1");
		EXPECT(valid(ranges[i], "40000-40000"), "single port");
		EXPECT(!valid(ranges[i], "0-10"), "LO 0 accepted");
		EXPECT(!valid(ranges[i], "10-5"), "LO > HI accepted");
		EXPECT(!valid(ranges[i], "1-65536"), "HI 65536 accepted");
		EXPECT(!valid(ranges[i], "1024"), "no dash accepted");
		EXPECT(!valid(ranges[i], "1024-"), "no HI accepted");
		EXPECT(!valid(ranges[i], "-5"), "no LO accepted");
		EXPECT(!valid(ranges[i], "1-2-3"), "1-2-3 accepted");
		EXPECT(!valid(ranges[i], "a-b"), "a-b accepted");
		EXPECT(!valid(ranges[i], " 1-2"), "space accepted");
		policy_validate(policy_key_find(ranges[i]), "9-1", err,
				sizeof(err));
		EXPECT(strstr(err, "1 <= LO <= HI <= 65535") != NULL,
		       "message: %s", err);
		case_end();
	}

	case_begin("policy-assignment");
	EXPECT(policy_parse_assignment("timeout=30", &key, &value, err,
				       sizeof(err)) == 0, "%s", err);
	EXPECT(key && strcmp(key->name, "timeout") == 0 &&
	       strcmp(value, "30") == 0, "split wrong");
	EXPECT(policy_parse_assignment("timeout", &key, &value, err,
				       sizeof(err)) == -1, "no '=' accepted");
	EXPECT(strstr(err, "KEY=VALUE") != NULL, "message: %s", err);
	EXPECT(policy_parse_assignment("nosuch=1", &key, &value, err,
				       sizeof(err)) == -1, "unknown key");
	EXPECT(strstr(err, "nosuch") && strstr(err, "max_pinholes"),
	       "message: %s", err);
	EXPECT(policy_parse_assignment("=1", &key, &value, err,
				       sizeof(err)) == -1, "empty key");
	EXPECT(policy_parse_assignment("timeout=", &key, &value, err,
				       sizeof(err)) == -1, "empty value");
	case_end();
}

/* ---- stats ---- */

static void test_stats(void)
{
	char err[ERRBUF_SIZE];
	struct stats st;
	size_t i;

	case_begin("stats-parse");
	EXPECT(stats_parse("lines_port 3\nrefused_encrypted 0\nnew_one 18446744073709551615\n",
			   &st, err, sizeof(err)) == 0, "%s", err);
	EXPECT(st.count == 3, "count %zu", st.count);
	EXPECT(stats_value(&st, "lines_port") == 3, "lines_port");
	EXPECT(stats_value(&st, "new_one") == 18446744073709551615ULL,
	       "u64 max");
	EXPECT(stats_has(&st, "refused_encrypted") &&
	       !stats_has(&st, "nothing"), "has");
	case_end();

	case_begin("stats-parse-malformed");
	EXPECT(stats_parse("lines_port\n", &st, err, sizeof(err)) == -1,
	       "no value accepted");
	EXPECT(stats_parse("lines_port x\n", &st, err, sizeof(err)) == -1,
	       "x accepted");
	EXPECT(stats_parse("lines_port 18446744073709551616\n", &st, err,
			   sizeof(err)) == -1, "overflow accepted");
	EXPECT(stats_parse("Bad-Name 1\n", &st, err, sizeof(err)) == -1,
	       "bad name accepted");
	EXPECT(strstr(err, "line 1") != NULL, "message: %s", err);
	EXPECT(stats_parse("", &st, err, sizeof(err)) == 0 && st.count == 0,
	       "empty");
	case_end();

	case_begin("stats-counter-names");
	for (i = 0; i < COUNTER_MAX; i++)
		EXPECT(counter_names[i] && counter_descriptions[i][0],
		       "counter %zu", i);
	EXPECT(strcmp(counter_names[0], "lines_port") == 0, "first");
	case_end();

	case_begin("stats-gauges");
	EXPECT(stat_is_gauge("sessions_open") && stat_is_gauge("pinholes_open"),
	       "gauges");
	EXPECT(!stat_is_gauge("pinholes_opened") && !stat_is_gauge("new_one"),
	       "counter as gauge");
	EXPECT(stat_description("sessions_open") &&
	       stat_description("lines_port") && !stat_description("new_one"),
	       "descriptions");
	case_end();

	case_begin("stats-delta");
	{
		struct stats a, b;

		stats_parse("x 5\ny 9\n", &a, err, sizeof(err));
		stats_parse("x 7\ny 3\nz 4\n", &b, err, sizeof(err));
		EXPECT(stats_delta(&a, &b, "x") == 2, "rise");
		EXPECT(stats_delta(&a, &b, "y") == 0, "fall counted");
		EXPECT(stats_delta(&a, &b, "z") == 4, "new name");
		EXPECT(stats_delta(&a, &b, "w") == 0, "absent");
	}
	case_end();
}

/* ---- JSON ---- */

/* Output goes to *buf, valid after fclose(). */
static FILE *capture(char **buf, size_t *len)
{
	*buf = NULL;
	return open_memstream(buf, len);
}

static void test_json(void)
{
	char *buf = NULL;
	json_error_t jerr;
	json_t *v, *doc;
	size_t len;
	FILE *f;

	case_begin("json-document");
	doc = doc_new();
	jset(doc, "s", json_string("quote\" backslash\\ nl\n tab\t ctl\x01"));
	jset(doc, "empty", json_array());
	f = capture(&buf, &len);
	EXPECT(doc_print(f, doc) == 0, "print failed");
	fclose(f);
	EXPECT(buf && strchr(buf, '\n') == buf + strlen(buf) - 1,
	       "not one line: %s", buf);
	v = json_loads(buf, 0, &jerr);
	EXPECT(v != NULL, "%s in %s", jerr.text, buf);
	EXPECT(json_integer_value(json_object_get(json_object_get(v, "metainfo"),
			"json_schema_version")) == PINHOLECTL_JSON_SCHEMA_VERSION,
	       "schema version");
	EXPECT(json_string_value(json_object_get(json_object_get(v, "metainfo"),
			"version")) &&
	       strcmp(json_string_value(json_object_get(json_object_get(v,
			"metainfo"), "version")), PINHOLECTL_VERSION) == 0,
	       "version");
	EXPECT(json_string_value(json_object_get(v, "s")) &&
	       strcmp(json_string_value(json_object_get(v, "s")),
		      "quote\" backslash\\ nl\n tab\t ctl\x01") == 0,
	       "string roundtrip");
	EXPECT(strncmp(buf, "{\"metainfo\": ", 13) == 0, "order: %s", buf);
	json_decref(v);
	free(buf);
	case_end();

	case_begin("json-stats");
	{
		struct stats st;
		char err[ERRBUF_SIZE];

		stats_parse("lines_port 3\nsessions_open 2\nnew_one 18446744073709551615\n",
			    &st, err, sizeof(err));
		f = capture(&buf, &len);
		EXPECT(stats_print_json(f, &st, "fw") == 0, "print");
		fclose(f);
		v = json_loads(buf, 0, &jerr);
		EXPECT(v != NULL, "%s", jerr.text);
		EXPECT(json_integer_value(json_object_get(json_object_get(v,
			"counters"), "lines_port")) == 3, "counter: %s", buf);
		EXPECT(json_integer_value(json_object_get(json_object_get(v,
			"gauges"), "sessions_open")) == 2, "gauge: %s", buf);
		EXPECT(!json_object_get(json_object_get(v, "counters"),
					"sessions_open"), "gauge in counters");
		EXPECT(json_is_string(json_object_get(json_object_get(v,
			"counters"), "new_one")), "u64 beyond int64: %s", buf);
		EXPECT(strcmp(json_string_value(json_object_get(v, "netns")),
			      "fw") == 0, "netns");
		json_decref(v);
		free(buf);
	}
	case_end();

	case_begin("openmetrics");
	{
		struct stats st;
		char err[ERRBUF_SIZE];

		stats_parse("lines_port 3\npinholes_open 1\nnew_one 4\n",
			    &st, err, sizeof(err));
		f = capture(&buf, &len);
		stats_print_openmetrics(f, &st, "a\"b\\c");
		fclose(f);
		EXPECT(strstr(buf, "# HELP pinhole_ftp_lines_port PORT commands seen\n# TYPE pinhole_ftp_lines_port counter\npinhole_ftp_lines_port_total{netns=\"a\\\"b\\\\c\"} 3\n"),
		       "counter: %s", buf);
		EXPECT(strstr(buf, "# TYPE pinhole_ftp_pinholes_open gauge\npinhole_ftp_pinholes_open{netns="),
		       "gauge: %s", buf);
		EXPECT(strstr(buf, "# TYPE pinhole_ftp_new_one counter\npinhole_ftp_new_one_total{"),
		       "unknown name: %s", buf);
		EXPECT(len >= 6 && strcmp(buf + len - 6, "# EOF\n") == 0,
		       "no # EOF: %s", buf);
		free(buf);
	}
	case_end();
}

/* ---- doctor ---- */

static const char nft_ok[] =
	"{\"nftables\": [{\"metainfo\": {\"json_schema_version\": 1}},"
	"{\"ct helper\": {\"family\": \"inet\", \"name\": \"h\", \"table\": \"f\", \"type\": \"pinhole-ftp\", \"protocol\": \"tcp\"}},"
	"{\"chain\": {\"family\": \"inet\", \"table\": \"f\", \"name\": \"pre\", \"hook\": \"prerouting\", \"prio\": 0, \"policy\": \"accept\"}},"
	"{\"chain\": {\"family\": \"inet\", \"table\": \"f\", \"name\": \"fw\", \"hook\": \"forward\", \"prio\": 0, \"policy\": \"drop\"}},"
	"{\"rule\": {\"family\": \"inet\", \"table\": \"f\", \"chain\": \"pre\", \"expr\": ["
	"{\"match\": {\"op\": \"==\", \"left\": {\"payload\": {\"protocol\": \"tcp\", \"field\": \"dport\"}}, \"right\": 21}},"
	"{\"ct helper\": \"h\"}]}},"
	"{\"rule\": {\"family\": \"inet\", \"table\": \"f\", \"chain\": \"fw\", \"expr\": ["
	"{\"match\": {\"op\": \"in\", \"left\": {\"ct\": {\"key\": \"state\"}}, \"right\": [\"established\", \"related\"]}},"
	"{\"accept\": null}]}}]}";

static size_t finding_index(const struct doctor_report *r, const char *id)
{
	size_t i;

	for (i = 0; i < r->count; i++)
		if (strcmp(r->finding[i].id, id) == 0)
			return i;
	return r->count;
}

static enum severity finding_severity(const struct doctor_report *r,
				      const char *id)
{
	size_t i = finding_index(r, id);

	return i < r->count ? r->finding[i].severity : (enum severity)-1;
}

/* base with its first occurrence of from replaced by to (malloc'd). */
static char *replaced(const char *base, const char *from, const char *to)
{
	const char *p = strstr(base, from);
	char *out;

	if (!p)
		return strdup("broken variant");
	out = malloc(strlen(base) + strlen(to) + 1);
	sprintf(out, "%.*s%s%s", (int)(p - base), base, to, p + strlen(from));
	return out;
}

static char *nft_variant(const char *from, const char *to)
{
	return replaced(nft_ok, from, to);
}

static void test_doctor_rulesets(struct doctor_input *in)
{
	struct doctor_report r;
	char *v;

	case_begin("doctor-raw-priority");
	v = nft_variant("\"prio\": 0", "\"prio\": -300");
	in->nft_json = v;
	doctor_analyse(in, &r);
	EXPECT(finding_severity(&r, "helper_before_conntrack") == SEV_ERROR,
	       "not an error");
	EXPECT(doctor_status(&r) == 1, "status");
	EXPECT(r.count && strstr(r.finding[0].problem, "-300") &&
	       strstr(r.finding[0].problem, "inet f pre"),
	       "problem: %s", r.count ? r.finding[0].problem : "");
	free(v);
	v = nft_variant("\"prio\": 0", "\"prio\": -200");
	in->nft_json = v;
	doctor_analyse(in, &r);
	EXPECT(r.count == 0, "priority -200 reported");
	free(v);
	case_end();

	case_begin("doctor-sport-only");
	v = nft_variant("\"dport\"}}, \"right\": 21", "\"sport\"}}, \"right\": 21");
	in->nft_json = v;
	doctor_analyse(in, &r);
	EXPECT(finding_severity(&r, "helper_on_sport") == SEV_ERROR,
	       "not an error (%zu findings)", r.count);
	EXPECT(finding_index(&r, "helper_not_attached") == r.count,
	       "also not-attached");
	free(v);
	case_end();

	case_begin("doctor-l3proto-ip");
	v = nft_variant("\"protocol\": \"tcp\"}", "\"protocol\": \"tcp\", \"l3proto\": \"ip\"}");
	in->nft_json = v;
	doctor_analyse(in, &r);
	EXPECT(finding_severity(&r, "helper_ipv4_only") == SEV_WARNING,
	       "not a warning");
	EXPECT(doctor_status(&r) == 0, "warning fails");
	free(v);
	v = nft_variant("\"protocol\": \"tcp\"}", "\"protocol\": \"tcp\", \"l3proto\": \"inet\"}");
	in->nft_json = v;
	doctor_analyse(in, &r);
	EXPECT(r.count == 0, "l3proto inet reported");
	free(v);
	case_end();

	case_begin("doctor-stock-beside");
	v = nft_variant("{\"chain\":",
			"{\"ct helper\": {\"family\": \"inet\", \"name\": \"s\", \"table\": \"f\", \"type\": \"ftp\", \"protocol\": \"tcp\"}},"
			"{\"rule\": {\"family\": \"inet\", \"table\": \"f\", \"chain\": \"pre\", \"expr\": [{\"ct helper\": \"s\"}]}},{\"chain\":");
	in->nft_json = v;
	doctor_analyse(in, &r);
	EXPECT(finding_severity(&r, "stock_helper_beside") == SEV_WARNING,
	       "not reported (%zu)", r.count);
	free(v);
	case_end();

	case_begin("doctor-local-server-input");
	v = nft_variant("\"hook\": \"forward\"", "\"hook\": \"input\"");
	in->nft_json = v;
	doctor_analyse(in, &r);
	EXPECT(r.count == 0, "related accepted in input reported");
	free(v);
	v = nft_variant("\"chain\": \"fw\"", "\"chain\": \"elsewhere\"");
	in->nft_json = v;
	doctor_analyse(in, &r);
	EXPECT(r.count == 0, "reported without a listening server");
	{
		static const unsigned int port21[] = { 21 };
		char *w = nft_variant("\"hook\": \"forward\"", "\"hook\": \"input\"");
		/* the related rule moves to the prerouting chain */
		char *x = replaced(w, "\"chain\": \"fw\", \"expr\"",
				   "\"chain\": \"pre\", \"expr\"");

		free(w);
		w = x;
		in->nft_json = w;
		in->listen = port21;
		in->nlisten = 1;
		doctor_analyse(in, &r);
		EXPECT(finding_severity(&r, "related_not_accepted_input") ==
		       SEV_ERROR, "not reported (%zu)", r.count);
		in->nlisten = 0;
		doctor_analyse(in, &r);
		EXPECT(r.count == 0, "reported without a server");
		{
			static const unsigned int port2121[] = { 22, 2121 };
			char *y = replaced(w, "\"right\": 21}", "\"right\": 2121}");

			in->nft_json = y;
			in->listen = port2121;
			in->nlisten = 2;
			doctor_analyse(in, &r);
			EXPECT(finding_index(&r, "related_not_accepted_input") < r.count &&
			       strstr(r.finding[finding_index(&r, "related_not_accepted_input")].problem,
				      "port 2121"), "helper's port 2121 (%zu)", r.count);
			in->nlisten = 1;
			doctor_analyse(in, &r);
			EXPECT(r.count == 0, "port 22 taken for FTP");
			in->nlisten = 0;
			free(y);
		}
		free(w);
	}
	free(v);
	case_end();
	in->nft_json = nft_ok;
}

static void test_doctor_counters(struct doctor_input *in)
{
	struct doctor_report r;
	struct stats a, b;
	char err[ERRBUF_SIZE];

	case_begin("doctor-counters-rates");
	stats_parse("lines_port 4\nrefused_privileged_port 7\nrefused_mode_disabled 1\nrefused_encrypted 3\nrefused_limit_reached 5\nalloc_failures 2\n",
		    &a, err, sizeof(err));
	in->before = &a;
	in->after = &a;
	in->since = 5;
	doctor_analyse(in, &r);
	EXPECT(r.count == 0, "totals judged: %zu findings", r.count);
	stats_parse("lines_port 9\nrefused_privileged_port 9\nrefused_mode_disabled 1\nrefused_encrypted 4\nrefused_limit_reached 8\nalloc_failures 2\n",
		    &b, err, sizeof(err));
	in->after = &b;
	doctor_analyse(in, &r);
	EXPECT(r.count == 3, "%zu findings", r.count);
	EXPECT(finding_severity(&r, "refused_privileged_port") == SEV_WARNING,
	       "privileged");
	EXPECT(finding_severity(&r, "refused_encrypted") == SEV_INFO,
	       "FTPS not info");
	EXPECT(finding_severity(&r, "refused_limit_reached") == SEV_INFO,
	       "supersession not info");
	EXPECT(finding_index(&r, "refused_limit_reached") < r.count &&
	       !strstr(r.finding[finding_index(&r, "refused_limit_reached")].fix,
		       "set max_pinholes"), "advises max_pinholes");
	EXPECT(r.count && strstr(r.finding[0].problem, "rose by 2 in 5 s"),
	       "problem: %s", r.count ? r.finding[0].problem : "");
	EXPECT(doctor_status(&r) == 0, "warnings and info fail");
	stats_parse("alloc_failures 3\n", &b, err, sizeof(err));
	doctor_analyse(in, &r);
	EXPECT(finding_severity(&r, "alloc_failures") == SEV_ERROR &&
	       doctor_status(&r) == 1, "alloc failures now");
	in->before = in->after = NULL;
	case_end();
}

static void test_doctor(void)
{
	struct doctor_input in = { .module_loaded = true,
				   .helper = "pinhole-ftp",
				   .nft_json = nft_ok };
	struct module_install mi = { .release = "6.1.0-99-amd64" };
	struct ruleset_facts facts;
	struct doctor_report r;
	json_error_t jerr;
	json_t *root;

	case_begin("doctor-nft-facts");
	root = json_loads(nft_ok, 0, &jerr);
	EXPECT(root != NULL, "%s", jerr.text);
	memset(&facts, 0, sizeof(facts));
	nft_ruleset_facts(root, "pinhole-ftp", &facts);
	EXPECT(facts.readable && facts.helper_object &&
	       facts.helper_attached && facts.helper_on_port21 &&
	       facts.related_accepted && facts.drops, "facts wrong");
	EXPECT(facts.hook_drops[HOOK_FORWARD] &&
	       facts.hook_related[HOOK_FORWARD] &&
	       !facts.hook_drops[HOOK_INPUT], "per hook");
	EXPECT(strcmp(facts.helper_object_name, "h") == 0, "object name");
	memset(&facts, 0, sizeof(facts));
	nft_ruleset_facts(root, "ftp", &facts);
	EXPECT(!facts.helper_attached && !facts.helper_object,
	       "other helper name matched");
	json_decref(root);
	case_end();

	case_begin("doctor-clean");
	doctor_analyse(&in, &r);
	EXPECT(r.count == 0, "%zu findings, first: %s", r.count,
	       r.count ? r.finding[0].problem : "");
	EXPECT(doctor_status(&r) == 0, "status");
	case_end();

	case_begin("doctor-module-not-loaded");
	in.module_loaded = false;
	doctor_analyse(&in, &r);
	EXPECT(finding_index(&r, "module_not_loaded") == 0 && r.count == 1,
	       "findings %zu", r.count);
	EXPECT(r.count && strstr(r.finding[0].fix, "modprobe nf_pinhole_ftp"),
	       "fix: %s", r.count ? r.finding[0].fix : "");
	EXPECT(doctor_status(&r) == 1, "status");
	case_end();

	case_begin("doctor-module-not-installed");
	in.install = &mi;
	snprintf(mi.other_releases, sizeof(mi.other_releases),
		 "6.1.0-98-amd64");
	doctor_analyse(&in, &r);
	EXPECT(finding_severity(&r, "module_not_installed") == SEV_ERROR,
	       "not reported");
	EXPECT(r.count && strstr(r.finding[0].problem, "running kernel 6.1.0-99-amd64") &&
	       strstr(r.finding[0].problem, "installed for 6.1.0-98-amd64") &&
	       strstr(r.finding[0].fix, "dkms autoinstall -k 6.1.0-99-amd64"),
	       "text: %s / %s", r.count ? r.finding[0].problem : "",
	       r.count ? r.finding[0].fix : "");
	mi.installed = true;
	doctor_analyse(&in, &r);
	EXPECT(finding_index(&r, "module_not_loaded") == 0, "installed");
	in.install = NULL;
	in.module_loaded = true;
	case_end();

	case_begin("doctor-unreadable-ruleset");
	in.nft_json = NULL;
	doctor_analyse(&in, &r);
	EXPECT(finding_index(&r, "ruleset_unreadable") < r.count,
	       "not reported");
	in.nft_json = "{\"nftables\": [1, }";
	doctor_analyse(&in, &r);
	EXPECT(finding_index(&r, "ruleset_invalid") == 0 &&
	       strstr(r.finding[0].problem, "line 1, column"),
	       "bad JSON: %s", r.count ? r.finding[0].problem : "");
	in.nft_json = "{\"nftables\": [], \"nftables\": []}";
	doctor_analyse(&in, &r);
	EXPECT(finding_index(&r, "ruleset_invalid") == 0, "duplicate keys");
	in.nft_json = nft_ok;
	case_end();

	case_begin("doctor-hostile-json");
	{
		size_t n = 100000, i;
		char *deep = malloc(2 * n + 1);

		for (i = 0; i < n; i++) {
			deep[i] = '[';
			deep[n + i] = ']';
		}
		deep[2 * n] = '\0';
		in.nft_json = deep;
		doctor_analyse(&in, &r);
		EXPECT(finding_index(&r, "ruleset_invalid") == 0,
		       "deep nesting");
		in.nft_json = "{\"nftables\": [{\"rule\": {\"expr\": 5, \"chain\": 7}}, {\"ct helper\": [1]}, {\"chain\": \"x\"}, 3, null]}";
		doctor_analyse(&in, &r);
		EXPECT(finding_index(&r, "helper_not_attached") < r.count,
		       "wrong types");
		free(deep);
		in.nft_json = nft_ok;
	}
	case_end();

	case_begin("doctor-iptables-facts");
	memset(&facts, 0, sizeof(facts));
	iptables_save_facts("*raw\n-A PREROUTING -p tcp -m tcp --dport 21 -j CT --helper pinhole-ftp\nCOMMIT\n"
			    "*filter\n:INPUT DROP [0:0]\n-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\nCOMMIT\n",
			    "pinhole-ftp", &facts);
	EXPECT(facts.helper_attached && facts.helper_on_port21 &&
	       facts.related_accepted && facts.drops &&
	       facts.hook_related[HOOK_INPUT], "facts wrong");
	memset(&facts, 0, sizeof(facts));
	iptables_save_facts("*filter\n-A INPUT -m conntrack ! --ctstate RELATED -j ACCEPT\n-A INPUT -j DROP\n",
			    "pinhole-ftp", &facts);
	EXPECT(!facts.related_accepted && facts.drops, "negation counted");
	memset(&facts, 0, sizeof(facts));
	iptables_save_facts("*raw\n-A PREROUTING -p tcp --dport 21 -j CT --helper ftp\n",
			    "pinhole-ftp", &facts);
	EXPECT(!facts.helper_attached && facts.stock_helper_attached,
	       "stock helper");
	memset(&facts, 0, sizeof(facts));
	iptables_save_facts("*raw\n-A PREROUTING -p tcp --sport 21 -j CT --helper pinhole-ftp\n",
			    "pinhole-ftp", &facts);
	EXPECT(!facts.helper_attached && facts.helper_on_sport21,
	       "sport 21");
	case_end();

	test_doctor_rulesets(&in);
	test_doctor_counters(&in);

	case_begin("doctor-modes-disabled");
	in.policy_active = "0";
	in.policy_passive = "0";
	doctor_analyse(&in, &r);
	EXPECT(finding_severity(&r, "modes_disabled") == SEV_WARNING,
	       "not reported");
	in.policy_passive = "1";
	doctor_analyse(&in, &r);
	EXPECT(finding_index(&r, "modes_disabled") == r.count,
	       "one mode on reported");
	case_end();
}

/* ---- format ---- */

/* The value at "a.b.0.c" (numbers index arrays), NULL when absent. */
static json_t *jpath(json_t *v, const char *path)
{
	char key[64];
	size_t n;

	while (v && *path) {
		n = strcspn(path, ".");
		snprintf(key, sizeof(key), "%.*s", (int)n, path);
		if (json_is_array(v))
			v = json_array_get(v, strtoul(key, NULL, 10));
		else
			v = json_object_get(v, key);
		path += n + (path[n] == '.');
	}
	return v;
}

static bool jstr_is(json_t *v, const char *want)
{
	return json_is_string(v) && strcmp(json_string_value(v), want) == 0;
}

static struct ph_tuple tuple4(const char *src, uint16_t sport,
			      const char *dst, uint16_t dport)
{
	struct ph_tuple t = { .family = AF_INET, .l4proto = 6,
			      .sport = sport, .dport = dport };

	inet_pton(AF_INET, src, &t.src.v4);
	inet_pton(AF_INET, dst, &t.dst.v4);
	return t;
}

static void test_format(void)
{
	struct ph_session s = { .timeout = 400, .encrypted = 0,
				.helper = "pinhole-ftp" };
	struct ph_pinhole p[2] = { 0 };
	struct ph_data d = { .timeout = 100 };
	struct ph_snapshot snap = { &s, 1, p, 1, &d, 0 };
	struct ph_tuple t6 = { .family = AF_INET6 };
	char buf[128], *out;
	json_error_t jerr;
	json_t *v;
	size_t len;
	FILE *f;

	s.orig = tuple4("192.0.2.10", 40000, "198.51.100.7", 21);
	s.reply = tuple4("198.51.100.7", 21, "192.0.2.10", 40000);
	p[0].master = s.orig;
	p[0].expected = tuple4("192.0.2.10", 0, "198.51.100.7", 50000);
	p[0].timeout = 290;
	snprintf(p[0].helper, sizeof(p[0].helper), "pinhole-ftp");
	p[1] = p[0];
	p[1].expected = tuple4("198.51.100.7", 0, "192.0.2.10", 45000);
	d.master = s.orig;
	d.orig = tuple4("198.51.100.7", 20, "192.0.2.10", 45000);

	case_begin("format-endpoints");
	inet_pton(AF_INET6, "2001:db8::1", &t6.src.v6);
	endpoint_format(buf, sizeof(buf), AF_INET6, &t6.src, 21);
	EXPECT(strcmp(buf, "[2001:db8::1]:21") == 0, "v6: %s", buf);
	endpoint_format(buf, sizeof(buf), AF_INET, &s.orig.src, 40000);
	EXPECT(strcmp(buf, "192.0.2.10:40000") == 0, "v4: %s", buf);
	case_end();

	case_begin("format-modes");
	EXPECT(pinhole_mode(&p[0]) == MODE_PASSIVE, "to server not passive");
	EXPECT(pinhole_mode(&p[1]) == MODE_ACTIVE, "to client not active");
	EXPECT(data_mode(&d) == MODE_ACTIVE, "data not active");
	EXPECT(strcmp(session_mode(&snap, &s), "passive") == 0, "passive");
	snap.pinholes = 2;
	EXPECT(strcmp(session_mode(&snap, &s), "mixed") == 0, "mixed");
	snap.pinholes = 0;
	EXPECT(strcmp(session_mode(&snap, &s), "idle") == 0, "idle");
	snap.datas = 1;
	EXPECT(strcmp(session_mode(&snap, &s), "active") == 0,
	       "active from data");
	snap.pinholes = 1;
	case_end();

	case_begin("format-show-json");
	f = capture(&out, &len);
	show_print_json(f, &snap);
	fclose(f);
	v = json_loads(out, 0, &jerr);
	EXPECT(v != NULL, "%s: %s", jerr.text, out);
	EXPECT(json_array_size(jpath(v, "sessions")) == 1, "sessions: %s", out);
	EXPECT(jstr_is(jpath(v, "sessions.0.client.address"), "192.0.2.10"),
	       "client");
	EXPECT(json_integer_value(jpath(v, "sessions.0.server.port")) == 21,
	       "server port");
	EXPECT(json_is_false(jpath(v, "sessions.0.encrypted")), "encrypted");
	EXPECT(jstr_is(jpath(v, "sessions.0.mode"), "mixed"), "mode");
	EXPECT(json_array_size(jpath(v, "sessions.0.pinholes")) == 1,
	       "pinholes");
	EXPECT(json_integer_value(jpath(v, "sessions.0.pinholes.0.destination.port")) ==
	       50000, "pinhole port");
	EXPECT(json_array_size(jpath(v, "sessions.0.data")) == 1, "data");
	json_decref(v);
	free(out);
	case_end();

	case_begin("format-empty");
	{
		struct ph_snapshot none = { 0 };

		f = capture(&out, &len);
		show_print_text(f, &none);
		list_print_text(f, &none);
		show_print_json(f, &none);
		fclose(f);
		EXPECT(strncmp(out, "no FTP sessions\nno pinholes open\n{", 34) == 0,
		       "empty: %s", out);
		EXPECT(strstr(out, "\"sessions\": []"), "json: %s", out);
		free(out);
	}
	case_end();

	case_begin("format-show-text");
	f = capture(&out, &len);
	show_print_text(f, &snap);
	fclose(f);
	EXPECT(strstr(out, "session: 192.0.2.10:40000 -> 198.51.100.7:21\n") != NULL,
	       "header: %s", out);
	EXPECT(strstr(out, "  pinhole: 192.0.2.10 -> 198.51.100.7:50000 (passive, 290s left)\n") != NULL,
	       "pinhole line: %s", out);
	EXPECT(strstr(out, "  data: 198.51.100.7:20 -> 192.0.2.10:45000 (active, timeout 100s)\n") != NULL,
	       "data line: %s", out);
	EXPECT(strstr(out, "  encrypted: no\n") != NULL, "encrypted");
	free(out);
	case_end();

	case_begin("format-list-json");
	p[0].any_source = true;
	f = capture(&out, &len);
	list_print_json(f, &snap);
	fclose(f);
	v = json_loads(out, 0, &jerr);
	EXPECT(json_array_size(jpath(v, "pinholes")) == 1, "pinholes: %s", out);
	EXPECT(json_is_null(jpath(v, "pinholes.0.source.address")),
	       "any source not null");
	EXPECT(jstr_is(jpath(v, "pinholes.0.mode"), "passive"), "mode");
	EXPECT(json_integer_value(jpath(v, "pinholes.0.timeout")) == 290,
	       "timeout");
	EXPECT(jstr_is(jpath(v, "pinholes.0.session.client.address"),
		       "192.0.2.10"), "session");
	json_decref(v);
	free(out);
	case_end();

	case_begin("format-event-json");
	{
		struct timespec ts = { .tv_sec = 1700000000, .tv_nsec = 5000000 };
		struct ph_event ev = { .type = EVENT_OPENED, .when = &ts,
				       .pinhole = &p[1] };

		f = capture(&out, &len);
		event_print_json(f, &ev);
		fclose(f);
		EXPECT(strchr(out, '\n') == out + strlen(out) - 1,
		       "not one line: %s", out);
		v = json_loads(out, 0, &jerr);
		EXPECT(jstr_is(jpath(v, "event.type"), "opened"), "type: %s", out);
		EXPECT(json_string_value(jpath(v, "event.time")) &&
		       strstr(json_string_value(jpath(v, "event.time")), ".005"),
		       "time");
		EXPECT(jstr_is(jpath(v, "event.pinhole.mode"), "active"), "mode");
		json_decref(v);
		free(out);
	}
	case_end();
}

int main(void)
{
	setenv("TZ", "UTC", 1);
	test_args();
	test_policy();
	test_stats();
	test_json();
	test_doctor();
	test_format();
	return failures ? 1 : 0;
}
