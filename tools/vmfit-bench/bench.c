// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmfit-bench - client emulator for vmfit's replicated key-value service.
 *
 * N clients (default 500), each with its own session (a random key whose
 * hash is its client_id, client protocol version 3) and at most
 * one outstanding request, speak the client protocol
 * (Documentation/protocol.rst, codec userspace/lib/vf_proto.h) to a list of
 * managers, with kv operations (userspace/services/kv/kv_op.h) as the op
 * bytes. One epoll loop drives every connection. Each client starts on
 * server (index % nservers) and fails over to the next one on a lost
 * connection, a time-out or an UNAVAILABLE or NOT_PRIMARY reply, re-sending the same
 * (client_id, seq).
 *
 * Throughput is counted in 10 ms buckets, latency in a histogram with
 * < 1 % relative error (stats.h). Output: a progress line per second on
 * stderr, a summary on stdout (text, or JSON with --json), and with
 * --out PREFIX the files PREFIX.csv (timeline), PREFIX.json (summary) and
 * PREFIX.png (gnuplot); --timeline / --per-second write the timeline
 * (tlfile.h) where asked. The summary has the longest interval without a
 * completed request, over the run and over --window; --analyze computes
 * the same from a timeline file afterwards.
 *
 * --verify: single writer per record (workload.h), every GET reply is
 * compared with the value of the last acknowledged PUT of that record.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "vf_json.h"
#include "vf_proto.h"
#include "vf_session.h"
#include "../../userspace/services/kv/kv_op.h"
#include "junk.h"
#include "stats.h"
#include "tlfile.h"
#include "workload.h"

#define PROG "vmfit-bench"

/*----------------------------------------------------------------*/
/* Configuration */

struct server {
	char *spec;			/* "host:port" as given */
	struct sockaddr_storage addr;
	socklen_t alen;
};

struct config {
	unsigned int clients;
	struct server *servers;
	unsigned int nservers;
	double duration;		/* seconds; used when requests == 0 */
	uint64_t requests;		/* total requests to complete, 0: duration */
	double write_ratio;
	uint32_t records;
	uint32_t key_offset;		/* keys are key_offset + 0 .. records-1 */
	uint32_t record_size;
	unsigned int timeout_ms;
	unsigned int bucket_ms;
	bool verify;
	bool sweep;			/* read every record once, then stop */
	bool fill;			/* write every record once, then stop */
	bool json;
	bool quiet;
	uint64_t seed;
	const char *out;		/* output prefix */
	const char *timeline;		/* --timeline FILE */
	const char *per_second;		/* --per-second FILE */
	const char *analyze;		/* --analyze FILE */
	bool window;			/* --window given */
	double win_from, win_to;	/* seconds since the start */
	const char *label;
	unsigned int idle;		/* --idle: junk connections */
	unsigned int stalled;		/* --stalled */
	const char *junk_from;		/* their source address */
};

/*----------------------------------------------------------------*/
/* Clients */

enum cstate {
	C_DOWN,		/* not connected; (re)connect at t_retry */
	C_CONNECTING,	/* non-blocking connect in progress */
	C_UP,		/* connected */
	C_DONE,		/* finished: no more requests */
};

struct client {
	unsigned int idx;
	enum cstate st;
	int fd;
	unsigned int server;		/* index into cfg.servers */
	unsigned int fails;		/* consecutive losses without a reply */
	uint64_t id;			/* client_id: of the session key */
	uint8_t skey[VF_SESSION_KEY_LEN]; /* session key (protocol version 3) */
	uint64_t seq;			/* seq of the current request */
	bool inflight;			/* current request not answered yet */
	bool sent;			/* current request written on this conn */
	uint8_t opcode;			/* KV_OP_GET / KV_OP_PUT */
	uint32_t key;
	uint64_t ver;			/* PUT: version written */
	uint64_t t_first;		/* first send of the current request */
	uint64_t t_sent;		/* last (re)send or connect start */
	uint64_t t_retry;		/* C_DOWN: reconnect; busy: resend */
	bool busy_wait;			/* resend at t_retry after BUSY */
	uint64_t rng;
	uint64_t *vers;			/* --verify: acked version per owned record */
	uint32_t nowned;
	uint32_t swept;			/* --sweep/--fill: owned records done */
	struct vf_wbuf out;
	uint8_t *in;
	size_t in_len;
	size_t in_cap;
	bool want_out;			/* EPOLLOUT registered */
};

struct counters {
	uint64_t ops;			/* completed requests */
	uint64_t reads;
	uint64_t writes;
	uint64_t not_found;		/* GET of a record nobody wrote yet */
	uint64_t busy;			/* BUSY replies (request resent) */
	uint64_t unavailable;		/* UNAVAILABLE replies */
	uint64_t not_primary;		/* NOT_PRIMARY replies */
	uint64_t errors;		/* ERROR frames received */
	uint64_t timeouts;
	uint64_t conn_lost;		/* connections lost or refused */
	uint64_t failovers;		/* switches to another server */
	uint64_t bad_replies;		/* protocol violations by the server */
	uint64_t kv_errors;		/* kv status other than OK / NOT_FOUND */
	uint64_t checked;		/* --verify: GET replies compared */
	uint64_t mismatches;		/* --verify: wrong answers */
};

static struct config cfg = {
	.clients = 500,
	.duration = 10.0,
	.write_ratio = 0.5,
	.records = 1000,
	.record_size = 128,
	.timeout_ms = 5000,
	.bucket_ms = 10,
};

