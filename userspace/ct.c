// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel's view through libnetfilter_conntrack: dumps of conntrack
 * entries and expectations for show/list, and events for watch. This is
 * the only file that talks netlink; it converts what it reads into the
 * plain structs of pinholectl.h for format.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <libnetfilter_conntrack/libnetfilter_conntrack.h>
#include <libnfnetlink/libnfnetlink.h>

#include "pinholectl.h"

/* ---- conversion ---- */

struct tuple_attrs {
	enum nf_conntrack_attr l3, l4, v4src, v4dst, v6src, v6dst,
			       psrc, pdst;
};

static const struct tuple_attrs orig_attrs = {
	ATTR_ORIG_L3PROTO, ATTR_ORIG_L4PROTO,
	ATTR_ORIG_IPV4_SRC, ATTR_ORIG_IPV4_DST,
	ATTR_ORIG_IPV6_SRC, ATTR_ORIG_IPV6_DST,
	ATTR_ORIG_PORT_SRC, ATTR_ORIG_PORT_DST,
};

static const struct tuple_attrs reply_attrs = {
	ATTR_REPL_L3PROTO, ATTR_REPL_L4PROTO,
	ATTR_REPL_IPV4_SRC, ATTR_REPL_IPV4_DST,
	ATTR_REPL_IPV6_SRC, ATTR_REPL_IPV6_DST,
	ATTR_REPL_PORT_SRC, ATTR_REPL_PORT_DST,
};

static const struct tuple_attrs master_attrs = {
	ATTR_MASTER_L3PROTO, ATTR_MASTER_L4PROTO,
	ATTR_MASTER_IPV4_SRC, ATTR_MASTER_IPV4_DST,
	ATTR_MASTER_IPV6_SRC, ATTR_MASTER_IPV6_DST,
	ATTR_MASTER_PORT_SRC, ATTR_MASTER_PORT_DST,
};

static void copy_addr(const struct nf_conntrack *ct, enum nf_conntrack_attr a,
		      size_t len, union ph_addr *out)
{
	if (nfct_attr_is_set(ct, a) > 0)
		memcpy(out, nfct_get_attr(ct, a), len);
}

static uint16_t get_port(const struct nf_conntrack *ct,
			 enum nf_conntrack_attr a)
{
	return nfct_attr_is_set(ct, a) > 0 ?
	       ntohs(nfct_get_attr_u16(ct, a)) : 0;
}

static void tuple_from_ct(const struct nf_conntrack *ct,
			  const struct tuple_attrs *at, struct ph_tuple *t)
{
	memset(t, 0, sizeof(*t));
	t->family = nfct_get_attr_u8(ct, at->l3);
	t->l4proto = nfct_get_attr_u8(ct, at->l4);
	if (t->family == AF_INET6) {
		copy_addr(ct, at->v6src, sizeof(struct in6_addr), &t->src);
		copy_addr(ct, at->v6dst, sizeof(struct in6_addr), &t->dst);
	} else {
		copy_addr(ct, at->v4src, sizeof(struct in_addr), &t->src);
		copy_addr(ct, at->v4dst, sizeof(struct in_addr), &t->dst);
	}
	t->sport = get_port(ct, at->psrc);
	t->dport = get_port(ct, at->pdst);
}

static bool ct_has_master(const struct nf_conntrack *ct)
{
	return nfct_attr_is_set(ct, ATTR_MASTER_L3PROTO) > 0;
}

/*
 * A control session: the helper attached and no master. On a kernel whose
 * expectations have no separate helper to assign, a data connection
 * admitted by an expectation that conntrackd replicated carries the helper
 * too (the expectation names it), and is data all the same.
 */
static bool ct_is_session(const struct nf_conntrack *ct, const char *helper)
{
	return nfct_attr_is_set(ct, ATTR_HELPER_NAME) > 0 &&
	       strcmp(nfct_get_attr(ct, ATTR_HELPER_NAME), helper) == 0 &&
	       !ct_has_master(ct);
}

