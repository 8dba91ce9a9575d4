// SPDX-License-Identifier: GPL-2.0
/*
 * Sessions, pinholes, data connections and events as human text or JSON.
 * Pure: works on the plain structs ct.c fills, so tests need no kernel.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "pinholectl.h"

bool addr_equal(uint8_t family, const union ph_addr *a,
		const union ph_addr *b)
{
	if (family == AF_INET)
		return a->v4.s_addr == b->v4.s_addr;
	return memcmp(&a->v6, &b->v6, sizeof(a->v6)) == 0;
}

bool tuple_equal(const struct ph_tuple *a, const struct ph_tuple *b)
{
	return a->family == b->family && a->l4proto == b->l4proto &&
	       a->sport == b->sport && a->dport == b->dport &&
	       addr_equal(a->family, &a->src, &b->src) &&
	       addr_equal(a->family, &a->dst, &b->dst);
}

void addr_format(char *buf, size_t len, uint8_t family,
		 const union ph_addr *addr)
{
	if (!inet_ntop(family == AF_INET6 ? AF_INET6 : AF_INET, addr, buf,
		       (socklen_t)len))
		snprintf(buf, len, "?");
}

void endpoint_format(char *buf, size_t len, uint8_t family,
		     const union ph_addr *addr, uint16_t port)
{
	char a[INET6_ADDRSTRLEN];

	addr_format(a, sizeof(a), family, addr);
	if (family == AF_INET6)
		snprintf(buf, len, "[%s]:%u", a, port);
	else
		snprintf(buf, len, "%s:%u", a, port);
}

static const char *family_name(uint8_t family)
{
	return family == AF_INET6 ? "ip6" : "ip";
}

/* Active: the server connects to the client; passive: the other way. */
enum ph_mode pinhole_mode(const struct ph_pinhole *p)
{
	if (addr_equal(p->master.family, &p->expected.dst, &p->master.src))
		return MODE_ACTIVE;
	if (addr_equal(p->master.family, &p->expected.dst, &p->master.dst))
		return MODE_PASSIVE;
	return MODE_UNKNOWN;
}

enum ph_mode data_mode(const struct ph_data *d)
{
	if (addr_equal(d->master.family, &d->orig.dst, &d->master.src))
		return MODE_ACTIVE;
	if (addr_equal(d->master.family, &d->orig.dst, &d->master.dst))
		return MODE_PASSIVE;
	return MODE_UNKNOWN;
}

const char *mode_name(enum ph_mode mode)
{
	switch (mode) {
	case MODE_ACTIVE:
		return "active";
	case MODE_PASSIVE:
		return "passive";
	default:
		return "unknown";
	}
}

const char *session_mode(const struct ph_snapshot *snap,
			 const struct ph_session *s)
{
	unsigned int seen = 0;
	size_t i;

	for (i = 0; i < snap->pinholes; i++)
		if (tuple_equal(&snap->pinhole[i].master, &s->orig))
			seen |= 1u << pinhole_mode(&snap->pinhole[i]);
	for (i = 0; i < snap->datas; i++)
		if (tuple_equal(&snap->data[i].master, &s->orig))
			seen |= 1u << data_mode(&snap->data[i]);
	seen &= ~(1u << MODE_UNKNOWN);
	if (seen == 0)
		return "idle";
	if (seen == (1u << MODE_ACTIVE))
		return "active";
	if (seen == (1u << MODE_PASSIVE))
		return "passive";
	return "mixed";
}

const char *event_name(enum ph_event_type type)
{
	switch (type) {
	case EVENT_SESSION_START:
		return "session-start";
	case EVENT_SESSION_END:
		return "session-end";
	case EVENT_OPENED:
		return "opened";
	case EVENT_USED:
		return "used";
	case EVENT_EXPIRED:
		return "expired";
	case EVENT_REMOVED:
		return "removed";
	}
	return "unknown";
}

