/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pinholectl: see and steer the pinholes of nf_pinhole_ftp.
 *
 * Everything pinholectl shares between its files. Only ct.c talks to the
 * kernel over netlink (through libnetfilter_conntrack); everything else is
 * either pure (parsing, validation, formatting, diagnosis) or reads files
 * whose location tests can redirect (see paths.c).
 */
#ifndef PINHOLECTL_H
#define PINHOLECTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <netinet/in.h>

#include <jansson.h>

#include "../module/pinhole_abi.h"

#ifndef PINHOLE_VERSION
#define PINHOLE_VERSION			"unknown"
#endif
#define PINHOLECTL_VERSION		PINHOLE_VERSION
/* 2: named objects ({"counters": {...}}) instead of v1's positional list */
#define PINHOLECTL_JSON_SCHEMA_VERSION	2

/* Exit status, as conntrack(8). */
#define EXIT_OK		0
#define EXIT_FAIL	1
#define EXIT_USAGE	2

#define ERRBUF_SIZE	512

/* ---- args.c: command line ------------------------------------------ */

enum command {
	CMD_NONE,
	CMD_SHOW,		/* "show" and "list": synonyms, as in ip and nft */
	CMD_MONITOR,		/* "monitor", alias "watch" */
	CMD_STATS,
	CMD_GET,
	CMD_SET,
	CMD_DOCTOR,
	CMD_HELP,
	CMD_VERSION,
};

enum output_format { FORMAT_TEXT, FORMAT_JSON, FORMAT_OPENMETRICS };

/* What show/list prints. */
enum show_object { SHOW_SESSIONS, SHOW_PINHOLES };

#define DOCTOR_SINCE_DEFAULT	5	/* seconds */
#define DOCTOR_SINCE_MAX	3600

struct options {
	enum command command;
	enum output_format format;
	bool json;			/* format == FORMAT_JSON */
	const char *netns;		/* NULL: the current namespace */
	enum show_object object;	/* show/list */
	unsigned int since;		/* doctor: seconds of counter window */
	char **args;			/* the command's own arguments */
	int nargs;
};

/* 0, or -1 with a message for the user in err (bad usage: exit 2). */
int args_parse(int argc, char **argv, struct options *opts,
	       char *err, size_t errlen);
const char *command_name(enum command cmd);
void usage_print(FILE *out);

/* ---- format.c: JSON documents ------------------------------------------ */

/* {"metainfo": {"version": ..., "json_schema_version": N}}, for more members. */
json_t *doc_new(void);
/* Prints doc on one line and releases it; -1 when out of memory. */
int doc_print(FILE *out, json_t *doc);
/* json_object_set_new() that tolerates a NULL value (out of memory). */
void jset(json_t *obj, const char *key, json_t *value);

/* ---- policy.c: the sysctl knobs -------------------------------------- */

enum policy_kind { POLICY_BOOL, POLICY_PORT_RANGE, POLICY_INT, POLICY_GENERIC };

struct policy_key {
	const char *name;
	enum policy_kind kind;
	long min, max;
	const char *meaning;
};

/* The keys of pinhole_abi.h, in its order: 0 <= i < policy_key_count. */
extern const size_t policy_key_count;
const struct policy_key *policy_key_at(size_t i);
/* The key's sysctl file exists (an older module lacks newer keys). */
bool policy_present(const struct policy_key *key);

const struct policy_key *policy_key_find(const char *name);
/* Like policy_key_find(), with a message naming the valid keys. */
int policy_key_lookup(const char *name, const struct policy_key **key,
		      char *err, size_t errlen);
/*
 * Checks VALUE for KEY as the kernel would. 0 when valid; otherwise -1
 * and err says what values the key accepts.
 */
int policy_validate(const struct policy_key *key, const char *value,
		    char *err, size_t errlen);
/* Splits "KEY=VALUE" and validates both. */
int policy_parse_assignment(const char *arg, const struct policy_key **key,
			    const char **value, char *err, size_t errlen);
/* Reads /proc/sys/net/netfilter/pinhole_ftp/KEY into buf, trimmed. */
int policy_read(const struct policy_key *key, char *buf, size_t len,
		char *err, size_t errlen);
int policy_write(const struct policy_key *key, const char *value,
		 char *err, size_t errlen);
/* An integer as a JSON number, a port range as a "LO-HI" string. */
json_t *policy_value_json(const struct policy_key *key, const char *value);

/* ---- stats.c: the counters ------------------------------------------- */

enum pinhole_counter {
#define PINHOLE_COUNTER_ENUM(name, desc) COUNTER_##name,
	PINHOLE_COUNTERS(PINHOLE_COUNTER_ENUM)
#undef PINHOLE_COUNTER_ENUM
	COUNTER_MAX
};

#define STATS_MAX	64
#define STAT_NAME_MAX	48

struct stat_entry {
	char name[STAT_NAME_MAX];
	unsigned long long value;
};

struct stats {
	struct stat_entry entry[STATS_MAX];
	size_t count;
};

extern const char *const counter_names[COUNTER_MAX];
extern const char *const counter_descriptions[COUNTER_MAX];