static void session_from_ct(const struct nf_conntrack *ct,
			    struct ph_session *s)
{
	const struct pinhole_ct_info *info;

	memset(s, 0, sizeof(*s));
	tuple_from_ct(ct, &orig_attrs, &s->orig);
	tuple_from_ct(ct, &reply_attrs, &s->reply);
	if (nfct_attr_is_set(ct, ATTR_TIMEOUT) > 0)
		s->timeout = nfct_get_attr_u32(ct, ATTR_TIMEOUT);
	snprintf(s->helper, sizeof(s->helper), "%s",
		 nfct_attr_is_set(ct, ATTR_HELPER_NAME) > 0 ?
		 (const char *)nfct_get_attr(ct, ATTR_HELPER_NAME) : "");
	s->encrypted = -1;
	if (nfct_attr_is_set(ct, ATTR_HELPER_INFO) > 0) {
		info = nfct_get_attr(ct, ATTR_HELPER_INFO);
		if (info->version == PINHOLE_CT_INFO_VERSION)
			s->encrypted = !!(info->flags & PINHOLE_CT_ENCRYPTED);
	}
}

static void data_from_ct(const struct nf_conntrack *ct, struct ph_data *d)
{
	memset(d, 0, sizeof(*d));
	tuple_from_ct(ct, &orig_attrs, &d->orig);
	tuple_from_ct(ct, &master_attrs, &d->master);
	if (nfct_attr_is_set(ct, ATTR_TIMEOUT) > 0)
		d->timeout = nfct_get_attr_u32(ct, ATTR_TIMEOUT);
}

static bool addr_is_zero(const union ph_addr *a, uint8_t family)
{
	static const union ph_addr zero;

	return addr_equal(family, a, &zero);
}

static void pinhole_from_exp(const struct nf_expect *exp,
			     struct ph_pinhole *p)
{
	const struct nf_conntrack *master, *expected, *mask;
	struct ph_tuple m;

	memset(p, 0, sizeof(*p));
	master = nfexp_get_attr(exp, ATTR_EXP_MASTER);
	expected = nfexp_get_attr(exp, ATTR_EXP_EXPECTED);
	mask = nfexp_get_attr(exp, ATTR_EXP_MASK);
	if (master)
		tuple_from_ct(master, &orig_attrs, &p->master);
	if (expected)
		tuple_from_ct(expected, &orig_attrs, &p->expected);
	if (mask) {
		tuple_from_ct(mask, &orig_attrs, &m);
		p->any_source = addr_is_zero(&m.src, p->expected.family);
	}
	if (nfexp_attr_is_set(exp, ATTR_EXP_TIMEOUT) > 0)
		p->timeout = nfexp_get_attr_u32(exp, ATTR_EXP_TIMEOUT);
	if (nfexp_attr_is_set(exp, ATTR_EXP_HELPER_NAME) > 0)
		snprintf(p->helper, sizeof(p->helper), "%s",
			 (const char *)nfexp_get_attr(exp,
						      ATTR_EXP_HELPER_NAME));
}

/* ---- errors ---- */

static int netlink_error(const char *what, int err_no, char *err,
			 size_t errlen)
{
	if (err_no == EPERM || err_no == EACCES)
		snprintf(err, errlen, "%s: %s", what, NEEDS_ROOT_MSG);
	else if (err_no == EPROTONOSUPPORT || err_no == EOPNOTSUPP ||
		 err_no == ENOENT)
		snprintf(err, errlen,
			 "%s: %s: run modprobe nf_conntrack_netlink", what,
			 strerror(err_no));
	else
		snprintf(err, errlen, "%s: %s", what, strerror(err_no));
	return -1;
}

/* ---- dumps ---- */

#define GROW(array, count, cap) grow((void **)&(array), (count), &(cap), \
				     sizeof(*(array)))

static int grow(void **array, size_t count, size_t *cap, size_t size)
{
	void *bigger;
	size_t n;

	if (count < *cap)
		return 0;
	n = *cap ? *cap * 2 : 16;
	bigger = realloc(*array, n * size);
	if (!bigger)
		return -1;
	*array = bigger;
	*cap = n;
	return 0;
}