static struct client *clients;
static struct counters cnt;
static struct hist lat;			/* whole run */
static struct hist lat_sec;		/* since the last progress line */
static struct timeline tl;
static int epfd = -1;
static uint64_t t0;			/* start of the measurement (us) */
static struct timespec t0_real;		/* the same moment, CLOCK_REALTIME */
static uint64_t t_end;			/* end of the measurement (us) */
static uint64_t issued;			/* requests started */
static bool stopping;			/* no new requests */
static unsigned int connected;
static uint8_t *valbuf;			/* scratch: value of record_size */
static struct sockaddr_storage *junk_addrs;	/* the servers, for junk.c */
static socklen_t *junk_alens;
static uint8_t *opbuf;			/* scratch: encoded kv op */
static volatile sig_atomic_t got_signal;
static unsigned int complaints;		/* diagnostics printed so far */

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Diagnostics are rate-limited: the first 20, then one per 1000. */
__attribute__((format(printf, 1, 2)))
static void complain(const char *fmt, ...)
{
	va_list ap;

	complaints++;
	if (complaints > 20 && complaints % 1000)
		return;
	va_start(ap, fmt);
	fprintf(stderr, PROG ": ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static void on_signal(int sig)
{
	got_signal = sig;
}

/*----------------------------------------------------------------*/
/* Requests */

/* Choose the next operation of @c; false when the client is finished. */
static bool next_op(struct client *c)
{
	bool put;
	uint32_t k = 0;

	if (stopping)
		return false;
	if (cfg.requests && issued >= cfg.requests)
		return false;
	if (cfg.sweep || cfg.fill) {
		if (c->swept >= c->nowned)
			return false;
		c->key = wl_owned_record(cfg.clients, c->idx, c->swept++);
		c->opcode = cfg.fill ? KV_OP_PUT : KV_OP_GET;
		c->ver = 1;
		goto out;
	}
	put = (double)(wl_rand(&c->rng) >> 11) / 9007199254740992.0 <
	      cfg.write_ratio;
	if (cfg.verify) {
		k = (uint32_t)(wl_rand(&c->rng) % c->nowned);
		c->key = wl_owned_record(cfg.clients, c->idx, k);
		/* A record this client never wrote has no known value. */
		if (!c->vers[k])
			put = true;
	} else {
		c->key = (uint32_t)(wl_rand(&c->rng) % cfg.records);
	}
	c->opcode = put ? KV_OP_PUT : KV_OP_GET;
	if (put)
		c->ver = cfg.verify ? c->vers[k] + 1 : c->seq + 1;
out:
	c->seq++;
	c->inflight = true;
	c->sent = false;
	c->t_first = 0;
	issued++;
	return true;
}

/* Append the current request of @c to its output buffer. */
static int queue_request(struct client *c)
{
	struct vf_request rq;
	int n;

	if (c->opcode == KV_OP_PUT) {
		wl_value(valbuf, cfg.record_size, c->key, c->ver, c->id);
		n = kv_req_encode(opbuf, KV_MAX_OP, KV_OP_PUT,
				  cfg.key_offset + c->key, valbuf,
				  cfg.record_size);
	} else {
		n = kv_req_encode(opbuf, KV_MAX_OP, KV_OP_GET,
				  cfg.key_offset + c->key, NULL, 0);
	}
	if (n < 0)
		return n;
	rq.client_id = c->id;
	rq.seq = c->seq;
	rq.op_len = (uint32_t)n;
	rq.op = opbuf;
	rq.key = c->skey;
	return vf_request_encode(&c->out, &rq);
}

/*----------------------------------------------------------------*/
/* Connections */

static void set_events(struct client *c, bool want_out)
{
	struct epoll_event ev = {
		.events = EPOLLIN | EPOLLRDHUP | (want_out ? EPOLLOUT : 0),
		.data.ptr = c,
	};

	if (c->want_out == want_out)
		return;
	c->want_out = want_out;
	epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

static void close_conn(struct client *c)
{
	if (c->fd >= 0) {
		epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
		c->fd = -1;
	}
	if (c->st == C_UP)
		connected--;
	vf_wb_reset(&c->out);
	c->in_len = 0;
	c->want_out = false;
	c->sent = false;
	c->busy_wait = false;
}

/*
 * The connection of @c is lost (or useless): move to the next server. The
 * outstanding request, if any, stays and is re-sent with the same seq.
 */
static void lose_conn(struct client *c, uint64_t now)
{
	unsigned int extra;

	close_conn(c);
	cnt.conn_lost++;
	if (t0 && now >= t0)
		timeline_add(&tl, now - t0, 1);
	c->fails++;
	if (cfg.nservers > 1) {
		c->server = (c->server + 1) % cfg.nservers;
		cnt.failovers++;
	}
	/* Try every server once at once, then back off up to 0.5 s. */
	extra = c->fails > cfg.nservers ? c->fails - cfg.nservers : 0;
	c->t_retry = now + (extra > 25 ? 500000 : extra * 20000ull);
	c->st = stopping && !c->inflight ? C_DONE : C_DOWN;
}

static int flush_out(struct client *c)
{
	ssize_t w = vf_wb_send(c->fd, &c->out, SIZE_MAX);

	if (w < 0)
		return (int)w;
	set_events(c, vf_wb_pending(&c->out) != 0);
	return 0;
}

/* Send the current request of @c (first time or again). */
static int send_request(struct client *c, uint64_t now)
{
	int r;

	r = queue_request(c);
	if (r)
		return r;
	if (!c->t_first)
		c->t_first = now;
	c->t_sent = now;
	c->sent = true;
	c->busy_wait = false;
	return flush_out(c);
}

/* Start the next request of @c, or finish it. */
static void advance(struct client *c, uint64_t now)
{
	if (!next_op(c)) {
		c->st = C_DONE;
		close_conn(c);
		return;
	}
	if (send_request(c, now))
		lose_conn(c, now);
}

static void start_connect(struct client *c, uint64_t now)
{
	struct server *s = &cfg.servers[c->server];
	struct epoll_event ev = { .events = EPOLLOUT, .data.ptr = c };
	int one = 1;

	c->fd = socket(s->addr.ss_family,
		       SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		complain("socket: %s", strerror(errno));
		lose_conn(c, now);
		return;
	}
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->st = C_CONNECTING;
	c->t_sent = now;
	if (connect(c->fd, (struct sockaddr *)&s->addr, s->alen) &&
	    errno != EINPROGRESS) {
		lose_conn(c, now);
		return;
	}
	c->want_out = true;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev)) {
		complain("epoll_ctl: %s", strerror(errno));
		lose_conn(c, now);
	}
}

static void connected_now(struct client *c, uint64_t now)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) || err) {
		lose_conn(c, now);
		return;
	}
	c->st = C_UP;
	connected++;
	set_events(c, false);	/* EPOLLOUT -> EPOLLIN */
	if (c->inflight) {
		if (send_request(c, now))
			lose_conn(c, now);
	} else {
		advance(c, now);
	}
}

/*----------------------------------------------------------------*/
/* Replies */

static void check_get(struct client *c, const struct kv_reply *kr)
{
	uint32_t k = (c->key - c->idx) / cfg.clients;
	uint64_t ver = c->vers[k];

	cnt.checked++;
	if (kr->status != KV_OK || kr->val_len != cfg.record_size) {
		cnt.mismatches++;
		complain("verify: client %u record %u: expected version %" PRIu64
			 " (%u bytes), got status %s with %u bytes",
			 c->idx, c->key, ver, cfg.record_size,
			 kv_status_name(kr->status), kr->val_len);
		return;
	}
	wl_value(valbuf, cfg.record_size, c->key, ver, c->id);
	if (memcmp(valbuf, kr->val, cfg.record_size)) {
		cnt.mismatches++;
		complain("verify: client %u record %u: value differs from version %" PRIu64,
			 c->idx, c->key, ver);
	}
}

/* Handle one complete REPLY of @c. Returns -1 if the connection is bad. */
static int on_reply(struct client *c, const struct vf_reply *rp, uint64_t now)
{
	struct kv_reply kr;

	if (rp->client_id != c->id || rp->seq > c->seq) {
		cnt.bad_replies++;
		complain("client %u: reply for (%016" PRIx64 ", %" PRIu64
			 "), expected (%016" PRIx64 ", %" PRIu64 ") from %s",
			 c->idx, rp->client_id, rp->seq, c->id, c->seq,
			 cfg.servers[c->server].spec);
		return -1;
	}
	if (rp->seq < c->seq || !c->inflight)
		return 0;	/* a late duplicate of an answered request */
	switch (rp->status) {
	case VF_ST_OK:
		break;
	case VF_ST_BUSY:
		cnt.busy++;
		c->busy_wait = true;
		c->sent = false;
		c->t_retry = now + 5000 + wl_rand(&c->rng) % 10000;
		return 0;
	case VF_ST_UNAVAILABLE:
		cnt.unavailable++;
		return -1;
	case VF_ST_NOT_PRIMARY:
		cnt.not_primary++;
		return -1;
	default:
		cnt.bad_replies++;
		complain("client %u: reply status %u from %s", c->idx,
			 rp->status, cfg.servers[c->server].spec);
		return -1;
	}
	if (kv_reply_decode(rp->data, rp->len, &kr)) {
		cnt.bad_replies++;
		complain("client %u: malformed kv reply (%u bytes) from %s",
			 c->idx, rp->len, cfg.servers[c->server].spec);
		return -1;
	}
	if (c->opcode == KV_OP_PUT) {
		cnt.writes++;
		if (kr.status != KV_OK) {
			cnt.kv_errors++;
			complain("client %u: PUT record %u: %s", c->idx, c->key,
				 kv_status_name(kr.status));
		} else if (cfg.verify) {
			c->vers[(c->key - c->idx) / cfg.clients] = c->ver;
		}
	} else {
		cnt.reads++;
		if (cfg.verify)
			check_get(c, &kr);
		else if (kr.status == KV_NOT_FOUND)
			cnt.not_found++;
		else if (kr.status != KV_OK)
			cnt.kv_errors++;
	}
	cnt.ops++;
	hist_add(&lat, now - c->t_first);
	hist_add(&lat_sec, now - c->t_first);
	if (now >= t0)
		timeline_add(&tl, now - t0, 0);
	c->inflight = false;
	c->fails = 0;
	advance(c, now);
	return 0;
}

