// SPDX-License-Identifier: GPL-2.0-only
/*
 * vf_conf.c - vmfitd configuration parser.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "vf_conf.h"
#include "vf_log.h"

void vf_conf_defaults(struct vf_conf *c)
{
	memset(c, 0, sizeof(*c));
	strcpy(c->service, "kv");
	c->f = 1;
	c->listen.sin_family = AF_INET;
	c->listen.sin_port = htons(7400);
	c->listen.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	strcpy(c->backend, "process");
	c->max_outstanding = 1024;
	c->max_clients = 4096;
	c->log_level = VF_LOG_INFO;
	c->status_interval_ms = 500;
	c->batch_max = 64;
	c->vote_window = 0;	/* auto */
	c->replica_lag_max = 0;	/* auto */
	c->checkpoint_timeout_ms = 30000;
	c->handshake_timeout_ms = 10000;
	c->idle_timeout_ms = 600000;
	c->max_conns_per_source = 1024;
	strcpy(c->replica_user, "nobody");
	c->replica_isolation = true;
	strcpy(c->volume_kind, "file");
	c->volume_chunk = 4096;
	c->recovery_timeout_ms = 60000;
	c->recovery_fetch_timeout_ms = 5000;
	c->recovery_nice = 10;
	c->recovery_log_max_mb = 64;
	c->recovery_local_ckpt = false;
	c->xen.memory_mb = 128;
	c->xen.vcpus = 1;
	c->xen.start_timeout_ms = 120000;
	c->xen.vchan_ring = 65536;
	strcpy(c->xen.extra, "console=hvc0 quiet");
}

int vf_parse_hostport(const char *s, struct sockaddr_in *sa)
{
	char host[64];
	const char *colon = strrchr(s, ':');
	unsigned int port;
	size_t hl;
	char dummy;

	if (!colon)
		return -EINVAL;
	hl = colon - s;
	if (hl == 0 || hl >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, hl);
	host[hl] = '\0';
	if (sscanf(colon + 1, "%u%c", &port, &dummy) != 1 || !port ||
	    port > 65535 || !isdigit((unsigned char)colon[1]))
		return -EINVAL;
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons(port);
	if (!strcmp(host, "*"))
		sa->sin_addr.s_addr = htonl(INADDR_ANY);
	else if (inet_pton(AF_INET, host, &sa->sin_addr) != 1)
		return -EINVAL;
	return 0;
}

/*----------------------------------------------------------------*/
/* Value parsers: each returns NULL or a message */

static const char *parse_uint(const char *v, unsigned int min,
			      unsigned int max, unsigned int *out)
{
	unsigned long x;
	char *end;

	if (!isdigit((unsigned char)*v))
		return "not a number";
	errno = 0;
	x = strtoul(v, &end, 10);
	if (*end)
		return "trailing junk after number";
	if (errno || x < min || x > max)
		return "number out of range";
	*out = x;
	return NULL;
}

static const char *parse_bool(const char *v, bool *out)
{
	if (!strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "1"))
		*out = true;
	else if (!strcmp(v, "no") || !strcmp(v, "false") || !strcmp(v, "0"))
		*out = false;
	else
		return "expected yes or no";
	return NULL;
}

static const char *parse_str(const char *v, char *out, size_t cap)
{
	if (strlen(v) >= cap)
		return "value too long";
	strcpy(out, v);
	return NULL;
}

bool vf_conf_is_manager(const struct vf_conf *c, unsigned int nodeid)
{
	unsigned int i;

	for (i = 0; i < c->nmanagers; i++)
		if (c->managers[i] == nodeid)
			return true;
	return false;
}

/* "1 2 3": distinct node ids, blank-separated. */
static const char *parse_managers(const char *v, struct vf_conf *c)
{
	char buf[VF_CONF_CMD], *tok, *save = NULL;
	const char *msg;
	unsigned int id;

	if (strlen(v) >= sizeof(buf))
		return "value too long";
	strcpy(buf, v);
	c->nmanagers = 0;
	for (tok = strtok_r(buf, " \t", &save); tok;
	     tok = strtok_r(NULL, " \t", &save)) {
		msg = parse_uint(tok, 1, ~0u, &id);
		if (msg)
			return msg;
		if (vf_conf_is_manager(c, id))
			return "a node id is listed twice";
		if (c->nmanagers == VF_CONF_MAX_MANAGERS)
			return "more than 2 * 3 + 1 = 7 node ids";
		c->managers[c->nmanagers++] = id;
	}
	return NULL;
}

