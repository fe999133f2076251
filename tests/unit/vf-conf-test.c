// SPDX-License-Identifier: GPL-2.0-only
/* vf-conf-test - the vmfitd.conf parser: good files and every bad line. */
#include <errno.h>
#include <string.h>
#include <arpa/inet.h>

#include "vf_backend.h"
#include "vf_conf.h"
#include "vf_log.h"
#include "vf_check.h"

static int parse(const char *text, struct vf_conf *c, char *err)
{
	FILE *fp = fmemopen((void *)text, strlen(text), "r");
	int r;

	vf_conf_defaults(c);
	err[0] = '\0';
	r = vf_conf_parse(c, "t.conf", fp, err, 256);
	fclose(fp);
	if (!r)
		r = vf_conf_finish(c, "t.conf", err, 256);
	return r;
}

/* Each bad line must fail, naming the file and the line. */
static void bad(const char *line, const char *expect)
{
	char text[2048], err[256];
	struct vf_conf c;

	snprintf(text, sizeof(text), "replica_cmd = /bin/true\n%s\n", line);
	if (parse(text, &c, err) != -EINVAL || !strstr(err, "t.conf:2: ") ||
	    !strstr(err, expect)) {
		fprintf(stderr, "line '%s': got '%s', expected '%s'\n", line,
			err, expect);
		vf_check_failed++;
	}
}

