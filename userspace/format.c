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

	for (i = 0; i < snap->pinholes; i++) {
		pinhole_text(hole, sizeof(hole), &snap->pinhole[i]);
		tuple_text(master, sizeof(master), &snap->pinhole[i].master);
		fprintf(out, "pinhole: %s session %s helper %s\n", hole,
			master, snap->pinhole[i].helper);
	}
}

/* ---- JSON ---- */

static void endpoint_json(struct json_writer *w, const char *key,
			  uint8_t family, const union ph_addr *addr,
			  uint16_t port, bool with_port)
{
	char a[INET6_ADDRSTRLEN];

	addr_format(a, sizeof(a), family, addr);
	jw_object_begin(w, key);
	jw_string(w, "address", a);
	if (with_port)
		jw_uint(w, "port", port);
	jw_object_end(w);
}

static void session_endpoints_json(struct json_writer *w,
				   const struct ph_tuple *orig)
{
	endpoint_json(w, "client", orig->family, &orig->src, orig->sport,
		      true);
	endpoint_json(w, "server", orig->family, &orig->dst, orig->dport,
		      true);
}

static void pinhole_json(struct json_writer *w, const char *key,
			 const struct ph_pinhole *p, bool with_session)
{
	const struct ph_tuple *e = &p->expected;
	char a[INET6_ADDRSTRLEN];

	jw_object_begin(w, key);
	jw_string(w, "family", family_name(e->family));
	jw_object_begin(w, "source");
	if (p->any_source) {
		jw_null(w, "address");
	} else {
		addr_format(a, sizeof(a), e->family, &e->src);
		jw_string(w, "address", a);
	}
	jw_object_end(w);
	endpoint_json(w, "destination", e->family, &e->dst, e->dport, true);
	jw_string(w, "mode", mode_name(pinhole_mode(p)));
	jw_uint(w, "timeout", p->timeout);
	jw_string(w, "helper", p->helper);
	if (with_session) {
		jw_object_begin(w, "session");
		session_endpoints_json(w, &p->master);
		jw_object_end(w);
	}
	jw_object_end(w);
}

static void data_json(struct json_writer *w, const char *key,
		      const struct ph_data *d, bool with_session)
{
	const struct ph_tuple *t = &d->orig;

	jw_object_begin(w, key);
	jw_string(w, "family", family_name(t->family));
	endpoint_json(w, "source", t->family, &t->src, t->sport, true);
	endpoint_json(w, "destination", t->family, &t->dst, t->dport, true);
	jw_string(w, "mode", mode_name(data_mode(d)));
	jw_uint(w, "timeout", d->timeout);
	if (with_session) {
		jw_object_begin(w, "session");
		session_endpoints_json(w, &d->master);
		jw_object_end(w);
	}
	jw_object_end(w);
}

static void session_fields_json(struct json_writer *w,
				const struct ph_session *s)
{
	jw_string(w, "family", family_name(s->orig.family));
	session_endpoints_json(w, &s->orig);
	jw_string(w, "helper", s->helper);
	if (s->encrypted < 0)
		jw_null(w, "encrypted");
	else
		jw_bool(w, "encrypted", s->encrypted);
	jw_uint(w, "timeout", s->timeout);
}

static void session_json(struct json_writer *w,
			 const struct ph_snapshot *snap,
			 const struct ph_session *s)
{
	size_t i;

	jw_object_begin(w, NULL);
	jw_object_begin(w, "session");
	session_fields_json(w, s);
	jw_string(w, "mode", session_mode(snap, s));
	jw_array_begin(w, "pinholes");
	for (i = 0; i < snap->pinholes; i++)
		if (tuple_equal(&snap->pinhole[i].master, &s->orig))
			pinhole_json(w, NULL, &snap->pinhole[i], false);
	jw_array_end(w);
	jw_array_begin(w, "data");
	for (i = 0; i < snap->datas; i++)
		if (tuple_equal(&snap->data[i].master, &s->orig))
			data_json(w, NULL, &snap->data[i], false);
	jw_array_end(w);
	jw_object_end(w);
	jw_object_end(w);
}

void show_print_json(FILE *out, const struct ph_snapshot *snap)
{
	struct json_writer w;
	size_t i;

	jw_init(&w, out);
	jw_document_begin(&w, true);
	for (i = 0; i < snap->sessions; i++)
		session_json(&w, snap, &snap->session[i]);
	jw_document_end(&w);
}

void list_print_json(FILE *out, const struct ph_snapshot *snap)
{
	struct json_writer w;
	size_t i;

	jw_init(&w, out);
	jw_document_begin(&w, true);
	for (i = 0; i < snap->pinholes; i++) {
		jw_object_begin(&w, NULL);
		pinhole_json(&w, "pinhole", &snap->pinhole[i], true);
		jw_object_end(&w);
	}
	jw_document_end(&w);
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

void event_print_json(FILE *out, const struct ph_event *ev)
{
	struct json_writer w;
	char when[80];

	time_format(when, sizeof(when), ev->when);
	jw_init(&w, out);
	jw_document_begin(&w, false);
	jw_object_begin(&w, NULL);
	jw_object_begin(&w, "event");
	jw_string(&w, "time", when);
	jw_string(&w, "type", event_name(ev->type));
	switch (ev->type) {
	case EVENT_SESSION_START:
	case EVENT_SESSION_END:
		jw_object_begin(&w, "session");
		session_fields_json(&w, ev->session);
		jw_object_end(&w);
		break;
	case EVENT_USED:
		data_json(&w, "data", ev->data, true);
		break;
	default:
		pinhole_json(&w, "pinhole", ev->pinhole, true);
		break;
	}
	jw_object_end(&w);
	jw_object_end(&w);
	jw_document_end(&w);
	fflush(out);
}
