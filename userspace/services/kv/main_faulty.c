// SPDX-License-Identifier: GPL-2.0-only
/*
 * kv-faulty: a kv replica that misbehaves on purpose (--fault), for tests.
 * Only this binary is built with KV_FAULT_INJECTION; kv-hash and kv-sqlite
 * contain no fault code at all.
 */
#ifndef KV_FAULT_INJECTION
#error "main_faulty.c must be built with -DKV_FAULT_INJECTION"
#endif
#include "kv_replica.h"

int main(int argc, char **argv)
{
	static const struct kv_engine_ops *const engines[] = {
		&kv_hash_ops, &kv_sqlite_ops, NULL
	};

	return kv_replica_main(argc, argv, engines);
}
