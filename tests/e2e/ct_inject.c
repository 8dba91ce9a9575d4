// SPDX-License-Identifier: GPL-2.0
/*
 * ct_inject: create conntrack entries and expectations over ctnetlink, as
 * conntrackd does on a backup firewall or an administrator's tool might
 * (the conntrack(8) command line cannot attach a helper or set expectation
 * flags).
 *
 *   ct_inject conntrack FAMILY SRC SPORT DST DPORT [HELPER]
 *       an ESTABLISHED, ASSURED TCP entry SRC:SPORT -> DST:DPORT (reply
 *       DST:DPORT -> SRC:SPORT), with HELPER attached by name if given
 *   ct_inject expect FAMILY MSRC MSPORT MDST MDPORT SRC DST DPORT [permanent]
 *       an expectation of a TCP connection SRC:any -> DST:DPORT on the
 *       master MSRC:MSPORT -> MDST:MDPORT, 60 s
 *   ct_inject unexpect-new FAMILY SECONDS [STOPFILE]
 *       for SECONDS, or until STOPFILE exists, delete every expectation
 *       of FAMILY that was not there when it started, as soon as a dump
 *       shows it (the other CPU of a race test); prints
 *       "deleted=N dumps=N kept=N"
 *
 * FAMILY is 4 or 6. Exit status 0 on success, 1 on a netlink error (the
 * kernel's reason on stderr), 2 on bad usage. Built and run inside the
 * test guest by tests/e2e/t_hardening.sh.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libnetfilter_conntrack/libnetfilter_conntrack.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack_tcp.h>

#define IPS_SEEN_REPLY	(1 << 1)
#define IPS_ASSURED	(1 << 2)
#define EXPECT_PERMANENT	0x1

static int usage(void)
{
	fprintf(stderr, "usage: ct_inject conntrack 4|6 SRC SPORT DST DPORT [HELPER]\n"
		"       ct_inject expect 4|6 MSRC MSPORT MDST MDPORT SRC DST DPORT [permanent]\n"
		"       ct_inject unexpect-new 4|6 SECONDS [STOPFILE]\n");
	return 2;
}

static int parse_port(const char *text, uint16_t *port)
{
	char *end;
	unsigned long v = strtoul(text, &end, 10);

	if (*end || !*text || v > 65535)
		return -1;
	*port = htons(v);
	return 0;
}

/* Set one end of a tuple: @src_attr/@dst_attr are the IPv4 attributes. */
static int set_addr(struct nf_conntrack *ct, int family, int v4_attr,
		    int v6_attr, const char *text)
{
	unsigned char buf[16];

	if (inet_pton(family, text, buf) != 1)
		return -1;
	nfct_set_attr(ct, family == AF_INET ? v4_attr : v6_attr, buf);
	return 0;
}

/* An original tuple SRC:SPORT -> DST:DPORT and, optionally, its reply. */
static int set_tuple(struct nf_conntrack *ct, int family, char **a,
		     int with_reply)
{
	uint16_t sport, dport;

	nfct_set_attr_u8(ct, ATTR_L3PROTO, family);
	nfct_set_attr_u8(ct, ATTR_L4PROTO, IPPROTO_TCP);
	if (set_addr(ct, family, ATTR_IPV4_SRC, ATTR_IPV6_SRC, a[0]) ||
	    parse_port(a[1], &sport) ||
	    set_addr(ct, family, ATTR_IPV4_DST, ATTR_IPV6_DST, a[2]) ||
	    parse_port(a[3], &dport))
		return -1;
	nfct_set_attr_u16(ct, ATTR_PORT_SRC, sport);
	nfct_set_attr_u16(ct, ATTR_PORT_DST, dport);
	if (!with_reply)
		return 0;
	nfct_set_attr_u8(ct, ATTR_REPL_L3PROTO, family);
	nfct_set_attr_u8(ct, ATTR_REPL_L4PROTO, IPPROTO_TCP);
	if (set_addr(ct, family, ATTR_REPL_IPV4_SRC, ATTR_REPL_IPV6_SRC, a[2]) ||
	    set_addr(ct, family, ATTR_REPL_IPV4_DST, ATTR_REPL_IPV6_DST, a[0]))
		return -1;
	nfct_set_attr_u16(ct, ATTR_REPL_PORT_SRC, dport);
	nfct_set_attr_u16(ct, ATTR_REPL_PORT_DST, sport);
	return 0;
}

