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
	EXPECT(o.command == CMD_LIST && o.json, "not list -j");
	case_end();

	case_begin("args-netns");
	EXPECT(parse(&o, err, "--netns", "fw", "stats", NULL) == 0, "%s", err);
	EXPECT(o.netns && strcmp(o.netns, "fw") == 0, "netns not fw");
	EXPECT(parse(&o, err, "--netns=fw2", "stats", NULL) == 0, "%s", err);
	EXPECT(o.netns && strcmp(o.netns, "fw2") == 0, "netns not fw2");
	EXPECT(parse(&o, err, "stats", "--netns", NULL) == -1,
	       "--netns without a name accepted");
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
		EXPECT(strcmp(policy_keys[i].name, abi[i]) == 0,
		       "key %zu: %s vs %s", i, policy_keys[i].name, abi[i]);
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
	struct json_value *v;
	struct json_writer w;
	char err[ERRBUF_SIZE], *buf = NULL, deep[300];
	size_t len;
	FILE *f;

	case_begin("json-parse-valid");
	v = json_parse(" {\"a\": [1, -2.5e3, true, false, null], \"b\": \"x\\\"\\u00e9\\ud83d\\ude00\"} ",
		       err, sizeof(err));
	EXPECT(v != NULL, "%s", err);
	if (v) {
		EXPECT(json_get(v, "a")->count == 5, "array count");
		EXPECT(strcmp(json_get_string(v, "b"),
			      "x\"\xc3\xa9\xf0\x9f\x98\x80") == 0,
		       "escapes: %s", json_get_string(v, "b"));
		EXPECT(json_get(v, "c") == NULL, "missing key found");
	}
	json_free(v);
	case_end();

	case_begin("json-parse-invalid");
	EXPECT(!json_parse("{", err, sizeof(err)), "unterminated object");
	EXPECT(!json_parse("[1,]", err, sizeof(err)), "trailing comma");
	EXPECT(!json_parse("{\"a\" 1}", err, sizeof(err)), "missing colon");
	EXPECT(!json_parse("\"abc", err, sizeof(err)), "unterminated string");
	EXPECT(!json_parse("1 2", err, sizeof(err)), "trailing value");
	EXPECT(!json_parse("\"\\u0000\"", err, sizeof(err)), "NUL escape");
	EXPECT(!json_parse("\"a\x01\"", err, sizeof(err)), "control char");
	EXPECT(!json_parse("", err, sizeof(err)), "empty");
	EXPECT(!json_parse("tru", err, sizeof(err)), "tru");
	memset(deep, '[', sizeof(deep) - 1);
	deep[sizeof(deep) - 1] = '\0';
	EXPECT(!json_parse(deep, err, sizeof(err)), "deep nesting");
	EXPECT(strstr(err, "deeply") != NULL, "message: %s", err);
	case_end();

	case_begin("json-writer-roundtrip");
	f = capture(&buf, &len);
	jw_init(&w, f);
	jw_document_begin(&w, true);
	jw_object_begin(&w, NULL);
	jw_object_begin(&w, "thing");
	jw_string(&w, "s", "quote\" backslash\\ nl\n tab\t ctl\x01");
	jw_uint(&w, "n", 18446744073709551615ULL);
	jw_bool(&w, "t", true);
	jw_null(&w, "z");
	jw_array_begin(&w, "empty");
	jw_array_end(&w);
	jw_object_end(&w);
	jw_object_end(&w);
	jw_document_end(&w);
	fclose(f);
	v = json_parse(buf, err, sizeof(err));
	EXPECT(v != NULL, "%s in %s", err, buf);
	if (v) {
		const struct json_value *list = json_get(v, "pinhole");
		const struct json_value *meta, *thing;

		EXPECT(list && list->count == 2, "envelope");
		meta = json_get(list->items[0], "metainfo");
		EXPECT(meta && strcmp(json_get_string(meta, "version"),
				      PINHOLECTL_VERSION) == 0, "metainfo");
		EXPECT(strcmp(json_get(meta, "json_schema_version")->text,
			      "1") == 0, "schema version");
		thing = json_get(list->items[1], "thing");
		EXPECT(strcmp(json_get_string(thing, "s"),
			      "quote\" backslash\\ nl\n tab\t ctl\x01") == 0,
		       "string roundtrip");
		EXPECT(strcmp(json_get(thing, "n")->text,
			      "18446744073709551615") == 0, "u64");
		EXPECT(json_get(thing, "t")->type == JSON_TRUE, "bool");
		EXPECT(json_get(thing, "z")->type == JSON_NULL, "null");
		EXPECT(json_get(thing, "empty")->count == 0, "empty array");
	}
	json_free(v);
	free(buf);
	case_end();
}

/* ---- doctor ---- */