void snapshot_free(struct ph_snapshot *snap)
{
	free(snap->session);
	free(snap->pinhole);
	free(snap->data);
	memset(snap, 0, sizeof(*snap));
}

/* ---- human text ---- */

static void tuple_text(char *buf, size_t len, const struct ph_tuple *t)
{
	char src[INET6_ADDRSTRLEN + 8], dst[INET6_ADDRSTRLEN + 8];

	endpoint_format(src, sizeof(src), t->family, &t->src, t->sport);
	endpoint_format(dst, sizeof(dst), t->family, &t->dst, t->dport);
	snprintf(buf, len, "%s -> %s", src, dst);
}

static void pinhole_text(char *buf, size_t len, const struct ph_pinhole *p)
{
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN + 8];

	if (p->any_source)
		snprintf(src, sizeof(src), "*");
	else
		addr_format(src, sizeof(src), p->expected.family,
			    &p->expected.src);
	endpoint_format(dst, sizeof(dst), p->expected.family,
			&p->expected.dst, p->expected.dport);
	snprintf(buf, len, "%s -> %s (%s, %us left)", src, dst,
		 mode_name(pinhole_mode(p)), p->timeout);
}

static void data_text(char *buf, size_t len, const struct ph_data *d)
{
	char tuple[2 * INET6_ADDRSTRLEN + 32];

	tuple_text(tuple, sizeof(tuple), &d->orig);
	snprintf(buf, len, "%s (%s, timeout %us)", tuple,
		 mode_name(data_mode(d)), d->timeout);
}

static const char *encrypted_text(int encrypted)
{
	if (encrypted < 0)
		return "unknown";
	return encrypted ? "yes (FTPS: not parsed)" : "no";
}

static void session_print_text(FILE *out, const struct ph_snapshot *snap,
			       const struct ph_session *s)
{
	char line[256];
	size_t i;

	tuple_text(line, sizeof(line), &s->orig);
	fprintf(out, "session: %s\n", line);
	fprintf(out, "  helper: %s\n", s->helper);
	fprintf(out, "  mode: %s\n", session_mode(snap, s));
	fprintf(out, "  encrypted: %s\n", encrypted_text(s->encrypted));
	fprintf(out, "  timeout: %us\n", s->timeout);
	for (i = 0; i < snap->pinholes; i++) {
		if (!tuple_equal(&snap->pinhole[i].master, &s->orig))
			continue;
		pinhole_text(line, sizeof(line), &snap->pinhole[i]);
		fprintf(out, "  pinhole: %s\n", line);
	}
	for (i = 0; i < snap->datas; i++) {
		if (!tuple_equal(&snap->data[i].master, &s->orig))
			continue;
		data_text(line, sizeof(line), &snap->data[i]);
		fprintf(out, "  data: %s\n", line);
	}
}

void show_print_text(FILE *out, const struct ph_snapshot *snap)
{
	size_t i;

	if (snap->sessions == 0) {
		fprintf(out, "no FTP sessions\n");
		return;
	}
	for (i = 0; i < snap->sessions; i++) {
		if (i)
			fputc('\n', out);
		session_print_text(out, snap, &snap->session[i]);
	}
}

void list_print_text(FILE *out, const struct ph_snapshot *snap)
{
	char hole[256], master[256];
	size_t i;

	if (snap->pinholes == 0) {
		fprintf(out, "no pinholes open\n");
		return;
	}
	for (i = 0; i < snap->pinholes; i++) {
		pinhole_text(hole, sizeof(hole), &snap->pinhole[i]);
		tuple_text(master, sizeof(master), &snap->pinhole[i].master);
		fprintf(out, "pinhole: %s session %s helper %s\n", hole,
			master, snap->pinhole[i].helper);
	}
}

/* ---- JSON ---- */

void jset(json_t *obj, const char *key, json_t *value)
{
	if (value)
		json_object_set_new(obj, key, value);
}

