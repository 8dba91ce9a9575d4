// SPDX-License-Identifier: GPL-2.0
/*
 * pinholectl doctor: why FTP through this host may fail, and the fix.
 *
 * doctor_analyse() is pure: it judges texts and values handed to it (the
 * nft JSON ruleset, iptables-save output, two readings of the counters,
 * policy, listening ports), so tests stage each fault with fixture files.
 * main.c gathers the real inputs. Each finding has a severity: an error
 * is something that breaks FTP now (doctor exits 1), a warning something
 * that breaks some of it or did within the window, info is worth knowing.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "pinholectl.h"

/* conntrack's hook priority (NF_IP_PRI_CONNTRACK): helpers go after it */
#define PRIO_CONNTRACK	(-200)
#define HELPER_PORTS_MAX 16

/* ---- nftables: `nft -j list ruleset` ---- */

static const char *jstr(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

static bool str_is(const char *s, const char *want)
{
	return s && strcmp(s, want) == 0;
}

static bool json_has_key(const json_t *v, const char *key)
{
	const char *k;
	json_t *item;
	size_t i;

	if (json_is_object(v)) {
		json_object_foreach((json_t *)v, k, item)
			if (strcmp(k, key) == 0 || json_has_key(item, key))
				return true;
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, item)
			if (json_has_key(item, key))
				return true;
	}
	return false;
}

static bool json_has_string(const json_t *v, const char *s)
{
	const char *k;
	json_t *item;
	size_t i;

	if (json_is_string(v))
		return strcmp(json_string_value(v), s) == 0;
	if (json_is_object(v)) {
		json_object_foreach((json_t *)v, k, item)
			if (json_has_string(item, s))
				return true;
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, item)
			if (json_has_string(item, s))
				return true;
	}
	return false;
}

/* 21, a set holding 21, or a range [lo, hi] covering it. */
static bool json_covers_port(const json_t *v, long port)
{
	const json_t *range;
	const char *k;
	json_t *item;
	size_t i;

	if (json_is_integer(v))
		return json_integer_value(v) == port;
	range = json_object_get(v, "range");
	if (json_is_array(range) && json_array_size(range) == 2 &&
	    json_is_integer(json_array_get(range, 0)) &&
	    json_is_integer(json_array_get(range, 1)))
		return json_integer_value(json_array_get(range, 0)) <= port &&
		       json_integer_value(json_array_get(range, 1)) >= port;
	if (json_is_object(v)) {
		json_object_foreach((json_t *)v, k, item)
			if (json_covers_port(item, port))
				return true;
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, item)
			if (json_covers_port(item, port))
				return true;
	}
	return false;
}

/* Calls fn for every member named key whose value is a string. */
static void json_each_string_member(const json_t *v, const char *key,
				    void (*fn)(const char *, void *),
				    void *data)
{
	const char *k;
	json_t *item;
	size_t i;

	if (json_is_object(v)) {
		json_object_foreach((json_t *)v, k, item) {
			if (strcmp(k, key) == 0 && json_is_string(item))
				fn(json_string_value(item), data);
			json_each_string_member(item, key, fn, data);
		}
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, item)
			json_each_string_member(item, key, fn, data);
	}
}

static bool is_ct_state(const json_t *v)
{
	return str_is(jstr(json_object_get(v, "ct"), "key"), "state");
}

static bool negated(const json_t *match)
{
	return str_is(jstr(match, "op"), "!=");
}

/* A match on tcp/th FIELD (dport or sport) that covers port 21. */
static bool match_port21(const json_t *match, const char *field)
{
	const json_t *payload =
		json_object_get(json_object_get(match, "left"), "payload");

	return str_is(jstr(payload, "field"), field) && !negated(match) &&
	       json_covers_port(json_object_get(match, "right"), 21);
}

/* A match "ct state related" that is not negated. */
static bool match_related(const json_t *match)
{
	return is_ct_state(json_object_get(match, "left")) &&
	       !negated(match) &&
	       json_has_string(json_object_get(match, "right"), "related");
}

