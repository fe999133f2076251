// SPDX-License-Identifier: GPL-2.0-only
/*
 * kv_sqlite.c - "kv-sqlite": the store as one SQLite table.
 *
 * An in-memory database (the abstract state on the state volume is what
 * persists; the database is the implementation's private representation)
 * holding
 *
 *   CREATE TABLE kv (k INTEGER PRIMARY KEY, v BLOB NOT NULL,
 *                    dirty INTEGER NOT NULL)
 *
 * with a partial index on the dirty rows. Every statement is prepared once.
 * SQLite result codes are mapped to negative errnos.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "kv_engine.h"

enum {
	KVS_GET,
	KVS_PUT,
	KVS_LOAD,
	KVS_ALL,
	KVS_DIRTY,
	KVS_CLEAN,
	KVS_RESET,
	KVS_BEGIN,
	KVS_COMMIT,
	KVS_NR
};

static const char *const kvs_sql[KVS_NR] = {
	[KVS_GET] = "SELECT v FROM kv WHERE k = ?1",
	[KVS_PUT] = "INSERT INTO kv (k, v, dirty) VALUES (?1, ?2, 1) "
		    "ON CONFLICT (k) DO UPDATE SET v = excluded.v, dirty = 1",
	[KVS_LOAD] = "INSERT INTO kv (k, v, dirty) VALUES (?1, ?2, 0) "
		     "ON CONFLICT (k) DO UPDATE SET v = excluded.v",
	[KVS_ALL] = "SELECT k, v FROM kv ORDER BY k",
	[KVS_DIRTY] = "SELECT k, v FROM kv WHERE dirty = 1 ORDER BY k",
	[KVS_CLEAN] = "UPDATE kv SET dirty = 0 WHERE dirty = 1",
	[KVS_RESET] = "DELETE FROM kv",
	[KVS_BEGIN] = "BEGIN",
	[KVS_COMMIT] = "COMMIT",
};

static const char kvs_schema[] =
	"PRAGMA journal_mode = MEMORY;"
	"PRAGMA synchronous = OFF;"
	"CREATE TABLE kv (k INTEGER PRIMARY KEY, v BLOB NOT NULL,"
	"                 dirty INTEGER NOT NULL);"
	"CREATE INDEX kv_dirty ON kv (k) WHERE dirty = 1;";

struct kv_engine {
	struct kv_limits lim;
	sqlite3 *db;
	sqlite3_stmt *st[KVS_NR];
};

static int kvs_errno(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_DONE:
	case SQLITE_ROW:
		return 0;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_FULL:
		return -ENOSPC;
	case SQLITE_TOOBIG:
		return -E2BIG;
	case SQLITE_CONSTRAINT:
	case SQLITE_MISMATCH:
	case SQLITE_RANGE:
		return -EINVAL;
	default:
		return -EIO;
	}
}

static void kvs_destroy(struct kv_engine *e)
{
	int i;

	if (!e)
		return;
	for (i = 0; i < KVS_NR; i++)
		sqlite3_finalize(e->st[i]);	/* NULL is a no-op */
	if (e->db)
		sqlite3_close(e->db);
	free(e);
}

static int kvs_create(const struct kv_limits *lim, struct kv_engine **out)
{
	struct kv_engine *e;
	int rc, i;

	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->lim = *lim;
	rc = sqlite3_open_v2(":memory:", &e->db,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
			     SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK)
		goto bad;
	rc = sqlite3_exec(e->db, kvs_schema, NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		goto bad;
	for (i = 0; i < KVS_NR; i++) {
		rc = sqlite3_prepare_v3(e->db, kvs_sql[i], -1,
					SQLITE_PREPARE_PERSISTENT, &e->st[i],
					NULL);
		if (rc != SQLITE_OK)
			goto bad;
	}
	*out = e;
	return 0;
bad:
	if (e->db)
		fprintf(stderr, "kv-sqlite: %s\n", sqlite3_errmsg(e->db));
	kvs_destroy(e);
	return kvs_errno(rc) ? kvs_errno(rc) : -EIO;
}

/* Run a statement that returns no rows, then reset it. */
static int kvs_step_done(struct kv_engine *e, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_DONE) {
		fprintf(stderr, "kv-sqlite: %s\n", sqlite3_errmsg(e->db));
		return kvs_errno(rc) ? kvs_errno(rc) : -EIO;
	}
	return 0;
}

