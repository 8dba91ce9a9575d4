// SPDX-License-Identifier: GPL-2.0
/*
 * Handing the bytes of a segment's payload to the parser where they lie:
 * in the linear head, or block by block (a GSO segment from a local sender
 * carries up to 64 KB in page fragments) - never copied.
 */
#include <linux/kernel.h>
#include <linux/skbuff.h>

#include "skb_walk.h"

/*
 * Call @fn on bytes [@from, @to) of the payload that starts at @dataoff,
 * in order, each byte exactly once. skb_seq_read() returns whatever is
 * left of its current block, which may run past the upper bound it was
 * given: the blocks are clamped here, or a caller asking for the old bytes
 * of a partly retransmitted segment would be handed new ones too.
 */
void pinhole_skb_walk(struct sk_buff *skb, unsigned int dataoff,
		      u32 from, u32 to, pinhole_walk_fn fn, void *ctx)
{
	u32 want = to - from, consumed = 0;
	struct skb_seq_state walk;
	const u8 *data;
	unsigned int n;

	if (from >= to)
		return;
	if (skb_headlen(skb) >= dataoff + to) {
		fn(ctx, skb->data + dataoff + from, want, from);
		return;
	}
	skb_prepare_seq_read(skb, dataoff + from, dataoff + to, &walk);
	while (consumed < want &&
	       (n = skb_seq_read(consumed, &data, &walk)) != 0) {
		n = min(n, want - consumed);
		fn(ctx, data, n, from + consumed);
		consumed += n;
	}
	skb_abort_seq_read(&walk);
}