static int on_frame(struct client *c, const struct vf_hdr *h,
		    const uint8_t *p, uint64_t now)
{
	struct vf_reply rp;
	struct vf_error er;
	int r;

	switch (h->type) {
	case VF_C_REPLY:
		r = vf_reply_decode(p, h->len, &rp);
		if (r) {
			cnt.bad_replies++;
			complain("client %u: bad REPLY from %s: %s", c->idx,
				 cfg.servers[c->server].spec, vf_strerror(r));
			return -1;
		}
		return on_reply(c, &rp, now);
	case VF_C_ERROR:
		cnt.errors++;
		if (vf_error_decode(p, h->len, &er))
			complain("client %u: malformed ERROR from %s", c->idx,
				 cfg.servers[c->server].spec);
		else
			complain("client %u: ERROR %u from %s: %.*s", c->idx,
				 er.code, cfg.servers[c->server].spec,
				 (int)er.msg_len, er.msg);
		return -1;
	default:
		cnt.bad_replies++;
		complain("client %u: unexpected frame type %u from %s", c->idx,
			 h->type, cfg.servers[c->server].spec);
		return -1;
	}
}

static void on_readable(struct client *c, uint64_t now)
{
	struct vf_hdr h;
	size_t need, cap;
	ssize_t n;
	long fr;
	uint8_t *p;

	for (;;) {
		if (c->in_len == c->in_cap) {
			cap = c->in_cap * 2;
			if (cap > VF_HDR_LEN + VF_MAX_PAYLOAD)
				cap = VF_HDR_LEN + VF_MAX_PAYLOAD;
			p = realloc(c->in, cap);
			if (!p) {
				complain("out of memory");
				lose_conn(c, now);
				return;
			}
			c->in = p;
			c->in_cap = cap;
		}
		n = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			lose_conn(c, now);
			return;
		}
		c->in_len += (size_t)n;
		/* Consume every complete frame. */
		for (;;) {
			fr = vf_frame_peek(c->in, c->in_len, VF_MAGIC_CLIENT, &h);
			if (fr < 0) {
				cnt.bad_replies++;
				complain("client %u: bad frame from %s: %s", c->idx,
					 cfg.servers[c->server].spec,
					 vf_strerror((int)fr));
				lose_conn(c, now);
				return;
			}
			if (!fr) {
				need = c->in_len < VF_HDR_LEN ? VF_HDR_LEN :
				       VF_HDR_LEN + h.len;
				if (need > c->in_cap) {
					p = realloc(c->in, need);
					if (!p) {
						lose_conn(c, now);
						return;
					}
					c->in = p;
					c->in_cap = need;
				}
				break;
			}
			if (on_frame(c, &h, c->in + VF_HDR_LEN, now)) {
				lose_conn(c, now);
				return;
			}
			if (c->fd < 0)
				return;	/* finished */
			memmove(c->in, c->in + fr, c->in_len - (size_t)fr);
			c->in_len -= (size_t)fr;
		}
	}
}

static void on_event(struct client *c, uint32_t events, uint64_t now)
{
	if (c->st == C_CONNECTING) {
		connected_now(c, now);
		return;
	}
	if (c->st != C_UP)
		return;
	if (events & EPOLLIN) {
		on_readable(c, now);
		if (c->st != C_UP)
			return;
	}
	if (events & (EPOLLERR | EPOLLHUP)) {
		lose_conn(c, now);
		return;
	}
	if (events & EPOLLOUT && flush_out(c))
		lose_conn(c, now);
}

/* Timers: time-outs, reconnects, BUSY resends. */
static void on_tick(uint64_t now)
{
	uint64_t limit = (uint64_t)cfg.timeout_ms * 1000u;
	struct client *c;
	unsigned int i;

	for (i = 0; i < cfg.clients; i++) {
		c = &clients[i];
		switch (c->st) {
		case C_DOWN:
			if (stopping && !c->inflight) {
				c->st = C_DONE;
				break;
			}
			if (now >= c->t_retry)
				start_connect(c, now);
			break;
		case C_CONNECTING:
			if (now - c->t_sent > limit) {
				cnt.timeouts++;
				lose_conn(c, now);
			}
			break;
		case C_UP:
			if (c->busy_wait && now >= c->t_retry) {
				if (send_request(c, now))
					lose_conn(c, now);
			} else if (c->inflight && c->sent &&
				   now - c->t_sent > limit) {
				cnt.timeouts++;
				complain("client %u: no reply to seq %" PRIu64
					 " from %s in %u ms, failing over",
					 c->idx, c->seq,
					 cfg.servers[c->server].spec,
					 cfg.timeout_ms);
				lose_conn(c, now);
			} else if (!c->inflight && !stopping) {
				advance(c, now);
			} else if (!c->inflight) {
				c->st = C_DONE;
				close_conn(c);
			}
			break;
		case C_DONE:
			break;
		}
	}
}

/*----------------------------------------------------------------*/
/* Output */

static void progress(uint64_t now, uint64_t *last_ops)
{
	double t = (double)(now - t0) / 1e6;

	fprintf(stderr,
		"[%5.1fs] %8" PRIu64 " ops %7" PRIu64 " ops/s  p50 %.2f ms  p99 %.2f ms"
		"  conn %u/%u  lost %" PRIu64 "  timeouts %" PRIu64 "%s\n",
		t, cnt.ops, cnt.ops - *last_ops,
		(double)hist_percentile(&lat_sec, 50) / 1000.0,
		(double)hist_percentile(&lat_sec, 99) / 1000.0,
		connected, cfg.clients, cnt.conn_lost, cnt.timeouts,
		cfg.verify ? (cnt.mismatches ? "  VERIFY MISMATCH" : "  verify ok") : "");
	*last_ops = cnt.ops;
	hist_init(&lat_sec);
}

static double measured_secs(void)
{
	return (double)(t_end - t0) / 1e6;
}

static double throughput(void)
{
	size_t full = (size_t)((t_end - t0) / tl.width_us);
	double secs = (double)full * (double)tl.width_us / 1e6;

	/* Completions inside the measurement window, in whole buckets. */
	if (secs <= 0)
		return 0;
	return (double)timeline_sum(&tl, 0, full) / secs;
}

/* Write the timeline to @path with @fn (tl_write_csv, tl_write_seconds). */
static int write_timeline(const char *path,
			  int (*fn)(const struct timeline *, FILE *,
				    const char *))
{
	FILE *f;
	int r;

	f = fopen(path, "w");
	if (!f)
		return -errno;
	r = fn(&tl, f, cfg.label);
	if (fclose(f) && !r)
		r = -errno;
	return r;
}

