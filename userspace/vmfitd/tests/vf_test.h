/* SPDX-License-Identifier: GPL-2.0-only */
/* vf_test.h - minimal assertions for vmfitd's unit tests. */
#ifndef VF_TEST_H
#define VF_TEST_H

#include <stdio.h>
#include <stdlib.h>

static int vf_test_failed;

#define CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__,	\
			__LINE__, #cond);				\
		vf_test_failed++;					\
	}								\
} while (0)

#define CHECK_EQ(a, b) do {						\
	long long _a = (long long)(a), _b = (long long)(b);		\
	if (_a != _b) {							\
		fprintf(stderr, "%s:%d: %s == %lld, expected %s == %lld\n", \
			__FILE__, __LINE__, #a, _a, #b, _b);		\
		vf_test_failed++;					\
	}								\
} while (0)

#define TEST_DONE() do {						\
	if (vf_test_failed) {						\
		fprintf(stderr, "%d check(s) failed\n", vf_test_failed); \
		return 1;						\
	}								\
	printf("all checks passed\n");					\
	return 0;							\
} while (0)

#endif /* VF_TEST_H */