static const char nft_ok[] =
	"{\"nftables\": [{\"metainfo\": {\"json_schema_version\": 1}},"
	"{\"ct helper\": {\"family\": \"inet\", \"name\": \"h\", \"table\": \"f\", \"type\": \"pinhole-ftp\", \"protocol\": \"tcp\"}},"
	"{\"chain\": {\"family\": \"inet\", \"table\": \"f\", \"name\": \"fw\", \"hook\": \"forward\", \"policy\": \"drop\"}},"
	"{\"rule\": {\"family\": \"inet\", \"table\": \"f\", \"chain\": \"pre\", \"expr\": ["
	"{\"match\": {\"op\": \"==\", \"left\": {\"payload\": {\"protocol\": \"tcp\", \"field\": \"dport\"}}, \"right\": 21}},"
	"{\"ct helper\": \"h\"}]}},"
	"{\"rule\": {\"family\": \"inet\", \"table\": \"f\", \"chain\": \"fw\", \"expr\": ["
	"{\"match\": {\"op\": \"in\", \"left\": {\"ct\": {\"key\": \"state\"}}, \"right\": [\"established\", \"related\"]}},"
	"{\"accept\": null}]}}]}";

static bool has_finding(const struct doctor_report *r, const char *id)
{
	size_t i;

	for (i = 0; i < r->count; i++)
		if (strcmp(r->finding[i].id, id) == 0)
			return true;
	return false;
}

static void test_doctor(void)
{
	struct doctor_input in = { .module_loaded = true,
				   .helper = "pinhole-ftp",
				   .nft_json = nft_ok };
	struct ruleset_facts facts;
	struct json_value *root;
	struct doctor_report r;
	char err[ERRBUF_SIZE];
	struct stats st;

	case_begin("doctor-nft-facts");
	root = json_parse(nft_ok, err, sizeof(err));
	EXPECT(root != NULL, "%s", err);
	memset(&facts, 0, sizeof(facts));
	nft_ruleset_facts(root, "pinhole-ftp", &facts);
	EXPECT(facts.readable && facts.helper_object &&
	       facts.helper_attached && facts.helper_on_port21 &&
	       facts.related_accepted && facts.drops, "facts wrong");
	EXPECT(strcmp(facts.helper_object_name, "h") == 0, "object name");
	memset(&facts, 0, sizeof(facts));
	nft_ruleset_facts(root, "ftp", &facts);
	EXPECT(!facts.helper_attached && !facts.helper_object,
	       "other helper name matched");
	json_free(root);
	case_end();

	case_begin("doctor-clean");
	doctor_analyse(&in, &r);
	EXPECT(r.count == 0, "%zu findings, first: %s", r.count,
	       r.count ? r.finding[0].problem : "");
	case_end();

	case_begin("doctor-module-not-loaded");
	in.module_loaded = false;
	doctor_analyse(&in, &r);
	EXPECT(has_finding(&r, "module_not_loaded") && r.count == 1,
	       "findings %zu", r.count);
	EXPECT(strstr(r.finding[0].fix, "modprobe nf_pinhole_ftp") != NULL,
	       "fix: %s", r.finding[0].fix);
	in.module_loaded = true;
	case_end();

	case_begin("doctor-unreadable-ruleset");
	in.nft_json = NULL;
	doctor_analyse(&in, &r);
	EXPECT(has_finding(&r, "ruleset_unreadable"), "not reported");
	in.nft_json = "not json";
	doctor_analyse(&in, &r);
	EXPECT(has_finding(&r, "ruleset_unreadable"), "bad JSON not reported");
	in.nft_json = nft_ok;
	case_end();

	case_begin("doctor-iptables-facts");
	memset(&facts, 0, sizeof(facts));
	iptables_save_facts("*raw\n-A PREROUTING -p tcp -m tcp --dport 21 -j CT --helper pinhole-ftp\nCOMMIT\n"
			    "*filter\n:INPUT DROP [0:0]\n-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\nCOMMIT\n",
			    "pinhole-ftp", &facts);
	EXPECT(facts.helper_attached && facts.helper_on_port21 &&
	       facts.related_accepted && facts.drops, "facts wrong");
	memset(&facts, 0, sizeof(facts));
	iptables_save_facts("*filter\n-A INPUT -m conntrack ! --ctstate RELATED -j ACCEPT\n-A INPUT -j DROP\n",
			    "pinhole-ftp", &facts);
	EXPECT(!facts.related_accepted && facts.drops, "negation counted");
	memset(&facts, 0, sizeof(facts));
	iptables_save_facts("*raw\n-A PREROUTING -p tcp --dport 21 -j CT --helper ftp\n",
			    "pinhole-ftp", &facts);
	EXPECT(!facts.helper_attached && facts.stock_helper_attached,
	       "stock helper");
	case_end();

	case_begin("doctor-counters");
	EXPECT(stats_parse("lines_port 4\nrefused_privileged_port 2\nrefused_mode_disabled 1\nrefused_encrypted 3\n",
			   &st, err, sizeof(err)) == 0, "%s", err);
	in.stats = &st;
	doctor_analyse(&in, &r);
	EXPECT(r.count == 3, "%zu findings", r.count);
	EXPECT(has_finding(&r, "refused_privileged_port") &&
	       has_finding(&r, "refused_mode_disabled") &&
	       has_finding(&r, "refused_encrypted"), "ids");
	EXPECT(r.count == 3 && strstr(r.finding[1].fix, "pinholectl set active=1"),
	       "mode fix: %s", r.finding[1].fix);
	EXPECT(r.count == 3 && strstr(r.finding[2].fix, "SFTP"),
	       "encrypted fix: %s", r.finding[2].fix);
	EXPECT(r.count == 3 && strstr(r.finding[0].problem, "=2"),
	       "count not named: %s", r.finding[0].problem);
	in.stats = NULL;
	case_end();

	case_begin("doctor-modes-disabled");
	in.policy_active = "0";
	in.policy_passive = "0";
	doctor_analyse(&in, &r);
	EXPECT(has_finding(&r, "modes_disabled"), "not reported");
	in.policy_passive = "1";
	doctor_analyse(&in, &r);
	EXPECT(!has_finding(&r, "modes_disabled"), "one mode on reported");
	case_end();
}