static uint64_t win_us(double s)
{
	return (uint64_t)llround(s * 1e6);
}

/*
 * The longest gap of @t (over [from, to) us) as JSON members with
 * @prefix: <prefix>gap_ms, <prefix>gap_at_s, <prefix>gap_at_end; null
 * when there is none.
 */
static void json_gap(FILE *f, const struct timeline *t, const char *prefix,
		     uint64_t from, uint64_t to)
{
	struct tl_gap g;

	if (timeline_gap(t, from, to, &g)) {
		fprintf(f, "  \"%sgap_ms\": null,\n  \"%sgap_at_s\": null,\n"
			"  \"%sgap_at_end\": false,\n", prefix, prefix, prefix);
		return;
	}
	fprintf(f, "  \"%sgap_ms\": %.3f,\n  \"%sgap_at_s\": %.6f,\n"
		"  \"%sgap_at_end\": %s,\n", prefix, (double)g.len_us / 1000.0,
		prefix, (double)g.start_us / 1e6, prefix,
		g.at_end ? "true" : "false");
}

/* Window members of the JSON summaries (--window). */
static void json_window(FILE *f, const struct timeline *t)
{
	double secs, rate;

	if (!cfg.window)
		return;
	rate = timeline_rate(t, win_us(cfg.win_from), win_us(cfg.win_to),
			     &secs);
	fprintf(f, "  \"window_from_s\": %.3f,\n  \"window_to_s\": %.3f,\n"
		"  \"window_measured_s\": %.3f,\n"
		"  \"window_throughput_ops_s\": %.1f,\n", cfg.win_from,
		cfg.win_to, secs, rate);
	json_gap(f, t, "window_", win_us(cfg.win_from), win_us(cfg.win_to));
}

static void write_json(FILE *f, const char *csv, const char *png)
{
	struct junk_stats js;
	unsigned int i;

	fprintf(f, "{\n  \"tool\": \"vmfit-bench\",\n  \"label\": ");
	vf_json_string(f, cfg.label ? cfg.label : "");
	fprintf(f, ",\n  \"servers\": [");
	for (i = 0; i < cfg.nservers; i++) {
		fprintf(f, "%s", i ? ", " : "");
		vf_json_string(f, cfg.servers[i].spec);
	}
	fprintf(f, "],\n  \"key_offset\": %u,", cfg.key_offset);
	fprintf(f, "\n  \"clients\": %u,\n  \"records\": %u,\n"
		"  \"record_size\": %u,\n  \"write_ratio\": %.3f,\n"
		"  \"verify\": %s,\n  \"duration_s\": %.3f,\n"
		"  \"bucket_ms\": %u,\n",
		cfg.clients, cfg.records, cfg.record_size, cfg.write_ratio,
		cfg.verify ? "true" : "false", measured_secs(), cfg.bucket_ms);
	fprintf(f, "  \"ops\": %" PRIu64 ",\n  \"reads\": %" PRIu64
		",\n  \"writes\": %" PRIu64 ",\n  \"throughput_ops_s\": %.1f,\n",
		cnt.ops, cnt.reads, cnt.writes, throughput());
	fprintf(f, "  \"latency_us\": {\"mean\": %.1f, \"p50\": %" PRIu64
		", \"p90\": %" PRIu64 ", \"p99\": %" PRIu64 ", \"max\": %" PRIu64
		"},\n", hist_mean(&lat), hist_percentile(&lat, 50),
		hist_percentile(&lat, 90), hist_percentile(&lat, 99), lat.max);
	fprintf(f, "  \"not_found\": %" PRIu64 ",\n  \"busy\": %" PRIu64
		",\n  \"unavailable\": %" PRIu64 ",\n  \"not_primary\": %" PRIu64
		",\n  \"errors\": %" PRIu64
		",\n  \"timeouts\": %" PRIu64 ",\n  \"conn_lost\": %" PRIu64
		",\n  \"failovers\": %" PRIu64 ",\n  \"bad_replies\": %" PRIu64
		",\n  \"kv_errors\": %" PRIu64 ",\n  \"unfinished\": %" PRIu64
		",\n",
		cnt.not_found, cnt.busy, cnt.unavailable, cnt.not_primary,
		cnt.errors,
		cnt.timeouts, cnt.conn_lost, cnt.failovers, cnt.bad_replies,
		cnt.kv_errors, issued - cnt.ops);
	junk_get(&js);
	fprintf(f, "  \"idle\": %u,\n  \"stalled\": %u,\n  \"junk_opened\": %"
		PRIu64 ",\n  \"junk_failed\": %" PRIu64 ",\n  \"junk_closed\": %"
		PRIu64 ",\n  \"junk_open\": %u,\n", cfg.idle, cfg.stalled,
		js.opened, js.failed, js.closed, js.open);
	fprintf(f, "  \"start_unix_s\": %lld.%06ld,\n"
		"  \"timeline_ops\": %" PRIu64 ",\n",
		(long long)t0_real.tv_sec, t0_real.tv_nsec / 1000,
		timeline_sum(&tl, 0, timeline_buckets(&tl)));
	json_gap(f, &tl, "longest_", 0, UINT64_MAX);
	json_window(f, &tl);
	fprintf(f, "  \"verify_checked\": %" PRIu64 ",\n  \"verify_mismatches\": %"
		PRIu64 ",\n  \"timeline_csv\": ", cnt.checked, cnt.mismatches);
	vf_json_string(f, csv);
	fputs(",\n  \"plot\": ", f);
	vf_json_string(f, png);
	fputs("\n}\n", f);
}

static void print_gap(FILE *f, const struct timeline *t, const char *what,
		      uint64_t from, uint64_t to)
{
	struct tl_gap g;

	if (timeline_gap(t, from, to, &g))
		fprintf(f, "%s: none (no completion)\n", what);
	else
		fprintf(f, "%s: %.1f ms from %.3f s%s\n", what,
			(double)g.len_us / 1000.0, (double)g.start_us / 1e6,
			g.at_end ? " to the end" : "");
}

static void print_window(FILE *f, const struct timeline *t)
{
	double secs, rate;
	char what[128];

	rate = timeline_rate(t, win_us(cfg.win_from), win_us(cfg.win_to),
			     &secs);
	fprintf(f, "window %.3f-%.3f s: %.0f ops/s over %.2f s\n", cfg.win_from,
		cfg.win_to, rate, secs);
	snprintf(what, sizeof(what), "window %.3f-%.3f s: longest interval "
		 "without a completion", cfg.win_from, cfg.win_to);
	print_gap(f, t, what, win_us(cfg.win_from), win_us(cfg.win_to));
}

