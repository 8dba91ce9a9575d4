// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite "pinhole_neutral": module/neutral.c, the same-length rewrite
 * that neutralises a refused line under enforce=1. The plan for each line
 * kind (Telnet bytes before a command, lower case, a 227 inside another
 * multi-line reply), lines that are not what the engine said, and on a
 * real IPv4/TCP skb: where the line begins, and that the rewrite leaves a
 * valid TCP checksum at either byte alignment.
 */
#include <kunit/test.h>
#include <linux/ip.h>
#include <linux/skbuff.h>
#include <linux/string.h>
#include <linux/tcp.h>
#include <net/checksum.h>
#include <net/ip.h>

#include "pinhole.h"

static void plan_expect(struct kunit *test, enum ftp_offer_kind kind,
			bool inner, const char *line, u32 off,
			const char *text)
{
	struct pinhole_neutral plan = {};

	KUNIT_ASSERT_TRUE_MSG(test, pinhole_neutral_plan(kind, inner,
			      (const u8 *)line, strlen(line), &plan), "%s", line);
	KUNIT_EXPECT_EQ_MSG(test, plan.off, off, "%s", line);
	KUNIT_EXPECT_EQ_MSG(test, plan.len, strlen(text), "%s", line);
	KUNIT_EXPECT_EQ_MSG(test, memcmp(plan.text, text, plan.len), 0, "%s",
			    line);
}

static void plan_refused(struct kunit *test, enum ftp_offer_kind kind,
			 const char *line)
{
	struct pinhole_neutral plan = {};

	KUNIT_EXPECT_FALSE_MSG(test, pinhole_neutral_plan(kind, false,
			       (const u8 *)line, strlen(line), &plan), "%s", line);
}

static void neutral_plans(struct kunit *test)
{
	plan_expect(test, FTP_OFFER_PORT, false, "PORT 1,2,3,4,0,22\r\n", 0, "X");
	plan_expect(test, FTP_OFFER_PORT, false, "port 1,2", 0, "x");
	plan_expect(test, FTP_OFFER_EPRT, false, "EPRT |1|", 0, "X");
	plan_expect(test, FTP_OFFER_EPRT, false, "\xff\xf4\xff\xf2" "EPRT |2|",
		    4, "X");
	plan_expect(test, FTP_OFFER_PORT, false, "\xff\xfb\x01PORT 1", 3, "X");
	plan_expect(test, FTP_OFFER_227, false, "227 Entering (1,2", 0, "425");
	plan_expect(test, FTP_OFFER_229, false, "229 (|||40000|)", 0, "425");
	plan_expect(test, FTP_OFFER_227, true, "227 (1,2,3,4,5,6)", 3, "-");
}

static void neutral_plan_refuses_other_lines(struct kunit *test)
{
	plan_refused(test, FTP_OFFER_PORT, "PASV\r\n");
	plan_refused(test, FTP_OFFER_PORT, "EPRT |1|");
	plan_refused(test, FTP_OFFER_EPRT, "PORT 1,2");
	plan_refused(test, FTP_OFFER_PORT, "POR");
	plan_refused(test, FTP_OFFER_227, "229 (|||1|)");
	plan_refused(test, FTP_OFFER_229, "229-");
	plan_refused(test, FTP_OFFER_227, "\xff\xf4" "227 ");
	plan_refused(test, FTP_OFFER_PORT, "\xff\xff" "PORT 1");
}

#define TCP_OFF		sizeof(struct iphdr)
#define PAY_OFF		(TCP_OFF + sizeof(struct tcphdr))

/* An IPv4/TCP segment carrying @payload, its checksum computed in full. */
static struct sk_buff *neutral_skb(struct kunit *test, const char *payload)
{
	u32 len = strlen(payload), tcplen = sizeof(struct tcphdr) + len;
	struct sk_buff *skb = alloc_skb(PAY_OFF + len, GFP_KERNEL);
	struct tcphdr *th;
	struct iphdr *iph;

	KUNIT_ASSERT_NOT_NULL(test, skb);
	iph = skb_put_zero(skb, PAY_OFF + len);
	iph->version = 4;
	iph->ihl = 5;
	iph->protocol = IPPROTO_TCP;
	iph->tot_len = htons(PAY_OFF + len);
	iph->saddr = htonl(0xc0000202);
	iph->daddr = htonl(0xc6336402);
	th = (struct tcphdr *)((u8 *)iph + TCP_OFF);
	th->source = htons(40000);
	th->dest = htons(21);
	th->doff = sizeof(*th) / 4;
	th->ack = 1;
	memcpy((u8 *)iph + PAY_OFF, payload, len);
	th->check = csum_tcpudp_magic(iph->saddr, iph->daddr, tcplen,
				      IPPROTO_TCP, csum_partial(th, tcplen, 0));
	skb_reset_network_header(skb);
	skb->ip_summed = CHECKSUM_NONE;
	return skb;
}