enum key_id {
	K_SERVICE, K_F, K_NODE_ID, K_MANAGERS, K_LISTEN, K_PEER_LISTEN, K_BACKEND,
	K_REPLICA_CMD, K_STATE_VOLUME, K_STATE_DIR, K_MAX_OUTSTANDING,
	K_MAX_CLIENTS, K_CPG_GROUP, K_LOG_LEVEL, K_STATUS_FILE,
	K_STATUS_INTERVAL, K_UNREPLICATED, K_BATCH_MAX, K_VOTE_WINDOW,
	K_REPLICA_LAG_MAX, K_CONTROL_SOCKET, K_CHECKPOINT_TIMEOUT,
	K_HANDSHAKE_TIMEOUT, K_IDLE_TIMEOUT, K_MAX_CONNS_PER_SOURCE,
	K_REPLICA_USER, K_REPLICA_ISOLATION, K_LEGACY_CLIENTS,
	K_STATE_VOLUME_B, K_STATE_JOURNAL, K_STATE_JOURNAL_B, K_VOLUME_KIND,
	K_VOLUME_CHUNK, K_SHADOW_CMD,
	K_RCV_PERIOD, K_RCV_FULL_EVERY, K_RCV_TIMEOUT, K_RCV_FETCH_TIMEOUT,
	K_RCV_NICE, K_RCV_LOCAL_CKPT, K_RCV_LOG_MAX,
	K_TEST_FAULTS,
	K_XEN_KERNEL, K_XEN_RAMDISK, K_XEN_DIGEST, K_XEN_MEMORY, K_XEN_VCPUS,
	K_XEN_START_TIMEOUT, K_XEN_VCHAN_RING, K_XEN_PREFIX, K_XEN_EXTRA, K_NR,
};

static const char *const key_names[K_NR] = {
	[K_SERVICE] = "service",
	[K_F] = "f",
	[K_NODE_ID] = "node_id",
	[K_MANAGERS] = "managers",
	[K_LISTEN] = "listen",
	[K_PEER_LISTEN] = "peer_listen",
	[K_BACKEND] = "backend",
	[K_REPLICA_CMD] = "replica_cmd",
	[K_STATE_VOLUME] = "state_volume",
	[K_STATE_DIR] = "state_dir",
	[K_MAX_OUTSTANDING] = "max_outstanding",
	[K_MAX_CLIENTS] = "max_clients",
	[K_CPG_GROUP] = "cpg_group",
	[K_LOG_LEVEL] = "log_level",
	[K_STATUS_FILE] = "status_file",
	[K_STATUS_INTERVAL] = "status_interval_ms",
	[K_UNREPLICATED] = "unreplicated",
	[K_BATCH_MAX] = "batch_max",
	[K_VOTE_WINDOW] = "vote_window",
	[K_REPLICA_LAG_MAX] = "replica_lag_max",
	[K_CONTROL_SOCKET] = "control_socket",
	[K_CHECKPOINT_TIMEOUT] = "checkpoint_timeout_ms",
	[K_HANDSHAKE_TIMEOUT] = "handshake_timeout_ms",
	[K_IDLE_TIMEOUT] = "idle_timeout_ms",
	[K_MAX_CONNS_PER_SOURCE] = "max_conns_per_source",
	[K_REPLICA_USER] = "replica_user",
	[K_REPLICA_ISOLATION] = "replica_isolation",
	[K_LEGACY_CLIENTS] = "legacy_clients",
	[K_STATE_VOLUME_B] = "state_volume_b",
	[K_STATE_JOURNAL] = "state_journal",
	[K_STATE_JOURNAL_B] = "state_journal_b",
	[K_VOLUME_KIND] = "volume_kind",
	[K_VOLUME_CHUNK] = "volume_chunk",
	[K_SHADOW_CMD] = "shadow_cmd",
	[K_RCV_PERIOD] = "recovery_period_s",
	[K_RCV_FULL_EVERY] = "recovery_full_every",
	[K_RCV_TIMEOUT] = "recovery_timeout_ms",
	[K_RCV_FETCH_TIMEOUT] = "recovery_fetch_timeout_ms",
	[K_RCV_NICE] = "recovery_nice",
	[K_RCV_LOCAL_CKPT] = "recovery_local_checkpoint",
	[K_RCV_LOG_MAX] = "recovery_log_max_mb",
	[K_TEST_FAULTS] = "test_faults",
	[K_XEN_KERNEL] = "xen_kernel",
	[K_XEN_RAMDISK] = "xen_ramdisk",
	[K_XEN_DIGEST] = "xen_image_digest",
	[K_XEN_MEMORY] = "xen_memory_mb",
	[K_XEN_VCPUS] = "xen_vcpus",
	[K_XEN_START_TIMEOUT] = "xen_start_timeout_ms",
	[K_XEN_VCHAN_RING] = "xen_vchan_ring",
	[K_XEN_PREFIX] = "xen_domain_prefix",
	[K_XEN_EXTRA] = "xen_extra",
};