static void print_text(FILE *f, const char *csv, const char *png)
{
	fprintf(f, "%s%s%u clients, %.1f s: %" PRIu64 " ops (%" PRIu64
		" reads, %" PRIu64 " writes), %.0f ops/s\n",
		cfg.label ? cfg.label : "", cfg.label ? ": " : "", cfg.clients,
		measured_secs(), cnt.ops, cnt.reads, cnt.writes, throughput());
	fprintf(f, "latency ms: mean %.2f  p50 %.2f  p90 %.2f  p99 %.2f  max %.2f\n",
		hist_mean(&lat) / 1000.0,
		(double)hist_percentile(&lat, 50) / 1000.0,
		(double)hist_percentile(&lat, 90) / 1000.0,
		(double)hist_percentile(&lat, 99) / 1000.0,
		(double)lat.max / 1000.0);
	fprintf(f, "lost connections %" PRIu64 ", failovers %" PRIu64
		", timeouts %" PRIu64 ", busy %" PRIu64 ", errors %" PRIu64
		", bad replies %" PRIu64 ", unfinished %" PRIu64 "\n",
		cnt.conn_lost, cnt.failovers, cnt.timeouts, cnt.busy, cnt.errors,
		cnt.bad_replies, issued - cnt.ops);
	if (cfg.verify)
		fprintf(f, "verify: %" PRIu64 " reads checked, %" PRIu64
			" mismatches\n", cnt.checked, cnt.mismatches);
	print_gap(f, &tl, "longest interval without a completion", 0,
		  UINT64_MAX);
	if (cfg.window)
		print_window(f, &tl);
	if (csv)
		fprintf(f, "timeline: %s\n", csv);
	if (png)
		fprintf(f, "plot: %s\n", png);
}

/*
 * Draw the timelines @csv[0..n) (labels @labels) into @png with gnuplot:
 * throughput per bucket, smoothed over 10 buckets. Returns 0 or -1.
 */
static int plot(const char *png, char *const *csv, char *const *labels,
		int n, double bucket_ms)
{
	static const char *const colors[] = {
		"9400d3", "009e73", "0072b2", "e69f00",
	};
	char script[] = "/tmp/vmfit-bench-plot.XXXXXX";
	FILE *f;
	pid_t pid;
	int fd, st, i, devnull;

	fd = mkstemp(script);
	if (fd < 0)
		return -1;
	f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		unlink(script);
		return -1;
	}
	fprintf(f, "set terminal pngcairo size 1200,500 noenhanced\n"
		"set output '%s'\n"
		"set datafile separator ','\n"
		"set title 'vmfit-bench: throughput (%.0f ms buckets and 100 ms sums)'\n"
		"set xlabel 'time (s)'\nset ylabel 'requests/s'\n"
		"set yrange [0:*]\nset autoscale xfix\nset grid\nset key below horizontal\n",
		png, bucket_ms);
	fprintf(f, "plot ");
	for (i = 0; i < n; i++) {
		/*
		 * Raw buckets thin and translucent, 100 ms sums (x10 for
		 * ops/s) bold. gnuplot's floor() is an integer: divide by
		 * 10.0, not 10.
		 */
		fprintf(f, "%s'%s' using 1:3 with lines lw 0.5 lc rgb '#90%s' "
			"title '%s (%.0f ms)', "
			"'%s' using (floor($1*10+1e-6)/10.0):($2*10) smooth "
			"frequency with lines lw 2 lc rgb '#%s' title '%s (100 ms)'",
			i ? ", " : "", csv[i], colors[i % 4], labels[i], bucket_ms,
			csv[i], colors[i % 4], labels[i]);
	}
	fprintf(f, "\n");
	if (fclose(f)) {
		unlink(script);
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		unlink(script);
		return -1;
	}
	if (!pid) {
		devnull = open("/dev/null", O_WRONLY);
		if (devnull >= 0)
			dup2(devnull, STDOUT_FILENO);
		execlp("gnuplot", "gnuplot", script, (char *)NULL);
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	unlink(script);
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

/*----------------------------------------------------------------*/
/* Command line */

static const char usage_text[] =
"Usage: vmfit-bench --servers HOST:PORT[,HOST:PORT...] [options]\n"
"       vmfit-bench --plot-only OUT.png CSV[=LABEL]...\n"
"       vmfit-bench --analyze TIMELINE.csv [--window FROM:TO] [--json]\n"
"\n"
"Emulate many clients of vmfit's replicated key-value service over the\n"
"client protocol (Documentation/protocol.rst). Each client has a session\n"
"(version 3: a random key, client_id = its hash) and at most one\n"
"outstanding request; client i starts on\n"
"server i mod (number of servers) and, when its connection is lost, a\n"
"request times out or the server answers UNAVAILABLE or NOT_PRIMARY, moves\n"
"to the next server and sends the same (client_id, seq) again.\n"
"\n"
"Options:\n"
"  -s, --servers LIST      managers to use, comma-separated HOST:PORT\n"
"  -c, --clients N         concurrent clients (default 500)\n"
"  -d, --duration SECS     measure for SECS seconds (default 10)\n"
"  -n, --requests N        stop after N completed requests instead\n"
"  -w, --write-ratio R     fraction of PUTs, 0..1 (default 0.5)\n"
"  -r, --records M         keys 0..M-1 (default 1000; the replicas must\n"
"                          be configured with at least M records)\n"
"      --key-offset K      use keys K .. K+M-1 (default 0), so that several\n"
"                          runs can share a service on disjoint records\n"
"  -S, --record-size B     bytes per PUT value (default 128)\n"
"  -t, --timeout MS        fail over when a reply takes longer (default 5000)\n"
"      --bucket-ms MS      timeline bucket width (default 10)\n"
"      --sweep             read every record exactly once (client i reads the\n"
"                          records r with r % clients == i), then stop;\n"
"                          replaces --duration and --requests\n"
"      --fill              write every record exactly once, like --sweep,\n"
"                          with values of --record-size (fills a\n"
"                          service's state)\n"
"  -V, --verify            check every GET against the last acknowledged PUT:\n"
"                          each client writes only its own records\n"
"                          (record % clients == client index, so M >= N);\n"
"                          a record's first operation is always a PUT\n"
"  -o, --out PREFIX        write PREFIX.csv (timeline), PREFIX.json (summary)\n"
"                          and PREFIX.png (gnuplot)\n"
"      --timeline FILE     write the timeline to FILE: CSV, one line per\n"
"                          bucket: t_s,ops,ops_per_s,lost,first_s,last_s\n"
"                          (bucket start, completed requests, their rate,\n"
"                          lost connections, first and last completion in\n"
"                          the bucket in seconds since the start, empty if\n"
"                          none); '#' lines are comments, one of them\n"
"                          '#bucket_us=W end_us=E' (the same as PREFIX.csv)\n"
"      --per-second FILE   the timeline summed per second: t_s,ops,ops_per_s,\n"
"                          lost (a partial last second's rate is over the\n"
"                          part measured)\n"
"      --window FROM:TO    also report throughput and the longest interval\n"
"                          without a completion inside FROM..TO seconds after\n"
"                          the start (e.g. around a recovery)\n"
"      --analyze FILE      no run: read a --timeline FILE and report its\n"
"                          throughput and longest interval without a\n"
"                          completion (and those of --window)\n"
"  -l, --label TEXT        name of this run in the outputs\n"
"      --seed N            seed of the operation mix (client ids are random)\n"
"      --idle N            overload: also hold N connections that never send\n"
"      --stalled N         ... and N that send 4 bytes of a header, no more;\n"
"                          both are opened before the clients start and\n"
"                          reopened whenever a manager closes them\n"
"      --junk-from ADDR    IPv4 source address of those (default: any)\n"
"  -j, --json              print the JSON summary on stdout\n"
"  -q, --quiet             no progress line on stderr\n"
"  -h, --help              this text\n"
"\n"
"Output: one progress line per second on stderr; a summary on stdout.\n"
"Throughput counts the completions inside the measurement window, in whole\n"
"buckets; latency is measured from the first send of a request to its\n"
"reply (across fail-overs), with < 1 % error. At the end of the window no\n"
"new request starts and outstanding ones get up to --timeout to finish.\n"
"The longest interval without a completion is between two consecutive\n"
"completions, or from the last one to the end of the measurement (the\n"
"ramp-up before the first does not count); exact to the microsecond when\n"
"it is longer than a bucket (shorter gaps inside a bucket are not kept).\n"
"With --window, an interval counts if it overlaps the window. The JSON\n"
"summary gives longest_gap_ms, longest_gap_at_s, start_unix_s (the\n"
"start of the measurement, CLOCK_REALTIME), timeline_ops (completions up\n"
"to the end of the measurement: the timeline's sum; \"ops\" also counts\n"
"those of the drain after it), and window_* with --window.\n"
"\n"
"Exit status: 0 on success; 1 when a --verify check failed, a server broke\n"
"the protocol, or nothing completed; 2 on bad usage.\n"
"\n"
"Examples:\n"
"  vmfit-bench -s 10.99.0.11:7400,10.99.0.12:7400,10.99.0.13:7400 -d 60 -o r\n"
"  vmfit-bench -s 127.0.0.1:7400 -c 20 -n 10000 --verify --json\n"
"  vmfit-bench --plot-only both.png r.csv=replicated u.csv=unreplicated\n"
"  vmfit-bench --analyze r.csv --window 28.5:31.2 --json\n";

static void usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, PROG ": ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry '" PROG " --help'.\n");
	exit(2);
}