struct dump {
	struct ph_snapshot *snap;
	const char *helper;
	size_t session_cap, pinhole_cap, data_cap;
	bool nomem;
};

static int dump_ct_cb(enum nf_conntrack_msg_type type,
		      struct nf_conntrack *ct, void *data)
{
	struct dump *d = data;
	struct ph_snapshot *snap = d->snap;

	(void)type;
	if (ct_is_session(ct, d->helper)) {
		if (GROW(snap->session, snap->sessions, d->session_cap))
			goto nomem;
		session_from_ct(ct, &snap->session[snap->sessions++]);
	} else if (ct_has_master(ct)) {
		if (GROW(snap->data, snap->datas, d->data_cap))
			goto nomem;
		data_from_ct(ct, &snap->data[snap->datas++]);
	}
	return NFCT_CB_CONTINUE;
nomem:
	d->nomem = true;
	return NFCT_CB_STOP;
}

static bool is_known_session(const struct ph_snapshot *snap,
			     const struct ph_tuple *t)
{
	size_t i;

	for (i = 0; i < snap->sessions; i++)
		if (tuple_equal(&snap->session[i].orig, t))
			return true;
	return false;
}

static int dump_exp_cb(enum nf_conntrack_msg_type type,
		       struct nf_expect *exp, void *data)
{
	struct dump *d = data;
	struct ph_snapshot *snap = d->snap;
	struct ph_pinhole p;

	(void)type;
	pinhole_from_exp(exp, &p);
	/* Old kernels do not name the helper: fall back on the master. */
	if (p.helper[0] ? strcmp(p.helper, d->helper) != 0 :
			  !is_known_session(snap, &p.master))
		return NFCT_CB_CONTINUE;
	if (!p.helper[0])
		snprintf(p.helper, sizeof(p.helper), "%s", d->helper);
	if (GROW(snap->pinhole, snap->pinholes, d->pinhole_cap)) {
		d->nomem = true;
		return NFCT_CB_STOP;
	}
	snap->pinhole[snap->pinholes++] = p;
	return NFCT_CB_CONTINUE;
}

static int dump_conntrack(struct dump *d, char *err, size_t errlen)
{
	uint32_t family = AF_UNSPEC;
	struct nfct_handle *h;
	int ret, saved;

	h = nfct_open(CONNTRACK, 0);
	if (!h)
		return netlink_error("cannot open ctnetlink", errno, err,
				     errlen);
	nfct_callback_register(h, NFCT_T_ALL, dump_ct_cb, d);
	ret = nfct_query(h, NFCT_Q_DUMP, &family);
	saved = errno;
	nfct_close(h);
	if (ret < 0)
		return netlink_error("cannot dump conntrack entries", saved,
				     err, errlen);
	return 0;
}

static int dump_expectations(struct dump *d, char *err, size_t errlen)
{
	uint32_t family = AF_UNSPEC;
	struct nfct_handle *h;
	int ret, saved;

	h = nfct_open(EXPECT, 0);
	if (!h)
		return netlink_error("cannot open ctnetlink", errno, err,
				     errlen);
	nfexp_callback_register(h, NFCT_T_ALL, dump_exp_cb, d);
	ret = nfexp_query(h, NFCT_Q_DUMP, &family);
	saved = errno;
	nfct_close(h);
	if (ret < 0)
		return netlink_error("cannot dump expectations", saved, err,
				     errlen);
	return 0;
}

int ct_snapshot(struct ph_snapshot *snap, const char *helper,
		char *err, size_t errlen)
{
	struct dump d = { .snap = snap, .helper = helper };

	memset(snap, 0, sizeof(*snap));
	if (dump_conntrack(&d, err, errlen) ||
	    dump_expectations(&d, err, errlen))
		goto fail;
	if (d.nomem) {
		snprintf(err, errlen, "out of memory reading the tables");
		goto fail;
	}
	return 0;
fail:
	snapshot_free(snap);
	return -1;
}

