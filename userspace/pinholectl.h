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

#include "../module/pinhole_abi.h"

#define PINHOLECTL_VERSION		"0.1.0"
#define PINHOLECTL_JSON_SCHEMA_VERSION	1

/* Exit status, as conntrack(8). */
#define EXIT_OK		0
#define EXIT_FAIL	1
#define EXIT_USAGE	2

#define ERRBUF_SIZE	512

/* ---- args.c: command line ------------------------------------------ */

enum command {
	CMD_NONE,
	CMD_SHOW,
	CMD_LIST,
	CMD_WATCH,
	CMD_STATS,
	CMD_GET,
	CMD_SET,
	CMD_DOCTOR,
	CMD_HELP,
	CMD_VERSION,
};

struct options {
	enum command command;
	bool json;
	const char *netns;	/* NULL: the current namespace */
	char **args;		/* the command's own arguments */
	int nargs;
};

/* 0, or -1 with a message for the user in err (bad usage: exit 2). */
int args_parse(int argc, char **argv, struct options *opts,
	       char *err, size_t errlen);
const char *command_name(enum command cmd);
void usage_print(FILE *out);

/* ---- json.c: writer and a small parser ------------------------------- */

struct json_writer {
	FILE *out;
	int depth;
	bool need_comma[32];
};

void jw_init(struct json_writer *w, FILE *out);
void jw_object_begin(struct json_writer *w, const char *key);
void jw_object_end(struct json_writer *w);
void jw_array_begin(struct json_writer *w, const char *key);
void jw_array_end(struct json_writer *w);
void jw_string(struct json_writer *w, const char *key, const char *value);
void jw_uint(struct json_writer *w, const char *key, unsigned long long v);
void jw_bool(struct json_writer *w, const char *key, bool value);
void jw_null(struct json_writer *w, const char *key);
/* {"pinhole": [{"metainfo": {...}}   ...   ]}: the document envelope. */
void jw_document_begin(struct json_writer *w, bool metainfo);
void jw_document_end(struct json_writer *w);
void json_print_string(FILE *out, const char *s);

enum json_type {
	JSON_NULL, JSON_FALSE, JSON_TRUE, JSON_NUMBER, JSON_STRING,
	JSON_ARRAY, JSON_OBJECT,
};

struct json_value {
	enum json_type type;
	char *text;			/* JSON_STRING value, JSON_NUMBER text */
	size_t count;			/* JSON_ARRAY, JSON_OBJECT members */
	char **keys;			/* JSON_OBJECT */
	struct json_value **items;	/* JSON_ARRAY, JSON_OBJECT */
};

struct json_value *json_parse(const char *text, char *err, size_t errlen);
void json_free(struct json_value *v);
const struct json_value *json_get(const struct json_value *obj,
				  const char *key);
const char *json_get_string(const struct json_value *obj, const char *key);

/* ---- policy.c: the sysctl knobs -------------------------------------- */

enum policy_kind { POLICY_BOOL, POLICY_PORT_RANGE, POLICY_INT };

struct policy_key {
	const char *name;
	enum policy_kind kind;
	long min, max;
	const char *meaning;
};

extern const struct policy_key policy_keys[];
extern const size_t policy_key_count;

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
void policy_print_value(struct json_writer *w, const struct policy_key *key,
			const char *value);

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

/* Parses the "name value" lines of /proc/net/pinhole_ftp. */
int stats_parse(const char *text, struct stats *stats,
		char *err, size_t errlen);
/* The value of a named counter, 0 when absent. */
unsigned long long stats_value(const struct stats *stats, const char *name);
bool stats_has(const struct stats *stats, const char *name);
int stats_read(struct stats *stats, char *err, size_t errlen);
void stats_print_text(FILE *out, const struct stats *stats);
void stats_print_json(FILE *out, const struct stats *stats);

/* ---- paths.c: where the module shows itself ---------------------------- */

/* Builds $PINHOLECTL_PROC_ROOT/proc/REL (or /proc/REL). */
void path_proc(char *buf, size_t len, const char *rel);
/* Builds $PINHOLECTL_SYS_ROOT/sys/REL (or /sys/REL). */
void path_sys(char *buf, size_t len, const char *rel);
bool module_loaded(void);
/* The helper's registered name: the helper_name parameter or the default. */
const char *helper_name(void);
/* Reads a whole file (NUL-terminated, malloc'd); NULL with errno set. */
char *read_file(const char *path, size_t max);
/* Runs a command and returns its stdout (malloc'd), NULL when it fails. */
char *run_command(const char *const argv[], size_t max);
int enter_netns(const char *name, char *err, size_t errlen);
#define MODULE_NOT_LOADED_MSG \
	"pinhole module not loaded: run modprobe " PINHOLE_MODULE_NAME
#define NEEDS_ROOT_MSG	"needs CAP_NET_ADMIN: run as root"

/* ---- doctor.c: diagnosis ---------------------------------------------- */

struct ruleset_facts {
	bool readable;			/* some ruleset could be read */
	bool helper_object;		/* an nft ct helper of our type */
	char helper_object_name[64];
	bool helper_attached;		/* a rule attaches our helper */
	bool helper_on_port21;		/* ... matching dport 21 */
	bool stock_helper_attached;	/* a rule attaches the stock "ftp" */
	bool related_accepted;		/* ct state related ... accept */
	bool drops;			/* some chain drops or rejects */
};

void nft_ruleset_facts(const struct json_value *root, const char *helper,
		       struct ruleset_facts *facts);
void iptables_save_facts(const char *text, const char *helper,
			 struct ruleset_facts *facts);

struct doctor_input {
	bool module_loaded;
	const char *helper;		/* our helper's name */
	const char *nft_json;		/* `nft -j list ruleset`; NULL: none */
	const char *iptables_save;	/* iptables-save; NULL: none */
	const char *ip6tables_save;	/* ip6tables-save; NULL: none */
	const struct stats *stats;	/* NULL: unreadable */
	const char *policy_active;	/* NULL: unreadable */
	const char *policy_passive;
};

#define FINDINGS_MAX	40
#define FINDING_TEXT	768

struct finding {
	const char *id;
	char problem[FINDING_TEXT];
	char fix[FINDING_TEXT];
};

struct doctor_report {
	struct finding finding[FINDINGS_MAX];
	size_t count;
};

void doctor_analyse(const struct doctor_input *in,
		    struct doctor_report *report);
void doctor_print_text(FILE *out, const struct doctor_report *report);
void doctor_print_json(FILE *out, const struct doctor_report *report);

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
void show_print_text(FILE *out, const struct ph_snapshot *snap);
void show_print_json(FILE *out, const struct ph_snapshot *snap);
void list_print_text(FILE *out, const struct ph_snapshot *snap);
void list_print_json(FILE *out, const struct ph_snapshot *snap);
void event_print_text(FILE *out, const struct ph_event *ev);
void event_print_json(FILE *out, const struct ph_event *ev);

/* ---- ct.c: libnetfilter_conntrack ------------------------------------- */

/* Fills snap from a conntrack dump and an expectation dump. */
int ct_snapshot(struct ph_snapshot *snap, const char *helper,
		char *err, size_t errlen);
/* Prints events until SIGINT or SIGTERM. */
int ct_watch(const char *helper, bool json, char *err, size_t errlen);

#endif /* PINHOLECTL_H */
