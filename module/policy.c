// SPDX-License-Identifier: GPL-2.0
/*
 * Policy decisions: given a syntactically valid offer and the namespace's
 * policy, may a pinhole open? Pure functions of their arguments, so that
 * KUnit can prove every rule without a packet in sight.
 */
#include <linux/kernel.h>
#include <linux/string.h>
#include <linux/socket.h>

#include "pinhole.h"

#define PINHOLE_FIRST_UNPRIVILEGED_PORT	1024

u32 pinhole_port_range_pack(u16 lo, u16 hi)
{
	return ((u32)lo << 16) | hi;
}

void pinhole_port_range_unpack(u32 packed, u16 *lo, u16 *hi)
{
	*lo = packed >> 16;
	*hi = packed & 0xffff;
}

/*
 * "LO-HI" with 1 <= LO <= HI <= 65535, or a single port "P". kstrtou16()
 * refuses overflow and junk, where sscanf() would wrap silently.
 */
int pinhole_parse_port_range(const char *text, u32 *packed)
{
	char buf[16], *hi_text;
	u16 lo, hi;

	if (strscpy(buf, text, sizeof(buf)) < 0)
		return -EINVAL;
	hi_text = strchr(buf, '-');
	if (hi_text)
		*hi_text++ = '\0';
	else
		hi_text = buf;
	if (kstrtou16(buf, 10, &lo) || kstrtou16(hi_text, 10, &hi))
		return -EINVAL;
	if (lo < 1 || lo > hi)
		return -EINVAL;
	*packed = pinhole_port_range_pack(lo, hi);
	return 0;
}

bool pinhole_offer_is_active(const struct ftp_offer *offer)
{
	return offer->kind == FTP_OFFER_PORT || offer->kind == FTP_OFFER_EPRT;
}

static enum pinhole_verdict verdict_of_refusal(enum ftp_refusal refusal)
{
	switch (refusal) {
	case FTP_ACCEPTED:
		return PINHOLE_OPEN;
	case FTP_REFUSED_OUT_OF_RANGE:
		return PINHOLE_REFUSE_OUT_OF_RANGE;
	case FTP_REFUSED_FAMILY:
		return PINHOLE_REFUSE_FAMILY;
	case FTP_REFUSED_UNANSWERED:
		return PINHOLE_REFUSE_UNANSWERED;
	case FTP_REFUSED_MALFORMED:
	default:
		return PINHOLE_REFUSE_MALFORMED;
	}
}

/* Is the announced address @peer? 229 names none. */
bool pinhole_offer_names_peer(const struct ftp_offer *offer,
			      const union nf_inet_addr *peer, u8 l3num)
{
	if (offer->kind == FTP_OFFER_229)
		return true;
	if (l3num == AF_INET)
		return offer->family == FTP_FAMILY_IPV4 &&
		       !memcmp(offer->addr, &peer->ip, 4);
	return offer->family == FTP_FAMILY_IPV6 &&
	       !memcmp(offer->addr, peer->ip6, 16);
}

/*
 * Is the announced address the announcing peer's own: @peer, its address,
 * or @outside, the address the other peer reaches it at? Behind NAT they
 * differ, and a peer that knows it (a server behind a port-forward told
 * to announce the public address, a client behind SNAT announcing its
 * external one) announces @outside: that is no third party.
 */
bool pinhole_offer_names_own(const struct ftp_offer *offer,
			     const union nf_inet_addr *peer,
			     const union nf_inet_addr *outside, u8 l3num)
{
	return pinhole_offer_names_peer(offer, peer, l3num) ||
	       pinhole_offer_names_peer(offer, outside, l3num);
}

static enum pinhole_verdict judge_port(u32 range, u16 port)
{
	u16 lo, hi;

	pinhole_port_range_unpack(range, &lo, &hi);
	if (port >= lo && port <= hi)
		return PINHOLE_OPEN;
	if (port < PINHOLE_FIRST_UNPRIVILEGED_PORT)
		return PINHOLE_REFUSE_PRIVILEGED;
	return PINHOLE_REFUSE_OUT_OF_RANGE;
}

/*
 * @peer is the address of the host that sent the announcing line, as the
 * conntrack tuple of its direction records it (before any NAT); @outside
 * the address the other host reaches it at (the same without NAT).
 */
enum pinhole_verdict pinhole_judge(const struct pinhole_policy *policy,
				   const struct ftp_offer *offer,
				   const union nf_inet_addr *peer,
				   const union nf_inet_addr *outside,
				   u8 l3num)
{
	bool active = pinhole_offer_is_active(offer);

	if (offer->refusal != FTP_ACCEPTED)
		return verdict_of_refusal(offer->refusal);
	if (!(active ? READ_ONCE(policy->active) : READ_ONCE(policy->passive)))
		return PINHOLE_REFUSE_MODE_DISABLED;
	if (!pinhole_offer_names_own(offer, peer, outside, l3num) &&
	    !READ_ONCE(policy->allow_third_party))
		return PINHOLE_REFUSE_THIRD_PARTY;
	return judge_port(active ? READ_ONCE(policy->active_ports) :
				   READ_ONCE(policy->passive_ports),
			  offer->port);
}

enum pinhole_counter pinhole_verdict_counter(enum pinhole_verdict verdict)
{
	static const enum pinhole_counter counters[] = {
		[PINHOLE_OPEN] = PINHOLE_CNT_pinholes_opened,
		[PINHOLE_REFUSE_THIRD_PARTY] = PINHOLE_CNT_refused_third_party,
		[PINHOLE_REFUSE_PRIVILEGED] = PINHOLE_CNT_refused_privileged_port,
		[PINHOLE_REFUSE_OUT_OF_RANGE] = PINHOLE_CNT_refused_out_of_range,
		[PINHOLE_REFUSE_MODE_DISABLED] = PINHOLE_CNT_refused_mode_disabled,
		[PINHOLE_REFUSE_MALFORMED] = PINHOLE_CNT_refused_malformed,
		[PINHOLE_REFUSE_FAMILY] = PINHOLE_CNT_refused_family,
		[PINHOLE_REFUSE_UNANSWERED] = PINHOLE_CNT_refused_unanswered,
	};

	return counters[verdict];
}

const char *pinhole_verdict_name(enum pinhole_verdict verdict)
{
	static const char *const names[] = {
		[PINHOLE_OPEN] = "open",
		[PINHOLE_REFUSE_THIRD_PARTY] = "third party address",
		[PINHOLE_REFUSE_PRIVILEGED] = "privileged port",
		[PINHOLE_REFUSE_OUT_OF_RANGE] = "port out of range",
		[PINHOLE_REFUSE_MODE_DISABLED] = "mode disabled",
		[PINHOLE_REFUSE_MALFORMED] = "malformed",
		[PINHOLE_REFUSE_FAMILY] = "address family mismatch",
		[PINHOLE_REFUSE_UNANSWERED] = "reply without request",
	};

	return names[verdict];
}
