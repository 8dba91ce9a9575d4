// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite "pinhole_skb_walk": module/skb_walk.c hands the parser
 * exactly the payload bytes [from, to) it was asked for, once each, from a
 * linear skb and from a paged one - including when `to` falls inside a page
 * fragment, where skb_seq_read() alone returns the rest of the fragment.
 */
#include <kunit/test.h>
#include <linux/mm.h>
#include <linux/skbuff.h>
#include <linux/string.h>

#include "skb_walk.h"

#define WALK_HEAD	40	/* linear bytes: 20 of headers, 20 of payload */
#define WALK_DATAOFF	20
#define WALK_FRAG	100	/* payload bytes in one page fragment */

struct walk_record {
	u8 bytes[WALK_HEAD + WALK_FRAG];
	u32 len;
	u32 next_off;
	bool out_of_order;
};

static void walk_record(void *ctx, const u8 *data, u32 len, u32 off)
{
	struct walk_record *rec = ctx;

	if (off != rec->next_off || rec->len + len > sizeof(rec->bytes)) {
		rec->out_of_order = true;
		return;
	}
	memcpy(rec->bytes + rec->len, data, len);
	rec->len += len;
	rec->next_off = off + len;
}

static u8 walk_byte(u32 payload_off)
{
	return 'a' + payload_off % 26;
}

/* 20 header bytes, 20 payload bytes in the head, 100 in a page fragment. */
static struct sk_buff *walk_paged_skb(struct kunit *test)
{
	struct sk_buff *skb = alloc_skb(WALK_HEAD, GFP_KERNEL);
	struct page *page = alloc_page(GFP_KERNEL);
	u8 *head, *frag;
	u32 i;

	KUNIT_ASSERT_NOT_NULL(test, skb);
	KUNIT_ASSERT_NOT_NULL(test, page);
	head = skb_put(skb, WALK_HEAD);
	memset(head, 0, WALK_DATAOFF);
	for (i = WALK_DATAOFF; i < WALK_HEAD; i++)
		head[i] = walk_byte(i - WALK_DATAOFF);
	frag = page_address(page);
	for (i = 0; i < WALK_FRAG; i++)
		frag[i] = walk_byte(WALK_HEAD - WALK_DATAOFF + i);
	skb_fill_page_desc(skb, 0, page, 0, WALK_FRAG);
	skb->len += WALK_FRAG;
	skb->data_len += WALK_FRAG;
	skb->truesize += PAGE_SIZE;
	return skb;
}

static void walk_expect(struct kunit *test, struct sk_buff *skb,
			u32 from, u32 to)
{
	struct walk_record rec = { .next_off = from };
	u32 i;

	pinhole_skb_walk(skb, WALK_DATAOFF, from, to, walk_record, &rec);
	KUNIT_EXPECT_FALSE(test, rec.out_of_order);
	KUNIT_EXPECT_EQ_MSG(test, rec.len, to - from, "walk [%u, %u)", from, to);
	for (i = 0; i < rec.len && i < to - from; i++)
		KUNIT_EXPECT_EQ(test, rec.bytes[i], walk_byte(from + i));
}

/* Every [from, to) over a head + fragment payload, ends inside either. */
static void skb_walk_paged_every_range(struct kunit *test)
{
	struct sk_buff *skb = walk_paged_skb(test);
	u32 total = WALK_HEAD - WALK_DATAOFF + WALK_FRAG, from, to;

	for (from = 0; from <= total; from += 7)
		for (to = from; to <= total; to += 5)
			walk_expect(test, skb, from, to);
	kfree_skb(skb);
}

/* The retransmission case: old bytes end inside the fragment. */
static void skb_walk_stops_inside_fragment(struct kunit *test)
{
	struct sk_buff *skb = walk_paged_skb(test);

	walk_expect(test, skb, 0, 30);
	walk_expect(test, skb, 25, 26);
	walk_expect(test, skb, 0, 20);
	kfree_skb(skb);
}

static void skb_walk_linear(struct kunit *test)
{
	struct sk_buff *skb = alloc_skb(WALK_HEAD, GFP_KERNEL);
	u8 *head;
	u32 i;

	KUNIT_ASSERT_NOT_NULL(test, skb);
	head = skb_put(skb, WALK_HEAD);
	for (i = WALK_DATAOFF; i < WALK_HEAD; i++)
		head[i] = walk_byte(i - WALK_DATAOFF);
	walk_expect(test, skb, 0, 20);
	walk_expect(test, skb, 3, 9);
	walk_expect(test, skb, 5, 5);
	kfree_skb(skb);
}

static struct kunit_case skb_walk_cases[] = {
	KUNIT_CASE(skb_walk_paged_every_range),
	KUNIT_CASE(skb_walk_stops_inside_fragment),
	KUNIT_CASE(skb_walk_linear),
	{}
};

static struct kunit_suite skb_walk_suite = {
	.name = "pinhole_skb_walk",
	.test_cases = skb_walk_cases,
};

kunit_test_suite(skb_walk_suite);