/* [A-Za-z0-9_.-]+ : service names and domain name prefixes */
static bool is_name(const char *v)
{
	const char *p;

	for (p = v; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("_.-", *p))
			return false;
	return *v;
}

static const char *set_key(struct vf_conf *c, enum key_id k, const char *v)
{
	const char *p;
	int lvl;

	switch (k) {
	case K_SERVICE:
		if (!is_name(v))
			return "service name may only contain A-Z a-z 0-9 _ . -";
		return parse_str(v, c->service, sizeof(c->service));
	case K_F:
		return parse_uint(v, 0, VF_CONF_MAX_F, &c->f);
	case K_NODE_ID:
		return parse_uint(v, 1, ~0u, &c->node_id);
	case K_MANAGERS:
		return parse_managers(v, c);
	case K_LISTEN:
		return vf_parse_hostport(v, &c->listen) ?
		       "expected IPv4:port (e.g. 10.99.0.11:7400 or *:7400)" :
		       NULL;
	case K_PEER_LISTEN:
		c->has_peer_listen = true;
		return vf_parse_hostport(v, &c->peer_listen) ?
		       "expected IPv4:port (e.g. 10.99.0.11:7500 or *:7500)" :
		       NULL;
	case K_BACKEND:
		if (strcmp(v, "process") && strcmp(v, "xen"))
			return "unknown backend (supported: process, xen)";
		return parse_str(v, c->backend, sizeof(c->backend));
	case K_REPLICA_CMD:
		if (!*v)
			return "empty replica command";
		return parse_str(v, c->replica_cmd, sizeof(c->replica_cmd));
	case K_STATE_VOLUME:
		if (*v != '/')
			return "state volume must be an absolute path";
		return parse_str(v, c->state_volume, sizeof(c->state_volume));
	case K_STATE_DIR:
		if (*v != '/')
			return "state directory must be an absolute path";
		if (strlen(v) + sizeof("/state.img") > sizeof(c->state_volume))
			return "value too long";
		snprintf(c->state_volume, sizeof(c->state_volume),
			 "%s/state.img", v);
		return NULL;
	case K_MAX_OUTSTANDING:
		return parse_uint(v, 1, 1u << 20, &c->max_outstanding);
	case K_MAX_CLIENTS:
		return parse_uint(v, 1, 1u << 24, &c->max_clients);
	case K_CPG_GROUP:
		/* corosync limits group names to 128 bytes */
		if (!*v || strlen(v) >= 128)
			return "group name must be 1..127 bytes";
		return parse_str(v, c->cpg_group, sizeof(c->cpg_group));
	case K_LOG_LEVEL:
		lvl = vf_log_parse_level(v);
		if (lvl < 0)
			return "unknown log level (err, warn, info, debug)";
		c->log_level = lvl;
		return NULL;
	case K_STATUS_FILE:
		if (*v != '/')
			return "status file must be an absolute path";
		return parse_str(v, c->status_file, sizeof(c->status_file));
	case K_STATUS_INTERVAL:
		return parse_uint(v, 50, 60000, &c->status_interval_ms);
	case K_UNREPLICATED:
		if (!strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "1"))
			c->unreplicated = true;
		else if (!strcmp(v, "no") || !strcmp(v, "false") ||
			 !strcmp(v, "0"))
			c->unreplicated = false;
		else
			return "expected yes or no";
		return NULL;
	case K_BATCH_MAX:
		return parse_uint(v, 1, 1024, &c->batch_max);
	case K_VOTE_WINDOW:
		return parse_uint(v, 16, 1u << 20, &c->vote_window);
	case K_REPLICA_LAG_MAX:
		return parse_uint(v, 16, 1u << 20, &c->replica_lag_max);
	case K_CONTROL_SOCKET:
		if (*v != '/')
			return "control socket must be an absolute path";
		/* sun_path holds 108 bytes with the NUL */
		if (strlen(v) > 107)
			return "control socket path longer than 107 bytes";
		return parse_str(v, c->control_socket,
				 sizeof(c->control_socket));
	case K_CHECKPOINT_TIMEOUT:
		return parse_uint(v, 100, 3600000, &c->checkpoint_timeout_ms);
	case K_HANDSHAKE_TIMEOUT:
		return parse_uint(v, 100, 3600000, &c->handshake_timeout_ms);
	case K_IDLE_TIMEOUT:
		/* 0: never */
		if (!strcmp(v, "0")) {
			c->idle_timeout_ms = 0;
			return NULL;
		}
		return parse_uint(v, 1000, 86400000, &c->idle_timeout_ms);
	case K_MAX_CONNS_PER_SOURCE:
		return parse_uint(v, 1, 1u << 20, &c->max_conns_per_source);
	case K_REPLICA_USER:
		for (p = v; *p; p++)
			if (!isalnum((unsigned char)*p) && !strchr("_.-", *p))
				return "user name may only contain A-Z a-z 0-9 _ . -";
		if (!strcmp(v, "root") || !strcmp(v, "0"))
			return "the replica is untrusted: it may not run as root";
		return parse_str(v, c->replica_user, sizeof(c->replica_user));
	case K_REPLICA_ISOLATION:
		return parse_bool(v, &c->replica_isolation);
	case K_LEGACY_CLIENTS:
		return parse_bool(v, &c->legacy_clients);
	case K_TEST_FAULTS:
		return parse_bool(v, &c->test_faults);
	case K_STATE_VOLUME_B:
		if (*v != '/')
			return "state volume must be an absolute path";
		return parse_str(v, c->state_volume_b,
				 sizeof(c->state_volume_b));
	case K_STATE_JOURNAL:
	case K_STATE_JOURNAL_B:
		if (*v != '/')
			return "state journal must be an absolute path";
		return parse_str(v, c->state_journal[k == K_STATE_JOURNAL_B],
				 sizeof(c->state_journal[0]));
	case K_VOLUME_KIND:
		if (strcmp(v, "file") && strcmp(v, "vmfit"))
			return "expected file or vmfit";
		return parse_str(v, c->volume_kind, sizeof(c->volume_kind));
	case K_VOLUME_CHUNK:
		p = parse_uint(v, 512, 256 << 10, &c->volume_chunk);
		if (!p && (c->volume_chunk & (c->volume_chunk - 1)))
			p = "not a power of two";
		return p;
	case K_SHADOW_CMD:
		return parse_str(v, c->shadow_cmd, sizeof(c->shadow_cmd));
	case K_RCV_PERIOD:
		return parse_uint(v, 0, 86400 * 365, &c->recovery_period_s);
	case K_RCV_FULL_EVERY:
		return parse_uint(v, 0, 1000000, &c->recovery_full_every);
	case K_RCV_TIMEOUT:
		return parse_uint(v, 1000, 3600000, &c->recovery_timeout_ms);
	case K_RCV_FETCH_TIMEOUT:
		return parse_uint(v, 100, 600000,
				  &c->recovery_fetch_timeout_ms);
	case K_RCV_NICE:
		return parse_uint(v, 0, 19, &c->recovery_nice);
	case K_RCV_LOCAL_CKPT:
		return parse_bool(v, &c->recovery_local_ckpt);
	case K_RCV_LOG_MAX:
		return parse_uint(v, 1, 4096, &c->recovery_log_max_mb);
	case K_XEN_KERNEL:
		if (*v != '/')
			return "kernel must be an absolute path";
		return parse_str(v, c->xen.kernel, sizeof(c->xen.kernel));
	case K_XEN_RAMDISK:
		if (*v != '/')
			return "ramdisk must be an absolute path";
		return parse_str(v, c->xen.ramdisk, sizeof(c->xen.ramdisk));
	case K_XEN_DIGEST:
		if (strlen(v) != VF_CONF_DIGEST_HEX ||
		    strspn(v, "0123456789abcdef") != VF_CONF_DIGEST_HEX)
			return "expected 64 lower-case hex digits (SHA-256)";
		return parse_str(v, c->xen.digest, sizeof(c->xen.digest));
	case K_XEN_MEMORY:
		return parse_uint(v, 32, 65536, &c->xen.memory_mb);
	case K_XEN_VCPUS:
		return parse_uint(v, 1, 64, &c->xen.vcpus);
	case K_XEN_START_TIMEOUT:
		return parse_uint(v, 1000, 3600000, &c->xen.start_timeout_ms);
	case K_XEN_VCHAN_RING:
		/* libxenvchan rings: 1 KiB .. 2 MiB per direction */
		return parse_uint(v, 1024, 2u << 20, &c->xen.vchan_ring);
	case K_XEN_PREFIX:
		if (!is_name(v))
			return "domain prefix may only contain A-Z a-z 0-9 _ . -";
		/* room for "-N" in Xen's 64-byte domain names */
		if (strlen(v) > 48)
			return "domain prefix longer than 48 bytes";
		return parse_str(v, c->xen.domain_prefix,
				 sizeof(c->xen.domain_prefix));
	case K_XEN_EXTRA:
		if (strstr(v, "--"))
			return "must not contain '--' (the replica command follows it)";
		return parse_str(v, c->xen.extra, sizeof(c->xen.extra));
	case K_NR:
		break;
	}
	return "internal error";
}

