// SPDX-License-Identifier: GPL-2.0-only
/*
 * vf-log-test - log rate limiting: burst, suppression, summaries, episodes;
 * peer strings made safe for a log line.
 */
#include <string.h>

#include "vf_log.h"
#include "vf_check.h"

static void test_peer_str(void)
{
	char out[VF_LOG_PEER_STR], small[8], big[400];
	const char *s;
	size_t i;

	CHECK_STR(vf_log_peer_str(out, sizeof(out), "kv-hash 1.0", 11),
		  "kv-hash 1.0");
	/* Terminal escapes, new lines, NUL, DEL, high bytes, backslash. */
	CHECK_STR(vf_log_peer_str(out, sizeof(out), "\x1b[2J\r\nA\0\x7f\xff\\", 11),
		  "\\x1b[2J\\x0d\\x0aA\\x00\\x7f\\xff\\x5c");
	/* Only @len bytes are read: no NUL needed, none past it. */
	CHECK_STR(vf_log_peer_str(out, sizeof(out), "abcdef", 3), "abc");
	CHECK_STR(vf_log_peer_str(out, sizeof(out), "", 0), "");
	/* Exactly full: no marker. */
	CHECK_STR(vf_log_peer_str(small, sizeof(small), "1234567", 7),
		  "1234567");
	/* One more: cut, with the marker, within the buffer. */
	CHECK_STR(vf_log_peer_str(small, sizeof(small), "12345678", 8),
		  "1234...");
	/* An escape is never cut in half. */
	CHECK_STR(vf_log_peer_str(small, sizeof(small), "ab\n\n", 4),
		  "ab...");
	CHECK_STR(vf_log_peer_str(small, sizeof(small), "\n", 1), "\\x0a");
	/* A long hostile string stays within VF_LOG_PEER_STR - 1. */
	for (i = 0; i < sizeof(big); i++)
		big[i] = i % 3 ? 'x' : '\033';
	s = vf_log_peer_str(out, sizeof(out), big, sizeof(big));
	CHECK_EQ(strlen(s), VF_LOG_PEER_STR - 1);	/* 12 * 6 + 4 + 1 + 3 */
	CHECK(!strchr(s, '\033'));
	CHECK_STR(s + strlen(s) - 3, "...");
}

int main(void)
{
	struct vf_ratelimit rl = VF_RATELIMIT_INIT(3, 1000);
	uint64_t t, next, logged = 0, summed = 0, sums = 0, n;
	unsigned int i;

	/* An episode: the first 3 are logged, the rest counted. */
	for (i = 0; i < 10; i++)
		CHECK_EQ(vf_ratelimit(&rl, 100 + i), i < 3);
	/* The summary is due one interval after the first suppressed one. */
	next = ~0ull;
	CHECK_EQ(vf_ratelimit_flush(&rl, 500, &next), 0);
	CHECK_EQ(next, 1103);
	CHECK_EQ(vf_ratelimit(&rl, 600), false);
	/* One interval after the burst, one message of budget is back. */
	CHECK_EQ(vf_ratelimit(&rl, 1100), true);
	CHECK_EQ(vf_ratelimit(&rl, 1101), false);
	CHECK_EQ(vf_ratelimit_flush(&rl, 1103, NULL), 9);
	CHECK_EQ(vf_ratelimit_flush(&rl, 1104, NULL), 0);
	next = ~0ull;
	CHECK_EQ(vf_ratelimit_flush(&rl, 1200, &next), 0);
	CHECK_EQ(next, ~0ull);		/* nothing pending */

	/* The flood goes on: still suppressed. */
	CHECK_EQ(vf_ratelimit(&rl, 1150), false);
	CHECK_EQ(vf_ratelimit_flush(&rl, 2150, NULL), 1);

	/*
	 * Quiet for two intervals: two messages of budget back, not the
	 * whole burst (bursts spaced just over an interval apart must not
	 * log a full burst each).
	 */
	CHECK_EQ(vf_ratelimit(&rl, 3200), true);
	CHECK_EQ(vf_ratelimit(&rl, 3201), true);
	CHECK_EQ(vf_ratelimit(&rl, 3202), false);
	CHECK_EQ(vf_ratelimit_flush(&rl, 4202, NULL), 1);
	/* Quiet for the whole burst's intervals: a full burst again. */
	CHECK_EQ(vf_ratelimit(&rl, 7300), true);
	CHECK_EQ(vf_ratelimit(&rl, 7301), true);
	CHECK_EQ(vf_ratelimit(&rl, 7302), true);
	CHECK_EQ(vf_ratelimit(&rl, 7303), false);
	CHECK_EQ(vf_ratelimit_flush(&rl, 8303, NULL), 1);
	CHECK_EQ(rl.total_suppressed, 12);

	/*
	 * 100k messages over 10 s, flushing as an event loop would: every
	 * message is either logged or in exactly one summary; a burst of
	 * 10, then one line of budget and at most one summary per second.
	 */
	rl = (struct vf_ratelimit)VF_RATELIMIT_INIT(10, 1000);
	for (t = 0; t < 100000; t++) {
		if (vf_ratelimit(&rl, 50000 + t / 10))
			logged++;
		n = vf_ratelimit_flush(&rl, 50000 + t / 10, NULL);
		if (n)
			sums++;
		summed += n;
	}
	n = vf_ratelimit_flush(&rl, 50000 + 20000, NULL);
	sums += !!n;
	summed += n;
	CHECK_EQ(logged + summed, 100000);
	CHECK(logged <= 10 + 10);
	CHECK(sums <= 11);

	/*
	 * 100 bursts of 50 messages, 1.1 s apart (a peer timing its floods
	 * around the interval): about one line per burst (the budget
	 * comes back at one a second), not 10.
	 */
	rl = (struct vf_ratelimit)VF_RATELIMIT_INIT(10, 1000);
	logged = summed = sums = 0;
	for (t = 0; t < 100; t++) {
		for (i = 0; i < 50; i++)
			logged += vf_ratelimit(&rl, 100000 + t * 1100 + i);
		n = vf_ratelimit_flush(&rl, 100000 + t * 1100 + 60, NULL);
		sums += !!n;
		summed += n;
	}
	n = vf_ratelimit_flush(&rl, 100000 + 200000, NULL);
	sums += !!n;
	summed += n;
	CHECK_EQ(logged + summed, 100 * 50);
	CHECK(logged <= 10 + 100 * 1100 / 1000 + 1);	/* 1 per s */
	CHECK(logged + sums <= 10 + 2 * 111 + 1);
	test_peer_str();
	return vf_check_done("vf-log-test");
}