static uint64_t parse_u64(const char *s, const char *opt, uint64_t lo,
			  uint64_t hi)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || *end || s[0] == '-' || v < lo || v > hi) {
		fprintf(stderr, PROG ": %s: '%s' is not an integer in [%" PRIu64
			", %" PRIu64 "]\nTry '" PROG " --help'.\n", opt, s, lo, hi);
		exit(2);
	}
	return v;
}

static double parse_double(const char *s, const char *opt, double lo,
			   double hi)
{
	double v;
	char *end;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= lo && v <= hi)) {
		fprintf(stderr, PROG ": %s: '%s' is not a number in [%g, %g]\n"
			"Try '" PROG " --help'.\n", opt, s, lo, hi);
		exit(2);
	}
	return v;
}

static void parse_servers(char *list)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai;
	char *tok, *save = NULL, *colon, *host;
	struct server *s;
	int r;

	for (tok = strtok_r(list, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		colon = strrchr(tok, ':');
		if (!colon || colon == tok || !colon[1])
			usage_error("--servers: '%s' is not HOST:PORT", tok);
		s = realloc(cfg.servers, (cfg.nservers + 1) * sizeof(*s));
		if (!s) {
			perror(PROG);
			exit(1);
		}
		cfg.servers = s;
		s = &cfg.servers[cfg.nservers++];
		memset(s, 0, sizeof(*s));
		s->spec = strdup(tok);
		*colon = 0;
		host = tok;
		if (host[0] == '[' && colon[-1] == ']') {
			host++;
			colon[-1] = 0;
		}
		r = getaddrinfo(host, colon + 1, &hints, &ai);
		if (r) {
			fprintf(stderr, PROG ": --servers: %s: %s\n", s->spec,
				gai_strerror(r));
			exit(2);
		}
		memcpy(&s->addr, ai->ai_addr, ai->ai_addrlen);
		s->alen = ai->ai_addrlen;
		freeaddrinfo(ai);
	}
	if (!cfg.nservers)
		usage_error("--servers: empty list%s", "");
}

/* --window FROM:TO, seconds, FROM < TO. */
static void parse_window(const char *arg)
{
	char *end;

	errno = 0;
	cfg.win_from = strtod(arg, &end);
	if (errno || end == arg || *end != ':' || !(cfg.win_from >= 0))
		usage_error("--window: '%s' is not FROM:TO (seconds since the "
			    "start, FROM < TO)", arg);
	arg = end + 1;
	cfg.win_to = strtod(arg, &end);
	if (errno || end == arg || *end || !(cfg.win_to > cfg.win_from) ||
	    cfg.win_to > 86400.0 * 365)
		usage_error("--window: '%s' is not FROM:TO (seconds since the "
			    "start, FROM < TO)", arg);
	cfg.window = true;
}

/* --analyze FILE: the summary of a timeline file. */
static int analyze(const char *path)
{
	struct timeline t;
	unsigned int line;
	double secs, rate;
	FILE *f;
	int r;

	f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, PROG ": %s: %s\n", path, strerror(errno));
		return 1;
	}
	r = tl_read_csv(&t, f, &line);
	fclose(f);
	if (r == -EINVAL && !line) {
		fprintf(stderr, PROG ": %s: not a vmfit-bench timeline (no "
			"#bucket_us line)\n", path);
		return 1;
	}
	if (r == -EINVAL) {
		fprintf(stderr, PROG ": %s:%u: malformed timeline line\n", path,
			line);
		return 1;
	}
	if (r) {
		fprintf(stderr, PROG ": %s: %s\n", path, strerror(-r));
		return 1;
	}
	rate = timeline_rate(&t, 0, UINT64_MAX, &secs);
	if (cfg.json) {
		fputs("{\n  \"tool\": \"vmfit-bench --analyze\",\n  \"file\": ",
		      stdout);
		vf_json_string(stdout, path);
		printf(",\n  \"bucket_ms\": %.3f,\n  \"duration_s\": %.3f,\n"
		       "  \"ops\": %" PRIu64 ",\n"
		       "  \"throughput_ops_s\": %.1f,\n",
		       (double)t.width_us / 1000.0, secs,
		       timeline_sum(&t, 0, t.n), rate);
		json_gap(stdout, &t, "longest_", 0, UINT64_MAX);
		json_window(stdout, &t);
		printf("  \"measured_s\": %.3f\n}\n", secs);
	} else {
		printf("%s: %" PRIu64 " ops in %.2f s, %.0f ops/s\n", path,
		       timeline_sum(&t, 0, t.n), secs, rate);
		print_gap(stdout, &t, "longest interval without a completion",
			  0, UINT64_MAX);
		if (cfg.window)
			print_window(stdout, &t);
	}
	timeline_free(&t);
	return 0;
}

static int plot_only(int argc, char **argv)
{
	char **csv, **labels, *eq;
	int i, n = argc - 1;

	if (argc < 2)
		usage_error("--plot-only needs OUT.png and at least one CSV%s", "");
	csv = calloc((size_t)n, sizeof(*csv));
	labels = calloc((size_t)n, sizeof(*labels));
	if (!csv || !labels) {
		perror(PROG);
		return 1;
	}
	for (i = 0; i < n; i++) {
		csv[i] = argv[i + 1];
		eq = strchr(csv[i], '=');
		if (eq) {
			*eq = 0;
			labels[i] = eq + 1;
		} else {
			labels[i] = csv[i];
		}
		if (access(csv[i], R_OK)) {
			fprintf(stderr, PROG ": %s: %s\n", csv[i], strerror(errno));
			return 1;
		}
	}
	if (plot(argv[0], csv, labels, n, cfg.bucket_ms)) {
		fprintf(stderr, PROG ": gnuplot failed to draw %s "
			"(is gnuplot-nox installed? run 'make deps')\n", argv[0]);
		return 1;
	}
	free(csv);
	free(labels);
	return 0;
}