/* ---- watch ---- */

/*
 * A pinhole that disappeared with time left was either used or removed:
 * the data connection's NEW event follows its DESTROY event at once, so
 * hold the verdict this long before calling it removed.
 */
#define PENDING_MS	1000
#define PENDING_MAX	256
#define EVENT_RCVBUF	(4u << 20)

struct pending {
	struct ph_pinhole pinhole;
	struct timespec seen;		/* when the DESTROY event came */
	struct timespec deadline;	/* CLOCK_MONOTONIC */
};

struct watch {
	const char *helper;
	bool json;
	struct ph_snapshot known;	/* sessions we know are ours */
	size_t known_cap;
	struct pending pending[PENDING_MAX];
	size_t npending;
	bool nomem;
};

static volatile sig_atomic_t stop_signal;

static void on_stop(int sig)
{
	stop_signal = sig;
}

static void now(struct timespec *ts)
{
	clock_gettime(CLOCK_REALTIME, ts);
}

static long ms_until(const struct timespec *then)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (then->tv_sec - ts.tv_sec) * 1000 +
	       (then->tv_nsec - ts.tv_nsec) / 1000000;
}

static void emit(struct watch *w, struct ph_event *ev)
{
	struct timespec ts;

	if (!ev->when) {
		now(&ts);
		ev->when = &ts;
	}
	if (w->json)
		event_print_json(stdout, ev);
	else
		event_print_text(stdout, ev);
}

static void emit_pinhole(struct watch *w, enum ph_event_type type,
			 const struct ph_pinhole *p, const struct timespec *when)
{
	struct ph_event ev = { .type = type, .pinhole = p, .when = when };

	emit(w, &ev);
}

static void known_add(struct watch *w, const struct ph_session *s)
{
	if (is_known_session(&w->known, &s->orig))
		return;
	if (GROW(w->known.session, w->known.sessions, w->known_cap)) {
		w->nomem = true;
		return;
	}
	w->known.session[w->known.sessions++] = *s;
}

static bool known_remove(struct watch *w, const struct ph_tuple *t)
{
	size_t i;

	for (i = 0; i < w->known.sessions; i++) {
		if (!tuple_equal(&w->known.session[i].orig, t))
			continue;
		w->known.session[i] =
			w->known.session[--w->known.sessions];
		return true;
	}
	return false;
}

static void pending_drop(struct watch *w, size_t i)
{
	w->pending[i] = w->pending[--w->npending];
}

static void pending_add(struct watch *w, const struct ph_pinhole *p)
{
	struct pending *pend;

	if (w->npending == PENDING_MAX) {
		emit_pinhole(w, EVENT_REMOVED, &w->pending[0].pinhole,
			     &w->pending[0].seen);
		pending_drop(w, 0);
	}
	pend = &w->pending[w->npending++];
	pend->pinhole = *p;
	now(&pend->seen);
	clock_gettime(CLOCK_MONOTONIC, &pend->deadline);
	pend->deadline.tv_sec += PENDING_MS / 1000;
	pend->deadline.tv_nsec += (PENDING_MS % 1000) * 1000000L;
	if (pend->deadline.tv_nsec >= 1000000000L) {
		pend->deadline.tv_sec++;
		pend->deadline.tv_nsec -= 1000000000L;
	}
}

/* Pinholes whose verdict is due: nobody used them. */
static void pending_expire(struct watch *w)
{
	size_t i = 0;

	while (i < w->npending) {
		if (ms_until(&w->pending[i].deadline) > 0) {
			i++;
			continue;
		}
		emit_pinhole(w, w->pending[i].pinhole.timeout ?
				EVENT_REMOVED : EVENT_EXPIRED,
			     &w->pending[i].pinhole, &w->pending[i].seen);
		pending_drop(w, i);
	}
}

static int pending_timeout_ms(const struct watch *w)
{
	long best = -1, ms;
	size_t i;

	for (i = 0; i < w->npending; i++) {
		ms = ms_until(&w->pending[i].deadline);
		if (ms < 0)
			ms = 0;
		if (best < 0 || ms < best)
			best = ms;
	}
	return (int)best;
}

