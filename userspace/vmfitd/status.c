// SPDX-License-Identifier: GPL-2.0-only
/*
 * status.c - what the manager tells about itself: the status file (JSON,
 * rewritten every status_interval_ms), `vmfitd --status` that prints it,
 * the periodic stats line and the summaries of rate-limited warnings.
 * See Documentation/vmfitd.8.rst "Status".
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vf_ctlsock.h"
#include "vf_jflat.h"
#include "vf_json.h"
#include "vf_log.h"
#include "vmfitd.h"

#define STATS_LOG_MS		10000	/* period of the stats line */

static bool is_ready(const struct vmfitd *d)
{
	return d->lfd >= 0 && d->hello && vmfitd_available(d);
}

/*
 * A new temporary file next to @path, for write-then-rename: a fresh name
 * created with O_EXCL (mkostemp), so nothing planted in the directory (a
 * link at a predictable name) is ever followed or overwritten. Mode 0644:
 * the status is for everyone to read. The name goes to @tmp.
 */
static FILE *status_tmp(const char *path, char *tmp, size_t size)
{
	FILE *fp;
	int fd;

	snprintf(tmp, size, "%s.XXXXXX", path);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		vf_warn("status file %s: cannot create a temporary file: %s",
			path, strerror(errno));
		return NULL;
	}
	fp = fchmod(fd, 0644) < 0 ? NULL : fdopen(fd, "w");
	if (!fp) {
		vf_warn("status file %s: %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
	}
	return fp;
}

