// SPDX-License-Identifier: GPL-2.0
/*
 * pinholectl doctor: why FTP through this host may fail, and the fix.
 *
 * doctor_analyse() is pure: it judges texts and values handed to it (the
 * nft JSON ruleset, iptables-save output, counters, policy), so tests
 * stage each fault with fixture files. main.c gathers the real inputs.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "pinholectl.h"

/* ---- nftables: `nft -j list ruleset` ---- */

static bool json_has_key(const struct json_value *v, const char *key)
{
	size_t i;

	if (!v || (v->type != JSON_OBJECT && v->type != JSON_ARRAY))
		return false;
	for (i = 0; i < v->count; i++) {
		if (v->type == JSON_OBJECT && strcmp(v->keys[i], key) == 0)
			return true;
		if (json_has_key(v->items[i], key))
			return true;
	}
	return false;
}

static bool json_has_string(const struct json_value *v, const char *s)
{
	size_t i;

	if (!v)
		return false;
	if (v->type == JSON_STRING)
		return strcmp(v->text, s) == 0;
	if (v->type != JSON_OBJECT && v->type != JSON_ARRAY)
		return false;
	for (i = 0; i < v->count; i++)
		if (json_has_string(v->items[i], s))
			return true;
	return false;
}

static bool json_number_is(const struct json_value *v, long n)
{
	return v && v->type == JSON_NUMBER && strtol(v->text, NULL, 10) == n;
}

/* 21, a set holding 21, or a range [lo, hi] covering it. */
static bool json_covers_port(const struct json_value *v, long port)
{
	const struct json_value *range;
	size_t i;

	if (!v)
		return false;
	if (v->type == JSON_NUMBER)
		return json_number_is(v, port);
	range = json_get(v, "range");
	if (range && range->type == JSON_ARRAY && range->count == 2 &&
	    range->items[0]->type == JSON_NUMBER &&
	    range->items[1]->type == JSON_NUMBER)
		return strtol(range->items[0]->text, NULL, 10) <= port &&
		       strtol(range->items[1]->text, NULL, 10) >= port;
	if (v->type != JSON_OBJECT && v->type != JSON_ARRAY)
		return false;
	for (i = 0; i < v->count; i++)
		if (json_covers_port(v->items[i], port))
			return true;
	return false;
}

/* Calls fn for every member named key whose value is a string. */
static void json_each_string_member(const struct json_value *v,
				    const char *key,
				    void (*fn)(const char *, void *),
				    void *data)
{
	size_t i;

	if (!v || (v->type != JSON_OBJECT && v->type != JSON_ARRAY))
		return;
	for (i = 0; i < v->count; i++) {
		if (v->type == JSON_OBJECT && strcmp(v->keys[i], key) == 0 &&
		    v->items[i]->type == JSON_STRING)
			fn(v->items[i]->text, data);
		json_each_string_member(v->items[i], key, fn, data);
	}
}

static bool is_ct_state(const struct json_value *v)
{
	const struct json_value *ct = json_get(v, "ct");

	return ct && json_get_string(ct, "key") &&
	       strcmp(json_get_string(ct, "key"), "state") == 0;
}

/* A match on tcp dport (or th dport) that covers port 21. */
static bool match_port21(const struct json_value *match)
{
	const struct json_value *payload =
		json_get(json_get(match, "left"), "payload");
	const char *field = json_get_string(payload, "field");
	const char *op = json_get_string(match, "op");

	return field && strcmp(field, "dport") == 0 &&
	       !(op && strcmp(op, "!=") == 0) &&
	       json_covers_port(json_get(match, "right"), 21);
}

/* A match "ct state related" that is not negated. */
static bool match_related(const struct json_value *match)
{
	const char *op = json_get_string(match, "op");

	return is_ct_state(json_get(match, "left")) &&
	       !(op && strcmp(op, "!=") == 0) &&
	       json_has_string(json_get(match, "right"), "related");
}

static bool vmap_related_accept(const struct json_value *vmap)
{
	const struct json_value *set;
	size_t i;

	if (!is_ct_state(json_get(vmap, "key")))
		return false;
	set = json_get(json_get(vmap, "data"), "set");
	if (!set || set->type != JSON_ARRAY)
		return false;
	for (i = 0; i < set->count; i++) {
		const struct json_value *pair = set->items[i];

		if (pair->type == JSON_ARRAY && pair->count == 2 &&
		    json_has_string(pair->items[0], "related") &&
		    json_has_key(pair->items[1], "accept"))
			return true;
	}
	return false;
}