static void errf(char *err, size_t errlen, const char *name, unsigned int line,
		 const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static void errf(char *err, size_t errlen, const char *name, unsigned int line,
		 const char *fmt, ...)
{
	va_list ap;
	int n;

	n = line ? snprintf(err, errlen, "%s:%u: ", name, line) :
		   snprintf(err, errlen, "%s: ", name);
	if (n < 0 || (size_t)n >= errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err + n, errlen - n, fmt, ap);
	va_end(ap);
}

static char *strip(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' ||
			 e[-1] == '\r'))
		*--e = '\0';
	return s;
}

int vf_conf_parse(struct vf_conf *c, const char *name, FILE *fp, char *err,
		  size_t errlen)
{
	bool seen[K_NR] = { false };
	char buf[VF_CONF_CMD + 128];
	unsigned int line = 0;
	const char *msg;
	char *s, *eq, *key, *val;
	int k;

	while (fgets(buf, sizeof(buf), fp)) {
		line++;
		if (!strchr(buf, '\n') && !feof(fp)) {
			errf(err, errlen, name, line, "line too long");
			return -EINVAL;
		}
		if (memchr(buf, '\0', strlen(buf) + 1) != buf + strlen(buf)) {
			errf(err, errlen, name, line, "NUL byte in line");
			return -EINVAL;
		}
		s = strip(buf);
		if (!*s || *s == '#')
			continue;
		eq = strchr(s, '=');
		if (!eq) {
			errf(err, errlen, name, line,
			     "expected 'key = value', got '%s'", s);
			return -EINVAL;
		}
		*eq = '\0';
		key = strip(s);
		val = strip(eq + 1);
		for (k = 0; k < K_NR; k++)
			if (!strcmp(key, key_names[k]))
				break;
		if (k == K_NR) {
			errf(err, errlen, name, line, "unknown key '%s'", key);
			return -EINVAL;
		}
		if (seen[k] || (k == K_STATE_DIR && seen[K_STATE_VOLUME]) ||
		    (k == K_STATE_VOLUME && seen[K_STATE_DIR])) {
			errf(err, errlen, name, line,
			     "'%s' given twice (or with state_%s)", key,
			     k == K_STATE_DIR ? "volume" : "dir");
			return -EINVAL;
		}
		seen[k] = true;
		if (!*val) {
			errf(err, errlen, name, line, "empty value for '%s'",
			     key);
			return -EINVAL;
		}
		msg = set_key(c, k, val);
		if (msg) {
			errf(err, errlen, name, line, "%s: %s: '%s'", key, msg,
			     val);
			return -EINVAL;
		}
	}
	if (ferror(fp)) {
		errf(err, errlen, name, 0, "read error");
		return -EIO;
	}
	return 0;
}