static bool pending_matches(const struct pending *pend,
			    const struct ph_data *d)
{
	const struct ph_tuple *e = &pend->pinhole.expected;

	return tuple_equal(&pend->pinhole.master, &d->master) &&
	       e->dport == d->orig.dport &&
	       addr_equal(e->family, &e->dst, &d->orig.dst);
}

/* The same pinhole registered again (the old one went first). */
static void pending_flush_replaced(struct watch *w, const struct ph_pinhole *p)
{
	size_t i = 0;

	while (i < w->npending) {
		const struct ph_pinhole *old = &w->pending[i].pinhole;

		if (!tuple_equal(&old->master, &p->master) ||
		    !tuple_equal(&old->expected, &p->expected)) {
			i++;
			continue;
		}
		emit_pinhole(w, EVENT_REMOVED, old, &w->pending[i].seen);
		pending_drop(w, i);
	}
}

static void on_data_new(struct watch *w, const struct ph_data *d)
{
	struct ph_event ev = { .type = EVENT_USED, .data = d };
	size_t i;

	for (i = 0; i < w->npending; i++) {
		if (pending_matches(&w->pending[i], d)) {
			pending_drop(w, i);
			emit(w, &ev);
			return;
		}
	}
	if (is_known_session(&w->known, &d->master))
		emit(w, &ev);
}

static int watch_ct_cb(enum nf_conntrack_msg_type type,
		       struct nf_conntrack *ct, void *data)
{
	struct watch *w = data;
	struct ph_event ev = { 0 };
	struct ph_session s;
	struct ph_data d;

	if (type == NFCT_T_NEW && ct_is_session(ct, w->helper)) {
		session_from_ct(ct, &s);
		known_add(w, &s);
		ev.type = EVENT_SESSION_START;
		ev.session = &s;
		emit(w, &ev);
	} else if (type == NFCT_T_NEW && ct_has_master(ct)) {
		data_from_ct(ct, &d);
		on_data_new(w, &d);
	} else if (type == NFCT_T_DESTROY) {
		session_from_ct(ct, &s);
		if (!known_remove(w, &s.orig))
			return NFCT_CB_CONTINUE;
		snprintf(s.helper, sizeof(s.helper), "%s", w->helper);
		ev.type = EVENT_SESSION_END;
		ev.session = &s;
		emit(w, &ev);
	}
	return NFCT_CB_CONTINUE;
}

static int watch_exp_cb(enum nf_conntrack_msg_type type,
			struct nf_expect *exp, void *data)
{
	struct watch *w = data;
	struct ph_session s;
	struct ph_pinhole p;

	pinhole_from_exp(exp, &p);
	if (p.helper[0] ? strcmp(p.helper, w->helper) != 0 :
			  !is_known_session(&w->known, &p.master))
		return NFCT_CB_CONTINUE;
	if (!p.helper[0])
		snprintf(p.helper, sizeof(p.helper), "%s", w->helper);
	if (type == NFCT_T_NEW) {
		memset(&s, 0, sizeof(s));
		s.orig = p.master;
		s.encrypted = -1;
		snprintf(s.helper, sizeof(s.helper), "%s", w->helper);
		known_add(w, &s);
		pending_flush_replaced(w, &p);
		emit_pinhole(w, EVENT_OPENED, &p, NULL);
	} else if (type == NFCT_T_DESTROY) {
		pending_add(w, &p);
	}
	return NFCT_CB_CONTINUE;
}

enum event_source { WATCH_CT, WATCH_EXP };

