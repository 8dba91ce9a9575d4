// SPDX-License-Identifier: GPL-2.0
/*
 * The policy knobs under /proc/sys/net/netfilter/pinhole_ftp/: their
 * names (from pinhole_abi.h), the values each accepts, reading and writing.
 * pinholectl validates before writing so the user learns the valid range;
 * the kernel validates again and answers EINVAL.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pinholectl.h"

/* What pinholectl knows of each key; the list itself is pinhole_abi.h's. */
static const struct policy_key known_keys[] = {
	{ "active", POLICY_BOOL, 0, 1,
	  "open pinholes for PORT/EPRT (active mode)" },
	{ "passive", POLICY_BOOL, 0, 1,
	  "open pinholes for 227/229 (passive mode)" },
	{ "allow_third_party", POLICY_BOOL, 0, 1,
	  "accept a data address other than the announcing peer's" },
	{ "active_ports", POLICY_PORT_RANGE, 1, 65535,
	  "ports a client may announce" },
	{ "passive_ports", POLICY_PORT_RANGE, 1, 65535,
	  "ports a server may announce" },
	{ "max_pinholes", POLICY_INT, 1, 64,
	  "pinholes one session may hold" },
	{ "timeout", POLICY_INT, 1, 3600,
	  "seconds a pinhole waits for its data connection" },
	{ "enforce", POLICY_BOOL, 0, 1,
	  "neutralise a refused line so that the peer answers it with an error" },
	{ "log", POLICY_INT, 0, 2,
	  "kernel log lines: 0 off, 1 refusals, 2 refusals and opened pinholes" },
};

#define POLICY_KEY_NAME(key) #key,
static const char *const abi_keys[] = { PINHOLE_SYSCTLS(POLICY_KEY_NAME) };
#undef POLICY_KEY_NAME

const size_t policy_key_count = sizeof(abi_keys) / sizeof(abi_keys[0]);

/*
 * The keys in pinhole_abi.h's order. A key this pinholectl has no entry
 * for (a newer module's) is handled generically: the kernel validates it.
 */
const struct policy_key *policy_key_at(size_t i)
{
	static struct policy_key table[sizeof(abi_keys) / sizeof(abi_keys[0])];
	size_t k;

	if (i >= policy_key_count)
		return NULL;
	if (table[i].name)
		return &table[i];
	table[i] = (struct policy_key){ abi_keys[i], POLICY_GENERIC, 0, 0,
					"(no description in this pinholectl)" };
	for (k = 0; k < sizeof(known_keys) / sizeof(known_keys[0]); k++)
		if (strcmp(known_keys[k].name, abi_keys[i]) == 0)
			table[i] = known_keys[k];
	return &table[i];
}

const struct policy_key *policy_key_find(const char *name)
{
	size_t i;

	for (i = 0; i < policy_key_count; i++)
		if (strcmp(policy_key_at(i)->name, name) == 0)
			return policy_key_at(i);
	return NULL;
}

/* A decimal number made of digits only, at most 10 of them. */
static int parse_decimal(const char *s, const char **end, long *out)
{
	long v = 0;
	int n = 0;

	while (*s >= '0' && *s <= '9') {
		if (++n > 10)
			return -1;
		v = v * 10 + (*s - '0');
		s++;
	}
	if (n == 0)
		return -1;
	*end = s;
	*out = v;
	return 0;
}

static int parse_int_value(const char *value, long *out)
{
	const char *end;

	if (parse_decimal(value, &end, out) || *end != '\0')
		return -1;
	return 0;
}

static int parse_range_value(const char *value, long *lo, long *hi)
{
	const char *end;

	if (parse_decimal(value, &end, lo) || *end != '-')
		return -1;
	if (parse_decimal(end + 1, &end, hi) || *end != '\0')
		return -1;
	return 0;
}

/* A key we know nothing of: a plain word, the kernel checks the rest. */
static bool generic_value_ok(const char *value)
{
	size_t n = strspn(value, "0123456789abcdefghijklmnopqrstuvwxyz"
				 "ABCDEFGHIJKLMNOPQRSTUVWXYZ_,.:-");

	return n > 0 && n < 64 && value[n] == '\0';
}

int policy_validate(const struct policy_key *key, const char *value,
		    char *err, size_t errlen)
{
	long v, lo, hi;

	switch (key->kind) {
	case POLICY_BOOL:
		if (parse_int_value(value, &v) || v < 0 || v > 1) {
			snprintf(err, errlen,
				 "invalid value '%s' for %s: expected 0 or 1",
				 value, key->name);
			return -1;
		}
		return 0;
	case POLICY_INT:
		if (parse_int_value(value, &v) || v < key->min || v > key->max) {
			snprintf(err, errlen,
				 "invalid value '%s' for %s: expected an integer from %ld to %ld%s",
				 value, key->name, key->min, key->max,
				 strcmp(key->name, "timeout") == 0 ?
				 " (seconds)" : "");
			return -1;
		}
		return 0;
	case POLICY_GENERIC:
		if (!generic_value_ok(value)) {
			snprintf(err, errlen,
				 "invalid value '%s' for %s: expected up to 63 letters, digits or _,.:-",
				 value, key->name);
			return -1;
		}
		return 0;
	case POLICY_PORT_RANGE:
		if (parse_range_value(value, &lo, &hi) || lo < key->min ||
		    hi > key->max || lo > hi) {
			snprintf(err, errlen,
				 "invalid value '%s' for %s: expected LO-HI with %ld <= LO <= HI <= %ld, e.g. 1024-65535",
				 value, key->name, key->min, key->max);
			return -1;
		}
		return 0;
	}
	return -1;
}

