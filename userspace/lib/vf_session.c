// SPDX-License-Identifier: GPL-2.0-only
/*
 * vf_session.c - client sessions (see vf_session.h).
 */
#include <errno.h>
#include <sys/random.h>

#include "vf_session.h"
#include "vf_sha256.h"

int vf_session_id(const uint8_t key[VF_SESSION_KEY_LEN], uint64_t *id)
{
	uint8_t h[VF_SHA256_LEN];
	int i;

	if (vf_sha256(key, VF_SESSION_KEY_LEN, h))
		return -EIO;
	*id = 0;
	for (i = 7; i >= 0; i--)
		*id = *id << 8 | h[i];
	return 0;
}

int vf_session_new(uint8_t key[VF_SESSION_KEY_LEN], uint64_t *id)
{
	ssize_t n;

	do {
		n = getrandom(key, VF_SESSION_KEY_LEN, 0);
		if (n < 0 && errno != EINTR)
			return -errno;
	} while (n != VF_SESSION_KEY_LEN);
	return vf_session_id(key, id);
}

bool vf_session_check(const struct vf_request *m)
{
	uint64_t id;

	return m->key && !vf_session_id(m->key, &id) && id == m->client_id;
}