int main(void)
{
	static const char good[] =
		"# comment\n"
		"\n"
		"  service = kv_1.a-b  \n"
		"f = 2\n"
		"node_id = 3\n"
		"managers = 1 2\t3 4  5\n"
		"listen = 10.99.0.11:7400\n"
		"peer_listen = *:7500\n"
		"backend = process\n"
		"replica_cmd = /usr/bin/kv-hash --records 1000 --record-size 128\n"
		"state_volume = /var/lib/vmfit/kv.img\n"
		"max_outstanding = 100\n"
		"max_clients = 50\n"
		"log_level = debug\n"
		"status_file = /run/vmfitd.status\n"
		"status_interval_ms = 100\n"
		"unreplicated = no\n"
		"batch_max = 8\n"
		"replica_lag_max = 1000\n"
		"control_socket = /run/vmfit/x.ctl\n"
		"checkpoint_timeout_ms = 5000\n"
		"handshake_timeout_ms = 2000\n"
		"idle_timeout_ms = 0\n"
		"max_conns_per_source = 16\n";
	char err[256], cmdbuf[256], *argv[8], longv[2000];
	struct vf_conf c;

	CHECK_EQ(parse(good, &c, err), 0);
	CHECK(!strcmp(c.service, "kv_1.a-b"));
	CHECK_EQ(c.f, 2);
	CHECK_EQ(c.node_id, 3);
	CHECK_EQ(c.nmanagers, 5);
	CHECK(c.managers[0] == 1 && c.managers[2] == 3 && c.managers[4] == 5);
	CHECK(vf_conf_is_manager(&c, 4) && !vf_conf_is_manager(&c, 6));
	CHECK_EQ(ntohs(c.listen.sin_port), 7400);
	CHECK_EQ(ntohl(c.listen.sin_addr.s_addr), 0x0a63000b);
	CHECK(c.has_peer_listen && c.peer_listen.sin_addr.s_addr == INADDR_ANY);
	CHECK(!strcmp(c.state_volume, "/var/lib/vmfit/kv.img"));
	CHECK_EQ(c.max_outstanding, 100);
	CHECK_EQ(c.max_clients, 50);
	CHECK_EQ(c.log_level, VF_LOG_DEBUG);
	CHECK(!strcmp(c.cpg_group, "vmfit-kv_1.a-b"));	/* derived */
	CHECK_EQ(c.replica_lag_max, 1000);
	CHECK_EQ(c.vote_window, 1000 + 5 * 100);	/* auto */
	CHECK_EQ(c.batch_max, 8);
	CHECK(!strcmp(c.control_socket, "/run/vmfit/x.ctl"));
	CHECK_EQ(c.checkpoint_timeout_ms, 5000);
	CHECK_EQ(c.handshake_timeout_ms, 2000);
	CHECK_EQ(c.idle_timeout_ms, 0);
	CHECK_EQ(c.max_conns_per_source, 16);
	CHECK(!c.unreplicated);
	CHECK_EQ(vf_split_cmd(c.replica_cmd, cmdbuf, sizeof(cmdbuf), argv, 8),
		 5);
	CHECK(!strcmp(argv[0], "/usr/bin/kv-hash") && !strcmp(argv[4], "128"));
	CHECK_EQ(vf_split_cmd("a b c d e f g h i", cmdbuf, sizeof(cmdbuf),
			      argv, 8), -E2BIG);
	CHECK_EQ(vf_split_cmd("   ", cmdbuf, sizeof(cmdbuf), argv, 8), -EINVAL);

	/* state_dir gives <dir>/state.img; unreplicated forces f = 0 */
	CHECK_EQ(parse("replica_cmd = x\nstate_dir = /s\nunreplicated = yes\n"
		       "cpg_group = g\n", &c, err), 0);
	CHECK(!strcmp(c.state_volume, "/s/state.img"));
	CHECK(c.unreplicated && c.f == 0 && !strcmp(c.cpg_group, "g"));
	/* control_socket defaults to /run/vmfit/<service>.ctl */
	CHECK(!strcmp(c.control_socket, "/run/vmfit/kv.ctl"));
	CHECK_EQ(c.checkpoint_timeout_ms, 30000);
	/* f = 0 here: 8192 at least, window lag + 1 x 1024 */
	CHECK_EQ(c.replica_lag_max, 8192);
	CHECK_EQ(c.vote_window, 8192 + 1024);
	CHECK_EQ(c.handshake_timeout_ms, 10000);
	CHECK_EQ(c.idle_timeout_ms, 600000);
	CHECK_EQ(c.max_conns_per_source, 1024);
	CHECK(!strcmp(c.replica_user, "nobody") && c.replica_isolation);
	CHECK(!c.legacy_clients);

	/* missing replica_cmd; window too small for the bound */
	CHECK_EQ(parse("f = 1\n", &c, err), -EINVAL);
	CHECK(strstr(err, "replica_cmd") != NULL);
	CHECK_EQ(parse("replica_cmd = x\nmax_outstanding = 2000\n"
		       "managers = 1 2 3\nvote_window = 4000\n", &c, err),
		 -EINVAL);
	CHECK(strstr(err, "vote_window") != NULL);
	/* the window must cover what a correct replica may owe */
	CHECK_EQ(parse("replica_cmd = x\nmanagers = 1 2 3\nreplica_lag_max = 8192\n"
		       "vote_window = 8192\n", &c, err), -EINVAL);
	CHECK(strstr(err, "vote_window (8192) must be >= replica_lag_max") != NULL);
	/* the lag bound must hold what all managers may have in flight */
	CHECK_EQ(parse("replica_cmd = x\nmanagers = 1 2 3\nmax_outstanding = 2000\n"
		       "replica_lag_max = 8192\n", &c, err), -EINVAL);
	CHECK(strstr(err, "replica_lag_max (8192) must be >=") != NULL);
	/* derived from max_outstanding when not given */
	CHECK_EQ(parse("replica_cmd = x\nmanagers = 1 2 3\n"
		       "max_outstanding = 2000\n", &c, err), 0);
	CHECK_EQ(c.replica_lag_max, 12000);
	CHECK_EQ(c.vote_window, 18000);

	/* managers: required, exactly 2f+1, holding node_id */
	CHECK_EQ(parse("replica_cmd = x\n", &c, err), -EINVAL);
	CHECK(strstr(err, "'managers' is required") != NULL);
	CHECK_EQ(parse("replica_cmd = x\nmanagers = 1 2\n", &c, err), -EINVAL);
	CHECK(strstr(err, "lists 2 node ids; f = 1 needs 2f+1 = 3") != NULL);
	CHECK_EQ(parse("replica_cmd = x\nf = 0\nmanagers = 7\n", &c, err), 0);
	CHECK_EQ(parse("replica_cmd = x\nnode_id = 4\nmanagers = 1 2 3\n", &c,
		       err), -EINVAL);
	CHECK(strstr(err, "node_id 4 is not in 'managers'") != NULL);

	bad("nonsense", "expected 'key = value'");
	bad("colour = blue", "unknown key 'colour'");
	bad("f =", "empty value for 'f'");
	bad("f = x", "not a number");
	bad("f = 1x", "trailing junk");
	bad("f = -1", "not a number");
	bad("f = 4", "out of range");
	bad("node_id = 0", "out of range");
	bad("node_id = 99999999999", "out of range");
	bad("managers = 1 2 x", "not a number");
	bad("managers = 1 0 2", "out of range");
	bad("managers = 1 2 1", "listed twice");
	bad("managers = 1 2 3 4 5 6 7 8", "more than");
	bad("listen = 10.99.0.1", "expected IPv4:port");
	bad("listen = 10.99.0.1:0", "expected IPv4:port");
	bad("listen = 10.99.0.1:65536", "expected IPv4:port");
	bad("listen = 10.99.0.1:80x", "expected IPv4:port");
	bad("listen = host.example:80", "expected IPv4:port");
	bad("listen = :80", "expected IPv4:port");
	bad("peer_listen = 1.2.3.4:+5", "expected IPv4:port");
	bad("backend = kvm", "unknown backend");
	bad("service = a b", "service name may only");
	bad("state_volume = rel/path", "absolute path");
	bad("state_dir = rel", "absolute path");
	bad("status_file = rel", "absolute path");
	bad("max_outstanding = 0", "out of range");
	bad("max_clients = 0", "out of range");
	bad("log_level = loud", "unknown log level");
	bad("unreplicated = maybe", "expected yes or no");
	bad("batch_max = 0", "out of range");
	bad("status_interval_ms = 10", "out of range");
	bad("vote_window = 1", "out of range");
	bad("replica_lag_max = 2", "out of range");
	bad("replica_cmd = again", "given twice");
	bad("control_socket = run/x.ctl", "absolute path");
	bad("control_socket = /aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	    "longer than 107");
	bad("checkpoint_timeout_ms = 99", "out of range");
	bad("checkpoint_timeout_ms = 3600001", "out of range");
	bad("handshake_timeout_ms = 99", "out of range");
	bad("idle_timeout_ms = 999", "out of range");
	bad("max_conns_per_source = 0", "out of range");
	bad("replica_user = root", "may not run as root");
	bad("replica_user = a/b", "user name may only contain");
	bad("replica_isolation = maybe", "expected yes or no");
	bad("legacy_clients = sometimes", "expected yes or no");
	memset(longv, 'a', sizeof(longv) - 1);
	longv[sizeof(longv) - 1] = '\0';
	memcpy(longv, "service = ", 10);
	bad(longv, "line too long");
	memcpy(longv, "cpg_group= ", 11);
	longv[200] = '\0';
	bad(longv, "group name");

	/* recovery keys: defaults, values, and every bad one */
	CHECK_EQ(parse("replica_cmd = x\nunreplicated = yes\n", &c, err), 0);
	CHECK(!c.state_volume_b[0] && !strcmp(c.volume_kind, "file"));
	CHECK(c.volume_chunk == 4096 && c.recovery_period_s == 0 &&
	      c.recovery_full_every == 0 && c.recovery_timeout_ms == 60000 &&
	      c.recovery_fetch_timeout_ms == 5000 && !c.shadow_cmd[0] &&
	      c.recovery_nice == 10 && !c.recovery_local_ckpt &&
	      c.recovery_log_max_mb == 64);
	CHECK(!c.test_faults);	/* VMFITD_TEST_FAULT ignored by default */
	CHECK_EQ(parse("replica_cmd = x\nstate_volume = /a\nmanagers = 1 2 3\n"
		       "state_volume_b = /b\npeer_listen = 1.2.3.4:7500\n"
		       "volume_chunk = 65536\nshadow_cmd = y --z\n"
		       "recovery_period_s = 60\nrecovery_full_every = 10\n"
		       "recovery_timeout_ms = 1000\n"
		       "recovery_fetch_timeout_ms = 100\n"
		       "recovery_nice = 0\n"
		       "recovery_log_max_mb = 256\n"
		       "recovery_local_checkpoint = yes\n"
		       "test_faults = yes\n", &c, err), 0);
	CHECK(!strcmp(c.state_volume_b, "/b") && c.volume_chunk == 65536 &&
	      !strcmp(c.shadow_cmd, "y --z") && c.recovery_period_s == 60 &&
	      c.recovery_full_every == 10 && c.recovery_timeout_ms == 1000 &&
	      c.recovery_fetch_timeout_ms == 100 && c.test_faults &&
	      c.recovery_nice == 0 && c.recovery_local_ckpt &&
	      c.recovery_log_max_mb == 256);
	CHECK_EQ(parse("replica_cmd = x\nvolume_kind = vmfit\n"
		       "state_volume = /dev/mapper/a\n"
		       "state_volume_b = /dev/mapper/b\nunreplicated = yes\n",
		       &c, err), 0);
	bad("state_volume_b = rel", "absolute path");
	bad("volume_kind = lvm", "expected file or vmfit");
	bad("volume_chunk = 4000", "not a power of two");
	bad("volume_chunk = 256", "out of range");
	bad("volume_chunk = 524288", "out of range");
	bad("recovery_period_s = x", "not a number");
	bad("recovery_timeout_ms = 999", "out of range");
	bad("recovery_fetch_timeout_ms = 99", "out of range");
	bad("recovery_nice = 20", "out of range");
	bad("recovery_nice = -1", "not a number");
	bad("recovery_log_max_mb = 0", "out of range");
	bad("recovery_log_max_mb = 4097", "out of range");
	bad("test_faults = maybe", "expected yes or no");
	bad("recovery_local_checkpoint = 1x", "expected yes or no");
	bad("recovery_full_every = 1000001", "out of range");
	/* cross-key checks */
	CHECK_EQ(parse("replica_cmd = x\nstate_volume_b = /b\n"
		       "unreplicated = yes\n", &c, err), -EINVAL);
	CHECK(strstr(err, "needs 'state_volume'") != NULL);
	CHECK_EQ(parse("replica_cmd = x\nstate_volume = /b\n"
		       "state_volume_b = /b\nunreplicated = yes\n", &c, err),
		 -EINVAL);
	CHECK(strstr(err, "must differ") != NULL);
	CHECK_EQ(parse("replica_cmd = x\nstate_volume = /a\n"
		       "managers = 1 2 3\nstate_volume_b = /b\n", &c, err),
		 -EINVAL);
	CHECK(strstr(err, "needs 'peer_listen'") != NULL);
	CHECK_EQ(parse("replica_cmd = x\nrecovery_period_s = 5\n"
		       "unreplicated = yes\n", &c, err), -EINVAL);
	CHECK(strstr(err, "needs 'state_volume_b'") != NULL);
	CHECK_EQ(parse("replica_cmd = x\nvolume_kind = vmfit\n"
		       "state_volume = /a\nstate_volume_b = /dev/mapper/b\n"
		       "unreplicated = yes\n", &c, err), -EINVAL);
	CHECK(strstr(err, "/dev/mapper/<name>") != NULL);
	/* journals: default in the volume; pair with A and B; bad ones */
	CHECK(!c.state_journal[0][0] && !c.state_journal[1][0]);
	CHECK_EQ(parse("replica_cmd = x\nstate_volume = /a\n"
		       "state_volume_b = /b\nstate_journal = /ja\n"
		       "state_journal_b = /jb\nunreplicated = yes\n", &c,
		       err), 0);
	CHECK(!strcmp(c.state_journal[0], "/ja") &&
	      !strcmp(c.state_journal[1], "/jb"));
	bad("state_journal = rel", "absolute path");
	bad("state_journal_b = rel/j", "absolute path");
#define JBAD(text, want)						\
	do {								\
		CHECK_EQ(parse("replica_cmd = x\nunreplicated = yes\n"	\
			       text, &c, err), -EINVAL);		\
		if (!strstr(err, want))					\
			fprintf(stderr, "%s: got '%s'\n", text, err);	\
		CHECK(strstr(err, want) != NULL);			\
	} while (0)
	JBAD("state_volume = /a\nstate_journal = /a\n", "is a state volume");
	JBAD("state_volume = /a\nstate_volume_b = /b\nstate_journal = /b\n"
	     "state_journal_b = /j\n", "'state_journal' is a state volume");
	JBAD("state_volume = /a\nstate_volume_b = /b\nstate_journal = /j\n"
	     "state_journal_b = /a\n", "'state_journal_b' is a state volume");
	JBAD("state_volume = /a\nstate_volume_b = /b\nstate_journal = /j\n"
	     "state_journal_b = /j\n", "must differ");
	JBAD("state_volume = /a\nstate_volume_b = /b\nstate_journal = /j\n",
	     "go together");
	JBAD("state_journal = /j\n", "needs 'state_volume'");
	JBAD("state_volume = /a\nstate_journal_b = /j\n",
	     "needs 'state_volume_b'");
#undef JBAD
	/* xen backend keys */
	bad("xen_kernel = vmlinux", "absolute path");
	bad("xen_ramdisk = x.cpio", "absolute path");
	bad("xen_image_digest = 1234", "64 lower-case hex");
	bad("xen_image_digest = 5DBF07380002DAC7EA45CBD3495072D42660AC02DFD8AC02ADA87E04596638DF",
	    "64 lower-case hex");
	bad("xen_memory_mb = 16", "out of range");
	bad("xen_vcpus = 0", "out of range");
	bad("xen_start_timeout_ms = 999", "out of range");
	bad("xen_vchan_ring = 100", "out of range");
	bad("xen_domain_prefix = a/b", "domain prefix may only");
	bad("xen_extra = console=hvc0 -- x", "must not contain '--'");
	CHECK_EQ(parse("replica_cmd = kv-hash\nbackend = xen\nunreplicated = yes\n"
		       "state_volume = /dev/mapper/v\n", &c, err), -EINVAL);
	CHECK(strstr(err, "xen_image_digest") != NULL);
	CHECK_EQ(parse("replica_cmd = kv-hash\nbackend = xen\nunreplicated = yes\n"
		       "xen_kernel = /k\nxen_ramdisk = /r\n"
		       "xen_image_digest = 5dbf07380002dac7ea45cbd3495072d42660ac02dfd8ac02ada87e04596638df\n",
		       &c, err), -EINVAL);
	CHECK(strstr(err, "state_volume") != NULL);
	CHECK_EQ(parse("replica_cmd = kv-hash --records 8\nbackend = xen\nunreplicated = yes\n"
		       "service = s1\nstate_volume = /dev/mapper/v\n"
		       "xen_kernel = /k\nxen_ramdisk = /r\nxen_vcpus = 2\n"
		       "xen_image_digest = 5dbf07380002dac7ea45cbd3495072d42660ac02dfd8ac02ada87e04596638df\n",
		       &c, err), 0);
	CHECK(!strcmp(c.backend, "xen"));
	CHECK(!strcmp(c.xen.domain_prefix, "vmfit-s1"));
	CHECK_EQ(c.xen.vcpus, 2u);
	CHECK_EQ(c.xen.memory_mb, 128u);

	/* state_dir and state_volume exclude each other */
	CHECK_EQ(parse("replica_cmd = x\nstate_dir = /a\nstate_volume = /b\n",
		       &c, err), -EINVAL);
	CHECK(strstr(err, "t.conf:3: ") != NULL);

	/* a missing file names the file */
	vf_conf_defaults(&c);
	CHECK_EQ(vf_conf_load(&c, "/nonexistent/vmfitd.conf", err, 256),
		 -ENOENT);
	CHECK(strstr(err, "/nonexistent/vmfitd.conf") != NULL);
	return vf_check_done("vf-conf-test");
}
