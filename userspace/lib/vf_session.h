/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vf_session.h - client sessions of client protocol version 3
 * (Documentation/protocol.rst "Sessions"): a client chooses a random
 * 32-byte session key; its client_id is the first 8 bytes (little-endian)
 * of SHA-256(key), and every REQUEST carries the key. Any manager can
 * check a request on its own, with no state: another client that knows a
 * client_id cannot send under it without finding a preimage. Link with
 * -lcrypto.
 */
#ifndef VF_SESSION_H
#define VF_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "vf_proto.h"

/* The client_id that @key stands for: 0, or -EIO (libcrypto failed). */
int vf_session_id(const uint8_t key[VF_SESSION_KEY_LEN], uint64_t *id);

/* A new random key and its client_id: 0 or -errno. */
int vf_session_new(uint8_t key[VF_SESSION_KEY_LEN], uint64_t *id);

/* @m (version 3) carries the key of its client_id. */
bool vf_session_check(const struct vf_request *m);

#endif /* VF_SESSION_H */
