/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Reading a TCP payload where it lies, without copying or linearising.
 * Its own file so that KUnit can prove it on hand-built paged skbs.
 */
#ifndef PINHOLE_SKB_WALK_H
#define PINHOLE_SKB_WALK_H

#include <linux/skbuff.h>
#include <linux/types.h>

/* @len bytes at @data are the payload's bytes from offset @off on. */
typedef void (*pinhole_walk_fn)(void *ctx, const u8 *data, u32 len, u32 off);

void pinhole_skb_walk(struct sk_buff *skb, unsigned int dataoff,
		      u32 from, u32 to, pinhole_walk_fn fn, void *ctx);

#endif /* PINHOLE_SKB_WALK_H */
