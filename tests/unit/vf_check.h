/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vf_check.h - minimal assertions for the C unit tests: every failed check
 * prints file:line and the expression, and vf_check_done() turns the count
 * into the exit status (0 all passed, 1 otherwise). REQUIRE() is a check
 * whose failure ends the test at once with status 1.
 */
#ifndef VF_CHECK_H
#define VF_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int vf_check_failed;
static int vf_check_run;

#define CHECK(expr)							\
	do {								\
		vf_check_run++;						\
		if (!(expr)) {						\
			vf_check_failed++;				\
			fprintf(stderr, "%s:%d: check failed: %s\n",	\
				__FILE__, __LINE__, #expr);		\
		}							\
	} while (0)

#define CHECK_EQ(a, b)							\
	do {								\
		long long _a = (long long)(a);				\
		long long _b = (long long)(b);				\
		vf_check_run++;						\
		if (_a != _b) {						\
			vf_check_failed++;				\
			fprintf(stderr, "%s:%d: %s == %lld, want %s == %lld\n", \
				__FILE__, __LINE__, #a, _a, #b, _b);	\
		}							\
	} while (0)

#define CHECK_STR(a, b)							\
	do {								\
		const char *_a = (a);					\
		const char *_b = (b);					\
		vf_check_run++;						\
		if (!_a || strcmp(_a, _b)) {				\
			vf_check_failed++;				\
			fprintf(stderr, "%s:%d: %s is \"%s\", want \"%s\"\n", \
				__FILE__, __LINE__, #a, _a ? _a : "(null)", _b); \
		}							\
	} while (0)

/* Abort the test now: later steps depend on this one. */
#define REQUIRE(expr)							\
	do {								\
		vf_check_run++;						\
		if (!(expr)) {						\
			fprintf(stderr, "%s:%d: required check failed: %s\n", \
				__FILE__, __LINE__, #expr);		\
			exit(1);					\
		}							\
	} while (0)

static inline int vf_check_done(const char *name)
{
	printf("%s: %d checks, %d failed\n", name, vf_check_run,
	       vf_check_failed);
	return vf_check_failed ? 1 : 0;
}

#endif /* VF_CHECK_H */