/*
 * state_journal(_b): each pairs with its volume (A, B), both or neither
 * when there is a B (the journals swap with the volumes' roles), and no
 * journal is a state volume or the other journal.
 */
static int journal_check(const struct vf_conf *c, const char *name,
			 char *err, size_t errlen)
{
	const char *vol[2] = { c->state_volume, c->state_volume_b };
	static const char *const key[2] = { "state_journal",
					    "state_journal_b" };
	unsigned int i, j;

	for (i = 0; i < 2; i++) {
		if (!c->state_journal[i][0])
			continue;
		if (!vol[i][0]) {
			errf(err, errlen, name, 0, "'%s' needs '%s'", key[i],
			     i ? "state_volume_b" :
			     "state_volume' (or 'state_dir')");
			return -EINVAL;
		}
		for (j = 0; j < 2; j++) {
			if (!strcmp(c->state_journal[i], vol[j])) {
				errf(err, errlen, name, 0,
				     "'%s' is a state volume; the journal needs a file or device of its own",
				     key[i]);
				return -EINVAL;
			}
		}
	}
	if (c->state_volume_b[0] &&
	    !c->state_journal[0][0] != !c->state_journal[1][0]) {
		errf(err, errlen, name, 0,
		     "'state_journal' and 'state_journal_b' go together (the journals swap with the volumes)");
		return -EINVAL;
	}
	if (c->state_journal[0][0] &&
	    !strcmp(c->state_journal[0], c->state_journal[1])) {
		errf(err, errlen, name, 0,
		     "'state_journal_b' must differ from 'state_journal'");
		return -EINVAL;
	}
	return 0;
}