static bool vmap_related_accept(const json_t *vmap)
{
	const json_t *set, *pair;
	size_t i;

	if (!is_ct_state(json_object_get(vmap, "key")))
		return false;
	set = json_object_get(json_object_get(vmap, "data"), "set");
	json_array_foreach(set, i, pair)
		if (json_is_array(pair) && json_array_size(pair) == 2 &&
		    json_has_string(json_array_get(pair, 0), "related") &&
		    json_has_key(json_array_get(pair, 1), "accept"))
			return true;
	return false;
}

struct nft_chain {
	const char *family, *table, *name, *hook;
	long prio;
	bool base;
};

struct nft_scan {
	const char *helper;
	const json_t *list;		/* the "nftables" array */
	const json_t *rule;
	bool sets_ours, sets_stock, ours_ipv4_only;
	char ipv4_object[2 * NAME_MAX_LEN];
	struct ruleset_facts *facts;
};

static enum hook_kind hook_kind(const char *hook)
{
	static const char *const names[] = {
		[HOOK_PREROUTING] = "prerouting", [HOOK_INPUT] = "input",
		[HOOK_FORWARD] = "forward", [HOOK_OUTPUT] = "output",
		[HOOK_POSTROUTING] = "postrouting",
	};
	int i;

	for (i = 0; hook && i < HOOK_OTHER; i++)
		if (strcmp(names[i], hook) == 0)
			return (enum hook_kind)i;
	return HOOK_OTHER;
}

static bool same_table(const json_t *a, const json_t *b)
{
	return jstr(a, "family") && jstr(a, "table") &&
	       str_is(jstr(b, "family"), jstr(a, "family")) &&
	       str_is(jstr(b, "table"), jstr(a, "table"));
}

/* The chain a rule sits in; base chains have a hook and a priority. */
static void chain_of(const struct nft_scan *scan, const json_t *rule,
		     struct nft_chain *c)
{
	const json_t *item, *chain;
	size_t i;

	memset(c, 0, sizeof(*c));
	c->family = jstr(rule, "family");
	c->table = jstr(rule, "table");
	c->name = jstr(rule, "chain");
	json_array_foreach(scan->list, i, item) {
		chain = json_object_get(item, "chain");
		if (!chain || !same_table(rule, chain) ||
		    !str_is(jstr(chain, "name"), c->name))
			continue;
		c->hook = jstr(chain, "hook");
		c->base = c->hook != NULL;
		c->prio = (long)json_integer_value(json_object_get(chain,
								   "prio"));
		return;
	}
}

/* The ct helper object NAME in the rule's table. */
static const json_t *object_lookup(const struct nft_scan *scan,
				   const char *name)
{
	const json_t *item, *obj;
	size_t i;

	json_array_foreach(scan->list, i, item) {
		obj = json_object_get(item, "ct helper");
		if (json_is_object(obj) && same_table(scan->rule, obj) &&
		    str_is(jstr(obj, "name"), name))
			return obj;
	}
	return NULL;
}

static void note_helper_set(const char *name, void *data)
{
	struct nft_scan *scan = data;
	const json_t *o = object_lookup(scan, name);
	const char *type = jstr(o, "type");

	if (!type)
		return;
	if (strcmp(type, scan->helper) == 0) {
		scan->sets_ours = true;
		/* In an inet table, l3proto ip leaves IPv6 without a helper. */
		if (str_is(jstr(o, "family"), "inet") &&
		    str_is(jstr(o, "l3proto"), "ip")) {
			scan->ours_ipv4_only = true;
			snprintf(scan->ipv4_object, sizeof(scan->ipv4_object),
				 "%s/%s", jstr(o, "table"), name);
		}
	} else if (strcmp(type, "ftp") == 0) {
		scan->sets_stock = true;
	}
}

static void chain_label(char *buf, size_t len, const struct nft_chain *c)
{
	snprintf(buf, len, "%s %s %s", c->family ? c->family : "?",
		 c->table ? c->table : "?", c->name ? c->name : "?");
}

