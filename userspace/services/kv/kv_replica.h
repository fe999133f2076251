/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * kv_replica.h - the replica-channel main loop shared by every kv replica
 * binary (kv-hash, kv-sqlite, kv-faulty).
 */
#ifndef KV_REPLICA_H
#define KV_REPLICA_H

#include "kv_engine.h"

#define KV_VERSION	"1.0"

/*
 * kv_replica_main - parse the command line, connect, serve until the
 * manager closes the channel. @engines is a NULL-terminated list; the
 * first is the default, --engine picks another when there are several.
 * Returns the process exit status: 0 after a clean EOF from the manager,
 * 1 on a protocol or I/O error, 2 on a usage error.
 */
int kv_replica_main(int argc, char **argv,
		    const struct kv_engine_ops *const *engines);

#endif /* KV_REPLICA_H */