static void write_status(struct vmfitd *d)
{
	char tmp[VF_CONF_STR + 8];
	struct vf_voter_stats vs;
	unsigned int i;
	FILE *fp;
	int r;

	if (!d->conf.status_file[0])
		return;
	vf_voter_stats(d->voter, &vs);
	fp = status_tmp(d->conf.status_file, tmp, sizeof(tmp));
	if (!fp)
		return;
	/* Escaped although vf_conf limits the service's characters: the
	 * file stays valid JSON whatever the configuration allows later
	 * (vmfit-ctl manager refuses invalid status files). */
	fprintf(fp, "{\"pid\":%d,\"service\":", (int)getpid());
	vf_json_string(fp, d->conf.service);
	fprintf(fp, ",\"node_id\":%u,\"ready\":%d,"
		"\"synced\":%d,\"unreplicated\":%d,\"cpg_connected\":%d,"
		"\"members\":%u,\"f\":%u,",
		d->nodeid, is_ready(d),
		manager_in_sync(&d->mb), d->local, d->local || d->cpg_ok,
		d->members, d->conf.f);
	fprintf(fp, "\"primary\":%d,\"managers\":%u,\"managers_present\":%u,"
		"\"managers_synced\":%u,\"membership\":\"%s\",\"views\":%" PRIu64
		",\"rejected_msgs\":%" PRIu64 ",",
		membership_primary(&d->mb), d->mb.n, membership_count(&d->mb),
		membership_synced_count(&d->mb),
		mb_self_state(&d->mb) == MB_SYNCED ? "synced" :
		mb_self_state(&d->mb) == MB_FRESH ? "fresh" : "out",
		d->mb.views, d->mb.rejected);
	fprintf(fp, "\"orders_delivered\":%" PRIu64 ",\"dup_requests\":%" PRIu64
		",\"executed\":%" PRIu64 ",\"decided\":%" PRIu64
		",\"expired\":%" PRIu64 ",\"suspects\":%" PRIu64
		",\"votes_late\":%" PRIu64 ",\"votes_dropped\":%" PRIu64 ",",
		d->st.delivered, d->st.dup_requests, d->st.executed,
		vs.decided, vs.expired, vs.suspects, vs.late, vs.dropped);
	fprintf(fp, "\"checkpoints\":%" PRIu64 ",\"checkpoints_done\":%" PRIu64
		",\"checkpoints_failed\":%" PRIu64 ",\"checkpoints_pending\":%u"
		",\"last_checkpoint_order\":%" PRIu64
		",\"last_checkpoint_status\":%u,\"held_bytes\":%zu,",
		d->st.checkpoints, d->st.ckpt_done, d->st.ckpt_failed,
		d->ckpt_len, d->st.ckpt_last_order, d->st.ckpt_last_status,
		vf_wb_pending(&d->rhold));
	fprintf(fp, "\"clients\":%u,\"pending\":%u,\"cache_entries\":%u,"
		"\"cache_evictions\":%" PRIu64 ",\"replies\":%" PRIu64
		",\"cache_replies\":%" PRIu64 ",\"busy\":%" PRIu64
		",\"unavailable\":%" PRIu64 ",\"not_primary\":%" PRIu64
		",\"bad_frames\":%" PRIu64
		",\"stuck_closed\":%" PRIu64 ",\"conns_refused\":%" PRIu64
		",\"conns_evicted\":%" PRIu64 ",\"conns_timed_out\":%" PRIu64
		",\"conn_max\":%u,\"client_pauses\":%" PRIu64
		",\"paused\":%d,\"own_requests\":%" PRIu64
		",\"stale_refused\":%" PRIu64 ",",
		d->nconns, d->npending, vf_rcache_count(d->rc),
		vf_rcache_evictions(d->rc), d->st.replies,
		d->st.cache_replies, d->st.busy, d->st.unavailable,
		d->st.not_primary, d->st.bad_frames, d->st.stuck_closed,
		d->st.conns_refused, d->st.conns_evicted,
		d->st.conns_timed_out, d->conn_max, d->st.client_pauses,
		d->paused, d->own_reqs, d->st.stale_refused);
	fprintf(fp, "\"cpg_sent\":%" PRIu64 ",\"cpg_recv\":%" PRIu64
		",\"cpg_try_again\":%" PRIu64 ",\"request_msgs\":%" PRIu64
		",\"requests_sent\":%" PRIu64 ",\"avg_batch\":%.2f"
		",\"votes_sent\":%" PRIu64 ",\"sendq\":%u,",
		d->st.msgs_sent, d->st.msgs_recv, d->st.try_again,
		d->st.req_msgs_sent, d->st.reqs_sent,
		d->st.req_msgs_sent ?
		(double)d->st.reqs_sent / d->st.req_msgs_sent : 0.0,
		d->st.votes_sent, d->sendq_len);
	rcv_status(d, fp);
	fprintf(fp, "\"replica_pid\":%d,\"replica_domid\":%d,\"replica_ok\":%d,\"replica_hello_ms\":%ld,\"replica_created_ms\":%ld,\"suspect_nodes\":\"",
		d->rep.running ? (int)d->rep.pid : 0,
		d->rep.running ? d->rep.domid : -1,
		d->hello && !d->rep_failed, d->rep_hello_ms,
		d->rep.running ? d->rep.created_ms : -1);
	for (i = 0; i < SUSPECT_SLOTS; i++)
		if (d->suspects[i].count)
			fprintf(fp, "%s%u", i ? " " : "", d->suspects[i].node);
	fprintf(fp, "\"}\n");
	r = fclose(fp);
	/* rename() replaces whatever is at the path, a link included,
	 * without following it. */
	if (r || rename(tmp, d->conf.status_file)) {
		vf_warn("status file %s: %s", d->conf.status_file,
			strerror(errno));
		unlink(tmp);
	}
}

/*
 * vmfitd --status: the status file as key=value lines (strings unescaped),
 * read and validated by libvmfit's status reader like vmfit-ctl manager.
 */
int status_print(const struct vf_conf *c)
{
	char *buf, err[512];
	struct vf_jflat *j;
	unsigned int i;
	int64_t pid;
	int alive;

	if (!c->status_file[0]) {
		fprintf(stderr, "vmfitd: no status_file configured\n");
		return 1;
	}
	j = malloc(sizeof(*j));
	buf = malloc(VF_STATUS_MAX);
	if (!j || !buf) {
		fprintf(stderr, "vmfitd: out of memory\n");
		goto fail;
	}
	if (vf_status_read(c->status_file, j, buf, VF_STATUS_MAX, err,
			   sizeof(err))) {
		fprintf(stderr, "vmfitd: %s\n", err);
		goto fail;
	}
	alive = vf_jflat_i64(j, "pid", &pid) && pid > 0 && pid <= INT32_MAX &&
		kill((pid_t)pid, 0) == 0;
	for (i = 0; i < j->n; i++)
		printf("%s=%s\n", j->f[i].key,
		       !strcmp(j->f[i].key, "ready") && !alive ? "0" :
		       j->f[i].val);
	printf("alive=%d\n", alive);
	free(buf);
	free(j);
	return 0;
fail:
	free(buf);
	free(j);
	return 1;
}