struct helper_object {
	const char *family, *table, *name, *type;
};

struct nft_scan {
	const char *helper;
	const struct json_value *rule;
	struct helper_object *objects;
	size_t nobjects;
	bool sets_ours, sets_stock;
	struct ruleset_facts *facts;
};

static const struct helper_object *
object_lookup(const struct nft_scan *scan, const char *name)
{
	const char *family = json_get_string(scan->rule, "family");
	const char *table = json_get_string(scan->rule, "table");
	size_t i;

	for (i = 0; i < scan->nobjects; i++) {
		const struct helper_object *o = &scan->objects[i];

		if (strcmp(o->name, name) == 0 && family && table &&
		    strcmp(o->family, family) == 0 &&
		    strcmp(o->table, table) == 0)
			return o;
	}
	return NULL;
}

static void note_helper_set(const char *name, void *data)
{
	struct nft_scan *scan = data;
	const struct helper_object *o = object_lookup(scan, name);

	if (!o)
		return;
	if (strcmp(o->type, scan->helper) == 0)
		scan->sets_ours = true;
	else if (strcmp(o->type, "ftp") == 0)
		scan->sets_stock = true;
}

static void scan_rule(struct nft_scan *scan, const struct json_value *rule)
{
	const struct json_value *expr = json_get(rule, "expr");
	bool port21 = false, related = false;
	size_t i;

	if (!expr || expr->type != JSON_ARRAY)
		return;
	scan->rule = rule;
	scan->sets_ours = scan->sets_stock = false;
	json_each_string_member(expr, "ct helper", note_helper_set, scan);
	for (i = 0; i < expr->count; i++) {
		const struct json_value *stmt = expr->items[i];
		const struct json_value *match = json_get(stmt, "match");

		if (match && match_port21(match))
			port21 = true;
		if (match && match_related(match) &&
		    json_has_key(expr, "accept"))
			related = true;
		if (json_get(stmt, "vmap") &&
		    vmap_related_accept(json_get(stmt, "vmap")))
			related = true;
		if (json_get(stmt, "drop") || json_get(stmt, "reject"))
			scan->facts->drops = true;
	}
	if (scan->sets_ours) {
		scan->facts->helper_attached = true;
		if (port21)
			scan->facts->helper_on_port21 = true;
	}
	if (scan->sets_stock)
		scan->facts->stock_helper_attached = true;
	if (related)
		scan->facts->related_accepted = true;
}

static void scan_chain(struct nft_scan *scan, const struct json_value *chain)
{
	const char *policy = json_get_string(chain, "policy");
	const char *hook = json_get_string(chain, "hook");

	if (policy && strcmp(policy, "drop") == 0 && hook &&
	    (strcmp(hook, "input") == 0 || strcmp(hook, "forward") == 0 ||
	     strcmp(hook, "output") == 0))
		scan->facts->drops = true;
}

static void collect_object(struct nft_scan *scan,
			   const struct json_value *obj)
{
	struct helper_object o = {
		.family = json_get_string(obj, "family"),
		.table = json_get_string(obj, "table"),
		.name = json_get_string(obj, "name"),
		.type = json_get_string(obj, "type"),
	};

	if (!o.family || !o.table || !o.name || !o.type)
		return;
	scan->objects[scan->nobjects++] = o;
	if (strcmp(o.type, scan->helper) == 0 && !scan->facts->helper_object) {
		scan->facts->helper_object = true;
		snprintf(scan->facts->helper_object_name,
			 sizeof(scan->facts->helper_object_name), "%s",
			 o.name);
	}
}

void nft_ruleset_facts(const struct json_value *root, const char *helper,
		       struct ruleset_facts *facts)
{
	const struct json_value *list = json_get(root, "nftables");
	struct nft_scan scan = { .helper = helper, .facts = facts };
	size_t i;

	if (!list || list->type != JSON_ARRAY)
		return;
	facts->readable = true;
	scan.objects = calloc(list->count + 1, sizeof(*scan.objects));
	if (!scan.objects)
		return;
	for (i = 0; i < list->count; i++)
		if (json_get(list->items[i], "ct helper"))
			collect_object(&scan,
				       json_get(list->items[i], "ct helper"));
	for (i = 0; i < list->count; i++) {
		if (json_get(list->items[i], "chain"))
			scan_chain(&scan, json_get(list->items[i], "chain"));
		if (json_get(list->items[i], "rule"))
			scan_rule(&scan, json_get(list->items[i], "rule"));
	}
	free(scan.objects);
}