static int query(struct nfct_handle *h, int is_expect, void *obj)
{
	int ret = is_expect ? nfexp_query(h, NFCT_Q_CREATE, obj) :
			      nfct_query(h, NFCT_Q_CREATE, obj);

	if (ret < 0) {
		fprintf(stderr, "ct_inject: %s\n", strerror(errno));
		return 1;
	}
	return 0;
}

static int inject_conntrack(struct nfct_handle *h, int family, int argc,
			    char **argv)
{
	struct nf_conntrack *ct = nfct_new();
	int ret;

	if (!ct || argc < 4 || argc > 5 || set_tuple(ct, family, argv, 1))
		return usage();
	nfct_set_attr_u8(ct, ATTR_TCP_STATE, TCP_CONNTRACK_ESTABLISHED);
	nfct_set_attr_u32(ct, ATTR_STATUS, IPS_SEEN_REPLY | IPS_ASSURED);
	nfct_set_attr_u32(ct, ATTR_TIMEOUT, 600);
	if (argc == 5)
		nfct_set_attr(ct, ATTR_HELPER_NAME, argv[4]);
	ret = query(h, 0, ct);
	nfct_destroy(ct);
	return ret;
}

static int inject_expect(struct nfct_handle *h, int family, int argc,
			 char **argv)
{
	struct nf_conntrack *master = nfct_new(), *exp_ct = nfct_new();
	struct nf_conntrack *mask = nfct_new();
	struct nf_expect *exp = nfexp_new();
	char *tuple[4];
	int ret = 2;

	if (!master || !exp_ct || !mask || !exp || argc < 7 || argc > 8 ||
	    (argc == 8 && strcmp(argv[7], "permanent")) ||
	    set_tuple(master, family, argv, 0))
		goto out;
	tuple[0] = argv[4];
	tuple[1] = "0";
	tuple[2] = argv[5];
	tuple[3] = argv[6];
	if (set_tuple(exp_ct, family, tuple, 0))
		goto out;
	tuple[0] = family == AF_INET ? "255.255.255.255" :
		   "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff";
	tuple[2] = tuple[0];
	tuple[3] = "65535";
	if (set_tuple(mask, family, tuple, 0))
		goto out;
	nfexp_set_attr(exp, ATTR_EXP_MASTER, master);
	nfexp_set_attr(exp, ATTR_EXP_EXPECTED, exp_ct);
	nfexp_set_attr(exp, ATTR_EXP_MASK, mask);
	nfexp_set_attr_u32(exp, ATTR_EXP_TIMEOUT, 60);
	if (argc == 8)
		nfexp_set_attr_u32(exp, ATTR_EXP_FLAGS, EXPECT_PERMANENT);
	ret = query(h, 1, exp);
out:
	if (ret == 2)
		usage();
	nfexp_destroy(exp);
	nfct_destroy(mask);
	nfct_destroy(exp_ct);
	nfct_destroy(master);
	return ret;
}

/*
 * unexpect-new: the expectations of FAMILY listed at the start are kept;
 * any other is deleted as soon as a dump shows it. Identity is the
 * expected tuple's destination port (enough for one test's peers).
 */
#define UNEXPECT_MAX	64

struct exp_list {
	struct nf_expect *exp[UNEXPECT_MAX];
	unsigned int n;
};