int vf_conf_finish(struct vf_conf *c, const char *name, char *err,
		   size_t errlen)
{
	unsigned int inflight;

	if (!c->replica_cmd[0]) {
		errf(err, errlen, name, 0, "'replica_cmd' is required");
		return -EINVAL;
	}
	if (c->unreplicated)
		c->f = 0;
	/*
	 * The primary component is a majority of exactly these managers,
	 * and votes count only from them: never guess the list.
	 */
	if (!c->unreplicated && c->nmanagers != 2 * c->f + 1) {
		if (!c->nmanagers)
			errf(err, errlen, name, 0,
			     "'managers' is required: the corosync node ids of the 2f+1 = %u managers",
			     2 * c->f + 1);
		else
			errf(err, errlen, name, 0,
			     "'managers' lists %u node ids; f = %u needs 2f+1 = %u",
			     c->nmanagers, c->f, 2 * c->f + 1);
		return -EINVAL;
	}
	if (!c->unreplicated && c->node_id &&
	    !vf_conf_is_manager(c, c->node_id)) {
		errf(err, errlen, name, 0,
		     "node_id %u is not in 'managers'", c->node_id);
		return -EINVAL;
	}
	if (!c->cpg_group[0]) {
		if (strlen(c->service) + sizeof("vmfit-") > 128) {
			errf(err, errlen, name, 0, "service name too long");
			return -EINVAL;
		}
		snprintf(c->cpg_group, sizeof(c->cpg_group), "vmfit-%s",
			 c->service);
	}
	if (c->state_volume_b[0] && !c->state_volume[0]) {
		errf(err, errlen, name, 0,
		     "'state_volume_b' needs 'state_volume' (or 'state_dir')");
		return -EINVAL;
	}
	if (c->state_volume_b[0] &&
	    !strcmp(c->state_volume_b, c->state_volume)) {
		errf(err, errlen, name, 0,
		     "'state_volume_b' must differ from 'state_volume'");
		return -EINVAL;
	}
	if (journal_check(c, name, err, errlen))
		return -EINVAL;
	if (c->recovery_period_s && !c->state_volume_b[0]) {
		errf(err, errlen, name, 0,
		     "'recovery_period_s' needs 'state_volume_b'");
		return -EINVAL;
	}
	if (c->state_volume_b[0] && !c->unreplicated && !c->has_peer_listen) {
		errf(err, errlen, name, 0,
		     "recovery ('state_volume_b') needs 'peer_listen'");
		return -EINVAL;
	}
	if (!strcmp(c->volume_kind, "vmfit") &&
	    ((c->state_volume[0] &&
	      strncmp(c->state_volume, "/dev/mapper/", 12)) ||
	     (c->state_volume_b[0] &&
	      strncmp(c->state_volume_b, "/dev/mapper/", 12)))) {
		errf(err, errlen, name, 0,
		     "volume_kind vmfit: the state volumes must be /dev/mapper/<name>");
		return -EINVAL;
	}
	if (!strcmp(c->backend, "xen")) {
		if (!c->xen.kernel[0] || !c->xen.ramdisk[0] ||
		    !c->xen.digest[0]) {
			errf(err, errlen, name, 0,
			     "backend xen needs 'xen_kernel', 'xen_ramdisk' and 'xen_image_digest'");
			return -EINVAL;
		}
		if (!c->state_volume[0]) {
			errf(err, errlen, name, 0,
			     "backend xen needs 'state_volume' (a block device)");
			return -EINVAL;
		}
	}
	if (!strcmp(c->backend, "xen") && !c->xen.domain_prefix[0]) {
		if (strlen(c->service) > 48 - sizeof("vmfit-") + 1) {
			errf(err, errlen, name, 0,
			     "service name too long for a domain prefix; set 'xen_domain_prefix'");
			return -EINVAL;
		}
		snprintf(c->xen.domain_prefix, sizeof(c->xen.domain_prefix),
			 "vmfit-%.42s", c->service);
	}
	if (!c->control_socket[0])
		snprintf(c->control_socket, sizeof(c->control_socket),
			 VF_CONF_CONTROL_DIR "/%s.ctl", c->service);
	/*
	 * Every manager may have max_outstanding requests in the group.
	 * Back-pressure stops reading clients when the replica owes half of
	 * replica_lag_max results, so what all managers have in flight must
	 * fit in the other half: then load alone never makes a replica lag
	 * past replica_lag_max. And a replica that is not faulty votes on an
	 * order before replica_lag_max + that much more is delivered, so the
	 * vote window must hold that many orders: an order then leaves it
	 * undecided only when more than f replicas failed on it.
	 */
	inflight = (2 * c->f + 1) * c->max_outstanding;
	if (!c->replica_lag_max)
		c->replica_lag_max = 2 * inflight < 8192 ? 8192 : 2 * inflight;
	if (c->replica_lag_max < 2 * inflight) {
		errf(err, errlen, name, 0,
		     "replica_lag_max (%u) must be >= 2 * (2f+1) * max_outstanding (%u): clients are paused when the replica owes half of it, and every manager may have max_outstanding requests in flight",
		     c->replica_lag_max, 2 * inflight);
		return -EINVAL;
	}
	if (!c->vote_window)
		c->vote_window = c->replica_lag_max + inflight;
	if (c->vote_window < c->replica_lag_max + inflight) {
		errf(err, errlen, name, 0,
		     "vote_window (%u) must be >= replica_lag_max + (2f+1) * max_outstanding (%u): an order must not leave the vote window while a replica that is not faulty may still vote on it",
		     c->vote_window, c->replica_lag_max + inflight);
		return -EINVAL;
	}
	return 0;
}

int vf_conf_load(struct vf_conf *c, const char *path, char *err,
		 size_t errlen)
{
	FILE *fp = fopen(path, "r");
	int r;

	if (!fp) {
		r = -errno;
		errf(err, errlen, path, 0, "%s", strerror(-r));
		return r;
	}
	r = vf_conf_parse(c, path, fp, err, errlen);
	fclose(fp);
	if (!r)
		r = vf_conf_finish(c, path, err, errlen);
	return r;
}