/* ---- iptables-save / ip6tables-save ---- */

/* The word after option opt in line ("--helper NAME"), copied to buf. */
static bool option_word(const char *line, const char *opt, char *buf,
			size_t len)
{
	const char *p = line;
	size_t optlen = strlen(opt), n;

	while ((p = strstr(p, opt)) != NULL) {
		if ((p == line || p[-1] == ' ') && p[optlen] == ' ') {
			p += optlen + 1;
			n = strcspn(p, " \n");
			if (n >= len)
				n = len - 1;
			memcpy(buf, p, n);
			buf[n] = '\0';
			return true;
		}
		p += optlen;
	}
	return false;
}

static bool list_has(const char *list, const char *item)
{
	size_t n = strlen(item);
	const char *p = list;

	while (*p) {
		size_t len = strcspn(p, ",");

		if (len == n && strncmp(p, item, n) == 0)
			return true;
		p += len;
		if (*p == ',')
			p++;
	}
	return false;
}

static void iptables_rule(const char *table, const char *line,
			  const char *helper, struct ruleset_facts *facts)
{
	char word[64], target[32] = "";

	option_word(line, "-j", target, sizeof(target));
	if (strcmp(table, "raw") == 0 && strcmp(target, "CT") == 0 &&
	    option_word(line, "--helper", word, sizeof(word))) {
		if (strcmp(word, helper) == 0) {
			facts->helper_attached = true;
			if (option_word(line, "--dport", word, sizeof(word)) &&
			    (strcmp(word, "21") == 0 || strcmp(word, "ftp") == 0))
				facts->helper_on_port21 = true;
		} else if (strcmp(word, "ftp") == 0) {
			facts->stock_helper_attached = true;
		}
	}
	if (strcmp(table, "filter") != 0)
		return;
	if (strcmp(target, "DROP") == 0 || strcmp(target, "REJECT") == 0)
		facts->drops = true;
	if (strcmp(target, "ACCEPT") == 0 && !strstr(line, "! --ctstate") &&
	    !strstr(line, "! --state") &&
	    (option_word(line, "--ctstate", word, sizeof(word)) ||
	     option_word(line, "--state", word, sizeof(word))) &&
	    list_has(word, "RELATED"))
		facts->related_accepted = true;
}

void iptables_save_facts(const char *text, const char *helper,
			 struct ruleset_facts *facts)
{
	char table[32] = "", line[1024], chain[64], policy[32];
	const char *p = text;

	facts->readable = true;
	while (*p) {
		size_t len = strcspn(p, "\n");

		snprintf(line, sizeof(line), "%.*s",
			 (int)(len < sizeof(line) ? len : sizeof(line) - 1), p);
		p += len;
		if (*p == '\n')
			p++;
		if (line[0] == '*')
			snprintf(table, sizeof(table), "%.31s", line + 1);
		else if (line[0] == ':' && strcmp(table, "filter") == 0 &&
			 sscanf(line, ":%63s %31s", chain, policy) == 2 &&
			 strcmp(policy, "DROP") == 0)
			facts->drops = true;
		else if (strncmp(line, "-A ", 3) == 0)
			iptables_rule(table, line, helper, facts);
	}
}

/* ---- findings ---- */