json_t *doc_new(void)
{
	json_t *doc = json_object(), *meta = json_object();

	if (!doc || !meta) {
		json_decref(doc);
		json_decref(meta);
		return NULL;
	}
	jset(meta, "version", json_string(PINHOLECTL_VERSION));
	jset(meta, "json_schema_version",
	     json_integer(PINHOLECTL_JSON_SCHEMA_VERSION));
	json_object_set_new(doc, "metainfo", meta);
	return doc;
}

int doc_print(FILE *out, json_t *doc)
{
	int ret;

	if (!doc)
		return -1;
	/* One line, "key": value with spaces, members in insertion order. */
	ret = json_dumpf(doc, out, JSON_PRESERVE_ORDER);
	json_decref(doc);
	fputc('\n', out);
	return ret;
}

static json_t *endpoint_json(uint8_t family, const union ph_addr *addr,
			     uint16_t port, bool with_port)
{
	char a[INET6_ADDRSTRLEN];
	json_t *o = json_object();

	if (!o)
		return NULL;
	addr_format(a, sizeof(a), family, addr);
	jset(o, "address", json_string(a));
	if (with_port)
		jset(o, "port", json_integer(port));
	return o;
}

static void session_endpoints_json(json_t *o, const struct ph_tuple *orig)
{
	jset(o, "client", endpoint_json(orig->family, &orig->src, orig->sport,
					true));
	jset(o, "server", endpoint_json(orig->family, &orig->dst, orig->dport,
					true));
}

static json_t *session_ref_json(const struct ph_tuple *master)
{
	json_t *o = json_object();

	if (o)
		session_endpoints_json(o, master);
	return o;
}

static json_t *pinhole_json(const struct ph_pinhole *p, bool with_session)
{
	const struct ph_tuple *e = &p->expected;
	json_t *o = json_object(), *src = json_object();
	char a[INET6_ADDRSTRLEN];

	if (!o || !src) {
		json_decref(o);
		json_decref(src);
		return NULL;
	}
	jset(o, "family", json_string(family_name(e->family)));
	if (p->any_source) {
		json_object_set_new(src, "address", json_null());
	} else {
		addr_format(a, sizeof(a), e->family, &e->src);
		jset(src, "address", json_string(a));
	}
	json_object_set_new(o, "source", src);
	jset(o, "destination", endpoint_json(e->family, &e->dst, e->dport,
					     true));
	jset(o, "mode", json_string(mode_name(pinhole_mode(p))));
	jset(o, "timeout", json_integer(p->timeout));
	jset(o, "helper", json_string(p->helper));
	if (with_session)
		jset(o, "session", session_ref_json(&p->master));
	return o;
}

static json_t *data_json(const struct ph_data *d, bool with_session)
{
	const struct ph_tuple *t = &d->orig;
	json_t *o = json_object();

	if (!o)
		return NULL;
	jset(o, "family", json_string(family_name(t->family)));
	jset(o, "source", endpoint_json(t->family, &t->src, t->sport, true));
	jset(o, "destination", endpoint_json(t->family, &t->dst, t->dport,
					     true));
	jset(o, "mode", json_string(mode_name(data_mode(d))));
	jset(o, "timeout", json_integer(d->timeout));
	if (with_session)
		jset(o, "session", session_ref_json(&d->master));
	return o;
}

static json_t *session_fields_json(const struct ph_session *s)
{
	json_t *o = json_object();

	if (!o)
		return NULL;
	jset(o, "family", json_string(family_name(s->orig.family)));
	session_endpoints_json(o, &s->orig);
	jset(o, "helper", json_string(s->helper));
	jset(o, "encrypted", s->encrypted < 0 ? json_null() :
			     json_boolean(s->encrypted));
	jset(o, "timeout", json_integer(s->timeout));
	return o;
}

