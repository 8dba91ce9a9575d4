/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Declarations shared by the kernel side of nf_pinhole_ftp. The FTP grammar
 * itself is in ftp_engine.[ch] and knows nothing of the kernel.
 */
#ifndef PINHOLE_H
#define PINHOLE_H

#include <linux/ratelimit.h>
#include <linux/types.h>
#include <net/netfilter/nf_conntrack.h>

struct nf_conntrack_expect;
struct nf_conntrack_helper;

#include "ftp_engine.h"
#include "pinhole_abi.h"

#define PINHOLE_MAX_PINHOLES_LIMIT	64	/* upper bound of max_pinholes */
#define PINHOLE_TIMEOUT_LIMIT		3600	/* upper bound of timeout, s */

enum pinhole_counter {
#define PINHOLE_COUNTER_ENUM(name, desc) PINHOLE_CNT_##name,
	PINHOLE_COUNTERS(PINHOLE_COUNTER_ENUM)
#undef PINHOLE_COUNTER_ENUM
	PINHOLE_CNT_MAX
};

/* A port range, inclusive, packed so that readers see both ends at once. */
struct pinhole_port_range {
	u16 lo;
	u16 hi;
};

/*
 * Policy of one network namespace. Written by sysctl, read locklessly in
 * the packet path with READ_ONCE(): every field is a naturally aligned
 * word, so a reader sees either the old or the new value of each knob.
 */
struct pinhole_policy {
	int active;
	int passive;
	int allow_third_party;
	u32 active_ports;	/* struct pinhole_port_range, packed */
	u32 passive_ports;
	int max_pinholes;
	int timeout;
	int enforce;
	int log;		/* enum pinhole_log */
};

/* What the kernel log gets, per namespace (sysctl log). */
enum pinhole_log {
	PINHOLE_LOG_OFF = 0,
	PINHOLE_LOG_REFUSALS = 1,
	PINHOLE_LOG_OPENED = 2,	/* refusals and every pinhole opened */
};

struct pinhole_counters {
	u64 count[PINHOLE_CNT_MAX];
};

struct pinhole_net {
	struct pinhole_policy policy;
	struct ratelimit_state log_ratelimit;	/* this namespace's lines */
	struct pinhole_counters __percpu *counters;
	struct ctl_table_header *sysctl;
	struct ctl_table *sysctl_table;
};

/* Why a well-formed offer may still be refused; 0 means open it. */
enum pinhole_verdict {
	PINHOLE_OPEN = 0,
	PINHOLE_REFUSE_THIRD_PARTY,
	PINHOLE_REFUSE_PRIVILEGED,
	PINHOLE_REFUSE_OUT_OF_RANGE,
	PINHOLE_REFUSE_MODE_DISABLED,
	PINHOLE_REFUSE_MALFORMED,
	PINHOLE_REFUSE_FAMILY,
	PINHOLE_REFUSE_UNANSWERED,
};

/*
 * Test builds (make -C module PINHOLE_TEST_HOOKS=1, used by the e2e
 * hardening scenario only) can widen the windows between steps that other
 * CPUs may interleave with, so that a test can aim at them. In every other
 * build this is nothing at all.
 */
#ifdef PINHOLE_TEST_HOOKS
void pinhole_test_window_wait(const char *where);
bool pinhole_test_window_is(const char *what);
#define pinhole_test_window(where) pinhole_test_window_wait(#where)
#define pinhole_test_behaviour(what) pinhole_test_window_is(#what)
#else
#define pinhole_test_window(where) do { } while (0)
#define pinhole_test_behaviour(what) false
#endif

/* More announcing lines than this in one segment is not FTP. */
#define PINHOLE_OFFERS_PER_SEGMENT	4

/* enforce=1: the same-length rewrite that neutralises a refused line. */
struct pinhole_neutral {
	u32 off;		/* payload offset of the first byte replaced */
	u8 len;
	char text[3];
};

struct pinhole_decision {
	struct ftp_offer offer;
	enum pinhole_verdict verdict;
	bool replayed;		/* found again in retransmitted bytes */
	struct pinhole_neutral neutral;	/* refused, enforce=1: located */
};

/*
 * One control segment on its way through the helper: what it announced,
 * filled in under ct->lock, acted upon after the lock is dropped (opening
 * a pinhole and NAT rewriting take other locks, seqadj takes ct->lock).
 */
struct pinhole_segment {
	struct sk_buff *skb;
	bool enforce;			/* the policy's, read once per segment */
	unsigned int protoff;		/* TCP header */
	unsigned int dataoff;		/* TCP payload */
	enum ip_conntrack_info ctinfo;
	struct nf_conn *ct;
	enum ip_conntrack_dir dir;
	enum ftp_dir stream;		/* the same, as the engine names it */
	struct pinhole_net *pn;
	bool rewritten;			/* NAT changed this segment's length */
	bool replay_refused;		/* retransmission not parsed again */
	bool withdraw_active;		/* a PORT/EPRT's pinhole was refused */
	bool drop;			/* enforce: a refused line stays whole */
	unsigned int count;
	unsigned int refused;
	struct pinhole_decision decisions[PINHOLE_OFFERS_PER_SEGMENT];
};

/* main.c */
struct pinhole_net *pinhole_net(const struct net *net);
extern struct pinhole_policy pinhole_default_policy;

/* policy.c: pure decisions, no side effects (KUnit tested) */
bool pinhole_offer_is_active(const struct ftp_offer *offer);
bool pinhole_offer_names_peer(const struct ftp_offer *offer,
			      const union nf_inet_addr *peer, u8 l3num);
