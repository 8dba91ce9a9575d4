// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite "pinhole_policy": the policy decisions of module/policy.c,
 * which decide whether a well-formed offer may open a pinhole.
 */
#include <kunit/test.h>
#include <linux/socket.h>
#include <linux/string.h>

#include "pinhole.h"

static const u8 client4[4] = { 192, 0, 2, 2 };
static const u8 other4[4] = { 192, 0, 2, 99 };

static void default_policy(struct pinhole_policy *p)
{
	*p = (struct pinhole_policy) {
		.active = 1, .passive = 1, .allow_third_party = 0,
		.active_ports = pinhole_port_range_pack(1024, 65535),
		.passive_ports = pinhole_port_range_pack(1024, 65535),
		.max_pinholes = 1, .timeout = 60, .enforce = 0,
	};
}

static struct ftp_offer offer4(enum ftp_offer_kind kind, const u8 *addr,
			       u16 port)
{
	struct ftp_offer o = {
		.kind = kind, .refusal = FTP_ACCEPTED,
		.family = FTP_FAMILY_IPV4, .port = port,
	};

	memcpy(o.addr, addr, 4);
	return o;
}

static enum pinhole_verdict judge4(const struct pinhole_policy *p,
				   const struct ftp_offer *o)
{
	union nf_inet_addr peer = {};

	memcpy(&peer.ip, client4, 4);
	return pinhole_judge(p, o, &peer, &peer, AF_INET);
}

static void policy_opens_clean_port(struct kunit *test)
{
	struct pinhole_policy p;
	struct ftp_offer o = offer4(FTP_OFFER_PORT, client4, 40000);

	default_policy(&p);
	KUNIT_EXPECT_EQ(test, judge4(&p, &o), PINHOLE_OPEN);
}

static void policy_refuses_third_party(struct kunit *test)
{
	struct pinhole_policy p;
	struct ftp_offer o = offer4(FTP_OFFER_PORT, other4, 40000);

	default_policy(&p);
	KUNIT_EXPECT_EQ(test, judge4(&p, &o), PINHOLE_REFUSE_THIRD_PARTY);
	p.allow_third_party = 1;
	KUNIT_EXPECT_EQ(test, judge4(&p, &o), PINHOLE_OPEN);
}

static void policy_229_names_no_address(struct kunit *test)
{
	struct pinhole_policy p;
	struct ftp_offer o = offer4(FTP_OFFER_229, other4, 40000);

	default_policy(&p);
	KUNIT_EXPECT_EQ(test, judge4(&p, &o), PINHOLE_OPEN);
}

static void policy_port_ranges(struct kunit *test)
{
	struct pinhole_policy p;
	struct ftp_offer o = offer4(FTP_OFFER_PORT, client4, 22);

	default_policy(&p);
	KUNIT_EXPECT_EQ(test, judge4(&p, &o), PINHOLE_REFUSE_PRIVILEGED);
	o.port = 1023;
	KUNIT_EXPECT_EQ(test, judge4(&p, &o), PINHOLE_REFUSE_PRIVILEGED);
	o.port = 1024;
	KUNIT_EXPECT_EQ(test, judge4(&p, &o), PINHOLE_OPEN);
	p.active_ports = pinhole_port_range_pack(2000, 3000);
	KUNIT_EXPECT_EQ(test, judge4(&p, &o), PINHOLE_REFUSE_OUT_OF_RANGE);
	/* The passive range does not govern active offers. */
	o.port = 2500;
	KUNIT_EXPECT_EQ(test, judge4(&p, &o), PINHOLE_OPEN);
	o.kind = FTP_OFFER_227;
	KUNIT_EXPECT_EQ(test, judge4(&p, &o), PINHOLE_OPEN);
	p.passive_ports = pinhole_port_range_pack(40000, 40100);
	KUNIT_EXPECT_EQ(test, judge4(&p, &o), PINHOLE_REFUSE_OUT_OF_RANGE);
	/* An administrator may allow privileged ports explicitly. */
	p.passive_ports = pinhole_port_range_pack(20, 30);
	o.port = 21;
	KUNIT_EXPECT_EQ(test, judge4(&p, &o), PINHOLE_OPEN);
}

static void policy_modes(struct kunit *test)
{
	struct pinhole_policy p;
	struct ftp_offer active = offer4(FTP_OFFER_EPRT, client4, 40000);
	struct ftp_offer passive = offer4(FTP_OFFER_227, client4, 40000);

	default_policy(&p);
	p.active = 0;
	KUNIT_EXPECT_EQ(test, judge4(&p, &active), PINHOLE_REFUSE_MODE_DISABLED);
	KUNIT_EXPECT_EQ(test, judge4(&p, &passive), PINHOLE_OPEN);
	p.active = 1;
	p.passive = 0;
	KUNIT_EXPECT_EQ(test, judge4(&p, &active), PINHOLE_OPEN);
	KUNIT_EXPECT_EQ(test, judge4(&p, &passive), PINHOLE_REFUSE_MODE_DISABLED);
}

