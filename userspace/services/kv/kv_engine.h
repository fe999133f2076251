/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * kv_engine.h - the storage engine behind a kv replica.
 *
 * A replica is the shared replica-channel loop (replica_main.c) plus one
 * engine. Engines are independent implementations of the same logical
 * store (a map from key to a value of at most record_size bytes) and know
 * nothing about the wire or the state volume: kv_exec() turns ops into
 * engine calls, kv_state.c turns engine contents into the abstract state.
 *
 * Every engine remembers which keys were written (put) since the last
 * clean(): the dirty set, which is all a checkpoint has to rewrite.
 * All functions return 0 or a negative errno.
 */
#ifndef KV_ENGINE_H
#define KV_ENGINE_H

#include <stdbool.h>
#include <stdint.h>

#include "kv_op.h"

struct kv_engine;

/* Called once per record; a nonzero return stops the iteration. */
typedef int (*kv_iter_fn)(void *arg, uint32_t key, const uint8_t *val,
			  uint32_t len);

struct kv_engine_ops {
	const char *name;	/* implementation name sent in HELLO */

	/* create an empty store for keys 0 .. lim->records - 1 */
	int (*create)(const struct kv_limits *lim, struct kv_engine **out);
	/* NULL-tolerant */
	void (*destroy)(struct kv_engine *e);
	/*
	 * copy the value of @key into @buf (room for record_size bytes) and
	 * its length into @len; -ENOENT when @key was never written
	 */
	int (*get)(struct kv_engine *e, uint32_t key, uint8_t *buf,
		   uint32_t *len);
	/* store a value (len <= record_size) and mark @key dirty */
	int (*put)(struct kv_engine *e, uint32_t key, const uint8_t *val,
		   uint32_t len);
	/*
	 * call @fn for every record (@dirty_only: every dirty record), in
	 * no particular order; returns @fn's nonzero value if it stopped
	 */
	int (*iterate)(struct kv_engine *e, bool dirty_only, kv_iter_fn fn,
		       void *arg);
	/* forget the dirty set */
	int (*clean)(struct kv_engine *e);
	/* drop every record and the dirty set */
	int (*reset)(struct kv_engine *e);
	/* store a record without marking it dirty (restore) */
	int (*load)(struct kv_engine *e, uint32_t key, const uint8_t *val,
		    uint32_t len);
	/*
	 * optional (may be NULL): bracket a run of load() calls, e.g. in
	 * one transaction; @start true before, false after
	 */
	int (*batch)(struct kv_engine *e, bool start);
};

extern const struct kv_engine_ops kv_hash_ops;
extern const struct kv_engine_ops kv_sqlite_ops;

/* An engine instance with its ops and limits: what the replica holds. */
struct kv_store {
	const struct kv_engine_ops *ops;
	struct kv_engine *e;
	struct kv_limits lim;
};

int kv_store_open(struct kv_store *s, const struct kv_engine_ops *ops,
		  const struct kv_limits *lim);
void kv_store_close(struct kv_store *s);

/*
 * kv_exec - execute one op (any bytes) against @s and encode the reply
 * into @reply (at least KV_REPLY_HDR_LEN + record_size bytes).
 * Returns the reply length, or a negative errno when the engine failed
 * (the replica cannot go on: its state is unknown).
 */
int kv_exec(struct kv_store *s, const uint8_t *op, size_t n, uint8_t *reply,
	    size_t cap);

#endif /* KV_ENGINE_H */