enum {
	OPT_BUCKET = 256, OPT_SEED, OPT_PLOT_ONLY, OPT_SWEEP, OPT_KEY_OFFSET,
	OPT_FILL, OPT_TIMELINE, OPT_PER_SECOND, OPT_WINDOW, OPT_ANALYZE,
	OPT_IDLE, OPT_STALLED, OPT_JUNK_FROM,
};

static const struct option long_opts[] = {
	{ "servers", required_argument, NULL, 's' },
	{ "clients", required_argument, NULL, 'c' },
	{ "duration", required_argument, NULL, 'd' },
	{ "requests", required_argument, NULL, 'n' },
	{ "write-ratio", required_argument, NULL, 'w' },
	{ "records", required_argument, NULL, 'r' },
	{ "record-size", required_argument, NULL, 'S' },
	{ "timeout", required_argument, NULL, 't' },
	{ "bucket-ms", required_argument, NULL, OPT_BUCKET },
	{ "verify", no_argument, NULL, 'V' },
	{ "sweep", no_argument, NULL, OPT_SWEEP },
	{ "fill", no_argument, NULL, OPT_FILL },
	{ "timeline", required_argument, NULL, OPT_TIMELINE },
	{ "per-second", required_argument, NULL, OPT_PER_SECOND },
	{ "window", required_argument, NULL, OPT_WINDOW },
	{ "analyze", required_argument, NULL, OPT_ANALYZE },
	{ "key-offset", required_argument, NULL, OPT_KEY_OFFSET },
	{ "out", required_argument, NULL, 'o' },
	{ "label", required_argument, NULL, 'l' },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "idle", required_argument, NULL, OPT_IDLE },
	{ "stalled", required_argument, NULL, OPT_STALLED },
	{ "junk-from", required_argument, NULL, OPT_JUNK_FROM },
	{ "json", no_argument, NULL, 'j' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "plot-only", no_argument, NULL, OPT_PLOT_ONLY },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* Returns -1 to go on with a run, else the exit status. */
static int parse_args(int argc, char **argv)
{
	bool seeded = false, plot_mode = false;
	int o;

	while ((o = getopt_long(argc, argv, "s:c:d:n:w:r:S:t:Vo:l:jqh",
				long_opts, NULL)) != -1) {
		switch (o) {
		case 's':
			parse_servers(optarg);
			break;
		case 'c':
			cfg.clients = (unsigned int)parse_u64(optarg, "--clients", 1, 100000);
			break;
		case 'd':
			cfg.duration = parse_double(optarg, "--duration", 0.05, 86400);
			break;
		case 'n':
			cfg.requests = parse_u64(optarg, "--requests", 1, UINT64_MAX / 2);
			break;
		case 'w':
			cfg.write_ratio = parse_double(optarg, "--write-ratio", 0, 1);
			break;
		case 'r':
			cfg.records = (uint32_t)parse_u64(optarg, "--records", 1, KV_MAX_RECORDS);
			break;
		case 'S':
			cfg.record_size = (uint32_t)parse_u64(optarg, "--record-size", 1,
							      KV_MAX_RECORD_SIZE);
			break;
		case 't':
			cfg.timeout_ms = (unsigned int)parse_u64(optarg, "--timeout", 1, 3600000);
			break;
		case OPT_BUCKET:
			cfg.bucket_ms = (unsigned int)parse_u64(optarg, "--bucket-ms", 1, 60000);
			break;
		case 'V':
			cfg.verify = true;
			break;
		case OPT_SWEEP:
			cfg.sweep = true;
			break;
		case OPT_FILL:
			cfg.fill = true;
			break;
		case OPT_TIMELINE:
			cfg.timeline = optarg;
			break;
		case OPT_PER_SECOND:
			cfg.per_second = optarg;
			break;
		case OPT_WINDOW:
			parse_window(optarg);
			break;
		case OPT_ANALYZE:
			cfg.analyze = optarg;
			break;
		case OPT_KEY_OFFSET:
			cfg.key_offset = (uint32_t)parse_u64(optarg, "--key-offset", 0,
							     KV_MAX_RECORDS - 1);
			break;
		case 'o':
			cfg.out = optarg;
			break;
		case 'l':
			cfg.label = optarg;
			break;
		case OPT_SEED:
			cfg.seed = parse_u64(optarg, "--seed", 0, UINT64_MAX);
			seeded = true;
			break;
		case OPT_IDLE:
			cfg.idle = (unsigned int)parse_u64(optarg, "--idle", 0, 100000);
			break;
		case OPT_STALLED:
			cfg.stalled = (unsigned int)parse_u64(optarg, "--stalled", 0, 100000);
			break;
		case OPT_JUNK_FROM:
			cfg.junk_from = optarg;
			break;
		case 'j':
			cfg.json = true;
			break;
		case 'q':
			cfg.quiet = true;
			break;
		case OPT_PLOT_ONLY:
			plot_mode = true;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		default:
			fprintf(stderr, "Try '" PROG " --help'.\n");
			return 2;
		}
	}
	if (plot_mode)
		return plot_only(argc - optind, argv + optind);
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);
	if (cfg.analyze) {
		if (cfg.nservers || cfg.out || cfg.timeline || cfg.per_second)
			usage_error("--analyze reads a timeline: it takes no "
				    "--servers, --out, --timeline or "
				    "--per-second%s", "");
		return analyze(cfg.analyze);
	}
	if (!cfg.nservers)
		usage_error("--servers is required%s", "");
	if (cfg.fill && (cfg.sweep || cfg.verify))
		usage_error("--fill writes every record once: it cannot be "
			    "combined with --sweep or --verify%s", "");
	if (cfg.timeline && cfg.per_second &&
	    !strcmp(cfg.timeline, cfg.per_second))
		usage_error("--timeline and --per-second name the same "
			    "file '%s'", cfg.timeline);
	if (cfg.verify && cfg.records < cfg.clients) {
		fprintf(stderr, PROG ": --verify needs --records (%u) >= --clients (%u):"
			" every client owns at least one record\n", cfg.records,
			cfg.clients);
		return 2;
	}
	if ((uint64_t)cfg.key_offset + cfg.records > KV_MAX_RECORDS)
		usage_error("--key-offset + --records is above the kv limit%s", "");
	if (cfg.sweep && cfg.verify)
		usage_error("--sweep reads records other clients wrote: it "
			    "cannot be combined with --verify%s", "");
	if (cfg.sweep || cfg.fill)
		cfg.requests = cfg.records;
	if (!seeded && getrandom(&cfg.seed, sizeof(cfg.seed), 0) != sizeof(cfg.seed))
		cfg.seed = (uint64_t)time(NULL) ^ (uint64_t)getpid() << 32;
	return -1;
}

/*----------------------------------------------------------------*/
/* Run */