static void policy_engine_refusals_win(struct kunit *test)
{
	struct pinhole_policy p;
	struct ftp_offer o = offer4(FTP_OFFER_227, client4, 40000);

	default_policy(&p);
	p.allow_third_party = 1;
	o.refusal = FTP_REFUSED_UNANSWERED;
	KUNIT_EXPECT_EQ(test, judge4(&p, &o), PINHOLE_REFUSE_UNANSWERED);
	o.refusal = FTP_REFUSED_OUT_OF_RANGE;
	KUNIT_EXPECT_EQ(test, judge4(&p, &o), PINHOLE_REFUSE_OUT_OF_RANGE);
	o.refusal = FTP_REFUSED_FAMILY;
	KUNIT_EXPECT_EQ(test, judge4(&p, &o), PINHOLE_REFUSE_FAMILY);
	o.refusal = FTP_REFUSED_MALFORMED;
	KUNIT_EXPECT_EQ(test, judge4(&p, &o), PINHOLE_REFUSE_MALFORMED);
}

static void policy_ipv6_peer(struct kunit *test)
{
	static const u8 client6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 1,
					[15] = 2 };
	struct pinhole_policy p;
	union nf_inet_addr peer = {};
	struct ftp_offer o = {
		.kind = FTP_OFFER_EPRT, .family = FTP_FAMILY_IPV6,
		.port = 40000,
	};

	default_policy(&p);
	memcpy(peer.ip6, client6, 16);
	memcpy(o.addr, client6, 16);
	KUNIT_EXPECT_EQ(test, pinhole_judge(&p, &o, &peer, &peer, AF_INET6),
			PINHOLE_OPEN);
	o.addr[15] = 3;
	KUNIT_EXPECT_EQ(test, pinhole_judge(&p, &o, &peer, &peer, AF_INET6),
			PINHOLE_REFUSE_THIRD_PARTY);
	/* An IPv4 address can never be an IPv6 peer's own. */
	o.family = FTP_FAMILY_IPV4;
	memcpy(o.addr, client6, 4);
	KUNIT_EXPECT_EQ(test, pinhole_judge(&p, &o, &peer, &peer, AF_INET6),
			PINHOLE_REFUSE_THIRD_PARTY);
}

/*
 * Behind NAT the announcer may name the address the other peer reaches it
 * at (a server's pasv_address behind a port-forward, a client behind SNAT
 * announcing its external address): its own, not a third party's. Any
 * other address still is one.
 */
static void policy_outside_address_is_own(struct kunit *test)
{
	static const u8 public4[4] = { 198, 51, 100, 1 };
	union nf_inet_addr peer = {}, outside = {};
	struct ftp_offer o = offer4(FTP_OFFER_227, public4, 40000);
	struct pinhole_policy p;

	default_policy(&p);
	memcpy(&peer.ip, client4, 4);
	memcpy(&outside.ip, public4, 4);
	KUNIT_EXPECT_EQ(test, pinhole_judge(&p, &o, &peer, &outside, AF_INET),
			PINHOLE_OPEN);
	KUNIT_EXPECT_EQ(test, pinhole_judge(&p, &o, &peer, &peer, AF_INET),
			PINHOLE_REFUSE_THIRD_PARTY);
	o = offer4(FTP_OFFER_PORT, client4, 40000);
	KUNIT_EXPECT_EQ(test, pinhole_judge(&p, &o, &peer, &outside, AF_INET),
			PINHOLE_OPEN);
	o = offer4(FTP_OFFER_PORT, other4, 40000);
	KUNIT_EXPECT_EQ(test, pinhole_judge(&p, &o, &peer, &outside, AF_INET),
			PINHOLE_REFUSE_THIRD_PARTY);
}

static void policy_parse_port_range(struct kunit *test)
{
	static const char *const bad[] = {
		"", "0-10", "2000-1000", "1-70000", "abc", "1-", "-5",
		"10-20-30", "4294968320-65535", "1024 - 2000", "1,2",
	};
	u32 packed = 0xdeadbeef;
	u16 lo, hi;
	int i;

	KUNIT_ASSERT_EQ(test, pinhole_parse_port_range("1024-65535", &packed), 0);
	pinhole_port_range_unpack(packed, &lo, &hi);
	KUNIT_EXPECT_EQ(test, lo, 1024);
	KUNIT_EXPECT_EQ(test, hi, 65535);
	KUNIT_ASSERT_EQ(test, pinhole_parse_port_range("21\n", &packed), 0);
	pinhole_port_range_unpack(packed, &lo, &hi);
	KUNIT_EXPECT_EQ(test, lo, 21);
	KUNIT_EXPECT_EQ(test, hi, 21);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		packed = 0xdeadbeef;
		KUNIT_EXPECT_EQ_MSG(test, pinhole_parse_port_range(bad[i], &packed),
				    -EINVAL, "accepted \"%s\"", bad[i]);
		KUNIT_EXPECT_EQ_MSG(test, packed, 0xdeadbeef,
				    "\"%s\" changed the range", bad[i]);
	}
}

static struct kunit_case pinhole_policy_cases[] = {
	KUNIT_CASE(policy_opens_clean_port),
	KUNIT_CASE(policy_refuses_third_party),
	KUNIT_CASE(policy_229_names_no_address),
	KUNIT_CASE(policy_port_ranges),
	KUNIT_CASE(policy_modes),
	KUNIT_CASE(policy_engine_refusals_win),
	KUNIT_CASE(policy_ipv6_peer),
	KUNIT_CASE(policy_outside_address_is_own),
	KUNIT_CASE(policy_parse_port_range),
	{}
};

static struct kunit_suite pinhole_policy_suite = {
	.name = "pinhole_policy",
	.test_cases = pinhole_policy_cases,
};
kunit_test_suite(pinhole_policy_suite);