static void valid_keys(char *buf, size_t len)
{
	size_t i, used = 0;

	buf[0] = '\0';
	for (i = 0; i < policy_key_count && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s",
					 i ? ", " : "", policy_key_at(i)->name);
}

static int unknown_key(const char *name, size_t namelen, char *err,
		       size_t errlen)
{
	char keys[256];

	valid_keys(keys, sizeof(keys));
	snprintf(err, errlen, "unknown key '%.*s': valid keys are %s",
		 (int)namelen, name, keys);
	return -1;
}

int policy_key_lookup(const char *name, const struct policy_key **key,
		      char *err, size_t errlen)
{
	*key = policy_key_find(name);
	if (!*key)
		return unknown_key(name, strlen(name), err, errlen);
	return 0;
}

int policy_parse_assignment(const char *arg, const struct policy_key **key,
			    const char **value, char *err, size_t errlen)
{
	const char *eq = strchr(arg, '=');
	char name[64];

	if (!eq) {
		snprintf(err, errlen,
			 "expected KEY=VALUE, got '%s' (e.g. pinholectl set timeout=300)",
			 arg);
		return -1;
	}
	if ((size_t)(eq - arg) >= sizeof(name))
		return unknown_key(arg, (size_t)(eq - arg), err, errlen);
	memcpy(name, arg, (size_t)(eq - arg));
	name[eq - arg] = '\0';
	*key = policy_key_find(name);
	if (!*key)
		return unknown_key(name, strlen(name), err, errlen);
	*value = eq + 1;
	return policy_validate(*key, *value, err, errlen);
}

static void policy_path(char *buf, size_t len, const struct policy_key *key)
{
	char rel[128];

	snprintf(rel, sizeof(rel), "sys/%s/%s", PINHOLE_SYSCTL_DIR, key->name);
	path_proc(buf, len, rel);
}

static int policy_errno(int err_no, const char *path, const char *what,
			char *err, size_t errlen)
{
	if (err_no == ENOENT && !module_loaded())
		snprintf(err, errlen, "%s", MODULE_NOT_LOADED_MSG);
	else if (err_no == EACCES || err_no == EPERM)
		snprintf(err, errlen, "cannot %s %s: %s", what, path,
			 NEEDS_ROOT_MSG);
	else
		snprintf(err, errlen, "cannot %s %s: %s", what, path,
			 strerror(err_no));
	return -1;
}

bool policy_present(const struct policy_key *key)
{
	char path[PATH_MAX];

	policy_path(path, sizeof(path), key);
	return access(path, F_OK) == 0;
}

int policy_read(const struct policy_key *key, char *buf, size_t len,
		char *err, size_t errlen)
{
	char path[PATH_MAX];
	char *text;
	size_t n;

	policy_path(path, sizeof(path), key);
	text = read_file(path, 4096);
	if (!text)
		return policy_errno(errno, path, "read", err, errlen);
	n = strcspn(text, "\n");
	text[n] = '\0';
	snprintf(buf, len, "%s", text);
	free(text);
	return 0;
}

int policy_write(const struct policy_key *key, const char *value,
		 char *err, size_t errlen)
{
	char path[PATH_MAX], line[64];
	ssize_t n;
	int fd, len;

	policy_path(path, sizeof(path), key);
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return policy_errno(errno, path, "write", err, errlen);
	len = snprintf(line, sizeof(line), "%s\n", value);
	n = write(fd, line, (size_t)len);
	if (n != len) {
		int saved = n < 0 ? errno : EIO;

		close(fd);
		if (saved == EINVAL) {
			snprintf(err, errlen,
				 "the kernel refused %s=%s (EINVAL): check the value against pinholectl(8)",
				 key->name, value);
			return -1;
		}
		return policy_errno(saved, path, "write", err, errlen);
	}
	if (close(fd))
		return policy_errno(errno, path, "write", err, errlen);
	return 0;
}

/* Integers as JSON numbers, port ranges as "LO-HI" strings. */
json_t *policy_value_json(const struct policy_key *key, const char *value)
{
	long v;

	if (key->kind != POLICY_PORT_RANGE && parse_int_value(value, &v) == 0)
		return json_integer(v);
	return json_string(value);
}