static int kvs_get(struct kv_engine *e, uint32_t key, uint8_t *buf,
		   uint32_t *len)
{
	sqlite3_stmt *st = e->st[KVS_GET];
	const void *v;
	int rc, n, r = 0;

	rc = sqlite3_bind_int64(st, 1, key);
	if (rc != SQLITE_OK)
		return kvs_errno(rc);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		r = -ENOENT;
	} else if (rc == SQLITE_ROW &&
		   sqlite3_column_type(st, 0) == SQLITE_BLOB) {
		v = sqlite3_column_blob(st, 0);
		n = sqlite3_column_bytes(st, 0);
		if (n < 0 || (uint32_t)n > e->lim.record_size || (n && !v)) {
			r = -EIO;
		} else {
			if (n)
				memcpy(buf, v, n);
			*len = n;
		}
	} else {
		r = rc == SQLITE_ROW ? -EIO : kvs_errno(rc);
		if (!r)
			r = -EIO;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return r;
}

static int kvs_write(struct kv_engine *e, int which, uint32_t key,
		     const uint8_t *val, uint32_t len)
{
	sqlite3_stmt *st = e->st[which];
	/* a NULL blob pointer binds SQL NULL: use a real one for "" */
	static const uint8_t empty[1];
	int rc;

	if (key >= e->lim.records || len > e->lim.record_size)
		return -EINVAL;
	rc = sqlite3_bind_int64(st, 1, key);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_blob(st, 2, len ? (const void *)val : empty,
				       (int)len, SQLITE_STATIC);
	if (rc != SQLITE_OK) {
		sqlite3_clear_bindings(st);
		return kvs_errno(rc) ? kvs_errno(rc) : -EIO;
	}
	return kvs_step_done(e, st);
}

static int kvs_put(struct kv_engine *e, uint32_t key, const uint8_t *val,
		   uint32_t len)
{
	return kvs_write(e, KVS_PUT, key, val, len);
}

static int kvs_load(struct kv_engine *e, uint32_t key, const uint8_t *val,
		    uint32_t len)
{
	return kvs_write(e, KVS_LOAD, key, val, len);
}

static int kvs_iterate(struct kv_engine *e, bool dirty_only, kv_iter_fn fn,
		       void *arg)
{
	sqlite3_stmt *st = e->st[dirty_only ? KVS_DIRTY : KVS_ALL];
	static const uint8_t empty[1];
	const uint8_t *v;
	sqlite3_int64 k;
	int rc, n, r = 0;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		k = sqlite3_column_int64(st, 0);
		v = sqlite3_column_blob(st, 1);
		n = sqlite3_column_bytes(st, 1);
		if (k < 0 || k >= e->lim.records || n < 0 ||
		    (uint32_t)n > e->lim.record_size || (n && !v)) {
			r = -EIO;
			break;
		}
		r = fn(arg, (uint32_t)k, n ? v : empty, (uint32_t)n);
		if (r)
			break;
	}
	if (!r && rc != SQLITE_DONE)
		r = kvs_errno(rc) ? kvs_errno(rc) : -EIO;
	sqlite3_reset(st);
	return r;
}

static int kvs_clean(struct kv_engine *e)
{
	return kvs_step_done(e, e->st[KVS_CLEAN]);
}

static int kvs_reset(struct kv_engine *e)
{
	return kvs_step_done(e, e->st[KVS_RESET]);
}

static int kvs_batch(struct kv_engine *e, bool start)
{
	return kvs_step_done(e, e->st[start ? KVS_BEGIN : KVS_COMMIT]);
}

const struct kv_engine_ops kv_sqlite_ops = {
	.name = "kv-sqlite",
	.create = kvs_create,
	.destroy = kvs_destroy,
	.get = kvs_get,
	.put = kvs_put,
	.iterate = kvs_iterate,
	.clean = kvs_clean,
	.reset = kvs_reset,
	.load = kvs_load,
	.batch = kvs_batch,
};