static void log_stats(struct vmfitd *d)
{
	struct vf_voter_stats vs;

	vf_voter_stats(d->voter, &vs);
	vf_info("stats: delivered %" PRIu64 " executed %" PRIu64 " decided %" PRIu64
		" suspects %" PRIu64 " clients %u pending %u; cpg msgs sent %" PRIu64
		" recv %" PRIu64 ", avg batch %.1f requests",
		d->st.delivered, d->st.executed, vs.decided, vs.suspects,
		d->nconns, d->npending, d->st.msgs_sent, d->st.msgs_recv,
		d->st.req_msgs_sent ?
		(double)d->st.reqs_sent / d->st.req_msgs_sent : 0.0);
}

/* One line per period for what the rate limiters held back. */
static void log_summaries(struct vmfitd *d, uint64_t now, uint64_t *wake)
{
	char nodes[SUSPECT_SLOTS * 48] = "";
	const struct suspect *sp;
	unsigned int i;
	size_t len = 0;
	uint64_t n;

	n = vf_ratelimit_flush(&d->suspect_rl, now, wake);
	if (n) {
		for (i = 0; i < SUSPECT_SLOTS; i++) {
			sp = &d->suspects[i];
			if (!sp->count || len >= sizeof(nodes))
				continue;
			len += snprintf(nodes + len, sizeof(nodes) - len,
					"%snode %u: %" PRIu64 " up to order %" PRIu64,
					len ? ", " : "", sp->node, sp->count,
					sp->last_order);
		}
		vf_warn("suspected faulty replica: %" PRIu64 " more lost votes not logged one by one (totals: %s)",
			n, nodes);
	}
	n = vf_ratelimit_flush(&d->expire_rl, now, wake);
	if (n)
		vf_err("%" PRIu64 " more orders left the vote window undecided",
		       n);
	n = vf_ratelimit_flush(&d->conn_rl, now, wake);
	if (n)
		vf_warn("%" PRIu64 " more clients dropped for not reading their output",
			n);
	n = vf_ratelimit_flush(&d->refuse_rl, now, wake);
	if (n)
		vf_warn("%" PRIu64 " more client connections refused or evicted (totals: %" PRIu64 " refused, %" PRIu64 " evicted; %u open)",
			n, d->st.conns_refused, d->st.conns_evicted,
			d->nconns);
	n = vf_ratelimit_flush(&d->pause_rl, now, wake);
	if (n)
		vf_info("back-pressure: %" PRIu64 " more pauses of the clients (total %" PRIu64 ")",
			n, d->st.client_pauses);
	n = vf_ratelimit_flush(&d->tmo_rl, now, wake);
	if (n)
		vf_info("%" PRIu64 " more client connections timed out (total %" PRIu64 ")",
			n, d->st.conns_timed_out);
	n = vf_ratelimit_flush(&d->mb.reject_rl, now, wake);
	if (n)
		vf_warn("%" PRIu64 " more group messages rejected (total %" PRIu64 ")",
			n, d->mb.rejected);
}

/* Rewrite the status file and log what is due; lowers @wake accordingly. */
void status_tick(struct vmfitd *d, uint64_t now, uint64_t *wake)
{
	log_summaries(d, now, wake);
	if (now >= d->next_status_ms) {
		write_status(d);
		d->next_status_ms = now + d->conf.status_interval_ms;
	}
	if (now >= d->next_stats_log_ms) {
		if (d->next_stats_log_ms)
			log_stats(d);
		d->next_stats_log_ms = now + STATS_LOG_MS;
	}
	if (d->next_status_ms < *wake)
		*wake = d->next_status_ms;
}

/* At shutdown: no status file claims a manager that is gone. */
void status_remove(struct vmfitd *d)
{
	if (d->conf.status_file[0])
		unlink(d->conf.status_file);
}