static int setup(void)
{
	struct rlimit rl;
	unsigned int i;
	struct client *c;

	unsigned int nfd = cfg.clients + cfg.idle + cfg.stalled;
	struct sockaddr_storage *jaddr;
	socklen_t *jlen;
	int r;

	/* One socket per client and junk connection plus some slack. */
	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < nfd + 64u) {
		rl.rlim_cur = rl.rlim_max < nfd + 64u ? rl.rlim_max : nfd + 64u;
		setrlimit(RLIMIT_NOFILE, &rl);
		if (rl.rlim_cur < nfd + 16u) {
			fprintf(stderr, PROG ": %u connections need %u file descriptors,"
				" the limit is %lu\n", nfd, nfd + 16,
				(unsigned long)rl.rlim_cur);
			return -EMFILE;
		}
	}
	jaddr = calloc(cfg.nservers, sizeof(*jaddr));
	jlen = calloc(cfg.nservers, sizeof(*jlen));
	if (!jaddr || !jlen) {
		free(jaddr);
		free(jlen);
		return -ENOMEM;
	}
	for (i = 0; i < cfg.nservers; i++) {
		jaddr[i] = cfg.servers[i].addr;
		jlen[i] = cfg.servers[i].alen;
	}
	junk_addrs = jaddr;
	junk_alens = jlen;
	r = junk_start(cfg.idle, cfg.stalled, jaddr, jlen, cfg.nservers,
		       cfg.junk_from);
	if (r)
		return r;
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd < 0)
		return -errno;
	clients = calloc(cfg.clients, sizeof(*clients));
	valbuf = malloc(cfg.record_size);
	opbuf = malloc(KV_MAX_OP);
	if (!clients || !valbuf || !opbuf)
		return -ENOMEM;
	hist_init(&lat);
	hist_init(&lat_sec);
	if (timeline_init(&tl, (uint64_t)cfg.bucket_ms * 1000u,
			  (size_t)1 << 24))
		return -EINVAL;
	for (i = 0; i < cfg.clients; i++) {
		c = &clients[i];
		c->idx = i;
		c->fd = -1;
		c->st = C_DOWN;
		c->server = i % cfg.nservers;
		if (vf_session_new(c->skey, &c->id))
			return -EIO;
		c->rng = wl_seed(cfg.seed, i);
		vf_wb_init(&c->out, VF_HDR_LEN + VF_MAX_PAYLOAD);
		c->in_cap = 256;
		c->in = malloc(c->in_cap);
		if (!c->in)
			return -ENOMEM;
		c->nowned = wl_owned(cfg.records, cfg.clients, i);
		if (cfg.verify) {
			c->vers = calloc(c->nowned, sizeof(*c->vers));
			if (!c->vers)
				return -ENOMEM;
		}
	}
	return 0;
}

static void cleanup(void)
{
	unsigned int i;

	for (i = 0; clients && i < cfg.clients; i++) {
		if (clients[i].fd >= 0)
			close(clients[i].fd);
		vf_wb_free(&clients[i].out);
		free(clients[i].in);
		free(clients[i].vers);
	}
	free(clients);
	free(valbuf);
	free(opbuf);
	timeline_free(&tl);
	junk_stop();
	free(junk_addrs);
	free(junk_alens);
	if (epfd >= 0)
		close(epfd);
}

/* Open the junk connections before the measurement starts. */
static void junk_warm_up(void)
{
	struct junk_stats js;
	uint64_t deadline = now_us() + 10000000;

	if (!cfg.idle && !cfg.stalled)
		return;
	do {
		junk_get(&js);
		if (js.open >= cfg.idle + cfg.stalled)
			break;
		usleep(20000);
	} while (now_us() < deadline && !got_signal);
	if (!cfg.quiet)
		fprintf(stderr, "overload: %u of %u junk connections open\n",
			js.open, cfg.idle + cfg.stalled);
}

static bool all_done(void)
{
	unsigned int i;

	for (i = 0; i < cfg.clients; i++)
		if (clients[i].st != C_DONE)
			return false;
	return true;
}

static void run(void)
{
	struct epoll_event evs[256];
	uint64_t now, next_tick, next_progress, last_ops = 0, drain_end = 0;
	uint64_t dur = (uint64_t)(cfg.duration * 1e6);
	int n, i;

	junk_warm_up();
	t0 = now_us();
	clock_gettime(CLOCK_REALTIME, &t0_real);
	next_tick = t0;
	next_progress = t0 + 1000000;
	for (;;) {
		now = now_us();
		if (!stopping && (got_signal ||
				  (!cfg.requests && now - t0 >= dur) ||
				  (cfg.requests && issued >= cfg.requests))) {
			stopping = true;
			if (!cfg.requests || got_signal)
				t_end = now;
			drain_end = now + (uint64_t)cfg.timeout_ms * 1000u;
		}
		if (stopping) {
			if (all_done() || now >= drain_end || got_signal > 1)
				break;
		}
		if (now >= next_tick) {
			on_tick(now);
			next_tick = now + 2000;
		}
		if (now >= next_progress) {
			if (!cfg.quiet)
				progress(now, &last_ops);
			next_progress += 1000000;
		}
		n = epoll_wait(epfd, evs, 256, 2);
		if (n < 0 && errno != EINTR) {
			complain("epoll_wait: %s", strerror(errno));
			break;
		}
		now = now_us();
		for (i = 0; i < n; i++)
			on_event(evs[i].data.ptr, evs[i].events, now);
	}
	if (!t_end)
		t_end = now_us();
	timeline_extend(&tl, t_end - t0);
}

static char *path_with(const char *prefix, const char *ext)
{
	char *p;

	if (asprintf(&p, "%s%s", prefix, ext) < 0) {
		perror(PROG);
		exit(1);
	}
	return p;
}

int main(int argc, char **argv)
{
	char *csv = NULL, *json = NULL, *png = NULL;
	struct sigaction sa = { .sa_handler = on_signal };
	FILE *f;
	int r, rc = 0;

	r = parse_args(argc, argv);
	if (r >= 0)
		return r;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	r = setup();
	if (r) {
		fprintf(stderr, PROG ": setup: %s\n", strerror(-r));
		cleanup();
		return 1;
	}
	run();
	if (cfg.timeline) {
		r = write_timeline(cfg.timeline, tl_write_csv);
		if (r) {
			fprintf(stderr, PROG ": %s: %s\n", cfg.timeline,
				strerror(-r));
			rc = 1;
		}
	}
	if (cfg.per_second) {
		r = write_timeline(cfg.per_second, tl_write_seconds);
		if (r) {
			fprintf(stderr, PROG ": %s: %s\n", cfg.per_second,
				strerror(-r));
			rc = 1;
		}
	}
	if (cfg.out) {
		csv = path_with(cfg.out, ".csv");
		json = path_with(cfg.out, ".json");
		png = path_with(cfg.out, ".png");
		r = write_timeline(csv, tl_write_csv);
		if (r) {
			fprintf(stderr, PROG ": %s: %s\n", csv, strerror(-r));
			rc = 1;
		}
		if (plot(png, &csv, (char *[]){ (char *)(cfg.label ? cfg.label : "run") },
			 1, cfg.bucket_ms)) {
			fprintf(stderr, PROG ": gnuplot failed to draw %s "
				"(is gnuplot-nox installed? run 'make deps')\n", png);
			free(png);
			png = NULL;
		}
		f = fopen(json, "w");
		if (!f || (write_json(f, csv, png), fclose(f))) {
			fprintf(stderr, PROG ": %s: %s\n", json, strerror(errno));
			rc = 1;
		}
	}
	if (cfg.json)
		write_json(stdout, csv, png);
	else
		print_text(stdout, csv, png);
	if (cnt.mismatches) {
		fprintf(stderr, PROG ": FAIL: %" PRIu64 " wrong answers\n",
			cnt.mismatches);
		rc = 1;
	}
	if (cnt.bad_replies) {
		fprintf(stderr, PROG ": FAIL: %" PRIu64 " protocol violations\n",
			cnt.bad_replies);
		rc = 1;
	}
	if (!cnt.ops) {
		fprintf(stderr, PROG ": FAIL: no request completed\n");
		rc = 1;
	}
	free(csv);
	free(json);
	free(png);
	cleanup();
	return rc;
}
