// SPDX-License-Identifier: GPL-2.0-only
/*
 * vf_sha256 - SHA-256 through libcrypto (see vf_sha256.h).
 */
#include <errno.h>

#include <openssl/evp.h>

#include "vf_sha256.h"

int vf_sha256(const void *data, size_t len, uint8_t out[VF_SHA256_LEN])
{
	unsigned int dl = 0;

	if (!EVP_Digest(data, len, out, &dl, EVP_sha256(), NULL) ||
	    dl != VF_SHA256_LEN)
		return -EIO;
	return 0;
}