/*
 * Gauges: values that go up and down (what is open now). Everything else
 * in the counters file is a counter, including names this pinholectl has
 * no description for (a newer module's).
 */
bool stat_is_gauge(const char *name);
/* The description of a known name, NULL for a name we do not know. */
const char *stat_description(const char *name);

/* Parses the "name value" lines of /proc/net/pinhole_ftp. */
int stats_parse(const char *text, struct stats *stats,
		char *err, size_t errlen);
/* The value of a named counter, 0 when absent. */
unsigned long long stats_value(const struct stats *stats, const char *name);
bool stats_has(const struct stats *stats, const char *name);
/* How much NAME grew from before to after (0 when it is absent or fell). */
unsigned long long stats_delta(const struct stats *before,
			       const struct stats *after, const char *name);
int stats_read(struct stats *stats, char *err, size_t errlen);
void stats_print_text(FILE *out, const struct stats *stats);
int stats_print_json(FILE *out, const struct stats *stats,
		     const char *netns);
/* OpenMetrics text exposition, every sample labelled netns="NETNS". */
void stats_print_openmetrics(FILE *out, const struct stats *stats,
			     const char *netns);

/* ---- paths.c: where the module shows itself ---------------------------- */

/* Builds $PINHOLECTL_PROC_ROOT/proc/REL (or /proc/REL). */
void path_proc(char *buf, size_t len, const char *rel);
/* Builds $PINHOLECTL_SYS_ROOT/sys/REL (or /sys/REL). */
void path_sys(char *buf, size_t len, const char *rel);
/* Builds $PINHOLECTL_MODULES_DIR/REL (or /lib/modules/REL). */
void path_modules(char *buf, size_t len, const char *rel);
bool module_loaded(void);
/* The loaded module's version into buf; -1 when unknown. */
int module_version(char *buf, size_t len);
/* The helper's registered name: the helper_name parameter or the default. */
const char *helper_name(void);
/* Reads a whole file (NUL-terminated, malloc'd); NULL with errno set. */
char *read_file(const char *path, size_t max);
/* Runs a command and returns its stdout (malloc'd), NULL when it fails. */
char *run_command(const char *const argv[], size_t max);
/* Enters the namespace NAME (under /run/netns), PATH or pid:PID. */
int enter_netns(const char *spec, char *err, size_t errlen);
/* A label for the current namespace: spec, or "net:[INODE]". */
void netns_label(char *buf, size_t len, const char *spec);
#define MODULE_NOT_LOADED_MSG \
	"pinhole module not loaded: run modprobe " PINHOLE_MODULE_NAME
#define NEEDS_ROOT_MSG	"needs CAP_NET_ADMIN: run as root"

/* ---- doctor.c: diagnosis ---------------------------------------------- */

enum hook_kind { HOOK_PREROUTING, HOOK_INPUT, HOOK_FORWARD, HOOK_OUTPUT,
		 HOOK_POSTROUTING, HOOK_OTHER, HOOK_KINDS };

#define NAME_MAX_LEN	64

struct ruleset_facts {
	bool readable;			/* some ruleset could be read */
	bool helper_object;		/* an nft ct helper of our type */
	char helper_object_name[NAME_MAX_LEN];
	bool helper_attached;		/* a rule attaches ours, after conntrack */
	bool helper_on_port21;		/* ... matching dport 21 */
	bool stock_helper_attached;	/* a rule attaches the stock "ftp" */
	bool related_accepted;		/* ct state related ... accept */
	bool drops;			/* some chain drops or rejects */
	/* per hook: drops there; accepts related there */
	bool hook_drops[HOOK_KINDS];
	bool hook_related[HOOK_KINDS];
	/* broken attachments */
	bool helper_before_conntrack;	/* in a chain at priority < -200 */
	char raw_chain[3 * NAME_MAX_LEN];
	int raw_prio;
	bool helper_on_sport21;		/* a rule matches tcp sport 21 */
	char sport_chain[3 * NAME_MAX_LEN];
	bool helper_ipv4_only;		/* inet table, l3proto ip */
	char ipv4_only_object[2 * NAME_MAX_LEN];
	char nft_error[256];		/* the nftables JSON did not parse */
	/* the tcp dports our helper is set on (FTP servers on other ports) */
	unsigned int helper_ports[8];
	size_t nhelper_ports;
};

/* Facts from `nft -j list ruleset` JSON (parsed with jansson). */
void nft_ruleset_facts(json_t *root, const char *helper,
		       struct ruleset_facts *facts);
void iptables_save_facts(const char *text, const char *helper,
			 struct ruleset_facts *facts);

/* Where the module file is, when it is not loaded. */
struct module_install {
	char release[128];		/* uname -r */
	bool installed;			/* listed in modules.dep of release */
	char other_releases[256];	/* releases that have it, ", " separated */
};

