/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the module shows userspace, shared verbatim by nf_pinhole_ftp.ko and
 * pinholectl so the two can never disagree on a name.
 *
 * - Counters: /proc/net/pinhole_ftp (per network namespace), one
 *   "name value" line each, in the order below, then the gauges. Names are
 *   stable ABI: new counters and gauges are appended, none is renamed or
 *   removed.
 * - Policy: /proc/sys/net/netfilter/pinhole_ftp/<key>, per namespace.
 * - Per session: the conntrack helper area is exported over ctnetlink as
 *   CTA_HELP_INFO (libnetfilter_conntrack ATTR_HELPER_INFO) holding a
 *   struct pinhole_ct_info.
 */
#ifndef PINHOLE_ABI_H
#define PINHOLE_ABI_H

/* 11 characters, conntrackd's limit for a replicated helper name (helper.c) */
#define PINHOLE_HELPER_NAME	"pinhole-ftp"
#define PINHOLE_PROC_NAME	"pinhole_ftp"
#define PINHOLE_SYSCTL_DIR	"net/netfilter/pinhole_ftp"
#define PINHOLE_MODULE_NAME	"nf_pinhole_ftp"

/* X(name, description) */
#define PINHOLE_COUNTERS(X) \
	X(lines_port,		"PORT commands seen") \
	X(lines_eprt,		"EPRT commands seen") \
	X(lines_pasv,		"PASV commands seen") \
	X(lines_epsv,		"EPSV commands seen") \
	X(lines_227,		"227 replies seen") \
	X(lines_229,		"229 replies seen") \
	X(pinholes_opened,	"expectations registered") \
	X(refused_third_party,	"data address not the announcing peer's") \
	X(refused_privileged_port, "data port below 1024") \
	X(refused_out_of_range,	"octet > 255, port 0 or > 65535, port outside the configured range") \
	X(refused_mode_disabled, "active or passive disabled by policy") \
	X(refused_malformed,	"syntax error in an announcing line") \
	X(refused_family,	"address family does not match the control connection") \
	X(refused_unanswered,	"227/229 with no PASV/EPSV outstanding") \
	X(refused_limit_reached, "session already holds max_pinholes pinholes") \
	X(refused_encrypted,	"sessions that switched to TLS (AUTH + 234)") \
	X(resyncs,		"stream gaps, parsing resumed at the next line; pickups after a failover") \
	X(alloc_failures,	"expectation allocation or insertion failed") \
	X(dropped,		"segments dropped for a refused line (enforce=1)") \
	X(nat_unrewritable,	"announcing lines left unchanged on a NATed session") \
	X(nat_rewritten_again,	"retransmitted announcing lines rewritten as the first time") \
	X(pinholes_superseded,	"unused pinholes of earlier sessions replaced by a new announcement of the same port") \
	X(refused_offers_per_segment, "announcing lines beyond the fourth in one segment") \
	X(pinholes_withdrawn,	"PORT/EPRT pinholes withdrawn when the server refused the command") \
	X(uncorrelated,		"commands the reply queue could not place; their replies are not trusted") \
	X(neutralised,		"refused lines rewritten so that the peer answers with an error (enforce=1)") \
	X(neutralised_again,	"retransmitted refused lines neutralised again (enforce=1)")

/*
 * X(name, description): what is open now, per namespace, after the
 * counters in the same file. Counted when the file is read.
 */
#define PINHOLE_GAUGES(X) \
	X(sessions_open,	"FTP control sessions with the helper attached") \
	X(pinholes_open,	"pinholes (expectations) waiting for their data connection")

/* X(key) in the order pinholectl lists them */
#define PINHOLE_SYSCTLS(X) \
	X(active) \
	X(passive) \
	X(allow_third_party) \
	X(active_ports) \
	X(passive_ports) \
	X(max_pinholes) \
	X(timeout) \
	X(enforce) \
	X(log)

#define PINHOLE_CT_INFO_VERSION	1
#define PINHOLE_CT_ENCRYPTED	0x01	/* AUTH TLS accepted: not parsed */

struct pinhole_ct_info {
	unsigned char version;		/* PINHOLE_CT_INFO_VERSION */
	unsigned char flags;		/* PINHOLE_CT_* */
	unsigned char reserved[2];
};

#endif /* PINHOLE_ABI_H */