/* The single dport a rule matches ("tcp dport 2121"), into helper_ports. */
static void note_helper_port(struct ruleset_facts *f, const json_t *expr)
{
	const json_t *stmt, *match, *payload, *right;
	size_t i;

	json_array_foreach(expr, i, stmt) {
		match = json_object_get(stmt, "match");
		payload = json_object_get(json_object_get(match, "left"),
					  "payload");
		right = json_object_get(match, "right");
		if (!str_is(jstr(payload, "field"), "dport") || negated(match) ||
		    !json_is_integer(right) ||
		    f->nhelper_ports == sizeof(f->helper_ports) /
					sizeof(f->helper_ports[0]))
			continue;
		f->helper_ports[f->nhelper_ports++] =
			(unsigned int)json_integer_value(right);
	}
}

/* Our helper is set by this rule: does it take effect? */
static void judge_attachment(struct nft_scan *scan, const struct nft_chain *c,
			     bool dport21, bool sport21)
{
	struct ruleset_facts *f = scan->facts;

	if (c->base && c->prio < PRIO_CONNTRACK) {
		if (f->helper_before_conntrack)
			return;		/* name the first such chain */
		f->helper_before_conntrack = true;
		f->raw_prio = (int)c->prio;
		chain_label(f->raw_chain, sizeof(f->raw_chain), c);
		return;
	}
	if (sport21 && !dport21) {
		if (f->helper_on_sport21)
			return;
		f->helper_on_sport21 = true;
		chain_label(f->sport_chain, sizeof(f->sport_chain), c);
		return;
	}
	f->helper_attached = true;
	if (dport21)
		f->helper_on_port21 = true;
	if (scan->ours_ipv4_only) {
		f->helper_ipv4_only = true;
		snprintf(f->ipv4_only_object, sizeof(f->ipv4_only_object),
			 "%s", scan->ipv4_object);
	}
}

static void scan_rule(struct nft_scan *scan, const json_t *rule)
{
	const json_t *expr = json_object_get(rule, "expr"), *stmt, *match;
	bool dport21 = false, sport21 = false, related = false;
	struct ruleset_facts *f = scan->facts;
	struct nft_chain c;
	enum hook_kind hook;
	size_t i;

	if (!json_is_array(expr))
		return;
	scan->rule = rule;
	scan->sets_ours = scan->sets_stock = scan->ours_ipv4_only = false;
	json_each_string_member(expr, "ct helper", note_helper_set, scan);
	chain_of(scan, rule, &c);
	hook = c.base ? hook_kind(c.hook) : HOOK_OTHER;
	json_array_foreach(expr, i, stmt) {
		match = json_object_get(stmt, "match");
		if (match && match_port21(match, "dport"))
			dport21 = true;
		if (match && match_port21(match, "sport"))
			sport21 = true;
		if (match && match_related(match) &&
		    json_has_key(expr, "accept"))
			related = true;
		if (json_object_get(stmt, "vmap") &&
		    vmap_related_accept(json_object_get(stmt, "vmap")))
			related = true;
		if (json_object_get(stmt, "drop") ||
		    json_object_get(stmt, "reject")) {
			f->drops = true;
			f->hook_drops[hook] = true;
		}
	}
	if (scan->sets_ours) {
		judge_attachment(scan, &c, dport21, sport21);
		note_helper_port(f, expr);
	}
	if (scan->sets_stock)
		f->stock_helper_attached = true;
	if (related) {
		f->related_accepted = true;
		f->hook_related[hook] = true;
	}
}

static void scan_chain(struct nft_scan *scan, const json_t *chain)
{
	const char *hook = jstr(chain, "hook");
	enum hook_kind kind = hook_kind(hook);

	if (!str_is(jstr(chain, "policy"), "drop") || !hook)
		return;
	if (kind == HOOK_INPUT || kind == HOOK_FORWARD || kind == HOOK_OUTPUT) {
		scan->facts->drops = true;
		scan->facts->hook_drops[kind] = true;
	}
}

static void find_helper_object(struct nft_scan *scan)
{
	const json_t *item, *obj;
	size_t i;

	json_array_foreach(scan->list, i, item) {
		obj = json_object_get(item, "ct helper");
		if (!json_is_object(obj) ||
		    !str_is(jstr(obj, "type"), scan->helper) ||
		    !jstr(obj, "name"))
			continue;
		scan->facts->helper_object = true;
		snprintf(scan->facts->helper_object_name,
			 sizeof(scan->facts->helper_object_name), "%s",
			 jstr(obj, "name"));
		return;
	}
}