static bool neutral_csum_ok(struct sk_buff *skb)
{
	const struct iphdr *iph = (const struct iphdr *)skb->data;
	u32 tcplen = skb->len - TCP_OFF;

	return !csum_tcpudp_magic(iph->saddr, iph->daddr, tcplen, IPPROTO_TCP,
				  csum_partial(skb->data + TCP_OFF, tcplen, 0));
}

/*
 * Locate the refused line of @kind whose deciding byte is at @refused_at
 * in @payload, rewrite it, and compare the payload with @want.
 */
static void neutral_rewrite(struct kunit *test, const char *payload,
			    enum ftp_offer_kind kind, u32 refused_at, u32 lo,
			    bool clean, const char *want)
{
	struct sk_buff *skb = neutral_skb(test, payload);
	struct pinhole_segment seg = {
		.skb = skb, .protoff = TCP_OFF, .dataoff = PAY_OFF,
	};
	struct pinhole_decision d = {
		.offer = { .kind = kind, .refusal = FTP_REFUSED_OUT_OF_RANGE,
			   .text_start = refused_at },
		.verdict = PINHOLE_REFUSE_OUT_OF_RANGE,
	};

	KUNIT_ASSERT_TRUE(test, neutral_csum_ok(skb));
	if (!want) {
		KUNIT_EXPECT_FALSE_MSG(test, pinhole_neutral_locate(&seg, &d,
				       lo, clean), "%s", payload);
		kfree_skb(skb);
		return;
	}
	KUNIT_ASSERT_TRUE_MSG(test, pinhole_neutral_locate(&seg, &d, lo, clean),
			      "%s", payload);
	KUNIT_ASSERT_TRUE(test, pinhole_neutralise(&seg, &d.neutral));
	KUNIT_EXPECT_EQ(test, memcmp(skb->data + PAY_OFF, want, strlen(want)), 0);
	KUNIT_EXPECT_EQ(test, skb->len, PAY_OFF + strlen(want));
	KUNIT_EXPECT_TRUE_MSG(test, neutral_csum_ok(skb), "checksum after %s",
			      want);
	kfree_skb(skb);
}

static void neutral_rewrites_segment(struct kunit *test)
{
	/* the verb at an even, then at an odd offset from the TCP header */
	neutral_rewrite(test, "PORT 1,2,3,4,0,22\r\n", FTP_OFFER_PORT, 18, 0,
			true, "XORT 1,2,3,4,0,22\r\n");
	neutral_rewrite(test, "CWD /\r\nTYPE I\r\nPORT 1,2,3,4,0,22\r\n",
			FTP_OFFER_PORT, 33, 0, true,
			"CWD /\r\nTYPE I\r\nXORT 1,2,3,4,0,22\r\n");
	neutral_rewrite(test, "NOOP\r\nTYPE A\r\nEPRT |1|1.2.3.4|22|\r\n",
			FTP_OFFER_EPRT, 34, 13, false,
			"NOOP\r\nTYPE A\r\nXPRT |1|1.2.3.4|22|\r\n");
	neutral_rewrite(test, "200 ok\r\n227 Entering (9,9,9,9,0,80)\r\n",
			FTP_OFFER_227, 35, 0, true,
			"200 ok\r\n425 Entering (9,9,9,9,0,80)\r\n");
	neutral_rewrite(test, "x\r\n229 Entering (|||80|)\r\n", FTP_OFFER_229,
			22, 0, true, "x\r\n425 Entering (|||80|)\r\n");
}

static void neutral_refuses_earlier_lines(struct kunit *test)
{
	/* the line began in an earlier segment */
	neutral_rewrite(test, "PORT 1,2,3,4,0,22\r\n", FTP_OFFER_PORT, 18, 0,
			false, NULL);
	/* ... or in bytes already passed (a partial retransmission) */
	neutral_rewrite(test, "NOOP\r\nPORT 1,2,3,4,0,22\r\n", FTP_OFFER_PORT,
			24, 8, true, NULL);
	/* not the line the engine named */
	neutral_rewrite(test, "NOOP\r\nSITE PORT 1,2,3,4,0,22\r\n",
			FTP_OFFER_PORT, 29, 0, true, NULL);
}

static struct kunit_case neutral_cases[] = {
	KUNIT_CASE(neutral_plans),
	KUNIT_CASE(neutral_plan_refuses_other_lines),
	KUNIT_CASE(neutral_rewrites_segment),
	KUNIT_CASE(neutral_refuses_earlier_lines),
	{}
};

static struct kunit_suite neutral_suite = {
	.name = "pinhole_neutral",
	.test_cases = neutral_cases,
};

kunit_test_suite(neutral_suite);
