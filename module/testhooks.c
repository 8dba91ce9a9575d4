// SPDX-License-Identifier: GPL-2.0
/*
 * Test builds only (PINHOLE_TEST_HOOKS=1): widen one named window of the
 * packet path by a delay, so that an e2e test can make another CPU (the
 * other direction of a session, a ctnetlink flush) land inside it every
 * time instead of once in a blue moon. Never part of a release build.
 *
 *   test_window=insert    before a pinhole's expectation is inserted
 *   test_window=remove    before a pinhole whose NAT rewrite failed is
 *                         taken out again
 *   test_window_ms=N      the delay (0: none)
 *
 * And one old behaviour, for the negative control of its fix:
 *
 *   test_window=enforce_drops  enforce=1 drops a refused line's segment
 *                              (and its retransmissions) instead of
 *                              neutralising the line: the session hangs
 */
#include <linux/delay.h>
#include <linux/module.h>
#include <linux/string.h>

#include "pinhole.h"

static char *test_window = "";
module_param(test_window, charp, 0644);
MODULE_PARM_DESC(test_window, "test builds: the window to widen");

static unsigned int test_window_ms;
module_param(test_window_ms, uint, 0644);
MODULE_PARM_DESC(test_window_ms, "test builds: by how many milliseconds");

void pinhole_test_window_wait(const char *where)
{
	unsigned int ms = READ_ONCE(test_window_ms);

	/* sysfs_streq: `echo insert > .../test_window` stores "insert\n" */
	if (ms && sysfs_streq(READ_ONCE(test_window), where))
		mdelay(min(ms, 1000U));
}

bool pinhole_test_window_is(const char *what)
{
	return sysfs_streq(READ_ONCE(test_window), what);
}
