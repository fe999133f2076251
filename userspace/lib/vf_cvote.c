// SPDX-License-Identifier: GPL-2.0-only
/*
 * vf_cvote - the chunk vote. See vf_cvote.h.
 *
 * The distinct values are the local one and those the remote managers
 * sent; a value that nobody has sent yet could still qualify if the
 * missing answers alone could reach f+1. With n remote managers there are
 * at most n+1 distinct values, so the count is quadratic in n <= 16.
 */
#include <errno.h>
#include <string.h>

#include "vf_cvote.h"

#define DS VF_MERKLE_DIGEST_SIZE

const char *vf_cvote_name(enum vf_cvote_result r)
{
	switch (r) {
	case VF_CV_PENDING:
		return "pending";
	case VF_CV_VERIFIED:
		return "verified";
	case VF_CV_REPAIR:
		return "repair";
	case VF_CV_UNDECIDED:
		return "undecided";
	}
	return "?";
}

static unsigned int count(const uint8_t *v, const struct vf_cvote_remote *rem,
			  unsigned int n)
{
	unsigned int i, c = 0;

	for (i = 0; i < n; i++)
		if (rem[i].answered && !memcmp(rem[i].digest, v, DS))
			c++;
	return c;
}

int vf_cvote(unsigned int f, const uint8_t local[DS],
	     const struct vf_cvote_remote *rem, unsigned int n,
	     struct vf_cvote_out *out)
{
	const uint8_t *won = NULL;
	unsigned int i, j, c, missing = 0, qualified = 0, possible = 0;
	bool seen;

	if (n > VF_CVOTE_MAX_REMOTE)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	for (i = 0; i < n; i++)
		missing += !rem[i].answered;

	/* The local value needs f remote equals. */
	c = count(local, rem, n);
	if (c >= f) {
		qualified++;
		won = local;
		out->agree = c;
	} else if (c + missing >= f) {
		possible++;
	}
	/* Every other value sent, each counted once, needs f+1. */
	for (i = 0; i < n; i++) {
		if (!rem[i].answered || !memcmp(rem[i].digest, local, DS))
			continue;
		seen = false;
		for (j = 0; j < i && !seen; j++)
			seen = rem[j].answered &&
			       !memcmp(rem[j].digest, rem[i].digest, DS);
		if (seen)
			continue;
		c = count(rem[i].digest, rem, n);
		if (c >= f + 1) {
			qualified++;
			won = rem[i].digest;
			out->agree = c;
		} else if (c + missing >= f + 1) {
			possible++;
		}
	}
	/* A value nobody has sent yet. */
	if (missing >= f + 1)
		possible++;

	if (qualified > 1 || (!qualified && !possible)) {
		out->result = VF_CV_UNDECIDED;
		return 0;
	}
	if (!qualified || possible) {
		out->result = VF_CV_PENDING;
		return 0;
	}
	memcpy(out->digest, won, DS);
	if (won == local) {
		out->result = VF_CV_VERIFIED;
		return 0;
	}
	out->result = VF_CV_REPAIR;
	for (i = 0; i < n; i++) {
		if (!rem[i].answered || memcmp(rem[i].digest, won, DS))
			continue;
		/* insertion in node id order */
		for (j = out->nsources; j > 0 &&
		     out->sources[j - 1] > rem[i].node; j--)
			out->sources[j] = out->sources[j - 1];
		out->sources[j] = rem[i].node;
		out->nsources++;
	}
	return 0;
}