bool pinhole_offer_names_own(const struct ftp_offer *offer,
			     const union nf_inet_addr *peer,
			     const union nf_inet_addr *outside, u8 l3num);
enum pinhole_verdict pinhole_judge(const struct pinhole_policy *policy,
				   const struct ftp_offer *offer,
				   const union nf_inet_addr *peer,
				   const union nf_inet_addr *outside,
				   u8 l3num);
enum pinhole_counter pinhole_verdict_counter(enum pinhole_verdict verdict);
const char *pinhole_verdict_name(enum pinhole_verdict verdict);
int pinhole_parse_port_range(const char *text, u32 *packed);
u32 pinhole_port_range_pack(u16 lo, u16 hi);
void pinhole_port_range_unpack(u32 packed, u16 *lo, u16 *hi);

/*
 * The announcer of @seg's lines: its own address, and the address the
 * other peer reaches it at (they differ behind NAT).
 */
static inline const union nf_inet_addr *
pinhole_announcer(const struct pinhole_segment *seg)
{
	return &seg->ct->tuplehash[seg->dir].tuple.src.u3;
}

static inline const union nf_inet_addr *
pinhole_announcer_outside(const struct pinhole_segment *seg)
{
	return &seg->ct->tuplehash[!seg->dir].tuple.dst.u3;
}

/* Does @offer name its announcer (pinhole_offer_names_own())? */
static inline bool pinhole_offer_is_own(const struct pinhole_segment *seg,
					const struct ftp_offer *offer)
{
	return pinhole_offer_names_own(offer, pinhole_announcer(seg),
				       pinhole_announcer_outside(seg),
				       nf_ct_l3num(seg->ct));
}

/* stats.c */
int pinhole_stats_init(struct net *net, struct pinhole_net *pn);
void pinhole_stats_exit(struct net *net, struct pinhole_net *pn);
static inline void pinhole_count(struct pinhole_net *pn,
				 enum pinhole_counter counter)
{
	this_cpu_inc(pn->counters->count[counter]);
}

/* An offer may stand for a run of lines (ftp_offer.lines). */
static inline void pinhole_count_lines(struct pinhole_net *pn,
				       enum pinhole_counter counter, u32 lines)
{
	this_cpu_add(pn->counters->count[counter], lines);
}

/* sysctl.c */
int pinhole_sysctl_init(struct net *net, struct pinhole_net *pn);
void pinhole_sysctl_exit(struct pinhole_net *pn);

/* expect.c */
void pinhole_expectfn(struct nf_conn *new, struct nf_conntrack_expect *exp);
bool pinhole_expect_has_our_fn(const struct nf_conntrack_expect *exp);
struct nf_conntrack_expect *pinhole_expect_prepare(struct nf_conn *ct,
		enum ip_conntrack_dir dir, const union nf_inet_addr *daddr,
		u16 port, struct pinhole_net *pn);
u32 pinhole_expect_preset(struct nf_conntrack_expect *exp,
			  const struct pinhole_policy *policy);
void pinhole_expect_inserted(struct nf_conntrack_expect *exp, int ret,
			     u32 deadline, const struct pinhole_policy *policy,
			     struct pinhole_net *pn);
void pinhole_expect_remove(struct nf_conntrack_expect *exp);
unsigned int pinhole_expect_count(const struct net *net);
bool pinhole_withdraw_active(struct nf_conn *ct);
int pinhole_open(struct nf_conn *ct, enum ip_conntrack_dir dir,
		 const union nf_inet_addr *daddr, u16 port, bool own,
		 const struct pinhole_policy *policy, struct pinhole_net *pn);

/* nat.c */
bool pinhole_nat_active(const struct nf_conn *ct);
void pinhole_nat_expectfn(struct nf_conn *new, struct nf_conntrack_expect *exp);
void pinhole_nat_adopt(struct nf_conn *ct);
bool pinhole_nat_open(struct pinhole_segment *seg,
		      const struct ftp_offer *offer);
void pinhole_nat_replay(struct pinhole_segment *seg,
			const struct ftp_offer *offer);
bool pinhole_nat_rewritten_at(const struct pinhole_segment *seg);

/* neutral.c */
bool pinhole_neutral_plan(enum ftp_offer_kind kind, bool inner,
			  const u8 *line, unsigned int len,
			  struct pinhole_neutral *plan);
bool pinhole_neutral_locate(const struct pinhole_segment *seg,
			    struct pinhole_decision *decision, u32 lo,
			    bool clean);
bool pinhole_neutralise(struct pinhole_segment *seg,
			const struct pinhole_neutral *plan);

/* helper.c */
unsigned int pinhole_policy_timeout(void);
bool pinhole_helper_is_ours(const struct nf_conntrack_helper *helper);

/*
 * A data connection is never FTP control. Yet one can carry this helper:
 * an expectation created over ctnetlink names a helper (conntrackd's
 * ExpectationSync sends ours with every replicated pinhole), and a kernel
 * whose struct nf_conntrack_expect has no assign_helper attaches exp->helper
 * to the connection the expectation admits. (Debian's 6.1.192 and 6.12.117
 * have the field, and ctnetlink leaves it empty.) Parsing a file as commands
 * would let its contents open pinholes, and on a translated session rewrite
 * them.
 */
static inline bool pinhole_is_control(const struct nf_conn *ct)
{
	return !ct->master;
}

int pinhole_helpers_register(const char *name);
void pinhole_helpers_unregister(void);

#endif /* PINHOLE_H */