static int collect_cb(enum nf_conntrack_msg_type type, struct nf_expect *exp,
		      void *data)
{
	struct exp_list *list = data;

	(void)type;
	if (list->n < UNEXPECT_MAX)
		list->exp[list->n++] = nfexp_clone(exp);
	return NFCT_CB_CONTINUE;
}

static uint16_t exp_dport(const struct nf_expect *exp)
{
	const struct nf_conntrack *t = nfexp_get_attr(exp, ATTR_EXP_EXPECTED);

	return t ? nfct_get_attr_u16(t, ATTR_PORT_DST) : 0;
}

static int dump(struct nfct_handle *h, uint8_t family, struct exp_list *list)
{
	list->n = 0;
	nfexp_callback_register(h, NFCT_T_ALL, collect_cb, list);
	return nfexp_query(h, NFCT_Q_DUMP, &family);
}

static void release(struct exp_list *list)
{
	while (list->n)
		nfexp_destroy(list->exp[--list->n]);
}

static int kept(const struct exp_list *keep, const struct nf_expect *exp)
{
	unsigned int i;

	for (i = 0; i < keep->n; i++)
		if (exp_dport(keep->exp[i]) == exp_dport(exp))
			return 1;
	return 0;
}

/* Delete what @now lists and @keep does not; how many deletions found it. */
static unsigned long delete_new(struct nfct_handle *del,
				const struct exp_list *keep,
				const struct exp_list *now)
{
	unsigned long deleted = 0;
	unsigned int i;

	for (i = 0; i < now->n; i++)
		if (!kept(keep, now->exp[i]) &&
		    nfexp_query(del, NFCT_Q_DESTROY, now->exp[i]) == 0)
			deleted++;
	return deleted;
}

/* @h dumps; a second handle deletes (no query inside a dump's callback). */
static int unexpect_new(struct nfct_handle *h, int family, int argc,
			char **argv)
{
	static struct exp_list keep, now;
	struct nfct_handle *del;
	unsigned long seconds, deleted = 0, dumps = 0;
	time_t end;
	char *stop;
	int ret = 1;

	if (argc < 1 || argc > 2 || !*argv[0])
		return usage();
	seconds = strtoul(argv[0], &stop, 10);
	if (*stop || seconds > 600)
		return usage();
	del = nfct_open(EXPECT, 0);
	if (!del || dump(h, family, &keep) < 0)
		goto out;
	for (end = time(NULL) + (time_t)seconds; time(NULL) < end; dumps++) {
		if (argc == 2 && !access(argv[1], F_OK))
			break;
		if (dump(h, family, &now) < 0)
			goto out;
		deleted += delete_new(del, &keep, &now);
		release(&now);
	}
	printf("deleted=%lu dumps=%lu kept=%u\n", deleted, dumps, keep.n);
	ret = 0;
out:
	if (ret)
		fprintf(stderr, "ct_inject: %s\n", strerror(errno));
	release(&now);
	release(&keep);
	if (del)
		nfct_close(del);
	return ret;
}

int main(int argc, char **argv)
{
	struct nfct_handle *h;
	int family, ret;

	if (argc < 3 || (strcmp(argv[2], "4") && strcmp(argv[2], "6")))
		return usage();
	family = argv[2][0] == '4' ? AF_INET : AF_INET6;
	h = nfct_open(strcmp(argv[1], "conntrack") ? EXPECT : CONNTRACK, 0);
	if (!h) {
		fprintf(stderr, "ct_inject: nfct_open: %s\n", strerror(errno));
		return 1;
	}
	if (!strcmp(argv[1], "conntrack"))
		ret = inject_conntrack(h, family, argc - 3, argv + 3);
	else if (!strcmp(argv[1], "expect"))
		ret = inject_expect(h, family, argc - 3, argv + 3);
	else if (!strcmp(argv[1], "unexpect-new"))
		ret = unexpect_new(h, family, argc - 3, argv + 3);
	else
		ret = usage();
	nfct_close(h);
	return ret;
}