static struct nfct_handle *open_events(enum event_source kind,
				       struct watch *w, char *err,
				       size_t errlen)
{
	struct nfct_handle *h;

	if (kind == WATCH_CT)
		h = nfct_open(CONNTRACK, NF_NETLINK_CONNTRACK_NEW |
					 NF_NETLINK_CONNTRACK_DESTROY);
	else
		h = nfct_open(EXPECT, NF_NETLINK_CONNTRACK_EXP_NEW |
				      NF_NETLINK_CONNTRACK_EXP_DESTROY);
	if (!h) {
		netlink_error("cannot subscribe to conntrack events", errno,
			      err, errlen);
		return NULL;
	}
	/* Room for bursts: a lost event is a wrong story. */
	nfnl_rcvbufsiz(nfct_nfnlh(h), EVENT_RCVBUF);
	if (kind == WATCH_CT)
		nfct_callback_register(h, NFCT_T_ALL, watch_ct_cb, w);
	else
		nfexp_callback_register(h, NFCT_T_ALL, watch_exp_cb, w);
	if (fcntl(nfct_fd(h), F_SETFL,
		  fcntl(nfct_fd(h), F_GETFL) | O_NONBLOCK) < 0) {
		snprintf(err, errlen, "cannot make the event socket non-blocking: %s",
			 strerror(errno));
		nfct_close(h);
		return NULL;
	}
	return h;
}

/* Drains one event socket; 0 when it would block. */
static int drain(struct nfct_handle *h, bool exp, char *err, size_t errlen)
{
	int ret = exp ? nfexp_catch(h) : nfct_catch(h);

	if (ret >= 0 || errno == EAGAIN || errno == EWOULDBLOCK)
		return 0;
	if (errno == ENOBUFS) {
		fprintf(stderr,
			"pinholectl: events lost: the kernel overran our receive buffer\n");
		return 0;
	}
	return netlink_error("cannot receive events", errno, err, errlen);
}

static void install_signals(sigset_t *orig)
{
	struct sigaction sa = { .sa_handler = on_stop };
	sigset_t block;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, orig);
}

static int watch_loop(struct watch *w, struct nfct_handle *ct,
		      struct nfct_handle *exp, char *err, size_t errlen)
{
	struct pollfd fds[2] = {
		{ .fd = nfct_fd(ct), .events = POLLIN },
		{ .fd = nfct_fd(exp), .events = POLLIN },
	};
	struct timespec timeout, *tp;
	sigset_t orig;
	int ms, n;

	install_signals(&orig);
	while (!stop_signal) {
		ms = pending_timeout_ms(w);
		tp = NULL;
		if (ms >= 0) {
			timeout.tv_sec = ms / 1000;
			timeout.tv_nsec = (ms % 1000) * 1000000L;
			tp = &timeout;
		}
		n = ppoll(fds, 2, tp, &orig);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, errlen, "poll: %s", strerror(errno));
			return -1;
		}
		if ((fds[1].revents & POLLIN) && drain(exp, true, err, errlen))
			return -1;
		if ((fds[0].revents & POLLIN) && drain(ct, false, err, errlen))
			return -1;
		pending_expire(w);
		if (w->nomem) {
			snprintf(err, errlen, "out of memory tracking sessions");
			return -1;
		}
	}
	sigprocmask(SIG_SETMASK, &orig, NULL);
	return 0;
}

int ct_watch(const char *helper, bool json, char *err, size_t errlen)
{
	struct watch *w = calloc(1, sizeof(*w));
	struct nfct_handle *ct = NULL, *exp = NULL;
	int ret = -1;

	if (!w) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	w->helper = helper;
	w->json = json;
	ct = open_events(WATCH_CT, w, err, errlen);
	if (!ct)
		goto out;
	exp = open_events(WATCH_EXP, w, err, errlen);
	if (!exp)
		goto out;
	/* Sessions that began before we subscribed. */
	if (ct_snapshot(&w->known, helper, err, errlen))
		goto out;
	w->known_cap = w->known.sessions;
	free(w->known.pinhole);
	free(w->known.data);
	w->known.pinhole = NULL;
	w->known.data = NULL;
	w->known.pinholes = w->known.datas = 0;
	ret = watch_loop(w, ct, exp, err, errlen);
out:
	if (exp)
		nfct_close(exp);
	if (ct)
		nfct_close(ct);
	snapshot_free(&w->known);
	free(w);
	return ret;
}