static json_t *session_json(const struct ph_snapshot *snap,
			    const struct ph_session *s)
{
	json_t *o = session_fields_json(s), *holes, *data;
	size_t i;

	holes = json_array();
	data = json_array();
	if (!o || !holes || !data)
		goto err;
	jset(o, "mode", json_string(session_mode(snap, s)));
	for (i = 0; i < snap->pinholes; i++)
		if (tuple_equal(&snap->pinhole[i].master, &s->orig))
			json_array_append_new(holes,
					      pinhole_json(&snap->pinhole[i],
							   false));
	for (i = 0; i < snap->datas; i++)
		if (tuple_equal(&snap->data[i].master, &s->orig))
			json_array_append_new(data,
					      data_json(&snap->data[i], false));
	json_object_set_new(o, "pinholes", holes);
	json_object_set_new(o, "data", data);
	return o;
err:
	json_decref(o);
	json_decref(holes);
	json_decref(data);
	return NULL;
}

int show_print_json(FILE *out, const struct ph_snapshot *snap)
{
	json_t *doc = doc_new(), *list = json_array();
	size_t i;

	if (!doc || !list) {
		json_decref(doc);
		json_decref(list);
		return -1;
	}
	for (i = 0; i < snap->sessions; i++)
		json_array_append_new(list,
				      session_json(snap, &snap->session[i]));
	json_object_set_new(doc, "sessions", list);
	return doc_print(out, doc);
}

int list_print_json(FILE *out, const struct ph_snapshot *snap)
{
	json_t *doc = doc_new(), *list = json_array();
	size_t i;

	if (!doc || !list) {
		json_decref(doc);
		json_decref(list);
		return -1;
	}
	for (i = 0; i < snap->pinholes; i++)
		json_array_append_new(list,
				      pinhole_json(&snap->pinhole[i], true));
	json_object_set_new(doc, "pinholes", list);
	return doc_print(out, doc);
}

/* ---- events ---- */

/* 2026-01-31T12:00:00.123+01:00 */
static void time_format(char *buf, size_t len, const struct timespec *ts)
{
	char date[32], zone[8];
	struct tm tm;

	localtime_r(&ts->tv_sec, &tm);
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
	strftime(zone, sizeof(zone), "%z", &tm);
	snprintf(buf, len, "%s.%03ld%.3s:%.2s", date, ts->tv_nsec / 1000000,
		 zone, zone + 3);
}

void event_print_text(FILE *out, const struct ph_event *ev)
{
	char when[80], what[256], master[256];

	time_format(when, sizeof(when), ev->when);
	switch (ev->type) {
	case EVENT_SESSION_START:
	case EVENT_SESSION_END:
		tuple_text(what, sizeof(what), &ev->session->orig);
		fprintf(out, "%s %s %s helper %s\n", when,
			event_name(ev->type), what, ev->session->helper);
		break;
	case EVENT_USED:
		data_text(what, sizeof(what), ev->data);
		tuple_text(master, sizeof(master), &ev->data->master);
		fprintf(out, "%s used %s session %s\n", when, what, master);
		break;
	default:
		pinhole_text(what, sizeof(what), ev->pinhole);
		tuple_text(master, sizeof(master), &ev->pinhole->master);
		fprintf(out, "%s %s %s session %s\n", when,
			event_name(ev->type), what, master);
		break;
	}
	fflush(out);
}

/* {"event": {...}}, one line each, as nft monitor's JSON. */
void event_print_json(FILE *out, const struct ph_event *ev)
{
	json_t *doc = json_object(), *e = json_object();
	char when[80];

	if (!doc || !e) {
		json_decref(doc);
		json_decref(e);
		return;
	}
	time_format(when, sizeof(when), ev->when);
	jset(e, "time", json_string(when));
	jset(e, "type", json_string(event_name(ev->type)));
	switch (ev->type) {
	case EVENT_SESSION_START:
	case EVENT_SESSION_END:
		jset(e, "session", session_fields_json(ev->session));
		break;
	case EVENT_USED:
		jset(e, "data", data_json(ev->data, true));
		break;
	default:
		jset(e, "pinhole", pinhole_json(ev->pinhole, true));
		break;
	}
	json_object_set_new(doc, "event", e);
	doc_print(out, doc);
	fflush(out);
}