/* ---- format ---- */

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
	const struct json_value *list, *sess, *holes;
	char buf[128], err[ERRBUF_SIZE], *out;
	struct json_value *v;
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
	v = json_parse(out, err, sizeof(err));
	EXPECT(v != NULL, "%s: %s", err, out);
	list = json_get(v, "pinhole");
	EXPECT(list && list->count == 2, "envelope");
	if (list && list->count == 2) {
		sess = json_get(list->items[1], "session");
		EXPECT(strcmp(json_get_string(json_get(sess, "client"),
					      "address"), "192.0.2.10") == 0,
		       "client");
		EXPECT(strcmp(json_get(json_get(sess, "server"), "port")->text,
			      "21") == 0, "server port");
		EXPECT(json_get(sess, "encrypted")->type == JSON_FALSE,
		       "encrypted");
		EXPECT(strcmp(json_get_string(sess, "mode"), "mixed") == 0,
		       "mode %s", json_get_string(sess, "mode"));
		holes = json_get(sess, "pinholes");
		EXPECT(holes && holes->count == 1, "pinholes");
		EXPECT(holes && holes->count == 1 &&
		       strcmp(json_get(json_get(holes->items[0],
				"destination"), "port")->text, "50000") == 0,
		       "pinhole port");
		EXPECT(json_get(sess, "data")->count == 1, "data");
	}
	json_free(v);
	free(out);
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
	v = json_parse(out, err, sizeof(err));
	list = json_get(v, "pinhole");
	EXPECT(list && list->count == 2, "envelope: %s", out);
	if (list && list->count == 2) {
		const struct json_value *hole = json_get(list->items[1],
							 "pinhole");

		EXPECT(json_get(json_get(hole, "source"), "address")->type ==
		       JSON_NULL, "any source not null");
		EXPECT(strcmp(json_get_string(hole, "mode"), "passive") == 0,
		       "mode");
		EXPECT(strcmp(json_get(hole, "timeout")->text, "290") == 0,
		       "timeout");
		EXPECT(strcmp(json_get_string(json_get(json_get(hole, "session"),
				"client"), "address"), "192.0.2.10") == 0,
		       "session");
	}
	json_free(v);
	free(out);
	case_end();

	case_begin("format-event-json");
	{
		struct timespec ts = { .tv_sec = 1700000000, .tv_nsec = 5000000 };
		struct ph_event ev = { .type = EVENT_OPENED, .when = &ts,
				       .pinhole = &p[1] };
		const struct json_value *e;

		f = capture(&out, &len);
		event_print_json(f, &ev);
		fclose(f);
		EXPECT(strchr(out, '\n') == out + strlen(out) - 1,
		       "not one line: %s", out);
		v = json_parse(out, err, sizeof(err));
		list = json_get(v, "pinhole");
		e = list && list->count == 1 ?
		    json_get(list->items[0], "event") : NULL;
		EXPECT(e != NULL, "no event: %s", out);
		EXPECT(e && strcmp(json_get_string(e, "type"), "opened") == 0,
		       "type");
		EXPECT(e && strstr(json_get_string(e, "time"), ".005") != NULL,
		       "time %s", e ? json_get_string(e, "time") : "");
		EXPECT(e && strcmp(json_get_string(json_get(e, "pinhole"),
						   "mode"), "active") == 0,
		       "mode");
		json_free(v);
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