static void add(struct doctor_report *r, const char *id, const char *fix,
		const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void add(struct doctor_report *r, const char *id, const char *fix,
		const char *fmt, ...)
{
	struct finding *f;
	va_list ap;

	if (r->count == FINDINGS_MAX)
		return;
	f = &r->finding[r->count++];
	f->id = id;
	va_start(ap, fmt);
	vsnprintf(f->problem, sizeof(f->problem), fmt, ap);
	va_end(ap);
	snprintf(f->fix, sizeof(f->fix), "%s", fix);
}

struct counter_advice {
	const char *counter;
	const char *problem;
	const char *fix;
};

static const struct counter_advice counter_advice[] = {
	{ "refused_third_party",
	  "a data address named a host other than the peer that announced it (FXP, a client behind NAT, or an attack)",
	  "if a client sits behind NAT, have its NAT gateway rewrite PORT/EPRT or use passive mode; to allow server-to-server transfers on purpose: pinholectl set allow_third_party=1" },
	{ "refused_privileged_port",
	  "a server or client announced a data port below 1024, which pinhole never opens",
	  "configure the FTP server's passive ports (e.g. vsftpd pasv_min_port/pasv_max_port) and clients' active ports at 1024 or above" },
	{ "refused_out_of_range",
	  "an announced port was 0, wrapped around (octet > 255), or outside the configured port range",
	  "compare the server's passive port range with pinholectl get active_ports passive_ports and widen them, e.g. pinholectl set passive_ports=1024-65535" },
	{ "refused_mode_disabled",
	  "a session used active or passive mode, which the policy disables",
	  "enable the mode your clients use: pinholectl set active=1 (or passive=1)" },
	{ "refused_malformed",
	  "an announcing line (PORT, EPRT, 227, 229) did not parse",
	  "capture the control connection (tcpdump -A tcp port 21) to see the offending line; the client or server does not follow RFC 959/2428" },
	{ "refused_family",
	  "an EPRT/EPSV data address was of another IP version than the control connection",
	  "use the same IP version for control and data connections (connect to the server's IPv4 or its IPv6 address consistently)" },
	{ "refused_unanswered",
	  "a 227/229 reply arrived with no PASV/EPSV outstanding (a broken or spoofing server)",
	  "check the server; pinhole only honours replies to commands the client sent" },
	{ "refused_limit_reached",
	  "a session wanted more simultaneous pinholes than max_pinholes allows",
	  "raise the limit: pinholectl set max_pinholes=N (at most 64)" },
	{ "refused_encrypted",
	  "FTPS sessions (AUTH TLS) were seen: their control connection is encrypted and no helper can read it",
	  "FTPS cannot be helped: use a fixed passive port range on the server and open it explicitly in the ruleset, or use SFTP" },
	{ "alloc_failures",
	  "pinholes could not be registered (out of memory or the expectation table is full)",
	  "raise net.netfilter.nf_conntrack_expect_max (sysctl -w net.netfilter.nf_conntrack_expect_max=N)" },
	{ "nat_unrewritable",
	  "announcing lines on NATed sessions could not be rewritten, so the peer was told an untranslated address",
	  "use passive mode through this NAT, or keep the announcing lines within one TCP segment" },
	{ "dropped",
	  "segments carrying refused lines were dropped (enforce=1), which stalls those transfers",
	  "fix the refusals above, or let refused lines pass without a pinhole: pinholectl set enforce=0" },
};

static void counter_findings(const struct stats *stats,
			     struct doctor_report *r)
{
	size_t i;
	unsigned long long n;

	for (i = 0; i < sizeof(counter_advice) / sizeof(counter_advice[0]);
	     i++) {
		n = stats_value(stats, counter_advice[i].counter);
		if (n == 0)
			continue;
		add(r, counter_advice[i].counter, counter_advice[i].fix,
		    "%s=%llu: %s", counter_advice[i].counter, n,
		    counter_advice[i].problem);
	}
}

static void gather_facts(const struct doctor_input *in,
			 struct ruleset_facts *facts)
{
	struct json_value *root;
	char err[ERRBUF_SIZE];

	memset(facts, 0, sizeof(*facts));
	if (in->nft_json) {
		root = json_parse(in->nft_json, err, sizeof(err));
		if (root)
			nft_ruleset_facts(root, in->helper, facts);
		json_free(root);
	}
	if (in->iptables_save)
		iptables_save_facts(in->iptables_save, in->helper, facts);
	if (in->ip6tables_save)
		iptables_save_facts(in->ip6tables_save, in->helper, facts);
}

static void attach_findings(const struct doctor_input *in,
			    const struct ruleset_facts *facts,
			    struct doctor_report *r)
{
	char fix[FINDING_TEXT];

	if (facts->helper_attached)
		return;
	if (facts->helper_object) {
		snprintf(fix, sizeof(fix),
			 "add 'tcp dport 21 ct helper set \"%s\"' to a chain hooked at prerouting and one at output, priority filter",
			 facts->helper_object_name);
		add(r, "helper_not_attached", fix,
		    "the nftables ct helper \"%s\" (type \"%s\") is defined but no rule sets it on FTP control connections",
		    facts->helper_object_name, in->helper);
		return;
	}
	if (facts->stock_helper_attached) {
		snprintf(fix, sizeof(fix),
			 "attach pinhole instead: in the ct helper object change type \"ftp\" to \"%s\" (iptables: -j CT --helper %s), "
			 "or keep the ruleset and load pinhole under the stock name: modprobe -r nf_nat_ftp nf_conntrack_ftp; modprobe nf_pinhole_ftp helper_name=ftp",
			 in->helper, in->helper);
		add(r, "helper_not_attached", fix,
		    "the ruleset attaches the stock helper \"ftp\" to FTP control connections, not \"%s\"",
		    in->helper);
		return;
	}
	snprintf(fix, sizeof(fix),
		 "nftables: define 'ct helper ftp-pinhole { type \"%s\" protocol tcp; }' and add 'tcp dport 21 ct helper set \"ftp-pinhole\"' in prerouting and output chains at priority filter; "
		 "iptables: iptables -t raw -A PREROUTING -p tcp --dport 21 -j CT --helper %s (and OUTPUT, and ip6tables)",
		 in->helper, in->helper);
	add(r, "helper_not_attached", fix,
	    "the helper \"%s\" is attached to no connection: no nftables 'ct helper set' rule and no iptables raw table '-j CT --helper %s' rule for tcp dport 21",
	    in->helper, in->helper);
}

static void ruleset_findings(const struct doctor_input *in,
			     struct doctor_report *r)
{
	struct ruleset_facts facts;

	gather_facts(in, &facts);
	if (!facts.readable) {
		add(r, "ruleset_unreadable",
		    "run pinholectl doctor as root, with nft (nftables) or iptables-save installed",
		    "could not read the firewall ruleset (nft -j list ruleset and iptables-save both failed)");
		return;
	}
	attach_findings(in, &facts, r);
	if (facts.drops && !facts.related_accepted)
		add(r, "related_not_accepted",
		    "accept related connections before dropping: nft add rule inet filter forward ct state established,related accept (and in input/output), or iptables -I FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
		    "the ruleset drops packets but no rule accepts 'ct state related': data connections through pinholes are dropped");
}

static void policy_findings(const struct doctor_input *in,
			    struct doctor_report *r)
{
	if (in->policy_active && in->policy_passive &&
	    strcmp(in->policy_active, "0") == 0 &&
	    strcmp(in->policy_passive, "0") == 0)
		add(r, "modes_disabled",
		    "pinholectl set active=1 passive=1 (or only the mode your clients use)",
		    "both active and passive mode are disabled by policy: pinhole opens nothing");
}

void doctor_analyse(const struct doctor_input *in,
		    struct doctor_report *report)
{
	memset(report, 0, sizeof(*report));
	if (!in->module_loaded)
		add(report, "module_not_loaded",
		    "modprobe " PINHOLE_MODULE_NAME " (list it in /etc/modules-load.d/ to load it at boot)",
		    "the pinhole module " PINHOLE_MODULE_NAME " is not loaded");
	ruleset_findings(in, report);
	policy_findings(in, report);
	if (in->stats)
		counter_findings(in->stats, report);
}

void doctor_print_text(FILE *out, const struct doctor_report *report)
{
	size_t i;

	for (i = 0; i < report->count; i++)
		fprintf(out, "problem: %s fix: %s\n",
			report->finding[i].problem, report->finding[i].fix);
	if (report->count == 0)
		fprintf(out, "doctor: no problem found\n");
	else
		fprintf(out, "doctor: %zu problem%s found\n", report->count,
			report->count == 1 ? "" : "s");
}

void doctor_print_json(FILE *out, const struct doctor_report *report)
{
	struct json_writer w;
	size_t i;

	jw_init(&w, out);
	jw_document_begin(&w, true);
	for (i = 0; i < report->count; i++) {
		jw_object_begin(&w, NULL);
		jw_object_begin(&w, "finding");
		jw_string(&w, "id", report->finding[i].id);
		jw_string(&w, "problem", report->finding[i].problem);
		jw_string(&w, "fix", report->finding[i].fix);
		jw_object_end(&w);
		jw_object_end(&w);
	}
	jw_object_begin(&w, NULL);
	jw_object_begin(&w, "summary");
	jw_uint(&w, "problems", report->count);
	jw_object_end(&w);
	jw_object_end(&w);
	jw_document_end(&w);
}