void nft_ruleset_facts(json_t *root, const char *helper,
		       struct ruleset_facts *facts)
{
	const json_t *list = json_object_get(root, "nftables"), *item;
	struct nft_scan scan = { .helper = helper, .facts = facts,
				 .list = list };
	size_t i;

	if (!json_is_array(list))
		return;
	facts->readable = true;
	find_helper_object(&scan);
	json_array_foreach(list, i, item) {
		if (json_object_get(item, "chain"))
			scan_chain(&scan, json_object_get(item, "chain"));
		if (json_object_get(item, "rule"))
			scan_rule(&scan, json_object_get(item, "rule"));
	}
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

static enum hook_kind ipt_hook(const char *chain)
{
	if (strcmp(chain, "INPUT") == 0)
		return HOOK_INPUT;
	if (strcmp(chain, "FORWARD") == 0)
		return HOOK_FORWARD;
	if (strcmp(chain, "OUTPUT") == 0)
		return HOOK_OUTPUT;
	return HOOK_OTHER;
}

static void iptables_helper(const char *line, const char *helper,
			    struct ruleset_facts *facts)
{
	char word[64];

	if (!option_word(line, "--helper", word, sizeof(word)))
		return;
	if (strcmp(word, "ftp") == 0 && strcmp(helper, "ftp") != 0) {
		facts->stock_helper_attached = true;
		return;
	}
	if (strcmp(word, helper) != 0)
		return;
	if (option_word(line, "--dport", word, sizeof(word)) &&
	    (strcmp(word, "21") == 0 || strcmp(word, "ftp") == 0)) {
		facts->helper_attached = true;
		facts->helper_on_port21 = true;
	} else if (option_word(line, "--sport", word, sizeof(word)) &&
		   (strcmp(word, "21") == 0 || strcmp(word, "ftp") == 0)) {
		facts->helper_on_sport21 = true;
		snprintf(facts->sport_chain, sizeof(facts->sport_chain),
			 "iptables raw");
	} else {
		facts->helper_attached = true;
	}
}

static void iptables_rule(const char *table, const char *line,
			  const char *helper, struct ruleset_facts *facts)
{
	char word[64], target[32] = "", chain[64] = "";
	enum hook_kind hook;

	option_word(line, "-j", target, sizeof(target));
	option_word(line, "-A", chain, sizeof(chain));
	if (strcmp(table, "raw") == 0 && strcmp(target, "CT") == 0)
		iptables_helper(line, helper, facts);
	if (strcmp(table, "filter") != 0)
		return;
	hook = ipt_hook(chain);
	if (strcmp(target, "DROP") == 0 || strcmp(target, "REJECT") == 0) {
		facts->drops = true;
		facts->hook_drops[hook] = true;
	}
	if (strcmp(target, "ACCEPT") == 0 && !strstr(line, "! --ctstate") &&
	    !strstr(line, "! --state") &&
	    (option_word(line, "--ctstate", word, sizeof(word)) ||
	     option_word(line, "--state", word, sizeof(word))) &&
	    list_has(word, "RELATED")) {
		facts->related_accepted = true;
		facts->hook_related[hook] = true;
	}
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
		if (line[0] == '*') {
			snprintf(table, sizeof(table), "%.31s", line + 1);
		} else if (line[0] == ':' && strcmp(table, "filter") == 0 &&
			   sscanf(line, ":%63s %31s", chain, policy) == 2 &&
			   strcmp(policy, "DROP") == 0) {
			facts->drops = true;
			facts->hook_drops[ipt_hook(chain)] = true;
		} else if (strncmp(line, "-A ", 3) == 0) {
			iptables_rule(table, line, helper, facts);
		}
	}
}

/* ---- findings ---- */

const char *severity_name(enum severity sev)
{
	switch (sev) {
	case SEV_ERROR:
		return "error";
	case SEV_WARNING:
		return "warning";
	case SEV_INFO:
		return "info";
	}
	return "?";
}