struct doctor_input {
	bool module_loaded;
	const struct module_install *install;	/* NULL: not looked up */
	const char *helper;		/* our helper's name */
	const char *nft_json;		/* `nft -j list ruleset`; NULL: none */
	const char *iptables_save;	/* iptables-save; NULL: none */
	const char *ip6tables_save;	/* ip6tables-save; NULL: none */
	/* counters at the start and end of the window; NULL: not judged */
	const struct stats *before, *after;
	unsigned int since;		/* the window, seconds */
	const char *policy_active;	/* NULL: unreadable */
	const char *policy_passive;
	/* the TCP ports something listens on in this namespace */
	const unsigned int *listen;
	size_t nlisten;
};

enum severity { SEV_ERROR, SEV_WARNING, SEV_INFO };

#define FINDINGS_MAX	40
#define FINDING_TEXT	768

struct finding {
	const char *id;
	enum severity severity;
	char problem[FINDING_TEXT];
	char fix[FINDING_TEXT];
};

struct doctor_report {
	struct finding finding[FINDINGS_MAX];
	size_t count;
	size_t by_severity[3];
};

const char *severity_name(enum severity sev);
void doctor_analyse(const struct doctor_input *in,
		    struct doctor_report *report);
/* 1 when an error holds, else 0: the exit status of doctor. */
int doctor_status(const struct doctor_report *report);
void doctor_print_text(FILE *out, const struct doctor_report *report);
int doctor_print_json(FILE *out, const struct doctor_report *report,
		      unsigned int since);

/*
 * Listening TCP ports in /proc/net/tcp{,6}, those among want[] (all when
 * nwant is 0), at most max of them; returns how many.
 */
size_t listening_ports(const unsigned int *want, size_t nwant,
		       unsigned int *found, size_t max);
/* Looks up where the module is installed for the running kernel. */
void module_install_lookup(struct module_install *mi);

/* ---- format.c: sessions, pinholes, data connections, events ------------ */

union ph_addr {
	struct in_addr v4;
	struct in6_addr v6;
};

struct ph_tuple {
	uint8_t family;			/* AF_INET, AF_INET6 */
	uint8_t l4proto;
	union ph_addr src, dst;
	uint16_t sport, dport;		/* host byte order */
};

#define HELPER_NAME_MAX	32

struct ph_session {
	struct ph_tuple orig, reply;
	uint32_t timeout;
	int encrypted;			/* -1: the module did not say */
	char helper[HELPER_NAME_MAX];
};

struct ph_pinhole {
	struct ph_tuple master;		/* the session's original tuple */
	struct ph_tuple expected;
	bool any_source;		/* the mask leaves the source open */
	uint32_t timeout;
	char helper[HELPER_NAME_MAX];
};

struct ph_data {
	struct ph_tuple orig, master;
	uint32_t timeout;
};

struct ph_snapshot {
	struct ph_session *session;
	size_t sessions;
	struct ph_pinhole *pinhole;
	size_t pinholes;
	struct ph_data *data;
	size_t datas;
};

enum ph_mode { MODE_UNKNOWN, MODE_ACTIVE, MODE_PASSIVE };

enum ph_event_type {
	EVENT_SESSION_START,
	EVENT_SESSION_END,
	EVENT_OPENED,
	EVENT_USED,
	EVENT_EXPIRED,
	EVENT_REMOVED,
};

struct ph_event {
	enum ph_event_type type;
	const struct timespec *when;
	const struct ph_session *session;	/* SESSION_* */
	const struct ph_pinhole *pinhole;	/* OPENED, EXPIRED, REMOVED */
	const struct ph_data *data;		/* USED */
};

bool tuple_equal(const struct ph_tuple *a, const struct ph_tuple *b);
bool addr_equal(uint8_t family, const union ph_addr *a,
		const union ph_addr *b);
/* "192.0.2.1" or "2001:db8::1" */
void addr_format(char *buf, size_t len, uint8_t family,
		 const union ph_addr *addr);
/* "192.0.2.1:21" or "[2001:db8::1]:21" */
void endpoint_format(char *buf, size_t len, uint8_t family,
		     const union ph_addr *addr, uint16_t port);
enum ph_mode pinhole_mode(const struct ph_pinhole *p);
enum ph_mode data_mode(const struct ph_data *d);
const char *mode_name(enum ph_mode mode);
const char *session_mode(const struct ph_snapshot *snap,
			 const struct ph_session *s);
const char *event_name(enum ph_event_type type);

void snapshot_free(struct ph_snapshot *snap);
/* Empty listings say so in text ("no FTP sessions"), JSON has []. */
void show_print_text(FILE *out, const struct ph_snapshot *snap);
int show_print_json(FILE *out, const struct ph_snapshot *snap);
void list_print_text(FILE *out, const struct ph_snapshot *snap);
int list_print_json(FILE *out, const struct ph_snapshot *snap);
void event_print_text(FILE *out, const struct ph_event *ev);
void event_print_json(FILE *out, const struct ph_event *ev);

/* ---- ct.c: libnetfilter_conntrack ------------------------------------- */

/* Fills snap from a conntrack dump and an expectation dump. */
int ct_snapshot(struct ph_snapshot *snap, const char *helper,
		char *err, size_t errlen);
/* Prints events until SIGINT or SIGTERM. */
int ct_watch(const char *helper, bool json, char *err, size_t errlen);

#endif /* PINHOLECTL_H */
