// SPDX-License-Identifier: GPL-2.0-only
/* kv-sqlite: the kv replica over the SQLite engine. */
#include "kv_replica.h"

int main(int argc, char **argv)
{
	static const struct kv_engine_ops *const engines[] = {
		&kv_sqlite_ops, NULL
	};

	return kv_replica_main(argc, argv, engines);
}