static void add(struct doctor_report *r, const char *id, enum severity sev,
		const char *fix, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static void add(struct doctor_report *r, const char *id, enum severity sev,
		const char *fix, const char *fmt, ...)
{
	struct finding *f;
	va_list ap;

	if (r->count == FINDINGS_MAX)
		return;
	f = &r->finding[r->count++];
	f->id = id;
	f->severity = sev;
	r->by_severity[sev]++;
	va_start(ap, fmt);
	vsnprintf(f->problem, sizeof(f->problem), fmt, ap);
	va_end(ap);
	snprintf(f->fix, sizeof(f->fix), "%s", fix);
}

struct counter_advice {
	const char *counter;
	enum severity severity;
	const char *problem;
	const char *fix;
};

/*
 * Judged by the increase over the window, never by the total since the
 * module loaded: a refusal an hour ago says nothing about now.
 */
static const struct counter_advice counter_advice[] = {
	{ "alloc_failures", SEV_ERROR,
	  "pinholes could not be registered (out of memory or the expectation table is full)",
	  "raise net.netfilter.nf_conntrack_expect_max (sysctl -w net.netfilter.nf_conntrack_expect_max=N)" },
	{ "refused_third_party", SEV_WARNING,
	  "a data address named a host other than the peer that announced it (FXP, a client behind NAT, or an attack)",
	  "if a client sits behind NAT, have its NAT gateway rewrite PORT/EPRT or use passive mode; to allow server-to-server transfers on purpose: pinholectl set allow_third_party=1" },
	{ "refused_privileged_port", SEV_WARNING,
	  "a server or client announced a data port below 1024, which pinhole opens only when active_ports/passive_ports include it",
	  "configure the FTP server's passive ports (e.g. vsftpd pasv_min_port/pasv_max_port) and clients' active ports at 1024 or above" },
	{ "refused_out_of_range", SEV_WARNING,
	  "an announced port was 0, wrapped around (octet > 255), or outside the configured port range",
	  "compare the server's passive port range with pinholectl get active_ports passive_ports and widen them, e.g. pinholectl set passive_ports=1024-65535" },
	{ "refused_mode_disabled", SEV_WARNING,
	  "a session used active or passive mode, which the policy disables",
	  "enable the mode your clients use: pinholectl set active=1 (or passive=1)" },
	{ "refused_malformed", SEV_WARNING,
	  "an announcing line (PORT, EPRT, 227, 229) did not parse",
	  "capture the control connection (tcpdump -A tcp port 21) to see the offending line; the client or server does not follow RFC 959/2428" },
	{ "refused_family", SEV_WARNING,
	  "an EPRT/EPSV data address was of another IP version than the control connection",
	  "use the same IP version for control and data connections (connect to the server's IPv4 or its IPv6 address consistently)" },
	{ "refused_unanswered", SEV_WARNING,
	  "a 227/229 reply arrived with no PASV/EPSV outstanding (a broken or spoofing server)",
	  "check the server; pinhole only honours replies to commands the client sent" },
	{ "nat_unrewritable", SEV_WARNING,
	  "announcing lines on NATed sessions could not be rewritten, so the peer was told an untranslated address",
	  "use passive mode through this NAT, or keep the announcing lines within one TCP segment" },
	{ "dropped", SEV_WARNING,
	  "segments carrying refused lines that could not be neutralised (they began in an earlier segment) were dropped (enforce=1), which stalls those sessions",
	  "fix the refusals reported with it, or let refused lines pass without a pinhole: pinholectl set enforce=0" },
	{ "refused_encrypted", SEV_INFO,
	  "FTPS sessions (AUTH TLS) were seen: their control connection is encrypted and no helper can read it",
	  "nothing to fix in pinhole; for FTPS through this firewall give the server a fixed passive port range and accept it in the ruleset" },
	{ "refused_limit_reached", SEV_INFO,
	  "sessions announced a new data port while holding max_pinholes pinholes, so the oldest unused one was closed: normal when a client issues PASV/PORT again",
	  "none needed; raise max_pinholes only for clients that open several data connections at once" },
};

static void counter_findings(const struct doctor_input *in,
			     struct doctor_report *r)
{
	const struct counter_advice *a;
	unsigned long long n;
	size_t i;

	for (i = 0; i < sizeof(counter_advice) / sizeof(counter_advice[0]);
	     i++) {
		a = &counter_advice[i];
		n = stats_delta(in->before, in->after, a->counter);
		if (n == 0)
			continue;
		add(r, a->counter, a->severity, a->fix,
		    "%s rose by %llu in %u s: %s", a->counter, n, in->since,
		    a->problem);
	}
}

static void gather_facts(const struct doctor_input *in,
			 struct ruleset_facts *facts)
{
	json_error_t jerr;
	json_t *root;

	memset(facts, 0, sizeof(*facts));
	if (in->nft_json) {
		root = json_loads(in->nft_json, JSON_REJECT_DUPLICATES, &jerr);
		if (root)
			nft_ruleset_facts(root, in->helper, facts);
		else
			snprintf(facts->nft_error, sizeof(facts->nft_error),
				 "%s (line %d, column %d)", jerr.text,
				 jerr.line, jerr.column);
		json_decref(root);
	}
	if (in->iptables_save)
		iptables_save_facts(in->iptables_save, in->helper, facts);
	if (in->ip6tables_save)
		iptables_save_facts(in->ip6tables_save, in->helper, facts);
}

static void not_attached_finding(const struct doctor_input *in,
				 const struct ruleset_facts *facts,
				 struct doctor_report *r)
{
	char fix[FINDING_TEXT];

	if (facts->helper_object) {
		snprintf(fix, sizeof(fix),
			 "add 'tcp dport 21 ct helper set \"%s\"' to a chain hooked at prerouting and one at output, priority filter",
			 facts->helper_object_name);
		add(r, "helper_not_attached", SEV_ERROR, fix,
		    "the nftables ct helper \"%s\" (type \"%s\") is defined but no rule sets it on FTP control connections",
		    facts->helper_object_name, in->helper);
		return;
	}
	if (facts->stock_helper_attached) {
		snprintf(fix, sizeof(fix),
			 "attach pinhole instead: in the ct helper object change type \"ftp\" to \"%s\" (iptables: -j CT --helper %s), "
			 "or keep the ruleset and load pinhole under the stock name: modprobe -r nf_nat_ftp nf_conntrack_ftp; modprobe nf_pinhole_ftp helper_name=ftp",
			 in->helper, in->helper);
		add(r, "helper_not_attached", SEV_ERROR, fix,
		    "the ruleset attaches the stock helper \"ftp\" to FTP control connections, not \"%s\"",
		    in->helper);
		return;
	}
	snprintf(fix, sizeof(fix),
		 "nftables: define 'ct helper ftp-pinhole { type \"%s\" protocol tcp; }' and add 'tcp dport 21 ct helper set \"ftp-pinhole\"' in prerouting and output chains at priority filter; "
		 "iptables: iptables -t raw -A PREROUTING -p tcp --dport 21 -j CT --helper %s (and OUTPUT, and ip6tables)",
		 in->helper, in->helper);
	add(r, "helper_not_attached", SEV_ERROR, fix,
	    "the helper \"%s\" is attached to no connection: no nftables 'ct helper set' rule and no iptables raw table '-j CT --helper %s' rule for tcp dport 21",
	    in->helper, in->helper);
}

static void attach_findings(const struct doctor_input *in,
			    const struct ruleset_facts *facts,
			    struct doctor_report *r)
{
	enum severity sev = facts->helper_attached ? SEV_WARNING : SEV_ERROR;

	if (facts->helper_before_conntrack)
		add(r, "helper_before_conntrack", sev,
		    "move the 'ct helper set' rule to a chain at priority filter (0), or any priority above -200: type filter hook prerouting priority filter",
		    "the chain %s sets the helper at priority %d, before conntrack (-200): there is no connection yet and 'ct helper set' does nothing",
		    facts->raw_chain, facts->raw_prio);
	if (facts->helper_on_sport21)
		add(r, "helper_on_sport", sev,
		    "match the client's first packet instead: 'tcp dport 21 ct helper set ...' in prerouting and output",
		    "%s sets the helper on 'tcp sport 21' only: that matches the server's packets, after the connection began, when a helper can no longer be attached",
		    facts->sport_chain);
	if (!facts->helper_attached && !facts->helper_before_conntrack &&
	    !facts->helper_on_sport21)
		not_attached_finding(in, facts, r);
	if (facts->helper_ipv4_only)
		add(r, "helper_ipv4_only", SEV_WARNING,
		    "drop 'l3proto ip' from the ct helper object (in an inet table it then serves IPv4 and IPv6)",
		    "the ct helper object %s in an inet table has 'l3proto ip': IPv6 FTP sessions get no helper",
		    facts->ipv4_only_object);
	if (facts->helper_attached && facts->stock_helper_attached)
		add(r, "stock_helper_beside", SEV_WARNING,
		    "remove the rules that set the stock helper (type \"ftp\"), or unload it: modprobe -r nf_nat_ftp nf_conntrack_ftp",
		    "the ruleset attaches the stock helper \"ftp\" as well as \"%s\": a connection takes the helper of the last rule that matched it",
		    in->helper);
}

static bool is_ftp_port(const struct ruleset_facts *facts, unsigned int port)
{
	size_t i;

	if (port == 21)
		return true;
	for (i = 0; i < facts->nhelper_ports; i++)
		if (facts->helper_ports[i] == port)
			return true;
	return false;
}

/* An FTP server on this host: port 21, or a port the helper is set on. */
static bool local_ftp_server(const struct doctor_input *in,
			     const struct ruleset_facts *facts,
			     unsigned int *port)
{
	size_t i;

	for (i = 0; i < in->nlisten; i++) {
		if (is_ftp_port(facts, in->listen[i])) {
			*port = in->listen[i];
			return true;
		}
	}
	return false;
}

static void related_findings(const struct doctor_input *in,
			     const struct ruleset_facts *facts,
			     struct doctor_report *r)
{
	unsigned int port;

	if (facts->drops && !facts->related_accepted) {
		add(r, "related_not_accepted", SEV_ERROR,
		    "accept related connections before dropping: nft add rule inet filter forward ct state established,related accept (and in input/output), or iptables -I FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
		    "the ruleset drops packets but no rule accepts 'ct state related': data connections through pinholes are dropped");
		return;
	}
	/* Related accepted in a chain we cannot place may be jumped to. */
	if (local_ftp_server(in, facts, &port) && facts->hook_drops[HOOK_INPUT] &&
	    !facts->hook_related[HOOK_INPUT] &&
	    !facts->hook_related[HOOK_OTHER])
		add(r, "related_not_accepted_input", SEV_ERROR,
		    "accept related connections in input: nft add rule inet filter input ct state established,related accept (iptables -I INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT)",
		    "an FTP server listens on port %u of this host and the input hook drops, but no input rule accepts 'ct state related': data connections to the server are dropped",
		    port);
}

static void ruleset_findings(const struct doctor_input *in,
			     struct doctor_report *r)
{
	struct ruleset_facts facts;

	gather_facts(in, &facts);
	if (facts.nft_error[0])
		add(r, "ruleset_invalid", SEV_ERROR,
		    "check that nft -j list ruleset works; report the nftables version if it does",
		    "the nftables ruleset is not valid JSON: %s",
		    facts.nft_error);
	if (!facts.readable) {
		if (!facts.nft_error[0])
			add(r, "ruleset_unreadable", SEV_ERROR,
			    "run pinholectl doctor as root, with nftables (libnftables) or iptables-save installed",
			    "could not read the firewall ruleset (nftables and iptables-save both failed)");
		return;
	}
	/* Without the module no rule can attach it: that one cause is enough. */
	if (in->module_loaded)
		attach_findings(in, &facts, r);
	related_findings(in, &facts, r);
}

static void policy_findings(const struct doctor_input *in,
			    struct doctor_report *r)
{
	if (str_is(in->policy_active, "0") && str_is(in->policy_passive, "0"))
		add(r, "modes_disabled", SEV_WARNING,
		    "pinholectl set active=1 passive=1 (or only the mode your clients use)",
		    "both active and passive mode are disabled by policy: pinhole opens nothing");
}

static void module_findings(const struct doctor_input *in,
			    struct doctor_report *r)
{
	const struct module_install *mi = in->install;
	char fix[FINDING_TEXT];

	if (in->module_loaded)
		return;
	if (!mi || mi->installed) {
		add(r, "module_not_loaded", SEV_ERROR,
		    "modprobe " PINHOLE_MODULE_NAME " (list it in /etc/modules-load.d/ to load it at boot)",
		    "the pinhole module " PINHOLE_MODULE_NAME " is not loaded: FTP data connections are blocked");
		return;
	}
	snprintf(fix, sizeof(fix),
		 "build it for this kernel: dkms autoinstall -k %s (with the pinhole-dkms package), or make && make install && depmod -a from the source; then modprobe " PINHOLE_MODULE_NAME,
		 mi->release);
	add(r, "module_not_installed", SEV_ERROR, fix,
	    "the pinhole module " PINHOLE_MODULE_NAME " is not loaded and not installed for the running kernel %s (not in /lib/modules/%s/modules.dep)%s%s%s: FTP data connections are blocked",
	    mi->release, mi->release,
	    mi->other_releases[0] ? "; it is installed for " : "",
	    mi->other_releases,
	    mi->other_releases[0] ? ", so a kernel upgrade left it behind" : "");
}

void doctor_analyse(const struct doctor_input *in,
		    struct doctor_report *report)
{
	memset(report, 0, sizeof(*report));
	module_findings(in, report);
	ruleset_findings(in, report);
	policy_findings(in, report);
	if (in->before && in->after)
		counter_findings(in, report);
}

int doctor_status(const struct doctor_report *report)
{
	return report->by_severity[SEV_ERROR] ? EXIT_FAIL : EXIT_OK;
}

static void summary_text(char *buf, size_t len, const struct doctor_report *r)
{
	size_t e = r->by_severity[SEV_ERROR], w = r->by_severity[SEV_WARNING];
	size_t i = r->by_severity[SEV_INFO];

	if (e + w == 0)
		snprintf(buf, len, "doctor: no problem found%s",
			 i ? " (see the info above)" : "");
	else
		snprintf(buf, len, "doctor: %zu error%s, %zu warning%s", e,
			 e == 1 ? "" : "s", w, w == 1 ? "" : "s");
}

void doctor_print_text(FILE *out, const struct doctor_report *report)
{
	const struct finding *f;
	char summary[128];
	size_t i;

	for (i = 0; i < report->count; i++) {
		f = &report->finding[i];
		fprintf(out, "%s: %s\n    fix: %s\n", severity_name(f->severity),
			f->problem, f->fix);
	}
	summary_text(summary, sizeof(summary), report);
	fprintf(out, "%s\n", summary);
}

int doctor_print_json(FILE *out, const struct doctor_report *report,
		      unsigned int since)
{
	json_t *doc = doc_new(), *list = json_array(), *f, *sum;
	size_t i;

	sum = json_object();
	if (!doc || !list || !sum) {
		json_decref(doc);
		json_decref(list);
		json_decref(sum);
		return -1;
	}
	for (i = 0; i < report->count; i++) {
		f = json_object();
		if (!f)
			continue;
		jset(f, "id", json_string(report->finding[i].id));
		jset(f, "severity",
		     json_string(severity_name(report->finding[i].severity)));
		jset(f, "problem", json_string(report->finding[i].problem));
		jset(f, "fix", json_string(report->finding[i].fix));
		json_array_append_new(list, f);
	}
	jset(sum, "errors", json_integer((json_int_t)report->by_severity[SEV_ERROR]));
	jset(sum, "warnings",
	     json_integer((json_int_t)report->by_severity[SEV_WARNING]));
	jset(sum, "info", json_integer((json_int_t)report->by_severity[SEV_INFO]));
	jset(sum, "since", json_integer(since));
	jset(sum, "status", json_integer(doctor_status(report)));
	json_object_set_new(doc, "findings", list);
	json_object_set_new(doc, "summary", sum);
	return doc_print(out, doc);
}
